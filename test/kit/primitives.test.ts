/**
 * The kit's primitives rule by rule, on tiny models and exact step lists
 * (Stateright's way): what each step replies, and what the world holds after.
 */
import { describe, expect, it } from 'vitest';
import { call, checkVariant, defineKitModel, fireUncached, label, refcountMachine, ret, retId, starved, step, type Action, type Item, type KitSpec, type KitWorld, type Step as EngineStep } from 'lifecheck';

const buf = { slots: 4, fields: { ref: { type: 'refcount', max: 4 } } } as const;

function system(calls: Record<string, ReturnType<typeof call>>, extra: Partial<KitSpec> = {}, threads = 2) {
  const spec: KitSpec = { kinds: { buf }, spaces: { bufs: { kind: 'buf', holds: 'ref', lock: 'lock' } }, locks: ['lock'], calls, ...extra };
  const model = defineKitModel({
    name: 'prim',
    title: 'prim',
    source: 'test',
    defaults: { threads, ops: 4, ids: { min: 1, max: 3 } },
    variants: (m) => [m.variant({ name: 'v', title: 'v', source: 'test', config: spec, expect: {} })],
  });
  return model.system(spec, model.defaults);
}

/** Runs the steps in order (each must be enabled); the replies' texts and the last world. */
function run(sys: ReturnType<typeof system>, steps: readonly EngineStep[]): { replies: string[]; world: KitWorld } {
  let world = sys.init;
  const replies: string[] = [];
  for (const s of steps) {
    const enabled = sys.enabled(world);
    expect(enabled, `${s.op}(${s.args}) by thread ${s.thread} is enabled`).toContainEqual(s);
    const o = sys.apply(world, s);
    replies.push(o.reply.text);
    world = o.world;
  }
  return { replies, world };
}

const s = (fn: string, action: Action, to?: { fail?: string; zero?: string }) => step(fn, action, to);
const alloc = s('kzalloc', { op: 'alloc', kind: 'buf', into: 'b' });
const create = call('create', {}, [alloc, s('xa_alloc', { op: 'xa_alloc', space: 'bufs', ptr: 'b', into: 'id' })]);
const destroy = call('destroy', { id: 'bufs' }, [
  s('xa_erase', { op: 'xa_erase', space: 'bufs', id: 'id', into: 'b' }),
  s('put', { op: 'refcount', call: 'refcount_dec_and_test', ptr: 'b', field: 'ref' }, { zero: 'free' }),
  ret(0),
  label('free'),
  s('kfree_rcu', { op: 'kfree', ptr: 'b', rcu: true }),
]);
const t0 = (op: string, ...args: (number | string)[]): EngineStep => ({ thread: 0, op, args });
const t1 = (op: string, ...args: (number | string)[]): EngineStep => ({ thread: 1, op, args });

describe('id spaces', () => {
  it('hand out the lowest free id again at once (xa_alloc)', () => {
    const sys = system({ create, destroy });
    const { replies } = run(sys, [t0('create'), t0('create'), t0('create'), t0('create'), t1('destroy', 1), t1('destroy'), t1('destroy'), t0('create'), t0('create')]);
    // The second step of a call is a step of its own: create replies the slot, then the id.
    expect(replies).toEqual(['buf 1', '1; returns 0', 'buf 2', '2; returns 0', 'buf 1#1', 'true', 'freed; returns 0', 'buf 1', '1; returns 0']);
  });

  it('go round before they reuse an id when cyclic (xa_alloc_cyclic)', () => {
    const sys = system({ create, destroy }, { spaces: { bufs: { kind: 'buf', holds: 'ref', alloc: 'cyclic' } } });
    const { replies } = run(sys, [t0('create'), t0('create'), t1('destroy', 1), t1('destroy'), t1('destroy'), t0('create'), t0('create')]);
    expect(replies.at(-1)).toBe('2; returns 0');
  });

  it('fail with -EBUSY when full, and the error path unwinds', () => {
    const full = call('create', {}, [alloc, s('xa_alloc', { op: 'xa_alloc', space: 'bufs', ptr: 'b', into: 'id' }, { fail: 'out_free' }), ret(0), label('out_free'), s('kfree', { op: 'kfree', ptr: 'b' }), ret('errno')]);
    const sys = system({ create: full }, {}, 1);
    const steps = Array.from({ length: 3 }, () => [t0('create'), t0('create')]).flat();
    const { world } = run(sys, steps);
    expect(sys.enabled(world)).toEqual([t0('create')]);
    const last = run(sys, [...steps, t0('create'), t0('create'), t0('create')]);
    expect(last.replies.slice(-3)).toEqual(['buf 4', '-EBUSY', 'freed; returns -EBUSY']);
  });
});

