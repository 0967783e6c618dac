/**
 * The exhaustive (BFS) explorer: on the benchmark model it reaches exactly
 * SPIN's state and transition counts (shared/anchors/README.md) and finds the
 * 4-step use-after-free as the shortest counterexample; thread symmetry shrinks
 * the space without changing any verdict or shortest length; a `maxStates` cap
 * stops the search early and leaves unproved properties `unknown`; and a tiny
 * plain-data system (default codec) gets shortest counterexamples for final and
 * invariant properties, each property checked until its first break.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkVariant,
  exploreExhaustive,
  walk,
  type Bounds,
  type ExhaustiveCounterexample,
  type Property,
  type Step,
  type System,
} from 'lifecheck';
import { ioasidBench } from 'lifecheck/models';
import { variantOf } from '../helpers/variants.ts';

/** Rows of numbers compared in order, as the symmetry sorts thread rows. */
const lexicographic = (a: string, b: string): number => {
  const [x, y] = [a.split(',').map(Number), b.split(',').map(Number)];
  const i = x.findIndex((v, k) => v !== y[k]);
  return i < 0 ? 0 : x[i]! - y[i]!;
};

const buggy = variantOf(ioasidBench, 'bench-buggy');
const fixed = variantOf(ioasidBench, 'fixed');
const bounds = (threads: number, ops: number): Bounds => ({ threads, ops, ids: { min: 1, max: 2 } });

async function explore(variant: typeof buggy, b: Bounds, options: { symmetry?: boolean; maxStates?: number } = {}) {
  const system = ioasidBench.system(variant.config, b);
  return await exploreExhaustive(system, ioasidBench.properties, { ...options, config: variant.config });
}

/** Replays a counterexample's steps on a fresh system; the violation it meets. */
function replay(variant: typeof buggy, b: Bounds, cx: ExhaustiveCounterexample<unknown>) {
  const property = ioasidBench.properties.filter((p) => p.id === cx.violation.property);
  const steps = cx.trace.steps.map((s) => s.step);
  const run = walk(ioasidBench.system(variant.config, b), property, (_, __, depth) => steps[depth], {
    stopAtViolation: true,
    config: variant.config,
  });
  return run.violations[0];
}

describe('exhaustive explorer on ioasid-bench (2 threads, ids 1..2, 3 ops)', () => {
  const small = bounds(2, 3);

  it.each([
    [buggy, 2_129, 8_598],
    [fixed, 2_156, 8_830],
  ])('counts exactly the states and transitions SPIN does ($name)', async (variant, states, transitions) => {
    const r = await explore(variant, small);
    expect(r.complete).toBe(true);
    expect(r.stoppedBy).toBeUndefined();
    expect(r.stats).toMatchObject({ states, transitions, depth: 6, queued: 0 });
  });

  it('finds the 4-step use-after-free (alloc, find, put, use) in bench-buggy', async () => {
    const r = await explore(buggy, small);
    expect([...r.counterexamples.keys()]).toEqual(['no-use-after-free']);
    const cx = r.counterexamples.get('no-use-after-free')!;
    expect(cx.trace.steps.map((s) => s.step.op)).toEqual(['alloc', 'find', 'put', 'use']);
    expect(cx.violation.at).toBe(4);
  });

  it('finds no counterexample in fixed', async () => {
    expect((await explore(fixed, small)).counterexamples.size).toBe(0);
  });
});

