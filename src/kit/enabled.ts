/**
 * The steps enabled in a world, found from its words. Which steps a thread
 * may take depends on its own part (the call it is in, where, how many calls
 * it made) and on the parts its next step waits on (a lock's owner, an
 * rw_semaphore, other threads' RCU nesting, the field a wait reads, the work
 * queue for a kworker). So a thread's steps are found once, through a view
 * of the words that notes each part read, and filed under those parts' words
 * as the step cache files outcomes: a world met with threads as they were
 * before is a walk of a word or two per thread, and no world is made.
 */
import type { Step } from '../engine/model.ts';
import { file, Read } from './filed.ts';
import { wordReader, type Layout } from './parts.ts';
import type { Obj, Rwsem, Thread, View, Work } from './world.ts';

type Filed = Read<readonly Step[]> | readonly Step[];

const NONE: readonly Step[] = Object.freeze([]);

export class EnabledOnWords {
  /** Per group of steps (`stepsOf`), the steps by the words of the parts finding them read. */
  private readonly filed: (Filed | undefined)[];
  private readonly wordOf: (n: number, words: Int32Array) => number;

  constructor(
    private readonly layout: Layout,
    /** A stored part's value by its word (the system codec's parts). */
    private readonly value: (word: number) => unknown,
    /** How many CPUs the bounds have (the thread after them is the kworker). */
    private readonly cpus: number,
    /** How many groups the steps come in (a thread's, the exit's), in the order `System.enabled` lists them. */
    groups: number,
    /** Group `k`'s steps enabled in the world `view` shows. */
    private readonly stepsOf: (view: View, k: number) => Step[],
  ) {
    this.filed = Array.from({ length: groups });
    this.wordOf = wordReader(layout, value);
  }

  /**
   * The steps enabled in the world whose words are `words`, as `System.enabled` gives them: the one group's list
   * where one group has steps, else `all`, filled again (a list made per world would be garbage).
   */
  steps(words: Int32Array): readonly Step[] {
    let first: readonly Step[] = NONE;
    let n = -1;
    const all = this.all;
    for (let k = 0; k < this.filed.length; k++) {
      const found = this.find(k, words) ?? this.record(k, words);
      if (found.length === 0) continue;
      if (first.length === 0) first = found;
      else {
        if (n < 0) for (n = 0; n < first.length; n++) all[n] = first[n]!;
        for (let i = 0; i < found.length; i++) all[n++] = found[i]!;
      }
    }
    if (n < 0) return first;
    // Cut to length, never emptied: V8 frees an emptied list's room, and the next world's would be made again.
    if (all.length > n) all.length = n;
    return all;
  }

  /** The list `steps` gives where more than one group has steps, written over in place. */
  private readonly all: Step[] = [];

  /** Group `k`'s steps filed for these words, if there are some. */
  private find(k: number, words: Int32Array): readonly Step[] | undefined {
    const stored = this.layout.stored;
    let at = this.filed[k];
    // A stored part's word is read in place: most reads are of those.
    while (at instanceof Read) at = at.get(at.part < stored ? words[at.part]! : this.wordOf(at.part, words));
    return at;
  }

  /** Finds group `k`'s steps on a view of the words, and files them under the words of the parts it read. */
  private record(k: number, words: Int32Array): readonly Step[] {
    const view = new WordView(this.cpus, this.layout, (n) => (n < this.layout.stored ? this.value(words[n]!) : this.wordOf(n, words)));
    const found = Object.freeze(this.stepsOf(view, k));
    const { reads } = view;
    this.filed[k] = file(this.filed[k], reads, (i) => this.wordOf(reads[i]!, words), found, () => {
      throw new Error(`internal: finding the steps enabled read other parts of the world than it did before from the same parts`);
    });
    return found;
  }
}

/** A world's parts as a `View` (`valueOf` gives each), noting each part read, in the order first read. */
class WordView implements View {
  readonly reads: number[] = [];

  constructor(
    private readonly cpus: number,
    private readonly layout: Layout,
    private readonly valueOf: (n: number) => unknown,
  ) {}

  private part(n: number): unknown {
    if (!this.reads.includes(n)) this.reads.push(n);
    return this.valueOf(n);
  }

  get threadCount(): number {
    return this.layout.thread.length;
  }

  threadAt(u: number): Thread {
    return this.part(this.layout.thread[u]!) as Thread;
  }

  callsOf(u: number): number {
    return this.part(this.layout.calls[u]!) as number;
  }

  rcuOf(u: number): number {
    return this.part(this.layout.rcu[u]!) as number;
  }

  lockOwner(name: string): number | undefined {
    const n = this.layout.lock[name];
    return n === undefined ? undefined : (this.part(n) as number);
  }

  rwsem(name: string): Rwsem | undefined {
    const n = this.layout.rwsem[name];
    return n === undefined ? undefined : (this.part(n) as Rwsem);
  }

  objAt(kind: string, slot: number): Obj {
    return this.part(this.layout.obj[kind]![slot]!) as Obj;
  }

  actor(u: number): string {
    return u >= this.cpus ? 'kworker' : `CPU${u}`;
  }

  queue(): readonly Work[] {
    return this.part(this.layout.queue) as readonly Work[];
  }

  get exited(): boolean {
    return this.part(this.layout.exited) === true;
  }
}
