/**
 * The benchmark model's three invariants (shared/anchors/README.md I1-I3),
 * each broken by one design and kept by another, proved by the exhaustive
 * explorer at 2 threads x 3 ops. I2 and I3 hold in both built-in variants, so
 * the designs that break them are patched systems built with the public API.
 */
import { describe, expect, it } from 'vitest';
import { checkVariant, defineModel, renderTrace, type AnyVariant, type Bounds } from 'lifecheck';
import { ioasidBench, type BenchConfig, type BenchWorld } from 'lifecheck/models';
import { held, slotOf } from '../../models/ioasid-bench/world.ts';
import { variantOf } from '../helpers/variants.ts';

const bounds: Bounds = { threads: 2, ops: 3, ids: { min: 1, max: 2 } };
const builtIn = (name: string) => variantOf(ioasidBench, name);

/** A one-variant model sharing ioasid-bench's properties and presenter, with its own system. */
function patched(name: string, config: BenchConfig, property: string, system: typeof ioasidBench.system): AnyVariant {
  const model = defineModel<BenchWorld, BenchConfig>({
    ...ioasidBench,
    name: `ioasid-bench-${name}`,
    title: `ioasid-bench patched: ${name}`,
    source: 'test/properties/ioasid-bench.test.ts',
    system,
    variants: () => [{ name, title: name, source: 'test', config, expect: { [property]: 'violated' } }],
  });
  return model.variants[0]!;
}

/** A get that bumps the refcount but forgets to count the caller's reference. */
const getForgetsHeld = patched('get-forgets-held', { findTakesRef: true }, 'refcount-accounting', (config, b) => {
  const inner = ioasidBench.system(config, b);
  return {
    ...inner,
    apply(world, step) {
      const out = inner.apply(world, step);
      if (step.op !== 'get' || !out.reply.ok) return out;
      const y = out.world.layout;
      const cells = out.world.cells.slice();
      cells[held(y, step.thread, slotOf(y, step.args[0] as number))]!--;
      return { world: { layout: y, cells }, reply: out.reply };
    },
  };
});

/** The design counts found pointers as references, but its find takes none: alloc reuses an id someone found. */
const findWithoutRef = patched('find-without-ref', { findTakesRef: true }, 'no-reuse-while-referenced', (_, b) =>
  ioasidBench.system({ findTakesRef: false }, b),
);

const check = async (v: AnyVariant, property: string) =>
  await checkVariant(v, { bounds, runs: 0, seed: 42, properties: [property], exhaustive: {} });

describe.each([
  ['no-use-after-free', builtIn('bench-buggy'), 4, builtIn('fixed')],
  ['no-reuse-while-referenced', findWithoutRef, 4, builtIn('bench-buggy')],
  ['refcount-accounting', getForgetsHeld, 2, builtIn('fixed')],
] as const)('%s', (property, breaks, shortest, keeps) => {
  it(`is broken by ${breaks.name}, with a shortest counterexample of ${shortest} steps that ends at the violation`, async () => {
    const r = await check(breaks, property);
    expect(r.complete).toBe(true);
    const v = r.verdicts[0]!;
    expect(v).toMatchObject({ property, actual: 'violated', matches: true });
    const cx = v.counterexample!;
    expect(cx.explorer).toBe('exhaustive');
    expect(cx.violation.property).toBe(property);
    expect(cx.trace.steps).toHaveLength(shortest);
    expect(cx.violation.at).toBe(shortest);
  });

  it(`holds in every reachable world of ${keeps.name}`, async () => {
    const r = await check(keeps, property);
    expect(r.complete).toBe(true);
    expect(r.verdicts[0]).toMatchObject({ property, actual: 'holds', matches: true });
  });
});

describe('the bench-buggy counterexample', () => {
  it('renders in T0/T1 columns with the use-after-free marked', async () => {
    const cx = (await check(builtIn('bench-buggy'), 'no-use-after-free')).verdicts[0]!.counterexample!;
    const text = renderTrace(cx.trace, ioasidBench.present, { findTakesRef: false }, cx.violation);
    expect(text.split('\n')[0]).toMatch(/^\s+T0\s+T1\b/);
    expect(text).toMatch(/use\(1\) = used .*<-- no-use-after-free/);
    expect(text).toContain('no-use-after-free at step 4: T1 uses ioasid 1 (gen 1) after it was freed');
  });
});
