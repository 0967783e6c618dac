/**
 * Running a system along one schedule and checking properties after every
 * step. Shared by every explorer and by replay, so they agree on what a
 * violation is and where it happens.
 */
import type { Move, Property, Reply, Step, System, Violation } from './model.ts';

export type { Violation } from './model.ts';
import { capViolation, loopViolation, Revisits } from './run-ends.ts';
import { modelError } from './thrown.ts';

/** One step of a trace: the step, the reply it got, the world after it. */
export interface TraceStep<W> {
  readonly step: Step;
  readonly reply: Reply;
  /** The world after the step. */
  readonly world: W;
}

/** A run as data: the initial world and each step taken with its reply and the world after it. */
export interface Trace<W> {
  readonly init: W;
  readonly steps: readonly TraceStep<W>[];
}

/** Picks the next step among the enabled ones (never empty), or stops the run. */
export type Chooser<W> = (enabled: readonly Step[], world: W, depth: number) => Step | undefined;

// Most checks find nothing: they share one empty answer instead of allocating (the explorers' hot path).
const NONE: readonly Violation[] = Object.freeze([]);

/** The properties broken by a world (and, for final ones, only at quiescence). */
export function checkWorld<W, C>(
  properties: readonly Property<W, C>[],
  config: C,
  world: W,
  quiescent: boolean,
  at: number,
): readonly Violation[] {
  let found: Violation[] | undefined;
  for (const p of properties) {
    if (p.kind !== 'invariant' && (p.kind !== 'final' || !quiescent)) continue;
    let message;
    try {
      message = p.check(world, config);
    } catch (e) {
      throw modelError(e, { property: p.id, at });
    }
    if (message !== undefined) (found ??= []).push({ property: p.id, at, message });
  }
  return found ?? NONE;
}

/** The step properties broken by a move. */
export function checkMove<W, C>(
  properties: readonly Property<W, C>[],
  config: C,
  move: Move<W>,
  at: number,
): readonly Violation[] {
  let found: Violation[] | undefined;
  for (const p of properties) {
    if (p.kind !== 'step') continue;
    let message;
    try {
      message = p.check(move, config);
    } catch (e) {
      throw modelError(e, { property: p.id, at });
    }
    if (message !== undefined) (found ??= []).push({ property: p.id, at, message });
  }
  return found ?? NONE;
}

/**
 * A move whose world after the step is made when a property first reads it
 * (`made.after(before)`, once). `after` is a getter of each move's own (one
 * getter for all, so moves share their shape): a property that copies the
 * move (`{...move}`) or prints it gets that world too.
 */
export class LazyMove<W> {
  readonly #made: { after(before: W): W };
  #after?: W;

  constructor(
    readonly before: W,
    readonly step: Step,
    readonly reply: Reply,
    made: { after(before: W): W },
  ) {
    this.#made = made;
    Object.defineProperty(this, 'after', LazyMove.#getter);
  }

  static readonly #getter: PropertyDescriptor = {
    get(this: LazyMove<unknown>) {
      return (this.#after ??= this.#made.after(this.before));
    },
    enumerable: true,
  };
}

/** One run of a system: its trace, the violations met, and whether it ended because nothing was enabled. */
export interface Run<W> {
  readonly trace: Trace<W>;
  /** Every violation met, in order; at most one per property (its first). */
  readonly violations: readonly Violation[];
  /** True when the run ended because no step was enabled. */
  readonly quiescent: boolean;
}

export interface WalkOptions<C> {
  /** Stop at the first violation (a counterexample) instead of running on. */
  readonly stopAtViolation: boolean;
  /** The variant's config, which properties may read; properties that ignore it need none. */
  readonly config?: C;
  /** Where a run still going is cut (and breaks `run-ends`); the system's horizon unless given. */
  readonly maxSteps?: number;
}

/** Runs `system` from its initial world, letting `choose` pick each step; a throw from the model is a ModelError. */
export function walk<W, C>(
  system: System<W>,
  properties: readonly Property<W, C>[],
  choose: Chooser<W>,
  options: WalkOptions<C>,
): Run<W> {
  const config = options.config as C;
  const maxSteps = options.maxSteps ?? system.horizon;
  const revisits = properties.some((p) => p.kind === 'run') ? new Revisits(system) : undefined;
  const steps: TraceStep<W>[] = [];
  const seen = new Set<string>();
  const violations: Violation[] = [];
  const record = (found: readonly Violation[]): boolean => {
    for (const v of found) {
      if (seen.has(v.property)) continue;
      seen.add(v.property);
      violations.push(v);
    }
    return options.stopAtViolation && violations.length > 0;
  };
  const end = (): Run<W> => ({ trace: { init: system.init, steps }, violations, quiescent: enabled.length === 0 });

  let step: Step | undefined;
  let world: W;
  let enabled: readonly Step[] = [];
  try {
    world = system.init;
    enabled = system.enabled(world);
    revisits?.visit(world, 0);
    if (record(checkWorld(properties, config, world, enabled.length === 0, 0))) return end();
    while (enabled.length > 0) {
      if (steps.length >= maxSteps) {
        if (revisits) record([capViolation(steps.length)]);
        break;
      }
      step = choose(enabled, world, steps.length);
      if (step === undefined) break;
      const outcome = system.apply(world, step);
      const t: TraceStep<W> = { step, reply: outcome.reply, world: outcome.world };
      steps.push(t);
      const before = world;
      world = outcome.world;
      enabled = system.enabled(world);
      const at = steps.length;
      const first = revisits?.visit(world, at);
      const found = [
        ...checkMove(properties, config, { before, step: t.step, reply: t.reply, after: t.world }, at),
        ...checkWorld(properties, config, world, enabled.length === 0, at),
        ...(first !== undefined ? [loopViolation(first, at)] : []),
      ];
      if (record(found)) break;
    }
  } catch (e) {
    throw modelError(e, step ? { at: steps.length + (steps.at(-1)?.step === step ? 0 : 1), step } : { part: 'the initial world' });
  }
  return end();
}

/** Where a replay could not go on: the step of the list it could not take (0-based), and the steps enabled there. */
export interface Stuck {
  readonly index: number;
  /** Empty when the run had ended: nothing was enabled. */
  readonly enabled: readonly Step[];
}

export interface Replayed<W> extends Run<W> {
  /** Set when the list was not run to its end and no violation stopped it first. */
  readonly stuck?: Stuck;
}

/**
 * Runs `system` along a list of steps recorded earlier (a trace file's calls,
 * a search's step indices), to the first violation of `properties`. `pick`
 * finds each recorded step among the steps enabled where the run has got to;
 * when it finds none, or nothing is enabled, the run stops there, stuck.
 */
export function replaySteps<W, C, S>(
  system: System<W>,
  properties: readonly Property<W, C>[],
  recorded: readonly S[],
  pick: (wanted: S, enabled: readonly Step[], world: W) => Step | undefined,
  config?: C,
): Replayed<W> {
  let stuck: Stuck | undefined;
  const choose: Chooser<W> = (enabled, world, depth) => {
    const wanted = recorded[depth];
    if (wanted === undefined) return undefined;
    const step = pick(wanted, enabled, world);
    if (!step) stuck = { index: depth, enabled };
    return step;
  };
  // A loop found by the exhaustive search may run past the horizon before it closes.
  const run = walk(system, properties, choose, { stopAtViolation: true, config, maxSteps: Math.max(recorded.length, system.horizon) });
  const ended = run.trace.steps.length;
  if (!stuck && run.violations.length === 0 && ended < recorded.length) stuck = { index: ended, enabled: [] };
  return stuck ? { ...run, stuck } : run;
}
