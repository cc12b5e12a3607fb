//! Explainable scoring of candidate–offer pairs.
//!
//! Owns the factors, the hard limits and their explanations. A [`Scorer`] is built once per
//! data set and policy set: it lays the offers and candidates out as flat arrays so that
//! scoring a pair allocates nothing and touches a few cache lines. The hot path
//! ([`Scorer::score`]) and [`Scorer::explain`] run the *same* factor code, so an explanation
//! always matches the score the solver saw.
//!
//! Every factor is a number in [0, 1]. A factor's contribution is `round(weight × value ×
//! 1000)` integer points and the total is the sum of the contributions, so explanations add
//! up to the total exactly and the solver works on integers.
//!
//! Protected attributes (gender, origin) are not reachable from here: the scorer copies only
//! the fields it needs and [`crate::model::AuditAttributes`] is not among them. Age enters only
//! as programme eligibility of a target group, never as a factor.
//!
//! Must not: read files, know about HTTP, or call the solver.

pub mod evidence;

use crate::error::{Error, Result};
use crate::geo::KM_PER_DEGREE;
use crate::model::{Candidate, Dataset, Date, GroupSet, OfferKind, PackedOccupation, ReferenceData};
use crate::policy::{Policy, PolicySet};
use evidence::Posterior;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// The score factors, in the order they appear in explanations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Factor {
    /// The offer specialises in the candidate's target group.
    GroupFit,
    /// Measured results of the offer for the candidate's group, relative to the group average.
    Evidence,
    /// Nearer is better; 0 at the travel limit.
    Distance,
    /// Wished occupations against the offer's, through the ISCO-08 hierarchy.
    Occupation,
    /// Closeness of the benefit's end or re-assessment date.
    Urgency,
    /// Expected effect in DKK.
    Effect,
    /// The offer is the candidate's current one.
    Continuity,
    /// The candidate asked for this kind of offer.
    Preference,
}

impl Factor {
    /// Every factor, in explanation order.
    pub const ALL: [Factor; 8] = [
        Factor::GroupFit,
        Factor::Evidence,
        Factor::Distance,
        Factor::Occupation,
        Factor::Urgency,
        Factor::Effect,
        Factor::Continuity,
        Factor::Preference,
    ];

    /// The factor's key, as in policy files.
    pub fn key(self) -> &'static str {
        match self {
            Factor::GroupFit => "group_fit",
            Factor::Evidence => "evidence",
            Factor::Distance => "distance",
            Factor::Occupation => "occupation",
            Factor::Urgency => "urgency",
            Factor::Effect => "effect",
            Factor::Continuity => "continuity",
            Factor::Preference => "preference",
        }
    }

    /// The factor's weight in `policy` (what the model card shows and the score multiplies).
    pub fn weight(self, policy: &Policy) -> f64 {
        let w = &policy.weights;
        match self {
            Factor::GroupFit => w.group_fit,
            Factor::Evidence => w.evidence,
            Factor::Distance => w.distance,
            Factor::Occupation => w.occupation,
            Factor::Urgency => w.urgency,
            Factor::Effect => w.effect,
            Factor::Continuity => w.continuity,
            Factor::Preference => w.preference,
        }
    }
}

/// Why a pair was removed: the hard limit it broke.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Removal {
    /// The candidate's exclusion list names the offer.
    Excluded,
    /// The offer has no places.
    NoCapacity,
    /// The offer serves target groups the candidate (at the candidate's age) is not in.
    GroupNotServed,
    /// The offer serves only other municipalities.
    OutsideServiceArea,
    /// Farther than the candidate travels or the policy allows.
    OutOfReach {
        /// Distance, km.
        distance_km: f64,
        /// The limit that applied, km.
        limit_km: f64,
    },
    /// The offer needs a driving licence the candidate does not hold.
    DrivingLicence,
    /// The candidate speaks none of the offer's languages.
    Language,
    /// The offer needs more hours a week than the candidate has.
    Hours {
        /// Hours the offer needs.
        needed: u8,
        /// Hours the candidate has.
        available: u8,
    },
    /// A job or work trial too far from every wished occupation.
    Occupation {
        /// ISCO-08 digits shared at best.
        shared_level: u8,
        /// Digits the policy requires.
        required: u8,
    },
    /// A reciprocal-help need the candidate posted: one citizen cannot meet their own need,
    /// and their benefit weeks would be counted twice.
    OwnNeed,
    /// The expected net effect is below the policy's minimum (`limits.min_effect_dkk`, or for
    /// an offer bought at a price `limits.min_course_effect_dkk`, or its net effect at the
    /// upper end of the uplift's interval below `limits.min_course_effect_high_dkk`; then
    /// `effect_dkk` is that upper end).
    BelowMinimumEffect {
        /// Expected net effect, DKK.
        effect_dkk: f64,
        /// The minimum, DKK.
        minimum_dkk: f64,
    },
    /// The score is below the policy's minimum.
    BelowMinimumScore {
        /// The score, points.
        score: i64,
        /// The minimum, points.
        minimum: i64,
    },
}

/// One factor's part of a score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Contribution {
    /// The factor.
    pub factor: Factor,
    /// Its value, from 0 to 1.
    pub value: f64,
    /// The policy's weight for it.
    pub weight: f64,
    /// `round(weight × value × 1000)`.
    pub points: i64,
}

/// Everything behind one pair's score, in terms a caseworker can check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// Total score, points: exactly the sum of the contributions' points.
    pub total: i64,
    /// One per factor, in [`Factor::ALL`] order.
    pub contributions: Vec<Contribution>,
    /// Travel distance, km (equirectangular at the candidate's latitude; see [`distance_km`]).
    pub distance_km: f64,
    /// Expected effect: benefit weeks avoided × weekly rate − price (+ the poster's saving for
    /// reciprocal help), DKK.
    pub effect_dkk: f64,
    /// Benefit weeks a success would avoid for this candidate with this offer.
    pub weeks_avoidable: f64,
    /// Uplift over no offer behind the effect (share, averaged over the shared groups).
    pub uplift: f64,
    /// Success rate for each of the candidate's target groups the offer serves.
    pub evidence: Vec<GroupEvidence>,
    /// Name of the policy applied.
    pub policy: String,
}

/// Points per factor of one pair, with distance and effect (see [`Scorer::breakdown`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Breakdown {
    /// Points per factor, in [`Factor::ALL`] order; they sum to the pair's score.
    pub points: [i64; 8],
    /// Travel distance, km.
    pub distance_km: f64,
    /// Expected effect, DKK.
    pub effect_dkk: f64,
    /// Uplift over no offer (share) behind the effect.
    pub uplift: f64,
    /// Benefit weeks a success would avoid.
    pub weeks_avoided: f64,
    /// The effect at the upper end of the uplift's 90 % interval, DKK: when even this is
    /// negative, the effect is too small for the price; otherwise a negative expected effect
    /// is a matter of uncertainty.
    pub effect_high_dkk: f64,
}

/// The evidence for one target group: what the offer adds over no offer, and the counts it
/// rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupEvidence {
    /// Target group code.
    pub group: String,
    /// The group's average success rate (the prior mean).
    pub group_average: f64,
    /// The old `evidence` counts (`trials`, `successes`) with their Beta posterior success
    /// rate. The rate is *not* the effect; kept for the counts and for older readers.
    pub posterior: Posterior,
    /// Episodes of the offer for this group in the `outcomes` history.
    pub episodes: u32,
    /// Of them, successes.
    pub episode_successes: u32,
    /// Success rate without an offer for the group (its average case mix), from the history
    /// or the group's prior.
    pub no_offer_rate: f64,
    /// The offer's success rate adjusted for case mix and shrunk toward the average
    /// ("justeret mod gennemsnittet"): the no-offer rate plus the offer's shrunk uplift.
    pub adjusted_rate: f64,
    /// Uplift over no offer for this candidate's time on benefit (share), shrunk.
    pub uplift: f64,
    /// Lower end of the uplift's 90 % interval.
    pub uplift_low: f64,
    /// Upper end of the uplift's 90 % interval.
    pub uplift_high: f64,
    /// The same in Danish words a caseworker reads without training.
    pub reading_da: String,
}

/// The Danish reading of a group's evidence, e.g. "45 af 48 forløb lykkedes (justeret mod
/// gennemsnittet 41 %). Effekt: +12 procentpoint over intet tilbud (90 %-interval +3 til +21)."
pub fn evidence_reading_da(
    successes: u32,
    trials: u32,
    adjusted_rate: f64,
    uplift: f64,
    low: f64,
    high: f64,
) -> String {
    let points = |x: f64| {
        let p = (100.0 * x).round() as i64;
        if p > 0 { format!("+{p}") } else { p.to_string() }
    };
    let counts = if trials == 0 {
        "Ingen afsluttede forløb endnu, så tallet bygger på gennemsnittet".to_string()
    } else {
        format!("{successes} af {trials} forløb lykkedes")
    };
    format!(
        "{counts} (justeret mod gennemsnittet {:.0} %). Effekt: {} procentpoint over intet tilbud \
         (90 %-interval {} til {}).",
        100.0 * adjusted_rate,
        points(uplift),
        points(low),
        points(high)
    )
}

/// Distance in km on the hot path (see [`crate::geo::equirectangular_km`]).
pub use crate::geo::equirectangular_km as distance_km;

/// Uplift (share) at which the evidence factor reaches 1: a documented uplift whose 90 %
/// interval starts 20 percentage points above no offer is as good as evidence gets.
pub const EVIDENCE_SPAN: f64 = 0.20;

/// Evidence factor of an uplift's 90 % interval: its lower end mapped from −span..span onto
/// 0..1, so 0.5 means "documented to do no harm" and an offer without any record (the prior,
/// whose interval is wide) earns less than one with a record of the same mean.
#[inline]
fn documented(low: f64) -> f64 {
    (0.5 + low / (2.0 * EVIDENCE_SPAN)).clamp(0.0, 1.0)
}

/// Probability that a reciprocal-help poster's own need is met once a helper is matched (the
/// poster's side of the pair, independent of the helper's uplift): a helper may drop out.
pub const POSTER_MET_PROBABILITY: f64 = 0.7;

