/**
 * The lifecycle of one iommufd object as xstate machines (kernel-semantics
 * A.6): `empty` → `reserved` (id taken, lookups see nothing) → `live`
 * (finalized) → `removed` (erased from the xarray) → `freed`, or `reserved` →
 * `aborted`. The context holds the two protections of seed 002: the long-term
 * `users` refcount and the short-term one (the `destroy_rwsem` read side in
 * v6.2, `shortterm_users` from v6.7). Every reply is decided here.
 *
 * A wait is a transition that answers `BLOCKED` while it cannot proceed; the
 * world enables a waiting thread's step only when its machine would move.
 */
import { assign, err, ok, setup, type Reply } from 'lifecheck';

/** The object types this model has (A.6 `enum iommufd_object_type`, the ones seed 002's design needs). */
export const KINDS = ['ioas', 'hwpt', 'device', 'access'] as const;
export type Kind = (typeof KINDS)[number];

export interface ObjectContext {
  readonly kind: Kind;
  /** A.6 `refcount_t users`: the xarray's, dependents', kernel owners' and in-flight lookups' references. */
  readonly users: number;
  /** Short-term holders: rwsem readers (v6.2), or `shortterm_users` with the xarray's bias of 1 (v6.7). */
  readonly short: number;
  /** v6.2: writers queued in `down_write` (they make `down_read_trylock` fail). */
  readonly waiting: number;
  /** v6.2: `destroy_rwsem` is held for write. */
  readonly locked: boolean;
}

export type ObjectEvent =
  | { readonly type: 'RESERVE'; readonly kind: Kind }
  /** iommufd_get_object(id, type); `kind` 'any' is IOMMUFD_OBJ_ANY. */
  | { readonly type: 'LOCK'; readonly kind: Kind | 'any' }
  /** iommufd_object_remove / destroy_user under xa_lock; `callerRef`: the caller's users ref is dropped first. */
  | { readonly type: 'REMOVE'; readonly callerRef: boolean; readonly biasDropped: boolean }
  /** The bounded wait expired; `callerRef` as for REMOVE. */
  | { readonly type: 'TIMEOUT'; readonly callerRef: boolean }
  | {
      readonly type:
        | 'FINALIZE'
        | 'ABORT'
        | 'PUT_USERS'
        | 'PUT_SHORT'
        | 'REF_TO_USERS'
        | 'INC_USERS'
        | 'DEC_USERS'
        | 'DOWN_WRITE'
        | 'ACQUIRE_WRITE'
        | 'DROP_BIAS'
        | 'WAIT'
        | 'FREE';
    };

/** The kernel function behind each event, for coverage read in kernel terms (kernel-semantics A.6). */
export const OBJECT_CALLS: Readonly<Record<ObjectEvent['type'], string>> = {
  RESERVE: 'iommufd_object_alloc',
  LOCK: 'iommufd_get_object',
  REMOVE: 'iommufd_object_remove',
  TIMEOUT: 'the bounded wait in iommufd_object_remove',
  FINALIZE: 'iommufd_object_finalize',
  ABORT: 'iommufd_object_abort_and_destroy',
  PUT_USERS: 'iommufd_put_object (users)',
  PUT_SHORT: 'iommufd_put_object (short-term)',
  REF_TO_USERS: 'iommufd_ref_to_users',
  INC_USERS: 'refcount_inc(users)',
  DEC_USERS: 'refcount_dec(users)',
  DOWN_WRITE: 'down_write(destroy_rwsem)',
  ACQUIRE_WRITE: 'a queued down_write(destroy_rwsem)',
  DROP_BIAS: 'the shortterm_users bias drop',
  WAIT: 'the wait for shortterm_users == 0',
  FREE: 'the destroy and kfree',
};

/** The reply of a wait that cannot proceed yet: the step is not enabled. */
export const BLOCKED = 'blocked';