describe('thread symmetry (3 threads, ids 1..2, 3 ops)', () => {
  const b = bounds(3, 3);

  it.each([buggy, fixed])('stores fewer states with the same verdicts ($name)', async (variant) => {
    const plain = await explore(variant, b);
    const sym = await explore(variant, b, { symmetry: true });
    expect(sym.symmetry).toBe('threads');
    expect(sym.complete).toBe(true);
    expect(sym.stats.states).toBeLessThan(plain.stats.states);
    expect([...sym.counterexamples.keys()].sort()).toEqual([...plain.counterexamples.keys()].sort());
  });

  it('maps every permutation of the thread rows to one world, its rows sorted', () => {
    const system = ioasidBench.system(fixed.config, b);
    const y = system.init.layout;
    // A thread's row: its pc, then what it holds and what it borrowed of each id.
    const cellsOf = (t: number) => [3 * y.k + t, ...Array.from({ length: y.k }, (_, i) => 3 * y.k + y.n + t * y.k + i), ...Array.from({ length: y.k }, (_, i) => 3 * y.k + y.n + y.n * y.k + t * y.k + i)];
    const rows = (c: readonly number[]) => Array.from({ length: y.n }, (_, t) => cellsOf(t).map((at) => c[at]!));
    fc.assert(
      fc.property(fc.array(fc.nat(2), { minLength: y.size, maxLength: y.size }), fc.constantFrom([0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]), (cells, perm) => {
        const permuted = cells.slice();
        perm.forEach((from, t) => cellsOf(t).forEach((at, j) => (permuted[at] = cells[cellsOf(from)[j]!]!)));
        const canonical = system.symmetry!.canonical({ layout: y, cells }).cells;
        expect(system.symmetry!.canonical({ layout: y, cells: permuted }).cells).toEqual(canonical);
        const sorted = rows(canonical).map((r) => r.join(',')).every((r, t, all) => t === 0 || lexicographic(all[t - 1]!, r) <= 0);
        expect(sorted).toBe(true);
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  it('gives a shortest counterexample that replays on the real system', async () => {
    const plain = (await explore(buggy, b)).counterexamples.get('no-use-after-free')!;
    const sym = (await explore(buggy, b, { symmetry: true })).counterexamples.get('no-use-after-free')!;
    expect(sym.trace.steps.length).toBe(plain.trace.steps.length);
    expect(sym.violation.at).toBe(sym.trace.steps.length);
    expect(replay(buggy, b, sym)).toEqual(sym.violation);
  });
});

describe('caps', () => {
  const b = bounds(3, 4); // 3,005,475 states in bench-buggy when complete

  it('stops at maxStates with an incomplete result', async () => {
    const r = await explore(buggy, b, { maxStates: 100 });
    expect(r.complete).toBe(false);
    expect(r.stoppedBy).toBe('max-states');
    expect(r.stats.states).toBeGreaterThanOrEqual(100);
    expect(r.stats.states).toBeLessThan(3_005_475 / 100);
  });

  it.each([buggy, fixed])('leaves unproved properties unknown in checkVariant ($name)', async (variant) => {
    const report = await checkVariant(variant, { bounds: b, runs: 1, seed: 42, exhaustive: { maxStates: 100 } });
    expect(report.complete).toBe(false);
    expect(report.matches).toBe(true);
    expect(report.search).toMatchObject({ complete: false, stoppedBy: 'max-states' });
    for (const v of report.verdicts) expect(v.actual).toBe(v.counterexample ? 'violated' : 'unknown');
    expect(report.verdicts.some((v) => v.actual === 'unknown')).toBe(true);
  });
});

describe('a plain-data system with the default codec', () => {
  interface Counter {
    readonly n: number;
  }
  // Two threads may each increment the counter until it reaches 3.
  const incs: Step[] = [0, 1].map((thread) => ({ thread, op: 'inc', args: [] }));
  const counter: System<Counter> = {
    init: { n: 0 },
    horizon: 3,
    enabled: (w) => (w.n < 3 ? incs : []),
    apply: (w) => ({ world: { n: w.n + 1 }, reply: { ok: true, text: String(w.n + 1) } }),
  };
  const base = { title: 'test', source: 'test' };
  const properties: Property<Counter>[] = [
    { ...base, id: 'stops-below-3', kind: 'final', check: (w) => (w.n === 3 ? 'stopped at 3' : undefined) },
    { ...base, id: 'never-2', kind: 'invariant', check: (w) => (w.n === 2 ? 'reached 2' : undefined) },
  ];

  it('dedups worlds by their encoding and explores the whole space', async () => {
    const r = await exploreExhaustive(counter, properties);
    expect(r.complete).toBe(true);
    expect(r.stats).toMatchObject({ states: 4, transitions: 6, depth: 3 });
  });

  it('finds shortest counterexamples of a final and an invariant property', async () => {
    const r = await exploreExhaustive(counter, properties);
    const final = r.counterexamples.get('stops-below-3')!;
    const invariant = r.counterexamples.get('never-2')!;
    expect(final.trace.steps.length).toBe(3);
    expect(final.violation).toMatchObject({ at: 3, message: 'stopped at 3' });
    expect(invariant.trace.steps.length).toBe(2);
    expect(invariant.violation).toMatchObject({ at: 2, message: 'reached 2' });
    expect(invariant.trace.steps.at(-1)!.world).toEqual({ n: 2 });
  });

  it('checks a property until it first breaks, and keeps that shortest break', async () => {
    // Each kind breaks at n >= 1: the first world or step there is the break kept, and no later one is checked.
    const seen = { invariant: [] as number[], step: [] as number[], final: [] as number[] };
    const from1 = (kind: keyof typeof seen, n: number) => (seen[kind].push(n), n >= 1 ? `at ${n}` : undefined);
    const r = await exploreExhaustive(counter, [
      { ...base, id: 'inv', kind: 'invariant', check: (w) => from1('invariant', w.n) },
      { ...base, id: 'move', kind: 'step', check: (m) => from1('step', m.after.n) },
      { ...base, id: 'end', kind: 'final', check: (w) => from1('final', w.n) },
    ]);
    // The search's checks, then the counterexample's replay's: never the worlds 2 and 3, nor the other steps.
    expect(seen).toEqual({ invariant: [0, 1, 0, 1], step: [1, 1], final: [3, 3] });
    expect([...r.counterexamples.values()].map((c) => [c.violation.property, c.trace.steps.length])).toEqual([
      ['move', 1],
      ['inv', 1],
      ['end', 3],
    ]);
  });
});

describe('a system that takes steps on its codec words (System.words)', () => {
  interface Counter {
    readonly n: number;
  }
  const incs: Step[] = [0, 1].map((thread) => ({ thread, op: 'inc', args: [] }));
  const reply = (n: number) => ({ ok: true, text: String(n) });
  const plain: System<Counter> = {
    init: { n: 0 },
    horizon: 3,
    enabled: (w) => (w.n < 3 ? incs : []),
    apply: (w) => ({ world: { n: w.n + 1 }, reply: reply(w.n + 1) }),
    codec: { encode: (w, out) => out.push(w.n), decode: (words) => ({ n: words[0]! }) },
  };
  /** The same system with steps on words, and how many worlds after a step it made. */
  const onWords = () => {
    const made = { worlds: 0 };
    const system: System<Counter> = {
      ...plain,
      words: {
        apply: (_, words) => {
          const patch = Int32Array.of(0, words[0]! + 1);
          return { reply: reply(words[0]! + 1), patch, after: (before) => (made.worlds++, { n: before.n + 1 }) };
        },
      },
    };
    return { system, made };
  };
  const base = { title: 'test', source: 'test' };
  const properties: Property<Counter>[] = [
    { ...base, id: 'never-2', kind: 'invariant', check: (w) => (w.n === 2 ? 'reached 2' : undefined) },
    { ...base, id: 'replies-below-3', kind: 'step', check: (m) => (m.reply.text === '3' ? 'replied 3' : undefined) },
  ];
  const summary = (r: Awaited<ReturnType<typeof exploreExhaustive<Counter, unknown>>>) => ({
    stats: { states: r.stats.states, transitions: r.stats.transitions, depth: r.stats.depth },
    found: [...r.counterexamples.values()].map((c) => [c.violation, c.path, c.trace.steps.map((s) => s.world)]),
  });

  it('finds what the system stepping on worlds finds', async () => {
    expect(summary(await exploreExhaustive(onWords().system, properties))).toEqual(summary(await exploreExhaustive(plain, properties)));
  });

  it('makes the world after a step only where a property reads it: the new worlds an invariant still unbroken is checked in', async () => {
    const { system, made } = onWords();
    const r = await exploreExhaustive(system, properties);
    expect(r.stats.transitions).toBe(6);
    // The worlds 1 and 2 were new; at 2 the invariant broke, so world 3 (new) is not made; the step property reads replies.
    expect(made.worlds).toBe(2);
  });

  it('makes none for properties that read only replies but the first, with preemptions bounded too', async () => {
    // Only the first step's world is made, to check its words against the codec's (the property breaks with no
    // preemption, so the bounded search is one round).
    for (const options of [{}, { preemptions: 1 }]) {
      const { system, made } = onWords();
      const r = await exploreExhaustive(system, [properties[1]!], options);
      expect(r.stats.transitions).toBe(6);
      expect(made.worlds).toBe(1);
    }
  });

  it('gives a property that copies the move the world after the step', async () => {
    const copied: Property<Counter> = { ...base, id: 'copied', kind: 'step', check: (m) => ({ ...m }.after.n === 3 ? 'copied 3' : undefined) };
    const r = await exploreExhaustive(onWords().system, [copied]);
    expect(r.counterexamples.get('copied')!.violation).toMatchObject({ at: 3, message: 'copied 3' });
  });

  it('stops with an error where the words a step writes are not those the codec gives the world after it', async () => {
    const { system } = onWords();
    const wrong: System<Counter> = {
      ...system,
      words: {
        apply: (world, words, step) => {
          const outcome = system.words!.apply(world, words, step);
          return { ...outcome, patch: Int32Array.of(0, 7) };
        },
      },
    };
    await expect(exploreExhaustive(wrong, properties)).rejects.toThrow(/not its codec's/);
  });

  /** `onWords` finding its steps on words too, and counting the worlds it decodes. */
  const enabledOnWords = (enabled: (words: Int32Array) => readonly Step[] = (words) => (words[0]! < 3 ? incs : [])) => {
    const { system, made } = onWords();
    const decoded = { worlds: 0 };
    const counted: System<Counter> = {
      ...system,
      codec: { ...system.codec!, decode: (words) => (decoded.worlds++, system.codec!.decode(words)) },
      words: { ...system.words!, enabled },
    };
    return { system: counted, made, decoded };
  };

  it('decodes a world only where something reads it, when the steps are found on words too', async () => {
    const { system, decoded } = enabledOnWords();
    expect(summary(await exploreExhaustive(system, properties))).toEqual(summary(await exploreExhaustive(plain, properties)));
    // With nothing to read the worlds (this system checks its properties on worlds), only the first is decoded, to
    // check the steps found on its words against System.enabled's (and its first step's words against the codec's).
    decoded.worlds = 0;
    const r = await exploreExhaustive(system, []);
    expect(r.stats.states).toBe(4);
    expect(decoded.worlds).toBe(1);
  });

  it("stops with an error where the steps found on words are not System.enabled's", async () => {
    const { system } = enabledOnWords((words) => (words[0]! < 3 ? [...incs].reverse() : []));
    await expect(exploreExhaustive(system, properties)).rejects.toThrow(/not those System.enabled gives/);
  });
});
