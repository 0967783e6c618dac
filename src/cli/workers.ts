/**
 * Checking variants on worker threads, one variant per thread at a time, so
 * `check` of several variants and `review` use every core. Each variant's
 * check is what it would be in this thread (same bounds, seed, explorer), so
 * the reports are the same; they come back in the order the variants were
 * given. One variant searched exhaustively with `--jobs N` is split instead,
 * a part per thread (`explore/split.ts`), and the parts' reports merged into
 * the one search's. Ctrl-C (`signal`) stops every running check as it would stop one
 * here, and starts no more.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { checkVariant, mergeParts, type CheckOptions, type Progress, type VariantReport } from '../check.ts';
import { DefinitionError } from '../engine/define.ts';
import type { AnyVariant } from '../engine/model.ts';
import type { SearchStats } from '../explore/exhaustive.ts';
import { UsageError } from '../registry.ts';

/** Check options a thread can be sent: no signal, no callback. */
export type SentOptions = Omit<CheckOptions, 'signal' | 'onProgress'>;

export type ToWorker =
  | {
      readonly kind: 'check';
      readonly job: number;
      /** The model argument the CLI was given (a name or a module's path); none for every built-in model. */
      readonly target: string | undefined;
      readonly model: string;
      readonly variant: string;
      readonly options: SentOptions;
      readonly progress: boolean;
    }
  | { readonly kind: 'abort' };

export type FromWorker =
  | { readonly kind: 'done'; readonly job: number; readonly report: VariantReport }
  | { readonly kind: 'progress'; readonly job: number; readonly progress: Progress }
  | { readonly kind: 'failed'; readonly job: number; readonly usage: 'usage' | 'definition'; readonly message: string }
  | { readonly kind: 'failed'; readonly job: number; readonly stack: string };

/** A variant to check, and where a thread finds it: the CLI's model argument. */
export interface Job {
  readonly variant: AnyVariant;
  readonly target: string | undefined;
  readonly options: SentOptions;
}

/** Variants below which a thread's start-up (loading every source again) is not worth it unless asked for. */
const WORTH_THREADS = 3;

/** A check that can be split into parts on several threads: one exhaustive search, not preemption-bounded. */
const splittable = (jobs: readonly Job[]) => {
  const exhaustive = jobs.length === 1 ? jobs[0]!.options.exhaustive : undefined;
  return exhaustive !== undefined && exhaustive.preemptions === undefined && exhaustive.split === undefined;
};

/**
 * Threads worth starting for `jobs`: as asked (for one exhaustive search, its parts, when `maySplit`), else one per
 * core from a few variants on; never more than the variants, unless split. One search is split only when asked: its
 * parts overlap (together they search about a third more worlds), and one search already keeps a second core busy
 * with V8's garbage collector, so on two cores a split search is slower.
 */
export function threadsFor(jobs: readonly Job[], asked?: number, maySplit = true): number {
  if (asked !== undefined && maySplit && splittable(jobs)) return asked;
  const wanted = asked ?? (jobs.length >= WORTH_THREADS ? availableParallelism() : 1);
  return Math.max(1, Math.min(jobs.length, wanted));
}

/** The error a failed job's message stands for, as this thread would have thrown it. */
function errorOf(m: Extract<FromWorker, { kind: 'failed' }>): Error {
  if ('stack' in m) return new Error(`a worker thread failed: ${m.stack}`);
  return m.usage === 'usage' ? new UsageError(m.message) : new DefinitionError(m.message);
}

interface Pending {
  resolve(report: VariantReport): void;
  reject(error: Error): void;
}

/** Reports a search's progress, for a person watching; `job` is the job's index. */
export type OnProgress = (variant: AnyVariant, progress: Progress, job: number) => void;

/** Each job's report, in order: on `threads` worker threads (one search split over them), or in this one when one is all there is to use. */
export function checkAll(jobs: readonly Job[], threads: number, signal: AbortSignal, onProgress?: OnProgress): AsyncIterable<VariantReport> {
  if (threads > 1 && splittable(jobs)) return checkSplit(jobs[0]!, threads, signal, onProgress);
  return threads > 1 ? checkOnThreads(jobs, threads, signal, onProgress) : checkHere(jobs, signal, onProgress);
}

