/**
 * The random explorer: fast-check generates schedules (which thread moves,
 * which of its enabled steps it takes), every property is checked after every
 * step, and a failing schedule is shrunk to a minimal trace that the seed and
 * path replay exactly. It knows only the `System` interface.
 *
 * A schedule is a list of choices `[thread, step]`, each taken modulo what is
 * enabled at that point; past its end the run goes on with `[0, 0]` (the first
 * enabled step of the first thread that can move) until nothing is enabled, so
 * every run reaches quiescence and shrinking heads towards short traces on few
 * threads.
 *
 * Each run also draws a swarm (Groce et al., "Swarm testing", ISSTA 2012): a
 * random subset of operation names that the run prefers. Runs that never call,
 * say, `bind` reach deeper into what the other calls do; a swarm of 0 (where
 * shrinking ends) prefers nothing, so minimal traces do not depend on it.
 */
import fc from 'fast-check';
import type { Property, Step, System } from '../engine/model.ts';
import { walk, type Chooser, type Run, type Trace, type Violation } from '../engine/run.ts';

export type Choice = readonly [thread: number, step: number];

/** One generated run: the operations it prefers, and its schedule. */
export interface Plan {
  readonly swarm: number;
  readonly schedule: readonly Choice[];
}

export interface RandomOptions {
  /** Schedules to try. */
  readonly runs: number;
  readonly seed: number;
  /** fast-check's replay path of a counterexample; needs a single property. */
  readonly path?: string;
  /** The longest schedule worth generating (further choices default to [0, 0]). */
  readonly maxSteps: number;
  /** The variant's config, for properties that read it. */
  readonly config?: unknown;
}

export interface Counterexample<W> {
  readonly explorer: 'random';
  readonly trace: Trace<W>;
  readonly violation: Violation;
  /** What `--seed` and `--path` take to replay it. */
  readonly seed: number;
  readonly path: string;
  readonly shrinks: number;
}

export interface PropertyResult<W> {
  readonly property: string;
  readonly status: 'holds' | 'violated';
  /** Schedules run before the verdict (all of them when it holds). */
  readonly runs: number;
  readonly counterexample?: Counterexample<W>;
}

/** A stable bit of the swarm for an operation name. */
function swarmBit(step: Step): number {
  const key = step.op;
  let h = 0;
  for (let i = 0; i < key.length; i++) h = (h * 31 + key.charCodeAt(i)) | 0;
  return 1 << (Math.abs(h) % 31);
}

/** Picks steps by a plan: its swarm's operations where one is enabled, else any. */
export function planChooser<W>(plan: Plan): Chooser<W> {
  return (enabled, _world, depth) => {
    const [a, b] = plan.schedule[depth] ?? [0, 0];
    const threads = [...new Set(enabled.map((s) => s.thread))];
    const thread = threads[a % threads.length];
    const mine = enabled.filter((s) => s.thread === thread);
    const preferred = mine.filter((s) => (plan.swarm & swarmBit(s)) !== 0);
    const pool = preferred.length > 0 ? preferred : mine;
    return pool[b % pool.length] as Step;
  };
}

function plans(maxSteps: number): fc.Arbitrary<Plan> {
  // Unbiased: fast-check favours small numbers, which would favour each
  // thread's first step over the rest.
  const choice = fc.noBias(fc.tuple(fc.nat(), fc.nat())) as fc.Arbitrary<Choice>;
  return fc.record({
    swarm: fc.noBias(fc.nat()),
    schedule: fc.array(choice, { maxLength: maxSteps, size: 'max' }),
  });
}

/** Runs one plan to the end, recording every property's first violation. */
export function runPlan<W, C>(
  system: System<W>,
  properties: readonly Property<W, C>[],
  plan: Plan,
  stopAtViolation = false,
  config?: C,
): Run<W> {
  return walk(system, properties, planChooser(plan), { stopAtViolation, config });
}

