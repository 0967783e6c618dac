/** Test helper: a model's variant by name, failing loudly when a rename leaves a test behind. */
import type { BoundVariant, Model } from 'lifecheck';

export function variantOf<W, C>(model: Model<W, C>, name: string): BoundVariant<W, C> {
  const v = model.variants.find((x) => x.name === name);
  if (!v) throw new Error(`no ${model.name} variant '${name}'; known: ${model.variants.map((x) => x.name).join(', ')}`);
  return v;
}
