/**
 * The examples a kernel developer reads first: each finds its bug with the
 * shortest trace, and proves its fixed design, within the example's bounds.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { checkVariant, renderTrace } from 'lifecheck';
import buffer from '../../examples/buffer.ts';
import file from '../../examples/file.ts';

const bin = new URL('../../bin/lifecheck.js', import.meta.url).pathname;

describe.each([
  ['examples/buffer.ts', buffer],
  ['examples/file.ts', file],
])('%s', (path, model) => {
  it('checks as expected from the command line, exhaustively by its own default: the bug found, the fix proved', () => {
    const r = spawnSync(process.execPath, [bin, 'check', path, '--json'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.complete).toBe(true);
    expect(doc.results.every((x: { explorer: string }) => x.explorer === 'exhaustive')).toBe(true);
    const fixed = doc.results.find((x: { variant: string }) => x.variant === 'fixed');
    expect(fixed.verdicts.every((v: { actual: string }) => v.actual === 'holds' || v.actual === 'n/a')).toBe(true);
    expect(doc.results.some((x: { verdicts: { actual: string }[] }) => x.verdicts.some((v) => v.actual === 'violated'))).toBe(true);
  });

  it('samples schedules instead when asked with --random, and refuses --random with --exhaustive', () => {
    const r = spawnSync(process.execPath, [bin, 'check', path, '--random', '--runs', '50', '--json'], { encoding: 'utf8' });
    expect(JSON.parse(r.stdout).results.every((x: { explorer: string }) => x.explorer === 'random')).toBe(true);
    const both = spawnSync(process.execPath, [bin, 'check', path, '--random', '--exhaustive'], { encoding: 'utf8' });
    expect(both.status).toBe(2);
    expect(both.stderr).toBe('lifecheck: give either --exhaustive or --random, not both\n');
  });

  it('has a buggy variant and a fixed one', () => {
    expect(model.variants.map((v) => v.name)).toContain('fixed');
    expect(model.variants.length).toBeGreaterThan(1);
  });
});

describe('the buffer whose attach forgets its reference', () => {
  it('is caught at the attach itself, in six steps', async () => {
    const variant = buffer.variants.find((v) => v.name === 'attach-forgets-ref')!;
    const r = await checkVariant(variant, { bounds: buffer.defaults, runs: 0, seed: 42, properties: ['refcount-matches-holders'], exhaustive: {} });
    const cx = r.verdicts[0]!.counterexample!;
    expect(renderTrace(cx.trace, buffer.present, variant.config, cx.violation)).toMatchInlineSnapshot(`
      "   CPU0                                            buf 1
      1  buf_create(): b = kzalloc(sizeof(*b)) = buf 1   live ref=1 attached=0
      2  xa_alloc(&bufs, &id, b) = 1; returns 0          live ref=1 attached=0
      3  buf_attach(1): mutex_lock(&bufs_lock) = locked
      4  b = xa_load(&bufs, id) = buf 1#1                live ref=1 attached=0
      5  if (!b) goto out_unlock = ok                    live ref=1 attached=0
      6  b->attached++ = 1                               live ref=1 attached=1
                                                         <-- refcount-matches-holders

      refcount-matches-holders at step 6: buf 1#1: ref is 1, but 2 hold a reference (
      bufs[0], attached)"
    `);
  });
});
