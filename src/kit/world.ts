/**
 * The kit's world: plain data. Each kind's object slots (generation, state,
 * fields), each id space's entries, the locks' and rw_semaphores' holders,
 * queued work, the lock orders lockdep has seen, and per thread the call it
 * is in (program counter, frame of locals, the errno it will return, what it
 * holds, the net effects of the call so far, the ids it kept).
 */
import type { AnyStateMachine } from 'xstate';
import { DefinitionError } from '../engine/define.ts';
import type { Bounds, Step as EngineStep } from '../engine/model.ts';
import type { Action, Call, LocalName, Step } from './calls.ts';
/** A field of an object kind: a `refcount_t`, or a counter (which may hold references on a refcount field). */
export type FieldSpec =
  /**
   * `init`: the count a new object starts with, its creator holding those references (1 for a kind's first refcount,
   * 0 for others, by default). A kind's first refcount is its lifetime count: whoever drops it to 0 owns the object.
   */
  | { readonly type: 'refcount'; readonly max: number; readonly init?: number }
  | { readonly type: 'counter'; readonly max: number; readonly holds?: string }
  /** A pointer to an object of `kind` (or one of several kinds: a device's hwpt, paging or nested); with `holds`, it counts as a reference on that refcount of its target. */
  | { readonly type: 'pointer'; readonly kind: string | readonly string[]; readonly holds?: string }
  /** A lock in the object (`obj->destroy_rwsem`, `dev->lock`): each object has its own. */
  | { readonly type: 'mutex' | 'rwsem' };

/**
 * A record with its keys sorted: a thread's records (effects, kept ids, links
 * it changed) are built in the order a call touched things, and equal worlds
 * must be equal data for the search to store them once.
 */
export function sortedRecord<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  // Mostly it is sorted already (a key changed in place, or added last in order): then it is its own answer.
  let last: string | undefined;
  for (const k in record) {
    if (last !== undefined && !(last < k)) return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    last = k;
  }
  return record as Record<string, T>;
}

/** A kind's fields that hold numbers (refcounts, counters), and those that hold pointers. */
export const numberFields = (k: KindSpec) => Object.keys(k.fields).filter((f) => k.fields[f]!.type === 'refcount' || k.fields[f]!.type === 'counter');
export const pointerFields = (k: KindSpec) => Object.keys(k.fields).filter((f) => k.fields[f]!.type === 'pointer');

/** An object kind: how many may exist at once, its declared fields, and its lifecycle. */
export interface KindSpec {
  /** How many objects of the kind may exist at once: memory the allocator can hand out. */
  readonly slots: number;
  readonly fields: Readonly<Record<string, FieldSpec>>;
  /**
   * The lifecycle of one object as an xstate machine (`setup(...).createMachine`, replies by `ok()`/`err()`): its
   * state is the object's phase, from its initial state at allocation; a `send` step fires one of its events, and a
   * reply that is not ok fails the step with the reply's text as errno. Its context is not kept: fields are the object's.
   */
  readonly machine?: AnyStateMachine;
  /** The kernel function behind each of its machine's events (`FREE: 'ioasid_free'`), as coverage names them. */
  readonly events?: Readonly<Record<string, string>>;
}

/** An id space (xarray, IDA): what it maps ids to, how it allocates, what reference it holds, its lock. */
export interface SpaceSpec {
  /** The kind (or kinds: iommufd's one xarray of ioas, hwpt, device, access) the space maps ids to. */
  readonly kind: string | readonly string[];
  /** `lowest` (xa_alloc, ida_alloc) or `cyclic` (xa_alloc_cyclic): which free id an allocation takes. */
  readonly alloc?: 'lowest' | 'cyclic';
  /** The refcount field(s) each entry holds a reference on (the table's own reference, a bias), if any. */
  readonly holds?: string | readonly string[];
  /** The lock that keeps an entry's object alive while held (lookups under it are protected by it). */
  readonly lock?: string;
  /** The ids it maps, when not the scenario's (`--ids`): a host's PASID space, wider than the guest's it serves. */
  readonly ids?: (bounds: Bounds) => { readonly min: number; readonly max: number };
}

/** The ids space `name` maps: its own, or the scenario's. */
export const spaceIds = (spec: KitSpec, name: string, bounds: Bounds) => spec.spaces[name]?.ids?.(bounds) ?? bounds.ids;