describe('RCU', () => {
  const reader = call('reader', { id: 'bufs' }, [
    s('rcu_read_lock', { op: 'rcu_read_lock' }),
    s('xa_load', { op: 'xa_load', space: 'bufs', id: 'id', into: 'b' }),
    s('use', { op: 'use', ptr: 'b' }),
    s('rcu_read_unlock', { op: 'rcu_read_unlock' }),
  ]);

  it('keeps an object freed by kfree_rcu until the readers inside their sections leave', () => {
    const sys = system({ create, destroy, reader });
    const { replies, world } = run(sys, [t0('create'), t0('create'), t1('reader', 1), t1('reader'), t0('destroy', 1), t0('destroy'), t0('destroy')]);
    expect(replies.at(-1)).toBe('freed after CPU1 leave rcu_read_lock(); returns 0');
    expect(world.objects.buf![0]!.state).toBe('rcu');
    const after = run(sys, [t0('create'), t0('create'), t1('reader', 1), t1('reader'), t0('destroy', 1), t0('destroy'), t0('destroy'), t1('reader'), t1('reader')]);
    // The reader could still use it inside its section; leaving it frees the buffer.
    expect(after.replies.slice(-2)).toEqual(['ok', 'ok; returns 0']);
    expect(after.world.objects.buf![0]!.state).toBe('free');
  });

  it("lists what kfree_rcu freed, in slot order, until each one's last reader leaves (RCU's callback list)", () => {
    const sys = system({ create, destroy, reader }, {}, 3);
    const t2 = (op: string, ...args: (number | string)[]): EngineStep => ({ thread: 2, op, args });
    const destroyed = [t0('create'), t0('create'), t0('create'), t0('create'), t1('reader', 1), t1('reader'), t2('reader', 2), t2('reader'), t0('destroy', 2), t0('destroy'), t0('destroy'), t0('destroy', 1), t0('destroy'), t0('destroy')];
    const buf = (slot: number) => ({ kind: 'buf', slot });
    // Buffer 2 was freed first; the list keeps slot order, so it follows from the objects alone.
    expect(run(sys, destroyed).world.rcuFreed).toEqual([buf(0), buf(1)]);
    const one = run(sys, [...destroyed, t1('reader'), t1('reader')]).world;
    expect(one.rcuFreed).toEqual([buf(0), buf(1)]);
    expect(one.objects.buf!.slice(0, 2).map((o) => [o.state, o.readers])).toEqual([['rcu', [2]], ['rcu', [2]]]);
    const both = run(sys, [...destroyed, t1('reader'), t1('reader'), t2('reader'), t2('reader')]).world;
    expect(both.rcuFreed).toEqual([]);
    expect(both.objects.buf!.slice(0, 2).map((o) => o.state)).toEqual(['free', 'free']);
  });

  it('makes synchronize_rcu wait for every reader', () => {
    const sync = call('sync', {}, [s('synchronize_rcu', { op: 'synchronize_rcu' })]);
    const sys = system({ create, reader, sync });
    const { world } = run(sys, [t0('create'), t0('create'), t1('reader', 1), t1('reader')]);
    expect(sys.enabled(world).filter((x) => x.thread === 0 && x.op === 'sync')).toEqual([]);
  });
});

