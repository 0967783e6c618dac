/**
 * A trace as a Mermaid `sequenceDiagram` (GitHub renders it in Markdown): a
 * participant per thread that moves and per object touched, each call an
 * arrow to its object with the object's state after it, the breaking call
 * crossed and its message in a note.
 */
import type { Presenter } from '../engine/model.ts';
import type { Trace, Violation } from '../engine/run.ts';
import { traceRows } from './text.ts';

/** Message text on one line: Mermaid reads `#`, `;`, `<` and `>` as markup, so they become its entity codes. */
const text = (s: string) => s.replace(/\s*\n\s*/g, ' ').replace(/[#;<>]/g, (c) => `#${c.charCodeAt(0)};`);

/** A trace as a Mermaid sequence diagram: a participant per thread and per object. */
export function mermaidTrace<W, C>(trace: Trace<W>, present: Presenter<W, C>, config: C, violation?: Violation): string {
  const rows = traceRows(trace, present, config);
  const threads = [...new Set(rows.map((r) => r.thread))].sort((a, b) => a - b);
  const subjects = [...new Set(rows.flatMap((r) => (r.subject ? [r.subject] : [])))];
  const actor = (t: number) => `T${t}`;
  const object = (s: string) => `O${subjects.indexOf(s)}`;
  const out = [
    'sequenceDiagram',
    ...threads.map((t) => `    participant ${actor(t)} as ${text(present.thread(t, trace.init))}`),
    ...subjects.map((s) => `    participant ${object(s)} as ${text(s)}`),
  ];
  for (const r of rows) {
    const breaks = violation?.at === r.step;
    const call = text(`${r.step}. ${r.call}`);
    if (r.subject) {
      out.push(`    ${actor(r.thread)}${breaks ? '-x' : '->>'}${object(r.subject)}: ${call}`);
      if (r.state) out.push(`    Note right of ${object(r.subject)}: ${text(r.state)}`);
    } else {
      out.push(`    Note over ${actor(r.thread)}: ${call}`);
    }
    if (breaks) {
      const over = r.subject ? `${actor(r.thread)},${object(r.subject)}` : actor(r.thread);
      out.push(`    Note over ${over}: ${text(`${violation.property}: ${violation.message}`)}`);
    }
  }
  return out.join('\n');
}
