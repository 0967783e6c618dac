/**
 * What the kit files under the words of the parts of a world something read,
 * in the order it read them (the step cache's outcomes, step properties'
 * verdicts): a tree whose nodes each name the part read next, which follows
 * from the words of the parts read before it, and go on by that part's word.
 */
import { WordMap } from './word-map.ts';

/** A node: the part read next, and where each of its words leads. */
export class Read<T> extends WordMap<Read<T> | T> {
  constructor(readonly part: number) {
    super();
  }
}

/**
 * Files `value` under the parts `reads` and their words (`wordOf`), from `root` (undefined while empty): the new
 * root. Where the tree names another part than was read, or holds something already where the reads end, whatever
 * read them did not read the same parts from the same parts: `unstable` says what that means.
 */
export function file<T>(
  root: Read<T> | T | undefined,
  reads: readonly number[],
  wordOf: (i: number) => number,
  value: T,
  unstable: () => never,
  /** The node made for the `i`th read, of `part`, where there is none yet. */
  node: (i: number, part: number) => Read<T> = (_, part) => new Read<T>(part),
): Read<T> | T {
  if (reads.length === 0) {
    if (root !== undefined) unstable();
    return value;
  }
  let at: Read<T> | undefined;
  let word = 0;
  let top = root;
  for (let i = 0; i < reads.length; i++) {
    const part = reads[i]!;
    const next = at ? at.get(word) : top;
    if (next !== undefined && !(next instanceof Read && next.part === part)) unstable();
    const here = (next as Read<T> | undefined) ?? node(i, part);
    if (next === undefined) {
      if (at) at.set(word, here);
      else top = here;
    }
    at = here;
    word = wordOf(i);
  }
  if (at!.get(word) !== undefined) unstable();
  at!.set(word, value);
  return top!;
}
