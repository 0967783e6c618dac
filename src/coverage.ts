/**
 * Coverage: which states and transitions (event and guard) of a variant's
 * machines an exploration fired, how often, and what it never did, said in
 * kernel terms ("ioasid_get never met a free-pending id"). Counting happens
 * only inside `System.apply`, so the explorers' questions (is this step
 * enabled?) do not count as the kernel having run.
 */
import { initialOf, machineEdges, type Edge } from './engine/edges.ts';
import { countInto, type Hits } from './engine/machine.ts';
import type { MachineInfo, System } from './engine/model.ts';

export interface EdgeCoverage extends Edge {
  readonly hits: number;
}

export interface MachineCoverage {
  /** The machine's name in its model (`slot`). */
  readonly machine: string;
  readonly states: readonly { readonly state: string; readonly entered: number; readonly reached: boolean }[];
  readonly edges: readonly EdgeCoverage[];
  /** Transitions fired at least once, of all the machine has. */
  readonly edgesReached: number;
  /** What the exploration never did, one sentence each. */
  readonly never: readonly string[];
  /** The machine's states are steps a sound scenario reaches (see `MachineInfo.starvable`). */
  readonly starvable?: boolean;
}

/** `system`, counting into `hits` the machine transitions each applied step fires. */
export function counted<W>(system: System<W>, hits: Hits): System<W> {
  const words = system.words;
  const apply = system.apply.bind(system);
  const applyOnWords = words?.apply.bind(words);
  return {
    init: system.init,
    horizon: system.horizon,
    enabled: (world) => system.enabled(world),
    // (`apply` takes two arguments: the third is none.)
    apply: (world, step) => countedCall(hits, apply, world, step, undefined),
    ...(system.codec ? { codec: system.codec } : {}),
    ...(system.symmetry ? { symmetry: system.symmetry } : {}),
    ...(words
      ? {
          words: {
            apply: (world, from, step) => countedCall(hits, applyOnWords!, world, from, step),
            ...(words.enabled ? { enabled: words.enabled.bind(words) } : {}),
            ...(words.checkWorld ? { checkWorld: words.checkWorld.bind(words) } : {}),
          },
        }
      : {}),
  };
}

/** `f(a, b, c)`, its machine transitions counted into `hits`: a search's hottest call, so no closure is made for `counting`. */
function countedCall<A, B, C, T>(hits: Hits, f: (a: A, b: B, c: C) => T, a: A, b: B, c: C): T {
  const outer = countInto(hits);
  try {
    return f(a, b, c);
  } finally {
    countInto(outer);
  }
}

/** `freePending` → `free-pending`: state names as the kernel's comments spell them (a call's steps are kernel text already). */
const spoken = (state: string) => (/^[a-z][A-Za-z]*$/.test(state) ? state.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`) : state);

function machineCoverage(name: string, info: MachineInfo, hits: Hits): MachineCoverage {
  const counts = hits.of(info.machine);
  const edges = machineEdges(info.machine).map((e, i): EdgeCoverage => ({ ...e, hits: counts?.[i] ?? 0 }));
  const initial = initialOf(info.machine);
  const used = edges.some((e) => e.hits > 0);
  const states = Object.keys(info.machine.root.states).map((state) => {
    const entered = edges.filter((e) => e.to === state && e.from !== state).reduce((n, e) => n + e.hits, 0);
    return { state, entered, reached: entered > 0 || (used && state === initial) };
  });
  const reached = new Set(states.filter((s) => s.reached).map((s) => s.state));
  const call = (event: string) => `\`${info.calls?.[event] ?? event}\``;
  const never = [
    ...states.filter((s) => !s.reached).map((s) => `no ${info.object} was ever ${spoken(s.state)}`),
    ...edges
      .filter((e) => e.hits === 0 && reached.has(e.from))
      .map((e) => {
        const siblings = edges.filter((x) => x.from === e.from && x.event === e.event);
        const on = `a${/^[aeiou]/.test(spoken(e.from)) ? 'n' : ''} ${spoken(e.from)} ${info.object}`;
        if (siblings.every((x) => x.hits === 0)) return siblings[0] === e ? `${call(e.event)} never met ${on}` : undefined;
        return `${call(e.event)} on ${on} never took ${e.guard ? `the [${e.guard}] branch` : 'its unguarded branch'}`;
      })
      .filter((line): line is string => line !== undefined),
  ];
  return {
    machine: name,
    states,
    edges,
    edgesReached: edges.filter((e) => e.hits > 0).length,
    never,
    ...(info.starvable ? { starvable: true } : {}),
  };
}

/** The coverage of each of a variant's machines. */
export function coverageOf(machines: Readonly<Record<string, MachineInfo>>, hits: Hits): MachineCoverage[] {
  return Object.entries(machines).map(([name, info]) => machineCoverage(name, info, hits));
}

/** The states of starvable machines (a call's steps) that a check never reached, as `call: step`. */
export function starved(coverage: readonly MachineCoverage[]): string[] {
  return coverage.flatMap((m) => (m.starvable ? m.states.filter((s) => !s.reached && s.state !== 'returned').map((s) => `${m.machine}: ${s.state}`) : []));
}

/** The share of transitions fired, over all machines, in percent (100 when there are none). */
export function transitionPercent(coverage: readonly MachineCoverage[]): number {
  const total = coverage.reduce((n, m) => n + m.edges.length, 0);
  const reached = coverage.reduce((n, m) => n + m.edgesReached, 0);
  return total === 0 ? 100 : (100 * reached) / total;
}
