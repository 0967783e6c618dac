/**
 * `check --junit`: JUnit XML that CI servers read. Real checks (seed 42), the
 * XML validated against Jenkins' schema (xunit's junit-10.xsd, by xmllint)
 * and parsed back; failures, skips and counts compared with the verdicts the
 * same run reports in JSON.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { checkVariant } from 'lifecheck';
import { ioasidBench } from 'lifecheck/models';
import { junitReport } from '../../src/report/junit.ts';
import { variantOf } from '../helpers/variants.ts';

const bin = new URL('../../bin/lifecheck.js', import.meta.url).pathname;

function lifecheck(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const root = mkdtempSync(join(tmpdir(), 'lifecheck-junit-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Counts {
  name: string;
  tests: string;
  failures: string;
  errors: string;
  skipped: string;
  time: string;
}
interface Case {
  classname: string;
  name: string;
  time: string;
  failure?: { message: string; type: string; '#text'?: string };
  skipped?: { message: string };
  'system-out'?: string;
}
type Suite = Counts & { file: string; properties: { property: { name: string; value: string }[] }; testcase: Case[] };
interface Doc {
  '?xml': { version: string; encoding: string };
  testsuites: Counts & { testsuite: Suite[] };
}

/** The JSON report's verdicts, to hold the XML against. */
interface JsonDoc {
  results: { model: string; variant: string; verdicts: { property: string; expected: string; actual: string; matches: boolean }[] }[];
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  isArray: (name) => ['testsuite', 'testcase', 'property'].includes(name),
});

const schema = new URL('../fixtures/schemas/junit-10.xsd', import.meta.url).pathname;

