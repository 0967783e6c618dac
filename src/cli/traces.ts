/**
 * Trace files on the command line: `check --out` writes them, `replay` runs
 * one again, `show` renders one. A trace file names its model, variant,
 * property and bounds; every mismatch with what exists is one UsageError.
 */
import { dirname, join, relative, resolve } from 'node:path';
import pc from 'picocolors';
import type { VariantReport } from '../check.ts';
import type { AnyModel, AnyVariant, Bounds, System } from '../engine/model.ts';
import type { Trace, Violation } from '../engine/run.ts';
import { builtInTarget, loadModule, pickVariants, UsageError } from '../registry.ts';
import { traceJson } from '../report/json.ts';
import { differences, worldVars } from '../trace/changes.ts';
import { readTraceFile, type TraceFile } from '../trace/file.ts';
import { itfText, toItf, traceFileName, typedStates, type TraceOrigin } from '../trace/itf.ts';
import { markdownTrace } from '../trace/markdown.ts';
import { mermaidTrace } from '../trace/mermaid.ts';
import { replay, sameStep, type Replay } from '../trace/replay.ts';
import { fastCheckReproducer, vitestReproducer, type ReproducerInput } from '../trace/reproducer.ts';
import { renderTrace, traceRows } from '../trace/text.ts';
import { checkBounds, checkOnly, checkProperties } from './validate.ts';

/** Where `check` found a variant: a user's module (its path as given), or the built-in registry. */
export interface Written {
  readonly variant: AnyVariant;
  readonly report: VariantReport;
  readonly module?: string;
}

/**
 * Each counterexample of `results` as an ITF file in `dir`, by path; with
 * `text`, its text rendering beside it (`.txt`), for pages that link to both.
 */
export function traceFiles(dir: string, results: readonly Written[], version: string, text = false): Map<string, string> {
  const files = new Map<string, string>();
  for (const { variant, report, module } of results) {
    for (const v of report.verdicts) {
      const cx = v.counterexample;
      if (!cx) continue;
      const name = (ext: 'itf.json' | 'txt') => join(dir, traceFileName(report.model, report.variant, v.property, ext));
      const origin: TraceOrigin = {
        version,
        model: report.model,
        variant: report.variant,
        property: v.property,
        ...(module ? { module: relative(resolve(dir), resolve(module)) } : {}),
        bounds: report.bounds,
        explorer: cx.explorer,
        ...(cx.explorer === 'random'
          ? { seed: cx.seed, path: cx.path, ...(cx.scheduler !== 'portfolio' ? { scheduler: cx.scheduler } : {}), ...(cx.depth !== undefined ? { depth: cx.depth } : {}) }
          : { actions: actionsOf(cx.trace, variant.model.system(variant.config, report.bounds)), symmetry: Boolean(report.search?.symmetry) }),
        violation: cx.violation,
      };
      const { present } = variant.model;
      files.set(name('itf.json'), itfText(toItf(cx.trace, present, variant.config, origin)));
      if (text) files.set(name('txt'), renderTrace(cx.trace, present, variant.config, cx.violation) + '\n');
    }
  }
  return files;
}

/** Each step's index among the steps enabled before it: the exhaustive explorer's path. */
function actionsOf<W>(trace: Trace<W>, system: System<W>): number[] {
  let world = trace.init;
  return trace.steps.map(({ step, world: next }) => {
    const k = system.enabled(world).findIndex((s) => sameStep(s, step));
    world = next;
    return k;
  });
}

/** A trace file with the variant it names, checked against what exists. */
interface Loaded {
  readonly file: TraceFile;
  readonly variant: AnyVariant;
  readonly bounds: Bounds;
}

/** Reads a trace file and finds its variant: in the module it names, or among `builtIns`. */
async function load(path: string, builtIns: readonly AnyModel[]): Promise<Loaded> {
  const file = readTraceFile(path);
  const { origin } = file;
  try {
    const targets = origin.module ? await loadModule(resolve(dirname(path), origin.module)) : [builtInTarget(builtIns, origin.model)];
    const ofModel = targets.filter((t) => t.model.name === origin.model);
    if (ofModel.length === 0) throw new UsageError(`its module defines no model '${origin.model}'`);
    const [variant] = pickVariants(ofModel, origin.variant);
    checkProperties(variant!.model, [origin.property]);
    checkBounds(variant!.model, origin.bounds, '#meta.bounds');
    checkOnly(variant!, origin.bounds.only, '#meta.bounds.only:');
    return { file, variant: variant!, bounds: origin.bounds };
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`${path}: ${e.message}`);
    throw e;
  }
}

/** Replays a loaded trace; a step that does not fit is bad input. */
function rerun(loaded: Loaded): Replay<unknown> {
  const { file, variant, bounds } = loaded;
  const result = replay(variant, bounds, file.steps, file.origin.property);
  if (result.stuck) {
    const { at, why } = result.stuck;
    throw new UsageError(`${file.path}: step ${at} does not fit variant '${variant.name}' of model '${variant.model.name}': ${why}`);
  }
  return result;
}

/** Notes on how the replay differs from the file, beyond its verdict. */
function drift(loaded: Loaded, result: Replay<unknown>): string[] {
  const notes = result.changedReplies.map(({ at, recorded, now }) => `step ${at} now replies ${now.text} (the trace recorded ${recorded.text})`);
  const { present } = loaded.variant.model;
  // The replayed worlds as the file would hold them: typed over the whole replay, as `toItf` types a trace.
  const replayed = typedStates([result.trace.init, ...result.trace.steps.map((s) => s.world)].map((w) => worldVars(present, w))).states;
  const state = replayed.findIndex((vars, i) => {
    const recorded = loaded.file.states[i];
    return recorded === undefined || Object.keys(recorded).some((v) => differences(vars[v], recorded[v]).length > 0);
  });
  if (state >= 0) notes.push(`the world ${state === 0 ? 'at the start' : `after step ${state}`} differs from the one the trace recorded`);
  return notes;
}

