/**
 * Shortening a random find (issue 18): a breadth-first search returns the
 * shortest trace that breaks the same property, so no filler steps are left
 * (a failed lookup repeated, an `-EBUSY` three times) that shrinking a random
 * schedule keeps. First over the whole system, a few levels deep: a shallow
 * violation's shortest trace may take calls the random one did not make. Then,
 * for a deeper one, over only the threads and calls of the found trace, which
 * is small however large the scenario. Both are deterministic, so the seed and
 * path that replay the random find also replay its shortened trace.
 */
import type { Property, Step, System, WordSteps } from '../engine/model.ts';
import type { Trace, Violation } from '../engine/run.ts';
import { exploreExhaustive } from './exhaustive.ts';

/** Worlds each search may store: shortening is worth a moment, not a search of the whole model. */
const WHOLE_MAX_STATES = 2_000;
const CALLS_MAX_STATES = 20_000;

const callOf = (s: Step) => `${s.thread} ${s.op}`;

/** `system` with only the steps of the calls `trace` made, by the threads that made them. */
function onlyCallsOf<W>(system: System<W>, trace: Trace<W>): System<W> {
  const calls = new Set(trace.steps.map((s) => callOf(s.step)));
  const only = (steps: readonly Step[]) => steps.filter((s) => calls.has(callOf(s)));
  const { symmetry: _, words, ...rest } = system;
  // The steps found on words are narrowed alike: their own are every call's.
  const onWords: WordSteps<W> | undefined = words && {
    apply: words.apply.bind(words),
    ...(words.checkWorld ? { checkWorld: words.checkWorld.bind(words) } : {}),
    ...(words.enabled ? { enabled: (w: Int32Array, world: () => W) => only(words.enabled!(w, world)) } : {}),
  };
  return { ...rest, enabled: (world) => only(system.enabled(world)), ...(onWords ? { words: onWords } : {}) };
}

/** The shortest trace of `trace`'s calls that breaks `property`, and how, when it is shorter than `trace`. */
export async function shorten<W, C>(
  system: System<W>,
  property: Property<W, C>,
  trace: Trace<W>,
  config: C,
): Promise<{ trace: Trace<W>; violation: Violation } | undefined> {
  // A livelock's loop is found depth-first, not shortest; one step is as short as it gets.
  if (property.kind === 'run' || trace.steps.length <= 1) return undefined;
  for (const [within, maxStates] of [[system, WHOLE_MAX_STATES], [onlyCallsOf(system, trace), CALLS_MAX_STATES]] as const) {
    const found = await exploreExhaustive(within, [property], { config, maxStates, untilAllBroken: true });
    const shortest = found.counterexamples.get(property.id);
    // Stopped at the end of the level that broke it (not by the cap mid-level), what it found is the shortest there.
    const levelDone = found.complete || found.stoppedBy === 'all-broken';
    if (shortest?.shortest && levelDone) return shortest.trace.steps.length < trace.steps.length ? shortest : undefined;
  }
  return undefined;
}
