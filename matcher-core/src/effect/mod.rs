//! Effects as uplift over doing nothing, learned from the episode history with its case mix.
//!
//! Owns the estimation: from [`Dataset::outcomes`] (finished episodes, with or without an
//! offer) and the old `evidence` counts it estimates, for every offer, target group and band
//! of time on benefit, the **uplift**: the extra chance of leaving benefit for work or
//! education *because of* the offer, compared with candidates of the same case mix who got no
//! offer. It must not read files, score pairs or choose offers; [`crate::score`] reads the
//! estimates through [`EffectModel::uplift`].
//!
//! # How
//! 1. **No-offer rate** per target group × case-mix cell (weeks-on-benefit band × age band ×
//!    benefit kind), from the episodes without an offer, each level shrunk toward the one
//!    above (cell → group × band → group → the group's prior from the reference data) with a
//!    Beta prior ([`crate::score::evidence::posterior_mean`]).
//! 2. **Direct comparison on the offer's own case mix**: for an offer and group, its successes
//!    `S` over `n` episodes are compared with `E`, the sum of the no-offer rates of those same
//!    episodes' cells. `(S − E) / n` is the offer's raw uplift, with the binomial variance of
//!    its observed rate.
//! 3. **Hierarchical shrinkage** (normal–normal, precision weighted): group level → 0 uplift,
//!    provider → group, offer → provider, offer × weeks band → offer. Each level's posterior
//!    is the prior of the level below, widened by that level's spread ([`Spread`]). The
//!    group level is held close to 0 (`Spread::group`): the history's offers for a group are
//!    the ones caseworkers chose for it, so their average says little about an offer rarely
//!    chosen for it, and an unmeasured offer starts from no uplift. The band's prior is the
//!    offer estimated from its other bands, moved by the shape the provider's *other* offers
//!    show over the bands ([`band_shape`]): offers of a provider share its method, and
//!    confounding leaves an offer few episodes in the bands it rarely served. The old
//!    `evidence` counts enter as one more, deliberately noisy, observation (success rate minus
//!    the group's prior rate, with an extra bias variance because those counts carry no case
//!    mix): a provider's other offers' counts at the provider level (a new course of a known
//!    provider starts from its record), the offer's own at the offer level, and only the
//!    trials beyond the history's episodes of the same offers ([`beyond_history`]: the rows
//!    count the same courses). No trials, no information: with no history and no evidence an
//!    offer gets the prior, uplift 0 with the prior's width.
//! 4. The 90 % interval is the normal one, mean ± 1.645 sd.
//!
//! # The assumption and its limits
//! The estimate is an effect only if candidates who got an offer and those who did not are
//! **comparable on what we observe**: target group, time on benefit, age band and benefit
//! kind. Whatever else steered who got which offer (motivation, health, a caseworker's
//! judgement) is not adjusted for and biases the uplift, most likely upward for offers that
//! pick promising candidates. Cells with few episodes borrow from the level above, so a small
//! provider's figure says more about its group than about itself; the interval says how much.
//! Effects on candidates unlike any in the history (a band an offer never saw) are the
//! offer's average uplift, not a measurement. `docs/effects.md` states the same for readers.

pub mod world;

use crate::FastMap;
use crate::model::{AgeBand, Dataset, GroupSet, ReferenceData};
use crate::score::evidence::posterior_mean;
use serde::{Deserialize, Serialize};

/// z of the central 90 % interval of a normal distribution (scipy.stats.norm.ppf(0.95)).
pub const Z90: f64 = 1.644_853_626_951_472_2;

/// Upper ends of the weeks-on-benefit bands: under 13, 13–25, 26–51, 52–103, 104 and more.
pub const WEEKS_BANDS: [f64; 4] = [13.0, 26.0, 52.0, 104.0];
/// Number of weeks-on-benefit bands.
pub const N_BANDS: usize = WEEKS_BANDS.len() + 1;

/// The band of a number of weeks on benefit.
pub fn weeks_band(weeks: f64) -> usize {
    WEEKS_BANDS.iter().take_while(|&&upper| weeks >= upper).count()
}

/// A label of a weeks band, e.g. `26-51`.
pub fn band_label(band: usize) -> &'static str {
    ["0-12", "13-25", "26-51", "52-103", "104+"].get(band).copied().unwrap_or("?")
}

/// Beta prior strength (pseudo-episodes) of a no-offer cell toward the level above.
const BASELINE_STRENGTH: f64 = 4.0;

