// What users' modules need from the module loader: `lifecheck` must name this
// copy wherever the module lives (a resolve hook), and a .ts module needs
// tsx's loader. Each is registered the first time a user's module needs it:
// a hook runs on a loader thread that every later import crosses, and tsx
// takes a third of a second to start, which runs of built-in models are
// spared. Inside this package, `lifecheck` names it by its own exports.
import { register } from 'node:module';

let hooked = Promise.resolve();
let resolving = false;
let typed = false;

/** Registers what a user's module needs before it is imported: the `lifecheck` resolve hook, and tsx for TypeScript. */
export function hookUserModules(typescript) {
  // A load that failed (tsx missing) leaves the next one to try again, not to fail with it.
  hooked = hooked.catch(() => {}).then(async () => {
    if (typescript && !typed) {
      const { register: registerTsx } = await import('tsx/esm/api');
      registerTsx();
      typed = true;
      // Hooks run last-registered first: `lifecheck` stays this copy, which tsx would map through a tsconfig's paths.
      resolving = false;
    }
    if (!resolving) {
      register('./cli/resolve-self.js', import.meta.url);
      resolving = true;
    }
  });
  return hooked;
}
