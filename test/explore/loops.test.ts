/**
 * The search for runs that never end works on the graph the breadth-first
 * search stored: it finds a cycle exactly when the graph has one, and the
 * cycle it gives is one (each step leads to the next world, the last back to
 * the first), entered at its shallowest world.
 */
import { describe, expect, it } from 'vitest';
import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { findCycle, type StateGraph } from '../../src/explore/loops.ts';
import { Column } from '../../src/explore/store.ts';

/** The graph whose world s has a step to each of `steps[s]`, in order. */
function graphOf(steps: readonly (readonly number[])[]): StateGraph {
  const starts = new Column((n) => new Int32Array(n));
  const targets = new Column((n) => new Int32Array(n));
  for (const out of steps) {
    starts.push(targets.length);
    for (const t of out) targets.push(t);
  }
  starts.push(targets.length);
  return { states: steps.length, starts, targets };
}

/** Whether the graph has a cycle, by the textbook three-colour depth-first search. */
function hasCycle(steps: readonly (readonly number[])[]): boolean {
  const colour = steps.map(() => 0);
  const visit = (s: number): boolean => {
    colour[s] = 1;
    for (const t of steps[s]!) if (colour[t] === 1 || (colour[t] === 0 && visit(t))) return true;
    colour[s] = 2;
    return false;
  };
  return steps.some((_, s) => colour[s] === 0 && visit(s));
}

describe('findCycle', () => {
  it('finds none where every run ends', () => {
    expect(findCycle(graphOf([[1, 2], [3], [3], []]))).toBeUndefined();
  });

  it('finds a step back to its own world', () => {
    expect(findCycle(graphOf([[1], [2, 1], []]))).toEqual({ states: [1], steps: [1] });
  });

  it('enters the cycle at its shallowest world', () => {
    // 0 → 1 → 2 → 3 → 4 → 2: the cycle is 2, 3, 4, entered at 2.
    expect(findCycle(graphOf([[1], [2], [3], [4], [2]]))).toEqual({ states: [2, 3, 4], steps: [0, 0, 0] });
  });

  it('walks past worlds from which every run ends', () => {
    // 0's first step leads to a dead end; its second to the cycle 2 ⇄ 3.
    expect(findCycle(graphOf([[1, 2], [], [1, 3], [2]]))).toEqual({ states: [2, 3], steps: [1, 0] });
  });

  const graph = fc.integer({ min: 1, max: 12 }).chain((n) => fc.array(fc.array(fc.nat(n - 1), { maxLength: 3 }), { minLength: n, maxLength: n }));

  test.prop([graph], { seed: 7, numRuns: 300 })('finds a cycle exactly when there is one, and it is one', (steps) => {
    const cycle = findCycle(graphOf(steps));
    expect(cycle !== undefined).toBe(hasCycle(steps));
    if (!cycle) return;
    cycle.states.forEach((s, i) => expect(steps[s]![cycle.steps[i]!]).toBe(cycle.states[(i + 1) % cycle.states.length]));
    expect(cycle.states[0]).toBe(Math.min(...cycle.states));
  });
});
