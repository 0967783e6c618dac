/**
 * `lifecheck review` and `lifecheck diagram`: the design review page (every
 * variant of the named models, built in or from users' modules, fixed seed,
 * no timings) with its trace files, and one machine's state diagram.
 */
import { existsSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pc from 'picocolors';
import { propertiesOf, type AnyModel, type AnyVariant } from '../engine/model.ts';
import { builtInTarget, loadModule, looksLikePath, pickVariants, targetOf, targetsNamed, UsageError, type Target } from '../registry.ts';
import { stateDiagram } from '../report/diagram.ts';
import { machineEdges, type Edge } from '../engine/edges.ts';
import { reviewHtml } from '../report/html.ts';
import { reviewMarkdown } from '../report/review.ts';
import { checkFileIn, checkWritableDir, writeFiles } from '../report/write.ts';
import { DEFAULT_RUNS, DEFAULT_SEED } from './options.ts';
import { traceFileName } from '../trace/itf.ts';
import { stopOnCtrlC } from './interrupt.ts';
import { checkOutputs, EXIT_INCOMPLETE, writeOutputs, type OutputFlags } from './outputs.ts';
import { traceFiles, type Written } from './traces.ts';
import { checkAll, threadsFor, type Job } from './workers.ts';
import { progressLine, statusLine } from './progress.ts';
import type { Progress, VariantReport } from '../check.ts';

/** The review's trace files live here, relative to the page. */
const TRACES = 'traces';
/** The page to step through, in the folder `--html` names. */
const PAGE = 'index.html';

/** A model's section of the review: its variants' reports, each with the user's module it came from, if any. */
export interface ReviewGroup {
  readonly model: AnyModel;
  readonly results: readonly Written[];
}

/**
 * Checks the variants of `targets` at their model's defaults, with the
 * default runs and seed, until `signal` aborts: one group per model, which
 * targets of the same model share (a module's variants of a built-in model).
 * On worker threads as `--jobs` asks (`threadsFor`); in this thread when `jobs` is 1.
 */
export async function reviewChecks(targets: readonly Target[], signal = new AbortController().signal, jobs?: number, watch?: Watch): Promise<ReviewGroup[]> {
  const groups = new Map<AnyModel, Written[]>(targets.map((t) => [t.model, []]));
  const queued: (Job & { module?: string })[] = [];
  const seen = new Set<AnyVariant>();
  for (const { model, variants, module } of targets) {
    for (const variant of variants) {
      // A module may export a model and one of its variants too: check it once.
      if (seen.has(variant)) continue;
      seen.add(variant);
      const search = model.search === 'exhaustive' ? { exhaustive: {} } : {};
      const options = { bounds: model.defaults, runs: DEFAULT_RUNS, seed: DEFAULT_SEED, ...search };
      queued.push({ variant, target: module ?? model.name, options, ...(module ? { module } : {}) });
    }
  }
  let done = 0;
  const onProgress = watch && ((variant: AnyVariant, p: Progress) => watch.onProgress(`review: ${done} of ${queued.length} variants checked; ${variant.model.name} --variant ${variant.name}: ${progressLine(p)}`));
  for await (const report of checkAll(queued, threadsFor(queued, jobs, false), signal, onProgress)) {
    const { variant, module } = queued[done++]!;
    groups.get(variant.model)!.push({ variant, report, ...(module ? { module } : {}) });
    watch?.onReport(report);
  }
  return [...groups].map(([model, results]) => ({ model, results }));
}

/** What a person watching a review sees: each variant's line as it is checked, and how far the check running is. */
interface Watch {
  onReport(report: VariantReport): void;
  onProgress(line: string): void;
}

/** A variant's line in the review's summary: how many properties it broke, and whether that is what it expects. */
function summaryLine(r: VariantReport): string {
  const broken = r.verdicts.filter((v) => v.actual === 'violated').length;
  const status = r.interrupted ? pc.yellow('interrupted') : r.matches ? pc.green('as expected') : pc.red('NOT as expected');
  return `${r.model} --variant ${r.variant}: ${broken} of ${r.verdicts.length} properties broken, ${status}\n`;
}

/** The review's files under `dir`, by path: its trace files (ITF and text), then the page. */
export function reviewFiles(dir: string, groups: readonly ReviewGroup[], version: string): Map<string, string> {
  const files = traceFiles(join(dir, TRACES), groups.flatMap((g) => g.results), version, true);
  files.set(join(dir, 'review.md'), reviewMarkdown(groups, { version, runs: DEFAULT_RUNS, seed: DEFAULT_SEED, traces: TRACES }));
  return files;
}

/**
 * Removes the trace files a previous review of these models wrote and this one
 * did not (a property a variant no longer breaks); no other file is touched.
 */
function removeStaleTraces(dir: string, groups: readonly ReviewGroup[], written: ReadonlyMap<string, string>): void {
  if (!existsSync(dir)) return;
  const ours = new Set(
    groups.flatMap(({ model, results }) =>
      results.flatMap(({ variant: v }) =>
        propertiesOf(v).flatMap((p) => [traceFileName(model.name, v.name, p.id), traceFileName(model.name, v.name, p.id, 'txt')]),
      ),
    ),
  );
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    // A FIFO, folder or link of that name is the user's, not a file a review wrote.
    if (ours.has(name) && !written.has(path) && lstatSync(path).isFile()) rmSync(path);
  }
}

export interface ReviewFlags extends Omit<OutputFlags, 'out'> {
  dir: string;
  /** Where to write the page to step through (index.html), if anywhere. */
  html?: string;
  /** Variants checked at once, on worker threads (one per core when absent). */
  jobs?: number;
}

