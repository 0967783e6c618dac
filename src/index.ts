/**
 * lifecheck's public API: what a kernel developer imports to model a patch
 * (a variant of a built-in model, or a model of their own) and check it.
 * The built-in models are written with exactly this API.
 */
export type {
  AnyModel,
  AnyVariant,
  Arg,
  Bounds,
  BoundVariant,
  Expectation,
  FinalProperty,
  Finding,
  InvariantProperty,
  Model,
  Move,
  Outcome,
  Presenter,
  Property,
  Reply,
  Step,
  StepProperty,
  System,
  Variant,
} from './engine/model.ts';
export { defineModel, DefinitionError } from './engine/define.ts';
export { err, fire, fireUncached, initialState, ok, UNHANDLED, type MachineState } from './engine/machine.ts';
export { walk, type Run, type Trace, type TraceStep, type Violation } from './engine/run.ts';
export { exploreRandom, runPlan, type Counterexample, type Plan, type RandomOptions } from './explore/random.ts';
export { checkVariant, type CheckOptions, type Verdict, type VariantReport } from './check.ts';
export { renderTrace } from './trace/text.ts';
export * from '../models/ioasid/index.ts';
export { ioasidProperties } from '../properties/ioasid.ts';
export * from '../models/iommufd/index.ts';
export { expectedErrno, iommufdProperties } from '../properties/iommufd.ts';
