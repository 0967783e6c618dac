// @vitest-environment jsdom
/**
 * The Mermaid that lifecheck writes is Mermaid: every built-in model's
 * counterexample, as a sequence diagram, parses with the mermaid package
 * itself (in a DOM, which mermaid needs), and so must what GitHub renders.
 */
import mermaid from 'mermaid';
import { describe, expect, it } from 'vitest';
import { checkVariant, mermaidTrace, type AnyVariant, type Bounds } from 'lifecheck';
import { ioasid, ioasidBench, iommufd } from 'lifecheck/models';
import { variantOf } from '../helpers/variants.ts';

/** iommufd's race of 99f98a7c0d69, searched exhaustively (its default scenario's search takes minutes). */
const RACE: Bounds = { threads: 2, ops: 2, ids: { min: 1, max: 2 }, only: { calls: ['iommufd_device_bind', 'iommufd_device_unbind', 'IOMMU_DESTROY'] } };

// The ioasid message names `1#1`, which Mermaid would read as markup unescaped.
const cases: [string, AnyVariant, Bounds, string][] = [
  ['ioasid series', variantOf(ioasid, 'series'), ioasid.defaults, 'no-use-after-free'],
  ['ioasid-bench bench-buggy', variantOf(ioasidBench, 'bench-buggy'), { threads: 2, ops: 3, ids: { min: 1, max: 2 } }, 'no-use-after-free'],
  ['iommufd v6.2-rwsem', variantOf(iommufd, 'v6.2-rwsem'), RACE, 'kernel-destroy-completes'],
];

describe('mermaidTrace output parses as Mermaid', () => {
  it.each(cases)('%s', async (_name, variant, bounds, property) => {
    const exhaustive = variant.model.search === 'exhaustive' ? { exhaustive: {} } : {};
    const cx = (await checkVariant(variant, { bounds, runs: 10_000, seed: 42, properties: [property], ...exhaustive })).verdicts[0]!.counterexample!;
    const text = mermaidTrace(cx.trace, variant.model.present, variant.config, cx.violation);
    await expect(mermaid.parse(text)).resolves.toMatchObject({ diagramType: 'sequence' });
  });

  it('and the parser is not a rubber stamp: a broken diagram is refused', async () => {
    await expect(mermaid.parse('sequenceDiagram\n    T0->>: nothing to point at\n')).rejects.toThrow(/Parse error/);
  });
});
