/**
 * Stepping xstate machines from plain data. A world stores each object's
 * machine state as `{ value, context }`; firing an event rebuilds the xstate
 * snapshot, runs xstate's pure `transition()`, and hands back plain data and
 * the call's reply, which the machine writes into `context.reply`.
 *
 * `transition()` costs microseconds; the same (state, event) pairs recur
 * endlessly during exploration, so results are memoized per machine. The memo
 * is checked against xstate itself by a property test (test/engine/machine.test.ts).
 */
import { initialTransition, transition, type AnyStateMachine, type EventObject } from 'xstate';
import { DefinitionError } from './define.ts';
import { edgeTaken } from './edges.ts';
import type { Reply } from './model.ts';

/** An object's machine state as plain, immutable data (the reply is not part of it). */
export interface MachineState<X> {
  readonly value: string;
  readonly context: X;
}

export interface Fired<X> {
  readonly state: MachineState<X>;
  readonly reply: Reply;
  /** The machine's edge that fired (see `machineEdges`), -1 when the state has no transition for the event. */
  readonly edge: number;
}

/**
 * How often each edge of each machine fired, by machine and edge index (an
 * edge never fired has none). Transitions a cached step fires again
 * (`refire`) are owed, not counted at once: each recording counts how often
 * it was fired again, and the counts are settled when read. A replayed step
 * then costs one increment, however many transitions it fires.
 */
export class Hits {
  private readonly counts = new Map<AnyStateMachine, number[]>();
  /** Recordings fired again into these hits and not yet added to them. */
  private readonly owed = new Set<FiredEdges>();

  /** The counts of `machine`'s edges, by edge index; undefined when none of them fired. */
  of(machine: AnyStateMachine): readonly number[] | undefined {
    this.settle();
    return this.counts.get(machine);
  }

  /** The machines with an edge fired. */
  machines(): AnyStateMachine[] {
    this.settle();
    return [...this.counts.keys()];
  }

  /** The machine counted last, and its counts: a search fires one machine many times in a row (the benchmark's slot, every step). */
  private lastMachine?: AnyStateMachine;
  private lastCounts: number[] = [];

  /** Counts `n` firings of `machine`'s edge `edge`. */
  add(machine: AnyStateMachine, edge: number, n = 1): void {
    const byEdge = machine === this.lastMachine ? this.lastCounts : this.countsOf(machine);
    byEdge[edge] = (byEdge[edge] ?? 0) + n;
  }

  /** `machine`'s counts, made the last counted. */
  private countsOf(machine: AnyStateMachine): number[] {
    let byEdge = this.counts.get(machine);
    if (!byEdge) this.counts.set(machine, (byEdge = []));
    this.lastMachine = machine;
    this.lastCounts = byEdge;
    return byEdge;
  }

  /** `fired` was fired again once more. */
  owe(fired: FiredEdges): void {
    if (fired.into !== this) {
      fired.into?.pay(fired);
      fired.into = this;
      // Owed recordings are kept alive until settled: settle now and then, so their number stays bounded.
      if (this.owed.size >= OWED) this.settle();
      this.owed.add(fired);
    }
    fired.owed++;
  }

  /** Adds what `fired` is owed to these hits. */
  private pay(fired: FiredEdges): void {
    const { edges, owed } = fired;
    for (let i = 0; i < edges.length; i += 2) this.add(edges[i] as AnyStateMachine, edges[i + 1] as number, owed);
    fired.owed = 0;
    fired.into = undefined;
    this.owed.delete(fired);
  }

  private settle(): void {
    for (const fired of this.owed) this.pay(fired);
  }
}

/** How many recordings a `Hits` keeps owed before it settles them. */
const OWED = 1 << 16;

let counter: Hits | undefined;
/** Each transition fired, in order, while `firing` runs. */
let log: [AnyStateMachine, number][] | undefined;

/** Runs `fn`, counting into `hits` every machine transition it fires (what coverage reports). */
export function counting<T>(hits: Hits, fn: () => T): T {
  const outer = countInto(hits);
  try {
    return fn();
  } finally {
    countInto(outer);
  }
}

