/**
 * Trace files in ITF: how plain values are tagged, and what `toItf` makes of
 * real counterexamples (every var in every state, of one type in all of them,
 * as a strict reader of the spec reads it; each step's facts in its state's
 * `#meta`, the trace's origin at the top), written one state a line.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkVariant,
  itfValue,
  toItf,
  type AnyVariant,
  type Bounds,
  type CheckOptions,
  type Counterexample,
  type Presenter,
  type TraceOrigin,
} from 'lifecheck';
import {
  ioasid,
  ioasidBench,
  type BenchConfig,
  type BenchWorld,
} from 'lifecheck/models';
import { itfText, type StepMeta } from '../../src/trace/itf.ts';
import { readItfStrictly } from '../helpers/itf-reader.ts';
import { randomCounterexample, verdict } from '../helpers/properties.ts';
import { variantOf } from '../helpers/variants.ts';

const benchBounds: Bounds = { threads: 2, ops: 3, ids: { min: 1, max: 2 } };

/** The counterexample of `property` that `options` find, failing the test when there is none. */
async function counterexample(variant: AnyVariant, options: CheckOptions, property: string) {
  const cx = (await checkVariant(variant, { ...options, properties: [property] })).verdicts[0]!.counterexample;
  if (!cx) throw new Error(`${variant.name}: no counterexample of ${property}`);
  return cx;
}

type Found = Awaited<ReturnType<typeof counterexample>>;

const originOf = (variant: AnyVariant, bounds: Bounds, cx: Found): TraceOrigin => ({
  version: '0.1.0',
  model: variant.model.name,
  variant: variant.name,
  property: cx.violation.property,
  bounds,
  explorer: cx.explorer,
  ...(cx.explorer === 'random' ? { seed: cx.seed, path: cx.path } : {}),
  violation: cx.violation,
});

const metaOf = (state: Record<string, unknown>) => state['#meta'] as StepMeta;
const withoutMeta = ({ '#meta': _, ...vars }: Record<string, unknown>) => vars;
const big = (n: number) => ({ '#bigint': String(n) });

describe('itfValue', () => {
  it('tags integers as #bigint, marks other numbers (ITF has none), and leaves strings and booleans as they are', async () => {
    expect(itfValue(3)).toEqual(big(3));
    expect(itfValue(-7)).toEqual(big(-7));
    expect(itfValue(0)).toEqual(big(0));
    expect(itfValue(12n)).toEqual({ '#bigint': '12' });
    expect(itfValue(1.5)).toEqual({ '#unserializable': '1.5' });
    expect(itfValue('FREE')).toBe('FREE');
    expect(itfValue('')).toBe('');
    expect(itfValue(true)).toBe(true);
    expect(itfValue(false)).toBe(false);
  });

  it('writes every digit of a large integer, and marks what is not a number', async () => {
    expect(itfValue(1e21)).toEqual({ '#bigint': '1000000000000000000000' });
    expect(itfValue(Number.NaN)).toEqual({ '#unserializable': 'NaN' });
    expect(itfValue(-Infinity)).toEqual({ '#unserializable': '-Infinity' });
  });

  it('writes arrays and typed arrays as lists, element by element', async () => {
    expect(itfValue([1, 'a', [true, 2]])).toEqual([big(1), 'a', [true, big(2)]]);
    expect(itfValue(Int32Array.of(4, 5))).toEqual([big(4), big(5)]);
    expect(itfValue([])).toEqual([]);
  });

  it('writes an object keyed by integers (an id table) as a #map with #bigint keys', async () => {
    expect(itfValue({ 2: 'b', 1: { st: 'ACTIVE' } })).toEqual({
      '#map': [
        [big(1), { st: 'ACTIVE' }],
        [big(2), 'b'],
      ],
    });
    expect(itfValue({ '-1': 'x' })).toEqual({ '#map': [[big(-1), 'x']] });
  });

  it('keeps an object as a record when any key is not an integer', async () => {
    expect(itfValue({ 1: 'a', x: 'b' })).toEqual({ 1: 'a', x: 'b' });
    expect(itfValue({ '01': 1 })).toEqual({ '01': big(1) });
  });

  it('writes an empty object as an empty #map, so an id table keeps one type while it empties and fills', async () => {
    expect(itfValue({})).toEqual({ '#map': [] });
  });

  it('writes a Map as a #map and a Set as a #set, converting keys and members', async () => {
    expect(
      itfValue(
        new Map<unknown, unknown>([
          ['a', 1],
          [2, [3]],
        ]),
      ),
    ).toEqual({
      '#map': [
        ['a', big(1)],
        [big(2), [big(3)]],
      ],
    });
    expect(itfValue(new Set([1, 'two']))).toEqual({ '#set': [big(1), 'two'] });
  });

  it('writes other objects as records, leaving out undefined fields at every depth', async () => {
    expect(itfValue({ a: 1, b: undefined, c: { d: undefined, e: 'x' } })).toEqual({ a: big(1), c: { e: 'x' } });
    expect(Object.keys(itfValue({ a: 1, b: undefined }))).toEqual(['a']);
  });

  it('marks null and undefined as #unserializable', async () => {
    expect(itfValue(null)).toEqual({ '#unserializable': 'null' });
    expect(itfValue(undefined)).toEqual({ '#unserializable': 'undefined' });
    expect(itfValue({ set: null })).toEqual({ set: { '#unserializable': 'null' } });
  });
});

