/**
 * `npm run power`: how well the random explorer finds what each built-in
 * variant is expected to break, at the variant's default bounds. For every
 * expected violation, the schedules the random explorer needed to find it,
 * over several seeds (median and max, and in how many seeds it was found
 * within the budget), beside the exhaustive search's verdict, so the
 * violations only the exhaustive search finds are named. Figures only:
 * nothing here passes or fails (the targets are issue 18's).
 *
 *   npm run power                 10 seeds, 10,000 schedules each
 *   npm run power -- --quick      3 seeds, 2,000 schedules
 *   npm run power -- --model ioasid
 */
import { parseArgs } from 'node:util';
import { checkVariant, type AnyVariant } from '../src/index.ts';
import { builtInModels } from '../models/index.ts';

const { values } = parseArgs({ options: { quick: { type: 'boolean' }, model: { type: 'string' } } });
const seeds = values.quick ? 3 : 10;
const budget = values.quick ? 2_000 : 10_000;

/** The schedules each seed needed to find `property` (undefined: not within the budget). */
async function needed(v: AnyVariant, properties: readonly string[]): Promise<Map<string, (number | undefined)[]>> {
  const found = new Map(properties.map((p) => [p, [] as (number | undefined)[]]));
  for (let seed = 1; seed <= seeds; seed++) {
    const r = await checkVariant(v, { bounds: v.model.defaults, runs: budget, seed, properties: [...properties] });
    for (const verdict of r.verdicts) found.get(verdict.property)!.push(verdict.actual === 'violated' ? verdict.runs : undefined);
  }
  return found;
}

const median = (xs: readonly number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? undefined : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const pad = (s: string, n: number) => s.padEnd(n);

async function main(): Promise<void> {
  console.log(`random explorer (swarm, the default) at each variant's default bounds: ${seeds} seeds, ${budget.toLocaleString('en-US')} schedules each`);
  console.log(`target (issue 18): median <= 100 and found in every seed\n`);
  console.log(`${pad('model/variant', 42)} ${pad('property', 32)} ${pad('median', 8)} ${pad('max', 8)} ${pad('found', 7)} exhaustive`);
  const onlyExhaustive: string[] = [];
  for (const model of builtInModels.filter((m) => !values.model || m.name === values.model)) {
    for (const v of model.variants) {
      const exhaustive = await checkVariant(v, { bounds: model.defaults, runs: 0, seed: 42, exhaustive: {} });
      const broken = exhaustive.verdicts.filter((x) => x.actual === 'violated').map((x) => x.property);
      const expected = Object.entries(v.expect).flatMap(([p, e]) => (e === 'violated' ? [p] : []));
      const properties = [...new Set([...expected, ...broken])];
      if (properties.length === 0) continue;
      const found = await needed(v, properties);
      for (const p of properties) {
        const runs = found.get(p)!;
        const hits = runs.filter((n): n is number => n !== undefined);
        const all = hits.length === seeds;
        const met = all && (median(hits) ?? Infinity) <= 100;
        if (hits.length === 0 && broken.includes(p)) onlyExhaustive.push(`${model.name}/${v.name} ${p}`);
        const cells = [median(hits)?.toString() ?? '-', hits.length ? Math.max(...hits).toString() : '-', `${hits.length}/${seeds}`];
        const verdict = broken.includes(p) ? 'violated' : exhaustive.complete ? 'holds' : 'unknown';
        console.log(`${pad(`${model.name}/${v.name}`, 42)} ${pad(p, 32)} ${pad(cells[0]!, 8)} ${pad(cells[1]!, 8)} ${pad(cells[2]!, 7)} ${verdict}${met ? '' : '  (short of the target)'}`);
      }
    }
  }
  console.log(`\nfound by the exhaustive search only (no seed found them): ${onlyExhaustive.length ? '' : 'none'}`);
  for (const line of onlyExhaustive) console.log(`  ${line}`);
}

await main();