describe('mutexes and fallible steps', () => {
  it('make a thread wait for a held mutex, even to start a call', () => {
    const locked = call('locked', {}, [s('mutex_lock', { op: 'mutex_lock', lock: 'lock' }), s('mutex_unlock', { op: 'mutex_unlock', lock: 'lock' })]);
    const sys = system({ locked });
    const { world } = run(sys, [t0('locked')]);
    expect(sys.enabled(world)).toEqual([t0('locked')]);
  });

  it('offer the explorer the failure of a fallible step, as fail_nth does', () => {
    const f = call('f', {}, [s('copy_from_user', { op: 'fallible', errno: '-EFAULT' }), alloc, s('kfree', { op: 'kfree', ptr: 'b' })]);
    const sys = system({ f }, {}, 1);
    expect(sys.enabled(sys.init)).toEqual([t0('f'), t0('f', '-EFAULT')]);
    expect(run(sys, [t0('f', '-EFAULT')]).replies).toEqual(['-EFAULT; returns -EFAULT']);
    expect(run(sys, [t0('f'), t0('f'), t0('f')]).replies).toEqual(['ok', 'buf 1', 'freed; returns 0']);
  });
});

describe('refcount_t', () => {
  const events = ['INC', 'INC_NOT_ZERO', 'DEC_AND_TEST', 'DEC_IF_ONE'] as const;
  it.each([0, 1, 2])('from %i: each call as lib/refcount.c answers it', (count) => {
    const answers = events.map((type) => {
      const fired = fireUncached<{ count: number }>(refcountMachine, { value: count === 0 ? 'zero' : 'live', context: { count } }, { type });
      return `${type}:${fired.state.context.count}:${fired.reply.text}${fired.reply.warnings ? '!' : ''}`;
    });
    expect(answers).toEqual(
      [
        ['INC:0:WARN!', 'INC_NOT_ZERO:0:false', 'DEC_AND_TEST:0:WARN!', 'DEC_IF_ONE:0:false'],
        ['INC:2:ok', 'INC_NOT_ZERO:2:true', 'DEC_AND_TEST:0:true', 'DEC_IF_ONE:0:true'],
        ['INC:3:ok', 'INC_NOT_ZERO:3:true', 'DEC_AND_TEST:1:false', 'DEC_IF_ONE:2:false'],
      ][count],
    );
  });
});

describe('call definitions', () => {
  it('refuse an argument or a returned id of an id space the spec does not have', () => {
    expect(() => system({ destroy: call('destroy', { id: 'nope' }, [s('xa_erase', { op: 'xa_erase', space: 'bufs', id: 'id' })]) })).toThrow("call 'destroy', argument 'id': no id space 'nope'; declared: bufs");
    expect(() => system({ create: call('create', {}, [alloc, retId('b', 'nope')]) })).toThrow("call 'create', retId('b'): no id space 'nope'; declared: bufs");
  });

  it('refuse an id stored into a space whose ids it is not of', () => {
    // `id` is an id of `bufs` (1..3); `one` has the id 1 alone.
    const store = call('store', { id: 'bufs' }, [alloc, s('xa_store', { op: 'xa_store', space: 'one', id: 'id', ptr: 'b' })]);
    const sys = system({ store }, { spaces: { bufs: { kind: 'buf', holds: 'ref', lock: 'lock' }, one: { kind: 'buf', ids: () => ({ min: 1, max: 1 }) } } });
    expect(run(sys, [t0('store', 1)]).replies).toEqual(['buf 1']);
    expect(() => run(sys, [t0('store', 2), t0('store')])).toThrow("call 'store' stores id 2 into id space 'one', whose ids are 1..1; take the id from that space (xa_alloc, an argument of it)");
  });

  it('refuse a jump to a label the call does not have', () => {
    expect(() => call('f', {}, [s('x', { op: 'fallible', errno: '-EIO' }, { fail: 'out' })] as Item[])).toThrow(
      "call 'f': step 'x' goes to label 'out', which the call does not have; add label('out')",
    );
  });
});

