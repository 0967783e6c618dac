/**
 * The memoized `fire` must be indistinguishable from xstate's own `transition()`
 * (`fireUncached`): same next state, same reply, same edge, at every step of
 * random event sequences, for machines whose guards read the context and the
 * event, with variation points flipped by `provide({ guards })`, and for the
 * built-in IOASID lifecycles. `compileMachine`'s tables must agree with it too.
 */
import { describe, expect, it } from 'vitest';
import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import { compileMachine, fire, fireUncached, initialState, type MachineState, type StateCode } from '../../src/engine/machine.ts';
import {
  expectMemoMatchesXstate,
  machinesUnderTest,
  slotFindGets,
  slotFreeEveryCall,
  slotMachine,
  type SlotContext,
  type SlotEvent,
} from '../helpers/machines.ts';

describe('fire (memoized) equals fireUncached (xstate transition)', () => {
  for (const [name, machine, events] of machinesUnderTest) {
    test.prop([fc.array(events, { minLength: 0, maxLength: 12 })], { seed: 1, numRuns: 300 })(name, (sequence) => {
      expectMemoMatchesXstate(machine, sequence);
    });
  }
});

describe('fire memo', () => {
  it('returns the identical object for a repeated (state, event)', () => {
    const from = initialState<SlotContext>(slotMachine);
    const event: SlotEvent = { type: 'ALLOC', set: 's1', data: 'mm' };
    const first = fire<SlotContext>(slotMachine, from, event);
    expect(first.state).toEqual({ value: 'active', context: { refs: 1, set: 's1', data: 'mm' } });
    // A structurally equal but distinct state and event hit the same memo entry.
    const again = fire<SlotContext>(slotMachine, { value: from.value, context: { ...from.context } }, { ...event });
    expect(again).toBe(first);
    expect(fire<SlotContext>(slotMachine, from, event)).toBe(first);
    // fireUncached builds a fresh object each time, equal but not identical.
    const uncached = fireUncached<SlotContext>(slotMachine, from, event);
    expect(uncached).toEqual(first);
    expect(uncached).not.toBe(first);
  });

  it('keeps one memo per machine: the same (state, event) on a provided machine fires its own guards', () => {
    const pending: MachineState<SlotContext> = { value: 'freePending', context: { refs: 2, set: 's1', data: 'mm' } };
    const free: SlotEvent = { type: 'FREE', set: 's1' };
    expect(fire<SlotContext>(slotMachine, pending, free).reply).toEqual({ ok: true, text: 'no-op' });
    expect(fire<SlotContext>(slotFreeEveryCall, pending, free)).toMatchObject({
      state: { value: 'freePending', context: { refs: 1 } },
      reply: { ok: true, text: 'free-pending' },
    });
    const find: SlotEvent = { type: 'FIND', set: 's1' };
    expect(fire<SlotContext>(slotMachine, pending, find).state.context.refs).toBe(2);
    expect(fire<SlotContext>(slotFindGets, pending, find).state.context.refs).toBe(3);
  });
});

describe('compileMachine equals fireUncached', () => {
  // The test slot's states with refs 0..MAX_REFS, owned by s1, s2 or no set, holding mm, aux or no data.
  const MAX_REFS = 4;
  const VALUES = ['freed', 'active', 'freePending'] as const;
  const SETS = ['s1', 's2', null] as const;
  const DATA = ['mm', 'aux', null] as const;
  const code: StateCode<SlotContext> = {
    size: VALUES.length * (MAX_REFS + 1) * SETS.length * DATA.length,
    pack: ({ value, context: { refs, set, data } }) => {
      if (refs < 0 || refs > MAX_REFS) throw new Error(`refs ${refs} outside the code's 0..${MAX_REFS}`);
      const v = VALUES.indexOf(value as (typeof VALUES)[number]);
      return ((v * (MAX_REFS + 1) + refs) * SETS.length + SETS.indexOf(set as 's1')) * DATA.length + DATA.indexOf(data as 'mm');
    },
    unpack: (c) => {
      const data = DATA[c % DATA.length]!;
      c = Math.floor(c / DATA.length);
      const set = SETS[c % SETS.length]!;
      c = Math.floor(c / SETS.length);
      const refs = c % (MAX_REFS + 1);
      return { value: VALUES[Math.floor(c / (MAX_REFS + 1))]!, context: { refs, set, data } };
    },
  };
  // Every call by every caller; ALLOC with each kind of data.
  const events: SlotEvent[] = (['ALLOC', 'GET', 'PUT', 'FREE', 'FIND'] as const).flatMap((type): SlotEvent[] =>
    SETS.flatMap((set): SlotEvent[] => (type === 'ALLOC' ? DATA.map((data) => ({ type, set, data })) : [{ type, set }])),
  );
  // Every state one event keeps within the code: a freed slot has no references; a held one at least one, and
  // one below the top, so a GET or a find's reference fits.
  const owner = { set: fc.constantFrom(...SETS), data: fc.constantFrom(...DATA) };
  const state: fc.Arbitrary<MachineState<SlotContext>> = fc.oneof(
    fc.record({ value: fc.constant('freed'), context: fc.record({ refs: fc.constant(0), ...owner }) }),
    fc.record({ value: fc.constantFrom('active', 'freePending'), context: fc.record({ refs: fc.integer({ min: 1, max: MAX_REFS - 1 }), ...owner }) }),
  );

  it('the state code round-trips every code', () => {
    for (let c = 0; c < code.size; c++) expect(code.pack(code.unpack(c))).toBe(c);
  });

  for (const [name, machine] of [
    ['test slot', slotMachine],
    ['test slot + findTakesRef', slotFindGets],
    ['test slot + freeDropsEveryCall', slotFreeEveryCall],
  ] as const) {
    const table = compileMachine<SlotContext>(machine, events, code);
    test.prop([state], { seed: 3, numRuns: 200 })(`${name}: every event gives fireUncached's state and reply`, (s) => {
      events.forEach((event, e) => {
        const fired = fireUncached<SlotContext>(machine, s, event);
        expect(code.unpack(table.next(code.pack(s), e))).toEqual(fired.state);
        expect(table.reply(code.pack(s), e)).toEqual(fired.reply);
      });
    });
  }
});
