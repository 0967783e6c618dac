/**
 * Progress for a person watching: one status line on stderr, rewritten in
 * place while a check runs and cleared before its report is printed. Shown
 * only on a terminal; redirected output gets none.
 */
import type { Progress } from '../check.ts';

export const statusLine = {
  shown: false,
  show(line: string): void {
    process.stderr.write(`\r${line.slice(0, Math.max(20, (process.stderr.columns || 100) - 1))}\x1b[K`);
    this.shown = true;
  },
  clear(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
    this.shown = false;
  },
};

const n = (x: number) => x.toLocaleString('en-US');

/** How far a check is, in a line: an exhaustive search's figures, or a random one's schedules with the time they have left. */
export function progressLine(p: Progress): string {
  if ('runs' in p) {
    const left = p.runs > 0 ? Math.ceil(((p.of - p.runs) * p.elapsedMs) / p.runs / 1000) : undefined;
    return `sampling: ${n(p.runs)} of ${n(p.of)} schedules, ${p.broken} ${p.broken === 1 ? 'property' : 'properties'} broken${left === undefined ? '' : `, about ${left} s left`}`;
  }
  return `exploring: ${n(p.states)} states, ${n(p.transitions)} transitions, depth ${p.depth}, ${n(p.queued)} queued, ${n(p.statesPerSecond)} states/s, ${Math.round(p.peakRssBytes / 2 ** 20)} MB`;
}
