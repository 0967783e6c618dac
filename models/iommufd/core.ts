/**
 * iommufd's object core (drivers/iommu/iommufd/main.c and
 * iommufd_private.h; kernel-semantics A.6) as kit steps, once per design:
 * v6.2's destroy_rwsem with users, and v6.7's shortterm_users with the
 * destroy_wait queue. Each helper returns the steps of one kernel function,
 * to be spliced into a call at the place the kernel calls it; its error
 * path goes on at the caller's label, as the kernel's `return ERR_PTR(rc)`
 * lets the caller's `goto` unwind.
 */
import { atomic, jump, label, step, type FieldSpec, type Item, type KindSpec, type SpaceSpec } from 'lifecheck';

/** The object types of `enum iommufd_object_type` this model has (v6.7 names; v6.2 had one HW_PAGETABLE). */
export const KINDS = ['ioas', 'hwpt_paging', 'hwpt_nested', 'device', 'access'] as const;
export type Kind = (typeof KINDS)[number];

/** The type constant a lookup passes (`IOMMUFD_OBJ_ANY` for any). */
export const TYPE: Readonly<Record<Kind | 'any', string>> = {
  ioas: 'IOMMUFD_OBJ_IOAS',
  hwpt_paging: 'IOMMUFD_OBJ_HWPT_PAGING',
  hwpt_nested: 'IOMMUFD_OBJ_HWPT_NESTED',
  device: 'IOMMUFD_OBJ_DEVICE',
  access: 'IOMMUFD_OBJ_ACCESS',
  any: 'IOMMUFD_OBJ_ANY',
};

/** The kernel functions an object's lifetime goes through, as each design writes them. */
export interface Core {
  readonly name: 'v6.2' | 'v6.7';
  /** `struct iommufd_object`'s fields. */
  readonly header: Readonly<Record<string, FieldSpec>>;
  /** What the objects xarray's entries hold: its users reference (and v6.7's shortterm_users bias). */
  readonly holds: readonly string[];
  /** `into = iommufd_get_object(ictx, id, type)`: a users reference and a short-term hold; else on at `fail` with -ENOENT. */
  getObject(into: string, id: string, type: Kind | 'any', fail: string): Item[];
  /** `iommufd_put_object(obj)`: two touches of the object, each a step. */
  putObject(local: string): Item[];
  /**
   * `iommufd_object_destroy_user(ictx, obj)` by a caller holding a users reference: in `local`, or (`callerRef`) in that
   * id space's entry, a driver's pointer (`vdev->iommufd_device`). On at `notDestroyed` when it could not, its errno
   * left as the call's (the kernel callers' `WARN_ON`).
   */
  destroyUser(local: string, notDestroyed: string, callerRef?: string): Item[];
  /** The body of `IOMMU_DESTROY` on the id in `id`: returns 0, -ENOENT or -EBUSY. */
  destroyIoctl(id: string): Item[];
  /**
   * Detach's put of an auto domain hwpt, whose users reference the caller holds in `local`: v6.2
   * `iommufd_object_destroy_user` (its result ignored), v6.7 `iommufd_object_put_and_try_destroy`. On at `done`.
   */
  putAndTryDestroy(local: string, done: string): Item[];
}

/** `refcount_dec(&obj->users)`: "If the caller is holding a ref on obj we put it here under the spinlock" (main.c). */
const callersPut = (local: string, callerRef: string | undefined): Item =>
  step(`refcount_dec(&${local}->users)`, { op: 'refcount', call: 'refcount_dec', ptr: local, field: 'users', ...(callerRef ? { for: callerRef } : {}) });

const xaLock = step('xa_lock(&ictx->objects)', { op: 'mutex_lock', lock: 'xa_lock' });
const xaUnlock = step('xa_unlock(&ictx->objects)', { op: 'mutex_unlock', lock: 'xa_lock' });

/** `obj = xa_load(&ictx->objects, id)` with the type check of iommufd_get_object (main.c). */
const load = (into: string, id: string, type: Kind | 'any'): Item[] => [
  step(`${into} = xa_load(&ictx->objects, ${id})`, { op: 'xa_load', space: 'objects', id, into, ...(type === 'any' ? {} : { kind: type }) }),
];

/**
 * main.c `into = iommufd_get_object(ictx, id, type)`, one step under xa_lock: the load with its type check, then the
 * design's iommufd_lock_obj (`lock`, whose second step undoes its first with `undo` when it fails), or -ENOENT on at `fail`.
 */
