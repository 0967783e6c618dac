/**
 * The IOASID world: the id table (one slot machine per id, with the number of
 * instances it has had), the CPUs with what each holds, and the calls a CPU
 * can make. The lifecycle rules live in the slot machine; this file only says
 * who may call what, and keeps each CPU's references and pointers.
 */
import {
  fire,
  initialState,
  type AnyStateMachine,
  type Bounds,
  type MachineInfo,
  type MachineState,
  type Only,
  type Outcome,
  type Reply,
  type Step,
  type System,
} from 'lifecheck';
import type { RegistryContext, RegistryEvent } from './allocators.ts';
import type { SlotContext, SlotEvent } from './machines.ts';
import type { SetContext, SetEvent } from './sets.ts';

/**
 * A kernel function as a variant exposes it: `set` true passes the caller's
 * set, 'NULL' passes the NULL set, false means the function takes no set.
 */
export interface Call {
  readonly fn: string;
  readonly set: boolean | 'NULL';
}

/** Picks the id `ioasid_alloc(set, min, max)` hands out, or none when it fails. */
export type Allocator = (isFree: (id: number) => boolean, min: number, max: number) => number | undefined;

/** 000/A.2: xa_alloc(XA_LIMIT(min,max)) hands out the lowest free id in [min,max]. */
export const lowestFree: Allocator = (isFree, min, max) => {
  for (let id = min; id <= max; id++) if (isFree(id)) return id;
  return undefined;
};

/** A set CPUs call with (A.4/A.5): its token (null: the NULL set) and the private data type its ids carry. */
export interface SetSpec {
  readonly name: string | null;
  readonly data: string;
}

/** A.4 dcp: sets are mm tokens; two guests' address spaces unless a variant says otherwise. */
export const guestSets: readonly SetSpec[] = [
  { name: 's1', data: 'mm' },
  { name: 's2', data: 'mm' },
];

/** 003: how a guest's custom allocator gets ids from the host by virtual command. */
export interface Vcmd {
  /** 003 review: "How does this honor min/max?": true when the host allocates within [min,max]. */
  readonly honoursRange: boolean;
  /** Whether the guest's free callback refuses an id (keeps it on the host); `bound`: a device still is. */
  readonly refusesFree: (bound: boolean) => boolean;
}

/** Custom allocators CPUs may register and unregister (A.3); every helper pair asks the host (003). */
export interface CustomAllocators {
  /** The ops structures: the same helper pair means one shared table. */
  readonly ops: readonly { readonly name: string; readonly helpers: string }[];
  /** The registration rules (allocators.ts). */
  readonly registry: AnyStateMachine;
  readonly vcmd: Vcmd;
}

export interface IoasidConfig {
  /** The slot lifecycle (see machines.ts). */
  readonly machine: AnyStateMachine;
  /** The kernel functions behind each operation; no `get` means no refcounts (v1). */
  readonly calls: {
    readonly alloc: Call;
    readonly free: Call;
    readonly find: Call;
    readonly get?: Call;
    readonly put?: Call;
  };
  /**
   * The API documents free as callable again while references remain (001:
   * "can be called multiple times without error until all refs are dropped"),
   * so a caller may repeat it. Where free is a plain put (v5.11) or an erase
   * (v1), a second call is the caller's bug, not the design's, and is not made.
   */
  readonly freeRepeatable: boolean;
  /** Which free id the default allocator hands out; lowest-free by default. */
  readonly allocator?: Allocator;
  /** The sets CPUs use (see `setOf`); `guestSets` by default. */
  readonly sets?: readonly SetSpec[];
  /** Custom allocators (A.3, 003); none means the default allocator alone. */
  readonly custom?: CustomAllocators;
  /** Sets as objects with a quota and ioasid_set_free (A.4, sets.ts); none: sets are bare tokens. */
  readonly setLifecycle?: AnyStateMachine;
}

/**
 * What a CPU holds on an instance (`id`, generation `gen`, in allocator table `table`):
 * - `alloc`: the allocation's reference, `ref` false once this CPU has freed it
 *   (kept so it may call free again, as 001 allows);
 * - `get`: a reference from ioasid_get;
 * - `bind`: a second user's context (with a reference where the variant counts them);
 * - `find`: a pointer from ioasid_find; `rcu` while the section that found it is open.
 */
