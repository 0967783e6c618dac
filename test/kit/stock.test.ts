/**
 * Every stock property of the kit on tiny purpose-built models, written as a
 * user would: one that breaks it, one that keeps it, each proved by the
 * exhaustive search (the models are a handful of states).
 */
import { describe, expect, it } from 'vitest';
import { call, checkVariant, defineKitModel, label, ret, retId, step, type Action, type Item, type KitCall, type KitSpec } from 'lifecheck';

const buf = { slots: 2, fields: { ref: { type: 'refcount', max: 4 } } } as const;
const base: KitSpec = { kinds: { buf }, spaces: { bufs: { kind: 'buf', holds: 'ref', lock: 'lock' } }, locks: ['lock', 'other'], calls: {} };

/** A model whose one variant is `spec` with these calls, run by `threads` threads making one call each. */
function tiny(calls: Record<string, readonly Item[] | KitCall>, threads = 1, extra: Partial<KitSpec> = {}, ops = 1) {
  const made = Object.entries(calls).map(([n, c]) => [n, 'items' in c ? c : call(n, {}, c)]);
  const spec: KitSpec = { ...base, ...extra, calls: Object.fromEntries(made) };
  return defineKitModel({
    name: 'tiny',
    title: 'tiny',
    source: 'test',
    defaults: { threads, ops, ids: { min: 1, max: 1 } },
    variants: (m) => [m.variant({ name: 'v', title: 'v', source: 'test', config: spec, expect: {} })],
  }).variants[0]!;
}

async function verdictOf(variant: ReturnType<typeof tiny>, property: string) {
  const r = await checkVariant(variant, { bounds: variant.model.defaults, runs: 0, seed: 42, properties: [property], exhaustive: {} });
  expect(r.complete).toBe(true);
  const v = r.verdicts[0]!;
  return { actual: v.actual, message: v.counterexample?.violation.message };
}

const s = (fn: string, action: Action, to?: { fail?: string; zero?: string }) => step(fn, action, to);
const alloc = s('b = kzalloc()', { op: 'alloc', kind: 'buf', into: 'b' });
const kfree = s('kfree(b)', { op: 'kfree', ptr: 'b' });
const use = s('b->len', { op: 'use', ptr: 'b' });
const get = s('refcount_inc(&b->ref)', { op: 'refcount', call: 'refcount_inc', ptr: 'b', field: 'ref' });
const put = (zero?: string) => s('refcount_dec_and_test(&b->ref)', { op: 'refcount', call: 'refcount_dec_and_test', ptr: 'b', field: 'ref' }, zero ? { zero } : {});
const lock = (name = 'lock') => s(`mutex_lock(&${name})`, { op: 'mutex_lock', lock: name });
const unlock = (name = 'lock') => s(`mutex_unlock(&${name})`, { op: 'mutex_unlock', lock: name });
const publish = s('xa_alloc(&bufs, &id, b)', { op: 'xa_alloc', space: 'bufs', ptr: 'b', into: 'id' });
const find = s('b = xa_load(&bufs, id)', { op: 'xa_load', space: 'bufs', id: 'id', into: 'b' });
const erase = s('b = xa_erase(&bufs, id)', { op: 'xa_erase', space: 'bufs', id: 'id', into: 'b' });
const ifNull = s('if (!b) goto out', { op: 'if_null', ptr: 'b', errno: '-ENOENT' }, { fail: 'out' });
const rcuLock = s('rcu_read_lock()', { op: 'rcu_read_lock' });
const rcuUnlock = s('rcu_read_unlock()', { op: 'rcu_read_unlock' });