/// A pair that passed the hard limits checked before its uplift is read, with the factors
/// known by then ([`Scorer::prepare_in_reach`]); [`Scorer::scan_prepared`] scores it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Prepared {
    distance: f64,
    nearness: f64,
    k: u32,
    /// The best shared occupation level, or [`Prepared::NO_LEVEL`] when the pair has none to
    /// compare (the factor is then 0.5). Small codes rather than the factors' `f64`s keep a
    /// row's prepared pairs at 24 bytes each.
    level: u8,
    continuity: bool,
    /// 0: not a kind the candidate prefers, 1: no preference, 2: a preferred kind.
    preference: u8,
}

impl Prepared {
    const NO_LEVEL: u8 = u8::MAX;

    /// The offer's internal index.
    pub(crate) fn offer(&self) -> usize {
        self.k as usize
    }

    #[inline(always)]
    fn occupation(&self) -> f64 {
        if self.level == Self::NO_LEVEL { 0.5 } else { f64::from(self.level) / 4.0 }
    }

    #[inline(always)]
    fn continuity(&self) -> f64 {
        if self.continuity { 1.0 } else { 0.0 }
    }

    #[inline(always)]
    fn preference(&self) -> f64 {
        f64::from(self.preference) * 0.5
    }
}

/// Why [`Scorer::values`] stopped early.
enum Stop {
    Removed(Removal),
    /// The pair cannot score above the given threshold (graph building only).
    Pruned,
}

impl From<Removal> for Stop {
    fn from(r: Removal) -> Stop {
        Stop::Removed(r)
    }
}

/// The hard limits one pair breaks, as a set (see [`Scorer::limits_broken`]). Eligibility
/// gathers target group (at the candidate's age), service area, driving licence, hours,
/// occupation and the candidate's own posted need.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct LimitsBroken(pub(crate) u8);

impl LimitsBroken {
    pub(crate) const OUT_OF_REACH: u8 = 1;
    pub(crate) const EXCLUDED: u8 = 2;
    pub(crate) const NO_CAPACITY: u8 = 4;
    pub(crate) const ELIGIBILITY: u8 = 8;
    pub(crate) const LANGUAGE: u8 = 16;
    pub(crate) const BELOW_MINIMUM: u8 = 32;

    /// No limit broken: the pair is feasible and has places.
    pub(crate) fn none(self) -> bool {
        self.0 == 0
    }

    /// Breaks nothing outside `allowed` (and at least one limit in it).
    pub(crate) fn only(self, allowed: u8) -> bool {
        self.0 != 0 && self.0 & !allowed == 0
    }
}

/// What the graph learns about one visited pair.
#[derive(Debug, PartialEq)]
pub(crate) enum Scan {
    /// Farther than the candidate's travel limit (distance not computed: no square root).
    OutOfReach,
    /// Scored, points.
    Scored(i64),
    /// Removed by a hard limit.
    Removed(Removal),
    /// Skipped: it cannot beat the threshold it was given.
    Pruned,
}

/// A candidate's test of an offer's packed facts ([`Scorer::offer_facts`]).
///
/// A pair in reach that [`OfferFacts::breaks`] is removed by a hard limit, and the scan
/// would count it as one offer in reach, and as one without places if
/// [`OfferFacts::CLOSED`] is set, provided the candidate is [`OfferFacts::plain`]: the
/// scan tests exclusions and the candidate's own needs before these limits, and the area and
/// groups that come between cannot change the count (every other removal counts alike).
#[derive(Debug, Clone, Copy)]
pub(crate) struct OfferFacts {
    hours: u16,
    no_licence: u16,
    /// The candidate has no exclusions and no posted needs of its own.
    pub(crate) plain: bool,
}

impl OfferFacts {
    const HOURS: u16 = 0xff;
    const LICENCE: u16 = 1 << 8;
    /// The offer has no places.
    pub(crate) const CLOSED: u16 = 1 << 9;

    /// Whether a pair with an offer of these `facts` breaks one of their limits.
    #[inline(always)]
    pub(crate) fn breaks(self, facts: u16) -> bool {
        (self.hours < facts & Self::HOURS) | (facts & self.no_licence != 0) | (facts & Self::CLOSED != 0)
    }
}

/// A candidate laid out for scoring: what every pair of this candidate shares.
#[derive(Debug, Clone)]
pub struct CandidateView {
    /// Index of the candidate in the data set.
    pub index: u32,
    lat: f64,
    lon: f64,
    cos_lat: f64,
    /// Travel limit, km: the smaller of the candidate's and the policy's.
    pub reach_km: f64,
    groups: GroupSet,
    languages: u64,
    driving_licence: bool,
    hours: u8,
    municipality: u16,
    wishes: Vec<PackedOccupation>,
    urgency: f64,
    /// Weeks a success can avoid if the offer starts today: the most any offer can avoid.
    weeks_avoidable: f64,
    /// Weeks from today to the benefit's legal end, if it has one (may be negative).
    benefit_weeks_left: Option<f64>,
    weekly_rate: f64,
    /// Weeks-on-benefit band ([`crate::effect::weeks_band`]).
    band: u8,
    /// The candidate's own posted needs (internal indices, sorted).
    own_needs: Vec<u32>,
    /// Current offer, internal index.
    current: Option<u32>,
    /// Current offer, data-set index.
    current_original: Option<u32>,
    /// The current offer is a course under way and must be kept.
    pub locked: bool,
    /// Offers excluded, as sorted internal indices.
    excluded: Vec<u32>,
    preferred: u8,
    /// Index of the policy in the scorer's [`PolicySet`].
    pub policy: usize,
}

/// The fields of one offer that scoring a pair reads, packed into one cache line.
///
/// Offers are kept in *spatial order* (by grid cell, see [`crate::graph`]), not in data-set
/// order: a candidate meets the offers of a few neighbouring cells, and in this order they sit
/// side by side in memory. Profiles of the national graph showed scattered loads from a dozen
/// per-field arrays dominating before this layout.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
struct HotOffer {
    lat: f32,
    lon: f32,
    groups: GroupSet,
    languages: u64,
    /// Poster's saving minus price, DKK: the part of the effect that does not depend on the
    /// candidate.
    effect_base: f64,
    group_fit: f32,
    /// Highest evidence factor over the groups and bands the offer can serve: a bound for
    /// pruning.
    max_lift: f32,
    /// Highest uplift over those groups and bands: a bound for pruning.
    max_success: f32,
    serves_start: u32,
    occupations_start: u32,
    serves_len: u16,
    occupations_len: u16,
    open: bool,
    kind: OfferKind,
    licence: bool,
    min_hours: u8,
    /// Typical duration, weeks: half of it passes, on average, before a success ends the
    /// benefit, so those weeks are not avoidable.
    duration_weeks: u16,
    /// Days from the scorer's day to the offer's next start (0: continuous intake), at most
    /// `u16::MAX` (179 years; any wait past the benefit's end avoids nothing anyway). `u16`
    /// keeps the offer in one cache line.
    start_delay_days: u16,
}

const _: () = assert!(std::mem::size_of::<HotOffer>() == 64, "one offer, one cache line");

/// Offers laid out for scoring. Index `k` here is the *internal* (spatial) index.
struct OfferTable {
    hot: Vec<HotOffer>,
    serves_flat: Vec<u16>,
    occupations_flat: Vec<PackedOccupation>,
    /// Uplift over no offer: its mean, the evidence factor of its interval's low end, and
    /// the interval's high end, `[(band * n_offers + k) * n_groups + group]`. Band-major, so
    /// that one candidate (one band) reads one slab of it, no larger than the success-rate
    /// table of before. Shared by the scorers a write to a few offers derives
    /// ([`Scorer::with_changed_offers`]); copied only when a changed offer's rows differ.
    uplift: Arc<[[f32; 3]]>,
    /// Internal index → data-set index.
    original: Vec<u32>,
    /// Data-set index → internal index.
    internal: Vec<u32>,
    /// The grid of cells over the offers: internal indices follow its cells.
    frame: crate::geo::Frame,
}

/// What laying out an offer reads besides the offer: the same for every offer of a scorer.
struct LayoutContext<'a> {
    today: Date,
    sickness_rate: f64,
    n_groups: usize,
    effects: &'a crate::effect::EffectModel,
    language_bits: &'a HashMap<[u8; 2], u32>,
}

impl<'a> LayoutContext<'a> {
    fn new(
        reference: &ReferenceData,
        today: Date,
        n_groups: usize,
        effects: &'a crate::effect::EffectModel,
        language_bits: &'a HashMap<[u8; 2], u32>,
    ) -> LayoutContext<'a> {
        LayoutContext {
            today,
            sickness_rate: sickness_rate(reference, today),
            n_groups,
            effects,
            language_bits,
        }
    }

    /// A buffer for one offer's uplift rows ([`OfferTable::lay_out`]).
    fn rows(&self) -> Vec<[f32; 3]> {
        vec![[0.0f32; 3]; self.n_groups * crate::effect::N_BANDS]
    }
}

impl LayoutContext<'_> {
    /// The uplift rows of `offer` (data-set index `i`) written into `rows`
    /// (`[band * n_groups + group]`), and the bounds a pair's pruning reads over them, as its
    /// hot record keeps them: the highest evidence factor and the highest uplift.
    fn effect_rows(&self, offer: &crate::model::Offer, i: usize, rows: &mut [[f32; 3]]) -> (f32, f32) {
        // Bounds over the groups and bands that can enter a pair's uplift: those the offer
        // serves, and those it does not serve that the history measured at it. The others
        // are NaN, skipped by `values`.
        let n_groups = self.n_groups;
        let (mut max_lift, mut max_success) = (0.0f64, f64::NEG_INFINITY);
        for g in 0..n_groups {
            let served = offer.target_groups.is_empty()
                || offer.target_groups.contains(crate::model::GroupId(g as u8));
            let enters = served || self.effects.offer_counts(i, g).episodes > 0;
            for band in 0..crate::effect::N_BANDS {
                let u = self.effects.uplift(i, g, band);
                rows[band * n_groups + g] = if enters {
                    [u.mean as f32, documented(u.low()) as f32, u.high() as f32]
                } else {
                    [f32::NAN; 3]
                };
                if enters {
                    max_lift = max_lift.max(documented(u.low()));
                    max_success = max_success.max(u.mean);
                }
            }
        }
        // A candidate in none of the groups an open offer's history measured scores it
        // with no uplift (`values` averages over no group): the bound must cover 0 too.
        let max_success = if offer.target_groups.is_empty() { max_success.max(0.0) } else { max_success };
        // f32 rounding must not lower a bound.
        let max_success = if max_success.is_finite() { max_success + 1e-6 } else { 0.0 };
        ((max_lift + 1e-6) as f32, max_success as f32)
    }
}

