/** The terminal report: one block per variant, a line per property, traces inline. */
import pc from 'picocolors';
import type { AnyModel, AnyVariant } from '../engine/model.ts';
import type { Verdict, VariantReport } from '../check.ts';
import type { SearchSummary, Verdict as V } from '../check.ts';
import type { Guarantee } from '../explore/schedulers.ts';
import { starved } from '../coverage.ts';
import { renderTrace } from '../trace/text.ts';

function boundsArgs(r: VariantReport, model: AnyModel): string {
  const d = model.defaults;
  const b = r.bounds;
  const args: string[] = [];
  if (b.threads !== d.threads) args.push(`--threads ${b.threads}`);
  if (b.ops !== d.ops) args.push(`--ops ${b.ops}`);
  if (b.ids.min !== d.ids.min || b.ids.max !== d.ids.max) args.push(`--ids ${b.ids.min}..${b.ids.max}`);
  for (const [key, names] of Object.entries(b.only ?? {})) args.push(`--only ${key}=${names.join(',')}`);
  return args.map((a) => ` ${a}`).join('');
}

type Found = NonNullable<V['counterexample']>;

/** The command line that replays a counterexample exactly; `module` is the user's file the variant came from, if any. */
export function replayCommand(r: VariantReport, property: string, cx: Found, model: AnyModel, module?: string): string {
  const bounds = boundsArgs(r, model);
  const how =
    cx.explorer === 'random'
      ? ` --seed ${cx.seed} --path ${cx.path}${cx.scheduler !== 'portfolio' ? ` --scheduler ${cx.scheduler}` : ''}${cx.depth !== undefined ? ` --pct-depth ${cx.depth}` : ''}`
      : ` --exhaustive${r.search?.symmetry ? ' --symmetry' : ''}${r.search?.preemptions !== undefined ? ` --preemptions ${r.search.preemptions}` : ''}`;
  return `lifecheck check ${module ?? r.model} --variant ${r.variant} --property ${property}${bounds}${how}`;
}

const count = (n: number) => n.toLocaleString('en-US');

/** What an exhaustive counterexample is: a shortest trace, the shortest with the fewest preemptions, or a loop. */
const how = (cx: { shortest: boolean; preemptions?: number }) =>
  !cx.shortest ? 'a loop' : cx.preemptions === undefined ? 'shortest' : `fewest preemptions, ${cx.preemptions}, then shortest`;

/** The preemption bound a search kept to, as a verdict says it. */
const within = (s: { preemptions?: number }) => (s.preemptions === undefined ? '' : ` within ${s.preemptions} preemption${s.preemptions === 1 ? '' : 's'}`);

function outcomeText(v: Verdict, r: VariantReport): string {
  const cx = v.counterexample;
  switch (v.actual) {
    case 'violated':
      return cx?.explorer === 'exhaustive'
        ? `violated in ${cx.trace.steps.length} steps (${how(cx)}${cx.afterStates === undefined ? '' : `; found after ${count(cx.afterStates)} states`})`
        : `violated in ${cx?.trace.steps.length} steps (run ${v.runs})`;
    case 'holds':
      // A sample is no proof: "holds" is the exhaustive search's word, within its bounds.
      if (r.search?.split) return `no violation in this part's ${count(r.search.stats.states)} states`;
      return r.search ? `holds (all ${count(r.search.stats.states)} states${within(r.search)})` : `no violation in ${count(v.runs)} random schedules`;
    case 'unknown':
      return r.search
        ? `not refuted in ${count(r.search.stats.states)} states (search stopped early)`
        : `not refuted in ${count(v.runs)} runs (interrupted)`;
    default:
      return 'not applicable';
  }
}

/** A verdict's mark at the head of its line: broken, held, unknown, not applicable. */
export const verdictMark = (actual: Verdict['actual']): string =>
  actual === 'violated' ? pc.red('✗') : actual === 'holds' ? pc.green('✓') : actual === 'unknown' ? pc.yellow('?') : pc.dim('–');

function verdictLine(v: Verdict, r: VariantReport): string {
  const mark = verdictMark(v.actual);
  const expectation =
    v.actual === 'unknown'
      ? pc.yellow(`expected ${v.expected}; unknown`)
      : v.matches
        ? pc.dim('as expected')
        : pc.bold(pc.red(`UNEXPECTED: expected ${v.expected}`));
  const what = outcomeText(v, r);
  return `  ${mark} ${v.property.padEnd(30)} ${what}  ${expectation}`;
}

