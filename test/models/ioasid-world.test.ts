/**
 * The IOASID world on scripted schedules: custom allocators (kernel-semantics
 * A.2/A.3, seed 003), sets with private data types (A.4/A.5) and `--only`
 * narrowing. Each script names its steps exactly (CPU, op, argument); a step
 * the world does not enable fails the test at once.
 */
import { describe, expect, it } from 'vitest';
import {
  replay,
  walk,
  type Arg,
  type Bounds,
  type BoundVariant,
  type Trace,
} from 'lifecheck';
import {
  customHonoursRange,
  ioasid,
  setMandatory,
  v1,
  type IoasidConfig,
  type IoasidWorld,
} from 'lifecheck/models';
import { activeTable, isLive } from '../../models/ioasid/world.ts';
import { variantOf } from '../helpers/variants.ts';

type V = BoundVariant<IoasidWorld, IoasidConfig>;
/** One scripted step: the CPU, the op, and its argument (none for a plain alloc, exit, ...). */
type Line = readonly [thread: number, op: string, arg?: Arg];

const variant = (name: string): V => variantOf(ioasid, name);

const two: Bounds = { threads: 2, ops: 6, ids: { min: 1, max: 2 } };
const three: Bounds = { threads: 3, ops: 6, ids: { min: 1, max: 2 } };

/** Runs `script` on `v` within `bounds`, step by step; throws if a step is not enabled. */
function play(v: V, bounds: Bounds, script: readonly Line[]): Trace<IoasidWorld> {
  const run = walk(
    v.model.system(v.config, bounds),
    [],
    (enabled, _world, depth) => {
      const line = script[depth];
      if (line === undefined) return undefined;
      const [thread, op, arg] = line;
      const step = enabled.find(
        (s) => s.thread === thread && s.op === op && (arg === undefined ? s.args.length === 0 : s.args[0] === arg),
      );
      if (!step) {
        const list = enabled.map((s) => `CPU${s.thread} ${s.op}${s.args.length ? ` ${s.args.join(',')}` : ''}`);
        throw new Error(
          `${v.name} step ${depth + 1}: CPU${thread} ${op}${arg === undefined ? '' : ` ${arg}`} is not enabled; enabled: ${list.join('; ')}`,
        );
      }
      return step;
    },
    { stopAtViolation: false },
  );
  if (run.trace.steps.length !== script.length) {
    throw new Error(`${v.name}: the run stopped after ${run.trace.steps.length} of ${script.length} steps`);
  }
  return run.trace;
}

const replies = (trace: Trace<IoasidWorld>) => trace.steps.map((s) => s.reply);
const ok = (text: string) => ({ ok: true, text });
const err = (text: string) => ({ ok: false, text });
const last = (trace: Trace<IoasidWorld>) => trace.steps[trace.steps.length - 1]!.world;

