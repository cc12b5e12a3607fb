// The mock case screen around the widget: switching cases and language, and showing the
// widget's events, as a host case system would. No inline script (the page's CSP forbids it).
'use strict';
(() => {
  const widget = document.getElementById('widget');
  const caseId = document.getElementById('case-id');
  const log = document.getElementById('event-log');
  const danish = new Map();
  for (const el of document.querySelectorAll('[data-en]')) danish.set(el, el.textContent);

  for (const button of document.querySelectorAll('.case')) {
    button.addEventListener('click', () => {
      for (const b of document.querySelectorAll('.case')) b.setAttribute('aria-pressed', String(b === button));
      widget.setAttribute('candidate-id', button.dataset.candidate);
      caseId.textContent = button.dataset.candidate;
      log.textContent = '';
    });
  }

  const setLang = (lang) => {
    document.documentElement.lang = lang;
    widget.setAttribute('lang', lang);
    for (const [el, da] of danish) el.textContent = lang === 'en' ? el.dataset.en : da;
    for (const b of document.querySelectorAll('[data-lang]')) b.setAttribute('aria-pressed', String(b.dataset.lang === lang));
  };
  for (const b of document.querySelectorAll('[data-lang]')) b.addEventListener('click', () => setLang(b.dataset.lang));
  const wanted = new URLSearchParams(location.search).get('lang');
  if (wanted === 'en') setLang('en');

  widget.addEventListener('brobygger-decision', (e) => {
    const d = e.detail;
    const en = document.documentElement.lang === 'en';
    log.textContent = en
      ? `Case system: record no. ${d.id} (${d.action === 'accept' ? 'accepted' : 'declined'}) saved to the case file.`
      : `Sagssystem: registrering nr. ${d.id} (${d.action === 'accept' ? 'accepteret' : 'afvist'}) gemt på sagen.`;
  });
  widget.addEventListener('brobygger-token-expired', () => {
    log.textContent = document.documentElement.lang === 'en'
      ? 'Case system: the Brobygger token expired; a real case system would sign in again here.'
      : 'Sagssystem: Brobygger-adgangen er udløbet; et rigtigt sagssystem ville logge ind igen her.';
  });
})();
