//! `compare.html`: the scenario comparison of `matcher compare` as one self-contained page in
//! the morning report's style (inline CSS and SVG, no script), Danish or English. Rendering
//! only: every number comes from `matcher_core::batch::scenario::Comparison`.

use super::{Lang, STYLE, dkk, esc, int, pct, table};
use matcher_core::batch::scenario::{Comparison, PlaceValueLine, SliceDelta};
use std::fmt::Write;

/// Signed kroner: `+1.234 kr.` / `−1.234 kr.`.
fn signed_dkk(value: f64, lang: Lang) -> String {
    let text = dkk(value, lang);
    if value.round() > 0.0 { format!("+{text}") } else { text }
}

/// Signed percentage points.
fn signed_points(value: f64, lang: Lang) -> String {
    let text = format!("{:+.1}", value * 100.0);
    let text = text.replace('-', "−");
    match lang {
        Lang::Da => format!("{} pp.", text.replace('.', ",")),
        Lang::En => format!("{text} pp"),
    }
}

/// A diverging bar chart of the effect difference per row (negative bars to the left).
fn delta_bars(title: &str, rows: &[(String, f64, String)]) -> String {
    const WIDTH: f64 = 360.0;
    let max = rows.iter().map(|r| r.1.abs()).fold(0.0f64, f64::max);
    let half = 110.0;
    let mid = WIDTH / 2.0;
    let row_h = 34.0;
    let height = row_h * rows.len() as f64 + 4.0;
    let mut svg = format!(
        r#"<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet">"#,
        esc(title)
    );
    let _ = write!(svg, r##"<line x1="{mid}" y1="0" x2="{mid}" y2="{height}" stroke="#8c959f"/>"##);
    for (i, (label, value, shown)) in rows.iter().enumerate() {
        let y = row_h * i as f64;
        let w = if max > 0.0 { value.abs() / max * half } else { 0.0 };
        let (x, fill, tx, anchor) = if *value < 0.0 {
            (mid - w, "#b35900", mid - w - 4.0, "end")
        } else {
            (mid, "#1f5f8b", mid + w + 4.0, "start")
        };
        let _ = write!(
            svg,
            r#"<text x="0" y="{ly}">{label}</text><rect x="{x:.1}" y="{by}" width="{w:.1}" height="12" rx="2" style="fill:{fill}"/><text x="{tx:.1}" y="{vy}" text-anchor="{anchor}">{shown}</text>"#,
            ly = y + 13.0,
            label = esc(&super::short(label, 48)),
            by = y + 18.0,
            vy = y + 29.0,
            shown = esc(shown),
        );
    }
    svg.push_str("</svg>");
    svg
}

fn slice_table(rows: &[SliceDelta], lang: Lang, first: &str, with_spend: bool) -> String {
    let da = lang == Lang::Da;
    let w = |d: &'static str, e: &'static str| if da { d } else { e };
    let body: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut row = vec![
                if r.name.is_empty() { r.key.clone() } else { format!("{} ({})", r.name, r.key) },
                int(r.candidates as i128, lang),
                format!("{} → {}", pct(r.match_rate, lang), pct(r.match_rate_scenario, lang)),
                dkk(r.effect_dkk, lang),
                dkk(r.effect_scenario_dkk, lang),
                signed_dkk(r.effect_delta_dkk(), lang),
            ];
            if with_spend {
                row.push(dkk(r.spend_dkk as f64, lang));
                row.push(dkk(r.spend_scenario_dkk as f64, lang));
            }
            row.push(int(r.changed as i128, lang));
            row
        })
        .collect();
    let mut head = vec![
        first,
        w("Borgere", "Citizens"),
        w("Matchet (i dag → scenarie)", "Matched (today → scenario)"),
        w("Effekt i dag", "Effect today"),
        w("Effekt, scenarie", "Effect, scenario"),
        w("Forskel", "Difference"),
    ];
    if with_spend {
        head.push(w("Udgift i dag", "Spend today"));
        head.push(w("Udgift, scenarie", "Spend, scenario"));
    }
    head.push(w("Ændrede forslag", "Suggestions changed"));
    table(&head, &body)
}

