/**
 * How the random explorer draws a schedule. A plan is what fast-check
 * generates (so a seed and path replay it, and shrinking works on it); its
 * scheduler turns it into a choice of step at each point of a run:
 *
 * - `uniform`: any thread that can move, then any of its operations.
 * - `swarm` (Groce et al., "Swarm testing", ISSTA 2012): as uniform, but the
 *   run prefers a random subset of operations, so runs that never call, say,
 *   `bind` reach deeper into what the other calls do.
 * - `pct` (Burckhardt et al., "A randomized scheduler with probabilistic
 *   guarantees of finding bugs", ASPLOS 2010): threads get random priorities,
 *   the highest-priority thread that can move runs, and at d-1 random choice
 *   points (where more than one thread can move) the running thread drops
 *   below all others. A bug of depth d (d ordering constraints) among n
 *   threads in runs of k choice points is hit with probability at least
 *   1/(n·k^(d-1)) per run. Like swarm, a PCT run may prefer some operations.
 * - `portfolio` (the default): each run one of the above, PCT at depths 1 to 3;
 *   of every 9 runs, 4 uniform, 2 swarm and one PCT run at each depth.
 *
 * Within a thread, a step is drawn by operation first, then among that
 * operation's steps: a call offered with many arguments (malformed ioctls, every
 * id) weighs what a call offered once does.
 */
import fc from 'fast-check';
import type { Step, System } from '../engine/model.ts';
import { walk, type Chooser } from '../engine/run.ts';

export const SCHEDULERS = ['portfolio', 'uniform', 'swarm', 'pct'] as const;
export type Scheduler = (typeof SCHEDULERS)[number];

/** The PCT depths the portfolio draws, and `--scheduler pct`'s depth unless told. */
export const PORTFOLIO_DEPTHS = [1, 2, 3] as const;
export const DEFAULT_PCT_DEPTH = 3;

export type Choice = readonly [thread: number, step: number];

/** One generated run: how it schedules, and the numbers its scheduler draws from. */
export type Plan =
  | { readonly scheduler: 'uniform'; readonly schedule: readonly Choice[] }
  | { readonly scheduler: 'swarm'; readonly swarm: number; readonly schedule: readonly Choice[] }
  | {
      readonly scheduler: 'pct';
      readonly depth: number;
      /** Operations preferred, as swarm's (0, where shrinking heads: none). */
      readonly swarm: number;
      /** Each thread's initial priority (thread t's is `priorities[t % n]`, ties to the lower thread). */
      readonly priorities: readonly number[];
      /** The 1-based choice points where the running thread drops to priority `i - d` (i its index): PCT's change points. */
      readonly changes: readonly number[];
      /** Which step the chosen thread takes, at each point. */
      readonly picks: readonly number[];
    };

/** What a scheduler needs to know of the system: its threads and how long its runs are. */
export interface Shape {
  /** Threads that ever move. */
  readonly threads: number;
  /** The most choice points (steps where more than one thread could move) in a run seen: PCT's k, the range of its change points. */
  readonly choices: number;
  /** The longest schedule worth drawing: twice the longest pilot run (a run goes on past its schedule), within the horizon. */
  readonly length: number;
}

/** Runs the shape is measured on: enough that the longest is near the longest there is. */
const PILOT_RUNS = 64;

/**
 * The system's shape, from a fixed set of uniform runs: the same for every
 * seed, so a plan's meaning (its change points) does not depend on the search.
 */
export function shapeOf<W>(system: System<W>): Shape {
  let threads = 0;
  let choices = 1;
  let steps = 1;
  const pilot = fc.sample(uniformPlans(system.horizon), { seed: 0, numRuns: PILOT_RUNS });
  for (const plan of pilot) {
    const counted = countingChoices(chooser<W>(plan));
    const run = walk(system, [], counted.choose, { stopAtViolation: false });
    choices = Math.max(choices, counted.choices());
    steps = Math.max(steps, run.trace.steps.length);
    for (const s of run.trace.steps) threads = Math.max(threads, s.step.thread + 1);
  }
  return { threads: Math.max(threads, 1), choices, length: Math.min(system.horizon, 2 * steps) };
}

/** A choice point: more than one thread could move. */
const isChoicePoint = (enabled: readonly Step[]) => enabled.some((s) => s.thread !== enabled[0]!.thread);

/** `choose`, counting the choice points it met. */
export function countingChoices<W>(choose: Chooser<W>): { choose: Chooser<W>; choices: () => number } {
  let n = 0;
  return {
    choose(enabled, world, depth) {
      if (isChoicePoint(enabled)) n++;
      return choose(enabled, world, depth);
    },
    choices: () => n,
  };
}

// Unbiased: fast-check favours small numbers, which would favour each thread's first step over the rest.
const anyNat = fc.noBias(fc.nat());

const schedules = (length: number) => fc.array(fc.noBias(fc.tuple(fc.nat(), fc.nat())) as fc.Arbitrary<Choice>, { maxLength: length, size: 'max' });

function uniformPlans(length: number): fc.Arbitrary<Plan> {
  return fc.record({ scheduler: fc.constant('uniform' as const), schedule: schedules(length) });
}

function swarmPlans(length: number): fc.Arbitrary<Plan> {
  return fc.record({ scheduler: fc.constant('swarm' as const), swarm: anyNat, schedule: schedules(length) });
}

