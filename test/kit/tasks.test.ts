/**
 * What the IOASID model needed of the kit, rule by rule on tiny models: a
 * task's own objects (`current`), comparing a pointer field with a local
 * (`link_is`), `if (p)` (`if_set`), a use as a kind (type confusion), a
 * reference dropped by id for a caller's pointer (`of`), an errno that is
 * no errno (INVALID_IOASID), a phase moved by a failed call, and id spaces
 * of their own range with `xa_insert`, `xa_init` and a limited `xa_alloc`.
 */
import { describe, expect, it } from 'vitest';
import { assign, atomic, call, checkVariant, defineKitModel, err, label, ok, ret, setup, step, type KitCall, type KitSpec, type KitWorld, type Reply, type Step as EngineStep } from 'lifecheck';

/** A task's mm (kind mm), a lookup table of ids (kind obj, refcounted) holding a pointer `owner` to an mm. */
const base: KitSpec = {
  kinds: {
    mm: { slots: 2, fields: {} },
    domain: { slots: 1, fields: {} },
    obj: { slots: 2, fields: { ref: { type: 'refcount', max: 4 }, owner: { type: 'pointer', kind: ['mm', 'domain'] } } },
  },
  spaces: { mms: { kind: ['mm', 'domain'] }, objs: { kind: 'obj', holds: 'ref', lock: 'lock' } },
  locks: ['lock'],
  calls: {},
  // Before the scenario: mm 1 and mm 2 at ids 1 and 2 of `mms`.
  setup: call('boot', {}, [
    ...[1, 2].flatMap((n) => [
      step(`mm${n} = mm_alloc()`, { op: 'alloc', kind: 'mm', into: 'm' }),
      step(`n = ${n}`, { op: 'let', local: 'n', to: n }),
      step('mms[n] = mm', { op: 'xa_store', space: 'mms', id: 'n', ptr: 'm' }),
    ]),
  ]),
  // Thread t's current->mm is mm t+1.
  current: (t) => ({ mm: { space: 'mms', id: t + 1 } }),
};

function system(calls: Record<string, KitCall>, extra: Partial<KitSpec> = {}, threads = 2) {
  const spec: KitSpec = { ...base, calls, ...extra };
  const model = defineKitModel({
    name: 'tasks',
    title: 'tasks',
    source: 'test',
    defaults: { threads, ops: 3, ids: { min: 1, max: 2 } },
    variants: (m) => [m.variant({ name: 'v', title: 'v', source: 'test', config: spec, expect: {} })],
  });
  return { model, sys: model.system(spec, model.defaults) };
}

function run(sys: ReturnType<typeof system>['sys'], steps: readonly EngineStep[]) {
  let world: KitWorld = sys.init;
  const replies: Reply[] = [];
  for (const st of steps) {
    expect(sys.enabled(world), `${st.op} by thread ${st.thread}`).toContainEqual(st);
    const o = sys.apply(world, st);
    replies.push(o.reply);
    world = o.world;
  }
  return { replies, world };
}

const t = (thread: number, op: string, ...args: number[]): EngineStep => ({ thread, op, args });

/** `create`: an obj owned by the caller's mm; `claim(id)`: -EACCES unless the obj is the caller's. */
const create = call('create', {}, [
  step('o = kzalloc', { op: 'alloc', kind: 'obj', into: 'o' }),
  step('o->owner = current->mm', { op: 'set_link', ptr: 'o', field: 'owner', to: 'mm' }),
  step('mutex_lock', { op: 'mutex_lock', lock: 'lock' }),
  step('xa_alloc', { op: 'xa_alloc', space: 'objs', ptr: 'o', into: 'id' }),
  step('mutex_unlock', { op: 'mutex_unlock', lock: 'lock' }),
  ret(0),
]);
const claim = call('claim', { id: 'objs' }, [
  step('mutex_lock', { op: 'mutex_lock', lock: 'lock' }),
  step('o = xa_load', { op: 'xa_load', space: 'objs', id: 'id', into: 'o' }),
  step('if (o->owner != current->mm) return -EACCES', { op: 'link_is', ptr: 'o', field: 'owner', to: 'mm', errno: '-EACCES' }, { fail: 'out' }),
  label('out'),
  step('mutex_unlock', { op: 'mutex_unlock', lock: 'lock' }),
  ret('errno'),
]);

