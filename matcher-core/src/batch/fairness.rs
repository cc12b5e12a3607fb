//! Fairness with uncertainty: match rates and mean expected effects by gender, origin, age
//! band and region, each with a 95 % interval, the gap of each group to the rest with its
//! interval, a small-sample warning, and the gap in the share left without a suggestion split
//! by its cause (the engine's choice, or the supply: nothing in reach, full places, language,
//! eligibility).
//!
//! Owns the interval formulas (Wilson, Newcombe, normal) and the per-candidate cause of an
//! empty suggestion ([`cause_of`]). Protected attributes (`AuditAttributes`) are read here,
//! after the night is solved, and nowhere in scoring: [`cause_of`] looks only at the
//! scorer's view of a candidate, which does not hold them.
//!
//! Must not: feed anything back into scores or the assignment; read files.

use super::{BatchResult, Change};
use crate::graph::Index;
use crate::model::{AgeBand, Candidate, Dataset, Gender, Origin, ReferenceData};
use crate::score::{CandidateView, LimitsBroken, Scorer};
use serde::{Deserialize, Serialize};

/// The standard normal quantile of a two-sided 95 % interval, Φ⁻¹(0.975).
pub const Z95: f64 = 1.959_963_984_540_054;

/// A group smaller than this gets [`SampleWarning::FewCandidates`] (and a mean effect over fewer
/// suggestions [`SampleWarning::FewSuggestions`]).
pub const SMALL_SAMPLE: usize = 30;

/// A match-rate interval wider than this (a share, 0.20 = 20 percentage points) gets
/// [`SampleWarning::WideInterval`].
pub const WIDE_INTERVAL: f64 = 0.20;

/// A two-sided 95 % interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower end.
    pub low: f64,
    /// Upper end.
    pub high: f64,
}

impl Interval {
    /// `high - low`.
    pub fn width(self) -> f64 {
        self.high - self.low
    }
}

/// Wilson's score interval for a proportion `successes / n` (Wilson 1927; Newcombe 1998,
/// method 3). `None` for `n = 0`.
pub fn wilson(successes: usize, n: usize) -> Option<Interval> {
    if n == 0 || successes > n {
        return None;
    }
    let (x, n) = (successes as f64, n as f64);
    let p = x / n;
    let z2 = Z95 * Z95;
    let denominator = 1.0 + z2 / n;
    let centre = (p + z2 / (2.0 * n)) / denominator;
    let half = Z95 * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / denominator;
    Some(Interval { low: (centre - half).max(0.0), high: (centre + half).min(1.0) })
}

/// Newcombe's hybrid score interval for the difference of two independent proportions
/// `x1/n1 − x2/n2` (Newcombe 1998, "Interval estimation for the difference between
/// independent proportions", Statistics in Medicine 17:873–890, method 10), built from the
/// two Wilson intervals. `None` when either sample is empty.
pub fn newcombe(x1: usize, n1: usize, x2: usize, n2: usize) -> Option<Interval> {
    let (a, b) = (wilson(x1, n1)?, wilson(x2, n2)?);
    let (p1, p2) = (x1 as f64 / n1 as f64, x2 as f64 / n2 as f64);
    let d = p1 - p2;
    let low = d - ((p1 - a.low).powi(2) + (b.high - p2).powi(2)).sqrt();
    let high = d + ((a.high - p1).powi(2) + (p2 - b.low).powi(2)).sqrt();
    Some(Interval { low, high })
}

/// Count, mean and sample variance of a list of values (summed in the given order, so the
/// bytes do not depend on threads).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Moments {
    /// Values.
    pub n: usize,
    /// Their mean (0 when empty).
    pub mean: f64,
    /// Sample variance (divisor n − 1; 0 when n < 2).
    pub variance: f64,
}

impl Moments {
    /// The moments of `values`, by the two-pass formula (no cancellation of large sums).
    pub fn of(values: &[f64]) -> Moments {
        let n = values.len();
        let mean = Moments::mean_of(n, values.iter().sum());
        Moments::from_squares(n, mean, values.iter().map(|v| (v - mean).powi(2)).sum())
    }

    /// The first pass: the mean of `n` values that sum to `sum` (0 when there are none).
    fn mean_of(n: usize, sum: f64) -> f64 {
        if n == 0 { 0.0 } else { sum / n as f64 }
    }

