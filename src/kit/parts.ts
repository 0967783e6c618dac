/**
 * A world's parts, numbered once per system from its initial world: each
 * object slot, each id's entry, each cursor, lock and rw_semaphore, each
 * thread, the calls each started and the ids they returned, the work queue, the lock orders lockdep has seen, the objects
 * waiting for RCU readers, the exit flag;
 * and after them, parts of those read alone, a number each: all some steps
 * need of a part, so that what they do depends on no more of it (each
 * thread's rcu_read_lock nesting, which is all other threads' steps need of
 * it; whether an object slot or an id is free, all an allocation needs of
 * it). A part is known by its place, the keys that lead to it from the world.
 * A step reads and writes the world part by part (context.ts), so what it
 * read and what it changed are known; the step cache (cache.ts) keys on the
 * one and replays the other.
 */
import type { KitWorld, Obj, Thread } from './world.ts';

/** Where a part is in the world: the world's field, and the keys below it (`['objects', 'hwpt', 0]`). */
export type Place = readonly (string | number)[];

export interface Layout {
  readonly places: readonly Place[];
  /** How many parts make a world, numbered first: the others are parts of them, read alone. */
  readonly stored: number;
  /** Each part's value in a world, by number. */
  readonly read: readonly ((w: KitWorld) => unknown)[];
  /** The number of each part, by where it is. */
  readonly obj: Readonly<Record<string, readonly number[]>>;
  /** Each kind's first slot's number among all object slots, kinds in `obj`'s order and slots in turn. */
  readonly firstSlot: Readonly<Record<string, number>>;
  readonly entry: Readonly<Record<string, readonly number[]>>;
  readonly cursor: Readonly<Record<string, number>>;
  readonly lock: Readonly<Record<string, number>>;
  readonly rwsem: Readonly<Record<string, number>>;
  readonly thread: readonly number[];
  readonly calls: readonly number[];
  readonly handles: readonly number[];
  readonly queue: number;
  readonly lockOrder: number;
  readonly rcuFreed: number;
  readonly exited: number;
  /** The parts read alone, from `stored` on: the stored part each is of, and the number it reads there (its word). */
  readonly alone: readonly Alone[];
  /** Each thread's rcu_read_lock nesting, read alone (all other threads' steps need of it). */
  readonly rcu: readonly number[];
  /** Whether each object slot is free (1) or not (0), read alone (all an allocation needs of it). */
  readonly objFree: Readonly<Record<string, readonly number[]>>;
  /** Whether each id's entry is free (1) or not (0), read alone (all an id's allocation needs of it). */
  readonly entryFree: Readonly<Record<string, readonly number[]>>;
}

/** A part read alone: a number part `of` holds. */
export interface Alone {
  readonly of: number;
  readonly value: (whole: unknown) => number;
}

/**
 * How a part's word is read from a world's words (`value` gives a stored
 * part by its word): its own, or for a part read alone, its number, read
 * from the part it is of.
 */
export function wordReader(layout: Layout, value: (word: number) => unknown): (n: number, words: Int32Array) => number {
  const { stored, alone } = layout;
  return (n, words) => {
    if (n < stored) return words[n]!;
    const a = alone[n - stored]!;
    return a.value(value(words[a.of]!));
  };
}

/** What container `x` holds at `key`. */
const at = (x: unknown, key: string | number): unknown => (x as Record<string | number, unknown>)[key];

/** How the part at `place` is read: one closure per part, made once (the cache calls them at every lookup). */
function reader([a, b, c]: Place): (w: KitWorld) => unknown {
  if (b === undefined) return (w) => at(w, a!);
  if (c === undefined) return (w) => at(at(w, a!), b);
  return (w) => at(at(at(w, a!), b), c);
}

