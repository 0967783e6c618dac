/**
 * The JSON report: one document per run, with a schema version so CI scripts
 * can rely on its shape. Traces carry both the raw steps and their rendering.
 */
import type { AnyVariant } from '../engine/model.ts';
import type { VariantReport } from '../check.ts';
import { renderTrace } from '../trace/text.ts';
import { replayCommand } from './text.ts';

export const SCHEMA_VERSION = 1;

function counterexampleJson(variant: AnyVariant, r: VariantReport, property: string) {
  const cx = r.verdicts.find((x) => x.property === property)?.counterexample;
  if (!cx) return undefined;
  const { model, config } = variant;
  let before = cx.trace.init;
  const steps = cx.trace.steps.map((t) => {
    const subject = model.present.subject(t.step, t.reply);
    const row = {
      thread: t.step.thread,
      op: t.step.op,
      args: t.step.args,
      reply: t.reply,
      call: model.present.call(t.step, t.reply, before, config),
      ...(subject ? { subject, state: model.present.state(t.world, subject) } : {}),
    };
    before = t.world;
    return row;
  });
  return {
    violation: cx.violation,
    seed: cx.seed,
    path: cx.path,
    shrinks: cx.shrinks,
    replay: replayCommand(r, property, cx, model),
    steps,
    text: renderTrace(cx.trace, model.present, config, cx.violation),
  };
}

export function jsonReport(
  reports: readonly { variant: AnyVariant; report: VariantReport }[],
  meta: { version: string; durationMs: number },
) {
  return {
    schemaVersion: SCHEMA_VERSION,
    tool: 'lifecheck',
    version: meta.version,
    explorer: 'random',
    matches: reports.every((x) => x.report.matches),
    durationMs: meta.durationMs,
    results: reports.map(({ variant, report }) => ({
      ...report,
      verdicts: report.verdicts.map(({ counterexample: _, ...v }) => ({
        ...v,
        ...(v.actual === 'violated' ? { counterexample: counterexampleJson(variant, report, v.property) } : {}),
      })),
    })),
  };
}
