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
import { pauser } from './pause.ts';

export type Choice = readonly [thread: number, step: number];

/** One generated run: the operations it prefers, and its schedule. */
export interface Plan {
  readonly swarm: number;
  readonly schedule: readonly Choice[];
}

/** How the random explorer searches: runs, seed, a replay path, the schedule length, the Ctrl-C signal. */
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
  /** Aborted by Ctrl-C: the search ends with what it has found. */
  readonly signal?: AbortSignal;
}

/** A random explorer's counterexample: its trace, the violation, and the seed and path that replay it. */
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
  /** `unknown`: interrupted before any schedule broke it. */
  readonly status: 'holds' | 'violated' | 'unknown';
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
 * What fast-check runs, guarded. fast-check takes a throwing predicate for a
 * failing run and shrinks it, but a throw from the model is an error, not a
 * verdict; and a Ctrl-C (`signal`) must end the search. Either way `wrap`d
 * predicates answer `onStop` from then on (false ends a search that stops at
 * its first failure, true ends shrinking with the smallest failure so far),
 * and `finish` raises the throw, or says whether the search was interrupted.
 */
function guarded(signal: AbortSignal | undefined, onStop: boolean) {
  let thrown: { error: unknown } | undefined;
  let interrupted = false;
  const pause = pauser();
  return {
    wrap:
      <T>(predicate: (value: T) => boolean) =>
      async (value: T): Promise<boolean> => {
        if (!thrown && !interrupted) await pause();
        if (signal?.aborted) interrupted = true;
        if (thrown || interrupted) return onStop;
        try {
          return predicate(value);
        } catch (error) {
          thrown = { error };
          return onStop;
        }
      },
    finish(): boolean {
      if (thrown) throw thrown.error;
      return interrupted;
    },
  };
}

/** The run (1-based) that first broke a property, and its plan. */
interface Sighting {
  readonly run: number;
  readonly plan: Plan;
}

interface Survey {
  readonly broken: ReadonlyMap<string, Sighting>;
  /** Schedules run. */
  readonly runs: number;
  readonly interrupted: boolean;
}

/** Which properties some schedule breaks, and first where. */
async function survey<W, C>(system: System<W>, properties: readonly Property<W, C>[], options: RandomOptions): Promise<Survey> {
  const broken = new Map<string, Sighting>();
  let runs = 0;
  const guard = guarded(options.signal, false);
  await fc.check(
    fc.asyncProperty(
      plans(options.maxSteps),
      guard.wrap((plan: Plan) => {
        runs++;
        for (const v of runPlan(system, properties, plan, false, options.config as C).violations) {
          if (!broken.has(v.property)) broken.set(v.property, { run: runs, plan });
        }
        // Stop early once every property is broken: nothing more to learn.
        return broken.size < properties.length;
      }),
    ),
    { seed: options.seed, numRuns: options.runs, endOnFailure: true },
  );
  return { broken, runs, interrupted: guard.finish() };
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
  return fc.property(plans(maxSteps), noneBreaks(system, property, config));
}

const noneBreaks =
  <W, C>(system: System<W>, property: Property<W, C>, config?: C) =>
  (plan: Plan): boolean =>
    runPlan(system, [property], plan, true, config).violations.length === 0;

/**
 * Finds, shrinks and packages a counterexample for one property (or replays
 * one by path, exactly: no shrinking past it). Interrupted while shrinking,
 * it keeps the smallest so far; before any failure, it has none.
 */
async function counterexample<W, C>(
  system: System<W>,
  property: Property<W, C>,
  options: RandomOptions,
): Promise<{ runs: number; found?: Counterexample<W> }> {
  const guard = guarded(options.signal, true);
  const details = await fc.check(fc.asyncProperty(plans(options.maxSteps), guard.wrap(noneBreaks(system, property, options.config as C))), {
    seed: options.seed,
    numRuns: options.runs,
    ...(options.path !== undefined ? { path: options.path, endOnFailure: true } : {}),
  });
  guard.finish();
  if (!details.failed || !details.counterexample) return { runs: details.numRuns };
  const [plan] = details.counterexample;
  return { runs: details.numRuns, found: packaged(system, property, plan, options, details.counterexamplePath ?? '', details.numShrinks) };
}

/** The counterexample `plan` gives, with what replays it. */
function packaged<W, C>(system: System<W>, property: Property<W, C>, plan: Plan, options: RandomOptions, path: string, shrinks: number): Counterexample<W> {
  const run = runPlan(system, [property], plan, true, options.config as C);
  const violation = run.violations[0];
  if (!violation) throw new Error(`internal: counterexample of ${property.id} does not replay`);
  return { explorer: 'random', trace: run.trace, violation, seed: options.seed, path, shrinks };
}

/**
 * Explores a system at random and gives each property a verdict. A replay
 * (`options.path`) checks exactly the schedule the path names. Interrupted
 * (`options.signal`), the properties not yet broken are unknown, and a broken
 * one keeps the schedule that first broke it when there is no time to shrink.
 */
export async function exploreRandom<W, C>(
  system: System<W>,
  properties: readonly Property<W, C>[],
  options: RandomOptions,
): Promise<PropertyResult<W>[]> {
  const results: PropertyResult<W>[] = [];
  if (options.path !== undefined) {
    for (const p of properties) {
      const { runs, found } = await counterexample(system, p, options);
      results.push(found ? { property: p.id, status: 'violated', runs, counterexample: found } : { property: p.id, status: 'holds', runs });
    }
    return results;
  }
  const s = await survey(system, properties, options);
  for (const p of properties) {
    const seen = s.broken.get(p.id);
    if (!seen) {
      results.push({ property: p.id, status: s.interrupted ? 'unknown' : 'holds', runs: s.runs });
      continue;
    }
    const shrunk = options.signal?.aborted ? undefined : await counterexample(system, p, options);
    // fast-check's path of an unshrunk failure is its run's index.
    const found = shrunk?.found ?? packaged(system, p, seen.plan, options, String(seen.run - 1), 0);
    results.push({ property: p.id, status: 'violated', runs: shrunk?.found ? shrunk.runs : seen.run, counterexample: found });
  }
  return results;
}
