/** Test helpers: fire a sequence of events on a machine from its initial state. */
import { expect } from 'vitest';
import type { AnyStateMachine, EventObject } from 'xstate';
import { fire, fireUncached, initialState, type Fired } from '../../src/engine/machine.ts';

/** The final state and the last event's reply (ok and empty when there were none). */
export function runEvents<X extends object>(machine: AnyStateMachine, events: readonly EventObject[]): Fired<X> {
  let fired: Fired<X> = { state: initialState<X>(machine), reply: { ok: true, text: '' }, edge: -1 };
  for (const event of events) fired = fire<X>(machine, fired.state, event);
  return fired;
}

/**
 * Fires `events` through the memo and through xstate's own `transition()`
 * side by side, expecting the same state and reply at every step; returns
 * the state values reached.
 */
export function expectMemoMatchesXstate<X extends object>(machine: AnyStateMachine, events: readonly EventObject[]): string[] {
  let cached = initialState<X>(machine);
  let uncached = cached;
  const reached: string[] = [];
  for (const event of events) {
    const a = fire<X>(machine, cached, event);
    const b = fireUncached<X>(machine, uncached, event);
    expect(a.state).toEqual(b.state);
    expect(a.reply).toEqual(b.reply);
    expect(a.edge).toBe(b.edge);
    cached = a.state;
    uncached = b.state;
    reached.push(a.state.value);
  }
  return reached;
}
