// A module resolve hook: `lifecheck` names this package's public API, so a
// user's variant file can import it from anywhere on disk.
// `lifecheck/models` names the built-in models, for variants built on them.
// Compiled, they are the JavaScript beside this file; else the sources.
import { existsSync } from 'node:fs';

const ext = existsSync(new URL('../index.js', import.meta.url)) ? 'js' : 'ts';
const entries = {
  lifecheck: new URL(`../index.${ext}`, import.meta.url).href,
  'lifecheck/models': new URL(`../../models/index.${ext}`, import.meta.url).href,
};

export async function resolve(specifier, context, next) {
  const url = entries[specifier];
  // On through the other hooks, so tsx gives the sources' .ts files their format.
  if (url) return next(url, context);
  return next(specifier, context);
}
