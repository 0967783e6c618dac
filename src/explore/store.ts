/**
 * The exhaustive explorer's memory: a map of 64-bit state fingerprints to state indices, chunked
 * integer columns (parent links, step indices) and a queue of encoded worlds,
 * all in typed arrays so that tens of millions of states stay off the JS heap.
 */

/** A growable buffer of 32-bit words that a codec writes one world into. */
export class Words {
  buffer = new Int32Array(64);
  length = 0;

  push(word: number): void {
    if (this.length === this.buffer.length) {
      const bigger = new Int32Array(this.buffer.length * 2);
      bigger.set(this.buffer);
      this.buffer = bigger;
    }
    this.buffer[this.length++] = word;
  }

  clear(): void {
    this.length = 0;
  }

  view(): Int32Array {
    return this.buffer.subarray(0, this.length);
  }
}

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

/** One MurmurHash3 step: `word` mixed into the hash `h`. */
export function mix(h: number, word: number): number {
  let k = Math.imul(word, C1);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, C2);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3's finish: the hash of `length` words mixed into `h`, as an unsigned 32-bit number. */
export function finish(h: number, length: number): number {
  h ^= length;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Each place's seed in each lane (`placed`), grown as longer worlds are met: place p's lane l at 2p + l. */
let seeds = new Int32Array(0);

function seedsFor(length: number): Int32Array {
  if (seeds.length < 2 * length) {
    seeds = new Int32Array(2 * Math.max(length, 64));
    for (let p = 0; 2 * p < seeds.length; p++) {
      seeds[2 * p] = mix(0x9747b28c, p);
      seeds[2 * p + 1] = mix(0x5bd1e995, p);
    }
  }
  return seeds;
}

/** A word hashed with its place's seed (`seeds`): a bijection of the word for each place and lane. */
function placed(seed: number, word: number): number {
  const h = mix(seed, word);
  const k = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  return k ^ (k >>> 13);
}

/**
 * The sums a placed fingerprint of `length` words finishes, into `sums`: each word hashed with its place, added
 * up in two lanes. A step that changes a few words changes the sums by those words' hashes alone (`patchSums`),
 * so the world it makes is fingerprinted without its words being copied or read.
 */
export function wordSums(words: Int32Array, length: number, sums: Int32Array): void {
  const seed = seedsFor(length);
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < length; i++) {
    const w = words[i]!;
    hi = (hi + placed(seed[2 * i]!, w)) | 0;
    lo = (lo + placed(seed[2 * i + 1]!, w)) | 0;
  }
  sums[0] = hi;
  sums[1] = lo;
}

/** `wordSums` of `words` patched by `patch` (a word's index, once, and its new word in turn), from the sums of `words`. */
export function patchSums(sums: Int32Array, words: Int32Array, patch: Int32Array, out: Int32Array): void {
  const seed = seedsFor(words.length);
  let hi = sums[0]!;
  let lo = sums[1]!;
  for (let i = 0; i < patch.length; i += 2) {
    const at = patch[i]!;
    const was = words[at]!;
    const now = patch[i + 1]!;
    if (was === now) continue;
    hi = (hi - placed(seed[2 * at]!, was) + placed(seed[2 * at]!, now)) | 0;
    lo = (lo - placed(seed[2 * at + 1]!, was) + placed(seed[2 * at + 1]!, now)) | 0;
  }
  out[0] = hi;
  out[1] = lo;
}

/** The 64-bit fingerprint of `length` words whose sums are `sums`, as two 32-bit halves into `out`. */
export function finishSums(sums: Int32Array, length: number, out: Uint32Array): void {
  out[0] = finish(sums[0]!, length);
  out[1] = finish(sums[1]! ^ 0x2545f491, length);
}

const scratch = new Int32Array(2);

/**
 * The placed fingerprint of `length` words (`wordSums`, finished), into `out`: what a search on words
 * (`WordSteps`) fingerprints its worlds with, as it can patch it.
 */
