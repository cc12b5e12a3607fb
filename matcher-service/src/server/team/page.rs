//! The team overview as an HTML page for the team meeting, in Danish or English: one
//! self-contained page (inline CSS, SVG bars, no script), so it can be shown on a screen or
//! printed. Draws a [`TeamOverview`]; computes nothing of its own beyond formatting.

use crate::html::{Lang, escape as esc};
use crate::server::api::answers::{EarlyAction, TeamOverview, Workload};
use sha2::Digest;
use std::fmt::Write;

const CSS: &str = "body{font-family:system-ui,sans-serif;margin:0;padding:1rem;color:#1a1a1a;background:#fff;line-height:1.45}\
main{max-width:60rem;margin:0 auto}h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.15rem;margin-top:1.6rem}\
.frame{border-left:4px solid #1d5fa8;background:#eef4fb;padding:.6rem .9rem;margin:1rem 0}\
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(12rem,1fr));gap:.6rem;margin:0;padding:0}\
.cards div{border:1px solid #c8ccd2;border-radius:6px;padding:.5rem .7rem}.cards dt{font-size:.9rem;color:#3d434b}\
.cards dd{margin:0;font-size:1.35rem;font-weight:600}.table{overflow-x:auto;position:relative}\
table{border-collapse:collapse;width:100%;font-size:.95rem}caption{text-align:left;font-weight:600;padding:.3rem 0}\
th,td{border-bottom:1px solid #d5d8dc;padding:.35rem .5rem;text-align:right;vertical-align:middle}\
th:first-child,td:first-child{text-align:left}thead th{background:#f2f4f6}.over{color:#9b1c1c;font-weight:600}\
svg{vertical-align:middle}.table:focus{outline:3px solid #1d5fa8;outline-offset:2px}\
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}.lang a{color:#1d5fa8}footer{margin-top:1.5rem;font-size:.9rem;color:#3d434b}";

