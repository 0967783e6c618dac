/** Test helper: fire a sequence of events on a machine from its initial state. */
import type { AnyStateMachine, EventObject } from 'xstate';
import { fire, initialState, type Fired } from '../../src/engine/machine.ts';

/** The final state and the last event's reply (ok and empty when there were none). */
export function runEvents<X extends object>(machine: AnyStateMachine, events: readonly EventObject[]): Fired<X> {
  let fired: Fired<X> = { state: initialState<X>(machine), reply: { ok: true, text: '' } };
  for (const event of events) fired = fire<X>(machine, fired.state, event);
  return fired;
}
