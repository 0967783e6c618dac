/**
 * Preemption bounding (Musuvathi and Qadeer, "Iterative context bounding",
 * PLDI 2007; loom's and Lincheck's shape): a system whose runs switch away
 * from a thread that could still go on at most `k` times. Switching from a
 * thread that waits or has nothing left to do is free. The exhaustive search
 * over it, with `k` rising 0, 1, 2, ..., gives each violation a trace with the
 * fewest preemptions, and makes larger scenarios checkable for shallow races.
 * It knows only the `System` interface, so every model has it.
 */
import type { Codec, Move, Property, Step, System, WordSink, WordSteps } from '../engine/model.ts';
import { LazyMove, type Trace } from '../engine/run.ts';
import { collapseCodec } from './collapse.ts';

/** A world, the thread that took the last step (-1 before any), and the preemptions so far. */
export interface Preempted<W> {
  readonly world: W;
  readonly last: number;
  readonly preemptions: number;
}

/** Words ahead of the world's own in a preempted world's encoding. */
const HEADER = 2;

function preemptedCodec<W>(inner: Codec<W>): Codec<Preempted<W>> {
  return {
    encode(p: Preempted<W>, out: WordSink) {
      out.push(p.last);
      out.push(p.preemptions);
      inner.encode(p.world, out);
    },
    decode: (words: Int32Array) => ({ last: words[0]!, preemptions: words[1]!, world: inner.decode(words.subarray(HEADER)) }),
  };
}

/** `system` with at most `k` preemptions per run. */
export function preemptionBounded<W>(system: System<W>, k: number): System<Preempted<W>> {
  // Whether the last thread could go on, as `enabled` found it: the explorer asks it before each `apply` of the same world.
  const lastCanGoOn = new WeakMap<Preempted<W>, boolean>();
  const canGoOn = (p: Preempted<W>) => lastCanGoOn.get(p) ?? (p.last >= 0 && system.enabled(p.world).some((s) => s.thread === p.last));
  const preemptionsAfter = (p: Preempted<W>, step: Step) => p.preemptions + (step.thread !== p.last && canGoOn(p) ? 1 : 0);
  const words = system.codec && system.words;
  return {
    init: { world: system.init, last: -1, preemptions: 0 },
    horizon: system.horizon,
    enabled(p) {
      const steps = system.enabled(p.world);
      const goesOn = steps.some((s) => s.thread === p.last);
      lastCanGoOn.set(p, goesOn);
      if (p.preemptions < k || !goesOn) return steps;
      return steps.filter((s) => s.thread === p.last);
    },
    apply(p, step) {
      const o = system.apply(p.world, step);
      return { ...o, world: { world: o.world, last: step.thread, preemptions: preemptionsAfter(p, step) } };
    },
    codec: preemptedCodec(system.codec ?? collapseCodec<W>()),
    ...(words ? { words: preemptedWords(words, preemptionsAfter) } : {}),
  };
}

/** Steps on a preempted world's words: the header's, then the system's own on the rest. */
function preemptedWords<W>(inner: WordSteps<W>, preemptionsAfter: (p: Preempted<W>, step: Step) => number): WordSteps<Preempted<W>> {
  return {
    apply(world, words, step) {
      const p = world();
      const preemptions = preemptionsAfter(p, step);
      const o = inner.apply(() => p.world, words.subarray(HEADER), step);
      // The header's words, then the system's patch moved past them.
      const patch = Int32Array.of(0, step.thread, 1, preemptions, ...o.patch);
      for (let i = 4; i < patch.length; i += 2) patch[i] = patch[i]! + HEADER;
      return { reply: o.reply, patch, after: (before) => ({ world: o.after(before.world), last: step.thread, preemptions }) };
    },
  };
}

/** A property of `W` as one of its preempted worlds. */
export function liftProperty<W, C>(p: Property<W, C>): Property<Preempted<W>, C> {
  switch (p.kind) {
    case 'invariant':
      return { ...p, check: (q: Preempted<W>, config: C) => p.check(q.world, config) };
    case 'final':
      return { ...p, check: (q: Preempted<W>, config: C) => p.check(q.world, config) };
    case 'step':
      return { ...p, check: (m: Move<Preempted<W>>, config: C) => p.check(lifted(m), config) };
    case 'run':
      return p;
  }
}

/**
 * A move of preempted worlds as the system's own, made once for all the
 * properties that read it (the last one is kept). Its world after the step
 * is read from the preempted move's only when read (an explorer may make
 * that world only then).
 */
let last: { readonly move: Move<Preempted<unknown>>; readonly lifted: Move<unknown> } | undefined;

function lifted<W>(move: Move<Preempted<W>>): Move<W> {
  if (last?.move !== move) {
    const lifted = new LazyMove(move.before.world, move.step, move.reply, { after: () => move.after.world });
    last = { move, lifted: lifted as unknown as Move<unknown> };
  }
  return last.lifted as Move<W>;
}

/** A trace of preempted worlds as the system's own. */
export const unwrapTrace = <W>(t: Trace<Preempted<W>>): Trace<W> => ({
  init: t.init.world,
  steps: t.steps.map((s) => ({ step: s.step, reply: s.reply, world: s.world.world })),
});

/** How many preemptions a trace takes: switches away from a thread that could have gone on. */
export function preemptionsOf<W>(system: System<W>, trace: Trace<W>): number {
  let n = 0;
  let world = trace.init;
  let last = -1;
  for (const s of trace.steps) {
    if (last >= 0 && s.step.thread !== last && system.enabled(world).some((e) => e.thread === last)) n++;
    last = s.step.thread;
    world = s.world;
  }
  return n;
}
