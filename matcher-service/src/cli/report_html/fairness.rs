//! The report's section "Fairness with uncertainty": rendering only, every number from
//! `matcher_core::batch::fairness::Fairness`. Its own words table, so that other sections'
//! words are untouched.

use super::{Lang, dkk, esc, pct, t_data, table};
use matcher_core::batch::fairness::{Fairness, GroupFairness, Interval, SampleWarning, UnmatchedCause};
use std::fmt::Write;

fn w(lang: Lang, da: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Da => da,
        Lang::En => en,
    }
}

fn dimension_title(lang: Lang, key: &str) -> &'static str {
    match key {
        "gender" => w(lang, "Køn", "Gender"),
        "origin" => w(lang, "Oprindelse", "Origin"),
        "age_band" => w(lang, "Aldersgruppe", "Age band"),
        "region" => w(lang, "Region", "Region"),
        _ => "",
    }
}

fn cause_title(lang: Lang, cause: UnmatchedCause) -> &'static str {
    match cause {
        UnmatchedCause::NothingInReach => w(lang, "Intet inden for rejseafstand", "Nothing in reach"),
        UnmatchedCause::EngineChoice => w(lang, "Motorens valg", "Engine's choice"),
        UnmatchedCause::PolicyMinimum => w(lang, "Politikkens minimum", "Policy minimum"),
        UnmatchedCause::FullPlaces => w(lang, "Pladser fulde", "Places full"),
        UnmatchedCause::Language => w(lang, "Sprogkrav", "Language"),
        UnmatchedCause::Excluded => w(lang, "Fravalgt", "Excluded"),
        UnmatchedCause::Eligibility => w(lang, "Ikke i målgruppen m.m.", "Eligibility"),
    }
}

fn warning_text(lang: Lang, warning: SampleWarning) -> &'static str {
    match warning {
        SampleWarning::FewCandidates => w(lang, "under 30 borgere", "fewer than 30 citizens"),
        SampleWarning::WideInterval => {
            w(lang, "interval over 20 point bredt", "interval wider than 20 points")
        }
        SampleWarning::FewSuggestions => {
            w(lang, "effekt på under 30 forslag", "effect on fewer than 30 suggestions")
        }
    }
}

/// A share with its interval: `10,0 % (1,8–40,4 %)`.
fn share_with(value: f64, interval: Option<Interval>, lang: Lang) -> String {
    match interval {
        Some(i) => format!("{} ({}–{})", pct(value, lang), pct(i.low, lang), pct(i.high, lang)),
        None => pct(value, lang),
    }
}

/// Percentage points with a sign: `+4,2` / `−4.2`.
fn points(value: f64, lang: Lang) -> String {
    let text = format!("{:.1}", (value * 100.0).abs());
    let text = if lang == Lang::Da { text.replace('.', ",") } else { text };
    if value * 100.0 <= -0.05 {
        format!("−{text}")
    } else if value * 100.0 >= 0.05 {
        format!("+{text}")
    } else {
        text
    }
}

fn gap_with(value: Option<f64>, interval: Option<Interval>, lang: Lang) -> String {
    match (value, interval) {
        (Some(v), Some(i)) => {
            let to = w(lang, "til", "to");
            format!("{} ({} {to} {})", points(v, lang), points(i.low, lang), points(i.high, lang))
        }
        (Some(v), None) => points(v, lang),
        _ => "–".into(),
    }
}

fn group_name(lang: Lang, dimension: &str, g: &GroupFairness) -> String {
    match dimension {
        "gender" | "origin" => t_data(lang, &g.key),
        _ if g.name.is_empty() => w(lang, "Ukendt", "Unknown").into(),
        _ => g.name.clone(),
    }
}