/// Writes offer `k`'s uplift rows, as laid out (`[band * n_groups + group]`), into the
/// scorer's band-major table of `n` offers (`[(band * n + k) * n_groups + group]`): the one
/// place the derivations write that layout.
fn put_uplift_rows(table: &mut [[f32; 3]], rows: &[[f32; 3]], n: usize, k: usize, n_groups: usize) {
    for band in 0..crate::effect::N_BANDS {
        let at = (band * n + k) * n_groups;
        table[at..at + n_groups].copy_from_slice(&rows[band * n_groups..(band + 1) * n_groups]);
    }
}

impl OfferTable {
    /// The hot record of `offer` (data-set index `i`), its municipalities and occupations
    /// appended to the flat lists, and its uplift rows written into `rows`
    /// (`[band * n_groups + group]`; the caller places them in the table). Every language of
    /// the offer must be in `cx.language_bits`.
    fn lay_out(
        &mut self,
        cx: &LayoutContext<'_>,
        offer: &crate::model::Offer,
        i: usize,
        rows: &mut [[f32; 3]],
    ) -> Result<HotOffer> {
        if offer.serves_municipalities.len() > usize::from(u16::MAX)
            || offer.occupations.len() > usize::from(u16::MAX)
        {
            return Err(Error::Problem(format!(
                "offer {}: more than {} municipalities or occupations",
                offer.id,
                u16::MAX
            )));
        }
        let serves_start = self.serves_flat.len() as u32;
        self.serves_flat.extend(offer.serves_municipalities.iter().map(|m| m.0));
        let occupations_start = self.occupations_flat.len() as u32;
        self.occupations_flat.extend(offer.occupations.iter().map(|&o| PackedOccupation::from(o)));
        let poster_saving = if offer.kind == OfferKind::ReciprocalHelp {
            f64::from(offer.poster_weeks_saved.max(0.0)) * cx.sickness_rate * POSTER_MET_PROBABILITY
        } else {
            0.0
        };
        let (max_lift, max_success) = cx.effect_rows(offer, i, rows);
        Ok(HotOffer {
            lat: offer.location.lat as f32,
            lon: offer.location.lon as f32,
            groups: offer.target_groups,
            languages: offer.languages.iter().fold(0u64, |m, l| m | 1 << cx.language_bits[&l.0]),
            effect_base: poster_saving - f64::from(offer.price_dkk),
            // A specialist in exactly the candidate's group fits best; an offer open to
            // everyone fits least among eligible ones.
            group_fit: match offer.target_groups.len() {
                0 => 0.4,
                k => 0.6 + 0.4 / k as f32,
            },
            serves_start,
            occupations_start,
            max_lift,
            max_success,
            serves_len: offer.serves_municipalities.len() as u16,
            occupations_len: offer.occupations.len() as u16,
            open: offer.capacity > 0,
            kind: offer.kind,
            licence: offer.requires_driving_licence,
            min_hours: offer.min_hours,
            duration_weeks: offer.duration_weeks,
            start_delay_days: u16::try_from(offer.time_and_place.days_until_start(cx.today))
                .unwrap_or(u16::MAX),
        })
    }
}

/// The weekly sickness benefit on `today`: what a met reciprocal-help need saves per week.
fn sickness_rate(reference: &ReferenceData, today: Date) -> f64 {
    reference.benefit_kind("sickness_benefit").map_or(0.0, |k| f64::from(reference.weekly_rate_on(k, today)))
}

/// Offers declined and still excluded on `today`: candidate id → offer indices (data-set order).
fn declined_on(data: &Dataset, offer_index: &HashMap<String, u32>, today: Date) -> HashMap<String, Vec<u32>> {
    let mut declined: HashMap<String, Vec<u32>> = HashMap::new();
    for d in data.declines.iter().filter(|d| d.active_on(today)) {
        if let Some(&o) = offer_index.get(d.offer.as_str()) {
            declined.entry(d.candidate.as_str().to_string()).or_default().push(o);
        }
    }
    declined
}

/// Reciprocal-help offers by their poster's id, as sorted internal indices.
fn posted_needs(data: &Dataset, internal: &[u32]) -> HashMap<String, Vec<u32>> {
    let mut posted: HashMap<String, Vec<u32>> = HashMap::new();
    for (i, o) in data.offers.iter().enumerate() {
        if o.kind == OfferKind::ReciprocalHelp {
            posted.entry(o.provider.as_str().to_string()).or_default().push(internal[i]);
        }
    }
    posted.values_mut().for_each(|v| v.sort_unstable());
    posted
}

/// What a scorer derived from another (`with_new_offers`, `with_new_evidence`,
/// `with_changed_offers`) makes anew; the rest it keeps from the one it is derived from
/// ([`Scorer::derived`]).
struct Derived {
    data: Arc<Dataset>,
    offers: OfferTable,
    effects: Arc<crate::effect::EffectModel>,
    posted: Arc<HashMap<String, Vec<u32>>>,
    offer_index: Arc<HashMap<String, u32>>,
    declined: HashMap<String, Vec<u32>>,
}

/// Scores pairs of one data set under one policy set, as of one day.
///
/// It owns (shares) its inputs, so that a long-lived service can keep one and score single
/// candidates against it cheaply; build a new one when the offers or policies change.
pub struct Scorer {
    data: Arc<Dataset>,
    reference: Arc<ReferenceData>,
    policies: Arc<PolicySet>,
    today: Date,
    offers: OfferTable,
    n_groups: usize,
    group_active: GroupSet,
    /// The effect estimates behind the uplift table (history, evidence, priors).
    effects: Arc<crate::effect::EffectModel>,
    /// Reciprocal-help offers by the id of their poster (internal indices): a candidate who
    /// posted a need cannot be matched to meet it. Shared: a patch that changes no offer's
    /// kind keeps it.
    posted: Arc<HashMap<String, Vec<u32>>>,
    sickness_kind: Option<u8>,
    offer_index: Arc<HashMap<String, u32>>,
    language_bits: HashMap<[u8; 2], u32>,
    /// 90% intervals already computed; shared with the scorers derived from this one.
    posteriors: Arc<evidence::PosteriorCache>,
    /// Offers declined for a candidate and still excluded today: candidate id → offer
    /// indices (data-set order). Keyed by id, so a candidate sent inline to the service meets
    /// the declines recorded for it too.
    declined: HashMap<String, Vec<u32>>,
}

/// A pair's factor values before weighting.
struct Values {
    values: [f64; 8],
    distance_km: f64,
    effect_dkk: f64,
    uplift: f64,
    weeks_avoided: f64,
    effect_high_dkk: f64,
}

impl Scorer {
    /// Lays out the offers for scoring.
    ///
    /// # Errors
    /// [`Error::Problem`] when the offers use more than 64 distinct languages (the scorer keeps
    /// languages as a bit set) or a candidate names a benefit kind that does not exist.
    pub fn new(
        data: Arc<Dataset>,
        reference: Arc<ReferenceData>,
        policies: Arc<PolicySet>,
        today: Date,
    ) -> Result<Scorer> {
        let effects = Arc::new(crate::effect::EffectModel::estimate(
            &data,
            &reference,
            crate::effect::Spread::default(),
        ));
        Self::with_effects(data, reference, policies, today, effects)
    }

    /// [`Scorer::new`] with the effect estimates given (they depend on the offers' ids,
    /// providers, names and evidence and on the history, never on the rest of an offer).
    fn with_effects(
        data: Arc<Dataset>,
        reference: Arc<ReferenceData>,
        policies: Arc<PolicySet>,
        today: Date,
        effects: Arc<crate::effect::EffectModel>,
    ) -> Result<Scorer> {
        let n_groups = reference.target_groups.len().max(1);
        let mut group_active = GroupSet::EMPTY;
        for (i, g) in reference.target_groups.iter().enumerate() {
            if g.valid_from <= today && g.valid_to.is_none_or(|end| today <= end) {
                group_active.insert(crate::model::GroupId(i as u8));
            }
        }
        let mut language_bits = HashMap::new();
        for offer in &data.offers {
            for language in &offer.languages {
                let next = language_bits.len() as u32;
                language_bits.entry(language.0).or_insert(next);
            }
        }
        if language_bits.len() > crate::model::limits::MAX_LANGUAGES {
            return Err(Error::Problem(format!(
                "offers use {} distinct languages; at most {} are supported",
                language_bits.len(),
                crate::model::limits::MAX_LANGUAGES
            )));
        }
        let n = data.offers.len();
        let frame = crate::geo::Frame::covering(data.offers.iter().map(|o| (o.location.lat, o.location.lon)));
        let mut original: Vec<u32> = (0..n as u32).collect();
        original.sort_by_key(|&i| {
            let o = &data.offers[i as usize];
            (frame.cell(o.location.lat, o.location.lon), i)
        });
        let mut internal = vec![0u32; n];
        for (k, &i) in original.iter().enumerate() {
            internal[i as usize] = k as u32;
        }
        // Made in its shared allocation at once: a `Vec` turned into an `Arc` is copied, and the
        // national table is ~24 MB.
        let mut uplift: Arc<[[f32; 3]]> =
            std::iter::repeat_n([0.0f32; 3], n * n_groups * crate::effect::N_BANDS).collect();
        let table = Arc::get_mut(&mut uplift).ok_or_else(|| Error::Problem("uplift table shared".into()))?;
        let mut t = OfferTable {
            hot: Vec::with_capacity(n),
            serves_flat: Vec::new(),
            occupations_flat: Vec::new(),
            uplift: Arc::from(Vec::new()),
            original,
            internal,
            frame,
        };
        let cx = LayoutContext::new(&reference, today, n_groups, &effects, &language_bits);
        let mut rows = cx.rows();
        for k in 0..n {
            let i = t.original[k] as usize;
            let hot = t.lay_out(&cx, &data.offers[i], i, &mut rows)?;
            put_uplift_rows(table, &rows, n, k, n_groups);
            t.hot.push(hot);
        }
        t.uplift = uplift;
        let offer_index: HashMap<String, u32> =
            data.offers.iter().enumerate().map(|(i, o)| (o.id.as_str().to_string(), i as u32)).collect();
        let declined = declined_on(&data, &offer_index, today);
        let posted = Arc::new(posted_needs(&data, &t.internal));
        let sickness_kind = reference.benefit_kind("sickness_benefit");
        Ok(Scorer {
            declined,
            data,
            reference,
            policies,
            today,
            offers: t,
            n_groups,
            group_active,
            effects,
            posted,
            sickness_kind,
            offer_index: Arc::new(offer_index),
            language_bits,
            posteriors: Arc::default(),
        })
    }

