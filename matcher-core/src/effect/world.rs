//! A test world with a known truth, and the measurement of how much of the best possible
//! assignment's avoided benefit weeks the engine's suggestions reach.
//!
//! Owns the world generator ([`generate`]), its truth ([`Truth`]) and [`evaluate`], which
//! compares the engine (the national default policy, with and without the `outcomes`
//! history) with an oracle that knows the true uplifts, a random choice among eligible offers
//! and the nearest eligible offer (caseworkers' habit). Must not be used by the nightly run:
//! it exists to measure the estimator on data whose answer is known (`docs/effects.md`).
//!
//! # The world
//! One area around Aarhus; four target groups with their own benefit kinds; providers of
//! three types:
//! - **cream-skimmers**: open to every group, almost no true uplift (1–3 points);
//! - **specialists** of one group: large uplift for that group where it is hard to leave
//!   benefit (long-term candidates; for sickness benefit, early cases), little for others;
//! - **generalists**: a moderate uplift for everyone.
//!
//! Each provider has its own quality and each offer its own factor, so offers of one type
//! differ. The no-offer rate falls with time on benefit and age. The history is
//! **confounded**: cream-skimmers took mostly short-duration candidates (who leave benefit
//! anyway) and look best on raw success rates; specialists took long-term candidates and look
//! worst. The old `evidence` table holds exactly those raw rates. Places are scarcer than
//! candidates, so who gets a place matters as much as which offer.

use crate::assign::{self, Problem, SolveOptions};
use crate::batch::{self, BatchOptions};
use crate::error::Result;
use crate::r#gen::rng::Rng;
use crate::model::{
    AgeBand, AuditAttributes, Benefit, Candidate, CandidateId, ContractKind, Dataset, Date, Episode,
    EpisodeId, Evidence, GroupId, GroupSet, LatLon, MunicipalityCode, Offer, OfferId, OfferKind, Provider,
    ProviderId, ReferenceData,
};
use crate::policy::PolicySet;
use crate::score::Scorer;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

use super::{N_BANDS, weeks_band};

/// Families of worlds. `base` is the one the estimator's settings were chosen on; the others
/// change the structure so that a figure on them is not a figure of tuning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Variant {
    /// 1,200 candidates, 30 offers, places for 35 %, 6,000 episodes.
    Base,
    /// Places for only 15 % of candidates and a history of 2,000 episodes.
    Scarce,
    /// A short history (1,200 episodes), stronger confounding, a quarter of candidates in two
    /// groups, and specialists whose uplift peaks in a middle band.
    Noisy,
    /// Twice the candidates and offers, 12,000 episodes, cream-skimmers that are expensive.
    Large,
    /// The world the issue describes, built after the fact and never tuned to: every course
    /// open to every group, a true uplift per offer and group that does not change with time
    /// on benefit, a third of the providers cream-skimmers, places for a quarter, 3,000
    /// episodes.
    Issue,
    /// The issue's world with milder differences, added after every setting was chosen and
    /// run once: specialists help other groups too (8 points), a tenth of the cash-benefit
    /// candidates also psychiatric, places for 30 %, 2,500 episodes.
    Mild,
}

impl Variant {
    /// Every variant.
    pub const ALL: [Variant; 6] =
        [Variant::Base, Variant::Scarce, Variant::Noisy, Variant::Large, Variant::Issue, Variant::Mild];

    /// The variant's name.
    pub fn label(self) -> &'static str {
        match self {
            Variant::Base => "base",
            Variant::Scarce => "scarce",
            Variant::Noisy => "noisy",
            Variant::Large => "large",
            Variant::Issue => "issue",
            Variant::Mild => "mild",
        }
    }

    /// Parses a name such as `scarce`.
    pub fn parse(text: &str) -> Option<Variant> {
        Variant::ALL.into_iter().find(|v| v.label() == text)
    }
}

/// The groups of the world, by reference code, with the benefit kind of each.
const GROUPS: [(&str, &str); 4] = [
    ("youth_psychosocial", "education_benefit"),
    ("cash_longterm", "cash_benefit"),
    ("psychiatric", "cash_benefit"),
    ("sickness", "sickness_benefit"),
];

