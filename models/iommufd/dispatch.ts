/**
 * iommufd's ioctl dispatch (`iommufd_fops_ioctl`, kernel-semantics A.6) as an
 * xstate machine: one IOCTL event, and the guards in the order the kernel
 * checks them, so the errno precedence reads top to bottom.
 */
import { assign, err, ok, setup, type Reply } from 'lifecheck';

/** A.6: IOMMUFD_CMD_BASE; iommufd's ioctls are `_IO(IOMMUFD_TYPE, nr)`, IOMMUFD_TYPE being ';'. */
export const CMD_BASE = 0x80;
export const IOMMUFD_TYPE = 0x3b;
/** `_IO(type, nr)`: no direction or size bits. */
export const ioctlNumber = (nr: number, type = IOMMUFD_TYPE): number => (type << 8) | nr;

/** One entry of `iommufd_ioctl_ops[]`: its number, kernel struct size and `offsetofend` of the last mandatory field. */
export interface IoctlOp {
  readonly name: string;
  readonly num: number;
  readonly size: number;
  readonly minSize: number;
}

/** The first entries of the uapi table (struct sizes from include/uapi/linux/iommufd.h). */
export const ioctlOps: readonly IoctlOp[] = [
  { name: 'IOMMU_DESTROY', num: ioctlNumber(0x80), size: 8, minSize: 8 },
  { name: 'IOMMU_IOAS_ALLOC', num: ioctlNumber(0x81), size: 12, minSize: 12 },
  { name: 'IOMMU_IOAS_ALLOW_IOVAS', num: ioctlNumber(0x82), size: 16, minSize: 16 },
];

/** What user space passes: the command, whether `arg` is readable, the size in its first u32, and the bytes past the kernel's struct. */
export interface IoctlCall {
  readonly cmd: number;
  readonly readable: boolean;
  readonly userSize: number;
  readonly trailingNonZero: boolean;
}

export type DispatchEvent = { readonly type: 'IOCTL' } & IoctlCall;

const opOf = (cmd: number, ops: readonly IoctlOp[]) => ops[(cmd & 0xff) - CMD_BASE];

export const dispatchSetup = setup({
  types: {
    context: {} as { readonly ops: readonly IoctlOp[]; reply: Reply },
    events: {} as DispatchEvent,
  },
  guards: {
    // A.6 step 1: "nr < IOMMUFD_CMD_BASE or the index is beyond the op table" -> vfio compat -> -ENOIOCTLCMD.
    outOfTable: ({ context, event }) => (event.cmd & 0xff) < CMD_BASE || opOf(event.cmd, context.ops) === undefined,
    // A.6 step 2: get_user(user_size, arg) "happens before the exact-number check".
    unreadable: ({ event }) => !event.readable,
    // A.6 step 3: op->ioctl_num != cmd (seed 002: "return -ENOIOCTLCMD").
    mismatched: ({ context, event }) => opOf(event.cmd, context.ops)?.num !== event.cmd,
    // A.6 step 4 / seed 002: "if (ucmd.user_size < op->min_size)".
    tooShort: ({ context, event }) => event.userSize < (opOf(event.cmd, context.ops)?.minSize ?? 0),
    // A.6 step 5: copy_struct_from_user: "user_size > kernel size and any extra byte is non-zero".
    unknownBytes: ({ context, event }) =>
      event.userSize > (opOf(event.cmd, context.ops)?.size ?? 0) && event.trailingNonZero,
  },
  actions: {
    reply: assign((_, params: Reply) => ({ reply: params })),
  },
});

/** The guards in dispatch order; a patch reorders them or changes an errno. */
export const dispatchOrder = [
  // Seed 002: "in ioctl handlers you return ENOTTY by returning ENOIOCTLCMD which is then converted to ENOTTY in vfs_ioctl()".
  { guard: 'outOfTable', actions: err('-ENOTTY') },
  { guard: 'unreadable', actions: err('-EFAULT') },
  { guard: 'mismatched', actions: err('-ENOTTY') },
  // Seed 002 review (Kevin Tian): "-EINVAL?" Jason: "Yes".
  { guard: 'tooShort', actions: err('-EINVAL') },
  { guard: 'unknownBytes', actions: err('-E2BIG') },
  // A.6 step 6: op->execute(&ucmd).
  { actions: ok('execute') },
] as const;

export function dispatchMachine(order: readonly (typeof dispatchOrder)[number][] = dispatchOrder) {
  return dispatchSetup.createMachine({
    id: 'iommufd-ioctl',
    initial: 'ready',
    context: { ops: ioctlOps, reply: { ok: true, text: '' } },
    states: { ready: { on: { IOCTL: [...order] } } },
  });
}

/** v6.2 as merged (seed 002 with the review applied). */
export const mergedDispatch = dispatchMachine();

/** Seed 002 as posted (v3 05/15): "if (ucmd.user_size < op->min_size) return -EOPNOTSUPP;". */
export const postedDispatch = dispatchMachine(
  dispatchOrder.map((rule) => ('guard' in rule && rule.guard === 'tooShort' ? { guard: 'tooShort', actions: err('-EOPNOTSUPP') } : rule)),
);

const destroy = ioctlOps[0]!;

/**
 * Malformed calls a thread makes in the model, each a pair of faults whose
 * errnos the dispatch order tells apart (A.6, D.6), and two well-formed ones.
 */
export const ioctlCalls: Readonly<Record<string, IoctlCall>> = {
  'below-base,unreadable': { cmd: ioctlNumber(CMD_BASE - 1), readable: false, userSize: 8, trailingNonZero: false },
  'past-table,unreadable': { cmd: ioctlNumber(CMD_BASE + ioctlOps.length), readable: false, userSize: 8, trailingNonZero: false },
  'mismatched,unreadable': { cmd: destroy.num | (8 << 16), readable: false, userSize: 8, trailingNonZero: false },
  'mismatched,short': { cmd: destroy.num | (8 << 16), readable: true, userSize: 4, trailingNonZero: false },
  short: { cmd: destroy.num, readable: true, userSize: 4, trailingNonZero: false },
  'long,non-zero': { cmd: destroy.num, readable: true, userSize: 16, trailingNonZero: true },
  'long,zero': { cmd: destroy.num, readable: true, userSize: 16, trailingNonZero: false },
  exact: { cmd: destroy.num, readable: true, userSize: 8, trailingNonZero: false },
};
