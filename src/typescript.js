// TypeScript for users' modules: tsx's loader, registered the first time one
// is loaded. Compiled, lifecheck needs it for nothing else, and it takes a
// third of a second to start.
import { register } from 'node:module';

let registered;

export function loadTypeScript() {
  registered ??= import('tsx/esm/api').then(({ register: registerTsx }) => {
    registerTsx();
    // Hooks run last-registered first: `lifecheck` stays this copy, which tsx would map through a tsconfig's paths.
    register('./cli/resolve-self.js', import.meta.url);
  });
  return registered;
}
