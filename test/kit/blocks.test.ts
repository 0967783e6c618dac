/**
 * The kit's pieces for helpers and tables of several kinds, rule by rule on
 * exact step lists: atomic blocks, forward gotos, branches, type switches,
 * references dropped on a table's behalf, erases by object, `ops->destroy`,
 * `WARN_ON`, `refcount_set`/`refcount_dec`, and read locks taken twice.
 */
import { describe, expect, it } from 'vitest';
import { atomic, call, defineKitModel, DefinitionError, jump, label, ret, retId, step, type Action, type KitCall, type KitSpec, type KitWorld, type Step as EngineStep } from 'lifecheck';

const header = { users: { type: 'refcount', max: 4 } } as const;
const kinds: KitSpec['kinds'] = {
  ioas: { slots: 1, fields: { ...header, sem: { type: 'rwsem' } } },
  hwpt: { slots: 1, fields: { ...header, ioas: { type: 'pointer', kind: 'ioas', holds: 'users' } } },
};
const spaces: KitSpec['spaces'] = { objects: { kind: ['ioas', 'hwpt'], holds: 'users', lock: 'xa_lock' } };

function system(calls: Record<string, KitCall>, threads = 2, extra: Partial<KitSpec> = {}) {
  const spec: KitSpec = { kinds, spaces, locks: ['xa_lock'], calls, ...extra };
  const model = defineKitModel({
    name: 'blocks',
    title: 'blocks',
    source: 'test',
    defaults: { threads, ops: 4, ids: { min: 1, max: 2 } },
    variants: (m) => [m.variant({ name: 'v', title: 'v', source: 'test', config: spec, expect: {} })],
  });
  return { sys: model.system(spec, model.defaults), present: model.present, spec };
}

/** Runs the steps in order (each must be enabled): the replies (text and warnings) and the last world. */
function run(sys: ReturnType<typeof system>['sys'], steps: readonly EngineStep[]) {
  let world: KitWorld = sys.init;
  const replies: string[] = [];
  const warnings: string[] = [];
  for (const st of steps) {
    expect(sys.enabled(world), `${st.op} by thread ${st.thread} is enabled`).toContainEqual(st);
    const o = sys.apply(world, st);
    replies.push(o.reply.text);
    warnings.push(...(o.reply.warnings ?? []));
    world = o.world;
  }
  return { replies, warnings, world };
}

const s = (fn: string, action: Action, to?: { fail?: string; zero?: string }) => step(fn, action, to);
const t = (thread: number, op: string, ...args: (number | string)[]): EngineStep => ({ thread, op, args });
const xaLock = s('xa_lock', { op: 'mutex_lock', lock: 'xa_lock' });
const xaUnlock = s('xa_unlock', { op: 'mutex_unlock', lock: 'xa_lock' });
const newIoas = call('new_ioas', {}, [s('kzalloc', { op: 'alloc', kind: 'ioas', into: 'p' }), s('xa_alloc', { op: 'xa_alloc', space: 'objects', ptr: 'p', into: 'id' }), retId('id', 'objects', 0)]);

/** `p = get(id, kind)` as one step: load under the lock, a kind check, a reference, or -ENOENT. */
const get = (kind?: string) =>
  atomic(
    'p = get(id)',
    [
      xaLock,
      s('p = xa_load(&objects, id)', { op: 'xa_load', space: 'objects', id: 'id', into: 'p', ...(kind ? { kind } : {}) }),
      s('if (!p)', { op: 'if_null', ptr: 'p', errno: '-ENOENT' }, { fail: 'unlock' }),
      s('refcount_inc_not_zero(&p->users)', { op: 'refcount', call: 'refcount_inc_not_zero', ptr: 'p', field: 'users' }, { fail: 'unlock' }),
      xaUnlock,
      jump('found'),
      label('unlock'),
      xaUnlock,
      jump('out'),
      label('found'),
    ],
    'p',
  );
const put = s('refcount_dec(&p->users)', { op: 'refcount', call: 'refcount_dec', ptr: 'p', field: 'users' });

