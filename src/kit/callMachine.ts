/**
 * A call as an xstate machine: a state per step, named by its kernel
 * function, and the ways out of it (on to the next step, a failure to its
 * unwind label, the last put to its `zero` label) as transitions.
 * The interpreter fires it as a call moves, so the review draws each call as
 * a diagram, and coverage names the steps a scenario never reached (an error
 * path no bound lets fail, a call the ids starved).
 */
import { setup, type AnyStateMachine } from 'xstate';
import { compileMachine, type CompiledMachine, type StateCode } from '../engine/machine.ts';
import type { Action, Call, Step } from './calls.ts';
import { labelAt } from './world.ts';

/** How a step hands on to the next: the events of a call's machine (an oops is no designed path, and has none). */
export type Flow = 'NEXT' | 'FAIL' | 'ZERO';

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
    if ('goto' in item) return landing(c, names, labelAt(c, item.goto));
  }
  return RETURNED;
}

const machines = new WeakMap<Call, AnyStateMachine>();

/** Whether an action can fail (and a step take its unwind path): only these get a FAIL edge. */
function canFail(a: Action): boolean {
  switch (a.op) {
    case 'alloc':
    case 'xa_alloc':
    case 'fallible':
    case 'if_null':
    case 'if_set':
    case 'link_is':
    case 'xa_insert':
    case 'check':
    case 'mutex_trylock':
    case 'down_read_trylock':
    case 'is_kind':
    case 'error':
    case 'xa_find':
    case 'send':
      return true;
    case 'refcount':
      return a.call === 'refcount_inc_not_zero' || a.call === 'refcount_dec_if_one';
    case 'wait':
      return a.timeout !== undefined;
    default:
      return false;
  }
}

/** The events of a call's machine, in the order of its compiled table. */
export const FLOWS: readonly Flow[] = ['NEXT', 'FAIL', 'ZERO'];

/** A call's states numbered: each step's state by its item index, then `returned`. */
export function callCode(c: Call): StateCode<object> & { ofItem(k: number): number } {
  const names = [...stateNames(c)];
  const index = new Int32Array(c.items.length).fill(-1);
  names.forEach(([k], i) => (index[k] = i));
  const byName = new Map(names.map(([, n], i) => [n, i]));
  return {
    size: names.length + 1,
    pack: (s) => byName.get(s.value) ?? names.length,
    unpack: (i) => ({ value: names[i]?.[1] ?? RETURNED, context: {} }),
    ofItem: (k) => index[k]!,
  };
}

const tables = new WeakMap<Call, { table: CompiledMachine; code: ReturnType<typeof callCode> }>();

/** A call's machine as a table, each cell filled once from xstate (checked by test/kit/compiled.test.ts). */
export function callTable(c: Call): { table: CompiledMachine; code: ReturnType<typeof callCode> } {
  let t = tables.get(c);
  if (!t) {
    const code = callCode(c);
    tables.set(c, (t = { table: compileMachine(callMachine(c), FLOWS.map((type) => ({ type })), code), code }));
  }
  return t;
}

export function callMachine(c: Call): AnyStateMachine {
  const cached = machines.get(c);
  if (cached) return cached;
  const names = stateNames(c);
  const states: Record<string, { on?: Record<string, { target: string }>; type?: 'final' }> = {};
  for (const [k, name] of names) {
    const step = c.items[k] as Step;
    const on: Record<string, { target: string }> = { NEXT: { target: landing(c, names, k + 1) } };
    if (canFail(step.action)) on.FAIL = { target: step.fail === undefined ? RETURNED : landing(c, names, labelAt(c, step.fail)) };
    if (step.zero !== undefined) on.ZERO = { target: landing(c, names, labelAt(c, step.zero)) };
    states[name] = { on };
  }
  states[RETURNED] = { type: 'final' };
  const machine = setup({}).createMachine({ id: c.name, initial: landing(c, names, 0), states });
  machines.set(c, machine);
  return machine;
}
