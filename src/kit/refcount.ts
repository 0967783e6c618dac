/**
 * `refcount_t` (and `kref`, which wraps one) as an xstate machine, with the
 * kernel's own warnings: an increment from zero and a decrement below it are
 * use-after-free, and the kernel WARNs and saturates (lib/refcount.c,
 * `refcount_warn_saturate`). The kit steps it like any object's machine, so
 * its rules are drawn and counted like the model's own.
 */
import { assign, setup } from 'xstate';
import { compileMachine, type CompiledMachine, type StateCode } from '../engine/machine.ts';
import type { Reply } from '../engine/model.ts';

/** What lib/refcount.c prints when a count goes wrong; the stock properties read these. */
export const WARN = {
  addOnZero: 'refcount_t: addition on 0; use-after-free.',
  underflow: 'refcount_t: underflow; use-after-free.',
  decLeak: 'refcount_t: decrement hit 0; leaking memory.',
} as const;

export type RefcountEvent = {
  readonly type: 'SET_ONE' | 'INC' | 'INC_NOT_ZERO' | 'DEC_AND_TEST' | 'DEC_IF_ONE' | 'DEC';
};

const reply = (ok: boolean, text: string, warn?: string): Reply => ({ ok, text, ...(warn ? { warnings: [warn] } : {}) });

/** refcount_t as an xstate machine (zero, live), with the warnings lib/refcount.c prints. */
export const refcountMachine = setup({
  types: { context: {} as { count: number; reply: Reply }, events: {} as RefcountEvent },
  guards: { one: ({ context }) => context.count === 1 },
  actions: {
    inc: assign({ count: ({ context }) => context.count + 1 }),
    dec: assign({ count: ({ context }) => context.count - 1 }),
    one: assign({ count: 1 }),
    answer: assign((_, params: Reply) => ({ reply: params })),
  },
}).createMachine({
  id: 'refcount_t',
  context: { count: 0, reply: reply(true, '') },
  initial: 'zero',
  states: {
    zero: {
      on: {
        // refcount_set(&r, 1) (kref_init): a new object's first reference.
        SET_ONE: { target: 'live', actions: ['inc', { type: 'answer', params: reply(true, 'ok') }] },
        // refcount_inc: "addition on 0; use-after-free", the count stays saturated at 0 here.
        INC: { actions: { type: 'answer', params: reply(false, 'WARN', WARN.addOnZero) } },
        // refcount_inc_not_zero: false, nothing changes.
        INC_NOT_ZERO: { actions: { type: 'answer', params: reply(false, 'false') } },
        // refcount_dec_and_test on 0: "underflow; use-after-free".
        DEC_AND_TEST: { actions: { type: 'answer', params: reply(false, 'WARN', WARN.underflow) } },
        DEC_IF_ONE: { actions: { type: 'answer', params: reply(false, 'false') } },
        // refcount_dec on 0: the same underflow.
        DEC: { actions: { type: 'answer', params: reply(false, 'WARN', WARN.underflow) } },
      },
    },
    live: {
      on: {
        INC: { actions: ['inc', { type: 'answer', params: reply(true, 'ok') }] },
        INC_NOT_ZERO: { actions: ['inc', { type: 'answer', params: reply(true, 'true') }] },
        // refcount_dec_and_test: true when this put dropped the last reference.
        DEC_AND_TEST: [
          { guard: 'one', target: 'zero', actions: ['dec', { type: 'answer', params: reply(true, 'true') }] },
          { actions: ['dec', { type: 'answer', params: reply(true, 'false') }] },
        ],
        // refcount_dec_if_one: only the last reference may go.
        DEC_IF_ONE: [
          { guard: 'one', target: 'zero', actions: ['dec', { type: 'answer', params: reply(true, 'true') }] },
          { actions: { type: 'answer', params: reply(false, 'false') } },
        ],
        // refcount_dec: for a count that is never the last (lib/refcount.c: "decrement hit 0; leaking memory" if it is).
        DEC: [
          { guard: 'one', target: 'zero', actions: ['dec', { type: 'answer', params: reply(false, 'WARN', WARN.decLeak) }] },
          { actions: ['dec', { type: 'answer', params: reply(true, 'ok') }] },
        ],
        // refcount_set(&r, 1) on a live count: it is 1 now, whatever it was.
        SET_ONE: { actions: ['one', { type: 'answer', params: reply(true, 'ok') }] },
      },
    },
  },
});

/** The machine state of a count `n` (what `refcount_set` makes). */
export const refcountState = (count: number) => ({ value: count === 0 ? 'zero' : 'live', context: { count } });

/** The refcount calls, in the order of the compiled table's events. */
export const REFCOUNT_EVENTS = ['SET_ONE', 'INC', 'INC_NOT_ZERO', 'DEC_AND_TEST', 'DEC_IF_ONE', 'DEC'] as const;

/** A count is its own state code: 0..max (an increment past max is the model's error, which the kit reports). */
export const refcountCode = (max: number): StateCode<{ count: number }> => ({
  size: max + 2,
  pack: (s) => s.context.count,
  unpack: (c) => refcountState(c),
});

const tables = new Map<number, CompiledMachine>();

/** `refcount_t` with counts up to `max` as a table, each cell filled once from xstate (checked by test/kit/compiled.test.ts). */
export function refcountTable(max: number): CompiledMachine {
  let table = tables.get(max);
  if (!table) tables.set(max, (table = compileMachine(refcountMachine, REFCOUNT_EVENTS.map((type) => ({ type })), refcountCode(max))));
  return table;
}
