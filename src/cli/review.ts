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
import { builtInModels, builtInTarget, findModel, pickVariants, UsageError } from '../registry.ts';
import { stateDiagram } from '../report/diagram.ts';
import { reviewMarkdown, type Reviewed } from '../report/review.ts';
import { checkFileIn, checkWritableDir, writeFiles } from '../report/write.ts';
import { DEFAULT_RUNS, DEFAULT_SEED } from './options.ts';
import { traceFileName } from '../trace/itf.ts';
import { checkOutputs, writeOutputs, type OutputFlags } from './outputs.ts';
import { traceFiles } from './traces.ts';

/** The review's trace files live here, relative to the page. */
const TRACES = 'traces';

export interface ReviewGroup {
  readonly model: AnyModel;
  readonly results: readonly Reviewed[];
}

/** Checks every variant of `models` at their defaults, with the default runs and seed. */
export function reviewChecks(models: readonly AnyModel[]): ReviewGroup[] {
  return models.map((model) => ({
    model,
    results: model.variants.map((variant) => ({
      variant,
      report: checkVariant(variant, { bounds: model.defaults, runs: DEFAULT_RUNS, seed: DEFAULT_SEED }),
    })),
  }));
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
function modelsNamed(names: readonly string[]): AnyModel[] {
  return names.length === 0 ? [...builtInModels] : [...new Set(names)].map((name) => findModel(name, false));
}

export function review(names: readonly string[], flags: ReviewFlags, version: string): number {
  const models = modelsNamed(names);
  checkFileIn('--out', flags.dir, 'review.md');
  checkWritableDir('--out', join(flags.dir, TRACES));
  checkOutputs(flags);
  const started = performance.now();
  const groups = reviewChecks(models);
  const files = reviewFiles(flags.dir, groups, version);
  writeFiles(files);
  removeStaleTraces(join(flags.dir, TRACES), groups, files);
  const results = groups.flatMap((g) => g.results);
  for (const { report: r } of results) {
    const broken = r.verdicts.filter((v) => v.actual === 'violated').length;
    const status = r.matches ? pc.green('as expected') : pc.red('NOT as expected');
    process.stdout.write(`${r.model} --variant ${r.variant}: ${broken} of ${r.verdicts.length} properties broken, ${status}\n`);
  }
  process.stdout.write(`wrote ${join(flags.dir, 'review.md')} and ${files.size - 1} trace files\n`);
  return writeOutputs(results, flags, { version, durationMs: Math.round(performance.now() - started) });
}

/** `lifecheck diagram MODEL.MACHINE [--variant V]`: the machine as a Mermaid state diagram. */
export function diagram(name: string, variantName: string | undefined): string {
  const dot = name.lastIndexOf('.');
  const model = findModel(dot < 0 ? name : name.slice(0, dot), false);
  const machineName = dot < 0 ? undefined : name.slice(dot + 1);
  const machinesOf = (v: AnyVariant) => model.machines?.(v.config) ?? {};
  // Without --variant, the first variant that runs the machine.
  const candidates = variantName === undefined ? model.variants : pickVariants([builtInTarget(model.name)], variantName);
  const variant = candidates.find((v) => machineName !== undefined && Object.hasOwn(machinesOf(v), machineName));
  if (!variant) {
    const known = [...new Set(candidates.flatMap((v) => Object.keys(machinesOf(v))))].map((m) => `${model.name}.${m}`);
    const where = variantName === undefined ? `model '${model.name}'` : `variant '${variantName}' of model '${model.name}'`;
    const what = machineName === undefined ? `'${name}' names no machine` : `${where} has no machine '${machineName}'`;
    throw new UsageError(`${what}; known: ${known.join(', ') || 'none'} (give MODEL.MACHINE)`);
  }
  return stateDiagram(machinesOf(variant)[machineName!]!.machine);
}
