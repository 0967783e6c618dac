/**
 * The random explorer's schedulers on a tiny system with a deep race: two
 * threads of 20 steps each, broken only when B's first step falls between A's
 * 15th and 16th and A's 16th comes before B's second (PCT depth 3). Uniform
 * thread choice hits that about once in 2^17 runs; PCT at depth 3 with
 * probability at least 1/(2·k²), k the 39 points where both can move. What a search that found nothing says is
 * PCT's bound, never "holds" in words.
 */
import { describe, expect, it } from 'vitest';
import { exploreRandom, type Property, type Step, type System } from 'lifecheck';
import { missedAtMost, shapeOf } from '../../src/explore/schedulers.ts';
import { guaranteeLines } from '../../src/report/text.ts';

const LENGTH = 20;

/** Each thread's program counter, and whether the race has happened. */
interface Race {
  readonly pc: readonly [number, number];
  /** B's first step ran right after A's 15th; then A's 16th before B's second breaks it. */
  readonly window: boolean;
  readonly broken: boolean;
}

const race: System<Race> = {
  init: { pc: [0, 0], window: false, broken: false },
  horizon: 2 * LENGTH,
  enabled: (w) => w.pc.flatMap((pc, thread): Step[] => (pc < LENGTH ? [{ thread, op: 'step', args: [pc + 1] }] : [])),
  apply(w, step) {
    const [a, b] = w.pc;
    const pc: [number, number] = step.thread === 0 ? [a + 1, b] : [a, b + 1];
    const window = w.window || (step.thread === 1 && b === 0 && a === 15);
    const broken = w.broken || (w.window && step.thread === 0 && a === 15 && b === 1);
    return { world: { pc, window, broken }, reply: { ok: true, text: 'ok' } };
  },
};

const noRace: Property<Race> = { id: 'no-race', title: 'the race never happens', source: 'test', kind: 'invariant', check: (w) => (w.broken ? 'raced' : undefined) };

const found = async (scheduler: 'uniform' | 'pct', runs: number, depth?: number) => {
  const r = await exploreRandom(race, [noRace], { runs, seed: 7, scheduler, ...(depth ? { depth } : {}) });
  return r.results[0]!;
};

describe('schedulers', () => {
  it('measure the system first: its threads and the most choice points of a run, the same for every seed', () => {
    // Both threads can move until one is done: at most 39 of the 40 steps are choices.
    expect(shapeOf(race)).toEqual({ threads: 2, choices: 2 * LENGTH - 1, length: 2 * LENGTH });
  });

  it('PCT at depth 3 finds a depth-3 race that uniform thread choice misses in as many runs', async () => {
    const pct = await found('pct', 10_000, 3);
    expect(pct.status).toBe('violated');
    expect(pct.counterexample!.scheduler).toBe('pct');
    expect(pct.counterexample!.depth).toBe(3);
    // A's 15 steps, B's first, A's 16th: the shortest trace, whatever the schedule that found it.
    expect(pct.counterexample!.trace.steps.map((s) => s.step.thread).join('')).toBe('0'.repeat(15) + '1' + '0');
    expect((await found('uniform', 10_000)).status).toBe('holds');
  });

  it('replays a PCT find from its seed and path', async () => {
    const cx = (await found('pct', 10_000, 3)).counterexample!;
    const again = await exploreRandom(race, [noRace], { runs: 10_000, seed: cx.seed, path: cx.path, scheduler: 'pct', depth: 3 });
    expect(again.results[0]!.counterexample!.trace).toEqual(cx.trace);
  });

  it("bound what a search that found nothing missed by PCT's theorem, per depth it ran", async () => {
    const r = await exploreRandom(race, [{ ...noRace, check: () => undefined }], { runs: 500, seed: 7 });
    const g = r.guarantee!;
    expect(g.schedules).toBe(500);
    expect(g.depths.map((d) => d.depth)).toEqual([1, 2, 3]);
    // The portfolio's other runs (uniform, swarm) promise nothing.
    expect(g.depths.reduce((n, d) => n + d.runs, 0)).toBeLessThan(500);
    for (const d of g.depths) expect(d.missed).toBeCloseTo((1 - 1 / (2 * 39 ** (d.depth - 1))) ** d.runs, 12);
    const [head, perRun, bound] = guaranteeLines(g);
    expect(head).toMatch(/^random: 500 schedules \(portfolio: \d+ PCT at depth 1, \d+ PCT at depth 2, \d+ PCT at depth 3\), 2 threads, up to 39 choice points a run$/);
    // Per run: 1/n, 1/(n·k), 1/(n·k²) with n = 2 threads and k = 39 choice points.
    expect(perRun).toBe('each PCT run finds a bug of a given depth in the calls it drew with probability at least depth 1 1/2, depth 2 1/78, depth 3 1/3,042');
    expect(bound).toMatch(/^a bug in the calls every run drew is missed by all of them with probability depth 1 < 1e-12, depth 2 <= 0\.\d+, depth 3 <= 0\.9\d+$/);
    expect(missedAtMost({ threads: 2, choices: 40 }, 2, 80)).toBeCloseTo((1 - 1 / 80) ** 80, 12);
  });

  it('say a scheduler without PCT runs bounds nothing', async () => {
    const r = await exploreRandom(race, [{ ...noRace, check: () => undefined }], { runs: 100, seed: 7, scheduler: 'uniform' });
    expect(guaranteeLines(r.guarantee!)).toEqual(['random: 100 schedules (uniform), 2 threads, up to 39 choice points a run: no bound on what they missed (only PCT gives one; try --scheduler pct)']);
  });
});
