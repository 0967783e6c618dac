/**
 * Step properties' verdicts, replayed. A step property is a pure function of
 * its move, and a move the step cache replays is its outcome taken in a
 * world; so the verdicts of a replayed step depend only on the parts of the
 * world the checks read beyond those the step read itself (the outcome is
 * filed under those). The checks run once on worlds that note each part read
 * (`Recorder`), and their verdicts are filed under the words of those parts,
 * in the order read, as the step cache files outcomes: met again, they are a
 * walk of a few words.
 */
import type { Property, Reply, Step as EngineStep, Move, Violation } from '../engine/model.ts';
import { checkMove, LazyMove } from '../engine/run.ts';
import { file, Read } from './filed.ts';
import type { Layout } from './parts.ts';
import type { KitWorld } from './world.ts';

/** A check's verdicts without where they were met: each broken property and its message. */
type Found = readonly (readonly [property: string, message: string])[];

const NONE: readonly Violation[] = Object.freeze([]);

/** How many parts beyond the step's own the checks may read (or a quarter of the world's, if more) for their verdicts to be filed. */
const WIDE = 4;
const NOTHING: Found = Object.freeze([]);

/** What a step did that its verdicts depend on, besides the world: its reply, the parts it read and wrote. */
export interface Done {
  readonly reply: Reply;
  readonly reads: readonly number[];
  /** Part numbers and their new values in turn. */
  readonly writes: readonly unknown[];
  /** The world it makes from `before`. */
  after(before: KitWorld): KitWorld;
}

/** One step's verdicts, by the words of the parts of the world before it that its checks read. */
export class Verdicts {
  private properties?: readonly unknown[];
  private config?: unknown;
  private filed?: Read<Found> | Found;
  /** The parts whose words the step's own reads fix (made at the first check run). */
  private fixed?: Uint8Array;
  /**
   * Set once the checks read much of the world beyond the step's own parts (a free makes the stock properties
   * count every holder): their verdicts are then the world's own, met again too seldom to be worth filing.
   */
  private wide = false;

  constructor(
    private readonly recorder: Recorder,
    private readonly done: Done,
  ) {}

  check<C>(properties: readonly Property<KitWorld, C>[], config: C, before: KitWorld, step: EngineStep, words: Int32Array, at: number): readonly Violation[] {
    if (properties !== this.properties || config !== this.config) {
      // Other properties (one broken is checked no more), or another variant's: verdicts start again.
      this.properties = properties;
      this.config = config;
      this.filed = undefined;
      this.wide = false;
    }
    if (this.wide) return checkMove(properties, config, new LazyMove(before, step, this.done.reply, this.done) as unknown as Move<KitWorld>, at);
    let found = this.filed;
    while (found instanceof Read) found = found.get(words[found.part]!);
    found ??= this.run(properties, config, before, step, words, at);
    return found.length === 0 ? NONE : found.map(([property, message]) => ({ property, at, message }));
  }

  /** Runs the checks on worlds that note what they read, and files the verdicts under those parts' words. */
  private run<C>(properties: readonly Property<KitWorld, C>[], config: C, before: KitWorld, step: EngineStep, words: Int32Array, at: number): Found {
    const layout = this.recorder.layout;
    if (!this.fixed) {
      this.fixed = new Uint8Array(layout.stored);
      for (const n of this.done.reads) if (n < layout.stored) this.fixed[n] = 1;
    }
    const fixed = this.fixed;
    const reads: number[] = [];
    const seen = new Uint8Array(layout.stored);
    const note = (n: number) => {
      if (fixed[n] || seen[n]) return;
      seen[n] = 1;
      reads.push(n);
    };
    // Whether the world has exited shows in its keys (`exited` is there only when true): it is always read.
    note(layout.exited);
    const broken = this.recorder.noting(note, () => checkMove(properties, config, this.recorder.move(before, step, this.done), at));
    const found: Found = broken.length === 0 ? NOTHING : broken.map((v) => [v.property, v.message] as const);
    if (reads.length > Math.max(WIDE, layout.stored / 4)) {
      this.wide = true;
      this.filed = undefined;
      return found;
    }
    this.filed = file(this.filed, reads, (i) => words[reads[i]!]!, found, () => {
      throw new Error(
        `the step properties ${properties.map((p) => p.id).join(', ')} read other parts of the world than they did before from the same parts: a step property must be a pure function of its move (keeping nothing between checks, drawing nothing at random)`,
      );
    });
    return found;
  }
}

/** Where a world's parts are below a key: a part itself, a container of parts by key, or a record of such containers. */
type Below = { readonly part: number } | { readonly parts: ReadonlyMap<string, number> } | { readonly containers: ReadonlyMap<string, ReadonlyMap<string, number>> };

