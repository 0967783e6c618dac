/**
 * A kit system's codec: a world is its (stored) parts in the layout's order
 * (parts.ts), each one word of a collapse codec (a number, or the index of
 * the stored part it equals). The step cache takes steps on these words
 * (cache.ts): the exhaustive explorer decodes each world it expands once,
 * and encodes few (the first, and some to check the words against; with the
 * cache off, every one).
 */
import type { WordSink } from '../engine/model.ts';
import type { CollapseCodec, MeasuredCodec } from '../explore/collapse.ts';
import { fromParts, type Layout } from './parts.ts';
import type { KitWorld } from './world.ts';

/** The codec of worlds with `layout`'s parts, each a word of `parts`. */
export function kitCodec(layout: Layout, parts: CollapseCodec<unknown>): MeasuredCodec<KitWorld> {
  const stored = layout.read.slice(0, layout.stored);
  const values: unknown[] = new Array(layout.stored);
  return {
    encode(world: KitWorld, out: WordSink) {
      for (const read of stored) out.push(parts.word(read(world)));
    },
    decode(words: Int32Array) {
      for (let i = 0; i < values.length; i++) values[i] = parts.value(words[i]!);
      return fromParts(layout, values);
    },
    fingerprint: (words, length, out) => parts.fingerprint!(words, length, out),
    get bytes() {
      return parts.bytes;
    },
  };
}
