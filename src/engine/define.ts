/**
 * Helpers to define models and variants: what built-ins and users' own
 * modules call alike. They check the definition once, so a mistake in a
 * user's module is one clear message instead of a failure mid-run.
 */
import type { BoundVariant, Model, Property, Variant } from './model.ts';
import { runEnds } from './run-ends.ts';

/** A definition that cannot be checked as written; its message says what to mend. */
export class DefinitionError extends Error {
  override name = 'DefinitionError';
}

const NAME = /^[a-z0-9][a-z0-9.-]*$/;

function checkName(what: string, name: unknown): void {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new DefinitionError(`${what} name ${JSON.stringify(name)} must be lower-case letters, digits, '.' or '-'`);
  }
}

function checkVariant<W, C>(model: Model<W, C>, v: Variant<C>): void {
  checkName(`variant of model '${model.name}':`, v.name);
  const own = v.properties ?? [];
  checkProperties(`${model.name} --variant ${v.name}`, own);
  const clash = own.find((p) => model.properties.some((q) => q.id === p.id));
  if (clash) throw new DefinitionError(`variant '${v.name}': property '${clash.id}' is already the model's; name yours otherwise`);
  const ids = new Set([...model.properties, ...own].map((p) => p.id));
  for (const [id, verdict] of Object.entries(v.expect ?? {})) {
    if (!ids.has(id)) {
      throw new DefinitionError(
        `variant '${v.name}' expects a verdict for unknown property '${id}'; known: ${[...ids].join(', ')}`,
      );
    }
    if (verdict !== 'holds' && verdict !== 'violated') {
      throw new DefinitionError(`variant '${v.name}': expectation for '${id}' must be 'holds' or 'violated'`);
    }
  }
}

function checkProperties<W, C>(modelName: string, properties: readonly Property<W, C>[]): void {
  const seen = new Set<string>();
  for (const p of properties) {
    checkName(`property of model '${modelName}':`, p.id);
    if (p === runEnds) continue; // a model built from another's properties carries it already
    if (p.kind === 'run') throw new DefinitionError(`model '${modelName}': property '${p.id}' has kind 'run', which only the engine's '${runEnds.id}' has; use 'invariant', 'step' or 'final'`);
    if (p.id === runEnds.id) throw new DefinitionError(`model '${modelName}': '${runEnds.id}' is the engine's own property, which every model has; name yours otherwise`);
    if (seen.has(p.id)) throw new DefinitionError(`model '${modelName}' has property '${p.id}' twice`);
    seen.add(p.id);
  }
}

/** Defines a model; `variants` may use the model's own `variant()` through the callback. */
export function defineModel<W, C>(
  spec: Omit<Model<W, C>, 'variant' | 'variants'> & {
    readonly variants: (model: Model<W, C>) => readonly Variant<C>[];
  },
): Model<W, C> {
  checkName('model', spec.name);
  checkProperties(spec.name, spec.properties);
  const model: Model<W, C> = {
    ...spec,
    // Every model's runs must end, whatever its own properties say.
    properties: [...spec.properties.filter((p) => p !== runEnds), runEnds],
    variants: [],
    variant(v: Variant<C>): BoundVariant<W, C> {
      checkVariant(model, v);
      return { ...v, expect: v.expect ?? {}, model };
    },
  };
  const variants = spec.variants(model).map((v) => model.variant(v));
  const names = new Set<string>();
  for (const v of variants) {
    if (names.has(v.name)) throw new DefinitionError(`model '${spec.name}' has variant '${v.name}' twice`);
    names.add(v.name);
  }
  (model as { variants: readonly BoundVariant<W, C>[] }).variants = variants;
  return model;
}
