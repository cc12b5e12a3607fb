//! `matcher describe`: the model card a municipality files in its algorithm register and its
//! data protection impact assessment (DPIA), in Danish or English, Markdown or HTML.
//!
//! Generated from the code and the policy in force, so that it cannot drift: the factors are
//! [`Factor::ALL`] with the policy's weights, the hard limits the policy's `limits` and the
//! scorer's [`Removal`] kinds, the data used the fields of [`Candidate`] (as serialised), the
//! data not used the fields of [`AuditAttributes`], the roles [`Role::ALL`], and the
//! evaluation is measured now on fixed generated worlds (`matcher evaluate`). What only the
//! municipality can say (legal basis, contact, purpose in its own words) is a marked
//! placeholder. Owns no logic of its own beyond the wording.

use crate::html::Lang;
use crate::html::escape as esc;
use crate::server::audit_log::{ENGINE_VERSION, LogVersions};
use crate::server::auth::Role;
use anyhow::Context;
use matcher_core::effect::world::{self, Variant};
use matcher_core::model::{AuditAttributes, Candidate, MunicipalityCode, ReferenceData};
use matcher_core::policy::{Policy, PolicySet};
use matcher_core::score::{Factor, Removal};
use std::fmt::Write;
use std::path::PathBuf;
use std::sync::Arc;

/// Output format of the card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Markdown.
    Md,
    /// One self-contained HTML page.
    Html,
}

/// Flags of `matcher describe`.
#[derive(clap::Args)]
pub struct DescribeArgs {
    /// Policy file (TOML), repeatable as for `matcher batch`.
    #[arg(long = "policy")]
    pub policies: Vec<PathBuf>,
    /// The municipality (kommunekode) whose policy in force is described; default: the
    /// national default.
    #[arg(long)]
    pub municipality: Option<u16>,
    /// Language of the card.
    #[arg(long, value_enum, default_value = "da")]
    pub lang: Lang,
    /// Markdown or HTML.
    #[arg(long, value_enum, default_value = "md")]
    pub format: Format,
    /// Write to this file instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// The worlds and seeds of the card's evaluation: small, fixed, measured at every run
/// (about 1 s in a release build).
pub const EVALUATION: [(Variant, u64); 4] =
    [(Variant::Base, 11), (Variant::Base, 12), (Variant::Scarce, 11), (Variant::Scarce, 12)];

/// One measured world of the evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationRow {
    /// World family.
    pub world: &'static str,
    /// Seed.
    pub seed: u64,
    /// Shares of the oracle's avoided benefit weeks: with outcomes, without, random, nearest.
    pub shares: [f64; 4],
}

/// Measures the policy on the [`EVALUATION`] worlds.
///
/// # Errors
/// A world that cannot be generated or solved.
pub fn evaluate(policy: &Policy, reference: &Arc<ReferenceData>) -> anyhow::Result<Vec<EvaluationRow>> {
    let policies = Arc::new(PolicySet { national: policy.clone(), municipal: Vec::new() });
    EVALUATION
        .iter()
        .map(|&(variant, seed)| {
            let w = world::generate(variant, seed, reference)?;
            let e = world::evaluate(&w, reference.clone(), policies.clone(), seed)?;
            let s = e.shares();
            Ok(EvaluationRow { world: variant.label(), seed, shares: [s[0], s[1], s[3], s[4]] })
        })
        .collect()
}

/// A block of the card, rendered to Markdown or HTML.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// A section heading (level 2; level 1 is the title).
    Heading(String),
    /// A paragraph.
    Para(String),
    /// A bulleted list.
    List(Vec<String>),
    /// A table: header, rows.
    Table(Vec<String>, Vec<Vec<String>>),
}

/// The card: title and blocks.
#[derive(Debug, Clone, PartialEq)]
pub struct Card {
    /// The title.
    pub title: String,
    /// The body.
    pub blocks: Vec<Block>,
}

/// What the card is generated from.
pub struct Inputs<'a> {
    /// The policies read (`--policy`).
    pub policies: &'a PolicySet,
    /// The municipality described, if any.
    pub municipality: Option<MunicipalityCode>,
    /// Reference data (municipality names, hashes).
    pub reference: &'a ReferenceData,
    /// A candidate as the data set holds one (its serialised fields are listed).
    pub sample: &'a Candidate,
    /// The measured evaluation.
    pub evaluation: &'a [EvaluationRow],
}