/** The parts of every world shaped as `world` is (the same spec and bounds). */
export function layoutOf(world: KitWorld): Layout {
  const places: Place[] = [];
  const read: ((w: KitWorld) => unknown)[] = [];
  const add = (...place: Place) => {
    read.push(reader(place));
    return places.push(place) - 1;
  };
  const byName = <T, U>(record: Readonly<Record<string, T>>, f: (name: string, v: T) => U): Record<string, U> =>
    Object.fromEntries(Object.entries(record).map(([name, v]) => [name, f(name, v)]));
  const layout = {
    obj: byName(world.objects, (kind, slots) => slots.map((_, slot) => add('objects', kind, slot))),
    entry: byName(world.spaces, (space, ids) => ids.map((_, k) => add('spaces', space, k))),
    cursor: byName(world.cursors, (name) => add('cursors', name)),
    lock: byName(world.locks, (name) => add('locks', name)),
    rwsem: byName(world.rwsems, (name) => add('rwsems', name)),
    thread: world.threads.map((_, u) => add('threads', u)),
    calls: world.calls.map((_, u) => add('calls', u)),
    handles: world.handles.map((_, u) => add('handles', u)),
    queue: add('queue'),
    lockOrder: add('lockOrder'),
    rcuFreed: add('rcuFreed'),
    exited: add('exited'),
  };
  const stored = places.length;
  const alone: Alone[] = [];
  const addAlone = (of: number, name: string, value: (whole: unknown) => number) => {
    const whole = read[of]!;
    alone.push({ of, value });
    read.push((w) => value(whole(w)));
    return places.push([...places[of]!, name]) - 1;
  };
  const rcu = layout.thread.map((n) => addAlone(n, 'rcu', (th) => (th as Thread).rcu));
  const objFree = byName(layout.obj, (_, slots) => slots.map((n) => addAlone(n, 'free', (o) => ((o as Obj).state === 'free' ? 1 : 0))));
  const entryFree = byName(layout.entry, (_, ids) => ids.map((n) => addAlone(n, 'free', (e) => (e === null ? 1 : 0))));
  let slots = 0;
  const firstSlot = byName(layout.obj, (_, parts) => (slots += parts.length) - parts.length);
  return { ...layout, firstSlot, stored, alone, rcu, objFree, entryFree, places, read };
}

/**
 * `world` with parts replaced: `writes` holds part numbers and their new
 * values in turn. Each container on a part's way is copied at its first
 * write (while it is still the world's, it is not this one's to change),
 * keeping its key order (the codec sees key order); what no write touched
 * stays the very same data.
 */
export function withWrites(layout: Layout, world: KitWorld, writes: readonly unknown[]): KitWorld {
  if (writes.length === 0) return world;
  const out = { ...world };
  for (let i = 0; i < writes.length; i += 2) {
    const place = layout.places[writes[i] as number]!;
    let into = out as Record<string | number, unknown>;
    let from: unknown = world;
    for (let d = 0; d < place.length - 1; d++) {
      const key = place[d]!;
      const was = at(from, key);
      if (into[key] === was) into[key] = Array.isArray(was) ? was.slice() : { ...(was as object) };
      into = into[key] as Record<string | number, unknown>;
      from = was;
    }
    into[place[place.length - 1]!] = writes[i + 1];
  }
  return out;
}

/** The world whose parts are `values`, by part number (a world's shape, key order included, as `initialWorld` makes it). */
export function fromParts(layout: Layout, values: readonly unknown[]): KitWorld {
  const each = <T>(record: Readonly<Record<string, number>>) => {
    const out: Record<string, T> = {};
    for (const name in record) out[name] = values[record[name]!] as T;
    return out;
  };
  // The parts are the codec's, frozen; so are the arrays of a kind's slots and a space's entries, as the codec stored
  // them before: a model that writes into an object or an entry of a world it was given fails at the write.
  const arrays = <T>(record: Readonly<Record<string, readonly number[]>>) => {
    const out: Record<string, readonly T[]> = {};
    for (const name in record) out[name] = Object.freeze(record[name]!.map((n) => values[n] as T));
    return out;
  };
  const world: KitWorld = {
    objects: arrays(layout.obj),
    spaces: arrays(layout.entry),
    cursors: each(layout.cursor),
    locks: each(layout.lock),
    rwsems: each(layout.rwsem),
    threads: layout.thread.map((n) => values[n] as KitWorld['threads'][number]),
    calls: layout.calls.map((n) => values[n] as number),
    handles: layout.handles.map((n) => values[n] as KitWorld['handles'][number]),
    queue: values[layout.queue] as KitWorld['queue'],
    lockOrder: values[layout.lockOrder] as KitWorld['lockOrder'],
    rcuFreed: values[layout.rcuFreed] as KitWorld['rcuFreed'],
  };
  return values[layout.exited] === true ? { ...world, exited: true } : world;
}