describe('toItf on the ioasid-bench use-after-free', () => {
  const buggy = variantOf(ioasidBench, 'bench-buggy');
  const present = ioasidBench.present;
  let cx: Found;
  beforeAll(async () => {
    cx = await counterexample(buggy, { bounds: benchBounds, runs: 0, seed: 42, exhaustive: {} }, 'no-use-after-free');
  });
  const itf = () => toItf(cx.trace, present, buggy.config, originOf(buggy, benchBounds, cx));
  const worlds = () => [cx.trace.init, ...cx.trace.steps.map((s) => s.world)] as BenchWorld[];

  it("has the presenter's vars view as its vars, in every state", async () => {
    const { vars, states } = itf();
    expect(vars).toEqual(['slots', 'threads']);
    expect(states).toHaveLength(cx.trace.steps.length + 1);
    states.forEach((s, i) => expect(withoutMeta(s)).toEqual(itfValue(present.vars!(worlds()[i]!))));
  });

  it('shows slots keyed by id with st/rc/gen, and threads with pc/held/bor', async () => {
    const afterAlloc = itf().states[1]!;
    expect(afterAlloc['slots']).toEqual({
      '#map': [
        [big(1), { st: 'ACTIVE', rc: big(1), gen: big(1) }],
        [big(2), { st: 'FREE', rc: big(0), gen: big(0) }],
      ],
    });
    expect(afterAlloc['threads']).toEqual([
      {
        pc: big(1),
        held: { '#map': [[big(1), big(1)], [big(2), big(0)]] },
        bor: { '#map': [[big(1), big(0)], [big(2), big(0)]] },
      },
      {
        pc: big(0),
        held: { '#map': [[big(1), big(0)], [big(2), big(0)]] },
        bor: { '#map': [[big(1), big(0)], [big(2), big(0)]] },
      },
    ]);
  });

  it('records in state i the step that led to it; state 0 has only its index', async () => {
    const { states } = itf();
    expect(states[0]!['#meta']).toEqual({ index: 0 });
    cx.trace.steps.forEach(({ step, reply }, k) => {
      expect(metaOf(states[k + 1]!)).toMatchObject({
        index: k + 1,
        thread: step.thread,
        actor: `T${step.thread}`,
        op: step.op,
        args: step.args,
        function: step.op,
        call: `${step.op}(${step.args.join(',')}) = ${reply.text}`,
        reply,
        subject: 'ioasid 1',
      });
    });
    expect(metaOf(states[4]!).state).toBe('FREE rc=0 gen=1');
  });

  it('carries the origin and the violation in the top #meta', async () => {
    expect(itf()['#meta']).toEqual({
      format: 'ITF',
      'format-description': 'https://apalache-mc.org/docs/adr/015adr-trace.html',
      description: `ioasid-bench --variant bench-buggy breaks no-use-after-free at step 4: ${cx.violation.message}`,
      tool: 'lifecheck',
      version: '0.1.0',
      model: 'ioasid-bench',
      variant: 'bench-buggy',
      property: 'no-use-after-free',
      bounds: benchBounds,
      explorer: 'exhaustive',
      violation: { property: 'no-use-after-free', at: 4, message: cx.violation.message },
      varTypes: {
        slots: 'Int -> { st: Str, rc: Int, gen: Int }',
        threads: 'Seq({ pc: Int, held: Int -> Int, bor: Int -> Int })',
      },
    });
  });

  it('lists a var absent from some worlds as an option, and drops one absent from all', async () => {
    // After the first step some cell is non-zero: `late` appears and `early` goes.
    const shifting: Presenter<BenchWorld, BenchConfig> = {
      ...present,
      vars: (w) => (w.cells.some((c) => c > 0) ? { late: 1, never: undefined } : { early: 0, never: undefined }),
    };
    const doc = toItf(cx.trace, shifting, buggy.config, originOf(buggy, benchBounds, cx));
    expect(doc.vars).toEqual(['early', 'late']);
    const none = { tag: 'None', value: { '#tup': [] } };
    expect(withoutMeta(doc.states[0]!)).toEqual({ early: { tag: 'Some', value: big(0) }, late: none });
    for (const s of doc.states.slice(1)) expect(withoutMeta(s)).toEqual({ early: none, late: { tag: 'Some', value: big(1) } });
    expect(doc['#meta']['varTypes']).toEqual({ early: 'Some(Int) | None(UNIT)', late: 'Some(Int) | None(UNIT)' });
    expect(readItfStrictly(doc).vars).toEqual(['early', 'late']);
  });

  it('writes text that parses back to the same trace, with one state per line', async () => {
    const trace = itf();
    const text = itfText(trace);
    expect(JSON.parse(text)).toEqual(trace);
    const stateLines = text.split('\n').filter((l) => l.startsWith('    {'));
    expect(stateLines.map((l) => JSON.parse(l.replace(/,$/, '')))).toEqual(trace.states);
    expect(text.endsWith('\n  ]\n}\n')).toBe(true);
  });
});

