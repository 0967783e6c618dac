/**
 * A world's parts, numbered once per system from its initial world: each
 * object slot, each id's entry, each cursor, lock and rw_semaphore, each
 * thread, the work queue, the lock orders lockdep has seen, the exit flag;
 * and after them, parts of those read alone (each thread's rcu_read_lock
 * nesting, which is all other threads' steps need of it).
 * A step reads and writes the world part by part (context.ts), so what it
 * read and what it changed are known; the step cache (cache.ts) keys on the
 * one and replays the other.
 */
import type { KitWorld } from './world.ts';

/** Where a part is in the world. */
export type Place =
  | { readonly type: 'obj'; readonly kind: string; readonly slot: number }
  | { readonly type: 'entry'; readonly space: string; readonly k: number }
  | { readonly type: 'cursor' | 'lock' | 'rwsem'; readonly name: string }
  | { readonly type: 'thread'; readonly u: number }
  | { readonly type: 'queue' | 'lockOrder' | 'exited' }
  /** A thread's rcu_read_lock nesting: a part of its thread, read alone by other threads' steps (never written alone). */
  | { readonly type: 'rcu'; readonly u: number };

export interface Layout {
  readonly places: readonly Place[];
  /** How many parts make a world, numbered first: the others are parts of them, read alone. */
  readonly stored: number;
  /** Each part's value in a world, by number. */
  readonly read: readonly ((w: KitWorld) => unknown)[];
  /** The number of each part, by where it is. */
  readonly obj: Readonly<Record<string, readonly number[]>>;
  readonly entry: Readonly<Record<string, readonly number[]>>;
  readonly cursor: Readonly<Record<string, number>>;
  readonly lock: Readonly<Record<string, number>>;
  readonly rwsem: Readonly<Record<string, number>>;
  readonly thread: readonly number[];
  readonly queue: number;
  readonly lockOrder: number;
  readonly exited: number;
  readonly rcu: readonly number[];
}

/** The parts of every world shaped as `world` is (the same spec and bounds). */
export function layoutOf(world: KitWorld): Layout {
  const places: Place[] = [];
  const read: ((w: KitWorld) => unknown)[] = [];
  const add = (place: Place, get: (w: KitWorld) => unknown) => {
    read.push(get);
    return places.push(place) - 1;
  };
  const byName = <T, U>(record: Readonly<Record<string, T>>, f: (name: string, v: T) => U): Record<string, U> =>
    Object.fromEntries(Object.entries(record).map(([name, v]) => [name, f(name, v)]));
  const layout = {
    obj: byName(world.objects, (kind, slots) => slots.map((_, slot) => add({ type: 'obj', kind, slot }, (w) => w.objects[kind]![slot]))),
    entry: byName(world.spaces, (space, ids) => ids.map((_, k) => add({ type: 'entry', space, k }, (w) => w.spaces[space]![k]))),
    cursor: byName(world.cursors, (name) => add({ type: 'cursor', name }, (w) => w.cursors[name])),
    lock: byName(world.locks, (name) => add({ type: 'lock', name }, (w) => w.locks[name])),
    rwsem: byName(world.rwsems, (name) => add({ type: 'rwsem', name }, (w) => w.rwsems[name])),
    thread: world.threads.map((_, u) => add({ type: 'thread', u }, (w) => w.threads[u])),
    queue: add({ type: 'queue' }, (w) => w.queue),
    lockOrder: add({ type: 'lockOrder' }, (w) => w.lockOrder),
    exited: add({ type: 'exited' }, (w) => w.exited),
  };
  const stored = places.length;
  const rcu = world.threads.map((_, u) => add({ type: 'rcu', u }, (w) => w.threads[u]!.rcu));
  return { ...layout, stored, rcu, places, read };
}

/**
 * `world` with parts replaced: `writes` holds part numbers and their new
 * values in turn. Each container is copied once, keeping its key order (the
 * codec sees key order), and what no write touched stays the very same data.
 */
export function withWrites(layout: Layout, world: KitWorld, writes: readonly unknown[]): KitWorld {
  if (writes.length === 0) return world;
  const out: { -readonly [K in keyof KitWorld]: KitWorld[K] } = { ...world };
  // A container is copied at its first write: while it is still the world's, it is not this one's to change.
  for (let i = 0; i < writes.length; i += 2) {
    const place = layout.places[writes[i] as number]!;
    const v = writes[i + 1];
    switch (place.type) {
      case 'obj': {
        if (out.objects === world.objects) out.objects = { ...world.objects };
        const objects = out.objects as Record<string, unknown[]>;
        if (objects[place.kind] === world.objects[place.kind]) objects[place.kind] = world.objects[place.kind]!.slice();
        objects[place.kind]![place.slot] = v;
        break;
      }
      case 'entry': {
        if (out.spaces === world.spaces) out.spaces = { ...world.spaces };
        const spaces = out.spaces as Record<string, unknown[]>;
        if (spaces[place.space] === world.spaces[place.space]) spaces[place.space] = world.spaces[place.space]!.slice();
        spaces[place.space]![place.k] = v;
        break;
      }
      case 'cursor':
        if (out.cursors === world.cursors) out.cursors = { ...world.cursors };
        (out.cursors as Record<string, unknown>)[place.name] = v;
        break;
      case 'lock':
        if (out.locks === world.locks) out.locks = { ...world.locks };
        (out.locks as Record<string, unknown>)[place.name] = v;
        break;
      case 'rwsem':
        if (out.rwsems === world.rwsems) out.rwsems = { ...world.rwsems };
        (out.rwsems as Record<string, unknown>)[place.name] = v;
        break;
      case 'thread':
        if (out.threads === world.threads) out.threads = world.threads.slice();
        (out.threads as unknown[])[place.u] = v;
        break;
      case 'queue':
        out.queue = v as KitWorld['queue'];
        break;
      case 'lockOrder':
        out.lockOrder = v as KitWorld['lockOrder'];
        break;
      case 'exited':
        out.exited = v as true;
        break;
      case 'rcu':
        throw new Error('internal: a kit step writes a part of a thread alone');
    }
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
    queue: values[layout.queue] as KitWorld['queue'],
    lockOrder: values[layout.lockOrder] as KitWorld['lockOrder'],
  };
  return values[layout.exited] === true ? { ...world, exited: true } : world;
}
