//! Readable pages in Danish, rendered from the same answers the JSON routes give: the
//! citizen's access page (`GET /v1/candidates/{id}/export` with `Accept: text/html` or
//! `?format=html`) and the oversight page for the head of the job centre (`matcher
//! oversight --out FILE.html`). Self-contained HTML (inline CSS, no script), every value
//! escaped. Owns the Danish wording; must not read the store or compute anything the
//! answers do not hold. No CPR number can appear: every id, reason and user name was checked
//! for one when it was written.

use crate::html::escape;
use crate::server::oversight::{NamedFigures, Oversight, OversightFigures};
use serde_json::Value;
use std::fmt::Write;

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}\
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}th,td{border:1px solid #999;padding:.3rem .5rem;text-align:left;vertical-align:top}\
th{background:#eee}caption{text-align:left;font-weight:bold;padding:.3rem 0}.note{background:#f4f4f4;border-left:4px solid #555;padding:.5rem 1rem}\
.flag{color:#8b0000;font-weight:bold}";

fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"da\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        escape(title)
    )
}

const FOOT: &str = "</main>\n</body>\n</html>\n";

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// `2026-12-05T10:00:00.123Z` as `5.12.2026 kl. 10:00` (UTC); a date as `5.12.2026`.
fn when(at: &str) -> String {
    let day = at.get(..10).and_then(matcher_core::model::Date::parse);
    match day {
        None => at.to_string(),
        Some(_) => {
            let (y, m, d) = (&at[..4], &at[5..7], &at[8..10]);
            let date = format!("{}.{}.{y}", d.trim_start_matches('0'), m.trim_start_matches('0'));
            match at.get(11..16) {
                Some(time) => format!("{date} kl. {time} (UTC)"),
                None => date,
            }
        }
    }
}

fn table(out: &mut String, caption: &str, headers: &[&str], rows: &[Vec<String>], empty: &str) {
    if rows.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", escape(empty));
        return;
    }
    let _ = write!(out, "<table>\n<caption>{}</caption>\n<thead><tr>", escape(caption));
    for h in headers {
        let _ = write!(out, "<th scope=\"col\">{}</th>", escape(h));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            let _ = write!(out, "<td>{}</td>", escape(cell));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

fn role_da(role: &str) -> &str {
    match role {
        "caseworker" => "sagsbehandler",
        "admin" => "administrator",
        "auditor" => "revisor",
        "system" => "kommunens fagsystem",
        "provider" => "leverandør",
        other => other,
    }
}

fn access_da(action: &str) -> &str {
    match action {
        "read" => "læste dine oplysninger",
        "list" => "så dig på en liste",
        "write" => "registrerede eller ændrede dine oplysninger",
        "erase" => "slettede dine oplysninger",
        "export" => "hentede denne oversigt",
        "suggest" => "bad systemet om forslag",
        "decide" => "traf en beslutning",
        "withdraw" => "tilbagekaldte en beslutning",
        other => other,
    }
}

fn decision_da(action: &str) -> &str {
    match action {
        "accept" => "Tilbuddet blev givet",
        "decline" => "Tilbuddet blev fravalgt",
        "withdrawal" => "En tidligere beslutning blev tilbagekaldt",
        other => other,
    }
}

fn outcome_da(result: &str) -> &str {
    match result {
        "in_work" => "I arbejde",
        "in_education" => "I uddannelse",
        "back_at_work" => "Tilbage i arbejde",
        "dropped_out" => "Forløbet blev afbrudt",
        other => other,
    }
}

/// The record's fields in plain Danish, in a fixed order.
const RECORD_FIELDS: &[(&str, &str)] = &[
    ("id", "Dit nummer i Brobygger (ikke dit CPR-nummer)"),
    ("municipality", "Kommune (kommunekode)"),
    ("postcode", "Postnummer"),
    ("lat", "Bopæl, breddegrad (bruges til at beregne afstand)"),
    ("lon", "Bopæl, længdegrad (bruges til at beregne afstand)"),
    ("age_band", "Aldersgruppe"),
    ("target_groups", "Målgruppe"),
    ("benefit_kind", "Ydelse"),
    ("benefit_start", "Ydelsen startede"),
    ("benefit_end", "Ydelsen slutter"),
    ("reassessment_date", "Revurdering"),
    ("wished_occupations", "Ønskede fag (DISCO-koder)"),
    ("max_travel_km", "Længste rejse, km"),
    ("languages", "Sprog"),
    ("driving_licence", "Kørekort"),
    ("hours_available", "Timer om ugen, du kan deltage"),
    ("preferred_kinds", "Foretrukne slags tilbud"),
    ("current_offer", "Nuværende tilbud"),
    ("excluded_offers", "Tilbud, du ikke skal have"),
    (
        "gender",
        "Køn (bruges kun til at kontrollere, at systemet behandler grupper lige; aldrig til at beregne forslag)",
    ),
    (
        "origin",
        "Herkomst (bruges kun til at kontrollere, at systemet behandler grupper lige; aldrig til at beregne forslag)",
    ),
];

fn plain(v: &Value) -> String {
    match v {
        Value::Null => "–".into(),
        Value::Bool(true) => "ja".into(),
        Value::Bool(false) => "nej".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Array(a) if a.is_empty() => "–".into(),
        Value::Array(a) => a.iter().map(plain).collect::<Vec<_>>().join(", "),
        Value::Object(_) => v.to_string(),
    }
}

fn kr(v: Option<&Value>) -> String {
    match v.and_then(Value::as_f64) {
        Some(x) => format!("{} kr.", x.round() as i64),
        None => "–".into(),
    }
}

/// The citizen's access page, from the JSON of `CandidateExport`.
pub fn access_page(export: &Value) -> String {
    let mut out = head("Det har kommunen registreret om dig i Brobygger");
    let _ = write!(
        out,
        "<h1>Det har kommunen registreret om dig i Brobygger</h1>\n\
         <p>Brobygger er et system, som jobcenteret bruger til at finde tilbud (kurser, praktik, job), der kan hjælpe dig. \
         Systemet foreslår; det er altid en sagsbehandler i kommunen, der beslutter. \
         Her er alt, hvad systemet har om dig, som du har ret til at se efter databeskyttelsesforordningens artikel 15.</p>\n\
         <p>Dit nummer i Brobygger: <strong>{}</strong>. Oversigten er lavet {} af {}.</p>\n",
        escape(text(export, "candidate_id")),
        escape(&when(text(export, "exported_at"))),
        escape(text(export, "exported_by")),
    );

    out.push_str("<section aria-labelledby=\"data\">\n<h2 id=\"data\">1. Dine oplysninger</h2>\n");
    out.push_str("<p>De oplysninger om dig, som kommunen har registreret i Brobygger.</p>\n");
    match export.get("data") {
        Some(Value::Object(record)) => {
            let rows: Vec<Vec<String>> = RECORD_FIELDS
                .iter()
                .filter_map(|(key, label)| record.get(*key).map(|v| vec![(*label).to_string(), plain(v)]))
                .collect();
            table(&mut out, "Dine oplysninger", &["Oplysning", "Værdi"], &rows, "");
        }
        _ => out.push_str(
            "<p>Der er ingen oplysninger om dig i Brobygger nu (de er slettet). Det, der står nedenfor, er gemt, fordi loven kræver det.</p>\n",
        ),
    }
    out.push_str("</section>\n");

    out.push_str(
        "<section aria-labelledby=\"shown\">\n<h2 id=\"shown\">2. Forslag, systemet har vist</h2>\n",
    );
    out.push_str(
        "<p>Hver gang systemet har vist din sagsbehandler forslag til tilbud, er det gemt præcis som det blev vist. \
         Et forslag får point efter, hvor godt tilbuddet passer til din målgruppe, afstand, fag, frister, \
         dine ønsker og den forventede effekt i kroner (færre uger på ydelse gange ugesatsen, minus prisen). \
         Køn og herkomst indgår aldrig.</p>\n",
    );
    let mut rows = Vec::new();
    for e in export.get("suggestions_shown").and_then(Value::as_array).into_iter().flatten() {
        let answer = e.get("answer").unwrap_or(&Value::Null);
        let listed: Vec<String> = match answer.get("suggestions").and_then(Value::as_array) {
            Some(list) => list
                .iter()
                .map(|o| {
                    let name = o.get("name").and_then(Value::as_str).unwrap_or_else(|| text(o, "offer_id"));
                    format!(
                        "{}. {} ({} point, forventet effekt {})",
                        o.get("rank").map_or_else(String::new, plain),
                        name,
                        o.get("score").map_or_else(String::new, plain),
                        kr(o.get("effect_dkk"))
                    )
                })
                .collect(),
            // A nightly plan proposes one offer.
            None => match answer.get("offer_id").and_then(Value::as_str) {
                Some(offer) => vec![format!(
                    "{offer} ({} point, forventet effekt {})",
                    answer.get("score").map_or_else(String::new, plain),
                    kr(answer.get("effect_dkk"))
                )],
                None => vec!["intet tilbud passede".into()],
            },
        };
        let source = if text(e, "source") == "batch" { "natlig plan" } else { "vist på skærmen" };
        rows.push(vec![
            when(text(e, "shown_at")),
            format!("{} ({})", text(e, "requested_by"), role_da(text(e, "role"))),
            source.to_string(),
            if listed.is_empty() { "ingen tilbud passede".into() } else { listed.join("; ") },
        ]);
    }
    table(
        &mut out,
        "Forslag vist",
        &["Hvornår", "Hvem spurgte", "Hvordan", "Tilbud foreslået (bedste først)"],
        &rows,
        "Systemet har ikke vist forslag til dig.",
    );
    out.push_str("</section>\n");

    out.push_str("<section aria-labelledby=\"decisions\">\n<h2 id=\"decisions\">3. Beslutninger</h2>\n");
    out.push_str(
        "<p>Beslutninger om tilbud, truffet af en navngiven sagsbehandler med en begrundelse.</p>\n",
    );
    let rows: Vec<Vec<String>> = export
        .get("decisions")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|d| {
            let mut what = decision_da(text(d, "action")).to_string();
            if let (Some(from), Some(to)) =
                (d.get("starts_on").and_then(Value::as_str), d.get("ends_on").and_then(Value::as_str))
            {
                let _ = write!(what, ", fra {} til {}", when(from), when(to));
            }
            if let Some(until) = d.get("excluded_until").and_then(Value::as_str) {
                let _ = write!(what, "; foreslås ikke igen før efter {}", when(until));
            }
            vec![
                when(text(d, "decided_at")),
                text(d, "offer_id").to_string(),
                what,
                text(d, "reason").to_string(),
                format!("{}, {}", text(d, "decided_by"), text(d, "employer")),
            ]
        })
        .collect();
    table(
        &mut out,
        "Beslutninger",
        &["Hvornår", "Tilbud", "Beslutning", "Begrundelse", "Truffet af"],
        &rows,
        "Der er ikke truffet beslutninger om dig.",
    );
    out.push_str("</section>\n");

    out.push_str("<section aria-labelledby=\"outcomes\">\n<h2 id=\"outcomes\">4. Resultater</h2>\n");
    let rows: Vec<Vec<String>> = export
        .get("outcomes")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|o| {
            vec![
                when(text(o, "recorded_at")),
                text(o, "offer_id").to_string(),
                outcome_da(text(o, "result")).to_string(),
                text(o, "recorded_by").to_string(),
            ]
        })
        .collect();
    table(
        &mut out,
        "Resultater",
        &["Hvornår", "Tilbud", "Resultat", "Registreret af"],
        &rows,
        "Der er ikke registreret resultater af tilbud.",
    );
    out.push_str("</section>\n");

    out.push_str("<section aria-labelledby=\"accesses\">\n<h2 id=\"accesses\">5. Hvem har set eller ændret dine oplysninger</h2>\n");
    let rows: Vec<Vec<String>> = export
        .get("accesses")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|a| {
            vec![
                when(text(a, "at")),
                format!("{} ({}, {})", text(a, "user"), role_da(text(a, "role")), text(a, "employer")),
                access_da(text(a, "action")).to_string(),
            ]
        })
        .collect();
    table(
        &mut out,
        "Adgang til dine oplysninger",
        &["Hvornår", "Hvem", "Hvad"],
        &rows,
        "Ingen har set dine oplysninger.",
    );
    out.push_str("</section>\n");

    out.push_str(
        "<section aria-labelledby=\"rights\">\n<h2 id=\"rights\">Dine rettigheder</h2>\n\
         <p>Du kan bede kommunen rette forkerte oplysninger og slette oplysninger, som kommunen ikke skal gemme. \
         Beslutninger og logninger af, hvad systemet har vist, gemmer kommunen i en fastsat periode, fordi loven kræver det; \
         de indeholder kun dit nummer i Brobygger. Har du spørgsmål, så kontakt dit jobcenter eller kommunens databeskyttelsesrådgiver.</p>\n</section>\n",
    );
    out.push_str(FOOT);
    out
}

