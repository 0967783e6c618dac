/**
 * The stock properties every kit model has. Each follows from what the kit
 * knows (pointers and their protection, counted references, locks, calls'
 * effects), not from the model, and speaks the kernel's language: most are
 * what the kernel itself would print (KASAN, refcount_t, lockdep). A model or
 * a variant turns one off with `off: ['id']` where its design intends otherwise.
 */
import type { Move, Property } from '../engine/model.ts';
import type { Layout } from './parts.ts';
import type { MoveForm, MoveFormOf, WordForm } from './verdicts.ts';
import { WordMap } from './word-map.ts';
import type { KitSpec, KitWorld, Obj, Ptr, Slot, Thread, Work } from './world.ts';
import { objectsWritten } from './cache.ts';
import { blockedOn } from './waits.ts';
import { actor, entryOf, nextStep, objName, refsOn, sameObject, spaceHolds, viewOf, workFrame } from './world.ts';

type KitProperty = Property<KitWorld, KitSpec>;

/** `p`, off where a model's or variant's `off` names it. */
const stock = (p: KitProperty): KitProperty => ({ ...p, applies: (spec: KitSpec) => !(spec.off ?? []).includes(p.id) });

/** A property broken by a step whose reply carries a warning that `matches`. */
function warned(id: string, title: string, matches: RegExp, source: string): KitProperty {
  return stock({ id, kind: 'step', title, source, check: (move: Move<KitWorld>) => move.reply.warnings?.find((w) => matches.test(w)) });
}

/** What a hold is on: an object (kind, slot, generation) and one of its refcount fields. */
type HoldTarget = { readonly kind: string; readonly slot: number; readonly gen: number };

/** Who holds a reference: a thread's local, queued work, an id space's entry, or an object's pointer field. */
type Holder = 'local' | 'queued' | 'entry' | 'link';

/**
 * What a hold visit gets: the target, the field and how many; the holder, by where it is (`holderName` names it):
 * a thread and its local, a queued work's place and name, a space's index and name, a slot, its pointer field and kind.
 */
type HoldVisit = (e: HoldTarget, field: string, n: number, holder: Holder, at: number, via: string, kind?: string) => void;

/** What a thread holds: the counted references of its frame's pointers (thread `t`'s locals). */
function threadHolds(th: Thread, visit: HoldVisit, t: number): void {
  for (const { p, local, field, n } of frameHolds(th.frame)) visit(p, field, n, 'local', t, local);
}

/** What a queued work holds (the `k`th queued): a reference on each field the pointer it was queued with counts. */
function workHolds(w: Work, visit: HoldVisit, k: number): void {
  if (w.ptr.refs) for (const field in w.ptr.refs) if (w.ptr.refs[field]! > 0) visit(w.ptr, field, 1, 'queued', k, w.work);
}

/** What id `k`'s entry holds in space `name`, whose entries hold `holds`: but those dropped on its behalf. */
function entryHolds(s: Slot | undefined, holds: readonly string[], visit: HoldVisit, k: number, name: string): void {
  const e = entryOf(s);
  if (e) for (const field of holds) if (!e.dropped?.includes(field)) visit(e, field, 1, 'entry', k, name);
}

/** What a live object (slot `k` of `kind`) holds through its pointer field `field`: a reference on its target's `holds`. */
function linkHolds(o: Obj, field: string, holds: string, visit: HoldVisit, k: number, kind: string): void {
  const e = o.state === 'live' ? o.links[field] : null;
  if (e) visit(e, holds, 1, 'link', k, field, kind);
}

/**
 * Every counted reference held outside the objects' own counters, once each:
 * thread pointers (`CPU1's obj`), queued work, id-space entries
 * (`objects[0]`), pointer fields of live objects (`hwpt 1->ioas`). Holders
 * come as where they are, not named: naming costs, and counting needs none.
 */
