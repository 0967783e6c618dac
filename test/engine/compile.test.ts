/**
 * The exhaustive explorer's fast path and memory: the benchmark slot machine
 * compiled to a table (`compileMachine`) gives the same next state and reply
 * as xstate's own `transition()` (`fireUncached`) for every event; the slot
 * state code, `packedCodec`, `plainCodec` and `collapseCodec` round-trip, tell
 * worlds apart as equality does, and refuse what they cannot hold; a fingerprint patched by the words a step wrote
 * is the patched words' own; `FingerprintMap` keeps its answers through growth and
 * with the fingerprints met last in front; and
 * `WorldQueue` stays FIFO across its chunk boundaries, and `PairQueue` as its ring grows.
 */
import { describe, expect, it } from 'vitest';
import { test } from '@fast-check/vitest';
import fc from 'fast-check';
import {
  fireUncached,
  packedCodec,
  plainCodec,
  type Codec,
  type MachineState,
} from 'lifecheck';
import { benchSlotMachine, compiledSlot, slotCode } from 'lifecheck/models';
import type { SlotContext } from '../../models/ioasid-bench/machine.ts';
import { collapseCodec } from '../../src/explore/collapse.ts';
import { fingerprint, FingerprintMap, FingerprintSet, finishSums, patchSums, PairQueue, placedFingerprint, wordSums, WorldQueue, Words } from '../../src/explore/store.ts';

const MAX_RC = 9;
const MAX_GEN = 12;
const code = slotCode(MAX_RC, MAX_GEN);

// Every state one event keeps in range: a held slot can gain or drop a reference, and a free one be allocated.
const slotState: fc.Arbitrary<MachineState<SlotContext>> = fc.oneof(
  fc.record({ value: fc.constant('free'), context: fc.record({ rc: fc.integer({ min: 0, max: MAX_RC }), gen: fc.integer({ min: 0, max: MAX_GEN - 1 }) }) }),
  fc.record({
    value: fc.constantFrom('active', 'freePending'),
    context: fc.record({ rc: fc.integer({ min: 1, max: MAX_RC - 1 }), gen: fc.integer({ min: 0, max: MAX_GEN }) }),
  }),
);

describe('compiledSlot equals xstate', () => {
  for (const findTakesRef of [false, true]) {
    const { events, table } = compiledSlot(findTakesRef, code);
    test.prop([slotState], { seed: 7, numRuns: 500 })(`gives fireUncached's state and reply (findTakesRef ${findTakesRef})`, (s) => {
      events.forEach((event, e) => {
        const fired = fireUncached<SlotContext>(benchSlotMachine, s, event);
        expect(table.next(code.pack(s), e)).toBe(code.pack(fired.state));
        expect(table.reply(code.pack(s), e)).toEqual(fired.reply);
      });
    });
  }

  it('slotCode round-trips every code', () => {
    for (let c = 0; c < code.size; c++) expect(code.pack(code.unpack(c))).toBe(c);
  });
});

/** Encodes with `codec` and decodes a copy of the words. */
function roundTrip<W>(codec: Codec<W>, world: W): W {
  const words = new Words();
  codec.encode(world, words);
  return codec.decode(words.view().slice());
}

describe('packedCodec', () => {
  const vector = fc
    .array(fc.integer({ min: 1, max: 31 }), { minLength: 1, maxLength: 24 })
    .chain((widths) => fc.tuple(fc.constant(widths), fc.tuple(...widths.map((w) => fc.integer({ min: 0, max: 2 ** w - 1 })))));

  test.prop([vector], { seed: 7, numRuns: 500 })('decodes what it encodes', ([widths, values]) => {
    expect(roundTrip(packedCodec(widths), values)).toEqual(values);
  });

  test.prop([vector, fc.nat()], { seed: 7, numRuns: 200 })('refuses a value too wide for its element', ([widths, values], k) => {
    const i = k % widths.length;
    const wide = values.slice();
    wide[i] = 2 ** widths[i]!;
    expect(() => roundTrip(packedCodec(widths), wide)).toThrow(/does not fit/);
  });
});