describe('steps a scenario never reaches', () => {
  const create = call('create', {}, [
    s('kzalloc', { op: 'alloc', kind: 'buf', into: 'b' }, { fail: 'out' }),
    s('xa_alloc', { op: 'xa_alloc', space: 'bufs', ptr: 'b', into: 'id' }, { fail: 'out_free' }),
    ret(0),
    label('out_free'),
    s('kfree', { op: 'kfree', ptr: 'b' }),
    label('out'),
    ret('errno'),
  ]);
  const model = (slots: number) =>
    defineKitModel({
      name: 'starve',
      title: 'starve',
      source: 'test',
      defaults: { threads: 1, ops: 3, ids: { min: 1, max: 2 } },
      variants: (m) => [m.variant({ name: 'v', title: 'v', source: 'test', config: { kinds: { buf: { ...buf, slots } }, spaces: { bufs: { kind: 'buf', holds: 'ref' } }, calls: { create } }, expect: {} })],
    }).variants[0]!;

  it('are named, call and step, when a bound starves them', async () => {
    // Two slots for two ids: the allocation never fails, nor does xa_alloc, so neither unwind runs.
    const r = await checkVariant(model(2), { bounds: { threads: 1, ops: 3, ids: { min: 1, max: 2 } }, runs: 0, seed: 42, exhaustive: {} });
    expect(starved(r.coverage!)).toEqual(['create: kfree']);
  });

  it('are none once the bounds let every step run', async () => {
    const r = await checkVariant(model(3), { bounds: { threads: 1, ops: 3, ids: { min: 1, max: 2 } }, runs: 0, seed: 42, exhaustive: {} });
    expect(starved(r.coverage!)).toEqual([]);
  });
});

describe('trylock and waits', () => {
  const trylock = call('try', {}, [
    s('if (!mutex_trylock(&lock)) return -EBUSY', { op: 'mutex_trylock', lock: 'lock' }),
    s('mutex_unlock', { op: 'mutex_unlock', lock: 'lock' }),
  ]);

  it('mutex_trylock takes a free lock and fails at once on a held one', () => {
    const sys = system({ try: trylock });
    expect(run(sys, [t0('try'), t1('try'), t0('try')]).replies).toEqual(['locked', '-EBUSY; returns -EBUSY', 'unlocked; returns 0']);
  });

  const done = { slots: 1, fields: { ref: { type: 'refcount', max: 4 }, done: { type: 'counter', max: 1 } } } as const;
  const waiter = (timeout?: string) =>
    call('waiter', {}, [
      s('b = kzalloc', { op: 'alloc', kind: 'buf', into: 'b' }),
      s('queue_work(&b->work)', { op: 'queue_work', work: 'completer', ptr: 'b' }),
      s('wait_for_completion(&b->done)', { op: 'wait', ptr: 'b', field: 'done', until: 'nonzero', ...(timeout ? { timeout } : {}) }),
      ret(0),
    ]);
  const completer = call('completer', {}, [s('complete(&b->done)', { op: 'counter', delta: 1, ptr: 'b', field: 'done' })]);
  const wsys = (timeout?: string) => system({ waiter: waiter(timeout) }, { kinds: { buf: done }, works: { completer } }, 1);
  const kworker = (op: string): EngineStep => ({ thread: 1, op, args: [] });

  it('wait_for_completion waits until the work completes it', () => {
    const sys = wsys();
    const { world } = run(sys, [t0('waiter'), t0('waiter')]);
    // Only the kworker can move: the waiter waits.
    expect(sys.enabled(world)).toEqual([kworker('completer')]);
    expect(run(sys, [t0('waiter'), t0('waiter'), kworker('completer'), t0('waiter')]).replies.at(-1)).toBe('done = 1; returns 0');
  });

  it('a bounded wait may time out, but only while it is not done', () => {
    const sys = wsys('-ETIMEDOUT');
    const { world } = run(sys, [t0('waiter'), t0('waiter')]);
    expect(sys.enabled(world)).toEqual([t0('waiter', '-ETIMEDOUT'), kworker('completer')]);
    const after = run(sys, [t0('waiter'), t0('waiter'), kworker('completer')]);
    expect(sys.enabled(after.world)).toEqual([t0('waiter')]);
  });
});