function eachHold(spec: KitSpec, world: KitWorld, visit: HoldVisit): void {
  const plan = holdPlan(spec);
  for (let t = 0; t < world.threads.length; t++) threadHolds(world.threads[t]!, visit, t);
  for (let k = 0; k < world.queue.length; k++) workHolds(world.queue[k]!, visit, k);
  for (const { name, holds } of plan.entries) {
    const entries = world.spaces[name]!;
    for (let k = 0; k < entries.length; k++) entryHolds(entries[k], holds, visit, k, name);
  }
  for (const { kind, field, holds } of plan.pointers) {
    const slots = world.objects[kind]!;
    for (let k = 0; k < slots.length; k++) linkHolds(slots[k]!, field, holds, visit, k, kind);
  }
}

/** A holder's name in messages: `CPU1's obj`, `queued destroy (1)`, `objects[0]`, `hwpt 1->ioas`. */
function holderName(world: KitWorld, holder: Holder, at: number, via: string, kind = ''): string {
  if (holder === 'local') return `${actor(world, at)}'s ${via}`;
  if (holder === 'queued') return `queued ${via} (${at + 1})`;
  if (holder === 'entry') return `${via}[${at}]`;
  return `${objName(kind, at)}->${via}`;
}

const framesHolds = new WeakMap<object, readonly { p: Ptr; local: string; field: string; n: number }[]>();

/** The counted references a frame's pointers hold, found once per frame (frames are shared by the worlds that have them). */
function frameHolds(frame: Thread['frame']): readonly { p: Ptr; local: string; field: string; n: number }[] {
  let holds = framesHolds.get(frame);
  if (!holds) {
    const found: { p: Ptr; local: string; field: string; n: number }[] = [];
    for (const local in frame) {
      const p = frame[local];
      if (p === null || p === undefined || typeof p !== 'object' || !p.refs) continue;
      for (const field in p.refs) if (p.refs[field]! > 0) found.push({ p, local, field, n: p.refs[field]! });
    }
    framesHolds.set(frame, (holds = found));
  }
  return holds;
}

/**
 * The references on `o.field` that someone holds in `world`, by holder: those
 * `eachHold` finds, and `o`'s own counters that hold them. `o` is the object
 * as it is (or, once freed, was): its generation says which object is meant,
 * and its counters are read from it.
 */
export function holders(spec: KitSpec, world: KitWorld, kind: string, slot: number, o: Obj, field: string): Map<string, number> {
  const held = new Map<string, number>();
  const of = { kind, slot, gen: o.gen };
  eachHold(spec, world, (e, f, n, holder, at, via, holderKind) => {
    if (f === field && sameObject(e, of)) held.set(holderName(world, holder, at, via, holderKind), n);
  });
  for (const c of holdPlan(spec).counters) if (c.kind === kind && c.holds === field && o.fields[c.field]! > 0) held.set(c.field, o.fields[c.field]!);
  return held;
}

/**
 * Whether anyone but thread `t`'s own locals holds a reference on `o.field` in `world`: `holders` without the
 * stepping thread's, answered without naming them (a step that frees asks, and mostly nobody else holds one).
 */
function heldByOthers(spec: KitSpec, world: KitWorld, kind: string, slot: number, o: Obj, field: string, t: number): boolean {
  if (heldByCounter(holdPlan(spec), kind, o, field)) return true;
  const of = { kind, slot, gen: o.gen };
  let held = false;
  eachHold(spec, world, (e, f, _, holder, at) => {
    if (f === field && !(holder === 'local' && at === t) && sameObject(e, of)) held = true;
  });
  return held;
}

/** Whether a counter of `o`'s own (a `kind` object) holds references on its `field`. */
function heldByCounter(plan: HoldPlan, kind: string, o: Obj, field: string): boolean {
  for (const c of plan.counters) if (c.kind === kind && c.holds === field && o.fields[c.field]! > 0) return true;
  return false;
}

/** Holders as messages name them: `bufs[0], 2 attached`, or `nobody`. */
export const heldText = (held: ReadonlyMap<string, number>): string => [...held].map(([h, n]) => (n === 1 ? h : `${n} ${h}`)).join(', ') || 'nobody';

