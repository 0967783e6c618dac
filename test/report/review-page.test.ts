/**
 * The committed review page as a reader sees it on GitHub: rendered from its
 * Markdown with GitHub's own Markdown stylesheet in a 1,012 px column and
 * opened in headless Chromium (Debian's `chromium`, which .ci/run installs),
 * every matrix fits the column without scrolling, and a screenshot of the
 * page is kept in artifacts/ for CI to keep. Where no Chromium is installed
 * the test is skipped, saying so.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { marked } from 'marked';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url).pathname;
const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
/** GitHub's column for a repository's Markdown. */
const COLUMN = 1012;

if (!CHROMIUM) console.warn('review-page.test.ts skipped: no Chromium (apt-get install chromium; .ci/run installs it)');

describe.skipIf(!CHROMIUM)('the review page in Chromium, as GitHub lays it out', () => {
  let browser: Browser;
  let page: string;
  const dir = mkdtempSync(join(tmpdir(), 'lifecheck-page-'));

  beforeAll(async () => {
    const css = readFileSync(join(root, 'node_modules/github-markdown-css/github-markdown-light.css'), 'utf8');
    const body = await marked.parse(readFileSync(join(root, 'reports/review.md'), 'utf8'));
    page = join(dir, 'review.html');
    // GitHub's page: the column, and the stylesheet it renders Markdown with (no network: all inline).
    writeFileSync(page, `<!doctype html><meta charset="utf-8"><style>${css} body { margin: 0 } .markdown-body { box-sizing: border-box; width: ${COLUMN}px; padding: 32px; }</style><article class="markdown-body">${body}</article>`);
    browser = await chromium.launch({ executablePath: CHROMIUM!, args: ['--no-sandbox'] });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('fits every matrix in the column, and keeps a screenshot of the first', async () => {
    const tab = await browser.newPage({ viewport: { width: COLUMN, height: 900 } });
    await tab.goto(pathToFileURL(page).href);
    // A GitHub table scrolls inside the column when it is wider: its scroll width says by how much.
    const tables = await tab.$$eval('article table', (ts) => ts.map((t) => ({ head: t.querySelector('th')?.textContent ?? '', scroll: t.scrollWidth, shown: t.clientWidth })));
    const matrices = tables.filter((t) => t.head === 'property');
    expect(matrices.length).toBeGreaterThanOrEqual(3);
    for (const t of matrices) expect(t.scroll, `a matrix ${t.scroll} px wide in a ${t.shown} px column`).toBeLessThanOrEqual(t.shown);
    mkdirSync(join(root, 'artifacts'), { recursive: true });
    const matrix = tab.locator('article table').first();
    await matrix.screenshot({ path: join(root, 'artifacts', 'review-matrix.png') });
    await tab.screenshot({ path: join(root, 'artifacts', 'review-page.png') });
    expect(existsSync(join(root, 'artifacts', 'review-matrix.png'))).toBe(true);
    await tab.close();
  }, 60_000);
});
