/**
 * A split search, put back together, is the one search: the same states,
 * transitions and depth, the same verdicts, and each property's shortest
 * counterexample the very trace the one search gives (the same steps), with
 * and without symmetry. Each part stores less than the whole.
 */
import { describe, expect, it } from 'vitest';
import { exploreExhaustive, mergeSplit, type AnyVariant, type Bounds, type ExhaustiveResult } from 'lifecheck';
import { propertiesOf } from '../../src/engine/model.ts';
import { builtInModels } from 'lifecheck/models';

const cases: readonly { model: string; variant: string; bounds: Bounds; symmetry?: boolean }[] = [
  { model: 'ioasid', variant: 'series', bounds: { threads: 2, ops: 2, ids: { min: 1, max: 2 } } },
  { model: 'ioasid', variant: 'series-notify-inline', bounds: { threads: 2, ops: 2, ids: { min: 1, max: 2 } } },
  { model: 'iommufd', variant: 'finalize-before-fail', bounds: { threads: 2, ops: 2, ids: { min: 1, max: 2 } } },
  { model: 'ioasid-bench', variant: 'bench-buggy', bounds: { threads: 3, ops: 2, ids: { min: 1, max: 2 } } },
  { model: 'ioasid-bench', variant: 'fixed', bounds: { threads: 3, ops: 2, ids: { min: 1, max: 2 } }, symmetry: true },
];

function search(variant: AnyVariant, bounds: Bounds, options: { split?: { part: number; parts: number }; symmetry?: boolean }) {
  const properties = propertiesOf(variant).filter((p) => p.applies?.(variant.config) ?? true);
  return exploreExhaustive(variant.model.system(variant.config, bounds), properties, { ...options, config: variant.config });
}

/** What a counterexample says: its path and its steps. */
const said = (r: ExhaustiveResult<unknown>) =>
  Object.fromEntries([...r.counterexamples].map(([id, cx]) => [id, { shortest: cx.shortest, path: cx.path, steps: cx.trace.steps.map((s) => s.step), at: cx.violation.at }]));

describe.each(cases)('$model --variant $variant, split', ({ model, variant: name, bounds, symmetry }) => {
  const variant = builtInModels.find((m) => m.name === model)!.variants.find((v) => v.name === name)! as AnyVariant;

  it.each([2, 3])('into %i parts is the one search', async (parts) => {
    const one = await search(variant, bounds, symmetry ? { symmetry } : {});
    const each = await Promise.all(Array.from({ length: parts }, (_, part) => search(variant, bounds, { split: { part, parts }, ...(symmetry ? { symmetry } : {}) })));
    for (const p of each) expect(p.stats.states).toBeLessThan(one.stats.states);
    const merged = mergeSplit(each);
    expect(merged.complete).toBe(true);
    expect(merged.parts).toBe(parts);
    expect([merged.stats.states, merged.stats.transitions, merged.stats.depth]).toEqual([one.stats.states, one.stats.transitions, one.stats.depth]);
    // A loop is not a shortest trace: the parts agree that there is one, not on which.
    const shortest = (r: ExhaustiveResult<unknown>) => Object.fromEntries(Object.entries(said(r)).filter(([, cx]) => cx.shortest));
    expect([...merged.counterexamples.keys()].sort()).toEqual([...one.counterexamples.keys()].sort());
    expect(shortest(merged)).toEqual(shortest(one));
  });
});
