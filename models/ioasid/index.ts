/** The IOASID (PASID) allocator model: seeds 000, 001 (refcounts) and 004 (sets), on the lifecycle kit. */
import { defineKitModel } from 'lifecheck';
import { ioasidProperties, type IoasidSpec } from './properties.ts';
import { ioasidVariants } from './variants.ts';

export const ioasid = defineKitModel<IoasidSpec>({
  name: 'ioasid',
  title: 'IOASID allocator: alloc, get, put, free, find under RCU; sets; every release a call',
  source: 'seeds 000, 001, 004; kernel-semantics A.2, A.4, A.5',
  // Three vCPUs (two of one guest, one of another; with custom allocators, one of another guest on the host), two
  // calls each, one PASID: every seed's finding, each variant in seconds (--ids 2: about three times the states).
  defaults: { threads: 3, ops: 2, ids: { min: 1, max: 1 } },
  properties: ioasidProperties,
  search: 'exhaustive',
  // The properties read ids from 1.
  checkBounds: ({ ids }) => (ids.min === 1 ? undefined : `--ids ${ids.min}..${ids.max}: ioasid's ids start at 1 here; give --ids ${ids.max - ids.min + 1} or 1..N`),
  variants: ioasidVariants,
});

export * from './calls.ts';
export * from './core.ts';
export * from './lifecycles.ts';
export * from './properties.ts';
export * from './variants.ts';