export interface Hold {
  readonly kind: 'alloc' | 'get' | 'bind' | 'find';
  readonly table: string;
  readonly id: number;
  readonly gen: number;
  readonly ref: boolean;
  readonly rcu: boolean;
}

export interface Cpu {
  readonly set: string | null;
  /** The private data type this CPU stores and expects back from ioasid_find. */
  readonly data: string;
  /** Operations done so far (exit is not counted). */
  readonly pc: number;
  readonly exited: boolean;
  /** Inside an rcu_read_lock() section. */
  readonly rcu: boolean;
  readonly holds: readonly Hold[];
}

export interface Slot {
  /** How many instances this id has had (never reset): tells a reused id from the old one. */
  readonly gen: number;
  readonly state: MachineState<SlotContext>;
}

/** One allocator's XArray, by id. Ids outside the range appear only if an allocator hands them out. */
export type Table = Readonly<Record<number, Slot>>;

export interface IoasidWorld {
  readonly range: { readonly min: number; readonly max: number };
  /** Each allocator's table: `default`, and one per custom helper pair ever registered (A.3). */
  readonly tables: Readonly<Record<string, Table>>;
  /** The custom allocator registry, where the variant has custom allocators. */
  readonly registry?: MachineState<RegistryContext>;
  /** 003: the host ids handed to this guest by virtual command and not yet taken back. */
  readonly host?: readonly number[];
  /** The lifecycle of each named set, where the variant gives sets one (A.4). */
  readonly setStates?: Readonly<Record<string, MachineState<SetContext>>>;
  /** 003: another guest sharing the host's namespace: its operations so far and its host ids. */
  readonly otherGuest?: { readonly pc: number; readonly ids: readonly number[] };
  readonly cpus: readonly Cpu[];
}

/** References a CPU may take on one id through ioasid_get (bounds the state space). */
export const MAX_GETS = 2;

/**
 * The set of a CPU: the last CPUs take sets[1], sets[2], ... as long as two
 * CPUs stay in sets[0] (so that two CPUs always share a set): with two sets
 * and three CPUs, CPU2 is the other owner.
 */
export function setOf(cpu: number, threads: number, sets: readonly SetSpec[]): SetSpec {
  const others = Math.min(sets.length - 1, Math.max(0, threads - 2));
  const k = cpu - (threads - others);
  return k >= 0 ? sets[k + 1]! : sets[0]!;
}

/** The table lookups read now (A.2 ioasid_find: "reads whichever allocator is active now"). */
export const activeTable = (world: IoasidWorld): string => world.registry?.context.active ?? 'default';

/** The slot of `id` in the active table. */
export const activeSlot = (world: IoasidWorld, id: number): Slot | undefined => world.tables[activeTable(world)]?.[id];

export const isLive = (slot: Slot | undefined): slot is Slot =>
  slot !== undefined && slot.state.value !== 'freed';

/** The live instance a hold names, if it is still the one in its table. */
export function liveInstance(world: IoasidWorld, h: Pick<Hold, 'table' | 'id' | 'gen'>): Slot | undefined {
  const slot = world.tables[h.table]?.[h.id];
  return isLive(slot) && slot.gen === h.gen ? slot : undefined;
}

/** Every live instance in every table, with where it lives. */
export function liveSlots(world: IoasidWorld): { table: string; id: number; slot: Slot }[] {
  return Object.entries(world.tables).flatMap(([table, slots]) =>
    Object.entries(slots)
      .filter(([, slot]) => isLive(slot))
      .map(([id, slot]) => ({ table, id: Number(id), slot })),
  );
}

function ids(world: IoasidWorld): number[] {
  const out: number[] = [];
  for (let id = world.range.min; id <= world.range.max; id++) out.push(id);
  return out;
}

/** 003: the host's namespace is system-wide, shared with other guests: here twice the guest's range. */
export function hostRange(range: IoasidWorld['range']): IoasidWorld['range'] {
  return { min: range.min, max: range.max + (range.max - range.min + 1) };
}

