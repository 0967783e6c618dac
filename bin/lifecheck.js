#!/usr/bin/env node
// The CLI entry.
import '../src/cli/register.js';

await import('../src/cli/main.ts');
