/**
 * The design review as one self-contained HTML page (`review --html DIR`):
 * the matrix of variants × properties, each ✗ opening its counterexample in
 * a stepper (the trace's `CPU0 | CPU1` columns beside the state diagrams of
 * the machines it runs, each step's transitions lit and its changes listed),
 * and two variants side by side. Everything is inline: the page opens from
 * disk or a CI artifact with no network. Like review.md, it holds no
 * timings, so the same seeds give the same page.
 */
import { readFileSync } from 'node:fs';
import type { Verdict } from '../check.ts';
import { machineEdges } from '../engine/edges.ts';
import type { AnyModel, MachineInfo, System } from '../engine/model.ts';
import { stepChanges } from '../trace/changes.ts';
import { firedEdges } from '../trace/fired.ts';
import { traceColumns, traceRows } from '../trace/text.ts';
import { stateDiagram } from './diagram.ts';
import { PAGE_STYLE } from './html-style.ts';
import { boundsText, holdsText, propertyIds, SYMBOL, type ReviewMeta, type Reviewed } from './review.ts';
import { diagramSvg, xml as html } from './svg.ts';

/** What the page's script reads: the models' matrices, the traces to step through, the diagrams' edges. */
export interface PageData {
  readonly models: readonly PageModel[];
  readonly traces: Readonly<Record<string, PageTrace>>;
  /** By key (`d0`): each drawn machine's name, what one instance is, each edge's target state, and whether it is a call's steps. */
  readonly diagrams: Readonly<Record<string, { readonly name: string; readonly object: string; readonly to: readonly string[]; readonly call?: true }>>;
}

export interface PageModel {
  readonly name: string;
  readonly variants: readonly { readonly name: string; readonly title: string; readonly holds: string }[];
  readonly properties: readonly { readonly id: string; readonly title: string }[];
  /** By variant, then property: absent where the property is not the variant's. */
  readonly cells: Readonly<Record<string, Readonly<Record<string, PageCell>>>>;
}

export interface PageCell {
  readonly status: Verdict['actual'];
  readonly matches: boolean;
  readonly expected: string;
  /** The counterexample's key in `PageData.traces`. */
  readonly trace?: string;
}

export interface PageTrace {
  readonly model: string;
  readonly variant: string;
  readonly property: string;
  readonly title: string;
  /** The threads that move, as `[index, heading]`. */
  readonly threads: readonly (readonly [number, string])[];
  readonly rows: readonly { readonly thread: number; readonly call: string; readonly subject?: string; readonly state: string }[];
  readonly changes: readonly (readonly string[])[];
  /** Per step, the diagrams' transitions it fired: `[diagram key, edge indices]`. */
  readonly fired: readonly (readonly (readonly [string, readonly number[]])[])[];
  /** The diagrams of the machines the trace runs, objects' lifecycles first. */
  readonly diagrams: readonly string[];
  readonly violation: { readonly at: number; readonly message: string };
}

/** JSON inside a script element: `<` escaped, so no string in it can close the element. */
const scriptJson = (x: unknown) => JSON.stringify(x).replace(/</g, '\\u003c');

/** A counterexample's key in the page and its address: each name escaped, so no two traces share one. */
const traceKey = (...names: string[]) => names.map(encodeURIComponent).join('/');

/** The diagrams drawn so far, one per distinct machine of each name, with their SVG. */
class Drawings {
  readonly data: Record<string, PageData['diagrams'][string]> = {};
  readonly svg = new Map<string, string>();
  private readonly keys = new Map<string, string>();

  /** Each machine's drawing as text: the same with its edges in another order is another diagram, as a step lights edges by index. */
  private readonly texts = new WeakMap<MachineInfo['machine'], string>();

  keyOf(name: string, info: MachineInfo): string {
    let drawing = this.texts.get(info.machine);
    if (drawing === undefined) this.texts.set(info.machine, (drawing = `${stateDiagram(info.machine)}\n${JSON.stringify(machineEdges(info.machine))}`));
    const text = `${name}\n${drawing}`;
    let key = this.keys.get(text);
    if (key === undefined) {
      key = `d${this.keys.size}`;
      this.keys.set(text, key);
      this.data[key] = { name, object: info.object, to: machineEdges(info.machine).map((e) => e.to), ...(info.starvable ? { call: true as const } : {}) };
      this.svg.set(key, diagramSvg(info.machine, name));
    }
    return key;
  }
}

/** What a variant's traces are replayed on: its system, and the machines it names. */
interface Replayed {
  readonly system: System<unknown>;
  readonly machines: Readonly<Record<string, MachineInfo>>;
}

function pageTrace({ variant, report }: Reviewed, v: Verdict, { system, machines }: Replayed, drawings: Drawings): PageTrace {
  const cx = v.counterexample!;
  const { present } = variant.model;
  const fired = firedEdges(cx.trace, system, machines);
  const keyed = fired.map((step) => step.map((f): [string, readonly number[]] => [drawings.keyOf(f.machine, machines[f.machine]!), f.edges]));
  // Objects' lifecycles (and refcounts) first, then the calls, each as first run.
  const order = (key: string) => (drawings.data[key]!.call ? 1 : 0);
  const diagrams = [...new Set(keyed.flat().map(([key]) => key))].sort((a, b) => order(a) - order(b));
  const traced = traceRows(cx.trace, present, variant.config);
  const rows = traced.map((r) => ({ thread: r.thread, call: r.call, state: r.state, ...(r.subject ? { subject: r.subject } : {}) }));
  return {
    model: report.model,
    variant: report.variant,
    property: v.property,
    title: v.title,
    threads: traceColumns(traced).threads.map((t) => [t, present.thread(t, cx.trace.init)]),
    rows,
    changes: stepChanges(cx.trace, present, variant.config),
    fired: keyed,
    diagrams,
    violation: { at: cx.violation.at, message: cx.violation.message },
  };
}