export function initialWorld(config: IoasidConfig, bounds: Bounds): IoasidWorld {
  const state = initialState<SlotContext>(config.machine);
  const slots: Record<number, Slot> = {};
  for (let id = bounds.ids.min; id <= bounds.ids.max; id++) slots[id] = { gen: 0, state };
  const cpus = Array.from({ length: bounds.threads }, (_, t): Cpu => {
    const { name, data } = setOf(t, bounds.threads, config.sets ?? guestSets);
    return { set: name, data, pc: 0, exited: false, rcu: false, holds: [] };
  });
  const custom = config.custom && {
    registry: initialState<RegistryContext>(config.custom.registry),
    host: [],
    otherGuest: { pc: 0, ids: [] },
  };
  const named = (config.sets ?? guestSets).flatMap((set) => (set.name === null ? [] : [set.name]));
  const lifecycle = config.setLifecycle;
  const setStates = lifecycle && Object.fromEntries(named.map((n) => [n, initialState<SetContext>(lifecycle)]));
  return { range: bounds.ids, tables: { default: slots }, ...custom, ...(setStates ? { setStates } : {}), cpus };
}

/** A.4 set->nr_ioasids: the live ids that belong to `set`. */
export const members = (world: IoasidWorld, set: string): number =>
  liveSlots(world).filter(({ slot }) => slot.state.context.set === set).length;

/** Every set with a lifecycle, its state and its live ids. */
export function setsWithMembers(world: IoasidWorld) {
  return Object.entries(world.setStates ?? {}).map(([set, state]) => ({ set, state, members: members(world, set) }));
}

/**
 * Fires a set event, if the set has a lifecycle; the set's live ids are
 * counted only then (a free or alloc without set objects pays nothing).
 */
function toSet(config: IoasidConfig, world: IoasidWorld, set: string, event: (members: number) => SetEvent) {
  const from = world.setStates?.[set];
  if (!from || !config.setLifecycle) return undefined;
  const { state, reply } = fire<SetContext>(config.setLifecycle, from, event(members(world, set)));
  return { reply, world: { ...world, setStates: { ...world.setStates, [set]: state } } };
}

/** The steps a CPU may take, in a fixed order: exit first, so schedules shrink towards it. */
function cpuSteps(config: IoasidConfig, world: IoasidWorld, t: number, ops: number): Step[] {
  const cpu = world.cpus[t]!;
  if (cpu.exited) return [];
  const steps: Step[] = [{ thread: t, op: 'exit', args: [] }];
  if (cpu.pc >= ops) return steps;
  const step = (op: string, arg?: number | string) => steps.push({ thread: t, op, args: arg === undefined ? [] : [arg] });
  const holding = (kind: Hold['kind'], id: number) => cpu.holds.filter((h) => h.kind === kind && h.id === id);
  const refcounted = config.calls.get !== undefined;

  step('alloc');
  step('alloc', 'ENOMEM');
  for (const id of ids(world)) {
    if (refcounted && holding('get', id).length < MAX_GETS) step('get', id);
    if (holding('find', id).length === 0) step('find', id);
    if (holding('bind', id).length === 0) step('bind', id);
  }
  for (const id of new Set(cpu.holds.map((h) => h.id))) {
    if (holding('get', id).length > 0) step('put', id);
    if (holding('find', id).length > 0) step('use', id);
    if (holding('bind', id).length > 0) step('unbind', id);
    const alloc = holding('alloc', id)[0];
    // 001: free "can be called multiple times ... until all refs are dropped":
    // again only while this CPU still holds another reference on the same instance (id, table and generation).
    const stillHeld = (h: Hold) => h.ref && h.kind !== 'alloc' && h.id === id && h.table === alloc?.table && h.gen === alloc.gen;
    if (alloc && (alloc.ref || (config.freeRepeatable && cpu.holds.some(stillHeld)))) step('free', id);
  }
  // A.4: the owner of a set may free it at any time (ioasid_set_free).
  if (config.setLifecycle && cpu.set !== null) step('set_free');
  // A.3: drivers register and unregister their ops at any time (VT-d: once per vIOMMU).
  for (const { name } of config.custom?.ops ?? []) {
    step('register', name);
    step('unregister', name);
  }
  step(cpu.rcu ? 'rcu_read_unlock' : 'rcu_read_lock');
  return steps;
}

/** A set as the kernel prints it: its name, or NULL. */
export const setName = (set: string | null): string => set ?? 'NULL';