function pctPlans(shape: Shape, depth: number): fc.Arbitrary<Plan> {
  return fc.record({
    scheduler: fc.constant('pct' as const),
    depth: fc.constant(depth),
    swarm: anyNat,
    priorities: fc.array(anyNat, { minLength: shape.threads, maxLength: shape.threads }),
    changes: fc.array(fc.noBias(fc.integer({ min: 1, max: shape.choices })), { minLength: depth - 1, maxLength: depth - 1 }),
    picks: fc.array(anyNat, { maxLength: shape.length, size: 'max' }),
  });
}

/** The plans `scheduler` draws for a system of `shape`. */
export function plansOf(scheduler: Scheduler, shape: Shape, depth = DEFAULT_PCT_DEPTH): fc.Arbitrary<Plan> {
  switch (scheduler) {
    case 'uniform':
      return uniformPlans(shape.length);
    case 'swarm':
      return swarmPlans(shape.length);
    case 'pct':
      return pctPlans(shape, depth);
    case 'portfolio':
      // Over `npm run power`'s table uniform alone finds most violations soonest, swarm the ones that need a rare
      // mix of calls; PCT runs are what the stated bound rests on.
      return fc.oneof(
        { arbitrary: uniformPlans(shape.length), weight: 4 },
        { arbitrary: swarmPlans(shape.length), weight: 2 },
        ...PORTFOLIO_DEPTHS.map((d) => ({ arbitrary: pctPlans(shape, d), weight: 1 })),
      );
  }
}

/** A stable bit of the swarm for an operation name. */
function swarmBit(op: string): number {
  let h = 0;
  for (let i = 0; i < op.length; i++) h = (h * 31 + op.charCodeAt(i)) | 0;
  return 1 << (Math.abs(h) % 31);
}

/** One of `steps` by `n`: an operation first, then one of its steps. */
function byOperation(steps: readonly Step[], n: number): Step {
  const ops = [...new Set(steps.map((s) => s.op))];
  const op = ops[n % ops.length];
  const mine = steps.filter((s) => s.op === op);
  return mine[Math.floor(n / ops.length) % mine.length]!;
}

const threadsOf = (enabled: readonly Step[]) => [...new Set(enabled.map((s) => s.thread))];

/** Picks steps as `plan` says; a fresh chooser per run (PCT's lowered priorities are the run's). */
export function chooser<W>(plan: Plan): Chooser<W> {
  if (plan.scheduler === 'pct') return pctChooser(plan);
  const swarm = plan.scheduler === 'swarm' ? plan.swarm : 0;
  return (enabled, _world, depth) => {
    const [a, b] = plan.schedule[depth] ?? [0, 0];
    const threads = threadsOf(enabled);
    const thread = threads[a % threads.length];
    return byOperation(preferring(swarm, enabled.filter((s) => s.thread === thread)), b);
  };
}

/** The steps of `mine` whose operations `swarm` prefers, or all when it prefers none of them. */
function preferring(swarm: number, mine: readonly Step[]): readonly Step[] {
  const preferred = mine.filter((s) => (swarm & swarmBit(s.op)) !== 0);
  return preferred.length > 0 ? preferred : mine;
}

function pctChooser<W>(plan: Extract<Plan, { scheduler: 'pct' }>): Chooser<W> {
  const lowered = new Map<number, number>();
  const n = plan.priorities.length;
  const priority = (t: number) => lowered.get(t) ?? plan.priorities[t % n] ?? 0;
  const highest = (threads: readonly number[]) => threads.reduce((best, t) => (priority(t) > priority(best) ? t : best));
  let choices = 0;
  return (enabled, _world, depth) => {
    const threads = threadsOf(enabled);
    // Only where threads race is a change of priority a choice: elsewhere one thread is all that can move.
    const change = isChoicePoint(enabled) ? plan.changes.indexOf(++choices) : -1;
    // Below every initial priority (those are >= 0), the earlier-numbered change point lowest.
    if (change >= 0) lowered.set(highest(threads), change - plan.depth);
    const thread = highest(threads);
    return byOperation(preferring(plan.swarm, enabled.filter((s) => s.thread === thread)), plan.picks[depth] ?? 0);
  };
}

/** What PCT runs at one depth promise: a bug of that depth missed by all of them with at most this probability. */
export interface DepthBound {
  readonly depth: number;
  readonly runs: number;
  /** (1 - 1/(n·k^(d-1)))^runs. */
  readonly missed: number;
}

/** What a random search that found nothing can say: its schedules, the shape, and PCT's bound at each depth it ran. */
export interface Guarantee {
  readonly scheduler: Scheduler;
  readonly schedules: number;
  readonly threads: number;
  readonly choices: number;
  /** Runs with more choice points than `choices` (the pilot's most): a bug only past them is not covered by the bound. */
  readonly longer: number;
  readonly depths: readonly DepthBound[];
}

/** PCT's bound for `runs` runs at `depth` on a system of `shape`. */
export function missedAtMost(shape: Pick<Shape, 'threads' | 'choices'>, depth: number, runs: number): number {
  const p = 1 / (shape.threads * shape.choices ** (depth - 1));
  return Math.exp(runs * Math.log1p(-p));
}
