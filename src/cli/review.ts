/**
 * `lifecheck review` and `lifecheck diagram`: the design review page (every
 * variant of the named models, fixed seed, no timings) with its trace files,
 * and one machine's state diagram.
 */
import { existsSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pc from 'picocolors';
import { checkVariant } from '../check.ts';
import type { AnyModel, AnyVariant } from '../engine/model.ts';
import { builtInTarget, findModel, pickVariants, UsageError } from '../registry.ts';
import { stateDiagram } from '../report/diagram.ts';
import { reviewMarkdown, type Reviewed } from '../report/review.ts';
import { checkFileIn, checkWritableDir, writeFiles } from '../report/write.ts';
import { DEFAULT_RUNS, DEFAULT_SEED } from './options.ts';
import { traceFileName } from '../trace/itf.ts';
import { stopOnCtrlC } from './interrupt.ts';
import { checkOutputs, EXIT_INCOMPLETE, writeOutputs, type OutputFlags } from './outputs.ts';
import { traceFiles } from './traces.ts';

/** The review's trace files live here, relative to the page. */
const TRACES = 'traces';

export interface ReviewGroup {
  readonly model: AnyModel;
  readonly results: readonly Reviewed[];
}

/** Checks every variant of `models` at their defaults, with the default runs and seed, until `signal` aborts. */
export async function reviewChecks(models: readonly AnyModel[], signal?: AbortSignal): Promise<ReviewGroup[]> {
  const groups: ReviewGroup[] = [];
  for (const model of models) {
    const results: Reviewed[] = [];
    for (const variant of model.variants) {
      if (signal?.aborted) break;
      results.push({ variant, report: await checkVariant(variant, { bounds: model.defaults, runs: DEFAULT_RUNS, seed: DEFAULT_SEED, ...(signal ? { signal } : {}) }) });
    }
    groups.push({ model, results });
  }
  return groups;
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
    groups.flatMap(({ model }) =>
      model.variants.flatMap((v) =>
        model.properties.flatMap((p) => [traceFileName(model.name, v.name, p.id), traceFileName(model.name, v.name, p.id, 'txt')]),
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
}

/** The models named, each once, or every built-in model. */
function modelsNamed(names: readonly string[], builtIns: readonly AnyModel[]): AnyModel[] {
  return names.length === 0 ? [...builtIns] : [...new Set(names)].map((name) => findModel(builtIns, name, false));
}

/**
 * Checks and writes the review. Interrupted (Ctrl-C), it says what it found
 * but writes nothing: a page with half its verdicts unknown would replace a
 * whole one.
 */
export async function review(names: readonly string[], flags: ReviewFlags, version: string, builtIns: readonly AnyModel[]): Promise<number> {
  const models = modelsNamed(names, builtIns);
  checkFileIn('--out', flags.dir, 'review.md');
  checkWritableDir('--out', join(flags.dir, TRACES));
  checkOutputs(flags);
  const started = performance.now();
  const signal = stopOnCtrlC();
  const groups = await reviewChecks(models, signal);
  const results = groups.flatMap((g) => g.results);
  for (const { report: r } of results) {
    const broken = r.verdicts.filter((v) => v.actual === 'violated').length;
    const status = r.interrupted ? pc.yellow('interrupted') : r.matches ? pc.green('as expected') : pc.red('NOT as expected');
    process.stdout.write(`${r.model} --variant ${r.variant}: ${broken} of ${r.verdicts.length} properties broken, ${status}\n`);
  }
  if (signal.aborted) {
    process.stderr.write(`lifecheck: interrupted; nothing written (the review is written whole or not at all)\n`);
    return results.every((r) => r.report.matches) ? EXIT_INCOMPLETE : 1;
  }
  const files = reviewFiles(flags.dir, groups, version);
  writeFiles(files);
  removeStaleTraces(join(flags.dir, TRACES), groups, files);
  process.stdout.write(`wrote ${join(flags.dir, 'review.md')} and ${files.size - 1} trace files\n`);
  return writeOutputs(results, flags, { version, durationMs: Math.round(performance.now() - started) });
}

/** `lifecheck diagram MODEL.MACHINE [--variant V]`: the machine as a Mermaid state diagram. */
export function diagram(name: string, variantName: string | undefined, builtIns: readonly AnyModel[]): string {
  const dot = name.lastIndexOf('.');
  const model = findModel(builtIns, dot < 0 ? name : name.slice(0, dot), false);
  const machineName = dot < 0 ? undefined : name.slice(dot + 1);
  const machinesOf = (v: AnyVariant) => model.machines?.(v.config) ?? {};
  // Without --variant, the first variant that runs the machine.
  const candidates = variantName === undefined ? model.variants : pickVariants([builtInTarget(builtIns, model.name)], variantName);
  const variant = candidates.find((v) => machineName !== undefined && Object.hasOwn(machinesOf(v), machineName));
  if (!variant) {
    const known = [...new Set(candidates.flatMap((v) => Object.keys(machinesOf(v))))].map((m) => `${model.name}.${m}`);
    const where = variantName === undefined ? `model '${model.name}'` : `variant '${variantName}' of model '${model.name}'`;
    const what = machineName === undefined ? `'${name}' names no machine` : `${where} has no machine '${machineName}'`;
    throw new UsageError(`${what}; known: ${known.join(', ') || 'none'} (give MODEL.MACHINE)`);
  }
  return stateDiagram(machinesOf(variant)[machineName!]!.machine);
}