// Plain data without -0 (it encodes as 0, which === it); any keys, '', NUL and '__proto__' included.
const key = fc.oneof(fc.string(), fc.constantFrom('', '__proto__', 'a\u0000b', 'a', 'b'));
const { value: plain } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constantFrom(null, undefined, true, false),
    fc.integer(),
    fc.double({ noNaN: true }).map((x) => (Object.is(x, -0) ? 0 : x)),
    fc.string(),
    tie('array'),
    tie('object'),
  ),
  array: fc.array(tie('value'), { maxLength: 5 }),
  object: fc.dictionary(key, tie('value'), { maxKeys: 5, noNullPrototype: true }),
}));

/** A world's words, as a string to compare. */
function wordsOf<W>(codec: Codec<W>, world: W): string {
  const words = new Words();
  codec.encode(world, words);
  return words.view().join();
}

/** A copy that shares nothing with `x` (structuredClone drops own `__proto__` keys' meaning, JSON keeps no undefined). */
function copy(x: unknown): unknown {
  if (Array.isArray(x)) return x.map(copy);
  if (x === null || typeof x !== 'object') return x;
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(x)) Object.defineProperty(o, k, { value: copy((x as Record<string, unknown>)[k]), enumerable: true, writable: true, configurable: true });
  return o;
}

describe.each([
  ['plainCodec', () => plainCodec()],
  ['collapseCodec', () => collapseCodec()],
  ['collapseCodec, every level a part', () => collapseCodec(0)],
])('%s', (_, make) => {
  const codec = make(); // shared, so strings, shapes and parts are interned across runs

  test.prop([plain], { seed: 7, numRuns: 1000 })('decodes what it encodes, key order kept', (x) => {
    const y = roundTrip(codec, copy(x));
    expect(y).toStrictEqual(x);
    expect(JSON.stringify(y)).toBe(JSON.stringify(x));
  });

  test.prop([plain, plain], { seed: 7, numRuns: 1000 })('gives equal worlds equal words, and others other words', (x, y) => {
    expect(wordsOf(codec, copy(x))).toBe(wordsOf(codec, copy(x)));
    const same = JSON.stringify(x) === JSON.stringify(y) && wordsOf(plainCodec(), x) === wordsOf(plainCodec(), y);
    expect(wordsOf(codec, copy(x)) === wordsOf(codec, copy(y))).toBe(same);
  });

  it('refuses a Map as not plain data', () => {
    expect(() => roundTrip(codec, { threads: [{ ids: new Map([[1, 2]]) }] })).toThrow(/plain data/);
  });
});

describe('collapseCodec', () => {
  it('keeps each part once, and hands back the stored part', () => {
    const codec = collapseCodec<{ threads: { pc: number; frame: { id: number } }[] }>();
    const a = codec.decode(Int32Array.from(wordsOf(codec, { threads: [{ pc: 1, frame: { id: 2 } }, { pc: 1, frame: { id: 2 } }] }).split(',').map(Number)));
    expect(a.threads[0]).toBe(a.threads[1]);
    const b = roundTrip(codec, { threads: [{ pc: 3, frame: { id: 2 } }, { pc: 1, frame: { id: 2 } }] });
    expect(b.threads[1]).toBe(a.threads[0]);
  });

  it('freezes what it stores, so a model that writes into a world it was given fails at the write', () => {
    const codec = collapseCodec<{ threads: { locks: string[] }[] }>();
    const world = roundTrip(codec, { threads: [{ locks: [] }] });
    expect(() => world.threads[0]!.locks.push('pasid_mutex')).toThrow(TypeError);
  });
});

