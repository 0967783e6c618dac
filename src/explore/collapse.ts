/**
 * SPIN's collapse compression for plain-data worlds. Every object and array
 * below the top levels of a world is hash-consed: stored once, in a table of
 * its own, and named in a world's words by its index there. A world is then a
 * short vector of such indices (a thread, an id space, a kind's objects each
 * one word), and worlds that share parts share their storage.
 *
 * It is fast where the explorer spends its time: a world's unchanged parts are
 * the very objects already stored, so encoding finds their index by identity,
 * and decoding hands the stored objects back instead of building new ones.
 * Stored objects are frozen, so a model that writes into a world it was given
 * fails at that write instead of corrupting every world that shares the part.
 */
import type { Codec, WordSink } from '../engine/model.ts';
import { ARRAY, CONSTANT, CONSTANTS, INT, NUMBER, OBJECT, SMALL, STRING, tag, wordReader, type Shape, type ShapeNode } from './codec.ts';
import { finish, mix } from './store.ts';

/** A part stored in the table: its index there (a kind beyond `plainCodec`'s). */
const PART = 6;

/** Sequences of 32-bit words, each stored once and named by its index (open addressing over a shared pool). */
class WordInterner {
  private pool: Int32Array<ArrayBuffer> = new Int32Array(1 << 9);
  private poolUsed = 0;
  private starts: Int32Array<ArrayBuffer> = new Int32Array(1 << 9);
  private lengths: Int32Array<ArrayBuffer> = new Int32Array(1 << 9);
  private table = new Int32Array(1 << 10).fill(-1);
  size = 0;

  /** The index of `words[0, length)`, stored now if it is new; `isNew` tells which. */
  intern(words: Int32Array, from: number, length: number): number {
    let h = 0x811c9dc5 ^ length;
    for (let i = from; i < from + length; i++) h = Math.imul(h ^ words[i]!, 0x01000193);
    h ^= h >>> 15;
    const mask = this.table.length - 1;
    for (let slot = h & mask; ; slot = (slot + 1) & mask) {
      const id = this.table[slot]!;
      if (id < 0) {
        this.table[slot] = this.add(words, from, length);
        this.isNew = true;
        if (this.size * 2 > this.table.length) this.rehash();
        return this.size - 1;
      }
      if (this.equals(id, words, from, length)) {
        this.isNew = false;
        return id;
      }
    }
  }

  isNew = false;

  /** The bytes its parts' words, their places and its hash table take. */
  get bytes(): number {
    return this.poolUsed * 4 + this.size * 8 + this.table.byteLength;
  }

  private equals(id: number, words: Int32Array, from: number, length: number): boolean {
    if (this.lengths[id] !== length) return false;
    const at = this.starts[id]!;
    for (let i = 0; i < length; i++) if (this.pool[at + i] !== words[from + i]) return false;
    return true;
  }

  private add(words: Int32Array, from: number, length: number): number {
    while (this.poolUsed + length > this.pool.length) this.pool = grown(this.pool, this.pool.length * 2);
    this.pool.set(words.subarray(from, from + length), this.poolUsed);
    if (this.size === this.starts.length) {
      this.starts = grown(this.starts, this.size * 2);
      this.lengths = grown(this.lengths, this.size * 2);
    }
    this.starts[this.size] = this.poolUsed;
    this.lengths[this.size] = length;
    this.poolUsed += length;
    return this.size++;
  }

  private rehash(): void {
    this.table = new Int32Array(this.table.length * 2).fill(-1);
    const mask = this.table.length - 1;
    for (let id = 0; id < this.size; id++) {
      const at = this.starts[id]!;
      const length = this.lengths[id]!;
      let h = 0x811c9dc5 ^ length;
      for (let i = at; i < at + length; i++) h = Math.imul(h ^ this.pool[i]!, 0x01000193);
      h ^= h >>> 15;
      let slot = h & mask;
      while (this.table[slot]! >= 0) slot = (slot + 1) & mask;
      this.table[slot] = id;
    }
  }
}

/** Two 32-bit hashes of a string's characters (FNV-1a from two seeds, then MurmurHash3's finish). */
function hashString(s: string, out: Uint32Array): void {
  let hi = 0x811c9dc5;
  let lo = 0x050c5d1f;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    hi = Math.imul(hi ^ c, 0x01000193);
    lo = Math.imul(lo ^ c, 0x01000193);
  }
  out[0] = finish(hi, s.length);
  out[1] = finish(lo, s.length + 1);
}

/** `a` copied into a new array of `length` words. */
function grown(a: Int32Array, length: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(length);
  b.set(a);
  return b;
}

/** A codec with its tables' memory, for the explorer's figures. */
export interface MeasuredCodec<W> extends Codec<W> {
  readonly bytes: number;
}

/** A collapse codec, and the word it writes for one value below its inline levels. */
export interface CollapseCodec<W> extends MeasuredCodec<W> {
  /** A leaf's own word, or the index of the part equal to `value` (stored now if there is none). */
  word(value: unknown): number;
  /** What a word `word` gave stands for: the leaf, or the stored part. */
  value(word: number): unknown;
}

/**
 * A collapse codec for worlds of plain objects, arrays, strings, numbers,
 * booleans, null and undefined. The top `inline` levels (the world, and its
 * fields: threads, objects, spaces) are written out word by word; each object
 * or array below them is one word naming its stored part. Key order is kept,
 * as `JSON.stringify` would see it. One codec per search: its tables grow
 * with the parts it has seen.
 */
