/**
 * A trace in lockdep's `CPU0 | CPU1` columns, for a mailing-list reply: one
 * column per thread that moves, the kernel call in its thread's column, the
 * state of the object it touched on the right, the breaking step marked.
 * Lines fit 80 columns: when the calls are too long, the widest columns
 * narrow and their text wraps within them.
 */
import type { Presenter } from '../engine/model.ts';
import type { Trace, Violation } from '../engine/run.ts';
import { stepChanges } from './changes.ts';

/** One step as a reader sees it: the kernel call, and the state of what it touched. */
export interface Row {
  readonly step: number;
  readonly thread: number;
  readonly call: string;
  readonly subject: string | undefined;
  readonly state: string;
}

export function traceRows<W, C>(trace: Trace<W>, present: Presenter<W, C>, config: C): Row[] {
  let before = trace.init;
  return trace.steps.map((t, i) => {
    const subject = present.subject(t.step, t.reply, before, t.world, config);
    const row = {
      step: i + 1,
      thread: t.step.thread,
      call: present.call(t.step, t.reply, before, config),
      subject,
      state: subject ? present.state(t.world, subject, config) : '',
    };
    before = t.world;
    return row;
  });
}

/** The columns of a trace: the threads that move, and what the object column shows. */
export interface Columns {
  readonly threads: readonly number[];
  /** The heading of the object column: the object, when every step touches the same one. */
  readonly objectHeading: string;
  objectCell(row: Row): string;
}

export function traceColumns(rows: readonly Row[]): Columns {
  const subjects = new Set(rows.flatMap((r) => (r.subject ? [r.subject] : [])));
  const single = subjects.size === 1 ? [...subjects][0] : undefined;
  return {
    threads: [...new Set(rows.map((r) => r.thread))].sort((a, b) => a - b),
    objectHeading: single ?? 'state',
    objectCell: (r) => (!r.subject ? '' : single ? r.state : `${r.subject}: ${r.state}`),
  };
}

/** A mailing-list reply's line width. */
export const TEXT_WIDTH = 80;
/** The narrowest a wrapped call may get, however many threads share the line. */
const MIN_CALL = 12;
const GAP = 2;
/** The range of the object column's width when the columns must narrow to fit. */
const MAX_OBJECT = 32;
const MIN_OBJECT = 16;