/** A design in the kit: object kinds, id spaces, locks, calls and deferred work, stock properties off, roles. */
export interface KitSpec {
  readonly kinds: Readonly<Record<string, KindSpec>>;
  readonly spaces: Readonly<Record<string, SpaceSpec>>;
  /** Mutexes (and spinlocks: the same rules for a model) by name. */
  readonly locks?: readonly string[];
  /** rw_semaphores by name. */
  readonly rwsems?: readonly string[];
  readonly calls: Readonly<Record<string, Call>>;
  /** Deferred work (a work item's function, task_work, an RCU callback): calls the kworker runs once queued. */
  readonly works?: Readonly<Record<string, Call>>;
  /**
   * What exists before the scenario, made by a call that runs once, alone, before any step: an open file
   * (`open("/dev/iommu")`), a registered driver. A setup step that warns, fails or waits is the model's error.
   */
  readonly setup?: Call;
  /**
   * What the last CPU runs once every thread has made all its calls and no work is queued: a process's exit,
   * closing its files (`fput` and, for the last reference, `release`). Nothing else runs beside it.
   */
  readonly exit?: Call;
  /**
   * What `current` gives thread t's calls (`current->mm`, the task's ioasid_set): locals set before each call's first
   * step, each the object an id space maps the id to once the setup has run (NULL when it maps none, or for `null`).
   * The task keeps its object: freed later, it is a stale pointer its calls still pass (a use after free), not NULL.
   */
  readonly current?: (thread: number, threads: number) => Readonly<Record<LocalName, { readonly space: string; readonly id: number } | null>>;
  /** Stock properties this design turns off, by id, where it intends otherwise. */
  readonly off?: readonly string[];
  /**
   * Who calls what: thread t makes only the calls of `roles[t % roles.length]`
   * (a driver that only binds, a CPU that only looks up); every call by default.
   */
  readonly roles?: readonly (readonly string[])[];
}

/** A pointer in a frame: the object it points to (kind, slot, generation) and what keeps it alive. */
export interface Ptr {
  readonly kind: string;
  readonly slot: number;
  readonly gen: number;
  /**
   * What keeps it alive besides counted references: `rcu`, `lock:NAME`, `own`
   * (it was created, or its last reference dropped, by this thread), `current` (the task's own, as `current->mm`),
   * `borrow:LOCAL->FIELD`, `none`, or `ended:WHY` once that protection is gone.
   */
  readonly prot: string;
  /** The counted references it holds, by refcount field (`{ users: 1, shortterm_users: 1 }`). */
  readonly refs?: Readonly<Record<string, number>>;
}

/** A call's local: an id, a pointer, or NULL. */
export type Local = number | Ptr | null;

/** The counted references a pointer holds on `field`. */
export const refsOn = (p: Ptr, field: string): number => p.refs?.[field] ?? 0;

/** Whether the pointer holds any counted reference. */
export const counted = (p: Ptr): boolean => p.refs !== undefined && Object.keys(p.refs).length > 0;

/** An object slot: its generation, whether it is live, freed or waiting for RCU readers, and its fields. */
export interface Obj {
  /** Bumped at each allocation of the slot: a pointer to an older generation is stale. */
  readonly gen: number;
  /** `free`, `live`, or `rcu` (freed by kfree_rcu, waiting for `readers` to leave their sections). */
  readonly state: 'free' | 'live' | 'rcu';
  readonly fields: Readonly<Record<string, number>>;
  /** Its lifecycle machine's state, for a kind that has one. */
  readonly phase?: string;
  /** Its pointer fields: the object each points to, or null. */
  readonly links: Readonly<Record<string, Entry | null>>;
  readonly readers: readonly number[];
}

/** An id's entry: the object it maps to. */
export interface Entry {
  readonly kind: string;
  readonly slot: number;
  readonly gen: number;
  /** In a space's entry, the references it holds that were dropped on its behalf (`refcount_dec_if_one` before the erase). */
  readonly dropped?: readonly string[];
}

/** What an id holds: an entry, a reservation that loads see as NULL, or nothing. */
export type Slot = Entry | 'reserved' | null;

/** The object an id maps to, if it maps to one. */
export const entryOf = (s: Slot | undefined): Entry | undefined => (s && s !== 'reserved' ? s : undefined);

/** An object slot: its kind and its slot. */
export interface ObjRef {
  readonly kind: string;
  readonly slot: number;
}

/** The identity of an object: kind, slot and generation (a pointer, an entry, a link), whatever else each carries. */
type Identity = { readonly kind: string; readonly slot: number; readonly gen: number };