/// The day the world's night runs (the generator's day, 2026-11-02).
pub fn today() -> Date {
    crate::r#gen::AS_OF
}

/// The true uplift of every offer, per group and weeks band.
#[derive(Debug, Clone, PartialEq)]
pub struct Truth {
    n_groups: usize,
    uplift: Vec<f64>,
}

impl Truth {
    /// True uplift of offer `o` for group `g` (reference index) in band `b`.
    pub fn uplift(&self, o: usize, g: usize, b: usize) -> f64 {
        self.uplift.get((o * self.n_groups + g) * N_BANDS + b).copied().unwrap_or(0.0)
    }
}

/// A generated world: the data set (with its history and old evidence) and the truth.
#[derive(Debug, Clone)]
pub struct World {
    /// The data set, `outcomes` included.
    pub data: Dataset,
    /// What the offers really do.
    pub truth: Truth,
}

#[derive(Clone, Copy, PartialEq)]
enum Type {
    Cream,
    Specialist(usize),
    Generalist,
}

struct Plan {
    candidates: usize,
    providers: usize,
    places_share: f64,
    episodes: usize,
    two_groups: f64,
    confounding: f64,
    middle_peak: bool,
    cream_price: (u32, u32),
    /// The issue's world: offers open to all, flat uplift per group, a third cream-skimmers.
    issue: bool,
    /// In the issue's world, a specialist's true uplift for groups other than its own.
    off_group: f64,
}

fn plan(variant: Variant) -> Plan {
    let base = Plan {
        candidates: 1_200,
        providers: 15,
        places_share: 0.35,
        episodes: 6_000,
        two_groups: 0.0,
        confounding: 0.8,
        middle_peak: false,
        cream_price: (8_000, 14_000),
        issue: false,
        off_group: 0.01,
    };
    match variant {
        Variant::Base => base,
        Variant::Scarce => Plan { places_share: 0.15, episodes: 2_000, ..base },
        Variant::Noisy => {
            Plan { episodes: 1_200, two_groups: 0.25, confounding: 0.9, middle_peak: true, ..base }
        }
        Variant::Large => {
            Plan { candidates: 2_400, providers: 30, episodes: 12_000, cream_price: (18_000, 26_000), ..base }
        }
        Variant::Issue => Plan {
            candidates: 1_000,
            providers: 18,
            places_share: 0.25,
            episodes: 3_000,
            confounding: 0.85,
            cream_price: (10_000, 20_000),
            issue: true,
            ..base
        },
        Variant::Mild => Plan {
            candidates: 1_000,
            providers: 18,
            places_share: 0.30,
            episodes: 2_500,
            two_groups: 0.10,
            confounding: 0.85,
            cream_price: (10_000, 20_000),
            issue: true,
            off_group: 0.08,
            ..base
        },
    }
}

/// True no-offer success rate of a case mix (within the 52-week follow-up).
fn no_offer_rate(group: usize, band: usize, age: AgeBand) -> f64 {
    let base: f64 = [0.30, 0.12, 0.18, 0.60][group];
    let by_band = [1.5, 1.2, 1.0, 0.7, 0.5][band];
    let by_age = match age {
        AgeBand::From50To59 => 0.85,
        AgeBand::From60 => 0.7,
        _ => 1.0,
    };
    (base * by_band * by_age).clamp(0.02, 0.9)
}

/// True uplift of a provider type for a world group and band, before quality factors.
fn type_uplift(t: Type, group: usize, band: usize, plan: &Plan) -> f64 {
    if plan.issue {
        // Per offer and group, the same in every band.
        return match t {
            Type::Cream => 0.02,
            Type::Generalist => 0.06,
            Type::Specialist(g) if g == group => 0.15,
            Type::Specialist(_) => plan.off_group,
        };
    }
    let middle_peak = plan.middle_peak;
    match t {
        Type::Cream => [0.03, 0.03, 0.01, 0.01, 0.01][band],
        Type::Generalist => 0.07,
        Type::Specialist(g) if g != group => 0.02,
        Type::Specialist(g) => {
            if GROUPS[g].0 == "sickness" {
                // Early help is worth most.
                [0.22, 0.16, 0.08, 0.05, 0.05][band]
            } else if middle_peak {
                [0.05, 0.12, 0.22, 0.14, 0.08][band]
            } else {
                [0.06, 0.10, 0.18, 0.22, 0.20][band]
            }
        }
    }
}