/** The machines a variant runs, with the kernel function behind each event (000, 001, A.3, A.4). */
export function ioasidMachines(config: IoasidConfig): Readonly<Record<string, MachineInfo>> {
  const { calls } = config;
  const slot: MachineInfo = {
    machine: config.machine,
    object: 'id',
    calls: { ALLOC: calls.alloc.fn, GET: calls.get?.fn ?? 'ioasid_get', PUT: calls.put?.fn ?? 'ioasid_put', FREE: calls.free.fn, FIND: calls.find.fn },
  };
  const registry: MachineInfo | undefined = config.custom && {
    machine: config.custom.registry,
    object: 'allocator registry',
    calls: { REGISTER: 'ioasid_register_allocator', UNREGISTER: 'ioasid_unregister_allocator' },
  };
  const set: MachineInfo | undefined = config.setLifecycle && {
    machine: config.setLifecycle,
    object: 'set',
    calls: { ADMIT: 'ioasid_alloc (quota)', SET_FREE: 'ioasid_set_free', RECLAIMED: 'ioasid_free (last member)' },
  };
  return { slot, ...(registry ? { registry } : {}), ...(set ? { set } : {}) };
}

/** What a scenario may narrow with `--only`: the ops CPUs call, the sets they use, the allocators. */
export function ioasidChoices(config: IoasidConfig): Only {
  const refcounts = config.calls.get ? ['get', 'put'] : [];
  const registry = config.custom ? ['register', 'unregister', 'vcmd_alloc', 'vcmd_free'] : [];
  const setFree = config.setLifecycle ? ['set_free'] : [];
  return {
    ops: ['alloc', ...refcounts, 'free', 'find', 'use', 'bind', 'unbind', ...setFree, ...registry, 'rcu_read_lock'],
    sets: (config.sets ?? guestSets).map((s) => setName(s.name)),
    ...(config.custom ? { allocators: config.custom.ops.map((o) => o.name) } : {}),
  };
}

/** The variant with only the sets and allocators the scenario keeps. */
function narrowed(config: IoasidConfig, only: Only): IoasidConfig {
  const keep = (key: string, name: string) => only[key]?.includes(name) ?? true;
  const sets = (config.sets ?? guestSets).filter((s) => keep('sets', setName(s.name)));
  const custom = config.custom && { ...config.custom, ops: config.custom.ops.filter((o) => keep('allocators', o.name)) };
  return { ...config, sets, ...(custom ? { custom } : {}) };
}

/**
 * 003: "several guests share the host's system-wide namespace": another guest
 * (thread number `threads`) allocates and frees host ids by virtual command,
 * within the same operation budget as a CPU.
 */
function otherGuestSteps(world: IoasidWorld, ops: number): Step[] {
  const guest = world.otherGuest;
  if (!guest || guest.pc >= ops) return [];
  const thread = world.cpus.length;
  return [{ thread, op: 'vcmd_alloc', args: [] }, ...guest.ids.map((id) => ({ thread, op: 'vcmd_free', args: [id] }))];
}

/** The transition system of an IOASID variant within bounds. */
export function ioasidSystem(variant: IoasidConfig, bounds: Bounds): System<IoasidWorld> {
  const config = narrowed(variant, bounds.only ?? {});
  const ops = bounds.only?.ops;
  // rcu_read_lock stands for the section: its unlock comes with it.
  const kept = (step: Step) => !ops || step.op === 'exit' || ops.includes(step.op.replace('unlock', 'lock'));
  const init = initialWorld(config, bounds);
  return {
    init,
    // Each CPU's operations and its exit, and the other guest's operations (003).
    horizon: bounds.threads * (bounds.ops + 1) + (init.otherGuest ? bounds.ops : 0),
    enabled: (world) =>
      [...world.cpus.flatMap((_, t) => cpuSteps(config, world, t, bounds.ops)), ...otherGuestSteps(world, bounds.ops)].filter(kept),
    apply: (world, step) => applyStep(config, world, step),
  };
}

// ---------------------------------------------------------------------------
// Applying a step: pure, one CPU's call as the kernel runs it under the lock.

interface Fired {
  readonly world: IoasidWorld;
  readonly reply: Reply;
  /** The slot's refcount went up: the call took a reference. */
  readonly tookRef: boolean;
}

/** 003 intel_ioasid_free's question, "is a device still bound?": someone holds a bind on the instance. */
function bound(world: IoasidWorld, table: string, id: number): boolean {
  const gen = world.tables[table]?.[id]?.gen;
  return world.cpus.some((c) => c.holds.some((h) => h.kind === 'bind' && h.table === table && h.id === id && h.gen === gen));
}

