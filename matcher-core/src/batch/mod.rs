//! Nightly re-matching: score, build the graph, solve exactly, verify the certificate, and
//! turn the result into proposals, offer prices and the numbers of the morning report.
//!
//! Pure: the data set, policies, the day and the previous prices come in; plain data goes
//! out. Writing files (atomically) and rendering HTML are the binary's job.
//!
//! Proposals are *suggestions* for a caseworker, never decisions.

pub mod report;

use crate::assign::{self, Certificate, Mode, Problem, Solution, SolveOptions};
use crate::error::{Error, Result};
use crate::graph::{self, CandidateGraph};
use crate::model::{ContractKind, Dataset, Date, ReferenceData};
use crate::policy::PolicySet;
use crate::score::{Factor, Scorer};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;

/// Options of one run.
#[derive(Debug, Clone, Default)]
pub struct BatchOptions {
    /// The day of the run: benefit clocks are read against it.
    pub today: Option<Date>,
    /// Worker threads (0 = all cores). Results do not depend on it.
    pub threads: usize,
    /// Extra points for keeping a candidate's current offer, on top of the policy's
    /// continuity factor.
    pub continuity_bonus: i64,
    /// Offer prices of the previous run, by offer index (see [`warm_start_prices`]).
    pub warm_start: Option<Vec<i64>>,
    /// Also solve the stable and greedy baselines for the report's comparison.
    pub compare_baselines: bool,
}

/// What changed for a candidate compared with the current assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// A course under way, kept as it is.
    Locked,
    /// The current offer is suggested again.
    Kept,
    /// A different offer than the current one is suggested.
    Changed,
    /// An offer is suggested to a candidate who had none.
    New,
    /// No offer is suggested (see the reason).
    Unmatched,
}

/// Why a candidate got no suggestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnmatchedReason {
    /// No offer within the candidate's travel limit.
    NothingInReach,
    /// Every offer in reach was excluded for this candidate.
    Excluded,
    /// Offers are in reach, but the candidate is eligible for none of them.
    NoEligibleOffer,
    /// Eligible offers are in reach, but all their places went to others (or had none).
    AllInReachFull,
}

impl UnmatchedReason {
    /// Every reason, in report order.
    pub const ALL: [UnmatchedReason; 4] = [
        UnmatchedReason::NothingInReach,
        UnmatchedReason::Excluded,
        UnmatchedReason::NoEligibleOffer,
        UnmatchedReason::AllInReachFull,
    ];

    /// The reason's key, as in output files.
    pub fn key(self) -> &'static str {
        match self {
            UnmatchedReason::NothingInReach => "nothing_in_reach",
            UnmatchedReason::Excluded => "excluded",
            UnmatchedReason::NoEligibleOffer => "no_eligible_offer",
            UnmatchedReason::AllInReachFull => "all_in_reach_full",
        }
    }
}

/// One candidate's suggestion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Proposal {
    /// Candidate index in the data set.
    pub candidate: u32,
    /// Suggested offer index, if any.
    pub offer: Option<u32>,
    /// Score of the suggested pair, points.
    pub score: i64,
    /// Points per factor of the suggested pair, in [`Factor::ALL`] order.
    pub points: [i64; 8],
    /// Expected effect of the suggested pair, DKK.
    pub effect_dkk: f64,
    /// Travel distance to the suggested offer, km.
    pub distance_km: f64,
    /// The best other offer in the candidate's graph row.
    pub runner_up: Option<u32>,
    /// Its score, points.
    pub runner_up_score: i64,
    /// Current offer index, if any.
    pub current: Option<u32>,
    /// What changed.
    pub change: Change,
    /// Why there is no suggestion.
    pub unmatched_reason: Option<UnmatchedReason>,
}

/// The value of one more place at an offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferPrice {
    /// Offer index.
    pub offer: u32,
    /// Dual price of one more place, points (0 when places are left over).
    pub price: i64,
    /// Places.
    pub capacity: u32,
    /// Places given in this run (locked ones included).
    pub assigned: u32,
}

/// Wall-clock seconds of each phase. Not deterministic: kept apart from the other outputs.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Timings {
    /// Scoring and building the candidate graph.
    pub graph_seconds: f64,
    /// The exact solve.
    pub solve_seconds: f64,
    /// The independent certificate check.
    pub verify_seconds: f64,
    /// Stable and greedy baselines with their blocking pairs.
    pub baselines_seconds: f64,
    /// Proposals and report numbers.
    pub proposals_seconds: f64,
}

