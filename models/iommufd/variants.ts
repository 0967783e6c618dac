/**
 * The iommufd designs of seed 002 and its successors (kernel-semantics A.6),
 * each as programs (the kernel functions a call runs, in order) over an
 * object machine, with the verdicts it is expected to have.
 */
import type { Variant } from 'lifecheck';
import { mergedDispatch, postedDispatch } from './dispatch.ts';
import { rwsemObject, shorttermObject } from './objects.ts';
import type { IommufdConfig, Op, Program, Stage } from './world.ts';

/** The calls as merged in v6.2 (A.6; device.c, hw_pagetable.c, ioas.c, main.c of v6.2). */
export const v62Programs: Readonly<Record<Op, Program>> = {
  // ioas.c iommufd_ioas_alloc_ioctl: alloc, respond (can fail: goto out_table -> abort_and_destroy), finalize.
  ioas_alloc: {
    call: 'IOMMU_IOAS_ALLOC',
    creates: 'ioas',
    stages: ['reserve', 'fallible', 'finalize'],
    fallible: { fn: 'iommufd_ucmd_respond', errno: '-EFAULT' },
  },
  // hw_pagetable.c: alloc, iommu_domain_alloc (can fail), refcount_inc(&ioas->obj.users); the caller finalizes, then puts the ioas.
  hwpt_alloc: {
    call: 'IOMMU_HWPT_ALLOC',
    creates: 'hwpt',
    looksUp: 'ioas',
    stages: ['lookup', 'reserve', 'fallible', 'link', 'finalize', 'put_users', 'put_short'],
    fallible: { fn: 'iommu_domain_alloc', errno: '-ENOMEM' },
  },
  // Seed 002 iommufd_destroy: get_object(ANY), ref_to_users ("See iommufd_ref_to_users"), destroy_user.
  destroy: { call: 'IOMMU_DESTROY', looksUp: 'any', stages: ['lookup', 'ref_to_users', 'down_write', 'remove', 'free'] },
  // An ioctl on an ioas (IOMMU_IOAS_MAP): get_object, work, put_object (users--, then up_read).
  use: { call: 'IOMMU_IOAS_MAP', looksUp: 'ioas', stages: ['lookup', 'put_users', 'put_short'] },
  // device.c iommufd_device_bind: alloc, refcount_inc ("The calling driver is a user until unbind"), finalize.
  bind: { call: 'iommufd_device_bind', creates: 'device', stages: ['reserve', 'own', 'finalize'] },
  // device.c iommufd_device_attach: get_object(pt_id, ANY), switch on type, do_attach, put_object.
  attach: { call: 'iommufd_device_attach', looksUp: 'any', stages: ['lookup', 'check_pt', 'link', 'put_users', 'put_short'] },
  // device.c iommufd_device_detach: refcount_dec(&hwpt->obj.users), refcount_dec(&idev->obj.users).
  detach: { call: 'iommufd_device_detach', stages: ['unlink'] },
  // device.c iommufd_device_unbind: WARN_ON(!iommufd_object_destroy_user(ictx, &idev->obj)).
  unbind: { call: 'iommufd_device_unbind', kernelDestroy: 'device', stages: ['down_write', 'remove', 'free'] },
  // device.c iommufd_access_create: alloc, get_object(ioas), ref_to_users, iopt_add_access (can fail), refcount_inc, finalize.
  access_create: {
    call: 'iommufd_access_create',
    creates: 'access',
    looksUp: 'ioas',
    stages: ['reserve', 'lookup', 'ref_to_users', 'adopt', 'fallible', 'own', 'finalize'],
    fallible: { fn: 'iopt_add_access', errno: '-ENOMEM' },
  },
  // device.c iommufd_access_destroy: WARN_ON(!iommufd_object_destroy_user(ictx, &access->obj)).
  access_destroy: { call: 'iommufd_access_destroy', kernelDestroy: 'access', stages: ['down_write', 'remove', 'free'] },
};