describe('fingerprint', () => {
  const words = fc.array(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), { minLength: 1, maxLength: 40 });

  test.prop([words, fc.array(fc.tuple(fc.nat(), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })), { maxLength: 6 })], { seed: 19 })(
    "of words patched, from the first words' sums, is the patched words' own",
    (before, writes) => {
      const from = Int32Array.from(before);
      // A patch names a word once.
      const once = new Map(writes.map(([at, w]) => [at % from.length, w]));
      const patch = Int32Array.from([...once].flat());
      const after = from.slice();
      for (let i = 0; i < patch.length; i += 2) after[patch[i]!] = patch[i + 1]!;
      const sums = new Int32Array(2);
      wordSums(from, from.length, sums);
      patchSums(sums, from, patch, sums);
      const patched = new Uint32Array(2);
      finishSums(sums, from.length, patched);
      const own = new Uint32Array(2);
      placedFingerprint(after, after.length, own);
      expect([...patched]).toEqual([...own]);
    },
  );

  it.each([
    ['murmur', fingerprint],
    ['placed', placedFingerprint],
  ])('%s: tells apart words that differ only in order, or only in a word moved to another place', (_, print) => {
    const of = (...w: number[]) => {
      const out = new Uint32Array(2);
      print(Int32Array.from(w), w.length, out);
      return [...out].join();
    };
    expect(new Set([of(1, 2, 3), of(3, 2, 1), of(2, 1, 3), of(1, 2, 3, 0), of(0, 1, 2, 3), of(70, 1), of(1, 70)]).size).toBe(7);
  });
});

describe('FingerprintMap and FingerprintSet', () => {
  it('numbers a fingerprint once, in the order first added', () => {
    const map = new FingerprintMap();
    expect(map.add(0xdead, 0xbeef)).toBe(-1);
    expect(map.add(0xdead, 0xbeef)).toBe(0);
    expect(map.add(0xbeef, 0xdead)).toBe(-1);
    expect(map.add(0xbeef, 0xdead)).toBe(1);
    expect(map.size).toBe(2);
  });

  it('as a set, keeps no number: a seen fingerprint gives 0', () => {
    const set = new FingerprintSet(4);
    for (let i = 1; i <= 100; i++) expect(set.add(i, 7)).toBe(-1);
    for (let i = 1; i <= 100; i++) expect(set.add(i, 7)).toBe(0);
    expect(set.size).toBe(100);
  });

  it.each([true, false])('keeps every fingerprint (and its number: %s) through many growths', (indices) => {
    const map = indices ? new FingerprintMap(4) : new FingerprintSet(4);
    const n = 100_000;
    // Halves past 2^31 too: the numbered map keeps them in Int32Arrays.
    const hi = (i: number) => Math.imul(i, 0x9e3779b1) >>> 0;
    for (let i = 0; i < n; i++) expect(map.add(hi(i), i ^ 0x80000000)).toBe(-1);
    expect(map.size).toBe(n);
    let kept = 0;
    for (let i = 0; i < n; i++) if (map.add(hi(i), i ^ 0x80000000) === (indices ? i : 0)) kept++;
    expect(kept).toBe(n);
    expect(map.size).toBe(n);
    expect(map.add(hi(n), n)).toBe(-1);
  });

  it('tells apart fingerprints that share their low half, or their high one', () => {
    const map = new FingerprintMap(4);
    for (let i = 1; i <= 1000; i++) expect(map.add(i, 42)).toBe(-1);
    for (let i = 1; i <= 1000; i++) expect(map.add(42 << 26, i)).toBe(-1);
    for (let i = 1; i <= 1000; i++) expect([map.add(i, 42), map.add(42 << 26, i)]).toEqual([i - 1, 999 + i]);
    expect(map.size).toBe(2000);
  });
});

describe('the fingerprints met last, in front of the table', () => {
  // 16,384 slots (store.ts): fingerprints whose low 14 bits agree share one, and overwrite each other there.
  const sameSlot = (i: number) => [i, (i << 14) | 5] as const;

  it.each([true, false])('answers for each fingerprint as the table does, whether its slot still holds it or not (numbered: %s)', (indices) => {
    const map = indices ? new FingerprintMap(4) : new FingerprintSet(4);
    for (let i = 0; i < 300; i++) expect(map.add(...sameSlot(i))).toBe(-1);
    // Met again in any order: each but the last was overwritten in its slot, and is found in the table.
    for (let i = 299; i >= 0; i--) expect(map.add(...sameSlot(i))).toBe(indices ? i : 0);
    for (let i = 0; i < 300; i += 7) expect([map.add(...sameSlot(i)), map.add(...sameSlot(i))]).toEqual(indices ? [i, i] : [0, 0]);
    expect(map.size).toBe(300);
    expect(map.add(...sameSlot(300))).toBe(-1);
  });
});