describe('custom allocators (A.2, A.3, seed 003)', () => {
  it('custom-honours-range: a registered vcmd allocator takes its id from the host, into its own table', () => {
    // A.3: the first custom allocator becomes active at once; A.2: ioasid_alloc calls ops->alloc (003: vcmd, the host).
    const t = play(variant('custom-honours-range'), two, [
      [0, 'register', 'viommu0'],
      [0, 'alloc'],
    ]);
    expect(replies(t)).toEqual([ok('0'), ok('1')]);
    const w = last(t);
    expect(w.host).toEqual([1]);
    expect(activeTable(w)).toBe('vcmd.1');
    expect(isLive(w.tables['vcmd.1']?.[1])).toBe(true);
    expect(isLive(w.tables.default?.[1])).toBe(false);
  });

  it('custom-honours-range: freeing an unbound id hands it back to the host (free op and exit)', () => {
    // A.2: at the last reference the core calls ops->free; A.3 intel_vcmd_ioasid_free frees unless still bound.
    const byFree = play(variant('custom-honours-range'), two, [
      [0, 'register', 'viommu0'],
      [0, 'alloc'],
      [0, 'free', 1],
    ]);
    expect(replies(byFree)[2]).toEqual(ok('freed'));
    expect(last(byFree).host).toEqual([]);
    expect(isLive(last(byFree).tables['vcmd.1']?.[1])).toBe(false);

    const byExit = play(variant('custom-honours-range'), two, [
      [0, 'register', 'viommu0'],
      [0, 'alloc'],
      [0, 'exit'],
    ]);
    expect(last(byExit).host).toEqual([]);
    expect(isLive(last(byExit).tables['vcmd.1']?.[1])).toBe(false);
  });

  it('registering the first custom allocator while the default table has a live id replies -EAGAIN', () => {
    // A.3: "Default XArray not empty: returns -EAGAIN, and the new allocator is not registered" (rule 5).
    const t = play(variant('custom-honours-range'), two, [
      [0, 'alloc'],
      [1, 'register', 'viommu0'],
    ]);
    expect(replies(t)).toEqual([ok('1'), err('-EAGAIN')]);
    const w = last(t);
    expect(activeTable(w)).toBe('default');
    expect(w.registry!.context.entries).toEqual([]);
    expect(isLive(w.tables.default?.[1])).toBe(true);
  });

  it('the same ops twice replies -EEXIST; a second vIOMMU with the same helpers shares the entry and table', () => {
    // A.3: "Same ops pointer: -EEXIST"; "Same function pair (use_same_ops) ... shares its XArray. Returns 0".
    const t = play(variant('custom-honours-range'), two, [
      [0, 'register', 'viommu0'],
      [0, 'register', 'viommu0'],
      [1, 'register', 'viommu1'],
    ]);
    expect(replies(t)).toEqual([ok('0'), err('-EEXIST'), ok('0')]);
    const w = last(t);
    expect(activeTable(w)).toBe('vcmd.1');
    expect(w.registry!.context.entries).toEqual([{ helpers: 'vcmd', ops: ['viommu0', 'viommu1'], table: 'vcmd.1' }]);
    expect(Object.keys(w.tables).sort()).toEqual(['default', 'vcmd.1']);
  });

  it('unregistering the last sharer with a live id orphans it; the default allocator hands out the same id again', () => {
    // A.3: "remove it and WARN_ON if its XArray is not empty. The IDs are orphaned, not freed"; lookups read the active (default) XArray.
    const t = play(variant('custom-honours-range'), two, [
      [0, 'register', 'viommu0'],
      [0, 'alloc'],
      [0, 'unregister', 'viommu0'],
      [0, 'find', 1],
      [1, 'alloc'],
    ]);
    expect(replies(t)).toEqual([ok('0'), ok('1'), ok('WARN: ids orphaned'), err('-ENOENT'), ok('1')]);

    const afterUnregister = t.steps[2]!.world;
    expect(activeTable(afterUnregister)).toBe('default');
    expect(afterUnregister.registry!.context.entries).toEqual([]);
    expect(isLive(afterUnregister.tables['vcmd.1']?.[1])).toBe(true);
    // The host never got the id back: nothing called ops->free.
    expect(afterUnregister.host).toEqual([1]);

    const w = last(t);
    // Two live instances of id 1: the orphan in vcmd.1, the new one in default.
    expect(isLive(w.tables['vcmd.1']?.[1])).toBe(true);
    expect(isLive(w.tables.default?.[1])).toBe(true);
    expect(w.cpus[0]!.holds.map((h) => [h.kind, h.table, h.id])).toEqual([['alloc', 'vcmd.1', 1]]);
    expect(w.cpus[1]!.holds.map((h) => [h.kind, h.table, h.id])).toEqual([['alloc', 'default', 1]]);
  });

  it('custom-unregister-busy: unregister with a live id replies -EBUSY and changes nothing; after the free it succeeds', () => {
    // A.3 rule 3: "all its outstanding IDs must already have been freed" -- enforced here instead of orphaning.
    const t = play(variant('custom-unregister-busy'), two, [
      [0, 'register', 'viommu0'],
      [0, 'alloc'],
      [0, 'unregister', 'viommu0'],
      [0, 'free', 1],
      [0, 'unregister', 'viommu0'],
    ]);
    expect(replies(t)).toEqual([ok('0'), ok('1'), err('-EBUSY'), ok('freed'), ok('void')]);
    const before = t.steps[1]!.world;
    const busy = t.steps[2]!.world;
    expect(busy.registry).toEqual(before.registry);
    expect(busy.tables).toEqual(before.tables);
    expect(busy.host).toEqual(before.host);
    expect(activeTable(busy)).toBe('vcmd.1');

    const w = last(t);
    expect(activeTable(w)).toBe('default');
    expect(w.registry!.context.entries).toEqual([]);
    expect(w.host).toEqual([]);
  });

  it('custom-ignores-range (003 as posted): the host hands out ids beyond max', () => {
    // 003 review: "How does this honor min/max?" -- intel_ioasid_alloc ignores min/max.
    const t = play(variant('custom-ignores-range'), two, [
      [0, 'register', 'viommu0'],
      [0, 'alloc'],
      [0, 'alloc'],
      [0, 'alloc'],
    ]);
    expect(replies(t)).toEqual([ok('0'), ok('1'), ok('2'), ok('3')]);
    const w = last(t);
    expect(w.host).toEqual([1, 2, 3]);
    expect(w.range).toEqual({ min: 1, max: 2 });
    expect(isLive(w.tables['vcmd.1']?.[3])).toBe(true);
  });

  it('custom-ignores-range (003 as posted): freeing an unbound id leaves it allocated on the host', () => {
    // 003 intel_ioasid_free: "if (!svm) { pr_warn("Freeing unbond IOASID") return -EBUSY; }" -- the core erases the slot anyway (A.2).
    const t = play(variant('custom-ignores-range'), two, [
      [0, 'register', 'viommu0'],
      [0, 'alloc'],
      [0, 'alloc'],
      [0, 'alloc'],
      [0, 'free', 3],
    ]);
    expect(replies(t)[4]).toEqual(ok('freed'));
    const w = last(t);
    expect(w.host).toContain(3);
    expect(w.host).toEqual([1, 2, 3]);
    expect(isLive(w.tables['vcmd.1']?.[3])).toBe(false);
  });

  it('custom-honours-range: with [min,max] exhausted on the host, a third alloc replies INVALID_IOASID', () => {
    // A.2: "INVALID_IOASID on any failure (... custom alloc failure)"; the host allocates within [min,max].
    const t = play(variant('custom-honours-range'), two, [
      [0, 'register', 'viommu0'],
      [0, 'alloc'],
      [1, 'alloc'],
      [0, 'alloc'],
    ]);
    expect(replies(t)).toEqual([ok('0'), ok('1'), ok('2'), err('INVALID_IOASID')]);
    const w = last(t);
    expect(w.host).toEqual([1, 2]);
    expect(w.cpus[0]!.holds.map((h) => h.id)).toEqual([1]);
    expect(Object.keys(w.tables['vcmd.1'] ?? {})).toEqual(['1', '2']);
  });
});

