// A worker thread that checks variants for the CLI (workers.ts): plain
// JavaScript, since the TypeScript loader is what it registers first.
import './register.js';

await import('./check-worker.ts');
