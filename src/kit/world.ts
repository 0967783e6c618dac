/**
 * The kit's world and its interpreter. A world is plain data: each kind's
 * object slots (generation, state, fields), each id space's entries, the
 * locks' owners, and per thread the call it is in (program counter, frame of
 * locals, the errno it will return, what it holds, the net effects of the
 * call so far). A step runs one action of one thread's call; what the kernel
 * would have printed (a KASAN report, a refcount WARN, lockdep) is in the
 * reply's `warnings`, where the stock properties find it.
 */
import { DefinitionError } from '../engine/define.ts';
import { fire } from '../engine/machine.ts';
import type { Bounds, Reply, Step as EngineStep, System } from '../engine/model.ts';
import type { Action, Call, Item, LocalName, Return, Step } from './calls.ts';
import { callMachine, stateNames } from './callMachine.ts';
import { refcountMachine, refcountState } from './refcount.ts';

/** A field of an object kind: a `refcount_t`, or a counter (which may hold references on a refcount field). */
export type FieldSpec =
  | { readonly type: 'refcount'; readonly max: number }
  | { readonly type: 'counter'; readonly max: number; readonly holds?: string };

export interface KindSpec {
  /** How many objects of the kind may exist at once: memory the allocator can hand out. */
  readonly slots: number;
  readonly fields: Readonly<Record<string, FieldSpec>>;
}

export interface SpaceSpec {
  /** What the space maps ids to. */
  readonly kind: string;
  /** `lowest` (xa_alloc, ida_alloc) or `cyclic` (xa_alloc_cyclic): which free id an allocation takes. */
  readonly alloc?: 'lowest' | 'cyclic';
  /** The refcount field each entry holds a reference on (the table's own reference), if it holds one. */
  readonly holds?: string;
  /** The lock that keeps an entry's object alive while held (lookups under it are protected by it). */
  readonly lock?: string;
}

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
  /** `ref:FIELD` (a counted reference), `rcu`, `lock:NAME`, `own` (its last reference was dropped by this thread), `none`, or `ended:WHY` once its protection is gone. */
  readonly prot: string;
  /** How many counted references the pointer holds, when `prot` is `ref:FIELD` (1 when absent). */
  readonly refs?: number;
}

export type Local = number | Ptr | null;

/** The counted references a pointer holds on `field`. */
export const refsOn = (p: Ptr, field: string): number => (p.prot === `ref:${field}` ? (p.refs ?? 1) : 0);

export interface Obj {
  /** Bumped at each allocation of the slot: a pointer to an older generation is stale. */
  readonly gen: number;
  /** `free`, `live`, or `rcu` (freed by kfree_rcu, waiting for `readers` to leave their sections). */
  readonly state: 'free' | 'live' | 'rcu';
  readonly fields: Readonly<Record<string, number>>;
  readonly readers: readonly number[];
}

/** An id's entry: the object it maps to. */
export interface Entry {
  readonly kind: string;
  readonly slot: number;
  readonly gen: number;
}

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
  /** Calls started, of the scenario's budget. */
  readonly calls: number;
  /** The call's net changes to what other threads can see (`buf 1.ref: +1`), for a failed call's check. */
  readonly effects: Readonly<Record<string, number>>;
  /** The thread that runs queued work (a kworker), not a CPU making calls. */
  readonly worker?: true;
  /** The ids calls returned to this thread (`space:id`), and what each meant then. */
  readonly handles?: Readonly<Record<string, Entry>>;
}

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

export interface KitWorld {
  readonly objects: Readonly<Record<string, readonly Obj[]>>;
  /** Per space, the entry of each id from `bounds.ids.min`, null when free. */
  readonly spaces: Readonly<Record<string, readonly (Entry | null)[]>>;
  /** Where a cyclic space's next search starts. */
  readonly cursors: Readonly<Record<string, number>>;
  /** Each lock's owner thread, -1 when free. */
  readonly locks: Readonly<Record<string, number>>;
  readonly rwsems: Readonly<Record<string, Rwsem>>;
  /** CPUs, then the kworker when the model queues work. */
  readonly threads: readonly Thread[];
  /** Queued work, oldest first: the kworker runs it in order. */
  readonly queue: readonly Work[];
  /** Lock orders seen so far, as lockdep records them: `A>B` when B was taken while A was held (sorted). */
  readonly lockOrder: readonly string[];
}

/** How a thread is called in traces and messages: `CPU1`, or `kworker` for the thread that runs deferred work. */
export const actor = (world: KitWorld, t: number) => (world.threads[t]?.worker ? 'kworker' : `CPU${t}`);
export const objName = (kind: string, slot: number, gen?: number) => `${kind} ${slot + 1}${gen === undefined ? '' : `#${gen}`}`;
export const ptrName = (local: string, p: Ptr) => `${local} (${objName(p.kind, p.slot, p.gen)})`;

const idle: Thread = { call: null, pc: 0, frame: {}, errno: null, rcu: 0, locks: [], calls: 0, effects: {} };