/** A.2: a custom allocator's ops->free(id): the guest hands the id back to the host, unless it refuses. */
function vcmdFree(config: IoasidConfig, world: IoasidWorld, table: string, id: number): IoasidWorld {
  if (!world.host || config.custom?.vcmd.refusesFree(bound(world, table, id))) return world;
  return { ...world, host: world.host.filter((h) => h !== id) };
}

/** 003 vcmd_alloc_pasid: the host's lowest free id, within [min,max] only where the design passes them on. */
function hostAlloc(custom: CustomAllocators, world: IoasidWorld): number | undefined {
  const taken = new Set([...(world.host ?? []), ...(world.otherGuest?.ids ?? [])]);
  const { min, max } = custom.vcmd.honoursRange ? world.range : hostRange(world.range);
  return lowestFree((i) => !taken.has(i), min, max);
}

const sorted = (ids: Iterable<number>) => [...ids].sort((a, b) => a - b);

/** This guest's vcmd allocation: the host hands it an id. */
function vcmdAlloc(custom: CustomAllocators, world: IoasidWorld): { world: IoasidWorld; id: number } | undefined {
  const id = hostAlloc(custom, world);
  return id === undefined ? undefined : { id, world: { ...world, host: sorted([...(world.host ?? []), id]) } };
}

/** The other guest's vcmd calls; its frees are never refused (its kernel is not the one checked). */
function otherGuestStep(config: IoasidConfig, world: IoasidWorld, step: Step): Outcome<IoasidWorld> {
  const guest = world.otherGuest!;
  const pc = guest.pc + 1;
  if (step.op === 'vcmd_free') {
    const ids = guest.ids.filter((id) => id !== step.args[0]);
    return { world: { ...world, otherGuest: { pc, ids } }, reply: OK };
  }
  const id = hostAlloc(config.custom!, world);
  const ids = id === undefined ? guest.ids : sorted([...guest.ids, id]);
  const reply = id === undefined ? { ok: false, text: 'INVALID_IOASID' } : { ok: true, text: String(id) };
  return { world: { ...world, otherGuest: { pc, ids } }, reply };
}

function send(config: IoasidConfig, world: IoasidWorld, table: string, id: number, event: SlotEvent): Fired {
  // An id the table has never held is a slot that was never allocated.
  const slot = world.tables[table]?.[id] ?? { gen: 0, state: initialState<SlotContext>(config.machine) };
  const { state, reply } = fire(config.machine, slot.state, event);
  const gen = slot.state.value === 'freed' && state.value !== 'freed' ? slot.gen + 1 : slot.gen;
  // A call that finds no entry leaves no trace in the table.
  const untouched = !(id in (world.tables[table] ?? {})) && state.value === 'freed';
  const tables = untouched ? world.tables : { ...world.tables, [table]: { ...world.tables[table], [id]: { gen, state } } };
  // A.2: at the last reference the core calls ops->free before it erases the entry.
  const freed = isLive(slot) && state.value === 'freed';
  const next: IoasidWorld = { ...(freed && table !== 'default' ? vcmdFree(config, world, table, id) : world), tables };
  // A.4 ioasid_do_free_locked: set->nr_ioasids--, and a free-pending set goes with its last id.
  const { set } = slot.state.context;
  const reclaimed = freed && set !== null ? toSet(config, next, set, (n) => ({ type: 'RECLAIMED', members: n })) : undefined;
  return { world: reclaimed?.world ?? next, reply, tookRef: state.context.refs > slot.state.context.refs };
}

const setArg = (cpu: Cpu, call: Call | undefined): string | null => (call?.set === true ? cpu.set : null);

function withCpu(world: IoasidWorld, t: number, change: (cpu: Cpu) => Cpu): IoasidWorld {
  return { ...world, cpus: world.cpus.map((c, i) => (i === t ? change(c) : c)) };
}

const addHold = (hold: Hold) => (cpu: Cpu): Cpu => ({ ...cpu, holds: [...cpu.holds, hold] });

function dropHold(kind: Hold['kind'], id: number) {
  return (cpu: Cpu): Cpu => {
    const i = cpu.holds.findIndex((h) => h.kind === kind && h.id === id);
    return { ...cpu, holds: cpu.holds.filter((_, j) => j !== i) };
  };
}

