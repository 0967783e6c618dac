/**
 * A breadth-first search split into parts that run at once (on worker
 * threads, or as the jobs of a CI matrix), put back together as the one
 * search would have been. Every part searches the same levels up to the
 * first with enough worlds to share (`ExhaustiveOptions.split`), expands
 * every n-th world of it, and everything those lead to. Each world past
 * that level is found by the part whose share its first shortest path
 * goes through, at its true depth, so:
 *
 * - counting each world once (by fingerprint) at the least depth any part
 *   found it gives the one search's states, transitions and depth;
 * - a property's shortest counterexample is the shortest of the parts', and
 *   among those the first in breadth-first order, which is the least path
 *   (step indices compared in turn): the one search's own trace.
 *
 * Parts overlap where their shares lead to the same worlds, so together
 * they store more than the one search, each less.
 */
import type { ExhaustiveCounterexample, ExhaustiveResult, SearchStats } from './exhaustive.ts';
import { findCycle } from './loops.ts';
import { Column, FingerprintMap } from './store.ts';

/** What a part's search gives besides its counterexamples. */
export type SearchFigures = Omit<ExhaustiveResult<unknown>, 'counterexamples'>;

/** Whether path `a` comes before path `b` in breadth-first order: shorter first, then by the first step index that differs. */
function before(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return a.length < b.length;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

/** The counterexample the one search would have given, of the parts' for one property. */
export function firstFound<C extends Pick<ExhaustiveCounterexample<unknown>, 'path'>>(found: readonly (C | undefined)[]): C | undefined {
  let first: C | undefined;
  for (const cx of found) if (cx && (!first || before(cx.path, first.path))) first = cx;
  return first;
}

/** Each world counted once over the parts: its least depth, and the steps it took in a part that expanded it. */
function distinctWorlds(parts: readonly SearchFigures[]): { states: number; transitions: number; depth: number } {
  const index = new FingerprintMap();
  // Each distinct world's least depth, and its steps (-1 until a part that expanded it says how many).
  const depth: number[] = [];
  const steps: number[] = [];
  let states = 0;
  for (const { split } of parts) {
    if (!split) throw new Error('internal: a part of a split search came without its tables');
    for (let i = 0; i < split.hi.length; i++) {
      const at = index.add(split.hi[i]!, split.lo[i]!);
      if (at < 0) {
        depth.push(split.depth[i]!);
        steps.push(split.steps[i]!);
        states++;
      } else {
        depth[at] = Math.min(depth[at]!, split.depth[i]!);
        if (steps[at]! < 0) steps[at] = split.steps[i]!;
      }
    }
  }
  let transitions = 0;
  let deepest = 0;
  for (let i = 0; i < states; i++) {
    transitions += Math.max(0, steps[i]!);
    deepest = Math.max(deepest, depth[i]!);
  }
  return { states, transitions, depth: deepest };
}

/** The parts' figures as the one search's: distinct worlds, the slowest part's time, the memory of all. */
export function mergeFigures(parts: readonly SearchFigures[]): SearchFigures {
  const { states, transitions, depth } = distinctWorlds(parts);
  const elapsedMs = Math.max(...parts.map((p) => p.stats.elapsedMs));
  const held = parts.reduce((n, p) => n + p.stats.bytesPerState * p.stats.states, 0);
  const stats: SearchStats = {
    states,
    transitions,
    depth,
    queued: parts.reduce((n, p) => n + p.stats.queued, 0),
    elapsedMs,
    statesPerSecond: Math.round(states / Math.max(elapsedMs / 1000, 1e-3)),
    peakRssBytes: Math.max(...parts.map((p) => p.stats.peakRssBytes)),
    bytesPerState: Math.round(held / Math.max(states, 1)),
  };
  const stopped = parts.find((p) => !p.complete);
  const undecided = [...new Set(parts.flatMap((p) => p.split?.undecided ?? []))];
  return {
    ...(parts[0]!.symmetry ? { symmetry: parts[0]!.symmetry } : {}),
    stats,
    complete: stopped === undefined,
    ...(stopped?.stoppedBy ? { stoppedBy: stopped.stoppedBy } : {}),
    collisionOdds: Math.min(1, (states * states) / 2 ** 65),
    parts: parts.length,
    ...(undecided.length ? { undecided } : {}),
  };
}

/** A part's counterexample as the merged search's: the states before it are the part's own count, so it says none. */
export function asMerged<C extends { afterStates?: number }>(cx: C): Omit<C, 'afterStates'> {
  const { afterStates: _, ...rest } = cx;
  return rest;
}

/**
 * The parts' results as the one search's: its figures, and for each property the counterexample it would have
 * found. A run property no part broke, but one could not decide (`SplitTables.undecided`), is in `undecided`.
 */
export function mergeSplit<W>(parts: readonly ExhaustiveResult<W>[]): ExhaustiveResult<W> {
  const ids = [...new Set(parts.flatMap((p) => [...p.counterexamples.keys()]))];
  const counterexamples = new Map(ids.map((id) => [id, asMerged(firstFound(parts.map((p) => p.counterexamples.get(id)))!)]));
  const figures = mergeFigures(parts);
  const undecided = figures.undecided?.filter((id) => !counterexamples.has(id));
  const { undecided: _, ...rest } = figures;
  return { ...rest, ...(undecided?.length ? { undecided } : {}), counterexamples };
}

/**
 * The loop the one search would see, from the parts' graphs put together: each world once (by fingerprint), with
 * the steps of a part that expanded it. The steps from the initial world to a cycle and once round it (indices
 * among each world's enabled steps), or null when every run ends; undefined when a part kept no graph.
 */
export function loopAcrossParts(parts: readonly SearchFigures[]): number[] | null | undefined {
  const tables = parts.map((p) => p.split);
  if (tables.some((t) => !t?.edges)) return undefined;
  const index = new FingerprintMap();
  const ownerPart: number[] = [];
  const ownerWorld: number[] = [];
  // Each part's worlds in the common numbering.
  const common = tables.map((t, k) => {
    const map = new Int32Array(t!.hi.length);
    for (let i = 0; i < map.length; i++) {
      let g = index.add(t!.hi[i]!, t!.lo[i]!);
      if (g < 0) {
        g = ownerPart.length;
        ownerPart.push(-1);
        ownerWorld.push(-1);
      }
      map[i] = g;
      if (ownerPart[g]! < 0 && t!.steps[i]! >= 0) [ownerPart[g], ownerWorld[g]] = [k, i];
    }
    return map;
  });
  const n = ownerPart.length;
  const starts = new Column((m) => new Int32Array(m));
  const targets = new Column((m) => new Int32Array(m));
  for (let g = 0; g < n; g++) {
    starts.push(targets.length);
    const k = ownerPart[g]!;
    if (k < 0) continue;
    const { starts: from, targets: to } = tables[k]!.edges!;
    for (let e = from[ownerWorld[g]!]!; e < from[ownerWorld[g]! + 1]!; e++) targets.push(common[k]![to[e]!]!);
  }
  starts.push(targets.length);
  const graph = { states: n, starts, targets };
  const cycle = findCycle(graph);
  return cycle ? [...shortestPath(graph, common[0]![0]!, cycle.states[0]!), ...cycle.steps] : null;
}

/** The steps of a shortest path from world `from` to world `to`, breadth first. */
function shortestPath(graph: { states: number; starts: Column<Int32Array>; targets: Column<Int32Array> }, from: number, to: number): number[] {
  const parent = new Int32Array(graph.states).fill(-2);
  const step = new Int32Array(graph.states);
  parent[from] = -1;
  const queue = [from];
  for (let head = 0; head < queue.length && parent[to] === -2; ) {
    const s = queue[head++]!;
    for (let e = graph.starts.get(s); e < graph.starts.get(s + 1); e++) {
      const t = graph.targets.get(e);
      if (parent[t] !== -2) continue;
      parent[t] = s;
      step[t] = e - graph.starts.get(s);
      queue.push(t);
    }
  }
  const path: number[] = [];
  for (let s = to; parent[s]! >= 0; s = parent[s]!) path.push(step[s]!);
  return path.reverse();
}