/// How far each level of the hierarchy may lie from the one above: the prior standard
/// deviations of the normal–normal shrinkage, as shares (0.05 = 5 percentage points).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// A group's average uplift around 0. Small on purpose: the history's offers for a group
    /// are those caseworkers chose for it, so their average says little about an offer rarely
    /// chosen for it. An offer (and provider) without a record for a group starts from no
    /// uplift, with the provider's and offer's spreads as its width (`docs/effects.md`).
    pub group: f64,
    /// A provider around its group.
    pub provider: f64,
    /// An offer around its provider.
    pub offer: f64,
    /// A weeks band around its offer.
    pub band: f64,
    /// Extra standard deviation of an `evidence` success rate used as an uplift (no case mix).
    pub evidence_bias: f64,
}

impl Spread {
    /// The prior standard deviation of an offer nobody has measured: group, provider and offer
    /// spreads together.
    pub fn unmeasured(self) -> f64 {
        (self.group.powi(2) + self.provider.powi(2) + self.offer.powi(2)).sqrt()
    }
}

impl Default for Spread {
    fn default() -> Self {
        Spread { group: 0.01, provider: 0.06, offer: 0.05, band: 0.08, evidence_bias: 0.08 }
    }
}

/// A normal estimate of an uplift: mean and standard deviation, as shares.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Posterior mean uplift (−1 to 1).
    pub mean: f64,
    /// Posterior standard deviation.
    pub sd: f64,
}

impl Estimate {
    /// The prior: no uplift, with standard deviation `sd`.
    pub fn prior(sd: f64) -> Estimate {
        Estimate { mean: 0.0, sd }
    }

    /// Lower end of the 90 % interval.
    pub fn low(self) -> f64 {
        self.mean - Z90 * self.sd
    }

    /// Upper end of the 90 % interval.
    pub fn high(self) -> f64 {
        self.mean + Z90 * self.sd
    }

    /// The posterior after observing `observed` with variance `variance`, this being the
    /// prior (precision weighting). A non-positive or non-finite variance adds nothing.
    pub fn update(self, observed: f64, variance: f64) -> Estimate {
        if !(variance.is_finite() && variance > 0.0) {
            return self;
        }
        let prior_precision = 1.0 / (self.sd * self.sd);
        let precision = prior_precision + 1.0 / variance;
        Estimate {
            mean: (self.mean * prior_precision + observed / variance) / precision,
            sd: (1.0 / precision).sqrt(),
        }
    }

    /// This estimate as the prior of a weeks band that may lie `spread` away from it, moved by
    /// what the provider's other offers show of the band ([`BandShape`]): the mean moves by
    /// the shape's shift and the spread narrows by the share of it the shape explains.
    pub fn shifted(self, shape: BandShape, spread: f64) -> Estimate {
        let left = spread * spread * (1.0 - shape.explained);
        Estimate { mean: self.mean + shape.shift, sd: (self.sd * self.sd + left).sqrt() }
    }

    /// This estimate as the prior of a level below that may lie `spread` away from it.
    pub fn widen(self, spread: f64) -> Estimate {
        Estimate { mean: self.mean, sd: (self.sd * self.sd + spread * spread).sqrt() }
    }
}

/// How a provider's *other* offers fare in one weeks band against their other bands: the
/// shift that band's uplift shows, shrunk toward none, and the share of the band's spread it
/// explains. Offers of a provider share its method, so where an offer has few episodes in a
/// band its siblings' shape over the bands is the best guess of its own.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BandShape {
    /// Shift of the band's uplift from the offer's other bands, shares.
    pub shift: f64,
    /// Share (0–1) of the band's prior variance the shift explains.
    pub explained: f64,
}

/// The [`BandShape`] from the siblings' comparison in the band (`in_band`) and over all their
/// bands (`all`), with the band's prior spread `spread`. None (no shift) where either side has
/// no episodes.
pub fn band_shape(in_band: &Comparison, all: &Comparison, spread: f64) -> BandShape {
    let rest = all.without(in_band);
    let (Some((d_band, v_band)), Some((d_rest, v_rest))) = (in_band.raw_uplift(), rest.raw_uplift()) else {
        return BandShape::default();
    };
    let tau2 = spread * spread;
    let explained = tau2 / (tau2 + v_band + v_rest);
    BandShape { shift: explained * (d_band - d_rest), explained }
}

/// Counts of one comparison: episodes with the offer, their successes, and the successes the
/// no-offer rates of their cells predict.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// Episodes.
    pub episodes: u32,
    /// Successes observed.
    pub observed: f64,
    /// Successes expected without the offer, from each episode's case-mix cell.
    pub expected: f64,
}

impl Comparison {
    fn add(&mut self, success: bool, expected: f64) {
        self.episodes += 1;
        self.observed += f64::from(u8::from(success));
        self.expected += expected;
    }

    fn merge(&mut self, other: &Comparison) {
        self.episodes += other.episodes;
        self.observed += other.observed;
        self.expected += other.expected;
    }

