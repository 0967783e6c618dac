// What every lifecheck thread needs before it loads a model: users' modules
// may `import ... from 'lifecheck'` wherever they live, and, run from its
// TypeScript sources rather than compiled (dist/), lifecheck's own modules
// need tsx.
import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { loadTypeScript } from '../typescript.js';

// A model's frame can sit deep under xstate's when a guard throws: keep enough to find it.
Error.stackTraceLimit = 64;

register('./resolve-self.js', import.meta.url);
if (!existsSync(new URL('./main.js', import.meta.url))) await loadTypeScript();