describe('sets and private data (A.4, A.5)', () => {
  it('null-set-global: an id allocated in the NULL set is found by a CPU of another set (global search)', () => {
    // A.2/A.5: ioasid_find with a NULL set "means no ownership check (global search)"; yiliu1765: NULL set is the global pool.
    const t = play(variant('null-set-global'), three, [
      [2, 'alloc'],
      [0, 'find', 1],
    ]);
    expect(t.init.cpus.map((c) => [c.set, c.data])).toEqual([
      ['s1', 'mm'],
      ['s1', 'mm'],
      [null, 'aux-domain'],
    ]);
    expect(replies(t)).toEqual([ok('1'), ok('found')]);
    const slot = last(t).tables.default![1]!;
    expect(slot.state.context).toMatchObject({ set: null, data: 'aux-domain' });
    // CPU0 (data 'mm') now holds a pointer to an aux-domain's private data.
    expect(last(t).cpus[0]!.holds.map((h) => [h.kind, h.id])).toEqual([['find', 1]]);
  });

  it('set-mandatory: a find from another set replies -EACCES', () => {
    // 000/A.5: "data found but does not belong to the set" -> ERR_PTR(-EACCES).
    const t = play(variant('set-mandatory'), three, [
      [2, 'alloc'],
      [0, 'find', 1],
    ]);
    expect(t.init.cpus[2]).toMatchObject({ set: 'aux', data: 'aux-domain' });
    expect(replies(t)).toEqual([ok('1'), err('-EACCES')]);
    expect(last(t).tables.default![1]!.state.context).toMatchObject({ set: 'aux', data: 'aux-domain', refs: 1 });
    expect(last(t).cpus[0]!.holds).toEqual([]);
  });

  it('set-mandatory with a user variant whose CPUs use the NULL set: alloc replies INVALID_IOASID', () => {
    // A.4 dcp ioasid_alloc: "set must be non-NULL and registered ... Otherwise it returns INVALID_IOASID".
    const nullCaller = ioasid.variant({
      ...setMandatory,
      name: 'null-caller',
      config: { ...setMandatory.config, sets: [{ name: null, data: 'aux-domain' }] },
    });
    const t = play(nullCaller, two, [[0, 'alloc']]);
    expect(t.init.cpus.map((c) => c.set)).toEqual([null, null]);
    expect(replies(t)).toEqual([err('INVALID_IOASID')]);
    const w = last(t);
    expect(isLive(w.tables.default?.[1])).toBe(false);
    expect(w.cpus[0]!.holds).toEqual([]);
  });
});