describe('rw_semaphore', () => {
  const sem = { rwsems: ['sem'] };
  const read = call('read', {}, [s('down_read', { op: 'down_read', sem: 'sem' }), s('up_read', { op: 'up_read', sem: 'sem' })]);
  const write = call('write', {}, [s('down_write', { op: 'down_write', sem: 'sem' }), s('up_write', { op: 'up_write', sem: 'sem' })]);
  const tryRead = call('try_read', {}, [s('down_read_trylock', { op: 'down_read_trylock', sem: 'sem' }), s('up_read', { op: 'up_read', sem: 'sem' })]);

  it('queues a writer behind a reader, and keeps new readers out while it waits', () => {
    const sys = system({ read, write, try_read: tryRead }, sem, 3);
    const t2 = (op: string): EngineStep => ({ thread: 2, op, args: [] });
    const { replies, world } = run(sys, [t0('read'), t1('write')]);
    expect(replies).toEqual(['read-locked', 'waits']);
    expect(world.rwsems.sem).toEqual({ readers: [0], writer: -1, queued: [1] });
    // CPU2 may not read now, and its trylock fails; CPU1 waits for CPU0's up_read.
    expect(sys.enabled(world).filter((x) => x.thread === 2 && x.op !== 'write')).toEqual([t2('try_read')]);
    expect(run(sys, [t0('read'), t1('write'), t2('try_read')]).replies.at(-1)).toBe('-EBUSY; returns -EBUSY');
    expect(run(sys, [t0('read'), t1('write'), t0('read'), t1('write')]).replies.slice(-2)).toEqual(['up; returns 0', 'write-locked']);
  });

  it('deadlocks a thread that takes the write side while it reads (destroy without ref_to_users)', async () => {
    const self = call('destroy', {}, [s('down_read', { op: 'down_read', sem: 'sem' }), s('down_write', { op: 'down_write', sem: 'sem' })]);
    const model = defineKitModel({
      name: 'self',
      title: 'self',
      source: 'test',
      defaults: { threads: 1, ops: 1, ids: { min: 1, max: 1 } },
      variants: (m) => [m.variant({ name: 'v', title: 'v', source: 'test', config: { kinds: { buf }, spaces: {}, rwsems: ['sem'], calls: { destroy: self } }, expect: {} })],
    });
    const r = await checkVariant(model.variants[0]!, { bounds: model.defaults, runs: 0, seed: 42, properties: ['no-deadlock'], exhaustive: {} });
    expect(r.verdicts[0]!.counterexample?.violation.message).toBe('CPU0 waits for ever in destroy: down_write(&sem), queued behind CPU0');
  });
});

describe('reserved ids (XA_ZERO_ENTRY)', () => {
  const reserve = call('create', {}, [
    s('obj = kzalloc', { op: 'alloc', kind: 'buf', into: 'b' }),
    s('xa_alloc(&bufs, &id, XA_ZERO_ENTRY)', { op: 'xa_alloc', space: 'bufs', into: 'id' }),
    s('iommufd_object_finalize: xa_store(&bufs, id, obj)', { op: 'xa_store', space: 'bufs', id: 'id', ptr: 'b' }),
  ]);
  const peek = call('peek', { id: 'bufs' }, [
    s('mutex_lock', { op: 'mutex_lock', lock: 'lock' }),
    s('xa_load', { op: 'xa_load', space: 'bufs', id: 'id', into: 'b' }),
    s('mutex_unlock', { op: 'mutex_unlock', lock: 'lock' }),
  ]);

  it('take an id that lookups see as NULL until the object is stored', () => {
    const sys = system({ create: reserve, peek });
    const before = run(sys, [t0('create'), t0('create'), t1('peek', 1), t1('peek')]);
    expect(before.replies.slice(-2)).toEqual(['locked', 'NULL']);
    expect(before.world.spaces.bufs![0]).toBe('reserved');
    const after = run(sys, [t0('create'), t0('create'), t0('create'), t1('peek', 1), t1('peek')]);
    expect(after.replies.slice(-3)).toEqual(['stored; returns 0', 'locked', 'buf 1#1']);
  });
});

