/** Parsing and checking command-line values: one clear message per mistake. */
import { totalmem } from 'node:os';
import type { Bounds, Only } from '../engine/model.ts';
import { UsageError } from '../registry.ts';

/** Random schedules per variant, and the seed they come from, unless the user says otherwise. */
export const DEFAULT_RUNS = 10_000;
export const DEFAULT_SEED = 42;

export const LIMITS = { threads: 32, ops: 12, ids: 16, runs: 10_000_000, states: 2 ** 31 - 1, memoryMB: 1 << 20, seconds: 7 * 86_400 } as const;

/** The exhaustive search stops before the process uses more than 3/4 of the machine's memory. */
export const defaultMaxMemoryMB = (): number => Math.floor((totalmem() / 2 ** 20) * 0.75);

export function intIn(flag: string, value: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(value)) throw new UsageError(`${flag} takes a whole number, not '${value}'`);
  const n = Number(value);
  if (n < min || n > max) throw new UsageError(`${flag} ${value} is out of range; use ${min} to ${max}`);
  return n;
}

/** `--ids K` (ids 1..K) or `--ids MIN..MAX`. */
export function idRange(value: string): Bounds['ids'] {
  const k = /^\d+$/.test(value) ? { min: 1, max: Number(value) } : undefined;
  const m = /^(\d+)\.\.(\d+)$/.exec(value);
  const range = k ?? (m ? { min: Number(m[1]), max: Number(m[2]) } : undefined);
  if (!range) throw new UsageError(`--ids takes a count K (ids 1..K) or a range MIN..MAX, not '${value}'`);
  if (range.max === 0 && k) throw new UsageError(`--ids 0 is an empty range; give a count of at least 1, or MIN..MAX`);
  if (range.min > range.max) throw new UsageError(`--ids ${value}: min ${range.min} is above max ${range.max}`);
  if (range.max - range.min + 1 > LIMITS.ids) {
    throw new UsageError(`--ids ${value} spans ${range.max - range.min + 1} ids; use at most ${LIMITS.ids}`);
  }
  if (range.max < 1) throw new UsageError(`--ids ${value} has no id above 0; ids start at 1`);
  return range;
}

export function seed(value: string): number {
  return intIn('--seed', value, -(2 ** 31), 2 ** 31 - 1);
}

export function path(value: string): string {
  if (!/^\d+(:\d+)*$/.test(value)) {
    throw new UsageError(`--path '${value}' is not a replay path; copy it from a report (numbers joined by ':')`);
  }
  return value;
}

/** `--only KEY=NAME[,NAME...]`, repeatable: accumulates into one narrowing. */
export function only(value: string, previous: Only = {}): Only {
  const m = /^([a-z-]+)=([^=]+)$/.exec(value);
  if (!m) throw new UsageError(`--only takes KEY=NAME[,NAME...] (e.g. --only calls=alloc,free), not '${value}'`);
  const [, key, names] = m as unknown as [string, string, string];
  const list = names.split(',').filter((n) => n !== '');
  if (list.length === 0) throw new UsageError(`--only ${key}= names nothing; give at least one name`);
  return { ...previous, [key]: [...(previous[key] ?? []), ...list] };
}

/** `--shard I/N`: the I-th of N parts of a random search (1-based). */
export function shard(value: string): { index: number; count: number } {
  const m = /^(\d+)\/(\d+)$/.exec(value);
  const index = Number(m?.[1]);
  const count = Number(m?.[2]);
  if (!m || count < 1 || count > 1024 || index < 1 || index > count) {
    throw new UsageError(`--shard ${value} is not a part of a search; give I/N with 1 <= I <= N <= 1024, e.g. --shard 2/4`);
  }
  return { index, count };
}

/** The seed of shard `index` of a search from `seed`: shard 1 runs the search's own, so 1/1 is the search itself. */
export const shardSeed = (seed: number, index: number) => (seed + index - 1) | 0;
