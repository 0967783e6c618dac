/**
 * The iommufd world: one context's objects (each an object machine with its
 * id, the object it depends on and the hwpt a device is attached to), the
 * threads with their ioctl or kernel call in progress and what they hold,
 * and whether the file has been released.
 *
 * A call is a *program*: the kernel functions it runs in order, each one
 * step (a stage), so that other threads interleave between them where the
 * kernel drops its locks. A failing stage sends the run into its error path,
 * which undoes what the run holds in reverse order (abort, then put), as the
 * kernel's goto labels do. Variants are different programs and machines.
 */
import {
  fire,
  initialState,
  type AnyStateMachine,
  type Bounds,
  type MachineState,
  type Only,
  type Outcome,
  type Reply,
  type Step,
  type System,
} from 'lifecheck';
import { ioctlCalls } from './dispatch.ts';
import { BLOCKED, inXarray, KINDS, type Kind, type ObjectContext, type ObjectEvent } from './objects.ts';

/** One kernel function of a call, run as one step. */
export type Stage =
  | 'reserve' // iommufd_object_alloc: the lowest free id, as XA_ZERO_ENTRY
  | 'fallible' // a step that can still fail (the explorer may inject the fault)
  | 'finalize' // iommufd_object_finalize
  | 'lookup' // iommufd_get_object(id, type)
  | 'ref_to_users' // iommufd_ref_to_users: keep users, drop the short-term hold
  | 'adopt' // the new object keeps the caller's users ref as its dependency (access->ioas)
  | 'link' // refcount_inc(&target->users): the new object, or the device, depends on the target
  | 'check_pt' // the attach target must be a hwpt
  | 'put_users' // iommufd_put_object, first touch: users--
  | 'put_short' // iommufd_put_object, second touch: up_read / shortterm_users--
  | 'own' // the calling driver takes its users ref
  | 'down_write' // v6.2 destroy_user: down_write(&obj->destroy_rwsem)
  | 'remove' // under xa_lock: the caller's ref, refcount_dec_if_one(users), erase
  | 'drop_bias' // v6.7: drop the xarray's shortterm bias
  | 'wait' // v6.7: wait_event_timeout(destroy_wait, shortterm_users == 0)
  | 'free' // ops->destroy (drops the dependency's users) and kfree
  | 'unlink'; // detach: the device's and the hwpt's users--

/** What a thread can call. */
export type Op =
  | 'ioas_alloc'
  | 'hwpt_alloc'
  | 'destroy'
  | 'use'
  | 'bind'
  | 'attach'
  | 'detach'
  | 'unbind'
  | 'access_create'
  | 'access_destroy';

/** A call as a variant runs it. */
export interface Program {
  /** The kernel function or ioctl, for traces. */
  readonly call: string;
  readonly stages: readonly Stage[];
  /** The object type the call creates (its `reserve`). */
  readonly creates?: Kind;
  /** The type `lookup` asks for ('any': IOMMUFD_OBJ_ANY). */
  readonly looksUp?: Kind | 'any';
  /** The `fallible` stage: the kernel function and the errno it fails with. */
  readonly fallible?: { readonly fn: string; readonly errno: string };
  /** A kernel-owned object's destroy (unbind, access destroy): it must not fail (A.6 WARN_ON(!destroyed)). */
  readonly kernelDestroy?: Kind;
}

export interface IommufdConfig {
  /** The object lifecycle (objects.ts). */
  readonly object: AnyStateMachine;
  /** The ioctl dispatcher (dispatch.ts). */
  readonly dispatch: AnyStateMachine;
  readonly programs: Readonly<Record<Op, Program>>;
}

/** A thread's reference on an object from iommufd_get_object: `users` and the short-term hold, each until put. */
export interface Hold {
  readonly serial: number;
  readonly users: boolean;
  readonly short: boolean;
}