export function initialWorld(spec: KitSpec, bounds: Bounds): KitWorld {
  const ids = bounds.ids.max - bounds.ids.min + 1;
  const map = <T, U>(o: Readonly<Record<string, T>>, f: (v: T) => U) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));
  return {
    objects: map(spec.kinds, (k) =>
      Array.from({ length: k.slots }, (): Obj => ({ gen: 0, state: 'free', fields: map(k.fields, () => 0), readers: [] })),
    ),
    spaces: map(spec.spaces, () => Array.from({ length: ids }, () => null)),
    cursors: map(spec.spaces, () => 0),
    locks: Object.fromEntries((spec.locks ?? []).map((l) => [l, -1])),
    rwsems: Object.fromEntries((spec.rwsems ?? []).map((l): [string, Rwsem] => [l, { readers: [], writer: -1, queued: [] }])),
    threads: [...Array.from({ length: bounds.threads }, () => idle), ...(spec.works ? [{ ...idle, worker: true as const }] : [])],
    queue: [],
    lockOrder: [],
  };
}

/** The item a thread's program counter is at. */
export const itemAt = (spec: KitSpec, th: Thread): Item | undefined => (th.call === null ? undefined : callOf(spec, th.call).items[th.pc]);

export function callOf(spec: KitSpec, name: string): Call {
  const c = spec.calls[name] ?? spec.works?.[name];
  if (!c) throw new DefinitionError(`no call or work '${name}'; known: ${[...Object.keys(spec.calls), ...Object.keys(spec.works ?? {})].join(', ')}`);
  return c;
}

/** The step a thread takes next: in its call, or the first of the call `step` starts. */
export function nextStep(spec: KitSpec, world: KitWorld, step: EngineStep): Step {
  const th = world.threads[step.thread]!;
  const c = callOf(spec, th.call ?? step.op);
  const item = c.items[th.call === null ? firstStep(c, 0) : th.pc];
  if (!item || !('fn' in item)) throw new Error(`internal: thread ${step.thread} is at no step of ${c.name}`);
  return item;
}

/** The index of the first step at or after `pc` (labels are places, not steps); past a `ret`, none. */
function firstStep(c: Call, pc: number): number {
  let at = pc;
  while (at < c.items.length && 'label' in c.items[at]!) at++;
  return at;
}

// ---------------------------------------------------------------------------
// What can run

/** Whether a thread's next step can run now (a held mutex, readers synchronize_rcu waits for). */
export function blockedOn(world: KitWorld, t: number, action: Action): string | undefined {
  if (action.op === 'mutex_lock' && world.locks[action.lock] !== -1) {
    return `mutex_lock(&${action.lock}), held by ${actor(world, world.locks[action.lock]!)}`;
  }
  if (action.op === 'synchronize_rcu') {
    const reader = world.threads.findIndex((th, u) => u !== t && th.rcu > 0);
    if (reader >= 0) return `synchronize_rcu(), with ${actor(world, reader)} inside rcu_read_lock()`;
  }
  if (action.op === 'wait') return waitingFor(world, t, action);
  if (action.op === 'down_read' || action.op === 'down_write') return rwsemWait(world, t, action.op, action.sem);
  return undefined;
}

const names = (world: KitWorld, threads: readonly number[]) => threads.map((u) => actor(world, u)).join(', ');

/** Why a down_read or a queued down_write cannot have the semaphore now (a first down_write may always run: it queues). */
function rwsemWait(world: KitWorld, t: number, op: 'down_read' | 'down_write', name: string): string | undefined {
  const sem = world.rwsems[name]!;
  if (op === 'down_read') {
    if (sem.writer >= 0) return `down_read(&${name}), written by ${actor(world, sem.writer)}`;
    return sem.queued.length ? `down_read(&${name}), behind the writer ${names(world, sem.queued)} queued for it` : undefined;
  }
  if (!sem.queued.includes(t) || writable(sem, t)) return undefined;
  const holders = [...sem.readers, ...(sem.writer >= 0 ? [sem.writer] : [])];
  return `down_write(&${name}), queued behind ${names(world, holders)}`;
}

/** A writer may have it: nobody holds it, and no writer is queued before `t`. */
const writable = (sem: Rwsem, t: number) => sem.readers.length === 0 && sem.writer < 0 && (sem.queued.length === 0 || sem.queued[0] === t);

/** What a wait still waits for, or undefined once its condition holds (or its object is gone: the step will say so). */
function waitingFor(world: KitWorld, t: number, a: Extract<Action, { op: 'wait' }>): string | undefined {
  const p = world.threads[t]!.frame[a.ptr];
  if (p === null || p === undefined || typeof p !== 'object') return undefined;
  const o = world.objects[p.kind]![p.slot]!;
  if (o.gen !== p.gen || o.state === 'free') return undefined;
  const v = o.fields[a.field]!;
  if ((v === 0) === (a.until === 'zero')) return undefined;
  return `wait until ${objName(p.kind, p.slot)}.${a.field} ${a.until === 'zero' ? '== 0' : '!= 0'} (it is ${v})`;
}

/** The ids a call's arguments may take, in order: every combination, one id per argument. */
function argumentChoices(c: Call, bounds: Bounds): number[][] {
  const ids = Array.from({ length: bounds.ids.max - bounds.ids.min + 1 }, (_, k) => bounds.ids.min + k);
  return Object.keys(c.args).reduce<number[][]>((acc) => acc.flatMap((a) => ids.map((id) => [...a, id])), [[]]);
}

