/**
 * What the kit files under the words of the parts of a world something read,
 * in the order it read them (the step cache's outcomes, step properties'
 * verdicts): a tree whose nodes each name the part read next, which follows
 * from the words of the parts read before it, and go on by that part's word.
 */
export class Read<T> {
  private first = 0;
  private firstNext?: Read<T> | T;
  /** The other words met, open addressing by the word's hash (a slot is empty while its `nexts` is undefined). */
  private words?: Int32Array;
  private nexts?: (Read<T> | T | undefined)[];
  private more = 0;

  constructor(readonly part: number) {}

  /** Where `word` leads. The first word met is kept inline: most reads meet one. */
  get(word: number): Read<T> | T | undefined {
    if (word === this.first && this.firstNext !== undefined) return this.firstNext;
    const words = this.words;
    if (words === undefined) return undefined;
    const nexts = this.nexts!;
    const mask = words.length - 1;
    for (let i = slotOf(word, mask); ; i = (i + 1) & mask) {
      const next = nexts[i];
      if (next === undefined || words[i] === word) return next;
    }
  }

  set(word: number, next: Read<T> | T): void {
    if (this.firstNext === undefined) {
      this.first = word;
      this.firstNext = next;
      return;
    }
    if (this.words === undefined || (this.more + 1) * 2 > this.words.length) this.grow();
    const words = this.words!;
    const nexts = this.nexts!;
    const mask = words.length - 1;
    let i = slotOf(word, mask);
    while (nexts[i] !== undefined && words[i] !== word) i = (i + 1) & mask;
    if (nexts[i] === undefined) this.more++;
    words[i] = word;
    nexts[i] = next;
  }

  /** Twice the slots (four at first), the words met so far laid in again. */
  private grow(): void {
    const { words, nexts } = this;
    const size = words ? words.length * 2 : 4;
    this.words = new Int32Array(size);
    this.nexts = new Array<Read<T> | T | undefined>(size).fill(undefined);
    this.more = 0;
    if (words) for (let i = 0; i < words.length; i++) if (nexts![i] !== undefined) this.set(words[i]!, nexts![i]!);
  }
}

/** A word's first slot in a table of `mask + 1` (words differ most in their low bits: a multiply spreads them). */
function slotOf(word: number, mask: number): number {
  const h = Math.imul(word, 0x9e3779b1);
  return (h ^ (h >>> 15)) & mask;
}

/**
 * Files `value` under the parts `reads` and their words (`wordOf`), from `root` (undefined while empty): the new
 * root. Where the tree names another part than was read, or holds something already where the reads end, whatever
 * read them did not read the same parts from the same parts: `unstable` says what that means.
 */
export function file<T>(root: Read<T> | T | undefined, reads: readonly number[], wordOf: (i: number) => number, value: T, unstable: () => never): Read<T> | T {
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
    const here = (next as Read<T> | undefined) ?? new Read<T>(part);
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
