/**
 * Every built-in variant of the built-in models checked by sampling, by the
 * random explorer at its model's default bounds (seed 42): it breaks exactly
 * the properties it expects to break and keeps the rest. This is what
 * `npm start` reports for them. (iommufd's expectations are those of its
 * exhaustive search, minutes long at the default bounds: test/properties/iommufd.test.ts
 * checks each finding on a narrowed scenario.)
 */
import { describe, expect, it } from 'vitest';
import { checkVariant, type AnyModel } from 'lifecheck';
import { ioasid } from 'lifecheck/models';

const models: readonly AnyModel[] = [ioasid];

describe.each(models.flatMap((m) => m.variants.map((v) => [`${m.name} ${v.name}`, v] as const)))('%s', (_name, variant) => {
  it('has exactly its expected verdicts', async () => {
    const report = await checkVariant(variant, { bounds: variant.model.defaults, runs: 10_000, seed: 42 });
    const verdicts = Object.fromEntries(report.verdicts.map((v) => [v.property, v.actual]));
    const expected = Object.fromEntries(report.verdicts.map((v) => [v.property, v.expected]));
    expect(verdicts).toEqual(expected);
  });
});
