/**
 * `npm run power`: how well the random explorer finds what each built-in
 * variant is expected to break, at the variant's default bounds. For every
 * expected violation, the schedules each scheduler needed to find it, over
 * several seeds (median, max, and in how many seeds it was found within the
 * budget), beside the exhaustive search's verdict and shortest trace, so the
 * violations only the exhaustive search finds are named, and a random trace
 * longer than the shortest shows. Figures only: nothing here passes or fails
 * (the targets are issue 18's).
 *
 *   npm run power                              10 seeds, 10,000 schedules, every scheduler
 *   npm run power -- --quick                   3 seeds, 2,000 schedules
 *   npm run power -- --model ioasid --scheduler portfolio
 */
import { parseArgs } from 'node:util';
import { checkVariant, SCHEDULERS, type AnyVariant, type Scheduler } from '../src/index.ts';
import { builtInModels } from '../models/index.ts';

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, model: { type: 'string' }, variant: { type: 'string' }, scheduler: { type: 'string', multiple: true } } });
const seeds = values.quick ? 3 : 10;
const budget = values.quick ? 2_000 : 10_000;
const schedulers = (values.scheduler ?? SCHEDULERS) as Scheduler[];
const TARGET = 100;

/** Per property, each seed's schedules to find it (undefined: not within the budget) and its trace's length. */
type Finds = Map<string, { runs: number | undefined; steps: number | undefined }[]>;

async function needed(v: AnyVariant, properties: readonly string[], scheduler: Scheduler): Promise<Finds> {
  const found: Finds = new Map(properties.map((p) => [p, []]));
  for (let seed = 1; seed <= seeds; seed++) {
    const r = await checkVariant(v, { bounds: v.model.defaults, runs: budget, seed, scheduler, properties: [...properties] });
    for (const x of r.verdicts) {
      const hit = x.actual === 'violated';
      found.get(x.property)!.push({ runs: hit ? x.runs : undefined, steps: hit ? x.counterexample?.trace.steps.length : undefined });
    }
  }
  return found;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? undefined : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const defined = <T>(xs: readonly (T | undefined)[]) => xs.filter((x): x is T => x !== undefined);

/** `median/max found` for one scheduler, marked where short of the target. */
function cell(finds: readonly { runs: number | undefined }[]): { text: string; met: boolean } {
  const hits = defined(finds.map((f) => f.runs));
  const m = median(hits);
  const met = hits.length === seeds && (m ?? Infinity) <= TARGET;
  return { text: `${m ?? '-'}/${hits.length ? Math.max(...hits) : '-'} ${hits.length}/${seeds}${met ? '' : '*'}`, met };
}

async function main(): Promise<void> {
  console.log(`random explorer at each variant's default bounds: ${seeds} seeds, ${budget.toLocaleString('en-US')} schedules each`);
  console.log(`each cell: median/max schedules to find it, seeds that found it; * short of the target (median <= ${TARGET}, every seed)`);
  console.log(`steps: the exhaustive search's shortest trace, and the longest random one (after shortening) where longer\n`);
  const width = 22;
  console.log(`${'model/variant property'.padEnd(70)} ${'steps'.padEnd(7)} ${schedulers.map((s) => s.padEnd(width)).join('')}`);
  const onlyExhaustive: string[] = [];
  const shortfalls = new Map<Scheduler, number>(schedulers.map((s) => [s, 0]));
  let rows = 0;
  for (const model of builtInModels.filter((m) => !values.model || m.name === values.model)) {
    for (const v of model.variants.filter((x) => !values.variant || x.name === values.variant)) {
      const exhaustive = await checkVariant(v, { bounds: model.defaults, runs: 0, seed: 42, exhaustive: {} });
      const broken = new Map(exhaustive.verdicts.filter((x) => x.actual === 'violated').map((x) => [x.property, x.counterexample!.trace.steps.length]));
      const expected = Object.entries(v.expect).flatMap(([p, e]) => (e === 'violated' ? [p] : []));
      const properties = [...new Set([...expected, ...broken.keys()])];
      if (properties.length === 0) continue;
      const all = new Map<Scheduler, Finds>();
      for (const s of schedulers) all.set(s, await needed(v, properties, s));
      for (const p of properties) {
        rows++;
        const cells = schedulers.map((s) => {
          const c = cell(all.get(s)!.get(p)!);
          if (!c.met) shortfalls.set(s, shortfalls.get(s)! + 1);
          return c.text.padEnd(width);
        });
        const randomSteps = defined(schedulers.flatMap((s) => all.get(s)!.get(p)!.map((f) => f.steps)));
        const shortest = broken.get(p);
        const longest = randomSteps.length ? Math.max(...randomSteps) : undefined;
        const steps = `${shortest ?? '-'}${longest !== undefined && shortest !== undefined && longest > shortest ? `<${longest}` : ''}`;
        if (randomSteps.length === 0 && shortest !== undefined) onlyExhaustive.push(`${model.name}/${v.name} ${p}`);
        console.log(`${`${model.name}/${v.name} ${p}`.padEnd(70)} ${steps.padEnd(7)} ${cells.join('')}`);
      }
    }
  }
  console.log(`\nshort of the target, of ${rows}: ${schedulers.map((s) => `${s} ${shortfalls.get(s)}`).join(', ')}`);
  console.log(`found by the exhaustive search only (no scheduler, no seed): ${onlyExhaustive.length ? '' : 'none'}`);
  for (const line of onlyExhaustive) console.log(`  ${line}`);
}

await main();
