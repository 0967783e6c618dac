/**
 * A kind's lifecycle as an xstate machine: each object has a phase, from the
 * machine's initial state; a `send` step fires an event and the machine's
 * reply decides it; the machine is drawn and its transitions counted.
 */
import { describe, expect, it } from 'vitest';
import { assign, call, checkVariant, defineKitModel, err, label, ok, ret, retId, setup, step, type KitCall, type KitSpec, type KitWorld, type Reply, type Step as EngineStep } from 'lifecheck';

/** An id as seed 001 has it: live, then free-pending after ioasid_free, where a get is refused with -EBUSY. */
const setupOf = setup({
  types: { context: {} as { reply: Reply }, events: {} as { type: 'GET' } | { type: 'FREE' } },
  actions: { reply: assign((_, params: Reply) => ({ reply: params })) },
});
const idMachine = setupOf.createMachine({
  id: 'ioasid',
  initial: 'active',
  context: { reply: { ok: true, text: '' } },
  states: {
    active: { on: { GET: { actions: ok('ok') }, FREE: { target: 'freePending', actions: ok('free pending') } } },
    // Seed 001: "ioasid_free can be called multiple times without error"; a get of a free-pending id is refused.
    freePending: { on: { GET: { actions: err('-EBUSY') }, FREE: { actions: ok('already pending') } } },
  },
});

const s = step;
const find = s('data = xa_load(&ids, id)', { op: 'xa_load', space: 'ids', id: 'id', into: 'data' });
const lock = s('spin_lock(&ioasid_allocator_lock)', { op: 'mutex_lock', lock: 'lock' });
const unlock = s('spin_unlock(&ioasid_allocator_lock)', { op: 'mutex_unlock', lock: 'lock' });
const ifNull = s('if (!data) goto out', { op: 'if_null', ptr: 'data', errno: '-ENOENT' }, { fail: 'out' });
const calls: Record<string, KitCall> = {
  ioasid_alloc: call('ioasid_alloc', {}, [
    s('data = kzalloc()', { op: 'alloc', kind: 'ioasid', into: 'data' }),
    s('xa_alloc(&ids, &id, data)', { op: 'xa_alloc', space: 'ids', ptr: 'data', into: 'id' }),
    retId('id', 'ids'),
  ]),
  ioasid_free: call('ioasid_free', { id: 'ids' }, [lock, find, ifNull, s('data->state = IOASID_STATE_FREE_PENDING', { op: 'send', ptr: 'data', event: 'FREE' }), unlock, ret(0), label('out'), unlock, ret('errno')]),
  ioasid_get: call('ioasid_get', { id: 'ids' }, [
    lock,
    find,
    ifNull,
    s('if (data->state == IOASID_STATE_FREE_PENDING) return -EBUSY', { op: 'send', ptr: 'data', event: 'GET' }, { fail: 'out' }),
    s('refcount_inc(&data->refs)', { op: 'refcount', call: 'refcount_inc', ptr: 'data', field: 'refs' }),
    unlock,
    ret(0),
    label('out'),
    unlock,
    ret('errno'),
  ]),
};

function model(extra: Partial<KitSpec> = {}) {
  const spec: KitSpec = {
    kinds: { ioasid: { slots: 1, fields: { refs: { type: 'refcount', max: 4 } }, machine: idMachine } },
    spaces: { ids: { kind: 'ioasid', holds: 'refs', lock: 'lock' } },
    locks: ['lock'],
    calls,
    off: ['nothing-leaked', 'refcount-matches-holders'],
    ...extra,
  };
  return defineKitModel({
    name: 'ids',
    title: 'ids',
    source: 'test',
    defaults: { threads: 1, ops: 3, ids: { min: 1, max: 1 } },
    variants: (m) => [m.variant({ name: 'v', title: 'v', source: 'test', config: spec, expect: {} })],
  });
}

const t0 = (op: string, ...args: number[]): EngineStep => ({ thread: 0, op, args });

function run(steps: readonly EngineStep[], m = model()) {
  const sys = m.system(m.variants[0]!.config, m.defaults);
  let world: KitWorld = sys.init;
  const replies: string[] = [];
  for (const st of steps) {
    expect(sys.enabled(world)).toContainEqual(st);
    const o = sys.apply(world, st);
    replies.push(o.reply.text);
    world = o.world;
  }
  return { replies, world };
}