export function enabledSteps(spec: KitSpec, bounds: Bounds, world: KitWorld): EngineStep[] {
  const narrowed = Object.values(spec.calls).filter((c) => !bounds.only?.calls || bounds.only.calls.includes(c.name));
  const roles = spec.roles;
  const callsOf = (thread: number) => (roles ? narrowed.filter((c) => roles[thread % roles.length]!.includes(c.name)) : narrowed);
  return world.threads.flatMap((th, thread): EngineStep[] => {
    if (th.call === null && th.worker) {
      const head = world.queue[0];
      return head ? stepChoices(spec, world, { thread, op: head.work, args: [] }) : [];
    }
    if (th.call === null) {
      if (th.calls >= bounds.ops) return [];
      // A call starts by running its first step, so it waits as that step would.
      return callsOf(thread).flatMap((c) => argumentChoices(c, bounds).flatMap((args) => stepChoices(spec, world, { thread, op: c.name, args })));
    }
    return stepChoices(spec, world, { thread, op: th.call, args: [] });
  });
}

/** The step `go` takes next, unless it waits; and, for a fallible step, its failure (the errno after the call's arguments). */
function stepChoices(spec: KitSpec, world: KitWorld, go: EngineStep): EngineStep[] {
  const a = nextStep(spec, world, go).action;
  const failing = (errno: string) => ({ ...go, args: [...go.args, errno] });
  if (blockedOn(world, go.thread, a)) return a.op === 'wait' && a.timeout ? [failing(a.timeout)] : [];
  return a.op === 'fallible' ? [go, failing(a.errno)] : [go];
}

// ---------------------------------------------------------------------------
// Running a step

/** How an action ended: on to the next step, to a label, or failed with an errno. */
type Flow =
  | { readonly to: 'next' }
  | { readonly to: 'label'; readonly label: string }
  | { readonly to: 'fail'; readonly errno: string }
  | { readonly to: 'oops' }
  /** The step waits where it is (a down_write queued behind readers): the thread runs it again later. */
  | { readonly to: 'stay' };

interface Done {
  readonly world: KitWorld;
  readonly text: string;
  readonly flow: Flow;
  readonly warnings?: readonly string[];
}

const NEXT: Flow = { to: 'next' };

class Ctx {
  /** What starting the call found wrong with the ids it was given. */
  stale: string[] = [];

  constructor(
    readonly spec: KitSpec,
    readonly bounds: Bounds,
    public world: KitWorld,
    readonly t: number,
  ) {}

  get th(): Thread {
    return this.world.threads[this.t]!;
  }

  get who(): string {
    return actor(this.world, this.t);
  }

  thread(f: (th: Thread) => Thread): void {
    this.world = { ...this.world, threads: this.world.threads.map((th, u) => (u === this.t ? f(th) : th)) };
  }

  local(name: LocalName): Local {
    return this.th.frame[name] ?? null;
  }

  setLocal(name: LocalName, value: Local): void {
    this.thread((th) => ({ ...th, frame: { ...th.frame, [name]: value } }));
  }

  effect(what: string, delta: number): void {
    this.thread((th) => {
      const n = (th.effects[what] ?? 0) + delta;
      const { [what]: _, ...rest } = th.effects;
      return { ...th, effects: n === 0 ? rest : { ...rest, [what]: n } };
    });
  }

  obj(p: Ptr): Obj {
    return this.world.objects[p.kind]![p.slot]!;
  }

  setObj(p: Ptr, o: Obj): void {
    const slots = this.world.objects[p.kind]!.map((x, k) => (k === p.slot ? o : x));
    this.world = { ...this.world, objects: { ...this.world.objects, [p.kind]: slots } };
  }

  /** The pointer in `local` now holds one more reference on `field`. */
  gainRef(local: LocalName, field: string): void {
    const p = this.local(local) as Ptr;
    const refs = refsOn(p, field) + 1;
    this.setLocal(local, { kind: p.kind, slot: p.slot, gen: p.gen, prot: `ref:${field}`, ...(refs > 1 ? { refs } : {}) });
  }

  /** The pointer in `local` gives up one reference; with none left, its protection becomes `then`. */
  loseRef(local: LocalName, then: string): void {
    const p = this.local(local) as Ptr;
    const refs = (p.refs ?? 1) - 1;
    const { refs: _, ...bare } = p;
    this.setLocal(local, refs > 0 && p.prot.startsWith('ref:') ? { ...bare, ...(refs > 1 ? { refs } : {}) } : { ...bare, prot: then });
  }

  /**
   * The thread now holds `lock` (taken while waiting was possible, so not a
   * trylock): lockdep's dependencies from each lock it already holds, and its
   * warning when the new one closes a cycle (the ABBA that can deadlock).
   */
  acquire(lock: string): string[] {
    const held = this.th.locks;
    this.thread((th) => ({ ...th, locks: [...th.locks, lock] }));
    const edges = new Set(this.world.lockOrder);
    const warnings = held.flatMap((from) => {
      const back = orderPath(edges, lock, from);
      return back ? [`WARNING: possible circular locking dependency detected: ${this.who} takes ${lock} while holding ${from}, and ${back} was taken before`] : [];
    });
    for (const from of held) edges.add(`${from}>${lock}`);
    this.world = { ...this.world, lockOrder: [...edges].sort() };
    return warnings;
  }

  /** Every pointer of this thread matching `which` gets protection `prot`. */
  reprotect(which: (p: Ptr) => boolean, prot: string): void {
    const frame = Object.fromEntries(
      Object.entries(this.th.frame).map(([k, v]) => [k, v !== null && typeof v === 'object' && which(v) ? { ...v, prot } : v]),
    );
    this.thread((th) => ({ ...th, frame }));
  }
}

