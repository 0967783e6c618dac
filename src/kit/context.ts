/**
 * How an action ends (on, to a label, failed, oopsed, waiting in place), and
 * the context the interpreter runs it in: the world as the step sees it
 * (view.ts), the thread, its frame and the references its pointers hold.
 */
import { DefinitionError } from '../engine/define.ts';
import type { LocalName } from './calls.ts';
import { counted, spaceIds, lockClass, objName, sortedRecord, refsOn, type KitSpec, type KitWorld, type Local, type Ptr, type Thread } from './world.ts';
import type { Layout } from './parts.ts';
import { StepView } from './view.ts';
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

/** A step of thread `t`: the world as it sees it, its thread, its frame and the references its pointers hold. */
export class Ctx extends StepView {
  /** What starting the call found wrong with the ids it was given. */
  stale: string[] = [];
  /** The thread's own copy, changed in place: made at the step's first change, replaced by `thread()`. */
  private draft?: Draft;

  constructor(
    readonly spec: KitSpec,
    bounds: Bounds,
    layout: Layout,
    before: KitWorld,
    readonly t: number,
  ) {
    super(bounds, layout, before);
  }

  get th(): Thread {
    return this.threadAt(this.t);
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
    this.setThread(this.t, f(this.th));
    this.draft = undefined;
  }

  /** Changes this thread in place (its own copy, made at the step's first change): cheaper than a new thread per change. */
  edit(change: (th: Draft) => void): void {
    if (this.draft === undefined) this.setThread(this.t, (this.draft = { ...this.th }));
    change(this.draft);
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
    const edges = new Set(this.lockOrder());
    const warnings = from.flatMap((f) => {
      const back = orderPath(edges, to, f);
      return back ? [`WARNING: possible circular locking dependency detected: ${this.who} takes ${to} while holding ${f}, and ${back} was taken before`] : [];
    });
    const fresh = from.filter((f) => !edges.has(`${f}>${to}`));
    for (const f of fresh) edges.add(`${f}>${to}`);
    if (fresh.length > 0) this.setLockOrder([...edges].sort());
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