    /// The second pass: `squares` is the sum of the values' squared deviations from `mean`.
    /// A caller that streams the values (the fairness groups, both sides in one walk) takes
    /// the same two steps as [`Moments::of`], so its figures are the same to the bit.
    fn from_squares(n: usize, mean: f64, squares: f64) -> Moments {
        Moments { n, mean, variance: if n < 2 { 0.0 } else { squares / (n - 1) as f64 } }
    }

    /// The normal 95 % interval of the mean, `mean ± z·s/√n`; `None` below two values.
    pub fn mean_interval(self) -> Option<Interval> {
        if self.n < 2 {
            return None;
        }
        let half = Z95 * (self.variance / self.n as f64).sqrt();
        Some(Interval { low: self.mean - half, high: self.mean + half })
    }

    /// The normal 95 % interval of `self.mean − other.mean` with unequal variances,
    /// `d ± z·√(s₁²/n₁ + s₂²/n₂)`; `None` when either side has fewer than two values.
    pub fn difference_interval(self, other: Moments) -> Option<Interval> {
        if self.n < 2 || other.n < 2 {
            return None;
        }
        let d = self.mean - other.mean;
        let half = Z95 * (self.variance / self.n as f64 + other.variance / other.n as f64).sqrt();
        Some(Interval { low: d - half, high: d + half })
    }
}

/// Why a candidate got no suggestion, in the terms of whether the engine or the supply made
/// it so. The first that applies, in this order (see [`cause_of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnmatchedCause {
    /// No offer of any kind within the candidate's travel limit (distance).
    NothingInReach,
    /// An offer in reach passes every hard limit and has places: they went to others (the
    /// engine's choice).
    EngineChoice,
    /// Offers in reach pass every limit but the policy's minimum score or effect.
    PolicyMinimum,
    /// An offer in reach would pass every limit, but has no free place (capacity).
    FullPlaces,
    /// An offer in reach fails only on its language requirement (or language and full places).
    Language,
    /// An offer in reach is out only because a caseworker excluded or declined it (possibly
    /// also full or in another language).
    Excluded,
    /// Every offer in reach is for other target groups or ages, another municipality, or
    /// needs a licence, more hours or another occupation (eligibility).
    Eligibility,
}

impl UnmatchedCause {
    /// Every cause, in the order of the ladder.
    pub const ALL: [UnmatchedCause; 7] = [
        UnmatchedCause::NothingInReach,
        UnmatchedCause::EngineChoice,
        UnmatchedCause::PolicyMinimum,
        UnmatchedCause::FullPlaces,
        UnmatchedCause::Language,
        UnmatchedCause::Excluded,
        UnmatchedCause::Eligibility,
    ];

    /// The cause's key, as in `fairness.csv` and `report.json`.
    pub fn key(self) -> &'static str {
        match self {
            UnmatchedCause::NothingInReach => "nothing_in_reach",
            UnmatchedCause::EngineChoice => "engine_choice",
            UnmatchedCause::PolicyMinimum => "policy_minimum",
            UnmatchedCause::FullPlaces => "full_places",
            UnmatchedCause::Language => "language",
            UnmatchedCause::Excluded => "excluded",
            UnmatchedCause::Eligibility => "eligibility",
        }
    }
}

/// Why an unmatched candidate got nothing: walks every offer within the travel circle (of
/// any target group), checks each hard limit on its own ([`Scorer::limits_broken`]) and
/// takes the first cause of the ladder of [`UnmatchedCause::ALL`] that some offer shows.
///
/// An unmatched candidate with an edge in the candidate graph is
/// [`UnmatchedCause::EngineChoice`] without a walk (an edge passes every limit and has
/// places); the batch calls this only for those without one.
///
/// # Complexity
/// One pass over the offers in reach, `O(in reach)`, stopping the checks once a feasible
/// offer is seen.
pub(crate) fn cause_of(scorer: &Scorer, index: &Index, view: &CandidateView) -> UnmatchedCause {
    const L: u8 = LimitsBroken::LANGUAGE;
    const FULL: u8 = LimitsBroken::NO_CAPACITY;
    const EX: u8 = LimitsBroken::EXCLUDED;
    let mut seen = [false; 7];
    let mut in_reach = false;
    index.for_each_near_any_key(view, |k| {
        if seen[1] {
            return;
        }
        let b = scorer.limits_broken(view, k);
        if b.0 & LimitsBroken::OUT_OF_REACH != 0 {
            return;
        }
        in_reach = true;
        seen[1] |= b.none();
        seen[2] |= b.only(LimitsBroken::BELOW_MINIMUM);
        seen[3] |= b.only(FULL);
        seen[4] |= b.only(L | FULL) && b.0 & L != 0;
        seen[5] |= b.only(EX | L | FULL) && b.0 & EX != 0;
    });
    if !in_reach {
        return UnmatchedCause::NothingInReach;
    }
    (1..6).find(|&i| seen[i]).map_or(UnmatchedCause::Eligibility, |i| UnmatchedCause::ALL[i])
}