/** Runs one engine step: starts a call (and its first step), or runs the thread's next step. */
export function applyStep(spec: KitSpec, bounds: Bounds, world: KitWorld, step: EngineStep): { world: KitWorld; reply: Reply } {
  const ctx = new Ctx(spec, bounds, world, step.thread);
  if (ctx.th.call === null) start(ctx, callOf(spec, step.op), step.args);
  const c = callOf(spec, ctx.th.call!);
  const item = c.items[ctx.th.pc] as Step;
  // A failure the explorer injects comes after the call's arguments (which only a call's start has).
  const injected = step.args.find((a): a is string => typeof a === 'string');
  const done = injected !== undefined ? failed(ctx.world, injected) : perform(ctx, item);
  ctx.world = done.world;
  countStep(c, ctx.th.pc, done.flow);
  const ended = advance(ctx, c, item, done.flow);
  const warnings = [...ctx.stale, ...(done.warnings ?? []), ...(ended?.warnings ?? [])];
  const text = ended ? `${done.text}; returns ${ended.value}` : done.text;
  const ok = ended ? !String(ended.value).startsWith('-') : done.flow.to !== 'fail';
  return { world: ctx.world, reply: { ok, text, ...(warnings.length ? { warnings } : {}) } };
}

function start(ctx: Ctx, c: Call, args: readonly (string | number)[]): void {
  if (ctx.th.worker) {
    // The kworker takes the oldest work; the pointer it was queued with is its local.
    const [head, ...rest] = ctx.world.queue;
    ctx.world = { ...ctx.world, queue: rest };
    ctx.thread((th) => ({ ...th, call: c.name, pc: firstStep(c, 0), frame: { [head!.local]: head!.ptr }, errno: null, effects: {} }));
    return;
  }
  const frame = Object.fromEntries(Object.keys(c.args).map((name, k) => [name, Number(args[k])]));
  ctx.thread((th) => ({ ...th, call: c.name, pc: firstStep(c, 0), frame, errno: null, calls: th.calls + 1, effects: {} }));
  ctx.stale = staleIds(ctx, c, frame);
}

/** The ids this call was given that the thread got from an earlier call, and that now name another object. */
function staleIds(ctx: Ctx, c: Call, frame: Readonly<Record<string, Local>>): string[] {
  return Object.entries(c.args).flatMap(([local, space]) => {
    const id = frame[local] as number;
    const then = ctx.th.handles?.[`${space}:${id}`];
    const now = ctx.world.spaces[space]?.[id - ctx.bounds.ids.min];
    if (!then || !now || (now.kind === then.kind && now.slot === then.slot && now.gen === then.gen)) return [];
    const was = objName(then.kind, then.slot, then.gen);
    return [`stale id: ${ctx.who} ${c.name}(${id}) acts on a stale id: ${space} ${id} was ${was} when ${ctx.who} got it, and is now ${objName(now.kind, now.slot, now.gen)}`];
  });
}

const failed = (world: KitWorld, errno: string): Done => ({ world, text: errno, flow: { to: 'fail', errno } });

const EVENT = { next: 'NEXT', label: 'ZERO', fail: 'FAIL', oops: 'OOPS' } as const;

/** Fires the call's machine for the way this step went: what coverage counts and the review draws. */
function countStep(c: Call, pc: number, flow: Flow): void {
  if (flow.to === 'stay') return;
  fire(callMachine(c), { value: stateNames(c).get(pc)!, context: {} }, { type: EVENT[flow.to] });
}

/** Moves the program counter past `item` as `flow` says; the call's return when it ends. */
function advance(ctx: Ctx, c: Call, item: Step, flow: Flow): { value: string | number; warnings: string[] } | undefined {
  const labelAt = (l: string) => c.items.findIndex((i) => 'label' in i && i.label === l);
  let pc: number;
  if (flow.to === 'oops') return finish(ctx, c, 'Oops');
  if (flow.to === 'stay') return undefined;
  if (flow.to === 'next') pc = ctx.th.pc + 1;
  else if (flow.to === 'label') pc = labelAt(flow.label);
  else {
    ctx.thread((th) => ({ ...th, errno: flow.errno }));
    if (item.fail === undefined) return finish(ctx, c, flow.errno);
    pc = labelAt(item.fail);
  }
  pc = firstStep(c, pc);
  const at = c.items[pc];
  if (at === undefined) return finish(ctx, c, 0);
  if ('ret' in at) return finish(ctx, c, returned(ctx, at.ret));
  ctx.thread((th) => ({ ...th, pc }));
  return undefined;
}

/** The value a `ret` returns; an id returned is kept by the thread with what it means now. */
function returned(ctx: Ctx, r: Return): string | number {
  if (r === 'errno') return ctx.th.errno ?? 0;
  if (typeof r === 'number') return r;
  const id = ctx.local(r.id);
  if (typeof id !== 'number') throw new DefinitionError(`call '${ctx.th.call}' returns '${r.id}', which holds no id`);
  const entry = ctx.world.spaces[r.space]?.[id - ctx.bounds.ids.min];
  if (entry) ctx.thread((th) => ({ ...th, handles: { ...th.handles, [`${r.space}:${id}`]: entry } }));
  return id;
}

