/**
 * Readers inside rcu_read_lock() while a put frees with kfree_rcu: no
 * built-in variant has a thread inside a section between steps, and a step
 * that waits for readers reads their nesting alone (a part of its own).
 */
import { call, defineKitModel, label, ret, step, type Action } from 'lifecheck';

const s = (fn: string, action: Action, to?: { fail?: string; zero?: string }) => step(fn, action, to);
export const rcu = defineKitModel({
  name: 'rcu',
  title: 'readers and kfree_rcu',
  source: 'test',
  defaults: { threads: 3, ops: 2, ids: { min: 1, max: 1 } },
  variants: (m) => [
    m.variant({
      name: 'kfree-rcu',
      title: 'kfree_rcu',
      source: 'test',
      expect: {},
      config: {
        kinds: { buf: { slots: 3, fields: { ref: { type: 'refcount', max: 4 } } } },
        spaces: { bufs: { kind: 'buf', holds: 'ref', lock: 'lock' } },
        locks: ['lock'],
        calls: {
          create: call('create', {}, [s('kzalloc', { op: 'alloc', kind: 'buf', into: 'b' }), s('xa_alloc', { op: 'xa_alloc', space: 'bufs', ptr: 'b', into: 'id' })]),
          destroy: call('destroy', { id: 'bufs' }, [
            s('xa_erase', { op: 'xa_erase', space: 'bufs', id: 'id', into: 'b' }),
            s('put', { op: 'refcount', call: 'refcount_dec_and_test', ptr: 'b', field: 'ref' }, { zero: 'free' }),
            ret(0),
            label('free'),
            s('kfree_rcu', { op: 'kfree', ptr: 'b', rcu: true }),
          ]),
          reader: call('reader', { id: 'bufs' }, [
            s('rcu_read_lock', { op: 'rcu_read_lock' }),
            s('xa_load', { op: 'xa_load', space: 'bufs', id: 'id', into: 'b' }),
            s('use', { op: 'use', ptr: 'b' }),
            s('rcu_read_unlock', { op: 'rcu_read_unlock' }),
          ]),
        },
      },
    }),
  ],
});

