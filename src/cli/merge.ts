/**
 * `lifecheck merge`: the `--json` reports of a check split over a CI matrix
 * (`check --shard i/n`) put back together. A random check's parts each ran
 * from their own seed: a property is broken when any part broke it (the first
 * part's trace, which its own seed and path replay); it held when every part
 * ran all its schedules without breaking it, in as many schedules as they ran
 * together, and PCT's bound is that of all their PCT runs. An exhaustive
 * check's parts each searched their share (`explore/split.ts`): a property is
 * broken when any part broke it, with the trace the one search would give
 * (the least path among the shortest), and holds when every part searched
 * its share to the end. A part that is missing, was interrupted or was capped
 * leaves the merge incomplete (exit 3), never "holds".
 */
import { readFileSync } from 'node:fs';
import pc from 'picocolors';
import { z } from 'zod';
import { missedAtMost, SCHEDULERS, type Guarantee } from '../explore/schedulers.ts';
import { firstFound } from '../explore/split.ts';
import { UsageError } from '../registry.ts';
import { guaranteeLines, verdictMark } from '../report/text.ts';
import { EXIT_INCOMPLETE } from './outputs.ts';

const verdictSchema = z.looseObject({
  property: z.string(),
  expected: z.string(),
  actual: z.enum(['holds', 'violated', 'n/a', 'unknown']),
  runs: z.number(),
  counterexample: z.looseObject({ text: z.string(), replay: z.string(), path: z.union([z.string(), z.array(z.number())]) }).optional(),
});

const guaranteeSchema = z.object({
  scheduler: z.enum(SCHEDULERS),
  schedules: z.number(),
  threads: z.number(),
  choices: z.number(),
  longer: z.number(),
  depths: z.array(z.object({ depth: z.number(), runs: z.number(), missed: z.number() })),
});

const resultSchema = z.looseObject({
  model: z.string(),
  variant: z.string(),
  title: z.string(),
  seed: z.number(),
  explorer: z.enum(['random', 'exhaustive']),
  verdicts: z.array(verdictSchema),
  search: z
    .looseObject({
      complete: z.boolean(),
      stats: z.looseObject({ states: z.number() }),
      split: z.object({ part: z.number(), parts: z.number(), undecided: z.array(z.string()).optional() }).optional(),
    })
    .optional(),
  guarantee: guaranteeSchema.optional(),
  interrupted: z.boolean().optional(),
});

const reportSchema = z.looseObject({
  schemaVersion: z.literal(1),
  tool: z.literal('lifecheck'),
  version: z.string(),
  shard: z.object({ index: z.number(), count: z.number() }, { error: 'is not a shard (check --shard i/n --json writes one)' }),
  results: z.array(resultSchema),
});

type Report = z.infer<typeof reportSchema>;
type Result = Report['results'][number];
type Verdict = Result['verdicts'][number];

