/**
 * State diagrams drawn from the machines themselves: a Mermaid
 * `stateDiagram-v2` with every state, and every transition labelled with its
 * event, its guard by name and the reply it gives. Mermaid draws the edges
 * between one pair of states (a state's self-loops above all: its errno
 * paths) over one another, so each pair is one edge whose label has a line
 * per transition, and every transition is on the page. Change a machine and
 * its diagram follows; nothing here is drawn by hand.
 */
import type { AnyStateMachine } from 'xstate';
import { initialOf, machineEdges, type Edge } from '../engine/edges.ts';

/** How an edge reads: `FREE [lastRef] / freed`. */
export const edgeLabel = (e: Edge) => `${e.event}${e.guard ? ` [${e.guard}]` : ''}${e.reply !== undefined ? ` / ${e.reply || '(void)'}` : ''}`;

/** Mermaid reads `;` and `#` in labels as markup. */
const label = (s: string) => s.replace(/[#;]/g, (c) => `#${c.charCodeAt(0)};`);

/** An edge's label is HTML once it has a line break: its `<` and `>` are text, its only tags the breaks. */
const edgeText = (s: string) => label(s).replace(/[<>]/g, (c) => `#${c.charCodeAt(0)};`);

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

/** The line that separates a pair's transitions in its edge's label. */
export const LABEL_BREAK = '<br>';

/** The machine's edges (by index) grouped by the pair of states they join, each pair where its first edge is, its edges in order. */
export function byPair(edges: readonly Edge[]): number[][] {
  const pairs = new Map<string, number[]>();
  edges.forEach((e, i) => {
    const key = JSON.stringify([e.from, e.to]);
    pairs.set(key, [...(pairs.get(key) ?? []), i]);
  });
  return [...pairs.values()];
}

/** The machine as a Mermaid `stateDiagram-v2`: every state, then an edge per pair of states, labelled with every transition between them. */
export function stateDiagram(machine: AnyStateMachine): string {
  const initial = initialOf(machine);
  const ids = stateIds(Object.keys(machine.root.states));
  const id = (state: string) => ids.get(state) ?? state;
  const edges = machineEdges(machine);
  return [
    'stateDiagram-v2',
    ...[...ids].map(([name, sid]) => (name === sid ? `    ${sid}` : `    state "${label(name).replace(/"/g, '#quot;')}" as ${sid}`)),
    ...(initial ? [`    [*] --> ${id(initial)}`] : []),
    ...byPair(edges).map((pair) => pair.map((i) => edges[i]!)).map((pair) => `    ${id(pair[0]!.from)} --> ${id(pair[0]!.to)}: ${pair.map((e) => edgeText(edgeLabel(e))).join(LABEL_BREAK)}`),
  ].join('\n');
}