/**
 * fast-check takes a throwing predicate for a failing run and shrinks it.
 * A throw from the model is an error, not a verdict: `guard` keeps the first
 * one, answers `onThrow` to end the search (or to stop shrinking towards it),
 * and `rethrow` raises it once fast-check is done.
 */
function throwCatcher(onThrow: boolean) {
  let thrown: { error: unknown } | undefined;
  return {
    guard:
      <T>(predicate: (value: T) => boolean) =>
      (value: T): boolean => {
        if (thrown) return onThrow;
        try {
          return predicate(value);
        } catch (error) {
          thrown = { error };
          return onThrow;
        }
      },
    rethrow(): void {
      if (thrown) throw thrown.error;
    },
  };
}

/** Which properties some schedule breaks, and after how many runs. */
function survey<W, C>(
  system: System<W>,
  properties: readonly Property<W, C>[],
  options: RandomOptions,
): Map<string, number> {
  const firstBroken = new Map<string, number>();
  let run = 0;
  const throws = throwCatcher(false);
  fc.check(
    fc.property(
      plans(options.maxSteps),
      throws.guard((plan: Plan) => {
        run++;
        for (const v of runPlan(system, properties, plan, false, options.config as C).violations) {
          if (!firstBroken.has(v.property)) firstBroken.set(v.property, run);
        }
        // Stop early once every property is broken: nothing more to learn.
        return firstBroken.size < properties.length;
      }),
    ),
    { seed: options.seed, numRuns: options.runs, endOnFailure: true },
  );
  throws.rethrow();
  return firstBroken;
}

/**
 * The fast-check property behind every counterexample: no schedule (of at
 * most `maxSteps` choices) breaks `property`. With a counterexample's seed and
 * path, `fc.assert` on it replays exactly that counterexample.
 */
export function planProperty<W, C>(
  system: System<W>,
  property: Property<W, C>,
  maxSteps: number,
  config?: C,
): fc.IPropertyWithHooks<[Plan]> {
  return fc.property(plans(maxSteps), (plan) => runPlan(system, [property], plan, true, config).violations.length === 0);
}

/** Finds, shrinks and packages a counterexample for one property (or replays one by path). */
function counterexample<W, C>(
  system: System<W>,
  property: Property<W, C>,
  options: RandomOptions,
): { runs: number; found?: Counterexample<W> } {
  // A shrunk schedule may reach what the survey's did not: a throw there ends shrinking and is raised.
  const throws = throwCatcher(true);
  const noneBreaks = (plan: Plan) => runPlan(system, [property], plan, true, options.config as C).violations.length === 0;
  const details = fc.check(fc.property(plans(options.maxSteps), throws.guard(noneBreaks)), {
    seed: options.seed,
    numRuns: options.runs,
    ...(options.path !== undefined ? { path: options.path } : {}),
  });
  throws.rethrow();
  if (!details.failed || !details.counterexample) return { runs: details.numRuns };
  const [plan] = details.counterexample;
  const run = runPlan(system, [property], plan, true, options.config as C);
  const violation = run.violations[0];
  if (!violation) throw new Error(`internal: counterexample of ${property.id} does not replay`);
  return {
    runs: details.numRuns,
    found: {
      explorer: 'random',
      trace: run.trace,
      violation,
      seed: details.seed,
      path: details.counterexamplePath ?? '',
      shrinks: details.numShrinks,
    },
  };
}

/**
 * Explores a system at random and gives each property a verdict. A replay
 * (`options.path`) checks exactly the schedule the path names.
 */
export function exploreRandom<W, C>(
  system: System<W>,
  properties: readonly Property<W, C>[],
  options: RandomOptions,
): PropertyResult<W>[] {
  const broken = options.path === undefined ? survey(system, properties, options) : undefined;
  return properties.map((p) => {
    if (broken && !broken.has(p.id)) return { property: p.id, status: 'holds', runs: options.runs };
    const { runs, found } = counterexample(system, p, options);
    return found
      ? { property: p.id, status: 'violated', runs, counterexample: found }
      : { property: p.id, status: 'holds', runs };
  });
}
