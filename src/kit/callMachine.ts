/**
 * A call as an xstate machine: a state per step, named by its kernel
 * function, and the ways out of it (on to the next step, a failure to its
 * unwind label, the last put to its `zero` label, an oops) as transitions.
 * The interpreter fires it as a call moves, so the review draws each call as
 * a diagram, and coverage names the steps a scenario never reached (an error
 * path no bound lets fail, a call the ids starved).
 */
import { setup, type AnyStateMachine } from 'xstate';
import type { Call, Step } from './calls.ts';

/** How a step hands on to the next: the events of a call's machine. */
export type Flow = 'NEXT' | 'FAIL' | 'ZERO' | 'OOPS';

export const RETURNED = 'returned';

const named = new WeakMap<Call, Map<number, string>>();

/** Each step's state name, by item index: its kernel function, numbered when the call has it twice. */
export function stateNames(c: Call): Map<number, string> {
  const cached = named.get(c);
  if (cached) return cached;
  const names = new Map<number, string>();
  named.set(c, names);
  const seen = new Map<string, number>();
  c.items.forEach((item, k) => {
    if (!('fn' in item)) return;
    // xstate reads '.' in a state's name as a path and '#' as an id.
    const fn = item.fn.replace(/\./g, '·').replace(/#/g, '♯');
    const n = (seen.get(fn) ?? 0) + 1;
    seen.set(fn, n);
    names.set(k, n === 1 ? fn : `${fn} (${n})`);
  });
  return names;
}

/** Where a call goes from item `k` (the first step at or after it), as a state name. */
function landing(c: Call, names: Map<number, string>, k: number): string {
  for (let at = k; at < c.items.length; at++) {
    const item = c.items[at]!;
    if ('ret' in item) return RETURNED;
    if ('fn' in item) return names.get(at)!;
  }
  return RETURNED;
}

const machines = new WeakMap<Call, AnyStateMachine>();

export function callMachine(c: Call): AnyStateMachine {
  const cached = machines.get(c);
  if (cached) return cached;
  const names = stateNames(c);
  const labelAt = (l: string) => c.items.findIndex((i) => 'label' in i && i.label === l);
  const states: Record<string, { on?: Record<string, { target: string }>; type?: 'final' }> = {};
  for (const [k, name] of names) {
    const step = c.items[k] as Step;
    const on: Record<string, { target: string }> = { NEXT: { target: landing(c, names, k + 1) }, OOPS: { target: RETURNED } };
    on.FAIL = { target: step.fail === undefined ? RETURNED : landing(c, names, labelAt(step.fail)) };
    if (step.zero !== undefined) on.ZERO = { target: landing(c, names, labelAt(step.zero)) };
    states[name] = { on };
  }
  states[RETURNED] = { type: 'final' };
  const machine = setup({}).createMachine({ id: c.name, initial: landing(c, names, 0), states });
  machines.set(c, machine);
  return machine;
}