    /// These counts without `part` (a subset of them).
    fn without(&self, part: &Comparison) -> Comparison {
        Comparison {
            episodes: self.episodes.saturating_sub(part.episodes),
            observed: (self.observed - part.observed).max(0.0),
            expected: (self.expected - part.expected).max(0.0),
        }
    }

    /// The raw uplift `(S − E) / n` and its variance (binomial, on the observed rate smoothed
    /// by half a success), or `None` without episodes.
    pub fn raw_uplift(&self) -> Option<(f64, f64)> {
        if self.episodes == 0 {
            return None;
        }
        let n = f64::from(self.episodes);
        let p = (self.observed + 0.5) / (n + 1.0);
        Some(((self.observed - self.expected) / n, p * (1.0 - p) / n))
    }
}

/// The case-mix cell of a candidate or episode, without its group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CaseMix {
    /// Weeks-on-benefit band ([`weeks_band`]).
    pub band: usize,
    /// Age band.
    pub age: AgeBand,
    /// Benefit kind index.
    pub kind: u8,
}

/// No-offer success rates per group and case-mix cell, shrunk level by level.
#[derive(Debug, Clone, Default)]
pub struct NoOfferRates {
    group: Vec<f64>,
    group_band: Vec<[f64; N_BANDS]>,
    cell: FastMap<(u8, CaseMix), f64>,
}

impl NoOfferRates {
    /// Estimates the rates from the episodes without an offer. `prior` is each group's prior
    /// success rate and its strength (the reference data's target groups).
    pub fn estimate(data: &Dataset, prior: &[(f64, f64)]) -> NoOfferRates {
        let n_groups = prior.len();
        let mut group = vec![(0u32, 0u32); n_groups];
        let mut group_band = vec![[(0u32, 0u32); N_BANDS]; n_groups];
        let mut cell: FastMap<(u8, CaseMix), (u32, u32)> = FastMap::default();
        for e in data.outcomes.iter().filter(|e| e.offer.is_none()) {
            let mix = episode_mix(e);
            for g in e.target_groups.iter().filter(|g| usize::from(g.0) < n_groups) {
                let s = u32::from(e.success);
                let gi = usize::from(g.0);
                group[gi].0 += s;
                group[gi].1 += 1;
                group_band[gi][mix.band].0 += s;
                group_band[gi][mix.band].1 += 1;
                let c = cell.entry((g.0, mix)).or_default();
                c.0 += s;
                c.1 += 1;
            }
        }
        let group: Vec<f64> = group
            .iter()
            .zip(prior)
            .map(|(&(s, n), &(rate, strength))| posterior_mean(s, n, rate, strength))
            .collect();
        let group_band: Vec<[f64; N_BANDS]> = group_band
            .iter()
            .zip(&group)
            .map(|(bands, &rate)| {
                std::array::from_fn(|b| posterior_mean(bands[b].0, bands[b].1, rate, BASELINE_STRENGTH))
            })
            .collect();
        let cell = cell
            .into_iter()
            .map(|((g, mix), (s, n))| {
                let above = group_band[usize::from(g)][mix.band];
                ((g, mix), posterior_mean(s, n, above, BASELINE_STRENGTH))
            })
            .collect();
        NoOfferRates { group, group_band, cell }
    }

    /// The no-offer success rate of group `g` in the cell `mix` (the level above where the
    /// cell has no episodes).
    pub fn rate(&self, g: usize, mix: CaseMix) -> f64 {
        if let Some(&rate) = self.cell.get(&(g as u8, mix)) {
            return rate;
        }
        self.group_band.get(g).map_or(0.0, |bands| bands[mix.band.min(N_BANDS - 1)])
    }

    /// The group's no-offer rate over all cells.
    pub fn group_rate(&self, g: usize) -> f64 {
        self.group.get(g).copied().unwrap_or(0.0)
    }
}

fn episode_mix(e: &crate::model::Episode) -> CaseMix {
    CaseMix { band: weeks_band(f64::from(e.weeks_on_benefit)), age: e.age_band, kind: e.benefit_kind }
}

/// One row of `quality.csv`: an offer's or provider's measured results for a target group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QualityRow {
    /// `offer` or `provider`.
    pub level: String,
    /// The offer or provider id.
    pub id: String,
    /// The offer's or provider's name.
    pub name: String,
    /// Target group code.
    pub group: String,
    /// Episodes with an offer of it in the history, for the group.
    pub episodes: u32,
    /// Observed success rate.
    pub observed_rate: f64,
    /// Success rate its candidates would have had without an offer (from their case mix).
    pub expected_rate: f64,
    /// Observed minus expected plus the group's no-offer rate: the rate on an average case mix.
    pub adjusted_rate: f64,
    /// Shrunk uplift over no offer.
    pub uplift: f64,
    /// Lower end of the uplift's 90 % interval.
    pub uplift_low: f64,
    /// Upper end of the uplift's 90 % interval.
    pub uplift_high: f64,
}