describe('atomic blocks', () => {
  const lookup = (kind?: string) => call('lookup', { id: 'objects' }, [...get(kind), put, ret(0), label('out'), ret('errno')]);

  it('run as one step, traced by the block name with the object it returns, or the errno it failed with', () => {
    const { sys, present, spec } = system({ new_ioas: newIoas, lookup: lookup() });
    const { replies, world } = run(sys, [t(0, 'new_ioas'), t(0, 'new_ioas'), t(1, 'lookup', 1), t(1, 'lookup'), t(1, 'lookup', 2)]);
    expect(replies).toEqual(['ioas 1', '1; returns 0 (id 1)', 'ioas 1#1', 'ok; returns 0', '-ENOENT; returns -ENOENT']);
    expect(present.call(t(1, 'lookup', 2), { ok: false, text: '-ENOENT; returns -ENOENT' }, world, spec)).toBe('lookup(2): p = get(id) = -ENOENT; returns -ENOENT');
    // The lock taken and released inside the block is free between steps.
    expect(world.locks.xa_lock).toBe(-1);
  });

  it('wait where a step of theirs must (a lock held by a thread outside the block)', () => {
    const hold = call('hold', {}, [xaLock, s('use', { op: 'fallible', errno: '-EIO' }), xaUnlock]);
    const { sys } = system({ new_ioas: newIoas, hold, lookup: lookup() });
    const { world } = run(sys, [t(0, 'new_ioas'), t(0, 'new_ioas'), t(0, 'hold')]);
    expect(sys.enabled(world).filter((e) => e.thread === 1 && e.op === 'lookup')).toEqual([]);
  });

  it('read an entry of another kind in a table of several as NULL when asked for one kind', () => {
    const { sys } = system({ new_ioas: newIoas, lookup: lookup('hwpt') });
    expect(run(sys, [t(0, 'new_ioas'), t(0, 'new_ioas'), t(1, 'lookup', 1)]).replies.at(-1)).toBe('-ENOENT; returns -ENOENT');
  });
});

describe('control flow', () => {
  it('refuses a jump back except to an xa_find (a loop over a table), so every run ends', () => {
    expect(() => call('loop', {}, [label('again'), s('x', { op: 'fallible', errno: '-EIO' }), jump('again')])).toThrow(DefinitionError);
    expect(() => call('loop', {}, [label('again'), s('x', { op: 'fallible', errno: '-EIO' }), jump('again')])).toThrow(
      /'again' is behind the step that jumps to it; a call jumps back only to an xa_find/,
    );
  });

  it('loops over a table with xa_find and a jump back (xa_for_each), each entry once, skipping reservations', () => {
    const reserve = call('reserve', {}, [s('xa_alloc(XA_ZERO_ENTRY)', { op: 'xa_alloc', space: 'objects', into: 'id' }), ret(0)]);
    const count = call('count', {}, [
      s('p = xa_find(&objects, &index)', { op: 'xa_find', space: 'objects', id: 'index', into: 'p' }, { fail: 'none' }),
      jump('body'),
      label('next'),
      s('p = xa_find_after(&objects, &index)', { op: 'xa_find', space: 'objects', id: 'index', into: 'p', after: true }, { fail: 'done' }),
      label('body'),
      s('seen = 1', { op: 'let', local: 'seen', to: 1 }),
      jump('next'),
      label('done'),
      ret(1),
      label('none'),
      ret(0),
    ]);
    const { sys } = system({ new_ioas: newIoas, reserve, count });
    const { replies } = run(sys, [t(0, 'reserve'), t(0, 'new_ioas'), t(0, 'new_ioas'), t(1, 'count'), t(1, 'count'), t(1, 'count')]);
    // Id 1 is reserved: the loop finds ioas 1 at id 2, then nothing after it.
    expect(replies.slice(3)).toEqual(['ioas 1#1', '1', 'NULL; returns 1']);
  });

  it('branches on a type switch or a check without an errno, and fails with one', () => {
    const sw = call('sw', { id: 'objects' }, [
      ...get(),
      s('case IOAS:', { op: 'is_kind', ptr: 'p', kind: 'ioas' }, { fail: 'not_ioas' }),
      put,
      ret(1),
      label('not_ioas'),
      s('case HWPT:', { op: 'is_kind', ptr: 'p', kind: 'hwpt', errno: '-EINVAL' }, { fail: 'put' }),
      put,
      ret(2),
      label('put'),
      put,
      label('out'),
      ret('errno'),
    ]);
    const { sys } = system({ new_ioas: newIoas, sw });
    const { replies } = run(sys, [t(0, 'new_ioas'), t(0, 'new_ioas'), t(1, 'sw', 1), t(1, 'sw'), t(1, 'sw')]);
    expect(replies.slice(2)).toEqual(['ioas 1#1', 'ioas', 'ok; returns 1']);
  });

  it('needs a label for a branch: a check without an errno and without fail is refused', () => {
    const bad = call('bad', { id: 'objects' }, [...get(), s('if (!p->users)', { op: 'check', ptr: 'p', field: 'users', is: 'nonzero' }), put, label('out'), ret(0)]);
    expect(() => system({ bad })).toThrow(/a check without an errno is a branch, and needs a label to go to: give it \{ fail: 'label' \}/);
  });
});