describe('toItf on the ioasid series use-after-free', () => {
  const series = variantOf(ioasid, 'series');
  let cx: Counterexample<unknown>;
  // From the random explorer (seed 42, up to 10 000 runs), whose seed and path the trace file carries.
  beforeAll(async () => {
    cx = randomCounterexample(await verdict(series, 'no-use-after-free'));
  }, 60_000);
  const itf = () => toItf(cx.trace, ioasid.present, series.config, originOf(series, ioasid.defaults, cx));

  it('takes the union of the worlds’ defined fields as vars (ioasid has no vars view), each in every state', async () => {
    const worlds = [cx.trace.init, ...cx.trace.steps.map((s) => s.world)] as Record<string, unknown>[];
    const { vars, states } = itf();
    expect(new Set(vars)).toEqual(new Set(worlds.flatMap((w) => Object.keys(w).filter((k) => w[k] !== undefined))));
    expect(vars).toEqual(expect.arrayContaining(['objects', 'spaces', 'threads']));
    for (const s of states) expect(Object.keys(s).sort()).toEqual(['#meta', ...vars].sort());
    // Each var has one type in every state, as a typed reader reads it.
    expect(readItfStrictly(itf()).states).toBe(worlds.length);
  });

  it("names the kernel function of each step (a kit call's first line: its step's, not the call's), or the operation when the line names none", async () => {
    const steps = itf().states.slice(1).map(metaOf);
    expect(steps.map((s) => [s.op, s.args, s.function, s.call])).toEqual([
      ['alloc', [], 'ioasid_alloc', 'alloc(): ioasid_alloc(set, min, max, private) = ioasid 1#1; returns 1'],
      ['find', [1], 'ioasid_find', 'find(1): ioasid_find(set, id, NULL) = ioasid 1#1'],
      ['free', [1], 'ioasid_free', 'free(1): ioasid_free(set, id) = ok; returns 0'],
      // find's second block, where its caller uses what it found: the line names use, the step is still find's.
      ['find', [], 'use', 'use(found, priv) = ok; returns 0'],
    ]);
    // One vCPU finds and uses, the other (of the same guest) frees in between; which is which is the schedule's.
    expect(steps[3]!.actor).toBe(steps[1]!.actor);
    expect(steps[2]!.actor).not.toBe(steps[1]!.actor);
    steps.forEach((s, k) => expect(s).toMatchObject({ index: k + 1, reply: cx.trace.steps[k]!.reply }));
    // A line that calls nothing by name falls back on the step's operation.
    const plain = toItf(cx.trace, { ...ioasid.present, call: (_, reply) => `returned ${reply.text}` }, series.config, originOf(series, ioasid.defaults, cx));
    expect(plain.states.slice(1).map((s) => metaOf(s).function)).toEqual(cx.trace.steps.map((s) => s.step.op));
  });

  it("carries the random explorer's seed and path with the violation", async () => {
    expect(itf()['#meta']).toMatchObject({
      format: 'ITF',
      model: 'ioasid',
      variant: 'series',
      property: 'no-use-after-free',
      bounds: ioasid.defaults,
      explorer: 'random',
      seed: 42,
      path: cx.path,
      violation: cx.violation,
    });
  });
});