describe('a spec with a name it does not declare', () => {
  const model = (calls: Record<string, ReturnType<typeof call>>) =>
    defineKitModel({
      name: 'typo',
      title: 'typo',
      source: 'test',
      defaults: { threads: 1, ops: 1, ids: { min: 1, max: 1 } },
      variants: (m) => [m.variant({ name: 'v', title: 'v', source: 'test', config: { kinds: { buf }, spaces: { bufs: { kind: 'buf' } }, locks: ['lock'], calls }, expect: {} })],
    });
  it.each([
    [s('kzalloc', { op: 'alloc', kind: 'bfu', into: 'b' }), "call 'f', step 'kzalloc': no kind 'bfu'; declared: buf"],
    [s('xa_load', { op: 'xa_load', space: 'buf', id: 'id', into: 'b' }), "call 'f', step 'xa_load': no id space 'buf'; declared: bufs"],
    [s('mutex_lock', { op: 'mutex_lock', lock: 'lcok' }), "call 'f', step 'mutex_lock': no lock 'lcok'; declared: lock"],
    [s('get', { op: 'refcount', call: 'refcount_inc', ptr: 'b', field: 'refs' }), "call 'f', step 'get': no kind has a field 'refs'; declared fields: ref"],
    [s('inc', { op: 'counter', delta: 1, ptr: 'b', field: 'ref' }), "call 'f', step 'inc': 'ref' is a refcount, not a counter; declare it { type: 'counter' }"],
  ])('is refused before the search, naming the call and step: %#', (bad, message) => {
    const m = model({ f: call('f', {}, [bad]) });
    expect(() => m.system(m.variants[0]!.config, m.defaults)).toThrow(message);
  });
});

