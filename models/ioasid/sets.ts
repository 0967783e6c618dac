/**
 * An ioasid_set as an object with a lifecycle (kernel-semantics A.4, the
 * extended series "dcp"/V4 05/18): `live`, `freePending` after a free with
 * members (-EBUSY), `freed` with its last member. It also keeps the quota.
 * The world tells it how many live ids it has, so events carry `members`.
 */
import { assign, err, ok, setup, type Reply } from 'lifecheck';

export interface SetContext {
  /** A.4 ioasid_set_alloc(token, quota, type): the most ids the set may hold at once. */
  readonly quota: number;
}

export type SetEvent =
  /** ioasid_alloc asks the set to take one more id. */
  | { readonly type: 'ADMIT'; readonly members: number }
  /** ioasid_set_free(set). */
  | { readonly type: 'SET_FREE'; readonly members: number }
  /** ioasid_do_free_locked reclaimed one of its ids; `members` is what is left. */
  | { readonly type: 'RECLAIMED'; readonly members: number };

export const setSetup = setup({
  types: {
    context: {} as SetContext & { reply: Reply },
    events: {} as SetEvent,
  },
  guards: {
    // A.4 ioasid_alloc: "set->nr_ioasids >= set->quota" -> INVALID_IOASID.
    overQuota: ({ context, event }) => event.members >= context.quota,
    hasMembers: ({ event }) => event.members > 0,
    noMembers: ({ event }) => event.members === 0,
  },
  actions: {
    reply: assign((_, params: Reply) => ({ reply: params })),
  },
});

/** The set's states, exported so a patch can change one transition. */
export const setStates = {
  live: {
    on: {
      ADMIT: [{ guard: 'overQuota', actions: err('INVALID_IOASID') }, { actions: ok('admitted') }],
      SET_FREE: [
        // A.4 ioasid_set_free: "The set still has IOASIDs: -EBUSY and set->free_pending = true".
        { guard: 'hasMembers', target: 'freePending', actions: err('-EBUSY') },
        { target: 'freed', actions: ok('0') },
      ],
    },
  },
  freePending: {
    on: {
      // A.4: the set is still in ioasid_sets until its last id goes, so ioasid_alloc still accepts it.
      ADMIT: [{ guard: 'overQuota', actions: err('INVALID_IOASID') }, { actions: ok('admitted') }],
      SET_FREE: { actions: err('-EBUSY') },
      // A.4 ioasid_do_free_locked: "If set->free_pending and the count reaches 0, free the set".
      RECLAIMED: { guard: 'noMembers', target: 'freed' },
    },
  },
  freed: {
    on: {
      // A.4 ioasid_alloc: the set must be registered ("xa_load(&ioasid_sets, set->id) == set").
      ADMIT: { actions: err('INVALID_IOASID') },
      // A.4 ioasid_set_free: "Set not registered: -EINVAL".
      SET_FREE: { actions: err('-EINVAL') },
    },
  },
} as const;

/** A set machine with its quota: `setMachine(1)` lets a set hold one id at a time. */
export function setMachine(quota: number) {
  return setSetup.createMachine({
    id: 'ioasid-set',
    initial: 'live',
    context: { quota, reply: { ok: true, text: '' } },
    states: setStates,
  });
}