describe('ITF as the spec writes it: one type per variable, read by a strict reader of ADR-015', () => {
  const dir = new URL('../../reports/traces/', import.meta.url).pathname;
  const committed = readdirSync(dir).filter((f) => f.endsWith('.itf.json'));

  it('reads every committed trace, each var typed in #meta.varTypes', () => {
    expect(committed.length).toBeGreaterThan(40);
    for (const f of committed) {
      const doc = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { '#meta': { varTypes: Record<string, string> } };
      const read = readItfStrictly(doc);
      expect(Object.keys(doc['#meta'].varTypes), f).toEqual(read.vars);
    }
  });

  it('reads the traces checks write now, pointers that go NULL and calls whose locals come and go', async () => {
    for (const [model, name, property] of [
      [ioasid, 'series', 'no-use-after-free'],
      [ioasid, 'custom-ignores-range', 'no-overwritten-entry'],
    ] as const) {
      const v = variantOf(model, name);
      const r = await checkVariant(v, { bounds: model.defaults, runs: 1, seed: 42, properties: [property], exhaustive: {} });
      const found = r.verdicts[0]!.counterexample! as Found;
      const doc = toItf(found.trace, model.present as Presenter<unknown, unknown>, v.config, originOf(v as AnyVariant, model.defaults, found));
      expect(() => readItfStrictly(JSON.parse(itfText(doc)))).not.toThrow();
      expect(JSON.stringify(doc)).not.toContain('#unserializable');
    }
  });

  it('and the reader is no rubber stamp: it refuses #unserializable, a bare number, and a var whose type changes', () => {
    const doc = (states: unknown[]) => ({ vars: ['x'], states: states.map((x) => ({ x })) });
    expect(() => readItfStrictly(doc([{ '#unserializable': 'null' }]))).toThrow(/#unserializable/);
    expect(() => readItfStrictly(doc([1]))).toThrow(/bare number/);
    expect(() => readItfStrictly(doc([{ '#bigint': '1' }, 'one']))).toThrow(/var x/);
    expect(() => readItfStrictly(doc([{ a: { '#bigint': '1' } }, { b: { '#bigint': '1' } }]))).toThrow(/var x/);
    expect(readItfStrictly(doc([{ tag: 'None', value: { '#tup': [] } }, { tag: 'Some', value: { '#bigint': '2' } }])).states).toBe(2);
  });
});