/** A call in progress. */
export interface Run {
  readonly op: Op;
  /** The next stage. */
  readonly at: number;
  /** The id the caller passed. */
  readonly id?: number;
  /** The object the call works on (looked up, or the caller's own). */
  readonly target?: number;
  /** The object the call reserved. */
  readonly obj?: number;
  /** Set once a stage failed: the errno the call returns; what is left is the error path. */
  readonly error?: string;
  /** v6.2: queued in down_write. */
  readonly queued?: boolean;
  /** v6.7: the xarray's shortterm bias has been dropped by this call. */
  readonly biasDropped?: boolean;
  /** How many holds the thread had when the call began (what it holds beyond them is the call's). */
  readonly held: number;
}

export interface Thread {
  /** Calls made so far (teardown of what it owns is not counted). */
  readonly pc: number;
  readonly exited: boolean;
  readonly run?: Run;
  readonly holds: readonly Hold[];
  /** Objects this thread's driver owns (A.6: a bound device, an access): their serials. */
  readonly owns: readonly number[];
}

/** One object (one allocation: a reused id is a new serial). */
export interface Obj {
  readonly serial: number;
  readonly id: number;
  /** The object it holds a users ref on: a hwpt's ioas, an access's ioas. */
  readonly parent?: number;
  /** A device's hwpt while attached (A.6: the device holds users on it, and one on itself). */
  readonly attachedTo?: number;
  readonly state: MachineState<ObjectContext>;
}

export interface IommufdWorld {
  readonly range: { readonly min: number; readonly max: number };
  /** Every allocated and not yet freed object, by serial. */
  readonly objects: readonly Obj[];
  /** The last serial handed out. */
  readonly serial: number;
  readonly threads: readonly Thread[];
  /** iommufd_fops_release has run (the release actor is thread number `threads.length`). */
  readonly released: boolean;
  /** What release said: every object destroyed, or the WARN and what is left. */
  readonly releaseReply?: Reply;
}

const OK: Reply = { ok: true, text: '0' };

// ---------------------------------------------------------------------------
// Reading the world.

export const objectOf = (world: IommufdWorld, serial: number | undefined): Obj | undefined =>
  serial === undefined ? undefined : world.objects.find((o) => o.serial === serial);

/** The object an id names in the xarray (reserved ones included, as XA_ZERO_ENTRY). */
export const byId = (world: IommufdWorld, id: number): Obj | undefined =>
  world.objects.find((o) => o.id === id && inXarray(o.state.value));

const kindOf = (o: Obj): Kind => o.state.context.kind;

/** An object as the kernel's messages name it: `ioas 1`. */
export const objName = (o: Obj): string => `${kindOf(o)} ${o.id}`;

export const threadName = (world: IommufdWorld, t: number): string => (t < world.threads.length ? `CPU${t}` : 'release');

/** The device or access a thread owns. */
export const owned = (world: IommufdWorld, thread: Thread, kind: Kind): Obj | undefined =>
  thread.owns.map((s) => objectOf(world, s)).find((o) => o !== undefined && kindOf(o) === kind);

/** Who holds a users ref on an object, by the world's own records (kernel-semantics D.1), each named. */
export function usersOwed(world: IommufdWorld, serial: number): string[] {
  const o = objectOf(world, serial);
  const owed: string[] = [];
  if (o && inXarray(o.state.value)) owed.push('the xarray');
  for (const x of world.objects) {
    if (x.parent === serial) owed.push(`${objName(x)} (depends on it)`);
    if (x.attachedTo === serial) owed.push(`${objName(x)} (attached)`);
  }
  // v6.2 iommufd_device_attach: refcount_inc(&idev->obj.users) while attached.
  if (o?.attachedTo !== undefined) owed.push('its attachment');
  world.threads.forEach((th, t) => {
    if (th.owns.includes(serial)) owed.push(`${threadName(world, t)}'s driver`);
    for (const h of th.holds) if (h.serial === serial && h.users) owed.push(`${threadName(world, t)}'s lookup`);
  });
  return owed;
}

