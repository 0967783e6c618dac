/**
 * The lifecycles of an IOASID and of an ioasid_set as xstate machines: each
 * object's phase, which the kit keeps and draws. The counts (refs,
 * nr_ioasids) are the objects' fields; a machine decides only what its phase
 * allows, and its reply is the kernel's.
 *
 * A patch changes one transition: `ioasidMachine.provide({ guards: { freeDropsEveryCall: () => true } })`.
 */
import { assign, err, ok, setup, type Reply } from 'lifecheck';

const replies = { context: {} as { reply: Reply } };

/**
 * An IOASID of Jacob Pan's series (seed 001, kernel-semantics A.4): IDLE from
 * ioasid_alloc, FREE_PENDING from ioasid_free ("Nothing ever sets ACTIVE").
 */
export const ioasidMachine = setup({
  types: { ...replies, events: {} as { type: 'GET' } | { type: 'FREE' } },
  guards: {
    // 001: "ioasid_free() can be called multiple times without error until all refs are dropped"; as posted (A.4)
    // a second free returns at once. The other reading drops a reference each time.
    freeDropsEveryCall: () => false,
  },
  actions: { reply: assign((_, params: Reply) => ({ reply: params })) },
}).createMachine({
  id: 'ioasid',
  initial: 'idle',
  context: { reply: { ok: true, text: '' } },
  states: {
    idle: {
      on: {
        GET: { actions: ok('0') },
        // A.4 ioasid_free: "state becomes FREE_PENDING, then refs--".
        FREE: { target: 'freePending', actions: ok('FREE_PENDING') },
      },
    },
    freePending: {
      on: {
        // 001: "After free, ioasid_get() will return error"; A.4 checks it before the set.
        GET: { actions: err('-EBUSY') },
        FREE: [
          { guard: 'freeDropsEveryCall', actions: ok('FREE_PENDING') },
          // A.4: "Already FREE_PENDING: return. A second free is a no-op".
          { actions: err('already FREE_PENDING') },
        ],
      },
    },
  },
});

/**
 * An ioasid_set of the extended series (dcp, kernel-semantics A.4): live,
 * then free-pending once ioasid_set_free found it still had IOASIDs; the
 * last one's ioasid_do_free_locked frees it.
 */
export const setMachine = setup({
  types: { ...replies, events: {} as { type: 'SET_FREE' } | { type: 'RECLAIMED' } },
  actions: { reply: assign((_, params: Reply) => ({ reply: params })) },
}).createMachine({
  id: 'ioasid_set',
  initial: 'live',
  context: { reply: { ok: true, text: '' } },
  states: {
    live: {
      on: {
        // A.4 ioasid_set_free: "The set still has IOASIDs: -EBUSY and set->free_pending = true".
        SET_FREE: { target: 'freePending', actions: err('-EBUSY') },
        // A.4 ioasid_do_free_locked: a set not free-pending stays.
        RECLAIMED: { actions: err('not free_pending') },
      },
    },
    freePending: {
      on: {
        SET_FREE: { actions: err('-EBUSY') },
        // A.4: "If set->free_pending and the count reaches 0, free the set".
        RECLAIMED: { actions: ok('free the set') },
      },
    },
  },
});

/**
 * A custom allocator's `ioasid_allocator_data` (kernel-semantics A.3): active
 * from its registration (the first custom allocator is published at once;
 * the vIOMMUs' identical helpers share it rather than queue a standby), then
 * unregistered by its last sharer and freed after a grace period.
 */
export const allocatorMachine = setup({
  types: { ...replies, events: {} as { type: 'UNREGISTER' } },
  actions: { reply: assign((_, params: Reply) => ({ reply: params })) },
}).createMachine({
  id: 'ioasid_allocator',
  initial: 'active',
  context: { reply: { ok: true, text: '' } },
  states: {
    // A.3: "If the list is now empty, the active allocator becomes default_allocator"; kfree_rcu follows.
    active: { on: { UNREGISTER: { target: 'unregistered', actions: ok('unregistered') } } },
    unregistered: {},
  },
});
