/**
 * The calls of iommufd's users, each as the kernel function it is (ioctls
 * from user space; a driver's bind, attach, detach and unbind through vfio;
 * an emulated driver's access), its steps in the kernel's order and its
 * error path as the kernel's unwind labels. They are written once, over a
 * `Core` (core.ts): the same call under v6.2's object core and v6.7's.
 *
 * A driver (vfio) keeps what it owns in its own tables, `bound` (each
 * `vdev->iommufd_device`) and `accesses` (`vdev->iommufd_access`); each
 * entry holds the users reference the kernel gives "the calling driver",
 * and driver calls run under vfio's `dev_set->lock`.
 */
import { atomic, call, jump, label, ret, retId, step, type Item, type KitCall as Call } from 'lifecheck';
import { opsDestroy, refToUsers, TYPE, type Core, type Kind } from './core.ts';

/** `local = iommufd_object_alloc(ictx, local, TYPE)` (main.c _iommufd_object_alloc): kzalloc, then an id reserved as XA_ZERO_ENTRY. */
export function objectAlloc(local: string, kind: Kind, fail: string): Item[] {
  const tag = `${local}_${kind}`;
  return atomic(
    `${local} = iommufd_object_alloc(ictx, ${local}, ${TYPE[kind]})`,
    [
      // A.6: "users=1; v6.7+ shortterm_users=1 (the XArray's bias)", the creator holding them until finalize.
      step(`${local} = kzalloc(sizeof(*${local}))`, { op: 'alloc', kind, into: local }, { fail }),
      // A.6: "xa_alloc of an XA_ZERO_ENTRY placeholder"; ID 0 is never allocated (XA_FLAGS_ALLOC1).
      step(`xa_alloc(&ictx->objects, &${local}->obj.id, XA_ZERO_ENTRY, xa_limit_31b)`, { op: 'xa_alloc', space: 'objects', into: `${local}_id` }, { fail: `${tag}_out_free` }),
      jump(`${tag}_reserved`),
      label(`${tag}_out_free`),
      step(`kfree(${local})`, { op: 'kfree', ptr: local }),
      jump(fail),
      label(`${tag}_reserved`),
    ],
    local,
  );
}

/** `iommufd_object_finalize(ictx, &obj->obj)` (main.c): the pointer is published in its reserved slot. */
export const finalize = (local: string): Item =>
  step(`iommufd_object_finalize(ictx, &${local}->obj)`, { op: 'xa_store', space: 'objects', id: `${local}_id`, ptr: local });

/** `iommufd_object_abort(ictx, &obj->obj)` (main.c): `old = xa_erase(..); WARN_ON(old); kfree(obj);`. */
export const abort = (local: string): Item[] =>
  atomic(`iommufd_object_abort(ictx, &${local}->obj)`, [
    step(`old = xa_erase(&ictx->objects, ${local}->obj.id)`, { op: 'xa_erase', space: 'objects', id: `${local}_id`, into: 'old' }),
    step('WARN_ON(old)', { op: 'warn', ptr: 'old' }),
    step(`kfree(${local})`, { op: 'kfree', ptr: local }),
  ]);

/** `iommufd_object_abort_and_destroy(ictx, &obj->obj)` (main.c v6.2-v6.5; v6.7 calls ops->abort where a type has one, which puts the same references): `ops->destroy(obj)`, then the abort. */
export const abortAndDestroy = (local: string): Item[] =>
  atomic(`iommufd_object_abort_and_destroy(ictx, &${local}->obj)`, [opsDestroy(local), ...abort(local)]);

/** `iommufd_ucmd_respond(ucmd, sizeof(*cmd))`: copying the reply to user space can fault. */
const respond = (fail: string) => step('iommufd_ucmd_respond(ucmd, sizeof(*cmd))', { op: 'fallible', errno: '-EFAULT' }, { fail });

/** `iommufd_ctx_put(ictx)` (fput): the reference ctxFromFd took, on an error path. */
const putCtx = step('iommufd_ctx_put(ictx)', { op: 'refcount', call: 'refcount_dec', ptr: 'ictx', field: 'f_count' });

const devSetLock = step('mutex_lock(&vdev->dev_set->lock)', { op: 'mutex_lock', lock: 'dev_set' });
const devSetUnlock = step('mutex_unlock(&vdev->dev_set->lock)', { op: 'mutex_unlock', lock: 'dev_set' });

