/**
 * Kernel patterns the kit must judge right, each once misjudged: a failed
 * call that unwinds with put-then-free, a pointer field rolled back, a store
 * into a free id left behind, an object with no count, a lock taken inside an
 * RCU section, a NULL object's lock, a work that waits before anything else,
 * and a chain of works queueing works.
 */
import { describe, expect, it } from 'vitest';
import { call, checkVariant, defineKitModel, label, ret, step, type KitSpec } from 'lifecheck';

const tiny = (spec: KitSpec, ops = 1, ids = 1, threads = 1) =>
  defineKitModel({
    name: 'tiny',
    title: 'tiny',
    source: 'test',
    defaults: { threads, ops, ids: { min: 1, max: ids } },
    variants: (m) => [m.variant({ name: 'v', title: 'v', source: 'test', config: spec, expect: {} })],
  }).variants[0]!;

/** Each property's verdict, exhaustively; and for the random explorer when asked. */
async function verdicts(spec: KitSpec, ops = 1, ids = 1, random = false, threads = 1) {
  const v = tiny(spec, ops, ids, threads);
  const r = await checkVariant(v, { bounds: v.model.defaults, runs: 200, seed: 42, ...(random ? {} : { exhaustive: {} }) });
  return Object.fromEntries(r.verdicts.map((x) => [x.property, x.actual === 'violated' ? x.counterexample!.violation.message : x.actual]));
}

const ref = { type: 'refcount', max: 4 } as const;
const alloc = (into = 'b', kind = 'buf') => step(`${into} = kzalloc`, { op: 'alloc', kind, into });
const kfree = (ptr = 'b') => step(`kfree(${ptr})`, { op: 'kfree', ptr });
const put = step('if (refcount_dec_and_test(&b->ref))', { op: 'refcount', call: 'refcount_dec_and_test', ptr: 'b', field: 'ref' }, { zero: 'free' });