function read(file: string): Report {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : 'is not JSON'}; give the --json reports of check --shard i/n`);
  }
  const parsed = reportSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new UsageError(`${file}: ${issue.path.join('.') || 'the report'} ${issue.message}`);
  }
  return parsed.data;
}

/**
 * One property's verdict over every part: broken by the first that broke it (of an exhaustive search's parts, the
 * one search's trace), else unknown if any part could not say.
 */
function mergedVerdict(parts: readonly Verdict[], exhaustive: boolean): Verdict & { matches: boolean } {
  const first = parts[0]!;
  const pathOf = (v: Verdict) => (v.actual === 'violated' && Array.isArray(v.counterexample?.path) ? { v, path: v.counterexample.path } : undefined);
  const broken = exhaustive ? firstFound(parts.map(pathOf))?.v : parts.find((v) => v.actual === 'violated');
  const actual = broken ? 'violated' : parts.some((v) => v.actual === 'unknown') ? 'unknown' : first.actual;
  const runs = broken ? broken.runs : parts.reduce((n, v) => n + v.runs, 0);
  return { ...(broken ?? first), actual, runs, matches: first.expected === actual || actual === 'unknown' };
}

/** PCT's bound over every part's runs: their schedules and PCT runs add up (the parts draw the same system's shape). */
function mergedGuarantee(parts: readonly (Guarantee | undefined)[]): Guarantee | undefined {
  if (parts.some((g) => g === undefined)) return undefined;
  const all = parts as Guarantee[];
  const depths = new Map<number, number>();
  for (const g of all) for (const d of g.depths) depths.set(d.depth, (depths.get(d.depth) ?? 0) + d.runs);
  const { threads, choices } = all[0]!;
  return {
    scheduler: all[0]!.scheduler,
    schedules: all.reduce((n, g) => n + g.schedules, 0),
    threads,
    choices,
    longer: all.reduce((n, g) => n + g.longer, 0),
    depths: [...depths].sort(([a], [b]) => a - b).map(([depth, runs]) => ({ depth, runs, missed: missedAtMost({ threads, choices }, depth, runs) })),
  };
}

/** The parts' results for one variant, merged. */
function mergedResult(parts: readonly Result[]) {
  const { model, variant, title, explorer } = parts[0]!;
  const exhaustive = explorer === 'exhaustive';
  const other = parts.find((r) => r.explorer !== explorer);
  if (other) throw new UsageError(`part ${other.search?.split ? other.search.split.part + 1 : '?'} of ${model} --variant ${variant} ran the ${other.explorer} explorer, another the ${explorer}; merge the parts of one check`);
  // A part of an exhaustive search says "holds" of its share only: the search held when every part searched its own,
  // and no part saw a way for a cycle to run through other parts' worlds (`SplitTables.undecided`).
  const searched = parts.every((r) => r.search?.complete !== false);
  const undecided = new Set(parts.flatMap((r) => r.search?.split?.undecided ?? []));
  const verdicts = parts[0]!.verdicts.map((v) => {
    const merged = mergedVerdict(parts.map((r) => r.verdicts.find((x) => x.property === v.property) ?? v), exhaustive);
    const decided = searched && !undecided.has(v.property);
    return merged.actual === 'holds' && !decided ? { ...merged, actual: 'unknown' as const, matches: true } : merged;
  });
  const guarantee = mergedGuarantee(parts.map((r) => r.guarantee));
  const complete = parts.every((r) => !r.interrupted) && verdicts.every((v) => v.actual !== 'unknown');
  const states = exhaustive ? { states: parts.map((r) => r.search?.stats.states ?? 0) } : { seeds: parts.map((r) => r.seed) };
  return { model, variant, title, explorer, ...states, verdicts, ...(guarantee ? { guarantee } : {}), matches: verdicts.every((v) => v.matches), complete };
}

type Merged = ReturnType<typeof mergedResult>;

const count = (n: number) => n.toLocaleString('en-US');

/** What a merged verdict says, for the random explorer's parts or an exhaustive search's. */
function outcome(r: Merged, v: Merged['verdicts'][number]): string {
  const steps = (v.counterexample as { steps?: unknown[] } | undefined)?.steps?.length;
  if (v.actual === 'n/a') return 'not applicable';
  if (r.explorer === 'exhaustive') {
    if (v.actual === 'violated') return `violated in ${steps} steps${(v.counterexample as { shortest?: boolean }).shortest ? ' (shortest)' : ' (a loop)'}`;
    return v.actual === 'holds' ? `holds (every part searched its share: ${r.states!.map(count).join(' + ')} states, overlapping)` : 'unknown (a part was interrupted or stopped early, or a loop may run through several parts)';
  }
  return v.actual === 'violated' ? `violated (run ${count(v.runs)})` : v.actual === 'holds' ? `no violation in ${count(v.runs)} random schedules` : 'unknown (a part was interrupted)';
}

function text(r: Merged): string {
  const from = r.seeds ? `seeds ${r.seeds.join(', ')}` : `an exhaustive search in ${r.states!.length} parts`;
  const lines = [`${pc.bold(`${r.model} --variant ${r.variant}`)}: ${r.title} (${from})`];
  for (const v of r.verdicts) {
    const what = outcome(r, v);
    lines.push(`  ${verdictMark(v.actual)} ${v.property.padEnd(30)} ${what}  ${v.matches ? pc.dim('as expected') : pc.bold(pc.red(`UNEXPECTED: expected ${v.expected}`))}`);
  }
  for (const v of r.verdicts) {
    if (v.counterexample) lines.push('', v.counterexample.text.replace(/^(?=.)/gm, '    '), pc.dim(`    replay: ${v.counterexample.replay}`));
  }
  if (r.guarantee && r.verdicts.some((v) => v.actual === 'holds')) lines.push('', ...guaranteeLines(r.guarantee).map((l) => pc.dim(`  ${l}`)));
  return lines.join('\n') + '\n';
}

/** Merges the shard reports `files`; prints the verdicts; returns the exit code (1 when one is not as expected, 3 when incomplete). */
export function merge(files: readonly string[], asJson: boolean): number {
  const reports = files.map(read).sort((a, b) => a.shard.index - b.shard.index);
  const n = reports[0]!.shard.count;
  const wrong = reports.find((r) => r.shard.count !== n);
  if (wrong) throw new UsageError(`the reports are parts of different splits (${n} and ${wrong.shard.count} parts); merge the parts of one check --shard i/${n}`);
  const twice = reports.find((r, i) => i > 0 && r.shard.index === reports[i - 1]!.shard.index);
  if (twice) throw new UsageError(`part ${twice.shard.index}/${n} is given twice; give each part once`);
  const key = (r: Result) => `${r.model} --variant ${r.variant}`;
  const variants = reports[0]!.results.map(key);
  const other = reports.find((r) => r.results.map(key).join() !== variants.join());
  if (other) throw new UsageError(`part ${other.shard.index}/${n} checked other variants (${other.results.map(key).join(', ')}); merge the parts of one check`);
  const results = variants.map((_, i) => mergedResult(reports.map((r) => r.results[i]!)));
  const missing = Array.from({ length: n }, (_, i) => i + 1).filter((i) => !reports.some((r) => r.shard.index === i));
  const complete = missing.length === 0 && results.every((r) => r.complete);
  const matches = results.every((r) => r.matches);
  if (asJson) {
    const doc = { schemaVersion: 1, tool: 'lifecheck', version: reports[0]!.version, merged: { count: n, parts: reports.map((r) => r.shard.index) }, explorer: results[0]?.explorer, complete, matches, results };
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  } else {
    process.stdout.write(results.map(text).join('\n'));
    if (missing.length) process.stdout.write(pc.yellow(`\nINCOMPLETE: part${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${n} missing\n`));
  }
  return !matches ? 1 : complete ? 0 : EXIT_INCOMPLETE;
}
