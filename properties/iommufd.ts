/**
 * What must always hold of iommufd's objects (seed 002, kernel-semantics A.6
 * and D), each with its source. Properties read effects (worlds before and
 * after a step), not the programs that caused them, so a user's patch with
 * other programs is checked by the same rules.
 */
import type { Move, Property } from 'lifecheck';
import { CMD_BASE, ioctlCalls, ioctlOps, VFIO_COMPAT, type IoctlCall } from '../models/iommufd/dispatch.ts';
import { inXarray } from '../models/iommufd/objects.ts';
import {
  byId,
  objectOf,
  objName,
  threadName,
  usersOwed,
  type IommufdConfig,
  type IommufdWorld,
  type Op,
} from '../models/iommufd/world.ts';

type IommufdProperty = Property<IommufdWorld, IommufdConfig>;

/** The call a step belongs to: the one in progress before it, or the one it starts. */
const callOf = ({ before, step }: Move<IommufdWorld>): Op | undefined =>
  before.threads[step.thread]?.run?.op ?? (step.op as Op);

/** The step finished its thread's call (exit and a malformed ioctl are no calls). */
const endsCall = ({ step, after }: Move<IommufdWorld>): boolean =>
  step.thread < after.threads.length && step.op !== 'exit' && step.op !== 'ioctl' && !after.threads[step.thread]!.run;

/** Every reference the world records, with who holds it. */
function references(world: IommufdWorld): { serial: number; who: string }[] {
  const refs: { serial: number; who: string }[] = [];
  world.threads.forEach((th, t) => {
    const name = threadName(world, t);
    for (const h of th.holds) refs.push({ serial: h.serial, who: `${name} (${h.short ? 'iommufd_get_object' : 'users ref'})` });
    for (const s of th.owns) refs.push({ serial: s, who: `${name}'s driver` });
    // 002: "Once another thread can see the object pointer it can prevent object destruction": the creator's
    // claim ends at iommufd_object_finalize, after which the xarray, not the creator, keeps the object (A.6).
    // A design that still touches it after finalizing is caught through its other holders and finalize-xor-abort.
    const creating = th.run?.obj !== undefined && objectOf(world, th.run.obj)?.state.value === 'reserved';
    if (creating) refs.push({ serial: th.run!.obj!, who: `${name}, which is creating it` });
  });
  for (const o of world.objects) {
    if (o.parent !== undefined) refs.push({ serial: o.parent, who: `${objName(o)}, which depends on it` });
    if (o.attachedTo !== undefined) refs.push({ serial: o.attachedTo, who: `${objName(o)}, attached to it` });
  }
  return refs;
}

/** An object by serial, named as it was in `world` (it may be gone from a later one). */
const nameIn = (world: IommufdWorld, serial: number) => {
  const o = objectOf(world, serial);
  return o ? objName(o) : `object #${serial}`;
};

export const invisibleUntilFinalized: IommufdProperty = {
  id: 'invisible-until-finalized',
  title: 'no lookup or IOMMU_DESTROY sees a reserved object before it is finalized',
  source: 'seed 002 ("Once another thread can see the object pointer it can prevent object destruction"); A.6 RESERVED',
  kind: 'step',
  check({ before, step, after }) {
    for (const o of before.objects.filter((x) => x.state.value === 'reserved')) {
      const now = objectOf(after, o.serial);
      const held = after.threads.findIndex((th) => th.holds.some((h) => h.serial === o.serial));
      if (now?.state.value === 'reserved' && held >= 0) {
        return `${threadName(after, held)} looked up ${objName(o)} while it is reserved (not finalized)`;
      }
      const creator = before.threads.findIndex((th) => th.run?.obj === o.serial);
      if (now?.state.value === 'removed' || (!now && step.thread !== creator)) {
        return `${threadName(after, step.thread)} destroyed ${objName(o)} while it is reserved by ${threadName(after, creator)}`;
      }
    }
    return undefined;
  },
};

