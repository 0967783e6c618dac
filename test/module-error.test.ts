/**
 * The reasons a module did not load, from errors the CLI tests cannot make
 * with this tsx: esbuild's own error, whose `errors` tsx deletes, and errors
 * that name no place.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { whyNotLoaded } from '../src/module-error.ts';

const dir = mkdtempSync(join(tmpdir(), 'lifecheck-module-error-'));
const loaded = join(dir, 'mine.mts');
writeFileSync(loaded, '');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('whyNotLoaded', () => {
  it("takes esbuild's errors[0], its column counted from 1, under the name the user gave the file", () => {
    const e = Object.assign(new Error('Transform failed with 1 error:\n(elided)'), {
      errors: [{ text: 'Unexpected "}"', location: { file: join(dir, 'mine.ts'), line: 7, column: 2 } }],
    });
    expect(whyNotLoaded(e, loaded)).toBe(`${loaded}:7:3: Unexpected "}"`);
  });

  it('gives the reason alone when esbuild names no place, in errors[0] or in the message', () => {
    expect(whyNotLoaded(Object.assign(new Error('Transform failed with 1 error:'), { errors: [{ text: 'Bad option', location: null }] }), loaded)).toBe('Bad option');
    expect(whyNotLoaded(new Error('Transform failed with 2 errors:\nERROR: Bad option\nERROR: Another'), loaded)).toBe('Bad option');
  });

  it('gives the name and first line of an error whose stack has no frame in user code, and what a non-error throws', () => {
    const e = new TypeError('first\nsecond');
    e.stack = 'TypeError: first\nsecond\n    at ModuleJob.run (node:internal/modules/esm/module_job:325:25)';
    expect(whyNotLoaded(e, loaded)).toBe('TypeError: first');
    expect(whyNotLoaded('just a string', loaded)).toBe('just a string');
  });
});