/**
 * vfio takes its device set's lock and reads its own pointer (`vdev->iommufd_device`, `vdev->iommufd_access`), one
 * step: only the driver touches its pointers. A handle with none gets -EINVAL, as vfio's WARN_ON(!..) paths return.
 */
const driversPointer = (local: string, table: string, handle: string, fail: string): Item[] => {
  const field = table === 'bound' ? 'iommufd_device' : 'iommufd_access';
  return atomic(
    `mutex_lock(&vdev->dev_set->lock); ${local} = vdev->${field}`,
    [
      devSetLock,
      step(`${local} = vdev->${field}`, { op: 'xa_load', space: table, id: handle, into: local }),
      step(`if (!${local}) return -EINVAL`, { op: 'if_null', ptr: local, errno: '-EINVAL' }, { fail }),
    ],
    local,
  );
};

/**
 * main.c iommufd_ctx_from_fd, as vfio calls it for the process's iommufd fd: the file under files->file_lock, and a
 * reference on it (get_file), -EBADF when the fd is closed. The driver keeps it in `local->ictx` (iommufd_ctx_get).
 */
const ctxFromFd = (fail: string): Item[] =>
  atomic(
    'ictx = iommufd_ctx_from_fd(fd)',
    [
      step('fd = the process\'s iommufd fd', { op: 'let', local: 'fd', to: 1 }),
      step('spin_lock(&files->file_lock)', { op: 'mutex_lock', lock: 'file_lock' }),
      step('file = files_lookup_fd_locked(files, fd)', { op: 'xa_load', space: 'files', id: 'fd', into: 'ictx' }),
      step('if (!file) return -EBADF', { op: 'if_null', ptr: 'ictx', errno: '-EBADF' }, { fail: 'ctx_unlock' }),
      step('get_file(file)', { op: 'refcount', call: 'refcount_inc', ptr: 'ictx', field: 'f_count' }),
      step('spin_unlock(&files->file_lock)', { op: 'mutex_unlock', lock: 'file_lock' }),
      jump('ctx_found'),
      label('ctx_unlock'),
      step('spin_unlock(&files->file_lock)', { op: 'mutex_unlock', lock: 'file_lock' }),
      jump(fail),
      label('ctx_found'),
    ],
    'ictx',
  );

/** The process opened /dev/iommu before the scenario: iommufd_fops_open's ctx, its file in the fd table. */
export const iommufdOpen = (): Call =>
  call('iommufd_fops_open', {}, [
    step('ictx = kzalloc(sizeof(*ictx)); filp->private_data = ictx', { op: 'alloc', kind: 'ctx', into: 'ictx' }),
    step('fd_install(fd, filp)', { op: 'xa_alloc', space: 'files', ptr: 'ictx', into: 'fd' }),
    ret(0),
  ]);

/** ioas.c iommufd_ioas_alloc_ioctl. */
const ioasAlloc = (): Call =>
  call('IOMMU_IOAS_ALLOC', {}, [
    ...objectAlloc('ioas', 'ioas', 'out'),
    respond('out_table'),
    finalize('ioas'),
    retId('ioas_id', 'objects', 0),
    label('out_table'),
    ...abortAndDestroy('ioas'),
    label('out'),
    ret('errno'),
  ]);

/**
 * hw_pagetable.c iommufd_hwpt_alloc (v6.7): the device and the page table it
 * is allocated on are looked up; on an IOAS a paging hwpt
 * (iommufd_hw_pagetable_alloc), on a paging hwpt a nested one
 * (iommufd_hwpt_nested_alloc). v6.2 had no such ioctl (its hwpts came from
 * attach's auto domain); its variants allocate through this one, over v6.2's core.
 */