fn place_table(lines: &[PlaceValueLine], lang: Lang) -> String {
    let da = lang == Lang::Da;
    let w = |d: &'static str, e: &'static str| if da { d } else { e };
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|l| {
            vec![
                format!("{} ({})", l.name, l.offer),
                l.municipality.clone(),
                format!("{} / {}", int(l.assigned as i128, lang), int(l.capacity as i128, lang)),
                int(l.value.dual_points as i128, lang),
                int(l.value.gain_points as i128, lang),
                signed_dkk(l.value.gain_dkk, lang),
                int(l.value.moved as i128, lang),
                int(l.value.newly_matched as i128, lang),
            ]
        })
        .collect();
    table(
        &[
            w("Tilbud", "Offer"),
            w("Kommune", "Municipality"),
            w("Brugt / pladser", "Used / places"),
            w("Dualpris (point)", "Dual price (points)"),
            w("Genløsning (point)", "Re-solve (points)"),
            w("Værdi af én plads mere pr. nat", "Value of one more place per night"),
            w("Borgere der flytter", "Citizens who move"),
            w("Nye match", "Newly matched"),
        ],
        &rows,
    )
}

/// Renders the comparison.
pub fn render(c: &Comparison, lang: Lang) -> String {
    let da = lang == Lang::Da;
    let w = |d: &'static str, e: &'static str| if da { d } else { e };
    let mut h = String::new();
    let title = w("Scenariesammenligning", "Scenario comparison");
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title} {}</title><style>{STYLE}</style></head><body><main>",
        if da { "da" } else { "en" },
        esc(&c.date)
    );
    let _ = write!(
        h,
        "<h1>{title}</h1><p class=\"muted\">{}: {} · {}: <b>{}</b></p>",
        w("Dato", "Date"),
        esc(&c.date),
        w("Scenarie", "Scenario"),
        esc(&c.scenario)
    );
    let _ = write!(
        h,
        "<p class=\"notice\" role=\"note\">{}</p>",
        w(
            "Samme nat, samme borgere, to tilbudssæt: i dag og scenariet. Effekter er forventede (løft over intet tilbud, ud fra de registrerede forløb; de forudsætter, at sammenlignelige borgere er registreret ens) og er forslag, ikke afgørelser.",
            "The same night, the same citizens, two offer sets: today and the scenario. Effects are expected (uplift over no offer, from the recorded episodes; they assume comparable citizens are recorded alike) and are suggestions, not decisions."
        )
    );
    let ch = &c.changes;
    let _ = write!(
        h,
        "<p>{}: {} {}, {} {}, {} {}; {} {}, {} {}, {} {}; {} {}. {}: {} → {}.</p>",
        w("Scenariet", "The scenario"),
        int(ch.offers_added as i128, lang),
        w("tilbud tilføjet", "offers added"),
        int(ch.offers_replaced as i128, lang),
        w("ændret", "changed"),
        int(ch.offers_closed as i128, lang),
        w("lukket for nye borgere", "closed to new citizens"),
        int(ch.contracts_added as i128, lang),
        w("kontrakter tilføjet", "contracts added"),
        int(ch.contracts_replaced as i128, lang),
        w("ændret", "changed"),
        int(ch.contracts_removed as i128, lang),
        w("fjernet", "removed"),
        int(ch.places_added as i128, lang),
        w("pladser lagt til", "places added"),
        w("Pladser i alt", "Places in all"),
        int(ch.places_before as i128, lang),
        int(ch.places_after as i128, lang),
    );

    let _ = write!(h, "<section id=\"summary\"><h2>{}</h2>", w("Side om side", "Side by side"));
    let (a, b) = (&c.today, &c.scenario_figures);
    let rows = vec![
        vec![
            w("Forventet effekt", "Expected effect").to_string(),
            dkk(a.effect_dkk, lang),
            dkk(b.effect_dkk, lang),
            signed_dkk(b.effect_dkk - a.effect_dkk, lang),
        ],
        vec![
            w("Udgift til forløb", "Spend on courses").to_string(),
            dkk(a.spend_dkk as f64, lang),
            dkk(b.spend_dkk as f64, lang),
            signed_dkk(b.spend_dkk as f64 - a.spend_dkk as f64, lang),
        ],
        vec![
            w("Matchet", "Matched").to_string(),
            format!("{} ({})", int(a.matched as i128, lang), pct(a.match_rate, lang)),
            format!("{} ({})", int(b.matched as i128, lang), pct(b.match_rate, lang)),
            format!(
                "{} ({})",
                int(b.matched as i128 - a.matched as i128, lang),
                signed_points(b.match_rate - a.match_rate, lang)
            ),
        ],
        vec![
            w("Leverandører med udgift", "Providers with spend").to_string(),
            int(a.providers_with_spend as i128, lang),
            int(b.providers_with_spend as i128, lang),
            int(b.providers_with_spend as i128 - a.providers_with_spend as i128, lang),
        ],
        vec![
            w("Pladser", "Places").to_string(),
            int(a.places as i128, lang),
            int(b.places as i128, lang),
            int(b.places as i128 - a.places as i128, lang),
        ],
        vec![
            w("Garanterede pladser ikke fyldt", "Guaranteed places not filled").to_string(),
            int(a.guaranteed_short as i128, lang),
            int(b.guaranteed_short as i128, lang),
            int(b.guaranteed_short as i128 - a.guaranteed_short as i128, lang),
        ],
    ];
    h.push_str(&table(
        &["", w("I dag", "Today"), w("Scenarie", "Scenario"), w("Forskel", "Difference")],
        &rows,
    ));
    let churn = &c.churn;
    let _ = write!(
        h,
        "<p>{}: <b>{}</b> ({} {}, {} {}, {} {}); {} {}.</p></section>",
        w("Forslag der ændres", "Suggestions that change"),
        int(churn.changed() as i128, lang),
        int(churn.moved as i128, lang),
        w("til et andet tilbud", "to another offer"),
        int(churn.gained as i128, lang),
        w("får et forslag", "get a suggestion"),
        int(churn.lost as i128, lang),
        w("mister deres", "lose theirs"),
        int(churn.same as i128, lang),
        w("uændrede", "unchanged"),
    );

    let _ = write!(h, "<section id=\"groups\"><h2>{}</h2>", w("Pr. målgruppe", "Per target group"));
    let chart: Vec<(String, f64, String)> = c
        .by_group
        .iter()
        .map(|r| (r.name.clone(), r.effect_delta_dkk(), signed_dkk(r.effect_delta_dkk(), lang)))
        .collect();
    h.push_str(&delta_bars(
        w("Forskel i forventet effekt pr. målgruppe", "Difference in expected effect per target group"),
        &chart,
    ));
    h.push_str(&slice_table(&c.by_group, lang, w("Målgruppe", "Target group"), false));
    h.push_str("</section>");

    let _ = write!(h, "<section id=\"municipalities\"><h2>{}</h2>", w("Pr. kommune", "Per municipality"));
    let mut moved: Vec<&SliceDelta> =
        c.by_municipality.iter().filter(|r| r.changed > 0 || r.spend_dkk != r.spend_scenario_dkk).collect();
    moved.sort_by(|x, y| {
        y.effect_delta_dkk().abs().total_cmp(&x.effect_delta_dkk().abs()).then_with(|| x.key.cmp(&y.key))
    });
    let chart: Vec<(String, f64, String)> = moved
        .iter()
        .take(15)
        .map(|r| (r.name.clone(), r.effect_delta_dkk(), signed_dkk(r.effect_delta_dkk(), lang)))
        .collect();
    if !chart.is_empty() {
        h.push_str(&delta_bars(
            w(
                "Forskel i forventet effekt, kommuner med ændringer",
                "Difference in expected effect, municipalities with changes",
            ),
            &chart,
        ));
    }
    let _ = write!(
        h,
        "<p class=\"muted\">{} {} {}.</p>",
        int(moved.len() as i128, lang),
        w("af", "of"),
        w(
            "kommuner har ændrede forslag eller udgift; tabellen viser dem alle",
            "municipalities have changed suggestions or spend; the table shows all of them"
        )
    );
    h.push_str(&slice_table(&c.by_municipality, lang, w("Kommune", "Municipality"), true));
    h.push_str("</section>");

    let _ = write!(
        h,
        "<section id=\"place-values\"><h2>{}</h2>",
        w("Hvad én plads mere er værd", "What one more place is worth")
    );
    let _ = write!(
        h,
        "<p class=\"muted\">{}</p>",
        w(
            "Dualprisen er det, nattens optimum stiger med, hvis tilbuddet havde én plads mere, i point (pointsummen vejer effekt, afstand, ønsker, ventetid og kontinuitet). Den er ikke kroner. Kronerne her er målt: natten løst igen med én plads mere ved tilbuddet; de borgere, der flytter (en tager den nye plads, en anden den plads, den første forlod …), og deres forventede effekt før og efter. Vist for tilbuddene med højeste dualpris.",
            "The dual price is what the night's optimum rises by if the offer had one more place, in points (the score weighs effect, distance, wishes, waiting time and continuity). It is not kroner. The kroner here are measured: the night solved again with one more place at the offer; the citizens who move (one takes the new place, another the place the first left …), and their expected effect before and after. Shown for the offers with the highest dual price."
        )
    );
    let _ = write!(h, "<h3>{}</h3>", w("I dag", "Today"));
    h.push_str(&place_table(&c.place_values, lang));
    let _ = write!(h, "<h3>{}</h3>", w("Scenariet", "The scenario"));
    h.push_str(&place_table(&c.place_values_scenario, lang));
    h.push_str("</section></main></body></html>\n");
    h
}