describe("references a table's entry holds", () => {
  // Remove: the caller's reference, then the table's under its lock, then the erase by object, then the free.
  const remove = call('remove', { id: 'objects' }, [
    ...get(),
    ...atomic('remove under xa_lock', [
      xaLock,
      put,
      s('if (!refcount_dec_if_one(&p->users))', { op: 'refcount', call: 'refcount_dec_if_one', ptr: 'p', field: 'users', for: 'objects' }, { fail: 'busy' }),
      s('__xa_erase(&objects, p->id)', { op: 'xa_erase', space: 'objects', ptr: 'p' }),
      xaUnlock,
      jump('free'),
      label('busy'),
      s('refcount_set(&p->users, 1)', { op: 'refcount', call: 'refcount_set', ptr: 'p', field: 'users', for: 'objects' }),
      xaUnlock,
      jump('out'),
      label('free'),
    ]),
    s('kfree(p)', { op: 'kfree', ptr: 'p' }),
    ret(0),
    label('out'),
    ret('errno'),
  ]);

  it('are dropped on its behalf, erased with nothing handed over, and the dropper owns the object', () => {
    const { sys } = system({ new_ioas: newIoas, remove });
    const { replies, warnings, world } = run(sys, [t(0, 'new_ioas'), t(0, 'new_ioas'), t(1, 'remove', 1), t(1, 'remove'), t(1, 'remove')]);
    expect(replies.slice(2)).toEqual(['ioas 1#1', 'ok', 'freed; returns 0']);
    expect(warnings).toEqual([]);
    expect(world.spaces.objects).toEqual([null, null]);
    expect(world.objects.ioas![0]!.state).toBe('free');
  });

  it("say so when a thread drops a reference the table's entry does not hold", () => {
    const twice = call('twice', { id: 'objects' }, [
      ...get(),
      s('refcount_dec(&p->users)', { op: 'refcount', call: 'refcount_dec', ptr: 'p', field: 'users', for: 'objects' }),
      s('refcount_dec(&p->users)', { op: 'refcount', call: 'refcount_dec', ptr: 'p', field: 'users', for: 'objects' }),
      label('out'),
      ret(0),
    ]);
    const { sys } = system({ new_ioas: newIoas, twice });
    const { warnings } = run(sys, [t(0, 'new_ioas'), t(0, 'new_ioas'), t(1, 'twice', 1), t(1, 'twice'), t(1, 'twice')]);
    expect(warnings).toContain("lifecheck: CPU1 refcount_dec(&p->users): p (ioas 1#1): drops objects's reference on users, which no entry of objects holds");
  });
});

describe('a refusal that is a branch', () => {
  it("(errno: null) goes to its label and leaves the call's errno alone: the loop's `continue` does not make the call fail", () => {
    const sweep = call('sweep', {}, [
      s('p = xa_find(&objects, &index)', { op: 'xa_find', space: 'objects', id: 'index', into: 'p' }, { fail: 'done' }),
      jump('body'),
      label('next'),
      s('p = xa_find_after(&objects, &index)', { op: 'xa_find', space: 'objects', id: 'index', into: 'p', after: true }, { fail: 'done' }),
      label('body'),
      s('if (!refcount_dec_if_one(&p->users)) continue', { op: 'refcount', call: 'refcount_dec_if_one', ptr: 'p', field: 'users', for: 'objects', errno: null }, { fail: 'next' }),
      jump('next'),
      label('done'),
      ret('errno'),
    ]);
    const { sys } = system({ new_ioas: newIoas, lookup: call('lookup', { id: 'objects' }, [...get(), ret(0), label('out'), ret('errno')]), sweep });
    // CPU0 holds a reference on ioas 1, so the sweep's dec_if_one is refused, and the sweep still returns 0.
    const { replies } = run(sys, [t(0, 'new_ioas'), t(0, 'new_ioas'), t(0, 'lookup', 1), t(1, 'sweep'), t(1, 'sweep'), t(1, 'sweep')]);
    expect(replies.slice(3)).toEqual(['ioas 1#1', 'false', 'NULL; returns 0']);
  });
});

