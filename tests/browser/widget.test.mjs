// The caseworker widget in a real browser (Debian's chromium, driven by playwright-core) against
// a real `matcher serve --demo`. Started by tests/e2e/widget.rs, which passes:
//   BROBYGGER_URL          the server, e.g. http://127.0.0.1:40123
//   BROBYGGER_ADMIN_TOKEN  the demo admin token (to check through the API what the widget did)
//   BROBYGGER_SERVER_PID   stopped at the end to see the widget's "server down" state
//   BROBYGGER_OUTPUT       folder for screenshots
//   BROBYGGER_CHROMIUM     the browser (default /usr/bin/chromium)
//   BROBYGGER_CASEWORKER_TOKEN, BROBYGGER_HOST_PORT
//                          a host case system on another origin (this port, which the server
//                          admits with --cors-origin) embeds the widget with a token callback
// Prints one line per check; exits 1 on the first failure (with a screenshot of the moment).
import { chromium } from 'playwright-core';
import { createRequire } from 'node:module';
import { readFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);
const BASE = process.env.BROBYGGER_URL;
const ADMIN = process.env.BROBYGGER_ADMIN_TOKEN;
const SERVER_PID = Number(process.env.BROBYGGER_SERVER_PID || 0);
const OUT = process.env.BROBYGGER_OUTPUT || 'test-output/widget';
const CHROMIUM = process.env.BROBYGGER_CHROMIUM || '/usr/bin/chromium';
const CASEWORKER = process.env.BROBYGGER_CASEWORKER_TOKEN;
const HOST_PORT = Number(process.env.BROBYGGER_HOST_PORT || 0);
// A caseworker token past its expiry time.
const EXPIRED = process.env.BROBYGGER_EXPIRED_TOKEN;
if (!BASE || !ADMIN || !CASEWORKER || !HOST_PORT || !EXPIRED) {
  console.error('BROBYGGER_URL, BROBYGGER_ADMIN_TOKEN, BROBYGGER_CASEWORKER_TOKEN, BROBYGGER_EXPIRED_TOKEN and BROBYGGER_HOST_PORT are required (run through `cargo test --test e2e widget`)');
  process.exit(2);
}
mkdirSync(OUT, { recursive: true });
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
// Nothing in here may hang CI: the whole run has one deadline.
const deadline = setTimeout(() => {
  console.error('not ok - the browser test exceeded 90 s');
  process.exit(1);
}, 90_000);

const started = Date.now();
let current = null;
const step = async (name, fn) => {
  const t = Date.now();
  try {
    await fn();
    console.log(`ok - ${name} (${Date.now() - t} ms)`);
  } catch (e) {
    console.error(`not ok - ${name}\n${e && e.stack ? e.stack : e}`);
    if (current) await current.screenshot({ path: join(OUT, 'failure.png'), fullPage: true }).catch(() => {});
    process.exit(1);
  }
};

async function api(method, path, body) {
  const res = await fetch(BASE + path, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  headless: true,
  // playwright-core gives each launch a fresh user-data-dir.
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});

const problems = [];
async function open(viewport, query = '') {
  const context = await browser.newContext({ viewport, locale: 'da-DK', reducedMotion: 'reduce' });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  // Injected over CDP, so the page's CSP does not apply to this listener itself.
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy|Refused to/i.test(m.text())) problems.push(`CSP: ${m.text()}`);
  });
  await page.goto(`${BASE}/${query}`);
  current = page;
  return page;
}

const widget = (page) => page.locator('brobygger-suggestions');
const state = (page) => widget(page).locator('section.root');
async function waitState(page, wanted) {
  await page.waitForFunction((w) => {
    const root = document.querySelector('brobygger-suggestions')?.shadowRoot?.querySelector('section.root');
    return root && root.dataset.state === w;
  }, wanted, { timeout: 10_000 });
}
async function axe(page, label) {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
  }));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`), [],
    `axe found serious violations (${label})`);
  return result;
}
// The element focused inside the widget's shadow root, described.
const focused = (page) => page.evaluate(() => {
  const host = document.activeElement;
  const el = host && host.shadowRoot ? host.shadowRoot.activeElement : host;
  if (!el) return null;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(), text: (el.textContent || '').trim().slice(0, 80), action: el.dataset.action || null,
    role: el.dataset.role || null, candidate: el.dataset.candidate || null, inWidget: !!(host && host.shadowRoot),
    outline: `${style.outlineStyle} ${style.outlineWidth}`,
  };
});
async function tabTo(page, predicate, max = 60) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (f && predicate(f)) return f;
  }
  throw new Error('Tab never reached the wanted element');
}


// A case system on its own origin: its page allows scripts and API calls only from itself and
// the Brobygger service, and hands the widget its token through a callback, never the DOM.
function hostSystem(port) {
  const csp = `default-src 'none'; script-src 'self' ${BASE}; connect-src 'self' ${BASE}; style-src 'self'; base-uri 'none'`;
  const page = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Host case system</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<script src="${BASE}/widget/v1/brobygger.js" defer></script><script src="/host.js" defer></script></head>
<body><main><h1>Case of a citizen</h1><brobygger-suggestions candidate-id="CANDIDATE" lang="en"></brobygger-suggestions>
<p id="log" role="status"></p></main></body></html>`;
  const script = `'use strict';
const w = document.querySelector('brobygger-suggestions');
let calls = 0;
w.tokenProvider = async () => { calls++; document.body.dataset.tokenCalls = String(calls); return (await fetch('/session-token')).text(); };
w.addEventListener('brobygger-decision', (e) => { document.getElementById('log').textContent = 'saved decision ' + e.detail.id; });`;
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://host');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp });
      res.end(page.replace('CANDIDATE', url.searchParams.get('candidate') || ''));
    } else if (url.pathname === '/host.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      res.end(script);
    } else if (url.pathname === '/session-token') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(CASEWORKER);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