/** The program of a run. */
export const programOf = (config: IommufdConfig, run: Run): Program => config.programs[run.op];

// ---------------------------------------------------------------------------
// Changing the world.

function withThread(world: IommufdWorld, t: number, change: (th: Thread) => Thread): IommufdWorld {
  return { ...world, threads: world.threads.map((th, i) => (i === t ? change(th) : th)) };
}

function withObject(world: IommufdWorld, serial: number, change: (o: Obj) => Obj): IommufdWorld {
  return { ...world, objects: world.objects.map((o) => (o.serial === serial ? change(o) : o)) };
}

const withRun = (world: IommufdWorld, t: number, change: Partial<Run>) =>
  withThread(world, t, (th) => ({ ...th, run: { ...th.run!, ...change } }));

interface Fired {
  readonly world: IommufdWorld;
  readonly reply: Reply;
}

/** Fires an event on an object; a freed object is a use after free, which changes nothing. */
function send(config: IommufdConfig, world: IommufdWorld, serial: number | undefined, event: ObjectEvent): Fired {
  const o = objectOf(world, serial);
  if (!o) return { world, reply: { ok: false, text: 'use after free' } };
  const { state, reply } = fire<ObjectContext>(config.object, o.state, event);
  return { world: withObject(world, o.serial, (x) => ({ ...x, state })), reply };
}

/** Fires events in order, stopping at the first that fails; the last reply. */
function sendAll(config: IommufdConfig, world: IommufdWorld, events: readonly [number | undefined, ObjectEvent][]): Fired {
  let f: Fired = { world, reply: OK };
  for (const [serial, event] of events) {
    f = send(config, f.world, serial, event);
    if (!f.reply.ok) return f;
  }
  return f;
}

/**
 * Clears fields of a thread's hold on `serial`: the latest one that has them
 * set (the call in progress's, not one an earlier call leaked). A hold with
 * nothing left goes.
 */
function setHold(th: Thread, serial: number, change: Partial<Hold>): Thread {
  const fields = Object.keys(change) as (keyof Hold)[];
  let i = th.holds.length - 1;
  while (i >= 0 && !(th.holds[i]!.serial === serial && fields.some((f) => th.holds[i]![f]))) i--;
  if (i < 0) return th;
  const holds = th.holds.map((h, j) => (j === i ? { ...h, ...change } : h)).filter((h) => h.users || h.short);
  return { ...th, holds };
}

/** ops->destroy and kfree: the object's dependencies lose its users ref, and it is gone. */
function destroyObject(config: IommufdConfig, world: IommufdWorld, serial: number): IommufdWorld {
  const o = objectOf(world, serial)!;
  let w = world;
  // A.6: a hwpt's destroy drops the ioas users ref (hw_pagetable.c "Pairs with iommufd_hw_pagetable_destroy()").
  if (o.parent !== undefined) w = send(config, w, o.parent, { type: 'DEC_USERS' }).world;
  if (o.attachedTo !== undefined) w = send(config, w, o.attachedTo, { type: 'DEC_USERS' }).world;
  return {
    ...w,
    objects: w.objects.filter((x) => x.serial !== serial),
    threads: w.threads.map((th) => ({ ...th, owns: th.owns.filter((s) => s !== serial) })),
  };
}

/** A.6 xa_alloc(XA_LIMIT(1, ...)): the lowest id no object holds in the xarray. */
function freeId(world: IommufdWorld): number | undefined {
  for (let id = world.range.min; id <= world.range.max; id++) if (!byId(world, id)) return id;
  return undefined;
}

// ---------------------------------------------------------------------------
// Stages: one kernel function each. A stage returns the next world and its
// reply; `stay` keeps the run at the stage (a wait that has queued).

interface Done extends Fired {
  readonly stay?: boolean;
}

/**
 * The users ref a destroy puts first (A.6 "the caller holds one users ref"):
 * a kernel destroy's is its driver's; IOMMU_DESTROY's is its own lookup's, if it took one.
 */