describe('pointer fields (one object holding another)', () => {
  // An iommufd-like pair: a hwpt holds a reference on its ioas's users through hwpt->ioas.
  const kinds = {
    ioas: { slots: 1, fields: { users: { type: 'refcount', max: 4 } } },
    hwpt: { slots: 1, fields: { users: { type: 'refcount', max: 4 }, ioas: { type: 'pointer', kind: 'ioas', holds: 'users' } } },
  } as const;
  const spaces = { ioases: { kind: 'ioas', holds: 'users' }, hwpts: { kind: 'hwpt', holds: 'users' } } as const;
  const getIoas = s('refcount_inc(&ioas->users)', { op: 'refcount', call: 'refcount_inc', ptr: 'ioas', field: 'users' });
  const make = (destroyItems: Item[]) => {
    const spec: KitSpec = {
      kinds,
      spaces,
      calls: {
        setup: call('setup', {}, [
          s('ioas = kzalloc', { op: 'alloc', kind: 'ioas', into: 'ioas' }),
          // A second reference, for the hwpt: the first goes to the table.
          getIoas,
          s('xa_alloc(&ioases, ioas)', { op: 'xa_alloc', space: 'ioases', ptr: 'ioas', into: 'iid' }),
          s('hwpt = kzalloc', { op: 'alloc', kind: 'hwpt', into: 'hwpt' }),
          s('hwpt->ioas = ioas', { op: 'set_link', ptr: 'hwpt', field: 'ioas', to: 'ioas' }),
          s('xa_alloc(&hwpts, hwpt)', { op: 'xa_alloc', space: 'hwpts', ptr: 'hwpt', into: 'hid' }),
        ]),
        destroy: call('destroy', { hid: 'hwpts' }, destroyItems),
      },
    };
    return defineKitModel({
      name: 'links',
      title: 'links',
      source: 'test',
      defaults: { threads: 1, ops: 2, ids: { min: 1, max: 1 } },
      variants: (m) => [m.variant({ name: 'v', title: 'v', source: 'test', config: spec, expect: {} })],
    }).variants[0]!;
  };
  const erase = s('hwpt = xa_erase(&hwpts, hid)', { op: 'xa_erase', space: 'hwpts', id: 'hid', into: 'hwpt' });
  const noHwpt = s('if (!hwpt) return -ENOENT', { op: 'if_null', ptr: 'hwpt', errno: '-ENOENT' });
  const takeIoas = s('ioas = hwpt->ioas; hwpt->ioas = NULL', { op: 'take_link', ptr: 'hwpt', field: 'ioas', into: 'ioas' });
  const putIoas = s('refcount_dec(&ioas->users)', { op: 'refcount', call: 'refcount_dec_and_test', ptr: 'ioas', field: 'users' });
  const putHwpt = s('refcount_dec_and_test(&hwpt->users)', { op: 'refcount', call: 'refcount_dec_and_test', ptr: 'hwpt', field: 'users' }, { zero: 'free' });
  const free = s('kfree(hwpt)', { op: 'kfree', ptr: 'hwpt' });
  const verdicts = async (variant: ReturnType<typeof make>) => {
    const r = await checkVariant(variant, { bounds: variant.model.defaults, runs: 0, seed: 42, exhaustive: {} });
    return Object.fromEntries(r.verdicts.filter((v) => v.actual === 'violated').map((v) => [v.property, v.counterexample!.violation.message]));
  };

  it('count as a holder of the reference they keep, and keep their target reachable', async () => {
    const ok = make([erase, noHwpt, putHwpt, ret(0), label('free'), takeIoas, putIoas, free]);
    expect(await verdicts(ok)).toEqual({});
  });

  it('leak the reference when the holder is freed without giving it back', async () => {
    const leaky = make([erase, noHwpt, putHwpt, ret(0), label('free'), free]);
    expect(await verdicts(leaky)).toEqual({ 'refcount-matches-holders': 'ioas 1#1: users is 2, but 1 hold a reference (ioases[0])' });
  });

  it('lend a borrowed pointer only while the holder still holds it', async () => {
    const getLink = s('ioas = hwpt->ioas', { op: 'get_link', ptr: 'hwpt', field: 'ioas', into: 'ioas' });
    const use = s('ioas->iopt', { op: 'use', ptr: 'ioas' });
    const late = make([erase, noHwpt, getLink, takeIoas, s('hwpt->ioas = NULL', { op: 'set_link', ptr: 'hwpt', field: 'ioas', to: null }), use, putIoas, putHwpt, ret(0), label('free'), free]);
    const found = await verdicts(late);
    expect(found['no-use-after-protection']).toBeUndefined();
    const borrowedLate = make([erase, noHwpt, getLink, s('hwpt->ioas = NULL', { op: 'set_link', ptr: 'hwpt', field: 'ioas', to: null }), use, putHwpt, ret(0), label('free'), free]);
    expect((await verdicts(borrowedLate))['no-use-after-protection']).toBe('lifecheck: CPU0 ioas->iopt: ioas (ioas 1#1) borrowed through hwpt->ioas, which no longer holds it');
  });
});

describe("an object's own locks", () => {
  const kinds = { obj: { slots: 2, fields: { users: { type: 'refcount', max: 4 }, destroy_rwsem: { type: 'rwsem' } } } } as const;
  const create = call('create', {}, [s('obj = kzalloc', { op: 'alloc', kind: 'obj', into: 'o' }), s('xa_alloc', { op: 'xa_alloc', space: 'objs', ptr: 'o', into: 'id' })]);
  // v6.2's IOMMU_DESTROY without iommufd_ref_to_users: it takes the write side of the rwsem it reads.
  const destroy = call('destroy', { id: 'objs' }, [
    s('xa_lock', { op: 'mutex_lock', lock: 'xa_lock' }),
    s('obj = xa_load', { op: 'xa_load', space: 'objs', id: 'id', into: 'o' }),
    s('if (!obj) goto out', { op: 'if_null', ptr: 'o', errno: '-ENOENT' }, { fail: 'out' }),
    s('down_read(&obj->destroy_rwsem)', { op: 'down_read', sem: 'destroy_rwsem', ptr: 'o' }),
    s('xa_unlock', { op: 'mutex_unlock', lock: 'xa_lock' }),
    s('down_write(&obj->destroy_rwsem)', { op: 'down_write', sem: 'destroy_rwsem', ptr: 'o' }),
    ret(0),
    label('out'),
    s('xa_unlock', { op: 'mutex_unlock', lock: 'xa_lock' }),
    ret('errno'),
  ]);
  const sys = system({ create, destroy }, { kinds, spaces: { objs: { kind: 'obj', holds: 'users', lock: 'xa_lock' } }, locks: ['xa_lock'] }, 1);

  it('are one per object, named after it, and a thread can deadlock on its own', () => {
    expect(Object.keys(sys.init.rwsems)).toEqual(['obj 1.destroy_rwsem', 'obj 2.destroy_rwsem']);
    const { world, replies } = run(sys, [t0('create'), t0('create'), t0('destroy', 1), t0('destroy'), t0('destroy'), t0('destroy'), t0('destroy'), t0('destroy')]);
    expect(replies.slice(-2)).toEqual(['unlocked', 'waits']);
    expect(world.rwsems['obj 1.destroy_rwsem']).toEqual({ readers: [0], writer: -1, queued: [0] });
    expect(sys.enabled(world)).toEqual([]);
  });
});