/// Why a group's figures need care.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SampleWarning {
    /// Fewer than [`SMALL_SAMPLE`] candidates.
    FewCandidates,
    /// The match rate's interval is wider than [`WIDE_INTERVAL`].
    WideInterval,
    /// The mean effect rests on fewer than [`SMALL_SAMPLE`] suggestions.
    FewSuggestions,
}

impl SampleWarning {
    /// The warning's key, as in `fairness.csv`.
    pub fn key(self) -> &'static str {
        match self {
            SampleWarning::FewCandidates => "fewer_than_30_candidates",
            SampleWarning::WideInterval => "interval_wider_than_20_points",
            SampleWarning::FewSuggestions => "effect_on_fewer_than_30_suggestions",
        }
    }
}

/// One cause's part of a group's gap in the share left without a suggestion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CauseGap {
    /// The cause.
    pub cause: UnmatchedCause,
    /// Share of the group's candidates left unmatched for this cause.
    pub group_share: f64,
    /// Share of the rest's candidates left unmatched for this cause (none without a rest).
    pub rest_share: Option<f64>,
    /// `group_share − rest_share`: this cause's part of the gap. The parts add up to
    /// [`GroupFairness::unmatched_gap`].
    pub gap: Option<f64>,
}

/// One group of one dimension against the rest of the candidates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupFairness {
    /// Key of the group (`female`, `non_western`, an age-band index, a region code).
    pub key: String,
    /// Readable name (English; the report translates the keys it knows).
    pub name: String,
    /// Candidates in the group.
    pub candidates: usize,
    /// Of those, with a suggestion (running courses included).
    pub matched: usize,
    /// `matched / candidates`.
    pub match_rate: f64,
    /// Wilson 95 % interval of the match rate.
    pub match_rate_interval: Option<Interval>,
    /// Candidates not in the group (same dimension).
    pub rest_candidates: usize,
    /// Their match rate (none when every candidate is in the group).
    pub rest_match_rate: Option<f64>,
    /// `match_rate − rest_match_rate`.
    pub match_gap: Option<f64>,
    /// Newcombe 95 % interval of the gap.
    pub match_gap_interval: Option<Interval>,
    /// Tonight's new suggestions in the group (running courses left out: their effect is
    /// sunk), the sample of the mean effect.
    pub suggestions: usize,
    /// Mean expected net effect per new suggestion, DKK.
    pub mean_effect_dkk: Option<f64>,
    /// Its normal 95 % interval.
    pub mean_effect_interval: Option<Interval>,
    /// The rest's mean expected effect per new suggestion, DKK.
    pub rest_mean_effect_dkk: Option<f64>,
    /// `mean_effect_dkk − rest_mean_effect_dkk`.
    pub effect_gap_dkk: Option<f64>,
    /// Its normal (unequal variances) 95 % interval.
    pub effect_gap_interval: Option<Interval>,
    /// Why the figures need care; empty when they need none.
    pub warnings: Vec<SampleWarning>,
    /// Share unmatched in the group minus share unmatched in the rest (= `−match_gap`).
    pub unmatched_gap: Option<f64>,
    /// That gap by cause, in [`UnmatchedCause::ALL`] order; the parts add up to it.
    pub causes: Vec<CauseGap>,
}

/// One dimension (gender, origin, age band, region) with its groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FairnessDimension {
    /// `gender`, `origin`, `age_band` or `region`.
    pub key: String,
    /// Its groups, in key order.
    pub groups: Vec<GroupFairness>,
}

/// The fairness section of the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fairness {
    /// Confidence of every interval (0.95).
    pub confidence: f64,
    /// Candidates below which a group is flagged ([`SMALL_SAMPLE`]).
    pub small_sample: usize,
    /// Interval width above which a match rate is flagged ([`WIDE_INTERVAL`]).
    pub wide_interval: f64,
    /// Gender, origin, age band, region.
    pub dimensions: Vec<FairnessDimension>,
}

