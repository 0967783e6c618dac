/**
 * The tree the kit files outcomes and verdicts in (src/kit/filed.ts), and
 * the map by word its nodes and the properties on words keep
 * (src/kit/word-map.ts): each hands back what was set for each word, however
 * many words it meets and in whatever order, and nothing for a word it never
 * met.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { file, Read } from '../../src/kit/filed.ts';
import { WordMap } from '../../src/kit/word-map.ts';

describe('Read', () => {
  it('leads each word met to what was set for it, and no other word anywhere', () => {
    // Words as a codec gives them (a tag in the low bits), some sharing their low bits, some negative.
    const word = fc.oneof(fc.integer({ min: 0, max: 64 }).map((n) => n * 8 + 6), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
    fc.assert(
      fc.property(fc.uniqueArray(word, { maxLength: 200 }), fc.array(word, { maxLength: 50 }), (met, others) => {
        for (const node of [new Read<string>(3), new WordMap<string>()]) {
          met.forEach((w, i) => node.set(w, `v${i}`));
          // Set again: the later value is kept.
          met.slice(0, 3).forEach((w, i) => node.set(w, `v${i}`));
          met.forEach((w, i) => expect(node.get(w)).toBe(`v${i}`));
          for (const w of others) if (!met.includes(w)) expect(node.get(w)).toBeUndefined();
        }
      }),
      { seed: 19, numRuns: 300 },
    );
  });

  it('files values under the words of the parts read, and a different read order as unstable', () => {
    const unstable = (): never => {
      throw new Error('unstable');
    };
    let root = file<string>(undefined, [0, 2], (i) => [10, 20][i]!, 'a', unstable);
    root = file(root, [0, 2], (i) => [10, 21][i]!, 'b', unstable);
    root = file(root, [0, 1], (i) => [11, 5][i]!, 'c', unstable);
    const walk = (words: Record<number, number>) => {
      let at: Read<string> | string | undefined = root;
      while (at instanceof Read) at = at.get(words[at.part]!);
      return at;
    };
    expect([walk({ 0: 10, 2: 20 }), walk({ 0: 10, 2: 21 }), walk({ 0: 11, 1: 5 }), walk({ 0: 12 })]).toEqual(['a', 'b', 'c', undefined]);
    expect(() => file(root, [0, 1], (i) => [10, 5][i]!, 'd', unstable)).toThrow('unstable');
  });
});