function callerRef(program: Program, th: Thread, serial: number): boolean {
  return program.kernelDestroy ? th.owns.includes(serial) : th.holds.some((h) => h.serial === serial && h.users);
}

function dropCallerRef(program: Program, th: Thread, serial: number): Thread {
  return program.kernelDestroy ? { ...th, owns: th.owns.filter((s) => s !== serial) } : setHold(th, serial, { users: false });
}

/** The stages that let go of (part of) a lookup's hold: the object's event, and what the thread no longer holds. */
const holdChanges = {
  // Seed 002 iommufd_ref_to_users: the short-term hold goes, users stays.
  ref_to_users: ['REF_TO_USERS', { short: false }],
  // A.6 iommufd_put_object: users first, then the short-term hold, two touches of the object.
  put_users: ['PUT_USERS', { users: false }],
  put_short: ['PUT_SHORT', { short: false }],
} as const;

function runStage(config: IommufdConfig, world: IommufdWorld, t: number, stage: Stage, alt: string | undefined): Done {
  const th = world.threads[t]!;
  const run = th.run!;
  const program = programOf(config, run);
  const target = run.target;
  switch (stage) {
    case 'reserve': {
      const id = freeId(world);
      // A.6 _iommufd_object_alloc: "the xa_alloc error: -EBUSY when the ID range is full".
      if (id === undefined) return { world, reply: { ok: false, text: '-EBUSY' } };
      const serial = world.serial + 1;
      const event: ObjectEvent = { type: 'RESERVE', kind: program.creates! };
      const { state, reply } = fire<ObjectContext>(config.object, initialState(config.object), event);
      const w = { ...world, serial, objects: [...world.objects, { serial, id, state }] };
      return { world: withRun(w, t, { obj: serial }), reply: { ...reply, text: String(id) } };
    }
    case 'fallible': {
      const f = program.fallible!;
      return alt === 'fault' ? { world, reply: { ok: false, text: f.errno } } : { world, reply: OK };
    }
    case 'finalize':
      return send(config, world, run.obj, { type: 'FINALIZE' });
    case 'lookup': {
      const o = byId(world, run.id!);
      if (!o) return { world, reply: { ok: false, text: '-ENOENT' } };
      const f = send(config, world, o.serial, { type: 'LOCK', kind: program.looksUp ?? 'any' });
      if (!f.reply.ok) return f;
      const w = withThread(f.world, t, (x) => ({ ...x, holds: [...x.holds, { serial: o.serial, users: true, short: true }] }));
      return { world: withRun(w, t, { target: o.serial }), reply: f.reply };
    }
    case 'adopt': {
      // The caller's users ref becomes the new object's (seed 002: "cases that have longer term needs").
      const w = withThread(world, t, (x) => setHold(x, target!, { users: false }));
      return { world: withObject(w, run.obj!, (o) => ({ ...o, parent: target })), reply: OK };
    }
    case 'link': {
      if (run.obj !== undefined) {
        const f = send(config, world, target, { type: 'INC_USERS' });
        return f.reply.ok ? { ...f, world: withObject(f.world, run.obj, (o) => ({ ...o, parent: target })) } : f;
      }
      // A.6 v6.2 iommufd_device_do_attach: refcount_inc(&hwpt->obj.users), then attach: refcount_inc(&idev->obj.users).
      const dev = owned(world, th, 'device')!;
      const f = sendAll(config, world, [
        [target, { type: 'INC_USERS' }],
        [dev.serial, { type: 'INC_USERS' }],
      ]);
      return f.reply.ok ? { ...f, world: withObject(f.world, dev.serial, (o) => ({ ...o, attachedTo: target })) } : f;
    }
    case 'check_pt': {
      // v6.2 iommufd_device_attach: "default: rc = -EINVAL" for a type that is no page table (auto domains not modelled).
      const o = objectOf(world, target);
      return o && kindOf(o) === 'hwpt' ? { world, reply: OK } : { world, reply: { ok: false, text: '-EINVAL' } };
    }
    case 'ref_to_users':
    case 'put_users':
    case 'put_short': {
      const [type, hold] = holdChanges[stage];
      const f = send(config, world, target, { type });
      return { ...f, world: withThread(f.world, t, (x) => setHold(x, target!, hold)) };
    }
    case 'own': {
      // A.6 bind/access_create: "The calling driver is a user until iommufd_device_unbind()".
      const f = send(config, world, run.obj, { type: 'INC_USERS' });
      return f.reply.ok ? { ...f, world: withThread(f.world, t, (x) => ({ ...x, owns: [...x.owns, run.obj!] })) } : f;
    }
    case 'down_write': {
      if (!run.queued) {
        const f = send(config, world, target, { type: 'DOWN_WRITE' });
        return f.reply.text === 'waits' ? { ...f, world: withRun(f.world, t, { queued: true }), stay: true } : f;
      }
      const f = send(config, world, target, { type: 'ACQUIRE_WRITE' });
      return { ...f, world: withRun(f.world, t, { queued: false }) };
    }
    case 'remove': {
      // v6.7 IOMMU_DESTROY takes no reference: it finds the object by id under xa_lock.
      const serial = target ?? byId(world, run.id!)?.serial;
      if (serial === undefined) return { world, reply: { ok: false, text: '-ENOENT' } };
      const mine = callerRef(program, th, serial);
      const f = send(config, world, serial, { type: 'REMOVE', callerRef: mine, biasDropped: run.biasDropped ?? false });
      if (f.reply.text === '-ENOENT') return f;
      const w = mine ? withThread(f.world, t, (x) => dropCallerRef(program, x, serial)) : f.world;
      return { world: withRun(w, t, { target: serial, biasDropped: false }), reply: f.reply };
    }
    case 'drop_bias': {
      const f = send(config, world, target, { type: 'DROP_BIAS' });
      return { ...f, world: withRun(f.world, t, { biasDropped: true }) };
    }
    case 'wait': {
      if (alt !== 'timeout') return send(config, world, target, { type: 'WAIT' });
      // A.6 v6.7: on timeout the caller's ref is put, and "the object then lives until fd close".
      const mine = callerRef(program, th, target!);
      const f = send(config, world, target, { type: 'TIMEOUT', callerRef: mine });
      const w = mine ? withThread(f.world, t, (x) => dropCallerRef(program, x, target!)) : f.world;
      return { world: withRun(w, t, { biasDropped: false }), reply: f.reply };
    }
    case 'free': {
      const f = send(config, world, target, { type: 'FREE' });
      return f.reply.ok ? { world: destroyObject(config, f.world, target!), reply: OK } : f;
    }
    case 'unlink': {
      const dev = owned(world, th, 'device')!;
      const f = sendAll(config, world, [
        [dev.attachedTo, { type: 'DEC_USERS' }],
        [dev.serial, { type: 'DEC_USERS' }],
      ]);
      return { ...f, world: withObject(f.world, dev.serial, (o) => ({ ...o, attachedTo: undefined })) };
    }
  }
}