/// The section, with the rule for warnings stated above the tables.
pub(super) fn section(fairness: &Fairness, lang: Lang) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<section id=\"fairness-uncertainty\"><h2>{}</h2><p class=\"muted\">{}</p>",
        esc(w(lang, "Ligebehandling med usikkerhed og årsager", "Fairness with uncertainty and causes")),
        esc(w(
            lang,
            "Hver gruppe sammenlignes med alle andre borgere. Tal i parentes er 95 %-intervaller (Wilson for andele, Newcombe for forskelle i andele, normalfordeling for gennemsnitlig effekt). ⚠ betyder under 30 borgere (eller forslag) eller et interval over 20 procentpoint bredt: læs tallet som en antydning, ikke som en forskel. Køn og oprindelse indgår aldrig i scoren.",
            "Each group is compared with all other citizens. Figures in brackets are 95% intervals (Wilson for shares, Newcombe for differences of shares, normal for the mean effect). ⚠ means fewer than 30 citizens (or suggestions) or an interval wider than 20 percentage points: read the figure as a hint, not as a difference. Gender and origin never enter a score.",
        ))
    );
    for d in &fairness.dimensions {
        let title = dimension_title(lang, &d.key);
        let _ = write!(h, "<h3>{}</h3>", esc(title));
        let head = [
            title,
            w(lang, "Borgere", "Citizens"),
            w(lang, "Andel med forslag", "Share with a suggestion"),
            w(lang, "Forskel til resten, procentpoint", "Gap to the rest, points"),
            w(lang, "Gns. effekt pr. nyt forslag", "Mean effect per new suggestion"),
            w(lang, "Forskel i effekt til resten", "Effect gap to the rest"),
            w(lang, "Bemærk", "Note"),
        ];
        let rows: Vec<Vec<String>> = d
            .groups
            .iter()
            .map(|g| {
                let warned = if g.warnings.is_empty() { "" } else { "⚠ " };
                let effect = match (g.mean_effect_dkk, g.mean_effect_interval) {
                    (Some(m), Some(i)) => {
                        format!("{} ({} – {})", dkk(m, lang), dkk(i.low, lang), dkk(i.high, lang))
                    }
                    (Some(m), None) => dkk(m, lang),
                    _ => "–".into(),
                };
                let effect_gap = match (g.effect_gap_dkk, g.effect_gap_interval) {
                    (Some(m), Some(i)) => {
                        format!("{} ({} – {})", dkk(m, lang), dkk(i.low, lang), dkk(i.high, lang))
                    }
                    (Some(m), None) => dkk(m, lang),
                    _ => "–".into(),
                };
                let notes: Vec<&str> = g.warnings.iter().map(|x| warning_text(lang, *x)).collect();
                vec![
                    group_name(lang, &d.key, g),
                    g.candidates.to_string(),
                    format!("{warned}{}", share_with(g.match_rate, g.match_rate_interval, lang)),
                    gap_with(g.match_gap, g.match_gap_interval, lang),
                    effect,
                    effect_gap,
                    if notes.is_empty() { String::new() } else { format!("⚠ {}", notes.join("; ")) },
                ]
            })
            .collect();
        h.push_str(&table(&head, &rows));
        // The gap in the share unmatched, by cause.
        let _ = write!(
            h,
            "<p class=\"muted\">{}</p>",
            esc(w(
                lang,
                "Hvorfor uden forslag: forskellen i andelen uden forslag (gruppen minus resten, procentpoint) fordelt på årsager; årsagerne summer til forskellen (afrundet til 0,1, så de viste tal kan afvige med 0,1). Motorens valg = der var et egnet tilbud med ledig plads, men pladsen gik til en anden; de øvrige årsager ligger i udbuddet eller i reglerne.",
                "Why without a suggestion: the gap in the share unmatched (the group minus the rest, percentage points) split by cause; the causes add up to the gap (rounded to 0.1, so the figures shown may differ by 0.1). Engine's choice = an eligible offer with a free place was in reach, but the place went to someone else; the other causes lie in the supply or the rules.",
            ))
        );
        let mut head: Vec<&str> = vec![title, w(lang, "I alt", "Total")];
        head.extend(UnmatchedCause::ALL.iter().map(|c| cause_title(lang, *c)));
        let rows: Vec<Vec<String>> = d
            .groups
            .iter()
            .map(|g| {
                let mut row = vec![
                    group_name(lang, &d.key, g),
                    g.unmatched_gap.map_or("–".into(), |v| points(v, lang)),
                ];
                row.extend(g.causes.iter().map(|c| c.gap.map_or("–".into(), |v| points(v, lang))));
                row
            })
            .collect();
        h.push_str(&table(&head, &rows));
    }
    h.push_str("</section>");
    h
}
