/** The IOASID (PASID) allocator model: seeds 000, 001 (refcounts) and 004 (sets), on the lifecycle kit. */
import { defineKitModel } from 'lifecheck';
import { ioasidProperties, type IoasidSpec } from './properties.ts';
import { ioasidVariants } from './variants.ts';

export const ioasid = defineKitModel<IoasidSpec>({
  name: 'ioasid',
  title: 'IOASID allocator: alloc, get, put, free, find under RCU; sets; every release a call',
  source: 'seeds 000, 001, 004; kernel-semantics A.2, A.4, A.5',
  // Three vCPUs (two of one guest, one of another), two calls each, ids 1..2.
  defaults: { threads: 3, ops: 2, ids: { min: 1, max: 2 } },
  properties: ioasidProperties,
  search: 'exhaustive',
  // The sets and private data are at ids 1 and 2 of their tables.
  checkBounds: ({ ids }) =>
    ids.min === 1 && ids.max >= 2 ? undefined : `--ids ${ids.min}..${ids.max}: ioasid's ids start at 1 and the two guests' sets take ids 1 and 2; give --ids 1..N with N >= 2`,
  variants: ioasidVariants,
});

export * from './calls.ts';
export * from './core.ts';
export * from './lifecycles.ts';
export * from './properties.ts';
export * from './variants.ts';