/** The error path's next step: abort what the run reserved, then put what it looked up (reverse order). */
function unwindStage(world: IommufdWorld, t: number): 'abort' | 'put_users' | 'put_short' | undefined {
  const th = world.threads[t]!;
  const run = th.run!;
  if (run.obj !== undefined) return 'abort';
  const hold = th.holds.slice(run.held).find((h) => h.serial === run.target);
  if (hold?.users) return 'put_users';
  if (hold?.short) return 'put_short';
  return undefined;
}

/** A.6 iommufd_object_abort_and_destroy: ops->destroy, then abort (xa_erase and kfree). */
function abort(config: IommufdConfig, world: IommufdWorld, t: number): Fired {
  const serial = world.threads[t]!.run!.obj!;
  const f = send(config, world, serial, { type: 'ABORT' });
  const w = objectOf(f.world, serial) ? destroyObject(config, f.world, serial) : f.world;
  return { world: withThread(w, t, (th) => ({ ...th, run: withoutObj(th.run!) })), reply: f.reply };
}

const withoutObj = ({ obj: _aborted, ...run }: Run): Run => run;

/** The stage a run takes next, or undefined when it is over. */
export function nextStage(config: IommufdConfig, world: IommufdWorld, t: number): Stage | 'abort' | undefined {
  const run = world.threads[t]!.run!;
  if (run.error !== undefined) return unwindStage(world, t);
  return programOf(config, run).stages[run.at];
}

