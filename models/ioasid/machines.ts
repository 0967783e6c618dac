/**
 * The lifecycle of one IOASID slot as xstate machines: `freed` (the id is in
 * the pool), `active`, and, in the posted series, `freePending`. One instance
 * of an id is one trip from `freed` back to `freed`; the world counts trips as
 * generations. Every call's reply is decided here and written to
 * `context.reply`, so the rules, the replies and the diagrams are one source.
 *
 * Users model their own patches the same way: `seriesMachine.provide({ guards })`
 * to flip a variation point, or a new machine over the same events.
 */
import { and, assign, err, ok, setup, type Reply } from 'lifecheck';

/**
 * The per-instance data: refcount, owning set (null when no set is stored)
 * and the type of its private data (`mm`, an aux domain, ...; null for none).
 */
export interface SlotContext {
  readonly refs: number;
  readonly set: string | null;
  readonly data: string | null;
}

/**
 * A call on the slot; `set` is the caller's set, null for the NULL set or a
 * call without one; `data` is the private data type ALLOC stores.
 */
export type SlotEvent = {
  readonly type: 'ALLOC' | 'GET' | 'PUT' | 'FREE' | 'FIND';
  readonly set: string | null;
  readonly data?: string | null;
};

/** The slot machines' types, guards and actions: build a patch's machine with `ioasidSetup.createMachine`. */
export const ioasidSetup = setup({
  types: {
    context: {} as SlotContext & { reply: Reply },
    events: {} as SlotEvent,
  },
  guards: {
    // 001 ioasid_get_locked/ioasid_put_locked: "Check set ownership if @set is non-null".
    setMismatch: ({ context, event }) => event.set !== null && event.set !== context.set,
    // kernel-semantics A.4 (V4 06/18): free compares sets strictly, NULL is no wildcard.
    notOwner: ({ context, event }) => event.set !== context.set,
    // 001: "decrement and test refcount. If refcount is 0, ioasid will be freed".
    lastRef: ({ context }) => context.refs === 1,
    // 001: "ioasid_free() can be called multiple times without error until all
    // refs are dropped"; as posted (A.4) a second free is a no-op. Variants flip this.
    freeDropsEveryCall: () => false,
    // 001 review (Lu Baolu): "Do you need to increase the refcount of the found
    // ioasid and ask the caller to drop it after use?" As posted: no.
    findTakesRef: () => false,
    // A.4 (dcp ioasid_alloc): "set must be non-NULL"; the set-mandatory design
    // (design.md, seed 004) refuses the NULL set's global search too. As posted: allowed.
    nullSetRefused: () => false,
  },
  actions: {
    reply: assign((_, params: Reply) => ({ reply: params })),
    // 000 ioasid_alloc: stores set and private data; 001: "set initial refcount to 1".
    allocate: assign(({ event }) => ({ refs: 1, set: event.set, data: event.data ?? null })),
    // 000 (v1) has no refcount: the instance only remembers its set.
    allocateUncounted: assign(({ event }) => ({ refs: 0, set: event.set, data: event.data ?? null })),
    ref: assign(({ context }) => ({ refs: context.refs + 1 })),
    unref: assign(({ context }) => ({ refs: context.refs - 1 })),
    // The id goes back to the pool: xa_erase + kfree_rcu (000 ioasid_free).
    release: assign({ refs: 0, set: null, data: null }),
  },
});

/** The slot's reply to calls on an id that is not allocated (xa_load() finds nothing). */
const unknownId = {
  // 001 ioasid_get_locked: "Trying to get unknown IOASID" -> -EINVAL.
  GET: { actions: err('-EINVAL') },
  // 001 ioasid_put_locked: "Trying to put unknown IOASID", nothing changes.
  PUT: { actions: err('false') },
  // A.4 ioasid_free: unknown id, a rate-limited error and nothing else.
  FREE: { actions: err('unknown') },
  // 000 ioasid_find: xa_load() is NULL -> ERR_PTR(-ENOENT).
  FIND: { actions: err('-ENOENT') },
} as const;

/** 000 ioasid_find, unchanged through 001: set check, no reference taken. */
const find = [
  { guard: 'nullSetRefused', actions: err('-EINVAL') },
  // 000: "data found but does not belong to the set" -> ERR_PTR(-EACCES).
  { guard: 'setMismatch', actions: err('-EACCES') },
  { guard: 'findTakesRef', actions: ['ref', ok('found')] },
  { actions: ok('found') },
] as const;

/** 001 ioasid_put_locked: set check, decrement, free at zero whatever the state. */
const put = [
  { guard: 'setMismatch', actions: err('false') },
  { guard: 'lastRef', target: 'freed', actions: ['release', ok('true')] },
  { actions: ['unref', ok('false')] },
] as const;

