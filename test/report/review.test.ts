/**
 * `lifecheck review`: the committed design review page and its trace files
 * must be what the review writes now (the staleness check), the page's matrix
 * must agree with the verdicts, every ✗ links to a trace that still breaks
 * its property, and the `review` and `diagram` commands handle good and bad
 * input like the rest of the CLI.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtInModels, findVariant } from 'lifecheck/models';
import { DEFAULT_RUNS } from '../../src/cli/options.ts';
import { diagram, reviewChecks, reviewFiles, type ReviewGroup } from '../../src/cli/review.ts';
import { transitionPercent } from '../../src/coverage.ts';
import { targetOf } from '../../src/registry.ts';
import { stateDiagram } from '../../src/report/diagram.ts';
import { readTraceFile } from '../../src/trace/file.ts';
import { replay } from '../../src/trace/replay.ts';
import { lockMachine } from '../fixtures/spinlock.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const bin = join(repoRoot, 'bin', 'lifecheck.js');
const { version } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string };

function lifecheckIn(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const lifecheck = (...args: string[]) => lifecheckIn(repoRoot, ...args);

/** A user mistake: exit 2, nothing on stdout, one `lifecheck:` line on stderr (so no stack trace). */
function expectUsageError(r: ReturnType<typeof lifecheck>, says: RegExp) {
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  expect(r.err).toMatch(/^lifecheck: [^\n]*\n$/);
  expect(r.err).toMatch(says);
}

