/**
 * Trace files as a user handles them: `check --out` writes each counterexample
 * as ITF, `replay` runs one again (exit 1 while it fails, 0 once it no longer
 * does), `show` renders it in every format, and every bad input is exit 2
 * with one line on stderr.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { iommufd } from 'lifecheck/models';
import { variantOf } from '../helpers/variants.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(repoRoot, 'bin', 'lifecheck.js');
const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };

function lifecheck(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A user mistake: exit 2, nothing on stdout, one `lifecheck:` line on stderr (so no stack trace). */
function expectUsageError(r: ReturnType<typeof lifecheck>, says: RegExp) {
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  expect(r.err).toMatch(/^lifecheck: [^\n]*\n$/);
  expect(r.err).toMatch(says);
}

interface StepMeta {
  index: number;
  thread: number;
  actor: string;
  op: string;
  args: (number | string)[];
  function: string;
  call: string;
  reply: { ok: boolean; text: string };
}

interface Itf {
  '#meta': {
    tool: string;
    version: string;
    model: string;
    variant: string;
    property: string;
    bounds: { threads: number; ops: number; ids: { min: number; max: number } };
    explorer: 'random' | 'exhaustive';
    seed?: number;
    path?: string;
    actions?: number[];
    symmetry?: boolean;
    violation: { property: string; at: number; message: string };
  };
  vars: string[];
  // State 0's #meta holds only its index.
  states: ({ '#meta': StepMeta } & Record<string, unknown>)[];
}

