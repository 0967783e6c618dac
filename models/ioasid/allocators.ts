/**
 * Custom IOASID allocators (kernel-semantics A.3, seed 003): the registry of
 * ops as an xstate machine. `defaultActive` is the default allocator alone;
 * in `customActive` the entries are the registered helper pairs, each with
 * its own id table and the ops that share it. Whether a table still has live
 * ids is the world's to know, so REGISTER and UNREGISTER carry it.
 */
import { and, assign, err, ok, setup, type Reply } from 'lifecheck';

/** One registered helper pair (A.3 "ioasid_allocator_data"): its ops and its table. */
export interface AllocatorEntry {
  readonly helpers: string;
  readonly ops: readonly string[];
  readonly table: string;
}

export interface RegistryContext {
  /** allocators_list, in registration order. */
  readonly entries: readonly AllocatorEntry[];
  /** The table of the active allocator; null for the default allocator. */
  readonly active: string | null;
  /** Entries ever made: names each new table, so a re-registered pair gets a fresh one. */
  readonly made: number;
}

export type RegistryEvent =
  | { readonly type: 'REGISTER'; readonly ops: string; readonly helpers: string; readonly defaultLive: boolean }
  | { readonly type: 'UNREGISTER'; readonly ops: string; readonly helpers: string; readonly live: boolean };

const entryOf = (context: RegistryContext, helpers: string) => context.entries.find((e) => e.helpers === helpers);

/** The registry's types, guards and actions; variants flip a guard with `registryMachine.provide`. */
export const registrySetup = setup({
  types: {
    context: {} as RegistryContext & { reply: Reply },
    events: {} as RegistryEvent,
  },
  guards: {
    // A.3: "Default XArray not empty: returns -EAGAIN" (rule 5: switching needs all ids freed).
    defaultHasIds: ({ event }) => event.type === 'REGISTER' && event.defaultLive,
    // A.3: "Same ops pointer: -EEXIST".
    sameOps: ({ context, event }) => context.entries.some((e) => e.ops.includes(event.ops)),
    // A.3 use_same_ops(): the same helper pair shares one table (rule 4).
    sameHelpers: ({ context, event }) => entryOf(context, event.helpers) !== undefined,
    notRegistered: ({ context, event }) => entryOf(context, event.helpers) === undefined,
    // A.3 unregister: list_is_singular(slist), the last ops on this helper pair.
    lastSharer: ({ context, event }) => entryOf(context, event.helpers)?.ops.length === 1,
    onlyEntry: ({ context }) => context.entries.length === 1,
    liveIds: ({ event }) => event.type === 'UNREGISTER' && event.live,
    // A.3: unregister "should not fail" (JPB in review): as merged, live ids only warn.
    refusesLiveIds: () => false,
  },
  actions: {
    reply: assign((_, params: Reply) => ({ reply: params })),
    // A.3: the first custom allocator becomes active at once (rcu_assign_pointer).
    addActive: assign(({ context, event }) => {
      const table = `${event.helpers}.${context.made + 1}`;
      return { entries: [{ helpers: event.helpers, ops: [event.ops], table }], active: table, made: context.made + 1 };
    }),
    // A.3: a different helper pair is appended as an inactive standby.
    addStandby: assign(({ context, event }) => {
      const table = `${event.helpers}.${context.made + 1}`;
      const entry = { helpers: event.helpers, ops: [event.ops], table };
      return { entries: [...context.entries, entry], made: context.made + 1 };
    }),
    // A.3: the same helper pair joins the entry's slist and shares its table.
    share: assign(({ context, event }) => ({
      entries: context.entries.map((e) => (e.helpers === event.helpers ? { ...e, ops: [...e.ops, event.ops] } : e)),
    })),
    // A.3: "remove it"; the active allocator falls back to the first entry left, else the default.
    removeEntry: assign(({ context, event }) => {
      const gone = entryOf(context, event.helpers);
      const entries = context.entries.filter((e) => e !== gone);
      const active = entries.length === 0 ? null : context.active === gone?.table ? entries[0]!.table : context.active;
      return { entries, active };
    }),
    // A.3: other ops share the helpers: unlink this one, keep the ids.
    unlink: assign(({ context, event }) => ({
      entries: context.entries.map((e) =>
        e.helpers === event.helpers ? { ...e, ops: e.ops.filter((o) => o !== event.ops) } : e,
      ),
    })),
  },
});

/**
 * The registry's states, exported so a patch can change one transition:
 * `registrySetup.createMachine({ ...registryDefinition, states: { ...registryStates, ... } })`.
 */
export const registryStates = {
  defaultActive: {
    on: {
      REGISTER: [
        { guard: 'defaultHasIds', actions: err('-EAGAIN') },
        { target: 'customActive', actions: ['addActive', ok('0')] },
      ],
      // A.2 ioasid_unregister_allocator: "No custom IOASID allocators active!"
      UNREGISTER: { actions: err('none active') },
    },
  },
  customActive: {
    on: {
      REGISTER: [
        { guard: 'sameOps', actions: err('-EEXIST') },
        { guard: 'sameHelpers', actions: ['share', ok('0')] },
        { actions: ['addStandby', ok('0')] },
      ],
      UNREGISTER: [
        // A.3: the walk finds no entry with these helpers and does nothing.
        { guard: 'notRegistered', actions: err('not registered') },
        { guard: and(['lastSharer', 'liveIds', 'refusesLiveIds']), actions: err('-EBUSY') },
        // A.3: "WARN_ON if its XArray is not empty. The IDs are orphaned, not freed."
        {
          guard: and(['lastSharer', 'onlyEntry', 'liveIds']),
          target: 'defaultActive',
          actions: ['removeEntry', ok('WARN: ids orphaned')],
        },
        // A.3: "If the list is now empty, the active allocator becomes default_allocator."
        { guard: and(['lastSharer', 'onlyEntry']), target: 'defaultActive', actions: ['removeEntry', ok('void')] },
        { guard: and(['lastSharer', 'liveIds']), actions: ['removeEntry', ok('WARN: ids orphaned')] },
        { guard: 'lastSharer', actions: ['removeEntry', ok('void')] },
        { actions: ['unlink', ok('void')] },
      ],
    },
  },
} as const;

/** The registry machine's id, initial state and context. */
export const registryDefinition = {
  id: 'ioasid-allocators',
  initial: 'defaultActive',
  context: { entries: [], active: null, made: 0, reply: { ok: true, text: '' } },
} as const;

export const registryMachine = registrySetup.createMachine({ ...registryDefinition, states: registryStates });