/// The comparison of one assignment method on the same night.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MethodSummary {
    /// `optimal`, `stable` or `greedy`.
    pub method: String,
    /// Total score, points.
    pub total_weight: i64,
    /// Total expected effect, DKK.
    pub effect_dkk: f64,
    /// Candidates matched.
    pub matched: usize,
    /// Candidate–offer pairs that would both rather be together.
    pub blocking_pairs: usize,
}

/// Everything a run produces.
#[derive(Debug, Clone)]
pub struct BatchResult {
    /// The candidate graph the solver saw.
    pub graph: CandidateGraph,
    /// The exact solution.
    pub solution: Solution,
    /// Its certificate.
    pub certificate: Certificate,
    /// One per candidate, in data-set order.
    pub proposals: Vec<Proposal>,
    /// One per offer, in data-set order.
    pub prices: Vec<OfferPrice>,
    /// Optimal, then stable and greedy when asked for.
    pub methods: Vec<MethodSummary>,
    /// Phase timings.
    pub timings: Timings,
    /// The day of the run.
    pub today: Date,
}

/// Maps the previous run's prices (by offer id) onto this run's offer indices; offers that
/// are new tonight start at 0.
pub fn warm_start_prices(data: &Dataset, previous: &[(String, i64)]) -> Vec<i64> {
    let by_id: std::collections::HashMap<&str, i64> =
        previous.iter().map(|(id, p)| (id.as_str(), *p)).collect();
    data.offers.iter().map(|o| by_id.get(o.id.as_str()).copied().unwrap_or(0).max(0)).collect()
}

/// The assignment problem of a candidate graph: capacities, current offers, locks and the
/// strategic partners' guaranteed volumes.
pub fn problem_of(data: &Dataset, scorer: &Scorer, graph: &CandidateGraph) -> Problem {
    let n = data.candidates.len();
    let mut current = Vec::with_capacity(n);
    let mut locked = Vec::with_capacity(n);
    for c in &data.candidates {
        let offer = c.current.as_ref().and_then(|a| scorer.offer_index(a.offer.as_str()));
        current.push(offer);
        locked.push(offer.is_some() && c.current.as_ref().is_some_and(|a| a.locked));
    }
    Problem {
        n_candidates: n,
        capacity: data.offers.iter().map(|o| o.capacity).collect(),
        offsets: graph.offsets.clone(),
        offers: graph.offers.clone(),
        weights: graph.weights.clone(),
        current,
        locked,
        min_volume: data
            .offers
            .iter()
            .map(|o| if o.contract == Some(ContractKind::StrategicPartner) { o.guaranteed_volume } else { 0 })
            .collect(),
    }
}

/// Runs the night.
///
/// # Errors
/// [`Error::Problem`] when the data contradict themselves (more locked courses on an offer
/// than it has places, a guaranteed volume above capacity) or the certificate fails.
pub fn run(
    data: Arc<Dataset>,
    reference: Arc<ReferenceData>,
    policies: Arc<PolicySet>,
    options: &BatchOptions,
) -> Result<BatchResult> {
    let today = options.today.ok_or_else(|| Error::Problem("the day of the run is not set".into()))?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .build()
        .map_err(|e| Error::Problem(format!("cannot start worker threads: {e}")))?;
    pool.install(|| run_in_pool(data, reference, policies, options, today))
}