/**
 * Worlds that note each part read (while `noting`): the very worlds, seen
 * through proxies that note a part as it is read and hand it back as it is
 * (a part's insides are read as they are: the part is one word).
 */
export class Recorder {
  private note?: (n: number) => void;
  /** Each top-level key of a world: what is below it. */
  private readonly top: ReadonlyMap<string, Below>;
  /** The world the proxies below were made for, and a proxy for each container met, by the container. */
  private last?: KitWorld;
  private proxies = new Map<object, object>();

  constructor(readonly layout: Layout) {
    const top = new Map<string, Below>();
    layout.places.slice(0, layout.stored).forEach(([a, b, c], n) => {
      const key = String(a);
      if (b === undefined) top.set(key, { part: n });
      else if (c === undefined) {
        const below = (top.get(key) ?? top.set(key, { parts: new Map() }).get(key)!) as { parts: Map<string, number> };
        below.parts.set(String(b), n);
      } else {
        const below = (top.get(key) ?? top.set(key, { containers: new Map() }).get(key)!) as { containers: Map<string, Map<string, number>> };
        const parts = below.containers.get(String(b)) ?? below.containers.set(String(b), new Map()).get(String(b))!;
        parts.set(String(c), n);
      }
    });
    this.top = top;
  }

  /** Runs `fn` with every part read from a recording world noted by `note`. */
  noting<T>(note: (n: number) => void, fn: () => T): T {
    const outer = this.note;
    this.note = note;
    try {
      return fn();
    } finally {
      this.note = outer;
    }
  }

  /** A move that notes what is read of `before` and of the world after `done` in it. */
  move(before: KitWorld, step: EngineStep, done: Done): Move<KitWorld> {
    if (before !== this.last) {
      this.last = before;
      this.proxies = new Map();
    }
    const recorder = this;
    let recordedAfter: KitWorld | undefined;
    return {
      before: this.world(before, undefined),
      step,
      reply: done.reply,
      get after() {
        // A written part's value is the step's: reading it says nothing of the world the step was taken in.
        return (recordedAfter ??= recorder.world(done.after(before), new Set(done.writes.filter((_, i) => i % 2 === 0) as number[])));
      },
    };
  }

  /**
   * `world` noting its parts as read, but those in `written`. A container shared by two worlds (a step leaves
   * all but the containers of what it wrote as they were) has one proxy, so worlds compare as the real ones do.
   */
  private world(world: KitWorld, written: ReadonlySet<number> | undefined): KitWorld {
    return this.proxy(world, this.top, written) as KitWorld;
  }

  /** `target` noting the parts `below` its keys as read (but those `written`), its containers proxies too. */
  private proxy(target: object, below: ReadonlyMap<string, Below>, written: ReadonlySet<number> | undefined): object {
    let proxy = this.proxies.get(target);
    if (!proxy) {
      const get = (t: object, key: string | symbol): unknown => {
        const v = Reflect.get(t, key);
        if (typeof key !== 'string') return v;
        const b = below.get(key);
        if (b === undefined) return v;
        if ('part' in b) {
          if (!written?.has(b.part)) this.note?.(b.part);
          return v;
        }
        return this.proxy(v as object, 'parts' in b ? partsBelow(b.parts) : containersBelow(b.containers), written);
      };
      // A part's value read through its descriptor is read too.
      const getOwnPropertyDescriptor = (t: object, key: string | symbol) => {
        const b = typeof key === 'string' ? below.get(key) : undefined;
        if (b !== undefined && 'part' in b && !written?.has(b.part)) this.note?.(b.part);
        return Reflect.getOwnPropertyDescriptor(t, key);
      };
      this.proxies.set(target, (proxy = new Proxy(target, { get, getOwnPropertyDescriptor })));
    }
    return proxy;
  }
}

const asParts = new WeakMap<ReadonlyMap<string, number>, ReadonlyMap<string, Below>>();
const asContainers = new WeakMap<ReadonlyMap<string, ReadonlyMap<string, number>>, ReadonlyMap<string, Below>>();

/** A container's keys, each a part. */
function partsBelow(parts: ReadonlyMap<string, number>): ReadonlyMap<string, Below> {
  let below = asParts.get(parts);
  if (!below) asParts.set(parts, (below = new Map([...parts].map(([key, part]) => [key, { part }]))));
  return below;
}

/** A record's keys, each a container of parts. */
function containersBelow(containers: ReadonlyMap<string, ReadonlyMap<string, number>>): ReadonlyMap<string, Below> {
  let below = asContainers.get(containers);
  if (!below) asContainers.set(containers, (below = new Map([...containers].map(([key, parts]) => [key, { parts }]))));
  return below;
}