/// The estimates of one data set: what [`crate::score::Scorer`] reads.
#[derive(Debug, Clone)]
pub struct EffectModel {
    n_groups: usize,
    /// `[(offer × n_groups + group) × N_BANDS + band]`, offers in data-set order.
    uplift: Vec<Estimate>,
    /// Offer level, `[offer × n_groups + group]`.
    offer_level: Vec<Estimate>,
    /// The history's counts per offer and group, `[offer × n_groups + group]`.
    offer_counts: Vec<Comparison>,
    /// No-offer rates.
    pub no_offer: NoOfferRates,
    /// Episodes in the history (with and without an offer).
    pub episodes: usize,
    /// Per offer and provider × group with at least one episode.
    pub quality: Vec<QualityRow>,
    /// The level above the providers, kept for a new offer's estimates
    /// ([`EffectModel::with_new_offers`]).
    groups: GroupLevels,
}

/// What every provider's estimates start from: the spreads, each group's prior success rate
/// and strength (the reference data's), and the group level.
#[derive(Debug, Clone)]
struct GroupLevels {
    spread: Spread,
    prior: Vec<(f64, f64)>,
    level: Vec<Estimate>,
}

/// One provider's totals for one group, which each of its offers' estimates reads.
#[derive(Debug, Clone, Copy)]
struct ProviderGroup<'a> {
    /// The history's counts of the provider's offers.
    history: &'a Comparison,
    /// The same per band, `[band]`.
    bands: &'a [Comparison],
    /// The provider level.
    level: Estimate,
    /// The old evidence counts `(successes, trials)` of its offers, summed.
    evidence: (u32, u32),
}

/// One provider's totals per group, as its offers' estimates read them.
struct ProviderTotals {
    /// The history's counts of its offers, `[group]`.
    history: Vec<Comparison>,
    /// The same per band, `[group × N_BANDS + band]`.
    bands: Vec<Comparison>,
    /// The old evidence counts `(successes, trials)` of its offers, `[group]`.
    evidence: Vec<(u32, u32)>,
}

/// The estimate `prior` after the comparison `c` (itself, without episodes).
fn observe(prior: Estimate, c: &Comparison) -> Estimate {
    match c.raw_uplift() {
        Some((d, v)) => prior.update(d, v),
        None => prior,
    }
}

/// An offer's old evidence counts `(successes, trials)` for group `g`.
fn evidence_of(offer: &crate::model::Offer, g: usize) -> (u32, u32) {
    offer
        .evidence
        .iter()
        .filter(|e| usize::from(e.group.0) == g)
        .fold((0u32, 0u32), |(s, n), e| (s.saturating_add(e.successes), n.saturating_add(e.trials)))
}

/// The history's counts of some offers per group and band, kept only for the offers the
/// history names (most offers of a national data set have no episode: a zeroed table for all
/// of them was 47 MB to fault in, for every estimate).
struct BandCounts {
    /// Per offer (its place in the list counted): where its block starts in `counts`, or
    /// `NONE` without an episode.
    start: Vec<usize>,
    /// Blocks of `n_groups × N_BANDS`, `[group × N_BANDS + band]`.
    counts: Vec<Comparison>,
    block: usize,
}

impl BandCounts {
    const NONE: usize = usize::MAX;

    /// The offer's counts `[group × N_BANDS + band]`, if the history names it.
    fn of(&self, l: usize) -> Option<&[Comparison]> {
        let start = *self.start.get(l)?;
        (start != Self::NONE).then(|| &self.counts[start..start + self.block])
    }
}

/// The history's counts of `offers` (data-set indices) per group and band, episodes added in
/// the history's order; an offer's place in `offers` is its index in the result.
fn counts_by_band(data: &Dataset, offers: &[usize], no_offer: &NoOfferRates, n_groups: usize) -> BandCounts {
    let place: FastMap<&str, usize> =
        offers.iter().enumerate().map(|(l, &i)| (data.offers[i].id.as_str(), l)).collect();
    let block = n_groups * N_BANDS;
    let mut counts = BandCounts { start: vec![BandCounts::NONE; offers.len()], counts: Vec::new(), block };
    for e in &data.outcomes {
        let Some(&o) = e.offer.as_ref().and_then(|id| place.get(id.as_str())) else { continue };
        if counts.start[o] == BandCounts::NONE {
            counts.start[o] = counts.counts.len();
            counts.counts.resize(counts.counts.len() + block, Comparison::default());
        }
        let start = counts.start[o];
        let mix = episode_mix(e);
        for g in e.target_groups.iter().map(|g| usize::from(g.0)).filter(|&g| g < n_groups) {
            counts.counts[start + g * N_BANDS + mix.band].add(e.success, no_offer.rate(g, mix));
        }
    }
    counts
}