/// A person drawn from the world's population: groups (world indices), age, weeks on benefit.
struct Person {
    groups: Vec<usize>,
    age: AgeBand,
    weeks: f64,
}

fn person(rng: &mut Rng, two_groups: f64) -> Person {
    let g = rng.weighted(&[0.25, 0.30, 0.20, 0.25]);
    let weeks = match GROUPS[g].0 {
        "sickness" => rng.unit() * 40.0,
        "cash_longterm" => 52.0 + rng.unit() * 350.0,
        "youth_psychosocial" => rng.unit() * 150.0,
        _ => 5.0 + rng.unit() * 300.0,
    };
    let age = if GROUPS[g].0 == "youth_psychosocial" {
        *rng.pick(&[AgeBand::From18To24, AgeBand::From25To29]).unwrap_or(&AgeBand::From18To24)
    } else {
        *rng.pick(&[AgeBand::From30To39, AgeBand::From40To49, AgeBand::From50To59, AgeBand::From60])
            .unwrap_or(&AgeBand::From30To39)
    };
    let mut groups = vec![g];
    // A second group: psychiatric beside cash benefit, the common overlap.
    if g == 1 && rng.chance(two_groups * 2.0) {
        groups.push(2);
    }
    Person { groups, age, weeks }
}

fn id<T>(make: fn(&str) -> std::result::Result<T, String>, text: String) -> T {
    match make(&text) {
        Ok(id) => id,
        Err(reason) => unreachable!("generated id {text} refused: {reason}"),
    }
}

/// Generates a world. Deterministic in `seed` and `variant`.
///
/// # Errors
/// [`crate::Error::Problem`] when the reference data lack a group or benefit kind the world
/// uses.
pub fn generate(variant: Variant, seed: u64, reference: &ReferenceData) -> Result<World> {
    generate_with_history(variant, seed, reference, 1)
}

