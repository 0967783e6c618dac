/**
 * `npm run bench`: the anchor model (shared/anchors/README.md) explored by
 * lifecheck's exhaustive BFS and, when `spin` is installed, by SPIN on the same
 * configurations, side by side, and one size up with symmetry; then every
 * variant of every built-in model searched exhaustively at its default bounds,
 * its speed as a ratio to the anchor's in the same run, and one variant of
 * each kit model at bounds where its search is long, in turn with the anchor;
 * then each built-in model checked with one thread
 * and with one per core, and one variant's search split over every core, with
 * the speed-ups. Each lifecheck run is the lifecheck command, as a user runs
 * it (compiled JavaScript, one thread), in a process of its own, so its peak
 * RSS is its own. Figures only: nothing here passes or fails.
 *
 *   npm run bench                 all configurations, every variant
 *   npm run bench -- --quick      skip (3,3,4) and (4,2,4), and two variants of each model
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchProperties, builtInModels } from '../models/index.ts';

interface Figures {
  readonly tool: string;
  readonly states: number;
  readonly transitions: number;
  readonly seconds: number;
  readonly peakMB: number;
  readonly bytesPerState?: number;
  /** Time and length of the first counterexample, when the variant has one. */
  readonly firstCx?: { readonly seconds: number; readonly steps: number };
}

type Config = readonly [n: number, k: number, l: number];
const CONFIGS: readonly Config[] = [
  [2, 2, 3],
  [3, 2, 4],
  [3, 3, 4],
];
const VARIANTS = ['bench-buggy', 'fixed'] as const;

const BIN = new URL('../bin/lifecheck.js', import.meta.url).pathname;

/** What `lifecheck check --json` says of a variant, as far as the bench reads it. */
interface Result {
  readonly search: { readonly stats: { states: number; transitions: number; elapsedMs: number; peakRssBytes: number; bytesPerState: number } };
  readonly verdicts: readonly { readonly counterexample?: { readonly afterMs: number; readonly steps: readonly unknown[] } }[];
}

/**
 * One exhaustive check by the lifecheck command, as a user runs it (compiled, on one thread), in a process of its
 * own: its figures, read from its JSON report. Verdicts other than the variant's expected ones (at bounds other than
 * its defaults) are no concern of the bench's.
 */
