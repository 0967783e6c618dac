/**
 * `lifecheck check --exhaustive` as a user runs it: the search's figures and
 * replay line, its JSON, exit 3 with advice when a cap stops it, symmetry, and
 * one-line usage errors (exit 2) for search flags that mean nothing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = new URL('../../bin/lifecheck.js', import.meta.url).pathname;

function lifecheck(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

interface Doc {
  explorer: string;
  complete: boolean;
  results: {
    complete: boolean;
    search: { complete: boolean; stats: { states: number } };
    verdicts: { property: string; actual: string; counterexample?: { shortest: boolean; steps: unknown[]; replay: string } }[];
  }[];
}

const small = ['check', 'ioasid-bench', '--exhaustive', '--threads', '2', '--ops', '3'];
const capped = ['check', 'ioasid-bench', '--exhaustive', '--threads', '20', '--max-states', '5000'];

describe('lifecheck check --exhaustive', () => {
  it('proves the bench within 2 threads x 3 ops, prints the search figures and a replay line, and exits 0', () => {
    const r = lifecheck(...small);
    expect(r.code).toBe(0);
    expect(r.out).toContain('2,129 states');
    expect(r.out).toContain('8,598 transitions');
    expect(r.out).toContain('bounds fully explored');
    expect(r.out).toMatch(/replay: lifecheck check ioasid-bench --variant bench-buggy --property no-use-after-free .*--exhaustive/);
    expect(r.err).toBe('');
  });

  it('prints pure JSON with the search figures and a shortest counterexample', () => {
    const r = lifecheck(...small, '--json');
    expect(r.code).toBe(0);
    expect(r.err).toBe('');
    const doc = JSON.parse(r.out) as Doc;
    expect(doc).toMatchObject({ explorer: 'exhaustive', complete: true });
    for (const result of doc.results) {
      expect(result.search.complete).toBe(true);
      expect(result.search.stats.states).toBeGreaterThan(0);
    }
    expect(doc.results[0]!.search.stats.states).toBe(2129);
    const violated = doc.results.flatMap((x) => x.verdicts).filter((v) => v.actual === 'violated');
    expect(violated.map((v) => v.property)).toEqual(['no-use-after-free']);
    expect(violated[0]!.counterexample).toMatchObject({ shortest: true });
    expect(violated[0]!.counterexample!.steps).toHaveLength(4);
    expect(violated[0]!.counterexample!.replay).toContain('--exhaustive');
  });

  it('exits 3 when --max-states stops the search, naming the cap and how to narrow', () => {
    const r = lifecheck(...capped);
    expect(r.code).toBe(3);
    expect(r.out).toContain('INCOMPLETE');
    expect(r.out).toContain('--max-states');
    expect(r.out).toContain('--threads');
    expect(r.err).not.toMatch(/\n\s+at /);
  });

  it('reports a capped search in JSON as incomplete, with unknown verdicts', () => {
    const r = lifecheck(...capped, '--json');
    expect(r.code).toBe(3);
    expect(r.err).toBe('');
    const doc = JSON.parse(r.out) as Doc;
    expect(doc.complete).toBe(false);
    expect(doc.results[0]!.complete).toBe(false);
    expect(doc.results.flatMap((x) => x.verdicts).some((v) => v.actual === 'unknown')).toBe(true);
  });

  it('reduces by thread symmetry and says so', () => {
    const r = lifecheck('check', 'ioasid-bench', '--exhaustive', '--symmetry', '--threads', '3', '--ops', '3');
    expect(r.code).toBe(0);
    expect(r.out).toContain('(symmetry: threads)');
    expect(r.out).toMatch(/replay: .*--exhaustive --symmetry/);
  });

  it('bounds preemptions with --preemptions: the fewest-preemption trace, the bound it stopped at, a replay line that keeps it', () => {
    const r = lifecheck('check', 'ioasid', '--variant', 'series', '--property', 'no-use-after-free', '--preemptions', '2');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/no-use-after-free +violated in 5 steps \(fewest preemptions, 1, then shortest; found after [\d,]+ states\)/);
    // Broken with one preemption, the search asked for two stops there, and says so.
    expect(r.out).toContain('replay: lifecheck check ioasid --variant series --property no-use-after-free --exhaustive --preemptions 1');
    expect(r.out).toContain('bounds fully explored within 1 preemption;');
  });

  it('splits one variant\'s search over --jobs threads into the same search: counts, verdicts and traces', () => {
    const args = ['check', 'iommufd', '--variant', 'finalize-before-fail', '--exhaustive', '--threads', '2', '--ops', '2', '--ids', '2', '--json'];
    const what = (out: string) => {
      const [r] = (JSON.parse(out) as { results: (Doc['results'][number] & { search: { stats: { transitions: number; depth: number }; parts?: number } })[] }).results;
      const { states, transitions, depth } = r!.search.stats;
      return { figures: [states, transitions, depth, r!.search.complete], verdicts: r!.verdicts.map((v) => [v.property, v.actual, v.counterexample?.steps, v.counterexample?.replay]) };
    };
    const one = lifecheck(...args, '--jobs', '1');
    const two = lifecheck(...args, '--jobs', '2');
    expect(two.code).toBe(one.code);
    expect(JSON.parse(two.out).results[0].search.parts).toBe(2);
    expect(what(two.out)).toEqual(what(one.out));
    expect(what(one.out).verdicts.filter((v) => v[1] === 'violated').length).toBeGreaterThan(3);
    expect(lifecheck(...args.slice(0, -1), '--jobs', '2').out).toMatch(/exhaustive \(split over 2 threads\): [\d,]+ states/);
  });

  it('decides run-ends of a split search on the parts\' graphs put together, where a part alone could not', () => {
    // At 3 parts a part of this search steps back into the shared levels: no part alone rules out a loop through the others'.
    const args = ['check', 'ioasid', '--variant', 'series-notify-inline', '--exhaustive', '--threads', '2', '--ops', '2', '--ids', '2', '--json'];
    const verdicts = (out: string) => (JSON.parse(out) as Doc).results[0]!.verdicts.map((v) => [v.property, v.actual, v.counterexample?.steps]);
    const one = lifecheck(...args, '--jobs', '1');
    const three = lifecheck(...args, '--jobs', '3');
    expect(three.code).toBe(one.code);
    expect(verdicts(three.out)).toEqual(verdicts(one.out));
    expect(verdicts(three.out)).toContainEqual(['run-ends', 'holds', undefined]);
  });

  it('writes check.json of an exhaustive run into --report', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lifecheck-exhaustive-'));
    const r = lifecheck(...small, '--report', dir);
    expect(r.code).toBe(0);
    const doc = JSON.parse(readFileSync(join(dir, 'check.json'), 'utf8')) as Doc;
    expect(doc.explorer).toBe('exhaustive');
    expect(doc.complete).toBe(true);
  });
});

describe('search flags misused: one line, exit 2, nothing on stdout', () => {
  const cases: [string[], RegExp][] = [
    [['check', 'ioasid', '--exhaustive', '--symmetry'], /model 'ioasid' declares no symmetry/],
    [['check', 'ioasid-bench', '--symmetry'], /--symmetry .*add --exhaustive/],
    [['check', 'ioasid-bench', '--max-states', '10'], /--max-states .*add --exhaustive/],
    [['check', 'ioasid-bench', '--exhaustive', '--max-states', '0'], /--max-states 0 is out of range/],
    [['check', 'ioasid-bench', '--exhaustive', '--max-memory', 'abc'], /--max-memory takes a whole number, not 'abc'/],
    [['check', 'ioasid-bench', '--preemptions', '1'], /--preemptions .*add --exhaustive/],
    [['check', 'ioasid-bench', '--exhaustive', '--symmetry', '--preemptions', '1'], /--symmetry and --preemptions do not go together/],
    [['check', 'ioasid', '--preemptions', '-1'], /--preemptions -1 is out of range/],
  ];
  it.each(cases)('%j', (args, message) => {
    const r = lifecheck(...args);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    const lines = r.err.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^lifecheck: /);
    expect(lines[0]).toMatch(message);
  });
});
