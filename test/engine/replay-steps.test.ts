/**
 * `replaySteps`, the one way recorded steps are run again (trace files, the
 * exhaustive explorer's counterexamples and loops): it takes the steps as
 * recorded, stops at the first violation, says where it got stuck, and runs
 * past the horizon when the list does. And `Revisits`, how a run tells it is
 * back in a world it was in: by the codec's words, or without one as plain
 * data, refusing what is not.
 */
import { describe, expect, it } from 'vitest';
import type { Step } from 'lifecheck';
import { replaySteps } from '../../src/engine/run.ts';
import { Revisits, runEnds } from '../../src/engine/run-ends.ts';
import { spinlock } from '../fixtures/spinlock.ts';
import { variantOf } from '../helpers/variants.ts';

const bounds = spinlock.defaults;
const waits = variantOf(spinlock, 'waits');
const retries = variantOf(spinlock, 'retries');
const systemOf = (v: typeof waits) => spinlock.system(v.config, bounds);
const call = (thread: number, op: 'try' | 'unlock'): Step => ({ thread, op, args: [] });
const sameCall = (wanted: Step, enabled: readonly Step[]) => enabled.find((s) => s.thread === wanted.thread && s.op === wanted.op);

describe('replaySteps', () => {
  it('takes every recorded step, in order, when each is enabled', () => {
    const recorded = [call(0, 'try'), call(0, 'unlock'), call(1, 'try'), call(1, 'unlock')];
    const run = replaySteps(systemOf(waits), spinlock.properties, recorded, sameCall, waits.config);
    expect(run.trace.steps.map((t) => t.step)).toEqual(recorded);
    expect(run.violations).toEqual([]);
    expect(run.stuck).toBeUndefined();
    expect(run.quiescent).toBe(true);
  });

  it('is stuck at the first step not enabled, with the steps that were', () => {
    const run = replaySteps(systemOf(waits), spinlock.properties, [call(0, 'try'), call(1, 'try')], sameCall, waits.config);
    expect(run.trace.steps).toHaveLength(1);
    expect(run.stuck).toEqual({ index: 1, enabled: [call(0, 'unlock')] });
  });

  it('is stuck, with nothing enabled, at a step recorded past the end of the run', () => {
    const recorded = [call(0, 'try'), call(0, 'unlock'), call(1, 'try'), call(1, 'unlock'), call(0, 'try')];
    expect(replaySteps(systemOf(waits), spinlock.properties, recorded, sameCall, waits.config).stuck).toEqual({ index: 4, enabled: [] });
  });

  it('stops at the first violation, not stuck', () => {
    const recorded = [call(1, 'try'), call(0, 'try'), call(0, 'try'), call(0, 'try')];
    const run = replaySteps(systemOf(retries), [runEnds], recorded, sameCall);
    expect(run.violations.map((v) => [v.property, v.at])).toEqual([['run-ends', 2]]);
    expect(run.trace.steps).toHaveLength(2);
    expect(run.stuck).toBeUndefined();
  });

  it('runs past the horizon when the list is longer (a loop closes late)', () => {
    const system = systemOf(retries);
    const recorded = [call(1, 'try'), ...Array.from({ length: system.horizon + 2 }, () => call(0, 'try'))];
    const run = replaySteps(system, [], recorded, sameCall);
    expect(run.trace.steps).toHaveLength(recorded.length);
    expect(run.stuck).toBeUndefined();
  });
});

describe('Revisits', () => {
  const plain = { init: {}, horizon: 9, enabled: () => [], apply: () => ({ world: {}, reply: { ok: true, text: '' } }) };

  it('without a codec, knows a world again as plain data, key order, undefined and NaN included', () => {
    const revisits = new Revisits<unknown>(plain);
    expect(revisits.visit({ a: [1, { b: 'x' }], n: NaN }, 0)).toBeUndefined();
    expect(revisits.visit({ a: [1, { b: 'y' }], n: NaN }, 1)).toBeUndefined();
    expect(revisits.visit({ n: NaN, a: [1, { b: 'x' }] }, 2)).toBeUndefined();
    expect(revisits.visit({ a: [1, { b: 'x' }], n: NaN, u: undefined }, 3)).toBeUndefined();
    expect(revisits.visit({ a: [1, { b: 'x' }], n: NaN }, 4)).toBe(0);
  });

  it('without a codec, refuses a world that is not plain data where it would have to compare one', () => {
    const revisits = new Revisits<unknown>(plain);
    revisits.visit({ m: new Map([[1, 2]]) }, 0);
    expect(() => revisits.visit({ m: new Map() }, 1)).toThrow(/a world holds a Map; worlds must be plain data/);
  });

  it("with a codec, knows a world again by the codec's words", () => {
    // A codec that keeps only `n`: worlds that differ elsewhere are the same world to it.
    const revisits = new Revisits<{ n: number; note: string }>({
      ...plain,
      init: { n: 0, note: '' },
      apply: (w) => ({ world: w, reply: { ok: true, text: '' } }),
      codec: { encode: (w, out) => out.push(w.n), decode: (words) => ({ n: words[0]!, note: '' }) },
    });
    expect(revisits.visit({ n: 1, note: 'a' }, 0)).toBeUndefined();
    expect(revisits.visit({ n: 2, note: 'a' }, 1)).toBeUndefined();
    expect(revisits.visit({ n: 1, note: 'a' }, 2)).toBe(0);
  });
});