describe("a kind's lifecycle machine", () => {
  it("starts each object in its initial state, moves it on a send, and refuses with the machine's errno", () => {
    const steps = [t0('ioasid_alloc'), t0('ioasid_alloc'), t0('ioasid_free', 1), t0('ioasid_free'), t0('ioasid_free'), t0('ioasid_free'), t0('ioasid_free'), t0('ioasid_get', 1), t0('ioasid_get'), t0('ioasid_get'), t0('ioasid_get'), t0('ioasid_get')];
    const { replies, world } = run(steps);
    expect(world.objects.ioasid![0]!.phase).toBe('freePending');
    // free: lock, find, send FREE, unlock; get: lock, find, if, send GET refused, unlock.
    expect(replies.slice(2, 7)).toEqual(['locked', 'ioasid 1#1', 'ok', 'free pending', 'unlocked; returns 0']);
    expect(replies.slice(7)).toEqual(['locked', 'ioasid 1#1', 'ok', '-EBUSY', 'unlocked; returns -EBUSY']);
  });

  it('is drawn and counted like the call machines: the review and coverage see its transitions', async () => {
    const m = model();
    expect(Object.keys(m.machines!(m.variants[0]!.config))).toContain('ioasid');
    const r = await checkVariant(m.variants[0]!, { bounds: m.defaults, runs: 0, seed: 42, exhaustive: {} });
    const lifecycle = r.coverage!.find((c) => c.machine === 'ioasid')!;
    expect(lifecycle.edges.map((e) => [e.from, e.event, e.hits > 0])).toEqual([
      ['active', 'GET', true],
      ['active', 'FREE', true],
      ['freePending', 'GET', true],
      ['freePending', 'FREE', true],
    ]);
  });

  it('is the model error for an event its state does not handle, and for a kind without a machine', () => {
    const bare = model({ kinds: { ioasid: { slots: 1, fields: { refs: { type: 'refcount', max: 4 } } } } });
    expect(() => run([], bare)).toThrow(/call 'ioasid_free', step 'data->state = IOASID_STATE_FREE_PENDING': no event of a kind's machine 'FREE'; declared: none/);
    const freeOnce = model({
      kinds: {
        ioasid: {
          slots: 1,
          fields: { refs: { type: 'refcount', max: 4 } },
          machine: setupOf.createMachine({
            id: 'ioasid-free-once',
            initial: 'active',
            context: { reply: { ok: true, text: '' } },
            states: { active: { on: { GET: { actions: ok('ok') }, FREE: { target: 'freePending', actions: ok('free pending') } } }, freePending: { on: { GET: { actions: err('-EBUSY') } } } },
          }),
        },
      },
    });
    const twice = [t0('ioasid_alloc'), t0('ioasid_alloc'), ...Array.from({ length: 5 }, (_, k) => t0('ioasid_free', ...(k === 0 ? [1] : []))), t0('ioasid_free', 1), t0('ioasid_free'), t0('ioasid_free'), t0('ioasid_free')];
    expect(() => run(twice, freeOnce)).toThrow(/ioasid's machine has no transition for FREE in state 'freePending'; add one \(err\('-EBUSY'\) to refuse it\)/);
  });
});

describe("what a step changed, in the kernel's terms (Presenter.changes)", () => {
  it('names the phase a send moves, counts, entries and locks, and leaves out the thread’s own frame', () => {
    const m = model();
    const spec = m.variants[0]!.config;
    const sys = m.system(spec, m.defaults);
    const changes: (readonly string[])[] = [];
    let world: KitWorld = sys.init;
    for (const st of [t0('ioasid_alloc'), t0('ioasid_alloc'), t0('ioasid_free', 1), t0('ioasid_free'), t0('ioasid_free'), t0('ioasid_free'), t0('ioasid_free')]) {
      const next = sys.apply(world, st).world;
      changes.push(m.present.changes!(world, next, spec));
      world = next;
    }
    expect(changes).toEqual([
      ['ioasid 1: free → ioasid 1#1 active', 'ioasid 1 refs: 0 → 1', "ioasid 1 refs held by: nobody → CPU0's data"],
      ["ioasid 1 refs held by: CPU0's data → ids[0]", 'ids[0]: NULL → ioasid 1#1'],
      ['lock lock: free → CPU0'],
      [],
      [],
      ['ioasid 1: active → freePending'],
      ['lock lock: CPU0 → free'],
    ]);
  });
});