describe('a pointer holding references on two counts', () => {
  // iommufd's pattern: a lookup takes a users and a shortterm_users reference through one pointer.
  // v6.7: shortterm_users starts at 1, a bias the table holds beside its users reference.
  const kinds = { obj: { slots: 1, fields: { users: { type: 'refcount', max: 4 }, short: { type: 'refcount', max: 4, init: 1 } } } } as const;
  const inc = (field: string) => s(`refcount_inc(&obj->${field})`, { op: 'refcount', call: 'refcount_inc', ptr: 'o', field });
  const dec = (field: string) => s(`refcount_dec(&obj->${field})`, { op: 'refcount', call: 'refcount_dec_and_test', ptr: 'o', field });
  const model = (putShort: boolean) => {
    const spec: KitSpec = {
      kinds,
      spaces: { objs: { kind: 'obj', holds: ['users', 'short'], lock: 'lock' } },
      locks: ['lock'],
      calls: {
        create: call('create', {}, [s('o = kzalloc', { op: 'alloc', kind: 'obj', into: 'o' }), s('xa_alloc', { op: 'xa_alloc', space: 'objs', ptr: 'o', into: 'id' })]),
        get: call('get', { id: 'objs' }, [
          s('xa_lock', { op: 'mutex_lock', lock: 'lock' }),
          s('o = xa_load', { op: 'xa_load', space: 'objs', id: 'id', into: 'o' }),
          s('if (!o) goto out', { op: 'if_null', ptr: 'o', errno: '-ENOENT' }, { fail: 'out' }),
          inc('users'),
          inc('short'),
          s('xa_unlock', { op: 'mutex_unlock', lock: 'lock' }),
          s('o->ops->use(o)', { op: 'use', ptr: 'o' }),
          ...(putShort ? [dec('short')] : []),
          dec('users'),
          ret(0),
          label('out'),
          s('xa_unlock', { op: 'mutex_unlock', lock: 'lock' }),
          ret('errno'),
        ]),
      },
    };
    return defineKitModel({
      name: 'two',
      title: 'two',
      source: 'test',
      defaults: { threads: 1, ops: 2, ids: { min: 1, max: 1 } },
      variants: (m) => [m.variant({ name: 'v', title: 'v', source: 'test', config: spec, expect: {} })],
    }).variants[0]!;
  };
  const broken = async (v: ReturnType<typeof model>) => {
    const r = await checkVariant(v, { bounds: v.model.defaults, runs: 0, seed: 42, exhaustive: {} });
    return Object.fromEntries(r.verdicts.filter((x) => x.actual === 'violated').map((x) => [x.property, x.counterexample!.violation.message]));
  };

  it('counts each reference on its own count, and keeps the pointer safe while either is held', async () => {
    expect(await broken(model(true))).toEqual({});
  });

  it('finds the one a call forgot to drop', async () => {
    expect(await broken(model(false))).toEqual({ 'refcount-matches-holders': 'obj 1#1: short is 2, but 1 hold a reference (objs[0])' });
  });
});