/// A placeholder the municipality must fill in, marked so that it cannot be missed.
fn fill(lang: Lang, what: &str) -> String {
    match lang {
        Lang::Da => format!("⟦UDFYLDES AF KOMMUNEN: {what}⟧"),
        Lang::En => format!("⟦TO BE FILLED IN BY THE MUNICIPALITY: {what}⟧"),
    }
}

fn tr(lang: Lang, da: &str, en: &str) -> String {
    match lang {
        Lang::Da => da.to_string(),
        Lang::En => en.to_string(),
    }
}

/// What a factor measures, in plain words.
pub fn factor_text(lang: Lang, factor: Factor) -> String {
    match factor {
        Factor::GroupFit => tr(
            lang,
            "tilbuddet er specialiseret i borgerens målgruppe",
            "the offer specialises in the citizen's target group",
        ),
        Factor::Evidence => tr(
            lang,
            "dokumenteret effekt for borgerens målgruppe: den lave ende af effektens 90 %-interval",
            "documented effect for the citizen's group: the low end of its 90 % interval",
        ),
        Factor::Distance => tr(
            lang,
            "nærmere er bedre; 0 ved grænsen for rejseafstand",
            "nearer is better; 0 at the travel limit",
        ),
        Factor::Occupation => tr(
            lang,
            "borgerens ønskede job mod tilbuddets (DISCO-08/ISCO-08)",
            "the citizen's wished occupations against the offer's (ISCO-08)",
        ),
        Factor::Urgency => tr(
            lang,
            "en lovbestemt frist (8-ugers vurdering, revurdering) er nær",
            "a legal deadline (8-week assessment, re-assessment) is near",
        ),
        Factor::Effect => tr(
            lang,
            "forventet nettoeffekt i kr.: effekt × sparede ydelsesuger × ugesats − pris",
            "expected net effect in DKK: uplift × benefit weeks avoided × weekly rate − price",
        ),
        Factor::Continuity => {
            tr(lang, "tilbuddet er borgerens nuværende", "the offer is the citizen's current one")
        }
        Factor::Preference => {
            tr(lang, "borgeren har ønsket denne slags tilbud", "the citizen asked for this kind of offer")
        }
    }
}

/// A hard limit of the scorer, in plain words.
pub fn removal_text(lang: Lang, removal: &Removal) -> String {
    match removal {
        Removal::Excluded => tr(
            lang,
            "sagsbehandleren har fravalgt tilbuddet for borgeren (også et afslag, i politikkens antal dage)",
            "the caseworker excluded the offer for the citizen (a decline too, for the policy's number of days)",
        ),
        Removal::NoCapacity => tr(lang, "tilbuddet har ingen ledige pladser", "the offer has no free places"),
        Removal::GroupNotServed => tr(
            lang,
            "tilbuddet er for andre målgrupper (eller aldre)",
            "the offer is for other target groups (or ages)",
        ),
        Removal::OutsideServiceArea => {
            tr(lang, "tilbuddet dækker kun andre kommuner", "the offer serves only other municipalities")
        }
        Removal::OutOfReach { .. } => tr(
            lang,
            "længere væk end borgeren kan rejse eller politikken tillader",
            "farther than the citizen travels or the policy allows",
        ),
        Removal::DrivingLicence => tr(
            lang,
            "tilbuddet kræver kørekort, som borgeren ikke har",
            "the offer needs a driving licence the citizen does not hold",
        ),
        Removal::Language => tr(
            lang,
            "borgeren taler ingen af tilbuddets sprog",
            "the citizen speaks none of the offer's languages",
        ),
        Removal::Hours { .. } => tr(
            lang,
            "tilbuddet kræver flere timer om ugen, end borgeren har",
            "the offer needs more hours a week than the citizen has",
        ),
        Removal::Occupation { .. } => tr(
            lang,
            "job og praktik for langt fra ethvert ønsket job",
            "a job or work trial too far from every wished occupation",
        ),
        Removal::OwnNeed => tr(
            lang,
            "borgeren kan ikke matches med sit eget opslag om hjælp",
            "a citizen cannot be matched with their own posted need",
        ),
        Removal::BelowMinimumEffect { .. } => tr(
            lang,
            "forventet nettoeffekt under politikkens minimum",
            "expected net effect below the policy's minimum",
        ),
        Removal::BelowMinimumScore { .. } => {
            tr(lang, "score under politikkens minimum", "score below the policy's minimum")
        }
    }
}

