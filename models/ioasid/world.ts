/**
 * The IOASID world: the id table (one slot machine per id, with the number of
 * instances it has had), the CPUs with what each holds, and the calls a CPU
 * can make. The lifecycle rules live in the slot machine; this file only says
 * who may call what, and keeps each CPU's references and pointers.
 */
import type { AnyStateMachine } from 'xstate';
import { fire, initialState, type MachineState } from '../../src/engine/machine.ts';
import type { Bounds, Outcome, Reply, Step, System } from '../../src/engine/model.ts';
import type { SlotContext, SlotEvent } from './machines.ts';

/** A kernel function as a variant exposes it; `set: false` for calls without a set argument. */
export interface Call {
  readonly fn: string;
  readonly set: boolean;
}

/** Picks the id `ioasid_alloc(set, min, max)` hands out, or none when it fails. */
export type Allocator = (isFree: (id: number) => boolean, min: number, max: number) => number | undefined;

/** 000/A.2: xa_alloc(XA_LIMIT(min,max)) hands out the lowest free id in [min,max]. */
export const lowestFree: Allocator = (isFree, min, max) => {
  for (let id = min; id <= max; id++) if (isFree(id)) return id;
  return undefined;
};

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
  /** Which free id `ioasid_alloc` hands out; lowest-free by default. */
  readonly allocator?: Allocator;
}

/**
 * What a CPU holds on an instance (`id`, generation `gen`):
 * - `alloc`: the allocation's reference, `ref` false once this CPU has freed it
 *   (kept so it may call free again, as 001 allows);
 * - `get`: a reference from ioasid_get;
 * - `bind`: a second user's context (with a reference where the variant counts them);
 * - `find`: a pointer from ioasid_find; `rcu` while the section that found it is open.
 */
export interface Hold {
  readonly kind: 'alloc' | 'get' | 'bind' | 'find';
  readonly id: number;
  readonly gen: number;
  readonly ref: boolean;
  readonly rcu: boolean;
}

export interface Cpu {
  readonly set: string;
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

export interface IoasidWorld {
  readonly range: { readonly min: number; readonly max: number };
  /** The id table, by id. Ids outside the range appear only if an allocator hands them out. */
  readonly slots: Readonly<Record<number, Slot>>;
  readonly cpus: readonly Cpu[];
}

/** References a CPU may take on one id through ioasid_get (bounds the state space). */
export const MAX_GETS = 2;

/** Sets: every CPU shares set s1, except that with three or more CPUs the last is another owner, s2. */
export function setOf(cpu: number, threads: number): string {
  return threads >= 3 && cpu === threads - 1 ? 's2' : 's1';
}

export const isLive = (slot: Slot | undefined): slot is Slot =>
  slot !== undefined && slot.state.value !== 'freed';

/** The live instance `id#gen`, if it is still the one in the table. */
export function liveInstance(world: IoasidWorld, id: number, gen: number): Slot | undefined {
  const slot = world.slots[id];
  return isLive(slot) && slot.gen === gen ? slot : undefined;
}

function ids(world: IoasidWorld): number[] {
  const out: number[] = [];
  for (let id = world.range.min; id <= world.range.max; id++) out.push(id);
  return out;
}

export function initialWorld(config: IoasidConfig, bounds: Bounds): IoasidWorld {
  const state = initialState<SlotContext>(config.machine);
  const slots: Record<number, Slot> = {};
  for (let id = bounds.ids.min; id <= bounds.ids.max; id++) slots[id] = { gen: 0, state };
  const cpus = Array.from({ length: bounds.threads }, (_, t) => ({
    set: setOf(t, bounds.threads),
    pc: 0,
    exited: false,
    rcu: false,
    holds: [],
  }));
  return { range: bounds.ids, slots, cpus };
}

/** The steps a CPU may take, in a fixed order: exit first, so schedules shrink towards it. */
function cpuSteps(config: IoasidConfig, world: IoasidWorld, t: number, ops: number): Step[] {
  const cpu = world.cpus[t]!;
  if (cpu.exited) return [];
  const steps: Step[] = [{ thread: t, op: 'exit', args: [] }];
  if (cpu.pc >= ops) return steps;
  const step = (op: string, ...args: number[]) => steps.push({ thread: t, op, args });
  const holding = (kind: Hold['kind'], id: number) => cpu.holds.filter((h) => h.kind === kind && h.id === id);
  const refcounted = config.calls.get !== undefined;

  steps.push({ thread: t, op: 'alloc', args: [] }, { thread: t, op: 'alloc', args: ['ENOMEM'] });
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
    // again only while this CPU still holds another reference on the instance.
    const stillHeld = (h: Hold) => h.ref && h.kind !== 'alloc' && h.gen === alloc?.gen;
    if (alloc && (alloc.ref || (config.freeRepeatable && cpu.holds.some(stillHeld)))) step('free', id);
  }
  step(cpu.rcu ? 'rcu_read_unlock' : 'rcu_read_lock');
  return steps;
}

