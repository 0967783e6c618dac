/**
 * A kit system's codec: a world is its (stored) parts in the layout's order
 * (parts.ts), each one word of a collapse codec (a number, or the index of
 * the stored part it equals). The explorer decodes a world, applies each
 * enabled step to it, and encodes what each made; a world the step cache made
 * from the world decoded last (`Lineage`) is encoded from that world's words,
 * only the parts the step wrote encoded anew.
 */
import type { WordSink } from '../engine/model.ts';
import { collapseCodec, type MeasuredCodec } from '../explore/collapse.ts';
import { fromParts, type Layout } from './parts.ts';
import type { KitWorld } from './world.ts';

/** The world the codec decoded last, and the world a step made last, from which, by which writes. */
export interface Lineage {
  decoded?: KitWorld;
  made?: { readonly world: KitWorld; readonly from: KitWorld; readonly writes: readonly unknown[] };
}

export function kitCodec(layout: Layout, lineage: Lineage): MeasuredCodec<KitWorld> {
  // One level inline: the array of parts, each part (a thread, an object slot, an entry) stored once.
  const parts = collapseCodec<unknown[]>(1);
  const stored = layout.read.slice(0, layout.stored);
  const values = (world: KitWorld) => stored.map((read) => read(world));
  /** The words of the world decoded last: an array header, then a word per part. */
  let decodedWords = new Int32Array(0);
  const words = new Int32Array(layout.stored + 1);
  return {
    encode(world: KitWorld, out: WordSink) {
      const made = lineage.made;
      if (made?.world !== world || made.from !== lineage.decoded) return parts.encode(values(world), out);
      words.set(decodedWords);
      for (let i = 0; i < made.writes.length; i += 2) words[1 + (made.writes[i] as number)] = parts.word(made.writes[i + 1]);
      for (let i = 0; i < words.length; i++) out.push(words[i]!);
    },
    decode(encoded: Int32Array) {
      const world = fromParts(layout, parts.decode(encoded));
      decodedWords = encoded.slice();
      lineage.decoded = world;
      return world;
    },
    fingerprint: (encoded, length, out) => parts.fingerprint!(encoded, length, out),
    get bytes() {
      return parts.bytes;
    },
  };
}