/// Every kind of hard limit, one value each.
pub fn removals() -> Vec<Removal> {
    vec![
        Removal::OutOfReach { distance_km: 0.0, limit_km: 0.0 },
        Removal::Excluded,
        Removal::NoCapacity,
        Removal::GroupNotServed,
        Removal::OutsideServiceArea,
        Removal::DrivingLicence,
        Removal::Language,
        Removal::Hours { needed: 0, available: 0 },
        Removal::Occupation { shared_level: 0, required: 0 },
        Removal::OwnNeed,
        Removal::BelowMinimumEffect { effect_dkk: 0.0, minimum_dkk: 0.0 },
        Removal::BelowMinimumScore { score: 0, minimum: 0 },
    ]
}

/// What a candidate field is used for; `None` for a field not described yet (a test fails).
pub fn field_text(lang: Lang, field: &str) -> Option<String> {
    Some(match field {
        "id" => tr(
            lang,
            "pseudonymt id (CPR-lignende id'er afvises)",
            "pseudonymous id (CPR-like ids are refused)",
        ),
        "municipality" => tr(
            lang,
            "ansvarlig kommune: politik og lokale tilbud",
            "responsible municipality: policy and local offers",
        ),
        "home" => tr(
            lang,
            "bopæl eller postnummerets midtpunkt: afstand",
            "home or the postcode's centre: distance",
        ),
        "age_band" => tr(
            lang,
            "aldersgruppe: kun om borgeren er i en målgruppes alder (aldrig en faktor)",
            "age band: only whether the citizen is of a target group's age (never a factor)",
        ),
        "target_groups" => tr(
            lang,
            "målgrupper: egnethed, målgruppe-match og effekt",
            "target groups: eligibility, group fit and effect",
        ),
        "benefit" => tr(
            lang,
            "ydelse, start, slut og revurdering: ugesats, sparede uger og frister",
            "benefit, start, end and re-assessment: weekly rate, weeks avoided and deadlines",
        ),
        "wished_occupations" => tr(lang, "ønskede job (ISCO-08)", "wished occupations (ISCO-08)"),
        "max_travel_km" => tr(lang, "hvor langt borgeren kan rejse", "how far the citizen can travel"),
        "languages" => tr(
            lang,
            "sprog borgeren taler: tilbuddets sprogkrav",
            "languages the citizen speaks: the offer's language requirement",
        ),
        "driving_licence" => {
            tr(lang, "kørekort: tilbud, der kræver det", "driving licence: offers that need one")
        }
        "hours_available" => tr(lang, "timer om ugen borgeren kan", "hours a week the citizen can"),
        "preferred_kinds" => tr(lang, "ønsket slags tilbud", "preferred kinds of offer"),
        "current" => tr(
            lang,
            "nuværende tilbud (og om forløbet er i gang): kontinuitet",
            "current offer (and whether it is under way): continuity",
        ),
        "excluded_offers" => {
            tr(lang, "tilbud sagsbehandleren har fravalgt", "offers the caseworker excluded")
        }
        _ => return None,
    })
}

/// A struct's field names as serialised (the keys of its JSON object).
pub fn fields_of<T: serde::Serialize>(value: &T) -> Vec<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