const hwptAlloc = (core: Core): Call =>
  call('IOMMU_HWPT_ALLOC', { dev_id: 'objects', pt_id: 'objects' }, [
    ...core.getObject('idev', 'dev_id', 'device', 'out'),
    ...core.getObject('pt_obj', 'pt_id', 'any', 'pt_einval'),
    jump('switch'),
    label('pt_einval'),
    step('rc = -EINVAL', { op: 'error', errno: '-EINVAL' }, { fail: 'out_put_idev' }),
    label('switch'),
    step('case IOMMUFD_OBJ_IOAS:', { op: 'is_kind', ptr: 'pt_obj', kind: 'ioas' }, { fail: 'case_paging' }),
    ...objectAlloc('hwpt', 'hwpt_paging', 'out_put_pt'),
    // "Pairs with iommufd_hw_pagetable_destroy()".
    step('refcount_inc(&ioas->obj.users)', { op: 'refcount', call: 'refcount_inc', ptr: 'pt_obj', field: 'users' }),
    step('hwpt_paging->ioas = ioas', { op: 'set_link', ptr: 'hwpt', field: 'ioas', to: 'pt_obj' }),
    step('hwpt->domain = iommu_domain_alloc(idev->dev->bus)', { op: 'fallible', errno: '-ENOMEM' }, { fail: 'out_abort' }),
    jump('respond'),
    label('case_paging'),
    step('case IOMMUFD_OBJ_HWPT_PAGING:', { op: 'is_kind', ptr: 'pt_obj', kind: 'hwpt_paging', errno: '-EINVAL' }, { fail: 'out_put_pt' }),
    // hw_pagetable.c v6.7 iommufd_hwpt_nested_alloc: "if (parent->auto_domain || !parent->nest_parent) return ERR_PTR(-EINVAL)".
    step('if (parent->auto_domain) return -EINVAL', { op: 'check', ptr: 'pt_obj', field: 'auto_domain', is: 'zero', errno: '-EINVAL' }, { fail: 'out_put_pt' }),
    ...objectAlloc('hwpt', 'hwpt_nested', 'out_put_pt'),
    step('refcount_inc(&parent->common.obj.users)', { op: 'refcount', call: 'refcount_inc', ptr: 'pt_obj', field: 'users' }),
    step('hwpt_nested->parent = parent', { op: 'set_link', ptr: 'hwpt', field: 'parent', to: 'pt_obj' }),
    step('hwpt->domain = ops->domain_alloc_user(idev->dev, flags, parent, user_data)', { op: 'fallible', errno: '-ENOMEM' }, { fail: 'out_abort' }),
    label('respond'),
    respond('out_hwpt'),
    finalize('hwpt'),
    jump('out_put_pt'),
    label('out_abort'),
    ...abortAndDestroy('hwpt'),
    jump('out_put_pt'),
    label('out_hwpt'),
    ...abortAndDestroy('hwpt'),
    label('out_put_pt'),
    ...core.putObject('pt_obj'),
    label('out_put_idev'),
    ...core.putObject('idev'),
    retId('hwpt_id', 'objects', 0),
    label('out'),
    ret('errno'),
  ]);

/** ioas.c iommufd_ioas_map: an ioctl that works on an object it looked up, and puts it. */
const ioasMap = (core: Core): Call =>
  call('IOMMU_IOAS_MAP', { ioas_id: 'objects' }, [
    ...core.getObject('ioas', 'ioas_id', 'ioas', 'out'),
    step('iopt_map_user_pages(ucmd->ictx, &ioas->iopt, &iova, ...)', { op: 'use', ptr: 'ioas' }),
    ...core.putObject('ioas'),
    ret(0),
    label('out'),
    ret('errno'),
  ]);

/** main.c iommufd_destroy. */
const destroy = (core: Core): Call => call('IOMMU_DESTROY', { id: 'objects' }, core.destroyIoctl('id'));

/** device.c iommufd_device_bind, called by vfio_iommufd_physical_bind. */
const bind = (): Call =>
  call('iommufd_device_bind', {}, [
    devSetLock,
    ...ctxFromFd('out_unlock'),
    ...objectAlloc('idev', 'device', 'out_put_ctx'),
    // The file reference iommufd_ctx_from_fd took is the device's (the kernel's iommufd_ctx_get, and vfio's put of its own).
    step('idev->ictx = ictx; iommufd_ctx_get(ictx)', { op: 'set_link', ptr: 'idev', field: 'ictx', to: 'ictx' }),
    // "The calling driver is a user until iommufd_device_unbind()".
    step('refcount_inc(&idev->obj.users)', { op: 'refcount', call: 'refcount_inc', ptr: 'idev', field: 'users' }),
    finalize('idev'),
    step('vdev->iommufd_device = idev', { op: 'xa_alloc', space: 'bound', ptr: 'idev', into: 'dev' }),
    devSetUnlock,
    retId('dev', 'bound', 0),
    label('out_put_ctx'),
    putCtx,
    label('out_unlock'),
    devSetUnlock,
    ret('errno'),
  ]);