export const finalizeXorAbort: IommufdProperty = {
  id: 'finalize-xor-abort',
  title: 'an object is finalized or aborted, once, never both',
  source: 'seed 002 ("must use iommufd_object_abort() to handle their errors and only call iommufd_object_finalize() once"); A.6',
  kind: 'step',
  check({ before, step }) {
    if (step.op !== 'finalize' && step.op !== 'abort') return undefined;
    const serial = before.threads[step.thread]?.run?.obj;
    const o = objectOf(before, serial);
    if (o?.state.value === 'reserved') return undefined;
    const was = o ? `already ${o.state.value === 'live' ? 'finalized' : o.state.value}` : 'already freed';
    return `${threadName(before, step.thread)} ${step.op === 'finalize' ? 'finalizes' : 'aborts'} ${o ? objName(o) : `object #${serial}`}, ${was}`;
  },
};

export const abortLeavesNothing: IommufdProperty = {
  id: 'abort-leaves-nothing',
  title: 'an abort leaves nothing behind: no id, no reference to the object, no users ref it took',
  source: 'seed 002 (iommufd_object_abort); kernel-semantics A.6 (abort "WARNs unless users drops to 0"), D.4',
  kind: 'step',
  check({ before, step, after }) {
    if (step.op !== 'abort') return undefined;
    const serial = before.threads[step.thread]!.run!.obj!;
    const o = objectOf(before, serial);
    if (!o) return undefined; // aborting what is already gone is finalize-xor-abort's finding
    const left = references(after).find((r) => r.serial === serial);
    if (left) return `${objName(o)} aborted, but ${left.who} still refers to it`;
    if (o.parent !== undefined) {
      const was = objectOf(before, o.parent)?.state.context.users ?? 0;
      const now = objectOf(after, o.parent)?.state.context.users ?? 0;
      if (now !== was - 1) return `${objName(o)} aborted, but ${nameIn(before, o.parent)} users went ${was}->${now}, not ${was - 1}`;
    }
    return undefined;
  },
};

export const noFreeWhileHeld: IommufdProperty = {
  id: 'no-free-while-held',
  title: 'no object is freed while a thread, a dependent object or a driver still refers to it',
  source: 'seed 002 ("Holding either of these will prevent the object from being destroyed"); kernel-semantics D.2',
  kind: 'step',
  check({ before, step, after }) {
    const freed = before.objects.filter((x) => !objectOf(after, x.serial));
    const refs = freed.length > 0 ? references(after) : [];
    for (const o of freed) {
      const left = refs.find((r) => r.serial === o.serial);
      if (left) return `${threadName(before, step.thread)} freed ${objName(o)} while ${left.who} still refers to it`;
    }
    return undefined;
  },
};

const holdUsers = (who: readonly string[]) => `${who.join(', ')} ${who.length === 1 ? 'holds a users ref' : 'hold users refs'}`;

/** The users refs on an object other than the xarray's and the caller's own (its lookup's, or its driver's). */
function otherUsers(world: IommufdWorld, serial: number, caller: number, own: 'lookup' | 'driver'): string[] {
  const owed = usersOwed(world, serial).filter((w) => w !== 'the xarray');
  const mine = owed.indexOf(`${threadName(world, caller)}'s ${own}`);
  return owed.filter((_, i) => i !== mine);
}