/** What holds references in a spec, found once: the refcount fields of each kind, counters and pointer fields that hold them. */
interface HoldPlan {
  readonly refcounts: Readonly<Record<string, readonly string[]>>;
  readonly counters: readonly { readonly kind: string; readonly field: string; readonly holds: string }[];
  /** The id spaces whose entries hold references, and on which fields. */
  readonly entries: readonly { readonly name: string; readonly holds: readonly string[] }[];
  readonly pointers: readonly { readonly kind: string; readonly field: string; readonly holds: string }[];
  /** Where each kind's refcount field's counts start in `counts`, one per slot. */
  readonly countAt: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly counts: Int32Array;
}

const holdPlans = new WeakMap<KitSpec, HoldPlan>();

function holdPlan(spec: KitSpec): HoldPlan {
  let plan = holdPlans.get(spec);
  if (!plan) {
    const fields = Object.entries(spec.kinds).flatMap(([kind, k]) => Object.entries(k.fields).map(([field, f]) => ({ kind, field, f })));
    let size = 0;
    const countAt = Object.fromEntries(
      Object.entries(spec.kinds).map(([kind, k]) => [kind, Object.fromEntries(refcountFields(spec, kind).map((f) => [f, (size += k.slots) - k.slots]))]),
    );
    plan = {
      countAt,
      counts: new Int32Array(size),
      refcounts: Object.fromEntries(Object.keys(spec.kinds).map((kind) => [kind, refcountFields(spec, kind)])),
      entries: Object.entries(spec.spaces).flatMap(([name, space]) => (spaceHolds(space).length ? [{ name, holds: spaceHolds(space) }] : [])),
      counters: fields.flatMap(({ kind, field, f }) => (f.type === 'counter' && f.holds ? [{ kind, field, holds: f.holds }] : [])),
      pointers: fields.flatMap(({ kind, field, f }) => (f.type === 'pointer' && f.holds ? [{ kind, field, holds: f.holds }] : [])),
    };
    holdPlans.set(spec, plan);
  }
  return plan;
}

/**
 * The references held on every object's refcount fields, counted as `holders` counts them but in one pass over
 * the world and without naming anyone: the count of (kind, field) for the object now in `slot` is at
 * `plan.countAt[kind][field] + slot`. The array is the plan's own, reused by the next count.
 */
function heldCounts(plan: HoldPlan, spec: KitSpec, world: KitWorld): Int32Array {
  const counts = plan.counts.fill(0);
  const add = (e: HoldTarget, field: string, n: number) => {
    const at = plan.countAt[e.kind]![field];
    if (at !== undefined && world.objects[e.kind]![e.slot]!.gen === e.gen) counts[at + e.slot]! += n;
  };
  eachHold(spec, world, add);
  // A counter holds references on its own object's field (the object in its slot: no generation to check).
  for (const { kind, field, holds } of plan.counters) {
    const at = plan.countAt[kind]![holds];
    const slots = world.objects[kind]!;
    if (at !== undefined) for (let slot = 0; slot < slots.length; slot++) if (slots[slot]!.fields[field]! > 0) counts[at + slot]! += slots[slot]!.fields[field]!;
  }
  return counts;
}

function refcountsMatch(spec: KitSpec, world: KitWorld): string | undefined {
  const plan = holdPlan(spec);
  const counts = heldCounts(plan, spec, world);
  for (const kind in world.objects) {
    const slots = world.objects[kind]!;
    for (let slot = 0; slot < slots.length; slot++) {
      const o = slots[slot]!;
      if (o.state !== 'live') continue;
      for (const field of plan.refcounts[kind]!) {
        const count = counts[plan.countAt[kind]![field]! + slot]!;
        if (count === o.fields[field]) continue;
        return `${objName(kind, slot, o.gen)}: ${field} is ${o.fields[field]}, but ${count} hold a reference (${heldText(holders(spec, world, kind, slot, o, field))})`;
      }
    }
  }
  return undefined;
}

/**
 * What each part of a world holds, read from its words: found once per part
 * and word (and an object slot, what it is), so a world costs a lookup per
 * part. `value` is what a word stands for.
 */