export function placedFingerprint(words: Int32Array, length: number, out: Uint32Array): void {
  wordSums(words, length, scratch);
  finishSums(scratch, length, out);
}

/**
 * A 64-bit fingerprint of `length` words as two MurmurHash3-style 32-bit
 * halves with different seeds, written into `out` (no allocation per state).
 */
export function fingerprint(words: Int32Array, length: number, out: Uint32Array): void {
  let hi = 0x9747b28c;
  let lo = 0x5bd1e995;
  for (let i = 0; i < length; i++) {
    const w = words[i]!;
    hi = mix(hi, w);
    lo = mix(lo, w ^ 0x2545f491);
  }
  out[0] = finish(hi, length);
  out[1] = finish(lo, length);
}

/** The map's segments, by the fingerprint's top bits: each grows alone. */
const SEGMENT_BITS = 6;
const SEGMENTS = 1 << SEGMENT_BITS;

/** Past this share of its slots filled, a segment doubles: a hit, which most lookups are, still probes about two slots. */
const FULL = 0.75;

/** One table of a `FingerprintSet`: linear probing on the fingerprint's low half, both halves in the slot (as 32-bit integers). */
class SetSegment {
  table: Int32Array;
  mask: number;
  size = 0;

  constructor(slots: number) {
    this.table = new Int32Array(2 * slots);
    this.mask = slots - 1;
  }

  /** Whether the fingerprint (its halves as 32-bit integers) is new (it is added then). */
  add(hi: number, lo: number): boolean {
    const { table, mask } = this;
    for (let slot = lo & mask; ; slot = (slot + 1) & mask) {
      const h = table[2 * slot]!;
      const l = table[2 * slot + 1]!;
      if (h === 0 && l === 0) {
        table[2 * slot] = hi;
        table[2 * slot + 1] = lo;
        if (++this.size > (mask + 1) * FULL) this.grow();
        return true;
      }
      if (h === hi && l === lo) return false;
    }
  }

  private grow(): void {
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    this.mask = this.mask * 2 + 1;
    this.size = 0;
    for (let at = 0; at < old.length; at += 2) if (old[at] !== 0 || old[at + 1] !== 0) this.add(old[at]!, old[at + 1]!);
  }
}

/**
 * One table of a `FingerprintMap` that numbers its fingerprints: each slot is
 * a number (plus one, so 0 is empty), the fingerprint itself is in the map's
 * columns at that number. A slot is 4 bytes, not 12, and each fingerprint 8
 * once: about 16 bytes a state where slots of both would take 26.
 */
class IndexSegment {
  table: Int32Array;
  mask: number;
  size = 0;

  constructor(
    /** Each fingerprint's halves side by side, by its number (one cache line holds both). */
    private readonly halves: Column<Int32Array>,
    slots: number,
  ) {
    this.table = new Int32Array(slots);
    this.mask = slots - 1;
  }

  /** The number of the fingerprint, or -1 when it is new: then it takes number `index`, whose halves the caller puts in the column before `fit`. */
  add(hi: number, lo: number, index: number): number {
    const { table, mask } = this;
    for (let slot = lo & mask; ; slot = (slot + 1) & mask) {
      const n = table[slot]! - 1;
      if (n < 0) {
        table[slot] = index + 1;
        this.size++;
        return -1;
      }
      if (this.halves.get(2 * n + 1) === (lo | 0) && this.halves.get(2 * n) === (hi | 0)) return n;
    }
  }

  /** Doubles the table when it is too full. */
  fit(): void {
    if (this.size <= (this.mask + 1) * FULL) return;
    const old = this.table;
    this.table = new Int32Array(old.length * 2);
    this.mask = this.mask * 2 + 1;
    this.size = 0;
    for (const n of old) if (n > 0) this.add(this.halves.get(2 * n - 2), this.halves.get(2 * n - 1), n - 1);
  }
}

