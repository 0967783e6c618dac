/**
 * A trace as a Markdown table for review documents and GitHub comments: a
 * column per thread that moves, the touched object's state, the breaking
 * step in bold and its message below.
 */
import type { Presenter } from '../engine/model.ts';
import type { Trace, Violation } from '../engine/run.ts';
import { traceColumns, traceRows } from './text.ts';

/** A table cell: `|` escaped, newlines flattened. */
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (text: string) => (text ? `\`${cell(text)}\`` : '');

/** A trace as a GitHub-flavoured Markdown table, the breaking step in bold. */
export function markdownTrace<W, C>(trace: Trace<W>, present: Presenter<W, C>, config: C, violation?: Violation): string {
  const rows = traceRows(trace, present, config);
  const { threads, objectHeading, objectCell } = traceColumns(rows);
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  const out = [
    line(['#', ...threads.map((t) => cell(present.thread(t, trace.init))), cell(objectHeading)]),
    line(['--:', ...threads.map(() => '---'), '---']),
  ];
  for (const r of rows) {
    const breaks = violation?.at === r.step;
    const bold = (s: string) => (breaks && s ? `**${s}**` : s);
    const object = [cell(objectCell(r)), breaks ? `⟵ **${violation.property}**` : ''].filter(Boolean).join(' ');
    out.push(line([bold(String(r.step)), ...threads.map((t) => bold(t === r.thread ? code(r.call) : '')), object]));
  }
  if (violation) out.push('', `> **${violation.property}** at step ${violation.at}: ${cell(violation.message)}`);
  return out.join('\n');
}
