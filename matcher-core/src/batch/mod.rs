//! Nightly re-matching: score, build the graph, solve exactly, verify the certificate, and
//! turn the result into proposals, offer prices and the numbers of the morning report.
//!
//! Pure: the data set, policies, the day and the previous prices come in; plain data goes
//! out. Writing files (atomically) and rendering HTML are the binary's job.
//!
//! Proposals are *suggestions* for a caseworker, never decisions.

pub mod caseload;
mod closed;
pub mod fairness;
mod record;
pub mod report;
pub mod rules;
pub mod scenario;
mod shares;
pub mod stability;

pub use record::{ProposalRecord, ProposalStatus, RunnerUp, write_record_json};

use crate::assign::{self, Certificate, Mode, Problem, Solution, SolveOptions};
use crate::dataset::previous::PreviousRun;
use crate::error::{Error, Result};
use crate::graph::{self, CandidateGraph};
use crate::model::{ContractKind, ContractRules, Dataset, Date, ReferenceData};
use crate::policy::PolicySet;
use crate::progress::{self, Phase, Progress};
use crate::score::{Factor, Scorer};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use stability::{Fingerprints, SincePrevious, Stability, Yesterday};
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
    /// The previous run's suggested offer of every candidate, by index (see
    /// [`warm_start_assignment`]); used with `warm_start`.
    pub warm_assignment: Option<Vec<Option<u32>>>,
    /// The previous run (see [`crate::dataset::previous`]): tonight is compared with it, its
    /// suggestions carry the policy's stability bonus, and, unless `warm_start` and
    /// `warm_assignment` are given, its prices and suggestions warm-start the solver.
    pub previous: Option<Arc<PreviousRun>>,
    /// Also solve the stable and greedy baselines for the report's comparison.
    pub compare_baselines: bool,
    /// Where to count the run's progress (see [`crate::progress`]).
    pub progress: Option<Arc<Progress>>,
    /// Which contract rules apply (all by default; each municipality's policy may turn one
    /// off for its contracts, see [`crate::model::contract`]).
    pub rules: ContractRules,
    /// Price each contract rule: solve the same night without it (see [`rules::RuleCost`]).
    pub rule_costs: bool,
    /// Price one more place in kroner at this many offers, those with the highest dual price:
    /// each is the night re-solved with one more place there (see [`scenario::PlaceValue`]).
    pub place_values: usize,
}

/// What changed for a candidate compared with the current assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
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
    /// Expected net effect of the suggested pair, DKK; 0 for a locked, running course (its
    /// price and effect were counted the night it was suggested: sunk cost).
    pub effect_dkk: f64,
    /// Uplift over no offer behind the effect (share).
    pub uplift: f64,
    /// Why the expected net effect is negative, if it is.
    pub effect_flag: Option<EffectFlag>,
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
    /// Why there is no suggestion, in the fairness report's terms: the engine's choice or
    /// the supply (see [`fairness::cause_of`]).
    #[serde(default)]
    pub unmatched_cause: Option<fairness::UnmatchedCause>,
    /// Against the previous run, when there was one.
    pub since_previous: Option<SincePrevious>,
}

/// Why a suggestion is expected to cost more than it saves.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EffectFlag {
    /// Even the upper end of the uplift's 90 % interval does not pay for the price.
    #[serde(rename = "small_effect_for_price")]
    SmallForPrice,
    /// The expected effect does not pay, but the interval reaches effects that would: the
    /// record is too thin to say.
    TooUncertain,
}

impl EffectFlag {
    /// The flag as written in run files.
    pub fn key(self) -> &'static str {
        match self {
            EffectFlag::SmallForPrice => "small_effect_for_price",
            EffectFlag::TooUncertain => "too_uncertain",
        }
    }

    /// The flag of a pair, from its expected effect and its effect at the optimistic end.
    pub fn of(effect_dkk: f64, effect_high_dkk: f64) -> Option<EffectFlag> {
        if effect_dkk >= 0.0 {
            None
        } else if effect_high_dkk < 0.0 {
            Some(EffectFlag::SmallForPrice)
        } else {
            Some(EffectFlag::TooUncertain)
        }
    }
}

/// The value of one more place at an offer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferPrice {
    /// Offer index.
    pub offer: u32,
    /// Dual price: what one more place adds to the night's optimum, points (0 when it adds
    /// nothing, as where places are left over).
    pub price: i64,
    /// Places.
    pub capacity: u32,
    /// Places given in this run (locked ones included).
    pub assigned: u32,
    /// One more place here would also change the guaranteed places of the offers of its
    /// strategic partner's contract (a guarantee is shared by places) in a way tonight's
    /// assignment does not show to be free: `price` is then the rise with tonight's
    /// guaranteed places held, and the night re-run with one more place can differ
    /// (`shares`, `docs/procurement.md`).
    #[serde(default)]
    pub holds_guarantee_shares: bool,
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
    /// The stable and greedy baselines' solves and (since session 9) their totals, effects
    /// and blocking pairs, beside the exact solve, so this overlaps `solve_seconds`.
    pub baselines_seconds: f64,
    /// Proposals and report numbers: the candidates' views before the solve, the optimum's
    /// summary and the proposals after it (the baselines' summaries are in
    /// `baselines_seconds` since session 9).
    pub proposals_seconds: f64,
    /// Of `proposals_seconds`: the candidates' views and the stable priority, before the solve
    /// (the views are made beside the problem's rules, so their time is in `graph_seconds` too).
    #[serde(default)]
    pub views_seconds: f64,
    /// Of `proposals_seconds`: the optimum's total, effect and blocking pairs, right after the
    /// solve and beside the baselines (theirs are in `baselines_seconds`).
    #[serde(default)]
    pub summaries_seconds: f64,
    /// Waiting for the baselines after the exact solve and its summary were done (0 when they
    /// finished first).
    #[serde(default)]
    pub baselines_wait_seconds: f64,
    /// Pricing one more place at the offers without places tonight (`closed`), after the
    /// proposals.
    #[serde(default)]
    pub closed_offers_seconds: f64,
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
    /// How the guaranteed volumes were met, when there are any.
    pub guarantees: Option<GuaranteeProof>,
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
    /// Fingerprints of tonight's candidates and offers (written to the run files, so that
    /// tomorrow can tell which rows changed).
    pub fingerprints: Fingerprints,
    /// Tonight against the previous run, when there was one.
    pub stability: Option<Stability>,
    /// The data set as the night saw it: offers with the terms of the contracts in force.
    pub night: Arc<Dataset>,
    /// What the buffer rule did to the problem.
    pub buffer_rule: rules::BufferRule,
    /// What each contract rule costs, when asked for ([`BatchOptions::rule_costs`]).
    pub rule_costs: Vec<rules::RuleCost>,
    /// What one more place is worth at the offers with the highest dual price, when asked for
    /// ([`BatchOptions::place_values`]), highest dual first.
    pub place_values: Vec<scenario::PlaceValue>,
    /// The measured results per offer and provider × target group of the night's effect
    /// model (`quality.csv`): the rows of the estimate the night scored with, so that writing
    /// them needs no second estimate.
    pub quality: Vec<crate::effect::QualityRow>,
}