const root = mkdtempSync(join(tmpdir(), 'lifecheck-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const read = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Itf;

/** A file of `text` in the temp folder. */
function written(name: string, text: string): string {
  const path = join(root, `${name}.itf.json`);
  writeFileSync(path, text);
  return path;
}

/** A copy of the trace at `path` with `change` made to it. */
function edited(path: string, name: string, change: (t: Itf) => void): string {
  const t = read(path);
  change(t);
  return written(name, JSON.stringify(t));
}

/** A value's leaves, an ITF `{"#bigint": "..."}` counting as one. */
function leaves(x: unknown): unknown[] {
  return typeof x !== 'object' || x === null || isBigint(x) ? [x] : Object.values(x).flatMap(leaves);
}

function isBigint(x: unknown): x is { '#bigint': string } {
  return typeof x === 'object' && x !== null && '#bigint' in x;
}

/** The checks whose traces the tests read, each into its own --out folder, and the files each must write there. */
const checks = [
  {
    name: 'random',
    explorer: 'random',
    // ioasid's default search is exhaustive: --random for a trace with a seed and path (found at run 1213 of 10,000).
    args: ['ioasid', '--variant', 'series', '--property', 'no-use-after-free', '--random'],
    files: ['ioasid-series-no-use-after-free.itf.json'],
  },
  {
    name: 'exhaustive',
    explorer: 'exhaustive',
    args: ['ioasid-bench', '--variant', 'bench-buggy', '--exhaustive', '--threads', '2', '--ops', '3'],
    files: ['ioasid-bench-bench-buggy-no-use-after-free.itf.json'],
  },
  {
    name: 'iommufd',
    explorer: 'exhaustive',
    // iommufd's own default: every interleaving; every expected violation is written.
    args: ['iommufd', '--variant', 'finalize-before-fail'],
    files: Object.entries(variantOf(iommufd, 'finalize-before-fail').expect)
      .filter(([, v]) => v === 'violated')
      .map(([p]) => `iommufd-finalize-before-fail-${p}.itf.json`),
  },
] as const;

const outDir = (check: string) => join(root, check);
const traces = checks.flatMap((c) => c.files.map((file) => ({ file, path: join(outDir(c.name), file), explorer: c.explorer })));
const series = traces[0]!.path;
const bench = traces[1]!.path;

const checked = new Map<string, ReturnType<typeof lifecheck>>();
beforeAll(() => {
  for (const c of checks) checked.set(c.name, lifecheck('check', ...c.args, '--out', outDir(c.name)));
}, 60_000);

describe('lifecheck check --out', () => {
  it.each(checks)('writes the counterexamples of the $name check, and nothing else', ({ name, files }) => {
    const r = checked.get(name)!;
    expect(r.code).toBe(0);
    expect(r.out).toContain(`${files.length} trace file${files.length === 1 ? '' : 's'} in ${outDir(name)}`);
    expect(readdirSync(outDir(name)).sort()).toEqual([...files].sort());
  });

  it.each(traces)('$file is ITF: every state has every var, integers as #bigint', ({ path }) => {
    const t = read(path);
    expect(t.vars.length).toBeGreaterThan(0);
    expect(t.states[0]!['#meta']).toEqual({ index: 0 });
    const states = t.states.map(({ '#meta': _, ...vars }) => vars);
    for (const vars of states) expect(Object.keys(vars).sort()).toEqual([...t.vars].sort());
    const values = states.flatMap(leaves);
    expect(values.filter((v) => Number.isInteger(v))).toEqual([]);
    const bigints = values.flatMap((v) => (isBigint(v) ? [v['#bigint']] : []));
    expect(bigints.length).toBeGreaterThan(0);
    for (const b of bigints) expect(b).toMatch(/^-?\d+$/);
  });

  it.each(traces)('$file records where it came from and the step before each state', ({ path, explorer }) => {
    const t = read(path);
    const meta = t['#meta'];
    expect(meta).toMatchObject({ tool: 'lifecheck', version, explorer, violation: { property: meta.property } });
    expect(path).toContain(`${meta.model}-${meta.variant}-${meta.property}.itf.json`);
    const int = expect.any(Number);
    expect(meta.bounds).toMatchObject({ threads: int, ops: int, ids: { min: int, max: int } });
    const steps = t.states.slice(1).map((s) => s['#meta']);
    if (explorer === 'random') {
      expect(meta.seed).toBe(42);
      expect(meta.path).toMatch(/^\d+(:\d+)*$/);
    } else {
      expect(meta.symmetry).toBe(false);
      expect(meta.actions).toHaveLength(steps.length);
      for (const a of meta.actions!) expect(Number.isInteger(a) && a >= 0).toBe(true);
    }
    steps.forEach((s, i) =>
      expect(s).toMatchObject({
        index: i + 1,
        thread: expect.any(Number),
        actor: expect.any(String),
        op: expect.any(String),
        args: expect.any(Array),
        function: expect.any(String),
        call: expect.any(String),
        reply: { ok: expect.any(Boolean), text: expect.any(String) },
      }),
    );
    expect(steps.at(-1)!.index).toBe(meta.violation.at);
  });
});

describe('lifecheck replay', () => {
  it.each(traces)('$file still fails, at the step it recorded (exit 1)', ({ path }) => {
    const { property, violation } = read(path)['#meta'];
    const text = lifecheck('replay', path);
    expect(text.code).toBe(1);
    expect(text.out).toContain(`still fails: ${property} breaks at step ${violation.at}, as the trace recorded`);
    for (const line of text.out.split('\n').slice(2)) expect([...line].length).toBeLessThanOrEqual(80);
    const json = lifecheck('replay', path, '--json');
    expect(json.code).toBe(1);
    expect(JSON.parse(json.out)).toMatchObject({ status: 'fails', at: violation.at, recordedAt: violation.at, notes: [] });
  });

  it('exits 0 when the trace no longer fails: the bench steps on the fixed variant', () => {
    const fixed = edited(bench, 'fixed', (t) => (t['#meta'].variant = 'fixed'));
    const text = lifecheck('replay', fixed);
    expect(text.code).toBe(0);
    expect(text.out).toContain('no longer fails: all 4 steps replay and no-use-after-free holds');
    const json = lifecheck('replay', fixed, '--json');
    expect(json.code).toBe(0);
    expect(JSON.parse(json.out)).toMatchObject({ status: 'passes', at: null, recordedAt: 4 });
    const shown = lifecheck('show', fixed);
    expect(shown.code).toBe(0);
    expect(shown.err).toMatch(/^lifecheck: note: .* no longer breaks no-use-after-free;[^\n]*\n$/);
    // Its reproducer guards the fix instead of pinning the bug.
    const test = lifecheck('show', fixed, '--format', 'vitest').out;
    expect(test).toContain('this test guards the fix');
    expect(test).toContain('expect(result.violation).toBeUndefined();');
    expect(test).not.toContain('toBe(4)');
  });
});

describe('lifecheck show', () => {
  it.each(traces)('$file as text: its threads as columns, the breaking step marked, 80 columns at most', ({ path }) => {
    const t = read(path);
    const r = lifecheck('show', path);
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toBe(`${t['#meta'].model} --variant ${t['#meta'].variant}: ${t['#meta'].property}`);
    for (const actor of new Set(t.states.slice(1).map((s) => s['#meta'].actor))) expect(lines[2]).toContain(actor);
    expect(r.out).toContain(`<-- ${t['#meta'].property}`);
    expect(lines.filter((l) => [...l].length > 80)).toEqual([]);
  });

  it('--changes lists what each step changed, within 80 columns', () => {
    const r = lifecheck('show', series, '--changes');
    expect(r.code).toBe(0);
    // CPU0's alloc, then CPU1's free of what it allocated, in the kernel's terms.
    expect(r.out).toMatch(/^ +ioasid 1 refs: 0 → 1$/m);
    expect(r.out).toMatch(/^ +ioasid 1: \w+ → free$/m);
    expect(r.out.split('\n').filter((l) => [...l].length > 80)).toEqual([]);
  });

  it('as Markdown: a table with the breaking step in bold', () => {
    const r = lifecheck('show', series, '--format', 'markdown');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\| # \| CPU0 \| CPU1 \|/m);
    // The step under the column of the CPU that makes it.
    expect(r.out).toMatch(/^\| \*\*4\*\* \|(?: {2}\|)* \*\*`use\(found, priv\) = ok; returns 0`\*\* \|.*⟵ \*\*no-use-after-free\*\* \|$/m);
  });

  it('as Mermaid: a sequence diagram with a participant per thread and the breaking call crossed', () => {
    const r = lifecheck('show', series, '--format', 'mermaid');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^sequenceDiagram\n/);
    expect(r.out).toMatch(/^ +participant T0 as CPU0$/m);
    // `;` is an entity code in Mermaid.
    expect(r.out).toMatch(/^ +T\d-xO0: 4\. use\(found, priv\) = ok#59; returns 0$/m);
  });

  it('as JSON: the origin, the steps and the text', () => {
    const r = lifecheck('show', series, '--format', 'json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as { model: string; steps: { op: string }[]; text: string };
    expect(doc.model).toBe('ioasid');
    expect(doc.steps.map((s) => s.op)).toEqual(read(series).states.slice(1).map((s) => s['#meta'].op));
    expect(doc.text).toContain('<-- no-use-after-free');
  });

  it('as vitest files that pass under vitest, one per trace', () => {
    // Inside test/ so that vitest.config.ts includes them and `lifecheck` resolves.
    const dir = mkdtempSync(join(repoRoot, 'test', '.tmp-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    for (const [i, { path }] of traces.entries()) {
      const r = lifecheck('show', path, '--format', 'vitest');
      expect(r.code).toBe(0);
      writeFileSync(join(dir, `repro${i}.test.ts`), r.out);
    }
    const run = spawnSync('npx', ['vitest', 'run', relative(repoRoot, dir), '--reporter=json'], { cwd: repoRoot, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ numPassedTests: traces.length, numFailedTests: 0 });
  });

  it('as an fc.assert call with the seed and path of a random trace', () => {
    const { seed, path } = read(series)['#meta'];
    const r = lifecheck('show', series, '--format', 'fast-check');
    expect(r.code).toBe(0);
    expect(r.out).toContain('fc.assert(');
    expect(r.out).toContain(`{ seed: ${seed}, path: '${path}', endOnFailure: true }`);
  });

  it('refuses fast-check for an exhaustive trace, which has no seed and path', () => {
    expectUsageError(lifecheck('show', bench, '--format', 'fast-check'), /no seed and path .*exhaustive explorer.*--format vitest/);
  });
});

describe('bad input: exit 2 with one line', () => {
  const quint = {
    '#meta': { format: 'ITF', source: 'bank.qnt', description: 'Created by Quint' },
    vars: ['x'],
    states: [{ '#meta': { index: 0 }, x: { '#bigint': '1' } }],
  };
  const files: { name: string; file: () => string; says: RegExp }[] = [
    { name: 'a missing file', file: () => join(root, 'absent.itf.json'), says: /absent\.itf\.json: no such trace file/ },
    { name: 'a file that is not JSON', file: () => written('not-json', 'not json'), says: /not JSON/ },
    { name: 'JSON that is not ITF', file: () => written('not-itf', '{"a":1}'), says: /not an ITF trace: vars is missing/ },
    {
      name: 'ITF with a state that lacks a listed var',
      file: () => edited(bench, 'lacks-var', (t) => delete t.states[2]!['slots']),
      says: /not an ITF trace: states\[2\] lacks var 'slots'/,
    },
    { name: 'ITF from Quint', file: () => written('quint', JSON.stringify(quint)), says: /not from a lifecheck model.*Created by Quint/ },
    {
      name: 'an unknown model',
      file: () => edited(bench, 'model', (t) => (t['#meta'].model = 'nosuch')),
      says: /unknown model 'nosuch'/,
    },
    {
      name: 'an unknown variant',
      file: () => edited(bench, 'variant', (t) => (t['#meta'].variant = 'nosuch')),
      says: /unknown variant 'nosuch' of model 'ioasid-bench'/,
    },
    {
      name: 'an unknown property',
      file: () => edited(bench, 'property', (t) => (t['#meta'].property = 'nosuch')),
      says: /unknown property 'nosuch' of model 'ioasid-bench'/,
    },
    {
      name: 'bounds out of range',
      file: () => edited(bench, 'threads', (t) => (t['#meta'].bounds.threads = 99)),
      says: /#meta\.bounds\.threads 99 is out of range/,
    },
    {
      name: 'a step with an unknown operation',
      file: () => edited(bench, 'op', (t) => (t.states[3]!['#meta'].op = 'frobnicate')),
      says: /step 3 does not fit variant 'bench-buggy' .*frobnicate\(1\) is not enabled/,
    },
    {
      name: 'a step on a thread that cannot take it',
      file: () => edited(bench, 'thread', (t) => (t.states[3]!['#meta'].thread = 1)),
      says: /step 3 does not fit variant 'bench-buggy' .*T1 put\(1\) is not enabled/,
    },
    {
      name: 'a trace cut short of its violation',
      file: () => edited(bench, 'cut', (t) => (t.states = t.states.slice(0, 2))),
      says: /#meta\.violation is at step 4, but the trace has 1 steps/,
    },
    { name: 'a folder', file: () => root, says: /is a folder/ },
    {
      name: 'ids that are not a range',
      file: () => edited(bench, 'ids', (t) => (t['#meta'].bounds.ids = { min: 3, max: 1 })),
      says: /#meta\.bounds\.ids has min above max/,
    },
  ];

  it.each(files)('replay and show refuse $name', ({ file, says }) => {
    const path = file();
    expectUsageError(lifecheck('replay', path, '--json'), says);
    expectUsageError(lifecheck('show', path), says);
  });

  it('show refuses an unknown format, and --changes outside text', () => {
    expectUsageError(lifecheck('show', bench, '--format', 'nonsense'), /'nonsense' is invalid/);
    expectUsageError(lifecheck('show', bench, '--changes', '--format', 'markdown'), /--changes applies to --format text only/);
  });

  it.each([
    { name: 'an unknown variant', args: ['ioasid', '--variant', 'nosuch'], says: /unknown variant 'nosuch'/ },
    { name: 'an unknown property', args: ['ioasid', '--variant', 'series', '--property', 'nosuch'], says: /unknown property 'nosuch'/ },
    { name: 'bounds out of range', args: ['ioasid-bench', '--exhaustive', '--threads', '99'], says: /--threads 99 is out of range/ },
    { name: 'an --out that is a file', args: ['ioasid-bench', '--exhaustive', '--out', 'FILE'], says: /--out .*: is a file, not a folder/ },
  ])('check --out with $name writes nothing', ({ args, says }) => {
    const dir = join(root, 'never');
    const file = written('a-file', 'not a folder');
    const r = args.includes('--out') ? lifecheck('check', ...args.map((a) => (a === 'FILE' ? file : a))) : lifecheck('check', ...args, '--out', dir);
    expectUsageError(r, says);
    expect(existsSync(dir)).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe('not a folder');
  });
});
