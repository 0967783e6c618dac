/**
 * One IOASID slot of the benchmark model (shared/anchors/README.md) as an
 * xstate machine, and that machine compiled to a table for the explorer.
 * The rules are the 2020 refcount patch's (seed 001); whether find takes a
 * reference is the design variable the benchmark compares.
 */
import { assign, compileMachine, err, ok, setup, UNHANDLED, type MachineState, type Reply, type StateCode } from 'lifecheck';

/** `rc` is the refcount (0 iff free); `gen` counts the allocs of this slot so far. */
export interface SlotContext {
  readonly rc: number;
  readonly gen: number;
}

export type SlotEvent =
  | { readonly type: 'ALLOC' | 'GET' | 'PUT' | 'FREE' }
  | { readonly type: 'FIND'; readonly takesRef: boolean }
  | { readonly type: 'USE'; readonly dropsRef: boolean };

const slotSetup = setup({
  types: { context: {} as SlotContext & { reply: Reply }, events: {} as SlotEvent },
  actions: {
    reply: assign((_, params: Reply) => ({ reply: params })),
    allocate: assign(({ context }) => ({ rc: 1, gen: context.gen + 1 })),
    ref: assign(({ context }) => ({ rc: context.rc + 1 })),
    unref: assign(({ context }) => ({ rc: context.rc - 1 })),
    release: assign({ rc: 0 }),
  },
  guards: {
    lastRef: ({ context }) => context.rc === 1,
    takesRef: ({ event }) => event.type === 'FIND' && event.takesRef,
    dropsLastRef: ({ context, event }) => event.type === 'USE' && event.dropsRef && context.rc === 1,
    dropsRef: ({ event }) => event.type === 'USE' && event.dropsRef,
  },
});

// Shared by active and freePending: what a holder's put, and a found pointer's find and use, do.
const holderCalls = {
  // seed 001: "ioasid_put() decrement and test refcount ... If refcount is 0, ioasid will be freed"
  PUT: [
    { guard: 'lastRef', target: 'free', actions: ['release', ok('freed')] },
    { actions: ['unref', ok('put')] },
  ],
  // seed 001: "ioasid_find() does not take reference"; the fixed design takes one (anchors README)
  FIND: [{ guard: 'takesRef', actions: ['ref', ok('found')] }, { actions: ok('found') }],
  // the fixed design's use drops the reference its find took
  USE: [
    { guard: 'dropsLastRef', target: 'free', actions: ['release', ok('used')] },
    { guard: 'dropsRef', actions: ['unref', ok('used')] },
    { actions: ok('used') },
  ],
} as const;

export const slotMachine = slotSetup.createMachine({
  id: 'ioasid-bench-slot',
  initial: 'free',
  context: { rc: 0, gen: 0, reply: UNHANDLED },
  states: {
    free: {
      on: {
        // seed 001: "ioasid_alloc() set initial refcount to 1"
        ALLOC: { target: 'active', actions: ['allocate', ok('allocated')] },
        GET: { actions: err('-EINVAL') },
        FIND: { actions: err('NULL') },
        // a borrowed pointer used after the slot was freed: the machine cannot refuse it (I1 catches it)
        USE: { actions: ok('used') },
      },
    },
    active: {
      on: {
        // seed 001: "ioasid_get() get a reference on an active IOASID"
        GET: { actions: ['ref', ok('got')] },
        ...holderCalls,
        // seed 001: "If refcount is 0, ioasid will be freed ... If recount is non-zero, mark IOASID as IOASID_STATE_FREE_PENDING"
        FREE: [
          { guard: 'lastRef', target: 'free', actions: ['release', ok('freed')] },
          { target: 'freePending', actions: ['unref', ok('free pending')] },
        ],
      },
    },
    freePending: {
      on: {
        // seed 001: "After free, ioasid_get() will return error"
        GET: { actions: err('-EBUSY') },
        ...holderCalls,
        // seed 001: "ioasid_free() can be called multiple times without error until all refs are dropped"
        FREE: [
          { guard: 'lastRef', target: 'free', actions: ['release', ok('freed')] },
          { actions: ['unref', ok('free pending')] },
        ],
      },
    },
  },
});

export const SLOT_STATES = ['free', 'active', 'freePending'] as const;
export const FREE = 0;
export const ACTIVE = 1;
export const FREE_PENDING = 2;

/** Event indices of the compiled slot. */
export const EV = { alloc: 0, get: 1, put: 2, free: 3, find: 4, use: 5 } as const;

/** A slot state's code and the state vector's three cells (st, rc, gen) it stands for. */
export interface SlotCode extends StateCode<SlotContext> {
  of(st: number, rc: number, gen: number): number;
  cells(code: number): readonly [st: number, rc: number, gen: number];
}

/** Slot states as codes `st + 3 * (rc + (maxRc + 1) * gen)`, the state vector's three cells in one number. */
export function slotCode(maxRc: number, maxGen: number): SlotCode {
  const rcs = maxRc + 1;
  const size = 3 * rcs * (maxGen + 1);
  const of = (st: number, rc: number, gen: number) => st + 3 * (rc + rcs * gen);
  const cells = Array.from({ length: size }, (_, code) => {
    const rest = Math.floor(code / 3);
    return [code % 3, rest % rcs, Math.floor(rest / rcs)] as const;
  });
  return {
    size,
    of,
    cells: (code) => cells[code]!,
    pack: ({ value, context }) => {
      const st = SLOT_STATES.indexOf(value as (typeof SLOT_STATES)[number]);
      if (st < 0 || context.rc > maxRc || context.gen > maxGen) throw new Error(`slot state out of range: ${JSON.stringify({ value, context })}`);
      return of(st, context.rc, context.gen);
    },
    unpack: (code) => {
      const [st, rc, gen] = cells[code]!;
      return { value: SLOT_STATES[st]!, context: { rc, gen } };
    },
  };
}

/** The slot compiled for one design: does find take a reference (and use drop it)? */
export function compiledSlot(findTakesRef: boolean, code: StateCode<SlotContext>) {
  const events: SlotEvent[] = [
    { type: 'ALLOC' },
    { type: 'GET' },
    { type: 'PUT' },
    { type: 'FREE' },
    { type: 'FIND', takesRef: findTakesRef },
    { type: 'USE', dropsRef: findTakesRef },
  ];
  return { events, table: compileMachine(slotMachine, events, code) };
}

export type SlotState = MachineState<SlotContext>;