function getObject(into: string, id: string, type: Kind | 'any', fail: string, lockObj: { lock: readonly Item[]; undo: Item }): Item[] {
  return atomic(
    `${into} = iommufd_get_object(ictx, ${id}, ${TYPE[type]})`,
    [
      xaLock,
      ...load(into, id, type),
      step(`if (!${into} || ${into}->type != type)`, { op: 'if_null', ptr: into, errno: '-ENOENT' }, { fail: `${into}_unlock` }),
      ...lockObj.lock,
      xaUnlock,
      jump(`${into}_found`),
      label(`${into}_undo`),
      lockObj.undo,
      label(`${into}_unlock`),
      xaUnlock,
      jump(fail),
      label(`${into}_found`),
    ],
    into,
  );
}

/** `ops->destroy(obj)`: the references the object's pointers hold are put (hwpt->ioas, access->ioas, a nested hwpt's parent). */
export const opsDestroy = (local: string): Item => step(`iommufd_object_ops[${local}->type].destroy(${local})`, { op: 'put_links', ptr: local });

/**
 * `iommufd_object_ops[obj->type].destroy(obj); kfree(obj);` (main.c), one step: the object is out of the xarray
 * with no users left, so no other thread reaches it between the two.
 */
export const destroyAndFree = (local: string): Item[] =>
  atomic(`iommufd_object_ops[${local}->type].destroy(${local}); kfree(${local})`, [opsDestroy(local), step(`kfree(${local})`, { op: 'kfree', ptr: local })]);

/** v6.2 (seed 002, main.c of v6.2): destroy_rwsem for short-term holders, users for long-term ones. */
export const v62: Core = {
  name: 'v6.2',
  header: {
    // A.6: the xarray's, each dependent's, a kernel owner's, each lookup's.
    users: { type: 'refcount', max: 5 },
    // A.6 v6.2: "destroy_rwsem" in struct iommufd_object.
    destroy_rwsem: { type: 'rwsem' },
  },
  holds: ['users'],
  getObject: (into, id, type, fail) =>
    getObject(into, id, type, fail, {
      // A.6 v6.2 iommufd_lock_obj: "down_read_trylock(destroy_rwsem) (fails while a destroyer holds it for write)",
      // then refcount_inc_not_zero(users), with up_read if that fails.
      lock: [
        step(`down_read_trylock(&${into}->destroy_rwsem)`, { op: 'down_read_trylock', sem: 'destroy_rwsem', ptr: into, errno: '-ENOENT' }, { fail: `${into}_unlock` }),
        step(`refcount_inc_not_zero(&${into}->users)`, { op: 'refcount', call: 'refcount_inc_not_zero', ptr: into, field: 'users' }, { fail: `${into}_undo` }),
      ],
      undo: step(`up_read(&${into}->destroy_rwsem)`, { op: 'up_read', sem: 'destroy_rwsem', ptr: into }),
    }),
  // A.6 v6.2 iommufd_put_object: "users--, then up_read(destroy_rwsem). The second touch of obj happens after users may
  // have reached the value that lets another thread free it."
  putObject: (local) => [
    step(`iommufd_put_object: refcount_dec(&${local}->users)`, { op: 'refcount', call: 'refcount_dec', ptr: local, field: 'users' }),
    step(`iommufd_put_object: up_read(&${local}->destroy_rwsem)`, { op: 'up_read', sem: 'destroy_rwsem', ptr: local }),
  ],

  // A.6 v6.2 iommufd_object_destroy_user: down_write waits for short-term readers; under xa_lock the caller's users
  // reference goes and refcount_dec_if_one takes the xarray's, or it returns false.
  destroyUser: (local, notDestroyed, callerRef) => [
    step(`down_write(&${local}->destroy_rwsem)`, { op: 'down_write', sem: 'destroy_rwsem', ptr: local }),
    ...atomic(`iommufd_object_destroy_user(ictx, ${local}): under xa_lock`, [
      xaLock,
      callersPut(local, callerRef),
      step(`if (!refcount_dec_if_one(&${local}->users))`, { op: 'refcount', call: 'refcount_dec_if_one', ptr: local, field: 'users', for: 'objects' }, { fail: `${local}_busy` }),
      step(`__xa_erase(&ictx->objects, ${local}->id)`, { op: 'xa_erase', space: 'objects', ptr: local }),
      xaUnlock,
      step(`up_write(&${local}->destroy_rwsem)`, { op: 'up_write', sem: 'destroy_rwsem', ptr: local }),
      jump(`${local}_destroy`),
      label(`${local}_busy`),
      xaUnlock,
      step(`up_write(&${local}->destroy_rwsem)`, { op: 'up_write', sem: 'destroy_rwsem', ptr: local }),
      jump(notDestroyed),
      label(`${local}_destroy`),
    ]),
    ...destroyAndFree(local),
  ],
  // Seed 002 iommufd_destroy: get_object(ANY), then ref_to_users ("See iommufd_ref_to_users"), then destroy_user; false is -EBUSY.
  destroyIoctl: (id) => [
    ...v62GetAny(id),
    ...refToUsers('obj'),
    ...v62.destroyUser('obj', 'busy'),
    { ret: 0 },
    label('busy'),
    { ret: 'errno' },
    label('out'),
    { ret: 'errno' },
  ],
  // device.c v6.2 iommufd_device_detach: "if (hwpt->auto_domain) iommufd_object_destroy_user(idev->ictx, &hwpt->obj);".
  putAndTryDestroy: (local, done) => [...v62.destroyUser(local, done), jump(done)],
};

