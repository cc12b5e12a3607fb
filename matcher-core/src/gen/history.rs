//! The generated data set's `outcomes` history: finished episodes drawn from a world with a
//! known true effect per course and group, with the selection a real history has.
//!
//! Owns the world's truth ([`OfferTruth`]), the no-offer chance of a case mix
//! ([`no_offer_chance`]) and the draw of the episodes ([`episodes`]). Pure and deterministic
//! (its own random stream, 7), like the rest of [`crate::gen`]; it must not read files or the
//! clock, and must not look at the estimator in [`crate::effect`] (the world is built without
//! knowing how it will be estimated; only the band boundaries are shared, so the case-mix cells
//! mean the same thing).
//!
//! **The world.** An offer's true effect is a *hazard ratio* on leaving benefit: with the
//! no-offer chance `p0` of leaving within the 52-week follow-up, the chance with the offer is
//! `1 − (1 − p0)^h`. The Danish employment ministry's effect analysis of work trials for cash
//! benefit recipients over 29 (Beskæftigelsesministeriet, 18 April 2016) found exit rates to
//! work raised by about 84 % after a private work trial, 65 % after a public one and 27 % on
//! average after other activation: `h` = 1.84, 1.65 and 1.27. Courses here range from 0.85
//! (a little harmful: time on a course is time not spent looking for work) to 1.9 in their
//! own groups, half that excess for other groups; work trials 1.3–1.84. The no-offer chance
//! falls with time on benefit and with age ([`no_offer_chance`]).
//!
//! **The selection.** A third of the providers *cream-skim*: they help little (`h` 0.9–1.15),
//! and 80 % of the offer episodes of candidates under 26 weeks on benefit went to them where
//! one was in reach, while 80 % of those of candidates on benefit longer went to the other
//! providers. Raw success rates therefore rank the cream-skimmers first; the comparison group
//! (episodes without an offer, 35 %) is what lets an estimator see through it.

use super::AS_OF;
use super::rng::Rng;
use crate::model::{Candidate, Episode, EpisodeId, GroupSet, Offer, OfferKind, ReferenceData};

/// What the generated world knows of one course or work trial: its true hazard ratio on
/// leaving benefit for the groups it was built for and for the others, and whether its
/// provider cream-skims.
#[derive(Debug, Clone, Copy)]
pub(super) struct OfferTruth {
    /// The groups the offer's method was built for.
    pub own: GroupSet,
    /// Hazard ratio for a candidate in one of `own`.
    pub hazard_own: f64,
    /// Hazard ratio for other candidates.
    pub hazard_other: f64,
    /// The provider takes the candidates closest to work where it can.
    pub cream_skims: bool,
}

impl OfferTruth {
    fn hazard(&self, groups: GroupSet) -> f64 {
        if self.own.is_empty() || self.own.intersects(groups) { self.hazard_own } else { self.hazard_other }
    }
}

/// The chance with hazard ratio `hazard` of leaving benefit within the follow-up, for a case
/// mix whose chance without an offer is `p0`.
pub(super) fn with_hazard(p0: f64, hazard: f64) -> f64 {
    1.0 - (1.0 - p0.clamp(0.0, 1.0)).powf(hazard.max(0.0))
}

/// Factor on the group's prior rate by weeks on benefit (bands of [`crate::effect::weeks_band`]):
/// the longer on benefit, the smaller the chance of leaving it.
const BAND_FACTOR: [f64; crate::effect::N_BANDS] = [1.5, 1.2, 1.0, 0.7, 0.45];

/// The chance of leaving benefit within the follow-up without an offer: the mean prior rate of
/// the candidate's groups (`data/reference/target_groups.csv`), times a factor for the weeks on
/// benefit and one for age (older candidates leave less often).
pub(super) fn no_offer_chance(
    reference: &ReferenceData,
    groups: GroupSet,
    weeks: f64,
    age_ages: (u8, u8),
) -> f64 {
    let (mut sum, mut n) = (0.0, 0.0);
    for g in groups.iter() {
        if let Some(t) = reference.target_groups.get(usize::from(g.0)) {
            sum += t.prior_success_rate;
            n += 1.0;
        }
    }
    let prior = if n > 0.0 { sum / n } else { 0.2 };
    let age = match age_ages.0 {
        0..=29 => 1.1,
        30..=49 => 1.0,
        50..=59 => 0.8,
        _ => 0.5,
    };
    (prior * BAND_FACTOR[crate::effect::weeks_band(weeks)] * age).clamp(0.02, 0.9)
}