export const objectSetup = setup({
  types: {
    context: {} as ObjectContext & { reply: Reply },
    events: {} as ObjectEvent,
  },
  guards: {
    // A.6 iommufd_get_object: "fail ... if the type differs from the requested one (IOMMUFD_OBJ_ANY matches all)".
    wrongKind: ({ context, event }) => event.type === 'LOCK' && event.kind !== 'any' && event.kind !== context.kind,
    // A.6 v6.2 iommufd_lock_obj: down_read_trylock fails while a writer holds destroy_rwsem, and
    // while one waits (kernel/locking/rwsem.c: RWSEM_FLAG_WAITERS is in RWSEM_READ_FAILED_MASK).
    writerPresent: ({ context }) => context.locked || context.waiting > 0,
    // A.6 v6.7 iommufd_lock_obj: refcount_inc_not_zero(users), then refcount_inc_not_zero(shortterm_users).
    counted: ({ context }) => context.users > 0 && context.short > 0,
    // down_write: no reader and no writer.
    writable: ({ context }) => context.short === 0 && !context.locked,
    drained: ({ context }) => context.short === 0,
    // A.6 destroy_user/object_remove: refcount_dec_if_one(users) after the caller's own ref is put.
    lastUser: ({ context, event }) =>
      event.type === 'REMOVE' && context.users - (event.callerRef ? 1 : 0) === 1,
  },
  actions: {
    reply: assign((_, params: Reply) => ({ reply: params })),
    // A.6 _iommufd_object_alloc: users=1; v6.7+ shortterm_users=1 ("bias'd by 1 until it is removed from the xarray").
    reserve: assign(({ event }, params: { short: number }) => ({
      kind: event.type === 'RESERVE' ? event.kind : 'ioas',
      users: 1,
      short: params.short,
    })),
    lock: assign(({ context }) => ({ users: context.users + 1, short: context.short + 1 })),
    putUsers: assign(({ context }) => ({ users: context.users - 1 })),
    putShort: assign(({ context }) => ({ short: context.short - 1 })),
    incUsers: assign(({ context }) => ({ users: context.users + 1 })),
    queueWriter: assign(({ context }) => ({ waiting: context.waiting + 1 })),
    lockWrite: assign({ locked: true }),
    takeWrite: assign(({ context }) => ({ waiting: context.waiting - 1, locked: true })),
    // Under xa_lock: the caller's ref goes (refcount_dec), and dec_if_one takes users to 0.
    erase: assign({ users: 0 }),
    // The refused remove keeps everything but the caller's ref; v6.7 restores the xarray's bias, v6.2 does up_write.
    refuse: assign(({ context, event }) => ({
      users: context.users - (event.type === 'REMOVE' && event.callerRef ? 1 : 0),
      short: context.short + (event.type === 'REMOVE' && event.biasDropped ? 1 : 0),
      locked: false,
    })),
    // A.6 v6.7 timeout: "restore the bias, users-- (the caller's), return -EBUSY".
    restore: assign(({ context, event }) => ({
      short: context.short + 1,
      users: context.users - (event.type === 'TIMEOUT' && event.callerRef ? 1 : 0),
    })),
    unlock: assign({ locked: false }),
  },
});

/** Events that find nothing: the object is not (or no longer, or not yet) in the xarray. */
const invisible = {
  // A.6 RESERVED: "xa_load turns zero entries into NULL, so iommufd_get_object and IOMMU_DESTROY return ENOENT".
  LOCK: { actions: err('-ENOENT') },
  REMOVE: { actions: err('-ENOENT') },
} as const;

/** Reference counting a holder may do on a reserved or live object (refcount_inc/dec need no lock). */
const counting = {
  INC_USERS: { actions: ['incUsers', ok('users++')] },
  DEC_USERS: { actions: ['putUsers', ok('users--')] },
  PUT_USERS: { actions: ['putUsers', ok('users--')] },
} as const;

/** The creation states, the same in every design. */
const creation = {
  reserved: {
    on: {
      ...invisible,
      ...counting,
      // A.6 iommufd_object_finalize: publishes the pointer in its reserved slot.
      FINALIZE: { target: 'live', actions: ok('published') },
      // A.6 iommufd_object_abort: "Clears the reserved slot, then kfree".
      ABORT: { target: 'aborted', actions: ok('aborted') },
    },
  },
  aborted: { type: 'final' },
  freed: { type: 'final' },
} as const;

/** Finalize and abort on a published object: what the kernel does, with the WARN it prints. */
const published = {
  // A.6 v6.2 finalize: xa_store + WARN_ON(old).
  FINALIZE: { actions: err('WARN_ON(old)') },
  // A.6 v6.2 abort: xa_erase of a published object (WARN_ON(old)), then kfree regardless of holders.
  ABORT: { target: 'aborted', actions: err('WARN_ON(old)') },
} as const;

/** Under xa_lock: the caller's ref, then refcount_dec_if_one(users) erases or refuses. */
const remove = [
  { guard: 'lastUser', target: 'removed', actions: ['erase', ok('erased')] },
  // Seed 002: "With users protection iommufd_object_destroy_user() will return -EBUSY".
  { actions: ['refuse', err('-EBUSY')] },
] as const;

