// axe-core (WCAG 2.1 A/AA and best practice) on static pages the service renders, in Debian's
// chromium: `node page_axe.mjs FILE.html...`. Started by tests/e2e/retention.rs with the
// citizen's access page. Prints one line per page; exits 1 on a serious or critical violation.
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const deadline = setTimeout(() => {
  console.error('not ok - the page check exceeded 60 s');
  process.exit(1);
}, 60_000);
const browser = await chromium.launch({ executablePath: process.env.BROBYGGER_CHROMIUM || '/usr/bin/chromium', headless: true });
let failed = false;
try {
  const page = await browser.newPage();
  for (const file of process.argv.slice(2)) {
    await page.setContent(readFileSync(file, 'utf8'));
    await page.evaluate(AXE);
    const result = await page.evaluate(() => window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    }));
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    for (const v of bad) {
      console.log(`not ok - ${file}: ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`);
    }
    if (bad.length) failed = true;
    else console.log(`ok - ${file}: no serious accessibility violations (${result.passes.length} rules passed)`);
  }
} finally {
  await browser.close();
  clearTimeout(deadline);
}
process.exit(failed ? 1 : 0);
