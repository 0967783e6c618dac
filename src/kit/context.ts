/**
 * How an action ends (on, to a label, failed, oopsed, waiting in place), and
 * the context the interpreter runs it in: the world read and written part by
 * part, the thread, its frame and the references its pointers hold.
 */
import { DefinitionError } from '../engine/define.ts';
import type { LocalName } from './calls.ts';
import { counted, entryOf, sameObject, spaceIds, lockClass, objName, sortedRecord, refsOn, type KitSpec, type KitWorld, type Local, type Obj, type Ptr, type Rwsem, type Slot, type Thread, type View, type Work } from './world.ts';
import { withWrites, type Layout } from './parts.ts';
import type { Bounds } from '../engine/model.ts';

/** How an action ended: on to the next step, to a label, or failed with an errno. */
export type Flow =
  | { readonly to: 'next' }
  | { readonly to: 'label'; readonly label: string }
  | { readonly to: 'fail'; readonly errno: string }
  | { readonly to: 'oops' }
  /** The step waits where it is (a down_write queued behind readers): the thread runs it again later. */
  | { readonly to: 'stay' };

export interface Done {
  readonly text: string;
  readonly flow: Flow;
  readonly warnings?: readonly string[];
}

export const NEXT: Flow = { to: 'next' };

/** A thread as this step changes it, in place. */
export type Draft = { -readonly [K in keyof Thread]: Thread[K] };

/**
 * What a step sees of the world. It reads and writes the world part by part
 * (an object slot, an id's entry, a lock's owner, a thread: parts.ts), never
 * the world whole: what it read (before writing it) is noted, in order, and
 * what it wrote is kept beside the world it was given, which stays as it was.
 * So what the step does is a function of the parts it read: the step cache
 * keys on them, and replays the writes.
 */
export class Ctx implements View {
  /** What starting the call found wrong with the ids it was given. */
  stale: string[] = [];
  /** The parts read, in the order first read (not those read after this step wrote them). */
  readonly reads: number[] = [];
  private readonly seen: Uint8Array;
  private readonly writes = new Map<number, unknown>();
  /** The thread's own copy, changed in place: made at the step's first change, replaced by `thread()`. */
  private draft?: Draft;

  constructor(
    readonly spec: KitSpec,
    readonly bounds: Bounds,
    private readonly layout: Layout,
    /** The world before the step: never changed, and read only through `part`. */
    private readonly before: KitWorld,
    readonly t: number,
  ) {
    this.seen = new Uint8Array(layout.places.length);
  }

  /** Part `n` as the step has it now: as it wrote it, or as the world had it (noted as read). */
  private part(n: number): unknown {
    if (this.writes.has(n)) return this.writes.get(n);
    if (this.seen[n] === 0) {
      this.seen[n] = 1;
      this.reads.push(n);
    }
    return this.layout.read[n]!(this.before);
  }

  private write(n: number | undefined, v: unknown): void {
    if (n === undefined) throw new Error('internal: a kit step writes a part the world does not have');
    this.writes.set(n, v);
  }

  /** What the step wrote: part numbers and values in turn, in the order first written. */
  changes(): unknown[] {
    const out: unknown[] = [];
    for (const [n, v] of this.writes) out.push(n, v);
    return out;
  }

  /** The world after the step. */
  after(): KitWorld {
    return withWrites(this.layout, this.before, this.changes());
  }

  get th(): Thread {
    return this.part(this.layout.thread[this.t]!) as Thread;
  }

  get threadCount(): number {
    return this.layout.thread.length;
  }

  threadAt(u: number): Thread {
    return this.part(this.layout.thread[u]!) as Thread;
  }

  /** How traces call thread `u`: the kworker is the thread after the CPUs (without reading it). */
  actor(u: number): string {
    return u >= this.bounds.threads ? 'kworker' : `CPU${u}`;
  }

  get who(): string {
    return this.actor(this.t);
  }

  /** The first id of space `name`: entries are kept from it. */
  idBase(name: string): number {
    return spaceIds(this.spec, name, this.bounds).min;
  }

  /** Replaces this thread with what `f` makes of it. */
  thread(f: (th: Thread) => Thread): void {
    this.write(this.layout.thread[this.t]!, f(this.th));
    this.draft = undefined;
  }

  /** Changes this thread in place (its own copy, made at the step's first change): cheaper than a new thread per change. */
  edit(change: (th: Draft) => void): void {
    if (this.draft === undefined) this.write(this.layout.thread[this.t]!, (this.draft = { ...this.th }));
    change(this.draft);
  }

  objAt(kind: string, slot: number): Obj {
    return this.part(this.layout.obj[kind]![slot]!) as Obj;
  }

  obj(p: { readonly kind: string; readonly slot: number }): Obj {
    return this.objAt(p.kind, p.slot);
  }

