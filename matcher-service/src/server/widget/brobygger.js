// Brobygger caseworker widget, contract v1: <brobygger-suggestions>.
//
// One classic script, no dependencies, no build step. It shows one candidate's suggestions with
// everything behind them and records the caseworker's decision through the Brobygger API.
//
//   <script src="https://brobygger.example/widget/v1/brobygger.js" defer></script>
//   <brobygger-suggestions candidate-id="cand-000001" lang="da"></brobygger-suggestions>
//
// Attributes: candidate-id, api-base (default: where this script came from), lang (da | en),
// token (or set the element's `tokenProvider` to a function returning a token or a promise of
// one: it is asked before each call and again after a 401), k (1 to 10 suggestions, default 3).
// Events (bubbling, composed): brobygger-decision (detail: the recorded decision),
// brobygger-token-expired. Styling: the --brobygger-* custom properties below.
//
// Data is put into the page only as text (textContent, attributes), never parsed as markup, and
// the script needs no eval and no inline styles, so a strict Content-Security-Policy holds.
(() => {
  'use strict';
  const TAG = 'brobygger-suggestions';
  if (!window.customElements || customElements.get(TAG)) return;

  // Default API base: the service that served this script (also behind a path prefix).
  const SCRIPT_BASE = (() => {
    const src = document.currentScript && document.currentScript.src;
    return src ? src.replace(/\/widget\/v1\/brobygger\.js(\?.*)?$/, '') : '';
  })();

  const TEXT = {
    da: {
      title: 'Forslag til indsats',
      candidate: 'Borger',
      inReach: (n) => `${n} tilbud inden for rækkevidde`,
      noticeStrong: 'Det er forslag, ikke afgørelser.',
      notice: 'Brobygger foreslår ud fra data; du som sagsbehandler vurderer borgerens situation og træffer afgørelsen.',
      loading: 'Henter forslag …',
      loaded: (n) => `${n} forslag vist`,
      empty: 'Ingen forslag: inden for den afstand, borgeren kan rejse, er der intet tilbud med ledige pladser, som borgeren kan få.',
      noCandidate: 'Ingen borger valgt.',
      notFound: 'Borgeren findes ikke i Brobygger for din kommune.',
      forbidden: 'Din rolle har ikke adgang til forslag.',
      network: 'Brobygger svarer ikke lige nu. Dine data er ikke ændret.',
      server: 'Brobygger kunne ikke hente forslagene.',
      token: 'Din adgang til Brobygger er udløbet eller ugyldig. Log ind igen i sagssystemet, og prøv igen.',
      retry: 'Prøv igen',
      rank: (r) => `Forslag ${r}`,
      kinds: { provider: 'Leverandørforløb', job: 'Job', work_trial: 'Arbejdsprøvning', reciprocal_help: 'Gensidig hjælp (samskabelse)' },
      distance: 'Afstand',
      km: (v) => `${v} km`,
      near: (km, v) => `${km <= 10 ? 'tæt på' : km <= 25 ? 'et stykke væk' : 'langt væk'} (${v} km)`,
      start: 'Start',
      continuous: 'Løbende optag: kan starte nu',
      startsOn: (d, w) => w > 0 ? `${d} (om ${w} ${w === 1 ? 'uge' : 'uger'})` : d,
      duration: 'Varighed',
      weeks: (w) => `${w} ${w === 1 ? 'uge' : 'uger'}`,
      where: 'Hvor',
      contact: 'Kontakt',
      deadline: 'Ydelsen slutter',
      deadlineWeeks: (d, w) => `${d}; lykkes forløbet, spares op til ${w} ${w === 1 ? 'uge' : 'uger'} med ydelse`,
      tooLate: 'Starter først, når ydelsen er slut: sparer ingen uger med ydelse',
      twin: (where, start, id) => `Der er flere tilbud med dette navn. Dette: ${where}, start ${start}, tilbud ${id}.`,
      anyDay: 'når som helst',
      places: 'Ledige pladser',
      placesOf: (a, b) => `${a} af ${b}`,
      price: 'Pris',
      dkk: (v) => `${v} kr.`,
      scarcity: 'Efterspørgsel efter pladsen (nattens kørsel)',
      points: (v) => `${v} point`,
      effect: 'Forventet effekt',
      success: (g) => `Succesrate, ${g}`,
      successDetail: (lo, hi, k, n) => `${String(n) !== '0' ? `${k} af ${n}, justeret mod gennemsnittet for målgruppen` : 'ingen egne resultater endnu: målgruppens gennemsnit'}; sandsynligvis mellem ${lo} og ${hi}`,
      uplift: 'Forskel fra intet tilbud',
      upliftMain: (pp) => (pp > 0 ? `Ca. ${pp} procentpoint flere kommer i job eller uddannelse end uden tilbud`
        : pp < 0 ? `Ca. ${-pp} procentpoint færre kommer i job eller uddannelse end uden tilbud`
          : 'Lige så mange kommer i job eller uddannelse som uden tilbud'),
      upliftRange: (lo, hi) => (lo >= 0 ? `(mellem ${lo} og ${hi})` : hi <= 0 ? `(mellem ${-hi} og ${-lo} færre)`
        : `(usikkert: mellem ${-lo} færre og ${hi} flere)`),
      upliftNote: 'Sammenlignet med borgere i samme målgruppe og med samme tid på ydelse, der ikke fik et tilbud.',
      upliftUnknown: 'Ikke målt endnu: vi kan ikke sige, om flere kommer i job eller uddannelse end uden tilbud',
      loss: 'Taber penge',
      lossWhy: { small_effect_for_price: 'Effekten er for lille til prisen: selv i bedste fald sparer forløbet ikke sin pris ind.',
        too_uncertain: 'Effekten er for usikker: vi ved for lidt om forløbets resultater til at sige, at det betaler sig.' },
      noEvidence: 'Ingen data for borgerens målgruppe',
      // The score is for ranking, not for a caseworker's choice (issue 20): it stays with its
      // breakdown, under the chances and kroner.
      factorsCaption: (total) => `Sådan er forslaget regnet ud: ${total} point i alt, fordelt på hensyn`,
      factors: {
        group_fit: 'Målgruppe', evidence: 'Dokumenteret effekt', distance: 'Afstand', occupation: 'Passer til det ønskede arbejde',
        urgency: 'Ydelsen slutter snart', effect: 'Forventet gevinst', continuity: 'Fortsætter det nuværende forløb', preference: 'Borgerens ønske',
      },
      showDiff: (r) => `Hvorfor før nr. ${r}?`,
      diffLead: (d, name) => `${d} point foran næste forslag, ${name}.`,
      diffNone: 'Der er intet næste forslag at sammenligne med.',
      diffEqual: 'Ingen forskel på de enkelte hensyn.',
      accept: 'Accepter',
      decline: 'Afvis',
      acceptTitle: (n) => `Accepter ${n}`,
      declineTitle: (n) => `Afvis ${n}`,
      reason: 'Begrundelse',
      choose: 'Vælg en begrundelse',
      acceptReasons: ['Passer til borgerens mål og situation', 'Borgeren ønsker tilbuddet', 'Andet (skriv nedenfor)'],
      declineReasons: ['Borgeren ønsker det ikke', 'For lang transport', 'Passer ikke til borgerens helbred eller situation', 'Borgeren er allerede i gang med andet', 'Andet (skriv nedenfor)'],
      details: 'Uddybning',
      detailsHint: 'Skal udfyldes, når du vælger "Andet".',
      submitAccept: 'Registrér accept',
      submitDecline: 'Registrér afvisning',
      cancel: 'Fortryd',
      needReason: 'Vælg en begrundelse.',
      needDetails: 'Skriv en uddybning, når du vælger "Andet".',
      sending: 'Sender …',
      recorded: (a, who, when, id) => `Registrering nr. ${id}: ${a} af ${who}, ${when}.`,
      accepted: 'accepteret',
      declined: 'afvist',
      acceptedBadge: 'Accepteret',
      declinedBadge: 'Afvist',
      declinedUntil: (d) => `Tilbuddet vises ikke for borgeren igen før efter ${d}.`,
      runningUntil: (d) => `Forløbet løber til ${d}.`,
      running: (name, id, d) => `Borgeren er allerede i gang med et forløb: ${name} (registrering nr. ${id}, til ${d}). Ret eller afslut det, før du accepterer et andet.`,
      runningConflict: (id) => `Borgeren er allerede i gang med et forløb (registrering nr. ${id}). Dit valg er ikke registreret.`,
      correct: 'Ret registreringen',
      needWords: 'Skriv en begrundelse.',
      correctTitle: (id) => `Ret registrering nr. ${id}`,
      correctHint: 'Registreringen trækkes tilbage (den står stadig i loggen), og pladsen bliver ledig igen. Derefter kan du registrere et nyt valg.',
      submitCorrect: 'Træk registreringen tilbage',
      corrected: (id, w) => `Registrering nr. ${id} er trukket tilbage (nr. ${w}).`,
      withdrawnNote: (id) => `En tidligere registrering (nr. ${id}) om tilbuddet er trukket tilbage.`,
      reasonWas: 'Begrundelse: ',
      conflict: 'Der er ingen ledige pladser tilbage på tilbuddet. Dit valg er ikke registreret.',
      decisionForbidden: 'Din rolle må ikke registrere valg.',
      decisionFailed: 'Dit valg blev ikke registreret. Prøv igen.',
      decisionNetwork: 'Dit valg blev ikke sendt, fordi Brobygger ikke svarer. Prøv igen.',
    },
    en: {
      title: 'Suggested offers',
      candidate: 'Citizen',
      inReach: (n) => `${n} offers in reach`,
      noticeStrong: 'These are suggestions, not decisions.',
      notice: 'Brobygger suggests from data; you, the caseworker, assess the citizen\'s situation and decide.',
      loading: 'Loading suggestions …',
      loaded: (n) => `${n} suggestions shown`,
      empty: 'No suggestions: within the distance the citizen can travel, no offer the citizen can take has places left.',
      noCandidate: 'No citizen selected.',
      notFound: 'This citizen is not in Brobygger for your municipality.',
      forbidden: 'Your role has no access to suggestions.',
      network: 'Brobygger is not answering right now. Nothing has been changed.',
      server: 'Brobygger could not load the suggestions.',
      token: 'Your access to Brobygger has expired or is not valid. Sign in to the case system again and retry.',
      retry: 'Try again',
      rank: (r) => `Suggestion ${r}`,
      kinds: { provider: 'Provider course', job: 'Job', work_trial: 'Work trial', reciprocal_help: 'Reciprocal help (co-creation)' },
      distance: 'Distance',
      km: (v) => `${v} km`,
      near: (km, v) => `${km <= 10 ? 'close by' : km <= 25 ? 'some way off' : 'far away'} (${v} km)`,
      start: 'Start',
      continuous: 'Continuous intake: can start now',
      startsOn: (d, w) => w > 0 ? `${d} (in ${w} ${w === 1 ? 'week' : 'weeks'})` : d,
      duration: 'Duration',
      weeks: (w) => `${w} ${w === 1 ? 'week' : 'weeks'}`,
      where: 'Where',
      contact: 'Contact',
      deadline: 'Benefit ends',
      deadlineWeeks: (d, w) => `${d}; if it succeeds, up to ${w} ${w === 1 ? 'week' : 'weeks'} of benefit are saved`,
      tooLate: 'Starts only after the benefit has ended: saves no weeks of benefit',
      twin: (where, start, id) => `Several offers have this name. This one: ${where}, starts ${start}, offer ${id}.`,
      anyDay: 'any day',
      places: 'Places left',
      placesOf: (a, b) => `${a} of ${b}`,
      price: 'Price',
      dkk: (v) => `DKK ${v}`,
      scarcity: 'Demand for the place (last night\'s run)',
      points: (v) => `${v} points`,
      effect: 'Expected effect',
      success: (g) => `Success rate, ${g}`,
      successDetail: (lo, hi, k, n) => `${String(n) !== '0' ? `${k} of ${n}, adjusted toward the target group's average` : 'no results of its own yet: the target group\'s average'}; likely between ${lo} and ${hi}`,
      uplift: 'Difference from no offer',
      upliftMain: (pp) => (pp > 0 ? `About ${pp} percentage points more get a job or education than without an offer`
        : pp < 0 ? `About ${-pp} percentage points fewer get a job or education than without an offer`
          : 'As many get a job or education as without an offer'),
      upliftRange: (lo, hi) => (lo >= 0 ? `(between ${lo} and ${hi})` : hi <= 0 ? `(between ${-hi} and ${-lo} fewer)`
        : `(uncertain: between ${-lo} fewer and ${hi} more)`),
      upliftNote: 'Compared with citizens of the same target group and time on benefit who got no offer.',
      upliftUnknown: 'Not measured yet: we cannot say whether more get a job or education than without an offer',
      loss: 'Loses money',
      lossWhy: { small_effect_for_price: 'The effect is too small for the price: even at best the course does not earn back its price.',
        too_uncertain: 'The effect is too uncertain: too little is known about the course\'s results to say that it pays.' },
      noEvidence: 'No data for the citizen\'s target group',
      factorsCaption: (total) => `How the suggestion was worked out: ${total} points in all, by consideration`,
      factors: {
        group_fit: 'Target group fit', evidence: 'Evidence of effect', distance: 'Distance', occupation: 'Fits the wished work',
        urgency: 'Benefit ends soon', effect: 'Expected effect', continuity: 'Continues the current course', preference: 'Citizen\'s preference',
      },
      showDiff: (r) => `Why ahead of no. ${r}?`,
      diffLead: (d, name) => `${d} points ahead of the next suggestion, ${name}.`,
      diffNone: 'There is no next suggestion to compare with.',
      diffEqual: 'No difference in any single consideration.',
      accept: 'Accept',
      decline: 'Decline',
      acceptTitle: (n) => `Accept ${n}`,
      declineTitle: (n) => `Decline ${n}`,
      reason: 'Reason',
      choose: 'Choose a reason',
      acceptReasons: ['Fits the citizen\'s goals and situation', 'The citizen wants this offer', 'Other (write below)'],
      declineReasons: ['The citizen does not want it', 'Too far to travel', 'Does not fit the citizen\'s health or situation', 'The citizen is already doing something else', 'Other (write below)'],
      details: 'Details',
      detailsHint: 'Required when you choose "Other".',
      submitAccept: 'Record acceptance',
      submitDecline: 'Record decline',
      cancel: 'Cancel',
      needReason: 'Choose a reason.',
      needDetails: 'Write details when you choose "Other".',
      sending: 'Sending …',
      recorded: (a, who, when, id) => `Record no. ${id}: ${a} by ${who}, ${when}.`,
      accepted: 'accepted',
      declined: 'declined',
      acceptedBadge: 'Accepted',
      declinedBadge: 'Declined',
      declinedUntil: (d) => `The offer is not suggested to the citizen again until after ${d}.`,
      runningUntil: (d) => `The course runs until ${d}.`,
      running: (name, id, d) => `The citizen already has a running course: ${name} (record no. ${id}, until ${d}). Correct or end it before you accept another.`,
      runningConflict: (id) => `The citizen already has a running course (record no. ${id}). Your choice was not recorded.`,
      correct: 'Correct the record',
      needWords: 'Write a reason.',
      correctTitle: (id) => `Correct record no. ${id}`,
      correctHint: 'The record is withdrawn (it stays in the log) and its place becomes free again. You can then record a new choice.',
      submitCorrect: 'Withdraw the record',
      corrected: (id, w) => `Record no. ${id} was withdrawn (no. ${w}).`,
      withdrawnNote: (id) => `An earlier record (no. ${id}) on this offer was withdrawn.`,
      reasonWas: 'Reason: ',
      conflict: 'The offer has no places left. Your choice was not recorded.',
      decisionForbidden: 'Your role may not record choices.',
      decisionFailed: 'Your choice was not recorded. Try again.',
      decisionNetwork: 'Your choice was not sent because Brobygger is not answering. Try again.',
    },
  };

  // Colours meet WCAG 2.1 AA on the default background (text ≥ 4.5:1, bars and borders ≥ 3:1);
  // a host that overrides them owns that check.
  const CSS = `
:host { display: block; font-family: var(--brobygger-font, system-ui, sans-serif); font-size: var(--brobygger-font-size, 1rem);
  color: var(--brobygger-text, #1b1f24); line-height: 1.45; }
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
.root { background: var(--brobygger-bg, #ffffff); border: 1px solid var(--brobygger-border, #8a939e);
  border-radius: var(--brobygger-radius, 6px); padding: var(--brobygger-gap, 1rem); min-width: 0; }
h2 { font-size: 1.15em; margin: 0 0 .25rem; }
h3 { font-size: 1.05em; margin: .25rem 0 .5rem; overflow-wrap: anywhere; }
p { margin: .25rem 0; }
.meta { color: var(--brobygger-muted, #4a525c); font-size: .9em; overflow-wrap: anywhere; }
.notice { background: var(--brobygger-notice-bg, #fff4d6); border-left: 4px solid var(--brobygger-notice-border, #8a5a00);
  padding: .5rem .75rem; margin: .5rem 0 1rem; }
.state { padding: 1rem; border-radius: var(--brobygger-radius, 6px); background: var(--brobygger-state-bg, #f2f4f7); }
.state.error { background: var(--brobygger-error-bg, #fdecec); border-left: 4px solid var(--brobygger-danger, #b3261e); }
.spinner { display: inline-block; width: 1em; height: 1em; border: 3px solid var(--brobygger-border, #8a939e);
  border-top-color: var(--brobygger-accent, #0b57d0); border-radius: 50%; vertical-align: -.15em; margin-right: .5rem;
  animation: spin 1s linear infinite; }
@media (prefers-reduced-motion: reduce) { .spinner { animation: none; } }
@keyframes spin { to { transform: rotate(360deg); } }
ol.list { list-style: none; margin: 0; padding: 0; display: grid; gap: var(--brobygger-gap, 1rem); }
.card { border: 1px solid var(--brobygger-border, #8a939e); border-radius: var(--brobygger-radius, 6px); padding: .75rem; min-width: 0; }
.card.decided { border-left: 4px solid var(--brobygger-success, #1e6b34); }
.card.decided.declined { border-left: 4px dashed var(--brobygger-danger, #b3261e); background: var(--brobygger-declined-bg, #fdf3f2); }
.badge { display: inline-block; border-radius: 999px; padding: 0 .6rem; font-weight: 700; margin-right: .35rem; }
.badge.accept { background: var(--brobygger-success, #1e6b34); color: #ffffff; }
.badge.decline { background: var(--brobygger-danger, #b3261e); color: #ffffff; }
.running-note { background: var(--brobygger-state-bg, #f2f4f7); border-left: 4px solid var(--brobygger-success, #1e6b34); padding: .35rem .6rem; font-size: .9em; }
.tags { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; font-size: .85em; }
.rank { font-weight: 700; }
.kind { background: var(--brobygger-tag-bg, #e6eefc); color: var(--brobygger-tag-text, #0a3a8c); border-radius: 999px; padding: 0 .6rem; }
dl { display: grid; grid-template-columns: repeat(auto-fit, minmax(min(100%, 11rem), 1fr)); gap: .25rem 1rem; margin: 0 0 .75rem; }
dl div { min-width: 0; }
dt { font-size: .8em; color: var(--brobygger-muted, #4a525c); }
dd { margin: 0; font-weight: 600; overflow-wrap: anywhere; }
figure { margin: 0 0 .75rem; }
figcaption { font-size: .85em; color: var(--brobygger-muted, #4a525c); margin-bottom: .25rem; }
ul.factors { list-style: none; margin: 0; padding: 0; display: grid; gap: .15rem; font-size: .85em; }
ul.factors li { display: grid; grid-template-columns: minmax(6rem, 10rem) 1fr 3.5rem; gap: .5rem; align-items: center; }
.track { height: .7rem; background: var(--brobygger-track, #e3e7ec); border-radius: 2px; overflow: hidden; }
.bar { display: block; height: 100%; background: var(--brobygger-bar, #0b57d0); }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.card { container-type: inline-size; }
@container (max-width: 24rem) {
  ul.factors li { grid-template-columns: 1fr 3.5rem; gap: 0 .5rem; }
  ul.factors li .track { grid-column: 1 / -1; grid-row: 2; }
}
button, select, textarea { font: inherit; }
button { min-height: 2.5rem; padding: .35rem .9rem; border-radius: var(--brobygger-radius, 6px); cursor: pointer;
  border: 1px solid var(--brobygger-accent, #0b57d0); background: var(--brobygger-bg, #ffffff); color: var(--brobygger-accent, #0b57d0); }
button.primary { background: var(--brobygger-accent, #0b57d0); color: var(--brobygger-accent-text, #ffffff); }
button.decline { border-color: var(--brobygger-danger, #b3261e); color: var(--brobygger-danger, #b3261e); }
button.link { border: 0; padding: .2rem 0; min-height: 2rem; text-decoration: underline; background: none; }
button[disabled] { opacity: .6; cursor: progress; }
:focus-visible { outline: 3px solid var(--brobygger-focus, #6a1b9a); outline-offset: 2px; }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; margin-top: .5rem; }
.diff { background: var(--brobygger-state-bg, #f2f4f7); padding: .5rem .75rem; border-radius: var(--brobygger-radius, 6px); font-size: .9em; }
.diff ul { margin: .25rem 0 0; padding-left: 1.2rem; }
form { margin-top: .5rem; padding: .75rem; border: 1px dashed var(--brobygger-border, #8a939e); border-radius: var(--brobygger-radius, 6px); }
form p.form-title { font-weight: 700; margin-top: 0; }
label { display: block; font-weight: 600; margin-top: .5rem; }
select, textarea { width: 100%; max-width: 100%; padding: .4rem; border: 1px solid var(--brobygger-border, #8a939e);
  border-radius: var(--brobygger-radius, 6px); background: var(--brobygger-bg, #ffffff); color: inherit; }
[aria-invalid="true"] { border-color: var(--brobygger-danger, #b3261e); border-width: 2px; }
.hint { font-size: .85em; color: var(--brobygger-muted, #4a525c); }
.form-error, .decision-error { color: var(--brobygger-danger, #b3261e); font-weight: 600; }
.sub { display: block; font-weight: 400; font-size: .85em; color: var(--brobygger-muted, #4a525c); }
.twin { margin: -.25rem 0 .5rem; font-size: .9em; color: var(--brobygger-muted, #4a525c); overflow-wrap: anywhere; }
.late { grid-column: 1 / -1; border-left: 4px solid var(--brobygger-warn, #9a3412); padding-left: .5rem; }
.late strong { display: block; color: var(--brobygger-warn, #9a3412); }
.recorded { color: var(--brobygger-success, #1e6b34); font-weight: 600; }
.recorded[data-action="decline"] { color: var(--brobygger-danger, #b3261e); }
.recorded:focus { outline: none; }
.recorded:focus-visible { outline: 3px solid var(--brobygger-focus, #6a1b9a); }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

  let sheet = null;
  function adoptStyles(root) {
    if ('adoptedStyleSheets' in Document.prototype && 'replaceSync' in CSSStyleSheet.prototype) {
      if (!sheet) {
        sheet = new CSSStyleSheet();
        sheet.replaceSync(CSS);
      }
      root.adoptedStyleSheets = [sheet];
    } else {
      const style = document.createElement('style');
      style.textContent = CSS;
      root.append(style);
    }
  }

  // h('p', {class: 'x', onclick: fn, 'aria-live': 'polite'}, 'text', child): elements from data
  // without markup parsing.
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  class ApiFailure extends Error {
    constructor(kind, status, body) {
      super(kind);
      this.kind = kind;
      this.status = status;
      this.body = body;
    }
  }

  let instances = 0;

  class BrobyggerSuggestions extends HTMLElement {
    static get observedAttributes() {
      return ['candidate-id', 'api-base', 'lang', 'token', 'k'];
    }

    constructor() {
      super();
      this._id = `bb${++instances}`;
      this._shadow = this.attachShadow({ mode: 'open' });
      adoptStyles(this._shadow);
      this._live = h('p', { class: 'sr-only', role: 'status', 'aria-live': 'polite' });
      this._body = h('div');
      this._root = h('section', { class: 'root', 'aria-labelledby': `${this._id}-title` },
        h('h2', { id: `${this._id}-title` }), this._body, this._live);
      this._shadow.append(this._root);
      this._tokenProvider = null;
      this._seq = 0;
      this._abort = null;
      this._pending = false;
    }

    /** A function returning the bearer token (or a promise of it); asked before each call. */
    get tokenProvider() {
      return this._tokenProvider;
    }

    set tokenProvider(fn) {
      this._tokenProvider = typeof fn === 'function' ? fn : null;
      this._schedule();
    }

    connectedCallback() {
      this._schedule();
    }

    disconnectedCallback() {
      if (this._abort) this._abort.abort();
    }

    attributeChangedCallback(_name, oldValue, newValue) {
      if (oldValue !== newValue) this._schedule();
    }

    /** Loads the suggestions again (e.g. after the host refreshed its token). */
    reload() {
      this._load();
    }

    get _t() {
      return (this.getAttribute('lang') || 'da').toLowerCase().startsWith('en') ? TEXT.en : TEXT.da;
    }

    get _locale() {
      return this._t === TEXT.en ? 'en-GB' : 'da-DK';
    }

    get _base() {
      return (this.getAttribute('api-base') || SCRIPT_BASE || '').replace(/\/+$/, '');
    }

    _schedule() {
      // Several attributes set in a row give one load.
      if (this._pending || !this.isConnected) return;
      this._pending = true;
      queueMicrotask(() => {
        this._pending = false;
        if (this.isConnected) this._load();
      });
    }

    _num(v, digits = 0) {
      return new Intl.NumberFormat(this._locale, { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(v);
    }

    _pct(v) {
      return new Intl.NumberFormat(this._locale, { style: 'percent', maximumFractionDigits: 0 }).format(v);
    }

    async _token(again) {
      if (this._tokenProvider) {
        try {
          return (await this._tokenProvider({ expired: !!again })) || '';
        } catch (_) {
          return '';
        }
      }
      return this.getAttribute('token') || '';
    }

    // Every decision on the candidate: the list is paged, and `next` is absent on the last page.
    async _decisionsOf(candidate, signal) {
      const all = [];
      let after = null;
      do {
        const query = `candidate_id=${encodeURIComponent(candidate)}&limit=1000` + (after ? `&after=${after}` : '');
        const page = await this._api('GET', `/v1/decisions?${query}`, null, signal);
        if (page && Array.isArray(page.decisions)) all.push(...page.decisions);
        after = page && Number.isInteger(page.next) ? page.next : null;
      } while (after);
      return all;
    }

    async _api(method, path, body, signal, retried, idempotencyKey) {
      const token = await this._token(retried);
      if (!token) throw new ApiFailure('token', 401);
      const headers = { authorization: `Bearer ${token}`, accept: 'application/json' };
      if (body) headers['content-type'] = 'application/json';
      if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
      let res;
      try {
        res = await fetch(this._base + path, {
          method, headers, body: body ? JSON.stringify(body) : undefined, signal, credentials: 'omit', cache: 'no-store',
        });
      } catch (e) {
        if (e && e.name === 'AbortError') throw e;
        throw new ApiFailure('network', 0);
      }
      let data = null;
      try {
        data = await res.json();
      } catch (_) {
        data = null;
      }
      if (res.status === 401) {
        if (this._tokenProvider && !retried) return this._api(method, path, body, signal, true, idempotencyKey);
        this.dispatchEvent(new CustomEvent('brobygger-token-expired', { bubbles: true, composed: true }));
        throw new ApiFailure('token', 401, data);
      }
      if (!res.ok) {
        const kind = { 403: 'forbidden', 404: 'notFound', 409: 'conflict' }[res.status] || 'server';
        throw new ApiFailure(kind, res.status, data);
      }
      return data;
    }

    _announce(text) {
      this._live.textContent = '';
      // A fresh text node is announced even when the words repeat.
      setTimeout(() => { this._live.textContent = text; }, 50);
    }

    _setTitle() {
      this._root.querySelector('h2').textContent = this._t.title;
      this._root.setAttribute('lang', this._t === TEXT.en ? 'en' : 'da');
    }

    _state(kind, message, retry) {
      const t = this._t;
      this._setTitle();
      this._root.removeAttribute('aria-busy');
      const box = h('div', { class: `state ${kind === 'error' ? 'error' : ''}`, role: kind === 'error' ? 'alert' : 'status', 'data-state': retry || kind },
        kind === 'loading' ? h('span', { class: 'spinner', 'aria-hidden': 'true' }) : null,
        h('span', {}, message));
      const nodes = [box];
      if (kind === 'error') {
        nodes.push(h('div', { class: 'actions' }, h('button', { type: 'button', class: 'primary', onclick: () => this._load(true) }, t.retry)));
      }
      if (kind === 'loading') this._root.setAttribute('aria-busy', 'true');
      this._body.replaceChildren(...nodes);
    }

    async _load(focusAfter) {
      const t = this._t;
      const candidate = (this.getAttribute('candidate-id') || '').trim();
      if (this._abort) this._abort.abort();
      const seq = ++this._seq;
      if (!candidate) {
        this._state('empty', t.noCandidate);
        this._root.dataset.state = 'no-candidate';
        return;
      }
      const abort = new AbortController();
      this._abort = abort;
      this._state('loading', t.loading);
      this._root.dataset.state = 'loading';
      const k = Math.min(10, Math.max(1, parseInt(this.getAttribute('k') || '3', 10) || 3));
      try {
        const [answer, decisions] = await Promise.all([
          this._api('POST', '/v1/suggestions', { candidate_id: candidate, k }, abort.signal),
          this._decisionsOf(candidate, abort.signal),
        ]);
        if (seq !== this._seq) return;
        this._render(answer, decisions);
      } catch (e) {
        if (seq !== this._seq || (e && e.name === 'AbortError')) return;
        const kind = e instanceof ApiFailure ? e.kind : 'server';
        const message = t[kind] || t.server;
        this._state('error', message, kind);
        this._root.dataset.state = kind === 'token' ? 'expired' : 'error';
        this._announce(message);
      }
      if (focusAfter && seq === this._seq) {
        const target = this._body.querySelector('[role="alert"], h3, [role="status"]');
        if (target) {
          if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
          target.focus();
        }
      }
    }

    _render(answer, decisions) {
      const t = this._t;
      this._setTitle();
      this._root.removeAttribute('aria-busy');
      const list = answer.suggestions || [];
      const header = [
        h('p', { class: 'meta' }, `${t.candidate} ${answer.candidate_id} · ${t.inReach(this._num(answer.offers_in_reach || 0))}`),
        h('p', { class: 'notice', role: 'note' }, h('strong', {}, t.noticeStrong), ' ', t.notice),
      ];
      if (list.length === 0) {
        this._body.replaceChildren(...header, h('div', { class: 'state', role: 'status', 'data-state': 'empty' }, t.empty));
        this._root.dataset.state = 'empty';
        this._announce(t.empty);
        return;
      }
      // Latest standing decision per offer (take the highest id). Withdrawals and the decisions
      // they withdrew no longer stand: the card is open again, with a note.
      const latest = new Map();
      const withdrawn = new Map();
      for (const d of decisions) {
        if (d.action === 'withdrawal' || d.status === 'withdrawn') {
          if (d.action !== 'withdrawal') withdrawn.set(d.offer_id, d.id);
          continue;
        }
        const prev = latest.get(d.offer_id);
        if (!prev || d.id > prev.id) latest.set(d.offer_id, d);
      }
      this._running = answer.running || null;
      this._withdrawn = withdrawn;
      // Bars share one scale: the largest weight × 1000 any factor can reach.
      let scale = 1;
      for (const s of list) for (const f of s.factors) scale = Math.max(scale, Math.round(f.weight * 1000), f.points);
      const shown = list.map((s) => s.offer_id);
      // Offers shown under the same name are told apart by place, start and id (issue 20).
      const names = new Map();
      for (const s of list) names.set(s.name, (names.get(s.name) || 0) + 1);
      this._twins = names;
      const ol = h('ol', { class: 'list', 'aria-label': t.title });
      for (const s of list) ol.append(this._card(s, scale, shown, latest.get(s.offer_id), answer.candidate_id, answer.batch_run_id, answer.benefit_end));
      this._body.replaceChildren(...header, ol);
      this._root.dataset.state = 'ready';
      this._announce(t.loaded(list.length));
    }

    _card(s, scale, shown, decision, candidateId, batchRun, benefitEnd) {
      const t = this._t;
      const id = `${this._id}-s${s.rank}`;
      const nameId = `${id}-name`;
      const facts = h('dl', {});
      const fact = (label, value) => facts.append(h('div', {}, h('dt', {}, label), h('dd', {}, value)));
      // When, how long, where and whom to call (issue 20), then the citizen's deadline.
      const st = s.start || {};
      if (st.starts_after_benefit_end) {
        facts.append(h('div', { class: 'late', 'data-late': '' }, h('dt', {}, t.start),
          h('dd', {}, t.startsOn(this._date(st.next_start), this._num(st.wait_weeks)), ' ', h('strong', {}, t.tooLate))));
      } else if (st.continuous_intake !== undefined) {
        fact(t.start, st.continuous_intake ? t.continuous : t.startsOn(this._date(st.next_start), this._num(st.wait_weeks)));
      }
      if (s.duration_weeks !== undefined) fact(t.duration, t.weeks(this._num(s.duration_weeks)));
      if (s.address) fact(t.where, `${s.address.postcode} ${s.address.town}`);
      if (s.contact) fact(t.contact, s.contact);
      // A late offer already says it saves nothing, and "up to 0 weeks" says nothing: then only the date.
      const weeks = Math.round(s.weeks_avoidable || 0);
      if (benefitEnd) fact(t.deadline, st.starts_after_benefit_end || weeks < 1 ? this._date(benefitEnd) : t.deadlineWeeks(this._date(benefitEnd), this._num(weeks)));
      fact(t.distance, t.km(this._num(s.distance_km, 1)));
      fact(t.places, t.placesOf(this._num(s.remaining_places), this._num(s.capacity)));
      fact(t.price, t.dkk(this._num(s.price_dkk)));
      if (batchRun !== null && batchRun !== undefined && s.scarcity_price !== null) fact(t.scarcity, t.points(this._num(s.scarcity_price)));
      fact(t.effect, t.dkk(this._num(Math.round(s.effect_dkk))));
      // A suggestion expected to cost more than it saves says so, and why (issue 13).
      if (s.effect_flag && t.lossWhy[s.effect_flag]) {
        facts.append(h('div', { class: 'late', 'data-loss': s.effect_flag }, h('dt', {}, t.loss),
          h('dd', {}, h('strong', {}, t.lossWhy[s.effect_flag]))));
      }
      if (s.evidence && s.evidence.length) {
        for (const e of s.evidence) {
          const group = t === TEXT.en ? e.target_group_name_en : e.target_group_name_da;
          fact(t.success(group || e.target_group), [this._pct(e.posterior_mean), ' ', h('span', { class: 'sub' },
            t.successDetail(this._pct(e.interval_90[0]), this._pct(e.interval_90[1]), this._num(e.successes), this._num(e.trials)))]);
          if (e.uplift_interval_90) {
            // Percentage points, whole: what a caseworker can repeat to a citizen.
            // Nothing measured (no results, the estimate is the prior of exactly 0): say so
            // rather than show a range around nothing.
            const pp = (v) => Math.round(v * 100) || 0;
            const measured = e.uplift !== 0 || e.trials > 0 || e.episodes > 0;
            fact(t.uplift, measured
              ? [t.upliftMain(pp(e.uplift)), ' ', t.upliftRange(pp(e.uplift_interval_90[0]), pp(e.uplift_interval_90[1])),
                h('span', { class: 'sub' }, t.upliftNote)]
              : t.upliftUnknown);
          }
        }
      } else {
        fact(t.success(''), t.noEvidence);
      }
      const total = this._num(s.adjusted_score !== null && s.adjusted_score !== undefined ? s.adjusted_score : s.score);

      const bars = h('ul', { class: 'factors' });
      for (const f of s.factors) {
        const bar = h('span', { class: 'bar' });
        // CSSOM, not a style attribute: allowed under a strict style-src.
        bar.style.width = `${Math.max(0, Math.min(100, (100 * f.points) / scale))}%`;
        bars.append(h('li', {},
          // In words where the data says it plainly (issue 20): "Afstand: tæt på (4,4 km)".
          h('span', {}, f.factor === 'distance'
            ? `${t.factors.distance}: ${t.near(s.distance_km, this._num(s.distance_km, 1))}`
            : (t.factors[f.factor] || f.factor)),
          h('span', { class: 'track', 'aria-hidden': 'true' }, bar),
          h('span', { class: 'num' }, this._num(f.points))));
      }
      const chart = h('figure', {}, h('figcaption', {}, t.factorsCaption(total)), bars);

      const diffId = `${id}-diff`;
      const diff = h('div', { class: 'diff', id: diffId, hidden: true });
      const ru = s.runner_up;
      if (ru) {
        diff.append(h('p', {}, t.diffLead(this._num(ru.difference), ru.name)));
        const changes = ru.factor_differences.filter((d) => d.points !== 0).sort((a, b) => Math.abs(b.points) - Math.abs(a.points));
        if (changes.length) {
          diff.append(h('ul', {}, changes.map((d) => h('li', {},
            `${t.factors[d.factor] || d.factor}: ${d.points > 0 ? '+' : '−'}${this._num(Math.abs(d.points))}`))));
        } else {
          diff.append(h('p', {}, t.diffEqual));
        }
      } else {
        diff.append(h('p', {}, t.diffNone));
      }
      const diffButton = h('button', { type: 'button', class: 'link', 'aria-expanded': 'false', 'aria-controls': diffId }, t.showDiff(s.rank + 1));
      diffButton.addEventListener('click', () => {
        const open = diffButton.getAttribute('aria-expanded') !== 'true';
        // The name stays; aria-expanded tells the state (a changing name confuses screen readers).
        diffButton.setAttribute('aria-expanded', String(open));
        diff.hidden = !open;
      });

      const card = h('li', { class: 'card', 'aria-labelledby': nameId, 'data-offer': s.offer_id });
      const recorded = h('p', { class: 'recorded', tabindex: '-1', 'data-role': 'recorded', hidden: true });
      const actions = h('div', { class: 'actions' });
      const formSlot = h('div');
      const open = (action, opener) => {
        formSlot.replaceChildren(this._form(action, s, shown, candidateId, nameId, {
          cancel: () => {
            formSlot.replaceChildren();
            opener.focus();
          },
          done: (row) => {
            formSlot.replaceChildren();
            actions.remove();
            this._showRecorded(card, recorded, row);
            card.append(this._correction(row, nameId));
            if (row.action === 'accept') {
              // The other suggestions must now say the citizen has a running course.
              this._running = { decision_id: row.id, offer_id: row.offer_id, offer_name: s.name, ends_on: row.ends_on };
              this._markRunning(card);
            }
            recorded.focus();
          },
        }));
        const first = formSlot.querySelector('select');
        if (first) first.focus();
      };
      const running = this._running && this._running.offer_id !== s.offer_id ? this._running : null;
      const declineBtn = h('button', { type: 'button', class: 'decline', 'aria-describedby': nameId, 'data-action': 'decline' }, h('span', { 'aria-hidden': 'true' }, '✕ '), t.decline);
      declineBtn.addEventListener('click', () => open('decline', declineBtn));
      if (running) {
        // One running course at a time: the service refuses a second accept (409).
        actions.append(declineBtn);
      } else {
        const acceptBtn = h('button', { type: 'button', class: 'primary', 'aria-describedby': nameId, 'data-action': 'accept' }, h('span', { 'aria-hidden': 'true' }, '✓ '), t.accept);
        acceptBtn.addEventListener('click', () => open('accept', acceptBtn));
        actions.append(acceptBtn, declineBtn);
      }
      const notes = [];
      if (running) {
        notes.push(h('p', { class: 'running-note', 'data-role': 'running' }, t.running(running.offer_name || running.offer_id, running.decision_id, this._date(running.ends_on))));
      }
      if (this._withdrawn && this._withdrawn.has(s.offer_id) && !decision) {
        notes.push(h('p', { class: 'meta', 'data-role': 'withdrawn' }, t.withdrawnNote(this._withdrawn.get(s.offer_id))));
      }

      card.append(
        h('div', { class: 'tags' }, h('span', { class: 'rank' }, t.rank(s.rank)), h('span', { class: 'kind' }, t.kinds[s.kind] || s.kind)),
        h('h3', { id: nameId }, s.name),
        ...((this._twins && this._twins.get(s.name) > 1) ? [h('p', { class: 'twin', 'data-twin': '' }, t.twin(
          s.address ? `${s.address.postcode} ${s.address.town}` : t.km(this._num(s.distance_km, 1)),
          st.continuous_intake ? t.anyDay : this._date(st.next_start), s.offer_id))] : []),
        facts, chart, diffButton, diff, ...notes, recorded);
      if (decision) {
        this._showRecorded(card, recorded, decision);
        card.append(this._correction(decision, nameId));
      } else card.append(actions, formSlot);
      return card;
    }

    // After an accept in this view: every other open card loses its accept button and says why.
    _markRunning(acceptedCard) {
      const t = this._t;
      const r = this._running;
      for (const card of this._body.querySelectorAll('li.card')) {
        if (card === acceptedCard || card.classList.contains('decided')) continue;
        const button = card.querySelector('button[data-action="accept"]');
        if (button) button.remove();
        if (!card.querySelector('[data-role="running"]')) {
          const note = h('p', { class: 'running-note', 'data-role': 'running' }, t.running(r.offer_name || r.offer_id, r.decision_id, this._date(r.ends_on)));
          card.insertBefore(note, card.querySelector('[data-role="recorded"]'));
        }
      }
    }

    _date(iso) {
      if (!iso) return '';
      const d = new Date(`${iso}T12:00:00Z`);
      return Number.isNaN(d.getTime()) ? iso : new Intl.DateTimeFormat(this._locale, { dateStyle: 'medium' }).format(d);
    }

    // "Correct the decision": a caseworker withdraws it with a reason (append-only: the service
    // records a withdrawal that names it), the place comes back, and the card opens again.
    _correction(decision, nameId) {
      const t = this._t;
      const slot = h('div', { class: 'actions', 'data-role': 'correction' });
      const button = h('button', { type: 'button', class: 'link', 'aria-describedby': nameId, 'data-action': 'correct' }, t.correct);
      button.addEventListener('click', () => {
        const fid = `${this._id}-d${decision.id}-correct`;
        const reason = h('textarea', { id: `${fid}-reason`, rows: '2', maxlength: '1500', required: true, 'aria-describedby': `${fid}-hint ${fid}-error` });
        const error = h('p', { class: 'form-error', id: `${fid}-error`, role: 'alert' });
        const submit = h('button', { type: 'submit', class: 'primary' }, t.submitCorrect);
        const cancel = h('button', { type: 'button', onclick: () => { slot.replaceChildren(button); button.focus(); } }, t.cancel);
        const form = h('form', { novalidate: true, 'aria-labelledby': `${fid}-title`, 'data-form': 'correct' },
          h('p', { class: 'form-title', id: `${fid}-title` }, t.correctTitle(decision.id)),
          h('p', { class: 'hint', id: `${fid}-hint` }, t.correctHint),
          h('label', { for: reason.id }, t.reason), reason, error,
          h('div', { class: 'actions' }, submit, cancel));
        const key = decisionKey();
        form.addEventListener('submit', async (e) => {
          e.preventDefault();
          error.textContent = '';
          reason.removeAttribute('aria-invalid');
          if (!reason.value.trim()) {
            reason.setAttribute('aria-invalid', 'true');
            error.textContent = t.needWords;
            reason.focus();
            return;
          }
          submit.disabled = true;
          cancel.disabled = true;
          submit.textContent = t.sending;
          try {
            const row = await this._api('POST', `/v1/decisions/${decision.id}/withdrawal`, { reason: reason.value.trim() }, undefined, false, key);
            this.dispatchEvent(new CustomEvent('brobygger-decision', { bubbles: true, composed: true, detail: row }));
            this._announce(t.corrected(decision.id, row.id));
            this._load(true);
          } catch (err) {
            const kind = err instanceof ApiFailure ? err.kind : 'server';
            error.textContent = { forbidden: t.decisionForbidden, network: t.decisionNetwork, token: t.token }[kind] || t.decisionFailed;
            submit.disabled = false;
            cancel.disabled = false;
            submit.textContent = t.submitCorrect;
            submit.focus();
          }
        });
        slot.replaceChildren(form);
        reason.focus();
      });
      slot.append(button);
      return slot;
    }

    _showRecorded(card, recorded, row) {
      const t = this._t;
      const when = new Intl.DateTimeFormat(this._locale, { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(row.decided_at));
      const accept = row.action === 'accept';
      recorded.replaceChildren(
        h('span', { class: `badge ${accept ? 'accept' : 'decline'}` }, h('span', { 'aria-hidden': 'true' }, accept ? '✓ ' : '✕ '), accept ? t.acceptedBadge : t.declinedBadge), ' ',
        t.recorded(accept ? t.accepted : t.declined, row.decided_by, when, row.id), ' ',
        h('span', {}, t.reasonWas + row.reason),
        accept && row.ends_on ? h('span', { class: 'sub' }, t.runningUntil(this._date(row.ends_on))) : null,
        !accept && row.excluded_until ? h('span', { class: 'sub' }, t.declinedUntil(this._date(row.excluded_until))) : null);
      recorded.dataset.action = row.action;
      recorded.dataset.decision = String(row.id);
      recorded.hidden = false;
      card.classList.add('decided');
      card.classList.toggle('declined', !accept);
    }

    _form(action, s, shown, candidateId, nameId, on) {
      // One key per form: sending again after a lost answer cannot record the decision twice.
      const key = decisionKey();
      const t = this._t;
      const fid = `${this._id}-s${s.rank}-${action}`;
      const reasons = action === 'accept' ? t.acceptReasons : t.declineReasons;
      const other = reasons[reasons.length - 1];
      const select = h('select', { id: `${fid}-reason`, required: true, 'aria-describedby': `${fid}-error` },
        h('option', { value: '' }, t.choose), reasons.map((r) => h('option', { value: r }, r)));
      // Accepting the suggestion as made has an obvious reason; declining must say why.
      if (action === 'accept') select.value = reasons[0];
      const details = h('textarea', { id: `${fid}-details`, rows: '2', maxlength: '1500', 'aria-describedby': `${fid}-hint` });
      const error = h('p', { class: 'form-error', id: `${fid}-error`, role: 'alert' });
      const submit = h('button', { type: 'submit', class: 'primary' }, action === 'accept' ? t.submitAccept : t.submitDecline);
      const cancel = h('button', { type: 'button', onclick: () => on.cancel() }, t.cancel);
      const form = h('form', { novalidate: true, 'aria-labelledby': `${fid}-title`, 'data-form': action },
        h('p', { class: 'form-title', id: `${fid}-title` }, action === 'accept' ? t.acceptTitle(s.name) : t.declineTitle(s.name)),
        h('label', { for: select.id }, t.reason), select,
        h('label', { for: details.id }, t.details), h('p', { class: 'hint', id: `${fid}-hint` }, t.detailsHint), details,
        error,
        h('div', { class: 'actions' }, submit, cancel));
      form.addEventListener('keydown', (e) => {
        if (e.key === 'Escape') {
          e.preventDefault();
          on.cancel();
        }
      });
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        select.removeAttribute('aria-invalid');
        details.removeAttribute('aria-invalid');
        error.textContent = '';
        if (!select.value) {
          select.setAttribute('aria-invalid', 'true');
          error.textContent = t.needReason;
          select.focus();
          return;
        }
        const note = details.value.trim();
        if (select.value === other && !note) {
          details.setAttribute('aria-invalid', 'true');
          error.textContent = t.needDetails;
          details.focus();
          return;
        }
        const reason = select.value === other ? note : note ? `${select.value}: ${note}` : select.value;
        submit.disabled = true;
        cancel.disabled = true;
        submit.textContent = t.sending;
        try {
          const row = await this._api('POST', '/v1/decisions', {
            candidate_id: candidateId, offer_id: s.offer_id, action, reason, suggested_offer_ids: shown,
          }, undefined, false, key);
          this.dispatchEvent(new CustomEvent('brobygger-decision', { bubbles: true, composed: true, detail: row }));
          this._announce(t.recorded(row.action === 'accept' ? t.accepted : t.declined, row.decided_by, '', row.id));
          on.done(row);
        } catch (err) {
          const kind = err instanceof ApiFailure ? err.kind : 'server';
          const running = err && err.body && err.body.running_decision_id;
          error.textContent = running ? t.runningConflict(running)
            : ({ conflict: t.conflict, forbidden: t.decisionForbidden, network: t.decisionNetwork, token: t.token }[kind] || t.decisionFailed);
          submit.disabled = false;
          cancel.disabled = false;
          submit.textContent = action === 'accept' ? t.submitAccept : t.submitDecline;
          submit.focus();
        }
      });
      return form;
    }
  }

  /**
   * 128 random bits as an id the service accepts as an Idempotency-Key. Groups of four hex
   * digits: a longer run of digits could look like a CPR number, which ids never may.
   */
  function decisionKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
    return `w-${hex.match(/.{4}/g).join('-')}`;
  }

  customElements.define(TAG, BrobyggerSuggestions);
})();
