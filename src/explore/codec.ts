/**
 * Codecs turn worlds into 32-bit words and back, so that the exhaustive
 * explorer can fingerprint them and queue them in typed arrays. A model may
 * give its own (`System.codec`); any plain-data world can use `plainCodec`.
 * Equal worlds must encode to equal words; decoding gives an equal world.
 */
import type { Codec, WordSink } from '../engine/model.ts';
import { fingerprint } from './store.ts';

/**
 * A world that is a vector of small non-negative integers, packed with
 * `widths[i]` bits for element i (a SPIN-like state vector, bit-packed).
 * Its encoder and decoder are compiled for the layout: straight-line code,
 * each element's word, shift and range constants in it, as SPIN's generated
 * verifier has them.
 */
export function packedCodec(widths: readonly number[]): Codec<readonly number[]> {
  // Where each element goes: its word, and its bit offset there.
  const at: { word: number; shift: number; max: number }[] = [];
  let word = 0;
  let used = 0;
  widths.forEach((w) => {
    if (!(Number.isInteger(w) && w >= 1 && w <= 31)) throw new Error(`packedCodec: width ${w} is not in 1..31`);
    if (used + w > 32) {
      word++;
      used = 0;
    }
    at.push({ word, shift: used, max: 2 ** w - 1 });
    used += w;
  });
  const wordsOf = Array.from({ length: word + 1 }, (_, j) => at.flatMap((e, i) => (e.word === j ? [{ ...e, i }] : [])));
  const encodeBody = [
    'let v;',
    ...wordsOf.flatMap((elements, j) => [
      `let w${j} = 0;`,
      ...elements.flatMap(({ i, shift, max }) => [`v = world[${i}];`, `if (!(v >= 0 && v <= ${max})) tooWide(${i}, v);`, `w${j} |= v << ${shift};`]),
      `out.push(w${j});`,
    ]),
  ].join('\n');
  const tooWide = (i: number, v: unknown) => {
    throw new Error(`packedCodec: element ${i} = ${v} does not fit in ${widths[i]} bits`);
  };
  const encode = new Function('tooWide', `return function encode(world, out) {\n${encodeBody}\n};`)(tooWide) as Codec<readonly number[]>['encode'];
  const decodeBody = `return [${at.map(({ word: j, shift, max }) => `(packed[${j}] >>> ${shift}) & ${max}`).join(', ')}];`;
  const decode = new Function('packed', decodeBody) as Codec<readonly number[]>['decode'];
  // Its words are the world's values, whoever encodes them: a split search's parts agree on them.
  return { encode, decode, fingerprint };
}

/** The kinds of a tagged word (its low 3 bits; the rest is its payload): `plainCodec`'s, and `collapseCodec`'s too. */
export const INT = 0;
export const STRING = 1;
export const OBJECT = 2;
export const ARRAY = 3;
export const CONSTANT = 4;
export const NUMBER = 5;
export const CONSTANTS = [null, undefined, false, true] as const;
/** Integers a word holds as its payload; others are interned as numbers. */
export const SMALL = 2 ** 28;

export const tag = (payload: number, kind: number): number => (payload * 8 + kind) | 0;

/** An object's keys, in order, numbered as met. */
export interface Shape {
  readonly id: number;
  readonly keys: readonly string[];
}

/** Shapes by their keys in order, as a trie: finding an object's shape walks its keys and allocates nothing. */
export interface ShapeNode {
  readonly next: Map<string, ShapeNode>;
  shape?: Shape;
}

/**
 * Reads a value back from tagged words (from `at.i` on): its strings, numbers and shapes from the tables the
 * encoder interned them in; a kind beyond the plain ones (a stored part) from `other`.
 */
export function wordReader(
  strings: readonly string[],
  numbers: readonly number[],
  shapes: readonly Shape[],
  other?: (kind: number, payload: number) => unknown,
): (words: Int32Array, at: { i: number }) => unknown {
  const read = (words: Int32Array, at: { i: number }): unknown => {
    const word = words[at.i++]!;
    const kind = word & 7;
    const payload = (word - kind) / 8;
    switch (kind) {
      case INT:
        return payload;
      case STRING:
        return strings[payload];
      case NUMBER:
        return numbers[payload];
      case CONSTANT:
        return CONSTANTS[payload];
      case ARRAY: {
        const array = new Array<unknown>(payload);
        for (let k = 0; k < payload; k++) array[k] = read(words, at);
        return array;
      }
      case OBJECT: {
        const object: Record<string, unknown> = {};
        for (const k of shapes[payload]!.keys) {
          const value = read(words, at);
          // defineProperty only where assignment would set the prototype instead of a key
          if (k === '__proto__') Object.defineProperty(object, k, { value, enumerable: true, writable: true, configurable: true });
          else object[k] = value;
        }
        return object;
      }
      default:
        return other!(kind, payload);
    }
  };
  return read;
}

/**
 * A codec for any world made of plain objects, arrays, strings, numbers,
 * booleans, null and undefined. Each value is one tagged word; strings and
 * object shapes (their keys, in order) are interned, so the words are compact.
 * Key order is kept, so a decoded world is the same to JSON.stringify too.
 */
export function plainCodec<W = unknown>(): Codec<W> {
  const strings: string[] = [];
  const stringIds = new Map<string, number>();
  const numbers: number[] = [];
  const numberIds = new Map<number, number>();
  const shapes: Shape[] = [];
  const root: ShapeNode = { next: new Map() };

  const intern = <T>(value: T, ids: Map<T, number>, table: T[]): number => {
    let id = ids.get(value);
    if (id === undefined) {
      id = table.push(value) - 1;
      ids.set(value, id);
    }
    return id;
  };
  const shapeOf = (object: object): Shape => {
    let node = root;
    for (const k in object) {
      let next = node.next.get(k);
      if (!next) node.next.set(k, (next = { next: new Map() }));
      node = next;
    }
    if (!node.shape) {
      node.shape = { id: shapes.length, keys: Object.keys(object) };
      shapes.push(node.shape);
    }
    return node.shape;
  };

  const encodeValue = (value: unknown, out: WordSink): void => {
    if (typeof value === 'number') {
      if (Number.isInteger(value) && value >= -SMALL && value < SMALL) out.push(tag(value, INT));
      else out.push(tag(intern(value, numberIds, numbers), NUMBER));
    } else if (typeof value === 'string') {
      out.push(tag(intern(value, stringIds, strings), STRING));
    } else if (Array.isArray(value)) {
      out.push(tag(value.length, ARRAY));
      for (const item of value) encodeValue(item, out);
    } else if (value === null || value === undefined || typeof value === 'boolean') {
      out.push(tag(CONSTANTS.indexOf(value), CONSTANT));
    } else if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      const shape = shapeOf(value);
      out.push(tag(shape.id, OBJECT));
      for (const k of shape.keys) encodeValue((value as Record<string, unknown>)[k], out);
    } else {
      const what = typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value;
      throw new Error(`plainCodec: a world holds a ${what}; worlds must be plain data (objects, arrays, strings, numbers)`);
    }
  };

  const decodeValue = wordReader(strings, numbers, shapes);

  return {
    encode: (world, out) => encodeValue(world, out),
    decode: (words) => decodeValue(words, { i: 0 }) as W,
  };
}