/**
 * device.c iommufd_device_attach, via vfio_iommufd_physical_attach_ioas (the model refuses an attached device with
 * -EBUSY, as vfio did before iommufd_device_replace): the page table by id; a hwpt is
 * attached as it is, an IOAS gets an auto domain (iommufd_device_auto_get_domain:
 * a paging hwpt made, attached at once and finalized; the model makes a new
 * one each time, as it has no IOAS hwpt_list to reuse one from). The device's
 * group pointer holds a users reference on the hwpt, and the attachment one on
 * the device ("catches caller bugs attempting to destroy a device with an attachment").
 */
const attach = (core: Core): Call =>
  call('iommufd_device_attach', { dev: 'bound', pt_id: 'objects' }, [
    ...driversPointer('idev', 'bound', 'dev', 'out_unlock'),
    step('if (vdev->iommufd_attached) return -EBUSY', { op: 'check', ptr: 'idev', field: 'iommufd_attached', is: 'zero', errno: '-EBUSY' }, { fail: 'out_unlock' }),
    ...core.getObject('pt_obj', 'pt_id', 'any', 'out_unlock'),
    step('case IOMMUFD_OBJ_IOAS: iommufd_device_auto_get_domain(idev, ioas)', { op: 'is_kind', ptr: 'pt_obj', kind: 'ioas' }, { fail: 'case_hwpt' }),
    ...objectAlloc('hwpt', 'hwpt_paging', 'out_put_pt'),
    step('refcount_inc(&ioas->obj.users)', { op: 'refcount', call: 'refcount_inc', ptr: 'pt_obj', field: 'users' }),
    step('hwpt_paging->ioas = ioas', { op: 'set_link', ptr: 'hwpt', field: 'ioas', to: 'pt_obj' }),
    step('hwpt->domain = iommu_domain_alloc(idev->dev->bus)', { op: 'fallible', errno: '-ENOMEM' }, { fail: 'out_abort' }),
    // iommufd_hw_pagetable_alloc(.., immediate_attach = true): iommufd_hw_pagetable_attach, before finalize.
    step('iommu_attach_group(hwpt->domain, idev->igroup->group)', { op: 'fallible', errno: '-EINVAL' }, { fail: 'out_abort' }),
    step('refcount_inc(&hwpt->obj.users)', { op: 'refcount', call: 'refcount_inc', ptr: 'hwpt', field: 'users' }),
    step('idev->igroup->hwpt = hwpt', { op: 'set_link', ptr: 'idev', field: 'hwpt', to: 'hwpt' }),
    // hw_pagetable.c v6.7 iommufd_hwpt_paging_alloc: after the immediate attach, the domain joins the IOAS's iopt.
    step('iopt_table_add_domain(&ioas->iopt, hwpt->domain)', { op: 'fallible', errno: '-ENOMEM' }, { fail: 'out_detach' }),
    step('hwpt_paging->auto_domain = true', { op: 'counter', delta: 1, ptr: 'hwpt', field: 'auto_domain' }),
    finalize('hwpt'),
    jump('attached'),
    label('out_detach'),
    step('iommufd_hw_pagetable_detach(idev): idev->igroup->hwpt = NULL', { op: 'take_link', ptr: 'idev', field: 'hwpt', into: 'attached_hwpt' }),
    step('refcount_dec(&hwpt->obj.users)', { op: 'refcount', call: 'refcount_dec', ptr: 'attached_hwpt', field: 'users' }),
    label('out_abort'),
    ...abortAndDestroy('hwpt'),
    jump('out_put_pt'),
    label('case_hwpt'),
    step('case IOMMUFD_OBJ_HWPT_PAGING/NESTED:', { op: 'is_kind', ptr: 'pt_obj', kind: ['hwpt_paging', 'hwpt_nested'], errno: '-EINVAL' }, { fail: 'out_put_pt' }),
    step('iommu_attach_group(hwpt->domain, idev->igroup->group)', { op: 'fallible', errno: '-EINVAL' }, { fail: 'out_put_pt' }),
    step('refcount_inc(&hwpt->obj.users)', { op: 'refcount', call: 'refcount_inc', ptr: 'pt_obj', field: 'users' }),
    step('idev->igroup->hwpt = hwpt', { op: 'set_link', ptr: 'idev', field: 'hwpt', to: 'pt_obj' }),
    label('attached'),
    step('refcount_inc(&idev->obj.users)', { op: 'refcount', call: 'refcount_inc', ptr: 'idev', field: 'users' }),
    step('vdev->iommufd_attached = true', { op: 'counter', delta: 1, ptr: 'idev', field: 'iommufd_attached' }),
    label('out_put_pt'),
    ...core.putObject('pt_obj'),
    label('out_unlock'),
    devSetUnlock,
    ret('errno'),
  ]);

