/** Checks of what a user names against what a model offers: one UsageError per mistake. */
import type { AnyModel, AnyVariant, Bounds, Only } from '../engine/model.ts';
import { didYouMean, UsageError } from '../registry.ts';
import * as parse from './options.ts';

/** Every `--property` must be one of the model's, or of one of the variants checked. */
export function checkProperties(model: AnyModel, ids: readonly string[] | undefined, variants: readonly AnyVariant[] = []): void {
  const known = [...new Set([...model.properties, ...variants.flatMap((v) => v.properties ?? [])].map((p) => p.id))];
  for (const id of ids ?? []) {
    if (!known.includes(id)) throw new UsageError(`unknown property '${id}' of model '${model.name}'${didYouMean(id, known)}; known: ${known.join(', ')}`);
  }
}

/** Every `--only` key and name must be one the variant offers. */
export function checkOnly(variant: AnyVariant, only: Only | undefined, flag = '--only'): void {
  const choices: Only = variant.model.choices?.(variant.config) ?? {};
  const where = `variant '${variant.name}' of model '${variant.model.name}'`;
  for (const [key, names] of Object.entries(only ?? {})) {
    const known = choices[key];
    if (!known) {
      const keys = Object.keys(choices);
      throw new UsageError(`${flag} ${key}: ${where} has no ${key} to narrow; it offers: ${keys.join(', ') || 'nothing'}`);
    }
    const unknown = names.find((n) => !known.includes(n));
    if (unknown !== undefined) {
      throw new UsageError(`${flag} ${key}=${unknown}: ${where} has no ${key} '${unknown}'${didYouMean(unknown, known)}; known: ${known.join(', ')}`);
    }
  }
}


/** Bounds that did not come through the flags (a trace file's): the flags' limits, and the model's own check. */
export function checkBounds(model: AnyModel, bounds: Bounds, where: string): void {
  parse.intIn(`${where}.threads`, String(bounds.threads), 1, parse.LIMITS.threads);
  parse.intIn(`${where}.ops`, String(bounds.ops), 1, parse.LIMITS.ops);
  const span = bounds.ids.max - bounds.ids.min + 1;
  if (span > parse.LIMITS.ids) throw new UsageError(`${where}.ids spans ${span} ids; lifecheck checks at most ${parse.LIMITS.ids}`);
  const wrong = model.checkBounds?.(bounds);
  if (wrong) throw new UsageError(wrong);
}