/** Seed 002 as merged in v6.2: destroy_rwsem for short-term holders, `users` for long-term ones. */
export const rwsemStates = {
  empty: { on: { RESERVE: { target: 'reserved', actions: [{ type: 'reserve', params: { short: 0 } }, ok('reserved')] } } },
  ...creation,
  live: {
    on: {
      ...published,
      ...counting,
      LOCK: [
        { guard: 'wrongKind', actions: err('-ENOENT') },
        // A.6 v6.2: "down_read_trylock(destroy_rwsem) (fails while a destroyer holds it for write)".
        { guard: 'writerPresent', actions: err('-ENOENT') },
        { actions: ['lock', ok('locked')] },
      ],
      // A.6 v6.2 iommufd_put_object: users-- first, then up_read, a separate touch of obj.
      PUT_SHORT: { actions: ['putShort', ok('up_read')] },
      // Seed 002 iommufd_ref_to_users: "Switch from destroy_rwsem to users refcount protection".
      REF_TO_USERS: { actions: ['putShort', ok('up_read, users kept')] },
      // A.6 destroy_user: down_write waits for every short-term reader.
      DOWN_WRITE: [
        { guard: 'writable', actions: ['lockWrite', ok('acquired')] },
        { actions: ['queueWriter', ok('waits')] },
      ],
      ACQUIRE_WRITE: [{ guard: 'writable', actions: ['takeWrite', ok('acquired')] }, { actions: err(BLOCKED) }],
      REMOVE: remove,
    },
  },
  removed: {
    on: {
      // A.6 destroy_user: up_write, ops->destroy, kfree.
      FREE: { target: 'freed', actions: ['unlock', ok('freed')] },
      PUT_SHORT: { actions: ['putShort', ok('up_read')] },
      ...invisible,
    },
  },
} as const;

/** v6.7 iommufd_object_dec_wait_shortterm: drop the xarray's bias, then wait for shortterm_users to reach 0. */
const drain = {
  DROP_BIAS: { actions: ['putShort', ok('bias dropped')] },
  WAIT: [{ guard: 'drained', actions: ok('woken') }, { actions: err(BLOCKED) }],
} as const;

/** A.6 v6.7 (6f9c4d8c468c): shortterm_users with the xarray's bias, and the ctx-wide destroy_wait queue. */
export const shorttermStates = {
  empty: { on: { RESERVE: { target: 'reserved', actions: [{ type: 'reserve', params: { short: 1 } }, ok('reserved')] } } },
  ...creation,
  live: {
    on: {
      ...published,
      ...counting,
      LOCK: [
        { guard: 'wrongKind', actions: err('-ENOENT') },
        { guard: 'counted', actions: ['lock', ok('locked')] },
        // A.6 v6.7: "If the second fails, undo the first"; every failure maps to ENOENT.
        { actions: err('-ENOENT') },
      ],
      // A.6 v6.7 put: users-- first, then shortterm_users-- (wake_up at 0).
      PUT_SHORT: { actions: ['putShort', ok('shortterm--')] },
      // A.6 object_remove with REMOVE_WAIT_SHORTTERM: drop the bias, then wait for 0.
      ...drain,
      // A.6 v6.7: "On timeout: pr_crit, restore the bias, users-- (the caller's), return -EBUSY".
      TIMEOUT: { actions: ['restore', err('-EBUSY')] },
      REMOVE: remove,
    },
  },
  removed: {
    on: {
      // A.6 v6.7 IOMMU_DESTROY: after the erase, drop the bias and wait for racing put_object()s.
      ...drain,
      PUT_SHORT: { actions: ['putShort', ok('shortterm--')] },
      FREE: { target: 'freed', actions: ok('freed') },
      ...invisible,
    },
  },
} as const;

const initialContext = { kind: 'ioas', users: 0, short: 0, waiting: 0, locked: false, reply: { ok: true, text: '' } } as const;

/** The definition shared by both designs; a patch replaces `states` (or one state's `on`). */
export const objectDefinition = { id: 'iommufd-object', initial: 'empty', context: initialContext } as const;

/** v6.2 (seed 002): destroy_rwsem and users. */
export const rwsemObject = objectSetup.createMachine({ ...objectDefinition, states: rwsemStates });

/** v6.7: shortterm_users and destroy_wait. */
export const shorttermObject = objectSetup.createMachine({ ...objectDefinition, id: 'iommufd-object-shortterm', states: shorttermStates });

/** Whether an object state is in the xarray (a reserved one as XA_ZERO_ENTRY). */
export const inXarray = (value: string): boolean => value === 'reserved' || value === 'live';