/// Maps the previous run's prices (by offer id) onto this run's offer indices; offers that
/// are new tonight start at 0.
pub fn warm_start_prices(data: &Dataset, previous: &[(String, i64)]) -> Vec<i64> {
    let by_id: std::collections::HashMap<&str, i64> =
        previous.iter().map(|(id, p)| (id.as_str(), *p)).collect();
    data.offers.iter().map(|o| by_id.get(o.id.as_str()).copied().unwrap_or(0).max(0)).collect()
}

/// Maps the previous run's suggestions `(candidate id, offer id)` onto this run's indices;
/// candidates and offers that are new tonight, or not found, start without one.
pub fn warm_start_assignment(data: &Dataset, previous: &[(String, String)]) -> Vec<Option<u32>> {
    let offers: std::collections::HashMap<&str, u32> =
        data.offers.iter().enumerate().map(|(j, o)| (o.id.as_str(), j as u32)).collect();
    let suggested: std::collections::HashMap<&str, u32> =
        previous.iter().filter_map(|(c, o)| offers.get(o.as_str()).map(|&j| (c.as_str(), j))).collect();
    data.candidates.iter().map(|c| suggested.get(c.id.as_str()).copied()).collect()
}

/// The assignment problem of a candidate graph: capacities, current offers, locks and the
/// strategic partners' guaranteed volumes.
///
/// A guarantee above the places the night has is filled as far as the places go: a contract
/// checked against an offer's places can meet fewer of them tonight (the service shares an
/// offer's free places out between the municipalities it serves, and places taken are gone).
/// The contracts report still counts the rest as short.
pub fn problem_of(data: &Dataset, scorer: &Scorer, graph: &CandidateGraph) -> Problem {
    let n = data.candidates.len();
    let (current, locked) = current_and_locked(data, |id| scorer.offer_index(id));
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
            .map(|o| {
                if o.contract == Some(ContractKind::StrategicPartner) {
                    o.guaranteed_volume.min(o.capacity)
                } else {
                    0
                }
            })
            .collect(),
    }
}

/// The night's candidate graph as a problem of the night's terms (capacities, locks, current
/// offers; no bonuses), for checks of the report such as [`rules::buffer_breaches`].
pub fn problem_of_night(data: &Dataset, result: &BatchResult) -> Problem {
    let (current, locked) = current_and_locked_by_id(data);
    Problem {
        n_candidates: data.candidates.len(),
        capacity: data.offers.iter().map(|o| o.capacity).collect(),
        offsets: result.graph.offsets.clone(),
        offers: result.graph.offers.clone(),
        weights: result.graph.weights.clone(),
        current,
        locked,
        min_volume: Vec::new(),
    }
}

/// Each candidate's current offer (its index by `offer_index`, when it is in the data set)
/// and whether it is locked there: a locked current offer that is gone is no lock. The one
/// reading of locks for the night's problem, its re-reading after the night, and the report.
pub(crate) fn current_and_locked(
    data: &Dataset,
    offer_index: impl Fn(&str) -> Option<u32>,
) -> (Vec<Option<u32>>, Vec<bool>) {
    let mut current = Vec::with_capacity(data.candidates.len());
    let mut locked = Vec::with_capacity(data.candidates.len());
    for c in &data.candidates {
        let offer = c.current.as_ref().and_then(|a| offer_index(a.offer.as_str()));
        current.push(offer);
        locked.push(offer.is_some() && c.current.as_ref().is_some_and(|a| a.locked));
    }
    (current, locked)
}

/// [`current_and_locked`] without a scorer: the offers looked up by id in the data set.
pub(crate) fn current_and_locked_by_id(data: &Dataset) -> (Vec<Option<u32>>, Vec<bool>) {
    let index: std::collections::HashMap<&str, u32> =
        data.offers.iter().enumerate().map(|(j, o)| (o.id.as_str(), j as u32)).collect();
    current_and_locked(data, |id| index.get(id).copied())
}

/// [`problem_of`], taking the graph's offsets, offers and (unless `copy_weights`) weights
/// instead of copying them: the graph keeps only its counts (and weights) until
/// [`give_back_edges`].
fn problem_of_moving(
    data: &Dataset,
    scorer: &Scorer,
    graph: &mut CandidateGraph,
    copy_weights: bool,
) -> Problem {
    let offsets = std::mem::take(&mut graph.offsets);
    let offers = std::mem::take(&mut graph.offers);
    let weights = if copy_weights { graph.weights.clone() } else { std::mem::take(&mut graph.weights) };
    let empty = CandidateGraph {
        n_offers: graph.n_offers,
        offsets: Vec::new(),
        offers: Vec::new(),
        weights: Vec::new(),
        counts: Vec::new(),
    };
    let mut problem = problem_of(data, scorer, &empty);
    problem.offsets = offsets;
    problem.offers = offers;
    problem.weights = weights;
    problem
}

/// Moves the edge arrays that [`problem_of_moving`] took back into the graph.
fn give_back_edges(problem: &mut Problem, graph: &mut CandidateGraph) {
    graph.offsets = std::mem::take(&mut problem.offsets);
    graph.offers = std::mem::take(&mut problem.offers);
    let weights = std::mem::take(&mut problem.weights);
    if graph.weights.is_empty() {
        graph.weights = weights;
    }
}

