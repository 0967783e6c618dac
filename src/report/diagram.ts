/**
 * State diagrams drawn from the machines themselves: a Mermaid
 * `stateDiagram-v2` with every state, and every transition labelled with its
 * event, its guard by name and the reply it gives. Change a machine and its
 * diagram follows; nothing here is drawn by hand.
 */
import type { AnyStateMachine } from 'xstate';
import { machineEdges, type Edge } from '../engine/edges.ts';

/** How an edge reads: `FREE [lastRef] / freed`. */
export const edgeLabel = (e: Edge) => `${e.event}${e.guard ? ` [${e.guard}]` : ''}${e.reply !== undefined ? ` / ${e.reply || '(void)'}` : ''}`;

/** Mermaid reads `;` and `#` in labels as markup. */
const label = (s: string) => s.replace(/[#;]/g, (c) => `#${c.charCodeAt(0)};`);

/** Mermaid's own words, which cannot name a state. */
const RESERVED = new Set(['state', 'note', 'class', 'classDef', 'direction', 'end', 'as', 'style', 'click', 'linkStyle']);

/** Each state's id in the diagram: its name where Mermaid takes it as one, else `s<i>` with the name as its label. */
function stateIds(states: readonly string[]): Map<string, string> {
  const taken = new Set(states);
  const standIn = (i: number) => {
    let id = `s${i}`;
    while (taken.has(id)) id += '_';
    taken.add(id);
    return id;
  };
  return new Map(states.map((name, i) => [name, /^[A-Za-z_]\w*$/.test(name) && !RESERVED.has(name) ? name : standIn(i)]));
}

/** The machine as a Mermaid `stateDiagram-v2`: every state, then every transition. */
export function stateDiagram(machine: AnyStateMachine): string {
  const initial = (machine.root.initial as { target?: readonly { key: string }[] } | undefined)?.target?.[0]?.key;
  const ids = stateIds(Object.keys(machine.root.states));
  const id = (state: string) => ids.get(state) ?? state;
  return [
    'stateDiagram-v2',
    ...[...ids].map(([name, sid]) => (name === sid ? `    ${sid}` : `    state "${label(name).replace(/"/g, '#quot;')}" as ${sid}`)),
    ...(initial ? [`    [*] --> ${id(initial)}`] : []),
    ...machineEdges(machine).map((e) => `    ${id(e.from)} --> ${id(e.to)}: ${label(edgeLabel(e))}`),
  ].join('\n');
}