export interface ReplayFlags {
  json?: boolean;
}

/** `lifecheck replay FILE`: 1 when the property still breaks, 0 when the trace no longer fails. */
export async function replayFile(path: string, flags: ReplayFlags, builtIns: readonly AnyModel[]): Promise<number> {
  const loaded = await load(path, builtIns);
  const result = rerun(loaded);
  const { origin } = loaded.file;
  const recordedAt = origin.violation?.at ?? loaded.file.steps.length;
  const v = result.violation;
  const notes = drift(loaded, result);
  if (flags.json) {
    const status = v ? 'fails' : 'passes';
    const { model, variant, property } = origin;
    const body = { file: path, model, variant, property, status, at: v?.at ?? null, recordedAt, violation: v ?? null, notes };
    process.stdout.write(JSON.stringify(body, null, 2) + '\n');
    return v ? 1 : 0;
  }
  const steps = loaded.file.steps.length;
  const head = `${path}: ${origin.model} --variant ${origin.variant}, ${steps} step${steps === 1 ? '' : 's'}, checking ${origin.property}`;
  const verdict = !v
    ? pc.green(`✓ no longer fails: all ${steps} steps replay and ${origin.property} holds (${origin.violation ? `the trace broke it at step ${recordedAt}` : 'the trace records no violation'})`)
    : v.at === recordedAt
      ? pc.red(`✗ still fails: ${origin.property} breaks at step ${v.at}, as the trace recorded`)
      : pc.red(`✗ still fails: ${origin.property} breaks at step ${v.at} (the trace recorded step ${recordedAt})`);
  const { model, config } = loaded.variant;
  const lines = [head, `  ${verdict}`, ...notes.map((n) => pc.yellow(`  note: ${n}`))];
  if (v) lines.push('', renderTrace(result.trace, model.present, config, v, { width: 76 }).replace(/^(?=.)/gm, '    '));
  process.stdout.write(lines.join('\n') + '\n');
  return v ? 1 : 0;
}

export const FORMATS = ['text', 'markdown', 'mermaid', 'json', 'vitest', 'fast-check'] as const;
export type Format = (typeof FORMATS)[number];

export interface ShowFlags {
  format: Format;
  changes?: boolean;
}

/** `lifecheck show FILE`: the trace in one of `FORMATS`. */
export async function showFile(path: string, flags: ShowFlags, builtIns: readonly AnyModel[]): Promise<number> {
  if (flags.changes && flags.format !== 'text') throw new UsageError('--changes applies to --format text only');
  const loaded = await load(path, builtIns);
  const { origin } = loaded.file;
  if (flags.format === 'fast-check' && (origin.seed === undefined || origin.path === undefined)) {
    const from = origin.explorer ? `it came from the ${origin.explorer} explorer` : 'it names no explorer';
    throw new UsageError(`${path}: the trace has no seed and path (${from}); use --format vitest`);
  }
  const result = rerun(loaded);
  // Render the violation the trace records: where the design no longer breaks it, say so and render the steps.
  const violation = result.violation ?? origin.violation;
  if (!result.violation) process.stderr.write(`lifecheck: note: ${path} no longer breaks ${origin.property}; showing its steps as recorded\n`);
  process.stdout.write(render(loaded, result, violation, flags) + '\n');
  return 0;
}

function render(loaded: Loaded, result: Replay<unknown>, violation: Violation | undefined, flags: ShowFlags): string {
  const { model, config } = loaded.variant;
  const { trace } = result;
  const { origin } = loaded.file;
  const title = `${origin.model} --variant ${origin.variant}: ${origin.property}`;
  switch (flags.format) {
    case 'text':
      return `${title}\n\n${renderTrace(trace, model.present, config, violation, { changes: Boolean(flags.changes) })}`;
    case 'markdown':
      return `**${title}**\n\n${markdownTrace(trace, model.present, config, violation)}`;
    case 'mermaid':
      return mermaidTrace(trace, model.present, config, violation);
    case 'json':
      return JSON.stringify({ ...origin, steps: traceJson(trace, model.present, config), text: renderTrace(trace, model.present, config, violation) }, null, 2);
    case 'vitest':
    case 'fast-check': {
      if (!violation) throw new UsageError(`${loaded.file.path}: the trace records no violation and breaks nothing now; there is no bug to pin`);
      const input = { ...reproducerInput(loaded, trace, violation), fixed: !result.violation };
      return flags.format === 'vitest' ? vitestReproducer(input) : fastCheckReproducer({ ...input, seed: origin.seed!, path: origin.path!, scheduler: origin.scheduler, depth: origin.depth });
    }
  }
}

function reproducerInput(loaded: Loaded, trace: Trace<unknown>, violation: Violation): ReproducerInput {
  const { model, config } = loaded.variant;
  const { origin, path } = loaded.file;
  const rows = traceRows(trace, model.present, config);
  // The module as seen from the folder lifecheck runs in; the reproducer says so, for the user to adjust.
  const module = origin.module && `./${relative('.', resolve(dirname(path), origin.module))}`;
  return {
    model: origin.model,
    variant: origin.variant,
    property: origin.property,
    bounds: loaded.bounds,
    ...(module ? { module } : {}),
    steps: trace.steps.map(({ step }, i) => ({ ...step, shown: `${model.present.thread(step.thread, trace.init)}: ${rows[i]!.call}` })),
    violation,
    from: path,
  };
}
