/**
 * stdout or stderr failing ends the run quietly: EPIPE (the reader went away,
 * as under `| head -1`) exits 0, any other write error is one line and exit 2,
 * and never a stack trace or exit 1.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';

const bin = new URL('../../bin/lifecheck.js', import.meta.url).pathname;
const env = { ...process.env, NO_COLOR: '1' };

/** /dev/full takes no byte: every write to it fails with ENOSPC. */
const full = openSync('/dev/full', 'w');
afterAll(() => closeSync(full));

const stackLine = /^\s+at /m;

describe('a failing stdout or stderr', () => {
  it('stdout on a full disk: one line naming stdout and ENOSPC, exit 2', () => {
    const r = spawnSync(process.execPath, [bin, 'list'], { encoding: 'utf8', env, stdio: ['ignore', full, 'pipe'] });
    expect(r.stderr).toMatch(/^lifecheck: cannot write to stdout: ENOSPC[^\n]*\n$/);
    expect(r.stderr).not.toMatch(stackLine);
    expect(r.status).toBe(2);
  });

  it('stderr on a full disk: exit 2, the code of bad input, not 1', () => {
    const r = spawnSync(process.execPath, [bin, 'check', 'nosuch'], { encoding: 'utf8', env, stdio: ['ignore', 'pipe', full] });
    expect(r.stdout).toBe('');
    expect(r.status).toBe(2);
  });

  it('stdout piped into a reader that has gone (EPIPE): exit 0, nothing on stderr', async () => {
    const child = spawn(process.execPath, [bin, 'check', 'ioasid', '--variant', 'series', '--runs', '200'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    // Closed before lifecheck has started, so every line it prints meets a pipe with no reader.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [code, signal] = await new Promise<[number | null, string | null]>((done) => child.on('close', (c, s) => done([c, s])));
    expect(stderr).toBe('');
    expect({ code, signal }).toEqual({ code: 0, signal: null });
  });
});