    /// A scorer for `data`, which must be this scorer's data set with the offers at the
    /// data-set indices `new` (ascending) added, offers it does not hold, and nothing else
    /// changed but the providers they bring (a service's new offer, issue 18). It scores every
    /// pair exactly as `Scorer::new(data, …)` would, but keeps the other offers' effect
    /// estimates ([`crate::effect::EffectModel::with_new_offers`]): the estimate of every
    /// offer is most of a national scorer's build. Every offer is laid out again, as the new
    /// ones take places in both the data set's order and the spatial one.
    ///
    /// It falls back to the full work where keeping the estimates cannot be exact: a new
    /// offer has evidence or an episode of the history names it, or `data` is seen not to be
    /// this data set with `new` added (another offer, provider, name or evidence among the
    /// others, another name of a provider, another number of episodes or declines).
    ///
    /// # Errors
    /// As [`Scorer::new`].
    pub fn with_new_offers(&self, data: Arc<Dataset>, new: &[usize]) -> Result<Scorer> {
        let (reference, policies, today) = (self.reference.clone(), self.policies.clone(), self.today);
        let old = &self.data;
        let mut others = (0..data.offers.len()).filter(|i| new.binary_search(i).is_err());
        let same_offers = data.offers.len() == old.offers.len() + new.len()
            && old.offers.iter().all(|a| {
                others.next().is_some_and(|i| {
                    let b = &data.offers[i];
                    Arc::ptr_eq(a, b)
                        || (a.id == b.id
                            && a.provider == b.provider
                            && a.name == b.name
                            && a.evidence == b.evidence)
                })
            });
        let names: HashMap<&str, &str> =
            data.providers.iter().map(|p| (p.id.as_str(), p.name.as_str())).collect();
        let same_rest = old.providers.iter().all(|p| names.get(p.id.as_str()) == Some(&p.name.as_str()))
            && data.outcomes.len() == old.outcomes.len()
            && data.declines.len() == old.declines.len();
        let effects = if same_offers && same_rest { self.effects.with_new_offers(&data, new) } else { None };
        let Some(effects) = effects else {
            return Scorer::new(data, reference, policies, today);
        };
        let effects = Arc::new(effects);
        let frame = self.frame_after(&data, new);
        let in_place = frame == self.offers.frame
            && new
                .iter()
                .all(|&i| data.offers[i].languages.iter().all(|l| self.language_bits.contains_key(&l.0)))
            && self.flat_lists_fresh();
        if !in_place {
            return Self::with_effects(data, reference, policies, today, effects);
        }
        // The other offers keep their records and uplift rows: they read only their own
        // estimates, which stay. Their spatial order stays too (by cell, then data-set index,
        // which an addition shifts without reordering); each new offer goes in at its key.
        let n = data.offers.len();
        let n_old = self.data.offers.len();
        let n_groups = self.n_groups;
        let shifted: Vec<usize> = (0..n).filter(|i| new.binary_search(i).is_err()).collect();
        let key = |i: usize| {
            let o = &data.offers[i];
            (frame.cell(o.location.lat, o.location.lon), i)
        };
        let mut added: Vec<(usize, usize)> = new.iter().map(|&i| key(i)).collect();
        added.sort_unstable();
        // Where each new internal index comes from: an old internal index, or a new offer.
        let mut from: Vec<Result<usize, usize>> = Vec::with_capacity(n);
        let mut original = Vec::with_capacity(n);
        let mut next = added.iter().peekable();
        for (k_old, &j) in self.offers.original.iter().enumerate() {
            let i = shifted[j as usize];
            while let Some(&(_, q)) = next.next_if(|&&a| a < key(i)) {
                original.push(q as u32);
                from.push(Err(q));
            }
            original.push(i as u32);
            from.push(Ok(k_old));
        }
        for &(_, q) in next {
            original.push(q as u32);
            from.push(Err(q));
        }
        let mut internal = vec![0u32; n];
        for (k, &i) in original.iter().enumerate() {
            internal[i as usize] = k as u32;
        }
        let mut t = OfferTable {
            hot: Vec::with_capacity(n),
            serves_flat: self.offers.serves_flat.clone(),
            occupations_flat: self.offers.occupations_flat.clone(),
            uplift: Arc::from(Vec::new()),
            original,
            internal,
            frame,
        };
        let cx = LayoutContext::new(&reference, today, n_groups, &effects, &self.language_bits);
        let mut rows = cx.rows();
        let mut uplift: Arc<[[f32; 3]]> =
            std::iter::repeat_n([0.0f32; 3], n * n_groups * crate::effect::N_BANDS).collect();
        let table = Arc::get_mut(&mut uplift).ok_or_else(|| Error::Problem("uplift table shared".into()))?;
        for (k, &source) in from.iter().enumerate() {
            match source {
                Ok(k_old) => {
                    t.hot.push(self.offers.hot[k_old]);
                    for band in 0..crate::effect::N_BANDS {
                        let (at, was) = ((band * n + k) * n_groups, (band * n_old + k_old) * n_groups);
                        table[at..at + n_groups].copy_from_slice(&self.offers.uplift[was..was + n_groups]);
                    }
                }
                Err(i) => {
                    let hot = t.lay_out(&cx, &data.offers[i], i, &mut rows)?;
                    t.hot.push(hot);
                    put_uplift_rows(table, &rows, n, k, n_groups);
                }
            }
        }
        t.uplift = uplift;
        let offer_index: HashMap<String, u32> =
            data.offers.iter().enumerate().map(|(i, o)| (o.id.as_str().to_string(), i as u32)).collect();
        let declined = declined_on(&data, &offer_index, today);
        let posted = Arc::new(posted_needs(&data, &t.internal));
        Ok(self.derived(Derived {
            data,
            offers: t,
            effects,
            posted,
            offer_index: Arc::new(offer_index),
            declined,
        }))
    }

    /// A scorer of `parts` with this scorer's reference data, policies, day, groups,
    /// languages and posterior cache.
    fn derived(&self, parts: Derived) -> Scorer {
        Scorer {
            data: parts.data,
            reference: self.reference.clone(),
            policies: self.policies.clone(),
            today: self.today,
            offers: parts.offers,
            n_groups: self.n_groups,
            group_active: self.group_active,
            effects: parts.effects,
            posted: parts.posted,
            sickness_kind: self.sickness_kind,
            offer_index: parts.offer_index,
            language_bits: self.language_bits.clone(),
            posteriors: self.posteriors.clone(),
            declined: parts.declined,
        }
    }

    /// A scorer for `data`, which must differ from this scorer's data set only in the
    /// offers' evidence, the history and the declines (a service's evidence refresh after an
    /// outcome). It scores every pair exactly as `Scorer::new(data, …)` would: the effects are
    /// estimated anew (one episode moves its group's level, and so every offer's uplift in
    /// the group), but only the uplift rows and the bounds over them are laid out again; the
    /// offers' places, records, lists and indices are kept. A `data` seen to break the promise
    /// (another number of offers, another id at an index) is laid out anew, as by
    /// [`Scorer::new`].
    ///
    /// # Errors
    /// As [`Scorer::new`].
    pub fn with_new_evidence(&self, data: Arc<Dataset>) -> Result<Scorer> {
        let (reference, policies, today) = (self.reference.clone(), self.policies.clone(), self.today);
        let same_offers = data.offers.len() == self.data.offers.len()
            && data.offers.iter().zip(&self.data.offers).all(|(a, b)| Arc::ptr_eq(a, b) || a.id == b.id);
        if !same_offers {
            return Scorer::new(data, reference, policies, today);
        }
        let effects = Arc::new(crate::effect::EffectModel::estimate(
            &data,
            &reference,
            crate::effect::Spread::default(),
        ));
        let (n, n_groups) = (data.offers.len(), self.n_groups);
        let cx = LayoutContext::new(&reference, today, n_groups, &effects, &self.language_bits);
        let mut rows = cx.rows();
        let mut hot = self.offers.hot.clone();
        let mut uplift: Arc<[[f32; 3]]> =
            std::iter::repeat_n([0.0f32; 3], n * n_groups * crate::effect::N_BANDS).collect();
        let table = Arc::get_mut(&mut uplift).ok_or_else(|| Error::Problem("uplift table shared".into()))?;
        for (k, record) in hot.iter_mut().enumerate() {
            let i = self.offers.original[k] as usize;
            (record.max_lift, record.max_success) = cx.effect_rows(&data.offers[i], i, &mut rows);
            put_uplift_rows(table, &rows, n, k, n_groups);
        }
        let offers = OfferTable {
            hot,
            serves_flat: self.offers.serves_flat.clone(),
            occupations_flat: self.offers.occupations_flat.clone(),
            uplift,
            original: self.offers.original.clone(),
            internal: self.offers.internal.clone(),
            frame: self.offers.frame,
        };
        Ok(self.derived(Derived {
            declined: declined_on(&data, &self.offer_index, today),
            data,
            offers,
            effects,
            posted: self.posted.clone(),
            offer_index: self.offer_index.clone(),
        }))
    }

    /// The grid of `data`, which differs from this scorer's data set only in the offers at
    /// `changed`: offers all within Denmark's ranges have the fixed Danish frame, so when the
    /// old ones had it and every changed offer is inside, the new set has it too, without a
    /// pass over every offer (a tenth of a national offer write).
    fn frame_after(&self, data: &Dataset, changed: &[usize]) -> crate::geo::Frame {
        let inside = |o: &crate::model::Offer| {
            let (lat, lon) = (o.location.lat, o.location.lon);
            !lat.is_finite()
                || !lon.is_finite()
                || (crate::geo::LAT_RANGE.contains(&lat) && crate::geo::LON_RANGE.contains(&lon))
        };
        if self.offers.frame == crate::geo::Frame::DENMARK && changed.iter().all(|&i| inside(&data.offers[i]))
        {
            crate::geo::Frame::DENMARK
        } else {
            crate::geo::Frame::covering(data.offers.iter().map(|o| (o.location.lat, o.location.lon)))
        }
    }