function lifecheck(args: readonly string[], tool = 'lifecheck'): Figures {
  const r = spawnSync(process.execPath, [BIN, 'check', ...args, '--exhaustive', '--jobs', '1', '--json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0 && r.status !== 1) throw new Error(`lifecheck check ${args.join(' ')} exited ${r.status}:\n${r.stderr}`);
  const [result] = (JSON.parse(r.stdout) as { results: Result[] }).results;
  const { stats } = result!.search;
  const cx = result!.verdicts.find((v) => v.counterexample)?.counterexample;
  return {
    tool,
    states: stats.states,
    transitions: stats.transitions,
    // The search's, as SPIN's rows are pan's.
    seconds: stats.elapsedMs / 1000,
    peakMB: stats.peakRssBytes / 2 ** 20,
    bytesPerState: stats.bytesPerState,
    ...(cx ? { firstCx: { seconds: cx.afterMs / 1000, steps: cx.steps.length } } : {}),
  };
}

/** The anchor at `config`, its invariants as SPIN checks them (pan -A looks for no cycles, so neither does this run). */
const lifecheckAnchor = ([n, k, l]: Config, variant: string, symmetry: boolean) =>
  lifecheck(
    ['ioasid-bench', '--variant', variant, '--threads', String(n), '--ids', String(k), '--ops', String(l), '--property', ...benchProperties.map((p) => p.id), ...(symmetry ? ['--symmetry'] : [])],
    symmetry ? 'lifecheck --symmetry' : 'lifecheck',
  );

/** A built-in variant at its model's default bounds (with `ops` calls per thread, if given), every property. */
const lifecheckVariant = (model: string, variant: string, ops?: number) => lifecheck([model, '--variant', variant, ...(ops === undefined ? [] : ['--ops', String(ops)])]);

const hasSpin = () => spawnSync('spin', ['-V']).status === 0;

/** Runs a command under /usr/bin/time: its output, wall seconds and peak RSS. */
function timed(dir: string, cmd: string, args: string[]) {
  const r = spawnSync('/usr/bin/time', ['-f', '@@time %e %M', cmd, ...args], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 26 });
  const m = /@@time ([\d.]+) (\d+)/.exec(r.stderr);
  return { out: r.stdout, seconds: Number(m?.[1] ?? NaN), peakMB: Number(m?.[2] ?? NaN) / 1024 };
}

function build(dir: string, [n, k, l]: Config, fixed: boolean, bfs: boolean): void {
  const defs = [`-DN=${n}`, `-DK=${k}`, `-DL=${l}`, ...(fixed ? ['-DFIXED'] : []), ...(bfs ? ['-DNOHIDDEN'] : [])];
  for (const [cmd, args] of [
    ['spin', ['-a', ...defs, 'ioasid.pml']],
    ['gcc', ['-O2', '-DSAFETY', '-DNOREDUCE', ...(bfs ? ['-DBFS'] : []), '-o', 'pan', 'pan.c']],
  ] as const) {
    const r = spawnSync(cmd, args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed:\n${r.stderr}`);
  }
}

// pan prints large counts in e-notation (2.77416e+08 transitions), rounded to six figures.
const number = (out: string, re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
const COUNT = String.raw`(\d+(?:\.\d+)?(?:e\+\d+)?)`;

/** SPIN on the same configuration: the whole space (`pan -A`), then the first counterexample by BFS. */
function runSpin(config: Config, variant: string): Figures {
  const dir = mkdtempSync(join(tmpdir(), 'lifecheck-spin-'));
  try {
    copyFileSync(new URL('../../shared/anchors/ioasid.pml', import.meta.url), join(dir, 'ioasid.pml'));
    const fixed = variant === 'fixed';
    build(dir, config, fixed, false);
    // A hash table of 2^w slots: SPIN's own advice is about twice the states.
    const whole = timed(dir, './pan', ['-A', `-w${config[2] * config[0] * config[1] > 24 ? 26 : 22}`]);
    const figures: Figures = {
      tool: 'SPIN',
      states: number(whole.out, new RegExp(`${COUNT} states, stored`)),
      transitions: number(whole.out, new RegExp(`${COUNT} transitions`)) - 1, // SPIN counts the initial state as one
      seconds: whole.seconds,
      peakMB: whole.peakMB,
    };
    if (fixed) return figures;
    build(dir, config, fixed, true);
    const first = timed(dir, './pan', ['-w22']);
    // pan numbers depths from 0: a violation at depth 3 is the 4th step.
    return { ...figures, firstCx: { seconds: first.seconds, steps: number(first.out, /at depth (\d+)/) + 1 } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const fmt = (n: number) => n.toLocaleString('en-US');
const perSecond = (f: Figures) => f.states / Math.max(f.seconds, 1e-3);
const row = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;

function table(config: Config, variant: string, runs: readonly Figures[]): string[] {
  return runs.map((f) =>
    row([
      `(${config})`,
      variant,
      f.tool,
      fmt(f.states),
      fmt(f.transitions),
      f.seconds.toFixed(2),
      fmt(Math.round(perSecond(f))),
      f.peakMB.toFixed(0),
      f.bytesPerState !== undefined ? String(f.bytesPerState) : '',
      f.firstCx ? `${f.firstCx.seconds.toFixed(3)} s, ${f.firstCx.steps} steps` : '—',
    ]),
  );
}

function ratios(runs: readonly Figures[]): string | undefined {
  const spin = runs.find((f) => f.tool === 'SPIN');
  if (!spin) return undefined;
  const parts = runs
    .filter((f) => f !== spin)
    .map((f) => `${f.tool}/SPIN: time ${(f.seconds / spin.seconds).toFixed(2)}×, states ${(f.states / spin.states).toFixed(3)}×`);
  return `  ${parts.join('; ')}`;
}

/** One size up, (4,2,4) fixed with symmetry alone: without it, lifecheck's and SPIN's searches are each minutes long. */
function largerRow(): void {
  const config: Config = [4, 2, 4];
  console.log('\nOne size up, the fixed variant with symmetry alone:\n');
  console.log(row(['N,K,L', 'variant', 'tool', 'states', 'transitions', 'wall s', 'states/s', 'peak MB', 'B/state', 'first counterexample']));
  console.log(row(Array.from({ length: 10 }, () => '---')));
  for (const line of table(config, 'fixed', [lifecheckAnchor(config, 'fixed', true)])) console.log(line);
}

/** Every built-in variant at its default bounds, beside the anchor's speed (`anchor`, states/s). */
function modelTable(quick: boolean, anchor: number, small: Figures | undefined): void {
  console.log(`\nEvery built-in variant, exhaustive at its model's default bounds, every property; speed as a ratio to ioasid-bench (3,2,4) fixed's ${fmt(Math.round(anchor))} states/s:\n`);
  console.log(row(['model', 'variant', 'bounds', 'states', 'transitions', 'wall s', 'states/s', '× anchor', 'peak MB', 'B/state']));
  console.log(row(Array.from({ length: 10 }, () => '---')));
  for (const model of builtInModels) {
    const b = model.defaults;
    for (const v of quick ? model.variants.slice(0, 2) : model.variants) {
      const f = lifecheckVariant(model.name, v.name);
      const cells = [fmt(f.states), fmt(f.transitions), f.seconds.toFixed(2), fmt(Math.round(perSecond(f))), (perSecond(f) / anchor).toFixed(2)];
      console.log(row([model.name, v.name, `(${b.threads},${b.ids.max - b.ids.min + 1},${b.ops})`, ...cells, f.peakMB.toFixed(0), String(f.bytesPerState)]));
    }
  }
  // What a ratio of searches so short says: the anchor's own short search, beside its long one.
  if (small) {
    const at = `ioasid-bench's own (2,2,3) fixed, ${fmt(small.states)} states, ran at ${(perSecond(small) / anchor).toFixed(2)}× its (3,2,4) speed`;
    console.log(`\nA kit model's search at its default bounds is a few thousand to tens of thousands of states long: its time is mostly V8's warm-up and the first meeting of each step and verdict (${at}). ${quick ? 'Without --quick, a later table' : 'The next table'} compares speeds once warm.`);
  }
}

/** How many states a search must store for its speed to be its own, not V8's warm-up's (the anchor's (2,2,3) runs at an eighth of its (3,2,4) speed). */
const LONG = 200_000;

/** How many runs of each long search, each in turn with one of the anchor's, give its ratio (their median). */
const IN_TURN = 3;

/**
 * One variant of each kit model, the one expected to break fewest properties (so most are checked to the end), at
 * the fewest calls per thread above the default, up to 4 more, whose search stores at least `LONG` states: its speed
 * once warm, as the anchor's (3,2,4) row is, beside the default bounds' (mostly V8's warm-up at a few thousand
 * states). A model whose search stays shorter says so. Its ratio to the anchor is the median of `IN_TURN` runs,
 * each beside a run of the anchor's (3,2,4) fixed made just after it: this machine's speed drifts from minute to
 * minute, and the anchor's first row was run minutes before.
 */
function longRows(): void {
  console.log(
    `\nOne variant of each kit model, exhaustive at the fewest calls per thread (ops) that make a search of at least ${fmt(LONG)} states; speed as a ratio to ioasid-bench (3,2,4) fixed's, the median of ${IN_TURN} runs each beside a run of the anchor's (the figures are that run's and its anchor's):\n`,
  );
  console.log(row(['model', 'variant', 'bounds', 'states', 'transitions', 'wall s', 'states/s', 'anchor states/s', '× anchor', 'peak MB', 'B/state']));
  console.log(row(Array.from({ length: 11 }, () => '---')));
  for (const model of builtInModels.filter((m) => m.variants.every((v) => 'calls' in (v.config as object)))) {
    const broken = (v: (typeof model.variants)[number]) => Object.values(v.expect ?? {}).filter((x) => x === 'violated').length;
    const v = model.variants.reduce((best, x) => (broken(x) < broken(best) ? x : best));
    const b = model.defaults;
    for (let ops = b.ops + 1; ops <= b.ops + 4; ops++) {
      const first = lifecheckVariant(model.name, v.name, ops);
      if (first.states < LONG && ops < b.ops + 4) continue;
      const pairs = Array.from({ length: IN_TURN }, (_, i) => {
        const f = i === 0 ? first : lifecheckVariant(model.name, v.name, ops);
        const anchor = perSecond(lifecheckAnchor([3, 2, 4], 'fixed', false));
        return { f, anchor, ratio: perSecond(f) / anchor };
      }).sort((x, y) => x.ratio - y.ratio);
      const { f, anchor, ratio } = pairs[Math.floor(IN_TURN / 2)]!;
      const short = f.states < LONG ? ` (under ${fmt(LONG)})` : '';
      const cells = [`${fmt(f.states)}${short}`, fmt(f.transitions), f.seconds.toFixed(2), fmt(Math.round(perSecond(f))), fmt(Math.round(anchor)), ratio.toFixed(2)];
      console.log(row([model.name, v.name, `(${b.threads},${b.ids.max - b.ids.min + 1},${ops})`, ...cells, f.peakMB.toFixed(0), String(f.bytesPerState)]));
      break;
    }
  }
}

/** The built-in models checked with one thread and with one per core: wall times, the speed-up, and whether the verdicts agree. */
function parallelRows(): void {
  const cores = availableParallelism();
  console.log(`\nThe built-in models' variants one at a time (--jobs 1) and ${cores} at once (--jobs ${cores}, worker threads):\n`);
  console.log(row(['model', 'variants', '--jobs 1 wall s', `--jobs ${cores} wall s`, 'speed-up', 'same verdicts']));
  console.log(row(Array.from({ length: 6 }, () => '---')));
  for (const model of builtInModels) {
    const run = (jobs: number) => {
      const started = performance.now();
      const r = spawnSync(process.execPath, [BIN, 'check', model.name, '--json', '--jobs', String(jobs)], { encoding: 'utf8', maxBuffer: 1 << 26 });
      const seconds = (performance.now() - started) / 1000;
      const doc = JSON.parse(r.stdout) as { results: { verdicts: { property: string; actual: string }[] }[] };
      return { seconds, verdicts: JSON.stringify(doc.results.map((x) => x.verdicts.map((v) => [v.property, v.actual]))) };
    };
    const one = run(1);
    const all = run(cores);
    console.log(row([model.name, String(model.variants.length), one.seconds.toFixed(1), all.seconds.toFixed(1), `${(one.seconds / all.seconds).toFixed(2)}×`, one.verdicts === all.verdicts ? 'yes' : 'NO']));
  }
}

/** One variant's exhaustive search on one thread and split over one per core (`--jobs`): wall times, the speed-up, and whether counts and verdicts agree. */
function splitRows(): void {
  const cores = availableParallelism();
  console.log(`\nOne variant's exhaustive search on one thread (--jobs 1) and split into ${cores} parts (--jobs ${cores}):\n`);
  console.log(row(['model', 'variant', 'states', '--jobs 1 wall s', `--jobs ${cores} wall s`, 'speed-up', 'same counts and verdicts']));
  console.log(row(Array.from({ length: 7 }, () => '---')));
  for (const [model, variant] of [['iommufd', 'finalize-before-fail'], ['ioasid', 'custom-ignores-range']] as const) {
    const run = (jobs: number) => {
      const started = performance.now();
      const r = spawnSync(process.execPath, [BIN, 'check', model, '--variant', variant, '--exhaustive', '--json', '--jobs', String(jobs)], { encoding: 'utf8', maxBuffer: 1 << 26 });
      const seconds = (performance.now() - started) / 1000;
      const [x] = (JSON.parse(r.stdout) as { results: { search: { stats: { states: number; transitions: number } }; verdicts: { property: string; actual: string; counterexample?: { text: string } }[] }[] }).results;
      const said = JSON.stringify([x!.search.stats.states, x!.search.stats.transitions, x!.verdicts.map((v) => [v.property, v.actual, v.counterexample?.text])]);
      return { seconds, states: x!.search.stats.states, said };
    };
    const one = run(1);
    const all = run(cores);
    console.log(row([model, variant, fmt(one.states), one.seconds.toFixed(1), all.seconds.toFixed(1), `${(one.seconds / all.seconds).toFixed(2)}×`, one.said === all.said ? 'yes' : 'NO']));
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' } } });
  const spin = hasSpin();
  if (!spin) console.log('spin is not installed (apt-get install spin): lifecheck figures only\n');
  console.log(row(['N,K,L', 'variant', 'tool', 'states', 'transitions', 'wall s', 'states/s', 'peak MB', 'B/state', 'first counterexample']));
  console.log(row(Array.from({ length: 10 }, () => '---')));
  const notes: string[] = [];
  let anchor = NaN;
  let small: Figures | undefined;
  for (const config of values.quick ? CONFIGS.slice(0, 2) : CONFIGS) {
    for (const variant of VARIANTS) {
      const runs = [lifecheckAnchor(config, variant, false), lifecheckAnchor(config, variant, true)];
      if (config.join() === '3,2,4' && variant === 'fixed') anchor = perSecond(runs[0]!);
      if (config.join() === '2,2,3' && variant === 'fixed') small = runs[0];
      if (spin) runs.push(runSpin(config, variant));
      for (const line of table(config, variant, runs)) console.log(line);
      const r = ratios(runs);
      if (r) notes.push(`(${config}) ${variant}:${r}`);
    }
  }
  if (notes.length) console.log(['', ...notes].join('\n'));
  console.log('\nlifecheck: BFS, shortest counterexample. SPIN: pan -A (whole space, NOREDUCE, -w22, -w26 at (3,3,4)); its first counterexample by BFS (-DBFS).');
  if (!values.quick) largerRow();
  modelTable(Boolean(values.quick), anchor, small);
  if (!values.quick) longRows();
  parallelRows();
  splitRows();
}

await main();