/** Splits `text` into lines of at most `width`, breaking after spaces, commas and parentheses where it can. */
export function wrap(text: string, maxWidth: number): string[] {
  const width = Math.max(1, maxWidth);
  const pieces = text.match(/[^ ,(]*[ ,(]|[^ ,(]+$/g) ?? [''];
  const lines: string[] = [];
  let line = '';
  for (let piece of pieces) {
    if ((line + piece).trimEnd().length > width && line !== '') {
      lines.push(line.trimEnd());
      line = '';
    }
    while (piece.trimEnd().length > width) {
      lines.push(piece.slice(0, width));
      piece = piece.slice(width);
    }
    line += piece;
  }
  lines.push(line.trimEnd());
  return lines;
}

/** Shrinks the widest of `natural` until they sum to `total`, none below its `floor`. */
function fit(natural: readonly number[], floor: readonly number[], total: number): number[] {
  const widths = [...natural];
  for (let sum = widths.reduce((x, y) => x + y, 0); sum > total; sum--) {
    const widest = widths.reduce((best, w, i) => (w - floor[i]! > widths[best]! - floor[best]! ? i : best), 0);
    if (widths[widest]! <= floor[widest]!) break;
    widths[widest]!--;
  }
  return widths;
}

/** Where each thread's column starts, and where the object column starts and how wide it is. */
interface Layout {
  readonly starts: readonly number[];
  readonly objectStart: number;
  readonly objectWidth: number;
}

/**
 * Columns at their natural widths when they fit; otherwise the object column
 * is `object` wide at the right margin and the threads share the rest. A call
 * may run on into the columns to its right, which are blank on its row (as in
 * lockdep's reports), so only the last thread's column must hold its calls whole.
 */
function layout(total: number, indent: number, headings: readonly string[], calls: readonly number[], object: number, natural: boolean): Layout {
  const widths = calls.map((c, i) => Math.max(c, headings[i]!.length));
  const startsOf = (ws: readonly number[]) => ws.map((_, i) => indent + ws.slice(0, i).reduce((s, w) => s + w + GAP, 0));
  if (natural) return { starts: startsOf(widths), objectStart: indent + widths.reduce((s, w) => s + w + GAP, 0), objectWidth: object };
  const objectStart = total - object;
  const room = objectStart - indent - GAP * widths.length;
  const floor = headings.map((h) => h.length);
  const last = widths.length - 1;
  const lastWidth = Math.max(floor[last]!, Math.min(widths[last]!, room - floor.slice(0, last).reduce((s, w) => s + w, 0)));
  return { starts: startsOf([...fit(widths.slice(0, last), floor.slice(0, last), room - lastWidth), lastWidth]), objectStart, objectWidth: object };
}

/** `text` cut to `width`, marked with an ellipsis where it was cut. */
const clip = (text: string, width: number) => (text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`);

/** Writes `text` into `line` at column `at`. */
const place = (line: string, at: number, text: string) => (text ? line.padEnd(at) + text : line);

/** How `renderTrace` lays a trace out: its width, and whether to list what each step changed. */
export interface TextOptions {
  /** Below each step, the world's values that it changed (from the model's `vars`), instead of the object column. */
  readonly changes?: boolean;
  /** The widest a line may be: 80 by default, less where the caller indents the trace. */
  readonly width?: number;
}

/** Renders a trace; `violation` marks its step. */
export function renderTrace<W, C>(
  trace: Trace<W>,
  present: Presenter<W, C>,
  config: C,
  violation?: Violation,
  options: TextOptions = {},
): string {
  const total = options.width ?? TEXT_WIDTH;
  const rows = traceRows(trace, present, config);
  const { threads, objectHeading, objectCell } = traceColumns(rows);
  const numWidth = String(rows.length).length;
  const indent = numWidth + GAP;
  const name = (t: number) => present.thread(t, trace.init);
  // With more threads than the width holds, they share one column and each call names its thread.
  const crowded = indent + threads.slice(0, -1).reduce((n, t) => n + name(t).length + GAP, 0) + MIN_CALL + GAP > total;
  const headings = crowded ? [''] : threads.map(name);
  const column = (r: Row) => (crowded ? 0 : threads.indexOf(r.thread));
  const call = (r: Row) => (crowded ? `${name(r.thread)}: ${r.call}` : r.call);
  const object = (r: Row) => (options.changes ? '' : objectCell(r));
  const callWidths = headings.map((_, i) => Math.max(0, ...rows.filter((r) => column(r) === i).map((r) => call(r).length)));
  const objectWidth = options.changes ? 0 : Math.max(objectHeading.length, ...rows.map((r) => object(r).length));
  const changes = options.changes ? stepChanges(trace, present, config) : [];

  // An object column 0 wide puts each step's object state below its call instead.
  const rowLines = (r: Row, { starts, objectStart, objectWidth: beside }: Layout): string[] => {
    const at = starts[column(r)]!;
    const objects = beside > 0 ? wrap(object(r), beside) : [];
    const calls = wrap(call(r), Math.max(MIN_CALL, (objects.some(Boolean) ? objectStart - GAP : total) - at));
    const lines = Array.from({ length: Math.max(calls.length, objects.length) }, (_, k) =>
      place(place(k === 0 ? String(r.step) : '', at, calls[k] ?? ''), objectStart, objects[k] ?? ''),
    );
    if (violation?.at === r.step) {
      const mark = `<-- ${violation.property}`;
      if (lines[0]!.length + GAP + mark.length <= total) lines[0] += ' '.repeat(GAP) + mark;
      else lines.push(' '.repeat(Math.max(0, Math.min(objectStart, total - mark.length))) + mark);
    }
    const below = [...(beside > 0 || !object(r) ? [] : [object(r)]), ...(changes[r.step - 1] ?? [])];
    const pad = ' '.repeat(Math.min(at + GAP, total - MIN_CALL));
    return [...lines, ...below.flatMap((c) => wrap(c, total - pad.length).map((l) => pad + l))];
  };
  // Natural widths when they fit; else the object column's width that wraps the fewest lines, where
  // the thread columns still fit beside it; else the object state below each call.
  const natural = layout(total, indent, headings, callWidths, objectWidth, true);
  // The last column must hold its heading and a call's narrowest wrap before the object column starts.
  const roomy = (l: Layout) => (l.starts.at(-1) ?? indent) + Math.max(headings.at(-1)?.length ?? 0, MIN_CALL) + GAP <= l.objectStart;
  const narrowed = Array.from({ length: Math.max(1, Math.min(objectWidth, MAX_OBJECT) - MIN_OBJECT + 1) }, (_, k) =>
    layout(total, indent, headings, callWidths, Math.min(objectWidth, MAX_OBJECT) - k, false),
  ).filter(roomy);
  const stacked = layout(total, indent, headings, callWidths, 0, false);
  const candidates = natural.objectStart + objectWidth <= total ? [natural] : narrowed.length > 0 ? narrowed : [stacked];
  const height = (l: Layout) => rows.reduce((n, r) => n + rowLines(r, l).length, 0);
  const best = candidates.reduce((a, b) => (height(b) < height(a) ? b : a));

  const beside = best.objectWidth > 0 && !options.changes;
  const heading = beside ? clip(objectHeading, total - best.objectStart) : '';
  const out = [place(headings.reduce((line, h, i) => place(line, best.starts[i]!, h), ''), best.objectStart, heading)];
  // A property the initial world already breaks (a table, a dispatcher) is marked before any step.
  if (violation?.at === 0) out.push(place('0', indent, `(the initial state)${' '.repeat(GAP)}<-- ${violation.property}`));
  for (const r of rows) out.push(...rowLines(r, best));
  if (violation) out.push('', ...wrap(`${violation.property} at step ${violation.at}: ${violation.message}`, total));
  return out.map((l) => l.trimEnd()).join('\n');
}