    /// Whether earlier patches left the flat lists of municipalities and occupations at most
    /// half stale: a patch appends a changed offer's lists and leaves its old ones behind.
    fn flat_lists_fresh(&self) -> bool {
        let live_serves: usize = self.offers.hot.iter().map(|h| usize::from(h.serves_len)).sum();
        let live_occupations: usize = self.offers.hot.iter().map(|h| usize::from(h.occupations_len)).sum();
        self.offers.serves_flat.len() <= 2 * live_serves.max(64)
            && self.offers.occupations_flat.len() <= 2 * live_occupations.max(64)
    }

    /// A scorer for `data`, which must differ from this scorer's data set only in the offers
    /// at the data-set indices `changed`: the same offers in the same order, with the same
    /// ids, and the same providers, history and declines (a service's write to a few offers).
    /// It scores every pair exactly as `Scorer::new(data, …)` would, but lays out only the
    /// changed offers and keeps the effect estimates, so it costs a copy of the offer table
    /// rather than an estimate and a layout of every offer (issue 18).
    ///
    /// It falls back to the full work where a patch cannot be exact: the estimates are made
    /// again (and every offer laid out) when a changed offer's provider, name or evidence
    /// differs, which the estimates read; every offer is laid out again when a changed offer
    /// moved to another grid cell (the offers' spatial order), the grid itself moved, a
    /// changed offer speaks a language no offer spoke, or earlier patches left the flat lists
    /// more than half stale. A `data` that breaks the promise above in a way the scorer can see
    /// cheaply (another number of offers, another id at a changed index, another number of
    /// providers or episodes) is laid out anew as by [`Scorer::new`].
    ///
    /// # Errors
    /// As [`Scorer::new`].
    pub fn with_changed_offers(&self, data: Arc<Dataset>, changed: &[usize]) -> Result<Scorer> {
        let (reference, policies, today) = (self.reference.clone(), self.policies.clone(), self.today);
        let old = &self.data;
        let same_shape = data.offers.len() == old.offers.len()
            && data.providers.len() == old.providers.len()
            && data.outcomes.len() == old.outcomes.len()
            && data.declines.len() == old.declines.len()
            && changed.iter().all(|&i| data.offers.get(i).is_some_and(|o| o.id == old.offers[i].id));
        if !same_shape {
            return Scorer::new(data, reference, policies, today);
        }
        let estimates_hold = changed.iter().all(|&i| {
            let (a, b) = (&old.offers[i], &data.offers[i]);
            a.provider == b.provider && a.name == b.name && a.evidence == b.evidence
        });
        if !estimates_hold {
            return Scorer::new(data, reference, policies, today);
        }
        let effects = self.effects.clone();
        let frame = self.frame_after(&data, changed);
        let cell = |o: &crate::model::Offer| frame.cell(o.location.lat, o.location.lon);
        let in_place = frame == self.offers.frame
            && changed.iter().all(|&i| {
                let (a, b) = (&old.offers[i], &data.offers[i]);
                cell(a) == cell(b) && b.languages.iter().all(|l| self.language_bits.contains_key(&l.0))
            })
            && self.flat_lists_fresh();
        if !in_place {
            return Self::with_effects(data, reference, policies, today, effects);
        }
        let n = data.offers.len();
        let n_groups = self.n_groups;
        let mut t = OfferTable {
            hot: self.offers.hot.clone(),
            serves_flat: self.offers.serves_flat.clone(),
            occupations_flat: self.offers.occupations_flat.clone(),
            uplift: self.offers.uplift.clone(),
            original: self.offers.original.clone(),
            internal: self.offers.internal.clone(),
            frame,
        };
        let cx = LayoutContext::new(&reference, today, n_groups, &effects, &self.language_bits);
        let mut rows = cx.rows();
        // Copied once, on the first changed offer whose uplift rows differ (its groups changed).
        let mut uplift: Option<Arc<[[f32; 3]]>> = None;
        for &i in changed {
            let k = t.internal[i] as usize;
            t.hot[k] = t.lay_out(&cx, &data.offers[i], i, &mut rows)?;
            for band in 0..crate::effect::N_BANDS {
                let at = (band * n + k) * n_groups;
                let new_rows = &rows[band * n_groups..(band + 1) * n_groups];
                let same = |table: &[[f32; 3]]| {
                    table[at..at + n_groups]
                        .iter()
                        .flatten()
                        .zip(new_rows.iter().flatten())
                        .all(|(a, b)| a.to_bits() == b.to_bits())
                };
                if uplift.is_none() && !same(&t.uplift) {
                    uplift = Some(t.uplift.iter().copied().collect());
                }
                if let Some(table) = uplift.as_mut().and_then(Arc::get_mut) {
                    table[at..at + n_groups].copy_from_slice(new_rows);
                }
            }
        }
        if let Some(table) = uplift {
            t.uplift = table;
        }
        // Which offers are reciprocal help, and whose, changes only with a changed offer's kind
        // (its provider is the same: checked above), and the internal indices are kept.
        let posted = if changed.iter().all(|&i| old.offers[i].kind == data.offers[i].kind) {
            self.posted.clone()
        } else {
            Arc::new(posted_needs(&data, &t.internal))
        };
        Ok(self.derived(Derived {
            data,
            offers: t,
            effects,
            posted,
            offer_index: self.offer_index.clone(),
            declined: self.declined.clone(),
        }))
    }

    /// The effect estimates (uplift per offer, group and band; quality rows).
    pub fn effects(&self) -> &crate::effect::EffectModel {
        &self.effects
    }

    /// Number of offers.
    pub fn n_offers(&self) -> usize {
        self.data.offers.len()
    }

    /// Number of candidates.
    pub fn n_candidates(&self) -> usize {
        self.data.candidates.len()
    }

    /// The policies in force.
    pub fn policies(&self) -> &PolicySet {
        &self.policies
    }

    /// The data set.
    pub fn data(&self) -> &Dataset {
        &self.data
    }

    /// The reference data.
    pub fn reference(&self) -> &ReferenceData {
        &self.reference
    }

    /// The day benefit clocks are read against.
    pub fn today(&self) -> Date {
        self.today
    }

    /// The grid of cells the offers are ordered by (see [`crate::geo::Frame::covering`]).
    pub fn frame(&self) -> crate::geo::Frame {
        self.offers.frame
    }

