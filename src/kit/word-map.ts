/**
 * Values by word, a codec's number for a part: the word met last in front,
 * then, once a second word is met, open addressing over the words met, so it
 * takes room for those alone, however large the numbers (an array indexed by
 * word would span every part the codec numbered). Most maps meet one word, and
 * a search asks for the same word many times in a row: those cost no table.
 */
export class WordMap<T> {
  /** The word found last, and its value (the one word met, while there is one). */
  private lastWord = 0;
  private lastValue?: T;
  /** Every word met, once a second one is, and what each leads to: a slot is empty while its value is undefined. */
  private words?: Int32Array;
  private values?: (T | undefined)[];
  private size = 0;

  get(word: number): T | undefined {
    if (word === this.lastWord && this.lastValue !== undefined) return this.lastValue;
    const { words, values } = this;
    if (words === undefined) return undefined;
    const mask = words.length - 1;
    for (let i = slotOf(word, mask); ; i = (i + 1) & mask) {
      const value = values![i];
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
    if (this.words === undefined) {
      if (this.lastValue === undefined || word === this.lastWord) {
        this.lastWord = word;
        this.lastValue = value;
        return;
      }
      this.table(4);
      this.put(this.lastWord, this.lastValue);
    }
    this.put(word, value);
    if (word === this.lastWord) this.lastValue = value;
  }

  private put(word: number, value: T): void {
    if ((this.size + 1) * 2 > this.words!.length) this.grow();
    const words = this.words!;
    const values = this.values!;
    const mask = words.length - 1;
    let i = slotOf(word, mask);
    while (values[i] !== undefined && words[i] !== word) i = (i + 1) & mask;
    if (values[i] === undefined) this.size++;
    words[i] = word;
    values[i] = value;
  }

  private table(slots: number): void {
    this.words = new Int32Array(slots);
    this.values = new Array<T | undefined>(slots).fill(undefined);
    this.size = 0;
  }

  /** Twice the slots, the words met so far laid in again. */
  private grow(): void {
    const words = this.words!;
    const values = this.values!;
    this.table(words.length * 2);
    for (let i = 0; i < words.length; i++) if (values[i] !== undefined) this.put(words[i]!, values[i]!);
  }
}

/** A word's first slot in a table of `mask + 1` (words differ most in their low bits: a multiply spreads them). */
function slotOf(word: number, mask: number): number {
  const h = Math.imul(word, 0x9e3779b1);
  return (h ^ (h >>> 15)) & mask;
}