/**
 * The stages that return an error the caller handles. Elsewhere a bad reply
 * (a refcount_inc on a freed object, a WARN) is shown but the code goes on,
 * as the kernel's does.
 */
const CAN_FAIL: ReadonlySet<Stage | 'abort'> = new Set<Stage>(['reserve', 'fallible', 'lookup', 'check_pt', 'remove', 'wait']);

/** Runs the run's next stage; the run ends when nothing is left, with its errno or its last reply. */
function advance(config: IommufdConfig, world: IommufdWorld, t: number, alt: string | undefined): Outcome<IommufdWorld> {
  const run = world.threads[t]!.run!;
  const stage = nextStage(config, world, t)!;
  const done: Done = stage === 'abort' ? abort(config, world, t) : runStage(config, world, t, stage, alt);
  if (done.stay) return { world: done.world, reply: done.reply };
  const failed = run.error === undefined && !done.reply.ok && CAN_FAIL.has(stage);
  const error = run.error ?? (failed ? failure(programOf(config, run), done.reply.text) : undefined);
  const at = error === undefined ? run.at + 1 : run.at;
  const w = withRun(done.world, t, { at, ...(error !== undefined ? { error } : {}) });
  if (nextStage(config, w, t) !== undefined) return { world: w, reply: done.reply };
  const over = withThread(w, t, ({ run: _over, ...th }) => th);
  // A call that took no error path succeeded, whatever its last touch said (a WARN, a use after free).
  if (error === undefined) return { world: over, reply: { ...done.reply, ok: true } };
  // The call's errno; a last step of the error path that itself went wrong (a WARN) says so too.
  const text = run.error === undefined || done.reply.ok || done.reply.text === error ? error : `${error} (${done.reply.text})`;
  return { world: over, reply: { ok: false, text } };
}

/** The errno a call returns for a failed stage; a kernel destroy cannot fail, so it WARNs. */
function failure(program: Program, text: string): string {
  return program.kernelDestroy ? `WARN: ${text}` : text;
}

// ---------------------------------------------------------------------------
// Steps.

/** Whether a wait or a queued down_write would proceed now (the machine does not answer BLOCKED). */
function proceeds(config: IommufdConfig, world: IommufdWorld, t: number, stage: Stage): boolean {
  const run = world.threads[t]!.run!;
  const o = objectOf(world, run.target);
  if (!o) return true;
  const event: ObjectEvent | undefined =
    stage === 'wait' ? { type: 'WAIT' } : stage === 'down_write' && run.queued ? { type: 'ACQUIRE_WRITE' } : undefined;
  return !event || fire<ObjectContext>(config.object, o.state, event).reply.text !== BLOCKED;
}

/**
 * A.6 v6.7: the bounded wait expires only while another thread holds the
 * object in a call that can sleep; a holder inside iommufd_put_object (users
 * already put) finishes at once.
 */
function canTimeOut(world: IommufdWorld, t: number): boolean {
  const target = world.threads[t]!.run!.target;
  return world.threads.some((th, i) => i !== t && th.holds.some((h) => h.serial === target && h.users && h.short));
}