impl GroupLevels {
    /// A provider's level for group `g`, from its offers' history counts `c`.
    fn provider_level(&self, g: usize, c: &Comparison) -> Estimate {
        observe(self.level[g].widen(self.spread.provider), c)
    }

    /// A success rate without case mix, read as an uplift over the group's prior rate with an
    /// extra bias variance: prior information that the history refines. No trials, no
    /// information: the prior stays as it is.
    fn with_evidence(&self, estimate: Estimate, g: usize, (s, n): (u32, u32)) -> Estimate {
        if n == 0 {
            return estimate;
        }
        let rate = self.prior.get(g).map_or(0.0, |p| p.0);
        let p_hat = (f64::from(s) + 0.5) / (f64::from(n) + 1.0);
        let variance = p_hat * (1.0 - p_hat) / f64::from(n) + self.spread.evidence_bias.powi(2);
        estimate.update(f64::from(s) / f64::from(n) - rate, variance)
    }

    /// One offer's estimates for group `g`: its offer level, and its uplift per band pushed
    /// onto `uplift`. `own` is its history's counts for the group, `bands` the same per band.
    fn offer_group(
        &self,
        offer: &crate::model::Offer,
        g: usize,
        provider: ProviderGroup<'_>,
        own: &Comparison,
        bands: &[Comparison],
        uplift: &mut Vec<Estimate>,
    ) -> Estimate {
        // The provider's level informed by the evidence of its *other* offers (so a new
        // course of a known provider starts from the provider's record, and no count enters
        // twice), then the offer's own evidence.
        // The evidence rows count episodes the history may hold too (the same courses'
        // results without case mix): only trials beyond the history's episodes of the same
        // offer (or of the provider's other offers) are new information.
        let own_history = own.episodes;
        let siblings_history = provider.history.episodes.saturating_sub(own_history);
        let raw_own = evidence_of(offer, g);
        let total = provider.evidence;
        let raw_siblings = (total.0.saturating_sub(raw_own.0), total.1.saturating_sub(raw_own.1));
        let own_evidence = beyond_history(raw_own, own_history);
        let siblings_evidence = beyond_history(raw_siblings, siblings_history);
        let provider_prior = self.with_evidence(provider.level, g, siblings_evidence);
        let offer_prior = self.with_evidence(provider_prior.widen(self.spread.offer), g, own_evidence);
        let siblings = provider.history.without(own);
        for (b, band) in bands.iter().enumerate() {
            // The band's prior is the offer estimated from its *other* bands, so that the
            // band's own episodes are not counted twice.
            let others = observe(offer_prior, &own.without(band));
            let shape = band_shape(&provider.bands[b].without(band), &siblings, self.spread.band);
            uplift.push(observe(others.shifted(shape, self.spread.band), band));
        }
        observe(offer_prior, own)
    }
}

impl EffectModel {
    /// Estimates every offer's uplift from the data set's history and evidence.
    ///
    /// # Complexity
    /// O(episodes × groups per episode + offers × groups × bands).
    pub fn estimate(data: &Dataset, reference: &ReferenceData, spread: Spread) -> EffectModel {
        Self::estimate_sharing(data, reference, spread, true)
    }