export function textReport(variant: AnyVariant, r: VariantReport, module?: string): string {
  const { model, config } = variant;
  const head = `${pc.bold(`${r.model} --variant ${r.variant}`)}: ${r.title} [${r.source}]`;
  const lines = [head, ...r.verdicts.map((v) => verdictLine(v, r))];
  for (const v of r.verdicts) {
    const cx = v.counterexample;
    if (!cx) continue;
    lines.push('', renderTrace(cx.trace, model.present, config, cx.violation, { width: 76 }).replace(/^(?=.)/gm, '    '));
    lines.push(pc.dim(`    replay: ${replayCommand(r, v.property, cx, model, module)}`));
  }
  const never = starved(r.coverage ?? []);
  if (never.length) {
    lines.push('', pc.yellow(`  never reached (raise --ids, --ops or --threads if a bound starved them, or check the path can happen):`));
    for (const s of never) lines.push(pc.yellow(`    ${s}`));
  }
  if (r.search) lines.push('', ...searchLines(r.search, model));
  else if (r.guarantee && r.verdicts.some((v) => v.actual === 'holds')) lines.push('', ...guaranteeLines(r.guarantee).map((l) => pc.dim(`  ${l}`)));
  else if (r.interrupted) lines.push('', pc.yellow('  INCOMPLETE: interrupted by Ctrl-C; what no schedule broke yet is unknown'));
  const status = !r.matches
    ? pc.red('some verdicts are not as expected')
    : r.complete
      ? pc.green('every verdict as expected')
      : pc.yellow('no verdict contradicts its expectation, but the search is incomplete');
  lines.push('', `  ${status} (${r.durationMs} ms)`, '');
  return lines.join('\n');
}

/** A probability as a bound reads best: tiny ones as a power of ten, others with two digits. */
function probability(p: number): string {
  if (p < 1e-12) return '< 1e-12';
  return p < 0.001 ? `<= ${p.toExponential(0)}` : `<= ${p.toPrecision(2)}`;
}

/**
 * What a random search that found nothing means (issue 18): the schedules;
 * PCT's promise per run, for a bug of each depth it ran among the calls that
 * run drew; and what all its runs together promise for a bug that every run's
 * calls hold. The calls are drawn at random, so a bug that needs a rare mix of
 * calls is covered only as often as the mix is drawn: the lines say which
 * calls they are about. Never "holds".
 */
export function guaranteeLines(g: Guarantee): string[] {
  const mix = g.depths.map((d) => `${count(d.runs)} PCT at depth ${d.depth}`).join(', ');
  const head = `random: ${count(g.schedules)} schedules (${g.scheduler}${mix ? `: ${mix}` : ''}), ${g.threads} threads, up to ${g.choices} choice points a run`;
  if (g.depths.length === 0) return [`${head}: no bound on what they missed (only PCT gives one; try --scheduler pct)`];
  const perRun = g.depths.map((d) => `depth ${d.depth} 1/${count(Math.round(g.threads * g.choices ** (d.depth - 1)))}`).join(', ');
  const bounds = g.depths.map((d) => `depth ${d.depth} ${probability(d.missed)}`).join(', ');
  const past = g.longer > 0 ? `; ${count(g.longer)} runs had more choice points, past which the bound says nothing` : '';
  return [
    head,
    `each PCT run finds a bug of a given depth in the calls it drew with probability at least ${perRun}`,
    `a bug in the calls every run drew is missed by all of them with probability ${bounds}${past}`,
  ];
}

const CAP_FLAGS = { 'max-states': '--max-states', 'max-memory': '--max-memory', timeout: '--timeout' } as const;

/** The search's figures, and for a capped search which bound stopped it and how to narrow. */
export function searchLines(s: SearchSummary, model: AnyModel): string[] {
  const { stats } = s;
  const mb = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MB`;
  const how = [
    ...(s.symmetry ? [`symmetry: ${s.symmetry}`] : []),
    ...(s.parts ? [`split over ${s.parts} threads`] : []),
    ...(s.split ? [`part ${s.split.part + 1} of ${s.split.parts}: lifecheck merge gives the verdicts`] : []),
  ];
  const figures =
    `  exhaustive${how.length ? ` (${how.join('; ')})` : ''}: ${count(stats.states)} states, ` +
    `${count(stats.transitions)} transitions, depth ${stats.depth}, ${(stats.elapsedMs / 1000).toFixed(1)} s ` +
    `(${count(stats.statesPerSecond)} states/s), peak ${mb(stats.peakRssBytes)}, ${stats.bytesPerState} B/state`;
  if (s.complete) return [figures, pc.dim(`  bounds fully explored${within(s)}; fingerprint collision odds ${s.collisionOdds.toExponential(1)}`)];
  const where = `${count(stats.queued)} states still queued at depth ${stats.depth}`;
  if (s.stoppedBy === 'interrupted') return [figures, pc.yellow(`  INCOMPLETE: interrupted by Ctrl-C with ${where}`)];
  if (s.stoppedBy === 'all-broken') return [figures, pc.dim(`  stopped once every property was broken, with ${where}`)];
  const flag = CAP_FLAGS[s.stoppedBy!];
  return [
    figures,
    pc.yellow(`  INCOMPLETE: stopped by ${flag} with ${where};`) +
      pc.yellow(` narrow with fewer --threads/--ops/--ids${model.choices ? ', --only' : ''}${s.symmetry || !s.symmetryDeclared ? '' : ', --symmetry'}, or raise ${flag}`),
  ];
}
