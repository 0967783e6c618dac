/**
 * The interpreter: one engine step starts a call (and runs its first step) or
 * runs a thread's next step, then moves its program counter as the step's
 * flow says, and when the call returns, says what lockdep and the call's
 * unwinding would (locks still held, a failure that changed something).
 * What the kernel would have printed is in the reply's `warnings`, where the
 * stock properties find it.
 */
import { DefinitionError } from '../engine/define.ts';
import type { Bounds, Reply, Step as EngineStep } from '../engine/model.ts';
import { perform } from './actions.ts';
import { failed } from './deref.ts';
import type { Call, Return, Step } from './calls.ts';
import { callTable, FLOWS } from './callMachine.ts';
import { Ctx, type Flow } from './context.ts';
import type { Layout } from './parts.ts';
import { blockedOn } from './waits.ts';
import { callOf, entryOf, sameObject, sortedRecord, firstStep, idle, labelAt, objName, workFrame, type KitSpec, type KitWorld, type Local } from './world.ts';

/** Runs one engine step: starts a call (and its first step), or runs the thread's next step (an atomic block's every step). */
export function applyStep(spec: KitSpec, bounds: Bounds, layout: Layout, world: KitWorld, step: EngineStep): { world: KitWorld; reply: Reply } {
  const ctx = new Ctx(spec, bounds, layout, world, step.thread);
  const reply = runStep(ctx, step);
  return { world: ctx.after(), reply };
}

/** Runs one engine step in `ctx`: the reply; the world after it is `ctx`'s. */
export function runStep(ctx: Ctx, step: EngineStep): Reply {
  const spec = ctx.spec;
  if (ctx.th.call === null) start(ctx, callOf(spec, step.op), step.args);
  const c = callOf(spec, ctx.th.call!);
  const first = c.items[ctx.th.pc] as Step;
  // A failure the explorer injects comes after the call's arguments (which only a call's start has).
  const injected = step.args.find((a): a is string => typeof a === 'string');
  // What the kernel would print, starting with what the call's start found: this step's own array.
  const warnings = ctx.stale;
  let item = first;
  let done = injected !== undefined ? failed(injected) : perform(ctx, item);
  let failedWith = done.flow.to === 'fail' ? done.flow.errno : undefined;
  for (;;) {
    if (done.warnings) warnings.push(...done.warnings);
    countStep(c, ctx.th.pc, done.flow);
    // The frame the step ends with: a return clears the thread's, and the block's result is read from it.
    const frame = ctx.th.frame;
    const ended = advance(ctx, c, item, done.flow);
    if (ended) {
      if (ended.warnings.length) warnings.push(...ended.warnings);
      const text = `${blockText(frame, item, done.text, failedWith)}; returns ${ended.value}`;
      return reply(!ended.failure, text, warnings);
    }
    const next = c.items[ctx.th.pc] as Step;
    const inBlock = item.atomic !== undefined && next.atomic === item.atomic && done.flow.to !== 'stay';
    if (!inBlock || blockedOn(ctx, ctx.t, next.action)) {
      const ok = failedWith === undefined && done.flow.to !== 'fail';
      return reply(ok, blockText(frame, item, done.text, failedWith), warnings);
    }
    item = next;
    done = perform(ctx, item);
    if (done.flow.to === 'fail') failedWith ??= done.flow.errno;
  }
}

const reply = (ok: boolean, text: string, warnings: readonly string[]): Reply => (warnings.length ? { ok, text, warnings } : { ok, text });

/** What a step's trace line says: its own text, or for a block, the errno it failed with or the object in its result. */
function blockText(frame: Readonly<Record<string, Local>>, item: Step, text: string, failedWith: string | undefined): string {
  if (item.atomic === undefined) return text;
  if (failedWith !== undefined) return failedWith;
  const r = item.atomic.result === undefined ? undefined : frame[item.atomic.result];
  return r !== null && r !== undefined && typeof r === 'object' ? objName(r.kind, r.slot, r.gen) : 'ok';
}

function start(ctx: Ctx, c: Call, args: readonly (string | number)[]): void {
  const worker = ctx.th.worker === true;
  let frame: Record<string, Local>;
  if (worker) {
    // The kworker takes the oldest work; the pointer it was queued with is its local.
    const [head, ...rest] = ctx.queue();
    ctx.setQueue(rest);
    frame = workFrame(head!);
  } else {
    frame = { ...currentLocals(ctx) };
    let k = 0;
    for (const name in c.args) frame[name] = Number(args[k++]);
  }
  if (c === ctx.spec.exit) ctx.setExited();
  ctx.edit((th) => {
    th.call = c.name;
    th.pc = firstStep(c, 0);
    th.frame = frame;
    th.errno = null;
    th.effects = {};
  });
  // The scenario's budget counts a CPU's calls: not the kworker's works, nor the exit.
  if (!worker && c !== ctx.spec.exit) ctx.countCall(ctx.t);
  if (!worker) ctx.stale = staleIds(ctx, c, frame);
}

const taskLocals = new WeakMap<object, Readonly<Record<string, Local>>>();

/** The locals `current` gives the thread: its task's objects, each as it was when the scenario started, or NULL (found once per task). */
function currentLocals(ctx: Ctx): Readonly<Record<string, Local>> {
  const task = ctx.th.task;
  if (!task) return {};
  let locals = taskLocals.get(task);
  if (!locals) {
    locals = Object.fromEntries(Object.entries(task).map(([local, e]) => [local, e && { kind: e.kind, slot: e.slot, gen: e.gen, prot: 'current' }]));
    taskLocals.set(task, locals);
  }
  return locals;
}

