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
}

/** Memory and time are looked at every this many steps. */
const CHECK_EVERY = 1024;

/**
 * A cycle's steps as indices among the enabled steps of each world from the
 * initial one (the last step returns to a world on the way), `undefined` when
 * there is none, or why the search stopped before it could tell.
 */
export async function findLoop<W, R>(search: LoopSearch<W, R>): Promise<{ choices: number[] } | { stoppedBy: R } | undefined> {
  const { system, codec, canonical } = search;
  const words = new Words();
  const hash = new Uint32Array(2);
  const visited = new FingerprintSet();
  const onStack = new Set<string>();
  const frames: Frame<W>[] = [];
  // The world's canonical fingerprint as a key; adds it to `visited`, and says whether it was new.
  const visit = (world: W): { key: string; fresh: boolean } => {
    words.clear();
    codec.encode(canonical(world), words);
    fingerprint(words.buffer, words.length, hash);
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
    if (onStack.has(key)) return { choices: frames.map((f) => f.next - 1) };
    if (fresh) push(after, key);
  }
  return undefined;
}
