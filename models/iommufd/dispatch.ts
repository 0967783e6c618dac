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

/**
 * The VFIO type1 ioctls iommufd's compat layer answers itself (vfio_compat.c
 * `iommufd_vfio_ioctl`, v6.7): VFIO_GET_API_VERSION, VFIO_CHECK_EXTENSION,
 * VFIO_SET_IOMMU (`_IO(VFIO_TYPE, VFIO_BASE + 0..2)`), VFIO_IOMMU_GET_INFO,
 * VFIO_IOMMU_MAP_DMA and VFIO_IOMMU_UNMAP_DMA (`VFIO_BASE + 12..14`); VFIO_TYPE is ';' too.
 */
export const VFIO_COMPAT: readonly number[] = [0x64, 0x65, 0x66, 0x70, 0x71, 0x72].map((nr) => ioctlNumber(nr));

/** One entry of `iommufd_ioctl_ops[]`: its number, kernel struct size and `offsetofend` of the last mandatory field. */
export interface IoctlOp {
  readonly name: string;
  readonly num: number;
  readonly size: number;
  readonly minSize: number;
}

/**
 * `iommufd_ioctl_ops[]` of v6.7: every ioctl of include/uapi/linux/iommufd.h,
 * at index `nr - CMD_BASE` (main.c lists them alphabetically, but IOCTL_OP's
 * designated initializer `[_IOC_NR(_ioctl) - IOMMUFD_CMD_BASE]` places each by
 * its number), so the rows run 0x80..0x8c without a hole. `size` is
 * `sizeof(struct)` under natural alignment (__aligned_u64 on 8), `minSize` is
 * `offsetofend(struct, last)` of the field IOCTL_OP names. IOMMU_TEST_CMD
 * (CMD_BASE + 32, CONFIG_IOMMUFD_TEST only) is no uapi and is left out.
 */
export const ioctlOps: readonly IoctlOp[] = [
  // struct iommu_destroy, offsetofend(..., id) (main.c v6.7)
  { name: 'IOMMU_DESTROY', num: ioctlNumber(0x80), size: 8, minSize: 8 },
  // struct iommu_ioas_alloc, offsetofend(..., out_ioas_id) (main.c v6.7)
  { name: 'IOMMU_IOAS_ALLOC', num: ioctlNumber(0x81), size: 12, minSize: 12 },
  // struct iommu_ioas_allow_iovas, offsetofend(..., allowed_iovas) (main.c v6.7)
  { name: 'IOMMU_IOAS_ALLOW_IOVAS', num: ioctlNumber(0x82), size: 24, minSize: 24 },
  // struct iommu_ioas_copy, offsetofend(..., src_iova) (main.c v6.7)
  { name: 'IOMMU_IOAS_COPY', num: ioctlNumber(0x83), size: 40, minSize: 40 },
  // struct iommu_ioas_iova_ranges, offsetofend(..., out_iova_alignment) (main.c v6.7)
  { name: 'IOMMU_IOAS_IOVA_RANGES', num: ioctlNumber(0x84), size: 32, minSize: 32 },
  // struct iommu_ioas_map, offsetofend(..., iova) (main.c v6.7)
  { name: 'IOMMU_IOAS_MAP', num: ioctlNumber(0x85), size: 40, minSize: 40 },
  // struct iommu_ioas_unmap, offsetofend(..., length) (main.c v6.7)
  { name: 'IOMMU_IOAS_UNMAP', num: ioctlNumber(0x86), size: 24, minSize: 24 },
  // struct iommu_option, offsetofend(..., val64) (main.c v6.7)
  { name: 'IOMMU_OPTION', num: ioctlNumber(0x87), size: 24, minSize: 24 },
  // struct iommu_vfio_ioas, offsetofend(..., __reserved) (main.c v6.7)
  { name: 'IOMMU_VFIO_IOAS', num: ioctlNumber(0x88), size: 12, minSize: 12 },
  // struct iommu_hwpt_alloc, offsetofend(..., __reserved) (main.c v6.7)
  { name: 'IOMMU_HWPT_ALLOC', num: ioctlNumber(0x89), size: 40, minSize: 24 },
  // struct iommu_hw_info, offsetofend(..., __reserved) (main.c v6.7)
  { name: 'IOMMU_GET_HW_INFO', num: ioctlNumber(0x8a), size: 40, minSize: 32 },
  // struct iommu_hwpt_set_dirty_tracking, offsetofend(..., __reserved) (main.c v6.7)
  { name: 'IOMMU_HWPT_SET_DIRTY_TRACKING', num: ioctlNumber(0x8b), size: 16, minSize: 16 },
  // struct iommu_hwpt_get_dirty_bitmap, offsetofend(..., data) (main.c v6.7)
  { name: 'IOMMU_HWPT_GET_DIRTY_BITMAP', num: ioctlNumber(0x8c), size: 48, minSize: 48 },
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
    // A.6 step 1: below the table, iommufd_vfio_ioctl() answers the VFIO compat ioctls it knows.
    vfioCompat: ({ event }) => (event.cmd & 0xff) < CMD_BASE && VFIO_COMPAT.includes(event.cmd),
    // A.6 step 1: "nr < IOMMUFD_CMD_BASE or the index is beyond the op table" -> vfio compat -> -ENOIOCTLCMD.
    // main.c checks only the table's length, so an empty slot inside it is not out of the table.
    outOfTable: ({ context, event }) => (event.cmd & 0xff) < CMD_BASE || (event.cmd & 0xff) - CMD_BASE >= context.ops.length,
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
  { guard: 'vfioCompat', actions: ok('vfio compat') },
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

/** v6.2 as merged (seed 002 with the review applied); the dispatch code is the same through v6.7, and the table v6.7's. */
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
  // The first NR past the table, whatever its length (v6.8 puts IOMMU_HWPT_INVALIDATE at 0x8d).
  'past-table,unreadable': { cmd: ioctlNumber(CMD_BASE + ioctlOps.length), readable: false, userSize: 8, trailingNonZero: false },
  'mismatched,unreadable': { cmd: destroy.num | (8 << 16), readable: false, userSize: 8, trailingNonZero: false },
  'mismatched,short': { cmd: destroy.num | (8 << 16), readable: true, userSize: 4, trailingNonZero: false },
  short: { cmd: destroy.num, readable: true, userSize: 4, trailingNonZero: false },
  'long,non-zero': { cmd: destroy.num, readable: true, userSize: 16, trailingNonZero: true },
  'long,zero': { cmd: destroy.num, readable: true, userSize: 16, trailingNonZero: false },
  exact: { cmd: destroy.num, readable: true, userSize: 8, trailingNonZero: false },
};
