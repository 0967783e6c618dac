/** The iommufd object lifecycle model: seed 002 and its successors (kernel-semantics A.6), on the lifecycle kit. */
import { defineKitModel } from 'lifecheck';
import { iommufdProperties, type IommufdSpec } from './properties.ts';
import { iommufdVariants } from './variants.ts';

export const iommufd = defineKitModel<IommufdSpec>({
  name: 'iommufd',
  title: 'iommufd objects: reserve/finalize/abort, short-term holds and users, IOMMU_DESTROY, driver bind/attach/unbind, file release, ioctl dispatch',
  source: 'seed 002; kernel-semantics A.6, D',
  // A driver (bind, attach, detach, unbind, access) and a process (ioctls), two calls each, three ids: an IOAS, a
  // device and a hwpt can all exist, so attach runs (every call starts; a detach that finds an attachment, a nested
  // hwpt, need --ops 3: 460,129 states for v6.7, about a minute here).
  defaults: { threads: 2, ops: 2, ids: { min: 1, max: 3 } },
  properties: iommufdProperties,
  // The random explorer misses races 12 to 26 steps deep here (the 99f98a7c0d69 race among them): every
  // interleaving is checked by default.
  search: 'exhaustive',
  // A.6: the objects xarray is XA_FLAGS_ALLOC1, "so ID 0 is never allocated".
  // The process's iommufd fd is 1, in the same id range.
  checkBounds: ({ ids }) =>
    ids.min === 1
      ? undefined
      : `--ids ${ids.min}..${ids.max}: iommufd's ids start at 1 (XA_FLAGS_ALLOC1 never allocates id 0, and the process's fd is 1); give --ids ${ids.max - ids.min + 1} or 1..N`,
  variants: iommufdVariants,
});

export * from './core.ts';
export * from './calls.ts';
export * from './dispatch.ts';
export * from './variants.ts';