/**
 * Seed 001 as posted (the series, never merged): IDLE -> FREE_PENDING -> freed.
 * Exported so a patch can change one transition and keep the rest:
 * `ioasidSetup.createMachine({ ...seriesDefinition, states: { ...seriesStates, ... } })`.
 */
export const seriesStates = {
  freed: {
    on: {
      ALLOC: [
        { guard: 'nullSetRefused', actions: err('INVALID_IOASID') },
        { target: 'active', actions: ['allocate', ok('allocated')] },
      ],
      ...unknownId,
    },
  },
  active: {
    on: {
      // 001 ioasid_get_locked: -EACCES on set mismatch, else refcount_inc.
      GET: [{ guard: 'setMismatch', actions: err('-EACCES') }, { actions: ['ref', ok('0')] }],
      PUT: put,
      FREE: [
        // A.4: "Cannot free IOASID ... due to set ownership", nothing changes.
        { guard: 'notOwner', actions: err('refused') },
        // 001: "If refcount is 0, ioasid will be freed".
        { guard: 'lastRef', target: 'freed', actions: ['release', ok('freed')] },
        // 001: "If recount is non-zero, mark IOASID as IOASID_STATE_FREE_PENDING".
        { target: 'freePending', actions: ['unref', ok('free-pending')] },
      ],
      FIND: find,
    },
  },
  freePending: {
    on: {
      // 001: "After free, ioasid_get() will return error"; checked before the set.
      GET: { actions: err('-EBUSY') },
      PUT: put,
      FREE: [
        { guard: 'notOwner', actions: err('refused') },
        {
          guard: and(['freeDropsEveryCall', 'lastRef']),
          target: 'freed',
          actions: ['release', ok('freed')],
        },
        { guard: 'freeDropsEveryCall', actions: ['unref', ok('free-pending')] },
        // A.4: "Already FREE_PENDING: return" -- a second free is a no-op.
        { actions: ok('no-op') },
      ],
      // 001: "ioasid_find() and other non refcount adding APIs will continue
      // to work until the last reference is dropped".
      FIND: find,
    },
  },
} as const;

const initialContext = { refs: 0, set: null, data: null, reply: { ok: true, text: '' } };

/** The series machine's id, initial state and context, for machines built from it. */
export const seriesDefinition = { id: 'ioasid-series', initial: 'freed', context: initialContext } as const;

export const seriesMachine = ioasidSetup.createMachine({ ...seriesDefinition, states: seriesStates });

/** Upstream v5.11 (cb4789b0d19f): void ioasid_get, bool ioasid_put, no pending state. */
export const upstreamMachine = ioasidSetup.createMachine({
  id: 'ioasid-v5.11',
  initial: 'freed',
  context: initialContext,
  states: {
    freed: {
      on: {
        ALLOC: { target: 'active', actions: ['allocate', ok('allocated')] },
        // A.2: ioasid_get on an unknown id hits WARN_ON(1).
        GET: { actions: err('WARN') },
        // A.2: ioasid_put on an unknown id: "Trying to free unknown IOASID", false.
        PUT: { actions: err('false') },
        FREE: { actions: err('false') },
        FIND: unknownId.FIND,
      },
    },
    active: {
      on: {
        // A.2: void ioasid_get(ioasid_t): refs++, no set check, no failure.
        GET: { actions: ['ref', ok('void')] },
        // A.2: bool ioasid_put(ioasid_t): refs--, freed at zero, true if freed.
        PUT: [
          { guard: 'lastRef', target: 'freed', actions: ['release', ok('true')] },
          { actions: ['unref', ok('false')] },
        ],
        // v5.11 has no ioasid_free: the owner drops its reference with ioasid_put.
        FREE: [
          { guard: 'lastRef', target: 'freed', actions: ['release', ok('true')] },
          { actions: ['unref', ok('false')] },
        ],
        FIND: find,
      },
    },
  },
});

/** Seed 000 (v1, v5.5): no refcount; ioasid_free erases at once. */
export const v1Machine = ioasidSetup.createMachine({
  id: 'ioasid-v1',
  initial: 'freed',
  context: initialContext,
  states: {
    freed: {
      on: {
        ALLOC: { target: 'active', actions: ['allocateUncounted', ok('allocated')] },
        // 000 ioasid_free: xa_erase finds nothing; kfree_rcu(NULL) does nothing.
        FREE: { actions: err('unknown') },
        FIND: unknownId.FIND,
      },
    },
    active: {
      on: {
        // 000 ioasid_free(ioasid): xa_erase + kfree_rcu, whoever else uses it.
        FREE: { target: 'freed', actions: ['release', ok('void')] },
        FIND: find,
      },
    },
  },
});