describe("a task's own objects (current)", () => {
  it("gives each thread's calls its own mm, and link_is tells the caller's objects from another's", () => {
    const { sys } = system({ create, claim });
    const { replies } = run(sys, [...Array.from({ length: 5 }, () => t(0, 'create')), t(0, 'claim', 1), t(0, 'claim'), t(0, 'claim'), t(0, 'claim'), t(1, 'claim', 1), t(1, 'claim'), t(1, 'claim'), t(1, 'claim')]);
    expect(replies.slice(5, 9).map((r) => r.text)).toEqual(['locked', 'obj 1#1', 'mm 1#1', 'unlocked; returns 0']);
    expect(replies.slice(9).map((r) => r.text)).toEqual(['locked', 'obj 1#1', '-EACCES', 'unlocked; returns -EACCES']);
    expect(replies.at(-1)!.ok).toBe(false);
  });

  it('gives NULL when the space maps nothing at the id, and names an unknown space as the model error', () => {
    const peek = call('peek', {}, [step('if (!current->mm) return -ESRCH', { op: 'if_null', ptr: 'mm', errno: '-ESRCH' }), ret(0)]);
    const { sys } = system({ peek }, { current: () => ({ mm: { space: 'mms', id: 2 }, none: null }) });
    expect(run(sys, [t(0, 'peek')]).replies[0]!.text).toBe('ok; returns 0');
    const gone = system({ peek }, { current: () => ({ mm: null }) }).sys;
    expect(run(gone, [t(0, 'peek')]).replies[0]!.text).toBe('-ESRCH; returns -ESRCH');
    expect(() => system({ peek }, { current: () => ({ mm: { space: 'nosuch', id: 1 } }) }).sys.enabled(gone.init)).toThrow(/current: no id space 'nosuch'; declared: mms, objs/);
  });
});

describe("a task's object freed under it", () => {
  it('stays the stale pointer its calls pass, so using it is a use after free, not a NULL', () => {
    const drop = call('mmdrop', {}, [
      step('m = xa_erase(&mms, current->mm)', { op: 'xa_erase', space: 'mms', ptr: 'mm', into: 'm' }),
      step('kfree(mm)', { op: 'kfree', ptr: 'm' }),
      ret(0),
    ]);
    const touch = call('touch', {}, [step('current->mm->users', { op: 'use', ptr: 'mm' }), ret(0)]);
    const { sys } = system({ mmdrop: drop, touch }, {}, 1);
    const { replies } = run(sys, [t(0, 'mmdrop'), t(0, 'mmdrop'), t(0, 'touch')]);
    expect(replies[2]!.warnings).toEqual(['BUG: KASAN: slab-use-after-free: CPU0 current->mm->users: mm (mm 1#1) after kfree']);
  });
});

