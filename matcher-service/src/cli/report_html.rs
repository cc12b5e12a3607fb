//! `report.html`: the morning report as one self-contained page (inline CSS and SVG charts, no
//! external assets), in Danish or English. Rendering only: every number comes from
//! `matcher_core::batch::report::Report`.

use crate::html::escape as esc;
use matcher_core::batch::caseload::{CaseloadReport, MunicipalityCaseload};
use matcher_core::batch::report::{Report, Slice};
use matcher_core::model::{MunicipalityCode, ReferenceData};
use std::fmt::Write;

pub mod compare;
mod fairness;

use crate::html::Lang;

/// A word of the report: a mistyped key does not compile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Title,
    Notice,
    Date,
    Candidates,
    Offers,
    Matched,
    Effect,
    Spend,
    EffectNote,
    ByGroup,
    ByMunicipality,
    AllMunicipalities,
    Certificate,
    Objective,
    Modified,
    Dual,
    GContracted,
    GFillable,
    GFilled,
    Gap,
    CertificateNote,
    Comparison,
    Method,
    TotalWeight,
    Blocking,
    Optimal,
    Stable,
    Greedy,
    Churn,
    Stability,
    StabilityNone,
    StabilityNote,
    SinceKept,
    SinceChanged,
    SinceNew,
    SinceDropped,
    SinceUnmatched,
    Why,
    NotInPreviousRun,
    CandidateData,
    OfferChanged,
    Scoring,
    Competition,
    ReasonUnknown,
    Gone,
    LockedKept,
    Kept,
    Changed,
    New,
    Dropped,
    Unmatched,
    Capacity,
    Places,
    Assigned,
    UtilisationByKind,
    Waiting,
    WaitingCount,
    Empty,
    Price,
    Guarantees,
    Guaranteed,
    Short,
    None,
    Providers,
    Provider,
    Courses,
    Tail,
    WithSpend,
    UnmatchedReasons,
    NothingInReach,
    Excluded,
    NoEligibleOffer,
    AllInReachFull,
    Fairness,
    FairnessNote,
    AgeBand,
    Region,
    Gender,
    Origin,
    Group,
    Municipality,
    MatchRate,
    MeanEffect,
    Female,
    Male,
    Other,
    NotRecorded,
    Danish,
    Western,
    NonWestern,
    ProviderKind,
    Job,
    WorkTrial,
    ReciprocalHelp,
    Caseloads,
    CaseloadsNote,
    Caseworkers,
    NewCandidates,
    WithCaseworker,
    SpecialityMatches,
    MeanBefore,
    MeanAfter,
    MaxBefore,
    MaxAfter,
    OverCapBefore,
    OverCapAfter,
    PlanHeading,
    WithoutSuggestion,
    FirstOffer,
    NetEffect,
    Savings,
    Appendix,
    AppendixNote,
    Meaning,
    ObjectiveMeans,
    ModifiedMeans,
    DualMeans,
    GapMeans,
    BlockingMeans,
    PriceMeans,
    WhyDiffer,
    Count,
    Reason,
    Change,
    Share,
}

impl Key {
    /// The key of a word the report's data names (a method, kind, reason or change).
    fn parse(key: &str) -> Option<Key> {
        Some(match key {
            "title" => Key::Title,
            "notice" => Key::Notice,
            "date" => Key::Date,
            "candidates" => Key::Candidates,
            "offers" => Key::Offers,
            "matched" => Key::Matched,
            "effect" => Key::Effect,
            "spend" => Key::Spend,
            "effect_note" => Key::EffectNote,
            "by_group" => Key::ByGroup,
            "by_municipality" => Key::ByMunicipality,
            "all_municipalities" => Key::AllMunicipalities,
            "certificate" => Key::Certificate,
            "objective" => Key::Objective,
            "modified" => Key::Modified,
            "dual" => Key::Dual,
            "g_contracted" => Key::GContracted,
            "g_fillable" => Key::GFillable,
            "g_filled" => Key::GFilled,
            "gap" => Key::Gap,
            "certificate_note" => Key::CertificateNote,
            "comparison" => Key::Comparison,
            "method" => Key::Method,
            "total_weight" => Key::TotalWeight,
            "blocking" => Key::Blocking,
            "optimal" => Key::Optimal,
            "stable" => Key::Stable,
            "greedy" => Key::Greedy,
            "churn" => Key::Churn,
            "since_kept" => Key::SinceKept,
            "since_changed" => Key::SinceChanged,
            "since_new" => Key::SinceNew,
            "since_dropped" => Key::SinceDropped,
            "since_unmatched" => Key::SinceUnmatched,
            "not_in_previous_run" => Key::NotInPreviousRun,
            "candidate_data" => Key::CandidateData,
            "offer" => Key::OfferChanged,
            "scoring" => Key::Scoring,
            "competition" => Key::Competition,
            "unknown" => Key::ReasonUnknown,
            "locked_kept" => Key::LockedKept,
            "kept" => Key::Kept,
            "changed" => Key::Changed,
            "new" => Key::New,
            "dropped" => Key::Dropped,
            "unmatched" => Key::Unmatched,
            "capacity" => Key::Capacity,
            "places" => Key::Places,
            "assigned" => Key::Assigned,
            "utilisation_by_kind" => Key::UtilisationByKind,
            "waiting" => Key::Waiting,
            "waiting_count" => Key::WaitingCount,
            "empty" => Key::Empty,
            "price" => Key::Price,
            "guarantees" => Key::Guarantees,
            "guaranteed" => Key::Guaranteed,
            "short" => Key::Short,
            "none" => Key::None,
            "providers" => Key::Providers,
            "provider" => Key::Provider,
            "courses" => Key::Courses,
            "tail" => Key::Tail,
            "with_spend" => Key::WithSpend,
            "unmatched_reasons" => Key::UnmatchedReasons,
            "nothing_in_reach" => Key::NothingInReach,
            "excluded" => Key::Excluded,
            "no_eligible_offer" => Key::NoEligibleOffer,
            "all_in_reach_full" => Key::AllInReachFull,
            "fairness" => Key::Fairness,
            "fairness_note" => Key::FairnessNote,
            "age_band" => Key::AgeBand,
            "region" => Key::Region,
            "gender" => Key::Gender,
            "origin" => Key::Origin,
            "group" => Key::Group,
            "municipality" => Key::Municipality,
            "match_rate" => Key::MatchRate,
            "mean_effect" => Key::MeanEffect,
            "female" => Key::Female,
            "male" => Key::Male,
            "other" => Key::Other,
            "not_recorded" => Key::NotRecorded,
            "danish" => Key::Danish,
            "western" => Key::Western,
            "non_western" => Key::NonWestern,
            "provider_kind" => Key::ProviderKind,
            "job" => Key::Job,
            "work_trial" => Key::WorkTrial,
            "reciprocal_help" => Key::ReciprocalHelp,
            "caseloads" => Key::Caseloads,
            "caseloads_note" => Key::CaseloadsNote,
            "caseworkers" => Key::Caseworkers,
            "new_candidates" => Key::NewCandidates,
            "with_caseworker" => Key::WithCaseworker,
            "speciality_matches" => Key::SpecialityMatches,
            "mean_before" => Key::MeanBefore,
            "mean_after" => Key::MeanAfter,
            "max_before" => Key::MaxBefore,
            "max_after" => Key::MaxAfter,
            "over_cap_before" => Key::OverCapBefore,
            "over_cap_after" => Key::OverCapAfter,
            _ => return None,
        })
    }
}

