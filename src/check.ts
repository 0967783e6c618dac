/**
 * Checking variants: run an explorer over a variant's system, give each
 * property a verdict, and compare it with what the variant expects.
 */
import { counted, coverageOf, type MachineCoverage } from './coverage.ts';
import { checkImplementations, Hits } from './engine/machine.ts';
import { modelError, ModelError } from './engine/thrown.ts';
import { propertiesOf, type AnyVariant, type Bounds, type Expectation, type System } from './engine/model.ts';
import { exploreExhaustive, type ExhaustiveCounterexample, type ExhaustiveOptions, type ExhaustiveResult, type SearchStats } from './explore/exhaustive.ts';
import { exploreRandom, type Counterexample, type RandomProgress } from './explore/random.ts';
import { asMerged, firstFound, loopAcrossParts, mergeFigures } from './explore/split.ts';
import { replaySteps } from './engine/run.ts';
import { runEnds } from './engine/run-ends.ts';
import type { Guarantee, Scheduler } from './explore/schedulers.ts';

/** `unknown`: a search stopped (at a cap, or by Ctrl-C) before it could decide the property. */
export type Status = 'holds' | 'violated' | 'n/a' | 'unknown';

/** A property's verdict for a variant: what it expected, what the check found, and the counterexample. */
export interface Verdict {
  readonly property: string;
  readonly title: string;
  readonly expected: Expectation | 'n/a';
  readonly actual: Status;
  readonly matches: boolean;
  /** Random schedules run before the verdict (0 for an exhaustive search). */
  readonly runs: number;
  readonly counterexample?: Counterexample<unknown> | ExhaustiveCounterexample<unknown>;
}

/** What an exhaustive search did: the figures, whether it saw every world, and whether `--symmetry` could help. */
export type SearchSummary = Omit<ExhaustiveResult<unknown>, 'counterexamples'> & { readonly symmetryDeclared: boolean };

/** Everything `checkVariant` found for a variant: verdicts, search figures, coverage, time. */
export interface VariantReport {
  readonly model: string;
  readonly variant: string;
  readonly title: string;
  readonly source: string;
  readonly bounds: Bounds;
  readonly explorer: 'random' | 'exhaustive';
  readonly seed: number;
  readonly verdicts: readonly Verdict[];
  /** No verdict contradicts its expectation (an unknown one does not). */
  readonly matches: boolean;
  /** Every verdict is final: false when a capped or interrupted search left some unknown. */
  readonly complete: boolean;
  /** Ctrl-C stopped the check before it was done. */
  readonly interrupted?: boolean;
  readonly search?: SearchSummary;
  /** What a random search's schedules promise about what they did not find. */
  readonly guarantee?: Guarantee;
  /** Which states and transitions of the variant's machines the exploration fired. */
  readonly coverage?: readonly MachineCoverage[];
  readonly durationMs: number;
}

/** How `checkVariant` checks a variant: bounds, the random or exhaustive explorer, which properties. */
export interface CheckOptions {
  readonly bounds: Bounds;
  readonly runs: number;
  readonly seed: number;
  /** Check only these properties (all when absent). */
  readonly properties?: readonly string[];
  /** How random schedules are drawn (`portfolio` when absent), and `pct`'s depth. */
  readonly scheduler?: Scheduler;
  readonly depth?: number;
  /** Replay one counterexample by its fast-check path (needs exactly one property). */
  readonly path?: string;
  /** Search every interleaving breadth-first instead of sampling schedules. */
  readonly exhaustive?: Omit<ExhaustiveOptions, 'config' | 'signal' | 'onProgress'>;
  /** Aborted (Ctrl-C): the explorer stops and reports what it has, the rest unknown. */
  readonly signal?: AbortSignal;
  /** Called every half second or so with how far the check is, for a person watching. */
  readonly onProgress?: (progress: Progress) => void;
}

/** How far a check is: the exhaustive search's figures so far, or the random search's schedules (`'runs' in`). */
export type Progress = SearchStats | RandomProgress;

interface Outcome {
  readonly status: 'holds' | 'violated' | 'unknown';
  readonly runs: number;
  readonly counterexample?: Counterexample<unknown> | ExhaustiveCounterexample<unknown>;
}

