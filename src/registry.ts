/**
 * Finding models and variants: among the built-in ones, which callers pass
 * in (the package's entry and the CLI's; this module imports no model, so
 * nothing below them depends on models/), and in users' modules loaded by
 * path. A user's module default-exports a model, a variant (from
 * `model.variant()`), or an array of them.
 */
import { existsSync } from 'node:fs';
import { closest, distance } from 'fastest-levenshtein';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AnyModel, AnyVariant } from './engine/model.ts';
import { hookUserModules } from './loader-hooks.js';
import { whyNotLoaded } from './module-error.ts';

/** A mistake in what the user asked for; the message says how to mend it. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** What one command-line target names: a model and which of its variants. */
export interface Target {
  readonly model: AnyModel;
  readonly variants: readonly AnyVariant[];
  /** The user's module that defines them, as its path was given; none for a built-in model. */
  readonly module?: string;
}

/** ` (did you mean 'x'?)` when one of `known` is a likely spelling of `name` (a third of its letters off, or fewer), else nothing. */
export function didYouMean(name: string, known: readonly string[]): string {
  if (known.length === 0) return '';
  const guess = closest(name, [...known]);
  return distance(name, guess) <= Math.max(1, Math.floor(guess.length / 3)) ? ` (did you mean '${guess}'?)` : '';
}

/** A built-in model by name. */
function findModel(builtIns: readonly AnyModel[], name: string): AnyModel {
  const model = builtIns.find((m) => m.name === name);
  const names = builtIns.map((m) => m.name);
  if (!model) throw new UsageError(`unknown model '${name}'${didYouMean(name, names)}; known models: ${names.join(', ')} (or a path to a .ts module)`);
  return model;
}

/** What one argument names: a built-in model, or what the user's module at that path defines. */
export async function targetsNamed(builtIns: readonly AnyModel[], arg: string): Promise<Target[]> {
  return looksLikePath(arg) ? loadModule(arg) : [builtInTarget(builtIns, arg)];
}

export const looksLikePath = (arg: string) => /[\\/]|\.(m?[jt]s)$/.test(arg);

const isModel = (x: unknown): x is AnyModel =>
  typeof x === 'object' && x !== null && 'system' in x && 'variants' in x && 'properties' in x;
const isVariant = (x: unknown): x is AnyVariant =>
  typeof x === 'object' && x !== null && 'model' in x && 'config' in x && isModel((x as AnyVariant).model);

/** Loads a user's module and returns what it defines, grouped by model. */
export async function loadModule(path: string): Promise<Target[]> {
  const file = resolve(path);
  if (!existsSync(file)) throw new UsageError(`no such file '${path}'; give a path to a .ts or .js module`);
  let mod: { default?: unknown };
  try {
    await hookUserModules(/\.[cm]?ts$/.test(file));
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (e) {
    const why = whyNotLoaded(e, file);
    // Outside an ESM package, Node takes a .ts file for CommonJS.
    const hint = /require\(\) ES Module/.test(why) ? ' (name it .mts, or add "type": "module" to its package.json)' : '';
    throw new UsageError(`cannot load '${path}': ${why}${hint}`);
  }
  return targetsOf(mod.default, `'${path}'`).map((target) => ({ ...target, module: path }));
}

/** What a module's default export defines, grouped by model; `what` names it in the message when it defines nothing. */
function targetsOf(exported: unknown, what: string): Target[] {
  const items = Array.isArray(exported) ? exported : [exported];
  return items.map((item): Target => {
    if (isModel(item)) return { model: item, variants: item.variants as AnyVariant[] };
    if (isVariant(item)) return { model: item.model, variants: [item] };
    throw new UsageError(`${what} must default-export a model, a variant made with model.variant({...}), or an array of them`);
  });
}

/**
 * A variant by name: of the built-in model `from` names, or of what a user's
 * module exports (a model, a variant, or an array of them).
 */
export function findVariantIn(builtIns: readonly AnyModel[], from: string | unknown, name: string): AnyVariant {
  const targets = typeof from === 'string' ? [builtInTarget(builtIns, from)] : targetsOf(from, 'the module');
  return pickVariants(targets, name)[0]!;
}

/** A built-in model with all its variants. */
export function builtInTarget(builtIns: readonly AnyModel[], name: string): Target {
  return targetOf(findModel(builtIns, name));
}

/** A model with all its variants. */
export const targetOf = (model: AnyModel): Target => ({ model, variants: model.variants });

/** The variants of `targets` named `name`, or all of them; an unknown name is a UsageError. */
export function pickVariants(targets: readonly Target[], name: string | undefined): AnyVariant[] {
  const all = targets.flatMap((t) => t.variants);
  if (name === undefined) return all;
  const picked = all.filter((v) => v.name === name);
  if (picked.length === 0) {
    const models = [...new Set(targets.map((t) => t.model.name))].join(', ');
    const names = all.map((v) => v.name);
    throw new UsageError(`unknown variant '${name}' of model '${models}'${didYouMean(name, names)}; known: ${names.join(', ')}`);
  }
  return picked;
}
