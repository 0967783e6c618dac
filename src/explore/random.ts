/**
 * The random explorer: fast-check generates plans (see `schedulers.ts`: which
 * thread moves, which of its enabled steps it takes), every property is
 * checked after every step until a run breaks it, and a failing plan is
 * shrunk and its trace then
 * shortened (`shorten.ts`), both deterministic, so the seed and path replay
 * exactly the trace reported. It knows only the `System` interface.
 *
 * Past its plan's end a run goes on with the first enabled step of the first
 * thread that can move until nothing is enabled, so every run reaches
 * quiescence and shrinking heads towards short traces on few threads.
 */
import fc from 'fast-check';
import type { Property, System } from '../engine/model.ts';
import { walk, type Run, type Trace, type Violation } from '../engine/run.ts';
import { pauser } from './pause.ts';
import { chooser, countingChoices, missedAtMost, plansOf, shapeOf, type Guarantee, type Plan, type Scheduler, type Shape } from './schedulers.ts';
import { shorten } from './shorten.ts';

/** How the random explorer searches: runs, seed, scheduler, a replay path, the Ctrl-C signal. */
export interface RandomOptions {
  /** Schedules to try. */
  readonly runs: number;
  readonly seed: number;
  /** How plans are drawn (`portfolio` when absent). */
  readonly scheduler?: Scheduler;
  /** `--scheduler pct`'s depth. */
  readonly depth?: number;
  /** fast-check's replay path of a counterexample; needs a single property. */
  readonly path?: string;
  /** The variant's config, for properties that read it. */
  readonly config?: unknown;
  /** Aborted by Ctrl-C: the search ends with what it has found. */
  readonly signal?: AbortSignal;
  /** Called about every `progressEveryMs` (500) while schedules run, with how far the search is. */
  readonly onProgress?: (progress: RandomProgress) => void;
  readonly progressEveryMs?: number;
}

/** How far a random search is: schedules run of those it will run, properties broken so far, time taken. */
export interface RandomProgress {
  readonly runs: number;
  readonly of: number;
  readonly broken: number;
  readonly elapsedMs: number;
}

/** A random explorer's counterexample: its trace, the violation, and what replays it. */
export interface Counterexample<W> {
  readonly explorer: 'random';
  readonly trace: Trace<W>;
  readonly violation: Violation;
  /** What `--seed`, `--path` and `--scheduler` take to replay it. */
  readonly seed: number;
  readonly path: string;
  readonly scheduler: Scheduler;
  /** `--pct-depth`, for `--scheduler pct`. */
  readonly depth?: number;
  readonly shrinks: number;
  /** Steps the shrunk schedule took before a breadth-first search over its own steps found this shortest one. */
  readonly shortenedFrom?: number;
}

export interface PropertyResult<W> {
  readonly property: string;
  /** `unknown`: interrupted before any schedule broke it. */
  readonly status: 'holds' | 'violated' | 'unknown';
  /** Schedules run before the verdict (all of them when it holds). */
  readonly runs: number;
  readonly counterexample?: Counterexample<W>;
}

/** Runs one plan to the end, recording every property's first violation. */
export function runPlan<W, C>(
  system: System<W>,
  properties: readonly Property<W, C>[],
  plan: Plan,
  stopAtViolation = false,
  config?: C,
): Run<W> {
  return walk(system, properties, chooser(plan), { stopAtViolation, config });
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
  /** Schedules run, and those at each PCT depth. */
  readonly runs: number;
  readonly pctRuns: ReadonlyMap<number, number>;
  /** Runs with more choice points than the shape's. */
  readonly longer: number;
  readonly interrupted: boolean;
}

const schedulerOf = (options: RandomOptions): Scheduler => options.scheduler ?? 'portfolio';

/** Which properties some schedule breaks, and first where. */
async function survey<W, C>(system: System<W>, shape: Shape, properties: readonly Property<W, C>[], options: RandomOptions): Promise<Survey> {
  const broken = new Map<string, Sighting>();
  // A property is checked until a run first breaks it: that run is the one kept (and a check that would throw in a
  // later run is not met: the property has its verdict).
  let unbroken = properties;
  const pctRuns = new Map<number, number>();
  let runs = 0;
  let longer = 0;
  const guard = guarded(options.signal, false);
  const started = performance.now();
  let shown = started;
  const report = (): void => {
    const now = performance.now();
    if (!options.onProgress || now - shown < (options.progressEveryMs ?? 500)) return;
    shown = now;
    options.onProgress({ runs, of: options.runs, broken: broken.size, elapsedMs: Math.round(now - started) });
  };
  await fc.check(
    fc.asyncProperty(
      plansOf(schedulerOf(options), shape, options.depth),
      guard.wrap((plan: Plan) => {
        runs++;
        if (plan.scheduler === 'pct') pctRuns.set(plan.depth, (pctRuns.get(plan.depth) ?? 0) + 1);
        const counted = countingChoices(chooser<W>(plan));
        const run = walk(system, unbroken, counted.choose, { stopAtViolation: false, config: options.config as C });
        if (counted.choices() > shape.choices) longer++;
        for (const v of run.violations) if (!broken.has(v.property)) broken.set(v.property, { run: runs, plan });
        if (run.violations.length > 0) unbroken = unbroken.filter((p) => !broken.has(p.id));
        report();
        // Stop early once every property is broken: nothing more to learn.
        return broken.size < properties.length;
      }),
    ),
    { seed: options.seed, numRuns: options.runs, endOnFailure: true },
  );
  return { broken, runs, pctRuns, longer, interrupted: guard.finish() };
}

