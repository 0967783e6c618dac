/**
 * The iommufd designs of seed 002 and its successors (kernel-semantics A.6),
 * each a kit spec: the object core (v6.2 or v6.7), the calls over it, and
 * the ioctl dispatcher in front, with the verdicts the exhaustive search
 * finds at the default bounds.
 */
import { insert, without, type KitCall, type KitWorld, type Model, type Variant } from 'lifecheck';
import type { IommufdSpec } from './properties.ts';
import { iommufdCalls, iommufdOpen, iommufdRelease, roles } from './calls.ts';
import { kinds, spaces, v62, v67, type Core } from './core.ts';
import { mergedDispatch, postedDispatch } from './dispatch.ts';

/** A design: its object core, and the dispatcher (as merged unless given). */
export function iommufdSpec(core: Core, dispatch = mergedDispatch): IommufdSpec {
  return {
    kinds: kinds(core),
    spaces: spaces(core),
    // xa_lock: the objects xarray's spinlock; dev_set: vfio's vdev->dev_set->lock, around every driver call.
    // file_lock: the process's files->file_lock.
    locks: ['xa_lock', 'dev_set', 'file_lock'],
    // The process opened /dev/iommu before the scenario.
    setup: iommufdOpen(),
    calls: iommufdCalls(core),
    roles: roles(iommufdCalls(core)),
    // The process exits last: its file's release.
    exit: iommufdRelease(),
    // iommufd's WARN_ONs after a wait timed out are the kernel's word on a holder that took 10 s, not a bug of the
    // design; kernel-destroy-completes and finalize-xor-abort say which WARN is one.
    off: ['no-warn'],
    dispatch,
  };
}

/** The call with `iommufd_object_finalize` moved before the step that can still fail ahead of it. */
export function finalizeEarly(c: KitCall): KitCall {
  const steps = c.items.flatMap((i) => ('fn' in i ? [i] : []));
  const fin = steps.find((s) => s.fn.startsWith('iommufd_object_finalize'));
  if (!fin) return c;
  const before = steps.slice(0, steps.indexOf(fin)).filter((s) => s.action.op === 'fallible');
  const last = before[before.length - 1];
  return last ? insert(without(c, fin.fn), { before: last.fn }, fin) : c;
}

/** A design with every creating call finalizing early. */
const finalizingEarly = (spec: IommufdSpec): IommufdSpec => ({
  ...spec,
  calls: Object.fromEntries(Object.entries(spec.calls).map(([name, c]) => [name, finalizeEarly(c)])),
});

const v62Spec = iommufdSpec(v62);

export const iommufdVariants = (model: Model<KitWorld, IommufdSpec>): readonly Variant<IommufdSpec>[] => [
  model.variant({
    name: 'v6.2-rwsem',
    title: 'destroy_rwsem for short-term holders, users for long-term ones, as posted and merged',
    source: 'seed 002; kernel-semantics A.6 (v6.2)',
    config: v62Spec,
    expect: {
      // 99f98a7c0d69 (syzkaller): "Racing IOMMUFD_DESTROY with iommufd_object_destroy_user() will cause spurious
      // failures": IOMMU_DESTROY's users reference, kept by iommufd_ref_to_users, makes unbind's destroy fail.
      'kernel-destroy-completes': 'violated',
    },
  }),
  model.variant({
    name: 'destroy-without-ref-to-users',
    title: 'IOMMU_DESTROY keeps its destroy_rwsem read hold into destroy_user (no iommufd_ref_to_users)',
    source: 'seed 002 (iommufd_destroy: "See iommufd_ref_to_users")',
    config: { ...v62Spec, calls: { ...v62Spec.calls, IOMMU_DESTROY: without(v62Spec.calls.IOMMU_DESTROY!, 'iommufd_ref_to_users(obj)') } },
    // down_write() waits for the caller's own read side: the thread can never move again.
    expect: { 'no-deadlock': 'violated' },
  }),
  model.variant({
    name: 'finalize-before-fail',
    title: 'creation finalizes, then does a step that can still fail and aborts the published object',
    source: 'seed 002 ("only call iommufd_object_finalize() once object creation cannot fail")',
    config: finalizingEarly(v62Spec),
    expect: {
      // The seed's rule broken: an abort of a published object (WARN_ON(old)), whose users another thread may hold.
      'finalize-xor-abort': 'violated',
      // What follows from that abort: the creator's pointer is unprotected once finalize gave its reference to the
      // xarray, the object is freed under a lookup's users reference, and that lookup's later steps touch freed memory
      // (a use after free, a reference taken or dropped on a dead count, a read lock never released, counts and
      // holders out of step, and the ctx reference handed to a freed access leaks the file). With --ops 3 a destroy
      // also waits for ever, locks go out of order, and objects are left after the file's release.
      'no-use-after-protection': 'violated',
      'no-free-while-referenced': 'violated',
      'no-use-after-free': 'violated',
      'no-ref-from-zero': 'violated',
      'no-underflow': 'violated',
      'locks-released': 'violated',
      'failed-call-changes-nothing': 'violated',
      'refcount-matches-holders': 'violated',
      'nothing-leaked': 'violated',
      // v6.2's race of 99f98a7c0d69, as in v6.2-rwsem.
      'kernel-destroy-completes': 'violated',
    },
  }),
  model.variant({
    name: 'v6.7-shortterm',
    title: 'shortterm_users and a wait queue with a bounded wait replace the rwsem; IOMMU_DESTROY takes no reference',
    source: 'kernel-semantics A.6 (v6.7: 6f9c4d8c468c, 99f98a7c0d69)',
    config: iommufdSpec(v67),
    expect: {
      // A kernel destroy's wait times out (an ioctl held the device short-term for 10 s) and, before its
      // "refcount_inc(&to_destroy->shortterm_users)" restores the xarray's bias, the holder's put takes the count to 0:
      // the restore is an increment on 0 (refcount_t: addition on 0), and a later IOMMU_DESTROY's put underflows. The
      // same lines are in iommufd_object_dec_wait (2025).
      'no-ref-from-zero': 'violated',
      'no-underflow': 'violated',
    },
  }),
  model.variant({
    name: 'posted-ioctl-eopnotsupp',
    title: 'the ioctl dispatch as posted: a struct shorter than its minimum returns -EOPNOTSUPP',
    source: 'seed 002 (Kevin Tian: "-EINVAL?"; Jason Gunthorpe: "Yes")',
    config: iommufdSpec(v62, postedDispatch),
    expect: { 'ioctl-errno-order': 'violated', 'kernel-destroy-completes': 'violated' },
  }),
];

