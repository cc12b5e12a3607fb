// Takes the screenshots in docs/ (run by scripts/screenshots.sh, which starts the demo server
// and runs the README's demo batch): BROBYGGER_URL the demo server, BROBYGGER_REPORT the
// batch's report.html, BROBYGGER_DOCS the folder to write to.
import { chromium } from 'playwright-core';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const BASE = process.env.BROBYGGER_URL;
const REPORT = process.env.BROBYGGER_REPORT;
const DOCS = process.env.BROBYGGER_DOCS;
const CHROMIUM = process.env.BROBYGGER_CHROMIUM || '/usr/bin/chromium';
if (!BASE || !REPORT || !DOCS) {
  console.error('BROBYGGER_URL, BROBYGGER_REPORT and BROBYGGER_DOCS are required (run scripts/screenshots.sh)');
  process.exit(2);
}
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const shot = async (viewport, url, file, prepare) => {
  const context = await browser.newContext({ viewport, locale: 'da-DK', reducedMotion: 'reduce' });
  const page = await context.newPage();
  await page.goto(url);
  if (prepare) await prepare(page);
  await page.screenshot({ path: join(DOCS, file) });
  await context.close();
  console.log(`wrote docs/${file}`);
};
const ready = (page) => page.waitForFunction(() =>
  document.querySelector('brobygger-suggestions')?.shadowRoot?.querySelector('section.root')?.dataset.state === 'ready');

// The widget, Danish, desktop: the case screen's first screen and the first suggestion.
await shot({ width: 1280, height: 1100 }, `${BASE}/`, 'widget-da-desktop.png', ready);
// English at 320 px, scrolled to the widget's first suggestion.
await shot({ width: 320, height: 1100 }, `${BASE}/?lang=en`, 'widget-en-320.png', async (page) => {
  await ready(page);
  await page.evaluate(() => document.querySelector('brobygger-suggestions').shadowRoot.querySelector('li.card').scrollIntoView());
});
// The team overview for the team meeting, Danish.
await shot({ width: 1280, height: 1100 }, `${BASE}/team?lang=da`, 'team-da-desktop.png');
// The morning report's first screen, Danish, 390 px (a phone).
await shot({ width: 390, height: 844 }, pathToFileURL(REPORT).href, 'report-da-390.png');
await browser.close();
