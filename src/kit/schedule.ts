/**
 * What can run: which threads may take a step now (see waits.ts), the steps
 * the explorer may choose among (a fallible step's failure, a bounded wait's
 * timeout), and the transition system that puts it together.
 */
import type { Bounds, Property, Step as EngineStep, System } from '../engine/model.ts';
import type { Call, Step } from './calls.ts';
import { applyStep } from './step.ts';
import { StepCache, type Forms } from './cache.ts';
import { kitCodec } from './codec.ts';
import { collapseCodec } from '../explore/collapse.ts';
import { layoutOf } from './parts.ts';
import { blockedOn } from './waits.ts';
import { EnabledOnWords } from './enabled.ts';
import { DefinitionError } from '../engine/define.ts';
import { entryOf, initialWorld, nextStep, nextStepOf, spaceIds, viewOf, workFrame, type KitSpec, type KitWorld, type View } from './world.ts';

/** The ids a call's arguments may take, in order: every combination, one id of its space per argument. */
function argumentChoices(spec: KitSpec, c: Call, bounds: Bounds): number[][] {
  const idsOf = (space: string) => {
    const { min, max } = spaceIds(spec, space, bounds);
    return Array.from({ length: max - min + 1 }, (_, k) => min + k);
  };
  return Object.values(c.args).reduce<number[][]>((acc, space) => acc.flatMap((a) => idsOf(space).map((id) => [...a, id])), [[]]);
}

/** The thread that runs the spec's `exit`: the last CPU, once every thread has made all the calls it can and no work is left. */
export function exitSteps(spec: KitSpec, bounds: Bounds, view: View, starts: Starts): EngineStep[] {
  if (!spec.exit || view.exited || view.queue().length > 0) return [];
  for (let t = 0; t < view.threadCount; t++) {
    const th = view.threadAt(t);
    if (th.call !== null || (!th.worker && starts[t]!.length > 0 && view.callsOf(t) < bounds.ops)) return [];
  }
  return stepChoices(spec, view, { thread: bounds.threads - 1, op: spec.exit.name, args: [] });
}

/** Each thread's calls as it may start them (`callStarts`). */
export type Starts = readonly (readonly EngineStep[])[];

/**
 * Each thread's calls as it may start them, every argument combination: the
 * same in every world, so made once per system (the scenario's `--only
 * calls=`, and each CPU's role, narrow them).
 */
function callStarts(spec: KitSpec, bounds: Bounds, threads: number): Starts {
  const narrowed = Object.values(spec.calls).filter((c) => !bounds.only?.calls || bounds.only.calls.includes(c.name));
  const roles = spec.roles;
  return Array.from({ length: threads }, (_, thread) =>
    (roles ? narrowed.filter((c) => roles[thread % roles.length]!.includes(c.name)) : narrowed).flatMap((c) =>
      argumentChoices(spec, c, bounds).map((args) => ({ thread, op: c.name, args })),
    ),
  );
}

function enabledSteps(spec: KitSpec, bounds: Bounds, world: KitWorld, starts: Starts): EngineStep[] {
  const view = viewOf(world);
  const enabled: EngineStep[] = [];
  for (let t = 0; t < world.threads.length; t++) enabled.push(...threadSteps(spec, bounds, view, t, starts));
  return enabled.concat(exitSteps(spec, bounds, view, starts));
}

/** The steps thread `t` may take now. */
export function threadSteps(spec: KitSpec, bounds: Bounds, view: View, t: number, starts: Starts): EngineStep[] {
  const th = view.threadAt(t);
  if (th.call === null && th.worker) {
    const head = view.queue()[0];
    // The work's first step waits as it would with its pointer in hand.
    return head ? stepChoices(spec, view, { thread: t, op: head.work, args: [] }, { ...th, frame: workFrame(head) }) : [];
  }
  // A call starts by running its first step, so it waits as that step would.
  if (th.call === null) return view.callsOf(t) < bounds.ops ? starts[t]!.flatMap((start) => stepChoices(spec, view, start)) : [];
  return stepChoices(spec, view, { thread: t, op: th.call, args: [] });
}

/**
 * The step `go` takes next, unless it waits; and, for a fallible step, its failure (the errno after the call's
 * arguments). `th` is its thread as the step finds it (a kworker's holds its next work's pointer).
 */
function stepChoices(spec: KitSpec, view: View, go: EngineStep, th = view.threadAt(go.thread)): EngineStep[] {
  const a = nextStepOf(spec, th, go).action;
  const failing = (errno: string) => ({ ...go, args: [...go.args, errno] });
  if (blockedOn(view, go.thread, a, th.frame)) return a.op === 'wait' && a.timeout ? [failing(a.timeout)] : [];
  return a.op === 'fallible' ? [go, failing(a.errno)] : [go];
}

/**
 * How many works one run of `c` can lead to: those it queues, and those they
 * queue in turn (a work that queues itself again is not counted: its runs
 * are a loop, which the horizon is there to catch).
 */