/** The transition system of an IOASID variant within bounds. */
export function ioasidSystem(config: IoasidConfig, bounds: Bounds): System<IoasidWorld> {
  return {
    init: initialWorld(config, bounds),
    enabled: (world) => world.cpus.flatMap((_, t) => cpuSteps(config, world, t, bounds.ops)),
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

function send(world: IoasidWorld, id: number, event: SlotEvent, machine: AnyStateMachine): Fired {
  // An id outside the table is a slot that was never allocated.
  const slot = world.slots[id] ?? { gen: 0, state: initialState<SlotContext>(machine) };
  const { state, reply } = fire(machine, slot.state, event);
  const gen = slot.state.value === 'freed' && state.value !== 'freed' ? slot.gen + 1 : slot.gen;
  const slots = { ...world.slots, [id]: { gen, state } };
  return { world: { ...world, slots }, reply, tookRef: state.context.refs > slot.state.context.refs };
}

const setArg = (cpu: Cpu, call: Call | undefined): string | null => (call?.set ? cpu.set : null);

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

/** One call by one CPU; the world and the reply after it. */
function call(config: IoasidConfig, world: IoasidWorld, t: number, op: string, id: number): Fired {
  const cpu = world.cpus[t]!;
  const { calls, machine } = config;
  const to = (event: SlotEvent['type'], c: Call | undefined) =>
    send(world, id, { type: event, set: setArg(cpu, c) }, machine);
  const hold = (kind: Hold['kind'], f: Fired, ref: boolean): Fired =>
    f.reply.ok
      ? { ...f, world: withCpu(f.world, t, addHold({ kind, id, gen: f.world.slots[id]!.gen, ref, rcu: kind === 'find' && cpu.rcu })) }
      : f;
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
      // use(p) drops find's reference if it took one; unbind drops bind's.
      const kind = op === 'use' ? 'find' : 'bind';
      const held = cpu.holds.find((h) => h.kind === kind && h.id === id);
      const f = held?.ref ? to('PUT', calls.put) : { world, reply: OK, tookRef: false };
      return { ...f, reply: OK, world: withCpu(f.world, t, dropHold(kind, id)) };
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

/** ioasid_alloc: the allocator picks a free id, the slot machine takes it. */
function alloc(config: IoasidConfig, world: IoasidWorld, t: number, oom: boolean): Outcome<IoasidWorld> {
  const invalid = { world, reply: { ok: false, text: 'INVALID_IOASID' } };
  // 000 ioasid_alloc: "if (!data) return INVALID_IOASID" when kzalloc fails.
  if (oom) return invalid;
  const { min, max } = world.range;
  const id = (config.allocator ?? lowestFree)((i) => !isLive(world.slots[i]), min, max);
  if (id === undefined) return invalid;
  const set = setArg(world.cpus[t]!, config.calls.alloc);
  const f = send(world, id, { type: 'ALLOC', set }, config.machine);
  if (!f.reply.ok) return f;
  const gen = f.world.slots[id]!.gen;
  const next = withCpu(f.world, t, addHold({ kind: 'alloc', id, gen, ref: true, rcu: false }));
  return { world: next, reply: { ok: true, text: String(id) } };
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
  const { world: next, reply } = call(config, counted, t, step.op, Number(step.args[0]));
  return { world: next, reply };
}