const v62GetAny = (id: string) => v62.getObject('obj', id, 'any', 'out');

/** v6.2 `iommufd_ref_to_users(obj)` (seed 002: "Switch from destroy_rwsem to users refcount protection"): the short-term hold goes, the users reference stays. Gone in v6.7 (6f9c4d8c468c). */
export const refToUsers = (local: string): Item[] => [step(`iommufd_ref_to_users(${local})`, { op: 'up_read', sem: 'destroy_rwsem', ptr: local })];

/**
 * v6.7 `iommufd_object_dec_wait_shortterm(ictx, obj)` (main.c): drop a short-term reference, then wait (10 s) for the
 * rest. With `timedOut`, the wait may time out (a short-term holder can be an ioctl that sleeps). Without, the model
 * waits on where the kernel gives up after 10 s with WARN_ON(ret) and leaks the erased object: after an erase
 * "any positive users_shortterm must be racing iommufd_put_object()", which always finishes at once, so only a
 * leaked count keeps the model waiting, and then for ever (the no-deadlock property's finding).
 */
function decWaitShortterm(local: string, done: string, timedOut: string | undefined, forTable: boolean): Item[] {
  const on = forTable ? { for: 'objects' } : {};
  const wait = `wait_event_timeout(ictx->destroy_wait, refcount_read(&${local}->shortterm_users) == 0, msecs_to_jiffies(10000))`;
  return [
    step(`if (refcount_dec_and_test(&${local}->shortterm_users))`, { op: 'refcount', call: 'refcount_dec_and_test', ptr: local, field: 'shortterm_users', ...on }, { zero: done }),
    timedOut === undefined
      ? step(wait, { op: 'wait', ptr: local, field: 'shortterm_users', until: 'zero' })
      : step(wait, { op: 'wait', ptr: local, field: 'shortterm_users', until: 'zero', timeout: '-EBUSY' }, { fail: timedOut }),
  ];
}

