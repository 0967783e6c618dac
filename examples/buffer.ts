/**
 * A refcounted buffer that devices attach to, as a driver would write it:
 * buffers live in an xarray that holds a reference on each; an attachment
 * holds one more, so that destroying the buffer's id while it is attached
 * leaves it alive until the last detach puts it.
 *
 *   lifecheck check examples/buffer.ts --variant attach-forgets-ref --exhaustive
 *
 * finds the patch that forgets the attachment's reference: the attachment
 * counts a reference nobody took, and the last put frees the buffer while it
 * is still attached.
 */
import { call, defineKitModel, label, ret, step, without, type KitSpec } from 'lifecheck';

const lock = { op: 'mutex_lock', lock: 'bufs_lock' } as const;
const unlock = { op: 'mutex_unlock', lock: 'bufs_lock' } as const;

/** The buffer as merged: every call as its C function would read. */
export const buffers: KitSpec = {
  kinds: {
    // struct buf { refcount_t ref; unsigned int attached; }: each attachment holds a reference.
    buf: { slots: 3, fields: { ref: { type: 'refcount', max: 8 }, attached: { type: 'counter', max: 6, holds: 'ref' } } },
  },
  // static DEFINE_XARRAY_ALLOC1(bufs): the table holds a reference on each buffer, under bufs_lock.
  spaces: { bufs: { kind: 'buf', holds: 'ref', lock: 'bufs_lock' } },
  locks: ['bufs_lock'],
  calls: {
    buf_create: call('buf_create', {}, [
      step('b = kzalloc(sizeof(*b))', { op: 'alloc', kind: 'buf', into: 'b' }, { fail: 'out' }),
      step('xa_alloc(&bufs, &id, b)', { op: 'xa_alloc', space: 'bufs', ptr: 'b', into: 'id' }, { fail: 'out_free' }),
      ret(0),
      label('out_free'),
      step('kfree(b)', { op: 'kfree', ptr: 'b' }),
      label('out'),
      ret('errno'),
    ]),
    buf_attach: call('buf_attach', { id: 'bufs' }, [
      step('mutex_lock(&bufs_lock)', lock),
      step('b = xa_load(&bufs, id)', { op: 'xa_load', space: 'bufs', id: 'id', into: 'b' }),
      step('if (!b) goto out_unlock', { op: 'if_null', ptr: 'b', errno: '-ENOENT' }, { fail: 'out_unlock' }),
      step('refcount_inc(&b->ref)', { op: 'refcount', call: 'refcount_inc', ptr: 'b', field: 'ref' }),
      step('b->attached++', { op: 'counter', delta: 1, ptr: 'b', field: 'attached' }),
      label('out_unlock'),
      step('mutex_unlock(&bufs_lock)', unlock),
      ret('errno'),
    ]),
    buf_detach: call('buf_detach', { id: 'bufs' }, [
      step('mutex_lock(&bufs_lock)', lock),
      step('b = xa_load(&bufs, id)', { op: 'xa_load', space: 'bufs', id: 'id', into: 'b' }),
      step('if (!b) goto out_unlock', { op: 'if_null', ptr: 'b', errno: '-ENOENT' }, { fail: 'out_unlock' }),
      step('if (!b->attached) goto out_unlock', { op: 'check', ptr: 'b', field: 'attached', is: 'nonzero', errno: '-EINVAL' }, { fail: 'out_unlock' }),
      step('b->attached--', { op: 'counter', delta: -1, ptr: 'b', field: 'attached' }),
      step('mutex_unlock(&bufs_lock)', unlock),
      step('if (refcount_dec_and_test(&b->ref))', { op: 'refcount', call: 'refcount_dec_and_test', ptr: 'b', field: 'ref' }, { zero: 'free' }),
      ret(0),
      label('free'),
      step('kfree(b)', { op: 'kfree', ptr: 'b' }),
      ret(0),
      label('out_unlock'),
      step('mutex_unlock(&bufs_lock)', unlock),
      ret('errno'),
    ]),
    buf_destroy: call('buf_destroy', { id: 'bufs' }, [
      step('mutex_lock(&bufs_lock)', lock),
      step('b = xa_erase(&bufs, id)', { op: 'xa_erase', space: 'bufs', id: 'id', into: 'b' }),
      step('mutex_unlock(&bufs_lock)', unlock),
      step('if (!b) return -ENOENT', { op: 'if_null', ptr: 'b', errno: '-ENOENT' }),
      step('if (refcount_dec_and_test(&b->ref))', { op: 'refcount', call: 'refcount_dec_and_test', ptr: 'b', field: 'ref' }, { zero: 'free' }),
      ret(0),
      label('free'),
      step('kfree(b)', { op: 'kfree', ptr: 'b' }),
      ret(0),
    ]),
  },
};

export default defineKitModel({
  name: 'buffer',
  title: 'a refcounted buffer in an xarray, which devices attach to',
  source: 'examples/buffer.ts',
  // Two CPUs, two calls each: enough for create, attach, destroy and detach to race.
  // A few thousand worlds: every interleaving is checked by default.
  search: 'exhaustive',
  defaults: { threads: 2, ops: 2, ids: { min: 1, max: 2 } },
  variants: (model) => [
    model.variant({ name: 'fixed', title: 'each attachment takes a reference', source: 'examples/buffer.ts', config: buffers, expect: {} }),
    model.variant({
      name: 'attach-forgets-ref',
      title: 'buf_attach counts the attachment without taking its reference',
      source: 'examples/buffer.ts',
      config: { ...buffers, calls: { ...buffers.calls, buf_attach: without(buffers.calls.buf_attach!, 'refcount_inc(&b->ref)') } },
      expect: { 'refcount-matches-holders': 'violated', 'no-use-after-free': 'violated', 'no-underflow': 'violated', 'no-free-while-referenced': 'violated' },
    }),
  ],
});