    /// [`EffectModel::estimate`], with the estimates of offers without a record of their own
    /// for a group made once per provider (`share`) or once per offer (the tests' reference).
    fn estimate_sharing(
        data: &Dataset,
        reference: &ReferenceData,
        spread: Spread,
        share: bool,
    ) -> EffectModel {
        let n_groups = reference.target_groups.len().max(1);
        let prior: Vec<(f64, f64)> =
            reference.target_groups.iter().map(|g| (g.prior_success_rate, g.prior_strength)).collect();
        let no_offer = NoOfferRates::estimate(data, &prior);
        let mut provider_of: FastMap<&str, usize> = FastMap::default();
        // Each offer's provider index, looked up once.
        let provider_at: Vec<usize> = data
            .offers
            .iter()
            .map(|o| {
                let next = provider_of.len();
                *provider_of.entry(o.provider.as_str()).or_insert(next)
            })
            .collect();
        let n_providers = provider_of.len();
        let n_offers = data.offers.len();
        let all: Vec<usize> = (0..n_offers).collect();
        let by_band = counts_by_band(data, &all, &no_offer, n_groups);
        let mut by_offer = vec![Comparison::default(); n_offers * n_groups];
        let mut by_provider = vec![Comparison::default(); n_providers * n_groups];
        let mut by_group = vec![Comparison::default(); n_groups];
        // An offer without an episode adds nothing to any sum (its counts are zeros, and
        // `x + 0.0` is `x` for the non-negative sums here): it is skipped, bit for bit alike.
        for (o, &p) in provider_at.iter().enumerate() {
            let Some(bands) = by_band.of(o) else { continue };
            for g in 0..n_groups {
                for b in 0..N_BANDS {
                    let c = bands[g * N_BANDS + b];
                    by_offer[o * n_groups + g].merge(&c);
                    by_provider[p * n_groups + g].merge(&c);
                    by_group[g].merge(&c);
                }
            }
        }
        let mut by_provider_band = vec![Comparison::default(); n_providers * n_groups * N_BANDS];
        for (o, &p) in provider_at.iter().enumerate() {
            let Some(bands) = by_band.of(o) else { continue };
            let block = &mut by_provider_band[p * n_groups * N_BANDS..(p + 1) * n_groups * N_BANDS];
            for (sum, c) in block.iter_mut().zip(bands) {
                sum.merge(c);
            }
        }
        let groups = GroupLevels {
            spread,
            prior,
            level: by_group.iter().map(|c| observe(Estimate::prior(spread.group), c)).collect(),
        };
        let provider_level: Vec<Estimate> = (0..n_providers * n_groups)
            .map(|i| groups.provider_level(i % n_groups, &by_provider[i]))
            .collect();
        let mut provider_evidence = vec![(0u32, 0u32); n_providers * n_groups];
        for (offer, &p) in data.offers.iter().zip(&provider_at) {
            for g in 0..n_groups {
                let (s, n) = evidence_of(offer, g);
                let sum = &mut provider_evidence[p * n_groups + g];
                *sum = (sum.0.saturating_add(s), sum.1.saturating_add(n));
            }
        }
        let mut offer_level = Vec::with_capacity(n_offers * n_groups);
        let mut uplift = Vec::with_capacity(n_offers * n_groups * N_BANDS);
        // Most offers have neither history nor evidence for most groups: their estimates for
        // the group are their provider's, the same for every such offer of it (the same inputs
        // to the same arithmetic). Made once per provider and group, then copied: `unmeasured[pg]`
        // is where the first such offer's rows start in `offer_level`.
        let mut unmeasured = vec![usize::MAX; n_providers * n_groups];
        let none = [Comparison::default(); N_BANDS];
        for (o, offer) in data.offers.iter().enumerate() {
            let p = provider_at[o];
            for g in 0..n_groups {
                let (pg, og) = (p * n_groups + g, o * n_groups + g);
                let empty = share && by_offer[og].episodes == 0 && evidence_of(offer, g) == (0, 0);
                if empty && unmeasured[pg] != usize::MAX {
                    let at = unmeasured[pg];
                    offer_level.push(offer_level[at]);
                    uplift.extend_from_within(at * N_BANDS..(at + 1) * N_BANDS);
                    continue;
                }
                if empty {
                    unmeasured[pg] = offer_level.len();
                }
                let provider = ProviderGroup {
                    history: &by_provider[pg],
                    bands: &by_provider_band[pg * N_BANDS..(pg + 1) * N_BANDS],
                    level: provider_level[pg],
                    evidence: provider_evidence[pg],
                };
                let bands = by_band.of(o).map_or(&none[..], |b| &b[g * N_BANDS..(g + 1) * N_BANDS]);
                offer_level.push(groups.offer_group(offer, g, provider, &by_offer[og], bands, &mut uplift));
            }
        }
        let mut model = EffectModel {
            n_groups,
            uplift,
            offer_level,
            offer_counts: by_offer.clone(),
            no_offer,
            episodes: data.outcomes.len(),
            quality: Vec::new(),
            groups,
        };
        model.quality =
            quality_rows(data, reference, &model, &by_offer, &by_provider, &provider_level, &provider_of);
        model
    }

