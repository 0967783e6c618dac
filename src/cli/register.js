// What every lifecheck thread needs before it loads the sources: the
// TypeScript sources (and users' .ts modules) run through tsx, and users'
// modules may `import ... from 'lifecheck'` wherever they live.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

// A model's frame can sit deep under xstate's when a guard throws: keep enough to find it.
Error.stackTraceLimit = 64;

// Hooks run last-registered first: tsx resolves, and hands `lifecheck` to ours.
register('./resolve-self.js', import.meta.url);
registerTsx();