/// Runs the night.
///
/// The contracts' terms are put on the offers of `data` in place when this is its only
/// reference, and on a copy otherwise; [`BatchResult::night`] is the data set with them.
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
    // The contracts in force tonight set their offers' terms (kind, guaranteed share, price,
    // a specialist's groups); without contracts the data set is used as it is. The terms are
    // put on the offers in place: a caller that hands over its only reference (`matcher
    // batch`) gets no copy of the data set; the data set as it came is kept only for the rule
    // costs' re-run (the shared reference then makes `make_mut` copy, as before issue 18).
    let raw = options.rule_costs.then(|| data.clone());
    let mut data = data;
    let (reference_again, policies_again) = (reference.clone(), policies.clone());
    let rules_for = |m: crate::model::MunicipalityCode| {
        let c = &policies_again.get(policies_again.index_for(m)).contracts;
        options.rules.and(ContractRules {
            buffer_last: c.buffer_last,
            specialist_groups: c.specialist_groups_only,
            guarantees: c.fill_guarantees,
        })
    };
    if crate::model::contract::changes_offers(&data, rules_for) {
        crate::model::contract::apply_in_place(Arc::make_mut(&mut data), today, rules_for);
    }
    let counter = options.progress.as_deref();
    progress::start(counter, Phase::Graph, data.candidates.len() as u64);
    // Yesterday's run mapped onto tonight's indices, and the fingerprints the run records for
    // tomorrow, beside the scorer's layout: the effect estimate and the layout are one core's
    // work, and the graph needs the scorer.
    let (scorer, (yesterday, fingerprints)) = rayon::join(
        || Scorer::new(data.clone(), reference, policies, today),
        || (options.previous.as_deref().map(|p| Yesterday::map(&data, p)), Fingerprints::of(&data)),
    );
    let scorer = scorer?;
    // Yesterday's pair stays in a row outside the best `k` too, so that the stability bonus
    // can hold it (kept while the row is built: no second pass over the edges).
    let yesterdays_offer = |i: usize| yesterday.as_ref()?.rows.get(i)?.as_ref()?.offer;
    let mut graph = graph::build_keeping(&scorer, &yesterdays_offer, counter)?;
    // The solver's problem takes the graph's edge arrays instead of copying them (14 M edges,
    // ~170 MB on the national night, held twice through the solve before issue 18); they go
    // back into the graph once the solves and blocking pairs are done. The weights are copied
    // only when yesterday's bonus changes the problem's (a reported score never includes it);
    // the buffer rule's few lowered pairs are recorded and restored instead.
    // The problem and its rules on one core, the candidates' views beside them on the others:
    // the rules are one pass in candidate order, the views are independent.
    let (prepared, views) = rayon::join(
        || {
            let mut problem = problem_of_moving(&data, &scorer, &mut graph, yesterday.is_some());
            // The buffer rule first, then yesterday's stability bonus on top: a candidate
            // suggested a buffer yesterday moves to a freed specialist or partner place only for
            // the least gain.
            let before_buffer_rule = options.rule_costs.then(|| problem.clone());
            let lowering = rules::buffer_last_recorded(
                &mut problem,
                &data,
                |i| rules_for(data.candidates[i].municipality).buffer_last,
                options.continuity_bonus,
            );
            let bonus = match &yesterday {
                Some(y) => stability::add_bonus(&mut problem, &data, scorer.policies(), y),
                None => Vec::new(),
            };
            (problem, before_buffer_rule, lowering, bonus)
        },
        || {
            let clock = Instant::now();
            let views = (0..data.candidates.len())
                .into_par_iter()
                .map(|i| scorer.candidate(i))
                .collect::<Result<Vec<_>>>();
            (views, clock.elapsed().as_secs_f64())
        },
    );
    let (mut problem, before_buffer_rule, lowering, bonus) = prepared;
    let (views, views_seconds) = views;
    let views = views?;
    let buffer_rule = lowering.rule;
    // A lowered pair's reported score, by edge (the rest read the problem's or graph's weight).
    let lowered_weight: std::collections::HashMap<usize, i64> =
        lowering.lowered.iter().map(|p| (p.edge, p.weight)).collect();
    timings.graph_seconds = clock.elapsed().as_secs_f64();

    let exact = SolveOptions {
        mode: Mode::Exact,
        threads: options.threads,
        continuity_bonus: options.continuity_bonus,
        warm_start: options.warm_start.clone().or_else(|| yesterday.as_ref().map(|y| y.prices.clone())),
        warm_assignment: options
            .warm_assignment
            .clone()
            .or_else(|| yesterday.as_ref().map(Yesterday::assignment)),
        offer_priority: None,
        guarantee_bonus: None,
    };
    progress::start(counter, Phase::Solve, 0);
    let clock = Instant::now();
    // Stable mode: offers rank candidates by urgency (benefit clock), then by score.
    let priority: Vec<i64> = views.iter().map(|v| (Scorer::urgency(v) * 1000.0).round() as i64).collect();
    let stable_options = SolveOptions { mode: Mode::Stable, offer_priority: Some(priority), ..exact.clone() };
    timings.views_seconds = views_seconds + clock.elapsed().as_secs_f64();
    timings.proposals_seconds = timings.views_seconds;
    // Effects are computed in parallel but summed in candidate order: a floating-point sum
    // in rayon's split order would differ in the last digits from run to run.
    // A locked, running course is sunk cost: its price and effect were counted the night it
    // was suggested, so a night's effect leaves it out.
    // Its own copy of the locks (one byte a candidate): the closure outlives the problem's
    // edges, which go back to the graph before the rule costs use it.
    let locked_rows = problem.locked.clone();
    let effect_of = |assignment: &[Option<u32>]| -> f64 {
        let effects: Vec<f64> = views
            .par_iter()
            .zip(assignment.par_iter())
            .enumerate()
            .map(|(i, (v, a))| {
                if locked_rows.get(i).copied().unwrap_or(false) {
                    return 0.0;
                }
                a.and_then(|o| scorer.breakdown(v, o as usize).ok()).map_or(0.0, |b| b.effect_dkk)
            })
            .collect();
        effects.iter().sum()
    };
    // The graph's own weights when the problem's carry yesterday's bonus (see
    // `problem_of_moving`): a reported total never includes it.
    let reported: &[i64] = if graph.weights.is_empty() { &problem.weights } else { &graph.weights };
    let copied = !graph.weights.is_empty();
    let reported_at = |e: usize| -> i64 {
        if copied { reported[e] } else { lowered_weight.get(&e).copied().unwrap_or(reported[e]) }
    };
    // Integer sums: the same in any order, so counted in parallel.
    let weight_of = |assignment: &[Option<u32>]| -> i64 {
        (0..assignment.len())
            .into_par_iter()
            .map(|i| {
                let Some(o) = assignment[i] else { return 0 };
                let row = problem.offsets[i]..problem.offsets[i + 1];
                row.into_iter().find(|&e| problem.offers[e] == o).map_or(0, reported_at)
            })
            .sum()
    };
    // The baselines do not depend on the exact solution, and the exact solve spends most of a
    // national night in one component on one core: run them side by side.
    let (exact_result, baselines) = rayon::join(
        || {
            let mut t = Timings::default();
            let solved = solve_with_guarantees(&problem, &exact, &mut t)?;
            // The solution's own summary too: on a warm night the repair is done long before
            // the baselines (0.55 s against 1.0-1.2 s), and this is what the core left idle
            // would otherwise wait with; on a cold night the baselines' core joins in here.
            let clock = Instant::now();
            let summary = MethodSummary {
                method: "optimal".into(),
                total_weight: weight_of(&solved.0.assignment),
                effect_dkk: effect_of(&solved.0.assignment),
                matched: solved.0.matched(),
                blocking_pairs: assign::blocking_pairs(&problem, &solved.0.assignment, &stable_options)?,
            };
            t.summaries_seconds = clock.elapsed().as_secs_f64();
            Ok((solved, summary, t, Instant::now()))
        },
        || -> Result<(Vec<MethodSummary>, f64)> {
            let clock = Instant::now();
            let mut out = Vec::new();
            if options.compare_baselines {
                // One validation and one sort of the candidates' lists for both.
                let opts = SolveOptions { warm_start: None, ..stable_options.clone() };
                let (stable, greedy) = assign::solve_baselines(&problem, &opts)?;
                out.push(("stable", stable));
                out.push(("greedy", greedy));
            }
            // Their totals, effects and blocking pairs too: the exact solve leaves this core
            // idle for most of a national night's solve (session 9: the baselines' solves took
            // 0.84-0.91 s beside an exact solve of 1.5-1.9 s; with their summaries 1.0-1.2 s).
            let assignments: Vec<&[Option<u32>]> = out.iter().map(|(_, s)| s.assignment.as_slice()).collect();
            let blocking = if assignments.is_empty() {
                Vec::new()
            } else {
                assign::blocking_pairs_each(&problem, &assignments, &stable_options)?
            };
            let summaries = out
                .iter()
                .zip(blocking)
                .map(|((name, s), blocking_pairs)| MethodSummary {
                    method: (*name).into(),
                    total_weight: weight_of(&s.assignment),
                    effect_dkk: effect_of(&s.assignment),
                    matched: s.matched(),
                    blocking_pairs,
                })
                .collect();
            Ok((summaries, clock.elapsed().as_secs_f64()))
        },
    );
    let ((solution, certificate, guarantees), optimal, solve_timings, exact_done) = exact_result?;
    timings.baselines_wait_seconds = exact_done.elapsed().as_secs_f64();
    progress::start(counter, Phase::Proposals, 0);
    let (baseline_summaries, baselines_seconds) = baselines?;
    timings.solve_seconds = solve_timings.solve_seconds;
    timings.verify_seconds = solve_timings.verify_seconds;

    let mut methods = vec![optimal];
    methods.extend(baseline_summaries);
    timings.summaries_seconds = solve_timings.summaries_seconds;
    timings.proposals_seconds += timings.summaries_seconds;
    timings.baselines_seconds = baselines_seconds;
    // The guarantees' rule cost re-solves tonight's problem, whose edges go back to the graph
    // next: solve it while the problem still holds them.
    let without_guarantees = match &before_buffer_rule {
        Some(_) if problem.min_volume.iter().any(|&v| v > 0) => {
            let mut free = problem.clone();
            free.min_volume = vec![0; free.n_offers()];
            let again = SolveOptions {
                warm_start: Some(solution.offer_prices.clone()),
                warm_assignment: Some(solution.assignment.clone()),
                ..exact.clone()
            };
            Some(solve_with_guarantees(&free, &again, &mut Timings::default())?.0)
        }
        _ => None,
    };
    // One more place at the offers with the highest dual price, each a warm re-solve of
    // tonight's problem (its edges still here); kroner from the candidates who move.
    let place_values = if options.place_values > 0 {
        let effect_at = |i: usize, offer: Option<u32>| -> f64 {
            if locked_rows.get(i).copied().unwrap_or(false) {
                return 0.0;
            }
            offer.and_then(|o| scorer.breakdown(&views[i], o as usize).ok()).map_or(0.0, |b| b.effect_dkk)
        };
        let again = SolveOptions {
            warm_start: Some(solution.offer_prices.clone()),
            warm_assignment: Some(solution.assignment.clone()),
            ..exact.clone()
        };
        scenario::place_values(&mut problem, &solution, options.place_values, &effect_at, |p| {
            Ok(solve_with_guarantees(p, &again, &mut Timings::default())?.0)
        })?
    } else {
        Vec::new()
    };
    if graph.weights.is_empty() {
        // The graph gets its reported scores back, not the rule's lowered weights.
        lowering.restore(&mut problem.weights);
    }
    give_back_edges(&mut problem, &mut graph);

    let clock = Instant::now();
    // The offers near each unmatched candidate, of any group, for the fairness report's causes:
    // needed only for candidates with no edge at all (one with an edge is the engine's choice).
    let walk =
        (0..data.candidates.len()).any(|i| solution.assignment[i].is_none() && graph.row(i).next().is_none());
    let near = walk.then(|| graph::Index::new(&scorer));
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
            let sunk = change == Change::Locked;
            let effect_dkk = if sunk { 0.0 } else { breakdown.map_or(0.0, |b| b.effect_dkk) };
            Proposal {
                candidate: i as u32,
                offer,
                score,
                points: breakdown.map_or([0; 8], |b| b.points),
                effect_dkk,
                uplift: breakdown.map_or(0.0, |b| b.uplift),
                effect_flag: breakdown
                    .filter(|_| !sunk)
                    .and_then(|b| EffectFlag::of(b.effect_dkk, b.effect_high_dkk)),
                distance_km: breakdown.map_or(0.0, |b| b.distance_km),
                runner_up: runner_up.map(|(j, _)| j),
                runner_up_score: runner_up.map_or(0, |(_, w)| w),
                current,
                change,
                unmatched_reason,
                unmatched_cause: offer.is_none().then(|| match (graph.row(i).next(), near.as_ref()) {
                    (None, Some(index)) => fairness::cause_of(&scorer, index, view),
                    _ => fairness::UnmatchedCause::EngineChoice,
                }),
                since_previous: yesterday
                    .as_ref()
                    .map(|y| stability::compare(i, offer, &graph, y, &fingerprints)),
            }
        })
        .collect();
    let stability = yesterday.as_ref().map(|y| {
        let since: Vec<SincePrevious> = proposals.iter().filter_map(|p| p.since_previous.clone()).collect();
        stability::summarise(&since, &bonus, y, scorer.policies())
    });
    let mut assigned = vec![0u32; data.offers.len()];
    for o in solution.assignment.iter().flatten() {
        assigned[*o as usize] += 1;
    }
    timings.proposals_seconds += clock.elapsed().as_secs_f64();
    // Offers without places tonight are in no row of the graph, so the solve priced them 0:
    // priced here from its duals (`closed`), what one more place there would add.
    let clock = Instant::now();
    let yesterdays = |i: usize| {
        let y = yesterday.as_ref()?;
        let o = y.rows.get(i)?.as_ref()?.offer?;
        Some((o, stability::bonus_points(&data, scorer.policies(), i)))
    };
    let also = |i: usize| yesterdays(i).map(|(o, _)| o);
    // A pair can raise a price only above the candidate's profit, less the bonuses it may get.
    let floor = |i: usize| {
        let profit = solution.candidate_profits.get(i).copied().unwrap_or(0);
        let bonuses = options.continuity_bonus + yesterdays(i).map_or(0, |(_, b)| b.max(0));
        profit.saturating_add(1).saturating_sub(bonuses)
    };
    let closed_pairs = graph::closed_pairs(&scorer, &views, &graph, &also, &floor);
    let buffer_last = |i: usize| rules_for(data.candidates[i].municipality).buffer_last;
    let weighing = closed::Weighing {
        continuity_bonus: options.continuity_bonus,
        current: &problem.current,
        yesterday: &yesterdays,
        buffer_last: &buffer_last,
    };
    let mut price_of: Vec<i64> =
        (0..data.offers.len()).map(|j| solution.offer_prices.get(j).copied().unwrap_or(0)).collect();
    for (x, p) in closed::closed_prices(&data, &graph, &solution, &closed_pairs, &weighing) {
        price_of[x as usize] = p;
    }
    drop(closed_pairs);
    timings.closed_offers_seconds = clock.elapsed().as_secs_f64();
    let holds = shares::holds_shares(&data, today, &problem.min_volume, &assigned);
    let prices = data
        .offers
        .iter()
        .enumerate()
        .map(|(j, o)| OfferPrice {
            offer: j as u32,
            price: price_of[j],
            capacity: o.capacity,
            assigned: assigned[j],
            holds_guarantee_shares: holds[j],
        })
        .collect();
    debug_assert_eq!(Factor::ALL.len(), 8);
    let spend_of = |assignment: &[Option<u32>]| -> f64 {
        assignment
            .iter()
            .enumerate()
            .filter(|(i, _)| !problem.locked.get(*i).copied().unwrap_or(false))
            .filter_map(|(_, a)| a.map(|j| f64::from(data.offers[j as usize].price_dkk)))
            .sum()
    };
    let mut rule_costs = Vec::new();
    if let Some(before_buffer_rule) = before_buffer_rule {
        let effect = methods[0].effect_dkk;
        let tonight = &solution.assignment;
        let cost = |rule: rules::Rule, assignment: Option<&[Option<u32>]>, breaches: usize| {
            let without = assignment.unwrap_or(tonight);
            let effect_without = if assignment.is_some() { effect_of(without) } else { effect };
            rules::RuleCost {
                rule,
                effect_dkk: effect,
                effect_without_dkk: effect_without,
                cost_dkk: effect_without - effect,
                matched: solution.matched(),
                matched_without: without.iter().flatten().count(),
                spend_dkk: spend_of(tonight),
                spend_without_dkk: spend_of(without),
                changed: tonight.iter().zip(without).filter(|(a, b)| a != b).count(),
                buffer_breaches_without: breaches,
                solved: assignment.is_some(),
            }
        };
        // Re-solves of the same graph, warm-started from tonight's prices.
        let again = SolveOptions {
            warm_start: Some(solution.offer_prices.clone()),
            warm_assignment: Some(tonight.clone()),
            ..exact.clone()
        };
        let mut scratch = Timings::default();
        // Buffer rule: tonight's problem before the buffer pairs were lowered.
        if buffer_rule.lowered_pairs > 0 {
            let mut before_buffer_rule = before_buffer_rule;
            if let Some(y) = &yesterday {
                stability::add_bonus(&mut before_buffer_rule, &data, scorer.policies(), y);
            }
            let (s, _, _) = solve_with_guarantees(&before_buffer_rule, &again, &mut scratch)?;
            let breaches = rules::buffer_breaches(&before_buffer_rule, &data, &s.assignment).len();
            rule_costs.push(cost(rules::Rule::BufferLast, Some(&s.assignment), breaches));
        } else {
            rule_costs.push(cost(rules::Rule::BufferLast, None, 0));
        }
        // Specialist groups: a night whose specialists take every group needs its own graph.
        let open = ContractRules { specialist_groups: false, ..options.rules };
        let raw =
            raw.ok_or_else(|| Error::Problem("the data set before the contracts was not kept".into()))?;
        let open_data = crate::model::contract::apply(&raw, today, |m| rules_for(m).and(open));
        let narrowed = open_data.as_ref().is_some_and(|d| {
            d.offers.iter().zip(&data.offers).any(|(a, b)| a.target_groups != b.target_groups)
        });
        if narrowed {
            let options = BatchOptions {
                rules: open,
                rule_costs: false,
                place_values: 0,
                compare_baselines: false,
                progress: None,
                ..options.clone()
            };
            let other = run_in_pool(raw.clone(), reference_again, policies_again.clone(), &options, today)?;
            let assignment = &other.solution.assignment;
            let spend: f64 = other
                .proposals
                .iter()
                .filter(|p| p.change != Change::Locked)
                .filter_map(|p| p.offer.map(|j| f64::from(other.night.offers[j as usize].price_dkk)))
                .sum();
            let mut c = cost(rules::Rule::SpecialistGroupsOnly, None, 0);
            c.effect_without_dkk = other.methods[0].effect_dkk;
            c.cost_dkk = c.effect_without_dkk - effect;
            c.matched_without = other.solution.matched();
            c.spend_without_dkk = spend;
            c.changed = tonight.iter().zip(assignment).filter(|(a, b)| a != b).count();
            c.solved = true;
            rule_costs.push(c);
        } else {
            rule_costs.push(cost(rules::Rule::SpecialistGroupsOnly, None, 0));
        }
        // Guarantees: the same problem without minimum volumes.
        if let Some(s) = &without_guarantees {
            rule_costs.push(cost(rules::Rule::FillGuarantees, Some(&s.assignment), 0));
        } else {
            rule_costs.push(cost(rules::Rule::FillGuarantees, None, 0));
        }
    }
    Ok(BatchResult {
        graph,
        solution,
        certificate,
        guarantees,
        proposals,
        prices,
        methods,
        timings,
        today,
        fingerprints,
        stability,
        night: data,
        buffer_rule,
        rule_costs,
        place_values,
        quality: scorer.effects().quality.clone(),
    })
}