let page;
let firstCandidate;
let acceptedOffer;

await step('the demo page loads with a strict CSP and shows suggestions in Danish', async () => {
  page = await open({ width: 1280, height: 1000 });
  const csp = (await page.request.get(`${BASE}/`)).headers()['content-security-policy'];
  assert.match(csp, /script-src 'self'/);
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
  await waitState(page, 'ready');
  firstCandidate = await widget(page).getAttribute('candidate-id');
  const cards = widget(page).locator('li.card');
  assert.ok((await cards.count()) >= 2, 'at least two suggestions');
  await assert.doesNotReject(widget(page).getByRole('heading', { name: 'Forslag til indsats' }).waitFor());
  const notice = await widget(page).locator('.notice').innerText();
  assert.match(notice, /forslag, ikke afgørelser/);
  assert.match(notice, /du som sagsbehandler/);
  const first = cards.first();
  const facts = await first.locator('dl').innerText();
  for (const label of ['Start', 'Varighed', 'Hvor', 'Kontakt', 'Afstand', 'Ledige pladser', 'Pris', 'Forventet effekt', 'Succesrate', 'sandsynligvis mellem']) {
    assert.ok(facts.includes(label), `the first card shows ${label}: ${facts}`);
  }
  // Issue 13: the success rate says it is adjusted, and the uplift over no offer is in words.
  assert.match(facts, /justeret mod gennemsnittet|ingen egne resultater endnu/);
  assert.match(facts, /Forskel fra intet tilbud\n?\s*((Ca\. \d+ procentpoint (flere|færre)|Lige så mange) kommer i job eller uddannelse (end|som) uden tilbud \((usikkert: )?mellem \d+|Ikke målt endnu)/);
  assert.match(facts, /\d+,\d km/, 'distance in Danish number format');
  assert.match(facts, /kr\./);
  assert.ok(!facts.includes('Score'), `the score is not among the facts a caseworker chooses by: ${facts}`);
  assert.match(await first.locator('figcaption').innerText(), /regnet ud: [\d.]+ point i alt/);
  assert.equal(await first.locator('ul.factors li').count(), 8, 'eight factor bars');
  assert.match(await first.locator('ul.factors').innerText(), /Afstand: (tæt på|et stykke væk|langt væk) \(\d+,\d km\)/, 'distance in words');
  const widths = await first.locator('.bar').evaluateAll((bars) => bars.map((b) => b.getBoundingClientRect().width));
  assert.ok(widths.some((w) => w > 10), `bars are drawn: ${widths}`);
  // The API gives the same first offer the widget shows.
  const answer = await api('POST', '/v1/suggestions', { candidate_id: firstCandidate, k: 3 });
  assert.equal(answer.status, 200);
  assert.equal(await first.getAttribute('data-offer'), answer.body.suggestions[0].offer_id);
  assert.equal(await first.locator('h3').innerText(), answer.body.suggestions[0].name);
  // A suggestion expected to lose money carries its flag and why, exactly where the API says so.
  for (let i = 0; i < Math.min(await cards.count(), answer.body.suggestions.length); i += 1) {
    const flag = answer.body.suggestions[i].effect_flag;
    const shown = cards.nth(i).locator('[data-loss]');
    assert.equal(await shown.count(), flag ? 1 : 0, `card ${i + 1}: flag ${flag}`);
    if (flag) {
      assert.equal(await shown.getAttribute('data-loss'), flag);
      assert.match(await shown.innerText(), /Taber penge[\s\S]*(for lille til prisen|for usikker)/);
    }
    // The uplift is in words exactly when the API has a measured one.
    const text = await cards.nth(i).locator('dl').innerText();
    for (const e of answer.body.suggestions[i].evidence) {
      const measured = e.uplift !== 0 || e.trials > 0 || e.episodes > 0;
      const pp = Math.round(Math.abs(e.uplift) * 100);
      assert.ok(measured ? (pp === 0 ? text.includes('Lige så mange') : text.includes(`Ca. ${pp} procentpoint`)) : text.includes('Ikke målt endnu'),
        `card ${i + 1}, ${e.target_group}: uplift ${e.uplift}: ${text}`);
    }
  }
});

await step('the runner-up difference opens on demand', async () => {
  const first = widget(page).locator('li.card').first();
  const toggle = first.getByRole('button', { name: 'Hvorfor før nr. 2?' });
  assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
  assert.ok(!(await first.locator('.diff').isVisible()));
  await toggle.click();
  assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
  const text = await first.locator('.diff').innerText();
  const second = await widget(page).locator('li.card').nth(1).locator('h3').innerText();
  assert.ok(text.includes('point foran næste forslag') && text.includes(second), text);
});

await step('no serious accessibility violations (axe-core, WCAG 2.1 A/AA), Danish desktop', async () => {
  await axe(page, 'ready, desktop');
  await page.screenshot({ path: join(OUT, 'widget-da-desktop.png'), fullPage: true });
  await page.screenshot({ path: join(OUT, 'widget-da-desktop-top.png') });
});

await step('accepting a suggestion records it, and the API has it', async () => {
  // A suggestion with a place to spare, so that it is still suggested after the reload below
  // (a full offer is not suggested; the demo's first suggestion may have one place).
  const shown = await widget(page).locator('li.card').count();
  const shownNow = (await api('POST', '/v1/suggestions', { candidate_id: firstCandidate, k: shown })).body.suggestions;
  let pick = shownNow.findIndex((s, i) => i !== 1 && s.remaining_places > 1);
  if (pick < 0) {
    // None has a place to spare (the ranking weighs uplift, not places): the admin adds one
    // to the first suggestion's offer, as a municipality does when it buys a place more.
    pick = 0;
    const view = (await api('GET', `/v1/offers/${shownNow[0].offer_id}`)).body;
    const more = await api('POST', '/v1/offers', [{ ...view.record, capacity: view.record.capacity + 1 }]);
    assert.equal(more.status, 200, `a place more: ${JSON.stringify(more.body)}`);
  }
  const first = widget(page).locator('li.card').nth(pick);
  acceptedOffer = await first.getAttribute('data-offer');
  const before = await api('GET', `/v1/offers/${acceptedOffer}`);
  await first.getByRole('button', { name: 'Accepter', exact: true }).click();
  const form = first.locator('form[data-form="accept"]');
  assert.ok(await form.isVisible());
  assert.notEqual(await form.locator('select').inputValue(), '', 'accepting comes with a proposed reason');
  const sent = page.waitForRequest((r) => r.url().endsWith('/v1/decisions') && r.method() === 'POST');
  await form.getByRole('button', { name: 'Registrér accept' }).click();
  const request = await sent;
  const headers = await request.allHeaders();
  assert.match(headers['idempotency-key'] ?? '', /^w-[0-9a-f]{4}(-[0-9a-f]{4}){7}$/, 'the widget sends an idempotency key');
  const recorded = first.locator('[data-role="recorded"]');
  await recorded.waitFor({ state: 'visible' });
  assert.match(await recorded.innerText(), /Registrering nr\. \d+: accepteret af demo-caseworker/);
  const list = await api('GET', `/v1/decisions?candidate_id=${firstCandidate}`);
  const mine = list.body.decisions.filter((d) => d.offer_id === acceptedOffer);
  assert.equal(mine.length, 1, 'exactly one decision stored');
  assert.equal(mine[0].action, 'accept');
  assert.equal(mine[0].decided_by, 'demo-caseworker');
  assert.ok(mine[0].suggested_offer_ids.includes(acceptedOffer), 'the shown suggestions are recorded');
  assert.equal(await recorded.getAttribute('data-decision'), String(mine[0].id));
  const after = await api('GET', `/v1/offers/${acceptedOffer}`);
  assert.equal(after.body.reserved, before.body.reserved + 1, 'the accept reserved a place');
  // The same request sent again (a retry after a lost answer) records nothing new.
  const replay = await fetch(BASE + '/v1/decisions', {
    method: 'POST',
    headers: { authorization: headers.authorization, 'content-type': 'application/json', 'idempotency-key': headers['idempotency-key'] },
    body: request.postData(),
  });
  assert.equal(replay.status, 200, 'a replay answers 200');
  assert.equal((await replay.json()).id, mine[0].id, 'a replay answers with the first decision');
  const again = await api('GET', `/v1/offers/${acceptedOffer}`);
  assert.equal(again.body.reserved, after.body.reserved, 'a replay takes no second place');
  assert.equal(await first.getByRole('button', { name: 'Accepter', exact: true }).count(), 0, 'no second decision offered');
  assert.match(await page.locator('#event-log').innerText(), /registrering nr\. \d+/i, 'the host page got the event');
});

await step('a reload shows the recorded decision (it is persisted, not kept in the page)', async () => {
  await page.reload();
  await waitState(page, 'ready');
  const card = widget(page).locator(`li.card[data-offer="${acceptedOffer}"]`);
  assert.match(await card.locator('[data-role="recorded"]').innerText(), /accepteret af demo-caseworker/);
});

await step('declining asks for a reason before anything is sent', async () => {
  const second = widget(page).locator('li.card').nth(1);
  const offer = await second.getAttribute('data-offer');
  await second.getByRole('button', { name: 'Afvis', exact: true }).click();
  const form = second.locator('form[data-form="decline"]');
  assert.equal(await form.locator('select').inputValue(), '', 'no reason is chosen for the caseworker');
  await form.getByRole('button', { name: 'Registrér afvisning' }).click();
  assert.equal(await form.locator('.form-error').innerText(), 'Vælg en begrundelse.');
  assert.equal(await form.locator('select').getAttribute('aria-invalid'), 'true');
  const none = await api('GET', `/v1/decisions?candidate_id=${firstCandidate}`);
  assert.equal(none.body.decisions.filter((d) => d.offer_id === offer).length, 0, 'nothing was sent');
  // "Other" needs words of its own.
  await form.locator('select').selectOption({ index: 5 });
  await form.getByRole('button', { name: 'Registrér afvisning' }).click();
  assert.match(await form.locator('.form-error').innerText(), /uddybning/);
  await form.locator('textarea').fill('Borgeren starter på uddannelse i januar');
  // The answer is awaited on its own, so that a failure says whether the service answered, and
  // what (a CI machine's disk can hold a write for seconds; 30 s is the bound, not the expectation).
  const answered = page.waitForResponse((r) => r.url().endsWith('/v1/decisions') && r.request().method() === 'POST', { timeout: 30_000 });
  await form.getByRole('button', { name: 'Registrér afvisning' }).click();
  const response = await answered;
  assert.equal(response.status(), 201, `the decline was recorded: ${await response.text()}`);
  const recorded = second.locator('[data-role="recorded"]');
  await recorded.waitFor({ state: 'visible' }).catch(async (e) => {
    const error = await form.locator('.form-error').innerText().catch(() => '(no form)');
    throw new Error(`the card shows no record after a 201 (form error: ${JSON.stringify(error)}): ${e.message}`);
  });
  const list = await api('GET', `/v1/decisions?candidate_id=${firstCandidate}`);
  const mine = list.body.decisions.filter((d) => d.offer_id === offer);
  assert.equal(mine.length, 1);
  assert.equal(mine[0].action, 'decline');
  assert.equal(mine[0].reason, 'Borgeren starter på uddannelse i januar');
});

await step('a decline looks different from an accept: colour, icon and words (before a reload: a declined offer is then no longer suggested)', async () => {
  const accepted = widget(page).locator(`li.card[data-offer="${acceptedOffer}"]`);
  const declined = widget(page).locator('li.card.decided.declined').first();
  assert.match(await accepted.locator('.badge').innerText(), /✓\s*Accepteret/);
  assert.match(await declined.locator('.badge').innerText(), /✕\s*Afvist/);
  assert.match(await declined.locator('[data-role="recorded"]').innerText(), /vises ikke for borgeren igen før efter/);
  assert.match(await accepted.locator('[data-role="recorded"]').innerText(), /Forløbet løber til/);
  const border = (loc) => loc.evaluate((el) => `${getComputedStyle(el).borderLeftColor} ${getComputedStyle(el).borderLeftStyle}`);
  assert.notEqual(await border(accepted), await border(declined), 'the card borders differ');
  const badge = (loc) => loc.locator('.badge').evaluate((el) => getComputedStyle(el).backgroundColor);
  assert.notEqual(await badge(accepted), await badge(declined), 'the badges differ in colour');
  await axe(page, 'accepted and declined cards');
});

await step('after an accept the other suggestions say a course runs, and offer no second accept', async () => {
  await page.reload();
  await waitState(page, 'ready');
  const others = widget(page).locator(`li.card:not([data-offer="${acceptedOffer}"]):not(.decided)`);
  assert.equal(await widget(page).locator('li.card.declined').count(), 0, 'the declined offer is kept out of the suggestions');
  const n = await others.count();
  assert.ok(n >= 1, 'other open suggestions are shown');
  for (let i = 0; i < n; i++) {
    const card = others.nth(i);
    assert.match(await card.locator('[data-role="running"]').innerText(), /allerede i gang med et forløb/);
    assert.equal(await card.getByRole('button', { name: 'Accepter', exact: true }).count(), 0, 'no second accept offered');
    assert.equal(await card.getByRole('button', { name: 'Afvis', exact: true }).count(), 1, 'declining is still possible');
  }
  // The service refuses a second accept anyway, naming the running course.
  const offer = await others.first().getAttribute('data-offer');
  const second = await api('POST', '/v1/decisions', { candidate_id: firstCandidate, offer_id: offer, action: 'accept', reason: 'a second course' });
  assert.equal(second.status, 409);
  assert.equal(second.body.type, '/problems/running-course');
});

await step('a decision is corrected from the widget with a reason: withdrawn, its place back, the card open again', async () => {
  const card = widget(page).locator(`li.card[data-offer="${acceptedOffer}"]`);
  const before = await api('GET', `/v1/offers/${acceptedOffer}`);
  await card.getByRole('button', { name: 'Ret registreringen' }).click();
  const form = card.locator('form[data-form="correct"]');
  await form.getByRole('button', { name: 'Træk registreringen tilbage' }).click();
  assert.equal(await form.locator('.form-error').innerText(), 'Skriv en begrundelse.');
  await form.locator('textarea').fill('Registreret på den forkerte borger');
  await form.getByRole('button', { name: 'Træk registreringen tilbage' }).click();
  const reopened = widget(page).locator(`li.card[data-offer="${acceptedOffer}"]`);
  await reopened.getByRole('button', { name: 'Accepter', exact: true }).waitFor();
  assert.match(await reopened.locator('[data-role="withdrawn"]').innerText(), /trukket tilbage/);
  const list = await api('GET', `/v1/decisions?candidate_id=${firstCandidate}`);
  const withdrawal = list.body.decisions.find((d) => d.action === 'withdrawal');
  assert.ok(withdrawal, 'a withdrawal is recorded');
  assert.equal(withdrawal.reason, 'Registreret på den forkerte borger');
  const original = list.body.decisions.find((d) => d.id === withdrawal.corrects);
  assert.equal(original.offer_id, acceptedOffer);
  assert.equal(original.status, 'withdrawn');
  assert.equal(original.corrected_by, withdrawal.id);
  const after = await api('GET', `/v1/offers/${acceptedOffer}`);
  assert.equal(after.body.reserved, before.body.reserved - 1, 'the place came back');
  // With no running course, the other cards offer an accept again (every open card is
  // checked: the reopened one never showed the running-course note).
  const others = widget(page).locator(`li.card:not(.decided):not([data-offer="${acceptedOffer}"])`);
  const n = await others.count();
  assert.ok(n >= 1, 'other open suggestions are shown');
  for (let i = 0; i < n; i++) {
    const card = others.nth(i);
    assert.equal(await card.locator('[data-role="running"]').count(), 0, `card ${i} still says a course runs`);
    assert.equal(await card.getByRole('button', { name: 'Accepter', exact: true }).count(), 1, `card ${i} offers no accept`);
  }
});

await step('keyboard only: choose a case, open the difference, accept with a reason, focus always visible', async () => {
  await page.goto(`${BASE}/`);
  await waitState(page, 'ready');
  await page.locator('body').focus();
  const target = await page.locator('.case').nth(2).getAttribute('data-candidate');
  let f = await tabTo(page, (x) => x.candidate === target);
  assert.notEqual(f.outline.split(' ')[0], 'none', `focus is visible on the case button: ${f.outline}`);
  await page.keyboard.press('Enter');
  await page.waitForFunction((t) => document.querySelector('brobygger-suggestions').getAttribute('candidate-id') === t, target);
  await waitState(page, 'ready');
  f = await tabTo(page, (x) => x.inWidget && x.text.startsWith('Hvorfor før nr. 2'));
  assert.notEqual(f.outline.split(' ')[0], 'none', `focus is visible in the widget: ${f.outline}`);
  await page.keyboard.press('Enter');
  assert.ok(await widget(page).locator('li.card').first().locator('.diff').isVisible(), 'Enter opened the difference');
  f = await tabTo(page, (x) => x.inWidget && x.action === 'accept');
  // Escape closes the form and gives focus back to the button that opened it.
  await page.keyboard.press('Enter');
  f = await focused(page);
  assert.equal(f.tag, 'select', 'the form takes focus');
  await page.keyboard.press('Escape');
  f = await focused(page);
  assert.equal(f.action, 'accept', 'Escape returns focus to Accept');
  await page.keyboard.press('Enter');
  await page.keyboard.press('ArrowDown'); // the second standard reason
  await page.keyboard.press('Tab');
  f = await focused(page);
  assert.equal(f.tag, 'textarea');
  await page.keyboard.type('Aftalt ved samtale');
  await page.keyboard.press('Tab');
  f = await focused(page);
  assert.equal(f.text, 'Registrér accept');
  await page.keyboard.press('Enter');
  await widget(page).locator('li.card').first().locator('[data-role="recorded"]').waitFor({ state: 'visible' });
  f = await focused(page);
  assert.equal(f.role, 'recorded', 'focus moves to the recorded decision');
  const list = await api('GET', `/v1/decisions?candidate_id=${target}`);
  assert.equal(list.body.decisions.length, 1);
  assert.equal(list.body.decisions[0].reason, 'Borgeren ønsker tilbuddet: Aftalt ved samtale');
});

// A citizen whose benefit ends the day before a suggested offer's next start: the same citizen
// as one of the demo's, stored under a new id through the API (the demo data set itself stays
// the README's). Found from the live answers, so the state exists on any day the test runs.
let lateCase = null;
async function makeLateCase() {
  if (lateCase) return lateCase;
  const today = new Date().toISOString().slice(0, 10);
  const plusDays = (iso, n) => new Date(Date.parse(`${iso}T12:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);
  const all = (await api('GET', '/v1/candidates?limit=1000')).body.candidates;
  const sick = all.filter((c) => c.benefit_kind === 'sickness_benefit' && !c.current_offer);
  for (const c of sick) {
    const shown = (await api('POST', '/v1/suggestions', { candidate_id: c.id, k: 10 })).body.suggestions;
    const later = shown.filter((s) => s.start.next_start && s.start.next_start >= plusDays(today, 14));
    const names = new Map();
    for (const s of shown) names.set(s.name, (names.get(s.name) || 0) + 1);
    if (!later.length || ![...names.values()].some((n) => n > 1)) continue;
    const target = later[0];
    const record = { ...c, id: 'cand-widget-late', benefit_end: plusDays(target.start.next_start, -1) };
    for (const k of Object.keys(record)) if (record[k] === null || k === 'gender' || k === 'origin') delete record[k];
    const put = await api('POST', '/v1/candidates', [record]);
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const answer = (await api('POST', '/v1/suggestions', { candidate_id: record.id, k: 10 })).body;
    const late = answer.suggestions.filter((s) => s.start.starts_after_benefit_end);
    if (!late.length) continue;
    lateCase = { id: record.id, late: late.map((s) => s.offer_id), answer };
    return lateCase;
  }
  throw new Error('no demo citizen on sickness benefit has an offer starting two weeks out or later and two offers of one name');
}

await step('an offer that starts too late says so, and two offers of one name are told apart (10 suggestions)', async () => {
  const { id, late, answer } = await makeLateCase();
  assert.ok(late.every((o) => answer.suggestions.find((s) => s.offer_id === o).weeks_avoidable === 0), 'a late offer avoids no weeks');
  await page.goto(`${BASE}/`);
  await waitState(page, 'ready');
  await widget(page).evaluate((el, c) => { el.setAttribute('k', '10'); el.setAttribute('candidate-id', c); }, id);
  await page.waitForFunction((c) => document.querySelector('brobygger-suggestions').shadowRoot.querySelector('.meta')?.textContent.includes(c), id);
  await waitState(page, 'ready');
  for (const offer of late) {
    const card = widget(page).locator(`li.card[data-offer="${offer}"]`);
    const text = await card.locator('[data-late]').innerText();
    assert.match(text, /Starter først, når ydelsen er slut: sparer ingen uger med ydelse/, text);
    assert.match(await card.locator('dl').innerText(), /Ydelsen slutter/);
  }
  // On time offers carry no warning.
  const onTime = answer.suggestions.filter((s) => !s.start.starts_after_benefit_end).map((s) => s.offer_id);
  for (const offer of onTime) assert.equal(await widget(page).locator(`li.card[data-offer="${offer}"] [data-late]`).count(), 0);
  // Same name: each such card says where, when and which offer it is, and no two say the same.
  const byName = new Map();
  for (const s of answer.suggestions) byName.set(s.name, [...(byName.get(s.name) || []), s.offer_id]);
  const twins = [...byName.values()].filter((ids) => ids.length > 1);
  assert.ok(twins.length >= 1, 'the citizen has two offers of one name');
  for (const ids of twins) {
    const lines = [];
    for (const offer of ids) {
      const line = await widget(page).locator(`li.card[data-offer="${offer}"] [data-twin]`).innerText();
      assert.match(line, /Der er flere tilbud med dette navn\. Dette: .+, start .+, tilbud /);
      assert.ok(line.includes(offer), line);
      lines.push(line);
    }
    assert.equal(new Set(lines).size, lines.length, `twins are told apart: ${lines.join(' | ')}`);
  }
  const single = answer.suggestions.find((s) => byName.get(s.name).length === 1);
  if (single) assert.equal(await widget(page).locator(`li.card[data-offer="${single.offer_id}"] [data-twin]`).count(), 0);
  await axe(page, 'late offer and twins, Danish desktop');
  const lateCard = widget(page).locator(`li.card[data-offer="${late[0]}"]`);
  await lateCard.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(OUT, 'widget-da-late.png') });
  // English at 320 px: the same states, nothing scrolls sideways.
  const narrow = await open({ width: 320, height: 900 }, '?lang=en');
  await waitState(narrow, 'ready');
  await widget(narrow).evaluate((el, c) => { el.setAttribute('k', '10'); el.setAttribute('candidate-id', c); }, id);
  await narrow.waitForFunction((c) => document.querySelector('brobygger-suggestions').shadowRoot.querySelector('.meta')?.textContent.includes(c), id);
  await waitState(narrow, 'ready');
  assert.match(await widget(narrow).locator(`li.card[data-offer="${late[0]}"] [data-late]`).innerText(), /Starts only after the benefit has ended/);
  assert.match(await widget(narrow).locator('[data-twin]').first().innerText(), /Several offers have this name\. This one: /);
  const overflow = await narrow.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page scrolls ${overflow} px sideways at 320 px`);
  await axe(narrow, 'late offer and twins, English 320 px');
  await narrow.context().close();
  current = page;
});

await step('the team overview page for the team meeting: Danish and English, a workload picture, axe clean, 320 px', async () => {
  for (const [lang, frame, caption] of [['da', /ikke en rangliste/, 'Arbejdsbyrde pr. sagsbehandler'], ['en', /not a ranking/, 'Workload per caseworker']]) {
    for (const width of [1280, 320]) {
      const team = await open({ width, height: 900 }, `team?lang=${lang}`);
      const csp = (await team.request.get(`${BASE}/team?lang=${lang}`)).headers()['content-security-policy'];
      assert.match(csp, /default-src 'none'/);
      assert.equal(await team.locator('html').getAttribute('lang'), lang);
      assert.match(await team.locator('.frame').innerText(), frame);
      await team.getByRole('table', { name: caption }).waitFor();
      const ids = await team.locator('tbody th[scope="row"]').allInnerTexts();
      assert.ok(ids.length >= 2, 'the team has caseworkers');
      assert.deepEqual(ids, [...ids].sort(), 'caseworkers in id order, never sorted by a figure');
      const overflow = await team.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${lang} ${width} px: the page scrolls ${overflow} px sideways`);
      await axe(team, `team overview ${lang} ${width} px`);
      if (width === 1280) await team.screenshot({ path: join(OUT, `team-${lang}-desktop.png`), fullPage: true });
      await team.context().close();
    }
  }
  current = page;
});

await step('English with lang="en"', async () => {
  await page.goto(`${BASE}/?lang=en`);
  await waitState(page, 'ready');
  assert.equal(await widget(page).getAttribute('lang'), 'en');
  await widget(page).getByRole('heading', { name: 'Suggested offers' }).waitFor();
  assert.match(await widget(page).locator('.notice').innerText(), /suggestions, not decisions/);
  const facts = await widget(page).locator('li.card').last().locator('dl').innerText();
  for (const label of ['Start', 'Duration', 'Where', 'Distance', 'Places left', 'Price', 'Expected effect', 'Success rate', 'likely between', 'Difference from no offer']) {
    assert.ok(facts.includes(label), `English card shows ${label}: ${facts}`);
  }
  assert.match(facts, /adjusted toward the target group's average|no results of its own yet/);
  assert.match(facts, /(About \d+ percentage points (more|fewer)|As many) get a job or education (than|as) without an offer|Not measured yet/);
  await axe(page, 'English desktop');
  await page.screenshot({ path: join(OUT, 'widget-en-desktop.png'), fullPage: true });
});

await step('usable at 320 px wide, Danish and English: nothing scrolls sideways', async () => {
  for (const [lang, query] of [['da', ''], ['en', '?lang=en']]) {
    const narrow = await open({ width: 320, height: 900 }, query);
    await waitState(narrow, 'ready');
    const overflow = await narrow.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `${lang}: the page scrolls ${overflow} px sideways at 320 px`);
    const box = await widget(narrow).boundingBox();
    assert.ok(box.x >= 0 && box.x + box.width <= 320, `${lang}: the widget fits: ${JSON.stringify(box)}`);
    const card = widget(narrow).locator('li.card:not(.decided)').first();
    await card.getByRole('button', { name: lang === 'da' ? 'Afvis' : 'Decline', exact: true }).click();
    const formBox = await card.locator('form').boundingBox();
    assert.ok(formBox.x + formBox.width <= 320, `${lang}: the form fits`);
    await axe(narrow, `${lang} 320 px`);
    await narrow.screenshot({ path: join(OUT, `widget-${lang}-320.png`), fullPage: true });
    // The screen a caseworker sees with the widget scrolled to its top, for the README.
    await narrow.evaluate(() => document.querySelector('brobygger-suggestions').scrollIntoView());
    await narrow.screenshot({ path: join(OUT, `widget-${lang}-320-widget.png`) });
    await narrow.context().close();
  }
  current = page;
});

await step('loading, empty, not-found and expired-token states are shown, never a blank box', async () => {
  await page.goto(`${BASE}/`);
  await waitState(page, 'ready');
  const realToken = await widget(page).getAttribute('token');
  // Loading: hold the real server's answer back for a moment.
  await page.route('**/v1/suggestions', async (route) => {
    await new Promise((r) => setTimeout(r, 700));
    await route.continue();
  });
  await widget(page).evaluate((el) => el.reload());
  await waitState(page, 'loading');
  assert.match(await state(page).locator('[role="status"]').first().innerText(), /Henter forslag/);
  assert.equal(await state(page).getAttribute('aria-busy'), 'true');
  await waitState(page, 'ready');
  await page.unroute('**/v1/suggestions');

  // Empty: a stored candidate with no offer in reach.
  const record = (await api('GET', `/v1/candidates/${firstCandidate}`)).body;
  const lonely = { ...record, id: 'cand-widget-empty', max_travel_km: '1', lat: '55.3', lon: '15.1', excluded_offers: '' };
  delete lonely.excluded_offers;
  delete lonely.current_offer;
  const put = await api('POST', '/v1/candidates', [lonely]);
  assert.equal(put.status, 200, JSON.stringify(put.body));
  await widget(page).evaluate((el) => el.setAttribute('candidate-id', 'cand-widget-empty'));
  await waitState(page, 'empty');
  assert.match(await state(page).innerText(), /Ingen forslag/);

  await widget(page).evaluate((el) => el.setAttribute('candidate-id', 'cand-nobody-here'));
  await waitState(page, 'error');
  assert.match(await state(page).locator('[role="alert"]').innerText(), /findes ikke/);

  // The service says this token expired (not merely unknown); the widget shows the same state.
  const refused = await fetch(BASE + '/v1/candidates', { headers: { authorization: `Bearer ${EXPIRED}` } });
  assert.equal(refused.status, 401);
  assert.equal((await refused.json()).type, '/problems/token-expired');
  await widget(page).evaluate((el, t) => {
    el.setAttribute('candidate-id', el.ownerDocument.querySelector('.case').dataset.candidate);
    el.setAttribute('token', t);
  }, EXPIRED);
  await waitState(page, 'expired');
  assert.match(await state(page).locator('[role="alert"]').innerText(), /udløbet/);
  assert.match(await page.locator('#event-log').innerText(), /udløbet/, 'the host heard brobygger-token-expired');
  await axe(page, 'expired token');
  // A host callback that hands out a fresh token: setting it loads again, and the widget
  // recovers without the caseworker doing anything.
  await widget(page).evaluate((el, t) => { el.tokenProvider = () => Promise.resolve(t); }, realToken);
  await waitState(page, 'ready');
});

await step('a case system on another origin embeds it: CORS, the host\'s strict CSP, a token callback', async () => {
  const allowed = await hostSystem(HOST_PORT);
  const refused = await hostSystem(0);
  try {
    const candidate = await page.locator('.case').nth(3).getAttribute('data-candidate');
    const host = await open({ width: 1024, height: 900 }, '');
    await host.goto(`http://127.0.0.1:${HOST_PORT}/?candidate=${candidate}`);
    await waitState(host, 'ready');
    assert.ok(Number(await host.locator('body').getAttribute('data-token-calls')) >= 1, 'the widget asked the host for a token');
    assert.equal(await widget(host).getAttribute('token'), null, 'no token in the DOM');
    const card = widget(host).locator('li.card').first();
    const offer = await card.getAttribute('data-offer');
    await card.getByRole('button', { name: 'Accept', exact: true }).click();
    await card.getByRole('button', { name: 'Record acceptance' }).click();
    await card.locator('[data-role="recorded"]').waitFor({ state: 'visible' });
    assert.match(await host.locator('#log').innerText(), /saved decision \d+/);
    const list = await api('GET', `/v1/decisions?candidate_id=${candidate}`);
    assert.deepEqual(list.body.decisions.map((d) => [d.offer_id, d.action]), [[offer, 'accept']]);
    await host.context().close();
    // An origin the service was not told about gets nothing, and the widget says so.
    const other = await open({ width: 1024, height: 900 }, '');
    await other.goto(`http://127.0.0.1:${refused.address().port}/?candidate=${candidate}`);
    await waitState(other, 'error');
    assert.match(await state(other).locator('[role="alert"]').innerText(), /not answering/);
    await other.context().close();
    current = page;
  } finally {
    allowed.close();
    refused.close();
  }
});

await step('a server that is down gives a clear error with a retry, reachable by keyboard', async () => {
  assert.ok(SERVER_PID > 0, 'BROBYGGER_SERVER_PID is needed for this step');
  process.kill(SERVER_PID, 'SIGTERM');
  // Wait until the port refuses connections.
  for (let i = 0; ; i++) {
    try {
      await fetch(`${BASE}/healthz`);
    } catch (_) {
      break;
    }
    assert.ok(i < 100, 'the server did not stop');
    await new Promise((r) => setTimeout(r, 100));
  }
  await widget(page).evaluate((el) => el.reload());
  await waitState(page, 'error');
  const alert = state(page).locator('[role="alert"]');
  assert.match(await alert.innerText(), /svarer ikke/);
  // Reached with Tab from the top of the page, and pressing it really asks again: a new
  // request goes out and the widget passes through loading before it shows the error again.
  await page.locator('body').focus();
  const f = await tabTo(page, (x) => x.inWidget && x.text === 'Prøv igen');
  assert.notEqual(f.outline.split(' ')[0], 'none', `focus is visible on the retry: ${f.outline}`);
  await widget(page).evaluate((el) => {
    const root = el.shadowRoot.querySelector('section.root');
    window.__states = [];
    new MutationObserver(() => window.__states.push(root.dataset.state)).observe(root, { attributes: true, attributeFilter: ['data-state'] });
  });
  const asked = page.waitForRequest((r) => r.url().endsWith('/v1/suggestions'));
  await page.keyboard.press('Enter');
  await asked;
  await page.waitForFunction(() => window.__states.includes('loading') && window.__states.at(-1) === 'error');
  await axe(page, 'server down');
  await page.screenshot({ path: join(OUT, 'widget-da-server-down.png') });
});

await step('no Content-Security-Policy violations and no script errors on any page', async () => {
  const csp = await page.evaluate(() => window.__csp);
  assert.deepEqual(csp, []);
  assert.deepEqual(problems, []);
});

await browser.close();
clearTimeout(deadline);
console.log(`browser test passed in ${((Date.now() - started) / 1000).toFixed(1)} s; screenshots in ${OUT}`);
