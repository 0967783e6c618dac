/**
 * What a reviewer of iommufd's object lifetimes asks, beside the kit's stock
 * properties (no use after free, counts matching their holders, error
 * paths that change nothing, no deadlock, no free while referenced, no
 * spurious timeout), each with its source (seed 002, kernel-semantics A.6
 * and D). They read worlds and the kit's own records (ids, entries,
 * pointers, holders), so a user's patched call is judged by the same rules.
 */
import { actor, callOf, eachThread, entryIndex, entryOf, fire, holders, initialState, nextStep, objName, sameObject, type AnyStateMachine, type Item, type KitSpec, type KitWorld, type Local, type Property } from 'lifecheck';
import { CMD_BASE, ioctlCalls, ioctlOps, VFIO_COMPAT, type IoctlCall } from './dispatch.ts';

/** A design: the kit's spec, and the ioctl dispatcher in front of its calls. */
export interface IommufdSpec extends KitSpec {
  readonly dispatch: AnyStateMachine;
}

type IommufdProperty = Property<KitWorld, IommufdSpec>;

const ID_MIN = 1;

/** The object an id of the objects xarray names in `world`, with its slot and record, if it names a published one. */
function published(world: KitWorld, id: number) {
  const e = entryOf(world.spaces.objects?.[id - ID_MIN]);
  return e && { ...e, obj: world.objects[e.kind]![e.slot]! };
}

/** Who holds users references on an object besides the xarray and thread `t`'s own pointers. */
function otherUsers(spec: KitSpec, world: KitWorld, t: number, e: { kind: string; slot: number; obj: KitWorld['objects'][string][number] }): string[] {
  const held = holders(spec, world, e.kind, e.slot, e.obj, 'users');
  return [...held.keys()].filter((h) => !h.startsWith('objects[') && !h.startsWith(`${actor(world, t)}'s `));
}

const hold = (who: readonly string[]) => `${who.join(', ')} ${who.length === 1 ? 'holds a users reference' : 'hold users references'}`;

export const destroyBusyIffHeld: IommufdProperty = {
  id: 'destroy-busy-iff-held',
  title: 'IOMMU_DESTROY returns -EBUSY exactly while another holder has a users reference, and erases the object otherwise',
  source: 'seed 002 ("With users protection iommufd_object_destroy_user() will return -EBUSY"); kernel-semantics D.1',
  kind: 'step',
  check(move, spec) {
    const { before, step, reply } = move;
    const th = before.threads[step.thread]!;
    if ((th.call ?? step.op) !== 'IOMMU_DESTROY') return undefined;
    const id = th.call === null ? Number(step.args[0]) : (th.frame.id as number);
    const was = published(before, id);
    if (!was) return undefined;
    const now = published(move.after, id);
    const erased = !now || now.slot !== was.slot || now.gen !== was.gen;
    const busy = reply.text.startsWith('-EBUSY');
    if (!erased && !busy) return undefined;
    const others = otherUsers(spec, before, step.thread, was);
    const name = objName(was.kind, was.slot, was.gen);
    if (erased && others.length) return `IOMMU_DESTROY(${id}) erased ${name} while ${hold(others)}`;
    if (busy && !others.length) return `IOMMU_DESTROY(${id}) = -EBUSY, but nobody else holds ${name}`;
    return undefined;
  },
};

/** The kernel destroys (A.6: "Kernel callers (iommufd_device_unbind, iommufd_access_destroy) WARN_ON(!destroyed)"). */
const KERNEL_DESTROYS = ['iommufd_device_unbind', 'iommufd_access_destroy'];