/// The words of the report, in both languages.
fn t(lang: Lang, key: Key) -> &'static str {
    let (da, en) = match key {
        Key::Title => ("Brobygger: nattens forslag", "Brobygger: tonight's suggestions"),
        Key::Notice => (
            "Dette er forslag, ikke afgørelser. En sagsbehandler i kommunen træffer afgørelsen og registrerer hvem, hvornår og hvorfor.",
            "These are suggestions, not decisions. A caseworker of the municipality decides and records who, when and why.",
        ),
        Key::Date => ("Kørselsdato", "Run date"),
        Key::Candidates => ("Kandidater", "Candidates"),
        Key::Offers => ("Tilbud", "Offers"),
        Key::Matched => ("Med forslag", "With a suggestion"),
        Key::Effect => ("Forventet effekt", "Expected effect"),
        Key::Spend => ("Udgift til forløb", "Spend on courses"),
        Key::EffectNote => (
            "Forventet effekt = sparede ydelsesuger × ugesats − pris (+ det, den anden part sparer ved gensidig hjælp).",
            "Expected effect = benefit weeks avoided × weekly rate − price (+ what the other party saves, for reciprocal help).",
        ),
        Key::ByGroup => ("Effekt pr. målgruppe", "Effect per target group"),
        Key::ByMunicipality => ("Effekt pr. kommune", "Effect per municipality"),
        Key::AllMunicipalities => ("Alle kommuner", "All municipalities"),
        Key::Certificate => ("Bevis for, at planen er den bedste", "Proof that the plan is the best"),
        Key::Objective => ("Planens samlede point", "The plan's total points"),
        Key::Modified => (
            "Samlet score inkl. bonus for garanterede pladser",
            "Total score including the bonus for guaranteed places",
        ),
        Key::Dual => ("Loft for enhver plan (dual grænse)", "Ceiling for any plan (dual bound)"),
        Key::GContracted => ("Garanterede pladser i kontrakterne", "Guaranteed places in the contracts"),
        Key::GFillable => ("Heraf mulige at fylde (bevist maksimum)", "Of those, fillable at most (proven)"),
        Key::GFilled => ("Fyldt i nat", "Filled tonight"),
        Key::Gap => ("Forskel til loftet", "Gap to the ceiling"),
        Key::CertificateNote => (
            "Løsningen er kontrolleret uafhængigt af løseren: ingen fordeling kan score mere end den duale grænse, og forskellen er 0. Garanterede pladser hos strategiske partnere fyldes så langt det overhovedet kan lade sig gøre (bevist maksimum), og blandt de fordelinger vælges den med den højeste score; den duale grænse gælder scoren med en bonus pr. fyldt garanteret plads. Tid og faser står i run.json.",
            "The solution was checked independently of the solver: no assignment can score more than the dual bound, and the gap is 0. Guaranteed places at strategic partners are filled as far as at all possible (a proven maximum), and among those assignments the one with the highest score is chosen; the dual bound is for the score plus a bonus per filled guaranteed place. Times and phases are in run.json.",
        ),
        Key::Comparison => (
            "Planen sammenlignet med enklere måder at fordele på",
            "The plan compared with simpler ways to assign",
        ),
        Key::Method => ("Metode", "Method"),
        Key::TotalWeight => ("Samlede point", "Total points"),
        Key::Blocking => (
            "Par, der hellere ville hinanden (blokerende par)",
            "Pairs who would rather have each other (blocking pairs)",
        ),
        Key::Optimal => ("Nattens plan (optimal)", "Tonight's plan (optimal)"),
        Key::Stable => ("Stabil (udskudt accept)", "Stable (deferred acceptance)"),
        Key::Greedy => ("Grådig", "Greedy"),
        Key::Churn => (
            "Hvad ændrer sig for borgerne over for deres nuværende tilbud",
            "What changes for the citizens against their current offers",
        ),
        Key::Stability => {
            ("Stabilitet over for i går (forrige kørsel)", "Stability against yesterday (the previous run)")
        }
        Key::StabilityNone => (
            "Ingen forrige kørsel (--previous) var givet: der er intet at sammenligne med. Tallene ovenfor sammenligner med kandidaternes nuværende tilbud.",
            "No previous run (--previous) was given: there is nothing to compare with. The counts above compare with the candidates' current offers.",
        ),
        Key::StabilityNote => (
            "Hver kandidats forslag i nat over for forslaget i forrige kørsel. Et forslag ændres kun, når nattens samlede score stiger med mindst den mindste gevinst pr. ændret forslag (politikkens stability.least_gain_points):",
            "Each candidate's suggestion tonight against the previous run's. A suggestion changes only when the night's total score rises by at least the least gain per changed suggestion (the policy's stability.least_gain_points):",
        ),
        Key::SinceKept => ("Samme forslag som i går", "Same suggestion as yesterday"),
        Key::SinceChanged => ("Andet forslag end i går", "Another suggestion than yesterday"),
        Key::SinceNew => {
            ("Forslag, hvor der i går ikke var et", "A suggestion where yesterday there was none")
        }
        Key::SinceDropped => {
            ("Intet forslag, hvor der i går var et", "No suggestion where yesterday there was one")
        }
        Key::SinceUnmatched => ("Intet forslag i går eller i nat", "No suggestion yesterday or tonight"),
        Key::Why => ("Hvorfor forslaget ændrede sig", "Why the suggestion changed"),
        Key::NotInPreviousRun => {
            ("Kandidaten var ikke med i går", "The candidate was not in yesterday's run")
        }
        Key::CandidateData => ("Kandidatens egne data ændrede sig", "The candidate's own data changed"),
        Key::OfferChanged => {
            ("Tilbuddet ændrede sig (eller er nyt/væk)", "The offer changed (or is new or gone)")
        }
        Key::Scoring => (
            "Samme data, anden score (ydelsesuret eller politikken)",
            "Same data, another score (the benefit clock or the policy)",
        ),
        Key::Competition => {
            ("Kun konkurrencen om pladserne ændrede sig", "Only the competition for places changed")
        }
        Key::ReasonUnknown => {
            ("Ukendt (forrige kørsel uden fingeraftryk)", "Unknown (previous run without fingerprints)")
        }
        Key::Gone => {
            ("Kandidater fra i går, der ikke er med i nat", "Candidates of yesterday not in tonight's data")
        }
        Key::LockedKept => ("Igangværende forløb bevaret", "Courses under way kept"),
        Key::Kept => ("Beholder sit tilbud", "Keep their offer"),
        Key::Changed => ("Foreslås et andet tilbud", "Suggested another offer"),
        Key::New => ("Får et tilbud for første gang", "Get an offer for the first time"),
        Key::Dropped => ("Mister sit tilbud", "Lose their offer"),
        Key::Unmatched => ("Uden tilbud før og nu", "Without an offer before and now"),
        Key::Capacity => ("Kapacitet", "Capacity"),
        Key::Places => ("Pladser", "Places"),
        Key::Assigned => ("Besat", "Filled"),
        Key::UtilisationByKind => ("Belægning pr. type tilbud", "Places taken per kind of offer"),
        Key::Waiting => (
            "Tilbud med venteliste: hvor der mangler pladser",
            "Offers with a waiting line: where places are short",
        ),
        Key::WaitingCount => ("Tilbud med venteliste", "Offers with a waiting line"),
        Key::Empty => ("Tomme tilbud", "Empty offers"),
        Key::Price => ("Gevinst ved én plads mere (point)", "Gain from one more place (points)"),
        Key::Guarantees => {
            ("Garanteret volumen (strategiske partnere)", "Guaranteed volumes (strategic partners)")
        }
        Key::Guaranteed => ("Garanteret", "Guaranteed"),
        Key::Short => ("Mangler", "Short"),
        Key::None => ("Ingen", "None"),
        Key::Providers => ("Udgift pr. leverandør", "Spend per provider"),
        Key::Provider => ("Leverandør", "Provider"),
        Key::Courses => ("Forløb", "Courses"),
        Key::Tail => ("Leverandører der bærer 80 % af udgiften", "Providers carrying 80% of the spend"),
        Key::WithSpend => ("Leverandører med udgift", "Providers with spend"),
        Key::UnmatchedReasons => {
            ("Kandidater uden forslag, efter årsag", "Candidates without a suggestion, by reason")
        }
        Key::NothingInReach => ("Intet tilbud inden for rejseafstand", "No offer within travel distance"),
        Key::Excluded => ("Alle tilbud i nærheden fravalgt", "Every offer in reach excluded"),
        Key::NoEligibleOffer => ("Ingen tilbud i nærheden passer", "No eligible offer in reach"),
        Key::AllInReachFull => ("Alle pladser i nærheden er besat", "All places in reach are taken"),
        Key::Fairness => (
            "Ligebehandling: andel med forslag og gennemsnitlig effekt",
            "Fairness: share with a suggestion and mean effect",
        ),
        Key::FairnessNote => (
            "Køn og oprindelse indgår aldrig i scoren; de vises kun her, så forskelle ses med det samme.",
            "Gender and origin never enter a score; they appear only here, so that a disparity is seen at once.",
        ),
        Key::AgeBand => ("Aldersgruppe", "Age band"),
        Key::Region => ("Region", "Region"),
        Key::Gender => ("Køn", "Gender"),
        Key::Origin => ("Oprindelse", "Origin"),
        Key::Group => ("Målgruppe", "Target group"),
        Key::Municipality => ("Kommune", "Municipality"),
        Key::MatchRate => ("Andel med forslag", "Share with a suggestion"),
        Key::MeanEffect => ("Gns. effekt pr. forslag", "Mean effect per suggestion"),
        Key::Female => ("Kvinder", "Women"),
        Key::Male => ("Mænd", "Men"),
        Key::Other => ("Andet", "Other"),
        Key::NotRecorded => ("Ikke registreret", "Not recorded"),
        Key::Danish => ("Dansk oprindelse", "Danish origin"),
        Key::Western => ("Vestlig oprindelse", "Western origin"),
        Key::NonWestern => ("Ikke-vestlig oprindelse", "Non-Western origin"),
        Key::ProviderKind => ("Specialiseret forløb", "Specialist course"),
        Key::Job => ("Job", "Job"),
        Key::WorkTrial => ("Praktik / arbejdsprøvning", "Work trial"),
        Key::ReciprocalHelp => ("Gensidig hjælp", "Reciprocal help"),
        Key::Caseloads => ("Sagsstammer: hvem tager de nye borgere", "Caseloads: who takes the new citizens"),
        Key::CaseloadsNote => (
            "Forslag til, hvilken sagsbehandler der tager hver ny borger (en borger, der ikke står på nogen sagsstamme): de mindst belastede først, aldrig over loftet, og ved lige belastning den med speciale i borgerens målgruppe. Samme eksakte løser som tilbuddene (forskel 0 = bevist optimal). Hver ny borger står i caseloads.csv.",
            "Proposals for which caseworker takes each new candidate (one on no caseload): the least loaded first, never above the cap, and between equal loads the one who specialises in the candidate's target group. The same exact solver as the offers (gap 0 = proven optimal). Every new candidate is in caseloads.csv.",
        ),
        Key::Caseworkers => ("Sagsbehandlere", "Caseworkers"),
        Key::NewCandidates => ("Nye borgere", "New candidates"),
        Key::WithCaseworker => ("Med sagsbehandler", "With a caseworker"),
        Key::SpecialityMatches => {
            ("Hos en med speciale i målgruppen", "With a caseworker who specialises in the group")
        }
        Key::MeanBefore => ("Gns. sagsstamme før", "Mean caseload before"),
        Key::MeanAfter => ("Gns. sagsstamme efter", "Mean caseload after"),
        Key::MaxBefore => ("Største før", "Largest before"),
        Key::MaxAfter => ("Største efter", "Largest after"),
        Key::OverCapBefore => ("Over loftet før", "Over the cap before"),
        Key::OverCapAfter => ("Over loftet efter", "Over the cap after"),
        Key::PlanHeading => {
            ("Hvad nattens plan gør for borgerne", "What tonight's plan does for our citizens")
        }
        Key::WithoutSuggestion => ("Uden forslag", "Without a suggestion"),
        Key::FirstOffer => ("Får et tilbud for første gang", "Get an offer for the first time"),
        Key::NetEffect => ("Forventet gevinst (netto)", "Expected gain (net)"),
        Key::Savings => ("Forventet sparet forsørgelse", "Expected benefit payments avoided"),
        Key::Appendix => ("Bilag: den tekniske kontrol", "Appendix: the technical checks"),
        Key::AppendixNote => (
            "Til den, der vil efterprøve planen. Hver linje siger med én sætning, hvad tallet betyder.",
            "For whoever wants to check the plan. Each line says in one sentence what the figure means.",
        ),
        Key::Meaning => ("Hvad det betyder", "What it means"),
        // The certificate's figures are those of the solver's problem (buffer pairs lowered,
        // yesterday's bonus, running courses outside the proof), not the reported scores: each
        // sentence says which, so that it holds for the figure beside it.
        Key::ObjectiveMeans => (
            "Point for alle forslag, som løseren vejer dem: kontraktreglen sænker buffer-par, og med en forrige kørsel bærer gårsdagens par stabilitetsbonussen, så tallet kan afvige fra forslagenes egne point (nattens plan i tabellen over blokerende par, summen i proposals.csv). Pointene vejer effekt i kroner sammen med målgruppe, dokumentation, afstand, hast og borgerens ønsker.",
            "The points of all suggestions as the solver weighs them: the contract rule lowers buffer pairs, and with a previous run yesterday's pairs carry the stability bonus, so the figure can differ from the suggestions' own points (tonight's plan in the table of blocking pairs, the sum in proposals.csv). The points weigh effect in kroner together with target group, evidence, distance, urgency and the citizen's wishes.",
        ),
        Key::ModifiedMeans => (
            "Den sum, beviset gælder: samme point uden de igangværende forløb (de ligger fast og er uden for beviset) plus en bonus for hver garanteret plads hos en strategisk partner, som nattens nye forslag fylder.",
            "The sum the proof is about: the same points without the running courses (they are fixed and outside the proof) plus a bonus for each guaranteed place at a strategic partner that tonight's new suggestions fill.",
        ),
        Key::DualMeans => (
            "Et loft, regnet ud uafhængigt af løseren: ingen fordeling af pladserne kan give flere point.",
            "A ceiling, computed independently of the solver: no assignment of the places can score more.",
        ),
        Key::GapMeans => (
            "Loftet minus planens point; 0 betyder, at planen er bevist den bedste.",
            "The ceiling minus the plan's points; 0 means the plan is proven the best.",
        ),
        Key::BlockingMeans => (
            "Par af en borger og et tilbud, som begge ville stå bedre med hinanden end med det, fordelingen giver dem.",
            "Pairs of a citizen and an offer who would both be better off with each other than with what the assignment gives them.",
        ),
        Key::PriceMeans => (
            "Hvor mange point planen ville vinde, hvis tilbuddet havde én plads mere: et mål for, hvor hårdt der mangler pladser. Ikke kroner.",
            "How many points the plan would gain if the offer had one more place: a measure of how badly places are short. Not kroner.",
        ),
        Key::WhyDiffer => (
            "Planen vælger den fordeling, der giver flest point i alt, ikke flest kroner: pointene tæller også målgruppe, dokumentation, afstand, hast og borgerens ønsker. En grådig fordeling (hver plads til det højeste enkeltpar først) kan derfor nogle nætter vise flere kroner, men den matcher dårligere på de andre hensyn.",
            "The plan picks the assignment with the most points in all, not the most kroner: the points also count target group, evidence, distance, urgency and the citizen's wishes. A greedy assignment (each place to the highest single pair first) can therefore show more kroner on some nights, but it matches worse on the other considerations.",
        ),
        Key::Count => ("Antal", "Number"),
        Key::Reason => ("Årsag", "Reason"),
        Key::Change => ("Ændring", "Change"),
        Key::Share => ("Andel", "Share"),
    };
    match lang {
        Lang::Da => da,
        Lang::En => en,
    }
}