/// [`generate`] with `times` the family's history (the same world otherwise, apart from the
/// episodes drawn): how far more history would take the estimates (`matcher evaluate
/// --history-times`).
///
/// # Errors
/// As [`generate`].
pub fn generate_with_history(
    variant: Variant,
    seed: u64,
    reference: &ReferenceData,
    times: usize,
) -> Result<World> {
    let mut plan = plan(variant);
    plan.episodes *= times.max(1);
    let missing = |what: &str| crate::Error::Problem(format!("the reference data lack {what}"));
    let mut group_ids = Vec::new();
    let mut kinds = Vec::new();
    for (code, kind) in GROUPS {
        group_ids.push(reference.group(code).ok_or_else(|| missing(code))?);
        kinds.push(reference.benefit_kind(kind).ok_or_else(|| missing(kind))?);
    }
    let n_groups = reference.target_groups.len().max(1);
    let municipality = MunicipalityCode(751);
    let centre = (56.1629, 10.2039);
    let today = today();
    let place = |rng: &mut Rng| {
        let lat = centre.0 + (rng.unit() - 0.5) * 0.36;
        let lon = centre.1 + (rng.unit() - 0.5) * 0.6;
        LatLon::new(lat, lon).unwrap_or(LatLon { lat: centre.0, lon: centre.1 })
    };

    // Providers and offers.
    let mut rng = Rng::new(seed, 101);
    let mut providers = Vec::new();
    let mut offers = Vec::new();
    let mut types = Vec::new();
    let mut factor = Vec::new();
    let places = (plan.candidates as f64 * plan.places_share).round() as u32;
    let n_offers = plan.providers * 2;
    for p in 0..plan.providers {
        let t = match p % 5 {
            _ if plan.issue => {
                if p % 3 == 0 {
                    Type::Cream
                } else {
                    Type::Specialist(p % 4)
                }
            }
            0 => Type::Cream,
            4 if p % 3 == 0 => Type::Generalist,
            _ => Type::Specialist((p / 5 + p) % 4),
        };
        let quality = 0.6 + 0.8 * rng.unit();
        let provider_id: ProviderId = id(ProviderId::new, format!("p-{p:03}"));
        providers.push(Provider {
            id: provider_id.clone(),
            name: format!("Leverandør {p}"),
            municipality,
            contact: None,
        });
        for k in 0..2 {
            let target_groups = match t {
                Type::Specialist(g) if rng.chance(0.5) && !plan.issue => {
                    let mut set = GroupSet::EMPTY;
                    set.insert(group_ids[g]);
                    set
                }
                _ => GroupSet::EMPTY,
            };
            let price = match t {
                Type::Cream => rng.between(plan.cream_price.0, plan.cream_price.1),
                Type::Specialist(_) => rng.between(12_000, 25_000),
                Type::Generalist => rng.between(10_000, 16_000),
            };
            let capacity = ((places as f64 / n_offers as f64) * (0.5 + rng.unit())).round().max(1.0) as u32;
            offers.push(Offer {
                id: id(OfferId::new, format!("o-{p:03}-{k}")),
                kind: OfferKind::Provider,
                name: format!("Forløb {p}.{k}"),
                provider: provider_id.clone(),
                municipality,
                location: place(&mut rng),
                serves_municipalities: Vec::new(),
                capacity,
                price_dkk: price,
                contract: Some(ContractKind::Buffer),
                guaranteed_volume: 0,
                target_groups,
                occupations: Vec::new(),
                languages: Vec::new(),
                requires_driving_licence: false,
                min_hours: 0,
                duration_weeks: rng.between(8, 16) as u16,
                poster_weeks_saved: 0.0,
                evidence: Vec::new(),
                // Continuous intake: the world measures uplift, not waiting.
                time_and_place: Default::default(),
            });
            types.push(t);
            factor.push(quality * (0.8 + 0.4 * rng.unit()));
        }
    }
    let mut truth = Truth { n_groups, uplift: vec![0.0; n_offers * n_groups * N_BANDS] };
    for o in 0..n_offers {
        for (wg, g) in group_ids.iter().enumerate() {
            for b in 0..N_BANDS {
                truth.uplift[(o * n_groups + usize::from(g.0)) * N_BANDS + b] =
                    type_uplift(types[o], wg, b, &plan) * factor[o];
            }
        }
    }
    let eligible = |o: &Offer, groups: &[usize]| {
        o.target_groups.is_empty() || groups.iter().any(|&g| o.target_groups.contains(group_ids[g]))
    };
    let group_set = |groups: &[usize]| {
        let mut set = GroupSet::EMPTY;
        groups.iter().for_each(|&g| set.insert(group_ids[g]));
        set
    };
    let true_uplift = |o: usize, groups: &[usize], band: usize| {
        groups.iter().map(|&g| truth.uplift(o, usize::from(group_ids[g].0), band)).sum::<f64>()
            / groups.len() as f64
    };

    // The confounded history.
    let mut rng = Rng::new(seed, 202);
    let mut outcomes = Vec::with_capacity(plan.episodes);
    let mut counts = vec![(0u32, 0u32); n_offers * n_groups];
    for e in 0..plan.episodes {
        let who = person(&mut rng, plan.two_groups);
        let band = weeks_band(who.weeks);
        let offer = if rng.chance(0.4) {
            None
        } else {
            let wanted = if rng.chance(plan.confounding) {
                if band <= 1 { Some(Type::Cream) } else { Some(Type::Specialist(who.groups[0])) }
            } else {
                None
            };
            let pool: Vec<usize> = (0..n_offers)
                .filter(|&o| eligible(&offers[o], &who.groups))
                .filter(|&o| wanted.is_none_or(|t| types[o] == t))
                .collect();
            let pool = if pool.is_empty() {
                (0..n_offers).filter(|&o| eligible(&offers[o], &who.groups)).collect()
            } else {
                pool
            };
            rng.pick(&pool).copied()
        };
        let base = who.groups.iter().map(|&g| no_offer_rate(g, band, who.age)).sum::<f64>()
            / who.groups.len() as f64;
        let p = (base + offer.map_or(0.0, |o| true_uplift(o, &who.groups, band))).clamp(0.0, 0.98);
        let success = rng.chance(p);
        let started = today.plus_days(-7 * (60 + rng.below(600) as i32));
        if let Some(o) = offer {
            for &g in &who.groups {
                let c = &mut counts[o * n_groups + usize::from(group_ids[g].0)];
                c.0 += u32::from(success);
                c.1 += 1;
            }
        }
        outcomes.push(Episode {
            id: id(EpisodeId::new, format!("e-{e:06}")),
            municipality,
            target_groups: group_set(&who.groups),
            age_band: who.age,
            benefit_kind: kinds[who.groups[0]],
            weeks_on_benefit: who.weeks.round() as f32,
            offer: offer.map(|o| offers[o].id.clone()),
            started,
            success,
            weeks_to_exit: success.then(|| (1 + rng.below(52)) as f32),
        });
    }
    // The old evidence table: raw success counts of the same history, no case mix.
    for (o, offer) in offers.iter_mut().enumerate() {
        for g in 0..n_groups {
            let (s, n) = counts[o * n_groups + g];
            if n > 0 {
                offer.evidence.push(Evidence { group: GroupId(g as u8), trials: n, successes: s });
            }
        }
    }

    // Tonight's candidates.
    let mut rng = Rng::new(seed, 303);
    let candidates = (0..plan.candidates)
        .map(|i| {
            let who = person(&mut rng, plan.two_groups);
            let start = today.plus_days(-(who.weeks * 7.0).round() as i32);
            let sickness = GROUPS[who.groups[0]].0 == "sickness";
            let end =
                sickness.then(|| start.plus_days(7 * (22 + rng.below(31) as i32)).max(today.plus_days(7)));
            Candidate {
                id: id(CandidateId::new, format!("c-{i:06}")),
                municipality,
                home: place(&mut rng),
                age_band: who.age,
                target_groups: group_set(&who.groups),
                benefit: Benefit { kind: kinds[who.groups[0]], start, end, reassessment: None },
                wished_occupations: Vec::new(),
                max_travel_km: 40.0,
                languages: Vec::new(),
                driving_licence: true,
                hours_available: 37,
                preferred_kinds: Vec::new(),
                current: None,
                excluded_offers: Vec::new(),
                audit: AuditAttributes::default(),
            }
        })
        .collect();
    Ok(World {
        data: Dataset {
            candidates,
            offers: offers.into_iter().map(std::sync::Arc::new).collect(),
            providers,
            outcomes,
            declines: Vec::new(),
            contracts: Vec::new(),
        },
        truth,
    })
}

