import { describe, expect, it } from 'vitest';
import { checkVariant, exploreRandom, renderTrace, type Property, type Step, type System } from 'lifecheck';
import { ioasid, ioasidBench } from 'lifecheck/models';
import { randomCounterexample } from '../helpers/properties.ts';
import { variantOf } from '../helpers/variants.ts';

const series = variantOf(ioasid, 'series');
const options = { bounds: ioasid.defaults, runs: 10_000, seed: 42, properties: ['no-use-after-free'] };

describe('random explorer', () => {
  it("finds the use-after-free of the series as posted in 4 steps, the exhaustive search's shortest", async () => {
    const v = (await checkVariant(series, options)).verdicts[0]!;
    expect(v.actual).toBe('violated');
    // checkVariant samples at random unless asked for the exhaustive search, whatever the model's CLI default.
    expect(v.counterexample!.explorer).toBe('random');
    expect(v.counterexample!.trace.steps.length).toBe(4);
  });

  it("shortens a find with filler steps to the exhaustive search's length, and the seed and path replay the short one", async () => {
    // v1's reuse under a bond: shrinking leaves two failed allocs and a guest's exit; the shortest takes 4 steps.
    const v1 = variantOf(ioasid, 'v1');
    const at = { ...options, runs: 2_000, seed: 1 };
    const cx = randomCounterexample((await checkVariant(v1, at)).verdicts[0]!);
    expect(cx.shortenedFrom).toBe(9);
    const exhaustive = (await checkVariant(v1, { ...at, exhaustive: {} })).verdicts[0]!.counterexample!;
    expect(cx.trace.steps.length).toBe(exhaustive.trace.steps.length);
    const again = randomCounterexample((await checkVariant(v1, { ...at, path: cx.path })).verdicts[0]!);
    expect(again.trace).toEqual(cx.trace);
  });

  it('is deterministic for a seed', async () => {
    const a = randomCounterexample((await checkVariant(series, options)).verdicts[0]!);
    const b = randomCounterexample((await checkVariant(series, options)).verdicts[0]!);
    expect(b.path).toBe(a.path);
    expect(b.trace).toEqual(a.trace);
  });

  it('replays a counterexample exactly from its seed and path', async () => {
    const cx = randomCounterexample((await checkVariant(series, options)).verdicts[0]!);
    const replay = (await checkVariant(series, { ...options, seed: cx.seed, path: cx.path })).verdicts[0]!.counterexample!;
    expect(replay.trace).toEqual(cx.trace);
    expect(renderTrace(replay.trace, ioasid.present, series.config, replay.violation)).toBe(
      renderTrace(cx.trace, ioasid.present, series.config, cx.violation),
    );
  });

  it('prints the trace in lockdep columns with the breaking step marked', async () => {
    const cx = (await checkVariant(series, options)).verdicts[0]!.counterexample!;
    const text = renderTrace(cx.trace, ioasid.present, series.config, cx.violation);
    expect(text.split('\n')[0]!.trim().split(/ {2,}/)).toEqual(['CPU0', 'CPU1', 'ioasid 1']);
    expect(text).toMatch(/find\(1\): ioasid_find\(set, id, NULL\) =/);
    // The mark goes beside the breaking step (or on the line below it when that would pass 80 columns), after the
    // object's state: the vCPU uses what its find returned, freed meanwhile by the other vCPU of its guest.
    expect(text).toMatch(/^4 +use\(found, priv\) = ok; returns 0 +freed +<-- no-use-after-free\n/m);
    for (const line of text.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });
});

describe('progress', () => {
  it('says how far a random check is: schedules run of all, properties broken, as they go', async () => {
    const seen: { runs: number; of: number; broken: number }[] = [];
    const bench = variantOf(ioasidBench, 'bench-buggy');
    await exploreRandom(ioasidBench.system(bench.config, ioasidBench.defaults), ioasidBench.properties, {
      runs: 300,
      seed: 42,
      config: bench.config,
      progressEveryMs: 0,
      onProgress: ({ runs, of, broken }) => seen.push({ runs, of, broken }),
    });
    expect(seen.map((p) => p.runs)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    expect(new Set(seen.map((p) => p.of))).toEqual(new Set([300]));
    // Broken properties only add up.
    expect(seen.every((p, i) => i === 0 || p.broken >= seen[i - 1]!.broken)).toBe(true);
    expect(seen.at(-1)!.broken).toBe(1);
  });
});

describe('properties checked', () => {
  it('checks a property until a run first breaks it, and every other one on every step', async () => {
    // Two threads may each increment a counter until it reaches 3; `a` breaks at the first step, `b` never.
    const incs: Step[] = [0, 1].map((thread) => ({ thread, op: 'inc', args: [] }));
    const counter: System<{ readonly n: number }> = {
      init: { n: 0 },
      horizon: 3,
      enabled: (w) => (w.n < 3 ? incs : []),
      apply: (w) => ({ world: { n: w.n + 1 }, reply: { ok: true, text: String(w.n + 1) } }),
    };
    const calls = { a: 0, b: 0 };
    const base = { title: 'test', source: 'test', kind: 'step' } as const;
    const properties: Property<{ readonly n: number }>[] = [
      { ...base, id: 'a', check: () => (calls.a++, 'broken') },
      { ...base, id: 'b', check: () => (calls.b++, undefined) },
    ];
    // Per run of the survey (before the counterexample is shrunk): how often each was checked so far.
    const seen: { a: number; b: number }[] = [];
    const result = await exploreRandom(counter, properties, { runs: 20, seed: 1, progressEveryMs: 0, onProgress: () => seen.push({ ...calls }) });
    expect(result.results.map((r) => [r.property, r.status])).toEqual([
      ['a', 'violated'],
      ['b', 'holds'],
    ]);
    expect(seen.map((c) => c.a)).toEqual(Array.from({ length: 20 }, () => 3));
    expect(seen.map((c) => c.b)).toEqual(Array.from({ length: 20 }, (_, run) => 3 * (run + 1)));
  });
});
