/**
 * The models built into lifecheck, `lifecheck/models` to a user's module.
 * They are written with the public API alone (they import only 'lifecheck',
 * as a user's module does), and users build their variants on them.
 */
import { findVariantIn, type AnyModel, type AnyVariant } from 'lifecheck';
import { ioasid } from './ioasid/index.ts';
import { iommufd } from './iommufd/index.ts';
import { ioasidBench } from './ioasid-bench/index.ts';

/** Every built-in model, in the order `list`, `check` and `review` take them. */
export const builtInModels: readonly AnyModel[] = [ioasid, iommufd, ioasidBench];

/**
 * A variant by name: of the built-in model `from` names, or of what a user's
 * module exports (a model, a variant, or an array of them). Reproducer tests
 * find their variant with it.
 */
export function findVariant(from: string | unknown, name: string): AnyVariant {
  return findVariantIn(builtInModels, from, name);
}

export * from './ioasid/index.ts';
export * from './iommufd/index.ts';
export { expectedErrno, iommufdProperties } from './iommufd/properties.ts';
export * from './ioasid-bench/index.ts';
export { benchProperties } from './ioasid-bench/properties.ts';