describe('WorldQueue', () => {
  const CHUNK = 1 << 20; // words per chunk (store.ts)
  const entry = (j: number, length: number) => {
    const words = new Int32Array(length);
    for (let k = 0; k < length; k++) words[k] = j * 7 + k;
    return words;
  };
  /** Whether `words` is entry j (compared by hand: toEqual is slow on a million words). */
  const isEntry = (words: Int32Array, j: number, length: number) =>
    words.length === length && words.every((w, k) => w === j * 7 + k);

  it('is FIFO across chunk boundaries, spent chunks used again with their old words in them', () => {
    const queue = new WorldQueue();
    const lengths = Array.from({ length: 5_000 }, (_, j) => (j * 7919) % 1500); // ~3.7M words, some empty
    let shifted = 0;
    const shiftOne = () => {
      expect(isEntry(queue.shift(), shifted, lengths[shifted]!)).toBe(true);
      shifted++;
    };
    lengths.forEach((length, j) => {
      queue.push(entry(j, length), length);
      if (j % 3 === 0) shiftOne(); // interleave, so reads chase writes
    });
    expect(queue.size).toBe(lengths.length - shifted);
    while (queue.size > 0) shiftOne();
    expect(shifted).toBe(lengths.length);
  });

  it('handles an entry that fills a chunk exactly', () => {
    const queue = new WorldQueue();
    queue.push(entry(1, CHUNK - 1), CHUNK - 1);
    queue.push(entry(2, 3), 3);
    expect(isEntry(queue.shift(), 1, CHUNK - 1)).toBe(true);
    expect(isEntry(queue.shift(), 2, 3)).toBe(true);
    expect(queue.size).toBe(0);
  });

  it('stores a world like the one before it as what it changed, and gives it back whole', () => {
    const queue = new WorldQueue();
    // Siblings that differ in a word or two, worlds of another length between them, and one longer than a mask word;
    // over a million words in all, so deltas cross a chunk's end.
    const worlds = Array.from({ length: 250_000 }, (_, j) => {
      const length = j % 97 === 0 ? 40 : j % 89 === 0 ? 3 : 12;
      const words = Int32Array.from({ length }, (_, k) => (k === j % length ? j : k * 1_000 + (j % 5 === 0 ? -k : k)));
      return words;
    });
    let shifted = 0;
    let wrong = 0;
    const shiftOne = () => {
      const got = queue.shift();
      const want = worlds[shifted++]!;
      if (got.length !== want.length || !got.every((w, k) => w === want[k])) wrong++;
    };
    worlds.forEach((w, j) => {
      queue.push(w, w.length);
      if (j % 2 === 0) shiftOne();
    });
    while (queue.size > 0) shiftOne();
    expect([shifted, wrong]).toEqual([worlds.length, 0]);
    const full = worlds.reduce((n, w) => n + w.length + 1, 0) * 4;
    expect(queue.peakBytes).toBeLessThan(full / 2);
  });

  it('refuses an entry longer than a chunk', () => {
    expect(() => new WorldQueue().push(new Int32Array(CHUNK), CHUNK)).toThrow(/at most/);
  });
});

describe('PairQueue', () => {
  test.prop([fc.array(fc.boolean(), { maxLength: 400 })], { seed: 19 })('is FIFO as pushes and shifts interleave, its ring grown while it wraps round', (pushes) => {
    const queue = new PairQueue();
    const out = new Int32Array(2);
    let pushed = 0;
    let shifted = 0;
    const got: number[] = [];
    for (const push of [...pushes, ...pushes.map(() => true)]) {
      if (push) queue.push(pushed, ~pushed++);
      else if (shifted < pushed) {
        queue.shift(out);
        got.push(out[0]!, ~out[1]!);
        shifted++;
      }
    }
    expect(got).toEqual(Array.from({ length: shifted }, (_, i) => [i, i]).flat());
  });
});
