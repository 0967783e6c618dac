/**
 * `ioctlOps` against v6.7: every row pinned (name, number, size, minSize), the
 * sizes recomputed from the uapi structs' fields, and the dispatch at the
 * table's edges and on each row's size rules.
 */
import { describe, expect, it } from 'vitest';
import { fire, initialState, type Reply } from 'lifecheck';
import { CMD_BASE, ioctlNumber, ioctlOps, mergedDispatch, type IoctlCall } from 'lifecheck/models';

/** A field's C type in include/uapi/linux/iommufd.h: its size is its alignment (__aligned_u64 and __u64 on x86-64 both 8). */
type Field = readonly [name: string, bytes: 2 | 4 | 8];
const u16 = (name: string): Field => [name, 2];
const u32 = (name: string): Field => [name, 4];
const u64 = (name: string): Field => [name, 8];

/** The v6.7 struct behind each ioctl, field by field, and the `_last` its IOCTL_OP names (main.c v6.7). */
const structs: ReadonlyArray<readonly [ioctl: string, struct: string, last: string, fields: readonly Field[]]> = [
  ['IOMMU_DESTROY', 'iommu_destroy', 'id', [u32('size'), u32('id')]],
  ['IOMMU_IOAS_ALLOC', 'iommu_ioas_alloc', 'out_ioas_id', [u32('size'), u32('flags'), u32('out_ioas_id')]],
  [
    'IOMMU_IOAS_ALLOW_IOVAS',
    'iommu_ioas_allow_iovas',
    'allowed_iovas',
    [u32('size'), u32('ioas_id'), u32('num_iovas'), u32('__reserved'), u64('allowed_iovas')],
  ],
  [
    'IOMMU_IOAS_COPY',
    'iommu_ioas_copy',
    'src_iova',
    [u32('size'), u32('flags'), u32('dst_ioas_id'), u32('src_ioas_id'), u64('length'), u64('dst_iova'), u64('src_iova')],
  ],
  [
    'IOMMU_IOAS_IOVA_RANGES',
    'iommu_ioas_iova_ranges',
    'out_iova_alignment',
    [u32('size'), u32('ioas_id'), u32('num_iovas'), u32('__reserved'), u64('allowed_iovas'), u64('out_iova_alignment')],
  ],
  [
    'IOMMU_IOAS_MAP',
    'iommu_ioas_map',
    'iova',
    [u32('size'), u32('flags'), u32('ioas_id'), u32('__reserved'), u64('user_va'), u64('length'), u64('iova')],
  ],
  ['IOMMU_IOAS_UNMAP', 'iommu_ioas_unmap', 'length', [u32('size'), u32('ioas_id'), u64('iova'), u64('length')]],
  [
    'IOMMU_OPTION',
    'iommu_option',
    'val64',
    [u32('size'), u32('option_id'), u16('op'), u16('__reserved'), u32('object_id'), u64('val64')],
  ],
  ['IOMMU_VFIO_IOAS', 'iommu_vfio_ioas', '__reserved', [u32('size'), u32('ioas_id'), u16('op'), u16('__reserved')]],
  [
    'IOMMU_HWPT_ALLOC',
    'iommu_hwpt_alloc',
    '__reserved',
    [
      u32('size'),
      u32('flags'),
      u32('dev_id'),
      u32('pt_id'),
      u32('out_hwpt_id'),
      u32('__reserved'),
      u32('data_type'),
      u32('data_len'),
      u64('data_uptr'),
    ],
  ],
  [
    'IOMMU_GET_HW_INFO',
    'iommu_hw_info',
    '__reserved',
    [
      u32('size'),
      u32('flags'),
      u32('dev_id'),
      u32('data_len'),
      u64('data_uptr'),
      u32('out_data_type'),
      u32('__reserved'),
      u64('out_capabilities'),
    ],
  ],
  [
    'IOMMU_HWPT_SET_DIRTY_TRACKING',
    'iommu_hwpt_set_dirty_tracking',
    '__reserved',
    [u32('size'), u32('flags'), u32('hwpt_id'), u32('__reserved')],
  ],
  [
    'IOMMU_HWPT_GET_DIRTY_BITMAP',
    'iommu_hwpt_get_dirty_bitmap',
    'data',
    [
      u32('size'),
      u32('hwpt_id'),
      u32('flags'),
      u32('__reserved'),
      u64('iova'),
      u64('length'),
      u64('page_size'),
      u64('data'),
    ],
  ],
];

const alignUp = (n: number, to: number): number => Math.ceil(n / to) * to;

/** `sizeof` and `offsetofend` of a struct laid out with natural alignment, padded at the end to its widest field. */
function layout(fields: readonly Field[]): { size: number; end: (field: string) => number } {
  const ends = new Map<string, number>();
  let offset = 0;
  for (const [name, bytes] of fields) {
    offset = alignUp(offset, bytes) + bytes;
    ends.set(name, offset);
  }
  const size = alignUp(offset, Math.max(...fields.map(([, bytes]) => bytes)));
  return { size, end: (field) => ends.get(field)! };
}

