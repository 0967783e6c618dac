/**
 * The files lifecheck writes replace regular files only: a device, a FIFO, a
 * folder or a socket where an output goes is refused before any work (one
 * line, exit 2), a symlink to a regular file is written through and survives,
 * and review removes only regular stale trace files.
 */
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const bin = new URL('../../bin/lifecheck.js', import.meta.url).pathname;

function lifecheck(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A bad destination: exit 2, one `lifecheck:` line, and nothing on stdout, for the check never ran. */
function expectRefused(r: ReturnType<typeof lifecheck>, says: RegExp) {
  expect(r.err).toMatch(/^lifecheck: [^\n]*\n$/);
  expect(r.err).toMatch(says);
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
}

const root = mkdtempSync(join(tmpdir(), 'lifecheck-files-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A fresh folder under the test's root. */
const folder = (name: string) => {
  const dir = join(root, name);
  mkdirSync(dir);
  return dir;
};

function mkfifo(path: string): string {
  const r = spawnSync('mkfifo', [path], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  return path;
}

const fast = ['check', 'ioasid', '--variant', 'series-find-get', '--runs', '50'];
/** The exhaustive check whose one counterexample --out writes as this file. */
const buggy = ['check', 'ioasid-bench', '--variant', 'bench-buggy', '--exhaustive', '--threads', '2', '--ops', '3'];
const buggyTrace = 'ioasid-bench-bench-buggy-no-use-after-free.itf.json';

describe('an output that exists and is not a regular file is refused before any work', () => {
  it('--junit /dev/null: a device stays a device', () => {
    expectRefused(lifecheck(...fast, '--junit', '/dev/null'), /--junit \/dev\/null: is a device, not a regular file/);
    expect(statSync('/dev/null').isCharacterDevice()).toBe(true);
  });

  it('--junit naming a FIFO', () => {
    const dir = folder('junit-fifo');
    const fifo = mkfifo(join(dir, 'junit.xml'));
    expectRefused(lifecheck(...fast, '--junit', fifo), /--junit .*junit\.xml: is a FIFO, not a regular file/);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(readdirSync(dir)).toEqual(['junit.xml']);
  });

  it('--report DIR where DIR/check.json is a FIFO', () => {
    const dir = folder('report-fifo');
    const fifo = mkfifo(join(dir, 'check.json'));
    expectRefused(lifecheck(...fast, '--report', dir), /--report .*report-fifo: check\.json is a FIFO, not a regular file/);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(readdirSync(dir)).toEqual(['check.json']);
  });

  it('--report DIR where DIR/check.json is a folder', () => {
    const dir = folder('report-folder');
    mkdirSync(join(dir, 'check.json'));
    expectRefused(lifecheck(...fast, '--report', dir), /--report .*report-folder: check\.json is a folder, not a regular file/);
    expect(lstatSync(join(dir, 'check.json')).isDirectory()).toBe(true);
    expect(readdirSync(dir)).toEqual(['check.json']);
  });

  it('--junit naming a symlink to a FIFO, or a symlink to nothing', () => {
    const dir = folder('junit-links');
    const fifo = mkfifo(join(dir, 'fifo'));
    symlinkSync(fifo, join(dir, 'to-fifo.xml'));
    symlinkSync(join(dir, 'missing.xml'), join(dir, 'dangling.xml'));
    expectRefused(lifecheck(...fast, '--junit', join(dir, 'to-fifo.xml')), /to-fifo\.xml: is a link to a FIFO, not to a regular file/);
    expectRefused(lifecheck(...fast, '--junit', join(dir, 'dangling.xml')), /dangling\.xml: is a link to .*missing\.xml, which does not exist/);
    expect(lstatSync(join(dir, 'to-fifo.xml')).isSymbolicLink()).toBe(true);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['dangling.xml', 'fifo', 'to-fifo.xml']);
  });

  it('review --out DIR where DIR/review.md is a FIFO, and where DIR/traces is a file', () => {
    const fifoDir = folder('review-fifo');
    const fifo = mkfifo(join(fifoDir, 'review.md'));
    expectRefused(lifecheck('review', 'ioasid-bench', '--out', fifoDir), /--out .*review-fifo: review\.md is a FIFO, not a regular file/);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(readdirSync(fifoDir)).toEqual(['review.md']);
    const fileDir = folder('review-traces-file');
    writeFileSync(join(fileDir, 'traces'), 'mine');
    expectRefused(lifecheck('review', 'ioasid-bench', '--out', fileDir), /--out .*review-traces-file\/traces: is a file, not a folder/);
    expect(readdirSync(fileDir)).toEqual(['traces']);
    expect(readFileSync(join(fileDir, 'traces'), 'utf8')).toBe('mine');
  });
});

describe('trace files, whose names are known only once the check has run', () => {
  it('check --out never renames over a FIFO named like a trace file: one line, exit 2', () => {
    const dir = folder('out-fifo');
    const fifo = mkfifo(join(dir, buggyTrace));
    const r = lifecheck(...buggy, '--out', dir);
    expect(r.err).toMatch(new RegExp(`^lifecheck: cannot write .*${buggyTrace}: it is a FIFO, not a regular file[^\\n]*\\n$`));
    expect(r.code).toBe(2);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    expect(readdirSync(dir)).toEqual([buggyTrace]);
  });

  it('review removes stale trace files only when they are regular files', () => {
    const dir = folder('review-stale');
    const traces = join(dir, 'traces');
    mkdirSync(traces);
    // Names of traces a review of ioasid-bench does not write (the fixed variant breaks nothing).
    const stale = (property: string, ext = 'itf.json') => join(traces, `ioasid-bench-fixed-${property}.${ext}`);
    mkfifo(stale('no-use-after-free'));
    mkdirSync(stale('no-reuse-while-referenced'));
    writeFileSync(join(root, 'kept.txt'), 'mine');
    symlinkSync(join(root, 'kept.txt'), stale('refcount-accounting'));
    writeFileSync(stale('refcount-accounting', 'txt'), 'from an earlier review');
    const r = lifecheck('review', 'ioasid-bench', '--out', dir);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(lstatSync(stale('no-use-after-free')).isFIFO()).toBe(true);
    expect(lstatSync(stale('no-reuse-while-referenced')).isDirectory()).toBe(true);
    expect(lstatSync(stale('refcount-accounting')).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(root, 'kept.txt'), 'utf8')).toBe('mine');
    expect(readdirSync(traces)).not.toContain('ioasid-bench-fixed-refcount-accounting.txt');
  });
});

describe('a symlink to a regular file is written through and survives', () => {
  it('--junit LINK and --report DIR with DIR/check.json a LINK', () => {
    const dir = folder('links');
    const targets = folder('link-targets');
    for (const name of ['junit.xml', 'check.json']) {
      writeFileSync(join(targets, name), 'old');
      symlinkSync(join(targets, name), join(dir, name));
    }
    const r = lifecheck(...fast, '--junit', join(dir, 'junit.xml'), '--report', dir);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    for (const name of ['junit.xml', 'check.json']) expect(lstatSync(join(dir, name)).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(targets, 'junit.xml'), 'utf8')).toMatch(/^<\?xml[\s\S]*<testsuite [^>]*series-find-get/);
    expect(JSON.parse(readFileSync(join(targets, 'check.json'), 'utf8'))).toMatchObject({ matches: true });
    expect(readdirSync(dir).sort()).toEqual(['check.json', 'check.txt', 'junit.xml']);
    expect(readdirSync(targets).sort()).toEqual(['check.json', 'junit.xml']);
  });
});

describe('review --html DIR', () => {
  it('writes DIR/index.html beside review.md, and says so', () => {
    const dir = folder('review-html');
    const r = lifecheck('review', 'examples/buffer.ts', '--out', dir, '--html', join(dir, 'page'));
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`wrote .*review\\.md and 8 trace files and .*page/index\\.html\\n$`));
    expect(readFileSync(join(dir, 'page', 'index.html'), 'utf8')).toMatch(/^<!doctype html>/);
  });

  it('where DIR/index.html is a folder: refused before any work, nothing written', () => {
    const dir = folder('review-html-folder');
    mkdirSync(join(dir, 'page', 'index.html'), { recursive: true });
    expectRefused(lifecheck('review', 'examples/buffer.ts', '--out', dir, '--html', join(dir, 'page')), /--html .*page: index\.html is a folder, not a regular file/);
    expect(readdirSync(dir)).toEqual(['page']);
  });
});
