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

/** The machine as a Mermaid `stateDiagram-v2`. */
export function stateDiagram(machine: AnyStateMachine): string {
  const initial = (machine.root.initial as { target?: readonly { key: string }[] } | undefined)?.target?.[0]?.key;
  return [
    'stateDiagram-v2',
    ...(initial ? [`    [*] --> ${initial}`] : []),
    ...machineEdges(machine).map((e) => `    ${e.from} --> ${e.to}: ${label(edgeLabel(e))}`),
  ].join('\n');
}