/** Whether `a` names the same object as `b` (not merely the same memory: the generation counts). */
export const sameObject = (a: Identity | null | undefined, b: Identity): boolean =>
  a !== null && a !== undefined && a.kind === b.kind && a.slot === b.slot && a.gen === b.gen;

/** Where in space `name` the entry that maps to `p`'s object is (its index from the first id), or -1. */
export const entryIndex = (world: KitWorld, name: string, p: Identity): number => world.spaces[name]!.findIndex((s) => sameObject(entryOf(s), p));

/** A thread: the call it is in and where, its locals, what it holds, and what its call changed. */
export interface Thread {
  /** The call it is in, or null between calls. */
  readonly call: string | null;
  readonly pc: number;
  readonly frame: Readonly<Record<LocalName, Local>>;
  /** The errno of the step that failed, which `ret('errno')` returns. */
  readonly errno: string | null;
  /** rcu_read_lock nesting. */
  readonly rcu: number;
  readonly locks: readonly string[];
  /** The call's net changes to what other threads can see (`buf 1.ref: +1`), for a failed call's check. */
  readonly effects: Readonly<Record<string, number>>;
  /** The pointer fields the call set or cleared, and the phases it moved, with what each was before (`hwpt 1->ioas`: `NULL`; `set 1.phase`: `live`). */
  readonly linksWas?: Readonly<Record<string, string>>;
  /** The thread that runs queued work (a kworker), not a CPU making calls. */
  readonly worker?: true;
  /** What `current` gives its calls: the objects its task had when the scenario started. */
  readonly task?: Readonly<Record<LocalName, Entry | null>>;
}

/** The ids calls returned to a thread (`space:id`), and what each meant then. */
export type Handles = Readonly<Record<string, Entry>> | undefined;

/** An rw_semaphore: the threads reading, the writer (-1 for none), and the writers queued for it, in order. */
export interface Rwsem {
  readonly readers: readonly number[];
  readonly writer: number;
  readonly queued: readonly number[];
}

/** Work queued by `queue_work`: the work to run, and the pointer it is given, in the local of that name. */
export interface Work {
  readonly work: string;
  readonly local: LocalName;
  readonly ptr: Ptr;
}

/** The frame a kworker starts `w` with: the pointer it was queued with, in its local. */
export const workFrame = (w: Work): Record<LocalName, Local> => ({ [w.local]: w.ptr });

/** The kit's world: objects, id spaces, locks, threads in their calls, queued work, lock orders. */
export interface KitWorld {
  readonly objects: Readonly<Record<string, readonly Obj[]>>;
  /** Per space, the entry of each id from its first (`spaceIds`): an object, `reserved` (XA_ZERO_ENTRY), or null when free. */
  readonly spaces: Readonly<Record<string, readonly Slot[]>>;
  /** Where a cyclic space's next search starts. */
  readonly cursors: Readonly<Record<string, number>>;
  /** Each lock's owner thread, -1 when free. */
  readonly locks: Readonly<Record<string, number>>;
  readonly rwsems: Readonly<Record<string, Rwsem>>;
  /** CPUs, then the kworker when the model queues work. */
  readonly threads: readonly Thread[];
  /**
   * What outlives a thread's calls, by thread, apart from the threads: so a step inside a call, which reads
   * neither, does the same whatever calls came before it, and the step cache runs it once for them all. The calls
   * each started, of the scenario's budget (the kworker's works and the exit count none), and the ids they returned.
   */
  readonly calls: readonly number[];
  readonly handles: readonly Handles[];
  /** Queued work, oldest first: the kworker runs it in order. */
  readonly queue: readonly Work[];
  /** Lock orders seen so far, as lockdep records them: `A>B` when B was taken while A was held (sorted). */
  readonly lockOrder: readonly string[];
  /**
   * The objects kfree_rcu freed that still wait for readers to leave their
   * sections (state `rcu`), kind by kind in the spec's order, then by slot:
   * RCU's callback list. rcu_read_unlock reads it, not every object slot, so
   * it depends on the objects waiting, not on all the others.
   */
  readonly rcuFreed: readonly ObjRef[];
  /** The spec's `exit` call has started. */
  readonly exited?: true;
}

