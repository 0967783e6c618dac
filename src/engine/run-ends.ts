/**
 * The engine's own property, which every model has, and how `walk` checks it
 * along a run: not a function of one world, but of the run's worlds so far.
 */
import type { Codec, RunProperty, System, Violation } from './model.ts';

/**
 * The engine's own property: every run ends. A run breaks it when a step
 * leads back to a world the run was in before (those steps can repeat for
 * ever: a livelock), or when it is still going at the system's horizon.
 */
export const runEnds: RunProperty = {
  id: 'run-ends',
  kind: 'run',
  title: 'every run ends: no steps that repeat for ever, no run past the bound',
  source: 'lifecheck: a livelock (a call failed and retried for ever, a wait that never ends)',
};

/**
 * Remembers the worlds of one run, to tell when a step returns to one (under
 * the system's symmetry, a world like it: the same steps follow, renamed).
 * Worlds are told apart by a structural hash, which costs a third of an
 * encoding and runs on every step, and a match is confirmed by comparing the
 * system codec's words (or, without one, the worlds as plain data), so a
 * collision cannot make a loop.
 */
export class Revisits<W> {
  private readonly codec?: Codec<W>;
  private readonly canonical: (world: W) => W;
  private readonly seen = new Map<number, number>();
  private readonly worlds: W[] = [];

  constructor(system: System<W>) {
    if (system.codec) this.codec = system.codec;
    const symmetry = system.symmetry;
    this.canonical = symmetry ? (w) => symmetry.canonical(w) : (w) => w;
  }

  /** Records the world after step `at`; the step it was first seen after, when it was seen before. */
  visit(world: W, at: number): number | undefined {
    const canonical = this.canonical(world);
    const key = hashValue(FNV, canonical);
    this.worlds.push(canonical);
    const first = this.seen.get(key);
    if (first === undefined) {
      this.seen.set(key, at);
      return undefined;
    }
    return this.same(this.worlds[first]!, canonical) ? first : undefined;
  }

  private same(a: W, b: W): boolean {
    if (!this.codec) return samePlain(a, b);
    const encoded = (w: W) => {
      const words: number[] = [];
      this.codec!.encode(w, { push: (word) => words.push(word) });
      return words.join();
    };
    return encoded(a) === encoded(b);
  }
}

/**
 * Whether two worlds are the same plain data, told apart as a codec of plain
 * data tells them: numbers by value (0 and -0 one, NaN one), strings, null,
 * undefined and booleans each apart, arrays item by item, objects key by key
 * in their order. A world that holds anything else is refused, as codecs do.
 */
function samePlain(a: unknown, b: unknown): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b || (a !== a && b !== b);
  if (typeof a !== 'object' || a === null) return a === b;
  if (typeof b !== 'object' || b === null) return false;
  for (const x of [a, b]) {
    if (!Array.isArray(x) && Object.getPrototypeOf(x) !== Object.prototype) {
      throw new Error(`a world holds a ${x.constructor?.name ?? 'object'}; worlds must be plain data (objects, arrays, strings, numbers)`);
    }
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!samePlain(a[i], b[i])) return false;
    return true;
  }
  const keys = Object.keys(a);
  const others = Object.keys(b);
  if (keys.length !== others.length) return false;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (k !== others[i] || !samePlain((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}

const FNV = 0x811c9dc5;
const mix = (h: number, x: number): number => Math.imul(h ^ x, 0x01000193);

function hashString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = mix(h, s.charCodeAt(i));
  return mix(h, 0xffff);
}

/** An FNV-style hash of plain data (numbers, strings, arrays, objects); what it cannot see, equality still checks. */
function hashValue(h: number, v: unknown): number {
  switch (typeof v) {
    case 'number':
      return mix(mix(h, 1), v | 0);
    case 'string':
      return hashString(mix(h, 2), v);
    case 'boolean':
      return mix(h, v ? 3 : 4);
    case 'object':
      if (v === null) return mix(h, 5);
      if (Array.isArray(v)) {
        h = mix(h, 6 + v.length);
        for (const x of v) h = hashValue(h, x);
        return h;
      }
      h = mix(h, 7);
      for (const k in v) h = hashValue(hashString(h, k), (v as Record<string, unknown>)[k]);
      return h;
    default:
      return mix(h, 8);
  }
}

export function loopViolation(first: number, at: number): Violation {
  const back = first === 0 ? 'the world the run started in' : `the world after step ${first}`;
  const steps = at === first + 1 ? `step ${at} leads` : `steps ${first + 1} to ${at} lead`;
  return { property: runEnds.id, at, message: `${steps} back to ${back}: they can repeat for ever, so the run never ends` };
}

export function capViolation(at: number): Violation {
  return {
    property: runEnds.id,
    at,
    message: `the run has not ended after ${at} steps, the scenario's bound: steps that repeat for ever, or a horizon set too short`,
  };
}
