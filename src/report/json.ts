/**
 * The JSON report: one document per run, with a schema version so CI scripts
 * can rely on its shape. Traces carry both the raw steps and their rendering.
 */
import type { AnyVariant, Presenter } from '../engine/model.ts';
import type { Trace } from '../engine/run.ts';
import type { VariantReport } from '../check.ts';
import type { SplitTables } from '../explore/exhaustive.ts';
import { renderTrace, traceRows } from '../trace/text.ts';
import { replayCommand } from './text.ts';

export const SCHEMA_VERSION = 1;

/** A trace's steps for JSON readers: what ran, what it replied, and how it reads. */
export function traceJson<W, C>(trace: Trace<W>, present: Presenter<W, C>, config: C) {
  return traceRows(trace, present, config).map(({ call, subject, state }, i) => {
    const { step, reply } = trace.steps[i]!;
    return { thread: step.thread, op: step.op, args: step.args, reply, call, ...(subject ? { subject, state } : {}) };
  });
}

function counterexampleJson(variant: AnyVariant, r: VariantReport, property: string, module?: string) {
  const cx = r.verdicts.find((x) => x.property === property)?.counterexample;
  if (!cx) return undefined;
  const { model, config } = variant;
  const steps = traceJson(cx.trace, model.present, config);
  return {
    violation: cx.violation,
    ...(cx.explorer === 'random'
      ? {
          seed: cx.seed,
          path: cx.path,
          scheduler: cx.scheduler,
          ...(cx.depth !== undefined ? { depth: cx.depth } : {}),
          shrinks: cx.shrinks,
          ...(cx.shortenedFrom !== undefined ? { shortenedFrom: cx.shortenedFrom } : {}),
        }
      : { shortest: cx.shortest, path: cx.path, afterMs: cx.afterMs, afterStates: cx.afterStates, ...(cx.preemptions !== undefined ? { preemptions: cx.preemptions } : {}) }),
    replay: replayCommand(r, property, cx, model, module),
    steps,
    text: renderTrace(cx.trace, model.present, config, cx.violation),
  };
}

/** A split search's part as its report says it: which part, and what it could not decide alone (`SplitTables`). */
const splitJson = ({ part, parts, undecided }: SplitTables) => ({ part, parts, ...(undecided ? { undecided } : {}) });

/** Which of a sharded search's parts a report is (`check --shard 2/4`): `lifecheck merge` puts them together. */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

export function jsonReport(
  reports: readonly { variant: AnyVariant; report: VariantReport; module?: string }[],
  meta: { version: string; durationMs: number; shard?: Shard },
) {
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: 'lifecheck',
    version: meta.version,
    ...(meta.shard ? { shard: meta.shard } : {}),
    explorer: reports[0]?.report.explorer ?? 'random',
    complete: reports.every((x) => x.report.complete),
    matches: reports.every((x) => x.report.matches),
    durationMs: meta.durationMs,
    results: reports.map(({ variant, report, module }) => ({
      ...report,
      // A part of a split search says which part it is; its world tables are for merging in memory, not for the file.
      ...(report.search?.split ? { search: { ...report.search, split: splitJson(report.search.split) } } : {}),
      verdicts: report.verdicts.map(({ counterexample: _, ...v }) => ({
        ...v,
        ...(v.actual === 'violated' ? { counterexample: counterexampleJson(variant, report, v.property, module) } : {}),
      })),
    })),
  };
}
