/** The iommufd object lifecycle model: seed 002 and its successors (kernel-semantics A.6). */
import { defineModel } from 'lifecheck';
import { iommufdProperties } from '../../properties/iommufd.ts';
import { iommufdPresenter } from './present.ts';
import { iommufdVariants } from './variants.ts';
import { OBJECT_CALLS } from './objects.ts';
import { iommufdChoices, iommufdSystem } from './world.ts';

export const iommufd = defineModel({
  name: 'iommufd',
  title: 'iommufd objects: reserve/finalize/abort, short-term holds and users, destroy, file release, ioctl dispatch',
  source: 'seed 002; kernel-semantics A.6, D',
  defaults: { threads: 2, ops: 3, ids: { min: 1, max: 2 } },
  properties: iommufdProperties,
  present: iommufdPresenter,
  choices: iommufdChoices,
  // A.6: the objects xarray is XA_FLAGS_ALLOC1, "so ID 0 is never allocated".
  checkBounds: ({ ids }) =>
    ids.min < 1 ? `--ids ${ids.min}..${ids.max}: iommufd never allocates id 0 (XA_FLAGS_ALLOC1); give --ids ${ids.max - ids.min + 1} or 1..N` : undefined,
  system: iommufdSystem,
  machines: (config) => ({
    object: { machine: config.object, object: 'object', calls: OBJECT_CALLS },
    dispatch: { machine: config.dispatch, object: 'ioctl', calls: { IOCTL: 'iommufd_fops_ioctl' } },
  }),
  variants: () => iommufdVariants,
});

export * from './objects.ts';
export * from './dispatch.ts';
export * from './variants.ts';
export {
  byId,
  objectOf,
  objName,
  usersOwed,
  type Hold as IommufdHold,
  type IommufdConfig,
  type IommufdWorld,
  type Obj,
  type Op,
  type Program,
  type Run,
  type Stage,
  type Thread,
} from './world.ts';