const OK: Reply = { ok: true, text: '' };

/** One call by one CPU on an id, looked up in the active table; the world and the reply after it. */
function call(config: IoasidConfig, world: IoasidWorld, t: number, op: string, id: number): Fired {
  const cpu = world.cpus[t]!;
  const { calls } = config;
  const table = activeTable(world);
  const to = (type: SlotEvent['type'], c: Call | undefined, w = world) => send(config, w, table, id, { type, set: setArg(cpu, c) });
  const hold = (kind: Hold['kind'], f: Fired, ref: boolean): Fired => {
    if (!f.reply.ok) return f;
    const gen = f.world.tables[table]![id]!.gen;
    return { ...f, world: withCpu(f.world, t, addHold({ kind, table, id, gen, ref, rcu: kind === 'find' && cpu.rcu })) };
  };
  switch (op) {
    case 'get': {
      const f = to('GET', calls.get);
      return hold('get', f, f.tookRef);
    }
    case 'put': {
      const f = to('PUT', calls.put);
      return { ...f, world: withCpu(f.world, t, dropHold('get', id)) };
    }
    case 'free': {
      // A.4 ioasid_free: "The set is no longer registered: WARN_ON and return".
      const set = setArg(cpu, calls.free);
      if (set !== null && world.setStates?.[set]?.value === 'freed') {
        return { world, reply: { ok: false, text: 'WARN: set freed' }, tookRef: false };
      }
      const f = to('FREE', calls.free);
      if (!f.reply.ok) return f;
      const mark = (c: Cpu): Cpu => ({
        ...c,
        holds: c.holds.map((h) => (h.kind === 'alloc' && h.id === id ? { ...h, ref: false } : h)),
      });
      return { ...f, world: withCpu(f.world, t, mark) };
    }
    case 'find': {
      const f = to('FIND', calls.find);
      return hold('find', f, f.tookRef);
    }
    case 'use':
    case 'unbind': {
      // The user lets go first (the device is unbound), then use(p) drops
      // find's reference if it took one, with the set it found it with, and
      // unbind drops bind's.
      const kind = op === 'use' ? 'find' : 'bind';
      const held = cpu.holds.find((h) => h.kind === kind && h.id === id);
      const dropped = withCpu(world, t, dropHold(kind, id));
      const put = op === 'use' && calls.put ? { ...calls.put, set: calls.find.set } : calls.put;
      const f = held?.ref ? to('PUT', put, dropped) : { world: dropped, reply: OK, tookRef: false };
      return { ...f, reply: OK };
    }
    case 'bind': {
      // A second user: ioasid_get where the variant has refcounts, else it
      // only looks the id up (ioasid_find) and keeps using it.
      const f = calls.get ? to('GET', calls.get) : to('FIND', calls.find);
      return hold('bind', f, f.tookRef);
    }
    default:
      throw new Error(`unknown IOASID operation '${op}'`);
  }
}

/** The id the active allocator picks, with the world after picking it (the host's, for a custom one). */
function pick(config: IoasidConfig, world: IoasidWorld, table: string): { world: IoasidWorld; id: number } | undefined {
  if (table !== 'default' && config.custom) return vcmdAlloc(config.custom, world);
  const { min, max } = world.range;
  const id = (config.allocator ?? lowestFree)((i) => !isLive(world.tables.default?.[i]), min, max);
  return id === undefined ? undefined : { world, id };
}

/** ioasid_alloc: the active allocator picks an id, the slot machine takes it. */
function alloc(config: IoasidConfig, world: IoasidWorld, t: number, oom: boolean): Outcome<IoasidWorld> {
  const invalid = { world, reply: { ok: false, text: 'INVALID_IOASID' } };
  // 000 ioasid_alloc: "if (!data) return INVALID_IOASID" when kzalloc fails.
  if (oom) return invalid;
  const cpu = world.cpus[t]!;
  const set = setArg(cpu, config.calls.alloc);
  // A.4 ioasid_alloc: the set must be registered and under its quota.
  const admitted = set === null ? undefined : toSet(config, world, set, (n) => ({ type: 'ADMIT', members: n }));
  if (admitted && !admitted.reply.ok) return { world, reply: admitted.reply };
  const table = activeTable(world);
  const picked = pick(config, world, table);
  if (!picked) return invalid;
  const { id } = picked;
  // A.2: a custom id goes into the table by xa_alloc(XA_LIMIT(id,id)); if the
  // slot is taken, the core calls ops->free(id) and fails.
  if (isLive(picked.world.tables[table]?.[id])) return { ...invalid, world: vcmdFree(config, picked.world, table, id) };
  const f = send(config, picked.world, table, id, { type: 'ALLOC', set, data: cpu.data });
  // A refused set is checked before anything is allocated (A.4 dcp).
  if (!f.reply.ok) return { world, reply: f.reply };
  const gen = f.world.tables[table]![id]!.gen;
  const next = withCpu(f.world, t, addHold({ kind: 'alloc', table, id, gen, ref: true, rcu: false }));
  return { world: next, reply: { ok: true, text: String(id) } };
}