function pageModel(model: AnyModel, results: readonly Reviewed[], traces: Record<string, PageTrace>, drawings: Drawings): PageModel {
  const ids = propertyIds(model, results);
  const titles = new Map(results.flatMap(({ report }) => report.verdicts.map((v) => [v.property, v.title] as const)));
  const cells: Record<string, Record<string, PageCell>> = {};
  for (const result of results) {
    const { report: r, variant } = result;
    const replayed = { system: variant.model.system(variant.config, r.bounds), machines: variant.model.machines?.(variant.config, r.bounds) ?? {} };
    cells[r.variant] = Object.fromEntries(
      r.verdicts.map((v): [string, PageCell] => {
        const key = traceKey(r.model, r.variant, v.property);
        if (v.counterexample) traces[key] = pageTrace(result, v, replayed, drawings);
        return [v.property, { status: v.actual, matches: v.matches, expected: v.expected, ...(v.counterexample ? { trace: key } : {}) }];
      }),
    );
  }
  return {
    name: model.name,
    variants: results.map(({ report: r }) => ({ name: r.variant, title: r.title, holds: holdsText(r) })),
    properties: ids.map((id) => ({ id, title: titles.get(id) ?? id })),
    cells,
  };
}

/** A matrix cell as on review.md: a symbol, a broken one with its length, linked to its stepper; ⚠ where not expected. */
function cellHtml(c: PageCell | undefined, data: PageData): string {
  if (!c) return '<td></td>';
  const warn = c.matches ? '' : ` <span class="warn" title="expected: ${html(c.expected)}">⚠</span>`;
  const trace = c.trace === undefined ? undefined : data.traces[c.trace];
  if (c.status === 'violated' && trace) return `<td class="violated"><a href="#t=${html(c.trace!)}">✗ ${trace.rows.length}</a>${warn}</td>`;
  return `<td class="${c.status === 'n/a' ? 'na' : c.status}">${SYMBOL[c.status]}${warn}</td>`;
}

function modelHtml(model: AnyModel, results: readonly Reviewed[], m: PageModel, data: PageData): string {
  const bounds = results[0]?.report.bounds ?? model.defaults;
  const variants = m.variants.map((v, i) => `<li value="${i + 1}"><code>${html(v.name)}</code>: ${html(v.title)} (${html(v.holds)})</li>`).join('');
  const head = m.variants.map((v, i) => `<th title="${html(v.name)}">${i + 1}</th>`).join('');
  const rows = m.properties.map((p) => `<tr><th title="${html(p.title)}">${html(p.id)}</th>${m.variants.map((v) => cellHtml(m.cells[v.name]?.[p.id], data)).join('')}</tr>`).join('');
  return [
    `<section class="model" id="model-${html(model.name)}">`,
    `<h2>${html(model.name)}: ${html(model.title)}</h2>`,
    `<p>Source: ${html(model.source)}. Bounds: ${html(boundsText(bounds))}.</p>`,
    `<ol class="variants">${variants}</ol>`,
    `<table class="matrix"><thead><tr><th>property</th>${head}</tr></thead><tbody>${rows}</tbody></table>`,
    `</section>`,
  ].join('\n');
}

/** The client script, beside this module in the sources and in dist/. */
const script = () => readFileSync(new URL('./stepper.js', import.meta.url), 'utf8');

/** The review page for `groups` (each model with its variants' reports). */
export function reviewHtml(groups: readonly { model: AnyModel; results: readonly Reviewed[] }[], meta: Omit<ReviewMeta, 'traces'>): string {
  const drawings = new Drawings();
  const traces: Record<string, PageTrace> = {};
  const models = groups.map((g) => pageModel(g.model, g.results, traces, drawings));
  const data: PageData = { models, traces, diagrams: drawings.data };
  const nav = groups.map((g) => `<a href="#model-${html(g.model.name)}">${html(g.model.name)}</a>`).join(' · ');
  const templates = [...drawings.svg].map(([key, svg]) => `<template id="diagram-${key}">${svg}</template>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lifecheck design review</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<header>
<h1>Design review</h1>
<p>Written by <code>lifecheck review --html</code> (lifecheck ${html(meta.version)}): every variant of every model against every property, ${meta.runs.toLocaleString('en-US')} random schedules each from seed ${meta.seed}, or every state within the bounds.
Click a <b>✗</b> to step through its counterexample; <kbd>←</kbd> <kbd>→</kbd> step, and each step has its own link.</p>
<nav>${nav} · <a href="#compare">two variants side by side</a></nav>
</header>
<main>
<section id="trace" hidden></section>
${groups.map((g, i) => modelHtml(g.model, g.results, models[i]!, data)).join('\n')}
<section id="compare"><h2>Two variants side by side</h2><div class="pickers"></div><div class="panes"></div></section>
</main>
${templates}
<script type="application/json" id="lifecheck-data">${scriptJson(data)}</script>
<script>
${script()}</script>
</body>
</html>
`;
}

