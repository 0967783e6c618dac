/** The command line as a user runs it: exit codes, one-line errors, JSON, user modules. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ioasid, iommufd } from 'lifecheck/models';
import { progressLine } from '../../src/cli/progress.ts';

const bin = new URL('../../bin/lifecheck.js', import.meta.url).pathname;

function lifecheck(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('lifecheck check', () => {
  it('reports the use-after-free of the series in JSON, with the shortest trace', () => {
    // ioasid's default search: every interleaving, so the trace is a shortest one, replayed with --exhaustive.
    const r = lifecheck('check', 'ioasid', '--variant', 'series', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc).toMatchObject({ schemaVersion: 1, explorer: 'exhaustive', complete: true, matches: true });
    const uaf = doc.results[0].verdicts.find((v: { property: string }) => v.property === 'no-use-after-free');
    expect(uaf).toMatchObject({ actual: 'violated', expected: 'violated', matches: true });
    // CPU0 allocates and finds, CPU1 (the same guest) frees, CPU0 uses what it found.
    expect(uaf.counterexample.steps.map((s: { thread: number; call: string }) => `CPU${s.thread} ${s.call}`)).toEqual([
      'CPU0 alloc(): ioasid_alloc(set, min, max, private) = ioasid 1#1; returns 1',
      'CPU0 find(1): ioasid_find(set, id, NULL) = ioasid 1#1',
      'CPU1 free(1): ioasid_free(set, id) = ok; returns 0',
      'CPU0 use(found, priv) = ok; returns 0',
    ]);
    expect(uaf.counterexample.replay).toBe('lifecheck check ioasid --variant series --property no-use-after-free --exhaustive');
  });

  it('says what a random check that found nothing is worth, by PCT, and never that it holds', () => {
    const r = lifecheck('check', 'ioasid-bench', '--variant', 'fixed', '--runs', '300');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/✓ no-use-after-free +no violation in 300 random schedules +as expected/);
    expect(r.out).toMatch(/random: 300 schedules \(portfolio: \d+ PCT at depth 1, \d+ PCT at depth 2, \d+ PCT at depth 3\), 3 threads, up to \d+ choice points a run\n/);
    expect(r.out).toMatch(/each PCT run finds a bug of a given depth in the calls it drew with probability at least depth 1 1\/3, depth 2 1\/\d+, depth 3 1\/[\d,]+\n/);
    expect(r.out).toMatch(/a bug in the calls every run drew is missed by all of them with probability depth 1 [<=]+ [\d.e-]+, depth 2 [<=]+ [\d.e-]+, depth 3 <= 0\.\d+/);
    expect(r.out).not.toMatch(/\bholds\b/);
  });

  it('replays a counterexample found by another scheduler from its printed line, which names the scheduler', () => {
    const args = ['check', 'ioasid-bench', '--variant', 'bench-buggy', '--property', 'no-use-after-free'];
    const cx = JSON.parse(lifecheck(...args, '--scheduler', 'pct', '--pct-depth', '2', '--json').out).results[0].verdicts[0].counterexample;
    expect(cx).toMatchObject({ scheduler: 'pct', depth: 2 });
    expect(cx.replay).toBe(`lifecheck ${args.join(' ')} --seed 42 --path ${cx.path} --scheduler pct --pct-depth 2`);
    const again = JSON.parse(lifecheck(...cx.replay.split(' ').slice(1), '--json').out).results[0].verdicts[0].counterexample;
    expect(again.text).toBe(cx.text);
  });

  it('checks variants on worker threads with the same reports as on one', () => {
    const without = (doc: { durationMs?: number; results: { durationMs?: number }[] }) =>
      JSON.stringify({ ...doc, durationMs: 0, results: doc.results.map((r) => ({ ...r, durationMs: 0 })) });
    const one = lifecheck('check', 'ioasid-bench', '--runs', '2000', '--json', '--jobs', '1');
    const two = lifecheck('check', 'ioasid-bench', '--runs', '2000', '--json', '--jobs', '2');
    expect(two.code).toBe(one.code);
    expect(without(JSON.parse(two.out))).toBe(without(JSON.parse(one.out)));
  });

  it('splits a random check into shards from seeds of their own, and merges their reports into one verdict', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifecheck-shards-'));
    try {
      const part = (i: number) => {
        const file = join(dir, `${i}.json`);
        const r = lifecheck('check', 'ioasid-bench', '--variant', 'fixed', '--runs', '300', '--shard', `${i}/3`, '--json');
        writeFileSync(file, r.out);
        expect(JSON.parse(r.out)).toMatchObject({ shard: { index: i, count: 3 }, results: [{ seed: 42 + i - 1 }] });
        return file;
      };
      const files = [1, 2, 3].map(part);
      const merged = lifecheck('merge', ...files, '--json');
      expect(merged.code).toBe(0);
      const doc = JSON.parse(merged.out);
      expect(doc).toMatchObject({ merged: { count: 3, parts: [1, 2, 3] }, complete: true, matches: true });
      expect(doc.results[0].verdicts.map((v: { actual: string; runs: number }) => [v.actual, v.runs])).toEqual(Array(4).fill(['holds', 900]));
      const parts = files.map((f) => JSON.parse(readFileSync(f, 'utf8')).results[0].guarantee);
      expect(doc.results[0].guarantee.depths.map((d: { runs: number }) => d.runs)).toEqual(
        parts[0].depths.map((_: unknown, k: number) => parts.reduce((n: number, g: { depths: { runs: number }[] }) => n + g.depths[k]!.runs, 0)),
      );
      const short = lifecheck('merge', files[0]!, files[2]!);
      expect(short.code).toBe(3);
      expect(short.out).toContain('INCOMPLETE: part 2 of 3 missing');
      expect(lifecheck('merge', files[0]!, files[0]!).err).toBe('lifecheck: part 1/3 is given twice; give each part once\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('splits an exhaustive check into shards that each search a share, and merges them into the one search\'s verdicts and traces', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifecheck-shards-'));
    try {
      const args = ['check', 'iommufd', '--variant', 'finalize-before-fail', '--exhaustive', '--threads', '2', '--ops', '2', '--ids', '2'];
      // Each part prints its text and writes its JSON report (--report), as a CI matrix job would.
      const part = (i: number) => {
        const r = lifecheck(...args, '--shard', `${i}/3`, '--report', join(dir, String(i)));
        // A part decides only what it breaks: it exits 0 whatever its share holds.
        expect(r.code).toBe(0);
        expect(r.out).toMatch(new RegExp(`part ${i} of 3: lifecheck merge gives the verdicts`));
        const file = join(dir, String(i), 'check.json');
        expect(JSON.parse(readFileSync(file, 'utf8')).results[0].search.split).toMatchObject({ part: i - 1, parts: 3 });
        return file;
      };
      const files = [1, 2, 3].map(part);
      // A part that stepped back into the shared levels cannot rule out a loop through other parts' worlds.
      const undecided = new Set(files.flatMap((f) => (JSON.parse(readFileSync(f, 'utf8')).results[0].search.split.undecided ?? []) as string[]));
      const merged = lifecheck('merge', ...files, '--json');
      expect(merged.code).toBe(undecided.size ? 3 : 0);
      const doc = JSON.parse(merged.out);
      const one = JSON.parse(lifecheck(...args, '--json').out).results[0];
      const said = (verdicts: { property: string; actual: string; counterexample?: { text: string; replay: string } }[]) =>
        verdicts.map((v) => [v.property, undecided.has(v.property) && v.actual === 'holds' ? 'unknown' : v.actual, v.counterexample?.text, v.counterexample?.replay]);
      expect(doc).toMatchObject({ explorer: 'exhaustive', matches: true });
      expect(doc.results[0].verdicts.map((v: { property: string; actual: string; counterexample?: { text: string; replay: string } }) => [v.property, v.actual, v.counterexample?.text, v.counterexample?.replay])).toEqual(said(one.verdicts));
      expect(lifecheck('merge', ...files).out).toMatch(/holds \(every part searched its share: [\d,]+ \+ [\d,]+ \+ [\d,]+ states, overlapping\)/);
      expect(lifecheck('merge', files[0]!, files[1]!).code).toBe(3);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('replays a counterexample from the printed seed and path', () => {
    const first = JSON.parse(lifecheck('check', 'ioasid', '--variant', 'series', '--property', 'no-use-after-free', '--random', '--json').out);
    const cx = first.results[0].verdicts[0].counterexample;
    expect(cx.replay).toBe(`lifecheck check ioasid --variant series --property no-use-after-free --seed 42 --path ${cx.path}`);
    // The printed line as it stands: a --path is a random run's, whatever the model's default search.
    const again = lifecheck('check', 'ioasid', '--variant', 'series', '--property', 'no-use-after-free', '--seed', String(cx.seed), '--path', cx.path, '--json');
    expect(JSON.parse(again.out).results[0].verdicts[0].counterexample.text).toBe(cx.text);
  });

  it('reports v1 reusing an id a second user still holds, as text with lockdep columns', () => {
    const r = lifecheck('check', 'ioasid', '--variant', 'v1', '--property', 'no-reuse-while-referenced', '--threads', '2');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ +CPU0 +CPU1/m);
    expect(r.out).toMatch(/<-- no-reuse-while-referenced/);
  });

  it('exits 1 when a verdict is not what the variant expects', () => {
    // With one call per vCPU, the guest that allocates has none left to free what its other vCPU found: the
    // expected use-after-free is not found (the other guest's vCPU may not free it).
    const r = lifecheck('check', 'ioasid', '--variant', 'series', '--ops', '1');
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/no-use-after-free +holds \(all [\d,]+ states\) +UNEXPECTED: expected violated/);
  });

  it('checks a variant from a file outside models/', () => {
    // A user's patch: spin_unlock's guard overridden, so the lock stays held.
    const r = lifecheck('check', 'test/fixtures/spinlock.ts', '--variant', 'unlock-refused', '--runs', '500');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/unlocked-at-end +violated/);
    // Its replay line names the file, since the variant is not built in.
    expect(r.out).toMatch(/replay: lifecheck check test\/fixtures\/spinlock\.ts --variant unlock-refused --property unlocked-at-end --seed 42 --path /);
  });

  it('writes its reports into --report and nothing else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifecheck-'));
    const r = lifecheck('check', 'ioasid', '--variant', 'series-find-get', '--threads', '2', '--report', dir);
    expect(r.code).toBe(0);
    expect(readdirSync(dir).sort()).toEqual(['check.json', 'check.txt']);
  });
});

describe('the review findings of seeds 000, 001 and 004, from the checker itself', () => {
  // Narrowed scenarios: each finding needs two vCPUs, or the calls named.
  it.each([
    ['v1', 'no-reuse-while-referenced', ['--threads', '2'], /bonds\[1\] still holds ioasid 1#1, which is freed/],
    ['series-free-every-call', 'no-free-while-referenced', ['--threads', '2', '--only', 'calls=alloc,bind,free'], /CPU1 frees ioasid 1#1 while bonds\[0\] still holds a reference/],
    ['null-set-global', 'no-type-confusion', ['--only', 'calls=alloc,find'], /find\(1\): ioasid_find\(NULL, .*type confusion: CPU2 use\(priv\): priv \(mm 1#1\) used as aux_domain/],
    ['set-mandatory', 'failed-call-changes-nothing', ['--threads', '2', '--only', 'calls=alloc,set_free'], /set_free returned -EBUSY but left changed: ioasid_set 1\.phase live → freePending/],
  ])('%s breaks %s, with a trace (exit 0: as expected)', (variant, property, scenario, trace) => {
    const r = lifecheck('check', 'ioasid', '--variant', variant, '--property', property, ...scenario);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`✗ ${property} +violated in \\d+ steps \\(shortest`));
    expect(r.out.replace(/\n\s+/g, ' ')).toMatch(trace);
  });
});

describe('lifecheck list', () => {
  it('lists models, variants with their seeds, and properties', () => {
    const r = lifecheck('list');
    expect(r.code).toBe(0);
    for (const m of [ioasid, iommufd]) {
      const width = Math.max(...m.variants.map((v) => v.name.length));
      expect(r.out).toContain(`model ${m.name}: ${m.title}`);
      for (const v of m.variants) expect(r.out).toContain(`${v.name.padEnd(width)}  ${v.title} [${v.source}]`);
    }
    expect(r.out).toContain('no-use-after-free');
    expect(r.out).toContain('destroy-busy-iff-held');
  });

  it("says each model's default scenario and what --only narrows, every call of every variant (set_free is set-mandatory's)", () => {
    const r = lifecheck('list');
    expect(r.out).toContain('  default scenario: 3 threads × 2 calls each, ids 1..1, searched exhaustively');
    expect(r.out).toMatch(/^ {4}--only calls=alloc,free,bind,unbind,find,set_free,/m);
    expect(r.out).toContain('  --only: nothing to narrow');
    const json = JSON.parse(lifecheck('list', '--json').out) as { models: { name: string; search: string; only: Record<string, string[]> }[] };
    expect(json.models.find((m) => m.name === 'iommufd')).toMatchObject({ search: 'exhaustive', only: { calls: expect.arrayContaining(['IOMMU_DESTROY']) } });
  });
});

describe('bad input: one line, exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['check', 'nosuch'], /unknown model 'nosuch'; known models: ioasid/],
    [['check', 'ioasid', '--variant', 'nope'], /unknown variant 'nope' of model 'ioasid'; known: v1, /],
    [['check', 'ioasid', '--property', 'nope'], /unknown property 'nope' of model 'ioasid'; known: no-use-after-free, .*, no-reuse-while-referenced, /],
    [['check', 'ioasid', '--threads', '0'], /--threads 0 is out of range; use 1 to 32/],
    [['check', 'ioasid', '--ops', '1000'], /--ops 1000 is out of range/],
    [['check', 'ioasid', '--ids', '3..1'], /min 3 is above max 1/],
    [['check', 'ioasid', '--ids', '0'], /--ids 0 is an empty range/],
    [['check', 'ioasid', '--only', 'calls'], /--only takes KEY=NAME/],
    [['check', 'ioasid', '--only', 'calls=,'], /--only calls= names nothing/],
    [['check', 'ioasid', '--variant', 'series', '--only', 'calls=frob'], /--only calls=frob: variant 'series' of model 'ioasid' has no calls 'frob'; known: alloc, free, bind, unbind, find$/m],
    [['check', 'ioasid', '--variant', 'series', '--only', 'sets=s1'], /--only sets: variant 'series' of model 'ioasid' has no sets to narrow; it offers: calls$/m],
    // A call only one variant has: ioasid_set_free is set-mandatory's.
    [['check', 'ioasid', '--variant', 'series', '--only', 'calls=alloc,set_free'], /has no calls 'set_free'; known: alloc, free, bind, unbind, find$/m],
    [['check', 'ioasid', '--variant', 'set-mandatory', '--only', 'calls=set_frob'], /has no calls 'set_frob' \(did you mean 'set_free'\?\); known: alloc, free, bind, unbind, find, set_free$/m],
    [['check', 'ioasid', '--ids', '0..1'], /--ids 0..1: ioasid's ids start at 1 here; give --ids 2 or 1..N/],
    // Issue 4: a scenario naming an object kind that does not exist.
    [['check', 'iommufd', '--only', 'kinds=gpu'], /--only kinds: .* has no kinds to narrow; it offers: calls/],
    [['check', 'iommufd', '--only', 'calls=IOMMU_FROB'], /--only calls=IOMMU_FROB: .* has no calls 'IOMMU_FROB'; known: IOMMU_IOAS_ALLOC, IOMMU_HWPT_ALLOC/],
    [['check', 'iommufd', '--variant', 'v6.3'], /unknown variant 'v6.3' of model 'iommufd'; known: v6.2-rwsem, /],
    [['check', 'iommufd', '--ids', '0..2'], /--ids 0..2: iommufd's ids start at 1 \(XA_FLAGS_ALLOC1 never allocates id 0, and the process's fd is 1\); give --ids 3 or 1..N/],
    [['check', 'iommufd', '--ids', '2..3'], /--ids 2..3: iommufd's ids start at 1/],
    [['check', 'ioasid', '--seed', 'abc'], /--seed takes a whole number/],
    [['check', 'ioasid', '--variant', 'series', '--path', 'x:y'], /--path 'x:y' is not a replay path/],
    [['check', 'ioasid', '--variant', 'series', '--path', '1:2'], /--path replays one counterexample/],
    [['check', 'ioasid', '--frobnicate'], /unknown option '--frobnicate'/],
    [['check', 'ioasid', '--scheduler', 'pct'], /--scheduler applies to the random search only; add --random/],
    [['check', 'ioasid-bench', '--pct-depth', '2'], /--pct-depth is the depth of --scheduler pct; add --scheduler pct/],
    [['check', 'ioasid', '--shard', '1/2', '--preemptions', '2'], /--shard splits one breadth-first search, and --preemptions runs several; drop one/],
    [['check', 'ioasid-bench', '--shard', '3/2'], /--shard 3\/2 is not a part of a search; give I\/N/],
    [['merge', 'README.md'], /README.md: is not JSON/],
    [['check', 'ioasid-bench', '--scheduler', 'fair'], /argument 'fair' is invalid. Allowed choices are portfolio, uniform, swarm, pct/],
    [['check', 'iommfd'], /^lifecheck: unknown model 'iommfd' \(did you mean 'iommufd'\?\); known models: /],
    [['check', 'ioasid', '--variant', 'seris'], /unknown variant 'seris' of model 'ioasid' \(did you mean 'series'\?\); known: /],
    [['check', 'ioasid', '--property', 'no-use-after-fre'], /unknown property 'no-use-after-fre' of model 'ioasid' \(did you mean 'no-use-after-free'\?\)/],
    [['check', 'ioasid', '--variant', 'series', '--only', 'calls=aloc'], /has no calls 'aloc' \(did you mean 'alloc'\?\)/],
    [['check', 'ioasid', '--variantt', 'series'], /^lifecheck: unknown option '--variantt' \(did you mean --variant\?\)$/m],
    [['chek'], /^lifecheck: unknown command 'chek' \(did you mean check\?\)$/m],
    [['show', '-'], /^lifecheck: standard input: not JSON/],
    [['check', './no/such/file.ts'], /no such file/],
    [['check', 'test/fixtures/not-a-model.ts'], /must default-export a model, a variant/],
  ];
  it.each(cases)('%j', (args, message) => {
    const r = lifecheck(...args);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.out).toBe('');
  });
});

describe('first contact', () => {
  const colored = (env: Record<string, string>, ...args: string[]) =>
    /\x1b\[/.test(spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: undefined, ...env } }).stdout);

  it('colours what it prints only where asked: --no-color and NO_COLOR take it away', () => {
    const args = ['check', 'ioasid-bench', '--runs', '50'];
    expect(colored({ FORCE_COLOR: '1' }, ...args)).toBe(true);
    expect(colored({ FORCE_COLOR: '1' }, ...args, '--no-color')).toBe(false);
    expect(colored({ FORCE_COLOR: '1', NO_COLOR: '1' }, ...args)).toBe(false);
  });

  it('lists the exit codes in check --help and review --help', () => {
    for (const command of ['check', 'review']) {
      const help = lifecheck(command, '--help').out;
      expect(help).toMatch(/^Exit codes:$/m);
      for (const code of ['0', '1', '2', '3', '130']) expect(help).toMatch(new RegExp(`^  ${code} +\\S`, 'm'));
    }
  });

  it("a check's progress reads as a line with an estimate of the time left, or the exhaustive search's figures", () => {
    expect(progressLine({ runs: 2_500, of: 10_000, broken: 1, elapsedMs: 1_000 })).toBe('sampling: 2,500 of 10,000 schedules, 1 property broken, about 3 s left');
    const stats = { states: 12_345, transitions: 40_000, depth: 7, queued: 900, elapsedMs: 500, statesPerSecond: 24_690, peakRssBytes: 150 * 2 ** 20, bytesPerState: 60 };
    expect(progressLine(stats)).toBe('exploring: 12,345 states, 40,000 transitions, depth 7, 900 queued, 24,690 states/s, 150 MB');
  });

  it('shows a trace read from standard input (show -)', () => {
    const file = new URL('../../reports/traces/ioasid-bench-bench-buggy-no-use-after-free.itf.json', import.meta.url).pathname;
    const piped = spawnSync(process.execPath, [bin, 'show', '-'], { input: readFileSync(file, 'utf8'), encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
    expect(piped.status).toBe(0);
    expect(piped.stdout).toBe(lifecheck('show', file).out);
  });
});

describe('a module that does not load: one line naming the file, line, column and why, exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'lifecheck-modules-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const files: Record<string, string> = {
    'syntax.mts': "import { ioasid } from 'lifecheck/models';\n\nconst a = 1 x;\nexport default ioasid;\n",
    // The error is in a file the module imports: that file is the one to name.
    'imports-broken.mts': "export { default } from './broken-helper.mts';\n",
    'broken-helper.mts': 'export default {\n  name: "x",,\n};\n',
    'throws.mts': "import { ioasid } from 'lifecheck/models';\n\nfunction boom(): never {\n  throw new RangeError('no ids left');\n}\nboom();\nexport default ioasid;\n",
    // lifecheck's own code throws: the line to name is the module's call to it.
    'bad-model.mts': "import { defineModel } from 'lifecheck';\n\nexport default defineModel({ name: 'Bad Name' } as never);\n",
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);

  it.each([
    ['syntax.mts', 'syntax.mts:3:13', 'Expected ";" but found "x"'],
    ['imports-broken.mts', 'broken-helper.mts:2:13', 'Expected identifier but found ","'],
    ['throws.mts', 'throws.mts:4:9', 'RangeError: no ids left'],
    ['bad-model.mts', 'bad-model.mts:3:16', `DefinitionError: model name "Bad Name" must be lower-case letters, digits, '.' or '-'`],
  ])('%s: %s', (name, where, why) => {
    const r = lifecheck('check', join(dir, name));
    expect(r.err).toBe(`lifecheck: cannot load '${join(dir, name)}': ${join(dir, where)}: ${why}\n`);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
  });

  it('names a file inside the working folder relative to it', () => {
    const r = spawnSync(process.execPath, [bin, 'check', './syntax.mts'], { cwd: dir, encoding: 'utf8' });
    expect(r.stderr).toBe(`lifecheck: cannot load './syntax.mts': syntax.mts:3:13: Expected ";" but found "x"\n`);
    expect(r.status).toBe(2);
  });
});

describe('the findings of seed 002, from the checker itself', () => {
  // Narrowed scenarios: the default one's full search takes minutes (lifecheck check iommufd).
  const race = ['--only', 'calls=iommufd_device_bind,iommufd_device_unbind,IOMMU_DESTROY', '--ops', '2'];
  const ioas = ['--only', 'calls=IOMMU_IOAS_ALLOC,IOMMU_IOAS_MAP,IOMMU_DESTROY', '--ops', '2'];
  it.each([
    ['v6.2-rwsem', 'kernel-destroy-completes', race, /iommufd_device_unbind could not destroy device 1#1 \(-EBUSY\): CPU1's obj holds a users reference/],
    ['destroy-without-ref-to-users', 'no-deadlock', ioas, /waits for ever in IOMMU_DESTROY: down_write\( ?&ioas 1\.destroy_rwsem\)/],
    ['finalize-before-fail', 'finalize-xor-abort', ioas, /iommufd_object_abort_and_destroy\(ictx, &ioas->obj\)/],
  ])('%s breaks %s, with a trace (exit 0: as expected)', (variant, property, scenario, trace) => {
    const r = lifecheck('check', 'iommufd', '--variant', variant, '--property', property, ...scenario);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`✗ ${property} +violated in \\d+ steps \\(shortest`));
    expect(r.out.replace(/\n\s+/g, ' ')).toMatch(trace);
  });

  it.each(['v6.2-rwsem', 'v6.7-shortterm'])('%s keeps every property it claims, every interleaving of the race scenario', (variant) => {
    const r = lifecheck('check', 'iommufd', '--variant', variant, ...race, '--json');
    const verdicts = JSON.parse(r.out).results[0].verdicts as { expected: string; actual: string }[];
    for (const v of verdicts.filter((x) => x.expected === 'holds')) expect(v.actual).toBe('holds');
  });
});