export const kernelDestroyCompletes: IommufdProperty = {
  id: 'kernel-destroy-completes',
  title: "a kernel destroy (unbind, access destroy) is never refused: its refcount_dec_if_one finds no other users (a timed-out wait is no-spurious-timeout's to judge)",
  source: 'seed 002 ("something like that can always be destroyed ... we require it as part of the driver facing API"); kernel-semantics D.3',
  kind: 'step',
  check({ before, step, reply }, spec) {
    const th = before.threads[step.thread]!;
    const call = th.call ?? step.op;
    // A wait the explorer timed out carries its errno as the step's argument; that is a timeout, not a refusal.
    if (!KERNEL_DESTROYS.includes(call) || !reply.text.startsWith('-EBUSY') || step.args.some((a) => typeof a === 'string')) return undefined;
    // The refusal is the destroy's own: a refcount_dec_if_one of the step (or its block) on the device or access.
    // (Detach's put of an auto domain hwpt may be refused: the kernel lets that one fail.)
    const next = nextStep(spec, before, step);
    const c = callOf(spec, call);
    const block = next.atomic ? c.items.filter((i) => 'fn' in i && i.atomic === next.atomic) : [next];
    const decIfOne = block.flatMap((i) => ('fn' in i && i.action.op === 'refcount' && i.action.call === 'refcount_dec_if_one' ? [i.action.ptr] : []));
    const p = decIfOne.map((local) => th.frame[local]).find((v) => v !== null && typeof v === 'object' && (v.kind === 'device' || v.kind === 'access'));
    if (!p || typeof p !== 'object') return undefined;
    const o = before.objects[p.kind]![p.slot]!;
    const others = [...holders(spec, before, p.kind, p.slot, o, 'users').keys()].filter((h) => !h.startsWith('objects[') && !h.startsWith('bound[') && !h.startsWith('accesses[') && !h.startsWith(`${actor(before, step.thread)}'s `));
    return `${call} could not destroy ${objName(p.kind, p.slot, p.gen)} (-EBUSY)${others.length ? `: ${hold(others)}` : ''}`;
  },
};

/** The id local an abort block erases (`old = xa_erase(&ictx->objects, X->obj.id)`), from the thread's next steps. */
function abortedId(spec: KitSpec, world: KitWorld, t: number): number | undefined {
  const th = world.threads[t]!;
  const first = nextStep(spec, world, { thread: t, op: th.call ?? '', args: [] });
  if (th.call === null || !first.atomic?.fn.startsWith('iommufd_object_abort')) return undefined;
  const items = callOf(spec, th.call).items.slice(th.pc);
  for (const item of items) {
    if (!('fn' in item) || item.atomic !== first.atomic) break;
    if (item.action.op === 'xa_erase' && item.action.id !== undefined) return th.frame[item.action.id] as number;
  }
  return undefined;
}

export const finalizeXorAbort: IommufdProperty = {
  id: 'finalize-xor-abort',
  title: 'an object is finalized or aborted, once, never both: only a reserved id is published or aborted',
  source: 'seed 002 ("must use iommufd_object_abort() to handle their errors and only call iommufd_object_finalize() once object creation cannot fail"); A.6',
  kind: 'step',
  check({ before, step }, spec) {
    const th = before.threads[step.thread]!;
    if (th.call === null) return undefined;
    const next = nextStep(spec, before, step);
    const finalizing = next.action.op === 'xa_store' && next.action.space === 'objects';
    const id = finalizing ? (th.frame[(next.action as { id: string }).id] as number) : abortedId(spec, before, step.thread);
    if (id === undefined) return undefined;
    const slot = before.spaces.objects![id - ID_MIN];
    if (slot === 'reserved') return undefined;
    const what = slot ? `already finalized as ${objName(slot.kind, slot.slot, slot.gen)}` : 'not reserved';
    return `${actor(before, step.thread)} ${finalizing ? 'finalizes' : 'aborts'} id ${id}, ${what}`;
  },
};

const finalizedAhead = new WeakMap<object, string[][]>();

/** The locals a call finalizes (its `xa_store`s into the xarray) from item `pc` on, per call and pc computed once: the invariant asks at every world. */
function finalizesFrom(items: readonly Item[], pc: number): readonly string[] {
  let byPc = finalizedAhead.get(items);
  if (!byPc) finalizedAhead.set(items, (byPc = []));
  return (byPc[pc] ??= items.slice(pc).flatMap((i) => ('fn' in i && i.action.op === 'xa_store' && i.action.space === 'objects' ? [i.action.ptr] : [])));
}