/**
 * Checks one variant against its model's properties. Model code that throws
 * (a step, a property, a machine) ends the check with a ModelError that names
 * the variant and the step: an error, never a verdict.
 */
export async function checkVariant(variant: AnyVariant, options: CheckOptions): Promise<VariantReport> {
  const name = `${variant.model.name} --variant ${variant.name}`;
  let system: System<unknown>;
  try {
    for (const info of Object.values(variant.model.machines?.(variant.config) ?? {})) checkImplementations(info.machine);
    system = variant.model.system(variant.config, options.bounds);
  } catch (e) {
    throw modelError(e, { variant: name, part: 'building its system' });
  }
  try {
    return await explore(variant, system, options);
  } catch (e) {
    if (!(e instanceof ModelError)) throw e;
    throw e.with({ variant: name, ...(e.where.step ? { actor: actorName(variant, e.where.step.thread, system.init) } : {}) });
  }
}

/** How the model calls a thread (`CPU1`), or undefined if it cannot say. */
function actorName(variant: AnyVariant, thread: number, init: unknown): string | undefined {
  try {
    return variant.model.present.thread(thread, init);
  } catch {
    return undefined;
  }
}

async function explore(variant: AnyVariant, plain: System<unknown>, options: CheckOptions): Promise<VariantReport> {
  const started = performance.now();
  const { model, config } = variant;
  const selected = propertiesOf(variant).filter((p) => !options.properties || options.properties.includes(p.id));
  const applicable = selected.filter((p) => p.applies?.(config) ?? true);
  // Coverage is of the model's machines: a model that declares none pays nothing for counting.
  const hits = new Hits();
  const system = model.machines ? counted(plain, hits) : plain;
  const signal = options.signal ? { signal: options.signal } : {};
  const outcomes = new Map<string, Outcome>();
  let search: SearchSummary | undefined;
  let guarantee: Guarantee | undefined;
  if (options.exhaustive) {
    const progress = options.onProgress ? { onProgress: options.onProgress } : {};
    const { counterexamples, ...summary } = await exploreExhaustive(system, applicable, { ...options.exhaustive, ...signal, ...progress, config });
    search = { ...summary, symmetryDeclared: system.symmetry !== undefined };
    for (const p of applicable) {
      const cx = counterexamples.get(p.id);
      const status = cx ? 'violated' : summary.complete ? 'holds' : 'unknown';
      outcomes.set(p.id, { status, runs: 0, ...(cx ? { counterexample: cx } : {}) });
    }
  } else {
    const random = await exploreRandom(system, applicable, {
      runs: options.runs,
      seed: options.seed,
      ...(options.scheduler ? { scheduler: options.scheduler } : {}),
      ...(options.depth !== undefined ? { depth: options.depth } : {}),
      path: options.path,
      config,
      ...signal,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    for (const r of random.results) outcomes.set(r.property, r);
    guarantee = random.guarantee;
  }
  const verdicts = selected.map((p): Verdict => {
    const r = outcomes.get(p.id);
    const expected = variant.expect[p.id] ?? (r ? 'holds' : 'n/a');
    const actual: Status = r ? r.status : 'n/a';
    return {
      property: p.id,
      title: p.title,
      expected,
      actual,
      // A part of a split search decides only what it breaks: the merge of all the parts says what holds.
      matches: expected === actual || actual === 'unknown' || (actual === 'holds' && options.exhaustive?.split !== undefined),
      runs: r?.runs ?? 0,
      ...(r?.counterexample ? { counterexample: r.counterexample } : {}),
    };
  });
  return {
    model: model.name,
    variant: variant.name,
    title: variant.title,
    source: variant.source,
    bounds: options.bounds,
    explorer: options.exhaustive ? 'exhaustive' : 'random',
    seed: options.seed,
    verdicts,
    matches: verdicts.every((v) => v.matches),
    complete: verdicts.every((v) => v.actual !== 'unknown'),
    ...(options.signal?.aborted ? { interrupted: true } : {}),
    ...(search ? { search } : {}),
    ...(guarantee ? { guarantee } : {}),
    ...(model.machines ? { coverage: coverageOf(model.machines(config, options.bounds), hits) } : {}),
    durationMs: Math.round(performance.now() - started),
  };
}

/**
 * The reports of a split exhaustive check's parts (`ExhaustiveOptions.split`, each part's check of `variant`) as
 * the one check's: the search's figures and each property's counterexample as the one search would have found them
 * (`split.ts`). Coverage says what any part fired; its counts add the parts', so a transition several parts took
 * counts once in each.
 */
export function mergeParts(variant: AnyVariant, bounds: Bounds, parts: readonly VariantReport[]): VariantReport {
  const first = parts[0]!;
  const figures = mergeFigures(parts.map((p) => p.search!));
  // What no part could decide alone (a loop through several parts' worlds), decided on their graphs put together.
  const loop = figures.complete && figures.undecided?.includes(runEnds.id) ? loopOfParts(variant, bounds, parts) : undefined;
  const verdicts = first.verdicts.map((v): Verdict => {
    const each = parts.map((p) => p.verdicts.find((x) => x.property === v.property)!);
    const cx = v.property === runEnds.id && loop ? loop : firstFound(each.map((x) => x.counterexample as ExhaustiveCounterexample<unknown> | undefined));
    const decided = figures.complete && (!figures.undecided?.includes(v.property) || (v.property === runEnds.id && loop !== undefined));
    const actual: Status = v.actual === 'n/a' ? 'n/a' : cx ? 'violated' : decided ? 'holds' : 'unknown';
    const { counterexample: _, ...rest } = v;
    return { ...rest, actual, matches: v.expected === actual || actual === 'unknown', ...(cx ? { counterexample: asMerged(cx) } : {}) };
  });
  const coverage = first.coverage && variant.model.machines ? coverageOf(variant.model.machines(variant.config, bounds), addedHits(variant, bounds, parts)) : undefined;
  return {
    ...first,
    verdicts,
    matches: verdicts.every((v) => v.matches),
    complete: verdicts.every((v) => v.actual !== 'unknown'),
    ...(parts.some((p) => p.interrupted) ? { interrupted: true } : {}),
    search: { ...withUndecided(figures, loop === undefined ? figures.undecided : figures.undecided?.filter((id) => id !== runEnds.id)), symmetryDeclared: first.search!.symmetryDeclared },
    ...(coverage ? { coverage } : {}),
    durationMs: Math.max(...parts.map((p) => p.durationMs)),
  };
}

/**
 * The loop the one search would find, from the parts' graphs put together and replayed on the variant's system; null
 * when every run ends, undefined when it cannot say (graphs missing, or a symmetry, whose step indices replay otherwise).
 */
function loopOfParts(variant: AnyVariant, bounds: Bounds, parts: readonly VariantReport[]): ExhaustiveCounterexample<unknown> | null | undefined {
  if (parts[0]!.search!.symmetry) return undefined;
  const choices = loopAcrossParts(parts.map((p) => p.search!));
  if (choices === null || choices === undefined) return choices;
  const run = replaySteps(variant.model.system(variant.config, bounds), [runEnds], choices, (k: number, enabled) => enabled[k]);
  const violation = run.violations[0];
  return violation ? { explorer: 'exhaustive', trace: run.trace, violation, shortest: false, path: choices, afterMs: 0 } : undefined;
}

/** `figures` with what is still undecided, none when nothing is. */
function withUndecided<F extends { undecided?: readonly string[] }>(figures: F, undecided: readonly string[] | undefined): F {
  const { undecided: _, ...rest } = figures;
  return (undecided?.length ? { ...rest, undecided } : rest) as F;
}

/** The parts' coverage counts added up, as the hits of the variant's machines. */
function addedHits(variant: AnyVariant, bounds: Bounds, parts: readonly VariantReport[]): Hits {
  const hits = new Hits();
  for (const [name, info] of Object.entries(variant.model.machines!(variant.config, bounds))) {
    for (const p of parts) {
      const edges = p.coverage?.find((c) => c.machine === name)?.edges ?? [];
      edges.forEach((e, i) => e.hits > 0 && hits.add(info.machine, i, e.hits));
    }
  }
  return hits;
}
