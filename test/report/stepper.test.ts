/**
 * The review page to step through (`review --html`), opened from disk in
 * headless Chromium (Debian's `chromium`, which .ci/run installs) with every
 * request that is not the file refused: the matrix links each ✗ to its
 * stepper; stepping by buttons and keys lights the step's row, the
 * transitions it fired and their target states in the diagrams, and lists
 * what it changed; each step has its own link; two variants show side by
 * side. Screenshots are kept in artifacts/. The page is the one the command
 * writes (`lifecheck review examples/buffer.ts --html`, from dist/, as users
 * run it), and examples/buffer.ts's attach-forgets-ref breaks
 * refcount-matches-holders in six steps.
 * Where no Chromium is installed the test is skipped, saying so.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
const TRACE = 'buffer/attach-forgets-ref/refcount-matches-holders';

if (!CHROMIUM) console.warn('stepper.test.ts skipped: no Chromium (apt-get install chromium; .ci/run installs it)');

/**
 * What each step of the trace must show: its changes, and per diagram lit the transitions (by their index in the
 * machine's edges, and their labels), the state they end in, and whose (the object, or the thread running the call).
 */
const STEPS: readonly { changes: readonly string[]; lit: Readonly<Record<string, { edges: readonly number[]; labels: readonly string[]; state: string; who: string }>> }[] = [
  {
    changes: ['buf 1: free → buf 1#1 live', 'buf 1 ref: 0 → 1', "buf 1 ref held by: nobody → CPU0's b"],
    lit: {
      refcount: { edges: [0], labels: ['SET_ONE'], state: 'live', who: ': buf 1' },
      buf_create: { edges: [0], labels: ['NEXT'], state: 'xa_alloc(&bufs, &id, b)', who: ': CPU0' },
    },
  },
  { changes: ["buf 1 ref held by: CPU0's b → bufs[0]", 'bufs[0]: NULL → buf 1#1'], lit: { buf_create: { edges: [2], labels: ['NEXT'], state: 'returned', who: ': CPU0' } } },
  { changes: ['lock bufs_lock: free → CPU0'], lit: { buf_attach: { edges: [0], labels: ['NEXT'], state: 'b = xa_load(&bufs, id)', who: ': CPU0' } } },
  { changes: [], lit: { buf_attach: { edges: [1], labels: ['NEXT'], state: 'if (!b) goto out_unlock', who: ': CPU0' } } },
  { changes: [], lit: { buf_attach: { edges: [2], labels: ['NEXT'], state: 'b->attached++', who: ': CPU0' } } },
  // The counter that holds a reference nobody took: what breaks refcount-matches-holders.
  { changes: ['buf 1 attached: 0 → 1', 'buf 1 ref held by: bufs[0] → bufs[0], attached'], lit: { buf_attach: { edges: [4], labels: ['NEXT'], state: 'mutex_unlock(&bufs_lock)', who: ': CPU0' } } },
];

/** What the stepper in `scope` shows now: the current row, the message, the changes, and each shown diagram's lit parts. */
async function shown(page: Page, scope = '#trace') {
  return page.$eval(scope, (s) => ({
    current: [...s.querySelectorAll('tr.current')].map((r) => Number((r as HTMLElement).dataset.step)),
    where: s.querySelector('.where')?.textContent,
    message: (s.querySelector('.message') as HTMLElement | null)?.hidden === false ? s.querySelector('.message')!.textContent : undefined,
    changes: [...s.querySelectorAll('.changes li')].map((li) => li.textContent),
    lit: Object.fromEntries(
      [...s.querySelectorAll('figure.diagram.active')].map((f) => [
        (f as HTMLElement).dataset.machine,
        {
          edges: [...f.querySelectorAll('tspan.fired')].map((t) => Number(t.getAttribute('data-edge'))),
          labels: [...f.querySelectorAll('tspan.fired')].map((t) => t.textContent),
          state: f.querySelector('g.state.current')?.getAttribute('data-state'),
          who: f.querySelector('.who')?.textContent,
        },
      ]),
    ),
    calls: [...s.querySelectorAll('figure.diagram:not([hidden])')].map((f) => (f as HTMLElement).dataset.machine),
    // Each lit edge of a diagram carries a lit label line: the pair's edge and its transition agree.
    edgesAgree: [...s.querySelectorAll('g.edge.fired')].every((g) => [...g.querySelectorAll('tspan')].some((t) => t.classList.contains('fired'))),
  }));
}