/// The dimensions, in report order.
pub const DIMENSIONS: [&str; 4] = ["gender", "origin", "age_band", "region"];

/// The groups of one dimension: each candidate's group as an index into `labels`, the
/// groups' (key, name), interned so that every distinct pair has one index.
struct Labels {
    /// (key, name) of each label index.
    labels: Vec<(String, String)>,
    /// Each candidate's label index.
    of: Vec<u32>,
}

impl Labels {
    /// Candidate `i` is of class `class_of(i)`, a small number below `classes` (a gender, an
    /// age band, a municipality code); `label(class)` names a class's group, once per class
    /// seen, and equal names share one label index.
    fn new(
        n: usize,
        classes: usize,
        class_of: impl Fn(usize) -> usize,
        mut label: impl FnMut(usize) -> (String, String),
    ) -> Labels {
        const UNSEEN: u32 = u32::MAX;
        let mut of_class = vec![UNSEEN; classes];
        let mut labels: Vec<(String, String)> = Vec::new();
        let of = (0..n)
            .map(|i| {
                let class = class_of(i);
                if of_class[class] == UNSEEN {
                    let pair = label(class);
                    of_class[class] = match labels.iter().position(|l| *l == pair) {
                        Some(at) => at as u32,
                        None => {
                            labels.push(pair);
                            (labels.len() - 1) as u32
                        }
                    };
                }
                of_class[class]
            })
            .collect();
        Labels { labels, of }
    }
}

/// The recorded genders and origins as the report and this section name them, the
/// candidates without one last.
pub(super) const GENDERS: [&str; 4] = ["female", "male", "other", "not_recorded"];
pub(super) const ORIGINS: [&str; 4] = ["danish", "western", "non_western", "not_recorded"];

/// A candidate's gender as an index into [`GENDERS`].
pub(super) fn gender_class(c: &Candidate) -> usize {
    match c.audit.gender {
        Some(Gender::Female) => 0,
        Some(Gender::Male) => 1,
        Some(Gender::Other) => 2,
        None => 3,
    }
}

/// A candidate's origin as an index into [`ORIGINS`].
pub(super) fn origin_class(c: &Candidate) -> usize {
    match c.audit.origin {
        Some(Origin::Danish) => 0,
        Some(Origin::Western) => 1,
        Some(Origin::NonWestern) => 2,
        None => 3,
    }
}

/// A candidate's age band as an index into [`AgeBand::ALL`].
pub(super) fn band_class(c: &Candidate) -> usize {
    AgeBand::ALL.iter().position(|b| *b == c.age_band).unwrap_or(0)
}

/// Each candidate's group in each of [`DIMENSIONS`]: gender, origin, age band, region. A
/// group's name is made once per gender, origin, band and municipality, not per candidate.
fn labels_of(data: &Dataset, reference: &ReferenceData) -> [Labels; 4] {
    let n = data.candidates.len();
    let c = |i: usize| &data.candidates[i];
    let gender =
        Labels::new(n, GENDERS.len(), |i| gender_class(c(i)), |k| (GENDERS[k].into(), GENDERS[k].into()));
    let origin =
        Labels::new(n, ORIGINS.len(), |i| origin_class(c(i)), |k| (ORIGINS[k].into(), ORIGINS[k].into()));
    let band = Labels::new(
        n,
        AgeBand::ALL.len(),
        |i| band_class(c(i)),
        |k| (k.to_string(), AgeBand::ALL[k].label().into()),
    );
    let region = Labels::new(
        n,
        usize::from(u16::MAX) + 1,
        |i| usize::from(c(i).municipality.0),
        |code| {
            let m = reference.municipality(crate::model::MunicipalityCode(code as u16));
            (
                m.map_or(String::new(), |m| m.region_code.to_string()),
                m.map_or(String::new(), |m| m.region.clone()),
            )
        },
    );
    [gender, origin, band, region]
}

/// What the section needs of one candidate.
struct Row {
    matched: bool,
    /// Expected effect of a new suggestion (none for running courses and the unmatched).
    effect: Option<f64>,
    cause: Option<UnmatchedCause>,
}

