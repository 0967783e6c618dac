/** The IOASID (PASID) allocator model: seeds 000 and 001. */
import { defineModel } from '../../src/engine/define.ts';
import { ioasidProperties } from '../../properties/ioasid.ts';
import { ioasidPresenter } from './present.ts';
import { ioasidVariants } from './variants.ts';
import { ioasidSystem } from './world.ts';

export const ioasid = defineModel({
  name: 'ioasid',
  title: 'IOASID allocator: alloc, get, put, free, find under RCU',
  source: 'seeds 000, 001; kernel-semantics A.2, A.4',
  defaults: { threads: 3, ops: 4, ids: { min: 1, max: 2 } },
  properties: ioasidProperties,
  present: ioasidPresenter,
  system: ioasidSystem,
  variants: () => ioasidVariants,
});

export * from './machines.ts';
export * from './variants.ts';
export { lowestFree, MAX_GETS, type Allocator, type Call, type Cpu, type Hold, type IoasidConfig, type IoasidWorld, type Slot } from './world.ts';
