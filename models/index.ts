/**
 * The models built into lifecheck. They are written with the public API
 * alone (they import only 'lifecheck', as a user's module does), and the
 * package's entry re-exports them for users to build variants on.
 */
import type { AnyModel } from 'lifecheck';
import { ioasid } from './ioasid/index.ts';
import { iommufd } from './iommufd/index.ts';
import { ioasidBench } from './ioasid-bench/index.ts';

/** Every built-in model, in the order `list`, `check` and `review` take them. */
export const builtInModels: readonly AnyModel[] = [ioasid, iommufd, ioasidBench];

export * from './ioasid/index.ts';
export { ioasidProperties } from '../properties/ioasid.ts';
export * from './iommufd/index.ts';
export { expectedErrno, iommufdProperties } from '../properties/iommufd.ts';
export * from './ioasid-bench/index.ts';
export { benchProperties } from '../properties/ioasid-bench.ts';
