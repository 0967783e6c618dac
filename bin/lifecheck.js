#!/usr/bin/env node
// The CLI entry: the compiled JavaScript in dist/, which `npm run build` writes (npm ci and npm pack run it).
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('lifecheck: not built yet: run npm run build (npm ci runs it)');
  process.exit(2);
}
await import('../dist/src/cli/register.js');
await import(main.href);