/** v6.7 (6f9c4d8c468c, 99f98a7c0d69; main.c of v6.7): shortterm_users with the xarray's bias, and the ctx's destroy_wait. */
export const v67: Core = {
  name: 'v6.7',
  header: {
    users: { type: 'refcount', max: 5 },
    // A.6 v6.7 _iommufd_object_alloc: "shortterm_users=1 (the XArray's bias)".
    shortterm_users: { type: 'refcount', max: 4, init: 1 },
  },
  holds: ['users', 'shortterm_users'],
  getObject: (into, id, type, fail) =>
    getObject(into, id, type, fail, {
      // A.6 v6.7 iommufd_lock_obj: "refcount_inc_not_zero(users), then refcount_inc_not_zero(shortterm_users). If the second fails, undo the first."
      lock: [
        step(`refcount_inc_not_zero(&${into}->users)`, { op: 'refcount', call: 'refcount_inc_not_zero', ptr: into, field: 'users' }, { fail: `${into}_unlock` }),
        step(`refcount_inc_not_zero(&${into}->shortterm_users)`, { op: 'refcount', call: 'refcount_inc_not_zero', ptr: into, field: 'shortterm_users' }, { fail: `${into}_undo` }),
      ],
      undo: step(`refcount_dec(&${into}->users)`, { op: 'refcount', call: 'refcount_dec', ptr: into, field: 'users' }),
    }),
  // A.6 v6.7 put: "users-- first, then shortterm_users--; when that reaches 0, wake_up_interruptible_all(&ictx->destroy_wait)".
  putObject: (local) => [
    step(`iommufd_put_object: refcount_dec(&${local}->users)`, { op: 'refcount', call: 'refcount_dec', ptr: local, field: 'users' }),
    step(`iommufd_put_object: refcount_dec_and_test(&${local}->shortterm_users)`, { op: 'refcount', call: 'refcount_dec_and_test', ptr: local, field: 'shortterm_users' }),
  ],
  // A.6 v6.7 iommufd_object_remove(ictx, obj, obj->id, REMOVE_WAIT_SHORTTERM): drop the bias and wait, then under
  // xa_lock put the caller's users and take the xarray's with refcount_dec_if_one; iommufd_object_destroy_user WARNs on failure.
  destroyUser: (local, notDestroyed, callerRef) => [
    ...decWaitShortterm(local, `${local}_zerod`, `${local}_timeout`, true),
    label(`${local}_zerod`),
    ...atomic(`iommufd_object_remove(ictx, ${local}, ${local}->id, REMOVE_WAIT_SHORTTERM): under xa_lock`, [
      xaLock,
      callersPut(local, callerRef),
      step(`if (!refcount_dec_if_one(&${local}->users))`, { op: 'refcount', call: 'refcount_dec_if_one', ptr: local, field: 'users', for: 'objects' }, { fail: `${local}_err_xa` }),
      step(`xas_store(&xas, NULL)`, { op: 'xa_erase', space: 'objects', ptr: local }),
      xaUnlock,
      jump(`${local}_destroy`),
      label(`${local}_err_xa`),
      // "Restore the xarray owned reference".
      step(`refcount_set(&${local}->shortterm_users, 1)`, { op: 'refcount', call: 'refcount_set', ptr: local, field: 'shortterm_users', for: 'objects' }),
      xaUnlock,
      jump(notDestroyed),
      label(`${local}_destroy`),
    ]),
    ...destroyAndFree(local),
    jump(`${local}_destroyed`),
    label(`${local}_timeout`),
    // A.6: "On timeout: pr_crit, restore the bias, users-- (the caller's), return -EBUSY" (no xa_lock held).
    ...atomic(`iommufd_object_dec_wait_shortterm(ictx, ${local}) timed out`, [
      step(`pr_crit(...); refcount_inc(&${local}->shortterm_users)`, { op: 'refcount', call: 'refcount_inc', ptr: local, field: 'shortterm_users', for: 'objects' }),
      callersPut(local, callerRef),
    ]),
    jump(notDestroyed),
    label(`${local}_destroyed`),
  ],
  // A.6 v6.5-rc4+: IOMMU_DESTROY is iommufd_object_remove(ictx, NULL, id, 0): "No refcount increment on this path".
  destroyIoctl: (id) => [
    ...atomic(`iommufd_object_remove(ictx, NULL, ${id}, 0): under xa_lock`, [
      xaLock,
      step(`obj = xas_load(&xas)`, { op: 'xa_load', space: 'objects', id, into: 'obj' }),
      step('if (xa_is_zero(obj) || !obj)', { op: 'if_null', ptr: 'obj', errno: '-ENOENT' }, { fail: 'err_xa' }),
      step('if (!refcount_dec_if_one(&obj->users))', { op: 'refcount', call: 'refcount_dec_if_one', ptr: 'obj', field: 'users', for: 'objects' }, { fail: 'err_xa' }),
      step('xas_store(&xas, NULL)', { op: 'xa_erase', space: 'objects', ptr: 'obj' }),
      xaUnlock,
      jump('removed'),
      label('err_xa'),
      xaUnlock,
      { ret: 'errno' },
      label('removed'),
    ]),
    // "Since users is zero any positive users_shortterm must be racing iommufd_put_object(), or we have a bug."
    ...decWaitShortterm('obj', 'destroy', undefined, false),
    label('destroy'),
    ...destroyAndFree('obj'),
    { ret: 0 },
  ],
  // iommufd_private.h v6.7 iommufd_object_put_and_try_destroy: iommufd_object_remove(ictx, obj, obj->id, 0): the
  // caller's users reference goes under xa_lock; the xarray's too if it is the last (-EBUSY, ignored, if not).
  putAndTryDestroy: (local, done) => [
    ...atomic(`iommufd_object_put_and_try_destroy(ictx, &${local}->obj): under xa_lock`, [
      xaLock,
      callersPut(local, undefined),
      step(`if (!refcount_dec_if_one(&${local}->users))`, { op: 'refcount', call: 'refcount_dec_if_one', ptr: local, field: 'users', for: 'objects' }, { fail: `${local}_busy` }),
      step('xas_store(&xas, NULL)', { op: 'xa_erase', space: 'objects', ptr: local }),
      xaUnlock,
      jump(`${local}_erased`),
      label(`${local}_busy`),
      xaUnlock,
      jump(done),
      label(`${local}_erased`),
    ]),
    ...decWaitShortterm(local, `${local}_destroy`, undefined, false),
    label(`${local}_destroy`),
    ...destroyAndFree(local),
    jump(done),
  ],
};