/** The call returns `value`: lockdep's word on what it still holds, and the thread is idle again. */
function finish(ctx: Ctx, c: Call, value: string | number): { value: string | number; warnings: string[] } {
  const th = ctx.th;
  const warnings = [
    ...th.locks.map((l) => `WARNING: lock held when returning to user space! ${ctx.who} returns from ${c.name} holding ${l}`),
    ...(th.rcu > 0 ? [`WARNING: ${ctx.who} returns from ${c.name} inside rcu_read_lock()`] : []),
  ];
  if (String(value).startsWith('-')) {
    const changed = Object.entries(th.effects).map(([what, d]) => `${what} ${d > 0 ? '+' : ''}${d}`);
    if (changed.length) warnings.push(`${c.name} returned ${value} but left changed: ${changed.join(', ')}`);
  }
  ctx.thread((t) => ({
    ...idle,
    calls: t.calls,
    rcu: t.rcu,
    locks: t.locks,
    ...(t.worker ? { worker: t.worker } : {}),
    ...(t.handles ? { handles: t.handles } : {}),
  }));
  return { value, warnings };
}

// ---------------------------------------------------------------------------
// Actions

/** A pointer local that is set; a definition error when the model names an unset or non-pointer local. */
function pointer(ctx: Ctx, name: LocalName, step: Step): Ptr | null {
  const v = ctx.local(name);
  if (v === null || typeof v === 'object') return v;
  throw new DefinitionError(`call '${ctx.th.call}', step '${step.fn}': '${name}' holds an id, not a pointer`);
}

