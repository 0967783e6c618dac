// A module resolve hook: `lifecheck` names this package's public API, so a
// user's variant file can import it from anywhere on disk.
const api = new URL('../src/index.ts', import.meta.url).href;

export async function resolve(specifier, context, next) {
  if (specifier === 'lifecheck') return { url: api, shortCircuit: true };
  return next(specifier, context);
}
