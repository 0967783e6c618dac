/**
 * Preemption bounding on a tiny system: the lost update of two unlocked
 * read-then-write increments needs one preemption, so a search with none
 * proves nothing breaks and a search with one finds it, with the fewest
 * preemptions; the command line says what bound a verdict holds within.
 */
import { describe, expect, it } from 'vitest';
import { exploreExhaustive, type Property, type Step, type System } from 'lifecheck';
import { preemptionBounded, preemptionsOf } from '../../src/explore/preemptions.ts';

/** Each thread reads `x` into its register, then writes register + 1 back. */
interface Counter {
  readonly x: number;
  readonly pc: readonly number[];
  readonly reg: readonly number[];
}

const counter: System<Counter> = {
  init: { x: 0, pc: [0, 0], reg: [0, 0] },
  horizon: 4,
  enabled: (w) => w.pc.flatMap((pc, thread): Step[] => (pc < 2 ? [{ thread, op: pc === 0 ? 'read' : 'write', args: [] }] : [])),
  apply(w, step) {
    const t = step.thread;
    const pc = w.pc.map((p, u) => (u === t ? p + 1 : p));
    if (step.op === 'read') return { world: { ...w, pc, reg: w.reg.map((r, u) => (u === t ? w.x : r)) }, reply: { ok: true, text: String(w.x) } };
    return { world: { ...w, pc, x: w.reg[t]! + 1 }, reply: { ok: true, text: String(w.reg[t]! + 1) } };
  },
};

const bothCount: Property<Counter> = {
  id: 'both-count',
  title: 'both increments count',
  source: 'test',
  kind: 'final',
  check: (w) => (w.x === 2 ? undefined : `x is ${w.x}`),
};

describe('preemption bounding', () => {
  it('lets a thread that can go on be switched away from only k times', () => {
    const none = preemptionBounded(counter, 0);
    // From the start any thread may go first; then only the one running, until it is done.
    expect(none.enabled(none.init).map((s) => s.thread)).toEqual([0, 1]);
    const afterRead = none.apply(none.init, { thread: 0, op: 'read', args: [] }).world;
    expect(none.enabled(afterRead).map((s) => s.thread)).toEqual([0]);
    const one = preemptionBounded(counter, 1);
    expect(one.enabled(one.apply(one.init, { thread: 0, op: 'read', args: [] }).world).map((s) => s.thread)).toEqual([0, 1]);
  });

  it('holds within 0 preemptions, and finds the lost update with the fewest', async () => {
    const zero = await exploreExhaustive(counter, [bothCount], { preemptions: 0 });
    expect(zero.complete).toBe(true);
    expect(zero.preemptions).toBe(0);
    expect(zero.counterexamples.size).toBe(0);
    const two = await exploreExhaustive(counter, [bothCount], { preemptions: 2 });
    const cx = two.counterexamples.get('both-count')!;
    expect(cx.preemptions).toBe(1);
    expect(preemptionsOf(counter, cx.trace)).toBe(1);
    expect(cx.trace.steps.map((s) => `${s.step.thread}:${s.step.op}`)).toEqual(['0:read', '1:read', '1:write', '0:write']);
    expect(cx.violation.message).toBe('x is 1');
  });

  it('counts no preemption where the thread left could not go on', () => {
    const trace = { init: counter.init, steps: [] as { step: Step; reply: { ok: boolean; text: string }; world: Counter }[] };
    let w = counter.init;
    for (const step of [{ thread: 0, op: 'read', args: [] }, { thread: 0, op: 'write', args: [] }, { thread: 1, op: 'read', args: [] }, { thread: 1, op: 'write', args: [] }]) {
      const o = counter.apply(w, step);
      trace.steps.push({ step, reply: o.reply, world: o.world });
      w = o.world;
    }
    expect(preemptionsOf(counter, trace)).toBe(0);
  });
});
