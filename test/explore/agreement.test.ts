/**
 * The two explorers agree: at small bounds the exhaustive search (a proof
 * within the bounds) and the random one (3,000 schedules, seed 42) give every
 * property of every built-in variant the same verdict; at slightly larger
 * bounds whatever the random explorer breaks, the exhaustive one breaks too.
 */
import { describe, expect, it } from 'vitest';
import { checkVariant, type AnyVariant, type Bounds, type VariantReport } from 'lifecheck';
import { builtInModels } from 'lifecheck/models';

const variants: [string, AnyVariant][] = builtInModels.flatMap((m) =>
  m.variants.map((v): [string, AnyVariant] => [`${m.name}/${v.name}`, v]),
);

const statuses = (r: VariantReport) => Object.fromEntries(r.verdicts.map((v) => [v.property, v.actual]));

describe('exhaustive and random explorers', () => {
  const small: Bounds = { threads: 2, ops: 1, ids: { min: 1, max: 2 } };

  it.each(variants)('%s: give every property the same verdict at 2 threads x 1 op, and the search is complete', async (_, v) => {
    const exhaustive = await checkVariant(v, { bounds: small, runs: 0, seed: 42, exhaustive: {} });
    const random = await checkVariant(v, { bounds: small, runs: 3_000, seed: 42 });
    expect(exhaustive.complete).toBe(true);
    expect(exhaustive.search?.complete).toBe(true);
    expect(statuses(exhaustive)).toEqual(statuses(random));
  });

  it.each(variants)('%s: exhaustive breaks every property the random explorer breaks at 2 threads x 2 ops', async (_, v) => {
    const bounds: Bounds = { threads: 2, ops: 2, ids: { min: 1, max: 2 } };
    const random = await checkVariant(v, { bounds, runs: 500, seed: 42 });
    const exhaustive = statuses(await checkVariant(v, { bounds, runs: 0, seed: 42, exhaustive: {} }));
    for (const r of random.verdicts.filter((x) => x.actual === 'violated')) {
      expect(exhaustive[r.property], r.property).toBe('violated');
    }
  });
});
