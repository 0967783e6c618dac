// The README's screenshot of the review page: `npm start` writes reports/html/index.html, then
// `npm run screenshot` opens it in Debian's headless Chromium at a counterexample's breaking step
// and writes docs/review-stepper.png.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const page = 'reports/html/index.html';
const at = '#t=ioasid/series/no-use-after-free&s=3';
const out = 'docs/review-stepper.png';
const chromiumPath = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);
if (!existsSync(page)) throw new Error(`no ${page}: run npm start first`);
if (!chromiumPath) throw new Error('no Chromium: apt-get install chromium');

const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] });
const tab = await browser.newPage({ viewport: { width: 1280, height: 1000 }, deviceScaleFactor: 1 });
await tab.goto(pathToFileURL(page).href + at);
await tab.locator('#trace').screenshot({ path: out });
await browser.close();
console.log(`wrote ${out}`);