/// The fairness section of a run.
///
/// # Complexity
/// `O(candidates × groups)` over small integer labels (each candidate's group is interned
/// once per dimension); the groups are computed in parallel, each summing its effects in
/// candidate order, so the figures do not depend on the number of threads.
pub fn build(data: &Dataset, reference: &ReferenceData, result: &BatchResult) -> Fairness {
    let rows: Vec<Row> = result
        .proposals
        .iter()
        .map(|p| Row {
            matched: p.offer.is_some(),
            effect: p.offer.filter(|_| p.change != Change::Locked).map(|_| p.effect_dkk),
            cause: p.unmatched_cause,
        })
        .collect();
    let labels = labels_of(data, reference);
    let dimensions = DIMENSIONS
        .iter()
        .zip(&labels)
        .map(|(key, labels)| FairnessDimension { key: (*key).into(), groups: dimension(&rows, labels) })
        .collect();
    Fairness { confidence: 0.95, small_sample: SMALL_SAMPLE, wide_interval: WIDE_INTERVAL, dimensions }
}

/// The groups of one dimension, in (key, name) order; a group takes every candidate whose
/// group has its key.
fn dimension(rows: &[Row], labels: &Labels) -> Vec<GroupFairness> {
    use rayon::prelude::*;
    let mut present = vec![false; labels.labels.len()];
    for &l in &labels.of {
        present[l as usize] = true;
    }
    let mut groups: Vec<&(String, String)> =
        labels.labels.iter().zip(&present).filter(|(_, p)| **p).map(|(l, _)| l).collect();
    groups.sort();
    // Each candidate's key, as the index of the first label with that key.
    let key_of: Vec<u32> = labels
        .labels
        .iter()
        .map(|(k, _)| labels.labels.iter().position(|(other, _)| other == k).unwrap_or(0) as u32)
        .collect();
    let keys: Vec<u32> = labels.of.iter().map(|&l| key_of[l as usize]).collect();
    groups
        .par_iter()
        .map(|(key, name)| {
            let k = labels.labels.iter().position(|(other, _)| other == key).unwrap_or(0) as u32;
            group(rows, &keys, k, key, name)
        })
        .collect()
}

/// Counts of one side (the group or the rest).
struct Side {
    candidates: usize,
    matched: usize,
    causes: [usize; 7],
    /// New suggestions (the effects' count) and their effects summed in candidate order,
    /// from `-0.0` as `Iterator::sum` starts (`Moments::of` sums them so: same bits).
    effects: usize,
    sum: f64,
}

impl Default for Side {
    fn default() -> Side {
        Side { candidates: 0, matched: 0, causes: [0; 7], effects: 0, sum: -0.0 }
    }
}

fn group(rows: &[Row], keys: &[u32], k: u32, key: &str, name: &str) -> GroupFairness {
    let (mut inside, mut rest) = (Side::default(), Side::default());
    for (row, &label) in rows.iter().zip(keys) {
        let side = if label == k { &mut inside } else { &mut rest };
        side.candidates += 1;
        side.matched += usize::from(row.matched);
        if let Some(effect) = row.effect {
            side.effects += 1;
            side.sum += effect;
        }
        if let Some(cause) = row.cause {
            side.causes[UnmatchedCause::ALL.iter().position(|c| *c == cause).unwrap_or(6)] += 1;
        }
    }
    // Shares of a side; none for an empty side (a group holding every candidate has no rest).
    let rate = |s: &Side| (s.candidates > 0).then(|| s.matched as f64 / s.candidates as f64);
    let share = |s: &Side, k: usize| (s.candidates > 0).then(|| s.causes[k] as f64 / s.candidates as f64);
    // The second pass of `Moments::of` for both sides at once: the squared deviations, each
    // side's summed in candidate order as `Moments::of` sums its list.
    let (mean_in, mean_rest) =
        (Moments::mean_of(inside.effects, inside.sum), Moments::mean_of(rest.effects, rest.sum));
    let (mut square_in, mut square_rest) = (-0.0f64, -0.0f64);
    for (row, &label) in rows.iter().zip(keys) {
        if let Some(effect) = row.effect {
            if label == k {
                square_in += (effect - mean_in).powi(2);
            } else {
                square_rest += (effect - mean_rest).powi(2);
            }
        }
    }
    let (m_in, m_rest) = (
        Moments::from_squares(inside.effects, mean_in, square_in),
        Moments::from_squares(rest.effects, mean_rest, square_rest),
    );
    let match_rate_interval = wilson(inside.matched, inside.candidates);
    let mut warnings = Vec::new();
    if inside.candidates < SMALL_SAMPLE {
        warnings.push(SampleWarning::FewCandidates);
    }
    if match_rate_interval.is_some_and(|i| i.width() > WIDE_INTERVAL) {
        warnings.push(SampleWarning::WideInterval);
    }
    if m_in.n < SMALL_SAMPLE {
        warnings.push(SampleWarning::FewSuggestions);
    }
    let causes: Vec<CauseGap> = UnmatchedCause::ALL
        .iter()
        .enumerate()
        .map(|(k, &cause)| {
            let (group_share, rest_share) = (share(&inside, k).unwrap_or(0.0), share(&rest, k));
            CauseGap { cause, group_share, rest_share, gap: rest_share.map(|r| group_share - r) }
        })
        .collect();
    let mean = |m: Moments| (m.n > 0).then_some(m.mean);
    GroupFairness {
        key: key.into(),
        name: name.into(),
        candidates: inside.candidates,
        matched: inside.matched,
        match_rate: rate(&inside).unwrap_or(0.0),
        match_rate_interval,
        rest_candidates: rest.candidates,
        rest_match_rate: rate(&rest),
        match_gap: rate(&inside).zip(rate(&rest)).map(|(a, b)| a - b),
        match_gap_interval: newcombe(inside.matched, inside.candidates, rest.matched, rest.candidates),
        suggestions: m_in.n,
        mean_effect_dkk: mean(m_in),
        mean_effect_interval: m_in.mean_interval(),
        rest_mean_effect_dkk: mean(m_rest),
        effect_gap_dkk: (m_in.n > 0 && m_rest.n > 0).then_some(m_in.mean - m_rest.mean),
        effect_gap_interval: m_in.difference_interval(m_rest),
        warnings,
        unmatched_gap: rate(&inside).zip(rate(&rest)).map(|(a, b)| (1.0 - a) - (1.0 - b)),
        causes,
    }
}