describe('ops->destroy, WARN_ON and refcount_dec', () => {
  it('puts the references the pointer fields hold, and a refcount_dec that drops the last one warns', () => {
    const mk = call('mk', { id: 'objects' }, [
      ...get('ioas'),
      s('kzalloc', { op: 'alloc', kind: 'hwpt', into: 'h' }),
      s('refcount_inc(&p->users)', { op: 'refcount', call: 'refcount_inc', ptr: 'p', field: 'users' }),
      s('h->ioas = p', { op: 'set_link', ptr: 'h', field: 'ioas', to: 'p' }),
      put,
      s('ops->destroy(h)', { op: 'put_links', ptr: 'h' }),
      s('kfree(h)', { op: 'kfree', ptr: 'h' }),
      s('WARN_ON(1)', { op: 'warn' }),
      label('out'),
      ret(0),
    ]);
    const { sys } = system({ new_ioas: newIoas, mk });
    const steps = [t(0, 'new_ioas'), t(0, 'new_ioas'), t(1, 'mk', 1), ...Array.from({ length: 7 }, () => t(1, 'mk'))];
    const { replies, warnings, world } = run(sys, steps);
    expect(replies.at(-3)).toBe('ioas 1.users 1');
    expect(world.objects.ioas![0]!.fields.users).toBe(1);
    expect(warnings).toEqual(['WARNING: at mk (CPU1): WARN_ON(1)']);
  });
});

describe('read locks', () => {
  it('taken twice by one thread (two lookups of one object) are released once per up_read', () => {
    const both = call('both', {}, [
      s('kzalloc', { op: 'alloc', kind: 'ioas', into: 'p' }),
      s('down_read(&p->sem)', { op: 'down_read', sem: 'sem', ptr: 'p' }),
      s('down_read(&p->sem)', { op: 'down_read', sem: 'sem', ptr: 'p' }),
      s('up_read(&p->sem)', { op: 'up_read', sem: 'sem', ptr: 'p' }),
      s('up_read(&p->sem)', { op: 'up_read', sem: 'sem', ptr: 'p' }),
      s('kfree(p)', { op: 'kfree', ptr: 'p' }),
    ]);
    const { sys } = system({ both });
    const { warnings, world } = run(sys, [t(0, 'both'), ...Array.from({ length: 5 }, () => t(0, 'both'))]);
    expect(warnings).toEqual([]);
    expect(world.rwsems['ioas 1.sem']!.readers).toEqual([]);
  });
});

describe('setup: what exists before the scenario', () => {
  it('runs its call alone to its end before any step, and counts as no call of CPU0', () => {
    const { sys } = system({ new_ioas: newIoas }, 2, { setup: newIoas });
    expect(sys.init.spaces.objects).toEqual([{ kind: 'ioas', slot: 0, gen: 1 }, null]);
    expect(sys.init.threads.map((th, t) => [th.call, sys.init.calls[t]])).toEqual([[null, 0], [null, 0]]);
  });

  it("is the model's error when a step of it fails, warns or waits", () => {
    const failing = call('failing', {}, [s('copy_from_user', { op: 'error', errno: '-EFAULT' })]);
    expect(() => system({ new_ioas: newIoas }, 2, { setup: failing })).toThrow(
      "setup 'failing', step 'copy_from_user': fails (-EFAULT; returns -EFAULT); the setup must run alone to its end, cleanly",
    );
  });
});

describe('a counter that holds references', () => {
  it('must hold them on a refcount of its own kind', () => {
    const bad: KitSpec['kinds'] = { ...kinds, ioas: { slots: 1, fields: { ...header, attached: { type: 'counter', max: 2, holds: 'refs' } } } };
    expect(() => defineKitModel({ name: 'c', title: 'c', source: 'test', defaults: { threads: 1, ops: 1, ids: { min: 1, max: 1 } }, variants: (m) => [m.variant({ name: 'v', title: 'v', source: 'test', config: { kinds: bad, spaces, locks: ['xa_lock'], calls: { new_ioas: newIoas } }, expect: {} })] }).system({ kinds: bad, spaces, locks: ['xa_lock'], calls: { new_ioas: newIoas } }, { threads: 1, ops: 1, ids: { min: 1, max: 1 } })).toThrow(
      "field 'ioas.attached' holds 'refs', which is not a refcount of kind 'ioas'; declare it { type: 'refcount' }",
    );
  });
});