export const ebusyIffOtherUsers: IommufdProperty = {
  id: 'ebusy-iff-other-users',
  title: 'IOMMU_DESTROY returns -EBUSY exactly while other users remain, and then the object stays intact',
  source: 'seed 002 ("With users protection iommufd_object_destroy_user() will return -EBUSY"); kernel-semantics D.1',
  kind: 'step',
  check(move) {
    const { before, step, reply, after } = move;
    if (callOf(move) !== 'destroy') return undefined;
    const run = before.threads[step.thread]?.run;
    const target = run?.target ?? (typeof step.args[0] === 'number' ? byId(before, step.args[0])?.serial : undefined);
    const o = objectOf(before, target);
    if (!o || !inXarray(o.state.value)) return undefined;
    const now = objectOf(after, o.serial);
    const erased = !now || !inXarray(now.state.value);
    const busy = reply.text === '-EBUSY';
    if (!erased && !busy) return undefined;
    const others = otherUsers(before, o.serial, step.thread, 'lookup');
    if (erased && others.length > 0) return `IOMMU_DESTROY(${o.id}) erased ${objName(o)} while ${holdUsers(others)}`;
    if (busy && others.length === 0) return `IOMMU_DESTROY(${o.id}) = -EBUSY, but no one else holds ${objName(o)}`;
    if (busy && now?.state.value !== o.state.value) return `IOMMU_DESTROY(${o.id}) = -EBUSY, but ${objName(o)} went ${o.state.value} -> ${now?.state.value ?? 'freed'}`;
    return undefined;
  },
};

export const kernelDestroyCompletes: IommufdProperty = {
  id: 'kernel-destroy-completes',
  title: 'a kernel destroy (unbind, access destroy) destroys its object, or on a timeout leaves it intact for close',
  source: 'seed 002 ("something like that can always be destroyed ... we require it as part of the driver facing API"); D.3',
  kind: 'step',
  check(move) {
    const { before, step, reply, after } = move;
    const call = callOf(move);
    if ((call !== 'unbind' && call !== 'access_destroy') || !endsCall(move) || reply.ok) return undefined;
    const serial = before.threads[step.thread]!.run?.target;
    const o = objectOf(before, serial);
    const name = o ? objName(o) : 'its object';
    if (step.args[0] === 'timeout') {
      const now = objectOf(after, serial);
      return now?.state.value === 'live' ? undefined : `${name}: the wait timed out and the object is ${now?.state.value ?? 'freed'}`;
    }
    const others = serial === undefined ? [] : otherUsers(before, serial, step.thread, 'driver');
    return `${call === 'unbind' ? 'iommufd_device_unbind' : 'iommufd_access_destroy'}(${name}) = ${reply.text}${others.length ? `: ${holdUsers(others)}` : ''}`;
  },
};

export const noDeadlock: IommufdProperty = {
  id: 'no-deadlock',
  title: 'no thread waits for ever: whenever nothing can move, every thread has finished',
  source: 'seed 002 (destroy_rwsem: "iommufd_object_destroy_user() will wait for it to become unlocked"); design.md',
  kind: 'final',
  check(world) {
    const t = world.threads.findIndex((th) => th.run !== undefined);
    if (t < 0) return undefined;
    const run = world.threads[t]!.run!;
    const o = objectOf(world, run.target);
    const readers = world.threads.flatMap((th, i) =>
      th.holds.some((h) => h.serial === run.target && h.short) ? [threadName(world, i)] : [],
    );
    const on = o ? ` of ${objName(o)}` : '';
    const why = readers.length ? `, which ${readers.join(', ')} holds short-term (destroy_rwsem read side / shortterm_users)` : '';
    return `${threadName(world, t)} waits for ever in its ${run.op}${on}${why}`;
  },
};

export const releaseDestroysAll: IommufdProperty = {
  id: 'release-destroys-all',
  title: 'releasing the file destroys every object, leaves first, with no reference leaked',
  source: 'seed 002 ("the refcount is defined so that it must be unheld internally in the kernel when the fd is released"); A.6',
  kind: 'final',
  check(world) {
    if (!world.released) return undefined;
    if (world.releaseReply && !world.releaseReply.ok) return `iommufd_fops_release: ${world.releaseReply.text}`;
    const left = world.objects[0];
    return left && `${objName(left)} is left after release (${left.state.value}, users=${left.state.context.users})`;
  },
};