    /// Offer locations (lat, lon) by internal index, for spatial indexing, in the scorer's own
    /// `f32` precision (a walk that computes distances from them gets the scan's bits).
    pub(crate) fn internal_locations(&self) -> impl Iterator<Item = (f32, f32)> + '_ {
        self.offers.hot.iter().map(|h| (h.lat, h.lon))
    }

    /// The municipalities the offer at internal index `k` is restricted to (empty: none).
    pub(crate) fn internal_serves(&self, k: usize) -> &[u16] {
        let h = &self.offers.hot[k];
        let start = h.serves_start as usize;
        &self.offers.serves_flat[start..start + h.serves_len as usize]
    }

    /// The candidate's municipality code.
    pub(crate) fn candidate_municipality(view: &CandidateView) -> u16 {
        view.municipality
    }

    /// The data-set index of the offer at internal index `k`.
    #[inline]
    pub(crate) fn original(&self, k: usize) -> u32 {
        self.offers.original[k]
    }

    /// The internal index of the offer at data-set index `offer`.
    pub(crate) fn internal(&self, offer: usize) -> usize {
        self.offers.internal[offer] as usize
    }

    /// Number of eligibility keys (see [`Scorer::internal_keys`]).
    pub const N_KEYS: usize = 64 + 10 + 1;

    /// The eligibility keys of the offer at internal index `k`: one per target group it is
    /// restricted to; else, for a job or work trial with occupations, one per ISCO-08 major
    /// group; else the open key.
    ///
    /// Invariant (tested against brute force in `graph`): when a pair passes every hard
    /// limit, the offer has a key in [`Scorer::candidate_keys`] of the candidate. The graph
    /// uses this to skip offers a candidate cannot be eligible for without scoring them.
    pub(crate) fn internal_keys(&self, k: usize) -> impl Iterator<Item = usize> + '_ {
        let h = &self.offers.hot[k];
        let start = h.occupations_start as usize;
        let occupations = &self.offers.occupations_flat[start..start + h.occupations_len as usize];
        let by_occupation = h.groups.is_empty()
            && matches!(h.kind, OfferKind::Job | OfferKind::WorkTrial)
            && !occupations.is_empty();
        let mut majors = 0u16;
        if by_occupation {
            for o in occupations {
                majors |= 1 << o.major().min(9);
            }
        }
        let open = h.groups.is_empty() && !by_occupation;
        h.groups
            .iter()
            .map(|g| usize::from(g.0))
            .chain((0..10).filter(move |m| majors & (1 << m) != 0).map(|m| 64 + m))
            .chain(open.then_some(64 + 10))
    }

    /// The eligibility keys a candidate can match, as a bit set over [`Scorer::N_KEYS`].
    pub(crate) fn candidate_keys(&self, c: &CandidateView) -> u128 {
        let mut keys = u128::from(c.groups.0) | 1u128 << (64 + 10);
        let policy = self.policies.get(c.policy);
        if policy.limits.job_min_shared_level >= 1 && !c.wishes.is_empty() {
            for w in &c.wishes {
                keys |= 1u128 << (64 + usize::from(w.major().min(9)));
            }
        } else {
            keys |= ((1u128 << 10) - 1) << 64;
        }
        keys
    }

    /// The offer index of an offer id.
    pub fn offer_index(&self, id: &str) -> Option<u32> {
        self.offer_index.get(id).copied()
    }

    /// Lays out one candidate for scoring against every offer.
    ///
    /// # Errors
    /// [`Error::Problem`] if `index` is out of range or the benefit kind does not exist.
    pub fn candidate(&self, index: usize) -> Result<CandidateView> {
        let c: &Candidate = self
            .data
            .candidates
            .get(index)
            .ok_or_else(|| Error::Problem(format!("candidate index {index} out of range")))?;
        let mut view = self.view(c)?;
        view.index = index as u32;
        Ok(view)
    }

    /// Lays out any candidate, in the data set or not (e.g. one sent inline to the service),
    /// for scoring against every offer. Its [`CandidateView::index`] is `u32::MAX`.
    ///
    /// # Errors
    /// [`Error::Problem`] if the benefit kind does not exist in the reference data.
    pub fn view(&self, c: &Candidate) -> Result<CandidateView> {
        let index = u32::MAX;
        let policy_index = self.policies.index_for(c.municipality);
        let policy = self.policies.get(policy_index);
        if self.reference.benefit_kinds.get(usize::from(c.benefit.kind)).is_none() {
            return Err(Error::Problem(format!(
                "candidate {}: benefit kind {} does not exist",
                c.id, c.benefit.kind
            )));
        }
        let (age_low, age_high) = c.age_band.ages();
        let mut groups = GroupSet::EMPTY;
        for g in c.target_groups.iter() {
            let Some(group) = self.reference.target_groups.get(usize::from(g.0)) else { continue };
            let old_enough = group.min_age.is_none_or(|min| age_high >= min);
            let young_enough = group.max_age.is_none_or(|max| age_low <= max);
            if self.group_active.contains(g) && old_enough && young_enough {
                groups.insert(g);
            }
        }
        let urgency = urgency(c, self.today, self.sickness_kind, policy.urgency.horizon_weeks);
        // Early help is worth most: the weeks a success can still avoid are the weeks left
        // until the benefit's end (the horizon for benefits without one).
        let weeks_avoidable = match c.benefit.end {
            Some(end) => {
                (f64::from(self.today.days_until(end)) / 7.0).clamp(0.0, policy.effect.horizon_weeks)
            }
            None => policy.effect.horizon_weeks,
        };
        let benefit_weeks_left = c.benefit.end.map(|end| f64::from(self.today.days_until(end)) / 7.0);
        let weeks_on_benefit = f64::from(c.benefit.start.days_until(self.today).max(0)) / 7.0;
        let own_needs = self.posted.get(c.id.as_str()).cloned().unwrap_or_default();
        let mut excluded: Vec<u32> = c
            .excluded_offers
            .iter()
            .filter_map(|id| self.offer_index.get(id.as_str()).map(|&i| self.offers.internal[i as usize]))
            .collect();
        if let Some(declined) = self.declined.get(c.id.as_str()) {
            excluded.extend(declined.iter().map(|&i| self.offers.internal[i as usize]));
            excluded.dedup();
        }
        excluded.sort_unstable();
        excluded.dedup();
        let current_original =
            c.current.as_ref().and_then(|a| self.offer_index.get(a.offer.as_str()).copied());
        Ok(CandidateView {
            index,
            lat: c.home.lat,
            lon: c.home.lon,
            cos_lat: c.home.lat.to_radians().cos(),
            reach_km: f64::from(c.max_travel_km).min(policy.limits.max_distance_km),
            groups,
            languages: c
                .languages
                .iter()
                .filter_map(|l| self.language_bits.get(&l.0))
                .fold(0, |m, b| m | 1 << b),
            driving_licence: c.driving_licence,
            hours: c.hours_available,
            municipality: c.municipality.0,
            wishes: c.wished_occupations.iter().map(|&o| PackedOccupation::from(o)).collect(),
            urgency,
            weeks_avoidable,
            benefit_weeks_left,
            weekly_rate: f64::from(self.reference.weekly_rate_on(c.benefit.kind, self.today)),
            band: crate::effect::weeks_band(weeks_on_benefit) as u8,
            own_needs,
            current: current_original.map(|i| self.offers.internal[i as usize]),
            current_original,
            locked: c.current.as_ref().is_some_and(|a| a.locked),
            excluded,
            preferred: c.preferred_kinds.iter().fold(0u8, |m, k| m | 1 << (*k as u8)),
            policy: policy_index,
        })
    }

    /// The candidate's (lat, lon).
    pub fn candidate_location(view: &CandidateView) -> (f64, f64) {
        (view.lat, view.lon)
    }

    /// The candidate's urgency factor (0 to 1): how close the next legal deadline is (the
    /// 8-week assessment of sickness benefit, a re-assessment date); see [`urgency`].
    pub fn urgency(view: &CandidateView) -> f64 {
        view.urgency
    }

    /// The candidate's current offer by internal index (never pruned by the graph).
    pub(crate) fn current_internal(view: &CandidateView) -> Option<usize> {
        view.current.map(|k| k as usize)
    }

    /// The candidate's current offer, if it is in the data set.
    pub fn current_offer(view: &CandidateView) -> Option<u32> {
        view.current_original
    }

    /// The factor values of a pair, or the first hard limit it breaks. The one place where
    /// factors are computed.
    ///
    /// With `prune_below`, a pair whose upper bound (every factor computed so far exact, the
    /// rest at their best for this offer) is below it stops with [`Stop::Pruned`] before the
    /// costlier factors. Scores and explanations never prune.
    fn values(
        &self,
        c: &CandidateView,
        k: usize,
        policy: &Policy,
        prune_below: Option<i64>,
    ) -> Result<Values, Stop> {
        let squared = Self::squared_distance(c, &self.offers.hot[k]);
        self.values_at::<false>(c, k, policy, squared, prune_below)
    }

    /// [`Scorer::values`] of a pair whose squared distance the caller has already computed
    /// (the graph's scan settles most pairs by it alone, and needs it only once). With
    /// `CLOSED_TOO`, an offer without places is scored as if it had one (the price of one more
    /// place there, [`Scorer::scan_closed`]); a constant, so the graph's path keeps its check.
    #[inline(always)]
    fn values_at<const CLOSED_TOO: bool>(
        &self,
        c: &CandidateView,
        k: usize,
        policy: &Policy,
        squared: f64,
        prune_below: Option<i64>,
    ) -> Result<Values, Stop> {
        let p = self.prepare::<CLOSED_TOO>(c, k, policy, squared)?;
        if let Some(threshold) = prune_below
            && Self::below(self.bound(c, &p, policy), threshold)
        {
            return Err(Stop::Pruned);
        }
        self.values_prepared(c, &p, policy)
    }

    /// Whether a pair whose upper bound is `bound` cannot reach `threshold` points. Each of the 8
    /// rounded contributions exceeds its exact value by at most 0.5; the f32 bounds (relative
    /// error 6e-8) add far less than the remaining margin.
    #[inline(always)]
    fn below(bound: f64, threshold: i64) -> bool {
        bound + 8.0 < threshold as f64
    }

    /// The hard limits of a pair checked before its uplift is read, and the factors known by
    /// then: the first part of [`Scorer::values_at`].
    #[inline(always)]
    fn prepare<const CLOSED_TOO: bool>(
        &self,
        c: &CandidateView,
        k: usize,
        policy: &Policy,
        squared: f64,
    ) -> Result<Prepared, Removal> {
        let t = &self.offers;
        let h = &t.hot[k];
        // Distance first: it is the limit that removes most pairs the spatial index hands us,
        // and it lets the graph count the offers in reach whatever else removes them.
        if squared > c.reach_km * c.reach_km {
            return Err(Removal::OutOfReach { distance_km: squared.sqrt(), limit_km: c.reach_km });
        }
        if !c.excluded.is_empty() && c.excluded.binary_search(&(k as u32)).is_ok() {
            return Err(Removal::Excluded);
        }
        if !c.own_needs.is_empty() && c.own_needs.binary_search(&(k as u32)).is_ok() {
            return Err(Removal::OwnNeed);
        }
        if !CLOSED_TOO && !h.open {
            return Err(Removal::NoCapacity);
        }
        // The groups through which this candidate is eligible for this offer.
        let shared = if h.groups.is_empty() { c.groups } else { GroupSet(c.groups.0 & h.groups.0) };
        if !h.groups.is_empty() && shared.is_empty() {
            return Err(Removal::GroupNotServed);
        }
        if h.serves_len > 0 {
            let start = h.serves_start as usize;
            if !t.serves_flat[start..start + h.serves_len as usize].contains(&c.municipality) {
                return Err(Removal::OutsideServiceArea);
            }
        }
        if h.licence && !c.driving_licence {
            return Err(Removal::DrivingLicence);
        }
        if h.languages != 0 && h.languages & c.languages == 0 {
            return Err(Removal::Language);
        }
        if c.hours < h.min_hours {
            return Err(Removal::Hours { needed: h.min_hours, available: c.hours });
        }
        let level = if h.occupations_len == 0 || c.wishes.is_empty() {
            Prepared::NO_LEVEL
        } else {
            let start = h.occupations_start as usize;
            let mut best = 0u8;
            for a in &t.occupations_flat[start..start + h.occupations_len as usize] {
                for b in &c.wishes {
                    best = best.max(a.shared_level(*b));
                }
            }
            let required = policy.limits.job_min_shared_level;
            if matches!(h.kind, OfferKind::Job | OfferKind::WorkTrial) && best < required {
                return Err(Removal::Occupation { shared_level: best, required });
            }
            best
        };
        // The square root waits until every hard limit has passed: most pairs in reach fail one.
        let distance = squared.sqrt();
        let continuity = c.current == Some(k as u32);
        let preference = match c.preferred {
            0 => 1,
            mask if mask & (1 << (h.kind as u8)) != 0 => 2,
            _ => 0,
        };
        let nearness = if c.reach_km > 0.0 { (1.0 - distance / c.reach_km).clamp(0.0, 1.0) } else { 1.0 };
        Ok(Prepared { distance, nearness, k: k as u32, level, continuity, preference })
    }

    /// A prepared pair's upper bound, points before rounding: every factor computed so far
    /// exact, the rest at their best for this offer.
    #[inline(always)]
    fn bound(&self, c: &CandidateView, p: &Prepared, policy: &Policy) -> f64 {
        let h = &self.offers.hot[p.k as usize];
        let w = &policy.weights;
        let weeks = Self::weeks_avoided(c, h);
        let best_effect = f64::from(h.max_success) * weeks * c.weekly_rate + h.effect_base;
        1000.0
            * (w.group_fit * f64::from(h.group_fit)
                + w.evidence * f64::from(h.max_lift)
                + w.distance * p.nearness
                + w.occupation * p.occupation()
                + w.urgency * c.urgency
                + w.effect * (0.5 + best_effect / (2.0 * policy.effect.scale_dkk)).clamp(0.0, 1.0)
                + w.continuity * p.continuity()
                + w.preference * p.preference())
    }

    /// The rest of [`Scorer::values_at`] for a prepared pair: its uplift, effect and the
    /// minimums on them.
    #[inline(always)]
    fn values_prepared(&self, c: &CandidateView, p: &Prepared, policy: &Policy) -> Result<Values, Stop> {
        let t = &self.offers;
        let k = p.k as usize;
        let h = &t.hot[k];
        let Prepared { distance, nearness, .. } = *p;
        let (occupation, continuity, preference) = (p.occupation(), p.continuity(), p.preference());
        // Uplift over no offer for the candidate's weeks band, and how well it is documented,
        // averaged over the candidate's groups that the offer serves and those it does not
        // serve but the history measured at it (candidates of that group who came in through
        // another: the best guess of a candidate in both); unmeasured ones are NaN.
        let (mut uplift, mut evidence, mut high, mut n) = (0.0, 0.0, 0.0, 0.0);
        let first = (usize::from(c.band) * t.hot.len() + k) * self.n_groups;
        let row = &t.uplift[first..first + self.n_groups];
        let mut bits = c.groups.0;
        while bits != 0 {
            let g = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let [mean, documented, top] = row[g];
            if mean.is_nan() {
                continue;
            }
            evidence += f64::from(documented);
            uplift += f64::from(mean);
            high += f64::from(top);
            n += 1.0;
        }
        let (uplift, evidence, uplift_high) =
            if n > 0.0 { (uplift / n, evidence / n, high / n) } else { (0.0, 0.0, 0.0) };
        let weeks_avoided = Self::weeks_avoided(c, h);
        let effect_dkk = uplift * weeks_avoided * c.weekly_rate + h.effect_base;
        let effect_high_dkk = uplift_high * weeks_avoided * c.weekly_rate + h.effect_base;
        // An offer with a price (its part of the effect that does not depend on the candidate
        // is below 0: only a price makes it so) is bound by the course minimums as well.
        let priced = h.effect_base < 0.0;
        let course_minimum = if priced { policy.limits.min_course_effect_dkk } else { None };
        let minimum = match (policy.limits.min_effect_dkk, course_minimum) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        if let Some(minimum) = minimum
            && effect_dkk < minimum
        {
            return Err(Removal::BelowMinimumEffect { effect_dkk, minimum_dkk: minimum }.into());
        }
        if priced
            && let Some(minimum) = policy.limits.min_course_effect_high_dkk
            && effect_high_dkk < minimum
        {
            return Err(
                Removal::BelowMinimumEffect { effect_dkk: effect_high_dkk, minimum_dkk: minimum }.into()
            );
        }
        let effect = (0.5 + effect_dkk / (2.0 * policy.effect.scale_dkk)).clamp(0.0, 1.0);
        Ok(Values {
            values: [
                f64::from(h.group_fit),
                evidence,
                nearness,
                occupation,
                c.urgency,
                effect,
                continuity,
                preference,
            ],
            distance_km: distance,
            effect_dkk,
            uplift,
            weeks_avoided,
            effect_high_dkk,
        })
    }

    /// Benefit weeks a success of this pair avoids: the weeks left when the offer can start
    /// (from its next start to the benefit's legal end, so an offer that cannot start before
    /// the benefit ends avoids nothing), less half the offer's duration (a success comes, on
    /// average, half-way through), never below 0. Never more than
    /// [`CandidateView::weeks_avoidable`] (starting today), which keeps that the pruning bound.
    #[inline]
    fn weeks_avoided(c: &CandidateView, h: &HotOffer) -> f64 {
        let after_start = match c.benefit_weeks_left {
            Some(left) if h.start_delay_days > 0 => {
                (left - f64::from(h.start_delay_days) / 7.0).clamp(0.0, c.weeks_avoidable)
            }
            _ => c.weeks_avoidable,
        };
        (after_start - 0.5 * f64::from(h.duration_weeks)).max(0.0)
    }

    #[inline]
    fn points(values: &[f64; 8], policy: &Policy) -> [i64; 8] {
        let w = &policy.weights;
        let weights = [
            w.group_fit,
            w.evidence,
            w.distance,
            w.occupation,
            w.urgency,
            w.effect,
            w.continuity,
            w.preference,
        ];
        // Round half up. Weights and values are never negative, so adding 0.5 and truncating
        // is exact rounding, and unlike `f64::round` it needs no libm call on baseline x86-64.
        std::array::from_fn(|i| {
            debug_assert!(weights[i] >= 0.0 && values[i] >= 0.0);
            (weights[i] * values[i] * 1000.0 + 0.5) as i64
        })
    }

    /// The score of a pair in integer points, or the hard limit that removes it. The hot path:
    /// no allocation.
    ///
    /// # Panics
    /// When `offer` is not an offer index of the data set.
    #[inline]
    pub fn score(&self, c: &CandidateView, offer: usize) -> Result<i64, Removal> {
        self.score_internal(c, self.offers.internal[offer] as usize)
    }

    /// [`Scorer::score`] by internal index, for the graph's scan in spatial order.
    #[inline]
    pub(crate) fn score_internal(&self, c: &CandidateView, k: usize) -> Result<i64, Removal> {
        match self.scan(c, k, None) {
            Scan::Scored(total) => Ok(total),
            Scan::Removed(removal) => Err(removal),
            Scan::OutOfReach => {
                let distance_km = Self::squared_distance(c, &self.offers.hot[k]).sqrt();
                Err(Removal::OutOfReach { distance_km, limit_km: c.reach_km })
            }
            Scan::Pruned => unreachable!("nothing is pruned without a threshold"),
        }
    }

    /// Scores the pair at internal index `k`, skipping it when it cannot reach `prune_below`
    /// points. The graph's scan.
    #[inline]
    pub(crate) fn scan(&self, c: &CandidateView, k: usize, prune_below: Option<i64>) -> Scan {
        self.scan_with::<false>(c, k, prune_below)
    }

    /// [`Scorer::scan`] of a pair whose offer has no places tonight, as if it had one: every
    /// other hard limit applies. For the price of one more place at such an offer (its pairs
    /// are never in the graph).
    pub(crate) fn scan_closed(&self, c: &CandidateView, k: usize, prune_below: Option<i64>) -> Scan {
        self.scan_with::<true>(c, k, prune_below)
    }

    /// Whether the offer at internal index `k` has places tonight.
    pub(crate) fn is_open(&self, k: usize) -> bool {
        self.offers.hot[k].open
    }

    #[inline(always)]
    fn scan_with<const CLOSED_TOO: bool>(
        &self,
        c: &CandidateView,
        k: usize,
        prune_below: Option<i64>,
    ) -> Scan {
        // Most visited pairs are out of reach; settle them by squared distance alone, before
        // anything needs the distance itself.
        let squared = Self::squared_distance(c, &self.offers.hot[k]);
        if squared > c.reach_km * c.reach_km {
            return Scan::OutOfReach;
        }
        let policy = self.policies.get(c.policy);
        Self::scan_of(self.values_at::<CLOSED_TOO>(c, k, policy, squared, prune_below), policy)
    }

    /// [`Scorer::scan`] of a pair the caller has already found in reach: `squared` is its
    /// squared distance as [`Scorer::squared_distances`] computes it. The graph's walk, which
    /// settles the pairs out of reach a span of offers at a time.
    #[inline]
    pub(crate) fn scan_in_reach(
        &self,
        c: &CandidateView,
        k: usize,
        squared: f64,
        prune_below: Option<i64>,
    ) -> Scan {
        debug_assert!(squared.to_bits() == Self::squared_distance(c, &self.offers.hot[k]).to_bits());
        let policy = self.policies.get(c.policy);
        Self::scan_of(self.values_at::<false>(c, k, policy, squared, prune_below), policy)
    }

    /// The first part of [`Scorer::scan_in_reach`]: the pair's hard limits checked before its
    /// uplift is read, and its upper bound (points before rounding; see
    /// [`Scorer::scan_prepared`]). The graph's rows check every pair in reach so first, then
    /// score the best bounds first, so that the row's `k`-th best is found early and most of
    /// the rest are pruned unscored.
    #[inline]
    pub(crate) fn prepare_in_reach(
        &self,
        c: &CandidateView,
        k: usize,
        squared: f64,
    ) -> Result<(Prepared, f64), Removal> {
        debug_assert!(squared.to_bits() == Self::squared_distance(c, &self.offers.hot[k]).to_bits());
        let policy = self.policies.get(c.policy);
        let p = self.prepare::<false>(c, k, policy, squared)?;
        Ok((p, self.bound(c, &p, policy)))
    }

    /// [`Scorer::scan_in_reach`] of a prepared pair whose bound is `bound`: the same answer,
    /// pruned when the bound is below `prune_below` as the scan would prune it.
    #[inline]
    pub(crate) fn scan_prepared(
        &self,
        c: &CandidateView,
        p: &Prepared,
        bound: f64,
        prune_below: Option<i64>,
    ) -> Scan {
        let policy = self.policies.get(c.policy);
        if let Some(threshold) = prune_below
            && Self::below(bound, threshold)
        {
            return Scan::Pruned;
        }
        Self::scan_of(self.values_prepared(c, p, policy), policy)
    }

    /// A pair's scan from its values: its points, or its removal (also when the points are
    /// below the policy's minimum score), or its pruning.
    #[inline(always)]
    fn scan_of(values: Result<Values, Stop>, policy: &Policy) -> Scan {
        let v = match values {
            Ok(v) => v,
            Err(Stop::Removed(removal)) => return Scan::Removed(removal),
            Err(Stop::Pruned) => return Scan::Pruned,
        };
        let total: i64 = Self::points(&v.values, policy).iter().sum();
        if total < policy.limits.min_score {
            return Scan::Removed(Removal::BelowMinimumScore {
                score: total,
                minimum: policy.limits.min_score,
            });
        }
        Scan::Scored(total)
    }

    /// Every hard limit a pair at internal index `k` breaks, each checked on its own (the
    /// scoring path stops at the first one); a pair out of reach answers only that. For the fairness report's account of why a
    /// candidate got nothing, never for scoring. The policy's minimums are checked only when
    /// no other limit is broken (they need the pair's values).
    pub(crate) fn limits_broken(&self, c: &CandidateView, k: usize) -> LimitsBroken {
        let t = &self.offers;
        let h = &t.hot[k];
        let mut broken = LimitsBroken::default();
        if Self::squared_distance(c, h) > c.reach_km * c.reach_km {
            // Out of reach settles it: the caller skips such offers whatever else they break.
            return LimitsBroken(LimitsBroken::OUT_OF_REACH);
        }
        if c.excluded.binary_search(&(k as u32)).is_ok() {
            broken.0 |= LimitsBroken::EXCLUDED;
        }
        if !h.open {
            broken.0 |= LimitsBroken::NO_CAPACITY;
        }
        let own_need = c.own_needs.binary_search(&(k as u32)).is_ok();
        let group = !h.groups.is_empty() && c.groups.0 & h.groups.0 == 0;
        let area = h.serves_len > 0 && {
            let start = h.serves_start as usize;
            !t.serves_flat[start..start + h.serves_len as usize].contains(&c.municipality)
        };
        let licence = h.licence && !c.driving_licence;
        let hours = c.hours < h.min_hours;
        let occupation = h.occupations_len > 0
            && !c.wishes.is_empty()
            && matches!(h.kind, OfferKind::Job | OfferKind::WorkTrial)
            && {
                let start = h.occupations_start as usize;
                let best = t.occupations_flat[start..start + h.occupations_len as usize]
                    .iter()
                    .flat_map(|a| c.wishes.iter().map(move |b| a.shared_level(*b)))
                    .max()
                    .unwrap_or(0);
                best < self.policies.get(c.policy).limits.job_min_shared_level
            };
        if own_need || group || area || licence || hours || occupation {
            broken.0 |= LimitsBroken::ELIGIBILITY;
        }
        if h.languages != 0 && h.languages & c.languages == 0 {
            broken.0 |= LimitsBroken::LANGUAGE;
        }
        if broken.0 == 0
            && let Scan::Removed(Removal::BelowMinimumScore { .. } | Removal::BelowMinimumEffect { .. }) =
                self.scan(c, k, None)
        {
            broken.0 |= LimitsBroken::BELOW_MINIMUM;
        }
        broken
    }

    /// Squared distance in km², as [`distance_km`] computes it.
    #[inline]
    fn squared_distance(c: &CandidateView, h: &HotOffer) -> f64 {
        Self::squared_to(c, h.lat, h.lon)
    }

    /// The one formula of a pair's squared distance, km²: every caller gets the same bits.
    #[inline(always)]
    fn squared_to(c: &CandidateView, lat: f32, lon: f32) -> f64 {
        let dy = (f64::from(lat) - c.lat) * KM_PER_DEGREE;
        let dx = (f64::from(lon) - c.lon) * KM_PER_DEGREE * c.cos_lat;
        dx * dx + dy * dy
    }

    /// The squared distances from the candidate to offers at `lats[i], lons[i]` (an offer's
    /// own `f32` location, as the scorer holds it) into `out[i]`, bit for bit as the scan
    /// computes them; a pair is in reach when its value is not above
    /// [`Scorer::reach_squared`]. One branch-free loop that the compiler vectorises.
    #[inline]
    pub(crate) fn squared_distances(c: &CandidateView, lats: &[f32], lons: &[f32], out: &mut [f64]) {
        for ((o, &lat), &lon) in out.iter_mut().zip(lats).zip(lons) {
            *o = Self::squared_to(c, lat, lon);
        }
    }

    /// The candidate's travel limit squared, km²: a pair whose squared distance is above it is
    /// out of reach.
    #[inline]
    pub(crate) fn reach_squared(c: &CandidateView) -> f64 {
        c.reach_km * c.reach_km
    }

    /// The hard limits of the offer at internal index `k` that a pair's walk can test from
    /// two fields of the candidate ([`OfferFacts`]), packed: the hours it needs, whether it
    /// needs a driving licence, whether it has no places.
    pub(crate) fn offer_facts(&self, k: usize) -> u16 {
        let h = &self.offers.hot[k];
        u16::from(h.min_hours) | u16::from(h.licence) << 8 | u16::from(!h.open) << 9
    }

    /// The candidate's side of [`Scorer::offer_facts`].
    pub(crate) fn offer_facts_test(c: &CandidateView) -> OfferFacts {
        OfferFacts {
            hours: u16::from(c.hours),
            no_licence: if c.driving_licence { 0 } else { OfferFacts::LICENCE },
            plain: c.excluded.is_empty() && c.own_needs.is_empty(),
        }
    }

    /// The points of each factor (in [`Factor::ALL`] order), the distance and the expected
    /// effect in DKK of a feasible pair: what a proposal row shows, without the evidence
    /// intervals of [`Scorer::explain`].
    pub fn breakdown(&self, c: &CandidateView, offer: usize) -> Result<Breakdown, Removal> {
        let policy = self.policies.get(c.policy);
        let v = match self.values(c, self.offers.internal[offer] as usize, policy, None) {
            Ok(v) => v,
            Err(Stop::Removed(removal)) => return Err(removal),
            Err(Stop::Pruned) => unreachable!("nothing is pruned without a threshold"),
        };
        Ok(Breakdown {
            points: Self::points(&v.values, policy),
            distance_km: v.distance_km,
            effect_dkk: v.effect_dkk,
            uplift: v.uplift,
            weeks_avoided: v.weeks_avoided,
            effect_high_dkk: v.effect_high_dkk,
        })
    }

    /// Every factor behind a pair's score, or the hard limit that removes it.
    ///
    /// # Errors
    /// [`Error::Problem`] when an index is out of range. A removed pair is `Ok(Err(removal))`.
    pub fn explain(&self, candidate: usize, offer: usize) -> Result<Result<Explanation, Removal>> {
        let c = self
            .data
            .candidates
            .get(candidate)
            .ok_or_else(|| Error::Problem(format!("candidate index {candidate} out of range")))?;
        self.explain_candidate(c, offer)
    }

    /// [`Scorer::explain`] for any candidate, in the data set or not.
    ///
    /// # Errors
    /// [`Error::Problem`] when the offer index is out of range or the candidate's benefit kind
    /// does not exist. A removed pair is `Ok(Err(removal))`.
    pub fn explain_candidate(
        &self,
        candidate: &Candidate,
        offer: usize,
    ) -> Result<Result<Explanation, Removal>> {
        if offer >= self.n_offers() {
            return Err(Error::Problem(format!("offer index {offer} out of range")));
        }
        let c = self.view(candidate)?;
        let policy = self.policies.get(c.policy);
        let v = match self.values(&c, self.offers.internal[offer] as usize, policy, None) {
            Ok(v) => v,
            Err(Stop::Removed(removal)) => return Ok(Err(removal)),
            Err(Stop::Pruned) => unreachable!("nothing is pruned without a threshold"),
        };
        let points = Self::points(&v.values, policy);
        let total: i64 = points.iter().sum();
        if total < policy.limits.min_score {
            return Ok(Err(Removal::BelowMinimumScore { score: total, minimum: policy.limits.min_score }));
        }
        let contributions = Factor::ALL
            .iter()
            .zip(v.values.iter().zip(points))
            .map(|(&factor, (&value, points))| Contribution {
                factor,
                value,
                weight: factor.weight(policy),
                points,
            })
            .collect();
        let offer_groups = self.offers.hot[self.offers.internal[offer] as usize].groups;
        let shared = if offer_groups.is_empty() { c.groups } else { GroupSet(c.groups.0 & offer_groups.0) };
        let evidence = shared
            .iter()
            .filter_map(|g| {
                let group = self.reference.target_groups.get(usize::from(g.0))?;
                let (s, n) = self.data.offers[offer]
                    .evidence
                    .iter()
                    .filter(|e| e.group == g)
                    .fold((0u32, 0u32), |(s, n), e| {
                        (s.saturating_add(e.successes), n.saturating_add(e.trials))
                    });
                let posterior =
                    self.posteriors.posterior(s, n, group.prior_success_rate, group.prior_strength);
                let gi = usize::from(g.0);
                let counts = self.effects.offer_counts(offer, gi);
                let uplift = self.effects.uplift(offer, gi, usize::from(c.band));
                let no_offer_rate = self.effects.no_offer.group_rate(gi);
                let adjusted_rate =
                    (no_offer_rate + self.effects.offer_uplift(offer, gi).mean).clamp(0.0, 1.0);
                let (shown_s, shown_n) = (
                    posterior.successes.saturating_add(counts.observed as u32),
                    posterior.trials.saturating_add(counts.episodes),
                );
                Some(GroupEvidence {
                    group: group.code.clone(),
                    group_average: group.prior_success_rate,
                    posterior,
                    episodes: counts.episodes,
                    episode_successes: counts.observed as u32,
                    no_offer_rate,
                    adjusted_rate,
                    uplift: uplift.mean,
                    uplift_low: uplift.low(),
                    uplift_high: uplift.high(),
                    reading_da: evidence_reading_da(
                        shown_s,
                        shown_n,
                        adjusted_rate,
                        uplift.mean,
                        uplift.low(),
                        uplift.high(),
                    ),
                })
            })
            .collect();
        Ok(Ok(Explanation {
            total,
            contributions,
            distance_km: v.distance_km,
            effect_dkk: v.effect_dkk,
            weeks_avoidable: v.weeks_avoided,
            uplift: v.uplift,
            evidence,
            policy: policy.name.clone(),
        }))
    }
}

/// Urgency of a candidate: a legal deadline to meet, never a reward for waiting.
///
/// The deadlines are the 8-week assessment of sickness benefit (8 weeks after the benefit
/// starts) and the benefit's re-assessment date. Urgency rises from 0 to 1 over the
/// `horizon_weeks` before the next deadline still ahead, and is 0 when none is within the
/// horizon. The benefit's end date is *not* a deadline: a case near its end is worth little
/// (few weeks left to avoid), and rewarding it would reward waiting.
pub fn urgency(c: &Candidate, today: Date, sickness_kind: Option<u8>, horizon_weeks: f64) -> f64 {
    let assessment = (Some(c.benefit.kind) == sickness_kind).then(|| c.benefit.start.plus_days(56));
    let next = [assessment, c.benefit.reassessment].into_iter().flatten().filter(|d| *d >= today).min();
    match next {
        None => 0.0,
        Some(date) if horizon_weeks > 0.0 => {
            let weeks_left = f64::from(today.days_until(date)) / 7.0;
            (1.0 - weeks_left / horizon_weeks).clamp(0.0, 1.0)
        }
        Some(_) => 0.0,
    }
}

#[cfg(test)]
pub(crate) mod tests;
