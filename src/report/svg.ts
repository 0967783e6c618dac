/**
 * A machine's state diagram as SVG, laid out by dagre: the same states and
 * edges as the Mermaid diagram (one edge per pair of states, a label line
 * per transition), drawn here so that a page needs no script to show it and
 * can light up one state or transition by its data attributes:
 * `data-state` on each state, `data-edges` on each pair's edge, and
 * `data-edge` (the index in `machineEdges`) on each label line.
 */
import dagre from '@dagrejs/dagre';
import type { AnyStateMachine } from 'xstate';
import { initialOf, machineEdges, type Edge } from '../engine/edges.ts';
import { byPair, edgeLabel } from './diagram.ts';

/** Sizes in px; the page sets the fonts these widths assume (12 px states, 11 px labels, monospace). */
const STATE_CHAR = 7.3;
const LABEL_CHAR = 6.7;
const STATE_HEIGHT = 26;
const LINE = 14;
const PAD = 12;
const INITIAL = '\u0000initial';

/** Text for XML and HTML, in an element or a quoted attribute. */
export const xml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
const n = (x: number) => String(Math.round(x * 10) / 10);

interface Point {
  readonly x: number;
  readonly y: number;
}

/** A path through dagre's points, its corners rounded through their midpoints. */
function smooth(points: readonly Point[]): string {
  const [first, ...rest] = points;
  if (!first) return '';
  const out = [`M${n(first.x)},${n(first.y)}`];
  for (let i = 0; i < rest.length - 1; i++) {
    const p = rest[i]!;
    const q = rest[i + 1]!;
    out.push(`Q${n(p.x)},${n(p.y)} ${n((p.x + q.x) / 2)},${n((p.y + q.y) / 2)}`);
  }
  const last = rest.at(-1);
  if (last) out.push(`L${n(last.x)},${n(last.y)}`);
  return out.join(' ');
}

/** An arrowhead at `tip`, pointing away from `from`. */
function arrowhead(from: Point, tip: Point): string {
  const len = Math.hypot(tip.x - from.x, tip.y - from.y) || 1;
  const [ux, uy] = [(tip.x - from.x) / len, (tip.y - from.y) / len];
  const back = { x: tip.x - 8 * ux, y: tip.y - 8 * uy };
  const side = (s: number) => `${n(back.x - 4 * uy * s)},${n(back.y + 4 * ux * s)}`;
  return `<path class="head" d="M${n(tip.x)},${n(tip.y)} L${side(1)} L${side(-1)} Z"/>`;
}

/** A pair's label: a line per transition, each carrying its edge index; centred on `at`, or from its left for a self-loop's. */
function labelText(edges: readonly Edge[], pair: readonly number[], at: Point, height: number, anchor: 'middle' | 'start'): string {
  const top = at.y - height / 2 + LINE - 3;
  const lines = pair.map((i, k) => `<tspan data-edge="${i}" x="${n(at.x)}" y="${n(top + k * LINE)}">${xml(edgeLabel(edges[i]!))}</tspan>`);
  return `<text class="label" text-anchor="${anchor}">${lines.join('')}</text>`;
}

/** A self-loop on the state's right side, out to its label's left edge (a cubic reaches 3/4 of the way to its control points). */
function loop(state: Point & { width: number }, labelLeft: number): { d: string; from: Point; tip: Point } {
  const x = state.x + state.width / 2;
  const reach = x + Math.max(22, labelLeft - 3 - x) / 0.75;
  const tip = { x, y: state.y + 6 };
  const from = { x: x + 10, y: state.y + 14 };
  return { d: `M${n(x)},${n(state.y - 6)} C${n(reach)},${n(state.y - 26)} ${n(reach)},${n(state.y + 26)} ${n(tip.x)},${n(tip.y)}`, from, tip };
}

/** The machine's state diagram as an SVG element, `name` in its title. */
export function diagramSvg(machine: AnyStateMachine, name: string): string {
  const states = Object.keys(machine.root.states);
  const initial = initialOf(machine);
  const edges = machineEdges(machine);
  const pairs = byPair(edges);
  const g = new dagre.graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'TB', nodesep: 28, ranksep: 34, edgesep: 14, marginx: 10, marginy: 10 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const s of states) g.setNode(s, { width: s.length * STATE_CHAR + 2 * PAD, height: STATE_HEIGHT });
  if (initial !== undefined) {
    g.setNode(INITIAL, { width: 12, height: 12 });
    g.setEdge(INITIAL, initial, { minlen: 1 }, 'initial');
  }
  const ends = (pair: readonly number[]) => edges[pair[0]!]!;
  pairs.forEach((pair, i) => {
    const width = Math.max(...pair.map((e) => edgeLabel(edges[e]!).length)) * LABEL_CHAR + 8;
    g.setEdge(ends(pair).from, ends(pair).to, { width, height: pair.length * LINE + 4, labelpos: 'c' }, String(i));
  });
  dagre.layout(g);
  const { width = 0, height = 0 } = g.graph();
  const node = (s: string) => g.node(s) as unknown as Point & { width: number; height: number };
  const parts: string[] = [];
  if (initial !== undefined) {
    const p = node(INITIAL);
    const points = (g.edge({ v: INITIAL, w: initial, name: 'initial' }) as unknown as { points: Point[] }).points;
    parts.push(`<g class="initial"><circle cx="${n(p.x)}" cy="${n(p.y)}" r="6"/><path d="${smooth(points)}"/>${arrowhead(points.at(-2)!, points.at(-1)!)}</g>`);
  }
  pairs.forEach((pair, i) => {
    const { from, to } = ends(pair);
    const e = g.edge({ v: from, w: to, name: String(i) }) as unknown as { points: Point[]; x: number; y: number; width: number; height: number };
    const self = from === to;
    const left = e.x - e.width / 2 + 4;
    const shape = self ? loop(node(from), left) : { d: smooth(e.points), from: e.points.at(-2)!, tip: e.points.at(-1)! };
    const label = self ? labelText(edges, pair, { x: left, y: e.y }, e.height, 'start') : labelText(edges, pair, { x: e.x, y: e.y }, e.height, 'middle');
    parts.push(`<g class="edge" data-edges="${pair.join(' ')}"><path d="${shape.d}"/>${arrowhead(shape.from, shape.tip)}${label}</g>`);
  });
  for (const s of states) {
    const p = node(s);
    parts.push(
      `<g class="state" data-state="${xml(s)}"><rect x="${n(p.x - p.width / 2)}" y="${n(p.y - p.height / 2)}" width="${n(p.width)}" height="${n(p.height)}" rx="8"/>` +
        `<text x="${n(p.x)}" y="${n(p.y + 4)}" text-anchor="middle">${xml(s)}</text></g>`,
    );
  }
  return `<svg class="machine" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${n(width)} ${n(height)}" width="${n(width)}" height="${n(height)}" role="img" aria-label="${xml(`state diagram of ${name}`)}">${parts.join('')}</svg>`;
}
