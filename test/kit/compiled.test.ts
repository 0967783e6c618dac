/**
 * The kit's machines as tables: every cell the interpreter reads equals what
 * xstate's own `transition()` gives, for refcount_t at each bound and for
 * every call of the examples.
 */
import { describe, expect, it } from 'vitest';
import { fireUncached } from 'lifecheck';
import { buffers } from '../../examples/buffer.ts';
import { files } from '../../examples/file.ts';
import { callCode, callMachine, callTable, FLOWS } from '../../src/kit/callMachine.ts';
import { REFCOUNT_EVENTS, refcountCode, refcountMachine, refcountTable } from '../../src/kit/refcount.ts';

describe('refcount_t compiled', () => {
  it.each([0, 1, 2, 4])('equals xstate for every count up to %i and every call', (max) => {
    const table = refcountTable(max);
    const code = refcountCode(max);
    for (let count = 0; count <= max; count++) {
      REFCOUNT_EVENTS.forEach((type, e) => {
        const fired = fireUncached<{ count: number }>(refcountMachine, code.unpack(count), { type });
        expect(table.next(count, e)).toBe(fired.state.context.count);
        expect(table.reply(count, e)).toEqual(fired.reply);
      });
    }
  });
});

describe('calls compiled', () => {
  const calls = [...Object.values(buffers.calls), ...Object.values(files.calls), ...Object.values(files.works ?? {})];
  it.each(calls.map((c) => [c.name, c] as const))('%s equals xstate in every state for every flow', (_, c) => {
    const { table, code } = callTable(c);
    const machine = callMachine(c);
    for (let s = 0; s < code.size - 1; s++) {
      FLOWS.forEach((type, e) => {
        const fired = fireUncached(machine, callCode(c).unpack(s), { type });
        expect(code.unpack(table.next(s, e)).value).toBe(fired.state.value);
      });
    }
  });
});
