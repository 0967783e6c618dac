/**
 * The benchmark's world is exactly the anchor's state vector
 * (shared/anchors/README.md): per slot `st`, `rc`, `gen`; per thread `pc`; per
 * thread and slot `held` and `bor`. Every step is one operation under the
 * allocator lock and costs the thread one of its `L` operations, failed or not.
 */
import { packedCodec, type Bounds, type Codec, type Outcome, type Reply, type Step, type System } from 'lifecheck';
import { compiledSlot, EV, FREE, slotCode } from './machine.ts';

/** The design variable: does `find` take a reference (and `use` drop it)? */
export interface BenchConfig {
  readonly findTakesRef: boolean;
}

/** References a thread may hold on one id (anchors README: CAP = 2). */
export const CAP = 2;

/** Where each cell of the state vector lives, for `n` threads, `k` ids and `l` operations each. */
export interface Layout {
  readonly n: number;
  readonly k: number;
  readonly l: number;
  /** The id of slot 0. */
  readonly firstId: number;
  readonly size: number;
}

export interface BenchWorld {
  readonly layout: Layout;
  readonly cells: readonly number[];
}

export const layoutOf = (b: Bounds): Layout => {
  const n = b.threads;
  const k = b.ids.max - b.ids.min + 1;
  return { n, k, l: b.ops, firstId: b.ids.min, size: 3 * k + n + 2 * n * k };
};

// Cell indices; i is a slot (0..k-1), t a thread.
export const st = (y: Layout, i: number) => i;
export const rc = (y: Layout, i: number) => y.k + i;
export const gen = (y: Layout, i: number) => 2 * y.k + i;
export const pc = (y: Layout, t: number) => 3 * y.k + t;
export const held = (y: Layout, t: number, i: number) => 3 * y.k + y.n + t * y.k + i;
export const bor = (y: Layout, t: number, i: number) => 3 * y.k + y.n + y.n * y.k + t * y.k + i;

export const STATE_NAMES = ['FREE', 'ACTIVE', 'FREE_PENDING'] as const;
export const slotOf = (y: Layout, id: number) => id - y.firstId;

const bits = (max: number) => Math.max(1, Math.ceil(Math.log2(max + 1)));

/** The largest refcount and generation a slot can reach within the bounds. */
const limits = (y: Layout) => ({ maxRc: y.n * CAP + y.n, maxGen: y.n * y.l });

/** The state vector bit-packed, as SPIN packs its bytes: each cell in as few bits as its domain needs. */
function benchCodec(y: Layout): Codec<BenchWorld> {
  const { maxRc, maxGen } = limits(y);
  const widths = new Array<number>(y.size);
  for (let i = 0; i < y.k; i++) {
    widths[st(y, i)] = 2;
    widths[rc(y, i)] = bits(maxRc);
    widths[gen(y, i)] = bits(maxGen);
    for (let t = 0; t < y.n; t++) {
      widths[held(y, t, i)] = bits(CAP);
      widths[bor(y, t, i)] = bits(maxGen);
    }
  }
  for (let t = 0; t < y.n; t++) widths[pc(y, t)] = bits(y.l);
  const cells = packedCodec(widths);
  return {
    encode: (world, out) => cells.encode(world.cells, out),
    decode: (words) => ({ layout: y, cells: cells.decode(words) }),
    // The words are the cells' values: the same whichever part of a split search encodes them.
    fingerprint: cells.fingerprint!,
  };
}

/**
 * Threads are interchangeable: nothing in the vector or the rules names a
 * thread, so the canonical world has its thread rows (pc, held, bor) sorted.
 */
function threadSymmetry(y: Layout) {
  /** Orders thread rows a and b by (pc, held[0..k), bor[0..k)). */
  const compare = (c: readonly number[], a: number, b: number): number => {
    const d = c[pc(y, a)]! - c[pc(y, b)]!;
    if (d !== 0) return d;
    for (let i = 0; i < y.k; i++) {
      const h = c[held(y, a, i)]! - c[held(y, b, i)]!;
      if (h !== 0) return h;
    }
    for (let i = 0; i < y.k; i++) {
      const f = c[bor(y, a, i)]! - c[bor(y, b, i)]!;
      if (f !== 0) return f;
    }
    return 0;
  };
  return {
    name: 'threads',
    canonical(world: BenchWorld): BenchWorld {
      const c = world.cells;
      let sorted = true;
      for (let t = 1; t < y.n && sorted; t++) sorted = compare(c, t - 1, t) <= 0;
      if (sorted) return world;
      // A few rows: sorted by insertion, with no comparator to allocate.
      const order: number[] = [];
      for (let t = 0; t < y.n; t++) {
        let at = t;
        while (at > 0 && compare(c, order[at - 1]!, t) > 0) at--;
        order.splice(at, 0, t);
      }
      const cells = c.slice();
      for (let t = 0; t < y.n; t++) {
        const from = order[t]!;
        cells[pc(y, t)] = c[pc(y, from)]!;
        for (let i = 0; i < y.k; i++) {
          cells[held(y, t, i)] = c[held(y, from, i)]!;
          cells[bor(y, t, i)] = c[bor(y, from, i)]!;
        }
      }
      return { layout: y, cells };
    },
  };
}

