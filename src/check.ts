/**
 * Checking variants: run the explorer over a variant's system, give each
 * property a verdict, and compare it with what the variant expects.
 */
import type { AnyVariant, Bounds, Expectation } from './engine/model.ts';
import { exploreRandom, type Counterexample } from './explore/random.ts';

export type Status = 'holds' | 'violated' | 'n/a';

export interface Verdict {
  readonly property: string;
  readonly title: string;
  readonly expected: Expectation | 'n/a';
  readonly actual: Status;
  readonly matches: boolean;
  readonly runs: number;
  readonly counterexample?: Counterexample<unknown>;
}

export interface VariantReport {
  readonly model: string;
  readonly variant: string;
  readonly title: string;
  readonly source: string;
  readonly bounds: Bounds;
  readonly seed: number;
  readonly verdicts: readonly Verdict[];
  readonly matches: boolean;
  readonly durationMs: number;
}

export interface CheckOptions {
  readonly bounds: Bounds;
  readonly runs: number;
  readonly seed: number;
  /** Check only these properties (all when absent). */
  readonly properties?: readonly string[];
  /** Replay one counterexample by its fast-check path (needs exactly one property). */
  readonly path?: string;
}

/** Checks one variant against its model's properties. */
export function checkVariant(variant: AnyVariant, options: CheckOptions): VariantReport {
  const started = performance.now();
  const { model } = variant;
  const selected = model.properties.filter((p) => !options.properties || options.properties.includes(p.id));
  const applicable = selected.filter((p) => p.applies?.(variant.config) ?? true);
  const system = model.system(variant.config, options.bounds);
  const results = exploreRandom(system, applicable, {
    runs: options.runs,
    seed: options.seed,
    path: options.path,
    maxSteps: system.horizon,
  });
  const verdicts = selected.map((p): Verdict => {
    const r = results.find((x) => x.property === p.id);
    const expected = variant.expect[p.id] ?? (r ? 'holds' : 'n/a');
    const actual: Status = r ? r.status : 'n/a';
    return {
      property: p.id,
      title: p.title,
      expected,
      actual,
      matches: expected === actual,
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
    seed: options.seed,
    verdicts,
    matches: verdicts.every((v) => v.matches),
    durationMs: Math.round(performance.now() - started),
  };
}