    /// The estimates of `data`, which must be the data set these were made from with the
    /// offers at the data-set indices `new` (ascending) added and nothing else changed: the
    /// same estimates [`EffectModel::estimate`] makes of `data`, without estimating every offer
    /// again (a service's new offer, issue 18). A new offer with neither history nor evidence
    /// moves no other estimate (its provider's totals gain nothing), and its own come from its
    /// provider's totals, added up here as `estimate` adds them.
    ///
    /// `None` where that does not hold and only a new estimate is exact: a new offer has
    /// evidence, an episode of the history names one, or `new` does not fit `data` (not
    /// ascending, out of range, or not as many other offers as these estimates cover).
    ///
    /// # Complexity
    /// O(offers + episodes), once for all the new offers' providers.
    pub fn with_new_offers(&self, data: &Dataset, new: &[usize]) -> Option<EffectModel> {
        let n_groups = self.n_groups;
        let n_offers = data.offers.len();
        let fits = new.windows(2).all(|w| w[0] < w[1])
            && new.last().is_none_or(|&i| i < n_offers)
            && n_offers - new.len() == self.offer_level.len() / n_groups;
        if !fits || new.iter().any(|&i| !data.offers[i].evidence.is_empty()) {
            return None;
        }
        let ids: std::collections::HashSet<&str> = new.iter().map(|&i| data.offers[i].id.as_str()).collect();
        if data.outcomes.iter().any(|e| e.offer.as_ref().is_some_and(|id| ids.contains(id.as_str()))) {
            return None;
        }
        let providers = new.iter().map(|&i| data.offers[i].provider.as_str()).collect();
        let totals = self.provider_totals(data, &providers);
        let mut uplift = Vec::with_capacity(n_offers * n_groups * N_BANDS);
        let mut offer_level = Vec::with_capacity(n_offers * n_groups);
        let mut offer_counts = Vec::with_capacity(n_offers * n_groups);
        let (none, none_bands) = (Comparison::default(), [Comparison::default(); N_BANDS]);
        let (mut old, mut next_new) = (0usize, new.iter().peekable());
        for (i, offer) in data.offers.iter().enumerate() {
            if next_new.next_if_eq(&&i).is_none() {
                uplift.extend_from_slice(
                    &self.uplift[old * n_groups * N_BANDS..(old + 1) * n_groups * N_BANDS],
                );
                offer_level.extend_from_slice(&self.offer_level[old * n_groups..(old + 1) * n_groups]);
                offer_counts.extend_from_slice(&self.offer_counts[old * n_groups..(old + 1) * n_groups]);
                old += 1;
                continue;
            }
            // The new offer itself is among its provider's offers: it has an entry.
            let t = totals.get(offer.provider.as_str())?;
            for g in 0..n_groups {
                let provider = ProviderGroup {
                    history: &t.history[g],
                    bands: &t.bands[g * N_BANDS..(g + 1) * N_BANDS],
                    level: self.groups.provider_level(g, &t.history[g]),
                    evidence: t.evidence[g],
                };
                offer_level.push(self.groups.offer_group(
                    offer,
                    g,
                    provider,
                    &none,
                    &none_bands,
                    &mut uplift,
                ));
                offer_counts.push(none);
            }
        }
        Some(EffectModel {
            n_groups,
            uplift,
            offer_level,
            offer_counts,
            no_offer: self.no_offer.clone(),
            episodes: self.episodes,
            // A new offer has no episode, and a provider's rows count only episodes.
            quality: self.quality.clone(),
            groups: self.groups.clone(),
        })
    }

    /// The totals of the providers `providers` as [`EffectModel::estimate`] adds them up, in
    /// the same order (each provider's offers in data-set order), from one pass over the
    /// offers and one over the history for all of them.
    fn provider_totals<'a>(
        &self,
        data: &'a Dataset,
        providers: &std::collections::HashSet<&str>,
    ) -> FastMap<&'a str, ProviderTotals> {
        let n_groups = self.n_groups;
        let offers: Vec<usize> = (0..data.offers.len())
            .filter(|&i| providers.contains(data.offers[i].provider.as_str()))
            .collect();
        let by_band = counts_by_band(data, &offers, &self.no_offer, n_groups);
        let mut totals: FastMap<&str, ProviderTotals> = FastMap::default();
        for (l, &i) in offers.iter().enumerate() {
            let offer = &data.offers[i];
            let t = totals.entry(offer.provider.as_str()).or_insert_with(|| ProviderTotals {
                history: vec![Comparison::default(); n_groups],
                bands: vec![Comparison::default(); n_groups * N_BANDS],
                evidence: vec![(0, 0); n_groups],
            });
            for (g, sum) in t.evidence.iter_mut().enumerate() {
                let (s, n) = evidence_of(offer, g);
                *sum = (sum.0.saturating_add(s), sum.1.saturating_add(n));
            }
            let Some(counts) = by_band.of(l) else { continue };
            for g in 0..n_groups {
                for b in 0..N_BANDS {
                    let c = &counts[g * N_BANDS + b];
                    t.history[g].merge(c);
                    t.bands[g * N_BANDS + b].merge(c);
                }
            }
        }
        totals
    }

    /// The uplift of offer `offer` (data-set index) for group `group` in weeks band `band`.
    pub fn uplift(&self, offer: usize, group: usize, band: usize) -> Estimate {
        self.uplift
            .get((offer * self.n_groups + group) * N_BANDS + band.min(N_BANDS - 1))
            .copied()
            .unwrap_or(Estimate::prior(Spread::default().unmeasured()))
    }

    /// The history's counts of offer `offer` (data-set index) for group `group`: episodes,
    /// successes and the successes its candidates' no-offer rates predict.
    pub fn offer_counts(&self, offer: usize, group: usize) -> Comparison {
        self.offer_counts.get(offer * self.n_groups + group).copied().unwrap_or_default()
    }

    /// The offer's uplift for a group over all bands (its own case mix).
    pub fn offer_uplift(&self, offer: usize, group: usize) -> Estimate {
        self.offer_level
            .get(offer * self.n_groups + group)
            .copied()
            .unwrap_or(Estimate::prior(Spread::default().unmeasured()))
    }
}

