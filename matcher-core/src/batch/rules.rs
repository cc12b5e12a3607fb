//! The contract rules inside the night's assignment problem, and what each one costs.
//!
//! Owns the buffer rule (a buffer course only when the specialists and partners in reach are
//! full), expressed on the problem's edge weights so that the exact solver and its certificate
//! stay as they are, the check that an assignment keeps it, and the shape of a rule's price in
//! the report ([`RuleCost`]). The specialist and guarantee rules live in the data the night
//! sees ([`crate::model::contract::apply`]) and in the solver's minimum volumes. Must not score
//! or solve on its own: `batch::run` does both.

use crate::assign::Problem;
use crate::model::{ContractKind, Dataset};
use serde::{Deserialize, Serialize};

/// What the buffer rule did to the problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BufferRule {
    /// Candidates with both a buffer and a specialist or partner course in reach.
    pub candidates: usize,
    /// Buffer pairs lowered below the candidate's weakest specialist or partner pair.
    pub lowered_pairs: usize,
}

/// True for the offers a buffer must give way to: specialist and strategic-partner courses.
pub(crate) fn is_core(kind: Option<ContractKind>) -> bool {
    matches!(kind, Some(ContractKind::Specialist | ContractKind::StrategicPartner))
}

/// Lowers each buffer pair of every unlocked candidate for whom `applies` holds to at most one
/// point below the candidate's weakest specialist or partner pair (less the continuity bonus
/// when the buffer is the candidate's current offer). `data` is the night's data set (the
/// terms of the contracts in force).
///
/// Why this is exact: if an optimum put such a candidate at a buffer while a specialist or
/// partner course in its row had a free place, moving the candidate there would raise the
/// objective by at least one point (and fill a guaranteed place or none less), so it was no
/// optimum. The problem stays an ordinary assignment problem; its certificate is checked as
/// always. Reported scores come from the graph, not from these weights.
///
/// # Complexity
/// `O(edges)`.
pub fn buffer_last(
    problem: &mut Problem,
    data: &Dataset,
    applies: impl Fn(usize) -> bool,
    continuity_bonus: i64,
) -> BufferRule {
    buffer_last_recorded(problem, data, applies, continuity_bonus).rule
}

/// A buffer pair [`buffer_last`] lowered, with its weight before: so that the night can give
/// the graph back its reported scores without holding a second copy of every weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoweredPair {
    /// Edge index in the problem's CSR arrays.
    pub edge: usize,
    /// The pair's weight before the rule (its reported score).
    pub weight: i64,
}

/// What [`buffer_last_recorded`] did: the counts and every pair it lowered.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BufferLowering {
    /// The counts the report shows.
    pub rule: BufferRule,
    /// The lowered pairs, in edge order.
    pub lowered: Vec<LoweredPair>,
}

impl BufferLowering {
    /// Puts the lowered pairs' weights back (the problem's weights become the graph's scores).
    pub fn restore(&self, weights: &mut [i64]) {
        for p in &self.lowered {
            weights[p.edge] = p.weight;
        }
    }
}

/// [`buffer_last`], recording each lowered pair and its weight before.
pub fn buffer_last_recorded(
    problem: &mut Problem,
    data: &Dataset,
    applies: impl Fn(usize) -> bool,
    continuity_bonus: i64,
) -> BufferLowering {
    let mut lowered = Vec::new();
    let kind: Vec<Option<ContractKind>> = data.offers.iter().map(|o| o.contract).collect();
    let mut rule = BufferRule::default();
    for i in 0..problem.n_candidates {
        if problem.locked.get(i).copied().unwrap_or(false) || !applies(i) {
            continue;
        }
        let range = problem.offsets[i]..problem.offsets[i + 1];
        let weakest_core = range
            .clone()
            .filter(|&e| is_core(kind[problem.offers[e] as usize]))
            .map(|e| problem.weights[e])
            .min();
        let Some(weakest_core) = weakest_core else { continue };
        let mut any = false;
        for e in range {
            let j = problem.offers[e];
            if kind[j as usize] != Some(ContractKind::Buffer) {
                continue;
            }
            any = true;
            let bonus =
                if problem.current.get(i).copied().flatten() == Some(j) { continuity_bonus } else { 0 };
            let cap = weakest_core - 1 - bonus;
            if problem.weights[e] > cap {
                lowered.push(LoweredPair { edge: e, weight: problem.weights[e] });
                problem.weights[e] = cap;
                rule.lowered_pairs += 1;
            }
        }
        rule.candidates += usize::from(any);
    }
    BufferLowering { rule, lowered }
}

/// A candidate put at a buffer course while a specialist or partner course in its row had a
/// free place: what [`buffer_last`] rules out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BufferBreach {
    /// Candidate index.
    pub candidate: u32,
    /// The buffer offer.
    pub buffer: u32,
    /// A specialist or partner offer in the candidate's row with a free place.
    pub free: u32,
}