class HoldsOnWords {
  private readonly plan: HoldPlan;
  /** Every object slot, numbered as `Layout.firstSlot` numbers them: its part, its refcount fields' counts (`HoldPlan.countAt`). */
  readonly slots: readonly { readonly kind: string; readonly slot: number; readonly part: number; readonly fields: readonly number[] }[];
  /** The parts that hold references: threads, the queue, entries of spaces that hold, object slots. */
  readonly holders: readonly number[];
  private readonly threadOf: ReadonlyMap<number, number>;
  private readonly spaceOf: ReadonlyMap<number, readonly string[]>;
  private readonly kindOf: ReadonlyMap<number, { readonly kind: string; readonly slot: number }>;
  private readonly heldBy: WordMap<Int32Array>[];
  private readonly objectBy: WordMap<Int32Array>[];

  constructor(
    spec: KitSpec,
    private readonly layout: Layout,
    private readonly value: (word: number) => unknown,
  ) {
    const plan = (this.plan = holdPlan(spec));
    this.slots = Object.entries(layout.obj).flatMap(([kind, parts]) =>
      parts.map((part, slot) => ({ kind, slot, part, fields: plan.refcounts[kind]!.map((f) => plan.countAt[kind]![f]! + slot) })),
    );
    this.threadOf = new Map(layout.thread.map((part, t) => [part, t]));
    this.spaceOf = new Map(plan.entries.flatMap(({ name, holds }) => layout.entry[name]!.map((part) => [part, holds] as const)));
    this.kindOf = new Map(this.slots.map((o) => [o.part, o]));
    this.holders = [...new Set([...this.threadOf.keys(), layout.queue, ...this.spaceOf.keys(), ...this.kindOf.keys()])];
    this.heldBy = this.holders.map(() => new WordMap<Int32Array>());
    this.objectBy = this.slots.map(() => new WordMap<Int32Array>());
  }

  /**
   * What holder `h` (of `holders`) holds where its word is `word`, as `eachHold` and `heldCounts` find it: each hold
   * as four numbers, the count it adds to, the slot whose generation it must match (-1: none, an object's own
   * counter), that generation, how many.
   */
  held(h: number, word: number): Int32Array {
    let adds = this.heldBy[h]!.get(word);
    if (!adds) this.heldBy[h]!.set(word, (adds = this.holds(this.holders[h]!, this.value(word))));
    return adds;
  }

  /** Slot `k`'s object where its word is `word`: its generation, whether it is live, its refcount fields' values. */
  object(k: number, word: number): Int32Array {
    let o = this.objectBy[k]!.get(word);
    if (!o) {
      const v = this.value(word) as Obj;
      o = Int32Array.from([v.gen, v.state === 'live' ? 1 : 0, ...this.plan.refcounts[this.slots[k]!.kind]!.map((f) => v.fields[f]!)]);
      this.objectBy[k]!.set(word, o);
    }
    return o;
  }

  private holds(n: number, v: unknown): Int32Array {
    const { plan, layout } = this;
    const out: number[] = [];
    const add = (e: HoldTarget, field: string, k: number, matchGen = true) => {
      const at = plan.countAt[e.kind]?.[field];
      if (at !== undefined) out.push(at + e.slot, matchGen ? layout.firstSlot[e.kind]! + e.slot : -1, e.gen, k);
    };
    // Where the holder is does not matter here: what it holds does.
    const visit: HoldVisit = (e, field, k) => add(e, field, k);
    if (this.threadOf.has(n)) threadHolds(v as Thread, visit, 0);
    else if (n === layout.queue) for (const w of v as KitWorld['queue']) workHolds(w, visit, 0);
    else if (this.spaceOf.has(n)) entryHolds(v as Slot, this.spaceOf.get(n)!, visit, 0, '');
    else if (this.kindOf.has(n)) {
      const { kind, slot } = this.kindOf.get(n)!;
      const o = v as Obj;
      for (const p of plan.pointers) if (p.kind === kind) linkHolds(o, p.field, p.holds, visit, slot, kind);
      // A counter holds references on its own object's field, whatever its generation.
      for (const c of plan.counters) if (c.kind === kind && o.fields[c.field]! > 0) add({ kind, slot, gen: o.gen }, c.holds, o.fields[c.field]!, false);
    }
    return Int32Array.from(out);
  }
}

