/**
 * Replaying recorded steps: run a variant along exactly the steps a trace
 * lists, checking one property after each, with the same `replaySteps` the
 * exhaustive explorer rebuilds its counterexamples with. A recorded step is matched by thread, operation and
 * arguments among the steps enabled at that point; its reply is not an
 * input, only compared, so a changed design shows up as a changed reply.
 */
import { propertiesOf, type Arg, type BoundVariant, type Bounds, type Presenter, type Property, type Reply, type Step } from '../engine/model.ts';
import { planProperty } from '../explore/random.ts';
import type { Scheduler } from '../explore/schedulers.ts';
import { replaySteps, type Trace, type Violation } from '../engine/run.ts';
import { UsageError } from '../registry.ts';

/** A step as a trace records it; `reply` is what it returned when recorded. */
export interface RecordedStep {
  readonly thread: number;
  readonly op: string;
  readonly args: readonly Arg[];
  readonly reply?: Reply;
}

/** What replaying recorded steps found: the trace, the violation if it still breaks, where it got stuck, changed replies. */
export interface Replay<W> {
  /** The steps that replayed, up to the violation or the first step that could not. */
  readonly trace: Trace<W>;
  /** The property's first violation on the way, if any. */
  readonly violation?: Violation;
  /** The first recorded step that is not enabled where the replay reached it (1-based), and why. */
  readonly stuck?: { readonly at: number; readonly why: string };
  /** Steps that replied otherwise than recorded. */
  readonly changedReplies: readonly { readonly at: number; readonly recorded: Reply; readonly now: Reply }[];
}

/** Whether an enabled step is the one recorded: the same thread, operation and arguments. */
export const sameStep = (s: Step, r: RecordedStep) =>
  s.thread === r.thread && s.op === r.op && s.args.length === r.args.length && s.args.every((a, i) => a === r.args[i]);

const stepText = (s: RecordedStep) => `${s.op}(${s.args.join(',')})`;

/** Why `wanted` is not among `enabled`: what its thread could do instead. */
function whyNot<W>(present: Presenter<W, unknown>, init: W, enabled: readonly Step[], wanted: RecordedStep): string {
  const who = present.thread(wanted.thread, init);
  const mine = enabled.filter((s) => s.thread === wanted.thread);
  if (mine.length > 0) return `${who} ${stepText(wanted)} is not enabled; ${who} can do ${mine.map(stepText).join(', ')}`;
  const movers = [...new Set(enabled.map((s) => present.thread(s.thread, init)))];
  return movers.length === 0
    ? `${who} ${stepText(wanted)} is not enabled: no thread can move (every thread is done)`
    : `${who} ${stepText(wanted)} is not enabled: ${who} can take no step here (only ${movers.join(', ')} can)`;
}

/** A property of the variant (its model's, or its own) that applies to it. */
function propertyOf<W, C>(variant: BoundVariant<W, C>, id: string): Property<W, C> {
  const all = propertiesOf(variant);
  const p = all.find((x) => x.id === id);
  if (!p) throw new UsageError(`variant '${variant.name}' of model '${variant.model.name}' has no property '${id}'; known: ${all.map((x) => x.id).join(', ')}`);
  if (!(p.applies?.(variant.config) ?? true)) throw new UsageError(`property '${id}' does not apply to variant '${variant.name}'`);
  return p;
}

/**
 * The fast-check property the random explorer checks for `property`: with a
 * counterexample's seed and path, `fc.assert` on it finds that counterexample again.
 */
export function scheduleProperty<W, C>(variant: BoundVariant<W, C>, bounds: Bounds, property: string, scheduler?: Scheduler, depth?: number) {
  const system = variant.model.system(variant.config, bounds);
  return planProperty(system, propertyOf(variant, property), scheduler, variant.config, depth);
}

/** Replays `steps` on `variant` within `bounds`, checking `property` after each. */
export function replay<W, C>(
  variant: BoundVariant<W, C>,
  bounds: Bounds,
  steps: readonly RecordedStep[],
  property: string,
): Replay<W> {
  const { model, config } = variant;
  const p = propertyOf(variant, property);
  const system = model.system(config, bounds);
  const run = replaySteps(system, [p], steps, (wanted, enabled) => enabled.find((s) => sameStep(s, wanted)), config);
  const stuck = run.stuck && { at: run.stuck.index + 1, why: whyNot(model.present, system.init, run.stuck.enabled, steps[run.stuck.index]!) };
  const changedReplies = run.trace.steps.flatMap((t, i) => {
    const recorded = steps[i]!.reply;
    return recorded && (recorded.ok !== t.reply.ok || recorded.text !== t.reply.text) ? [{ at: i + 1, recorded, now: t.reply }] : [];
  });
  return { trace: run.trace, ...(run.violations[0] ? { violation: run.violations[0] } : {}), ...(stuck ? { stuck } : {}), changedReplies };
}
