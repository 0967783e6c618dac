#!/usr/bin/env node
// The CLI entry.
import './register.js';

await import('../src/cli/main.ts');
