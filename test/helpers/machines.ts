/**
 * Test helpers: fire a sequence of events on a machine from its initial
 * state; and purpose-built machines for the engine's own tests (the memo,
 * compiled tables, edges, coverage counting, diagrams), richer than the
 * built-in models' lifecycles, whose context is only their reply and whose
 * events carry no data.
 */
import { expect } from 'vitest';
import fc from 'fast-check';
import { and, assign, setup, type AnyStateMachine, type EventObject } from 'xstate';
import { err, ok, type Reply } from 'lifecheck';
import { ioasidMachine, setMachine } from 'lifecheck/models';
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

/** A refcounted id's data: its references, the set that owns it (null: none) and its private data's type. */
export interface SlotContext {
  readonly refs: number;
  readonly set: string | null;
  readonly data: string | null;
}

/** A call on the slot by a caller of `set` (null: the NULL set); ALLOC stores `data`. */
export interface SlotEvent {
  readonly type: 'ALLOC' | 'GET' | 'PUT' | 'FREE' | 'FIND';
  readonly set: string | null;
  readonly data?: string | null;
}

/**
 * The test slot's types, guards and actions, exported so a test can build a
 * patched machine with one transition changed (`slotSetup.createMachine`).
 * Between them they exercise what the engine must keep exactly as xstate does:
 *
 * - guards that read the context (`lastRef`), the event (`setMismatch`,
 *   `notOwner` compare the caller's set with the owner's), and neither
 *   (`freeDropsEveryCall`, `findTakesRef`: constant flags a test flips with
 *   `provide({ guards })`), and a compound one (`and([...])`);
 * - assign actions that copy event data into the context (`allocate`), update
 *   it (`ref`, `unref`) and reset it (`release`);
 * - replies by ok()/err(), branches tried in order, self-loops, and events a
 *   state does not handle (`freed` has no GET, PUT or FREE).
 */
export const slotSetup = setup({
  types: { context: {} as SlotContext & { reply: Reply }, events: {} as SlotEvent },
  guards: {
    setMismatch: ({ context, event }) => event.set !== null && event.set !== context.set,
    notOwner: ({ context, event }) => event.set !== context.set,
    lastRef: ({ context }) => context.refs === 1,
    freeDropsEveryCall: () => false,
    findTakesRef: () => false,
  },
  actions: {
    reply: assign((_, params: Reply) => ({ reply: params })),
    allocate: assign(({ event }) => ({ refs: 1, set: event.set, data: event.data ?? null })),
    ref: assign(({ context }) => ({ refs: context.refs + 1 })),
    unref: assign(({ context }) => ({ refs: context.refs - 1 })),
    release: assign({ refs: 0, set: null, data: null }),
  },
});

const put = [
  { guard: 'setMismatch', actions: err('false') },
  { guard: 'lastRef', target: 'freed', actions: ['release', ok('true')] },
  { actions: ['unref', ok('false')] },
] as const;

const find = [
  { guard: 'setMismatch', actions: err('-EACCES') },
  { guard: 'findTakesRef', actions: ['ref', ok('found')] },
  { actions: ok('found') },
] as const;

/** The test slot's states: freed, active (refs > 0), freePending (freed by its owner, still referenced). */
export const slotStates = {
  freed: {
    on: {
      ALLOC: { target: 'active', actions: ['allocate', ok('allocated')] },
      FIND: { actions: err('-ENOENT') },
    },
  },
  active: {
    on: {
      GET: [{ guard: 'setMismatch', actions: err('-EACCES') }, { actions: ['ref', ok('0')] }],
      PUT: put,
      FREE: [
        { guard: 'notOwner', actions: err('refused') },
        { guard: 'lastRef', target: 'freed', actions: ['release', ok('freed')] },
        { target: 'freePending', actions: ['unref', ok('free-pending')] },
      ],
      FIND: find,
    },
  },
  freePending: {
    on: {
      GET: { actions: err('-EBUSY') },
      PUT: put,
      FREE: [
        { guard: 'notOwner', actions: err('refused') },
        { guard: and(['freeDropsEveryCall', 'lastRef']), target: 'freed', actions: ['release', ok('freed')] },
        { guard: 'freeDropsEveryCall', actions: ['unref', ok('free-pending')] },
        { actions: ok('no-op') },
      ],
      FIND: find,
    },
  },
} as const;

/** The test slot's id, initial state and context, for machines built from it. */
export const slotDefinition = {
  id: 'test-slot',
  initial: 'freed',
  context: { refs: 0, set: null, data: null, reply: { ok: true, text: '' } },
} as const;

