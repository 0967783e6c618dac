/**
 * A split search, put back together, is the one search: the same states,
 * transitions and depth, the same verdicts, and each property's shortest
 * counterexample the very trace the one search gives (the same steps), with
 * and without symmetry. Each part stores less than the whole.
 */
import { describe, expect, it } from 'vitest';
import { exploreExhaustive, mergeSplit, plainCodec, walk, type AnyVariant, type Bounds, type ExhaustiveResult, type System } from 'lifecheck';
import { loopAcrossParts } from '../../src/explore/split.ts';
import { runEnds } from '../../src/engine/run-ends.ts';
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

describe('a split search and the loops it cannot see whole', () => {
  // init -> {i: k} for k in 0..63, and {i: k} -> {i: (k + 1) % 64}: one cycle through every world of the shared level.
  const N = 64;
  const ring: System<{ i: number }> = {
    init: { i: -1 },
    horizon: 200,
    enabled: (w) => (w.i < 0 ? Array.from({ length: N }, (_, k) => ({ thread: 0, op: 'go', args: [k] })) : [{ thread: 0, op: 'next', args: [] }]),
    apply: (w, s) => ({ world: { i: s.op === 'go' ? (s.args[0] as number) : (w.i + 1) % N }, reply: { ok: true, text: 'ok' } }),
  };

  it('says a cycle through other parts\' worlds is undecided, never that every run ends', async () => {
    const one = await exploreExhaustive(ring, [runEnds], {});
    expect([...one.counterexamples.keys()]).toEqual(['run-ends']);
    const parts = await Promise.all([0, 1].map((part) => exploreExhaustive(ring, [runEnds], { split: { part, parts: 2 } })));
    const merged = mergeSplit(parts);
    expect(merged.counterexamples.has('run-ends')).toBe(false);
    expect(merged.undecided).toEqual(['run-ends']);
    // The parts' graphs put together see the ring whole: its steps replay as a run that never ends.
    const choices = loopAcrossParts(parts)!;
    expect(choices).not.toBeNull();
    const run = walk(ring, [runEnds], (enabled, _, depth) => enabled[choices[depth]!], { stopAtViolation: true });
    expect(run.violations.map((v) => v.property)).toEqual(['run-ends']);
    // And where every run ends, they say so.
    const line: System<{ i: number }> = { ...ring, enabled: (w) => (w.i < 0 ? ring.enabled(w) : w.i < N - 1 ? [{ thread: 0, op: 'next', args: [] }] : []), apply: (w, s) => ({ world: { i: s.op === 'go' ? (s.args[0] as number) : w.i + 1 }, reply: { ok: true, text: 'ok' } }) };
    const lineParts = await Promise.all([0, 1].map((part) => exploreExhaustive(line, [runEnds], { split: { part, parts: 2 } })));
    expect(lineParts.some((p) => p.split?.undecided)).toBe(true);
    expect(loopAcrossParts(lineParts)).toBeNull();
  });

  it('refuses a codec whose words number what it met in order, which parts would not agree on', async () => {
    const numbered = { ...ring, codec: plainCodec<{ i: number }>() };
    await expect(exploreExhaustive(numbered, [runEnds], { split: { part: 0, parts: 2 } })).rejects.toThrow(/fingerprint/);
    await expect(exploreExhaustive(ring, [runEnds], { split: { part: 0, parts: 2 }, preemptions: 1 })).rejects.toThrow(/preemption/);
  });
});