  setObj(p: { readonly kind: string; readonly slot: number }, o: Obj): void {
    this.write(this.layout.obj[p.kind]![p.slot]!, o);
  }

  /** Every slot of a kind. */
  slots(kind: string): Obj[] {
    return this.layout.obj[kind]!.map((n) => this.part(n) as Obj);
  }

  /** The first slot of a kind whose object `test` takes, or -1: the slots after it are not read. */
  findSlot(kind: string, test: (o: Obj) => boolean): number {
    const slots = this.layout.obj[kind]!;
    for (let slot = 0; slot < slots.length; slot++) if (test(this.part(slots[slot]!) as Obj)) return slot;
    return -1;
  }

  /** The entry at index `k` of space `name` (from its first id), undefined outside the space. */
  entry(name: string, k: number): Slot | undefined {
    const n = this.layout.entry[name]![k];
    return n === undefined ? undefined : (this.part(n) as Slot);
  }

  /** How many ids space `name` has. */
  entryCount(name: string): number {
    return this.layout.entry[name]!.length;
  }

  /** The index of the first entry of space `name` from index `from` on that `test` takes, or -1: those after it are not read. */
  findEntry(name: string, test: (s: Slot) => boolean, from = 0): number {
    const entries = this.layout.entry[name]!;
    for (let k = Math.max(from, 0); k < entries.length; k++) if (test(this.part(entries[k]!) as Slot)) return k;
    return -1;
  }

  setEntry(name: string, k: number, slot: Slot): void {
    this.write(this.layout.entry[name]![k]!, slot);
  }

  /** Where in space `name` the entry that maps to `p`'s object is (its index from the first id), or -1. */
  entryIndex(name: string, p: { readonly kind: string; readonly slot: number; readonly gen: number }): number {
    return this.findEntry(name, (s) => sameObject(entryOf(s), p));
  }

  cursor(name: string): number {
    return this.part(this.layout.cursor[name]!) as number;
  }

  setCursor(name: string, at: number): void {
    this.write(this.layout.cursor[name]!, at);
  }

  lockOwner(name: string): number | undefined {
    const n = this.layout.lock[name];
    return n === undefined ? undefined : (this.part(n) as number);
  }

  setLockOwner(name: string, t: number): void {
    this.write(this.layout.lock[name]!, t);
  }

  rwsem(name: string): Rwsem | undefined {
    const n = this.layout.rwsem[name];
    return n === undefined ? undefined : (this.part(n) as Rwsem);
  }

  setRwsem(name: string, sem: Rwsem): void {
    this.write(this.layout.rwsem[name]!, sem);
  }

  queue(): readonly Work[] {
    return this.part(this.layout.queue) as readonly Work[];
  }

  setQueue(queue: readonly Work[]): void {
    this.write(this.layout.queue, queue);
  }

  get exited(): boolean {
    return this.part(this.layout.exited) === true;
  }

  setExited(): void {
    this.write(this.layout.exited, true);
  }

  local(name: LocalName): Local {
    return this.th.frame[name] ?? null;
  }

  /** The local a step reads: a model that reads one no step has set (a typo, a path that skips the lookup) is in error, not a NULL. */
  read(name: LocalName, fn: string): Local {
    if (!(name in this.th.frame)) {
      throw new DefinitionError(`call '${this.th.call}', step '${fn}': '${name}' is read before any step set it; set it first (a lookup, an alloc, a let), or check the name`);
    }
    return this.th.frame[name]!;
  }

  setLocal(name: LocalName, value: Local): void {
    this.edit((th) => {
      th.frame = { ...th.frame, [name]: value };
    });
  }

  effect(what: string, delta: number): void {
    this.edit((th) => {
      const n = (th.effects[what] ?? 0) + delta;
      const { [what]: _, ...rest } = th.effects;
      th.effects = n === 0 ? rest : sortedRecord({ ...rest, [what]: n });
    });
  }

  /** Remembers what pointer field (or phase) `where` held before this call first changed it. */
  linkWas(where: string, was: string): void {
    if (this.th.linksWas?.[where] !== undefined) return;
    this.edit((th) => {
      th.linksWas = sortedRecord({ ...th.linksWas, [where]: was });
    });
  }

  /** An object this call allocated is freed again: what it did to that object no longer shows. */
  forget(name: string): void {
    const mine = (k: string) => k === name || k.startsWith(`${name}.`) || k.startsWith(`${name}->`);
    this.edit((th) => {
      th.effects = Object.fromEntries(Object.entries(th.effects).filter(([k]) => !mine(k)));
      const linksWas = th.linksWas && Object.fromEntries(Object.entries(th.linksWas).filter(([k]) => !mine(k)));
      th.linksWas = linksWas && Object.keys(linksWas).length ? linksWas : undefined;
    });
  }

