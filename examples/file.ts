/**
 * A file-like object whose last `fput()` does not free it at once: the
 * release runs later, as deferred work (the kernel's `__fput` from task_work
 * or a workqueue). A flush, too, runs later on the kworker, so the work must
 * hold a reference of its own: the file may be closed, and released, before
 * the work runs.
 *
 *   lifecheck check examples/file.ts --variant flush-without-ref --exhaustive
 *
 * finds the patch that queues the flush with a bare pointer: close releases
 * the file, and the flush work then uses it.
 */
import { call, defineKitModel, label, ret, step, without, type KitSpec } from 'lifecheck';

const lock = { op: 'mutex_lock', lock: 'fds_lock' } as const;
const unlock = { op: 'mutex_unlock', lock: 'fds_lock' } as const;
const fput = (fn: string) =>
  step(fn, { op: 'refcount', call: 'refcount_dec_and_test', ptr: 'f', field: 'f_count' }, { zero: 'release' });
const deferRelease = step('queue_work(system_wq, &f->release_work)', { op: 'queue_work', work: 'file_release_work', ptr: 'f' });

export const files: KitSpec = {
  // struct file { atomic_long_t f_count; }: a count only; the fd table holds one reference per fd.
  kinds: { file: { slots: 2, fields: { f_count: { type: 'refcount', max: 6 } } } },
  spaces: { fds: { kind: 'file', holds: 'f_count', lock: 'fds_lock' } },
  locks: ['fds_lock'],
  calls: {
    open: call('open', {}, [
      step('f = alloc_file()', { op: 'alloc', kind: 'file', into: 'f' }, { fail: 'out' }),
      step('fd_install(fd, f)', { op: 'xa_alloc', space: 'fds', ptr: 'f', into: 'fd' }, { fail: 'out_put' }),
      ret(0),
      label('out_put'),
      step('kfree(f)', { op: 'kfree', ptr: 'f' }),
      label('out'),
      ret('errno'),
    ]),
    close: call('close', { fd: 'fds' }, [
      step('spin_lock(&files->file_lock)', lock),
      step('f = pick_file(files, fd)', { op: 'xa_erase', space: 'fds', id: 'fd', into: 'f' }),
      step('spin_unlock(&files->file_lock)', unlock),
      step('if (!f) return -EBADF', { op: 'if_null', ptr: 'f', errno: '-EBADF' }),
      fput('fput(f)'),
      ret(0),
      label('release'),
      deferRelease,
      ret(0),
    ]),
    fsync: call('fsync', { fd: 'fds' }, [
      step('spin_lock(&files->file_lock)', lock),
      step('f = files_lookup_fd_locked(files, fd)', { op: 'xa_load', space: 'fds', id: 'fd', into: 'f' }),
      step('if (!f) goto out_unlock', { op: 'if_null', ptr: 'f', errno: '-EBADF' }, { fail: 'out_unlock' }),
      step('get_file(f)', { op: 'refcount', call: 'refcount_inc', ptr: 'f', field: 'f_count' }),
      step('spin_unlock(&files->file_lock)', unlock),
      // The flush runs later: the reference just taken goes with the work.
      step('queue_work(system_wq, &f->flush_work)', { op: 'queue_work', work: 'file_flush_work', ptr: 'f' }),
      ret(0),
      label('out_unlock'),
      step('spin_unlock(&files->file_lock)', unlock),
      ret('errno'),
    ]),
  },
  works: {
    file_flush_work: call('file_flush_work', {}, [
      step('f->f_op->flush(f)', { op: 'use', ptr: 'f' }),
      fput('fput(f)'),
      ret(0),
      label('release'),
      deferRelease,
      ret(0),
    ]),
    file_release_work: call('file_release_work', {}, [
      step('f->f_op->release(inode, f)', { op: 'use', ptr: 'f' }),
      step('file_free(f)', { op: 'kfree', ptr: 'f' }),
    ]),
  },
};

const flushWithoutRef: KitSpec = {
  ...files,
  calls: { ...files.calls, fsync: without(files.calls.fsync!, 'get_file(f)') },
  works: { ...files.works, file_flush_work: without(files.works!.file_flush_work!, 'fput(f)') },
};

export default defineKitModel({
  name: 'file',
  title: 'a file whose release, and whose flush, run later as deferred work',
  source: 'examples/file.ts',
  // A few thousand worlds: every interleaving is checked by default.
  search: 'exhaustive',
  defaults: { threads: 2, ops: 2, ids: { min: 1, max: 1 } },
  variants: (model) => [
    model.variant({ name: 'fixed', title: 'the flush work holds a reference of its own', source: 'examples/file.ts', config: files, expect: {} }),
    model.variant({
      name: 'flush-without-ref',
      title: 'the flush is queued with a bare pointer (no get_file, no fput in the work)',
      source: 'examples/file.ts',
      config: flushWithoutRef,
      expect: { 'no-use-after-free': 'violated', 'no-use-after-protection': 'violated' },
    }),
  ],
});