/// Every unlocked candidate of `assignment` at a buffer while a specialist or partner course
/// in its row of `problem` had a free place (`data`: the night's terms).
pub fn buffer_breaches(problem: &Problem, data: &Dataset, assignment: &[Option<u32>]) -> Vec<BufferBreach> {
    let rows = Rows {
        offsets: &problem.offsets,
        offers: &problem.offers,
        locked: &problem.locked,
        capacity: &|j| problem.capacity[j as usize],
    };
    buffer_breaches_in(&rows, data, assignment)
}

/// The rows, locks and capacities [`buffer_breaches`] reads, borrowed from a [`Problem`] or
/// from the night's candidate graph (the report's count copies no edge).
pub struct Rows<'a> {
    /// Start of each candidate's row, and the end.
    pub offsets: &'a [usize],
    /// Offer of each edge.
    pub offers: &'a [u32],
    /// Locked candidates (a missing entry is unlocked).
    pub locked: &'a [bool],
    /// Places of an offer.
    pub capacity: &'a (dyn Fn(u32) -> u32 + Sync),
}

/// [`buffer_breaches`] over borrowed rows.
pub fn buffer_breaches_in(
    problem: &Rows<'_>,
    data: &Dataset,
    assignment: &[Option<u32>],
) -> Vec<BufferBreach> {
    let mut used = vec![0u32; data.offers.len()];
    for j in assignment.iter().flatten() {
        used[*j as usize] += 1;
    }
    let mut out = Vec::new();
    for (i, a) in assignment.iter().enumerate() {
        let Some(b) = *a else { continue };
        if problem.locked.get(i).copied().unwrap_or(false)
            || data.offers[b as usize].contract != Some(ContractKind::Buffer)
        {
            continue;
        }
        let range = problem.offsets[i]..problem.offsets[i + 1];
        let free = range
            .map(|e| problem.offers[e])
            .find(|&j| is_core(data.offers[j as usize].contract) && used[j as usize] < (problem.capacity)(j));
        if let Some(free) = free {
            out.push(BufferBreach { candidate: i as u32, buffer: b, free });
        }
    }
    out
}

/// A contract rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// `contracts.buffer_last`.
    BufferLast,
    /// `contracts.specialist_groups_only`.
    SpecialistGroupsOnly,
    /// `contracts.fill_guarantees`.
    FillGuarantees,
}

impl Rule {
    /// Every rule, in report order.
    pub const ALL: [Rule; 3] = [Rule::BufferLast, Rule::SpecialistGroupsOnly, Rule::FillGuarantees];

    /// The policy key.
    pub fn key(self) -> &'static str {
        match self {
            Rule::BufferLast => "buffer_last",
            Rule::SpecialistGroupsOnly => "specialist_groups_only",
            Rule::FillGuarantees => "fill_guarantees",
        }
    }
}

