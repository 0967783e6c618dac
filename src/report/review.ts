/**
 * The design review page: per model, a matrix of every property against every
 * variant, the counterexample behind each ✗ inline, the state diagrams of the
 * machines, and what the exploration covered. The matrix fits GitHub's page
 * column: a row per property, a narrow column per variant (numbered, and
 * named in the list above it with what a ✓ there means), each cell a symbol
 * and a length. It holds no timings, so the same seeds give the same page,
 * which is committed and checked for staleness.
 */
import type { MachineCoverage } from '../coverage.ts';
import type { Verdict, VariantReport } from '../check.ts';
import type { AnyModel, AnyVariant, Bounds } from '../engine/model.ts';
import { traceFileName } from '../trace/itf.ts';
import { renderTrace } from '../trace/text.ts';
import { stateDiagram } from './diagram.ts';
import { guaranteeLines } from './text.ts';

export interface Reviewed {
  readonly variant: AnyVariant;
  readonly report: VariantReport;
}

export interface ReviewMeta {
  readonly version: string;
  readonly runs: number;
  readonly seed: number;
  /** Where the trace files are, relative to the page. */
  readonly traces: string;
}

const count = (n: number) => n.toLocaleString('en-US');
const stepsText = (n: number) => `${n} step${n === 1 ? '' : 's'}`;
const anchor = (...parts: string[]) => parts.join('-').replace(/[^a-z0-9-]+/gi, '-').toLowerCase();

export function boundsText(b: Bounds): string {
  const only = Object.entries(b.only ?? {}).map(([k, names]) => `, only ${k} ${names.join(',')}`);
  return `${b.threads} threads, ${b.ops} operations each, ids ${b.ids.min}..${b.ids.max}${only.join('')}`;
}

/** Each verdict's symbol in a matrix. */
export const SYMBOL: Readonly<Record<Verdict['actual'], string>> = { violated: '✗', holds: '✓', unknown: '?', 'n/a': '–' };

/** A matrix cell: a symbol, a broken one bold with its length linked to its counterexample; ⚠ where not expected. */
function verdictCell(v: Verdict, r: VariantReport): string {
  const expectation = v.matches ? '' : ` ⚠`;
  if (v.actual === 'violated') return `**✗ [${v.counterexample?.trace.steps.length ?? 0}](#${anchor(r.model, r.variant, v.property)})**${expectation}`;
  return `${SYMBOL[v.actual]}${expectation}`;
}

/** What a ✓ of the variant's column means: every state searched, or no violation in its schedules. */
export const holdsText = (r: VariantReport) =>
  r.search ? `✓ in all ${count(r.search.stats.states)} states` : `✓ in ${count(r.verdicts.find((v) => v.actual === 'holds')?.runs ?? 0)} random schedules`;

/** A model's properties, then any a variant brings of its own: a matrix's rows. */
export const propertyIds = (model: AnyModel, results: readonly Reviewed[]) => [...new Set([...model.properties, ...results.flatMap(({ variant }) => variant.properties ?? [])].map((p) => p.id))];

function matrix(model: AnyModel, results: readonly Reviewed[]): string[] {
  const properties = propertyIds(model, results);
  const columns = results.map((_, i) => String(i + 1));
  return [
    ...results.map(({ report: r }, i) => `${i + 1}. \`${r.variant}\`: ${r.title} (${holdsText(r)})`),
    '',
    `| property | ${columns.join(' | ')} |`,
    `| --- |${columns.map(() => ' :-: |').join('')}`,
    ...properties.map((p) => {
      const cells = results.map(({ report: r }) => {
        const v = r.verdicts.find((x) => x.property === p);
        return v ? verdictCell(v, r) : '';
      });
      return `| ${p} | ${cells.join(' | ')} |`;
    }),
  ];
}

function counterexamples(results: readonly Reviewed[], meta: ReviewMeta): string[] {
  return results.flatMap(({ variant, report: r }) =>
    r.verdicts.flatMap((v) => {
      const cx = v.counterexample;
      if (!cx) return [];
      const file = `${meta.traces}/${traceFileName(r.model, r.variant, v.property)}`;
      const txt = `${meta.traces}/${traceFileName(r.model, r.variant, v.property, 'txt')}`;
      return [
        `<a id="${anchor(r.model, r.variant, v.property)}"></a>`,
        `#### \`${r.variant}\` breaks ${v.property} in ${stepsText(cx.trace.steps.length)}${v.matches ? '' : ` (⚠ expected ${v.expected})`}`,
        '',
        '```text',
        renderTrace(cx.trace, variant.model.present, variant.config, cx.violation),
        '```',
        '',
        `Trace file: [${file}](${file}) (as text: [${txt}](${txt})); \`lifecheck replay ${file}\` runs it again.`,
        '',
      ];
    }),
  );
}