#[allow(clippy::too_many_arguments)]
fn quality_rows(
    data: &Dataset,
    reference: &ReferenceData,
    model: &EffectModel,
    by_offer: &[Comparison],
    by_provider: &[Comparison],
    provider_level: &[Estimate],
    provider_of: &FastMap<&str, usize>,
) -> Vec<QualityRow> {
    let n_groups = model.n_groups;
    let code = |g: usize| reference.target_groups.get(g).map_or(String::new(), |t| t.code.clone());
    let row = |level: &str, id: String, name: String, g: usize, c: &Comparison, u: Estimate| {
        let n = f64::from(c.episodes.max(1));
        let (observed, expected) = (c.observed / n, c.expected / n);
        QualityRow {
            level: level.into(),
            id,
            name,
            group: code(g),
            episodes: c.episodes,
            observed_rate: observed,
            expected_rate: expected,
            adjusted_rate: (observed - expected + model.no_offer.group_rate(g)).clamp(0.0, 1.0),
            uplift: u.mean,
            uplift_low: u.low(),
            uplift_high: u.high(),
        }
    };
    let mut rows = Vec::new();
    let names: FastMap<&str, &str> =
        data.providers.iter().map(|p| (p.id.as_str(), p.name.as_str())).collect();
    let mut providers: Vec<(&str, usize)> = provider_of.iter().map(|(&id, &i)| (id, i)).collect();
    providers.sort();
    for (id, p) in providers {
        for g in 0..n_groups {
            let c = &by_provider[p * n_groups + g];
            if c.episodes > 0 {
                let name = names.get(id).copied().unwrap_or(id).to_string();
                rows.push(row("provider", id.to_string(), name, g, c, provider_level[p * n_groups + g]));
            }
        }
    }
    for (o, offer) in data.offers.iter().enumerate() {
        for g in 0..n_groups {
            let c = &by_offer[o * n_groups + g];
            if c.episodes > 0 {
                rows.push(row(
                    "offer",
                    offer.id.to_string(),
                    offer.name.clone(),
                    g,
                    c,
                    model.offer_uplift(o, g),
                ));
            }
        }
    }
    rows
}

/// Columns of `quality.csv`, in the order [`quality_csv`] writes them.
pub const QUALITY_COLUMNS: &[&str] = &[
    "level",
    "id",
    "name",
    "target_group",
    "episodes",
    "observed_rate",
    "expected_rate",
    "adjusted_rate",
    "uplift",
    "uplift_low",
    "uplift_high",
];

/// The quality rows as `quality.csv` (rates and uplifts as shares with 4 decimals).
///
/// # Errors
/// [`crate::Error::Io`] only if the in-memory CSV writer fails.
pub fn quality_csv(rows: &[QualityRow]) -> crate::Result<Vec<u8>> {
    let fail = |e: csv::Error| crate::Error::io("quality.csv", std::io::Error::other(e.to_string()));
    let mut w = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    w.write_record(QUALITY_COLUMNS).map_err(fail)?;
    for q in rows {
        let share = |x: f64| format!("{x:.4}");
        w.write_record([
            q.level.clone(),
            q.id.clone(),
            q.name.clone(),
            q.group.clone(),
            q.episodes.to_string(),
            share(q.observed_rate),
            share(q.expected_rate),
            share(q.adjusted_rate),
            share(q.uplift),
            share(q.uplift_low),
            share(q.uplift_high),
        ])
        .map_err(fail)?;
    }
    w.into_inner().map_err(|e| crate::Error::io("quality.csv", std::io::Error::other(e.to_string())))
}

/// The evidence counts `(successes, trials)` left after taking out `history` episodes that the
/// history already holds, successes in proportion: `(0, 0)` when the history covers them all.
pub fn beyond_history((successes, trials): (u32, u32), history: u32) -> (u32, u32) {
    let left = trials.saturating_sub(history);
    if left == 0 {
        return (0, 0);
    }
    let share = f64::from(left) / f64::from(trials);
    ((f64::from(successes) * share).round() as u32, left)
}

/// The group set's member indices below `n`.
pub fn group_indices(groups: GroupSet, n: usize) -> impl Iterator<Item = usize> {
    groups.iter().map(|g| usize::from(g.0)).filter(move |&g| g < n)
}

#[cfg(test)]
mod tests;