/**
 * device.c iommufd_device_detach: the group's hwpt pointer and its users
 * reference (an auto domain's put tries to destroy it), then the device's.
 */
const detachSteps = (core: Core): Item[] => [
  step('hwpt = idev->igroup->hwpt; idev->igroup->hwpt = NULL', { op: 'take_link', ptr: 'idev', field: 'hwpt', into: 'hwpt' }),
  step('iommufd_hw_pagetable_put(ictx, hwpt): if (hwpt->obj.type == IOMMUFD_OBJ_HWPT_PAGING)', { op: 'is_kind', ptr: 'hwpt', kind: 'hwpt_paging' }, { fail: 'manual_put' }),
  step('if (hwpt_paging->auto_domain)', { op: 'check', ptr: 'hwpt', field: 'auto_domain', is: 'nonzero' }, { fail: 'manual_put' }),
  ...core.putAndTryDestroy('hwpt', 'put_idev'),
  label('manual_put'),
  step('refcount_dec(&hwpt->obj.users)', { op: 'refcount', call: 'refcount_dec', ptr: 'hwpt', field: 'users' }),
  label('put_idev'),
  // vfio clears iommufd_attached after the call; the model clears it first, so the reference it held is in hand to put.
  step('vdev->iommufd_attached = false', { op: 'counter', delta: -1, ptr: 'idev', field: 'iommufd_attached' }),
  step('refcount_dec(&idev->obj.users)', { op: 'refcount', call: 'refcount_dec', ptr: 'idev', field: 'users' }),
];

/** vfio_iommufd_physical_detach_ioas: `if (!vdev->iommufd_attached) return;`, then iommufd_device_detach. */
const detach = (core: Core): Call =>
  call('iommufd_device_detach', { dev: 'bound' }, [
    ...driversPointer('idev', 'bound', 'dev', 'out_unlock'),
    step('if (!vdev->iommufd_attached) return', { op: 'check', ptr: 'idev', field: 'iommufd_attached', is: 'nonzero' }, { fail: 'done' }),
    ...detachSteps(core),
    label('done'),
    devSetUnlock,
    ret(0),
    label('out_unlock'),
    devSetUnlock,
    ret('errno'),
  ]);

/** vfio_iommufd_physical_unbind: detach if attached, then device.c iommufd_device_unbind, then forget the pointer. */
const unbind = (core: Core): Call =>
  call('iommufd_device_unbind', { dev: 'bound' }, [
    ...driversPointer('idev', 'bound', 'dev', 'out_unlock'),
    step('if (vdev->iommufd_attached)', { op: 'check', ptr: 'idev', field: 'iommufd_attached', is: 'nonzero' }, { fail: 'unbind' }),
    ...detachSteps(core),
    label('unbind'),
    // A.6: "Kernel callers (iommufd_device_unbind, iommufd_access_destroy) WARN_ON(!destroyed)".
    ...core.destroyUser('idev', 'not_destroyed', 'bound'),
    jump('forget'),
    label('not_destroyed'),
    step(core.name === 'v6.2' ? 'WARN_ON(!iommufd_object_destroy_user(ictx, &idev->obj))' : 'WARN_ON(ret)', { op: 'warn' }),
    label('forget'),
    step('vdev->iommufd_device = NULL', { op: 'xa_erase', space: 'bound', id: 'dev' }),
    devSetUnlock,
    ret(0),
    label('out_unlock'),
    devSetUnlock,
    ret('errno'),
  ]);

/**
 * device.c iommufd_access_create, for an emulated vfio device. v6.2 takes the
 * IOAS at creation (iommufd_get_object, iommufd_ref_to_users); from v6.4 the
 * access is created alone and `iommufd_access_attach` takes the IOAS.
 */
const accessCreate = (core: Core): Call =>
  core.name === 'v6.2' ? call('iommufd_access_create', { ioas_id: 'objects' }, accessCreate62(core)) : call('iommufd_access_create', {}, accessCreate67());

