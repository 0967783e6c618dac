/**
 * Replaying recorded steps: a counterexample replays to the same violation,
 * a fixed design to none; a step that does not fit is `stuck` with the reason,
 * a changed reply is reported; the fast-check property finds a counterexample
 * again from its seed and path; and the reproducers are TypeScript that does
 * what the trace did.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkVariant,
  replay,
  scheduleProperty,
  type Bounds,
  type ExhaustiveCounterexample,
  type RecordedStep,
} from 'lifecheck';
import { findVariant, ioasid, ioasidBench } from 'lifecheck/models';
import { fastCheckReproducer, literal, vitestReproducer, type ReproducerInput } from '../../src/trace/reproducer.ts';
import { traceRows } from '../../src/trace/text.ts';
import { randomCounterexample } from '../helpers/properties.ts';
import { variantOf } from '../helpers/variants.ts';

const buggy = variantOf(ioasidBench, 'bench-buggy');
const fixed = variantOf(ioasidBench, 'fixed');
const bounds: Bounds = { threads: 2, ops: 3, ids: { min: 1, max: 2 } };
const property = 'no-use-after-free';

/** The shortest use-after-free of bench-buggy: alloc, find, put, use. */
async function shortest(): Promise<ExhaustiveCounterexample<unknown>> {
  const cx = (await checkVariant(buggy, { bounds, runs: 0, seed: 42, properties: [property], exhaustive: {} })).verdicts[0]!.counterexample;
  if (cx?.explorer !== 'exhaustive') throw new Error('bench-buggy: no exhaustive counterexample');
  return cx;
}

let cx: ExhaustiveCounterexample<unknown>;
let recorded: RecordedStep[];
beforeAll(async () => {
  cx = await shortest();
  recorded = cx.trace.steps.map(({ step, reply }) => ({ ...step, reply }));
});

const step = (thread: number, op: string, ...args: number[]): RecordedStep => ({ thread, op, args });

describe('replay', () => {
  it("meets a counterexample's violation at the same step, along the same trace", async () => {
    const r = replay(buggy, bounds, recorded, property);
    expect(r.violation).toEqual(cx.violation);
    expect(r.violation!.at).toBe(4);
    expect(r.trace).toEqual(cx.trace);
    expect(r.stuck).toBeUndefined();
    expect(r.changedReplies).toEqual([]);
  });

  it('meets no violation on the fixed design, and reports the reply that changed', async () => {
    const r = replay(fixed, bounds, recorded, property);
    expect(r.violation).toBeUndefined();
    expect(r.stuck).toBeUndefined();
    expect(r.trace.steps).toHaveLength(4);
    // find took a reference, so put no longer frees.
    expect(r.changedReplies).toEqual([{ at: 3, recorded: { ok: true, text: 'freed' }, now: { ok: true, text: 'put' } }]);
  });

  it('reports a recorded reply that differs, and compares no reply where none is recorded', async () => {
    const altered = recorded.map((s, i) => (i === 0 ? { ...s, reply: { ok: true, text: '2' } } : { ...s, reply: undefined }));
    expect(replay(buggy, bounds, altered, property).changedReplies).toEqual([
      { at: 1, recorded: { ok: true, text: '2' }, now: { ok: true, text: '1' } },
    ]);
  });

  it('is stuck at the first step that is not enabled, naming what the thread can do', async () => {
    const r = replay(buggy, bounds, [step(0, 'alloc'), step(0, 'put', 2), step(0, 'put', 1)], property);
    expect(r.stuck).toEqual({ at: 2, why: 'T0 put(2) is not enabled; T0 can do alloc(), get(1), put(1), free(1), find(1), get(2), find(2)' });
    expect(r.trace.steps.map((s) => s.step)).toEqual([step(0, 'alloc')]);
    expect(r.violation).toBeUndefined();
  });

  it('is stuck at a step of a thread that has used up its operations', async () => {
    const alloc = step(0, 'alloc');
    expect(replay(buggy, bounds, [alloc, alloc, alloc, alloc], property).stuck).toEqual({
      at: 4,
      why: 'T0 alloc() is not enabled: T0 can take no step here (only T1 can)',
    });
  });

  it('is stuck at a step after the run is over', async () => {
    const steps = [0, 0, 0, 1, 1, 1, 0].map((t) => step(t, 'alloc'));
    const r = replay(buggy, bounds, steps, property);
    expect(r.stuck).toEqual({ at: 7, why: 'T0 alloc() is not enabled: no thread can move (every thread is done)' });
    expect(r.trace.steps).toHaveLength(6);
  });

  it('is not stuck on steps after the violation: the replay ends there', async () => {
    const r = replay(buggy, bounds, [...recorded, step(0, 'alloc')], property);
    expect(r.violation?.at).toBe(4);
    expect(r.stuck).toBeUndefined();
  });

  it('refuses a property the model does not have, listing those it has', async () => {
    expect(() => replay(buggy, bounds, recorded, 'no-such-property')).toThrow(
      "model 'ioasid-bench' has no property 'no-such-property'; known: no-use-after-free, no-reuse-while-referenced, refcount-accounting",
    );
  });

  it('refuses a property that does not apply to the variant', async () => {
    // v1 has no free-pending state for ioasid_get to refuse.
    expect(() => replay(variantOf(ioasid, 'v1'), ioasid.defaults, [], 'get-fails-on-free-pending')).toThrow(
      "property 'get-fails-on-free-pending' does not apply to variant 'v1'",
    );
  });
});