/// `count` finished episodes: each takes the case mix of a random candidate of the data set
/// (groups, age band, benefit kind, municipality) at an earlier point of its time on benefit,
/// starts 53 to 156 weeks before [`AS_OF`] (so its 52-week follow-up is over), and has an
/// offer or none as the selection above says. Courses and work trials in the candidate's
/// municipality that take one of its groups are the offers in reach.
pub(super) fn episodes(
    seed: u64,
    count: usize,
    reference: &ReferenceData,
    candidates: &[Candidate],
    offers: &[Offer],
    truths: &[Option<OfferTruth>],
) -> Vec<Episode> {
    use std::collections::BTreeMap;
    if candidates.is_empty() {
        return Vec::new();
    }
    let mut rng = Rng::new(seed, 7);
    // Offers in reach by municipality: those serving it, and those open to all held in it.
    let mut in_reach: BTreeMap<crate::model::MunicipalityCode, Vec<usize>> = BTreeMap::new();
    for (j, o) in offers.iter().enumerate() {
        if truths.get(j).copied().flatten().is_none() || o.capacity == 0 {
            continue;
        }
        if o.serves_municipalities.is_empty() {
            in_reach.entry(o.municipality).or_default().push(j);
        } else {
            for &m in &o.serves_municipalities {
                in_reach.entry(m).or_default().push(j);
            }
        }
    }
    let empty = Vec::new();
    let mut out = Vec::with_capacity(count);
    for n in 0..count {
        let c = &candidates[rng.below(candidates.len())];
        let weeks_now = f64::from(c.benefit.start.days_until(AS_OF).max(0)) / 7.0;
        let weeks = (weeks_now * (0.15 + 0.85 * rng.unit())).round();
        let started = AS_OF.plus_days(-7 * rng.between(53, 156) as i32);
        let p0 = no_offer_chance(reference, c.target_groups, weeks, c.age_band.ages());
        let reach: Vec<usize> = in_reach
            .get(&c.municipality)
            .unwrap_or(&empty)
            .iter()
            .copied()
            .filter(|&j| {
                offers[j].target_groups.is_empty() || offers[j].target_groups.intersects(c.target_groups)
            })
            .collect();
        let offer = if reach.is_empty() || rng.chance(0.35) {
            None
        } else {
            // Confounded selection: short-time candidates to the cream-skimmers, the others
            // away from them, 80 % of the time where such an offer is in reach; work trials
            // take a fifth of the offer episodes where there is one.
            let short = crate::effect::weeks_band(weeks) <= 1;
            let skims = |j: usize| truths[j].is_some_and(|t| t.cream_skims);
            let trials: Vec<usize> =
                reach.iter().copied().filter(|&j| offers[j].kind == OfferKind::WorkTrial).collect();
            let courses: Vec<usize> =
                reach.iter().copied().filter(|&j| offers[j].kind == OfferKind::Provider).collect();
            let preferred: Vec<usize> = courses.iter().copied().filter(|&j| skims(j) == short).collect();
            let pool = if !trials.is_empty() && (courses.is_empty() || rng.chance(0.2)) {
                &trials
            } else if !preferred.is_empty() && rng.chance(0.8) {
                &preferred
            } else {
                &courses
            };
            rng.pick(pool).copied()
        };
        let p = match offer.and_then(|j| truths[j]) {
            Some(t) => with_hazard(p0, t.hazard(c.target_groups)),
            None => p0,
        };
        let success = rng.chance(p);
        // Exits come early more often than late (the chance of leaving falls with time).
        let weeks_to_exit = success.then(|| (1.0 + 51.0 * rng.unit().powf(1.5)).round() as f32);
        let Ok(id) = EpisodeId::new(&format!("e-{:06}", n + 1)) else { continue };
        out.push(Episode {
            id,
            municipality: c.municipality,
            target_groups: c.target_groups,
            age_band: c.age_band,
            benefit_kind: c.benefit.kind,
            weeks_on_benefit: weeks as f32,
            offer: offer.map(|j| offers[j].id.clone()),
            started,
            success,
            weeks_to_exit,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hazard_ratio_of_one_changes_nothing_and_more_helps_less_where_many_leave_anyway() {
        assert!((with_hazard(0.3, 1.0) - 0.3).abs() < 1e-12);
        // h = 1.84 (private work trial): +11 points at 15 %, +22 points at 55 %.
        let low = with_hazard(0.15, 1.84) - 0.15;
        let high = with_hazard(0.55, 1.84) - 0.55;
        assert!((0.10..0.12).contains(&low), "{low}");
        assert!((0.21..0.23).contains(&high), "{high}");
        assert!(with_hazard(0.3, 0.85) < 0.3, "below 1 harms");
    }
}
