/**
 * The search for runs that never end. Breadth-first search stores each world
 * once and cannot tell a step back to an earlier world from a step to a
 * sibling's, so `run-ends` gets a depth-first pass of its own over the same
 * worlds: a step to a world still on the stack closes a cycle, and those
 * steps can repeat for ever (a livelock). Within finite bounds a run that
 * never ends must revisit a world, so no cycle means every run ends.
 */
import type { Codec, Step, System } from '../engine/model.ts';
import { fingerprint, FingerprintSet, Words } from './store.ts';

interface Frame<W> {
  readonly world: W;
  readonly key: string;
  readonly enabled: readonly Step[];
  /** The next of `enabled` to take; the one taken last is `next - 1`. */
  next: number;
}

export interface LoopSearch<W, R> {
  readonly system: System<W>;
  readonly codec: Codec<W>;
  readonly canonical: (world: W) => W;
  /** Asked every so often: a reason to stop (a cap, an interrupt), or undefined to go on. */
  readonly stop: (visited: number) => R | undefined;
  /** Lets the event loop run now and then (see `pauser`). */
  readonly pause: () => Promise<void> | undefined;
  /** Whether worlds are compared under a symmetry (then a cycle's steps fit only the worlds the pass went through). */
  readonly symmetric: boolean;
}

/** A world's 64-bit fingerprint (two 32-bit halves, in a buffer reused for every world): how both searches here tell worlds apart. */
function fingerprinter<W>(codec: Codec<W>): (world: W) => Uint32Array {
  const words = new Words();
  const hash = new Uint32Array(2);
  return (world) => {
    words.clear();
    codec.encode(world, words);
    fingerprint(words.buffer, words.length, hash);
    return hash;
  };
}

/** Memory and time are looked at every this many steps. */
const CHECK_EVERY = 1024;

/**
 * A cycle's steps as indices among the enabled steps of each world from the
 * initial one (the last step returns to a world on the way), `undefined` when
 * there is none, or why the search stopped before it could tell.
 */
export async function findLoop<W, R>(search: LoopSearch<W, R>): Promise<{ choices: number[] } | { stoppedBy: R } | undefined> {
  const { system, canonical } = search;
  const hashOf = fingerprinter(search.codec);
  const visited = new FingerprintSet();
  const onStack = new Set<string>();
  const frames: Frame<W>[] = [];
  // The world's canonical fingerprint as a key; adds it to `visited`, and says whether it was new.
  const visit = (world: W): { key: string; fresh: boolean } => {
    const hash = hashOf(canonical(world));
    return { key: `${hash[0]}:${hash[1]}`, fresh: visited.add(hash[0]!, hash[1]!) };
  };
  const push = (world: W, key: string): void => {
    onStack.add(key);
    frames.push({ world, key, enabled: system.enabled(world), next: 0 });
  };
  push(system.init, visit(system.init).key);
  for (let n = 1; frames.length > 0; n++) {
    if (n % CHECK_EVERY === 0) {
      await search.pause();
      const why = search.stop(visited.size);
      if (why !== undefined) return { stoppedBy: why };
    }
    const top = frames[frames.length - 1]!;
    if (top.next === top.enabled.length) {
      onStack.delete(top.key);
      frames.pop();
      continue;
    }
    const after = system.apply(top.world, top.enabled[top.next++]!).world;
    const { key, fresh } = visit(after);
    if (onStack.has(key)) {
      const cycle = frames.slice(frames.findIndex((f) => f.key === key));
      const stem = search.symmetric ? undefined : await shortestStem(search, new Set(cycle.map((f) => f.key)));
      return { choices: stem ? lasso(stem, cycle) : frames.map((f) => f.next - 1) };
    }
    if (fresh) push(after, key);
  }
  return undefined;
}

/** The stem's steps and the cycle world it ends at, then once round the cycle from there back to it. */
function lasso<W>(stem: { choices: number[]; entry: string }, cycle: readonly Frame<W>[]): number[] {
  const j = cycle.findIndex((f) => f.key === stem.entry);
  const round = [...cycle.slice(j), ...cycle.slice(0, j)].map((f) => f.next - 1);
  return [...stem.choices, ...round];
}

/**
 * The shortest way from the initial world to any world of a cycle, breadth
 * first: the depth-first pass found the cycle at the end of whatever path it
 * took, which can be long; a reader wants the fewest steps into the loop.
 * Undefined when a cap or Ctrl-C stops it (the depth-first path still serves).
 */
async function shortestStem<W, R>(search: LoopSearch<W, R>, cycle: ReadonlySet<string>): Promise<{ choices: number[]; entry: string } | undefined> {
  const { system } = search;
  const hashOf = fingerprinter(search.codec);
  const keyOf = (world: W): string => {
    const hash = hashOf(world);
    return `${hash[0]}:${hash[1]}`;
  };
  const parents = new Map<string, { parent: string | undefined; step: number }>();
  const start = keyOf(system.init);
  parents.set(start, { parent: undefined, step: -1 });
  const pathTo = (key: string): number[] => {
    const path: number[] = [];
    for (let at = parents.get(key)!; at.parent !== undefined; at = parents.get(at.parent)!) path.push(at.step);
    return path.reverse();
  };
  let level: { world: W; key: string }[] = [{ world: system.init, key: start }];
  for (let n = 1; level.length > 0; n++) {
    const next: { world: W; key: string }[] = [];
    for (const { world, key } of level) {
      if (cycle.has(key)) return { choices: pathTo(key), entry: key };
      system.enabled(world).forEach((step, k) => {
        const after = system.apply(world, step).world;
        const afterKey = keyOf(after);
        if (parents.has(afterKey)) return;
        parents.set(afterKey, { parent: key, step: k });
        next.push({ world: after, key: afterKey });
      });
    }
    await search.pause();
    if (search.stop(parents.size) !== undefined) return undefined;
    level = next;
  }
  return undefined;
}