const keepAccess: Item[] = [
  step('vdev->iommufd_access = access', { op: 'xa_alloc', space: 'accesses', ptr: 'access', into: 'acc' }),
  devSetUnlock,
  retId('acc', 'accesses', 0),
];

const accessCreate62 = (core: Core): Item[] => [
  devSetLock,
  ...ctxFromFd('out_unlock'),
  ...objectAlloc('access', 'access', 'out_put_ctx'),
  ...core.getObject('ioas', 'ioas_id', 'ioas', 'out_abort'),
  step('access->ioas = container_of(obj, struct iommufd_ioas, obj)', { op: 'set_link', ptr: 'access', field: 'ioas', to: 'ioas' }),
  ...refToUsers('ioas'),
  step('iopt_add_access(&access->ioas->iopt, access)', { op: 'fallible', errno: '-ENOMEM' }, { fail: 'out_put_ioas' }),
  // "The calling driver is a user until iommufd_access_destroy()".
  step('refcount_inc(&access->obj.users)', { op: 'refcount', call: 'refcount_inc', ptr: 'access', field: 'users' }),
  step('access->ictx = ictx; iommufd_ctx_get(ictx)', { op: 'set_link', ptr: 'access', field: 'ictx', to: 'ictx' }),
  finalize('access'),
  ...keepAccess,
  label('out_put_ioas'),
  step('refcount_dec(&access->ioas->obj.users)', { op: 'put_links', ptr: 'access' }),
  label('out_abort'),
  ...abort('access'),
  label('out_put_ctx'),
  putCtx,
  label('out_unlock'),
  devSetUnlock,
  ret('errno'),
];

const accessCreate67 = (): Item[] => [
  devSetLock,
  ...ctxFromFd('out_unlock'),
  ...objectAlloc('access', 'access', 'out_put_ctx'),
  // "The calling driver is a user until iommufd_access_destroy()".
  step('refcount_inc(&access->obj.users)', { op: 'refcount', call: 'refcount_inc', ptr: 'access', field: 'users' }),
  step('access->ictx = ictx; iommufd_ctx_get(ictx)', { op: 'set_link', ptr: 'access', field: 'ictx', to: 'ictx' }),
  finalize('access'),
  ...keepAccess,
  label('out_put_ctx'),
  putCtx,
  devSetUnlock,
  ret('errno'),
  label('out_unlock'),
  devSetUnlock,
  ret('errno'),
];

/**
 * device.c iommufd_access_attach (v6.7), as vfio_iommufd_emulated_attach_ioas
 * calls it once (an attached access gets -EBUSY here; vfio replaces instead):
 * iommufd_access_change_ioas_id looks the IOAS up, and the access keeps a
 * users reference on it.
 */
const accessAttach = (core: Core): Call =>
  call('iommufd_access_attach', { acc: 'accesses', ioas_id: 'objects' }, [
    ...driversPointer('access', 'accesses', 'acc', 'out_unlock'),
    step('if (vdev->iommufd_attached) return -EBUSY', { op: 'check', ptr: 'access', field: 'iommufd_attached', is: 'zero', errno: '-EBUSY' }, { fail: 'out_unlock' }),
    ...core.getObject('ioas', 'ioas_id', 'ioas', 'out_unlock'),
    step('iopt_add_access(&new_ioas->iopt, access)', { op: 'fallible', errno: '-ENOMEM' }, { fail: 'out_put_ioas' }),
    step('refcount_inc(&new_ioas->obj.users)', { op: 'refcount', call: 'refcount_inc', ptr: 'ioas', field: 'users' }),
    step('access->ioas = new_ioas', { op: 'set_link', ptr: 'access', field: 'ioas', to: 'ioas' }),
    step('vdev->iommufd_attached = true', { op: 'counter', delta: 1, ptr: 'access', field: 'iommufd_attached' }),
    label('out_put_ioas'),
    ...core.putObject('ioas'),
    label('out_unlock'),
    devSetUnlock,
    ret('errno'),
  ]);