/** The steps of a thread in the middle of a call: its next stage (and the stage's fault), or none while it waits. */
function runSteps(config: IommufdConfig, world: IommufdWorld, t: number): Step[] {
  const stage = nextStage(config, world, t)!;
  if (stage === 'abort' || stage === 'put_users' || stage === 'put_short') return [{ thread: t, op: stage, args: [] }];
  const steps: Step[] = [];
  const moves = proceeds(config, world, t, stage);
  if (moves) steps.push({ thread: t, op: stage, args: [] });
  if (stage === 'fallible') steps.push({ thread: t, op: stage, args: ['fault'] });
  if (stage === 'wait' && !moves && canTimeOut(world, t)) {
    steps.push({ thread: t, op: stage, args: ['timeout'] });
  }
  return steps;
}

const ids = (world: IommufdWorld) => Array.from({ length: world.range.max - world.range.min + 1 }, (_, i) => world.range.min + i);

/** The calls an idle thread may start, in a fixed order: exit and teardown first, so schedules shrink towards them. */
function idleSteps(world: IommufdWorld, t: number, ops: number, allowed: (op: string) => boolean): Step[] {
  const th = world.threads[t]!;
  const steps: Step[] = [];
  const step = (op: string, arg?: number | string) => {
    if (allowed(op)) steps.push({ thread: t, op, args: arg === undefined ? [] : [arg] });
  };
  const device = owned(world, th, 'device');
  const access = owned(world, th, 'access');
  // A driver tears down what it owns before it goes (VFIO detaches, then unbinds).
  if (th.owns.length === 0) steps.push({ thread: t, op: 'exit', args: [] });
  if (device?.attachedTo !== undefined) step('detach');
  else if (device) step('unbind');
  if (access) step('access_destroy');
  if (th.pc >= ops) return steps;
  step('ioas_alloc');
  for (const id of ids(world)) {
    step('hwpt_alloc', id);
    step('use', id);
    step('destroy', id);
  }
  if (!device) step('bind');
  if (device && device.attachedTo === undefined) for (const id of ids(world)) step('attach', id);
  if (!access) for (const id of ids(world)) step('access_create', id);
  for (const name of Object.keys(ioctlCalls)) step('ioctl', name);
  return steps;
}

/** Ops that tear down what a thread owns: always allowed, and not counted against its calls. */
const TEARDOWN = new Set(['detach', 'unbind', 'access_destroy']);

/** The ops each kind's calls need (`--only kinds=...` keeps these). */
const opsOfKind: Record<Kind, readonly string[]> = {
  ioas: ['ioas_alloc', 'use'],
  hwpt: ['hwpt_alloc'],
  device: ['bind', 'attach', 'detach', 'unbind'],
  access: ['access_create', 'access_destroy'],
};

const USER_OPS = ['ioas_alloc', 'hwpt_alloc', 'use', 'destroy', 'bind', 'attach', 'detach', 'unbind', 'access_create', 'access_destroy', 'ioctl'];

/** What a scenario may narrow with `--only`: the calls threads make, and the object types they create. */
export function iommufdChoices(): Only {
  return { ops: USER_OPS, kinds: [...KINDS] };
}

/** Starts a call: the thread's first stage runs in the same step. */
function start(config: IommufdConfig, world: IommufdWorld, t: number, step: Step): Outcome<IommufdWorld> {
  const op = step.op as Op;
  const th = world.threads[t]!;
  const counted = TEARDOWN.has(op) ? world : withThread(world, t, (x) => ({ ...x, pc: x.pc + 1 }));
  const id = typeof step.args[0] === 'number' ? step.args[0] : undefined;
  const kernel = config.programs[op].kernelDestroy;
  const target = kernel ? owned(world, th, kernel)?.serial : undefined;
  const run: Run = { op, at: 0, held: th.holds.length, ...(id !== undefined ? { id } : {}), ...(target !== undefined ? { target } : {}) };
  return advance(config, withThread(counted, t, (x) => ({ ...x, run })), t, undefined);
}