/**
 * The fingerprints met last are kept in front of the table, each in a slot its
 * low bits pick (overwriting whatever was there): 16,384 of them, in a core's
 * L2 cache. Most steps of a breadth-first search lead to a world met a moment
 * ago (`a; b` and `b; a` from one world are met while its children are
 * expanded side by side), so most lookups end there, and only the rest probe
 * the table itself, a random reach into megabytes: the anchor's (3,2,4)
 * search takes 0.87x the time with them. (Written out in each `add`: a method
 * call there cost most of the gain.)
 */
const RECENT = 1 << 14;

/** What both kinds of fingerprint table share: 64 segments, chosen by the fingerprint's top bits, that each double on their own. */
abstract class Segmented<S extends SetSegment | IndexSegment> {
  size = 0;

  constructor(protected readonly segments: readonly S[]) {}

  /** The segment a fingerprint's high half picks. */
  protected segment(hi: number): S {
    return this.segments[hi >>> (32 - SEGMENT_BITS)]!;
  }

  get bytes(): number {
    return this.segments.reduce((n, s) => n + s.table.byteLength, 0);
  }

  /** The bytes the next growth will allocate, once one is near; else 0. */
  get growthBytes(): number {
    return Math.max(...this.segments.map((s) => (s.size > (s.mask + 1) * (FULL - 0.1) ? s.table.byteLength * 2 : 0)));
  }

  /** Probability that some two of `size` states shared a fingerprint (birthday bound). */
  collisionOdds(): number {
    return Math.min(1, (this.size * this.size) / 2 ** 65);
  }
}

/**
 * A set of 64-bit fingerprints (open addressing, linear probing), 8 bytes a
 * slot. As in TLC, two distinct states can share a fingerprint;
 * `collisionOdds` estimates how likely that was for a search of this size.
 * Its 64 segments grow on their own: growing never holds two copies of the
 * whole set, only of one 64th of it, so the peak memory of a large search is
 * its table, not one and a half of it.
 */
export class FingerprintSet extends Segmented<SetSegment> {
  /** The fingerprints met last (`RECENT`), both halves. */
  private readonly recent = new Int32Array(2 * RECENT);

  constructor(log2Capacity = 12) {
    super(Array.from({ length: SEGMENTS }, () => new SetSegment(segmentSlots(log2Capacity))));
  }

  /**
   * -1 for a new fingerprint (it is added), 0 for one already there: a map's answers, without the numbers. Its
   * halves are read as 32-bit integers (`hi | 0`), so that they stay small integers all the way.
   */
  add(hi: number, lo: number): number {
    hi |= 0;
    lo |= 0;
    if (hi === 0 && lo === 0) lo = 1; // (0, 0) marks an empty slot
    const recent = this.recent;
    const at = 2 * (lo & (RECENT - 1));
    if (recent[at] === hi && recent[at + 1] === lo) return 0;
    recent[at] = hi;
    recent[at + 1] = lo;
    if (!this.segment(hi).add(hi, lo)) return 0;
    this.size++;
    return -1;
  }
}

/** Like a `FingerprintSet`, but it numbers its fingerprints in the order they were first added: a stored world's index. */
export class FingerprintMap extends Segmented<IndexSegment> {
  /** Each fingerprint's halves, by its number: high at 2n, low at 2n + 1. */
  private readonly halves: Column<Int32Array>;
  /** The fingerprints met last (`RECENT`), both halves and the number. */
  private readonly recent = new Int32Array(3 * RECENT);

  constructor(log2Capacity = 12) {
    const halves = new Column((n) => new Int32Array(n));
    super(Array.from({ length: SEGMENTS }, () => new IndexSegment(halves, segmentSlots(log2Capacity))));
    this.halves = halves;
  }

  override get bytes(): number {
    return super.bytes + this.halves.bytes;
  }