/** What KASAN and the kit see when `p` is dereferenced: a report when the memory is freed or reused, or the pointer unprotected. */
function derefWarnings(ctx: Ctx, local: LocalName, p: Ptr, fn: string): string[] {
  const o = ctx.obj(p);
  const who = `${ctx.who} ${fn}: ${ptrName(local, p)}`;
  if (o.gen !== p.gen || o.state === 'free') {
    const reused = o.gen !== p.gen && o.state !== 'free' ? ', and its memory is reused' : '';
    return [`BUG: KASAN: slab-use-after-free: ${who} after kfree${reused}`];
  }
  if (o.state === 'rcu' && !(p.prot === 'rcu' && o.readers.includes(ctx.t))) {
    return [`BUG: KASAN: slab-use-after-free: ${who} after kfree_rcu, outside the RCU section that could keep it`];
  }
  if (p.prot === 'none') return [`lifecheck: ${who} with nothing keeping it alive (no reference, no RCU section, no lock)`];
  if (p.prot.startsWith('ended:')) return [`lifecheck: ${who} after ${p.prot.slice('ended:'.length)}`];
  return [];
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

/** A NULL dereference: the kernel oopses and the call never returns to its caller's code. */
function oops(ctx: Ctx, step: Step, local: LocalName): Done {
  const warnings = [`BUG: kernel NULL pointer dereference: ${ctx.who} ${step.fn}: ${local} is NULL`];
  return { world: ctx.world, text: 'Oops', flow: { to: 'oops' }, warnings };
}

/** Whether `p` still points at the object it was made for. */
const alive = (ctx: Ctx, p: Ptr) => {
  const o = ctx.obj(p);
  return o.gen === p.gen && o.state !== 'free';
};

function perform(ctx: Ctx, step: Step): Done {
  const a = step.action;
  switch (a.op) {
    case 'alloc':
      return alloc(ctx, a.kind, a.into);
    case 'xa_alloc':
      return xaAlloc(ctx, step, a.space, a.ptr, a.into);
    case 'xa_load':
    case 'xa_erase':
      return xaLookup(ctx, step, a.op, a.space, a.id, a.into);
    case 'refcount':
      return refcount(ctx, step, a.call, a.ptr, a.field);
    case 'counter':
    case 'check':
    case 'use':
    case 'kfree':
      return onObject(ctx, step, a);
    case 'mutex_lock': {
      ctx.world = { ...ctx.world, locks: { ...ctx.world.locks, [a.lock]: ctx.t } };
      const warnings = ctx.acquire(a.lock);
      return { world: ctx.world, text: 'locked', flow: NEXT, warnings };
    }
    case 'mutex_trylock':
      if (ctx.world.locks[a.lock] !== -1) return failed(ctx.world, a.errno ?? '-EBUSY');
      ctx.world = { ...ctx.world, locks: { ...ctx.world.locks, [a.lock]: ctx.t } };
      ctx.thread((th) => ({ ...th, locks: [...th.locks, a.lock] }));
      return { world: ctx.world, text: 'locked', flow: NEXT };
    case 'mutex_unlock':
      return unlock(ctx, a.lock);
    case 'wait':
      return onObject(ctx, step, a);
    case 'down_read':
    case 'down_read_trylock':
    case 'up_read':
    case 'down_write':
    case 'up_write':
      return rwsem(ctx, a);
    case 'rcu_read_lock':
      ctx.thread((th) => ({ ...th, rcu: th.rcu + 1 }));
      return { world: ctx.world, text: 'ok', flow: NEXT };
    case 'rcu_read_unlock':
      return rcuUnlock(ctx);
    case 'synchronize_rcu':
      return { world: ctx.world, text: 'ok', flow: NEXT };
    case 'fallible':
      return { world: ctx.world, text: 'ok', flow: NEXT };
    case 'queue_work':
      return queueWork(ctx, step, a.work, a.ptr);
    case 'if_null':
      return ctx.local(a.ptr) === null ? failed(ctx.world, a.errno) : { world: ctx.world, text: 'ok', flow: NEXT };
  }
}

function alloc(ctx: Ctx, kind: string, into: LocalName): Done {
  const spec = ctx.spec.kinds[kind];
  if (!spec) throw new DefinitionError(`alloc of unknown kind '${kind}'; known: ${Object.keys(ctx.spec.kinds).join(', ')}`);
  const slot = ctx.world.objects[kind]!.findIndex((o) => o.state === 'free');
  if (slot < 0) return failed(ctx.world, '-ENOMEM');
  const first = Object.entries(spec.fields).find(([, f]) => f.type === 'refcount')?.[0];
  const old = ctx.world.objects[kind]![slot]!;
  const p: Ptr = { kind, slot, gen: old.gen + 1, prot: first ? `ref:${first}` : 'none' };
  const fields = Object.fromEntries(Object.keys(spec.fields).map((f) => [f, f === first ? 1 : 0]));
  ctx.setObj(p, { gen: p.gen, state: 'live', fields, readers: [] });
  ctx.setLocal(into, p);
  ctx.effect(objName(kind, slot), 1);
  return { world: ctx.world, text: objName(kind, slot), flow: NEXT };
}

function spaceOf(ctx: Ctx, name: string): SpaceSpec {
  const s = ctx.spec.spaces[name];
  if (!s) throw new DefinitionError(`no id space '${name}'; known: ${Object.keys(ctx.spec.spaces).join(', ')}`);
  return s;
}

function xaAlloc(ctx: Ctx, step: Step, name: string, local: LocalName, into: LocalName): Done {
  const space = spaceOf(ctx, name);
  const p = pointer(ctx, local, step);
  if (p === null) return oops(ctx, step, local);
  const entries = ctx.world.spaces[name]!;
  const from = space.alloc === 'cyclic' ? ctx.world.cursors[name]! : 0;
  const order = entries.map((_, k) => (from + k) % entries.length);
  const k = order.find((i) => entries[i] === null);
  if (k === undefined) return failed(ctx.world, '-EBUSY');
  const warnings = derefWarnings(ctx, local, p, step.fn);
  ctx.world = {
    ...ctx.world,
    spaces: { ...ctx.world.spaces, [name]: entries.map((e, i) => (i === k ? { kind: p.kind, slot: p.slot, gen: p.gen } : e)) },
    cursors: { ...ctx.world.cursors, [name]: (k + 1) % entries.length },
  };
  const id = ctx.bounds.ids.min + k;
  ctx.setLocal(into, id);
  ctx.effect(`${name}[${id}]`, 1);
  // The table takes over the creator's reference: the creator's pointer is protected by nothing it holds.
  if (space.holds && refsOn(p, space.holds) > 0) ctx.loseRef(local, `ended:its reference went to ${name}`);
  return { world: ctx.world, text: String(id), flow: NEXT, warnings };
}

function xaLookup(ctx: Ctx, step: Step, op: 'xa_load' | 'xa_erase', name: string, idLocal: LocalName, into: LocalName): Done {
  const space = spaceOf(ctx, name);
  const id = ctx.local(idLocal);
  if (typeof id !== 'number') throw new DefinitionError(`call '${ctx.th.call}', step '${step.fn}': '${idLocal}' is not an id`);
  const k = id - ctx.bounds.ids.min;
  const entry = ctx.world.spaces[name]![k] ?? null;
  if (entry === null) {
    ctx.setLocal(into, null);
    return { world: ctx.world, text: 'NULL', flow: NEXT };
  }
  const held = space.lock && ctx.th.locks.includes(space.lock) ? `lock:${space.lock}` : ctx.th.rcu > 0 ? 'rcu' : 'none';
  let prot = held;
  if (op === 'xa_erase') {
    const entries = ctx.world.spaces[name]!;
    ctx.world = { ...ctx.world, spaces: { ...ctx.world.spaces, [name]: entries.map((e, i) => (i === k ? null : e)) } };
    ctx.effect(`${name}[${id}]`, -1);
    const { [`${name}:${id}`]: _, ...kept } = ctx.th.handles ?? {};
    if (ctx.th.handles) ctx.thread((th) => ({ ...th, handles: kept }));
    // The entry's reference is now the eraser's to drop.
    if (space.holds) prot = `ref:${space.holds}`;
  }
  ctx.setLocal(into, { ...entry, prot });
  const o = ctx.world.objects[entry.kind]![entry.slot]!;
  return { world: ctx.world, text: `${objName(entry.kind, entry.slot, o.gen)}`, flow: NEXT };
}

function refcount(ctx: Ctx, step: Step, call: string, local: LocalName, field: string): Done {
  const p = pointer(ctx, local, step);
  if (p === null) return oops(ctx, step, local);
  const warnings = derefWarnings(ctx, local, p, step.fn);
  const where = `${objName(p.kind, p.slot)}.${field}`;
  // Freed memory is not the count's: the access is reported, and nothing the model tracks changes.
  if (!alive(ctx, p)) return { world: ctx.world, text: 'UAF', flow: NEXT, warnings };
  const o = ctx.obj(p);
  const before = o.fields[field]!;
  const type = { refcount_inc: 'INC', refcount_inc_not_zero: 'INC_NOT_ZERO', refcount_dec_and_test: 'DEC_AND_TEST', refcount_dec_if_one: 'DEC_IF_ONE' }[call] as 'INC';
  const fired = fire<{ count: number }>(refcountMachine, refcountState(before), { type });
  const after = fired.state.context.count;
  const max = (ctx.spec.kinds[p.kind]!.fields[field] as { max: number }).max;
  if (after > max) throw new DefinitionError(`${where} would reach ${after}, past its declared max ${max}; raise it`);
  ctx.setObj(p, { ...o, fields: { ...o.fields, [field]: after } });
  if (after !== before) ctx.effect(where, after - before);
  for (const w of fired.reply.warnings ?? []) warnings.push(`${w} ${ctx.who} ${call} on ${objName(p.kind, p.slot)} whose ${field} is ${before}`);
  const took = after > before;
  const dropped = after < before;
  if (took) ctx.gainRef(local, field);
  // Dropping the last reference makes the thread the object's only owner: it is the one to free it.
  if (dropped) ctx.loseRef(local, fired.reply.text === 'true' ? 'own' : `ended:${call}`);
  return { world: ctx.world, text: fired.reply.text, flow: refcountFlow(call, fired.reply.text, step), warnings };
}

/** Where a refcount call goes: the last put to its `zero` label, a refused get or dec_if_one down its error path. */
function refcountFlow(call: string, answer: string, step: Step): Flow {
  if (call === 'refcount_dec_and_test') return answer === 'true' && step.zero ? { to: 'label', label: step.zero } : NEXT;
  if (call === 'refcount_inc_not_zero' && answer === 'false') return { to: 'fail', errno: '-ENOENT' };
  if (call === 'refcount_dec_if_one' && answer === 'false') return { to: 'fail', errno: '-EBUSY' };
  return NEXT;
}

function onObject(ctx: Ctx, step: Step, a: Extract<Action, { op: 'counter' | 'check' | 'use' | 'kfree' | 'wait' }>): Done {
  const p = pointer(ctx, a.ptr, step);
  if (p === null) return oops(ctx, step, a.ptr);
  const warnings = derefWarnings(ctx, a.ptr, p, step.fn);
  if (!alive(ctx, p)) return { world: ctx.world, text: 'UAF', flow: NEXT, warnings };
  const o = ctx.obj(p);
  const name = objName(p.kind, p.slot);
  switch (a.op) {
    case 'use':
      return { world: ctx.world, text: 'ok', flow: NEXT, warnings };
    case 'wait':
      return { world: ctx.world, text: `${a.field} = ${o.fields[a.field]}`, flow: NEXT, warnings };
    case 'check': {
      const v = o.fields[a.field]!;
      const as = (v === 0) === (a.is === 'zero');
      return { world: ctx.world, text: String(v), flow: as ? NEXT : { to: 'fail', errno: a.errno }, warnings };
    }
    case 'counter':
      return counter(ctx, step, a.ptr, p, o, a.field, a.delta, warnings);
    case 'kfree': {
      const readers = a.rcu ? ctx.world.threads.flatMap((th, u) => (th.rcu > 0 ? [u] : [])) : [];
      ctx.setObj(p, { ...o, state: readers.length ? 'rcu' : 'free', readers });
      ctx.effect(name, -1);
      ctx.reprotect((q) => q.kind === p.kind && q.slot === p.slot && q.gen === p.gen, 'ended:kfree');
      return { world: ctx.world, text: readers.length ? `freed after ${readers.map((u) => actor(ctx.world, u)).join(', ')} leave rcu_read_lock()` : 'freed', flow: NEXT, warnings };
    }
  }
}

function rwsem(ctx: Ctx, a: Extract<Action, { sem: string }>): Done {
  const sem = ctx.world.rwsems[a.sem];
  if (!sem) throw new DefinitionError(`no rw_semaphore '${a.sem}'; declare it in rwsems`);
  const t = ctx.t;
  const set = (next: Rwsem, text: string, held?: boolean): Done => {
    ctx.world = { ...ctx.world, rwsems: { ...ctx.world.rwsems, [a.sem]: next } };
    let warnings: string[] = [];
    // A trylock cannot wait, so lockdep records no dependency for it.
    if (held && a.op === 'down_read_trylock') ctx.thread((th) => ({ ...th, locks: [...th.locks, a.sem] }));
    else if (held) warnings = ctx.acquire(a.sem);
    if (held === false) {
      ctx.thread((th) => ({ ...th, locks: th.locks.filter((l) => l !== a.sem) }));
      ctx.reprotect((q) => q.prot === `lock:${a.sem}`, `ended:up(&${a.sem})`);
    }
    return { world: ctx.world, text, flow: NEXT, warnings };
  };
  const unbalanced = (): Done => ({
    world: ctx.world,
    text: 'WARN',
    flow: NEXT,
    warnings: [`WARNING: bad unlock balance detected! ${ctx.who} releases ${a.sem}, which it does not hold`],
  });
  switch (a.op) {
    case 'down_read':
      return set({ ...sem, readers: [...sem.readers, t] }, 'read-locked', true);
    case 'down_read_trylock':
      if (sem.writer >= 0 || sem.queued.length) return failed(ctx.world, a.errno ?? '-EBUSY');
      return set({ ...sem, readers: [...sem.readers, t] }, 'read-locked', true);
    case 'up_read':
      if (!sem.readers.includes(t)) return unbalanced();
      return set({ ...sem, readers: sem.readers.filter((u) => u !== t) }, 'up', false);
    case 'down_write':
      if (writable(sem, t)) return set({ ...sem, writer: t, queued: sem.queued.filter((u) => u !== t) }, 'write-locked', true);
      ctx.world = { ...ctx.world, rwsems: { ...ctx.world.rwsems, [a.sem]: { ...sem, queued: [...sem.queued, t] } } };
      return { world: ctx.world, text: 'waits', flow: { to: 'stay' } };
    case 'up_write':
      if (sem.writer !== t) return unbalanced();
      return set({ ...sem, writer: -1 }, 'up', false);
  }
}

/**
 * `p->field += delta`. A counter that holds references (`holds: 'ref'`)
 * takes over the thread's reference on its increment (attach keeps the
 * reference it took) and hands one to the thread on its decrement (detach
 * then drops it).
 */
function counter(ctx: Ctx, step: Step, local: LocalName, p: Ptr, o: Obj, field: string, delta: 1 | -1, warnings: string[]): Done {
  const name = objName(p.kind, p.slot);
  const spec = ctx.spec.kinds[p.kind]!.fields[field]!;
  const n = o.fields[field]! + delta;
  if (n > spec.max) throw new DefinitionError(`${name}.${field} would reach ${n}, past its declared max ${spec.max}; raise it`);
  if (n < 0) warnings.push(`WARNING: ${ctx.who} ${step.fn}: ${name}.${field} goes below 0`);
  ctx.setObj(p, { ...o, fields: { ...o.fields, [field]: Math.max(n, 0) } });
  ctx.effect(`${name}.${field}`, delta);
  const holds = spec.type === 'counter' ? spec.holds : undefined;
  if (holds && delta > 0 && refsOn(p, holds) > 0) ctx.loseRef(local, `ended:its reference went to ${field}`);
  if (holds && delta < 0 && n >= 0) ctx.gainRef(local, holds);
  return { world: ctx.world, text: String(Math.max(n, 0)), flow: NEXT, warnings };
}

function unlock(ctx: Ctx, lock: string): Done {
  if (!ctx.th.locks.includes(lock)) {
    return { world: ctx.world, text: 'WARN', flow: NEXT, warnings: [`WARNING: bad unlock balance detected! ${ctx.who} releases ${lock}, which it does not hold`] };
  }
  ctx.world = { ...ctx.world, locks: { ...ctx.world.locks, [lock]: -1 } };
  ctx.thread((th) => ({ ...th, locks: th.locks.filter((l) => l !== lock) }));
  ctx.reprotect((q) => q.prot === `lock:${lock}`, `ended:mutex_unlock(&${lock})`);
  return { world: ctx.world, text: 'unlocked', flow: NEXT };
}

/**
 * `queue_work()`: the work will run later on the kworker with the pointer.
 * A reference the thread holds goes with it (the kernel's `get; queue_work`
 * idiom, the work puts it); without one, the work gets a bare pointer.
 */
function queueWork(ctx: Ctx, step: Step, work: string, local: LocalName): Done {
  if (!ctx.spec.works?.[work]) throw new DefinitionError(`step '${step.fn}' queues work '${work}', which the model's works do not have`);
  const p = pointer(ctx, local, step);
  if (p === null) return oops(ctx, step, local);
  // A reference, or the ownership the last put left (the release's `queue_work`), goes with the work.
  const goes = p.prot.startsWith('ref:') || p.prot === 'own';
  const given: Ptr = { kind: p.kind, slot: p.slot, gen: p.gen, prot: goes ? p.prot : 'none' };
  if (goes) ctx.loseRef(local, `ended:it went to ${work}`);
  ctx.world = { ...ctx.world, queue: [...ctx.world.queue, { work, local, ptr: given }] };
  return { world: ctx.world, text: 'queued', flow: NEXT };
}

/** Leaving the section ends its pointers' protection, and frees what kfree_rcu queued once its last reader is out. */
function rcuUnlock(ctx: Ctx): Done {
  if (ctx.th.rcu === 0) return { world: ctx.world, text: 'WARN', flow: NEXT, warnings: [`WARNING: ${ctx.who} rcu_read_unlock() outside rcu_read_lock()`] };
  ctx.thread((th) => ({ ...th, rcu: th.rcu - 1 }));
  if (ctx.th.rcu > 0) return { world: ctx.world, text: 'ok', flow: NEXT };
  ctx.reprotect((q) => q.prot === 'rcu', 'ended:rcu_read_unlock()');
  const objects = Object.fromEntries(
    Object.entries(ctx.world.objects).map(([kind, slots]) => [
      kind,
      slots.map((o) => {
        if (o.state !== 'rcu' || !o.readers.includes(ctx.t)) return o;
        const readers = o.readers.filter((u) => u !== ctx.t);
        return { ...o, readers, state: readers.length ? o.state : ('free' as const) };
      }),
    ]),
  );
  ctx.world = { ...ctx.world, objects };
  return { world: ctx.world, text: 'ok', flow: NEXT };
}

/** The transition system of a kit model within bounds. */
export function kitSystem(spec: KitSpec, bounds: Bounds): System<KitWorld> {
  const all = [...Object.values(spec.calls), ...Object.values(spec.works ?? {})];
  const steps = (c: Call) => c.items.filter((i): i is Step => 'fn' in i);
  // A down_write that queues runs twice: once to queue, once to take the semaphore.
  const cost = (c: Call) => steps(c).length + steps(c).filter((i) => i.action.op === 'down_write').length;
  const longest = Math.max(1, ...all.map(cost));
  // The work a call can queue, each run once by the kworker.
  const queued = Math.max(0, ...Object.values(spec.calls).map((c) => steps(c).filter((i) => i.action.op === 'queue_work').length));
  return {
    init: initialWorld(spec, bounds),
    // Each call runs each of its steps at most once (labels only go forward), for every call a thread makes, and the work it queues.
    horizon: bounds.threads * bounds.ops * longest * (1 + queued),
    enabled: (world) => enabledSteps(spec, bounds, world),
    apply: (world, step) => applyStep(spec, bounds, world, step),
  };
}