/** The ids this call was given that the thread got from an earlier call, and that now name another object. */
function staleIds(ctx: Ctx, c: Call, frame: Readonly<Record<string, Local>>): string[] {
  return Object.entries(c.args).flatMap(([local, space]) => {
    const id = frame[local] as number;
    const then = ctx.handlesOf(ctx.t)?.[`${space}:${id}`];
    const now = entryOf(ctx.entry(space, id - ctx.idBase(space)));
    if (!then || !now || sameObject(now, then)) return [];
    const was = objName(then.kind, then.slot, then.gen);
    return [`stale id: ${ctx.who} ${c.name}(${id}) acts on a stale id: ${space} ${id} was ${was} when ${ctx.who} got it, and is now ${objName(now.kind, now.slot, now.gen)}`];
  });
}

const EVENT = { next: 'NEXT', label: 'ZERO', fail: 'FAIL' } as const;

/** Fires the call's machine for the way this step went: what coverage counts and the review draws. */
function countStep(c: Call, pc: number, flow: Flow): void {
  if (flow.to === 'stay' || flow.to === 'oops') return;
  const { table, code } = callTable(c);
  // A branch (a check or a type switch without an errno) takes the step's `fail` edge without failing.
  const event = flow.to === 'label' && flow.label === (c.items[pc] as Step).fail ? 'FAIL' : EVENT[flow.to];
  table.next(code.ofItem(pc), FLOWS.indexOf(event));
}

/** Moves the program counter past `item` as `flow` says; the call's return when it ends. */
function advance(ctx: Ctx, c: Call, item: Step, flow: Flow): Ended | undefined {
  let pc: number;
  if (flow.to === 'oops') return finish(ctx, c, 'Oops');
  if (flow.to === 'stay') return undefined;
  if (flow.to === 'next') pc = ctx.th.pc + 1;
  else if (flow.to === 'label') pc = labelAt(c, flow.label);
  else {
    ctx.edit((th) => {
      th.errno = flow.errno;
    });
    if (item.fail === undefined) return finish(ctx, c, flow.errno);
    pc = labelAt(c, item.fail);
  }
  pc = firstStep(c, pc);
  const at = c.items[pc];
  if (at === undefined) return finish(ctx, c, 0);
  if ('ret' in at) return finish(ctx, c, returned(ctx, at.ret));
  ctx.edit((th) => {
    th.pc = pc;
  });
  return undefined;
}

/** What a pointer field (`hwpt 1->ioas`) holds now, or an object's phase (`set 1.phase`), as a failed call's report shows it. */
function valueNow(ctx: Ctx, where: string): string {
  const phase = where.endsWith('.phase');
  const [object, field] = (phase ? [where.slice(0, -'.phase'.length), ''] : where.split('->')) as [string, string];
  const [kind, n] = object.split(' ') as [string, string];
  const o = ctx.objAt(kind, Number(n) - 1);
  if (phase) return o.state === 'live' ? String(o.phase) : 'freed';
  const e = o.links[field] ?? null;
  return e ? objName(e.kind, e.slot, e.gen) : 'NULL';
}

/** The value a `ret` returns; an id returned is kept by the thread with what it means now. */
function returned(ctx: Ctx, r: Return): string | number {
  if (r === 'errno') return ctx.th.errno ?? 0;
  if (typeof r === 'number') return r;
  if (r.value !== undefined && ctx.th.errno !== null) return ctx.th.errno;
  const id = ctx.local(r.id);
  if (typeof id !== 'number') throw new DefinitionError(`call '${ctx.th.call}' returns '${r.id}', which holds no id`);
  const entry = entryOf(ctx.entry(r.space, id - ctx.idBase(r.space)));
  if (entry) {
    ctx.setHandles(ctx.t, sortedRecord({ ...ctx.handlesOf(ctx.t), [`${r.space}:${id}`]: { kind: entry.kind, slot: entry.slot, gen: entry.gen } }));
  }
  return r.value === undefined ? id : `${r.value} (id ${id})`;
}

/** How a call ended: what it returned, whether that is a failure, and what lockdep and its unwinding say. */
interface Ended {
  readonly value: string | number;
  readonly failure: boolean;
  readonly warnings: string[];
}

/** The call returns `value`: lockdep's word on what it still holds, and the thread is idle again. */
function finish(ctx: Ctx, c: Call, value: string | number): Ended {
  const th = ctx.th;
  // A failure is an errno: `-EBUSY`, or a failed step's own word for it (`INVALID_IOASID`, which is no errno).
  const failure = typeof value === 'string' && (value.startsWith('-') || value === th.errno);
  const warnings = [
    ...th.locks.map((l) => `WARNING: lock held when returning to user space! ${ctx.who} returns from ${c.name} holding ${l}`),
    ...(th.rcu > 0 ? [`WARNING: ${ctx.who} returns from ${c.name} inside rcu_read_lock()`] : []),
  ];
  if (failure) {
    const changed = [
      ...Object.entries(th.effects).map(([what, d]) => `${what} ${d > 0 ? '+' : ''}${d}`),
      ...Object.entries(th.linksWas ?? {}).flatMap(([where, was]) => {
        const now = valueNow(ctx, where);
        return now === was ? [] : [`${where} ${was} → ${now}`];
      }),
    ];
    if (changed.length) warnings.push(`${c.name} returned ${value} but left changed: ${changed.join(', ')}`);
  }
  // Idle again, keeping what outlives a call.
  ctx.thread((t) => ({ ...idle, rcu: t.rcu, locks: t.locks, worker: t.worker, task: t.task }));
  return { value, failure, warnings };
}
