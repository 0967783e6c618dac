/**
 * `lifecheck merge`: the `--json` reports of a random check split over a CI
 * matrix (`check --shard i/n`, each part from its own seed) put back together.
 * A property is broken when any part broke it (the first part's trace, which
 * its own seed and path replay); it held when every part ran all its
 * schedules without breaking it, in as many schedules as they ran together,
 * and PCT's bound is that of all their PCT runs. A part that is missing or
 * was interrupted leaves the merge incomplete (exit 3), never "holds".
 */
import { readFileSync } from 'node:fs';
import pc from 'picocolors';
import { z } from 'zod';
import { missedAtMost, SCHEDULERS, type Guarantee } from '../explore/schedulers.ts';
import { UsageError } from '../registry.ts';
import { guaranteeLines, verdictMark } from '../report/text.ts';
import { EXIT_INCOMPLETE } from './outputs.ts';

const verdictSchema = z.looseObject({
  property: z.string(),
  expected: z.string(),
  actual: z.enum(['holds', 'violated', 'n/a', 'unknown']),
  runs: z.number(),
  counterexample: z.looseObject({ text: z.string(), replay: z.string() }).optional(),
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
  explorer: z.literal('random', { error: 'is not from the random explorer (only random checks are sharded)' }),
  verdicts: z.array(verdictSchema),
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

/** One property's verdict over every part: broken by the first that broke it, else unknown if any part could not say. */
function mergedVerdict(parts: readonly Verdict[]): Verdict & { matches: boolean } {
  const first = parts[0]!;
  const broken = parts.find((v) => v.actual === 'violated');
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
  const { model, variant, title } = parts[0]!;
  const verdicts = parts[0]!.verdicts.map((v) => mergedVerdict(parts.map((r) => r.verdicts.find((x) => x.property === v.property) ?? v)));
  const guarantee = mergedGuarantee(parts.map((r) => r.guarantee));
  const complete = parts.every((r) => !r.interrupted) && verdicts.every((v) => v.actual !== 'unknown');
  return { model, variant, title, seeds: parts.map((r) => r.seed), verdicts, ...(guarantee ? { guarantee } : {}), matches: verdicts.every((v) => v.matches), complete };
}

type Merged = ReturnType<typeof mergedResult>;

const count = (n: number) => n.toLocaleString('en-US');

function text(r: Merged): string {
  const lines = [`${pc.bold(`${r.model} --variant ${r.variant}`)}: ${r.title} (seeds ${r.seeds.join(', ')})`];
  for (const v of r.verdicts) {
    const what =
      v.actual === 'violated' ? `violated (run ${count(v.runs)})` : v.actual === 'holds' ? `no violation in ${count(v.runs)} random schedules` : v.actual === 'unknown' ? 'unknown (a part was interrupted)' : 'not applicable';
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
    const doc = { schemaVersion: 1, tool: 'lifecheck', version: reports[0]!.version, merged: { count: n, parts: reports.map((r) => r.shard.index) }, explorer: 'random', complete, matches, results };
    process.stdout.write(JSON.stringify(doc, null, 2) + '\n');
  } else {
    process.stdout.write(results.map(text).join('\n'));
    if (missing.length) process.stdout.write(pc.yellow(`\nINCOMPLETE: part${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${n} missing\n`));
  }
  return !matches ? 1 : complete ? 0 : EXIT_INCOMPLETE;
}
