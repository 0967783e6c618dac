// A worker thread that checks variants for the CLI (src/cli/workers.ts).
import './register.js';

await import('../src/cli/check-worker.ts');
