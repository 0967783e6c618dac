/**
 * A trace in lockdep's `CPU0 | CPU1` columns, for a mailing-list reply: one
 * column per thread that moves, the kernel call in its thread's column, the
 * state of the object it touched on the right, the breaking step marked.
 */
import type { Presenter } from '../engine/model.ts';
import type { Trace, Violation } from '../engine/run.ts';

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
    const subject = present.subject(t.step, t.reply, before, t.world);
    const row = {
      step: i + 1,
      thread: t.step.thread,
      call: present.call(t.step, t.reply, before, config),
      subject,
      state: subject ? present.state(t.world, subject) : '',
    };
    before = t.world;
    return row;
  });
}

const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - s.length));

/** Renders a trace; `violation` marks its step. */
export function renderTrace<W, C>(
  trace: Trace<W>,
  present: Presenter<W, C>,
  config: C,
  violation?: Violation,
): string {
  const all = traceRows(trace, present, config);
  const threads = [...new Set(all.map((r) => r.thread))].sort((a, b) => a - b);
  const subjects = new Set(all.flatMap((r) => (r.subject ? [r.subject] : [])));
  const single = subjects.size === 1 ? [...subjects][0] : undefined;
  const objectCell = (r: Row) => (!r.subject ? '' : single ? r.state : `${r.subject}: ${r.state}`);
  const width = new Map(
    threads.map((t) => [t, Math.max(present.thread(t, trace.init).length, ...all.filter((r) => r.thread === t).map((r) => r.call.length)) + 2]),
  );
  const numWidth = String(all.length).length;
  const line = (num: string, cells: (t: number) => string, object: string) =>
    (pad(num, numWidth) + '  ' + threads.map((t) => pad(cells(t), width.get(t)!)).join('') + object).trimEnd();

  const out = [line('', (t) => present.thread(t, trace.init), single ?? 'state')];
  for (const r of all) {
    const mark = violation && violation.at === r.step ? `  <-- ${violation.property}` : '';
    out.push(line(String(r.step), (t) => (t === r.thread ? r.call : ''), objectCell(r)) + mark);
  }
  if (violation) out.push('', `${violation.property} at step ${violation.at}: ${violation.message}`);
  return out.join('\n');
}