describe('findVariant', () => {
  it('finds a built-in variant by model and name, or in what a module exports', async () => {
    expect(findVariant('ioasid', 'series')).toBe(variantOf(ioasid, 'series'));
    expect(findVariant(ioasidBench, 'fixed')).toBe(fixed);
  });

  it('refuses an unknown variant, listing the known ones', async () => {
    const known = ioasid.variants.map((v) => v.name).join(', ');
    expect(() => findVariant('ioasid', 'nope')).toThrow(`unknown variant 'nope' of model 'ioasid'; known: ${known}`);
  });

  it('refuses an unknown model, listing the built-in ones', async () => {
    expect(() => findVariant('nope', 'series')).toThrow("unknown model 'nope'; known models: ioasid, iommufd, ioasid-bench");
  });
});

describe('scheduleProperty', () => {
  it("fails fc.assert again with a random counterexample's seed and path, and holds on the fixed design", async () => {
    const options = { bounds: ioasidBench.defaults, runs: 1_000, seed: 42, properties: [property] };
    const { seed, path } = randomCounterexample((await checkVariant(buggy, options)).verdicts[0]!);
    const assertWith = (v: typeof buggy) => () =>
      fc.assert(scheduleProperty(v, ioasidBench.defaults, property), { seed, path, endOnFailure: true });
    expect(assertWith(buggy)).toThrow(/Property failed after 1 tests/);
    expect(assertWith(fixed)).not.toThrow();
  });
});

describe('literal', () => {
  it('writes strings in single quotes, escaping quotes, backslashes and newlines', async () => {
    expect(literal('alloc')).toBe("'alloc'");
    expect(literal("it's a \\ path\nnext")).toBe("'it\\'s a \\\\ path\\nnext'");
  });

  it('writes bare identifier keys, quotes the others, and leaves out undefined fields', async () => {
    expect(literal({ threads: 2, ids: { min: 1, max: 2 }, only: undefined })).toBe('{ threads: 2, ids: { min: 1, max: 2 } }');
    expect(literal({ $x: 1, _y: true, 'a-b': [1, 'two'], 7: null })).toBe("{ '7': null, $x: 1, _y: true, 'a-b': [1, 'two'] }");
    expect(literal({})).toBe('{}');
    expect(literal([])).toBe('[]');
  });

  it('writes source that evaluates back to the value', async () => {
    const value = { bounds: { threads: 2, only: { ops: ['alloc', 'free'] } }, "it's": 'a\\b\n\r\u2028', nested: [[1, -2], { 'x y': false }] };
    expect(new Function(`return ${literal(value)};`)()).toEqual(value);
  });
});

describe('reproducers', () => {
  const input = (): ReproducerInput => ({
    model: 'ioasid-bench',
    variant: 'bench-buggy',
    property,
    bounds,
    steps: traceRows(cx.trace, ioasidBench.present, buggy.config).map((r, i) => ({ ...cx.trace.steps[i]!.step, shown: `T${r.thread}: ${r.call}` })),
    violation: cx.violation,
    from: 'traces/ioasid-bench-bench-buggy-no-use-after-free.itf.json',
  });

  it('writes a vitest file that finds the built-in variant, lists the steps and pins the violation', async () => {
    const text = vitestReproducer(input());
    expect(text).toContain("import { replay } from 'lifecheck';\nimport { findVariant } from 'lifecheck/models';");
    expect(text).toContain("const variant = findVariant('ioasid-bench', 'bench-buggy');");
    expect(text).toContain('const bounds = { threads: 2, ops: 3, ids: { min: 1, max: 2 } };');
    expect(text).toContain("  { thread: 0, op: 'alloc', args: [] }, // T0: alloc() = 1\n");
    expect(text).toContain("  { thread: 1, op: 'use', args: [1] }, // T1: use(1) = used\n");
    expect(text).toContain("replay(variant, bounds, steps, 'no-use-after-free')");
    expect(text).toContain('expect(result.violation?.at).toBe(4);');
  });

  it("lists steps that replay to the trace's violation", async () => {
    const text = vitestReproducer(input());
    const steps = /^const steps = (\[[\s\S]*?^\]);$/m.exec(text)![1];
    const parsed = new Function(`return ${steps};`)() as RecordedStep[];
    expect(parsed).toEqual(cx.trace.steps.map((s) => s.step));
    expect(replay(findVariant('ioasid-bench', 'bench-buggy'), bounds, parsed, property).violation).toEqual(cx.violation);
  });

  it("imports a user's variant from its module", async () => {
    const text = vitestReproducer({ ...input(), module: './my-model.ts' });
    expect(text).toContain("import defined from './my-model.ts';");
    expect(text).toContain("const variant = findVariant(defined, 'bench-buggy');");
  });

  it('writes the fc.assert call with the seed and path', async () => {
    const text = fastCheckReproducer({ ...input(), seed: 42, path: '4:28:1' });
    expect(text).toContain("import { scheduleProperty } from 'lifecheck';\nimport { findVariant } from 'lifecheck/models';");
    expect(text).toContain(
      "  scheduleProperty(findVariant('ioasid-bench', 'bench-buggy'), { threads: 2, ops: 3, ids: { min: 1, max: 2 } }, 'no-use-after-free'),",
    );
    expect(text).toContain("  { seed: 42, path: '4:28:1', endOnFailure: true },");
  });
});