/** device.c iommufd_access_destroy: `iommufd_object_destroy_user(access->ictx, &access->obj)`, its WARN_ON. */
const accessDestroy = (core: Core): Call =>
  call('iommufd_access_destroy', { acc: 'accesses' }, [
    ...driversPointer('access', 'accesses', 'acc', 'out_unlock'),
    ...core.destroyUser('access', 'not_destroyed', 'accesses'),
    jump('forget'),
    label('not_destroyed'),
    step(core.name === 'v6.2' ? 'WARN_ON(!iommufd_object_destroy_user(ictx, &access->obj))' : 'WARN_ON(ret)', { op: 'warn' }),
    label('forget'),
    step('vdev->iommufd_access = NULL', { op: 'xa_erase', space: 'accesses', id: 'acc' }),
    devSetUnlock,
    ret(0),
    label('out_unlock'),
    devSetUnlock,
    ret('errno'),
  ]);

/**
 * The process's exit closes its iommufd fd: fput, and on the last reference (no driver holds the ctx any more),
 * main.c iommufd_fops_release: every object with users 1 destroyed, pass after pass, leaves first, until the xarray
 * is empty (a pass that destroys nothing is a refcount bug: WARN_ON, and the rest leaks); then the ctx is freed.
 */
export const iommufdRelease = (): Call =>
  call('iommufd_fops_release', {}, [
    step('fd = the process\'s iommufd fd', { op: 'let', local: 'fd', to: 1 }),
    step('filp = close_fd(fd)', { op: 'xa_erase', space: 'files', id: 'fd', into: 'ictx' }),
    step('if (!atomic_long_dec_and_test(&filp->f_count)) return', { op: 'refcount', call: 'refcount_dec_and_test', ptr: 'ictx', field: 'f_count' }, { zero: 'release' }),
    ret(0),
    label('release'),
    label('pass'),
    step('while (!xa_empty(&ictx->objects)): xa_for_each: obj = xa_find(&ictx->objects, &index)', { op: 'xa_find', space: 'objects', id: 'index', into: 'obj' }, { fail: 'empty' }),
    step('destroyed = 0', { op: 'let', local: 'destroyed', to: null }),
    jump('body'),
    label('next'),
    step('obj = xa_find_after(&ictx->objects, &index)', { op: 'xa_find', space: 'objects', id: 'index', into: 'obj', after: true }, { fail: 'pass_end' }),
    label('body'),
    step('if (!refcount_dec_if_one(&obj->users)) continue', { op: 'refcount', call: 'refcount_dec_if_one', ptr: 'obj', field: 'users', for: 'objects', errno: null }, { fail: 'next' }),
    step('destroyed++', { op: 'let', local: 'destroyed', to: 1 }),
    step('xa_erase(&ictx->objects, index)', { op: 'xa_erase', space: 'objects', id: 'index', into: 'obj' }),
    opsDestroy('obj'),
    step('kfree(obj)', { op: 'kfree', ptr: 'obj' }),
    jump('next'),
    label('pass_end'),
    step('if (WARN_ON(!destroyed)) break', { op: 'if_null', ptr: 'destroyed' }, { fail: 'stuck' }),
    jump('pass'),
    label('stuck'),
    step('WARN_ON(!destroyed)', { op: 'warn' }),
    label('empty'),
    step('kfree(ictx)', { op: 'kfree', ptr: 'ictx' }),
    ret(0),
  ]);

/** Every call of a design, by the name a scenario and `--only calls=` use. */
export function iommufdCalls(core: Core): Record<string, Call> {
  return {
    IOMMU_IOAS_ALLOC: ioasAlloc(),
    IOMMU_HWPT_ALLOC: hwptAlloc(core),
    IOMMU_IOAS_MAP: ioasMap(core),
    IOMMU_DESTROY: destroy(core),
    iommufd_device_bind: bind(),
    iommufd_device_attach: attach(core),
    iommufd_device_detach: detach(core),
    iommufd_device_unbind: unbind(core),
    iommufd_access_create: accessCreate(core),
    ...(core.name === 'v6.2' ? {} : { iommufd_access_attach: accessAttach(core) }),
    iommufd_access_destroy: accessDestroy(core),
  };
}

/**
 * Who calls what: a driver (vfio's bind, attach, detach, unbind, access), then processes issuing ioctls on the
 * iommufd file (a third thread, with `--threads 3`, is a second process).
 */
export const roles = (calls: Readonly<Record<string, Call>>): readonly (readonly string[])[] => {
  const ioctls = Object.keys(calls).filter((name) => name.startsWith('IOMMU_'));
  return [Object.keys(calls).filter((name) => !ioctls.includes(name)), ioctls, ioctls];
};