/**
 * From now on, counts every machine transition fired into `hits` (none: undefined); the hits counted into before.
 * `counting` without a closure, for a hot path to set and restore around a call.
 */
export function countInto(hits: Hits | undefined): Hits | undefined {
  const outer = counter;
  counter = hits;
  return outer;
}

/** Runs `fn`; the machine transitions it fired, in the order fired (what a page lights up for one step). */
export function firing(fn: () => unknown): [AnyStateMachine, number][] {
  const outer = log;
  const fired: [AnyStateMachine, number][] = [];
  log = fired;
  try {
    fn();
    return fired;
  } finally {
    log = outer;
  }
}

/** Each transition fired while `recording` runs, machine and edge in turn, to be counted again by `refire`. */
let record: (AnyStateMachine | number)[] | undefined;

/** Transitions as `recording` keeps them (each machine, then the edge of it that fired), and what `Hits` owes them. */
export class FiredEdges {
  /** The hits this recording was fired again into, and how often, not yet added to them. */
  into: Hits | undefined;
  owed = 0;

  constructor(readonly edges: readonly (AnyStateMachine | number)[]) {}
}

/** Runs `fn`, counting as ever; and the transitions it fired, in order, for `refire` to count again when its result is reused. */
export function recording<T>(fn: () => T): { result: T; fired: FiredEdges } {
  const outer = record;
  const edges: (AnyStateMachine | number)[] = [];
  record = edges;
  try {
    return { result: fn(), fired: new FiredEdges(edges) };
  } finally {
    record = outer;
  }
}

/** Counts transitions `recording` kept, as firing them again would. */
export function refire(fired: FiredEdges): void {
  if (log === undefined && record === undefined) {
    // Only counting: the hits owe the recording one more firing.
    counter?.owe(fired);
    return;
  }
  const { edges } = fired;
  for (let i = 0; i < edges.length; i += 2) count(edges[i] as AnyStateMachine, edges[i + 1] as number);
}

/** Whether anyone listens for fired transitions: the hot paths skip `count` when nobody does. */
const listened = () => counter !== undefined || log !== undefined || record !== undefined;

function count(machine: AnyStateMachine, edge: number): void {
  if (edge < 0) return;
  record?.push(machine, edge);
  log?.push([machine, edge]);
  counter?.add(machine, edge);
}

/**
 * The action that makes a call succeed with `text` as its reply. A machine's
 * setup defines `reply: assign((_, params: Reply) => ({ reply: params }))`.
 */
export const ok = (text: string) => ({ type: 'reply', params: { ok: true, text } }) as const;
/** The action that makes a call fail with `text` (an errno, false, ...) as its reply. */
export const err = (text: string) => ({ type: 'reply', params: { ok: false, text } }) as const;

/** The reply of an event the machine has no transition for in its state. */
export const UNHANDLED: Reply = { ok: false, text: 'not supported' };

/** Fires `event` with xstate's own `transition()`, no memo. */
export function fireUncached<X extends object>(
  machine: AnyStateMachine,
  from: MachineState<X>,
  event: EventObject,
): Fired<X> {
  const snapshot = machine.resolveState({
    value: from.value,
    context: { ...from.context, reply: UNHANDLED },
  });
  const [next, unrun] = transition(machine, snapshot, event);
  if (unrun.length > 0) throw new DefinitionError(unrunAction(machine, unrun[0]!.type));
  const { reply, ...context } = next.context as X & { reply: Reply };
  if (typeof next.value !== 'string') {
    throw new Error(`machine ${machine.id}: only flat state values are supported`);
  }
  return { state: { value: next.value, context: context as X }, reply, edge: edgeTaken(machine, snapshot, event) };
}

/**
 * xstate's pure `transition()` runs `assign` and evaluates guards, but hands
 * every other action back to its caller instead of running it: a plain
 * function, `log`, `emit`, `sendTo`, a child actor, a delayed event. lifecheck
 * has no actor system to run them in, so a machine that asks for one would
 * silently lose its effect; it is refused instead.
 */
function unrunAction(machine: AnyStateMachine, type: string): string {
  const what = type.startsWith('xstate.')
    ? `asks for ${type}, an effect outside the machine that lifecheck does not perform`
    : `runs action '${type}' as a plain function, which xstate's pure transition() returns instead of running`;
  return `machine '${machine.id}' ${what}; write the effect as assign(...) on the context (and the call's reply with ok()/err())`;
}