export const slotMachine = slotSetup.createMachine({ ...slotDefinition, states: slotStates });
/** The slot with find taking a reference: a guard flipped with provide(). */
export const slotFindGets = slotMachine.provide({ guards: { findTakesRef: () => true } });
/** The slot with every free dropping a reference: the flag inside the compound guard flipped. */
export const slotFreeEveryCall = slotMachine.provide({ guards: { freeDropsEveryCall: () => true } });

/** Every call on the slot, by callers of two sets and the NULL set. */
export const slotEvents: fc.Arbitrary<SlotEvent> = fc.record({
  type: fc.constantFrom('ALLOC', 'GET', 'PUT', 'FREE', 'FIND'),
  set: fc.constantFrom('s1', 's2', null),
  data: fc.constantFrom('mm', 'aux', null),
});

/** A set with a quota; events say how many members the set has left. */
export interface QuotaSetContext {
  readonly quota: number;
}

export type QuotaSetEvent = { readonly type: 'ADMIT' | 'SET_FREE' | 'RECLAIMED'; readonly members: number };

/**
 * A set that admits members up to its quota and is freed with its last one.
 * It exercises a context the machine is built with (`quotaSetMachine(quota)`),
 * guards comparing event data with it (`overQuota`) or reading event data
 * alone (`hasMembers`, `noMembers`), a transition with no reply, and an event
 * whose every branch is guarded, so it may fire none (RECLAIMED with members
 * left), besides events a state has no transition for.
 */
export function quotaSetMachine(quota: number) {
  return setup({
    types: { context: {} as QuotaSetContext & { reply: Reply }, events: {} as QuotaSetEvent },
    guards: {
      overQuota: ({ context, event }) => event.members >= context.quota,
      hasMembers: ({ event }) => event.members > 0,
      noMembers: ({ event }) => event.members === 0,
    },
    actions: { reply: assign((_, params: Reply) => ({ reply: params })) },
  }).createMachine({
    id: `test-quota-set-${quota}`,
    initial: 'live',
    context: { quota, reply: { ok: true, text: '' } },
    states: {
      live: {
        on: {
          ADMIT: [{ guard: 'overQuota', actions: err('INVALID_IOASID') }, { actions: ok('admitted') }],
          SET_FREE: [{ guard: 'hasMembers', target: 'freePending', actions: err('-EBUSY') }, { target: 'freed', actions: ok('0') }],
        },
      },
      freePending: {
        on: {
          ADMIT: [{ guard: 'overQuota', actions: err('INVALID_IOASID') }, { actions: ok('admitted') }],
          SET_FREE: { actions: err('-EBUSY') },
          RECLAIMED: { guard: 'noMembers', target: 'freed' },
        },
      },
      freed: {
        on: {
          ADMIT: { actions: err('INVALID_IOASID') },
          SET_FREE: { actions: err('-EINVAL') },
        },
      },
    },
  });
}

export const quotaSetEvents: fc.Arbitrary<QuotaSetEvent> = fc.record({
  type: fc.constantFrom('ADMIT', 'SET_FREE', 'RECLAIMED'),
  members: fc.integer({ min: 0, max: 3 }),
});

/**
 * Machines for property tests, each with the events to fire at it: the
 * purpose-built ones above (with their guards flipped), and the built-in
 * IOASID lifecycles as the kit model runs them (context only a reply,
 * events without data).
 */
export const machinesUnderTest: readonly (readonly [name: string, machine: AnyStateMachine, events: fc.Arbitrary<EventObject>])[] = [
  ['test slot', slotMachine, slotEvents],
  ['test slot + findTakesRef', slotFindGets, slotEvents],
  ['test slot + freeDropsEveryCall', slotFreeEveryCall, slotEvents],
  ['test quota set (quota 1)', quotaSetMachine(1), quotaSetEvents],
  ['test quota set (quota 2)', quotaSetMachine(2), quotaSetEvents],
  ['ioasidMachine', ioasidMachine, fc.constantFrom({ type: 'GET' }, { type: 'FREE' })],
  ['ioasidMachine + freeDropsEveryCall', ioasidMachine.provide({ guards: { freeDropsEveryCall: () => true } }), fc.constantFrom({ type: 'GET' }, { type: 'FREE' })],
  ['setMachine (ioasid_set)', setMachine, fc.constantFrom({ type: 'SET_FREE' }, { type: 'RECLAIMED' })],
];