fn share(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |s| format!("{:.0} %", s * 100.0))
}

fn secs(v: Option<f64>) -> String {
    v.map_or_else(|| "–".into(), |s| format!("{s:.0} s"))
}

fn figure_row(name: &str, f: &OversightFigures) -> Vec<String> {
    vec![
        name.to_string(),
        f.decisions.to_string(),
        share(f.top_accept_share),
        share(f.not_suggested_share),
        secs(f.median_seconds),
        secs(f.p90_seconds),
        f.decline_reasons
            .iter()
            .take(3)
            .map(|r| format!("{} ({})", r.reason, r.count))
            .collect::<Vec<_>>()
            .join("; "),
        if f.rubber_stamp { "Se nærmere på".into() } else { String::new() },
    ]
}

const FIGURE_HEADERS: &[&str] = &[
    "Navn",
    "Beslutninger",
    "Tog første forslag",
    "Valgte tilbud, der ikke var foreslået",
    "Tid fra forslag til beslutning (median)",
    "(90 %)",
    "Hyppigste grunde til fravalg",
    "Markering",
];

/// The oversight page for the head of the job centre.
pub fn oversight_page(o: &Oversight) -> String {
    let mut out = head("Menneskeligt tilsyn med Brobyggers forslag");
    let _ = write!(
        out,
        "<h1>Menneskeligt tilsyn med Brobyggers forslag</h1>\n<p>Kommune {}, beslutninger fra {} til {}.</p>\n\
         <p class=\"note\">Tallene viser, hvor meget systemets forslag præger beslutningerne, så kommunen kan se, at det er mennesker, der beslutter \
         (EU's AI-forordning art. 14). De måler ikke nogens arbejde: at tage det første forslag kan være god faglighed, når forslagene er gode. \
         Navne står i alfabetisk orden, aldrig rangeret.</p>\n\
         <p>En gruppe markeres, når mindst {} beslutninger er truffet, over {:.0} % tog det første forslag, og medianen fra forslag til beslutning er under {} sekunder \
         (kommunens politik, afsnittet <code>[oversight]</code>). En markering er en anledning til at tale om, hvordan forslagene bruges.</p>\n",
        escape(&o.municipality),
        escape(&when(&o.from)),
        escape(&when(&o.to)),
        o.thresholds.min_decisions,
        o.thresholds.rubber_stamp_top_share * 100.0,
        o.thresholds.rubber_stamp_median_seconds,
    );
    let named = |g: &[NamedFigures]| g.iter().map(|g| figure_row(&g.name, &g.figures)).collect::<Vec<_>>();
    out.push_str("<h2>Hele kommunen</h2>\n");
    table(&mut out, "Hele kommunen", FIGURE_HEADERS, &[figure_row("Kommunen", &o.total)], "");
    out.push_str("<h2>Teams</h2>\n");
    table(
        &mut out,
        "Teams (arbejdsgiver efter login)",
        FIGURE_HEADERS,
        &named(&o.teams),
        "Ingen beslutninger.",
    );
    out.push_str("<h2>Sagsbehandlere</h2>\n");
    table(&mut out, "Sagsbehandlere", FIGURE_HEADERS, &named(&o.caseworkers), "Ingen beslutninger.");
    for g in o.teams.iter().chain(&o.caseworkers).filter(|g| g.figures.rubber_stamp) {
        let _ = writeln!(
            out,
            "<p class=\"flag\">{}: {}</p>",
            escape(&g.name),
            escape(g.figures.flag_reason.as_deref().unwrap_or(""))
        );
    }
    out.push_str(FOOT);
    out
}