/** v6.7 (6f9c4d8c468c, 99f98a7c0d69): no rwsem; destroy by id under xa_lock; kernel destroys wait for shortterm_users. */
export const v67Programs: Readonly<Record<Op, Program>> = {
  ...v62Programs,
  // A.6 v6.5-rc4+: IOMMU_DESTROY is iommufd_object_remove(ictx, NULL, id, 0): "No refcount increment on this path".
  destroy: { call: 'IOMMU_DESTROY', stages: ['remove', 'drop_bias', 'wait', 'free'] },
  // A.6 object_remove(REMOVE_WAIT_SHORTTERM): drop the bias and wait (bounded), then remove under xa_lock.
  unbind: { call: 'iommufd_device_unbind', kernelDestroy: 'device', stages: ['drop_bias', 'wait', 'remove', 'free'] },
  access_destroy: { call: 'iommufd_access_destroy', kernelDestroy: 'access', stages: ['drop_bias', 'wait', 'remove', 'free'] },
  // iommufd_ref_to_users is gone in v6.7: refcount_inc(&ioas->obj.users), then iommufd_put_object.
  access_create: {
    ...v62Programs.access_create,
    stages: ['reserve', 'lookup', 'link', 'put_users', 'put_short', 'fallible', 'own', 'finalize'],
  },
};

/** The same calls with `finalize` moved to just before the step that can still fail. */
export function finalizeFirst(programs: Readonly<Record<Op, Program>>): Record<Op, Program> {
  const early = (stages: readonly Stage[]): Stage[] => {
    if (!stages.includes('finalize') || !stages.includes('fallible')) return [...stages];
    const rest = stages.filter((s) => s !== 'finalize');
    const at = rest.indexOf('fallible');
    return [...rest.slice(0, at), 'finalize', ...rest.slice(at)];
  };
  const moved = { ...programs };
  for (const op of Object.keys(moved) as Op[]) moved[op] = { ...moved[op], stages: early(moved[op].stages) };
  return moved;
}

/** v6.2 as merged: the rwsem design of seed 002, with the review's -EINVAL. */
export const v62: IommufdConfig = { object: rwsemObject, dispatch: mergedDispatch, programs: v62Programs };

export const iommufdVariants: readonly Variant<IommufdConfig>[] = [
  {
    name: 'v6.2-rwsem',
    title: 'destroy_rwsem for short-term holders, users for long-term ones, as posted and merged',
    source: 'seed 002; kernel-semantics A.6 (v6.2)',
    config: v62,
    expect: {
      // Found on its own: 99f98a7c0d69 (syzkaller): "Racing IOMMUFD_DESTROY with iommufd_object_destroy_user()
      // will cause spurious failures": IOMMU_DESTROY's users ref, kept by ref_to_users, makes unbind's destroy fail.
      'kernel-destroy-completes': 'violated',
    },
  },
  {
    name: 'destroy-without-ref-to-users',
    title: 'IOMMU_DESTROY keeps its destroy_rwsem read hold into destroy_user (no iommufd_ref_to_users)',
    source: 'seed 002 (iommufd_destroy: "See iommufd_ref_to_users")',
    config: { ...v62, programs: { ...v62Programs, destroy: { ...v62Programs.destroy, stages: ['lookup', 'down_write', 'remove', 'free'] } } },
    expect: {
      // down_write() waits for the caller's own read side: the thread can never move again.
      // (kernel-destroy-completes holds here: users taken under the read side cannot race a writer.)
      'no-deadlock': 'violated',
    },
  },
  {
    name: 'finalize-before-fail',
    title: 'creation finalizes, then does a step that can still fail and aborts the published object',
    source: 'seed 002 ("only call iommufd_object_finalize() once object creation cannot fail")',
    config: { ...v62, programs: finalizeFirst(v62Programs) },
    expect: {
      'finalize-xor-abort': 'violated',
      'abort-leaves-nothing': 'violated',
      'no-free-while-held': 'violated',
      'kernel-destroy-completes': 'violated',
    },
  },
  {
    name: 'v6.7-shortterm',
    title: 'shortterm_users and a wait queue with a bounded wait replace the rwsem; IOMMU_DESTROY takes no reference',
    source: 'kernel-semantics A.6 (v6.7: 6f9c4d8c468c, 99f98a7c0d69)',
    config: { object: shorttermObject, dispatch: mergedDispatch, programs: v67Programs },
    expect: {},
  },
  {
    name: 'posted-ioctl-eopnotsupp',
    title: 'the ioctl dispatch as posted: a struct shorter than its minimum returns -EOPNOTSUPP',
    source: 'seed 002 (Kevin Tian: "-EINVAL?"; Jason Gunthorpe: "Yes")',
    config: { ...v62, dispatch: postedDispatch },
    expect: { 'ioctl-errno-order': 'violated', 'kernel-destroy-completes': 'violated' },
  },
];