/// The page's Content-Security-Policy: its one inline stylesheet, by hash; nothing else.
pub fn csp() -> String {
    let hash = sha2::Sha256::digest(CSS.as_bytes());
    format!(
        "default-src 'none'; style-src 'sha256-{}'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'",
        base64(&hash)
    )
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

impl Lang {
    fn number(self, x: f64) -> String {
        let text = if (x - x.round()).abs() < 1e-9 { format!("{x:.0}") } else { format!("{x:.1}") };
        if self == Lang::Da { text.replace('.', ",") } else { text }
    }

    fn date(self, iso: &str) -> String {
        match (self, iso.split('-').collect::<Vec<_>>().as_slice()) {
            (Lang::Da, [y, m, d]) => format!("{d}.{m}.{y}"),
            _ => iso.to_string(),
        }
    }

    fn days(self, x: Option<f64>) -> String {
        match x {
            None => "–".into(),
            Some(x) => format!("{} {}", self.number(x), self.t("dage", "days")),
        }
    }

    fn early(self, e: &EarlyAction) -> String {
        match e.share_acted_before_assessment {
            None => self.t("ingen endnu", "none yet").to_string(),
            Some(share) => match self {
                Lang::Da => format!(
                    "{} af {} ({} %)",
                    e.acted_before_assessment,
                    e.known,
                    self.number((share * 100.0).round())
                ),
                Lang::En => format!(
                    "{} of {} ({} %)",
                    e.acted_before_assessment,
                    e.known,
                    self.number((share * 100.0).round())
                ),
            },
        }
    }
}

/// The caseload bar: the caseload against the cap, with the cap marked.
fn bar(w: &Workload, lang: Lang) -> String {
    let scale = f64::from(w.cap.max(w.caseload).max(1));
    let width = 120.0;
    let filled = width * f64::from(w.caseload) / scale;
    let cap = width * f64::from(w.cap) / scale;
    let colour = if w.caseload > w.cap { "#9b1c1c" } else { "#1d5fa8" };
    // The figures are in the cells beside it; the bar is decoration for the eye.
    let _ = lang;
    format!(
        "<svg width=\"124\" height=\"14\" aria-hidden=\"true\" focusable=\"false\"><rect x=\"0\" y=\"2\" width=\"{width}\" height=\"10\" fill=\"#e3e6ea\"/>\
<rect x=\"0\" y=\"2\" width=\"{filled:.1}\" height=\"10\" fill=\"{colour}\"/><rect x=\"{x:.1}\" y=\"0\" width=\"2\" height=\"14\" fill=\"#1a1a1a\"/></svg>",
        x = (cap - 1.0).max(0.0)
    )
}

/// The whole page. `other_lang_href`, when given, links the same page in the other language.
pub fn render(o: &TeamOverview, lang: Lang, other_lang_href: Option<&str>) -> String {
    let t = |da, en| lang.t(da, en);
    let w = &o.team_workload;
    let mut h = String::with_capacity(8192);
    let _ = write!(
        h,
        "<!doctype html><html lang=\"{code}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} {team}</title><style>{CSS}</style></head><body><main>",
        code = t("da", "en"),
        title = t("Teamets arbejdsbyrde:", "Team workload:"),
        team = esc(&o.team),
    );
    if let Some(href) = other_lang_href {
        let _ = write!(
            h,
            "<p class=\"lang\"><a href=\"{}\" lang=\"{}\">{}</a></p>",
            esc(href),
            t("en", "da"),
            t("English", "Dansk")
        );
    }
    let _ = write!(
        h,
        "<h1>{title} {team}</h1><p>{period} {from} – {to}. {today_label} {today}.</p>",
        title = t("Teamets arbejdsbyrde:", "Team workload:"),
        team = esc(&o.team),
        period = t("Nye og lukkede sager i perioden", "New and closed cases from"),
        from = lang.date(&o.period.from),
        to = lang.date(&o.period.to),
        today_label = t("Sager nu pr.", "Cases now as of"),
        today = lang.date(&o.today),
    );
    let _ = write!(
        h,
        "<div class=\"frame\"><p>{}</p><p>{}</p></div>",
        t(
            "Siden viser teamets samlede arbejdsbyrde til teammødet, så I kan se, hvor der er luft, og aflaste hinanden.",
            "This page shows the team's whole workload for the team meeting, so you can see where there is room and relieve each other."
        ),
        t(
            "Det er ikke en rangliste. Sagsbehandlerne står i fast rækkefølge (efter id), aldrig sorteret efter et tal, og tallene må ikke bruges til at bedømme den enkelte på, hvor mange sager der lukkes: en sag lukkes, når borgeren er kommet i job eller uddannelse, og det afhænger mest af borgerne.",
            "This is not a ranking. Caseworkers are listed in a fixed order (by id), never sorted by a figure, and the figures must not be used to judge anyone on how many cases they close: a case closes when the citizen is in work or education, which depends mostly on the citizens."
        ),
    );
    let _ = write!(h, "<h2>{}</h2><dl class=\"cards\">", t("Hele teamet", "The whole team"));
    let mut card = |label: &str, value: String| {
        let _ = write!(h, "<div><dt>{label}</dt><dd>{value}</dd></div>");
    };
    card(t("Sager nu / loft", "Cases now / cap"), format!("{} / {}", w.caseload, w.cap));
    card(t("Nye sager i perioden", "New cases in the period"), w.new_cases.to_string());
    card(t("Lukkede sager i perioden", "Cases closed in the period"), w.closed_cases.to_string());
    card(
        t("Typisk længde af lukkede sager (median)", "Typical length of closed cases (median)"),
        lang.days(w.median_days_closed_cases),
    );
    card(
        t(
            "Sygedagpengesager handlet på inden 8-ugers-vurderingen",
            "Sickness-benefit cases acted on before the 8-week assessment",
        ),
        lang.early(&w.early_action),
    );
    card(
        t(
            "Sygedagpengesager med vurdering inden for 14 dage og intet gjort endnu",
            "Sickness-benefit cases with the assessment within 14 days and nothing done yet",
        ),
        w.early_action.due_within_14_days.to_string(),
    );
    h.push_str("</dl>");
    let _ = write!(
        h,
        "<h2>{}</h2><div class=\"table\" role=\"region\" tabindex=\"0\" aria-labelledby=\"per-caseworker\"><table><caption id=\"per-caseworker\">{}</caption><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
<th scope=\"col\">{}</th><th scope=\"col\"><span class=\"visually-hidden\">{}</span></th><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
<th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
        t("Sagsbehandlerne", "The caseworkers"),
        t(
            "Arbejdsbyrde pr. sagsbehandler, i fast rækkefølge efter id",
            "Workload per caseworker, in a fixed order by id"
        ),
        t("Sagsbehandler", "Caseworker"),
        t("Sager nu", "Cases now"),
        t("Loft", "Cap"),
        t("Sager nu mod loftet", "Cases now against the cap"),
        t("Nye", "New"),
        t("Lukkede", "Closed"),
        t("Typisk sagslængde, lukkede", "Typical length, closed"),
        t("Sygedagpenge handlet på i tide", "Sickness benefit acted on in time"),
    );
    for c in &o.caseworkers {
        let cw = &c.workload;
        let over = cw.caseload > cw.cap;
        let _ = write!(
            h,
            "<tr><th scope=\"row\">{id}</th><td{class}>{load}{over}</td><td>{cap}</td><td>{bar}</td><td>{new}</td><td>{closed}</td><td>{len}</td><td>{early}</td></tr>",
            id = esc(&c.caseworker_id),
            class = if over { " class=\"over\"" } else { "" },
            load = cw.caseload,
            over = if over { format!(" ({})", t("over loftet", "over the cap")) } else { String::new() },
            cap = cw.cap,
            bar = bar(cw, lang),
            new = cw.new_cases,
            closed = cw.closed_cases,
            len = lang.days(cw.median_days_closed_cases),
            early = lang.early(&cw.early_action),
        );
    }
    h.push_str("</tbody></table></div>");
    let _ = write!(
        h,
        "<footer><p>{}</p></footer></main></body></html>",
        t(
            "Sager nu tæller både sager i Brobygger og sager uden for den (andre ordninger). En sag lukkes, når borgeren kommer i job, uddannelse eller tilbage i arbejde, eller når borgerens data slettes. 8-ugers-vurderingen ligger 8 uger efter første sygedag; en sag tæller som handlet på i tide, når der er registreret et valg (ja eller nej til et tilbud) senest den dag.",
            "Cases now counts cases in Brobygger and cases outside it (other programmes). A case closes when the citizen is in work, in education or back at work, or when the citizen's data is erased. The 8-week assessment falls 8 weeks after the first day of sickness; a case counts as acted on in time when a choice (yes or no to an offer) was recorded on or before that day."
        ),
    );
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_names_and_keeps_the_order_it_is_given() {
        use crate::server::api::answers::{CaseworkerWorkload, OverviewPeriod};
        let worker = |id: &str, caseload| CaseworkerWorkload {
            caseworker_id: id.into(),
            workload: Workload { caseload, cap: 45, ..Workload::default() },
        };
        let o = TeamOverview {
            team: "<nord>".into(),
            municipality: "0851".into(),
            today: "2026-03-31".into(),
            period: OverviewPeriod { from: "2026-03-04".into(), to: "2026-03-31".into() },
            team_workload: Workload { caseload: 110, cap: 90, ..Workload::default() },
            caseworkers: vec![worker("a", 60), worker("b", 50)],
        };
        let da = render(&o, Lang::Da, Some("/team?lang=en"));
        assert!(da.contains("&lt;nord&gt;") && !da.contains("<nord>"));
        assert!(da.contains("<html lang=\"da\"") && da.contains("ikke en rangliste"));
        assert!(da.contains("04.03.2026 – 31.03.2026"));
        assert!(da.contains("60 (over loftet)"));
        assert!(da.find(">a<").unwrap() < da.find(">b<").unwrap());
        let en = render(&o, Lang::En, None);
        assert!(
            en.contains("not a ranking") && en.contains("2026-03-04") && !en.contains("lang=\"en\">English")
        );
    }

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(base64(b"Man"), "TWFu");
        assert_eq!(base64(b"Ma"), "TWE=");
        assert_eq!(base64(b"M"), "TQ==");
    }
}
