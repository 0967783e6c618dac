/**
 * The search for runs that never end, on the graph the breadth-first search
 * stored. Within finite bounds a run that never ends must revisit a world, so
 * there is such a run exactly when the graph of stored worlds and their steps
 * has a cycle (those steps can repeat for ever: a livelock). The graph is
 * peeled of every world from which all runs end (Kahn's algorithm, on
 * successors); what is left has a cycle, found by following steps inside it.
 */
import { Column } from './store.ts';

/** The stored graph: world `s`'s steps are edges `starts[s]` up to `starts[s + 1]`, each to the world `targets` names. */
export interface StateGraph {
  readonly states: number;
  readonly starts: Column<Int32Array>;
  readonly targets: Column<Int32Array>;
}

/** A cycle: its worlds in order, each with the index (among its steps) of the one to the next, back to the first. */
export interface Cycle {
  readonly states: readonly number[];
  readonly steps: readonly number[];
}

/** A cycle of the graph, from its shallowest world (the earliest stored); undefined when every run ends. */
export function findCycle(graph: StateGraph): Cycle | undefined {
  // In one array each: the peeling reads every edge twice.
  const flat = { states: graph.states, starts: graph.starts.toArray(graph.states + 1), targets: graph.targets.toArray() };
  // Most graphs have none: one depth-first pass says so, and only a graph with one is peeled to find it.
  if (!hasCycle(flat)) return undefined;
  const alive = survivors(flat);
  const first = alive.indexOf(1);
  if (first < 0) return undefined;
  // Every survivor has a step to a survivor: walking them must come round.
  const order = new Map<number, number>();
  const walk: number[] = [];
  const steps: number[] = [];
  for (let s = first; !order.has(s); ) {
    order.set(s, walk.length);
    walk.push(s);
    const k = stepInto(flat, s, alive);
    steps.push(k);
    s = flat.targets[flat.starts[s]! + k]!;
  }
  const repeated = flat.targets[flat.starts[walk[walk.length - 1]!]! + steps[steps.length - 1]!]!;
  const from = order.get(repeated)!;
  const states = walk.slice(from);
  const cycleSteps = steps.slice(from);
  // Entered at its shallowest world, which the shortest stem reaches.
  const j = states.indexOf(states.reduce((a, b) => Math.min(a, b)));
  return { states: [...states.slice(j), ...states.slice(0, j)], steps: [...cycleSteps.slice(j), ...cycleSteps.slice(0, j)] };
}

/** A stored graph in flat arrays (`StateGraph`'s columns, each made one array). */
interface FlatGraph {
  readonly states: number;
  readonly starts: Int32Array;
  readonly targets: Int32Array;
}

/** Whether some step leads back to a world on the depth-first path to it (a world still open): then the graph has a cycle. */
function hasCycle({ states: n, starts, targets }: FlatGraph): boolean {
  // 0: not met yet, 1: on the path (open), 2: every world it reaches is done.
  const mark = new Uint8Array(n);
  const path = new Int32Array(n);
  const next = new Int32Array(n);
  for (let root = 0; root < n; root++) {
    if (mark[root] !== 0) continue;
    let top = 0;
    path[0] = root;
    next[0] = starts[root]!;
    mark[root] = 1;
    while (top >= 0) {
      const s = path[top]!;
      const e = next[top]!;
      if (e === starts[s + 1]) {
        mark[s] = 2;
        top--;
        continue;
      }
      next[top] = e + 1;
      const t = targets[e]!;
      if (mark[t] === 1) return true;
      if (mark[t] === 0) {
        mark[t] = 1;
        path[++top] = t;
        next[top] = starts[t]!;
      }
    }
  }
  return false;
}

/** The index among `s`'s steps of its first step to a surviving world. */
function stepInto(graph: FlatGraph, s: number, alive: Uint8Array): number {
  const { starts, targets } = graph;
  for (let e = starts[s]!; e < starts[s + 1]!; e++) if (alive[targets[e]!]) return e - starts[s]!;
  throw new Error(`internal: world ${s} survived the peeling with no step to a survivor`);
}

/** 1 for each world some run from which never ends, 0 for the rest: worlds are peeled once all their steps lead to peeled ones. */
function survivors({ states: n, starts, targets }: FlatGraph): Uint8Array {
  const left = new Int32Array(n);
  // Predecessors, as a compressed table: world t's are `from[into[t], into[t + 1])`.
  const into = new Int32Array(n + 1);
  for (let s = 0; s < n; s++) {
    left[s] = starts[s + 1]! - starts[s]!;
    for (let e = starts[s]!; e < starts[s + 1]!; e++) into[targets[e]! + 1]!++;
  }
  for (let t = 0; t < n; t++) into[t + 1]! += into[t]!;
  const from = new Int32Array(into[n]!);
  const filled = into.slice(0, n);
  for (let s = 0; s < n; s++) for (let e = starts[s]!; e < starts[s + 1]!; e++) from[filled[targets[e]!]!++] = s;
  const done: number[] = [];
  for (let s = 0; s < n; s++) if (left[s] === 0) done.push(s);
  while (done.length > 0) {
    const t = done.pop()!;
    for (let i = into[t]!; i < into[t + 1]!; i++) if (--left[from[i]!]! === 0) done.push(from[i]!);
  }
  const alive = new Uint8Array(n);
  for (let s = 0; s < n; s++) alive[s] = left[s]! > 0 ? 1 : 0;
  return alive;
}