/// The table of `fairness.csv` (header, rows): one row per dimension and group, with the
/// intervals, the warnings and the gap in the share unmatched by cause (`gap_<cause>`, adding
/// up to `unmatched_gap`). Shares and gaps are fractions (0.1 = 10 %), effects DKK. The binary
/// writes it.
pub fn table(fairness: &Fairness) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header: Vec<String> = [
        "dimension",
        "group",
        "name",
        "candidates",
        "matched",
        "match_rate",
        "match_rate_low",
        "match_rate_high",
        "rest_candidates",
        "rest_match_rate",
        "match_gap",
        "match_gap_low",
        "match_gap_high",
        "suggestions",
        "mean_effect_dkk",
        "mean_effect_low",
        "mean_effect_high",
        "rest_mean_effect_dkk",
        "effect_gap_dkk",
        "effect_gap_low",
        "effect_gap_high",
        "warnings",
        "unmatched_gap",
    ]
    .iter()
    .map(|h| (*h).to_string())
    .collect();
    header.extend(UnmatchedCause::ALL.iter().map(|c| format!("gap_{}", c.key())));
    let share = |v: f64| format!("{v:.6}");
    let maybe = |v: Option<f64>| v.map_or(String::new(), share);
    let money = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.2}"));
    let ends = |i: Option<Interval>, f: &dyn Fn(f64) -> String| {
        i.map_or([String::new(), String::new()], |i| [f(i.low), f(i.high)])
    };
    let kr = |v: f64| format!("{v:.2}");
    let mut rows = Vec::new();
    for d in &fairness.dimensions {
        for g in &d.groups {
            let mut row = vec![
                d.key.clone(),
                g.key.clone(),
                g.name.clone(),
                g.candidates.to_string(),
                g.matched.to_string(),
                share(g.match_rate),
            ];
            row.extend(ends(g.match_rate_interval, &share));
            row.extend([g.rest_candidates.to_string(), maybe(g.rest_match_rate), maybe(g.match_gap)]);
            row.extend(ends(g.match_gap_interval, &share));
            row.extend([g.suggestions.to_string(), money(g.mean_effect_dkk)]);
            row.extend(ends(g.mean_effect_interval, &kr));
            row.extend([money(g.rest_mean_effect_dkk), money(g.effect_gap_dkk)]);
            row.extend(ends(g.effect_gap_interval, &kr));
            let warnings: Vec<&str> = g.warnings.iter().map(|w| w.key()).collect();
            row.extend([warnings.join(";"), maybe(g.unmatched_gap)]);
            row.extend(g.causes.iter().map(|c| maybe(c.gap)));
            rows.push(row);
        }
    }
    (header, rows)
}

#[cfg(test)]
mod tests;