  /** -1 for a new fingerprint (it is given the next number, `size` before it); for one already there, its number. */
  add(hi: number, lo: number): number {
    if (hi === 0 && lo === 0) lo = 1; // as the set does, so both tell the same fingerprints apart
    const recent = this.recent;
    const at = 3 * (lo & (RECENT - 1));
    if (recent[at] === (hi | 0) && recent[at + 1] === (lo | 0)) return recent[at + 2]!;
    const segment = this.segment(hi);
    const n = segment.add(hi, lo, this.size);
    recent[at] = hi;
    recent[at + 1] = lo;
    recent[at + 2] = n >= 0 ? n : this.size;
    if (n >= 0) return n;
    this.halves.push(hi);
    this.halves.push(lo);
    segment.fit();
    this.size++;
    return -1;
  }
}

const segmentSlots = (log2Capacity: number) => 1 << Math.max(2, log2Capacity - SEGMENT_BITS);

const CHUNK_BITS = 20;
const CHUNK = 1 << CHUNK_BITS;

/** An append-only column of integers, one typed-array chunk at a time (no copying on growth). */
export class Column<A extends Int32Array | Uint16Array> {
  private readonly chunks: A[] = [];
  length = 0;

  constructor(private readonly make: (n: number) => A) {}

  push(value: number): void {
    const at = this.length & (CHUNK - 1);
    if (at === 0) this.chunks.push(this.make(CHUNK));
    this.chunks[this.chunks.length - 1]![at] = value;
    this.length++;
  }

  get(index: number): number {
    return this.chunks[index >>> CHUNK_BITS]![index & (CHUNK - 1)]!;
  }

  /** Its values in one array of `length` (the rest `fill`): what a worker thread can hand over. */
  toArray(length = this.length, fill = 0): Int32Array {
    const out = new Int32Array(length);
    const kept = Math.min(length, this.length);
    for (let c = 0; c * CHUNK < kept; c++) out.set(this.chunks[c]!.subarray(0, Math.min(CHUNK, kept - c * CHUNK)), c * CHUNK);
    if (kept < length) out.fill(fill, kept);
    return out;
  }

  /** The bytes its values take (the rest of the last chunk is room, not use). */
  get bytes(): number {
    return this.length * (this.chunks[0]?.BYTES_PER_ELEMENT ?? 0);
  }
}

const END = -1; // a length that marks the unused rest of a chunk

/**
 * A FIFO of encoded worlds. Each is stored as its length and its words, or,
 * when that is shorter, as what it changed from the world queued before it:
 * its length (bit-inverted, so negative), a bit mask of the words that differ,
 * and those words. BFS queues a world's successors one after another, and
 * they differ in the few words the step changed, so a frontier of collapsed
 * worlds takes a third of the room. A spent chunk is kept for the next one
 * needed (one at most): a chunk dropped is freed only when V8 next collects
 * its old objects, so a search that dropped them would hold as many as it
 * spent until then, and its peak memory would be when that came.
 */
export class WorldQueue {
  private readonly chunks: Int32Array[] = [];
  private spare?: Int32Array;
  private writeAt = CHUNK; // forces a first chunk
  private readAt = 0;
  size = 0;
  /** Words queued now, and the most there have been. */
  private held = 0;
  private peak = 0;
  /** The world pushed last, which the next push may be stored against, and the world shifted last, which the next shift is read against. */
  private pushed = new Int32Array(64);
  private pushedLength = -1;
  private shifted: Int32Array<ArrayBuffer> = new Int32Array(64);
  private view = this.shifted.subarray(0, 0);