/** ioasid_register_allocator / ioasid_unregister_allocator: the registry machine decides. */
function registry(config: IoasidConfig, world: IoasidWorld, op: string, name: string): Outcome<IoasidWorld> {
  const custom = config.custom!;
  const ops = custom.ops.find((o) => o.name === name)!;
  const entry = world.registry!.context.entries.find((e) => e.helpers === ops.helpers);
  const live = (table: string | undefined) => table !== undefined && Object.values(world.tables[table] ?? {}).some(isLive);
  const event: RegistryEvent =
    op === 'register'
      ? { type: 'REGISTER', ops: name, helpers: ops.helpers, defaultLive: live('default') }
      : { type: 'UNREGISTER', ops: name, helpers: ops.helpers, live: live(entry?.table) };
  const { state, reply } = fire<RegistryContext>(custom.registry, world.registry!, event);
  // A new entry brings its own empty table; an unregistered one's stays behind, unreachable.
  const tables = { ...world.tables };
  for (const e of state.context.entries) tables[e.table] ??= {};
  return { world: { ...world, registry: state, tables }, reply };
}

/** ioasid_set_free(set): the set machine decides, knowing how many ids the set still has. */
function setFree(config: IoasidConfig, world: IoasidWorld, t: number): Outcome<IoasidWorld> {
  const set = world.cpus[t]!.set!;
  return toSet(config, world, set, (n) => ({ type: 'SET_FREE', members: n }))!;
}

/** Exit: the CPU releases all it holds, in the order a driver's teardown would. */
function exit(config: IoasidConfig, world: IoasidWorld, t: number): IoasidWorld {
  const release: Record<Hold['kind'], string> = { find: 'use', bind: 'unbind', get: 'put', alloc: 'free' };
  const order: Hold['kind'][] = ['find', 'bind', 'get', 'alloc'];
  let w = withCpu(world, t, (c) => ({ ...c, rcu: false, holds: c.holds.map((h) => ({ ...h, rcu: false })) }));
  for (const kind of order) {
    for (const h of w.cpus[t]!.holds.filter((x) => x.kind === kind)) {
      if (kind === 'alloc' && !h.ref) continue;
      w = call(config, w, t, release[kind], h.id).world;
    }
  }
  return withCpu(w, t, (c) => ({ ...c, exited: true, holds: [] }));
}

function applyStep(config: IoasidConfig, world: IoasidWorld, step: Step): Outcome<IoasidWorld> {
  const t = step.thread;
  if (t === world.cpus.length) return otherGuestStep(config, world, step);
  if (step.op === 'exit') return { world: exit(config, world, t), reply: OK };
  const counted = withCpu(world, t, (c) => ({ ...c, pc: c.pc + 1 }));
  if (step.op === 'rcu_read_lock' || step.op === 'rcu_read_unlock') {
    const inside = step.op === 'rcu_read_lock';
    // Leaving the section ends the RCU protection of the pointers found in it.
    const w = withCpu(counted, t, (c) => ({
      ...c,
      rcu: inside,
      holds: inside ? c.holds : c.holds.map((h) => ({ ...h, rcu: false })),
    }));
    return { world: w, reply: OK };
  }
  if (step.op === 'alloc') return alloc(config, counted, t, step.args[0] === 'ENOMEM');
  if (step.op === 'register' || step.op === 'unregister') return registry(config, counted, step.op, String(step.args[0]));
  if (step.op === 'set_free') return setFree(config, counted, t);
  const { world: next, reply } = call(config, counted, t, step.op, Number(step.args[0]));
  return { world: next, reply };
}