/** `refcountsMatch` read from a world's words: whether it holds. */
function refcountsOnWords(spec: KitSpec, layout: Layout, value: (word: number) => unknown): (words: Int32Array) => boolean {
  const on = new HoldsOnWords(spec, layout, value);
  const { slots } = on;
  const parts = Int32Array.from(slots.map((o) => o.part));
  const holders = Int32Array.from(on.holders);
  const counts = new Int32Array(holdPlan(spec).counts.length);
  const gens = new Int32Array(slots.length);
  const objects: Int32Array[] = [];
  return (words) => {
    for (let k = 0; k < parts.length; k++) gens[k] = (objects[k] = on.object(k, words[parts[k]!]!))[0]!;
    counts.fill(0);
    for (let h = 0; h < holders.length; h++) {
      const adds = on.held(h, words[holders[h]!]!);
      for (let i = 0; i < adds.length; i += 4) if (adds[i + 1]! < 0 || gens[adds[i + 1]!] === adds[i + 2]) counts[adds[i]!]! += adds[i + 3]!;
    }
    for (let k = 0; k < parts.length; k++) {
      const o = objects[k]!;
      if (!o[1]) continue;
      const fields = slots[k]!.fields;
      for (let f = 0; f < fields.length; f++) if (counts[fields[f]!] !== o[2 + f]) return false;
    }
    return true;
  };
}

/**
 * `freedWhileReferenced` read from the words of the world a step was taken in and the step's patch: whether it
 * holds. Only a step that frees an object asks anything, and it asks each holder's part but the stepping thread's
 * (all its holds are its own locals) whether, after the step, it holds a reference on the object freed.
 */
function freedOnWords(spec: KitSpec, layout: Layout, value: (word: number) => unknown): MoveForm {
  const on = new HoldsOnWords(spec, layout, value);
  const plan = holdPlan(spec);
  const after = new Int32Array(layout.stored);
  return (words, done, thread) => {
    const slots = done.slots;
    for (let j = 0; j < slots.length; j += 3) {
      const k = slots[j]!;
      // What the slot held before: the step's own read of it, else read from the words.
      let wasGen = slots[j + 2]!;
      if (wasGen === -2) {
        const was = on.object(k, words[on.slots[k]!.part]!);
        wasGen = was[1] ? was[0]! : -1;
      }
      if (wasGen < 0 || wasGen === slots[j + 1]) continue;
      const { kind, slot, part } = on.slots[k]!;
      const o = value(words[part]!) as Obj;
      after.set(words);
      for (let i = 0; i < done.patch.length; i += 2) after[done.patch[i]!] = done.patch[i + 1]!;
      const own = layout.thread[thread];
      const fields = plan.refcounts[kind]!;
      for (let f = 0; f < fields.length; f++) {
        const field = fields[f]!;
        if (heldByCounter(plan, kind, o, field)) return false;
        const count = plan.countAt[kind]![field]! + slot;
        for (let h = 0; h < on.holders.length; h++) {
          const n = on.holders[h]!;
          if (n === own) continue;
          const adds = on.held(h, after[n]!);
          for (let i = 0; i < adds.length; i += 4) if (adds[i] === count && adds[i + 1]! >= 0 && adds[i + 2] === o.gen) return false;
        }
      }
    }
    return true;
  };
}

function deadlocked(spec: KitSpec, world: KitWorld): string | undefined {
  const t = world.threads.findIndex((th) => th.call !== null);
  // A kworker whose next work cannot even start (its first step waits) is stuck too.
  const worker = world.threads.findIndex((th) => th.worker && th.call === null);
  if (t < 0 && worker >= 0 && world.queue.length > 0) {
    const work = world.queue[0]!.work;
    const next = nextStep(spec, world, { thread: worker, op: work, args: [] });
    return `${actor(world, worker)} waits for ever in ${work}: ${blockedOn(viewOf(world), worker, next.action, workFrame(world.queue[0]!)) ?? next.fn}`;
  }
  if (t < 0) return undefined;
  const th = world.threads[t]!;
  const next = nextStep(spec, world, { thread: t, op: th.call!, args: [] });
  return `${actor(world, t)} waits for ever in ${th.call}: ${blockedOn(viewOf(world), t, next.action) ?? next.fn}`;
}