export const failedOpChangesNothing: IommufdProperty = {
  id: 'failed-op-changes-nothing',
  title: 'a call that fails leaves nothing of its own behind: no hold, no object, no attachment, no users ref',
  source: 'seed 002 (abort "to handle their errors"); design.md ("a failed operation leaves all visible state unchanged")',
  kind: 'step',
  check(move) {
    const { before, step, reply, after } = move;
    const call = callOf(move);
    if (reply.ok || !endsCall(move) || call === 'unbind' || call === 'access_destroy') return undefined;
    const th = after.threads[step.thread]!;
    const who = threadName(after, step.thread);
    const held = th.holds[before.threads[step.thread]!.run?.held ?? th.holds.length];
    if (held) return `${call} failed (${reply.text}) but ${who} still holds ${nameIn(after, held.serial)}`;
    const made = before.threads[step.thread]!.run?.obj;
    if (made !== undefined && objectOf(after, made)) return `${call} failed (${reply.text}) but ${nameIn(after, made)} it created is left`;
    const dev = before.threads[step.thread]!.owns.map((s) => objectOf(after, s)).find((o) => o?.attachedTo !== undefined);
    if (call === 'attach' && dev) return `attach failed (${reply.text}) but ${objName(dev)} is attached`;
    const touched = [before.threads[step.thread]!.run?.target, ...(typeof step.args[0] === 'number' ? [byId(before, step.args[0])?.serial] : [])];
    for (const serial of touched) {
      const o = objectOf(after, serial);
      if (o && o.state.context.users !== usersOwed(after, o.serial).length) {
        return `${call} failed (${reply.text}) but ${objName(o)} users=${o.state.context.users}, owed ${usersOwed(after, o.serial).length}`;
      }
    }
    return undefined;
  },
};

export const usersMatchHolders: IommufdProperty = {
  id: 'users-match-holders',
  title: 'users counts the xarray, each dependent, each kernel owner and each in-flight lookup',
  source: 'seed 002 ("users is the name of the variable and the refcount"); kernel-semantics D.1',
  kind: 'invariant',
  check(world) {
    for (const o of world.objects) {
      const owed = usersOwed(world, o.serial);
      if (o.state.context.users !== owed.length) {
        return `${objName(o)} users=${o.state.context.users}, but ${owed.length} hold it${owed.length ? ` (${owed.join(', ')})` : ''}`;
      }
    }
    return undefined;
  },
};

/** Kernel-semantics D.6, the errno a malformed ioctl must get, rule by rule in precedence order. */
export function expectedErrno(c: IoctlCall): string {
  const nr = c.cmd & 0xff;
  if (nr < CMD_BASE && VFIO_COMPAT.includes(c.cmd)) return 'vfio compat';
  // main.c checks only the table's length: an empty slot inside it goes on to get_user, then fails the number check.
  if (nr < CMD_BASE || nr - CMD_BASE >= ioctlOps.length) return '-ENOTTY';
  if (!c.readable) return '-EFAULT';
  const op = ioctlOps[nr - CMD_BASE];
  if (!op || op.num !== c.cmd) return '-ENOTTY';
  if (c.userSize < op.minSize) return '-EINVAL';
  if (c.userSize > op.size && c.trailingNonZero) return '-E2BIG';
  return 'execute';
}

export const ioctlErrnoOrder: IommufdProperty = {
  id: 'ioctl-errno-order',
  title: 'a malformed ioctl gets ENOTTY, EFAULT, ENOTTY, EINVAL, E2BIG in that order of precedence',
  source: 'seed 002 (iommufd_fops_ioctl review); kernel-semantics A.6 ioctl dispatch, D.6',
  kind: 'step',
  check({ step, reply }) {
    if (step.op !== 'ioctl') return undefined;
    const name = String(step.args[0]);
    const want = expectedErrno(ioctlCalls[name]!);
    return reply.text === want ? undefined : `ioctl (${name}) returned ${reply.text}, expected ${want}`;
  },
};

export const iommufdProperties: readonly IommufdProperty[] = [
  invisibleUntilFinalized,
  finalizeXorAbort,
  abortLeavesNothing,
  noFreeWhileHeld,
  ebusyIffOtherUsers,
  kernelDestroyCompletes,
  noDeadlock,
  releaseDestroysAll,
  failedOpChangesNothing,
  usersMatchHolders,
  ioctlErrnoOrder,
];