/** What the survey's schedules promise about the bugs they did not find. */
function guaranteeOf(shape: Shape, s: Survey, scheduler: Scheduler): Guarantee {
  const depths = [...s.pctRuns].sort(([a], [b]) => a - b).map(([depth, runs]) => ({ depth, runs, missed: missedAtMost(shape, depth, runs) }));
  return { scheduler, schedules: s.runs, threads: shape.threads, choices: shape.choices, longer: s.longer, depths };
}

/**
 * The fast-check property behind every counterexample: no plan of `scheduler`
 * breaks `property`. With a counterexample's seed and path, `fc.assert` on it
 * replays exactly that counterexample.
 */
export function planProperty<W, C>(
  system: System<W>,
  property: Property<W, C>,
  scheduler: Scheduler = 'portfolio',
  config?: C,
  depth?: number,
): fc.IPropertyWithHooks<[Plan]> {
  return fc.property(plansOf(scheduler, shapeOf(system), depth), noneBreaks(system, property, config));
}

const noneBreaks =
  <W, C>(system: System<W>, property: Property<W, C>, config?: C) =>
  (plan: Plan): boolean =>
    runPlan(system, [property], plan, true, config).violations.length === 0;

/**
 * Shrinks and packages a counterexample for one property, from the run that
 * first broke it (`from`, its 0-based index: fast-check's path of that run,
 * so the runs before it are not run again); or replays one by path, exactly,
 * with no shrinking past it. Interrupted while shrinking, it keeps the
 * smallest so far.
 */
async function counterexample<W, C>(
  system: System<W>,
  shape: Shape,
  property: Property<W, C>,
  options: RandomOptions,
  from?: number,
): Promise<{ runs: number; found?: Counterexample<W> }> {
  const guard = guarded(options.signal, true);
  const plans = plansOf(schedulerOf(options), shape, options.depth);
  const details = await fc.check(fc.asyncProperty(plans, guard.wrap(noneBreaks(system, property, options.config as C))), {
    seed: options.seed,
    numRuns: options.runs,
    ...(options.path !== undefined ? { path: options.path, endOnFailure: true } : { path: String(from) }),
  });
  guard.finish();
  if (!details.failed || !details.counterexample) return { runs: details.numRuns };
  const [plan] = details.counterexample;
  return { runs: details.numRuns, found: await packaged(system, property, plan, options, details.counterexamplePath ?? '', details.numShrinks) };
}

/** The counterexample `plan` gives, shortened, with what replays it. */
async function packaged<W, C>(
  system: System<W>,
  property: Property<W, C>,
  plan: Plan,
  options: RandomOptions,
  path: string,
  shrinks: number,
): Promise<Counterexample<W>> {
  const config = options.config as C;
  const run = runPlan(system, [property], plan, true, config);
  const violation = run.violations[0];
  if (!violation) throw new Error(`internal: counterexample of ${property.id} does not replay`);
  const scheduler = schedulerOf(options);
  const depth = scheduler === 'pct' && options.depth !== undefined ? { depth: options.depth } : {};
  const replays = { explorer: 'random', seed: options.seed, path, scheduler, ...depth, shrinks } as const;
  // Even after Ctrl-C: shortening is brief, and the replay line must give this very trace.
  const shorter = await shorten(system, property, run.trace, config);
  return shorter
    ? { ...replays, trace: shorter.trace, violation: shorter.violation, shortenedFrom: run.trace.steps.length }
    : { ...replays, trace: run.trace, violation };
}

/** The random explorer's verdicts, and for what it did not find, what its schedules promise. */
export interface RandomResult<W> {
  readonly results: readonly PropertyResult<W>[];
  /** Absent for a replay (`path`) or an interrupted search. */
  readonly guarantee?: Guarantee;
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
): Promise<RandomResult<W>> {
  const results: PropertyResult<W>[] = [];
  const shape = shapeOf(system);
  if (options.path !== undefined) {
    for (const p of properties) {
      const { runs, found } = await counterexample(system, shape, p, options);
      results.push(found ? { property: p.id, status: 'violated', runs, counterexample: found } : { property: p.id, status: 'holds', runs });
    }
    return { results };
  }
  const s = await survey(system, shape, properties, options);
  for (const p of properties) {
    const seen = s.broken.get(p.id);
    if (!seen) {
      results.push({ property: p.id, status: s.interrupted ? 'unknown' : 'holds', runs: s.runs });
      continue;
    }
    const shrunk = options.signal?.aborted ? undefined : await counterexample(system, shape, p, options, seen.run - 1);
    // fast-check's path of an unshrunk failure is its run's index.
    const found = shrunk?.found ?? (await packaged(system, p, seen.plan, options, String(seen.run - 1), 0));
    results.push({ property: p.id, status: 'violated', runs: seen.run, counterexample: found });
  }
  return { results, ...(s.interrupted ? {} : { guarantee: guaranteeOf(shape, s, schedulerOf(options)) }) };
}