/** The objects reachable from the id spaces and queued work, and through the pointer fields of what is reachable. */
function reachable(world: KitWorld): Set<string> {
  const key = (e: { kind: string; slot: number; gen: number }) => `${e.kind}/${e.slot}/${e.gen}`;
  const roots = [...Object.values(world.spaces).flatMap((list) => list.flatMap((s) => entryOf(s) ?? [])), ...world.queue.map((w) => w.ptr)];
  const seen = new Set<string>();
  for (const todo = [...roots]; todo.length > 0; ) {
    const e = todo.pop()!;
    if (seen.has(key(e))) continue;
    seen.add(key(e));
    const o = world.objects[e.kind]![e.slot]!;
    if (o.gen === e.gen && o.state === 'live') todo.push(...Object.values(o.links).flatMap((l) => l ?? []));
  }
  return seen;
}

function leaked(spec: KitSpec, world: KitWorld): string | undefined {
  const reached = reachable(world);
  for (const [kind, slots] of Object.entries(world.objects)) {
    for (const [slot, o] of slots.entries()) {
      if (o.state !== 'live' || reached.has(`${kind}/${slot}/${o.gen}`)) continue;
      const held = Object.entries(spec.kinds[kind]!.fields).some(([f, s]) => s.type === 'counter' && s.holds && o.fields[f]! > 0);
      if (held) continue;
      const counts = Object.entries(o.fields).map(([f, n]) => `${f}=${n}`).join(' ');
      return `unreferenced object ${objName(kind, slot, o.gen)} is never freed${counts ? ` (${counts})` : ''}`;
    }
  }
  return undefined;
}

/** The refcount fields of a kind. */
export const refcountFields = (spec: KitSpec, kind: string) => Object.keys(spec.kinds[kind]!.fields).filter((f) => spec.kinds[kind]!.fields[f]!.type === 'refcount');

/** Holders other than thread `t`'s own locals. */
const othersThan = (world: KitWorld, t: number, held: Map<string, number>) => [...held.keys()].filter((h) => !h.startsWith(`${actor(world, t)}'s `));

/** An object freed by the step while someone other than the freeing thread still counts a reference on it. */
function freedWhileReferenced(spec: KitSpec, move: Move<KitWorld>): string | undefined {
  // Most steps leave every object as it was (the very same data), and most that change one do not free it.
  for (const { kind, slot, obj: now } of objectsWritten(move)) {
    const o = move.before.objects[kind]![slot]!;
    if (o.state !== 'live' || (now.gen === o.gen && now.state === 'live')) continue;
    const { step, after } = move;
    for (const field of refcountFields(spec, kind)) {
      if (!heldByOthers(spec, after, kind, slot, o, field, step.thread)) continue;
      const others = othersThan(after, step.thread, holders(spec, after, kind, slot, o, field));
      if (others.length) return `${actor(after, step.thread)} frees ${objName(kind, slot, o.gen)} while ${others.join(', ')} still ${others.length === 1 ? 'holds' : 'hold'} a reference on its ${field}`;
    }
  }
  return undefined;
}

/** A bounded wait for a count to reach 0 that timed out, though nobody but the waiter holds one of its references. */
function spuriousTimeout(spec: KitSpec, { before, step }: Move<KitWorld>): string | undefined {
  if (!step.args.some((a) => typeof a === 'string')) return undefined;
  const th = before.threads[step.thread]!;
  const a = nextStep(spec, before, step).action;
  if (th.call === null || a.op !== 'wait' || a.until !== 'zero') return undefined;
  const p = th.frame[a.ptr];
  if (p === null || p === undefined || typeof p !== 'object') return undefined;
  const o = before.objects[p.kind]![p.slot]!;
  if (spec.kinds[p.kind]!.fields[a.field]?.type !== 'refcount') return undefined;
  const others = othersThan(before, step.thread, holders(spec, before, p.kind, p.slot, o, a.field));
  if (others.length) return undefined;
  return `${actor(before, step.thread)} times out waiting for ${objName(p.kind, p.slot, p.gen)}.${a.field} to reach 0, but nobody else holds a reference on it (it is ${o.fields[a.field]}: a reference leaked)`;
}

