/** Test helper: each property broken by one design and kept by another, both found by the random explorer. */
import { describe, expect, it } from 'vitest';
import { checkVariant, type AnyVariant, type Bounds, type Counterexample, type Trace, type Verdict } from 'lifecheck';

/** The verdict of one property of `v` at fixed seed 42. */
export async function verdict(v: AnyVariant, property: string, bounds: Bounds = v.model.defaults, runs = 10_000) {
  return (await checkVariant(v, { bounds, runs, seed: 42, properties: [property] })).verdicts[0]!;
}

export type PropertyCase = readonly [property: string, breaks: AnyVariant, bounds: Bounds, keeps: AnyVariant];

/**
 * For each case: `breaks` violates the property within `bounds`, with a
 * counterexample that replays from its seed and path; `keeps` holds at its
 * model's default bounds.
 */
/** A verdict's counterexample, which must come from the random explorer (it has a seed and path). */
export function randomCounterexample(v: Verdict): Counterexample<unknown> {
  const cx = v.counterexample;
  if (cx?.explorer !== 'random') throw new Error(`${v.property}: no random counterexample`);
  return cx;
}

export function describeBreaksAndKeeps(cases: readonly PropertyCase[]): void {
  describe.each(cases)('%s', (property, breaks, bounds, keeps) => {
    it(`is broken by ${breaks.name}, with a counterexample that replays`, async () => {
      const v = await verdict(breaks, property, bounds);
      expect(v.actual).toBe('violated');
      const cx = randomCounterexample(v);
      expect(cx.violation.property).toBe(property);
      expect(cx.violation.at).toBe(cx.trace.steps.length);
      const again = await checkVariant(breaks, { bounds, runs: 10_000, seed: cx.seed, path: cx.path, properties: [property] });
      expect(again.verdicts[0]!.counterexample!.trace).toEqual(cx.trace);
    });

    it(`is kept by ${keeps.name}`, async () => {
      expect((await verdict(keeps, property, keeps.model.defaults, 3_000)).actual).toBe('holds');
    });
  });
}

/** The exhaustive search's verdict on one property of `v` within `bounds`. */
export async function exhaustiveVerdict(v: AnyVariant, property: string, bounds: Bounds): Promise<Verdict> {
  const r = await checkVariant(v, { bounds, runs: 0, seed: 42, properties: [property], exhaustive: {} });
  return r.verdicts[0]!;
}

export type ExhaustiveCase = readonly [property: string, breaks: AnyVariant, keeps: AnyVariant, bounds: Bounds];

/** For each case, decided by the exhaustive search within `bounds`: `breaks` violates the property, `keeps` holds it. */
export function describeBreaksAndKeepsExhaustively(cases: readonly ExhaustiveCase[]): void {
  describe.each(cases)('%s', (property, breaks, keeps, bounds) => {
    it(`is broken by ${breaks.name}`, async () => {
      const v = await exhaustiveVerdict(breaks, property, bounds);
      expect(v.actual).toBe('violated');
      expect(v.counterexample!.violation.property).toBe(property);
    });

    it(`is kept by ${keeps.name}`, async () => {
      expect((await exhaustiveVerdict(keeps, property, bounds)).actual).toBe('holds');
    });
  });
}

/** Each step of a counterexample as the trace prints it (`IOMMU_DESTROY(1): obj = iommufd_get_object(...) = device 1#1`). */
export function callLines(v: AnyVariant, trace: Trace<unknown>): string[] {
  const worlds = [trace.init, ...trace.steps.map((s) => s.world)];
  return trace.steps.map((s, k) => v.model.present.call(s.step, s.reply, worlds[k], v.config));
}
