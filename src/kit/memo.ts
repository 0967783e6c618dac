/**
 * What a step does, and which steps a thread may take, are functions of the
 * parts of the world they read (parts.ts), and both read the world only
 * through a `StepView`, which notes each part as it first reads it. A
 * `PartMemo` files such a result under the values of the parts it read, in
 * the order read, and finds it again in any world whose parts the
 * computation would read are the same: a thread's step, or its choices, is
 * the same whatever the other threads are doing.
 *
 * Results are filed in a tree per thread and key: each node names the part
 * read next (which follows from the parts read before it) and goes on by
 * that part's value. Parts are compared by identity: the codec hands back
 * one stored object for equal parts, and a replayed write is the same object
 * every time, so equal parts are mostly the same object (and two equal parts
 * that are not only cost a run). A computation that reads another part where
 * it read this one before, from the same parts, read something its view did
 * not note: that is thrown as the kit's internal error.
 */
import type { Layout } from './parts.ts';
import type { KitWorld } from './world.ts';

/** No value yet (a part's value may be undefined). */
const NONE = Symbol('none');

/** A read of one part: where each of its values leads. The first value met is kept inline: most reads meet one. */
class Read<T> {
  private first: unknown = NONE;
  private firstNext?: Read<T> | Filed<T>;
  private more?: Map<unknown, Read<T> | Filed<T>>;

  constructor(readonly part: number) {}

  get(value: unknown): Read<T> | Filed<T> | undefined {
    return value === this.first ? this.firstNext : this.more?.get(value);
  }

  set(value: unknown, next: Read<T> | Filed<T>): void {
    if (this.first === NONE) {
      this.first = value;
      this.firstNext = next;
    } else (this.more ??= new Map()).set(value, next);
  }
}

/** A result, and the parts read to make it, in the order read: where it is filed. */
export interface Filed<T> {
  readonly reads: readonly number[];
  readonly value: T;
}

/** Per thread, per key: what the computation reads first. */
type Roots<T> = Map<string, Read<T> | Filed<T>>[];

/** What the memos compare a part by: itself, or for the queue and the lock orders (arrays a run rebuilds even when equal), their content. */
export class PartValues {
  /** Numbers for the queued works, which name the queue by its content. */
  private readonly ids = new WeakMap<object, number>();
  private lastId = 0;

  constructor(readonly layout: Layout) {}

  of(n: number, world: KitWorld): unknown {
    const v = this.layout.read[n]!(world);
    if (n === this.layout.queue) return (v as readonly object[]).map((w) => this.idOf(w)).join(',');
    if (n === this.layout.lockOrder) return (v as readonly string[]).join('\n');
    return v;
  }

  private idOf(o: object): number {
    let id = this.ids.get(o);
    if (id === undefined) this.ids.set(o, (id = ++this.lastId));
    return id;
  }
}

/**
 * Results filed by the parts they read. At most `limit` are kept, in two generations of half as many: when the
 * young one is full it becomes the old one, and the old one is dropped; a result met again in the old one is filed
 * in the young one again. So the results in use stay, whatever the search's length.
 */
export class PartMemo<T> {
  private young: Roots<T> = [];
  private old: Roots<T> = [];
  /** How many results the young generation has. */
  private count = 0;

  constructor(
    private readonly values: PartValues,
    private readonly limit: number,
    /** What is filed, for the internal error: `kit step`. */
    private readonly what: string,
  ) {}

  /** The result filed for thread `thread`'s `key` in `world`, if there is one. */
  find(world: KitWorld, thread: number, key: string): Filed<T> | undefined {
    const found = this.lookup(this.young, world, thread, key);
    if (found !== undefined) return found;
    const kept = this.lookup(this.old, world, thread, key);
    if (kept !== undefined) this.file(world, thread, key, kept);
    return kept;
  }

  private lookup(roots: Roots<T>, world: KitWorld, thread: number, key: string): Filed<T> | undefined {
    let at = roots[thread]?.get(key);
    while (at instanceof Read) at = at.get(this.values.of(at.part, world));
    return at;
  }

  /** Files `filed` in the young generation, under the values in `world` of the parts it read, in the order read. */
  file(world: KitWorld, thread: number, key: string, filed: Filed<T>): void {
    if (this.count >= this.limit / 2) {
      this.old = this.young;
      this.young = [];
      this.count = 0;
    }
    this.count++;
    const roots = (this.young[thread] ??= new Map());
    let at: Read<T> | undefined;
    let value: unknown;
    for (const part of filed.reads) {
      const next = at ? at.get(value) : roots.get(key);
      if (next !== undefined && !(next instanceof Read && next.part === part)) this.unstable(key);
      const here = next ?? new Read<T>(part);
      if (next === undefined) (at ? at.set(value, here) : roots.set(key, here));
      at = here;
      value = this.values.of(part, world);
    }
    // The result goes where the lookup found nothing: anything there already was read another way.
    if ((at ? at.get(value) : roots.get(key)) !== undefined) this.unstable(key);
    if (at === undefined) roots.set(key, filed);
    else at.set(value, filed);
  }

  private unstable(key: string): never {
    throw new Error(
      `internal: ${this.what} ${JSON.stringify(key)} read other parts of the world than it did before from the same parts: it read something its view did not note`,
    );
  }
}
