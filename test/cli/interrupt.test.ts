/** Ctrl-C (SIGINT) during a long search: the answer so far, unknown where undecided, exit 3; twice, exit at once. */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const bin = new URL('../../bin/lifecheck.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'lifecheck-interrupt-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

interface Ended {
  code: number | null;
  out: string;
  err: string;
}

/** Runs node with `args`, sending SIGINT each time stderr first shows one of `cues`, in order. */
function interrupted(args: readonly string[], cues: readonly string[]): Promise<Ended> {
  const child = spawn(process.execPath, args, { env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  let err = '';
  let next = 0;
  child.stdout.on('data', (d: Buffer) => (out += d));
  child.stderr.on('data', (d: Buffer) => {
    err += d;
    while (next < cues.length && err.includes(cues[next]!)) {
      next++;
      child.kill('SIGINT');
    }
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

const slow = 'test/fixtures/slow-bench.ts';

describe('Ctrl-C during a check', () => {
  it('stops an exhaustive search like a cap: the figures so far, verdicts unknown, exit 3', async () => {
    const r = await interrupted([bin, 'check', slow, '--variant', 'fixed', '--exhaustive', '--threads', '3', '--ops', '4', '--ids', '3'], ['search started']);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/stopping with the answer so far \(Ctrl-C again to quit at once\)/);
    expect(r.out).toMatch(/\? no-use-after-free +not refuted in [\d,]+ states \(search stopped early\)/);
    expect(r.out).toMatch(/INCOMPLETE: interrupted by Ctrl-C with [\d,]+ states still queued/);
    expect(r.out).not.toMatch(/✓/);
  });

  it('keeps what a random search found, writes its files whole, and leaves the rest unknown', async () => {
    const out = join(root, 'traces');
    const report = join(root, 'report');
    const r = await interrupted(
      // Uniform schedules from seed 42 break no-use-after-free within a dozen runs: long before the Ctrl-C lands.
      [bin, 'check', slow, '--variant', 'bench-buggy', '--runs', '5000000', '--scheduler', 'uniform', '--json', '--out', out, '--report', report],
      ['search started'],
    );
    expect(r.code).toBe(3);
    const doc = JSON.parse(r.out);
    expect(doc.complete).toBe(false);
    const verdicts = doc.results[0].verdicts as { property: string; actual: string; counterexample?: { replay: string } }[];
    const uaf = verdicts.find((v) => v.property === 'no-use-after-free')!;
    expect(uaf.actual).toBe('violated');
    // Not shrunk, but its replay line finds it again exactly.
    const again = spawnSync(process.execPath, [bin, ...uaf.counterexample!.replay.split(' ').slice(1), '--json'], { encoding: 'utf8' });
    expect(JSON.parse(again.stdout).results[0].verdicts[0].counterexample.text).toBe((uaf.counterexample as { text?: string }).text);
    expect(verdicts.filter((v) => v.property !== 'no-use-after-free').map((v) => v.actual)).toEqual(['unknown', 'unknown', 'unknown']);
    expect(readdirSync(out)).toEqual(['slow-bench-bench-buggy-no-use-after-free.itf.json']);
    expect(JSON.parse(readFileSync(join(report, 'check.json'), 'utf8')).complete).toBe(false);
    expect(readdirSync(root).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('stops the searches of every worker thread, each with its figures so far, exit 3', async () => {
    const r = await interrupted([bin, 'check', slow, '--exhaustive', '--threads', '3', '--ops', '4', '--ids', '3', '--jobs', '2'], ['search started\nsearch started']);
    expect(r.code).toBe(3);
    expect(r.out.match(/INCOMPLETE: interrupted by Ctrl-C with [\d,]+ states still queued/g)).toHaveLength(2);
    expect(r.out).not.toMatch(/✓/);
  });

  it('exits at once on a second Ctrl-C', async () => {
    const r = await interrupted(['--import', 'tsx', 'test/fixtures/waits-for-ctrl-c.ts'], ['ready', 'stopping']);
    expect(r.code).toBe(130);
  });
});
