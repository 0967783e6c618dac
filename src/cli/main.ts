/**
 * The `lifecheck` command line. Every user mistake ends as one line on stderr
 * and exit code 2; verdicts as expected exit 0, any other verdict exits 1.
 */
import { existsSync, readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import type { Progress, VariantReport } from '../check.ts';
import { DEFAULT_PCT_DEPTH, SCHEDULERS, type Scheduler } from '../explore/schedulers.ts';
import { DefinitionError } from '../engine/define.ts';
import type { AnyModel, AnyVariant, Bounds, Only } from '../engine/model.ts';
import { builtInModels } from '../../models/index.ts';
import { looksLikePath, pickVariants, targetOf, targetsNamed, UsageError, type Target } from '../registry.ts';
import { textReport } from '../report/text.ts';
import * as parse from './options.ts';
import { stopOnCtrlC } from './interrupt.ts';
import { checkOutputs, EXIT_INCOMPLETE, writeOutputs, type OutputFlags } from './outputs.ts';
import { diagram, review } from './review.ts';
import { endQuietlyOnOutputErrors } from './streams.ts';
import { FORMATS, replayFile, showFile, type Format } from './traces.ts';
import { merge } from './merge.ts';
import { progressLine, statusLine } from './progress.ts';
import type { Shard } from '../report/json.ts';
import { checkOnly, checkProperties } from './validate.ts';
import { checkAll, threadsFor, type Job, type SentOptions } from './workers.ts';

endQuietlyOnOutputErrors();

// lifecheck's package.json: two folders up from the sources, three from the compiled dist/src/cli.
const packageJson = ['../../package.json', '../../../package.json'].map((p) => new URL(p, import.meta.url)).find((u) => existsSync(u))!;
const version = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;


interface CheckFlags extends OutputFlags {
  variant?: string;
  allVariants?: boolean;
  property?: string[];
  runs: number;
  seed: number;
  path?: string;
  threads?: number;
  ids?: Bounds['ids'];
  ops?: number;
  only?: Only;
  exhaustive?: boolean;
  random?: boolean;
  symmetry?: boolean;
  maxStates?: number;
  maxMemory?: number;
  timeout?: number;
  preemptions?: number;
  scheduler?: Scheduler;
  pctDepth?: number;
  jobs?: number;
  shard?: Shard;
}

async function targetsOf(modelArg: string | undefined): Promise<Target[]> {
  return modelArg === undefined ? builtInModels.map(targetOf) : targetsNamed(builtInModels, modelArg);
}

function boundsOf(model: AnyModel, flags: CheckFlags): Bounds {
  const d = model.defaults;
  const bounds = { threads: flags.threads ?? d.threads, ops: flags.ops ?? d.ops, ids: flags.ids ?? d.ids };
  return flags.only ? { ...bounds, only: flags.only } : bounds;
}

async function check(modelArg: string | undefined, flags: CheckFlags): Promise<number> {
  if (flags.variant && flags.allVariants) throw new UsageError('give either --variant or --all-variants, not both');
  const targets = await targetsOf(modelArg);
  for (const t of targets) checkProperties(t.model, flags.property, t.variants);
  const plan = pickVariants(targets, flags.variant).map((variant) => ({ model: variant.model, variant }));
  for (const { model, variant } of plan) {
    checkOnly(variant, flags.only);
    const wrong = model.checkBounds?.(boundsOf(model, flags));
    if (wrong) throw new UsageError(wrong);
  }
  checkSearchFlags(flags, plan);
  checkOutputs(flags);
  if (flags.path !== undefined && (plan.length !== 1 || flags.property?.length !== 1)) {
    throw new UsageError('--path replays one counterexample: name one model, one --variant and one --property');
  }
  const started = performance.now();
  const signal = stopOnCtrlC();
  const module = modelArg !== undefined && looksLikePath(modelArg) ? modelArg : undefined;
  const results: { variant: AnyVariant; report: VariantReport; module?: string }[] = [];
  const seed = flags.shard ? parse.shardSeed(flags.seed, flags.shard.index) : flags.seed;
  const jobs = plan.map(({ model, variant }): Job => ({ variant, target: modelArg, options: checkOptions(model, { ...flags, seed }) }));
  // The status line goes to stderr: shown only where stderr is a terminal, and never beside --json.
  const watching = process.stderr.isTTY && !flags.json;
  const threads = threadsFor(jobs, flags.jobs);
  // On threads several searches run at once: each line says whose it is.
  const onProgress = watching ? (v: AnyVariant, p: Progress) => statusLine.show(`${threads > 1 ? `${v.name}: ` : ''}${progressLine(p)}`) : undefined;
  for await (const report of checkAll(jobs, threads, signal, onProgress)) {
    statusLine.clear();
    const { variant } = jobs[results.length]!;
    results.push({ variant, report, ...(module ? { module } : {}) });
    if (!flags.json) process.stdout.write(textReport(variant, report, module) + '\n');
  }
  const code = writeOutputs(results, flags, { version, durationMs: Math.round(performance.now() - started), ...(flags.shard ? { shard: flags.shard } : {}) });
  return notChecked(plan.slice(results.length).map((p) => p.variant), code);
}

/** After a Ctrl-C, the variants never started: named on stderr, and the run is incomplete. */
function notChecked(skipped: readonly AnyVariant[], code: number): number {
  if (skipped.length === 0) return code;
  process.stderr.write(`lifecheck: interrupted before checking ${skipped.map((v) => `${v.model.name} --variant ${v.name}`).join(', ')}\n`);
  return code === 0 ? EXIT_INCOMPLETE : code;
}

/** Whether `model` is searched exhaustively: asked for, or its default when the flags ask for no random run. */
const exhaustiveFor = (model: AnyModel, flags: CheckFlags): boolean =>
  Boolean(flags.exhaustive) || (!flags.random && flags.path === undefined && model.search === 'exhaustive');

/** Search flags only mean something to the exhaustive explorer, and symmetry only where the model declares one. */
function checkSearchFlags(flags: CheckFlags, plan: readonly { model: AnyModel; variant: AnyVariant }[]): void {
  if (flags.exhaustive && flags.random) throw new UsageError('give either --exhaustive or --random, not both');
  const searchOnly = (['symmetry', 'maxStates', 'maxMemory', 'timeout', 'preemptions'] as const).find((f) => flags[f] !== undefined);
  if (searchOnly && !plan.every(({ model }) => exhaustiveFor(model, flags))) {
    const flag = `--${searchOnly.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    throw new UsageError(`${flag} applies to the exhaustive search only; add --exhaustive`);
  }
  if (flags.exhaustive && flags.path !== undefined) throw new UsageError('--path replays a random run; drop --exhaustive');
  const randomOnly = flags.scheduler !== undefined ? '--scheduler' : flags.pctDepth !== undefined ? '--pct-depth' : undefined;
  if (flags.shard && flags.preemptions !== undefined) throw new UsageError('--shard splits one breadth-first search, and --preemptions runs several; drop one');
  if (flags.shard && flags.path !== undefined) throw new UsageError('--path replays one counterexample, whatever shard found it (its --seed says which); drop --shard');
  if (randomOnly && plan.some(({ model }) => exhaustiveFor(model, flags))) {
    throw new UsageError(`${randomOnly} applies to the random search only; add --random (or drop --exhaustive)`);
  }
  if (flags.pctDepth !== undefined && flags.scheduler !== 'pct') throw new UsageError('--pct-depth is the depth of --scheduler pct; add --scheduler pct');
  if (flags.symmetry && flags.preemptions !== undefined) throw new UsageError('--symmetry and --preemptions do not go together (a preemption depends on which thread ran last); drop one');
  if (!flags.symmetry) return;
  for (const { model, variant } of plan) {
    if (!model.system(variant.config, boundsOf(model, flags)).symmetry) {
      throw new UsageError(
        `--symmetry: model '${model.name}' declares no symmetry (variant '${variant.name}'); drop --symmetry, or give its System a symmetry`,
      );
    }
  }
}

/** How `check` checks a variant of `model`, as the flags say. */
function checkOptions(model: AnyModel, flags: CheckFlags): SentOptions {
  return {
    bounds: boundsOf(model, flags),
    runs: flags.runs,
    seed: flags.seed,
    ...(flags.property ? { properties: flags.property } : {}),
    ...(flags.path !== undefined ? { path: flags.path } : {}),
    ...(flags.scheduler ? { scheduler: flags.scheduler } : {}),
    ...(flags.pctDepth !== undefined ? { depth: flags.pctDepth } : {}),
    ...(exhaustiveFor(model, flags) ? { exhaustive: searchOptions(flags) } : {}),
  };
}

/** The search options the flags ask for; with `--shard I/N`, part I of the search split N ways (`explore/split.ts`). */
function searchOptions(flags: CheckFlags): NonNullable<SentOptions['exhaustive']> {
  return {
    symmetry: Boolean(flags.symmetry),
    maxMemoryMB: flags.maxMemory ?? parse.defaultMaxMemoryMB(),
    ...(flags.maxStates !== undefined ? { maxStates: flags.maxStates } : {}),
    ...(flags.timeout !== undefined ? { timeoutSeconds: flags.timeout } : {}),
    ...(flags.preemptions !== undefined ? { preemptions: flags.preemptions } : {}),
    ...(flags.shard ? { split: { part: flags.shard.index - 1, parts: flags.shard.count } } : {}),
  };
}

/** What `--only` can narrow in a model: each key's names, over all its variants (a call only some have is among them). */
function narrowable(model: AnyModel): Record<string, string[]> {
  const keys: Record<string, string[]> = {};
  for (const v of model.variants) for (const [key, names] of Object.entries(model.choices?.(v.config) ?? {})) keys[key] = [...new Set([...(keys[key] ?? []), ...names])];
  return keys;
}

/** A model's default scenario, as `check` runs it with no bounds given. */
function scenarioText(m: AnyModel): string {
  const { threads, ops, ids } = m.defaults;
  return `${threads} threads × ${ops} calls each, ids ${ids.min}..${ids.max}, searched ${m.search === 'exhaustive' ? 'exhaustively' : 'by random schedules'}`;
}

function list(asJson: boolean): void {
  const models = builtInModels.map((m) => ({
    name: m.name,
    title: m.title,
    source: m.source,
    defaults: m.defaults,
    search: m.search ?? 'random',
    only: narrowable(m),
    variants: m.variants.map((v) => ({ name: v.name, title: v.title, source: v.source, expect: v.expect })),
    properties: m.properties.map((p) => ({ id: p.id, title: p.title, kind: p.kind, source: p.source })),
  }));
  if (asJson) {
    process.stdout.write(JSON.stringify({ schemaVersion: 1, models }, null, 2) + '\n');
    return;
  }
  for (const [i, m] of models.entries()) {
    const only = Object.entries(m.only).map(([key, names]) => `    --only ${key}=${names.join(',')}`);
    const out = [`model ${m.name}: ${m.title} [${m.source}]`, `  default scenario: ${scenarioText(builtInModels[i]!)} (--threads, --ops, --ids change it)`];
    out.push(only.length ? '  --only keeps some of (repeatable):' : '  --only: nothing to narrow', ...only);
    out.push('  variants:');
    const width = Math.max(...m.variants.map((v) => v.name.length));
    for (const v of m.variants) {
      const breaks = Object.entries(v.expect).filter(([, e]) => e === 'violated').map(([p]) => p);
      out.push(`    ${v.name.padEnd(width)}  ${v.title} [${v.source}]`);
      out.push(`    ${''.padEnd(width)}  expected to break: ${breaks.length ? breaks.join(', ') : 'nothing'}`);
    }
    out.push('  properties:');
    for (const p of m.properties) out.push(`    ${p.id.padEnd(30)} ${p.kind.padEnd(9)} ${p.title}`);
    process.stdout.write(out.join('\n') + '\n');
  }
}

const EXIT_CODES = `
Exit codes:
  0    every verdict is what its variant expects (and --min-coverage is met)
  1    some verdict is not what its variant expects, or coverage is below --min-coverage
  2    an error, never a verdict: bad input, or a model that throws (one line on stderr)
  3    incomplete: a search stopped by --max-states, --max-memory, --timeout or Ctrl-C,
       nothing contradicting what is expected so far (undecided verdicts are unknown)
  130  a second Ctrl-C`;

/** `--no-color`, which picocolors reads from the command line itself (as it reads NO_COLOR): here it only has to be accepted. */
const noColor = () => new Option('--no-color', 'print no colours (as NO_COLOR=1 does)');

function program(): Command {
  const cli = new Command('lifecheck')
    .description('Model-check the lifecycles of Linux IOMMU objects (IOASID, iommufd) under many interleavings.')
    .version(version)
    .exitOverride()
    // One line: commander puts its "Did you mean" on a line of its own.
    .configureOutput({ outputError: (msg, write) => write(`lifecheck: ${msg.replace(/^error: /, '').trim().replace(/\s*\n\(Did you mean (.*)\?\)$/, ' (did you mean $1?)')}\n`) });
  cli
    .command('list')
    .addOption(noColor())
    .description('list models, their variants (with expected verdicts) and properties')
    .option('--json', 'print JSON')
    .action((o: { json?: boolean }) => list(Boolean(o.json)));
  cli
    .command('check')
    .addOption(noColor())
    .description('check variants of a model (all built-in models when none is named) against its properties')
    .argument('[model]', 'a built-in model name, or a path to your own .ts module')
    .option('--variant <name>', 'check one variant')
    .option('--all-variants', 'check every variant (the default)')
    .option('--property <id...>', 'check only these properties')
    .addOption(new Option('--runs <n>', 'random schedules per variant').default(parse.DEFAULT_RUNS).argParser((v) => parse.intIn('--runs', v, 1, parse.LIMITS.runs)))
    .addOption(new Option('--seed <n>', 'fast-check seed').default(parse.DEFAULT_SEED).argParser(parse.seed))
    .option('--path <path>', "replay a counterexample by fast-check's path (with --seed)", parse.path)
    .option('--threads <n>', 'threads (CPUs)', (v) => parse.intIn('--threads', v, 1, parse.LIMITS.threads))
    .option('--ids <K|MIN..MAX>', 'id range', parse.idRange)
    .option('--ops <n>', 'operations per thread', (v) => parse.intIn('--ops', v, 1, parse.LIMITS.ops))
    .option('--only <key=names>', 'narrow the scenario, e.g. calls=alloc,free (repeatable; see list)', parse.only)
    .option('--json', 'print one JSON document instead of text')
    .option('--report <dir>', 'also write check.json and check.txt into this folder')
    .option('--junit <file>', 'write JUnit XML (a test case per variant and property) for CI')
    .option('--min-coverage <pct>', "exit 1 when a variant's transition coverage is below this percentage", (v) => parse.intIn('--min-coverage', v, 0, 100))
    .option('--out <dir>', 'write each counterexample into this folder as <model>-<variant>-<property>.itf.json (ITF)')
    .option('--exhaustive', 'search every interleaving breadth-first: proof within the bounds, shortest counterexamples')
    .option('--random', "sample schedules at random even where the model's default search is exhaustive")
    .addOption(new Option('--scheduler <name>', 'how random schedules are drawn: a portfolio of all (default), uniform, swarm, or PCT').choices(SCHEDULERS))
    .option('--pct-depth <d>', `with --scheduler pct: the bug depth PCT aims at (default ${DEFAULT_PCT_DEPTH})`, (v) => parse.intIn('--pct-depth', v, 1, 8))
    .option('--symmetry', 'with --exhaustive: store one world per thread permutation (models that declare it)')
    .option('--max-states <n>', 'with --exhaustive: stop after this many states (exit 3, incomplete)', (v) => parse.intIn('--max-states', v, 1, parse.LIMITS.states))
    .option('--max-memory <MB>', 'with --exhaustive: stop before the process passes this (default: 3/4 of RAM)', (v) => parse.intIn('--max-memory', v, 64, parse.LIMITS.memoryMB))
    .option('--timeout <s>', 'with --exhaustive: stop after this many seconds (exit 3, incomplete)', (v) => parse.intIn('--timeout', v, 1, parse.LIMITS.seconds))
    .option('--jobs <n>', 'variants checked at once, each on a worker thread (default: one per core from 3 variants on); one variant searched exhaustively is split into n parts, the same search', (v) => parse.intIn('--jobs', v, 1, 256))
    .option('--shard <i/n>', 'run part i of n of the search, for a CI matrix: a random one from seed + i - 1, an exhaustive one split n ways; lifecheck merge puts the parts\' --json reports together', parse.shard)
    .option('--preemptions <k>', 'with --exhaustive: only runs that preempt a thread at most k times, k rising from 0 (fewest-preemption traces)', (v) => parse.intIn('--preemptions', v, 0, 64))
    .addHelpText('after', EXIT_CODES)
    .action(async (model: string | undefined, flags: CheckFlags) => {
      process.exitCode = await check(model, flags);
    });
  cli
    .command('review')
    .addOption(noColor())
    .description('check every variant of the models (all built-in ones by default) and write the design review page, review.md, with its trace files (and with --html, a page to step through)')
    .argument('[models...]', 'built-in model names, or paths to your own .ts modules')
    .option('--out <dir>', 'where to write review.md and traces/', 'reports')
    .option('--html <dir>', 'also write the review as one self-contained page, DIR/index.html: step through each counterexample beside its state diagrams, two variants side by side')
    .option('--report <dir>', 'also write check.json and check.txt into this folder')
    .option('--junit <file>', 'also write JUnit XML (a test case per variant and property)')
    .option('--min-coverage <pct>', "exit 1 when a variant's transition coverage is below this percentage", (v) => parse.intIn('--min-coverage', v, 0, 100))
    .option('--jobs <n>', 'variants checked at once, each on a worker thread (default: one per core from 3 variants on)', (v) => parse.intIn('--jobs', v, 1, 256))
    .option('--json', 'print the checks as one JSON document (as check --json does) instead of a line per variant')
    .addHelpText('after', EXIT_CODES)
    .action(async (models: string[], flags: { out: string; html?: string; report?: string; junit?: string; minCoverage?: number; jobs?: number; json?: boolean }) => {
      const { out, ...rest } = flags;
      process.exitCode = await review(models, { ...rest, dir: out }, version, builtInModels);
    });
  cli
    .command('merge')
    .addOption(noColor())
    .description('put the --json reports of a sharded check (check --shard i/n, random or exhaustive) together: one verdict per property')
    .argument('<reports...>', 'the JSON reports of the shards (check --json > FILE, or --report DIR\'s check.json)')
    .option('--json', 'print one JSON document instead of text')
    .action((files: string[], flags: { json?: boolean }) => {
      process.exitCode = merge(files, Boolean(flags.json));
    });
  cli
    .command('diagram')
    .addOption(noColor())
    .description("print a machine of a model as a Mermaid state diagram, drawn from the xstate machine itself")
    .usage('[options] [module] <MODEL.MACHINE>')
    .argument('<machine...>', 'MODEL.MACHINE, e.g. ioasid.ioasid or iommufd.IOMMU_DESTROY; or a path to your own .ts module, then MODEL.MACHINE')
    .option('--variant <name>', 'the variant whose machine to draw (default: the first that runs it)')
    .option('--json', 'print JSON: the model, variant and machine, the Mermaid text, and every transition')
    .action(async (args: string[], flags: { variant?: string; json?: boolean }) => {
      const drawn = await diagram(args, flags.variant, builtInModels);
      process.stdout.write(flags.json ? JSON.stringify(drawn, null, 2) + '\n' : drawn.mermaid + '\n');
    });
  cli
    .command('replay')
    .addOption(noColor())
    .description('run a trace file again: exit 1 when its property still breaks, 0 when it no longer does')
    .argument('<file>', 'a .itf.json trace (from check --out)')
    .option('--json', 'print one JSON document instead of text')
    .action(async (file: string, flags: { json?: boolean }) => {
      process.exitCode = await replayFile(file, flags, builtInModels);
    });
  cli
    .command('show')
    .addOption(noColor())
    .description('render a trace file: lockdep-style text, a Markdown table, a Mermaid diagram, JSON, or a reproducer test')
    .argument('<file>', 'a .itf.json trace (from check --out), or - to read one from standard input')
    .addOption(new Option('--format <format>', 'what to print').choices(FORMATS).default('text'))
    .option('--changes', "with --format text: below each step, what it changed (for a kit model in the kernel's terms: counts, holders, entries, locks)")
    .action(async (file: string, flags: { format: Format; changes?: boolean }) => {
      process.exitCode = await showFile(file, flags, builtInModels);
    });
  return cli;
}

try {
  await program().parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) {
    process.exitCode = e.exitCode === 0 ? 0 : 2; // commander has printed its one line
  } else if (e instanceof UsageError || e instanceof DefinitionError) {
    process.stderr.write(`lifecheck: ${e.message}\n`);
    process.exitCode = 2;
  } else {
    throw e;
  }
}