/// How the strategic partners' guaranteed volumes were met, and the proof that no assignment
/// meets more of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct GuaranteeProof {
    /// Guaranteed places in all (`Σ min_volume`).
    pub guaranteed: u64,
    /// The most guaranteed places any assignment can fill (a maximum b-matching into the
    /// guaranteed places; tested against the exact unit-weight optimum).
    pub fillable: u64,
    /// Guaranteed places the night's assignment fills; equal to `fillable`.
    pub filled: u64,
    /// The bonus per filled guaranteed place the final solve used.
    pub bonus: i64,
    /// Solves needed (the bonus grows until `filled == fillable`).
    pub solves: u32,
}

fn guaranteed_filled(problem: &Problem, assignment: &[Option<u32>]) -> u64 {
    let mut count = vec![0u32; problem.n_offers()];
    for j in assignment.iter().flatten() {
        count[*j as usize] += 1;
    }
    problem.min_volume.iter().zip(&count).map(|(&l, &c)| u64::from(l.min(c))).sum()
}

/// The most guaranteed places any assignment of `problem` can fill: a maximum b-matching of
/// the candidates into the offers' guaranteed places (capacity `min_volume`), by augmenting
/// paths. Candidates locked at an offer fill its places first; those locked elsewhere take
/// none.
///
/// Unit weights are the auction's worst case (every tie a price war: 8 minutes on the national
/// data set), while augmenting paths need one greedy pass and then one breadth-first search
/// per offer still short, each `O(edges into guaranteed offers)`. A property test checks the
/// result against the exact unit-weight solve.
fn fillable_guaranteed(problem: &Problem) -> u64 {
    const NONE: u32 = u32::MAX;
    let (n, m) = (problem.n_candidates, problem.n_offers());
    let mut locked_at = vec![0u32; m];
    for i in 0..n {
        if problem.is_locked(i)
            && let Some(j) = problem.current_of(i)
        {
            locked_at[j as usize] += 1;
        }
    }
    let need: Vec<u32> = (0..m).map(|j| problem.min_volume_of(j).saturating_sub(locked_at[j])).collect();
    let fixed: u64 = (0..m).map(|j| u64::from(problem.min_volume_of(j).min(locked_at[j]))).sum();
    // Offer → candidates that can take one of its remaining guaranteed places.
    let mut start = vec![0usize; m + 1];
    for i in (0..n).filter(|&i| !problem.is_locked(i)) {
        for &j in problem.edges(i).0 {
            if need[j as usize] > 0 {
                start[j as usize + 1] += 1;
            }
        }
    }
    for j in 0..m {
        start[j + 1] += start[j];
    }
    let mut fill = start.clone();
    let mut adjacent = vec![0u32; start[m]];
    for i in (0..n).filter(|&i| !problem.is_locked(i)) {
        for &j in problem.edges(i).0 {
            if need[j as usize] > 0 {
                adjacent[fill[j as usize]] = i as u32;
                fill[j as usize] += 1;
            }
        }
    }
    let candidates = |j: usize| &adjacent[start[j]..start[j + 1]];
    let mut placed_at = vec![NONE; n];
    let mut filled = vec![0u32; m];
    // Greedy first: most places fill without any re-routing.
    for j in 0..m {
        for &c in candidates(j) {
            if filled[j] == need[j] {
                break;
            }
            if placed_at[c as usize] == NONE {
                placed_at[c as usize] = j as u32;
                filled[j] += 1;
            }
        }
    }
    // Then augmenting paths from each offer still short: offer `j` takes a candidate from
    // offer `y`, which takes one from another offer, and so on until a free candidate is
    // found. Only `j`'s count changes; every offer on the path gives one and gets one.
    let mut visited = vec![0u32; m];
    let mut parent: Vec<(u32, u32)> = vec![(NONE, NONE); m];
    let mut queue = std::collections::VecDeque::new();
    let mut stamp = 0u32;
    for j in 0..m {
        while filled[j] < need[j] {
            stamp += 1;
            queue.clear();
            queue.push_back(j as u32);
            visited[j] = stamp;
            let mut found = None;
            'search: while let Some(x) = queue.pop_front() {
                for &c in candidates(x as usize) {
                    match placed_at[c as usize] {
                        NONE => {
                            found = Some((x, c));
                            break 'search;
                        }
                        y if visited[y as usize] != stamp => {
                            visited[y as usize] = stamp;
                            parent[y as usize] = (x, c);
                            queue.push_back(y);
                        }
                        _ => {}
                    }
                }
            }
            // No path: no assignment gives `j` another guaranteed place.
            let Some((mut x, mut c)) = found else { break };
            loop {
                placed_at[c as usize] = x;
                if x as usize == j {
                    break;
                }
                // `pc` sits at `x` and can take a place at `px`: it moves there.
                let (px, pc) = parent[x as usize];
                c = pc;
                x = px;
            }
            filled[j] += 1;
        }
    }
    fixed + filled.iter().map(|&f| u64::from(f)).sum::<u64>()
}