/** The kinds of a design: each object is a `struct iommufd_object` header and the pointers its type adds. */
export function kinds(core: Core): Record<Kind | 'ctx', KindSpec> {
  const header = core.header;
  // A driver's pointer to the ctx it got from the fd holds a file reference (iommufd_ctx_get is get_file, A.6).
  const ictx = { type: 'pointer', kind: 'ctx', holds: 'f_count' } as const;
  return {
    // struct iommufd_ctx, in its struct file: f_count counts the fd's reference and each driver's iommufd_ctx_get.
    ctx: { slots: 1, fields: { f_count: { type: 'refcount', max: 4 } } },
    ioas: { slots: 1, fields: { ...header } },
    // hw_pagetable.c: "Pairs with iommufd_hw_pagetable_destroy()": refcount_inc(&ioas->obj.users); hwpt_paging->ioas = ioas.
    hwpt_paging: {
      slots: 1,
      // hw_pagetable.c: hwpt_paging->auto_domain, set when attach made the hwpt for an IOAS (detach then destroys it).
      fields: { ...header, ioas: { type: 'pointer', kind: 'ioas', holds: 'users' }, auto_domain: { type: 'counter', max: 1 } },
    },
    // hw_pagetable.c v6.7 iommufd_hwpt_nested_alloc: refcount_inc(&parent->common.obj.users); hwpt_nested->parent = parent.
    hwpt_nested: { slots: 1, fields: { ...header, parent: { type: 'pointer', kind: 'hwpt_paging', holds: 'users' } } },
    device: {
      slots: 1,
      fields: {
        ...header,
        // device.c do_attach: refcount_inc(&hwpt->obj.users); the device's group points to it (igroup->hwpt in v6.7).
        hwpt: { type: 'pointer', kind: ['hwpt_paging', 'hwpt_nested'], holds: 'users' },
        // device.c iommufd_device_attach: refcount_inc(&idev->obj.users), "Pairs with iommufd_device_detach()";
        // vfio records the attachment in vdev->iommufd_attached, which holds that reference here.
        iommufd_attached: { type: 'counter', max: 1, holds: 'users' },
        // device.c iommufd_device_bind: idev->ictx = ictx; iommufd_ctx_get(ictx) (put by iommufd_device_destroy).
        ictx,
      },
    },
    // device.c iommufd_access_change_ioas: refcount_inc(&new_ioas->obj.users); access->ioas = new_ioas.
    access: {
      slots: 1,
      // vfio's vdev->iommufd_attached for an emulated device (v6.7's iommufd_access_attach).
      // device.c iommufd_access_create: access->ictx = ictx; iommufd_ctx_get(ictx).
      fields: { ...header, ioas: { type: 'pointer', kind: 'ioas', holds: 'users' }, iommufd_attached: { type: 'counter', max: 1 }, ictx },
    },
  };
}

/** The id spaces: the ctx's objects xarray (XA_FLAGS_ALLOC1, lowest free id), and the drivers' own pointers to what they own. */
export function spaces(core: Core): Record<string, SpaceSpec> {
  return {
    // The process's fd table: its fd for /dev/iommu holds a reference on the file.
    files: { kind: 'ctx', holds: 'f_count', lock: 'file_lock' },
    // A.6: "objects: an XArray with XA_FLAGS_ALLOC1"; the xarray holds one users reference (and v6.7's shortterm bias).
    objects: { kind: [...KINDS], holds: core.holds, lock: 'xa_lock' },
    // device.c iommufd_device_bind: "The calling driver is a user until iommufd_device_unbind()" (vdev->iommufd_device).
    bound: { kind: 'device', holds: 'users', lock: 'dev_set' },
    // device.c iommufd_access_create: "The calling driver is a user until iommufd_access_destroy()" (vdev->iommufd_access).
    accesses: { kind: 'access', holds: 'users', lock: 'dev_set' },
  };
}