/// Builds the card.
pub fn card(inputs: &Inputs, lang: Lang) -> Card {
    let set = inputs.policies;
    let index = inputs.municipality.map_or(0, |m| set.index_for(m));
    let policy = set.get(index);
    let (policy_name, policy_hash) =
        LogVersions::new(inputs.reference, set).policies.get(index).cloned().unwrap_or_default();
    let reference_hash = LogVersions::new(inputs.reference, set).reference_hash;
    let place = match inputs.municipality {
        Some(m) => {
            let name = inputs.reference.municipality(m).map_or(String::new(), |x| x.name.clone());
            format!("{name} ({m})")
        }
        None => tr(lang, "national standard", "national default"),
    };
    let title = match lang {
        Lang::Da => format!("Modelkort: Brobygger, politik «{policy_name}» for {place}"),
        Lang::En => format!("Model card: Brobygger, policy “{policy_name}” for {place}"),
    };
    let mut b = Vec::new();
    b.push(Block::Para(match lang {
        Lang::Da => format!(
            "Dannet af `matcher describe` fra koden og politikken i kraft, så det ikke kan komme ud af trit med dem. Motor: {ENGINE_VERSION}. Politik: {policy_name}, SHA-256 {policy_hash} (samme hash som forslagsloggens `policy_hash`). Referencedata: SHA-256 {reference_hash}."
        ),
        Lang::En => format!(
            "Generated by `matcher describe` from the code and the policy in force, so that it cannot drift from them. Engine: {ENGINE_VERSION}. Policy: {policy_name}, SHA-256 {policy_hash} (the same hash as the suggestion log's `policy_hash`). Reference data: SHA-256 {reference_hash}."
        ),
    }));

    b.push(Block::Heading(tr(lang, "Formål", "Purpose")));
    b.push(Block::Para(tr(
        lang,
        "Brobygger foreslår for hver borger på en offentlig forsørgelsesydelse det tilbud (forløb hos en leverandør, job, praktik eller gensidig hjælp), der forventes at hjælpe mest mod job eller uddannelse, og fordeler de knappe pladser i en natlig kørsel. Den rangerer tilbud efter tilbuddets forventede effekt for borgerens målgruppe, aldrig efter hvor jobparat borgeren er. Den foreslår kun; en sagsbehandler i kommunen træffer afgørelsen.",
        "Brobygger suggests, for each citizen on a public benefit, the offer (a provider's course, a job, a work trial or reciprocal help) expected to help most toward work or education, and shares the scarce places out in a nightly run. It ranks offers by the offer's expected effect for the citizen's target group, never by how employable the citizen already is. It only suggests; a caseworker of the municipality decides.",
    )));
    b.push(Block::Para(fill(
        lang,
        &tr(
            lang,
            "kommunens formål med brugen, med egne ord",
            "the municipality's purpose of use, in its own words",
        ),
    )));

    b.push(Block::Heading(tr(lang, "Brugere", "Users")));
    b.push(Block::List(
        Role::ALL.iter().map(|r| format!("`{}`: {}", r.name(), role_text(lang, *r))).collect(),
    ));

    b.push(Block::Heading(tr(lang, "Retsgrundlag", "Legal basis")));
    b.push(Block::Para(fill(
        lang,
        &tr(
            lang,
            "retsgrundlag for behandlingen (fx databeskyttelsesforordningens art. 6, stk. 1, litra e, og art. 9; lov om en aktiv beskæftigelsesindsats) og kommunens vurdering efter AI-forordningen (bilag III, 5(a))",
            "legal basis of the processing (e.g. GDPR Art. 6(1)(e) and Art. 9; the Danish Act on an active employment effort) and the municipality's assessment under the AI Act (Annex III, 5(a))",
        ),
    )));

    b.push(Block::Heading(tr(lang, "Data, der bruges", "Data used")));
    b.push(Block::Para(tr(
        lang,
        "Om borgeren (felterne i et datasæts kandidat, som koden serialiserer dem):",
        "About the citizen (the fields of a data set's candidate, as the code serialises them):",
    )));
    let fields = fields_of(inputs.sample);
    b.push(Block::List(
        fields
            .iter()
            .filter(|f| f.as_str() != "audit")
            .map(|f| {
                format!(
                    "`{f}`: {}",
                    field_text(lang, f).unwrap_or_else(|| tr(lang, "(ikke beskrevet)", "(not described)"))
                )
            })
            .collect(),
    ));
    b.push(Block::Para(tr(
        lang,
        "Om tilbuddene: sted, pladser, pris, målgrupper, sprog, krav (kørekort, timer, job), kontrakt, og resultater (forløbshistorik og gamle succestal) pr. målgruppe.",
        "About the offers: place, places, price, target groups, languages, requirements (licence, hours, occupation), contract, and results (episode history and old success counts) per target group.",
    )));

    b.push(Block::Heading(tr(lang, "Data, der ikke bruges til at score", "Data not used for scoring")));
    let protected = fields_of(&AuditAttributes::default());
    b.push(Block::Para(match lang {
        Lang::Da => format!(
            "Beskyttede oplysninger ({}) kan stå i datasættet under `audit`, men kopieres aldrig ind i scorerens tabeller og når aldrig en score; de læses kun af rapportens afsnit om ligebehandling og kun af rollen `auditor` i API'et. Alder bruges kun til, om borgeren er i en målgruppes alder. CPR-numre afvises som id og stjernes ud i fritekst.",
            protected.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
        ),
        Lang::En => format!(
            "Protected attributes ({}) may be in the data set under `audit`, but are never copied into the scorer's tables and never reach a score; only the report's fairness section reads them, and only the `auditor` role gets them from the API. Age is used only for whether the citizen is of a target group's age. CPR numbers are refused as ids and starred out in free text.",
            protected.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", ")
        ),
    }));

    b.push(Block::Heading(tr(
        lang,
        "Faktorer og vægte i politikken i kraft",
        "Factors and weights of the policy in force",
    )));
    b.push(Block::Para(tr(
        lang,
        "Hver faktor er et tal fra 0 til 1; et pars score er den vægtede sum i point (vægt × faktor × 1000, afrundet), og hver forklaring summer til scoren.",
        "Every factor is a number from 0 to 1; a pair's score is the weighted sum in points (weight × factor × 1000, rounded), and every explanation adds up to the score.",
    )));
    let total: f64 = Factor::ALL.iter().map(|f| f.weight(policy)).sum();
    b.push(Block::Table(
        vec![
            tr(lang, "faktor", "factor"),
            tr(lang, "vægt", "weight"),
            tr(lang, "andel af vægten", "share of the weight"),
            tr(lang, "hvad den måler", "what it measures"),
        ],
        Factor::ALL
            .iter()
            .map(|f| {
                let w = f.weight(policy);
                vec![
                    format!("`{}`", f.key()),
                    format!("{w}"),
                    format!("{:.1} %", if total > 0.0 { 100.0 * w / total } else { 0.0 }),
                    factor_text(lang, *f),
                ]
            })
            .collect(),
    ));

    b.push(Block::Heading(tr(lang, "Hårde grænser", "Hard limits")));
    b.push(Block::Para(tr(
        lang,
        "Et par, der bryder en grænse, fjernes og forklares med grænsens navn:",
        "A pair that breaks a limit is removed, and its explanation names the limit:",
    )));
    b.push(Block::List(removals().iter().map(|r| removal_text(lang, r)).collect()));
    let l = &policy.limits;
    b.push(Block::Table(
        vec![tr(lang, "politikkens grænse", "policy limit"), tr(lang, "værdi", "value")],
        vec![
            vec!["`limits.max_distance_km`".into(), format!("{} km", l.max_distance_km)],
            vec!["`limits.job_min_shared_level`".into(), l.job_min_shared_level.to_string()],
            vec!["`limits.min_score`".into(), l.min_score.to_string()],
            vec![
                "`limits.min_effect_dkk`".into(),
                l.min_effect_dkk.map_or_else(|| tr(lang, "slået fra", "off"), |v| format!("{v} DKK")),
            ],
            vec![
                tr(
                    lang,
                    "`limits.min_course_effect_dkk` (forløb med en pris)",
                    "`limits.min_course_effect_dkk` (offers with a price)",
                ),
                l.min_course_effect_dkk.map_or_else(|| tr(lang, "slået fra", "off"), |v| format!("{v} DKK")),
            ],
            vec![
                tr(
                    lang,
                    "`limits.min_course_effect_high_dkk` (forløb med en pris, øvre ende af 90 %-intervallet)",
                    "`limits.min_course_effect_high_dkk` (offers with a price, upper end of the 90 % interval)",
                ),
                l.min_course_effect_high_dkk.map_or_else(|| tr(lang, "slået fra", "off"), |v| format!("{v} DKK")),
            ],
            vec!["`top_k`".into(), policy.top_k.to_string()],
            vec!["`effect.horizon_weeks`".into(), policy.effect.horizon_weeks.to_string()],
            vec!["`effect.scale_dkk`".into(), policy.effect.scale_dkk.to_string()],
            vec!["`urgency.horizon_weeks`".into(), policy.urgency.horizon_weeks.to_string()],
            vec!["`stability.least_gain_points`".into(), policy.stability.least_gain_points.to_string()],
            vec!["`decisions.decline_days`".into(), policy.decisions.decline_days.to_string()],
        ],
    ));

    b.push(Block::Heading(tr(lang, "Sådan skønnes effekter", "How effects are estimated")));
    b.push(Block::Para(tr(
        lang,
        "Effekt betyder merværdi over intet tilbud: den ekstra chance for at komme fra ydelse til job eller uddannelse på grund af tilbuddet, sammenlignet med borgere med samme sammensætning (målgruppe, tid på ydelse, aldersgruppe, ydelse) uden tilbud, fra forløbshistorikken. Små tal trækkes mod gruppen (tilbud → leverandør → målgruppe → 0), og hver effekt har et 90 %-interval. Det forudsætter, at borgere med og uden tilbud er sammenlignelige på det registrerede. Se docs/effects.md.",
        "Effect means uplift over no offer: the extra chance of leaving benefit for work or education because of the offer, against citizens of the same case mix (target group, time on benefit, age band, benefit kind) without an offer, from the episode history. Small samples are shrunk toward the group (offer → provider → group → 0), and every effect has a 90 % interval. It assumes that citizens with and without an offer are comparable on what is recorded. See docs/effects.md.",
    )));

    b.push(Block::Heading(tr(lang, "Evaluering", "Evaluation")));
    b.push(Block::Para(tr(
        lang,
        "Målt netop nu med politikken i kraft på faste, genererede verdener med en kendt sandhed (`matcher evaluate`, docs/effects.md): andelen af de ydelsesuger, et orakel der kender de sande effekter ville spare, som motoren når med og uden forløbshistorik, mod et tilfældigt og det nærmeste egnede tilbud. Verdenerne er syntetiske; tallene siger, om metoden virker, ikke hvordan den virker i kommunen.",
        "Measured just now with the policy in force on fixed generated worlds with a known truth (`matcher evaluate`, docs/effects.md): the share of the benefit weeks an oracle knowing the true effects would avoid that the engine reaches with and without the episode history, against a random and the nearest eligible offer. The worlds are synthetic; the figures say whether the method works, not how it works in the municipality.",
    )));
    b.push(Block::Table(
        vec![
            tr(lang, "verden", "world"),
            "seed".into(),
            tr(lang, "med historik", "with history"),
            tr(lang, "uden", "without"),
            tr(lang, "tilfældigt", "random"),
            tr(lang, "nærmeste", "nearest"),
        ],
        inputs
            .evaluation
            .iter()
            .map(|r| {
                let mut row = vec![r.world.to_string(), r.seed.to_string()];
                row.extend(r.shares.iter().map(|s| percent(*s, lang)));
                row
            })
            .collect(),
    ));

    b.push(Block::Heading(tr(lang, "Ligebehandling", "Fairness")));
    b.push(Block::Para(tr(
        lang,
        "Hver natlig kørsel viser andel med forslag og gennemsnitlig effekt efter køn, oprindelse, aldersgruppe og region med 95 %-intervaller og advarsel ved små grupper, og fordeler hver forskel på årsager (motorens valg, intet inden for rækkevidde, fulde pladser, sprog, fravalg, målgruppe m.m.): report.html og fairness.csv, se docs/accountability.md.",
        "Every nightly run shows the share with a suggestion and the mean effect by gender, origin, age band and region with 95 % intervals and a warning for small groups, and splits each gap by cause (the engine's choice, nothing in reach, full places, language, exclusion, eligibility): report.html and fairness.csv, see docs/accountability.md.",
    )));

    b.push(Block::Heading(tr(lang, "Kendte begrænsninger", "Known limits")));
    b.push(Block::List(vec![
        tr(lang, "Effekterne er kun så gode som sammenligningen: det, der ikke er registreret (motivation, helbred, sagsbehandlerens vurdering), er ikke korrigeret for.", "Effects are only as good as the comparison: what is not recorded (motivation, health, the caseworker's judgement) is not adjusted for."),
        tr(lang, "Effekten i kr. vægter ydelsens ugesats: ved knappe pladser får borgere på højere ydelser (fx sygedagpenge) forrang; rapporten viser, hvor meget af en forskel der er motorens valg.", "The effect in DKK weighs the benefit's weekly rate: when places are scarce, citizens on higher benefits (e.g. sickness benefit) come first; the report shows how much of a gap is the engine's choice."),
        tr(lang, "Sprogkrav, kørekort og afstand er ikke beskyttede oplysninger, men kan ramme grupper skævt (indirekte forskelsbehandling); årsagstabellen viser det.", "Language requirements, driving licence and distance are not protected attributes but can fall unevenly on groups (indirect discrimination); the table of causes shows it."),
        tr(lang, "Evalueringen er på syntetiske data; der er endnu ingen måling på kommunens egne udfald.", "The evaluation is on synthetic data; there is no measurement on the municipality's own outcomes yet."),
        tr(lang, "Tilbud uden historik får effekten 0 og et bredt interval; de får færre point, indtil der er resultater.", "Offers without a history get an uplift of 0 and a wide interval; they earn fewer points until results come in."),
    ]));

    b.push(Block::Heading(tr(lang, "Menneskelig kontrol", "Human oversight")));
    b.push(Block::List(vec![
        tr(lang, "Motoren foreslår; kun en sagsbehandler eller administrator i kommunen kan acceptere eller afslå, med begrundelse. En leverandørs bruger kan aldrig træffe afgørelse.", "The engine suggests; only a caseworker or administrator of the municipality can accept or decline, with a reason. A provider's user can never decide."),
        tr(lang, "Hver afgørelse gemmes med hvem, for hvilken arbejdsgiver, hvornår og hvorfor, og kan ikke ændres bagefter (kun trækkes tilbage med begrundelse).", "Every decision is stored with who, for which employer, when and why, and cannot be changed afterwards (only withdrawn with a reason)."),
        tr(lang, "Hvert forslag viser sine faktorer, afstand, pladser, pris, forventet effekt og næstbedste tilbud, så sagsbehandleren kan efterprøve det.", "Every suggestion shows its factors, distance, places, price, expected effect and the runner-up, so that the caseworker can check it."),
        match lang {
            Lang::Da => format!("Et afslået tilbud foreslås ikke igen i {} dage.", policy.decisions.decline_days),
            Lang::En => format!("A declined offer is not suggested again for {} days.", policy.decisions.decline_days),
        },
    ]));

    b.push(Block::Heading(tr(lang, "Logning", "Logging")));
    b.push(Block::List(vec![
        tr(lang, "Forslagsloggen: hvert forslag, der vises, og hver natlig kørsels forslag, som det blev vist, med hvem der spurgte, hvornår og versionerne af motor, politik, referencedata og tilbud (kun tilføjelser).", "The suggestion log: every suggestion shown and every nightly proposal, exactly as shown, with who asked, when, and the versions of engine, policy, reference data and offers (append-only)."),
        tr(lang, "Adgangsloggen: hvem der læste eller ændrede hvilken borger, til kommunens revisor.", "The access log: who read or changed which citizen, for the municipality's auditor."),
        tr(lang, "Borgerens indsigt (samlet udtræk) og sletning, der siger, hvad der blev slettet, og hvad der blev beholdt og hvorfor. Se docs/accountability.md.", "The citizen's access (one export) and erasure, which says what was erased and what was kept and why. See docs/accountability.md."),
    ]));

    b.push(Block::Heading(tr(lang, "Kontakt", "Contact")));
    b.push(Block::Para(fill(
        lang,
        &tr(
            lang,
            "ansvarlig enhed, kontaktperson og databeskyttelsesrådgiver",
            "responsible unit, contact person and data protection officer",
        ),
    )));
    Card { title, blocks: b }
}