/// Benefit weeks avoided, in truth, by each method's assignment, and the oracle's.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The best possible assignment under the same eligibility and places, knowing the truth.
    pub oracle: f64,
    /// The engine (national default policy) with the `outcomes` history.
    pub with_outcomes: f64,
    /// The engine without it (only the old `evidence` counts).
    pub without_outcomes: f64,
    /// The assignment that maximises the *estimated* weeks avoided (uplift learned with the
    /// history × weeks avoidable, no price, no other factor): the estimator's own ceiling.
    pub estimated: f64,
    /// A random eligible offer with a free place, candidates in random order.
    pub random: f64,
    /// The nearest eligible offer with a free place, candidates in random order.
    pub nearest: f64,
    /// The assignment that maximises the weeks avoided by [`plain_uplift`], the issue's
    /// "plain estimator a careful analyst would write": a baseline for ours.
    pub plain: f64,
}

impl Evaluation {
    /// Each method's share of the oracle: with, without, estimated, random, nearest, plain.
    pub fn shares(&self) -> [f64; 6] {
        let share = |x: f64| if self.oracle > 0.0 { x / self.oracle } else { 0.0 };
        [
            share(self.with_outcomes),
            share(self.without_outcomes),
            share(self.estimated),
            share(self.random),
            share(self.nearest),
            share(self.plain),
        ]
    }
}