export function collapseCodec<W = unknown>(inline = 2): CollapseCodec<W> {
  const strings: string[] = [];
  const stringIds = new Map<string, number>();
  const numbers: number[] = [];
  const numberIds = new Map<number, number>();
  const shapes: Shape[] = [];
  const root: ShapeNode = { next: new Map() };
  const parts = new WordInterner();
  const partValues: unknown[] = [];
  // The part each object is, once known: a world's unchanged parts are found without reading them.
  const partOf = new WeakMap<object, number>();
  let stack: Int32Array<ArrayBuffer> = new Int32Array(1024);
  let sp = 0;

  // What each number stands for, hashed by its content (two 32-bit lanes), for a fingerprint no numbering changes.
  const stringHash: number[] = [];
  const numberHash: number[] = [];
  const shapeHash: number[] = [];
  const partHash: number[] = [];
  const pair = new Uint32Array(2);

  const intern = <T>(value: T, ids: Map<T, number>, table: T[], hashes: number[]): number => {
    let id = ids.get(value);
    if (id === undefined) {
      id = table.push(value) - 1;
      ids.set(value, id);
      hashString(String(value), pair);
      hashes.push(pair[0]!, pair[1]!);
    }
    return id;
  };
  /** The content hash of a word, in lane 0 or 1: what it names, or its own value. */
  const stable = (word: number, lane: number): number => {
    const kind = word & 7;
    const at = ((word - kind) / 8) * 2 + lane;
    return kind === STRING ? stringHash[at]! : kind === NUMBER ? numberHash[at]! : kind === OBJECT ? shapeHash[at]! : kind === PART ? partHash[at]! : lane ? word ^ 0x2545f491 : word;
  };
  const hashWords = (words: Int32Array, from: number, length: number, out: Uint32Array): void => {
    let hi = 0x9747b28c;
    let lo = 0x5bd1e995;
    for (let i = from; i < from + length; i++) {
      const w = words[i]!;
      hi = mix(mix(hi, w & 7), stable(w, 0));
      lo = mix(mix(lo, w & 7), stable(w, 1));
    }
    out[0] = finish(hi, length);
    out[1] = finish(lo, length);
  };
  const push = (word: number): void => {
    if (sp === stack.length) stack = grown(stack, stack.length * 2);
    stack[sp++] = word;
  };

  /** Pushes a value's words: a leaf's, a container's header and its items (each inline or a part). */
  const write = (value: unknown, depth: number): void => {
    if (typeof value === 'number') {
      push(Number.isInteger(value) && value >= -SMALL && value < SMALL ? tag(value, INT) : tag(intern(value, numberIds, numbers, numberHash), NUMBER));
    } else if (typeof value === 'string') {
      push(tag(intern(value, stringIds, strings, stringHash), STRING));
    } else if (value === null || value === undefined || typeof value === 'boolean') {
      push(tag(CONSTANTS.indexOf(value), CONSTANT));
    } else if (depth >= inline) {
      push(tag(partIndex(value as object), PART));
    } else {
      writeContainer(value as object, depth);
    }
  };

  const writeContainer = (value: object, depth: number): void => {
    if (Array.isArray(value)) {
      push(tag(value.length, ARRAY));
      for (let i = 0; i < value.length; i++) write(value[i], depth + 1);
    } else if (Object.getPrototypeOf(value) === Object.prototype) {
      // Its keys and values in one pass: the keys walk the trie of shapes, whose id then heads the values.
      const head = sp;
      push(0);
      let node = root;
      for (const k in value) {
        let next = node.next.get(k);
        if (!next) node.next.set(k, (next = { next: new Map() }));
        node = next;
        write((value as Record<string, unknown>)[k], depth + 1);
      }
      if (!node.shape) {
        node.shape = { id: shapes.length, keys: Object.keys(value) };
        shapes.push(node.shape);
        hashString(node.shape.keys.join('\u0000') + `\u0000${node.shape.keys.length}`, pair);
        shapeHash.push(pair[0]!, pair[1]!);
      }
      stack[head] = tag(node.shape.id, OBJECT);
    } else {
      const what = value.constructor?.name ?? 'object';
      throw new Error(`collapseCodec: a world holds a ${what}; worlds must be plain data (objects, arrays, strings, numbers)`);
    }
  };

  /** The stored part equal to `value`, stored (and frozen) now if there is none. */
  const partIndex = (value: object): number => {
    const known = partOf.get(value);
    if (known !== undefined) return known;
    const mark = sp;
    // Its own objects and arrays are parts too, so a part that changed finds its unchanged ones by identity.
    writeContainer(value, inline - 1);
    const id = parts.intern(stack, mark, sp - mark);
    // Remembered are the stored parts (what decoded worlds hold) and other frozen ones, which cannot change and are
    // kept to be handed back again (a model's cached results): a WeakMap entry costs the collector.
    if (parts.isNew) {
      partValues.push(Object.freeze(value));
      partOf.set(value, id);
      hashWords(stack, mark, sp - mark, pair);
      partHash.push(pair[0]!, pair[1]!);
    } else if (Object.isFrozen(value)) partOf.set(value, id);
    sp = mark;
    return id;
  };

  const read = wordReader(strings, numbers, shapes, (_, payload) => partValues[payload]);
  const one = new Int32Array(1);

  return {
    encode(world, out: WordSink) {
      sp = 0;
      write(world, 0);
      for (let i = 0; i < sp; i++) out.push(stack[i]!);
    },
    decode: (words) => read(words, { i: 0 }) as W,
    word(value) {
      sp = 0;
      write(value, inline);
      return stack[0]!;
    },
    value(word) {
      if ((word & 7) === PART) return partValues[(word - PART) / 8];
      one[0] = word;
      return read(one, { i: 0 });
    },
    fingerprint: (words, length, out) => hashWords(words, 0, length, out),
    get bytes() {
      return parts.bytes;
    },
  };
}
