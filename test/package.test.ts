/**
 * lifecheck as a user installs it: `npm pack`, installed into a fresh folder,
 * holds compiled JavaScript and types and nothing of the repository's own
 * (tests, reports, bench); plain `node` imports it, a TypeScript project that
 * emits compiles against it, and its bin runs a user's TypeScript module.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;
const tsc = join(root, 'node_modules/.bin/tsc');
let dir: string;
let tarball: string;

function run(command: string, args: readonly string[], cwd = dir) {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'lifecheck-package-'));
  // The build is `npm test`'s; packing again would run it twice.
  const packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], root)) as { filename: string; files: { path: string }[] }[];
  tarball = join(dir, packed[0]!.filename);
  writeFileSync(join(dir, 'files.json'), JSON.stringify(packed[0]!.files.map((f) => f.path)));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'user', private: true, type: 'module' }));
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', tarball]);
}, 180_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the npm package', () => {
  it('holds the compiled JavaScript, its types and the bin, and no tests, reports or bench', () => {
    const files = JSON.parse(run('cat', ['files.json'])) as string[];
    expect(files).toContain('dist/src/index.js');
    expect(files).toContain('dist/src/index.d.ts');
    expect(files).toContain('dist/models/index.js');
    expect(files).toContain('bin/lifecheck.js');
    expect(files.filter((f) => /^(test|reports|bench|src|models)\//.test(f) || f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('is imported by plain node', () => {
    writeFileSync(
      join(dir, 'use.mjs'),
      `import { checkVariant } from 'lifecheck';
import { builtInModels } from 'lifecheck/models';
const m = builtInModels.find((x) => x.name === 'ioasid-bench');
const r = await checkVariant(m.variants[0], { bounds: m.defaults, runs: 100, seed: 1 });
console.log(r.variant, r.verdicts.filter((v) => v.actual === 'violated').map((v) => v.property).join());`,
    );
    expect(run('node', ['use.mjs']).trim()).toBe('bench-buggy no-use-after-free');
  });

  it('types a TypeScript project that emits, under NodeNext', () => {
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, outDir: 'out', types: [] }, include: ['patch.ts'] }),
    );
    writeFileSync(
      join(dir, 'patch.ts'),
      `import { checkVariant, type VariantReport } from 'lifecheck';
import { builtInModels } from 'lifecheck/models';
const m = builtInModels.find((x) => x.name === 'ioasid-bench')!;
const r: VariantReport = await checkVariant(m.variants[1]!, { bounds: m.defaults, runs: 100, seed: 1 });
// @ts-expect-error: a report's variant is a string
const wrong: number = r.variant;
console.log(r.variant, r.matches, wrong === 0);`,
    );
    run(tsc, ['-p', '.']);
    expect(readdirSync(join(dir, 'out'))).toEqual(['patch.js']);
    expect(run('node', ['out/patch.js']).trim()).toBe('fixed true false');
  });

  it('runs its bin on a user module written in TypeScript', () => {
    copyFileSync(join(root, 'test/fixtures/spinlock.ts'), join(dir, 'spinlock.ts'));
    const out = run('npx', ['--no-install', 'lifecheck', 'check', 'spinlock.ts', '--variant', 'retries', '--property', 'run-ends']);
    expect(out).toMatch(/run-ends +violated in 2 steps/);
  });
});