fn role_text(lang: Lang, role: Role) -> String {
    match role {
        Role::System => tr(
            lang,
            "kommunens fagsystem: læser og skriver data, træffer aldrig afgørelse",
            "the municipality's case system: reads and writes data, never decides",
        ),
        Role::Caseworker => tr(
            lang,
            "sagsbehandler i kommunen: ser forslag og træffer afgørelsen",
            "a caseworker of the municipality: sees suggestions and decides",
        ),
        Role::Provider => tr(
            lang,
            "leverandørens bruger: ser tilbud og kvalitet, aldrig borgere, træffer aldrig afgørelse",
            "a provider's user: sees offers and quality, never citizens, never decides",
        ),
        Role::Admin => tr(lang, "kommunens administrator", "the municipality's administrator"),
        Role::Auditor => tr(
            lang,
            "revisor eller databeskyttelsesrådgiver: læser beskyttede oplysninger og logge, ændrer intet",
            "auditor or data protection officer: reads protected attributes and the logs, changes nothing",
        ),
    }
}

fn percent(share: f64, lang: Lang) -> String {
    let text = format!("{:.1} %", 100.0 * share);
    if lang == Lang::Da { text.replace('.', ",") } else { text }
}

/// The card as Markdown.
pub fn markdown(card: &Card) -> String {
    let mut out = format!("# {}\n", card.title);
    for block in &card.blocks {
        out.push('\n');
        match block {
            Block::Heading(text) => {
                let _ = writeln!(out, "## {text}");
            }
            Block::Para(text) => {
                let _ = writeln!(out, "{text}");
            }
            Block::List(items) => {
                for item in items {
                    let _ = writeln!(out, "- {item}");
                }
            }
            Block::Table(head, rows) => {
                let cell = |s: &str| s.replace('|', "\\|");
                let _ = writeln!(out, "| {} |", head.iter().map(|h| cell(h)).collect::<Vec<_>>().join(" | "));
                let _ = writeln!(out, "|{}", " --- |".repeat(head.len()));
                for row in rows {
                    let _ =
                        writeln!(out, "| {} |", row.iter().map(|c| cell(c)).collect::<Vec<_>>().join(" | "));
                }
            }
        }
    }
    out
}