/// Runs the engine on the world with and without its history and compares it with the
/// oracle and the two baselines, in true benefit weeks avoided.
///
/// # Errors
/// As [`batch::run`].
pub fn evaluate(
    world: &World,
    reference: Arc<ReferenceData>,
    policies: Arc<PolicySet>,
    seed: u64,
) -> Result<Evaluation> {
    let today = today();
    let mut without = world.data.clone();
    without.outcomes.clear();
    let without = Arc::new(without);
    let scorer = Scorer::new(without.clone(), reference.clone(), policies.clone(), today)?;
    let n = without.candidates.len();
    let n_groups = reference.target_groups.len().max(1);
    // Every eligible pair with its true value (weeks avoided) and distance.
    let mut pairs: Vec<Vec<(u32, f64, f64)>> = Vec::with_capacity(n);
    // The same pairs valued by the plain estimator.
    let plain_table = plain_uplift(&world.data, n_groups, PLAIN_STRENGTH);
    let mut plain_values: Vec<Vec<(u32, f64)>> = Vec::with_capacity(n);
    for i in 0..n {
        let view = scorer.candidate(i)?;
        let c = &without.candidates[i];
        let band = weeks_band(f64::from(c.benefit.start.days_until(today).max(0)) / 7.0);
        let groups: Vec<usize> = super::group_indices(c.target_groups, n_groups).collect();
        let mut row = Vec::new();
        let mut plain_row = Vec::new();
        let mean =
            |f: &dyn Fn(usize) -> f64| groups.iter().map(|&g| f(g)).sum::<f64>() / groups.len().max(1) as f64;
        for o in 0..without.offers.len() {
            let Ok(b) = scorer.breakdown(&view, o) else { continue };
            let uplift = mean(&|g| world.truth.uplift(o, g, band));
            row.push((o as u32, uplift * b.weeks_avoided, b.distance_km));
            let plain = mean(&|g| plain_table[(o * n_groups + g) * N_BANDS + band]);
            plain_row.push((o as u32, plain * b.weeks_avoided));
        }
        pairs.push(row);
        plain_values.push(plain_row);
    }
    let value = |assignment: &[Option<u32>]| -> f64 {
        assignment
            .iter()
            .zip(&pairs)
            .filter_map(|(a, row)| a.and_then(|o| row.iter().find(|p| p.0 == o)).map(|p| p.1))
            .sum()
    };
    let capacity: Vec<u32> = without.offers.iter().map(|o| o.capacity).collect();

    // The best assignment for given pair values, by the exact solver.
    let best = |values: &[Vec<(u32, f64)>]| -> Result<f64> {
        let mut offsets = vec![0usize];
        let (mut offers, mut weights) = (Vec::new(), Vec::new());
        for row in values {
            for &(o, v) in row {
                let w = (v * 1000.0).round() as i64;
                if w > 0 {
                    offers.push(o);
                    weights.push(w);
                }
            }
            offsets.push(offers.len());
        }
        let problem = Problem::new(n, capacity.clone(), offsets, offers, weights)?;
        let options = SolveOptions { threads: 1, ..SolveOptions::default() };
        Ok(value(&assign::solve(&problem, &options)?.assignment))
    };
    let truth: Vec<Vec<(u32, f64)>> =
        pairs.iter().map(|row| row.iter().map(|p| (p.0, p.1)).collect()).collect();
    let oracle = best(&truth)?;
    let learned = Scorer::new(Arc::new(world.data.clone()), reference.clone(), policies.clone(), today)?;
    let mut estimates = Vec::with_capacity(n);
    for (i, row) in pairs.iter().enumerate() {
        let view = learned.candidate(i)?;
        estimates.push(
            row.iter()
                .filter_map(|p| {
                    learned.breakdown(&view, p.0 as usize).ok().map(|b| (p.0, b.uplift * b.weeks_avoided))
                })
                .collect::<Vec<_>>(),
        );
    }
    let estimated = best(&estimates)?;
    let plain = best(&plain_values)?;

    let engine = |data: Arc<Dataset>| -> Result<f64> {
        let options = BatchOptions { today: Some(today), threads: 1, ..BatchOptions::default() };
        let result = batch::run(data, reference.clone(), policies.clone(), &options)?;
        Ok(value(&result.solution.assignment))
    };
    let with_outcomes = engine(Arc::new(world.data.clone()))?;
    let without_outcomes = engine(without.clone())?;

    let mut rng = Rng::new(seed, 404);
    let baseline = |rng: &mut Rng, nearest: bool| {
        let mut order: Vec<usize> = (0..n).collect();
        for i in (1..n).rev() {
            order.swap(i, rng.below(i + 1));
        }
        let mut left = capacity.clone();
        let mut assignment = vec![None; n];
        for i in order {
            let open: Vec<&(u32, f64, f64)> = pairs[i].iter().filter(|p| left[p.0 as usize] > 0).collect();
            let choice = if nearest {
                open.iter().min_by(|a, b| a.2.total_cmp(&b.2).then(a.0.cmp(&b.0))).copied()
            } else {
                rng.pick(&open).copied()
            };
            if let Some(&(o, _, _)) = choice {
                left[o as usize] -= 1;
                assignment[i] = Some(o);
            }
        }
        value(&assignment)
    };
    let random = baseline(&mut rng, false);
    let nearest = baseline(&mut rng, true);
    Ok(Evaluation { oracle, with_outcomes, without_outcomes, estimated, random, nearest, plain })
}