describe('failed-call-changes-nothing', () => {
  it('keeps a call whose error path puts and frees what it allocated', async () => {
    const create = call('create', {}, [alloc(), step('init(b)', { op: 'fallible', errno: '-EINVAL' }, { fail: 'out_put' }), kfree(), ret(0), label('out_put'), put, ret('errno'), label('free'), kfree(), ret('errno')]);
    expect((await verdicts({ kinds: { buf: { slots: 1, fields: { ref } } }, spaces: {}, calls: { create } }))['failed-call-changes-nothing']).toBe('holds');
  });

  it('keeps an error path whose put drops the last reference, after a destroy dropped the other one', async () => {
    const put = (fn: string) => step(fn, { op: 'refcount', call: 'refcount_dec_and_test', ptr: 'b', field: 'ref' }, { zero: 'free' });
    const spec: KitSpec = {
      kinds: { buf: { slots: 1, fields: { ref } } },
      spaces: { bufs: { kind: 'buf', holds: 'ref', lock: 'lock' } },
      locks: ['lock'],
      calls: {
        create: call('create', {}, [alloc(), step('xa_alloc', { op: 'xa_alloc', space: 'bufs', ptr: 'b', into: 'id' })]),
        ioctl: call('ioctl', { id: 'bufs' }, [
          step('mutex_lock', { op: 'mutex_lock', lock: 'lock' }),
          step('b = xa_load', { op: 'xa_load', space: 'bufs', id: 'id', into: 'b' }),
          step('if (!b) goto out_unlock', { op: 'if_null', ptr: 'b', errno: '-ENOENT' }, { fail: 'out_unlock' }),
          step('get(b)', { op: 'refcount', call: 'refcount_inc', ptr: 'b', field: 'ref' }),
          step('mutex_unlock', { op: 'mutex_unlock', lock: 'lock' }),
          step('copy_from_user()', { op: 'fallible', errno: '-EFAULT' }, { fail: 'out_put' }),
          put('put(b)'),
          ret(0),
          label('out_put'),
          put('put(b) (err)'),
          ret('errno'),
          label('free'),
          kfree(),
          ret('errno'),
          label('out_unlock'),
          step('mutex_unlock (err)', { op: 'mutex_unlock', lock: 'lock' }),
          ret('errno'),
        ]),
        destroy: call('destroy', { id: 'bufs' }, [
          step('mutex_lock', { op: 'mutex_lock', lock: 'lock' }),
          step('b = xa_erase', { op: 'xa_erase', space: 'bufs', id: 'id', into: 'b' }),
          step('mutex_unlock', { op: 'mutex_unlock', lock: 'lock' }),
          step('if (!b) return -ENOENT', { op: 'if_null', ptr: 'b', errno: '-ENOENT' }),
          put('put(b)'),
          ret(0),
          label('free'),
          kfree(),
        ]),
      },
    };
    expect((await verdicts(spec, 2, 1, false, 2))['failed-call-changes-nothing']).toBe('holds');
  });

  it('judges a pointer field by its value: a rollback keeps it, a change left behind breaks it', async () => {
    const kinds = { dev: { slots: 2, fields: { ref, parent: { type: 'pointer', kind: 'dev' } } } } as const;
    const setup = call('setup', {}, [alloc('d', 'dev'), alloc('e', 'dev'), step('d->parent = e', { op: 'set_link', ptr: 'd', field: 'parent', to: 'e' }), step('xa_alloc(d)', { op: 'xa_alloc', space: 'devs', ptr: 'd', into: 'id' }), step('xa_alloc(e)', { op: 'xa_alloc', space: 'devs', ptr: 'e', into: 'id2' })]);
    const swap = (undo: boolean) =>
      call('swap', { id: 'devs' }, [
        step('mutex_lock(&g)', { op: 'mutex_lock', lock: 'g' }),
        step('d = xa_load', { op: 'xa_load', space: 'devs', id: 'id', into: 'd' }),
        step('if (!d) goto out', { op: 'if_null', ptr: 'd', errno: '-ENOENT' }, { fail: 'out' }),
        step('old = d->parent', { op: 'get_link', ptr: 'd', field: 'parent', into: 'old' }),
        step('d->parent = d', { op: 'set_link', ptr: 'd', field: 'parent', to: 'd' }),
        step('if (!validate(d)) goto undo', { op: 'fallible', errno: '-EINVAL' }, { fail: 'undo' }),
        step('mutex_unlock(&g)', { op: 'mutex_unlock', lock: 'g' }),
        ret(0),
        label('undo'),
        ...(undo ? [step('d->parent = old', { op: 'set_link', ptr: 'd', field: 'parent', to: 'old' })] : []),
        label('out'),
        step('mutex_unlock(&g)', { op: 'mutex_unlock', lock: 'g' }),
        ret('errno'),
      ]);
    const spec = (undo: boolean): KitSpec => ({ kinds, spaces: { devs: { kind: 'dev', holds: 'ref', lock: 'g' } }, locks: ['g'], calls: { setup, swap: swap(undo) } });
    expect((await verdicts(spec(true), 2, 2))['failed-call-changes-nothing']).toBe('holds');
    expect((await verdicts(spec(false), 2, 2))['failed-call-changes-nothing']).toMatch(/^swap returned -EINVAL but left changed: dev 1->parent dev 2#1 → dev 1#1$/);
  });

  it('counts an xa_store into a free id as a change, and its xa_erase as the undo', async () => {
    const name = (undo: boolean) =>
      call('name', {}, [
        alloc(),
        step('id = 1', { op: 'xa_alloc', space: 'scratch', ptr: 'b', into: 'id' }),
        step('xa_erase(scratch)', { op: 'xa_erase', space: 'scratch', id: 'id', into: 'gone' }),
        step('xa_store(&names, id, b)', { op: 'xa_store', space: 'names', id: 'id', ptr: 'b' }),
        step('register(b)', { op: 'fallible', errno: '-EINVAL' }, { fail: 'undo' }),
        ret(0),
        label('undo'),
        ...(undo ? [step('xa_erase(&names, id)', { op: 'xa_erase', space: 'names', id: 'id', into: 'gone' })] : []),
        ret('errno'),
      ]);
    const spec = (undo: boolean): KitSpec => ({ kinds: { buf: { slots: 1, fields: {} } }, spaces: { scratch: { kind: 'buf' }, names: { kind: 'buf' } }, calls: { name: name(undo) }, off: ['nothing-leaked'] });
    expect((await verdicts(spec(false)))['failed-call-changes-nothing']).toMatch(/but left changed: .*names\[1\] \+1/);
    expect((await verdicts(spec(true)))['failed-call-changes-nothing']).toMatch(/but left changed: buf 1 \+1$/);
  });
});

describe('protection', () => {
  it('lets the creator use an object with no count that it owns', async () => {
    const kinds = { req: { slots: 1, fields: { len: { type: 'counter', max: 2 } } } } as const;
    const f = call('f', {}, [alloc('r', 'req'), step('r->len++', { op: 'counter', delta: 1, ptr: 'r', field: 'len' }), kfree('r')]);
    expect((await verdicts({ kinds, spaces: {}, calls: { f } }))['no-use-after-protection']).toBe('holds');
  });

  it("keeps a pointer's RCU protection when it also takes and drops the object's own lock", async () => {
    const kinds = { buf: { slots: 1, fields: { ref, lock: { type: 'mutex' } } } } as const;
    const create = call('create', {}, [alloc(), step('xa_alloc', { op: 'xa_alloc', space: 'bufs', ptr: 'b', into: 'id' })]);
    const peek = call('peek', { id: 'bufs' }, [
      step('rcu_read_lock()', { op: 'rcu_read_lock' }),
      step('b = xa_load', { op: 'xa_load', space: 'bufs', id: 'id', into: 'b' }),
      step('if (!b) goto out', { op: 'if_null', ptr: 'b', errno: '-ENOENT' }, { fail: 'out' }),
      step('spin_lock(&b->lock)', { op: 'mutex_lock', lock: 'lock', ptr: 'b' }),
      step('spin_unlock(&b->lock)', { op: 'mutex_unlock', lock: 'lock', ptr: 'b' }),
      step('b->len', { op: 'use', ptr: 'b' }),
      label('out'),
      step('rcu_read_unlock()', { op: 'rcu_read_unlock' }),
      ret('errno'),
    ]);
    expect((await verdicts({ kinds, spaces: { bufs: { kind: 'buf', holds: 'ref' } }, calls: { create, peek } }, 2))['no-use-after-protection']).toBe('holds');
  });

  it("oopses on a NULL object's lock instead of waiting or failing the search", async () => {
    const kinds = { dev: { slots: 1, fields: { ref, sem: { type: 'rwsem' } } } } as const;
    const f = call('f', { id: 'devs' }, [step('d = xa_load', { op: 'xa_load', space: 'devs', id: 'id', into: 'd' }), step('down_read(&d->sem)', { op: 'down_read', sem: 'sem', ptr: 'd' })]);
    expect((await verdicts({ kinds, spaces: { devs: { kind: 'dev' } }, calls: { f } }))['no-null-deref']).toBe('BUG: kernel NULL pointer dereference: CPU0 down_read(&d->sem): d is NULL');
  });
});

describe('deferred work', () => {
  const kinds = { buf: { slots: 1, fields: { ref, busy: { type: 'counter', max: 2 } } } } as const;
  const queueIt = call('f', {}, [
    alloc(),
    step('b->busy++', { op: 'counter', delta: 1, ptr: 'b', field: 'busy' }),
    step('refcount_inc(&b->ref)', { op: 'refcount', call: 'refcount_inc', ptr: 'b', field: 'ref' }),
    step('queue_work(&b->w)', { op: 'queue_work', work: 'w', ptr: 'b' }),
    step('xa_alloc(&bufs, &id, b)', { op: 'xa_alloc', space: 'bufs', ptr: 'b', into: 'id' }),
  ]);

  it('waits when a work waits first, and a wait nobody ends is a deadlock', async () => {
    const w = call('w', {}, [step('wait_event(b->busy == 0)', { op: 'wait', ptr: 'b', field: 'busy', until: 'zero' }), put, ret(0), label('free'), kfree()]);
    const found = await verdicts({ kinds, spaces: { bufs: { kind: 'buf', holds: 'ref' } }, calls: { f: queueIt }, works: { w } });
    expect(found['no-deadlock']).toBe('kworker waits for ever in w: wait until buf 1.busy == 0 (it is 1)');
  });

  it('lets a chain of works queueing works run to its end within the horizon', async () => {
    const q = (work: string) => step(`queue_work(${work})`, { op: 'queue_work', work, ptr: 'b' });
    const spec: KitSpec = {
      kinds: { buf: { slots: 1, fields: { ref } } },
      spaces: {},
      calls: { f: call('f', {}, [alloc(), q('a')]) },
      works: { a: call('a', {}, [q('b2')]), b2: call('b2', {}, [q('c')]), c: call('c', {}, [put, ret(0), label('free'), kfree()]) },
    };
    expect((await verdicts(spec, 1, 1, true))['run-ends']).toBe('holds');
    expect((await verdicts(spec))['run-ends']).toBe('holds');
  });
});
