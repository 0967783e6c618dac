/**
 * Values by word, a codec's number for a part: open addressing over the
 * words met, so it takes room for those alone, however large the numbers
 * (an array indexed by word would span every part the codec numbered).
 */
export class WordMap<T> {
  /** The words met, and what each leads to: a slot is empty while its value is undefined. */
  private words = new Int32Array(4);
  private values: (T | undefined)[] = [undefined, undefined, undefined, undefined];
  private size = 0;
  /** The word found last, and its value: a search asks for the same word many times in a row. */
  private lastWord = 0;
  private lastValue?: T;

  get(word: number): T | undefined {
    if (word === this.lastWord && this.lastValue !== undefined) return this.lastValue;
    const { words, values } = this;
    const mask = words.length - 1;
    for (let i = slotOf(word, mask); ; i = (i + 1) & mask) {
      const value = values[i];
      if (value === undefined || words[i] === word) {
        if (value !== undefined) {
          this.lastWord = word;
          this.lastValue = value;
        }
        return value;
      }
    }
  }

  set(word: number, value: T): void {
    if ((this.size + 1) * 2 > this.words.length) this.grow();
    const { words, values } = this;
    const mask = words.length - 1;
    let i = slotOf(word, mask);
    while (values[i] !== undefined && words[i] !== word) i = (i + 1) & mask;
    if (values[i] === undefined) this.size++;
    words[i] = word;
    values[i] = value;
    if (word === this.lastWord) this.lastValue = value;
  }

  /** Twice the slots, the words met so far laid in again. */
  private grow(): void {
    const { words, values } = this;
    this.words = new Int32Array(words.length * 2);
    this.values = new Array<T | undefined>(words.length * 2).fill(undefined);
    this.size = 0;
    for (let i = 0; i < words.length; i++) if (values[i] !== undefined) this.set(words[i]!, values[i]!);
  }
}

/** A word's first slot in a table of `mask + 1` (words differ most in their low bits: a multiply spreads them). */
function slotOf(word: number, mask: number): number {
  const h = Math.imul(word, 0x9e3779b1);
  return (h ^ (h >>> 15)) & mask;
}