describe('if (p) and a use as a kind', () => {
  const twice = call('create_once', {}, [
    step('mutex_lock', { op: 'mutex_lock', lock: 'lock' }),
    step('n = 1', { op: 'let', local: 'id', to: 1 }),
    step('o = xa_load', { op: 'xa_load', space: 'objs', id: 'id', into: 'o' }),
    step('if (o) return -EEXIST', { op: 'if_set', ptr: 'o', errno: '-EEXIST' }, { fail: 'out' }),
    step('o = kzalloc', { op: 'alloc', kind: 'obj', into: 'o' }),
    step('o->owner = current->mm', { op: 'set_link', ptr: 'o', field: 'owner', to: 'mm' }),
    step('xa_store', { op: 'xa_store', space: 'objs', id: 'id', ptr: 'o' }),
    label('out'),
    step('mutex_unlock', { op: 'mutex_unlock', lock: 'lock' }),
    ret('errno'),
  ]);

  it('fails when the local is set', () => {
    const { sys } = system({ create_once: twice });
    const { replies } = run(sys, [...Array.from({ length: 8 }, () => t(0, 'create_once')), t(1, 'create_once'), t(1, 'create_once'), t(1, 'create_once'), t(1, 'create_once'), t(1, 'create_once')]);
    expect(replies.slice(8).map((r) => r.text)).toEqual(['locked', '1', 'obj 1#1', '-EEXIST', 'unlocked; returns -EEXIST']);
  });

  it('finds type confusion: what a lookup found used as the kind the caller expects (like its own)', async () => {
    const domainAt2: KitSpec['setup'] = call('boot', {}, [
      step('mm1', { op: 'alloc', kind: 'mm', into: 'm' }),
      step('n = 1', { op: 'let', local: 'n', to: 1 }),
      step('mms[1] = mm', { op: 'xa_store', space: 'mms', id: 'n', ptr: 'm' }),
      step('aux domain', { op: 'alloc', kind: 'domain', into: 'm' }),
      step('n = 2', { op: 'let', local: 'n', to: 2 }),
      step('mms[2] = domain', { op: 'xa_store', space: 'mms', id: 'n', ptr: 'm' }),
    ]);
    const use = call('use_owner', { id: 'objs' }, [
      step('mutex_lock', { op: 'mutex_lock', lock: 'lock' }),
      step('o = xa_load', { op: 'xa_load', space: 'objs', id: 'id', into: 'o' }),
      step('if (!o)', { op: 'if_null', ptr: 'o', errno: '-ENOENT' }, { fail: 'out' }),
      step('p = o->owner', { op: 'get_link', ptr: 'o', field: 'owner', into: 'p' }),
      step('use(p) as my own type', { op: 'use', ptr: 'p', like: 'mm' }),
      label('out'),
      step('mutex_unlock', { op: 'mutex_unlock', lock: 'lock' }),
      ret('errno'),
    ]);
    const { model } = system({ create, use_owner: use }, { setup: domainAt2 });
    const r = await checkVariant(model.variants[0]!, { bounds: model.defaults, runs: 0, seed: 42, properties: ['no-type-confusion'], exhaustive: {} });
    expect(r.verdicts[0]!.actual).toBe('violated');
    expect(r.verdicts[0]!.counterexample!.violation.message).toMatch(/type confusion: CPU\d use\(p\) as my own type: p \((mm|domain) 1#1\) used as (domain|mm)/);
  });
});

describe('a reference dropped by id for the caller (of)', () => {
  const take = call('take', { id: 'objs' }, [
    step('mutex_lock', { op: 'mutex_lock', lock: 'lock' }),
    step('o = xa_load', { op: 'xa_load', space: 'objs', id: 'id', into: 'o' }),
    step('refcount_inc', { op: 'refcount', call: 'refcount_inc', ptr: 'o', field: 'ref' }),
    step('mutex_unlock', { op: 'mutex_unlock', lock: 'lock' }),
    // put(id): another lookup of the same id drops the reference `o` holds.
    step('mutex_lock', { op: 'mutex_lock', lock: 'lock' }),
    step('q = xa_load', { op: 'xa_load', space: 'objs', id: 'id', into: 'q' }),
    step('refcount_dec(&q->ref)', { op: 'refcount', call: 'refcount_dec', ptr: 'q', field: 'ref', of: 'o' }),
    step('mutex_unlock', { op: 'mutex_unlock', lock: 'lock' }),
    ret(0),
  ]);

  it("moves the reference off the caller's pointer: the counts still match their holders", async () => {
    const { model } = system({ create, take });
    const r = await checkVariant(model.variants[0]!, { bounds: { threads: 1, ops: 2, ids: { min: 1, max: 2 } }, runs: 0, seed: 42, properties: ['refcount-matches-holders', 'no-use-after-protection'], exhaustive: {} });
    expect(r.verdicts.map((v) => v.actual)).toEqual(['holds', 'holds']);
  });

  it("is a finding when the caller's pointer holds none", () => {
    const wrong = call('wrong', { id: 'objs' }, [
      step('mutex_lock', { op: 'mutex_lock', lock: 'lock' }),
      step('o = xa_load', { op: 'xa_load', space: 'objs', id: 'id', into: 'o' }),
      step('q = xa_load', { op: 'xa_load', space: 'objs', id: 'id', into: 'q' }),
      step('refcount_dec(&q->ref)', { op: 'refcount', call: 'refcount_dec', ptr: 'q', field: 'ref', of: 'o' }),
      step('mutex_unlock', { op: 'mutex_unlock', lock: 'lock' }),
      ret(0),
    ]);
    const { sys } = system({ create, wrong });
    const { replies } = run(sys, [...Array.from({ length: 5 }, () => t(0, 'create')), t(0, 'wrong', 1), t(0, 'wrong'), t(0, 'wrong'), t(0, 'wrong')]);
    expect(replies[8]!.warnings).toContain('lifecheck: CPU0 refcount_dec(&q->ref): drops a reference of o on obj 1#1.ref, but o holds none');
  });
});

describe('failures that are no errno, and phases a failed call moved', () => {
  const door = setup({ types: { context: {} as { reply: Reply }, events: {} as { type: 'CLOSE' } }, actions: { reply: assign((_, params: Reply) => ({ reply: params })) } }).createMachine({
    id: 'door',
    initial: 'open',
    context: { reply: { ok: true, text: '' } },
    // Closing with someone inside marks the door closing, and refuses: ioasid_set_free's -EBUSY.
    states: { open: { on: { CLOSE: { target: 'closing', actions: err('-EBUSY') } } }, closing: { on: { CLOSE: { actions: ok('closing') } } } },
  });
  const close = call('close', { id: 'objs' }, atomic('close(id)', [
    step('mutex_lock', { op: 'mutex_lock', lock: 'lock' }),
    step('o = xa_load', { op: 'xa_load', space: 'objs', id: 'id', into: 'o' }),
    step('if (!o) return INVALID', { op: 'if_null', ptr: 'o', errno: 'INVALID' }, { fail: 'out' }),
    step('close(o)', { op: 'send', ptr: 'o', event: 'CLOSE' }, { fail: 'out' }),
    label('out'),
    step('mutex_unlock', { op: 'mutex_unlock', lock: 'lock' }),
    ret('errno'),
  ]));
  const kinds = { ...base.kinds, obj: { ...base.kinds.obj!, machine: door } };

  it('fails with the word a step failed with, and says what phase a failed call left changed', () => {
    const { sys } = system({ create, close }, { kinds });
    const { replies } = run(sys, [t(0, 'close', 1), ...Array.from({ length: 5 }, () => t(0, 'create')), t(1, 'close', 1)]);
    expect(replies[0]).toEqual({ ok: false, text: 'INVALID; returns INVALID' });
    expect(replies.at(-1)).toEqual({ ok: false, text: '-EBUSY; returns -EBUSY', warnings: ['close returned -EBUSY but left changed: obj 1.phase open → closing'] });
  });
});

describe('an id space of its own range (a host PASID space wider than the guest)', () => {
  const host: Partial<KitSpec> = {
    spaces: { ...base.spaces, host: { kind: 'mm', ids: ({ ids }) => ({ min: ids.min, max: ids.max * 2 }) } },
  };
  const ask = (range: boolean) =>
    call('ask', {}, [step('id = vcmd_alloc()', { op: 'xa_alloc', space: 'host', ptr: 'mm', into: 'id', ...(range ? { range: 'scenario' as const } : {}) }), ret('errno')]);
  const give = call('give', { id: 'host' }, [step('xa_erase(&host, id)', { op: 'xa_erase', space: 'host', id: 'id', into: 'g' }), ret(0)]);

  it('hands out ids past the scenario’s, unless asked within them (XA_LIMIT(min, max))', () => {
    const wide = system({ ask: ask(false) }, host, 1).sys;
    expect(run(wide, [t(0, 'ask'), t(0, 'ask'), t(0, 'ask')]).replies.map((r) => r.text)).toEqual(['1; returns 0', '2; returns 0', '3; returns 0']);
    const narrow = system({ ask: ask(true) }, host, 1).sys;
    expect(run(narrow, [t(0, 'ask'), t(0, 'ask'), t(0, 'ask')]).replies.map((r) => r.text)).toEqual(['1; returns 0', '2; returns 0', '-EBUSY; returns -EBUSY']);
  });

  it("gives a call's argument every id of its space", () => {
    const { sys } = system({ give }, host, 1);
    expect(sys.enabled(sys.init).map((s) => s.args[0])).toEqual([1, 2, 3, 4]);
  });

  it('inserts at an id (-EBUSY when taken), empties with xa_init, and reports an xa_store over an entry', () => {
    const put = call('put', { id: 'host' }, [
      step('xa_insert(&host, id, mm)', { op: 'xa_insert', space: 'host', id: 'id', ptr: 'mm' }, { fail: 'out' }),
      label('out'),
      ret('errno'),
    ]);
    const over = call('over', { id: 'host' }, [step('xa_store(&host, id, mm)', { op: 'xa_store', space: 'host', id: 'id', ptr: 'mm' }), ret(0)]);
    const wipe = call('wipe', {}, [step('xa_init(&host)', { op: 'xa_init', space: 'host' }), ret(0)]);
    const { sys } = system({ put, over, wipe }, host, 1);
    const { replies, world } = run(sys, [t(0, 'put', 3), t(0, 'put', 3), t(0, 'over', 3)]);
    expect(replies.map((r) => r.text)).toEqual(['stored; returns 0', '-EBUSY; returns -EBUSY', 'stored; returns 0']);
    expect(replies[2]!.warnings).toEqual(['xa_store over an entry: CPU0 xa_store(&host, id, mm): host 3 held mm 1#1, now lost to it']);
    expect(world.spaces.host!.filter((e) => e !== null)).toHaveLength(1);
    const wiped = sys.apply(world, t(0, 'wipe')).world;
    expect(wiped.spaces.host).toEqual([null, null, null, null]);
  });
});