/// The word for a key named by the data; a key without a word shows as itself (never a
/// silent "?").
fn t_data(lang: Lang, key: &str) -> String {
    Key::parse(key).map_or_else(|| key.to_string(), |k| t(lang, k).to_string())
}

/// A whole number with thousands separators: `1.234.567` in Danish, `1,234,567` in English.
fn int(value: i128, lang: Lang) -> String {
    let digits = value.unsigned_abs().to_string();
    let sep = if lang == Lang::Da { '.' } else { ',' };
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(sep);
        }
        out.push(c);
    }
    if value < 0 { format!("−{out}") } else { out }
}

fn dkk(value: f64, lang: Lang) -> String {
    let n = int(value.round() as i128, lang);
    match lang {
        Lang::Da => format!("{n} kr."),
        Lang::En => format!("DKK {n}"),
    }
}

fn pct(value: f64, lang: Lang) -> String {
    let text = format!("{:.1}", value * 100.0);
    match lang {
        Lang::Da => format!("{} %", text.replace('.', ",")),
        Lang::En => format!("{text}%"),
    }
}

/// A label cut to `max` characters with an ellipsis, so that it fits left of the bars.
fn short(label: &str, max: usize) -> String {
    if label.chars().count() <= max {
        label.to_string()
    } else {
        format!("{}…", label.chars().take(max - 1).collect::<String>())
    }
}

