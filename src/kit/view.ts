/**
 * The world as one step sees it, part by part (an object slot, an id's
 * entry, a lock's owner, a thread: parts.ts), never whole: what the step
 * reads (before writing it) is noted, in order, and what it writes is kept
 * beside the world it was given, which stays as it was. So what the step
 * does is a function of the parts it read: the step cache keys on them, and
 * replays the writes. A part the step changes without reading it (a thread's
 * count of calls, bumped) is an update, a function of whatever the part
 * holds: the step depends on no more of the world, and the cache makes its
 * writes for each value it meets without running it again.
 */
import type { Bounds } from '../engine/model.ts';
import { withWrites, type Layout } from './parts.ts';
import { entryOf, sameObject, type KitWorld, type Obj, type ObjRef, type Rwsem, type Slot, type Handles, type Thread, type View, type Work } from './world.ts';

/** A part a step updated without reading it, and the function of its value it gets. */
export type Update = readonly [part: number, update: (v: unknown) => unknown];

export class StepView implements View {
  /** The parts read, in the order first read (not those read after this step wrote them). */
  readonly reads: number[] = [];
  private readonly seen: Uint8Array;
  private readonly writes = new Map<number, unknown>();
  /** The parts updated (never read), and the function of its value each gets, in the order first updated. */
  private readonly updates = new Map<number, (v: unknown) => unknown>();

  constructor(
    readonly bounds: Bounds,
    private readonly layout: Layout,
    /** The world before the step: never changed, and read only through `part`. */
    private readonly before: KitWorld,
  ) {
    this.seen = new Uint8Array(layout.places.length);
  }

  /** Part `n` as the step has it now: as it wrote it, or as the world had it (noted as read). */
  private part(n: number): unknown {
    if (this.wrote(n)) return this.writes.get(n);
    if (this.seen[n] === 0) {
      this.seen[n] = 1;
      this.reads.push(n);
    }
    return this.was(n);
  }

  /** Part `n` in the world before the step (not noted: the callers note it). */
  private was(n: number): unknown {
    return this.layout.read[n]!(this.before);
  }

  private write(n: number | undefined, v: unknown): void {
    if (n === undefined) throw new Error('internal: a kit step writes a part the world does not have');
    this.updates.delete(n);
    this.writes.set(n, v);
  }

  /** Part `n` becomes `f` of its value, unread: unless the step read or wrote it already, then it is a write. */
  private update(n: number, f: (v: unknown) => unknown): void {
    if (this.seen[n] === 1 || this.writes.has(n)) return this.write(n, f(this.part(n)));
    const g = this.updates.get(n);
    this.updates.set(n, g ? (v) => f(g(v)) : f);
  }

  /** The step reads a part it updated: what it does depends on the part after all, a read and a write as any other. */
  private readUpdated(n: number): void {
    const f = this.updates.get(n)!;
    this.updates.delete(n);
    this.seen[n] = 1;
    this.reads.push(n);
    this.writes.set(n, f(this.was(n)));
  }

  /** Whether the step wrote part `n` (an update it made is read, so a part read alone of it is the written one's). */
  private wrote(n: number): boolean {
    if (this.updates.has(n)) this.readUpdated(n);
    return this.writes.has(n);
  }

  /** What the step wrote: part numbers and values in turn, in the order first written (updates apart: `updated`). */
  changes(): unknown[] {
    const out: unknown[] = [];
    for (const [n, v] of this.writes) out.push(n, v);
    return out;
  }

  /** The parts the step updated without reading them, in the order first updated. */
  updated(): Update[] {
    return [...this.updates];
  }

  /** The world after the step. */
  after(): KitWorld {
    const writes = this.changes();
    for (const [n, f] of this.updates) writes.push(n, f(this.was(n)));
    return withWrites(this.layout, this.before, writes);
  }

  get threadCount(): number {
    return this.layout.thread.length;
  }

  threadAt(u: number): Thread {
    return this.part(this.layout.thread[u]!) as Thread;
  }

  /** Thread `u`'s rcu_read_lock nesting, read alone: a step that waits for readers depends on no more of their threads. */
  rcuOf(u: number): number {
    const n = this.layout.thread[u]!;
    if (this.wrote(n)) return (this.writes.get(n) as Thread).rcu;
    return this.part(this.layout.rcu[u]!) as number;
  }

  setThread(u: number, th: Thread): void {
    this.write(this.layout.thread[u], th);
  }

  callsOf(u: number): number {
    return this.part(this.layout.calls[u]!) as number;
  }

  /** Thread `u` starts one more call: its count goes up, unread (a step that starts a call is the same at any count). */
  countCall(u: number): void {
    this.update(this.layout.calls[u]!, (n) => (n as number) + 1);
  }

  handlesOf(u: number): Handles {
    return this.part(this.layout.handles[u]!) as Handles;
  }

  setHandles(u: number, handles: Handles): void {
    this.write(this.layout.handles[u], handles);
  }

  /** How traces call thread `u`: the kworker is the thread after the CPUs (without reading it). */
  actor(u: number): string {
    return u >= this.bounds.threads ? 'kworker' : `CPU${u}`;
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

  /** The first free slot of a kind, or -1: only whether each slot before it is free is read, and none after it. */
  freeSlot(kind: string): number {
    const slots = this.layout.obj[kind]!;
    for (let slot = 0; slot < slots.length; slot++) if (this.isFree(slots[slot]!, this.layout.objFree[kind]![slot]!)) return slot;
    return -1;
  }

  /** Whether the entry at index `k` of space `name` is free: all that is read of it. */
  entryFree(name: string, k: number): boolean {
    return this.isFree(this.layout.entry[name]![k]!, this.layout.entryFree[name]![k]!);
  }

  /** Whether part `n` is free, as the step has it now: as it wrote it, or read alone as `free`. */
  private isFree(n: number, free: number): boolean {
    if (this.wrote(n)) return this.layout.alone[free - this.layout.stored]!.value(this.writes.get(n)) === 1;
    return this.part(free) === 1;
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

  /** The lock orders lockdep has seen. */
  lockOrder(): readonly string[] {
    return this.part(this.layout.lockOrder) as readonly string[];
  }

  setLockOrder(orders: readonly string[]): void {
    this.write(this.layout.lockOrder, orders);
  }

  /** The objects kfree_rcu freed that wait for readers (`KitWorld.rcuFreed`). */
  rcuFreed(): readonly ObjRef[] {
    return this.part(this.layout.rcuFreed) as readonly ObjRef[];
  }

  /** Sets the objects waiting for readers, kept in the layout's order: the list follows from the objects' states, so it makes no new worlds. */
  setRcuFreed(freed: readonly ObjRef[]): void {
    const at = (o: ObjRef) => this.layout.obj[o.kind]![o.slot]!;
    this.write(this.layout.rcuFreed, [...freed].sort((a, b) => at(a) - at(b)));
  }
}
