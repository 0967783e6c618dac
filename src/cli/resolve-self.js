// A module resolve hook: `lifecheck` names this package's public API, so a
// user's variant file can import it from anywhere on disk.
// `lifecheck/models` names the built-in models, for variants built on them.
const entries = {
  lifecheck: new URL('../index.ts', import.meta.url).href,
  'lifecheck/models': new URL('../../models/index.ts', import.meta.url).href,
};

export async function resolve(specifier, context, next) {
  const url = entries[specifier];
  if (url) return { url, shortCircuit: true };
  return next(specifier, context);
}