/// Pseudo-episodes of the no-offer rate in [`plain_uplift`]'s shrinkage.
pub const PLAIN_STRENGTH: f64 = 10.0;

/// The issue's "plain estimator a careful analyst would write", a baseline for
/// [`super::EffectModel`]: each offer's success rate per target group and weeks band, shrunk
/// toward the no-offer rate of the same group and band with `strength` pseudo-episodes, minus
/// that rate. No provider level, no case mix beyond the band, no intervals. Indexed
/// `[(offer × n_groups + group) × N_BANDS + band]`, offers in data-set order.
pub fn plain_uplift(data: &Dataset, n_groups: usize, strength: f64) -> Vec<f64> {
    let offer_index: std::collections::HashMap<&str, usize> =
        data.offers.iter().enumerate().map(|(i, o)| (o.id.as_str(), i)).collect();
    // (successes, episodes) without an offer per group and band, and per group.
    let mut none = vec![(0.0f64, 0.0f64); n_groups * N_BANDS];
    let mut none_group = vec![(0.0f64, 0.0f64); n_groups];
    let mut with = vec![(0.0f64, 0.0f64); data.offers.len() * n_groups * N_BANDS];
    for e in &data.outcomes {
        let band = weeks_band(f64::from(e.weeks_on_benefit));
        let s = f64::from(u8::from(e.success));
        let offer = e.offer.as_ref().and_then(|id| offer_index.get(id.as_str()).copied());
        for g in super::group_indices(e.target_groups, n_groups) {
            let cell = match offer {
                None => {
                    none_group[g].0 += s;
                    none_group[g].1 += 1.0;
                    &mut none[g * N_BANDS + band]
                }
                Some(o) => &mut with[(o * n_groups + g) * N_BANDS + band],
            };
            cell.0 += s;
            cell.1 += 1.0;
        }
    }
    let mut uplift = vec![0.0; with.len()];
    for (i, &(s, n)) in with.iter().enumerate() {
        let g = (i / N_BANDS) % n_groups;
        let (gs, gn) = none_group[g];
        let group_rate = if gn > 0.0 { gs / gn } else { 0.0 };
        let (bs, bn) = none[g * N_BANDS + i % N_BANDS];
        let rate = (bs + 2.0 * group_rate) / (bn + 2.0);
        uplift[i] = (s + strength * rate) / (n + strength) - rate;
    }
    uplift
}