/** The objects thread `t` has allocated and not yet finalized: pointers whose finalize is still ahead in its call. */
function unfinalized(spec: KitSpec, world: KitWorld, t: number): readonly string[] {
  const th = world.threads[t]!;
  if (th.call === null) return [];
  return finalizesFrom(callOf(spec, th.call).items, th.pc).filter((local) => local in th.frame);
}

// Each creator on its own: most threads create nothing, and their verdicts are met again in most worlds.
export const invisibleUntilFinalized: IommufdProperty = eachThread<IommufdSpec>({
  id: 'invisible-until-finalized',
  title: 'nobody but its creator reaches an object before the creator finalizes it',
  source: 'seed 002 ("Once another thread can see the object pointer it can prevent object destruction"); A.6 RESERVED, D.4',
  check(world, t, spec) {
    for (const local of unfinalized(spec, world, t)) {
      const p = world.threads[t]!.frame[local];
      if (p === null || p === undefined || typeof p !== 'object') continue;
      const o = world.objects[p.kind]![p.slot]!;
      if (o.gen !== p.gen || o.state !== 'live') continue;
      const same = (q: Local) => q !== null && typeof q === 'object' && sameObject(q, p);
      const name = objName(p.kind, p.slot, p.gen);
      const other = world.threads.findIndex((u, k) => k !== t && Object.values(u.frame).some(same));
      if (other >= 0) return `${actor(world, other)} holds ${name}, which ${actor(world, t)} has not finalized yet`;
      const id = entryIndex(world, 'objects', p);
      if (id >= 0) return `${name} is published as id ${id + ID_MIN} before ${actor(world, t)} finalizes it`;
    }
    return undefined;
  },
});

export const releaseDestroysAll: IommufdProperty = {
  id: 'release-destroys-all',
  title: 'releasing the file destroys every object, leaves first, and leaks none',
  source: 'seed 002 ("the refcount is defined so that it must be unheld internally in the kernel when the fd is released"); A.6 iommufd_fops_release',
  kind: 'final',
  check(world, spec) {
    // The release ran: the exit finished, and the ctx is freed (no driver held it any more).
    const released = world.exited && world.threads.every((th) => th.call === null) && world.objects.ctx?.every((o) => o.state === 'free');
    if (!released || !spec.exit) return undefined;
    for (const [kind, slots] of Object.entries(world.objects)) {
      for (const [slot, o] of slots.entries()) {
        if (o.state !== 'live') continue;
        const counts = Object.entries(o.fields).map(([f, n]) => `${f}=${n}`).join(' ');
        return `${objName(kind, slot, o.gen)} is left after ${spec.exit.name} (${counts})`;
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

const dispatchFindings = new WeakMap<AnyStateMachine, string | null>();

/** The first malformed call the dispatcher answers out of order, if any (once per machine: it is a pure function). */
function misordered(dispatch: AnyStateMachine): string | undefined {
  let found = dispatchFindings.get(dispatch);
  if (found === undefined) {
    found = null;
    for (const [name, c] of Object.entries(ioctlCalls)) {
      const got = fire<object>(dispatch, initialState(dispatch), { type: 'IOCTL', ...c }).reply.text;
      const want = expectedErrno(c);
      if (got !== want) {
        found = `iommufd_fops_ioctl (${name}) returns ${got}, expected ${want}`;
        break;
      }
    }
    dispatchFindings.set(dispatch, found);
  }
  return found ?? undefined;
}

export const ioctlErrnoOrder: IommufdProperty = {
  id: 'ioctl-errno-order',
  title: 'a malformed ioctl gets ENOTTY, EFAULT, ENOTTY, EINVAL, E2BIG in that order of precedence',
  source: 'seed 002 (iommufd_fops_ioctl review); kernel-semantics A.6 ioctl dispatch, D.6',
  kind: 'invariant',
  check: (_world, spec) => misordered(spec.dispatch),
};

export const iommufdProperties: readonly IommufdProperty[] = [
  destroyBusyIffHeld,
  kernelDestroyCompletes,
  finalizeXorAbort,
  invisibleUntilFinalized,
  releaseDestroysAll,
  ioctlErrnoOrder,
];