/** One exhaustive search in `parts` parts, a thread each; its progress the parts' added up (they overlap). */
async function* checkSplit(job: Job, parts: number, signal: AbortSignal, onProgress?: OnProgress): AsyncGenerator<VariantReport> {
  const exhaustive = job.options.exhaustive!;
  const jobs = Array.from({ length: parts }, (_, part): Job => ({ ...job, options: { ...job.options, exhaustive: { ...exhaustive, split: { part, parts } } } }));
  const latest: SearchStats[] = [];
  const added = onProgress && ((variant: AnyVariant, progress: Progress, part: number) => {
    if ('runs' in progress) return;
    latest[part] = progress;
    onProgress(variant, summed(latest.filter((s) => s !== undefined)), 0);
  });
  const reports: VariantReport[] = [];
  for await (const report of checkOnThreads(jobs, parts, signal, added)) reports.push(report);
  if (reports.length === parts) yield mergeParts(job.variant, job.options.bounds, reports);
}

/** The parts' latest figures as one line's: their worlds and steps added up (they overlap), the deepest, the longest running. */
function summed(all: readonly SearchStats[]): SearchStats {
  const sum = (f: (s: SearchStats) => number) => all.reduce((n, s) => n + f(s), 0);
  const elapsedMs = Math.max(...all.map((s) => s.elapsedMs));
  const states = sum((s) => s.states);
  return {
    ...all[0]!,
    states,
    transitions: sum((s) => s.transitions),
    queued: sum((s) => s.queued),
    depth: Math.max(...all.map((s) => s.depth)),
    elapsedMs,
    statesPerSecond: Math.round(states / Math.max(elapsedMs / 1000, 1e-3)),
  };
}

/** A job's options as `checkVariant` takes them here: with the signal, and the check's progress reported to `onProgress`. */
export function checkOptionsOf(options: SentOptions, signal: AbortSignal, onProgress?: (progress: Progress) => void): CheckOptions {
  return { ...options, ...(onProgress ? { onProgress } : {}), signal };
}

async function* checkHere(jobs: readonly Job[], signal: AbortSignal, onProgress?: OnProgress): AsyncGenerator<VariantReport> {
  for (const { variant, options } of jobs) {
    if (signal.aborted) return;
    yield await checkVariant(variant, checkOptionsOf(options, signal, onProgress && ((s) => onProgress(variant, s, 0))));
  }
}

/**
 * Checks `jobs` on `threads` worker threads; yields each report in the jobs'
 * order as soon as it and those before it are done. After Ctrl-C it yields
 * the reports of the jobs that had started (interrupted, as a check here
 * would be), then ends: the rest never started.
 */
async function* checkOnThreads(jobs: readonly Job[], threads: number, signal: AbortSignal, onProgress?: OnProgress): AsyncGenerator<VariantReport> {
  const pending: Pending[] = [];
  const results = jobs.map(
    (_, i) =>
      new Promise<VariantReport>((resolve, reject) => {
        pending[i] = { resolve, reject };
      }),
  );
  // A job that fails before its turn to be yielded must not be an unhandled rejection meanwhile.
  for (const r of results) r.catch(() => undefined);
  let next = 0;
  const workers = Array.from({ length: threads }, () => new Worker(new URL('./check-worker-entry.js', import.meta.url)));
  const send = (worker: Worker) => {
    if (signal.aborted || next >= jobs.length) return;
    const job = next++;
    const { variant, target, options } = jobs[job]!;
    const message: ToWorker = { kind: 'check', job, target, model: variant.model.name, variant: variant.name, options, progress: onProgress !== undefined };
    worker.postMessage(message);
  };
  const abort = () => workers.forEach((w) => w.postMessage({ kind: 'abort' } satisfies ToWorker));
  signal.addEventListener('abort', abort);
  for (const worker of workers) {
    worker.on('message', (m: FromWorker) => {
      if (m.kind === 'progress') return onProgress?.(jobs[m.job]!.variant, m.progress, m.job);
      if (m.kind === 'done') pending[m.job]!.resolve(m.report);
      else pending[m.job]!.reject(errorOf(m));
      send(worker);
    });
    worker.on('error', (e) => pending.forEach((p) => p.reject(e)));
    send(worker);
  }
  try {
    for (let i = 0; i < jobs.length && i < next; i++) yield await results[i]!;
  } finally {
    signal.removeEventListener('abort', abort);
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