const cases: [property: string, breaks: ReturnType<typeof tiny>, message: RegExp, keeps: ReturnType<typeof tiny>][] = [
  [
    'no-use-after-free',
    tiny({ f: [alloc, kfree, use] }),
    /^BUG: KASAN: slab-use-after-free: CPU0 b->len: b \(buf 1#1\) after kfree$/,
    tiny({ f: [alloc, use, kfree] }),
  ],
  [
    'no-use-after-protection',
    tiny({
      create: [alloc, publish],
      peek: call('peek', { id: 'bufs' }, [rcuLock, find, ifNull, rcuUnlock, use, ret(0), label('out'), rcuUnlock, ret('errno')]),
    }, 2),
    /^lifecheck: CPU\d b->len: b \(buf 1#1\) after rcu_read_unlock\(\)$/,
    tiny({ create: [alloc, publish], peek: call('peek', { id: 'bufs' }, [rcuLock, find, ifNull, use, label('out'), rcuUnlock, ret('errno')]) }, 2),
  ],
  [
    'no-null-deref',
    tiny({ peek: call('peek', { id: 'bufs' }, [lock(), find, use, unlock()]) }),
    /^BUG: kernel NULL pointer dereference: CPU0 b->len: b is NULL$/,
    tiny({ peek: call('peek', { id: 'bufs' }, [lock(), find, ifNull, use, label('out'), unlock(), ret('errno')]) }),
  ],
  [
    'no-ref-from-zero',
    tiny({ f: [alloc, put(), get, kfree] }),
    /^refcount_t: addition on 0; use-after-free\. CPU0 refcount_inc on buf 1 whose ref is 0$/,
    tiny({ f: [alloc, get, put(), put('free'), ret(0), label('free'), kfree] }),
  ],
  [
    'no-underflow',
    tiny({ f: [alloc, put(), put(), kfree] }),
    /^refcount_t: underflow; use-after-free\. CPU0 refcount_dec_and_test on buf 1 whose ref is 0$/,
    tiny({ f: [alloc, put('free'), ret(0), label('free'), kfree] }),
  ],
  ['locks-released', tiny({ f: [lock(), alloc, kfree] }), /^WARNING: lock held when returning to user space! CPU0 returns from f holding lock$/, tiny({ f: [lock(), alloc, kfree, unlock()] })],
  [
    'failed-call-changes-nothing',
    tiny({ f: [alloc, s('copy_to_user()', { op: 'fallible', errno: '-EFAULT' }), publish] }),
    /^f returned -EFAULT but left changed: buf 1 \+1$/,
    tiny({ f: [alloc, s('copy_to_user()', { op: 'fallible', errno: '-EFAULT' }, { fail: 'out_free' }), publish, ret(0), label('out_free'), kfree, ret('errno')] }),
  ],
  [
    'refcount-matches-holders',
    tiny({ f: [alloc, publish, lock(), find, get, unlock()] }),
    /^buf 1#1: ref is 2, but 1 hold a reference \(bufs\[0\]\)$/,
    tiny({ f: [alloc, publish, lock(), find, get, unlock(), put()] }),
  ],
  [
    'no-deadlock',
    tiny({ ab: [lock('lock'), lock('other'), unlock('other'), unlock('lock')], ba: [lock('other'), lock('lock'), unlock('lock'), unlock('other')] }, 2),
    /^CPU\d waits for ever in (ab|ba): mutex_lock\(&\w+\), held by CPU\d$/,
    tiny({ ab: [lock('lock'), lock('other'), unlock('other'), unlock('lock')], ba: [lock('lock'), lock('other'), unlock('other'), unlock('lock')] }, 2),
  ],
  [
    'lock-order',
    // One thread suffices: lockdep remembers the order of each call, and the two calls disagree.
    tiny({ ab: [lock('lock'), lock('other'), unlock('other'), unlock('lock')], ba: [lock('other'), lock('lock'), unlock('lock'), unlock('other')] }, 1, {}, 2),
    /^WARNING: possible circular locking dependency detected: CPU0 takes (lock|other) while holding (other|lock), and (lock|other) while holding (other|lock) was taken before$/,
    tiny({ ab: [lock('lock'), lock('other'), unlock('other'), unlock('lock')], ba: [lock('lock'), lock('other'), unlock('other'), unlock('lock')] }, 1, {}, 2),
  ],
  [
    'no-type-confusion',
    // A buffer taken for a page (`struct page *p = b`): container_of on the wrong type.
    tiny({ f: [alloc, s('p = (struct page *)b', { op: 'use', ptr: 'b', as: 'page' })] }, 1, { kinds: { buf, page: { slots: 1, fields: {} } } }),
    /^type confusion: CPU0 p = \(struct page \*\)b: b \(buf 1#1\) used as page$/,
    tiny({ f: [alloc, s('b->len', { op: 'use', ptr: 'b', as: 'buf' })] }, 1, { kinds: { buf, page: { slots: 1, fields: {} } } }),
  ],
  [
    'no-overwritten-entry',
    // A second buffer stored over the first's id: the table's reference on the first is lost.
    tiny({ f: [alloc, publish, s('c = kzalloc()', { op: 'alloc', kind: 'buf', into: 'c' }), s('xa_store(&bufs, id, c)', { op: 'xa_store', space: 'bufs', id: 'id', ptr: 'c' })] }),
    /^xa_store over an entry: CPU0 xa_store\(&bufs, id, c\): bufs 1 held buf 1#1, now lost to it$/,
    tiny({ f: [alloc, publish] }),
  ],
  ['nothing-leaked', tiny({ f: [alloc] }), /^unreferenced object buf 1#1 is never freed \(ref=1\)$/, tiny({ f: [alloc, publish] })],
  [
    'no-stale-id',
    // CPU0 keeps the id create returned; CPU1 destroys it and creates another under the same id; CPU0 then acts on it.
    tiny({ create: [alloc, publish, retId('id', 'bufs')], destroy: call('destroy', { id: 'bufs' }, [lock(), erase, unlock(), put('free'), ret(0), label('free'), kfree]), use: call('use', { id: 'bufs' }, [lock(), find, unlock()]) }, 2, {}, 3),
    /^stale id: CPU\d (use|destroy)\(1\) acts on a stale id: bufs 1 was buf \d#1 when CPU\d got it, and is now buf \d#\d$/,
    tiny({ create: [alloc, publish, retId('id', 'bufs')], use: call('use', { id: 'bufs' }, [lock(), find, unlock()]) }, 2, {}, 3),
  ],
  [
    'no-warn',
    tiny({ f: [alloc, publish, s('WARN_ON(1)', { op: 'warn' })] }),
    /^WARNING: at f \(CPU0\): WARN_ON\(1\)$/,
    // WARN_ON(p) on a NULL p is silent.
    tiny({ peek: call('peek', { id: 'bufs' }, [lock(), find, s('WARN_ON(b)', { op: 'warn', ptr: 'b' }), unlock()]) }),
  ],
  [
    'no-free-while-referenced',
    // The table still holds its reference when f frees the buffer behind its back.
    tiny({ f: [alloc, get, publish, kfree] }),
    /^CPU0 frees buf 1#1 while bufs\[0\] still holds a reference on its ref$/,
    tiny({ f: [alloc, publish, lock(), erase, unlock(), put('free'), ret(0), label('free'), kfree] }),
  ],
  [
    'no-spurious-timeout',
    // A reference taken and never put: a bounded wait for the count to drain times out with nobody to wait for.
    tiny({
      f: [
        alloc,
        publish,
        lock(),
        find,
        get,
        unlock(),
        s('refcount_dec(&b->ref)', { op: 'refcount', call: 'refcount_dec', ptr: 'b', field: 'ref', for: 'bufs' }),
        s('wait_event_timeout(wq, !refcount_read(&b->ref), HZ)', { op: 'wait', ptr: 'b', field: 'ref', until: 'zero', timeout: '-ETIMEDOUT' }, { fail: 'out' }),
        label('out'),
        ret(0),
      ],
    }, 1, { off: ['refcount-matches-holders'] }),
    /^CPU0 times out waiting for buf 1#1\.ref to reach 0, but nobody else holds a reference on it \(it is 1: a reference leaked\)$/,
    // The same wait while another thread really holds a reference may time out.
    tiny({
      f: [alloc, publish, ret(0)],
      hold: call('hold', { id: 'bufs' }, [lock(), find, ifNull, get, unlock(), put(), ret(0), label('out'), unlock(), ret('errno')]),
      drain: call('drain', { id: 'bufs' }, [
        lock(),
        find,
        ifNull,
        unlock(),
        s('wait_event_timeout(wq, refcount_read(&b->ref) == 1, HZ)', { op: 'wait', ptr: 'b', field: 'ref', until: 'zero', timeout: '-ETIMEDOUT' }, { fail: 'gone' }),
        label('gone'),
        ret(0),
        label('out'),
        unlock(),
        ret('errno'),
      ]),
    }, 2, { off: ['no-use-after-protection'] }, 2),
  ],
];

describe.each(cases)('%s', (property, breaks, message, keeps) => {
  it('is broken by a tiny model that does it, with the message the kernel would print', async () => {
    const v = await verdictOf(breaks, property);
    expect(v.actual).toBe('violated');
    expect(v.message).toMatch(message);
  });

  it('is kept by the same model done right', async () => {
    expect((await verdictOf(keeps, property)).actual).toBe('holds');
  });
});

describe('turning a stock property off', () => {
  it("makes it not applicable to a design that intends otherwise (`off: ['nothing-leaked']`)", async () => {
    const leaky = tiny({ f: [alloc] }, 1, { off: ['nothing-leaked'] });
    expect((await verdictOf(leaky, 'nothing-leaked')).actual).toBe('n/a');
  });
});