function worksQueued(spec: KitSpec, c: Call, seen: ReadonlySet<string>): number {
  return c.items.reduce((n, item) => {
    if (!('fn' in item) || item.action.op !== 'queue_work' || seen.has(item.action.work)) return n;
    const work = spec.works?.[item.action.work];
    return n + 1 + (work ? worksQueued(spec, work, new Set([...seen, c.name, item.action.work])) : 0);
  }, 0);
}

/** The world the scenario starts from: the initial one, after the spec's `setup` call ran to its end on CPU0. */
function startingWorld(spec: KitSpec, bounds: Bounds): KitWorld {
  let world = initialWorld(spec, bounds);
  const layout = layoutOf(world);
  if (!spec.setup) return withTasks(spec, bounds, world);
  const setup = spec.setup;
  for (let n = 0; n === 0 || world.threads[0]!.call !== null; n++) {
    const step = { thread: 0, op: setup.name, args: [] };
    const next = nextStep(spec, world, step);
    const waits = blockedOn(viewOf(world), 0, next.action);
    const done = waits === undefined && n <= setup.items.length ? applyStep(spec, bounds, layout, world, step) : undefined;
    const wrong = !done ? `waits (${waits ?? 'for ever'})` : !done.reply.ok ? `fails (${done.reply.text})` : done.reply.warnings?.[0];
    if (wrong) throw new DefinitionError(`setup '${setup.name}', step '${next.fn}': ${wrong}; the setup must run alone to its end, cleanly`);
    world = done!.world;
  }
  // The setup made what exists; it is not one of CPU0's calls.
  return withTasks(spec, bounds, { ...world, calls: world.calls.map((n, t) => (t === 0 ? 0 : n)) });
}

/** Each CPU's task: the objects `current` names, as the spaces map them now (once the setup has run). */
function withTasks(spec: KitSpec, bounds: Bounds, world: KitWorld): KitWorld {
  if (!spec.current) return world;
  const taskOf = (t: number) =>
    Object.fromEntries(
      Object.entries(spec.current!(t, bounds.threads)).map(([local, at]) => [local, (at && entryOf(world.spaces[at.space]?.[at.id - spaceIds(spec, at.space, bounds).min])) ?? null]),
    );
  return { ...world, threads: world.threads.map((th, t) => (th.worker ? th : { ...th, task: taskOf(t) })) };
}

/**
 * The transition system of a kit model within bounds. Its steps go through
 * the step cache (cache.ts) unless `cache` is false, which is slower and
 * gives the same worlds, replies and coverage (test/kit/cache.test.ts); its
 * worlds are encoded by the kit's codec (codec.ts).
 */
export function kitSystem(spec: KitSpec, bounds: Bounds, { cache = true, forms }: { cache?: boolean; forms?: Forms } = {}): System<KitWorld> {
  const all = [...Object.values(spec.calls), ...Object.values(spec.works ?? {})];
  const steps = (c: Call) => c.items.filter((i): i is Step => 'fn' in i);
  const ids = Math.max(1, ...Object.keys(spec.spaces).map((name) => spaceIds(spec, name, bounds).max - spaceIds(spec, name, bounds).min + 1));
  // A down_write that queues runs twice: once to queue, once to take the semaphore. A call that loops over a table
  // (its only jumps back) runs a round per entry, and its passes over the table at most once per entry.
  const loops = (c: Call) => steps(c).some((i) => i.action.op === 'xa_find');
  const cost = (c: Call) => (steps(c).length + steps(c).filter((i) => i.action.op === 'down_write').length) * (loops(c) ? (ids + 1) ** 2 : 1);
  const longest = Math.max(1, ...all.map(cost));
  const queued = Math.max(0, ...Object.values(spec.calls).map((c) => worksQueued(spec, c, new Set())));
  const init = startingWorld(spec, bounds);
  const layout = layoutOf(init);
  // One level inline: the array of parts, each part (a thread, an object slot, an entry) stored once.
  const parts = collapseCodec<unknown>(1);
  const cached = cache ? new StepCache(spec, bounds, layout, parts, forms) : undefined;
  const starts = callStarts(spec, bounds, init.threads.length);
  // Each thread's steps, then the exit's, as `enabledSteps` lists them.
  const threads = init.threads.length;
  const groupSteps = (view: View, k: number) => (k < threads ? threadSteps(spec, bounds, view, k, starts) : exitSteps(spec, bounds, view, starts));
  const onWords = new EnabledOnWords(layout, (word) => parts.value(word), bounds.threads, threads + (spec.exit ? 1 : 0), groupSteps);
  return {
    init,
    // Each call runs each of its steps at most once but for its loops, for every call a thread makes, and the work it
    // queues; then the exit.
    horizon: bounds.threads * bounds.ops * longest * (1 + queued) + (spec.exit ? cost(spec.exit) : 0),
    codec: kitCodec(layout, parts),
    enabled: (world) => enabledSteps(spec, bounds, world, starts),
    apply: cached ? (world, step) => cached.step(world, step) : (world, step) => applyStep(spec, bounds, layout, world, step),
    ...(cached
      ? {
          words: {
            enabled: (words: Int32Array) => onWords.steps(words),
            apply: cached.apply.bind(cached),
            checkWorld: cached.checkWorld.bind(cached),
          },
        }
      : {}),
  };
}