/// Escaped text with `code` spans.
fn inline(text: &str) -> String {
    esc(text)
        .split('`')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { format!("<code>{part}</code>") } else { part.to_string() })
        .collect()
}

/// The card as one self-contained HTML page.
pub fn html(card: &Card, lang: Lang) -> String {
    let code = if lang == Lang::Da { "da" } else { "en" };
    let mut out = format!(
        "<!doctype html><html lang=\"{code}\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:auto;padding:1rem;line-height:1.45}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}}code{{background:#f3f3f3;padding:0 3px}}</style></head><body><main><h1>{}</h1>",
        esc(&card.title),
        esc(&card.title)
    );
    for block in &card.blocks {
        match block {
            Block::Heading(text) => {
                let _ = write!(out, "<h2>{}</h2>", inline(text));
            }
            Block::Para(text) => {
                let _ = write!(out, "<p>{}</p>", inline(text));
            }
            Block::List(items) => {
                out.push_str("<ul>");
                for item in items {
                    let _ = write!(out, "<li>{}</li>", inline(item));
                }
                out.push_str("</ul>");
            }
            Block::Table(head, rows) => {
                out.push_str("<div style=\"overflow-x:auto\"><table><thead><tr>");
                for h in head {
                    let _ = write!(out, "<th scope=\"col\">{}</th>", inline(h));
                }
                out.push_str("</tr></thead><tbody>");
                for row in rows {
                    out.push_str("<tr>");
                    for c in row {
                        let _ = write!(out, "<td>{}</td>", inline(c));
                    }
                    out.push_str("</tr>");
                }
                out.push_str("</tbody></table></div>");
            }
        }
    }
    out.push_str("</main></body></html>\n");
    out
}