  /** The pointer in `local` now holds one more reference on `field`. */
  gainRef(local: LocalName, field: string): void {
    const p = this.local(local) as Ptr;
    this.setLocal(local, withRefs(p, { ...p.refs, [field]: refsOn(p, field) + 1 }));
  }

  /**
   * The pointer in `local` gives up one reference on `field`. With none left
   * on any field, what still protects it does (an RCU section, a lock), or
   * else its protection becomes `then`.
   */
  loseRef(local: LocalName, field: string, then: string): void {
    const p = this.local(local) as Ptr;
    const n = refsOn(p, field) - 1;
    const { [field]: _, ...others } = p.refs ?? {};
    const q = withRefs(p, n > 0 ? { ...others, [field]: n } : others);
    // Ownership (its last reference dropped by this thread) outlasts the references it still had besides.
    const still = q.prot === 'own' || q.prot === 'rcu' || q.prot.startsWith('lock:') || q.prot.startsWith('borrow:');
    if (counted(q) || (still && then !== 'own')) return this.setLocal(local, q);
    this.setLocal(local, { ...q, prot: then === 'own' ? then : (this.lockProtecting(q) ?? then) });
  }

  /**
   * A lock this thread holds that keeps `p`'s object alive: the object's own
   * (no destroyer gets past it), or the lock of an id space whose entry still
   * holds the object (an erase needs that lock first).
   */
  lockProtecting(p: Ptr): string | undefined {
    const own = this.th.locks.find((l) => l.startsWith(`${objName(p.kind, p.slot)}.`));
    if (own) return `lock:${own}`;
    for (const [name, s] of Object.entries(this.spec.spaces)) {
      if (!s.lock || !this.th.locks.includes(s.lock)) continue;
      if (this.entryIndex(name, p) >= 0) return `lock:${s.lock}`;
    }
    return undefined;
  }

  /**
   * The thread now holds `lock` (taken while waiting was possible, so not a
   * trylock): lockdep's dependencies from each lock it already holds, and its
   * warning when the new one closes a cycle (the ABBA that can deadlock).
   */
  acquire(lock: string): string[] {
    const held = this.th.locks;
    this.edit((th) => {
      th.locks = [...th.locks, lock];
    });
    // lockdep orders classes: every hwpt's destroy_rwsem is one `hwpt.destroy_rwsem`.
    const to = lockClass(lock);
    const from = [...new Set(held.map(lockClass))].filter((c) => c !== to);
    // Most locks are taken holding none: nothing to order, nothing to warn about.
    if (from.length === 0) return [];
    const edges = new Set(this.part(this.layout.lockOrder) as readonly string[]);
    const warnings = from.flatMap((f) => {
      const back = orderPath(edges, to, f);
      return back ? [`WARNING: possible circular locking dependency detected: ${this.who} takes ${to} while holding ${f}, and ${back} was taken before`] : [];
    });
    const fresh = from.filter((f) => !edges.has(`${f}>${to}`));
    for (const f of fresh) edges.add(`${f}>${to}`);
    if (fresh.length > 0) this.write(this.layout.lockOrder, [...edges].sort());
    return warnings;
  }

  /** Every pointer of this thread matching `which` gets protection `prot`. */
  reprotect(which: (p: Ptr) => boolean, prot: string): void {
    const frame = this.th.frame;
    // Most calls of it change nothing: the frame stays the very same data.
    let changed: Record<LocalName, Local> | undefined;
    for (const k in frame) {
      const v = frame[k]!;
      if (v !== null && typeof v === 'object' && v.prot !== prot && which(v)) (changed ??= { ...frame })[k] = { ...v, prot };
    }
    if (changed) {
      const to = changed;
      this.edit((th) => {
        th.frame = to;
      });
    }
  }
}

/** A chain of recorded orders from `a` to `b` (`a>x>b`), if there is one. */
function orderPath(edges: ReadonlySet<string>, a: string, b: string, seen = new Set<string>()): string | undefined {
  if (edges.has(`${a}>${b}`)) return `${b} while holding ${a}`;
  seen.add(a);
  for (const e of edges) {
    const [from, to] = e.split('>') as [string, string];
    if (from !== a || seen.has(to)) continue;
    const rest = orderPath(edges, to, b, seen);
    if (rest) return rest;
  }
  return undefined;
}

/** `p` holding exactly `refs` (sorted, so equal pointers are equal data; none at all when empty). */
function withRefs(p: Ptr, refs: Readonly<Record<string, number>>): Ptr {
  const { refs: _, ...bare } = p;
  return Object.keys(refs).length ? { ...bare, refs: sortedRecord(refs) } : bare;
}
