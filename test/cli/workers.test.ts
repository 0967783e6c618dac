/**
 * Worker threads started from the TypeScript sources (as under vitest, with
 * no dist/): each loads tsx and the `lifecheck` resolve hook before any
 * model, and checks its variants as this thread does.
 */
import { describe, expect, it } from 'vitest';
import { ioasidBench } from 'lifecheck/models';
import { checkAll, type Job } from '../../src/cli/workers.ts';
import type { VariantReport } from '../../src/check.ts';

const jobs: Job[] = ioasidBench.variants.map((variant) => ({ variant, target: 'ioasid-bench', options: { bounds: { threads: 2, ops: 2, ids: { min: 1, max: 2 } }, runs: 30, seed: 7 } }));

async function reports(threads: number): Promise<VariantReport[]> {
  const all: VariantReport[] = [];
  for await (const r of checkAll(jobs, threads, new AbortController().signal)) all.push(r);
  return all;
}

describe('worker threads from the sources', () => {
  it('check the variants as this thread does', async () => {
    const verdicts = (rs: readonly VariantReport[]) => rs.map((r) => [r.variant, r.verdicts.map((v) => [v.property, v.actual, v.counterexample?.trace.steps.length])]);
    const [here, threads] = [await reports(1), await reports(2)];
    expect(verdicts(threads)).toEqual(verdicts(here));
    expect(here.map((r) => r.variant)).toEqual(['bench-buggy', 'fixed']);
  }, 60_000);
});