describe('another guest sharing the host namespace (003)', () => {
  // 003: "several guests share the host's system-wide namespace"; the other guest is thread `threads`.
  const guest = two.threads;

  it('takes host ids this guest then cannot have: honouring [min,max], the guest runs out', () => {
    const t = play(variant('custom-honours-range'), two, [
      [0, 'register', 'viommu0'],
      [guest, 'vcmd_alloc'],
      [0, 'alloc'],
      [guest, 'vcmd_alloc'],
    ]);
    expect(t.steps.map((s) => s.reply.text)).toEqual(['0', '1', '2', 'INVALID_IOASID']);
    expect(t.steps[3]!.world.otherGuest).toEqual({ pc: 2, ids: [1] });
  });

  it('pushes an ignoring allocator beyond max sooner', () => {
    const t = play(variant('custom-ignores-range'), two, [
      [0, 'register', 'viommu0'],
      [guest, 'vcmd_alloc'],
      [guest, 'vcmd_alloc'],
      [0, 'alloc'],
    ]);
    expect(t.steps[3]!.reply.text).toBe('3');
  });

  it('returns its ids to the host', () => {
    const t = play(variant('custom-honours-range'), two, [
      [guest, 'vcmd_alloc'],
      [guest, 'vcmd_free', 1],
      [0, 'register', 'viommu0'],
      [0, 'alloc'],
    ]);
    expect(t.steps[3]!.reply.text).toBe('1');
  });
});

describe('--only narrowing through bounds', () => {
  it('choices list what each variant has', () => {
    // A.3: register/unregister and allocator names exist only where the variant has custom allocators; v1 (000) has no refcounts.
    expect(ioasid.choices!(customHonoursRange.config)).toEqual({
      ops: ['alloc', 'get', 'put', 'free', 'find', 'use', 'bind', 'unbind', 'register', 'unregister', 'vcmd_alloc', 'vcmd_free', 'rcu_read_lock'],
      sets: ['s1', 's2'],
      allocators: ['viommu0', 'viommu1'],
    });
    const plain = ioasid.choices!(v1.config);
    expect(plain.ops).not.toContain('get');
    expect(plain.ops).not.toContain('put');
    expect(plain.ops).not.toContain('register');
    expect(plain).not.toHaveProperty('allocators');
  });

  const system = (only: Bounds['only']) => {
    const v = variant('custom-honours-range');
    return v.model.system(v.config, { ...three, only });
  };

  it('only ops=alloc: the initial world enables only exit and alloc', () => {
    // The scenario narrows the ops CPUs call; exit is always kept.
    const s = system({ ops: ['alloc'] });
    const enabled = s.enabled(s.init);
    expect(new Set(enabled.map((st) => st.op))).toEqual(new Set(['exit', 'alloc']));
    expect(enabled.filter((st) => st.op === 'exit')).toHaveLength(3);
  });

  it('only allocators=viommu1: register and unregister name only viommu1', () => {
    // A.3: a VT-d guest registers one ops per vIOMMU; the scenario keeps one.
    const s = system({ allocators: ['viommu1'] });
    const registry = s.enabled(s.init).filter((st) => st.op === 'register' || st.op === 'unregister');
    expect(registry.length).toBe(6);
    expect(new Set(registry.map((st) => st.args[0]))).toEqual(new Set(['viommu1']));
  });

  it('only sets=s2: every CPU is in s2', () => {
    // A.4: sets are tokens CPUs call with; the scenario keeps one.
    const s = system({ sets: ['s2'] });
    expect(s.init.cpus.map((c) => c.set)).toEqual(['s2', 's2', 's2']);
  });
});

describe('a repeated ioasid_free (001: "can be called multiple times ... until all refs are dropped")', () => {
  const series = variantOf(ioasid, 'series');
  const at = (thread: number, op: string, ...args: Arg[]) => ({ thread, op, args });

  it('is made while the CPU still holds another reference on the same instance', () => {
    const steps = [at(0, 'alloc'), at(0, 'get', 1), at(0, 'free', 1), at(0, 'free', 1)];
    const r = replay(series, ioasid.defaults, steps, 'no-reuse-while-referenced');
    expect(r.stuck).toBeUndefined();
    expect(r.trace.steps.map((s) => s.reply.text)).toEqual(['1', '0', 'free-pending', 'no-op']);
  });

  it('is not made once the CPU holds only another id of the same generation: that id was reused by CPU1', () => {
    // CPU0 holds 2#1 by get; its own 1#1 is freed and reallocated to CPU1 as 1#2. A free of 1 now would
    // hit CPU1's instance, a caller's bug the design is not to blame for (the model once made it).
    const steps = [at(0, 'alloc'), at(1, 'alloc'), at(0, 'get', 2), at(0, 'free', 1), at(1, 'alloc'), at(0, 'free', 1)];
    const r = replay(series, ioasid.defaults, steps, 'no-reuse-while-referenced');
    expect(r.violation).toBeUndefined();
    expect(r.stuck).toMatchObject({ at: 6, why: expect.stringMatching(/^CPU0 free\(1\) is not enabled; CPU0 can do .*put\(2\)/) });
  });
});