const KIT = 'lifecheck kit';

const refcountMatchesHolders = stock({
  id: 'refcount-matches-holders',
  kind: 'invariant',
  title: 'every count equals the references held: pointers, id entries, counters that hold them',
  source: `${KIT}: counted references`,
  check: (world, spec) => refcountsMatch(spec, world),
});

const noFreeWhileReferenced = stock({
  id: 'no-free-while-referenced',
  kind: 'step',
  title: 'no object is freed while another holder still counts a reference on it',
  source: `${KIT}: counted references`,
  check: (move, spec) => freedWhileReferenced(spec, move),
});

/** The stock properties that have a form reading words: invariants, on a world's; step properties, on a step's. */
export const wordForms: ReadonlyMap<Property<KitWorld, never>, WordForm> = new Map([[refcountMatchesHolders as Property<KitWorld, never>, refcountsOnWords]]);
export const moveForms: ReadonlyMap<Property<KitWorld, never>, MoveFormOf> = new Map([[noFreeWhileReferenced as Property<KitWorld, never>, freedOnWords]]);

/** The kit's stock properties, each off where a model's or variant's `off` names it. */
export const stockProperties: readonly KitProperty[] = [
  warned('no-use-after-free', 'no pointer is used after its object was freed', /^BUG: KASAN/, `${KIT}: KASAN slab-use-after-free`),
  warned('no-null-deref', 'no NULL pointer is dereferenced (a lookup that found nothing)', /^BUG: kernel NULL pointer dereference/, `${KIT}: oops`),
  warned(
    'no-use-after-protection',
    'no pointer is used without a reference, an RCU section or a lock keeping it alive',
    /^lifecheck: /,
    `${KIT}: a pointer's protection (reference, RCU, lock)`,
  ),
  warned('no-overwritten-entry', 'no xa_store replaces an entry it did not expect (what the old entry held is lost)', /^xa_store over an entry: /, `${KIT}: xarray`),
  warned('no-type-confusion', 'no object is used as a kind it is not (private data of another type)', /^type confusion: /, `${KIT}: container_of on the wrong type`),
  warned('no-stale-id', 'no call acts on an id its caller got for an object since freed and the id reused', /^stale id: /, `${KIT}: ids reused (seed 001)`),
  warned('no-ref-from-zero', 'no reference is taken on a count of 0', /^refcount_t: addition on 0/, `${KIT}: lib/refcount.c`),
  warned(
    'no-underflow',
    'no count goes below 0, nor to 0 through a put that must not be the last (refcount_dec)',
    /^refcount_t: underflow|^refcount_t: decrement hit 0|goes below 0/,
    `${KIT}: lib/refcount.c`,
  ),
  warned('no-warn', 'no WARN_ON fires', /^WARNING: at /, `${KIT}: WARN_ON`),
  noFreeWhileReferenced,
  stock({
    id: 'no-spurious-timeout',
    kind: 'step',
    title: 'a bounded wait for a count to drain times out only while someone really holds a reference',
    source: `${KIT}: waits`,
    check: (move, spec) => spuriousTimeout(spec, move),
  }),
  warned(
    'locks-released',
    'every lock and RCU section taken is released on every path, and only those',
    /lock held when returning|inside rcu_read_lock|bad unlock balance|outside rcu_read_lock/,
    `${KIT}: lockdep`,
  ),
  warned('failed-call-changes-nothing', 'a call that fails leaves what others can see as it was', /but left changed/, `${KIT}: error paths unwind`),
  warned('lock-order', 'locks are always taken in one order (no ABBA that could deadlock)', /possible circular locking dependency/, `${KIT}: lockdep`),
  refcountMatchesHolders,
  stock({
    id: 'no-deadlock',
    kind: 'final',
    title: 'no thread waits for ever',
    source: `${KIT}: locks and waits`,
    check: (world, spec) => deadlocked(spec, world),
  }),
  stock({
    id: 'nothing-leaked',
    kind: 'final',
    title: 'at the end, every object is freed or still reachable',
    source: `${KIT}: kmemleak`,
    check: (world, spec) => leaked(spec, world),
  }),
];