/** What xmllint says of `xml` against Jenkins' JUnit schema: nothing but that it validates. */
function validated(xml: string): string {
  const file = join(root, `validate-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(file, xml);
  const r = spawnSync('xmllint', ['--noout', '--schema', schema, file], { encoding: 'utf8' });
  if (r.error) throw new Error('xmllint is not installed: apt-get install libxml2-utils (.ci/run installs it)');
  return r.stderr.replace(file, 'report.xml').trim();
}

/** Well-formed, valid against Jenkins' schema, and with counts that add up per suite and overall. */
function parseJunit(xml: string): Doc {
  expect(XMLValidator.validate(xml)).toBe(true);
  expect(validated(xml)).toBe('report.xml validates');
  expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
  const doc = parser.parse(xml) as Doc;
  const all = doc.testsuites;
  expect(all.name).toBe('lifecheck');
  const sum = (f: (s: Suite) => string) => all.testsuite.reduce((n, s) => n + Number(f(s)), 0);
  for (const s of all.testsuite) {
    expect(s.name).toMatch(/^\S+ --variant \S+$/);
    expect(s.time).toMatch(/^\d+\.\d{3}$/);
    expect(s.errors).toBe('0');
    expect(s.file).toMatch(/^lifecheck\/models$|\.m?ts$/);
    for (const c of s.testcase) {
      expect(c.classname).toBe(s.name.replace(' --variant ', '.'));
      // When the verdict was known: its counterexample met, or the check done.
      expect(Number(c.time)).toBeLessThanOrEqual(Number(s.time));
      expect(c.time).toMatch(/^\d+\.\d{3}$/);
      // Exactly one of: a failure, a skip, or the outcome as expected.
      expect([c.failure, c.skipped, c['system-out']].filter((x) => x !== undefined)).toHaveLength(1);
    }
    expect(Number(s.tests)).toBe(s.testcase.length);
    expect(Number(s.failures)).toBe(s.testcase.filter((c) => c.failure).length);
    expect(Number(s.skipped)).toBe(s.testcase.filter((c) => c.skipped).length);
  }
  expect(Number(all.tests)).toBe(sum((s) => s.tests));
  expect(Number(all.failures)).toBe(sum((s) => s.failures));
  expect(Number(all.errors)).toBe(0);
  return doc;
}

/** Runs `check` with --json and --junit; returns the exit code, the JSON report and the parsed XML. */
function checked(name: string, ...args: string[]) {
  const file = join(root, `${name}.xml`);
  const r = lifecheck('check', ...args, '--json', '--junit', file);
  expect(r.err).toBe('');
  const xml = readFileSync(file, 'utf8');
  return { code: r.code, json: JSON.parse(r.out) as JsonDoc, xml, doc: parseJunit(xml) };
}

/** Each suite's test cases match the JSON verdicts one for one; failures are exactly the unexpected ones. */
function expectSameVerdicts(doc: Doc, json: JsonDoc) {
  expect(doc.testsuites.testsuite.map((s) => s.name)).toEqual(json.results.map((r) => `${r.model} --variant ${r.variant}`));
  for (const [i, r] of json.results.entries()) {
    const cases = doc.testsuites.testsuite[i]!.testcase;
    expect(cases.map((c) => c.name)).toEqual(r.verdicts.map((v) => v.property));
    for (const [j, v] of r.verdicts.entries()) {
      const c = cases[j]!;
      if (!v.matches) expect(c.failure).toEqual(expect.objectContaining({ message: `expected ${v.expected}, got ${v.actual}`, type: 'unexpected-verdict' }));
      else expect(c.failure).toBeUndefined();
    }
  }
}

const bench = ['ioasid-bench', '--exhaustive', '--threads', '2', '--ops', '3'];

describe('lifecheck check --junit', () => {
  it('writes a suite per variant and a passing case per property when every verdict is as expected', async () => {
    const { code, json, doc } = checked('bench', ...bench);
    expect(code).toBe(0);
    expectSameVerdicts(doc, json);
    const suites = doc.testsuites.testsuite;
    expect(suites.map((s) => s.name)).toEqual(['ioasid-bench --variant bench-buggy', 'ioasid-bench --variant fixed']);
    // Three properties of the model's and the engine's run-ends, per variant.
    expect(doc.testsuites).toMatchObject({ tests: '8', failures: '0', errors: '0' });
    expect(doc.testsuites.testsuite.reduce((n, s) => n + Number(s.skipped), 0)).toBe(0);
    expect(suites[0]!.properties.property).toEqual([
      { name: 'lifecheck.version', value: expect.any(String) },
      { name: 'explorer', value: 'exhaustive' },
      { name: 'seed', value: '42' },
    ]);
    const outs = suites.flatMap((s) => s.testcase.map((c) => `${s.name} ${c.name}: ${c['system-out']}`));
    expect(outs).toContain('ioasid-bench --variant bench-buggy no-use-after-free: violated in 4 steps, as expected');
    expect(outs).toContain('ioasid-bench --variant fixed no-use-after-free: holds (all 2156 states), as expected');
  });

  it("fails once per unexpected verdict of a user's variant, with the trace and replay line", async () => {
    // A user-style module: bench-buggy with the expectation (wrongly) left at "holds everywhere".
    const dir = mkdtempSync(join(root, 'module-'));
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
    const module = join(dir, 'wrong.ts');
    writeFileSync(
      module,
      [
        "import { ioasidBench } from 'lifecheck/models';",
        "const buggy = ioasidBench.variants.find((v) => v.name === 'bench-buggy')!;",
        "export default ioasidBench.variant({ ...buggy, name: 'wrong-expectation', expect: {} });",
        '',
      ].join('\n'),
    );
    const { code, json, doc, xml } = checked('wrong', module, ...bench.slice(1));
    expect(code).toBe(1);
    expectSameVerdicts(doc, json);
    expect(doc.testsuites).toMatchObject({ tests: '4', failures: '1', errors: '0' });
    expect(doc.testsuites.testsuite.reduce((n, s) => n + Number(s.skipped), 0)).toBe(0);
    // The suite names the module that defines the variant, as given.
    expect(doc.testsuites.testsuite[0]!.file).toBe(module);
    const failed = doc.testsuites.testsuite[0]!.testcase.filter((c) => c.failure);
    expect(failed.map((c) => c.name)).toEqual(['no-use-after-free']);
    const body = failed[0]!.failure!['#text']!;
    expect(body).toMatch(/T0 +T1/);
    expect(body).toContain('use(1) = used');
    expect(body).toContain('<-- no-use-after-free'); // escaped in the file, whole again once parsed
    expect(xml).toContain('&lt;-- no-use-after-free');
    // The replay line names the module: the variant is not built in.
    expect(body).toContain(`replay: lifecheck check ${module} --variant wrong-expectation --property no-use-after-free`);
    expect(body).toMatch(/--exhaustive( --threads 2 --ops 3)?\s*$/);
  });

  it('fails an expected violation that a short random run misses, without a trace to show', async () => {
    // --random: iommufd's own default is the exhaustive search, which misses nothing.
    const { code, json, doc } = checked('iommufd', 'iommufd', '--variant', 'posted-ioctl-eopnotsupp', '--random', '--runs', '100');
    expectSameVerdicts(doc, json);
    const unexpected = json.results[0]!.verdicts.filter((v) => !v.matches);
    expect(code).toBe(unexpected.length ? 1 : 0);
    expect(Number(doc.testsuites.failures)).toBe(unexpected.length);
    const missed = doc.testsuites.testsuite[0]!.testcase.filter((x) => x.failure?.message === 'expected violated, got holds');
    expect(missed.length).toBeGreaterThan(0);
    for (const c of missed) expect(c.failure!['#text']).toBeUndefined();
  });

  it('skips a property that does not apply to the variant', async () => {
    // v1 has no free-pending state for ioasid_get to refuse; two vCPUs keep ioasid's exhaustive search short.
    const { code, doc } = checked('na', 'ioasid', '--variant', 'v1', '--property', 'get-fails-on-free-pending', 'set-isolation', '--threads', '2');
    expect(code).toBe(0);
    const [na, isolation] = doc.testsuites.testsuite[0]!.testcase;
    expect(na).toMatchObject({ name: 'get-fails-on-free-pending', skipped: { message: 'not applicable' } });
    expect(isolation).toMatchObject({ name: 'set-isolation', 'system-out': expect.stringMatching(/^holds \(all \d+ states\), as expected$/) });
    expect(doc.testsuites).toMatchObject({ tests: '2', failures: '0', errors: '0' });
    expect(doc.testsuites.testsuite.reduce((n, s) => n + Number(s.skipped), 0)).toBe(1);
  });

  it('skips, without failing, the verdicts a capped search left unknown', async () => {
    const { code, doc } = checked('capped', 'ioasid-bench', '--variant', 'fixed', '--exhaustive', '--max-states', '10');
    expect(code).toBe(3);
    for (const c of doc.testsuites.testsuite[0]!.testcase) expect(c.skipped).toEqual({ message: 'search stopped before a verdict' });
    expect(doc.testsuites).toMatchObject({ tests: '4', failures: '0', errors: '0' });
    expect(doc.testsuites.testsuite.reduce((n, s) => n + Number(s.skipped), 0)).toBe(4);
  });
});

describe('junitReport', () => {
  it('writes the same failures from checkVariant as the verdicts say', async () => {
    const variant = ioasidBench.variant({ ...variantOf(ioasidBench, 'bench-buggy'), name: 'wrong-expectation', expect: {} });
    const bounds = { ...ioasidBench.defaults, threads: 2, ops: 3 };
    const results = [];
    for (const v of [variant, variantOf(ioasidBench, 'fixed')]) results.push({ variant: v, report: await checkVariant(v, { bounds, runs: 2_000, seed: 42 }) });
    const doc = parseJunit(junitReport(results, { version: '0.0.0-test', durationMs: 1234 }));
    expect(doc.testsuites.time).toBe('1.234');
    const unexpected = results.flatMap(({ report }) => report.verdicts.filter((v) => !v.matches));
    expect(unexpected.map((v) => v.property)).toEqual(['no-use-after-free']);
    expect(Number(doc.testsuites.failures)).toBe(unexpected.length);
    const failure = doc.testsuites.testsuite[0]!.testcase[0]!.failure!;
    expect(failure.message).toBe('expected holds, got violated');
    expect(failure['#text']).toContain('<-- no-use-after-free');
    expect(failure['#text']).toMatch(/replay: .*--seed 42 --path \S+$/);
  });
});

describe('--junit misused: one line, exit 2, nothing written', () => {
  it.each([
    ['under a regular file', (dir: string) => join(dir, 'plain.txt', 'junit.xml'), /^lifecheck: --junit .*plain\.txt: is a file, not a folder/],
    ['naming a folder', (dir: string) => dir, /^lifecheck: --junit .*: is a folder, not a regular file; give the name of a regular file/],
  ])('%s', (_, target, message) => {
    const dir = mkdtempSync(join(root, 'bad-'));
    writeFileSync(join(dir, 'plain.txt'), 'keep me\n');
    const r = lifecheck('check', ...bench, '--junit', target(dir));
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(message);
    expect(readdirSync(dir)).toEqual(['plain.txt']);
    expect(readFileSync(join(dir, 'plain.txt'), 'utf8')).toBe('keep me\n');
    expect(existsSync(join(dir, 'plain.txt', 'junit.xml'))).toBe(false);
  });
});