/// Runs `matcher describe`.
///
/// # Errors
/// An unreadable policy, an unknown municipality, a world that cannot be evaluated, or an
/// output file that cannot be written.
pub fn run(args: &DescribeArgs, reference: ReferenceData) -> anyhow::Result<()> {
    let policies = super::flags::read_policies_for(&args.policies, &reference)?;
    let municipality = args.municipality.map(MunicipalityCode);
    if let Some(m) = municipality
        && reference.municipality(m).is_none()
    {
        anyhow::bail!("--municipality {}: no municipality has this code", m);
    }
    let reference = Arc::new(reference);
    let policy = policies.get(municipality.map_or(0, |m| policies.index_for(m)));
    let evaluation = evaluate(policy, &reference).context("measuring the evaluation worlds")?;
    let sample = world::generate(Variant::Base, 11, &reference)?;
    let sample = sample.data.candidates.first().context("the evaluation world has no candidate")?;
    let card = card(
        &Inputs { policies: &policies, municipality, reference: &reference, sample, evaluation: &evaluation },
        args.lang,
    );
    let text = match args.format {
        Format::Md => markdown(&card),
        Format::Html => html(&card, args.lang),
    };
    match &args.out {
        Some(path) => std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?,
        None => {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            if let Err(e) = stdout.write_all(text.as_bytes())
                && e.kind() != std::io::ErrorKind::BrokenPipe
            {
                return Err(e).context("writing to stdout");
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