const root = mkdtempSync(join(tmpdir(), 'lifecheck-review-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** What `npm run review` writes, by path relative to the repo root, also written under `generated` for reading back. */
let groups: ReviewGroup[];
let files: Map<string, string>;
let page: string;
const generated = join(root, 'generated');

// The whole review at the default bounds: ioasid's and iommufd's exhaustive searches take a minute or two,
// longer while other test files share the CPUs.
beforeAll(async () => {
  groups = await reviewChecks(builtInModels.map(targetOf), undefined, 1);
  files = reviewFiles('reports', groups, version);
  page = files.get(join('reports', 'review.md'))!;
  for (const [path, content] of files) {
    mkdirSync(dirname(join(generated, path)), { recursive: true });
    writeFileSync(join(generated, path), content);
  }
}, 300_000);

const committed = (path: string) => readFileSync(join(repoRoot, path), 'utf8');
const lines = (text: string) => text.replace(/\n$/, '').split('\n');
const runs = (n: number) => n.toLocaleString('en-US');

/** The page's `## model` sections, by model name, in page order. */
function sections(markdown: string): [string, string][] {
  return markdown
    .split(/^(?=## )/m)
    .slice(1)
    .map((s) => [/^## ([^:\s]+):/.exec(s)![1]!, s]);
}

/** A section's matrix: its numbered variants (the list above it), its column headers, and each property's row of cells. */
function matrixOf(section: string) {
  const head = section.split('\n### ')[0]!;
  const variants = [...head.matchAll(/^(\d+)\. `([^`]+)`: .* \((✓ [^)]*)\)$/gm)].map((m) => ({ n: m[1]!, name: m[2]!, holds: m[3]! }));
  const table = head.split('\n').filter((l) => l.startsWith('| '));
  const cells = (line: string) => line.slice(2, -2).split(' | ');
  const [header, , ...rows] = table;
  return {
    variants,
    columns: cells(header!).slice(1),
    rows: rows.map((row) => ({ row, property: cells(row)[0]!, cells: cells(row).slice(1) })),
  };
}

const BROKEN = /^\*\*✗ \[(\d+)\]\(#([^)]+)\)\*\*$/;

/** The trace files the counterexample under `<a id="anchor">` names: its ITF and its text. */
function traceFilesOf(markdown: string, anchor: string): { itf: string; txt: string } {
  const at = markdown.indexOf(`<a id="${anchor}"></a>`);
  const m = /Trace file: \[([^\]]+)\]\(\1\) \(as text: \[([^\]]+)\]\(\2\)\)/.exec(markdown.slice(at));
  return { itf: m![1]!, txt: m![2]! };
}

/** Every ✗ cell of the page: whose it is and what it links to. */
function brokenCells(markdown: string) {
  return sections(markdown).flatMap(([model, section]) => {
    const { variants, rows } = matrixOf(section);
    return rows.flatMap(({ property, cells }) =>
      cells.flatMap((text, i) => {
        const m = BROKEN.exec(text);
        if (!m) return [];
        const [, steps, anchor] = m as unknown as [string, string, string];
        return [{ model, variant: variants[i]!.name, property, steps: Number(steps), anchor, ...traceFilesOf(markdown, anchor) }];
      }),
    );
  });
}

/** The text block of the counterexample under `<a id="anchor">`. */
function counterexampleText(markdown: string, anchor: string): string {
  const at = markdown.indexOf(`<a id="${anchor}"></a>`);
  const open = markdown.indexOf('```text\n', at) + '```text\n'.length;
  return markdown.slice(open, markdown.indexOf('\n```', open));
}

describe('the committed review (reports/)', () => {
  it('is what npm run review writes now, byte for byte', async () => {
    for (const [path, content] of files) {
      expect.soft(existsSync(join(repoRoot, path)), `${path} is missing: run npm run review`).toBe(true);
      if (existsSync(join(repoRoot, path))) expect.soft(committed(path), `${path} is stale: run npm run review`).toBe(content);
    }
  });

  it('holds no trace file the review does not write', async () => {
    const written = [...files.keys()].filter((p) => p.startsWith(join('reports', 'traces'))).map((p) => basename(p));
    // The review never deletes a trace file, so a left-over one needs removing by hand.
    expect(readdirSync(join(repoRoot, 'reports', 'traces')).sort(), 'reports/traces is stale: run npm run review').toEqual(
      written.sort(),
    );
  });
});

describe('the review page', () => {
  it('has a section per built-in model, in registry order', async () => {
    expect(sections(page).map(([model]) => model)).toEqual(builtInModels.map((m) => m.name));
  });

  it('has, per model, a matrix of every property against every variant that agrees with the verdicts', async () => {
    for (const [i, [, section]] of sections(page).entries()) {
      const { model, results } = groups[i]!;
      const { variants, columns, rows } = matrixOf(section);
      expect(variants.map((v) => v.name)).toEqual(model.variants.map((v) => v.name));
      expect(columns).toEqual(variants.map((v) => v.n));
      expect(rows.map((r) => r.property)).toEqual(model.properties.map((p) => p.id));
      // What a ✓ means, said once per variant: every state searched, or the schedules run.
      variants.forEach(({ holds }, k) => {
        const { report } = results[k]!;
        const ran = report.verdicts.find((v) => v.actual === 'holds')?.runs ?? 0;
        expect(holds).toBe(report.search ? `✓ in all ${runs(report.search.stats.states)} states` : `✓ in ${runs(ran)} random schedules`);
      });
      for (const { property, cells } of rows) {
        expect(cells).toHaveLength(variants.length);
        cells.forEach((cell, k) => {
          const { report } = results[k]!;
          const v = report.verdicts.find((x) => x.property === property);
          const where = `${model.name} --variant ${report.variant}, ${property}`;
          expect(v, where).toBeDefined();
          if (v!.actual === 'violated') expect(cell, where).toMatch(BROKEN);
          else if (v!.actual === 'holds') expect(cell, where).toBe('✓');
          else expect([v!.actual, cell], where).toEqual(['n/a', '–']);
        });
      }
    }
  });

  it("fits GitHub's 1,012 px page column: short cells, the widest matrix estimated at 8 px a character and 26 px of padding a cell", () => {
    // What a cell shows, not its Markdown: a link's text, no emphasis.
    const shown = (cell: string) => cell.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/\*\*/g, '');
    for (const [model, section] of sections(page)) {
      const { columns, rows } = matrixOf(section);
      const widest = (k: number) => Math.max(k === 0 ? 'property'.length : columns[k - 1]!.length, ...rows.map((r) => shown(k === 0 ? r.property : r.cells[k - 1]!).length));
      const px = Array.from({ length: columns.length + 1 }, (_, k) => widest(k) * 8 + 26).reduce((a, b) => a + b, 0);
      expect(px, model).toBeLessThanOrEqual(1012);
    }
  });

  it('says every holding verdict took the full runs, and no verdict is other than expected', async () => {
    // Sampled checks (ioasid-bench's) took the full runs; exhaustive ones (ioasid's and iommufd's default) searched every state instead.
    const sampled = groups.flatMap((g) => g.results.filter((r) => !r.report.search).flatMap((r) => r.report.verdicts));
    expect(sampled.length).toBeGreaterThan(0);
    for (const v of sampled.filter((x) => x.actual === 'holds')) expect(v.runs).toBe(DEFAULT_RUNS);
    // Each variant's verdicts, as a table against its expectations, so a mismatch names the variant and property.
    for (const { model, results } of groups) {
      for (const { report } of results) {
        const where = `${model.name} --variant ${report.variant}`;
        expect(Object.fromEntries(report.verdicts.map((v) => [v.property, v.actual])), where).toEqual(
          Object.fromEntries(report.verdicts.map((v) => [v.property, v.expected])),
        );
      }
    }
    expect(groups.every((g) => g.results.every((r) => r.report.matches && r.report.complete))).toBe(true);
    // The legend explains ⚠; no section uses it.
    for (const [model, section] of sections(page)) expect(section, model).not.toContain('⚠');
  });

  it('links each ✗ to its trace files and to its counterexample on the page, all distinct', async () => {
    const broken = brokenCells(page);
    for (const { model, variant, property, anchor, itf, txt } of broken) {
      expect(itf).toBe(`traces/${model}-${variant}-${property}.itf.json`);
      expect(txt).toBe(`traces/${model}-${variant}-${property}.txt`);
      expect(files.has(join('reports', itf)), itf).toBe(true);
      expect(files.has(join('reports', txt)), txt).toBe(true);
      expect(page).toContain(`<a id="${anchor}"></a>`);
    }
    const anchors = [...page.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]);
    expect(new Set(anchors).size).toBe(anchors.length);
    expect(broken.map((b) => b.anchor).sort()).toEqual([...anchors].sort());
    // Two counterexamples writing one file name would leave fewer files than ✗ cells.
    expect([...files.keys()].filter((p) => p.endsWith('.itf.json'))).toHaveLength(broken.length);
  });

  it('holds no timings, so the same seed gives the same page', async () => {
    expect(page).not.toMatch(/\d+(\.\d+)? ?ms\b/);
    expect(page).not.toMatch(/\d+(\.\d+)? ?s\)/);
    expect(page).not.toContain('durationMs');
  });
});

describe("the review's trace files", () => {
  it('each break their property, on replay, at the step they record and in the steps the page says', async () => {
    for (const { model, variant, property, steps, itf } of brokenCells(page)) {
      const file = readTraceFile(join(generated, 'reports', itf));
      const { origin } = file;
      expect(origin).toMatchObject({ model, variant, property, violation: { property } });
      expect(file.steps, itf).toHaveLength(steps);
      const result = replay(findVariant(model, variant), origin.bounds, file.steps, property);
      expect(result.stuck, itf).toBeUndefined();
      expect(result.violation?.property, itf).toBe(property);
      expect(result.violation?.at, itf).toBe(origin.violation!.at);
    }
  });

  it('still fail under lifecheck replay (exit 1)', async () => {
    const r = lifecheck('replay', 'reports/traces/ioasid-bench-bench-buggy-no-use-after-free.itf.json');
    expect(r.code).toBe(1);
    expect(r.out).toContain('still fails: no-use-after-free breaks at step 4, as the trace recorded');
  });

  it('have a text rendering beside each: the one on the page, marked at the property, within 80 columns', async () => {
    for (const { property, anchor, txt } of brokenCells(page)) {
      const text = files.get(join('reports', txt))!;
      expect(text, txt).toContain(`<-- ${property}`);
      expect(text, txt).toBe(`${counterexampleText(page, anchor)}\n`);
      for (const line of lines(text)) expect([...line].length, `${txt}: ${line}`).toBeLessThanOrEqual(80);
    }
  });
});

describe('lifecheck review', () => {
  const bench = () => groups.find((g) => g.model.name === 'ioasid-bench')!;

  it('writes the page of the models named, their trace files, and --junit and --report', async () => {
    const out = join(root, 'bench');
    const r = lifecheck('review', 'ioasid-bench', '--out', out, '--junit', join(out, 'j.xml'), '--report', out);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const expected = reviewFiles(out, [bench()], version);
    expect(r.out).toContain(`wrote ${join(out, 'review.md')} and ${expected.size - 1} trace files`);
    for (const [path, content] of expected) expect(readFileSync(path, 'utf8'), path).toBe(content);
    const md = readFileSync(join(out, 'review.md'), 'utf8');
    expect(sections(md).map(([model]) => model)).toEqual(['ioasid-bench']);
    const traces = [...expected.keys()].filter((p) => p.startsWith(join(out, 'traces'))).map((p) => basename(p));
    expect(readdirSync(join(out, 'traces')).sort()).toEqual(traces.sort());
    expect(readdirSync(out).sort()).toEqual(['check.json', 'check.txt', 'j.xml', 'review.md', 'traces']);
    expect(JSON.parse(readFileSync(join(out, 'check.json'), 'utf8'))).toMatchObject({ matches: true, complete: true });
    expect(readFileSync(join(out, 'j.xml'), 'utf8')).toMatch(/^<\?xml[\s\S]*<testsuite [^>]*ioasid-bench/);
  });

  it('exits 1 under --min-coverage 100, naming each variant whose transition coverage is below', async () => {
    const r = lifecheck('review', 'ioasid-bench', '--out', join(root, 'cov100'), '--min-coverage', '100');
    expect(r.code).toBe(1);
    const below = bench().results.map(
      ({ report }) =>
        `lifecheck: ioasid-bench --variant ${report.variant}: transition coverage ${transitionPercent(report.coverage ?? []).toFixed(1)}% is below --min-coverage 100`,
    );
    expect(bench().results.every(({ report }) => transitionPercent(report.coverage ?? []) < 100)).toBe(true);
    expect(lines(r.err)).toEqual(below);
  });

  it('removes trace files an earlier review wrote that this one does not, and nothing else', async () => {
    const out = join(root, 'stale');
    mkdirSync(join(out, 'traces'), { recursive: true });
    for (const name of ['ioasid-bench-fixed-no-use-after-free.itf.json', 'ioasid-bench-fixed-no-use-after-free.txt', 'notes.md', 'mine.txt', 'ioasid-series-no-use-after-free.itf.json']) {
      writeFileSync(join(out, 'traces', name), 'from an earlier review');
    }
    expect(lifecheck('review', 'ioasid-bench', '--out', out).code).toBe(0);
    const traces = [...reviewFiles(out, [bench()], version).keys()].filter((p) => p.startsWith(join(out, 'traces'))).map((p) => basename(p));
    // Files of other models (a review of ioasid-bench only) and the user's own are not the review's to remove.
    expect(readdirSync(join(out, 'traces')).sort()).toEqual([...traces, 'ioasid-series-no-use-after-free.itf.json', 'mine.txt', 'notes.md'].sort());
  });

  it("reviews a user's module: its model's section, and trace files that name the module, so replay finds it", async () => {
    const out = join(root, 'module');
    const r = lifecheck('review', 'test/fixtures/spinlock-model.ts', '--out', out);
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(sections(readFileSync(join(out, 'review.md'), 'utf8')).map(([model]) => model)).toEqual(['spinlock']);
    const traces = join(out, 'traces');
    expect(readdirSync(traces).sort()).toEqual(['spinlock-retries-run-ends.itf.json', 'spinlock-retries-run-ends.txt']);
    const itf = join(traces, 'spinlock-retries-run-ends.itf.json');
    expect(readTraceFile(itf).origin.module).toBe(relative(traces, join(repoRoot, 'test/fixtures/spinlock-model.ts')));
    const again = lifecheck('replay', itf);
    expect(again.code).toBe(1);
    expect(again.out).toContain('still fails: run-ends breaks at step 2, as the trace recorded');
  });

  it('exits 0 under --min-coverage 0', async () => {
    const r = lifecheck('review', 'ioasid-bench', '--out', join(root, 'cov0'), '--min-coverage', '0');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
  });
});

describe('lifecheck diagram', () => {
  it('prints a machine as the state diagram the page draws (exit 0)', async () => {
    const r = lifecheck('diagram', 'ioasid.ioasid');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^stateDiagram-v2\n/);
    expect(r.out).toBe(`${(await diagram(['ioasid.ioasid'], undefined, builtInModels)).mermaid}\n`);
    expect(page).toContain(`\`\`\`mermaid\n${r.out}\`\`\``);
  });

  it('prints it as JSON with --json: which machine, its Mermaid text and every transition', () => {
    const doc = JSON.parse(lifecheck('diagram', 'ioasid.ioasid', '--variant', 'series', '--json').out) as { model: string; variant: string; machine: string; mermaid: string; transitions: { from: string; to: string; event: string }[] };
    expect(doc).toMatchObject({ model: 'ioasid', variant: 'series', machine: 'ioasid' });
    expect(`${doc.mermaid}\n`).toBe(lifecheck('diagram', 'ioasid.ioasid', '--variant', 'series').out);
    expect(doc.transitions).toContainEqual(expect.objectContaining({ from: 'freePending', to: 'freePending', event: 'GET' }));
  });

  it('review --json prints the checks as one JSON document, as check --json does', () => {
    const out = mkdtempSync(join(tmpdir(), 'lifecheck-review-json-'));
    try {
      const r = lifecheck('review', 'ioasid-bench', '--out', out, '--json');
      expect(r.code).toBe(0);
      const doc = JSON.parse(r.out) as { results: { variant: string }[]; matches: boolean };
      expect(doc.matches).toBe(true);
      expect(doc.results.map((x) => x.variant)).toEqual(['bench-buggy', 'fixed']);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('draws a machine only some variants have: the first that has it, or the one named', async () => {
    // 000 (v1) has no IOASID states; the series is the first variant with them.
    const named = lifecheck('diagram', 'ioasid.ioasid', '--variant', 'series');
    expect(named.code).toBe(0);
    expect(named.out).toMatch(/^stateDiagram-v2\n/);
    expect(lifecheck('diagram', 'ioasid.ioasid')).toEqual(named);
    expectUsageError(
      lifecheck('diagram', 'ioasid.ioasid', '--variant', 'v1'),
      /variant 'v1' of model 'ioasid' has no machine 'ioasid'; known: ioasid\.alloc, ioasid\.free, ioasid\.bind, ioasid\.unbind, ioasid\.find, ioasid\.guests_exit \(give MODEL\.MACHINE\)/,
    );
  });

  it('draws the first variant’s machine when variants draw it differently', async () => {
    // Every variant has a free call; 000's erases at once, the series' goes through FREE_PENDING.
    const first = lifecheck('diagram', 'ioasid.free', '--variant', 'v1');
    expect(first.code).toBe(0);
    expect(lifecheck('diagram', 'ioasid.free')).toEqual(first);
    const series = lifecheck('diagram', 'ioasid.free', '--variant', 'series');
    expect(series.code).toBe(0);
    expect(series.out).not.toBe(first.out);
    expect(series.out).toContain('IOASID_STATE_FREE_PENDING');
  });
});

describe("lifecheck diagram of a user's module", () => {
  it('draws a machine of a model the module defines, named after the module', async () => {
    const r = lifecheck('diagram', 'test/fixtures/spinlock.ts', 'spinlock.lock');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    expect(r.out).toBe(`${stateDiagram(lockMachine)}\n`);
    expectUsageError(lifecheck('diagram', 'test/fixtures/spinlock.ts', 'ioasid.ioasid'), /'test\/fixtures\/spinlock\.ts' defines no model 'ioasid'; it defines spinlock$/m);
  });
});

describe('bad input to review and diagram: exit 2, one line, nothing written', () => {
  it.each([
    ['review nosuch', /unknown model 'nosuch'/],
    ['review ioasid-bench --out plain/sub', /--out plain\/sub: .*plain is a file, not a folder/],
    ['review --min-coverage 101', /--min-coverage 101 is out of range; use 0 to 100/],
    ['diagram nosuch.slot', /unknown model 'nosuch'/],
    ['diagram ioasid.nosuch', /model 'ioasid' has no machine 'nosuch'; known: ioasid\.alloc, ioasid\.free, ioasid\.bind, ioasid\.unbind, ioasid\.find, ioasid\.guests_exit, ioasid\.refcount, ioasid\.ioasid, ioasid\.ioasid_set, ioasid\.set_free\b/],
    ['diagram ioasid', /'ioasid' names no machine; known: ioasid\.alloc, ioasid\.free, ioasid\.bind, ioasid\.unbind, ioasid\.find, ioasid\.guests_exit, ioasid\.refcount, ioasid\.ioasid, ioasid\.ioasid_set, ioasid\.set_free\b/],
    ['diagram ioasid.toString', /model 'ioasid' has no machine 'toString'/],
    ['check ioasid-bench --junit out/', /--junit out\/: names a folder; give a file name/],
    ['diagram ioasid.ioasid.extra', /unknown model 'ioasid\.ioasid'; known models: ioasid, iommufd, ioasid-bench \(or a path to a \.ts module\)\n/],
    ['review test/fixtures/patches.ts', /no such file 'test\/fixtures\/patches\.ts'; give a path to a \.ts or \.js module\n/],
    ['diagram test/fixtures/spinlock.ts', /diagram takes MODEL\.MACHINE, or a path to a \.ts module and then MODEL\.MACHINE; got 'test\/fixtures\/spinlock\.ts'/],
    ['diagram ioasid.ioasid --variant nosuch', /unknown variant 'nosuch' of model 'ioasid'/],
  ] as const)('lifecheck %s', (command, says) => {
    // In a folder of its own, where the default --out (reports) would land.
    const cwd = mkdtempSync(join(root, 'bad-'));
    writeFileSync(join(cwd, 'plain'), 'x');
    expectUsageError(lifecheckIn(cwd, ...command.split(' ')), says);
    expect(readdirSync(cwd)).toEqual(['plain']);
    expect(readFileSync(join(cwd, 'plain'), 'utf8')).toBe('x');
  });
});