const OPS = ['alloc', 'get', 'put', 'free', 'find', 'use'] as const;
type BenchOp = (typeof OPS)[number];

/** Every step a thread could take, in a fixed order: alloc, then get/put/free/find/use per id (1 + 5K). */
function allSteps(y: Layout): Step[][] {
  return Array.from({ length: y.n }, (_, thread) => [
    { thread, op: 'alloc', args: [] },
    ...Array.from({ length: y.k }, (_, i) =>
      OPS.slice(1).map((op): Step => ({ thread, op, args: [y.firstId + i] })),
    ).flat(),
  ]);
}

export function benchSystem(config: BenchConfig, bounds: Bounds): System<BenchWorld> {
  const y = layoutOf(bounds);
  const { maxRc, maxGen } = limits(y);
  const code = slotCode(maxRc, maxGen);
  const { table } = compiledSlot(config.findTakesRef, code);
  const steps = allSteps(y);
  const invalid: Reply = { ok: false, text: 'INVALID' };
  const allocated = Array.from({ length: y.k }, (_, i): Reply => ({ ok: true, text: String(y.firstId + i) }));

  /** Fires an event on slot i's machine and writes the slot's three cells back. */
  const fire = (c: number[], i: number, event: number): Reply => {
    const from = code.of(c[st(y, i)]!, c[rc(y, i)]!, c[gen(y, i)]!);
    const [s, r, g] = code.cells(table.next(from, event));
    c[st(y, i)] = s;
    c[rc(y, i)] = r;
    c[gen(y, i)] = g;
    return table.reply(from, event);
  };

  const enabledFor = (c: readonly number[], t: number, op: number, i: number): boolean => {
    switch (op) {
      case EV.alloc:
        return true;
      case EV.get:
        return c[held(y, t, i)]! < CAP;
      case EV.put:
      case EV.free:
        return c[held(y, t, i)]! > 0;
      case EV.find:
        return c[bor(y, t, i)] === 0;
      default:
        return c[bor(y, t, i)] !== 0;
    }
  };
  // Each step's event and slot, beside it: asked for every step of every world expanded.
  const events = steps.map((row) => Int32Array.from(row, (s) => EV[s.op as BenchOp]));
  const slots = steps.map((row) => Int32Array.from(row, (s) => (s.args.length ? slotOf(y, s.args[0] as number) : 0)));

  const apply = (world: BenchWorld, step: Step): Outcome<BenchWorld> => {
    const t = step.thread;
    const op = step.op as BenchOp;
    const c = world.cells.slice();
    c[pc(y, t)]!++;
    if (op === 'alloc') {
      let j = 0;
      while (j < y.k && c[st(y, j)] !== FREE) j++;
      if (j === y.k) return { world: { layout: y, cells: c }, reply: invalid };
      fire(c, j, EV.alloc);
      c[held(y, t, j)] = 1;
      return { world: { layout: y, cells: c }, reply: allocated[j]! };
    }
    const i = slotOf(y, step.args[0] as number);
    const reply = fire(c, i, EV[op]);
    if (op === 'get' && reply.ok) c[held(y, t, i)]!++;
    if (op === 'put' || op === 'free') c[held(y, t, i)]!--;
    if (op === 'find' && reply.ok) c[bor(y, t, i)] = c[gen(y, i)]!;
    if (op === 'use') c[bor(y, t, i)] = 0;
    return { world: { layout: y, cells: c }, reply };
  };

  return {
    init: { layout: y, cells: Array.from({ length: y.size }, () => 0) },
    horizon: y.n * y.l,
    enabled(world) {
      const c = world.cells;
      const out: Step[] = [];
      for (let t = 0; t < y.n; t++) {
        if (c[pc(y, t)]! >= y.l) continue;
        const row = steps[t]!;
        for (let k = 0; k < row.length; k++) if (enabledFor(c, t, events[t]![k]!, slots[t]![k]!)) out.push(row[k]!);
      }
      return out;
    },
    apply,
    codec: benchCodec(y),
    symmetry: threadSymmetry(y),
  };
}
