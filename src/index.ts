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
  Codec,
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
  Symmetry,
  System,
  Variant,
  WordOutcome,
  WordSink,
  WordSteps,
} from './engine/model.ts';
/** A machine a model names in `machines()`: the object it is the lifecycle of and the kernel call behind each event. */
export type { MachineInfo } from './engine/model.ts';
/** A scenario's narrowing (`--only calls=alloc,free`): for each choice a model offers, the names to keep. */
export type { Only } from './engine/model.ts';
export { defineModel, DefinitionError } from './engine/define.ts';
export {
  compileMachine,
  err,
  fire,
  fireUncached,
  initialState,
  ok,
  UNHANDLED,
  type CompiledMachine,
  type MachineState,
  type StateCode,
} from './engine/machine.ts';
export { walk, type Run, type Trace, type TraceStep, type Violation } from './engine/run.ts';
export { exploreRandom, runPlan, type Counterexample, type RandomOptions, type RandomResult } from './explore/random.ts';
export { SCHEDULERS, type Guarantee, type Plan, type Scheduler } from './explore/schedulers.ts';
export {
  exploreExhaustive,
  type Cap,
  type ExhaustiveCounterexample,
  type ExhaustiveOptions,
  type ExhaustiveResult,
  type SearchStats,
} from './explore/exhaustive.ts';
export { packedCodec, plainCodec } from './explore/codec.ts';
export { collapseCodec } from './explore/collapse.ts';
export { mergeSplit } from './explore/split.ts';
export { checkVariant, type CheckOptions, type SearchSummary, type Status, type Verdict, type VariantReport } from './check.ts';
export { renderTrace, type TextOptions } from './trace/text.ts';
export { markdownTrace } from './trace/markdown.ts';
export { mermaidTrace } from './trace/mermaid.ts';
export { toItf, itfValue, type ItfTrace, type ItfValue, type TraceOrigin } from './trace/itf.ts';
export { readTraceFile, type TraceFile } from './trace/file.ts';
export { replay, scheduleProperty, type RecordedStep, type Replay } from './trace/replay.ts';
/** The steps of a variant's calls that a check never reached (a bound starved them, or the path cannot happen). */
export { starved } from './coverage.ts';
export * from './kit/index.ts';
/** xstate's own builders, so a module needs nothing else installed to write a machine. */
export { assign, setup } from 'xstate';
/** xstate's guard combinators, for a transition guarded by several conditions. */
export { and, not, or } from 'xstate';
/** Any xstate machine: the type of a machine a variant's config holds. */
export type { AnyStateMachine } from 'xstate';
/**
 * A variant by name, among `models` when `from` names one of them, or in what
 * a user's module exports (a model, a variant, or an array of them). The
 * built-in models, and `findVariant` over them, are in `lifecheck/models`.
 */
export { findVariantIn } from './registry.ts';