const call = (cmd: number, readable: boolean, userSize: number, trailingNonZero = false): IoctlCall => ({
  cmd,
  readable,
  userSize,
  trailingNonZero,
});
const reply = (c: IoctlCall): Reply =>
  fire<object>(mergedDispatch, initialState(mergedDispatch), { type: 'IOCTL', ...c }).reply;

describe('ioctlOps is iommufd_ioctl_ops[] of v6.7', () => {
  it('pins every row: name, _IO(\';\', nr), sizeof and offsetofend(_last)', () => {
    expect(ioctlOps.map((op) => [op.name, op.num, op.size, op.minSize])).toEqual([
      ['IOMMU_DESTROY', 0x3b80, 8, 8],
      ['IOMMU_IOAS_ALLOC', 0x3b81, 12, 12],
      ['IOMMU_IOAS_ALLOW_IOVAS', 0x3b82, 24, 24],
      ['IOMMU_IOAS_COPY', 0x3b83, 40, 40],
      ['IOMMU_IOAS_IOVA_RANGES', 0x3b84, 32, 32],
      ['IOMMU_IOAS_MAP', 0x3b85, 40, 40],
      ['IOMMU_IOAS_UNMAP', 0x3b86, 24, 24],
      ['IOMMU_OPTION', 0x3b87, 24, 24],
      ['IOMMU_VFIO_IOAS', 0x3b88, 12, 12],
      ['IOMMU_HWPT_ALLOC', 0x3b89, 40, 24],
      ['IOMMU_GET_HW_INFO', 0x3b8a, 40, 32],
      ['IOMMU_HWPT_SET_DIRTY_TRACKING', 0x3b8b, 16, 16],
      ['IOMMU_HWPT_GET_DIRTY_BITMAP', 0x3b8c, 48, 48],
    ]);
  });

  it('each size and minSize is the layout of its struct in include/uapi/linux/iommufd.h v6.7', () => {
    expect(structs.map(([ioctl]) => ioctl)).toEqual(ioctlOps.map((op) => op.name));
    for (const [i, [ioctl, struct, last, fields]] of structs.entries()) {
      const { size, end } = layout(fields);
      expect({ ioctl, struct, size, minSize: end(last) }).toEqual({
        ioctl,
        struct,
        size: ioctlOps[i]!.size,
        minSize: ioctlOps[i]!.minSize,
      });
    }
  });

  it('row i is IOMMUFD_CMD_BASE + i: the designated initializer leaves no hole, so no row dispatches by a mismatched number', () => {
    // main.c IOCTL_OP: "[_IOC_NR(_ioctl) - IOMMUFD_CMD_BASE] = { ... .ioctl_num = _ioctl }".
    expect(ioctlOps.map((op) => op.num)).toEqual(ioctlOps.map((_, i) => ioctlNumber(CMD_BASE + i)));
  });

  it('the last row is in the table (an unreadable arg is -EFAULT); the NR after it goes to vfio compat (-ENOTTY)', () => {
    // A.6 step 1: "the index is beyond the op table" -> iommufd_vfio_ioctl -> -ENOIOCTLCMD; step 2: get_user -> EFAULT.
    expect(reply(call(ioctlNumber(0x8c), false, 48))).toEqual({ ok: false, text: '-EFAULT' });
    expect(reply(call(ioctlNumber(0x8d), false, 48))).toEqual({ ok: false, text: '-ENOTTY' });
    expect(reply(call(ioctlNumber(0x8d), true, 48))).toEqual({ ok: false, text: '-ENOTTY' });
  });

  describe.each(ioctlOps.map((op) => [op.name, op] as const))('%s', (_, op) => {
    it('one byte short of minSize is -EINVAL; minSize up to size executes, the missing tail zero-extended', () => {
      // A.6 step 4 "user_size < op->min_size: EINVAL"; step 5 "a shorter user struct is zero-extended".
      expect(reply(call(op.num, true, op.minSize - 1))).toEqual({ ok: false, text: '-EINVAL' });
      expect(reply(call(op.num, true, op.minSize, true))).toEqual({ ok: true, text: 'execute' });
      expect(reply(call(op.num, true, op.size, true))).toEqual({ ok: true, text: 'execute' });
    });

    it('a longer struct executes if its extra bytes are zero, else -E2BIG', () => {
      // A.6 step 5: "if user_size > kernel size and any extra byte is non-zero: E2BIG".
      expect(reply(call(op.num, true, op.size + 8, false))).toEqual({ ok: true, text: 'execute' });
      expect(reply(call(op.num, true, op.size + 8, true))).toEqual({ ok: false, text: '-E2BIG' });
    });
  });
});