/// A horizontal bar chart as inline SVG. `rows` are (label, value, shown value).
///
/// Each label stands on its own line above its bar, and the bars leave room for the longest
/// shown value, so nothing is clipped; the chart is drawn 360 units wide, so on a 390 px phone
/// it shows at about its natural size. Every chart is followed by a table of the same figures
/// (for screen readers and for copying).
fn bars(title: &str, rows: &[(String, f64, String)]) -> String {
    const WIDTH: f64 = 360.0;
    const CHAR_W: f64 = 7.2; // a generous average advance of 12 px system-ui text
    let max = rows.iter().map(|r| r.1).fold(0.0f64, f64::max);
    let longest = rows.iter().map(|r| r.2.chars().count()).max().unwrap_or(0) as f64;
    let bar_w = (WIDTH - 8.0 - longest * CHAR_W).max(60.0);
    let row_h = 34.0;
    let height = row_h * rows.len() as f64 + 4.0;
    let mut svg = format!(
        r#"<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet">"#,
        esc(title)
    );
    for (i, (label, value, shown)) in rows.iter().enumerate() {
        let y = row_h * i as f64;
        let w = if max > 0.0 { (value.max(0.0) / max) * bar_w } else { 0.0 };
        let _ = write!(
            svg,
            r#"<text x="0" y="{ly}"><title>{full}</title>{label}</text><rect x="0" y="{by}" width="{w:.1}" height="12" rx="2"/><text x="{vx:.1}" y="{vy}">{shown}</text>"#,
            ly = y + 13.0,
            full = esc(label),
            label = esc(&short(label, 48)),
            by = y + 18.0,
            vx = w + 6.0,
            vy = y + 29.0,
            shown = esc(shown),
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A stacked horizontal bar chart as inline SVG: one bar per row, one coloured part per
/// series (`series`: name and colour), a legend on top, the total right of the bar. `rows` are
/// (label, parts in series order, shown total). No script: the figures are in the table below.
fn stacked_bars(title: &str, series: &[(&str, &str)], rows: &[(String, Vec<f64>, String)]) -> String {
    const WIDTH: f64 = 360.0;
    const CHAR_W: f64 = 7.2;
    let max = rows.iter().map(|r| r.1.iter().map(|v| v.max(0.0)).sum::<f64>()).fold(0.0f64, f64::max);
    let longest = rows.iter().map(|r| r.2.chars().count()).max().unwrap_or(0) as f64;
    let bar_w = (WIDTH - 8.0 - longest * CHAR_W).max(60.0);
    let legend_h = 18.0 * series.len().div_ceil(2) as f64 + 4.0;
    let row_h = 34.0;
    let height = legend_h + row_h * rows.len() as f64 + 4.0;
    let mut svg = format!(
        r#"<svg class="chart" role="img" aria-label="{}" viewBox="0 0 {WIDTH} {height}" width="100%" preserveAspectRatio="xMinYMin meet">"#,
        esc(title)
    );
    for (k, (name, colour)) in series.iter().enumerate() {
        let (x, y) = (180.0 * (k % 2) as f64, 18.0 * (k / 2) as f64);
        let _ = write!(
            svg,
            r#"<rect x="{x}" y="{y}" width="12" height="12" style="fill:{colour}"/><text x="{tx}" y="{ty}">{name}</text>"#,
            tx = x + 16.0,
            ty = y + 11.0,
            name = esc(name),
        );
    }
    for (i, (label, parts, shown)) in rows.iter().enumerate() {
        let y = legend_h + row_h * i as f64;
        let _ = write!(
            svg,
            r#"<text x="0" y="{ly}"><title>{full}</title>{label}</text>"#,
            ly = y + 13.0,
            full = esc(label),
            label = esc(&short(label, 48)),
        );
        let mut x = 0.0;
        for (value, (name, colour)) in parts.iter().zip(series) {
            let w = if max > 0.0 { value.max(0.0) / max * bar_w } else { 0.0 };
            if w > 0.0 {
                let _ = write!(
                    svg,
                    r#"<rect x="{x:.1}" y="{by}" width="{w:.1}" height="12" style="fill:{colour}"><title>{name}</title></rect>"#,
                    by = y + 18.0,
                    name = esc(name),
                );
            }
            x += w;
        }
        let _ = write!(
            svg,
            r#"<text x="{vx:.1}" y="{vy}">{shown}</text>"#,
            vx = x + 6.0,
            vy = y + 29.0,
            shown = esc(shown)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A table in a box of its own that scrolls sideways when it is wider than the screen (a
/// wide table never makes the page scroll sideways).
fn table(head: &[&str], rows: &[Vec<String>]) -> String {
    let mut html = String::from("<div class=\"table\"><table><thead><tr>");
    for h in head {
        let _ = write!(html, "<th scope=\"col\">{}</th>", esc(h));
    }
    html.push_str("</tr></thead><tbody>");
    for row in rows {
        html.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            if i == 0 {
                let _ = write!(html, "<th scope=\"row\">{}</th>", esc(cell));
            } else {
                let _ = write!(html, "<td>{}</td>", esc(cell));
            }
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table></div>");
    html
}

fn slice_rows(slices: &[Slice], lang: Lang, name: impl Fn(&Slice) -> String) -> Vec<Vec<String>> {
    slices
        .iter()
        .map(|s| {
            vec![
                name(s),
                int(s.candidates as i128, lang),
                int(s.matched as i128, lang),
                pct(s.match_rate, lang),
                dkk(s.effect_dkk, lang),
                dkk(s.mean_effect_dkk, lang),
            ]
        })
        .collect()
}

const STYLE: &str = r#"
:root{--ink:#1b1f24;--muted:#4a5560;--line:#d0d7de;--bar:#1f5f8b;--bg:#ffffff;--panel:#f6f8fa}
*{box-sizing:border-box}body{font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--bg);margin:0}
main{max-width:980px;margin:0 auto;padding:24px;overflow-wrap:anywhere}h1{font-size:1.6rem;margin:0 0 4px}h2{font-size:1.2rem;margin:32px 0 8px;border-bottom:1px solid var(--line);padding-bottom:4px}
.notice{background:#fff8c5;border:1px solid #d4a72c;padding:8px 12px;border-radius:6px}.muted{color:var(--muted)}.lead{font-size:1.1rem}
.kpis{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin:16px 0}.kpi{background:var(--panel);border:1px solid var(--line);border-radius:8px;padding:10px 12px}
.kpi b{display:block;font-size:1.3rem}.table{overflow-x:auto;max-width:100%;margin:8px 0}table{border-collapse:collapse;width:100%;font-size:.92rem}th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:right;overflow-wrap:normal}
th:first-child,td:first-child{text-align:left;overflow-wrap:anywhere}thead th{background:var(--panel)}.chart{max-width:540px;display:block;margin:8px 0}.chart rect{fill:var(--bar)}.chart text{font-size:12px;fill:var(--ink)}
details summary{cursor:pointer;color:var(--bar)}@media (max-width:600px){main{padding:12px}h1{font-size:1.35rem}th,td{padding:4px 4px}}@media print{.notice{border-color:#000}}
"#;

/// Renders the report.
pub fn render(report: &Report, reference: &ReferenceData, lang: Lang) -> String {
    let mut h = String::new();
    let lang_code = if lang == Lang::Da { "da" } else { "en" };
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"{lang_code}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{} {}</title><style>{STYLE}</style></head><body><main>",
        t(lang, Key::Title),
        report.date
    );
    let _ = write!(
        h,
        "<h1>{}</h1><p class=\"muted\">{}: {}</p>",
        t(lang, Key::Title),
        t(lang, Key::Date),
        report.date
    );
    let _ = write!(h, "<p class=\"notice\" role=\"note\">{}</p>", t(lang, Key::Notice));

    // The first screen: what the plan does for the citizens and what it costs, in people and
    // kroner. The engineering is in the appendix at the end.
    let _ = write!(h, "<section id=\"summary\"><h2>{}</h2>", t(lang, Key::PlanHeading));
    let _ = write!(h, "<p class=\"lead\">{}</p>", esc(&lead(report, lang)));
    let _ = write!(h, "<div class=\"kpis\">");
    let savings = report.effect_dkk + report.spend_dkk as f64;
    for (label, value) in [
        (
            t(lang, Key::Matched),
            format!(
                "{} ({})",
                int(report.matched as i128, lang),
                pct(report.matched as f64 / report.candidates.max(1) as f64, lang)
            ),
        ),
        (
            t(lang, Key::WithoutSuggestion),
            int(report.candidates.saturating_sub(report.matched) as i128, lang),
        ),
        (t(lang, Key::FirstOffer), int(report.churn.new as i128, lang)),
        (t(lang, Key::Savings), dkk(savings, lang)),
        (t(lang, Key::Spend), dkk(report.spend_dkk as f64, lang)),
        (t(lang, Key::NetEffect), dkk(report.effect_dkk, lang)),
    ] {
        let _ = write!(h, "<div class=\"kpi\"><span>{}</span><b>{}</b></div>", esc(label), esc(&value));
    }
    let _ = write!(h, "</div><p class=\"muted\">{}</p></section>", t(lang, Key::EffectNote));

    // Effect per target group.
    let group_name = |s: &Slice| -> String {
        match (lang, reference.target_groups.iter().find(|g| g.code == s.key)) {
            (Lang::Da, Some(g)) => g.name_da.clone(),
            (Lang::En, Some(g)) => g.name_en.clone(),
            _ => s.key.clone(),
        }
    };
    let _ = write!(h, "<section id=\"effect-by-group\"><h2>{}</h2>", t(lang, Key::ByGroup));
    let rows: Vec<_> =
        report.by_group.iter().map(|s| (group_name(s), s.effect_dkk, dkk(s.effect_dkk, lang))).collect();
    h.push_str(&bars(t(lang, Key::ByGroup), &rows));
    let head = [
        t(lang, Key::Group),
        t(lang, Key::Candidates),
        t(lang, Key::Matched),
        t(lang, Key::MatchRate),
        t(lang, Key::Effect),
        t(lang, Key::MeanEffect),
    ];
    h.push_str(&table(&head, &slice_rows(&report.by_group, lang, group_name)));
    let _ = write!(
        h,
        "<p class=\"note\">{}</p>",
        match lang {
            Lang::Da => format!(
                "Rækkerne overlapper: {} kandidater er i flere målgrupper og tælles i hver. {} forslag ventes at koste mere, end de sparer ({} fordi effekten er lille i forhold til prisen, {} fordi den er for usikker).",
                report.candidates_in_several_groups,
                report.negative_effect.small_for_price + report.negative_effect.too_uncertain,
                report.negative_effect.small_for_price,
                report.negative_effect.too_uncertain
            ),
            Lang::En => format!(
                "The rows overlap: {} candidates are in several target groups and counted in each. {} suggestions are expected to cost more than they save ({} because the effect is small for the price, {} because it is too uncertain).",
                report.candidates_in_several_groups,
                report.negative_effect.small_for_price + report.negative_effect.too_uncertain,
                report.negative_effect.small_for_price,
                report.negative_effect.too_uncertain
            ),
        }
    );
    h.push_str("</section>");

    // Effect per municipality: the 15 largest as a chart, all in a table.
    let _ = write!(h, "<section id=\"effect-by-municipality\"><h2>{}</h2>", t(lang, Key::ByMunicipality));
    let mut largest: Vec<&Slice> = report.by_municipality.iter().collect();
    largest.sort_by(|a, b| b.effect_dkk.total_cmp(&a.effect_dkk).then_with(|| a.key.cmp(&b.key)));
    let rows: Vec<_> =
        largest.iter().take(15).map(|s| (s.name.clone(), s.effect_dkk, dkk(s.effect_dkk, lang))).collect();
    h.push_str(&bars(t(lang, Key::ByMunicipality), &rows));
    let head = [
        t(lang, Key::Municipality),
        t(lang, Key::Candidates),
        t(lang, Key::Matched),
        t(lang, Key::MatchRate),
        t(lang, Key::Effect),
        t(lang, Key::MeanEffect),
    ];
    let _ = write!(h, "<details><summary>{}</summary>", t(lang, Key::AllMunicipalities));
    h.push_str(&table(
        &head,
        &slice_rows(&report.by_municipality, lang, |s| format!("{} ({})", s.name, s.key)),
    ));
    h.push_str("</details></section>");

    // Methods compared.
    let _ = write!(h, "<section id=\"comparison\"><h2>{}</h2>", t(lang, Key::Comparison));
    let method_name = |m: &str| t_data(lang, m);
    let rows: Vec<_> = report
        .methods
        .iter()
        .map(|m| (method_name(&m.method), m.effect_dkk, dkk(m.effect_dkk, lang)))
        .collect();
    h.push_str(&bars(t(lang, Key::Effect), &rows));
    let rows: Vec<Vec<String>> = report
        .methods
        .iter()
        .map(|m| vec![method_name(&m.method), dkk(m.effect_dkk, lang), int(m.matched as i128, lang)])
        .collect();
    h.push_str(&table(&[t(lang, Key::Method), t(lang, Key::Effect), t(lang, Key::Matched)], &rows));
    let _ = write!(h, "<p>{}</p>", esc(&why_differ(report, lang)));
    h.push_str("</section>");

    // Churn.
    let ch = &report.churn;
    let _ = write!(h, "<section id=\"churn\"><h2>{}</h2>", t(lang, Key::Churn));
    let rows: Vec<_> = [
        ("locked_kept", ch.locked_kept),
        ("kept", ch.kept),
        ("changed", ch.changed),
        ("new", ch.new),
        ("dropped", ch.dropped),
        ("unmatched", ch.unmatched),
    ]
    .iter()
    .map(|(k, v)| (t_data(lang, k), *v as f64, int(*v as i128, lang)))
    .collect();
    h.push_str(&bars(t(lang, Key::Churn), &rows));
    let rows: Vec<Vec<String>> = rows.into_iter().map(|(label, _, shown)| vec![label, shown]).collect();
    h.push_str(&table(&[t(lang, Key::Change), t(lang, Key::Count)], &rows));
    h.push_str("</section>");

    // Stability against the previous run.
    let _ = write!(h, "<section id=\"stability\"><h2>{}</h2>", t(lang, Key::Stability));
    match &report.stability {
        None => {
            let _ = write!(h, "<p>{}</p>", t(lang, Key::StabilityNone));
        }
        Some(st) => {
            let gains: Vec<String> = st
                .least_gain_points
                .iter()
                .map(|(name, points)| format!("{} {}", esc(name), int(i128::from(*points), lang)))
                .collect();
            let _ = write!(h, "<p>{} {}.</p>", t(lang, Key::StabilityNote), gains.join(", "));
            let rows: Vec<_> = ["kept", "changed", "new", "dropped", "unmatched"]
                .iter()
                .map(|k| {
                    let v = st.by_status.get(*k).copied().unwrap_or(0);
                    (t_data(lang, &format!("since_{k}")), v as f64, int(v as i128, lang))
                })
                .collect();
            h.push_str(&bars(t(lang, Key::Stability), &rows));
            let rows: Vec<_> = matcher_core::batch::stability::ChangeReason::ALL
                .iter()
                .map(|r| {
                    let v = st.by_reason.get(r.key()).copied().unwrap_or(0);
                    (t_data(lang, r.key()), v as f64, int(v as i128, lang))
                })
                .collect();
            let _ = write!(h, "<h3>{}</h3>", t(lang, Key::Why));
            h.push_str(&bars(t(lang, Key::Why), &rows));
            let _ = write!(h, "<p>{}: {}</p>", t(lang, Key::Gone), int(st.gone as i128, lang));
        }
    }
    h.push_str("</section>");

    // Capacity.
    let cap = &report.capacity;
    let _ = write!(h, "<section id=\"capacity\"><h2>{}</h2>", t(lang, Key::Capacity));
    let kind_name = |k: &str| t_data(lang, if k == "provider" { "provider_kind" } else { k });
    let rows: Vec<_> = cap
        .by_kind
        .iter()
        .map(|(k, places, assigned)| {
            let share = if *places > 0 { *assigned as f64 / *places as f64 } else { 0.0 };
            (
                kind_name(k),
                share,
                format!(
                    "{} / {} ({})",
                    int(*assigned as i128, lang),
                    int(*places as i128, lang),
                    pct(share, lang)
                ),
            )
        })
        .collect();
    let _ = write!(h, "<h3>{}</h3>", t(lang, Key::UtilisationByKind));
    h.push_str(&bars(t(lang, Key::UtilisationByKind), &rows));
    let rows: Vec<Vec<String>> = cap
        .by_kind
        .iter()
        .map(|(k, places, assigned)| {
            let share = if *places > 0 { *assigned as f64 / *places as f64 } else { 0.0 };
            vec![kind_name(k), int(*places as i128, lang), int(*assigned as i128, lang), pct(share, lang)]
        })
        .collect();
    h.push_str(&table(
        &[t(lang, Key::Offers), t(lang, Key::Places), t(lang, Key::Assigned), t(lang, Key::Share)],
        &rows,
    ));
    h.push_str(&table(
        &[t(lang, Key::Capacity), ""],
        &[
            vec![t(lang, Key::Places).into(), int(cap.places as i128, lang)],
            vec![t(lang, Key::Assigned).into(), int(cap.assigned as i128, lang)],
            vec![t(lang, Key::WaitingCount).into(), int(cap.offers_with_waiting_line as i128, lang)],
            vec![
                t(lang, Key::Empty).into(),
                format!("{} / {}", int(cap.empty_offers as i128, lang), int(cap.open_offers as i128, lang)),
            ],
        ],
    ));
    let _ = write!(h, "<h3>{}</h3>", t(lang, Key::Waiting));
    let rows: Vec<Vec<String>> = cap
        .waiting_lines
        .iter()
        .map(|w| {
            vec![
                format!("{} ({})", w.name, w.offer),
                int(i128::from(w.capacity), lang),
                int(i128::from(w.assigned), lang),
            ]
        })
        .collect();
    h.push_str(&table(&[t(lang, Key::Offers), t(lang, Key::Places), t(lang, Key::Assigned)], &rows));
    let _ = write!(h, "<h3>{}</h3>", t(lang, Key::Guarantees));
    if cap.guarantees.is_empty() {
        let _ = write!(h, "<p>{}</p>", t(lang, Key::None));
    } else {
        let rows: Vec<Vec<String>> = cap
            .guarantees
            .iter()
            .map(|g| {
                vec![
                    g.offer.clone(),
                    int(i128::from(g.guaranteed), lang),
                    int(i128::from(g.assigned), lang),
                    int(i128::from(g.short), lang),
                ]
            })
            .collect();
        h.push_str(&table(
            &[t(lang, Key::Offers), t(lang, Key::Guaranteed), t(lang, Key::Assigned), t(lang, Key::Short)],
            &rows,
        ));
    }
    h.push_str("</section>");

    // Spend and the supplier tail.
    let _ = write!(h, "<section id=\"providers\"><h2>{}</h2>", t(lang, Key::Providers));
    let _ = write!(
        h,
        "<p>{}: <b>{}</b> / {}: {}</p>",
        t(lang, Key::Tail),
        int(report.providers_for_80_percent as i128, lang),
        t(lang, Key::WithSpend),
        int(report.providers_with_spend as i128, lang)
    );
    let rows: Vec<_> = report
        .providers
        .iter()
        .take(15)
        .map(|p| (p.name.clone(), p.spend_dkk as f64, dkk(p.spend_dkk as f64, lang)))
        .collect();
    h.push_str(&bars(t(lang, Key::Providers), &rows));
    let rows: Vec<Vec<String>> = report
        .providers
        .iter()
        .map(|p| {
            vec![
                format!("{} ({})", p.name, p.provider),
                int(i128::from(p.courses), lang),
                int(p.places as i128, lang),
                dkk(p.spend_dkk as f64, lang),
            ]
        })
        .collect();
    h.push_str(&table(
        &[t(lang, Key::Provider), t(lang, Key::Courses), t(lang, Key::Places), t(lang, Key::Spend)],
        &rows,
    ));
    h.push_str("</section>");

    contracts_section(&mut h, &report.contracts, lang);

    // Unmatched by reason.
    let _ = write!(h, "<section id=\"unmatched\"><h2>{}</h2>", t(lang, Key::UnmatchedReasons));
    let rows: Vec<_> = report
        .unmatched_by_reason
        .iter()
        .map(|(k, v)| (t_data(lang, k), *v as f64, int(*v as i128, lang)))
        .collect();
    h.push_str(&bars(t(lang, Key::UnmatchedReasons), &rows));
    let rows: Vec<Vec<String>> = rows.into_iter().map(|(label, _, shown)| vec![label, shown]).collect();
    h.push_str(&table(&[t(lang, Key::Reason), t(lang, Key::Count)], &rows));
    h.push_str("</section>");

    if let Some(caseloads) = &report.caseloads {
        h.push_str(&caseload_section(caseloads, reference, lang));
    }

    // Fairness.
    let _ = write!(
        h,
        "<section id=\"fairness\"><h2>{}</h2><p class=\"muted\">{}</p>",
        t(lang, Key::Fairness),
        t(lang, Key::FairnessNote)
    );
    // By target group here; gender, origin, age band and region, with intervals and causes,
    // in the next section.
    let title = t(lang, Key::Group);
    let slices = &report.by_group;
    let _ = write!(h, "<h3>{}</h3>", esc(title));
    let rows: Vec<_> =
        slices.iter().map(|s| (group_name(s), s.match_rate, pct(s.match_rate, lang))).collect();
    h.push_str(&bars(&format!("{title}: {}", t(lang, Key::MatchRate)), &rows));
    let head = [
        title,
        t(lang, Key::Candidates),
        t(lang, Key::Matched),
        t(lang, Key::MatchRate),
        t(lang, Key::Effect),
        t(lang, Key::MeanEffect),
    ];
    h.push_str(&table(&head, &slice_rows(slices, lang, group_name)));
    h.push_str("</section>");
    if let Some(f) = &report.fairness {
        h.push_str(&fairness::section(f, lang));
    }
    h.push_str(&appendix(report, lang));
    h.push_str("</main></body></html>\n");
    h
}

/// The first sentence of the report: people and kroner, nothing a manager must look up.
fn lead(report: &Report, lang: Lang) -> String {
    let (n, of) = (int(report.matched as i128, lang), int(report.candidates as i128, lang));
    let share = pct(report.matched as f64 / report.candidates.max(1) as f64, lang);
    let (net, spend) = (dkk(report.effect_dkk, lang), dkk(report.spend_dkk as f64, lang));
    let gain = report.effect_dkk >= 0.0;
    match (lang, gain) {
        (Lang::Da, true) => format!(
            "I nat fik {n} af {of} borgere ({share}) et forslag til et tilbud. Forløbene i planen koster {spend}; følges forslagene, forventes de at spare {net} mere i forsørgelse, end de koster."
        ),
        (Lang::Da, false) => format!(
            "I nat fik {n} af {of} borgere ({share}) et forslag til et tilbud. Forløbene i planen koster {spend}; følges forslagene, forventes de at koste {} mere, end de sparer i forsørgelse.",
            dkk(-report.effect_dkk, lang)
        ),
        (Lang::En, true) => format!(
            "Tonight {n} of {of} citizens ({share}) got a suggested offer. The courses in the plan cost {spend}; if the suggestions are followed, they are expected to save {net} more in benefit payments than they cost."
        ),
        (Lang::En, false) => format!(
            "Tonight {n} of {of} citizens ({share}) got a suggested offer. The courses in the plan cost {spend}; if the suggestions are followed, they are expected to cost {} more than they save in benefit payments.",
            dkk(-report.effect_dkk, lang)
        ),
    }
}

/// Why the optimum may earn fewer kroner than the greedy plan, with tonight's figure when it
/// does.
fn why_differ(report: &Report, lang: Lang) -> String {
    let effect = |name: &str| report.methods.iter().find(|m| m.method == name).map(|m| m.effect_dkk);
    let mut text = t(lang, Key::WhyDiffer).to_string();
    if let (Some(optimal), Some(greedy)) = (effect("optimal"), effect("greedy"))
        && greedy > optimal
    {
        let diff = dkk(greedy - optimal, lang);
        let _ = match lang {
            Lang::Da => write!(text, " I nat viser den grådige fordeling {diff} mere."),
            Lang::En => write!(text, " Tonight the greedy assignment shows {diff} more."),
        };
    }
    text
}

/// The engineering: certificate, dual bound, blocking pairs and the value of one more place,
/// each with one sentence on what it means.
fn appendix(report: &Report, lang: Lang) -> String {
    let mut h = String::new();
    let c = &report.certificate;
    let _ = write!(
        h,
        "<section id=\"appendix\"><h2>{}</h2><p class=\"muted\">{}</p><h3 id=\"certificate\">{}</h3>",
        t(lang, Key::Appendix),
        t(lang, Key::AppendixNote),
        t(lang, Key::Certificate)
    );
    let show = |v: Option<i128>| v.map_or_else(|| "—".to_string(), |v| int(v, lang));
    let head = [t(lang, Key::Certificate), "", t(lang, Key::Meaning)];
    h.push_str(&table(
        &head,
        &[
            vec![
                t(lang, Key::Objective).into(),
                int(i128::from(c.objective), lang),
                t(lang, Key::ObjectiveMeans).into(),
            ],
            vec![
                t(lang, Key::Modified).into(),
                int(c.modified_primal, lang),
                t(lang, Key::ModifiedMeans).into(),
            ],
            vec![t(lang, Key::Dual).into(), show(c.dual_bound), t(lang, Key::DualMeans).into()],
            vec![t(lang, Key::Gap).into(), show(c.gap), t(lang, Key::GapMeans).into()],
        ],
    ));
    if let Some(g) = &c.guarantees {
        h.push_str(&table(
            &[t(lang, Key::Guarantees), ""],
            &[
                vec![t(lang, Key::GContracted).into(), int(i128::from(g.guaranteed), lang)],
                vec![t(lang, Key::GFillable).into(), int(i128::from(g.fillable), lang)],
                vec![t(lang, Key::GFilled).into(), int(i128::from(g.filled), lang)],
            ],
        ));
    }
    let _ = write!(h, "<p class=\"muted\">{}</p>", t(lang, Key::CertificateNote));
    let _ = write!(h, "<h3>{}</h3><p>{}</p>", t(lang, Key::Blocking), t(lang, Key::BlockingMeans));
    let rows: Vec<Vec<String>> = report
        .methods
        .iter()
        .map(|m| {
            vec![
                t_data(lang, &m.method),
                int(i128::from(m.total_weight), lang),
                int(m.blocking_pairs as i128, lang),
            ]
        })
        .collect();
    h.push_str(&table(&[t(lang, Key::Method), t(lang, Key::TotalWeight), t(lang, Key::Blocking)], &rows));
    let _ = write!(h, "<h3>{}</h3><p>{}</p>", t(lang, Key::Price), t(lang, Key::PriceMeans));
    let rows: Vec<Vec<String>> = report
        .capacity
        .waiting_lines
        .iter()
        .map(|w| vec![format!("{} ({})", w.name, w.offer), int(i128::from(w.price), lang)])
        .collect();
    h.push_str(&table(&[t(lang, Key::Offers), t(lang, Key::Price)], &rows));
    h.push_str("</section>");
    h
}

/// Caseloads before and after, per municipality and in all.
fn caseload_section(caseloads: &CaseloadReport, reference: &ReferenceData, lang: Lang) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<section id=\"caseloads\"><h2>{}</h2><p class=\"muted\">{}</p>",
        t(lang, Key::Caseloads),
        t(lang, Key::CaseloadsNote)
    );
    let one = |m: &MunicipalityCaseload, name: String| {
        let mean = |v: f64| match lang {
            Lang::Da => format!("{v:.1}").replace('.', ","),
            Lang::En => format!("{v:.1}"),
        };
        vec![
            name,
            int(m.caseworkers as i128, lang),
            int(m.new_candidates as i128, lang),
            int(m.assigned as i128, lang),
            int(m.speciality_matches as i128, lang),
            mean(m.before_mean),
            mean(m.after_mean),
            int(i128::from(m.before_max), lang),
            int(i128::from(m.after_max), lang),
            int(m.before_over_cap as i128, lang),
            int(m.after_over_cap as i128, lang),
        ]
    };
    let mut rows: Vec<Vec<String>> = caseloads
        .by_municipality
        .iter()
        .map(|m| {
            let name = m
                .municipality
                .parse::<u16>()
                .ok()
                .and_then(|code| reference.municipality(MunicipalityCode(code)))
                .map_or_else(|| m.municipality.clone(), |r| format!("{} ({})", r.name, m.municipality));
            one(m, name)
        })
        .collect();
    rows.push(one(&caseloads.total, t(lang, Key::AllMunicipalities).to_string()));
    h.push_str(&table(
        &[
            t(lang, Key::Municipality),
            t(lang, Key::Caseworkers),
            t(lang, Key::NewCandidates),
            t(lang, Key::WithCaseworker),
            t(lang, Key::SpecialityMatches),
            t(lang, Key::MeanBefore),
            t(lang, Key::MeanAfter),
            t(lang, Key::MaxBefore),
            t(lang, Key::MaxAfter),
            t(lang, Key::OverCapBefore),
            t(lang, Key::OverCapAfter),
        ],
        &rows,
    ));
    h.push_str("</section>");
    h
}

/// The contracts section: what each contract rule costs in kroner of expected effect, each
/// contract's use and guarantee, and spend per municipality by contract kind.
fn contracts_section(h: &mut String, c: &matcher_core::batch::report::ContractsReport, lang: Lang) {
    use matcher_core::batch::rules::Rule;
    let da = lang == Lang::Da;
    let w = |d: &'static str, e: &'static str| if da { d } else { e };
    let _ = write!(h, "<section id=\"contracts\"><h2>{}</h2>", w("Kontrakter", "Contracts"));
    if !c.rule_costs.is_empty() {
        let _ = write!(
            h,
            "<p class=\"muted\">{}</p>",
            w(
                "Hvad hver kontraktregel koster (eller giver) i forventet effekt, målt mod samme nat løst uden reglen. Positiv: reglen koster effekt.",
                "What each contract rule costs (or gains) in expected effect, measured against the same night solved without the rule. Positive: the rule costs effect."
            )
        );
        let rows: Vec<Vec<String>> = c
            .rule_costs
            .iter()
            .map(|r| {
                let name = match r.rule {
                    Rule::BufferLast => w(
                        "Buffer kun når specialister og partnere er fulde",
                        "Buffer only when specialists and partners are full",
                    ),
                    Rule::SpecialistGroupsOnly => {
                        w("Specialist kun for sine målgrupper", "Specialist only for its target groups")
                    }
                    Rule::FillGuarantees => {
                        w("Garanteret volumen fyldes først", "Guaranteed volume filled first")
                    }
                };
                vec![
                    name.to_string(),
                    dkk(r.cost_dkk, lang),
                    int(r.changed as i128, lang),
                    format!("{} → {}", int(r.matched as i128, lang), int(r.matched_without as i128, lang)),
                    dkk(r.spend_dkk - r.spend_without_dkk, lang),
                    if r.rule == Rule::BufferLast {
                        int(r.buffer_breaches_without as i128, lang)
                    } else {
                        String::new()
                    },
                ]
            })
            .collect();
        h.push_str(&table(
            &[
                w("Regel", "Rule"),
                w("Koster i effekt", "Costs in effect"),
                w("Borgere med andet forslag", "Citizens suggested otherwise"),
                w("Matchet (med → uden)", "Matched (with → without)"),
                w("Merudgift", "Extra spend"),
                w("Buffer trods ledig plads, uden reglen", "Buffer despite a free place, without the rule"),
            ],
            &rows,
        ));
    }
    let _ = write!(
        h,
        "<p>{}: <b>{}</b>. {}: <b>{}</b>.</p>",
        w(
            "Borgere på buffer trods ledig specialist- eller partnerplads i nærheden",
            "Citizens at a buffer despite a free specialist or partner place in reach"
        ),
        int(c.buffer_breaches as i128, lang),
        w("Garanterede pladser ikke fyldt", "Guaranteed places not filled"),
        int(c.guaranteed_short as i128, lang)
    );
    let rows: Vec<Vec<String>> = c
        .contracts
        .iter()
        .map(|l| {
            vec![
                format!("{} ({})", l.provider_name, l.contract),
                l.municipality.clone(),
                l.kind.clone(),
                int(l.places as i128, lang),
                int(l.used as i128, lang),
                int(l.guaranteed as i128, lang),
                int(l.short as i128, lang),
                dkk(l.spend_dkk as f64, lang),
            ]
        })
        .collect();
    h.push_str(&table(
        &[
            w("Kontrakt", "Contract"),
            w("Kommune", "Municipality"),
            w("Type", "Kind"),
            w("Pladser", "Places"),
            w("Brugt", "Used"),
            w("Garanteret", "Guaranteed"),
            w("Mangler", "Short"),
            w("Udgift", "Spend"),
        ],
        &rows,
    ));
    let rows: Vec<Vec<String>> = c
        .spend_by_municipality
        .iter()
        .map(|m| {
            vec![
                format!("{} ({})", m.name, m.municipality),
                dkk(m.spend_dkk as f64, lang),
                dkk(m.strategic_partner_dkk as f64, lang),
                dkk(m.specialist_dkk as f64, lang),
                dkk(m.buffer_dkk as f64, lang),
                dkk(m.no_contract_dkk as f64, lang),
                format!(
                    "{} / {}",
                    int(m.providers_for_80_percent as i128, lang),
                    int(m.providers as i128, lang)
                ),
            ]
        })
        .collect();
    let series = [
        (w("Strategisk partner", "Strategic partner"), "#1f5f8b"),
        (w("Specialist", "Specialist"), "#5a9bd5"),
        (w("Buffer", "Buffer"), "#b35900"),
        (w("Uden kontrakt", "No contract"), "#8c959f"),
    ];
    let chart: Vec<(String, Vec<f64>, String)> = c
        .spend_by_municipality
        .iter()
        .filter(|m| m.spend_dkk > 0)
        .map(|m| {
            (
                m.name.clone(),
                vec![
                    m.strategic_partner_dkk as f64,
                    m.specialist_dkk as f64,
                    m.buffer_dkk as f64,
                    m.no_contract_dkk as f64,
                ],
                dkk(m.spend_dkk as f64, lang),
            )
        })
        .collect();
    if !chart.is_empty() {
        h.push_str(&stacked_bars(
            w(
                "Udgift i nat pr. kommune efter kontrakttype",
                "Spend tonight per municipality by contract kind",
            ),
            &series,
            &chart,
        ));
    }
    h.push_str(&table(
        &[
            w("Kommune", "Municipality"),
            w("Udgift i nat", "Spend tonight"),
            w("Strategisk partner", "Strategic partner"),
            w("Specialist", "Specialist"),
            w("Buffer", "Buffer"),
            w("Uden kontrakt", "No contract"),
            w("Leverandører for 80 %", "Providers for 80 %"),
        ],
        &rows,
    ));
    h.push_str("</section>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_leave_room_for_the_longest_value() {
        let rows = vec![
            (
                "Et meget langt navn på en målgruppe, der ikke kan stå helt".to_string(),
                10.0,
                "1.234 / 2.345 (52,6 %)".into(),
            ),
            ("Kort".to_string(), 5.0, "1 kr.".into()),
        ];
        let svg = bars("t", &rows);
        // The widest bar ends where the longest shown value still fits in the 360-unit box.
        let width: f64 = svg
            .split("width=\"")
            .nth(2)
            .and_then(|w| w.split('"').next())
            .and_then(|w| w.parse().ok())
            .expect("bar width");
        assert!(width + 6.0 + 22.0 * 7.2 <= 360.0 + 1e-9, "{width}");
        assert!(svg.contains("<title>Et meget langt navn på en målgruppe, der ikke kan stå helt</title>"));
    }

    #[test]
    fn stacked_bars_draw_each_kind_in_proportion_and_skip_empty_parts() {
        let series = [("Partner", "#111111"), ("Buffer", "#222222")];
        let rows = vec![
            ("Aalborg".to_string(), vec![300.0, 100.0], "400 kr.".to_string()),
            ("Hjørring".to_string(), vec![0.0, 200.0], "200 kr.".to_string()),
        ];
        let svg = stacked_bars("spend", &series, &rows);
        let widths: Vec<f64> = svg
            .split("height=\"12\" style=\"fill:")
            .filter_map(|part| part.rsplit("width=\"").next())
            .filter_map(|w| w.split('"').next()?.parse().ok())
            .collect();
        // Legend squares (12 wide) are not bars; the three bar parts are 3 : 1 and 2 : 4 of the largest.
        let bars: Vec<f64> = widths.into_iter().filter(|&w| w != 12.0).collect();
        assert_eq!(bars.len(), 3, "{svg}");
        assert!((bars[0] / bars[1] - 3.0).abs() < 0.01, "{bars:?}");
        assert!((bars[2] / (bars[0] + bars[1]) - 0.5).abs() < 0.01, "{bars:?}");
        assert!(!svg.contains("<script"));
        assert!(svg.contains("<title>Buffer</title>"));
    }

    #[test]
    fn numbers_are_written_the_local_way() {
        assert_eq!(int(1_234_567, Lang::Da), "1.234.567");
        assert_eq!(int(1_234_567, Lang::En), "1,234,567");
        assert_eq!(int(-1_000, Lang::En), "−1,000");
        assert_eq!(int(999, Lang::Da), "999");
        assert_eq!(dkk(2500.4, Lang::Da), "2.500 kr.");
        assert_eq!(pct(0.1234, Lang::Da), "12,3 %");
        assert_eq!(esc("<a&\"b\">"), "&lt;a&amp;&quot;b&quot;&gt;");
    }
}
