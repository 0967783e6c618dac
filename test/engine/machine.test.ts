/**
 * The memoized `fire` must be indistinguishable from xstate's own `transition()`
 * (`fireUncached`): same next state, same reply, at every step of random event
 * sequences, for every IOASID machine and the variation points flipped with
 * `provide({ guards })`.
 */
import { describe, expect, it } from 'vitest';
import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import type { AnyStateMachine } from 'xstate';
import { fire, fireUncached, initialState } from '../../src/engine/machine.ts';
import { expectMemoMatchesXstate } from '../helpers/machines.ts';
import {
  seriesMachine,
  upstreamMachine,
  v1Machine,
  type SlotContext,
  type SlotEvent,
} from 'lifecheck/models';

const machines: ReadonlyArray<readonly [string, AnyStateMachine]> = [
  ['seriesMachine', seriesMachine],
  ['upstreamMachine', upstreamMachine],
  ['v1Machine', v1Machine],
  ['seriesMachine + findTakesRef', seriesMachine.provide({ guards: { findTakesRef: () => true } })],
  [
    'seriesMachine + freeDropsEveryCall',
    seriesMachine.provide({ guards: { freeDropsEveryCall: () => true } }),
  ],
];

const eventArb: fc.Arbitrary<SlotEvent> = fc.record({
  type: fc.constantFrom('ALLOC', 'GET', 'PUT', 'FREE', 'FIND'),
  set: fc.constantFrom('s1', 's2', null),
});

const sequenceArb = fc.array(eventArb, { minLength: 0, maxLength: 12 });

describe('fire (memoized) equals fireUncached (xstate transition)', () => {
  for (const [name, machine] of machines) {
    test.prop([sequenceArb], { seed: 1, numRuns: 300 })(name, (events) => {
      expectMemoMatchesXstate<SlotContext>(machine, events);
    });
  }
});

describe('fire memo', () => {
  it('returns the identical object for a repeated (state, event)', () => {
    const from = initialState<SlotContext>(seriesMachine);
    const event: SlotEvent = { type: 'ALLOC', set: 's1' };
    const first = fire<SlotContext>(seriesMachine, from, event);
    // A structurally equal but distinct state and event hit the same memo entry.
    const again = fire<SlotContext>(
      seriesMachine,
      { value: from.value, context: { ...from.context } },
      { ...event },
    );
    expect(again).toBe(first);
    expect(fire<SlotContext>(seriesMachine, from, event)).toBe(first);
    // fireUncached builds a fresh object each time, equal but not identical.
    const uncached = fireUncached<SlotContext>(seriesMachine, from, event);
    expect(uncached).toEqual(first);
    expect(uncached).not.toBe(first);
  });
});