/// What one contract rule costs: the same night solved without it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleCost {
    /// The rule.
    pub rule: Rule,
    /// Expected net effect tonight, all rules on, DKK.
    pub effect_dkk: f64,
    /// Expected net effect of the same night without this rule, DKK.
    pub effect_without_dkk: f64,
    /// `effect_without_dkk − effect_dkk`: what the rule costs in expected effect (negative:
    /// what it gains).
    pub cost_dkk: f64,
    /// Candidates matched tonight / without the rule.
    pub matched: usize,
    /// See `matched`.
    pub matched_without: usize,
    /// Course prices of tonight's new suggestions / without the rule, DKK.
    pub spend_dkk: f64,
    /// See `spend_dkk`.
    pub spend_without_dkk: f64,
    /// Candidates whose suggestion differs without the rule.
    pub changed: usize,
    /// Without the rule: candidates at a buffer while a specialist or partner in reach had a
    /// free place (with the buffer rule on, 0 by construction).
    pub buffer_breaches_without: usize,
    /// False when the rule changes nothing tonight (no contract it applies to): no re-solve.
    pub solved: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::{Mode, SolveOptions, solve, verify};
    use crate::model::{GroupSet, MunicipalityCode, Offer, OfferKind, ProviderId};

    /// The shared test offer, as a course under `contract` (the rules read only kind,
    /// contract and places).
    fn course(id: &str, contract: ContractKind, capacity: u32) -> Offer {
        Offer {
            name: id.into(),
            provider: ProviderId::new("lev-1").unwrap(),
            municipality: MunicipalityCode(851),
            capacity,
            price_dkk: 10_000,
            contract: Some(contract),
            target_groups: GroupSet::EMPTY,
            duration_weeks: 10,
            ..crate::score::tests::offer(
                &crate::score::tests::reference(),
                id,
                OfferKind::Provider,
                57.0,
                9.9,
            )
        }
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

        /// On random small nights with buffers, specialists and partners (some with guaranteed
        /// places): with the rule, no candidate is at a buffer while a specialist or partner in
        /// reach has a free place, the certificate gives gap 0, and a candidate who can only
        /// reach buffers still gets one.
        #[test]
        fn a_buffer_is_used_only_when_the_specialists_and_partners_in_reach_are_full(
            n in 1usize..12,
            kinds in proptest::collection::vec(0u8..3, 1..6),
            caps in proptest::collection::vec(0u32..3, 6),
            edges in proptest::collection::vec(proptest::collection::vec((0usize..6, 1i64..500), 0..5), 12),
            guarantee in 0u32..2,
        ) {
            let m = kinds.len();
            let kind = |k: u8| [ContractKind::Buffer, ContractKind::Specialist, ContractKind::StrategicPartner][k as usize];
            let offers: Vec<Offer> = kinds.iter().enumerate().map(|(j, &k)| {
                let mut o = course(&format!("o{j}"), kind(k), caps[j]);
                if o.contract == Some(ContractKind::StrategicPartner) { o.guaranteed_volume = guarantee.min(o.capacity); }
                o
            }).collect();
            let data = Dataset { offers: offers.into_iter().map(std::sync::Arc::new).collect(), ..Dataset::default() };
            let mut rows = Vec::new();
            for row in edges.iter().take(n) {
                let mut seen = std::collections::BTreeMap::new();
                for &(j, w) in row { if j < m { seen.insert(j as u32, w); } }
                rows.push(seen.into_iter().collect::<Vec<_>>());
            }
            let (mut offsets, mut targets, mut weights) = (vec![0], Vec::new(), Vec::new());
            for row in &rows {
                for &(j, w) in row { targets.push(j); weights.push(w); }
                offsets.push(targets.len());
            }
            let capacity = data.offers.iter().map(|o| o.capacity).collect();
            let mut problem = Problem::new(rows.len(), capacity, offsets, targets, weights).unwrap();
            problem.min_volume = data.offers.iter().map(|o| o.guaranteed_volume).collect();
            problem.validate().unwrap();
            let mut ruled = problem.clone();
            buffer_last(&mut ruled, &data, |_| true, 0);
            let options = SolveOptions { mode: Mode::Exact, ..SolveOptions::default() };
            let solution = solve(&ruled, &options).unwrap();
            prop_assert_eq!(verify(&ruled, &solution).unwrap().gap, Some(0));
            prop_assert!(buffer_breaches(&ruled, &data, &solution.assignment).is_empty());
            // A candidate whose row holds only buffers keeps its weights: nothing to give way to.
            for (i, row) in rows.iter().enumerate() {
                if row.iter().all(|&(j, _)| data.offers[j as usize].contract == Some(ContractKind::Buffer)) {
                    let range = problem.offsets[i]..problem.offsets[i + 1];
                    prop_assert_eq!(&ruled.weights[range.clone()], &problem.weights[range]);
                }
            }
        }
    }

    #[test]
    fn without_the_rule_the_better_scoring_buffer_wins_and_with_it_the_free_partner() {
        let data = Dataset {
            offers: vec![
                std::sync::Arc::new(course("buffer", ContractKind::Buffer, 1)),
                std::sync::Arc::new(course("partner", ContractKind::StrategicPartner, 1)),
            ],
            ..Dataset::default()
        };
        let problem = Problem::new(1, vec![1, 1], vec![0, 2], vec![0, 1], vec![900, 400]).unwrap();
        let options = SolveOptions::default();
        let free = solve(&problem, &options).unwrap();
        assert_eq!(free.assignment, vec![Some(0)]);
        assert_eq!(buffer_breaches(&problem, &data, &free.assignment).len(), 1);
        let mut ruled = problem.clone();
        let rule = buffer_last(&mut ruled, &data, |_| true, 0);
        assert_eq!((rule.candidates, rule.lowered_pairs), (1, 1));
        let solution = solve(&ruled, &options).unwrap();
        assert_eq!(solution.assignment, vec![Some(1)]);
        assert_eq!(verify(&ruled, &solution).unwrap().gap, Some(0));
        // The partner full (0 places): the buffer is used.
        let mut full = ruled.clone();
        full.capacity[1] = 0;
        assert_eq!(solve(&full, &options).unwrap().assignment, vec![Some(0)]);
    }

    #[test]
    fn the_recorded_lowering_restores_exactly_the_weights_it_changed() {
        let data = Dataset {
            offers: vec![
                std::sync::Arc::new(course("buffer", ContractKind::Buffer, 1)),
                std::sync::Arc::new(course("partner", ContractKind::StrategicPartner, 1)),
            ],
            ..Dataset::default()
        };
        // Two candidates: the first's buffer scores above its partner (lowered), the second's
        // below (kept).
        let problem =
            Problem::new(2, vec![1, 1], vec![0, 2, 4], vec![0, 1, 0, 1], vec![900, 400, 100, 700]).unwrap();
        let mut ruled = problem.clone();
        let lowering = buffer_last_recorded(&mut ruled, &data, |_| true, 0);
        assert_eq!(lowering.lowered, vec![LoweredPair { edge: 0, weight: 900 }]);
        assert_eq!(ruled.weights, vec![399, 400, 100, 700]);
        lowering.restore(&mut ruled.weights);
        assert_eq!(ruled.weights, problem.weights);
    }
}