fn run_in_pool(
    data: Arc<Dataset>,
    reference: Arc<ReferenceData>,
    policies: Arc<PolicySet>,
    options: &BatchOptions,
    today: Date,
) -> Result<BatchResult> {
    let mut timings = Timings::default();
    let clock = Instant::now();
    let scorer = Scorer::new(data.clone(), reference, policies, today)?;
    let graph = graph::build(&scorer)?;
    let problem = problem_of(&data, &scorer, &graph);
    timings.graph_seconds = clock.elapsed().as_secs_f64();

    let clock = Instant::now();
    let exact = SolveOptions {
        mode: Mode::Exact,
        threads: options.threads,
        continuity_bonus: options.continuity_bonus,
        warm_start: options.warm_start.clone(),
        offer_priority: None,
    };
    let solution = assign::solve(&problem, &exact)?;
    timings.solve_seconds = clock.elapsed().as_secs_f64();

    let clock = Instant::now();
    let certificate = assign::verify(&problem, &solution)?;
    if certificate.gap != Some(0) {
        return Err(Error::Problem(format!(
            "the solution's certificate shows a duality gap of {:?}",
            certificate.gap
        )));
    }
    timings.verify_seconds = clock.elapsed().as_secs_f64();

    let clock = Instant::now();
    let views: Vec<_> =
        (0..data.candidates.len()).into_par_iter().map(|i| scorer.candidate(i)).collect::<Result<_>>()?;
    // Effects are computed in parallel but summed in candidate order: a floating-point sum
    // in rayon's split order would differ in the last digits from run to run.
    let effect_of = |assignment: &[Option<u32>]| -> f64 {
        let effects: Vec<f64> = views
            .par_iter()
            .zip(assignment.par_iter())
            .map(|(v, a)| a.and_then(|o| scorer.breakdown(v, o as usize).ok()).map_or(0.0, |b| b.effect_dkk))
            .collect();
        effects.iter().sum()
    };
    let weight_of = |assignment: &[Option<u32>]| -> i64 {
        (0..assignment.len())
            .map(|i| {
                let Some(o) = assignment[i] else { return 0 };
                graph.row(i).find(|&(j, _)| j == o).map_or(0, |(_, w)| w)
            })
            .sum()
    };
    // Stable mode: offers rank candidates by urgency (benefit clock), then by score.
    let priority: Vec<i64> = views.iter().map(|v| (Scorer::urgency(v) * 1000.0).round() as i64).collect();
    let stable_options = SolveOptions { mode: Mode::Stable, offer_priority: Some(priority), ..exact.clone() };
    let mut methods = vec![MethodSummary {
        method: "optimal".into(),
        total_weight: weight_of(&solution.assignment),
        effect_dkk: effect_of(&solution.assignment),
        matched: solution.matched(),
        blocking_pairs: assign::blocking_pairs(&problem, &solution.assignment, &stable_options)?,
    }];
    timings.proposals_seconds = clock.elapsed().as_secs_f64();
    if options.compare_baselines {
        let clock = Instant::now();
        for (name, mode) in [("stable", Mode::Stable), ("greedy", Mode::Greedy)] {
            let opts = SolveOptions { mode, warm_start: None, ..stable_options.clone() };
            let s = assign::solve(&problem, &opts)?;
            methods.push(MethodSummary {
                method: name.into(),
                total_weight: weight_of(&s.assignment),
                effect_dkk: effect_of(&s.assignment),
                matched: s.matched(),
                blocking_pairs: assign::blocking_pairs(&problem, &s.assignment, &stable_options)?,
            });
        }
        timings.baselines_seconds = clock.elapsed().as_secs_f64();
    }

    let clock = Instant::now();
    let proposals: Vec<Proposal> = views
        .par_iter()
        .enumerate()
        .map(|(i, view)| {
            let offer = solution.assignment[i];
            let current = problem.current[i];
            let breakdown = offer.and_then(|o| scorer.breakdown(view, o as usize).ok());
            let score = offer.and_then(|o| graph.row(i).find(|&(j, _)| j == o)).map_or(0, |(_, w)| w);
            let runner_up = graph.row(i).find(|&(j, _)| Some(j) != offer);
            let change = match (offer, current) {
                _ if problem.locked[i] => Change::Locked,
                (None, _) => Change::Unmatched,
                (Some(o), Some(c)) if o == c => Change::Kept,
                (Some(_), Some(_)) => Change::Changed,
                (Some(_), None) => Change::New,
            };
            let counts = graph.counts[i];
            let reason = if counts.in_reach == 0 {
                UnmatchedReason::NothingInReach
            } else if counts.feasible > 0 || counts.pruned > 0 || counts.full > 0 {
                UnmatchedReason::AllInReachFull
            } else if counts.excluded == counts.in_reach {
                UnmatchedReason::Excluded
            } else {
                UnmatchedReason::NoEligibleOffer
            };
            let unmatched_reason = offer.is_none().then_some(reason);
            Proposal {
                candidate: i as u32,
                offer,
                score,
                points: breakdown.map_or([0; 8], |b| b.points),
                effect_dkk: breakdown.map_or(0.0, |b| b.effect_dkk),
                distance_km: breakdown.map_or(0.0, |b| b.distance_km),
                runner_up: runner_up.map(|(j, _)| j),
                runner_up_score: runner_up.map_or(0, |(_, w)| w),
                current,
                change,
                unmatched_reason,
            }
        })
        .collect();
    let mut assigned = vec![0u32; data.offers.len()];
    for o in solution.assignment.iter().flatten() {
        assigned[*o as usize] += 1;
    }
    let prices = data
        .offers
        .iter()
        .enumerate()
        .map(|(j, o)| OfferPrice {
            offer: j as u32,
            price: solution.offer_prices.get(j).copied().unwrap_or(0),
            capacity: o.capacity,
            assigned: assigned[j],
        })
        .collect();
    timings.proposals_seconds += clock.elapsed().as_secs_f64();
    debug_assert_eq!(Factor::ALL.len(), 8);
    Ok(BatchResult { graph, solution, certificate, proposals, prices, methods, timings, today })
}
