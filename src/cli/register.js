// What every lifecheck thread needs before it loads a model. Run from its
// TypeScript sources rather than compiled (dist/), lifecheck's own modules
// need tsx, and `lifecheck` must name the sources.
import { existsSync } from 'node:fs';
import { hookUserModules } from '../loader-hooks.js';

// A model's frame can sit deep under xstate's when a guard throws: keep enough to find it.
Error.stackTraceLimit = 64;

if (!existsSync(new URL('./main.js', import.meta.url))) await hookUserModules(true);