  push(words: Int32Array, length: number): void {
    if (length + 1 > CHUNK) throw new Error(`a world encodes to ${length} words; the queue takes at most ${CHUNK - 1}`);
    const masks = (length + 31) >>> 5;
    // Room for it whole or as a delta, whichever it turns out to be (found in the one pass that writes it).
    if (this.writeAt + 1 + masks + length > CHUNK) {
      if (this.writeAt < CHUNK) this.chunks[this.chunks.length - 1]![this.writeAt] = END;
      // A spare's old words are never read: every word before `writeAt` is written first (END marks the rest).
      this.chunks.push(this.spare ?? new Int32Array(CHUNK));
      this.spare = undefined;
      this.writeAt = 0;
    }
    const chunk = this.chunks[this.chunks.length - 1]!;
    const at = this.writeAt;
    const pushed = this.pushed;
    let size = 1 + length;
    // A delta is shorter only when few words changed, and never for a world of two words or fewer.
    if (length === this.pushedLength && length > 2) {
      chunk[at] = ~length;
      chunk.fill(0, at + 1, at + 1 + masks);
      let end = at + 1 + masks;
      for (let k = 0; k < length; k++) {
        if (words[k] === pushed[k]) continue;
        chunk[at + 1 + (k >>> 5)]! |= 1 << (k & 31);
        chunk[end++] = pushed[k] = words[k]!;
      }
      if (end - at < size) size = end - at;
    }
    if (size === 1 + length) {
      chunk[at] = length;
      for (let k = 0; k < length; k++) chunk[at + 1 + k] = words[k]!;
      if (this.pushed.length < length) this.pushed = new Int32Array(length * 2);
      if (length > 2) for (let k = 0; k < length; k++) this.pushed[k] = words[k]!;
    }
    this.pushedLength = length;
    this.writeAt += size;
    this.size++;
    this.held += size;
    this.peak = Math.max(this.peak, this.held);
  }

  /** The next world's words (a view, valid until the next shift). */
  shift(): Int32Array {
    let chunk = this.chunks[0]!;
    if (this.readAt >= CHUNK || chunk[this.readAt] === END) {
      this.spare = this.chunks.shift();
      chunk = this.chunks[0]!;
      this.readAt = 0;
    }
    const head = chunk[this.readAt]!;
    const length = head >= 0 ? head : ~head;
    // Only a whole world can be longer than the last (a delta has its length), so nothing needs keeping.
    if (this.shifted.length < length) this.shifted = new Int32Array(length * 2);
    let at = this.readAt + 1;
    if (head >= 0) {
      for (let k = 0; k < length; k++) this.shifted[k] = chunk[at++]!;
    } else {
      const masks = this.readAt + 1;
      at += (length + 31) >>> 5;
      for (let k = 0; k < length; k++) if ((chunk[masks + (k >>> 5)]! >>> (k & 31)) & 1) this.shifted[k] = chunk[at++]!;
    }
    this.size--;
    this.held -= at - this.readAt;
    this.readAt = at;
    // One view per length, its words rewritten in place: a shift allocates nothing.
    if (this.view.buffer !== this.shifted.buffer || this.view.length !== length) this.view = this.shifted.subarray(0, length);
    return this.view;
  }

  /** The most bytes its worlds have taken at once (its chunks are released as they are spent). */
  get peakBytes(): number {
    return this.peak * 4;
  }
}

/** A FIFO of pairs of 32-bit integers (a queued world's fingerprint sums, `wordSums`), in a ring that doubles when full. */
export class PairQueue {
  private ring = new Int32Array(64);
  private head = 0;
  private size = 0;
  private peak = 0;

  push(a: number, b: number): void {
    if (2 * this.size === this.ring.length) this.grow();
    const at = (2 * (this.head + this.size)) & (this.ring.length - 1);
    this.ring[at] = a;
    this.ring[at + 1] = b;
    this.size++;
    this.peak = Math.max(this.peak, this.size);
  }

  /** The next pair, into `out`. */
  shift(out: Int32Array): void {
    const at = 2 * this.head;
    out[0] = this.ring[at]!;
    out[1] = this.ring[at + 1]!;
    this.head = (this.head + 1) & (this.ring.length / 2 - 1);
    this.size--;
  }

  /** The most bytes its pairs have taken at once. */
  get peakBytes(): number {
    return this.peak * 8;
  }

  /** Twice the room, the pairs queued laid from the start. */
  private grow(): void {
    const ring = new Int32Array(this.ring.length * 2);
    const at = 2 * this.head;
    ring.set(this.ring.subarray(at));
    ring.set(this.ring.subarray(0, at), this.ring.length - at);
    this.ring = ring;
    this.head = 0;
  }
}

/** How many of the first `length` words differ between `a` and `b`. */
