/** The IOASID (PASID) allocator model: seeds 000, 001 (refcounts), 003 (custom allocators), 004 (sets). */
import { defineModel } from 'lifecheck';
import { ioasidProperties } from '../../properties/ioasid.ts';
import { ioasidPresenter } from './present.ts';
import { ioasidVariants } from './variants.ts';
import { ioasidChoices, ioasidMachines, ioasidSystem } from './world.ts';

export const ioasid = defineModel({
  name: 'ioasid',
  title: 'IOASID allocator: alloc, get, put, free, find under RCU; custom allocators and sets',
  source: 'seeds 000, 001, 003, 004; kernel-semantics A.2-A.5',
  defaults: { threads: 3, ops: 4, ids: { min: 1, max: 2 } },
  properties: ioasidProperties,
  present: ioasidPresenter,
  choices: ioasidChoices,
  system: ioasidSystem,
  machines: ioasidMachines,
  variants: () => ioasidVariants,
});

export * from './machines.ts';
export * from './variants.ts';
export * from './allocators.ts';
export * from './sets.ts';
export {
  guestSets,
  hostRange,
  lowestFree,
  MAX_GETS,
  members,
  type Allocator,
  type Call,
  type Cpu,
  type CustomAllocators,
  type Hold,
  type IoasidConfig,
  type IoasidWorld,
  type SetSpec,
  type Slot,
  type Table,
  type Vcmd,
} from './world.ts';
