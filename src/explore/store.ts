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

/** One table of a `FingerprintMap`: linear probing on the fingerprint's low half; it doubles past 70% full. */
class Segment {
  table: Uint32Array;
  mask: number;
  size = 0;

  constructor(
    private readonly stride: number,
    slots: number,
  ) {
    this.table = new Uint32Array(stride * slots);
    this.mask = slots - 1;
  }

  add(hi: number, lo: number, index: number): number {
    const { table, mask, stride } = this;
    let slot = lo & mask;
    for (;;) {
      const at = slot * stride;
      const h = table[at]!;
      const l = table[at + 1]!;
      if (h === 0 && l === 0) {
        table[at] = hi;
        table[at + 1] = lo;
        if (stride === 3) table[at + 2] = index;
        if (++this.size > (mask + 1) * 0.7) this.grow();
        return -1;
      }
      if (h === hi >>> 0 && l === lo >>> 0) return stride === 3 ? table[at + 2]! : 0;
      slot = (slot + 1) & mask;
    }
  }

  private grow(): void {
    const old = this.table;
    const stride = this.stride;
    this.table = new Uint32Array(old.length * 2);
    this.mask = this.mask * 2 + 1;
    this.size = 0;
    for (let at = 0; at < old.length; at += stride) {
      if (old[at] !== 0 || old[at + 1] !== 0) this.add(old[at]!, old[at + 1]!, stride === 3 ? old[at + 2]! : 0);
    }
  }
}

/**
 * An open-addressing map from 64-bit fingerprints to state indices (linear
 * probing); without `indices` a set, 8 bytes a slot instead of 12. As in TLC,
 * two distinct states can share a fingerprint; `collisionOdds` estimates how
 * likely that was for a search of this size. It is 64 tables, chosen by the
 * fingerprint's top bits, that each double on their own: growing never holds
 * two copies of the whole map, only of one 64th of it, so the peak memory of
 * a large search is its table, not one and a half of it.
 */
export class FingerprintMap {
  /** Per segment, per slot: the fingerprint's halves, and its index when kept. */
  private readonly segments: Segment[];
  private readonly stride: number;

  constructor(log2Capacity = 12, indices = true) {
    this.stride = indices ? 3 : 2;
    const slots = 1 << Math.max(2, log2Capacity - SEGMENT_BITS);
    this.segments = Array.from({ length: SEGMENTS }, () => new Segment(this.stride, slots));
  }

  /** The fingerprints it holds. */
  get size(): number {
    return this.segments.reduce((n, s) => n + s.size, 0);
  }

  get bytes(): number {
    return this.segments.reduce((n, s) => n + s.table.byteLength, 0);
  }

  /** The bytes the next growth will allocate, once one is near; else 0. */
  get growthBytes(): number {
    return Math.max(...this.segments.map((s) => (s.size > (s.mask + 1) * 0.6 ? s.table.byteLength * 2 : 0)));
  }

  /** Maps a new fingerprint to `index` and gives -1; for one already there, gives its index (0 when indices are not kept). */
  add(hi: number, lo: number, index: number): number {
    if (hi === 0 && lo === 0) lo = 1; // (0, 0) marks an empty slot
    return this.segments[hi >>> (32 - SEGMENT_BITS)]!.add(hi, lo, index);
  }

  /** Probability that some two of `size` states shared a fingerprint (birthday bound). */
  collisionOdds(): number {
    return Math.min(1, (this.size * this.size) / 2 ** 65);
  }
}

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
    return Int32Array.from({ length }, (_, i) => (i < this.length ? this.get(i) : fill));
  }

  /** The bytes its values take (the rest of the last chunk is room, not use). */
  get bytes(): number {
    return this.length * (this.chunks[0]?.BYTES_PER_ELEMENT ?? 0);
  }
}

const END = -1; // a length that marks the unused rest of a chunk

/** A FIFO of encoded worlds, each stored as its length and its words; spent chunks are released. */
export class WorldQueue {
  private readonly chunks: Int32Array[] = [];
  private writeAt = CHUNK; // forces a first chunk
  private readAt = 0;
  size = 0;
  /** Words queued now, and the most there have been. */
  private held = 0;
  private peak = 0;

  push(words: Int32Array, length: number): void {
    if (length + 1 > CHUNK) throw new Error(`a world encodes to ${length} words; the queue takes at most ${CHUNK - 1}`);
    if (this.writeAt + length + 1 > CHUNK) {
      if (this.writeAt < CHUNK) this.chunks[this.chunks.length - 1]![this.writeAt] = END;
      this.chunks.push(new Int32Array(CHUNK));
      this.writeAt = 0;
    }
    const chunk = this.chunks[this.chunks.length - 1]!;
    chunk[this.writeAt] = length;
    chunk.set(words.subarray(0, length), this.writeAt + 1);
    this.writeAt += length + 1;
    this.size++;
    this.held += length + 1;
    this.peak = Math.max(this.peak, this.held);
  }

  /** The next world's words (a view, valid until the next shift). */
  shift(): Int32Array {
    let chunk = this.chunks[0]!;
    if (this.readAt >= CHUNK || chunk[this.readAt] === END) {
      this.chunks.shift();
      chunk = this.chunks[0]!;
      this.readAt = 0;
    }
    const length = chunk[this.readAt]!;
    const view = chunk.subarray(this.readAt + 1, this.readAt + 1 + length);
    this.readAt += length + 1;
    this.size--;
    this.held -= length + 1;
    return view;
  }

  /** The most bytes its worlds have taken at once (its chunks are released as they are spent). */
  get peakBytes(): number {
    return this.peak * 4;
  }
}