/** What the arguments name, each once: built-in models and users' modules; every built-in model when none is named. */
async function targetsOf(args: readonly string[], builtIns: readonly AnyModel[]): Promise<Target[]> {
  if (args.length === 0) return builtIns.map(targetOf);
  const targets: Target[] = [];
  for (const arg of new Set(args)) targets.push(...(await targetsNamed(builtIns, arg)));
  return targets;
}

/**
 * Checks and writes the review. Interrupted (Ctrl-C), it says what it found
 * but writes nothing: a page with half its verdicts unknown would replace a
 * whole one.
 */
export async function review(args: readonly string[], flags: ReviewFlags, version: string, builtIns: readonly AnyModel[]): Promise<number> {
  const targets = await targetsOf(args, builtIns);
  checkFileIn('--out', flags.dir, 'review.md');
  checkWritableDir('--out', join(flags.dir, TRACES));
  if (flags.html !== undefined) checkFileIn('--html', flags.html, PAGE);
  checkOutputs(flags);
  const started = performance.now();
  const signal = stopOnCtrlC();
  // Each variant's line as soon as it is checked (with --json, the document at the end); on a terminal, a status line for the one running.
  const watching = process.stderr.isTTY && !flags.json;
  const groups = await reviewChecks(targets, signal, flags.jobs, {
    onReport: (r) => {
      statusLine.clear();
      if (!flags.json) process.stdout.write(summaryLine(r));
    },
    onProgress: (line) => watching && statusLine.show(line),
  });
  statusLine.clear();
  const results = groups.flatMap((g) => g.results);
  if (signal.aborted) {
    process.stderr.write(`lifecheck: interrupted; nothing written (the review is written whole or not at all)\n`);
    return results.every((r) => r.report.matches) ? EXIT_INCOMPLETE : 1;
  }
  const files = reviewFiles(flags.dir, groups, version);
  const traces = files.size - 1;
  if (flags.html !== undefined) files.set(join(flags.html, PAGE), reviewHtml(groups, { version, runs: DEFAULT_RUNS, seed: DEFAULT_SEED }));
  writeFiles(files);
  removeStaleTraces(join(flags.dir, TRACES), groups, files);
  const page = flags.html === undefined ? '' : ` and ${join(flags.html, PAGE)}`;
  if (!flags.json) process.stdout.write(`wrote ${join(flags.dir, 'review.md')} and ${traces} trace files${page}\n`);
  // With --json, the checks' JSON document, as `check --json` prints it.
  return writeOutputs(results, flags, { version, durationMs: Math.round(performance.now() - started) });
}

/** `[MODULE] MODEL.MACHINE`: the user's module, when one is given first, and the machine's name. */
function diagramArgs(args: readonly string[]): { module?: string; name: string } {
  const [first, second, ...more] = args;
  if (first !== undefined && second === undefined && !looksLikePath(first)) return { name: first };
  if (first !== undefined && second !== undefined && looksLikePath(first) && more.length === 0) return { module: first, name: second };
  throw new UsageError(`diagram takes MODEL.MACHINE, or a path to a .ts module and then MODEL.MACHINE; got '${args.join(' ')}'`);
}

/** What a module defines of the model named `name`; none is a UsageError naming the models it does define. */
function ofModel(targets: readonly Target[], name: string, module: string): Target[] {
  const found = targets.filter((t) => t.model.name === name);
  if (found.length > 0) return found;
  const defined = [...new Set(targets.map((t) => t.model.name))];
  throw new UsageError(`'${module}' defines no model '${name}'; it defines ${defined.join(', ')}`);
}

/** A machine drawn: which model, variant and machine, its Mermaid diagram, and its transitions as data. */
export interface Drawn {
  readonly model: string;
  readonly variant: string;
  readonly machine: string;
  readonly mermaid: string;
  readonly transitions: readonly Edge[];
}

/** `lifecheck diagram [MODULE] MODEL.MACHINE [--variant V]`: the machine as a Mermaid state diagram. */

export async function diagram(args: readonly string[], variantName: string | undefined, builtIns: readonly AnyModel[]): Promise<Drawn> {
  const { module, name } = diagramArgs(args);
  const dot = name.lastIndexOf('.');
  const modelName = dot < 0 ? name : name.slice(0, dot);
  const machineName = dot < 0 ? undefined : name.slice(dot + 1);
  const targets = module === undefined ? [builtInTarget(builtIns, modelName)] : ofModel(await loadModule(module), modelName, module);
  const machinesOf = (v: AnyVariant) => v.model.machines?.(v.config) ?? {};
  // Without --variant, the first variant that runs the machine.
  const candidates = pickVariants(targets, variantName);
  const variant = candidates.find((v) => machineName !== undefined && Object.hasOwn(machinesOf(v), machineName));
  if (!variant) {
    const known = [...new Set(candidates.flatMap((v) => Object.keys(machinesOf(v))))].map((m) => `${modelName}.${m}`);
    const where = variantName === undefined ? `model '${modelName}'` : `variant '${variantName}' of model '${modelName}'`;
    const what = machineName === undefined ? `'${name}' names no machine` : `${where} has no machine '${machineName}'`;
    throw new UsageError(`${what}; known: ${known.join(', ') || 'none'} (give MODEL.MACHINE)`);
  }
  const { machine } = machinesOf(variant)[machineName!]!;
  return { model: modelName, variant: variant.name, machine: machineName!, mermaid: stateDiagram(machine), transitions: machineEdges(machine) };
}