/// Solves exactly, filling as many guaranteed places as possible.
///
/// The safe bonus per guaranteed place (larger than any weight difference) makes the
/// auction's prices span a range a million times wider than the scores: on the national data
/// set the solve took 134 s instead of 4 s. So: find the most fillable guaranteed places
/// ([`fillable_guaranteed`]), then solve with a bonus of `2·max|w| + 1` and raise it (warm-started)
/// only while the solution fills fewer. The solution is then optimal for
/// `weight + bonus·filled` (gap 0) and fills the most possible, hence it has the highest weight
/// among all assignments that fill the most guaranteed places: what the safe bonus would give.
fn solve_with_guarantees(
    problem: &Problem,
    exact: &SolveOptions,
    timings: &mut Timings,
) -> Result<(Solution, Certificate, Option<GuaranteeProof>)> {
    let verify = |p: &Problem, s: &Solution| -> Result<Certificate> {
        let c = assign::verify(p, s)?;
        if c.gap != Some(0) {
            return Err(Error::Problem(format!(
                "the solution's certificate shows a duality gap of {:?}",
                c.gap
            )));
        }
        Ok(c)
    };
    let guaranteed: u64 = problem.min_volume.iter().map(|&l| u64::from(l)).sum();
    // 0 when there are no guarantees, or when locked courses already fill every one of them.
    let safe = assign::safe_guarantee_bonus(problem, exact.continuity_bonus)?;
    if safe == 0 {
        let clock = Instant::now();
        let solution = assign::solve(problem, exact)?;
        timings.solve_seconds += clock.elapsed().as_secs_f64();
        let clock = Instant::now();
        let certificate = verify(problem, &solution)?;
        timings.verify_seconds += clock.elapsed().as_secs_f64();
        let proof = (guaranteed > 0).then(|| {
            let filled = guaranteed_filled(problem, &solution.assignment);
            GuaranteeProof { guaranteed, fillable: filled, filled, bonus: 0, solves: 1 }
        });
        return Ok((solution, certificate, proof));
    }
    let clock = Instant::now();
    let fillable = fillable_guaranteed(problem);
    timings.solve_seconds += clock.elapsed().as_secs_f64();

    let w_max = problem.weights.iter().map(|w| w.abs()).max().unwrap_or(0) + exact.continuity_bonus;
    let mut bonus = (2 * w_max + 1).min(safe);
    let mut options = exact.clone();
    let mut solves = 0;
    loop {
        options.guarantee_bonus = Some(bonus);
        let clock = Instant::now();
        let solution = assign::solve(problem, &options)?;
        timings.solve_seconds += clock.elapsed().as_secs_f64();
        solves += 1;
        let filled = guaranteed_filled(problem, &solution.assignment);
        if filled >= fillable || bonus >= safe {
            let clock = Instant::now();
            let certificate = verify(problem, &solution)?;
            timings.verify_seconds += clock.elapsed().as_secs_f64();
            if filled < fillable {
                return Err(Error::Problem(format!(
                    "guaranteed places: {filled} filled but {fillable} can be; the certificates disagree"
                )));
            }
            let proof = GuaranteeProof { guaranteed, fillable, filled, bonus, solves };
            return Ok((solution, certificate, Some(proof)));
        }
        options.warm_start = Some(solution.offer_prices.clone());
        options.warm_assignment = Some(solution.assignment.clone());
        bonus = bonus.saturating_mul(16).min(safe);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Random small problems with minimum volumes, some unmeetable, and some locks.
    fn problems() -> impl Strategy<Value = Problem> {
        (2usize..9, 1usize..5).prop_flat_map(|(n, m)| {
            (
                proptest::collection::vec(proptest::collection::vec((0..m as u32, -50i64..2000), 0..4), n),
                proptest::collection::vec(0u32..3, m),
                proptest::collection::vec(0u32..3, m),
                proptest::collection::vec(proptest::bool::weighted(0.2), n),
            )
                .prop_map(move |(rows, capacity, lower, lock)| {
                    let (mut offsets, mut offers, mut weights) = (vec![0], Vec::new(), Vec::new());
                    let (mut current, mut locked) = (vec![None; n], vec![false; n]);
                    let mut used = vec![0u32; m];
                    for (i, row) in rows.iter().enumerate() {
                        let mut seen = std::collections::BTreeSet::new();
                        for &(j, w) in row {
                            if seen.insert(j) {
                                offers.push(j);
                                weights.push(w);
                            }
                        }
                        if lock[i] && !seen.is_empty() {
                            let j = *seen.iter().next().expect("non-empty");
                            if used[j as usize] < capacity[j as usize] {
                                used[j as usize] += 1;
                                current[i] = Some(j);
                                locked[i] = true;
                            }
                        }
                        offsets.push(offers.len());
                    }
                    let min_volume = lower.iter().zip(&capacity).map(|(&l, &c)| l.min(c)).collect();
                    Problem {
                        n_candidates: n,
                        capacity,
                        offsets,
                        offers,
                        weights,
                        current,
                        locked,
                        min_volume,
                    }
                })
        })
    }

    /// The unit-weight problem over the guaranteed offers: its exact optimum is the most
    /// guaranteed places any assignment can fill (the reference for `fillable_guaranteed`).
    fn guarantee_problem(problem: &Problem) -> Problem {
        let n = problem.n_candidates;
        let (mut offsets, mut offers) = (vec![0usize], Vec::new());
        let (mut current, mut locked) = (vec![None; n], vec![false; n]);
        let mut locked_at = vec![0u32; problem.n_offers()];
        for i in 0..n {
            let lock = problem.current_of(i).filter(|_| problem.is_locked(i));
            for &j in problem.edges(i).0 {
                if problem.min_volume_of(j as usize) > 0 && lock.is_none_or(|c| c == j) {
                    offers.push(j);
                }
            }
            if let Some(j) = lock
                && problem.min_volume_of(j as usize) > 0
            {
                current[i] = Some(j);
                locked[i] = true;
                locked_at[j as usize] += 1;
            }
            offsets.push(offers.len());
        }
        let capacity = (0..problem.n_offers()).map(|j| problem.min_volume_of(j).max(locked_at[j])).collect();
        let weights = vec![1; offers.len()];
        Problem {
            n_candidates: n,
            capacity,
            offsets,
            offers,
            weights,
            current,
            locked,
            min_volume: Vec::new(),
        }
    }

    /// The generated demo night (guaranteed places, locks, current offers) once made the
    /// auction's reverse repair fight a price war of 1.9 M ε-steps (4.7 s); it now takes about
    /// 30 000 bids and steps. Counted, not timed: the count is the same on every machine.
    #[test]
    fn the_demo_night_solves_without_a_reverse_price_war() {
        let reference = Arc::new(ReferenceData::embedded().expect("embedded reference data"));
        let data = Arc::new(crate::r#gen::generate(crate::r#gen::Scale::Demo, 1, &reference));
        assert!(data.offers.iter().any(|o| o.guaranteed_volume > 0), "the demo has guaranteed places");
        let options = BatchOptions {
            today: Some(crate::r#gen::AS_OF),
            threads: 1,
            continuity_bonus: 0,
            warm_start: None,
            warm_assignment: None,
            previous: None,
            compare_baselines: false,
            progress: None,
            rules: ContractRules::default(),
            rule_costs: false,
            place_values: 0,
        };
        let night = run(data, reference, Arc::new(PolicySet::default()), &options).expect("the night runs");
        assert_eq!(night.certificate.gap, Some(0));
        let proof = night.guarantees.expect("guaranteed volumes are reported");
        assert_eq!(proof.filled, proof.fillable);
        let n = night.solution.assignment.len() as u64;
        assert!(
            night.solution.stats.iterations < 100 * n,
            "{} auction iterations for {n} candidates",
            night.solution.stats.iterations
        );
    }

    /// The generated demo with its contracts: on the real night, no candidate is at a buffer
    /// while a specialist or partner course in reach has a free place, the certificate gives
    /// gap 0, every rule is priced, and the guarantees priced by a re-solve without them.
    #[test]
    fn the_demo_nights_contracts_hold_and_each_rule_is_priced() {
        let reference = Arc::new(ReferenceData::embedded().unwrap());
        let data = Arc::new(crate::r#gen::generate(crate::r#gen::Scale::Demo, 1, &reference));
        assert!(data.contracts.iter().any(|c| c.kind == ContractKind::Buffer));
        let options = BatchOptions {
            today: Some(crate::r#gen::AS_OF),
            threads: 1,
            rule_costs: true,
            ..BatchOptions::default()
        };
        let night = run(data, reference.clone(), Arc::new(PolicySet::default()), &options).unwrap();
        assert_eq!(night.certificate.gap, Some(0));
        assert!(night.buffer_rule.lowered_pairs > 0, "the demo has buffers that give way");
        let problem = problem_of_night(&night.night, &night);
        assert!(rules::buffer_breaches(&problem, &night.night, &night.solution.assignment).is_empty());
        let rules: Vec<rules::Rule> = night.rule_costs.iter().map(|c| c.rule).collect();
        assert_eq!(rules, rules::Rule::ALL.to_vec());
        // Session 6's demo: the optimum fills every guarantee it can without the rule too (and
        // the course limit refuses the partners' courses that cannot pay, so 145 guaranteed
        // places stay short), so the re-solve changes nothing and costs nothing.
        let guarantees = &night.rule_costs[2];
        assert!(guarantees.solved);
        assert!(guarantees.changed > 0 || guarantees.cost_dkk == 0.0, "{guarantees:?}");
        let report = report::build(&night.night, &reference, &night);
        assert_eq!(report.contracts.buffer_breaches, 0);
        assert!(!report.contracts.contracts.is_empty());
        assert_eq!(
            report.contracts.spend_by_municipality.iter().map(|m| m.spend_dkk).sum::<u64>(),
            report.spend_dkk
        );
    }

    /// A strategic partner whose guarantee is above the places the night has (the service's
    /// share of an offer that other municipalities use too): the night fills the places there
    /// are, and the contracts report counts the rest as short. It once refused the whole night
    /// ("minimum volume 5 exceeds its capacity 3").
    #[test]
    fn a_guarantee_above_tonights_places_is_filled_as_far_as_they_go_and_the_rest_reported_short() {
        let reference = Arc::new(ReferenceData::embedded().unwrap());
        let mut data = crate::r#gen::generate(crate::r#gen::Scale::Demo, 1, &reference);
        let partner = data
            .contracts
            .iter()
            .find(|c| {
                c.kind == ContractKind::StrategicPartner
                    && c.guaranteed_volume > 0
                    && c.in_force(crate::r#gen::AS_OF)
            })
            .expect("the demo has a strategic partner with a guarantee")
            .clone();
        let covered: Vec<usize> =
            (0..data.offers.len()).filter(|&j| partner.offers.contains(&data.offers[j].id)).collect();
        // Tonight the partner's courses have only the places of the courses under way there,
        // and at least one: fewer than the guarantee.
        let mut places = 0;
        for &j in &covered {
            let id = data.offers[j].id.clone();
            let under_way = data
                .candidates
                .iter()
                .filter(|c| c.current.as_ref().is_some_and(|cur| cur.locked && cur.offer == id))
                .count() as u32;
            std::sync::Arc::make_mut(&mut data.offers[j]).capacity = under_way.max(1);
            places += u64::from(under_way.max(1));
        }
        assert!(u64::from(partner.guaranteed_volume) > places, "{} places", places);
        let options =
            BatchOptions { today: Some(crate::r#gen::AS_OF), threads: 1, ..BatchOptions::default() };
        let night = run(Arc::new(data), reference.clone(), Arc::new(PolicySet::default()), &options)
            .expect("the night runs");
        assert_eq!(night.certificate.gap, Some(0));
        let report = report::build(&night.night, &reference, &night);
        let line = report
            .contracts
            .contracts
            .iter()
            .find(|l| l.contract == partner.id.as_str())
            .expect("the partner's line in the contracts report");
        assert_eq!(line.guaranteed, u64::from(partner.guaranteed_volume), "{line:?}");
        assert!(line.short >= line.guaranteed - places, "{line:?}");
    }

    /// Issue 18: a caller that hands over its only reference gets the contracts' terms put on
    /// that data set's offers (no copy of the candidates), with the same night as on a shared
    /// reference, where the data set given stays as it was.
    #[test]
    fn the_only_reference_takes_the_terms_in_place_and_a_shared_one_is_copied() {
        let reference = Arc::new(ReferenceData::embedded().unwrap());
        let data = crate::r#gen::generate(crate::r#gen::Scale::Demo, 1, &reference);
        assert!(!data.contracts.is_empty());
        let options =
            BatchOptions { today: Some(crate::r#gen::AS_OF), threads: 1, ..BatchOptions::default() };
        let policies = Arc::new(PolicySet::default());
        let shared = Arc::new(data.clone());
        let copied = run(shared.clone(), reference.clone(), policies.clone(), &options).unwrap();
        assert!(!Arc::ptr_eq(&shared, &copied.night), "a shared data set is not changed");
        assert_eq!(*shared, data);
        assert_ne!(copied.night.offers, data.offers, "the demo's contracts change some offers");
        let only = Arc::new(data);
        let at = Arc::as_ptr(&only);
        let in_place = run(only, reference, policies, &options).unwrap();
        assert_eq!(Arc::as_ptr(&in_place.night), at, "the only reference is not copied");
        assert_eq!(*in_place.night, *copied.night);
        assert_eq!(in_place.proposals, copied.proposals);
    }

    #[test]
    fn an_augmenting_path_undoes_a_greedy_choice() {
        // Greedy gives candidate 0 to offer 0; offer 1 then needs candidate 0, and offer 0
        // can take candidate 1 instead.
        let problem = Problem {
            n_candidates: 2,
            capacity: vec![1, 1],
            offsets: vec![0, 2, 3],
            offers: vec![0, 1, 0],
            weights: vec![5, 5, 5],
            current: vec![None; 2],
            locked: vec![false; 2],
            min_volume: vec![1, 1],
        };
        assert_eq!(fillable_guaranteed(&problem), 2);
    }

    #[test]
    fn a_chain_of_guarantees_raises_the_bonus_until_all_are_filled() {
        // Offers 0, 1, 2 guarantee one place each; offer 3 is free. Candidate i earns W at
        // offer i + 1 and nothing at offer i, so filling all three guarantees costs 3·W,
        // more than the first bonus (2·W + 1) buys for the one extra guaranteed place.
        const W: i64 = 1000;
        let problem = Problem {
            n_candidates: 3,
            capacity: vec![1, 1, 1, 1],
            offsets: vec![0, 2, 4, 6],
            offers: vec![0, 1, 1, 2, 2, 3],
            weights: vec![0, W, 0, W, 0, W],
            current: vec![None; 3],
            locked: vec![false; 3],
            min_volume: vec![1, 1, 1, 0],
        };
        let options = SolveOptions { mode: Mode::Exact, threads: 1, ..SolveOptions::default() };
        let (solution, certificate, proof) =
            solve_with_guarantees(&problem, &options, &mut Timings::default()).expect("solve");
        let proof = proof.expect("guarantees");
        assert_eq!((proof.fillable, proof.filled), (3, 3));
        assert!(proof.solves >= 2, "the first bonus should not have been enough");
        assert_eq!(solution.assignment, vec![Some(0), Some(1), Some(2)]);
        assert_eq!(certificate.gap, Some(0));
        assert_eq!(solution.objective, assign::solve(&problem, &options).expect("safe").objective);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn augmenting_paths_find_the_most_fillable_guaranteed_places(problem in problems()) {
            let unit = guarantee_problem(&problem);
            let options = SolveOptions { mode: Mode::Exact, threads: 1, ..SolveOptions::default() };
            let exact = assign::solve(&unit, &options).expect("unit solve");
            prop_assert_eq!(assign::verify(&unit, &exact).expect("verify").gap, Some(0));
            prop_assert_eq!(fillable_guaranteed(&problem), guaranteed_filled(&problem, &exact.assignment));
        }

        #[test]
        fn small_guarantee_bonus_gives_what_the_safe_one_gives(problem in problems()) {
            let options = SolveOptions { mode: Mode::Exact, threads: 1, ..SolveOptions::default() };
            let safe = assign::solve(&problem, &options).expect("safe solve");
            let mut timings = Timings::default();
            let (fast, certificate, proof) =
                solve_with_guarantees(&problem, &options, &mut timings).expect("escalating solve");
            prop_assert_eq!(certificate.gap, Some(0));
            prop_assert_eq!(
                guaranteed_filled(&problem, &fast.assignment),
                guaranteed_filled(&problem, &safe.assignment)
            );
            prop_assert_eq!(fast.objective, safe.objective);
            if let Some(proof) = proof {
                prop_assert_eq!(proof.filled, proof.fillable);
            }
        }
    }
}