/** How a thread is called in traces and messages: `CPU1`, or `kworker` for the thread that runs deferred work. */
export const actor = (world: KitWorld, t: number) => (world.threads[t]?.worker ? 'kworker' : `CPU${t}`);
export const objName = (kind: string, slot: number, gen?: number) => `${kind} ${slot + 1}${gen === undefined ? '' : `#${gen}`}`;
export const ptrName = (local: string, p: Ptr) => `${local} (${objName(p.kind, p.slot, p.gen)})`;

/**
 * A thread between calls. Every key a thread may have is here, absent ones
 * undefined, so every thread has one shape, in one key order: equal threads
 * are equal data to the codec, and building one is a copy of a known shape.
 */
export const idle: Thread = {
  call: null,
  pc: 0,
  frame: {},
  errno: null,
  rcu: 0,
  locks: [],
  effects: {},
  linksWas: undefined,
  worker: undefined,
  task: undefined,
};

/** The kinds a space maps ids to. */
export const spaceKinds = (s: SpaceSpec): readonly string[] => (typeof s.kind === 'string' ? [s.kind] : s.kind);

/** The references an entry of space `s` holds now: the space's, less those dropped on its behalf. */
export const entryHolds = (s: SpaceSpec, e: Entry): readonly string[] => spaceHolds(s).filter((f) => !e.dropped?.includes(f));

/** The refcount fields a space's entries hold references on. */
export const spaceHolds = (s: SpaceSpec): readonly string[] => (s.holds === undefined ? [] : typeof s.holds === 'string' ? [s.holds] : s.holds);

/** What a new object's refcounts start at: a field's `init`, else 1 for the kind's first refcount and 0 for the others. */
export function initialCounts(k: KindSpec): Record<string, number> {
  const counts = Object.keys(k.fields).filter((f) => k.fields[f]!.type === 'refcount');
  return Object.fromEntries(counts.map((f, i) => [f, (k.fields[f] as { init?: number }).init ?? (i === 0 ? 1 : 0)]));
}

/** A new object's fields: every number 0, every pointer NULL. */
export const blank = (k: KindSpec) => ({
  fields: Object.fromEntries(numberFields(k).map((f) => [f, 0])),
  links: Object.fromEntries(pointerFields(k).map((f) => [f, null])) as Record<string, Entry | null>,
});

/** The name of a lock in an object: `hwpt 1.destroy_rwsem`. */
export const objectLockName = (kind: string, slot: number, field: string) => `${objName(kind, slot)}.${field}`;

/** Every object's own locks of one type, by name. */
function objectLocks(spec: KitSpec, type: 'mutex' | 'rwsem'): string[] {
  return Object.entries(spec.kinds).flatMap(([kind, k]) =>
    Object.keys(k.fields)
      .filter((f) => k.fields[f]!.type === type)
      .flatMap((f) => Array.from({ length: k.slots }, (_, slot) => objectLockName(kind, slot, f))),
  );
}

/**
 * An action on an object's lock, named as the world keeps it
 * (`hwpt 1.destroy_rwsem`), the pointer read from the thread's `frame`; the
 * action unchanged for a global lock, or for a NULL pointer (whose step oopses).
 */
export function resolveLock(frame: Thread['frame'], a: Action): Action {
  if (!('ptr' in a) || a.ptr === undefined || !('lock' in a || 'sem' in a)) return a;
  const p = frame[a.ptr];
  if (p === null || p === undefined || typeof p !== 'object') return a;
  return 'lock' in a ? { ...a, lock: objectLockName(p.kind, p.slot, a.lock) } : { ...a, sem: objectLockName(p.kind, p.slot, a.sem) };
}

/** The parts of a world a wait reads, one at a time: a step's `Ctx` (which notes what it reads), or a world (`viewOf`). */
export interface View {
  readonly threadCount: number;
  threadAt(u: number): Thread;
  /** The calls thread `u` started. */
  callsOf(u: number): number;
  /** Thread `u`'s rcu_read_lock nesting. */
  rcuOf(u: number): number;
  lockOwner(name: string): number | undefined;
  rwsem(name: string): Rwsem | undefined;
  objAt(kind: string, slot: number): Obj;
  actor(u: number): string;
  /** Queued work, oldest first. */
  queue(): readonly Work[];
  /** The spec's `exit` call has started. */
  readonly exited: boolean;
}

/** A world as a `View`. */
export const viewOf = (world: KitWorld): View => ({
  threadCount: world.threads.length,
  threadAt: (u) => world.threads[u]!,
  callsOf: (u) => world.calls[u]!,
  rcuOf: (u) => world.threads[u]!.rcu,
  lockOwner: (name) => world.locks[name],
  rwsem: (name) => world.rwsems[name],
  objAt: (kind, slot) => world.objects[kind]![slot]!,
  actor: (u) => actor(world, u),
  queue: () => world.queue,
  exited: world.exited === true,
});

