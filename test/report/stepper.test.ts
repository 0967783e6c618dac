/**
 * The review page to step through (`review --html`), opened from disk in
 * headless Chromium (Debian's `chromium`, which .ci/run installs) with every
 * request that is not the file refused: the matrix links each ✗ to its
 * stepper; stepping by buttons and keys lights the step's row, the
 * transitions it fired and their target states in the diagrams, and lists
 * what it changed; each step has its own link; two variants show side by
 * side. Screenshots are kept in artifacts/. The model is examples/buffer.ts,
 * whose attach-forgets-ref breaks refcount-matches-holders in six steps.
 * Where no Chromium is installed the test is skipped, saying so.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import buffer from '../../examples/buffer.ts';
import { reviewChecks } from '../../src/cli/review.ts';
import { reviewHtml } from '../../src/report/html.ts';
import { targetOf } from '../../src/registry.ts';

const root = new URL('../..', import.meta.url).pathname;
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
const TRACE = 'buffer-attach-forgets-ref-refcount-matches-holders';

if (!CHROMIUM) console.warn('stepper.test.ts skipped: no Chromium (apt-get install chromium; .ci/run installs it)');

/** What each step of the trace must show: its changes, and per diagram lit the transitions, the state they end in, and whose (the object, or the thread running the call). */
const STEPS: readonly { changes: readonly string[]; lit: Readonly<Record<string, { edges: readonly string[]; state: string; who: string }>> }[] = [
  {
    changes: ['buf 1: free → buf 1#1 live', 'buf 1 ref: 0 → 1', "buf 1 ref held by: nobody → CPU0's b"],
    lit: { refcount: { edges: ['SET_ONE'], state: 'live', who: ': buf 1' }, buf_create: { edges: ['NEXT'], state: 'xa_alloc(&bufs, &id, b)', who: ': CPU0' } },
  },
  { changes: ["buf 1 ref held by: CPU0's b → bufs[0]", 'bufs[0]: NULL → buf 1'], lit: { buf_create: { edges: ['NEXT'], state: 'returned', who: ': CPU0' } } },
  { changes: ['lock bufs_lock: free → CPU0'], lit: { buf_attach: { edges: ['NEXT'], state: 'b = xa_load(&bufs, id)', who: ': CPU0' } } },
  { changes: [], lit: { buf_attach: { edges: ['NEXT'], state: 'if (!b) goto out_unlock', who: ': CPU0' } } },
  { changes: [], lit: { buf_attach: { edges: ['NEXT'], state: 'b->attached++', who: ': CPU0' } } },
  { changes: ['buf 1 attached: 0 → 1'], lit: { buf_attach: { edges: ['NEXT'], state: 'mutex_unlock(&bufs_lock)', who: ': CPU0' } } },
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
        { edges: [...f.querySelectorAll('tspan.fired')].map((t) => t.textContent), state: f.querySelector('g.state.current')?.getAttribute('data-state'), who: f.querySelector('.who')?.textContent },
      ]),
    ),
    calls: [...s.querySelectorAll('figure.diagram:not([hidden])')].map((f) => (f as HTMLElement).dataset.machine),
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
    const groups = await reviewChecks([targetOf(buffer)], undefined, 1);
    writeFileSync(join(dir, 'index.html'), reviewHtml(groups, { version: 'test', runs: 100, seed: 42 }));
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
    expect(await page.locator('#trace').isVisible()).toBe(true);
    for (let k = 1; k <= STEPS.length; k++) {
      if (k > 1) await page.keyboard.press('ArrowRight');
      const now = await shown(page);
      const want = STEPS[k - 1]!;
      expect(now.current, `step ${k}`).toEqual([k]);
      expect(now.where).toBe(`step ${k} of 6`);
      expect(now.changes, `step ${k}`).toEqual(want.changes);
      expect(now.lit, `step ${k}`).toEqual(want.lit);
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

  it('asked nothing of the network, and threw nothing', () => {
    expect(outside).toEqual([]);
    expect(errors).toEqual([]);
  });
});