describe.skipIf(!CHROMIUM)('the review page to step through, in Chromium from disk', () => {
  let browser: Browser;
  let url: string;
  const dir = mkdtempSync(join(tmpdir(), 'lifecheck-stepper-'));
  /** Requests the page made for anything but itself: none may leave the machine. */
  const outside: string[] = [];
  const errors: string[] = [];
  const artifacts = join(root, 'artifacts');

  beforeAll(async () => {
    const bin = join(root, 'bin', 'lifecheck.js');
    const r = spawnSync(process.execPath, [bin, 'review', join(root, 'examples', 'buffer.ts'), '--out', join(dir, 'md'), '--html', dir], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    url = pathToFileURL(join(dir, 'index.html')).href;
    mkdirSync(artifacts, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox'] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function open(hash = ''): Promise<Page> {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, offline: true });
    await context.route('**/*', (route) => {
      const at = route.request().url();
      if (at.startsWith('file:')) return route.continue();
      outside.push(at);
      return route.abort();
    });
    const page = await context.newPage();
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url + hash);
    return page;
  }

  it('links each ✗ of the matrix to its stepper, which steps by buttons and keys, lighting each step', async () => {
    const page = await open();
    const cell = page.locator(`.matrix a[href="#t=${TRACE}"]`);
    await expect(cell.textContent()).resolves.toBe('✗ 6');
    await cell.click();
    // The address changes, then the page follows it (hashchange): wait for the stepper.
    await page.locator('#trace tr.current').waitFor();
    for (let k = 1; k <= STEPS.length; k++) {
      if (k > 1) await page.keyboard.press('ArrowRight');
      const now = await shown(page);
      const want = STEPS[k - 1]!;
      expect(now.current, `step ${k}`).toEqual([k]);
      expect(now.where).toBe(`step ${k} of 6`);
      expect(now.changes, `step ${k}`).toEqual(want.changes);
      expect(now.lit, `step ${k}`).toEqual(want.lit);
      expect(now.edgesAgree).toBe(true);
      // The address is the step's permalink.
      expect(page.url()).toMatch(new RegExp(`#t=${TRACE}&s=${k}$`));
      // The violating step alone says what broke.
      expect(now.message).toBe(k === 6 ? 'refcount-matches-holders at step 6: buf 1#1: ref is 1, but 2 hold a reference (bufs[0], attached)' : undefined);
      if (k === 1) await page.screenshot({ path: join(artifacts, 'stepper-step-1.png') });
    }
    await expect(page.locator('#trace tr.violation .mark').textContent()).resolves.toBe(' ⟵ refcount-matches-holders');
    // A call's diagram shows while its thread runs it; the refcount's all along.
    expect((await shown(page)).calls).toEqual(['refcount', 'buf_attach']);
    await page.screenshot({ path: join(artifacts, 'stepper-violation.png') });
    await page.keyboard.press('ArrowRight');
    expect((await shown(page)).current).toEqual([6]);
    await page.locator('#trace button', { hasText: 'back' }).click();
    expect((await shown(page)).current).toEqual([5]);
    await page.keyboard.press('Home');
    expect((await shown(page)).current).toEqual([1]);
    await page.keyboard.press('End');
    expect((await shown(page)).current).toEqual([6]);
    // A <select> takes the arrow keys as its own.
    await page.locator('#compare select').first().focus();
    await page.keyboard.press('ArrowLeft');
    expect((await shown(page)).current).toEqual([6]);
    // Closed, the trace is gone, and the keys neither step it nor bring its address back.
    await page.locator('#trace a.close').click();
    await page.locator('#trace').waitFor({ state: 'hidden' });
    await page.locator('body').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('ArrowLeft');
    expect(page.url()).toMatch(/#model-buffer$/);
    await page.context().close();
  }, 60_000);

  it('opens at the step a permalink names', async () => {
    const page = await open(`#t=${TRACE}&s=4`);
    const now = await shown(page);
    expect(now.current).toEqual([4]);
    expect(now.lit).toEqual(STEPS[3]!.lit);
    await expect(page.locator('#trace a.permalink').getAttribute('href')).resolves.toBe(`#t=${TRACE}&s=4`);
    await page.context().close();
  }, 60_000);

  it('shows two variants side by side: the broken one with its trace, the fixed one with what its ✓ means', async () => {
    const page = await open('#c=buffer/refcount-matches-holders/attach-forgets-ref/fixed');
    const panes = page.locator('#compare .pane');
    await expect(panes.count()).resolves.toBe(2);
    await expect(panes.nth(0).locator('.verdict').textContent()).resolves.toBe('refcount-matches-holders: ✗ broken in 6 steps');
    await expect(panes.nth(1).locator('.verdict').textContent()).resolves.toMatch(/^refcount-matches-holders: ✓ in all [\d,]+ states$/);
    expect((await shown(page, '#compare .pane:nth-child(1)')).current).toEqual([1]);
    // The keys step the stepper last used.
    await panes.nth(0).locator('button', { hasText: 'next' }).click();
    await page.keyboard.press('ArrowRight');
    expect((await shown(page, '#compare .pane:nth-child(1)')).current).toEqual([3]);
    await page.locator('#compare').screenshot({ path: join(artifacts, 'stepper-compare.png') });
    // Picking another pair follows in the panes and in the address.
    await page.locator('#compare select').nth(3).selectOption('attach-forgets-ref');
    await expect(panes.nth(1).locator('.verdict').textContent()).resolves.toBe('refcount-matches-holders: ✗ broken in 6 steps');
    expect(decodeURIComponent(page.url())).toMatch(/#c=buffer\/refcount-matches-holders\/attach-forgets-ref\/attach-forgets-ref$/);
    await page.context().close();
  }, 60_000);

  it('chooses by itself a property one variant breaks and another keeps', async () => {
    const page = await open();
    const picked = await page.$$eval('#compare select', (ss) => ss.map((s) => (s as HTMLSelectElement).value));
    const [model, property, a, b] = picked;
    expect(model).toBe('buffer');
    expect([a, b]).toEqual(['attach-forgets-ref', 'fixed']);
    await expect(page.locator('#compare .pane').nth(0).locator('.verdict').textContent()).resolves.toMatch(new RegExp(`^${property}: ✗`));
    await page.context().close();
  });

  it('takes a malformed address as naming nothing', async () => {
    const page = await open('#c=%E0%A4%A/x/y/z');
    await expect(page.locator('#compare .pane').count()).resolves.toBe(2);
    await page.goto(`${url}#t=no-such-trace&s=2`);
    await page.locator('#trace').waitFor({ state: 'hidden' });
    await page.context().close();
  });

  it('asked nothing of the network, and threw nothing', () => {
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
  });
});