const classes = new Map<string, string>();

/** lockdep's class of a lock: an object's lock by kind and field (`hwpt.destroy_rwsem`), a global one by its name. */
export function lockClass(name: string): string {
  let c = classes.get(name);
  if (c === undefined) classes.set(name, (c = name.replace(/^(\S+) \d+\./, '$1.')));
  return c;
}

export function initialWorld(spec: KitSpec, bounds: Bounds): KitWorld {
  const count = (name: string) => spaceIds(spec, name, bounds).max - spaceIds(spec, name, bounds).min + 1;
  const map = <T, U>(o: Readonly<Record<string, T>>, f: (v: T) => U) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
  const threads = [...Array.from({ length: bounds.threads }, () => idle), ...(spec.works ? [{ ...idle, worker: true as const }] : [])];
  return {
    objects: map(spec.kinds, (k) =>
      Array.from({ length: k.slots }, (): Obj => ({ gen: 0, state: 'free', ...blank(k), readers: [] })),
    ),
    spaces: Object.fromEntries(Object.keys(spec.spaces).map((name) => [name, Array.from({ length: count(name) }, () => null)])),
    cursors: map(spec.spaces, () => 0),
    locks: Object.fromEntries([...(spec.locks ?? []), ...objectLocks(spec, 'mutex')].map((l) => [l, -1])),
    rwsems: Object.fromEntries([...(spec.rwsems ?? []), ...objectLocks(spec, 'rwsem')].map((l): [string, Rwsem] => [l, { readers: [], writer: -1, queued: [] }])),
    threads,
    calls: threads.map(() => 0),
    handles: threads.map((): Handles => undefined),
    queue: [],
    lockOrder: [],
    rcuFreed: [],
  };
}

/** The item a thread's program counter is at. */
export function callOf(spec: KitSpec, name: string): Call {
  const c = spec.calls[name] ?? spec.works?.[name] ?? [spec.exit, spec.setup].find((x) => x?.name === name);
  if (!c) throw new DefinitionError(`no call or work '${name}'; known: ${[...Object.keys(spec.calls), ...Object.keys(spec.works ?? {})].join(', ')}`);
  return c;
}

/** The step a thread takes next: in its call, or the first of the call `step` starts. */
export function nextStep(spec: KitSpec, world: KitWorld, step: EngineStep): Step {
  return nextStepOf(spec, world.threads[step.thread]!, step);
}

/** `nextStep` for the thread `th` that takes `step`. */
export function nextStepOf(spec: KitSpec, th: Thread, step: EngineStep): Step {
  const c = callOf(spec, th.call ?? step.op);
  const item = c.items[th.call === null ? firstStep(c, 0) : th.pc];
  if (!item || !('fn' in item)) throw new Error(`internal: thread ${step.thread} is at no step of ${c.name}`);
  return item;
}

const labels = new WeakMap<Call, Map<string, number>>();

/** Where label `l` is in call `c` (-1 for none), found once per call. */
export function labelAt(c: Call, l: string): number {
  let at = labels.get(c);
  if (!at) labels.set(c, (at = new Map(c.items.flatMap((i, k): [string, number][] => ('label' in i ? [[i.label, k]] : [])).reverse())));
  return at.get(l) ?? -1;
}

const firstSteps = new WeakMap<Call, Int32Array>();

/** The index of the first step at or after `pc` (labels are places, not steps; a `goto` goes on at its label), found once per call. */
export function firstStep(c: Call, pc: number): number {
  let at = firstSteps.get(c);
  if (!at) firstSteps.set(c, (at = Int32Array.from({ length: c.items.length + 1 }, (_, k) => stepFrom(c, k))));
  return at[pc] ?? stepFrom(c, pc);
}

function stepFrom(c: Call, pc: number): number {
  let at = pc;
  for (;;) {
    const item = c.items[at];
    if (item === undefined || !('label' in item || 'goto' in item)) return at;
    at = 'goto' in item ? labelAt(c, item.goto) : at + 1;
  }
}

/** A writer may have it: nobody holds it, and no writer is queued before `t`. */
export const writable = (sem: Rwsem, t: number) => sem.readers.length === 0 && sem.writer < 0 && (sem.queued.length === 0 || sem.queued[0] === t);
