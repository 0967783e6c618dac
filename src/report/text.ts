/** The terminal report: one block per variant, a line per property, traces inline. */
import pc from 'picocolors';
import type { AnyModel, AnyVariant } from '../engine/model.ts';
import type { Verdict, VariantReport } from '../check.ts';
import type { Counterexample } from '../explore/random.ts';
import { renderTrace } from '../trace/text.ts';

function boundsArgs(r: VariantReport, model: AnyModel): string {
  const d = model.defaults;
  const b = r.bounds;
  const args: string[] = [];
  if (b.threads !== d.threads) args.push(`--threads ${b.threads}`);
  if (b.ops !== d.ops) args.push(`--ops ${b.ops}`);
  if (b.ids.min !== d.ids.min || b.ids.max !== d.ids.max) args.push(`--ids ${b.ids.min}..${b.ids.max}`);
  for (const [key, names] of Object.entries(b.only ?? {})) args.push(`--only ${key}=${names.join(',')}`);
  return args.map((a) => ` ${a}`).join('');
}

/** The command line that replays a counterexample exactly. */
export function replayCommand(r: VariantReport, property: string, cx: Counterexample<unknown>, model: AnyModel): string {
  const bounds = boundsArgs(r, model);
  return `lifecheck check ${r.model} --variant ${r.variant} --property ${property}${bounds} --seed ${cx.seed} --path ${cx.path}`;
}

function verdictLine(v: Verdict): string {
  const mark = v.actual === 'violated' ? pc.red('✗') : v.actual === 'holds' ? pc.green('✓') : pc.dim('–');
  const what =
    v.actual === 'violated'
      ? `violated in ${v.counterexample?.trace.steps.length} steps (run ${v.runs})`
      : v.actual === 'holds'
        ? `holds (${v.runs} runs)`
        : 'not applicable';
  const expectation = v.matches ? pc.dim('as expected') : pc.bold(pc.red(`UNEXPECTED: expected ${v.expected}`));
  return `  ${mark} ${v.property.padEnd(30)} ${what}  ${expectation}`;
}

export function textReport(variant: AnyVariant, r: VariantReport): string {
  const { model, config } = variant;
  const head = `${pc.bold(`${r.model} --variant ${r.variant}`)}: ${r.title} [${r.source}]`;
  const lines = [head, ...r.verdicts.map(verdictLine)];
  for (const v of r.verdicts) {
    const cx = v.counterexample;
    if (!cx) continue;
    lines.push('', renderTrace(cx.trace, model.present, config, cx.violation).replace(/^/gm, '    '));
    lines.push(pc.dim(`    replay: ${replayCommand(r, v.property, cx, model)}`));
  }
  const status = r.matches ? pc.green('every verdict as expected') : pc.red('some verdicts are not as expected');
  lines.push('', `  ${status} (${r.durationMs} ms)`, '');
  return lines.join('\n');
}