/** A.6 (seed 002 ioctl): the dispatcher's errno for a malformed call; nothing else changes. */
function ioctl(config: IommufdConfig, world: IommufdWorld, t: number, name: string): Outcome<IommufdWorld> {
  const { reply } = fire<object>(config.dispatch, initialState(config.dispatch), { type: 'IOCTL', ...ioctlCalls[name]! });
  return { world: withThread(world, t, (x) => ({ ...x, pc: x.pc + 1 })), reply };
}

/**
 * A.6 iommufd_fops_release: passes over the xarray destroying every object
 * whose users is exactly the xarray's (leaves first, then what they held),
 * until none is left; a pass that destroys nothing is a refcount bug: WARN, and the rest leaks.
 */
function release(config: IommufdConfig, world: IommufdWorld): IommufdWorld {
  let w = world;
  for (;;) {
    const live = w.objects.filter((o) => inXarray(o.state.value));
    if (live.length === 0) return { ...w, released: true, releaseReply: { ok: true, text: 'every object destroyed' } };
    let destroyed = 0;
    for (const o of live) {
      const f = send(config, w, o.serial, { type: 'REMOVE', callerRef: false, biasDropped: false });
      if (!f.reply.ok) continue;
      destroyed++;
      w = destroyObject(config, send(config, f.world, o.serial, { type: 'FREE' }).world, o.serial);
    }
    if (destroyed === 0) {
      const left = live.map((o) => `${objName(o)} users=${o.state.context.users}`).join(', ');
      return { ...w, released: true, releaseReply: { ok: false, text: `WARN_ON(!destroyed): ${left} leak` } };
    }
  }
}

function initialWorld(bounds: Bounds): IommufdWorld {
  const thread: Thread = { pc: 0, exited: false, holds: [], owns: [] };
  return { range: bounds.ids, objects: [], serial: 0, threads: Array.from({ length: bounds.threads }, () => thread), released: false };
}

/** Exit: the thread is done; anything it still holds stays held (a leak release will meet). */
const exit = (world: IommufdWorld, t: number) => withThread(world, t, (th) => ({ ...th, exited: true }));

function applyStep(config: IommufdConfig, world: IommufdWorld, step: Step): Outcome<IommufdWorld> {
  const t = step.thread;
  if (t === world.threads.length) {
    const w = release(config, world);
    return { world: w, reply: w.releaseReply! };
  }
  if (step.op === 'exit') return { world: exit(world, t), reply: OK };
  if (step.op === 'ioctl') return ioctl(config, world, t, String(step.args[0]));
  if (world.threads[t]!.run) return advance(config, world, t, typeof step.args[0] === 'string' ? step.args[0] : undefined);
  return start(config, world, t, step);
}

/** The stages any program has, so a scenario can bound a run's length. */
const longest = (config: IommufdConfig) => Math.max(...Object.values(config.programs).map((p) => p.stages.length));

/** The transition system of an iommufd variant within bounds. */
export function iommufdSystem(config: IommufdConfig, bounds: Bounds): System<IommufdWorld> {
  const only = bounds.only ?? {};
  const kinds = only.kinds;
  const allowed = (op: string) =>
    (only.ops?.includes(op) ?? true) &&
    (!kinds || !Object.entries(opsOfKind).some(([kind, ops]) => ops.includes(op) && !kinds.includes(kind)));
  // A call's stages, its error path (abort and two puts) and a queued wait.
  const perCall = longest(config) + 4;
  return {
    init: initialWorld(bounds),
    horizon: bounds.threads * (bounds.ops + 2) * perCall,
    enabled(world) {
      const steps = world.threads.flatMap((th, t) => {
        if (th.exited) return [];
        return th.run ? runSteps(config, world, t) : idleSteps(world, t, bounds.ops, allowed);
      });
      const allExited = world.threads.every((th) => th.exited);
      return allExited && !world.released ? [{ thread: world.threads.length, op: 'release', args: [] }] : steps;
    },
    apply: (world, step) => applyStep(config, world, step),
  };
}