/** One diagram per distinct machine of each name; variants whose machines draw the same share it. */
function diagrams(model: AnyModel, results: readonly Reviewed[]): string[] {
  const drawn = new Map<string, { name: string; diagram: string; variants: string[] }>();
  for (const { variant } of results) {
    for (const [name, info] of Object.entries(model.machines?.(variant.config) ?? {})) {
      const diagram = stateDiagram(info.machine);
      const key = `${name}\n${diagram}`;
      const entry = drawn.get(key) ?? { name, diagram, variants: [] };
      entry.variants.push(variant.name);
      drawn.set(key, entry);
    }
  }
  return [...drawn.values()].flatMap((d) => [
    `#### ${d.name} (${d.variants.map((v) => `\`${v}\``).join(', ')})`,
    '',
    '```mermaid',
    d.diagram,
    '```',
    '',
  ]);
}

function coverageLines(r: VariantReport, coverage: readonly MachineCoverage[]): string[] {
  return coverage.flatMap((m) => {
    const reached = m.states.filter((s) => s.reached).length;
    const states = m.states.map((s) => `${s.state} ${s.reached ? `(entered ${count(s.entered)})` : '(never)'}`).join(', ');
    const percent = m.edges.length ? Math.round((100 * m.edgesReached) / m.edges.length) : 100;
    return [
      `- \`${r.variant}\` ${m.machine}: states ${reached}/${m.states.length} (${states}); transitions ${m.edgesReached}/${m.edges.length} (${percent}%)`,
      ...m.never.map((line) => `  - ${line}`),
    ];
  });
}

/** For each variant a random search found nothing in, what that means by PCT's bound. */
function guarantees(results: readonly Reviewed[]): string[] {
  const lines = results.flatMap(({ report: r }) =>
    r.guarantee && r.verdicts.some((v) => v.actual === 'holds') ? [`- \`${r.variant}\`: ${guaranteeLines(r.guarantee).join('; ')}`] : [],
  );
  return lines.length ? ['What a ✓ from random schedules is worth:', '', ...lines, ''] : [];
}

function modelSection(model: AnyModel, results: readonly Reviewed[], meta: ReviewMeta): string[] {
  const bounds = results[0]?.report.bounds ?? model.defaults;
  const covered = results.filter((x) => x.report.coverage?.length);
  return [
    `## ${model.name}: ${model.title}`,
    '',
    `Source: ${model.source}. Bounds: ${boundsText(bounds)}.`,
    '',
    ...matrix(model, results),
    '',
    ...guarantees(results),
    '### Counterexamples',
    '',
    ...counterexamples(results, meta),
    ...(model.machines ? ['### State machines', '', 'Drawn from the xstate machines themselves: `event [guard] / reply`, the transitions between two states on one edge, a line each.', '', ...diagrams(model, results)] : []),
    ...(covered.length
      ? ['### Coverage', '', 'What the exploration fired of each machine, and what it never did.', '', ...covered.flatMap((x) => coverageLines(x.report, x.report.coverage!)), '']
      : []),
  ];
}

/** The review page for `groups` (each model with its variants' reports). */
export function reviewMarkdown(groups: readonly { model: AnyModel; results: readonly Reviewed[] }[], meta: ReviewMeta): string {
  const head = [
    '# Design review',
    '',
    `Written by \`lifecheck review\` (lifecheck ${meta.version}): every variant of every model against every property, ` +
      `${count(meta.runs)} random schedules each from seed ${meta.seed}. Regenerate with \`npm run review\`; a test fails when this page is stale.`,
    '',
    'A row per property, a column per variant (numbered as listed above each matrix): ✓ holds (in every state searched, or every schedule run, as the list says) · **✗ n** broken, by a counterexample of n steps, linked to it below with its trace files · – not applicable · ? not decided · ⚠ not the verdict the variant expects',
    '',
  ];
  return [...head, ...groups.flatMap((g) => modelSection(g.model, g.results, meta))].join('\n').replace(/\n+$/, '\n');
}
