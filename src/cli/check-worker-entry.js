// A worker thread that checks variants for the CLI (workers.ts): plain
// JavaScript, since it sets up the loader (register.js) before anything else
// loads; compiled, the import below names check-worker.js.
import './register.js';

await import('./check-worker.ts');
