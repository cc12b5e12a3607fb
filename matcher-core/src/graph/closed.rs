//! The pairs of offers without places tonight, scored as if the offer had one: what the price
//! of one more place there needs (`batch::closed`).
//!
//! Owns finding them; never puts them in the graph, where they would take top-`k` slots from
//! offers that have places and change tonight's problem. Pure and deterministic: candidates in
//! fixed chunks, joined in order.

use super::{CHUNK, CandidateGraph, Grid, RowScratch, better};
use crate::score::{CandidateView, Scan, Scorer};
use rayon::prelude::*;

/// A candidate's pair with an offer that has no places tonight, as the graph would hold it if
/// the offer had one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClosedPair {
    /// Candidate index.
    pub candidate: u32,
    /// Offer index (data-set order).
    pub offer: u32,
    /// The pair's score, points (every hard limit but "no places" applied).
    pub weight: i64,
}

/// For every unlocked candidate of `views` (all of them, in data-set order), its pairs with
/// offers that have no places tonight that its row in `graph` would hold if the offer had one
/// place: those among its best `top_k` (ahead of the row's `top_k`-th edge in the graph's
/// order, or any when the row holds fewer), its current offer, and `also(i)` (yesterday's
/// pair, which the night keeps outside the best `top_k` too). In candidate order, each
/// candidate's pairs in the order the grid meets them.
///
/// Such a pair, put in the row, would push the row's `top_k`-th edge out; that edge stays (it
/// is what tonight's problem has): see `batch::closed` for what that means for the price.
///
/// Pairs scoring below `floor(i)` may be left out (the caller has no use for them: a price
/// needs a pair above what the candidate already has); `|_| i64::MIN` keeps every one.
///
/// # Complexity
/// Nothing when every offer has places; otherwise one walk of a grid holding only the offers
/// without places per candidate, and a score per such offer in reach (pruned below the row's
/// `top_k`-th edge and the floor).
pub fn closed_pairs(
    scorer: &Scorer,
    views: &[CandidateView],
    graph: &CandidateGraph,
    also: &(dyn Fn(usize) -> Option<u32> + Sync),
    floor: &(dyn Fn(usize) -> i64 + Sync),
) -> Vec<ClosedPair> {
    if (0..scorer.n_offers()).all(|k| scorer.is_open(k)) {
        return Vec::new();
    }
    let grid = Grid::of(scorer, |k| !scorer.is_open(k));
    views
        .par_chunks(CHUNK)
        // The graph's row buffers, per thread: their stamps mark the offers a row has met (an
        // offer under several keys is met once per key; a list searched per offer cost a tenth
        // of the pass).
        .map_init(
            || RowScratch::new(scorer.n_offers()),
            |scratch, chunk| {
                let mut out = Vec::new();
                for view in chunk.iter().filter(|v| !v.locked) {
                    let row = scratch.next_row(scorer.n_offers());
                    let met = &mut scratch.seen;
                    let i = view.index as usize;
                    let k = scorer.policies().get(view.policy).top_k;
                    // The row's best `k` come first (edges kept beyond them, the current offer and
                    // yesterday's pair, rank below every one of them).
                    let kth = (graph.offsets[i] + k <= graph.offsets[i + 1] && k > 0).then(|| {
                        let e = graph.offsets[i] + k - 1;
                        (graph.weights[e], graph.offers[e])
                    });
                    let forced =
                        [Scorer::current_internal(view), also(i).map(|o| scorer.internal(o as usize))];
                    let floor = floor(i);
                    let (lat, lon) = Scorer::candidate_location(view);
                    let municipality = Scorer::candidate_municipality(view);
                    grid.for_each_near(
                        lat,
                        lon,
                        view.reach_km,
                        municipality,
                        scorer.candidate_keys(view),
                        |internal| {
                            if met[internal] == row {
                                return;
                            }
                            met[internal] = row;
                            let kept_anyway = forced.contains(&Some(internal));
                            let kth_weight = if kept_anyway { None } else { kth.map(|(w, _)| w) };
                            // Pruning takes one bound below every pair worth scoring: the higher.
                            let threshold = match kth_weight {
                                Some(w) => Some(w.max(floor)),
                                None => (floor > i64::MIN).then_some(floor),
                            };
                            if let Scan::Scored(weight) = scorer.scan_closed(view, internal, threshold)
                                && weight >= floor
                            {
                                let offer = scorer.original(internal);
                                let enters = kth.is_none_or(|kth| better(&(weight, offer), &kth).is_lt());
                                if kept_anyway || enters {
                                    out.push(ClosedPair { candidate: view.index, offer, weight });
                                }
                            }
                        },
                    );
                }
                out
            },
        )
        .collect::<Vec<_>>()
        .concat()
}