/**
 * Refuses what a machine was given (`setup` or `machine.provide`) that pure
 * stepping would ignore: actions that are plain functions (not `assign`),
 * child actors and delays. Guards are evaluated, so they take effect.
 */
export function checkImplementations(machine: AnyStateMachine): void {
  const { actions, actors, delays } = machine.implementations;
  for (const [name, action] of Object.entries(actions)) {
    if (typeof action === 'function' && !('resolve' in action)) throw new DefinitionError(unrunAction(machine, name));
  }
  const refuse = (kind: string, names: string[], instead: string) => {
    if (names.length > 0) {
      throw new DefinitionError(`machine '${machine.id}' is given ${kind} (${names.join(', ')}), which lifecheck does not run; ${instead}`);
    }
  };
  refuse('actors', Object.keys(actors), 'model the other party as a thread that makes calls');
  refuse('delays', Object.keys(delays), 'model a timeout as a step that may happen (a bounded wait)');
}

const memos = new WeakMap<AnyStateMachine, Map<string, Fired<unknown>>>();

/** Fires `event`, memoized on (state value, context, event). */
export function fire<X extends object>(
  machine: AnyStateMachine,
  from: MachineState<X>,
  event: EventObject,
): Fired<X> {
  let memo = memos.get(machine);
  if (!memo) {
    checkImplementations(machine);
    memos.set(machine, (memo = new Map()));
  }
  const key = JSON.stringify([from.value, from.context, event]);
  let fired = memo.get(key) as Fired<X> | undefined;
  if (!fired) memo.set(key, (fired = fireUncached(machine, from, event)));
  if (listened()) count(machine, fired.edge);
  return fired;
}

const initials = new WeakMap<AnyStateMachine, MachineState<object>>();

/** The initial state of a machine as plain data, the caller's own to change. */
export function initialState<X extends object>(machine: AnyStateMachine): MachineState<X> {
  const { value, context } = initial(machine);
  return { value, context: { ...context } as X };
}

/** The state a machine starts in (found once per machine: every allocation of a kind with a lifecycle asks). */
export const initialValue = (machine: AnyStateMachine): string => initial(machine).value;

function initial(machine: AnyStateMachine): MachineState<object> {
  let state = initials.get(machine);
  if (!state) {
    const [snapshot] = initialTransition(machine);
    const { reply: _reply, ...context } = snapshot.context as { reply?: Reply };
    initials.set(machine, (state = { value: String(snapshot.value), context }));
  }
  return state;
}

/** A machine's states numbered 0..size-1, for `compileMachine`. */
export interface StateCode<X> {
  readonly size: number;
  pack(state: MachineState<X>): number;
  unpack(code: number): MachineState<X>;
}

/** A machine as a table: state code × event index → next state code and reply. */
export interface CompiledMachine {
  next(code: number, event: number): number;
  reply(code: number, event: number): Reply;
}

/**
 * Compiles a machine over a fixed list of events into typed-array tables,
 * each cell filled once from xstate's own `transition()`. This is the fast
 * path of models with millions of states; a property test checks it against
 * `fireUncached` (test/engine/machine.test.ts).
 */
export function compileMachine<X extends object>(
  machine: AnyStateMachine,
  events: readonly EventObject[],
  code: StateCode<X>,
): CompiledMachine {
  checkImplementations(machine);
  const next = new Int32Array(code.size * events.length).fill(-1);
  const edges = new Int32Array(next.length);
  const replies = new Array<Reply>(next.length);
  const cell = (c: number, e: number): number => {
    const at = c * events.length + e;
    if (next[at]! < 0) {
      const fired = fireUncached<X>(machine, code.unpack(c), events[e]!);
      next[at] = code.pack(fired.state);
      edges[at] = fired.edge;
      replies[at] = fired.reply;
    }
    return at;
  };
  return {
    next: (c, e) => {
      const at = cell(c, e);
      if (listened()) count(machine, edges[at]!);
      return next[at]!;
    },
    reply: (c, e) => replies[cell(c, e)]!,
  };
}
