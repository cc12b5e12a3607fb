//! The price of one more place at an offer without places tonight.
//!
//! Owns that price. The scorer removes such an offer's pairs before the graph is built (they
//! would take top-`k` slots from offers that have places), so the solver never sees the
//! offer and its dual is 0, whatever one more place there would bring. Must not change
//! tonight's problem or its solution: the price is computed beside them, from the solve's duals.
//!
//! Why it is exact. Tonight's prices are the least optimal duals `p`; the candidates' profits
//! the solve reports beside them, `u_c = max(0, max_k (w_ck − p_k))` over each candidate's
//! arcs as the solver weighs them, are then the *greatest* optimal candidate duals (the duals
//! form a lattice in which `u` falls as `p` rises). An offer `x` with one place, added to the
//! problem with its pairs `w_cx`, has the least dual `max(0, max_c (w_cx − u_c))`: its only
//! lower bounds are `p_x ≥ w_cx − u_c` and `p_x ≥ 0`, and the other duals stay optimal. By
//! linear-programming sensitivity (`assign::prices`) that least dual is the rise of the
//! night's optimum. Equivalently: the new place goes to the candidate `c` who gains most,
//! `w_cx` less what removing `c` from tonight's night costs, which is `u_c` (the greatest dual
//! of `c`'s unit capacity), or to nobody.
//!
//! The pairs are weighed as the solver would weigh them: the pair's score with every hard
//! limit but "no places", the continuity bonus on a candidate's current offer, yesterday's
//! stability bonus, and the buffer rule's cap. They are the pairs the candidate's row would
//! hold ([`graph::closed_pairs`]). What is held fixed is the rest of tonight's problem: a
//! night re-run with one more place can also differ in a pair pushed out of a row's best `k`
//! by the new one, or a buffer pair lowered under a new specialist pair, and a guarantee
//! re-shared over a contract's offers (`docs/procurement.md`).

use super::rules;
use crate::assign::Solution;
use crate::graph::{CandidateGraph, ClosedPair};
use crate::model::{ContractKind, Dataset};

/// What a closed pair weighs in the solver's problem, besides its score.
pub(crate) struct Weighing<'a> {
    /// The night's continuity bonus on a candidate's current offer.
    pub continuity_bonus: i64,
    /// Each candidate's current offer (data-set index).
    pub current: &'a [Option<u32>],
    /// Per candidate, yesterday's offer and the stability bonus its pair gets (none without a
    /// previous run).
    pub yesterday: &'a (dyn Fn(usize) -> Option<(u32, i64)> + Sync),
    /// Whether the buffer rule applies to the candidate.
    pub buffer_last: &'a (dyn Fn(usize) -> bool + Sync),
}

/// The price of one more place at every offer of `pairs` (the pairs of offers without places,
/// [`graph::closed_pairs`]): per offer, `max(0, max_c (w_cx − u_c))`, with `u_c` the
/// solution's candidate profits (the greatest candidate duals, the prices being the least).
/// `graph` holds the rows with their reported scores (for the buffer rule's cap); `data` is
/// the night's data set (the contract terms). Returns `(offer, price)` for every offer priced
/// above 0, in offer order.
pub(crate) fn closed_prices(
    data: &Dataset,
    graph: &CandidateGraph,
    solution: &Solution,
    pairs: &[ClosedPair],
    weighing: &Weighing<'_>,
) -> Vec<(u32, i64)> {
    let mut price = std::collections::BTreeMap::<u32, i64>::new();
    for pair in pairs {
        let (i, x) = (pair.candidate as usize, pair.offer);
        let current = weighing.current.get(i).copied().flatten() == Some(x);
        let continuity = if current { weighing.continuity_bonus } else { 0 };
        let mut w = pair.weight;
        // The buffer rule caps a buffer pair one point below the candidate's weakest
        // specialist or partner pair (`rules::buffer_last_recorded`, before the bonuses).
        if data.offers[x as usize].contract == Some(ContractKind::Buffer) && (weighing.buffer_last)(i) {
            let kind = |j: u32| data.offers[j as usize].contract;
            if let Some(weakest) =
                graph.row(i).filter(|&(j, _)| rules::is_core(kind(j))).map(|(_, w)| w).min()
            {
                w = w.min(weakest - 1 - continuity);
            }
        }
        if let Some((o, bonus)) = (weighing.yesterday)(i)
            && o == x
        {
            w += bonus;
        }
        w += continuity;
        let profit = solution.candidate_profits.get(i).copied().unwrap_or(0);
        let gain = w - profit;
        if gain > 0 {
            let p = price.entry(x).or_insert(0);
            *p = (*p).max(gain);
        }
    }
    price.into_iter().collect()
}
