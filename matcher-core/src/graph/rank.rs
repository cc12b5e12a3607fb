//! One candidate's ranked suggestions, as the service answers them: the best offers from
//! [`Index::top_k`], full offers dropped, reordered by `score − scarcity price` when a batch
//! run's offer prices are given, each explained, with the difference to the next offer in the
//! ranking (its runner-up). Owns the ranking rule; knows nothing of HTTP or storage (places
//! left and prices come in as functions).

use super::{Index, RowCounts};
use crate::error::Result;
use crate::model::Candidate;
use crate::score::{Explanation, Factor, Scorer};

/// One ranked offer.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// Offer index.
    pub offer: u32,
    /// Score of the pair, points.
    pub score: i64,
    /// The offer's scarcity price (its dual price in the last batch run), points; 0 without.
    pub price: i64,
    /// `score − price`.
    pub adjusted: i64,
    /// Everything behind the score.
    pub explanation: Explanation,
    /// The next offer in the ranking, if any.
    pub runner_up: Option<RunnerUp>,
}

/// Why an offer is ranked above the next one.
#[derive(Debug, Clone, PartialEq)]
pub struct RunnerUp {
    /// The next offer's index.
    pub offer: u32,
    /// Ranking key of this offer minus the next one's (adjusted score with prices, score
    /// without); never negative.
    pub difference: i64,
    /// This offer's points minus the next one's, per factor in [`Factor::ALL`] order.
    pub factor_differences: Vec<(Factor, i64)>,
}

/// A candidate's ranking with the counts of the row behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranking {
    /// At most `k` offers, best first.
    pub ranked: Vec<Ranked>,
    /// Offers in reach, scored, pruned… for this candidate.
    pub counts: RowCounts,
}

/// Ranks the offers for `candidate`: at most `k`, none with `remaining(offer) == 0`, ordered by
/// score, or by `score − price(offer)` when `price` is given (ties: higher score, then lower
/// offer index). One offer more than `k` is ranked, so that the last one has a runner-up too.
///
/// # Errors
/// When the candidate cannot be viewed by the scorer (e.g. an unknown municipality).
pub fn rank(
    index: &Index,
    scorer: &Scorer,
    candidate: &Candidate,
    k: usize,
    remaining: impl Fn(usize) -> u32,
    price: Option<impl Fn(usize) -> i64>,
) -> Result<Ranking> {
    let view = scorer.view(candidate)?;
    // Ask for more than k: full offers are dropped and the price may reorder the rest.
    let (top, counts) = index.top_k(scorer, &view, k * 2 + 8);
    let mut rows: Vec<(u32, i64, i64, i64)> = top
        .into_iter()
        .filter(|&(o, _)| remaining(o as usize) > 0)
        .map(|(o, score)| {
            let p = price.as_ref().map_or(0, |f| f(o as usize));
            (o, score, p, score - p)
        })
        .collect();
    if price.is_some() {
        rows.sort_by(|a, b| b.3.cmp(&a.3).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0)));
    }
    rows.truncate(k + 1);
    let mut explained = Vec::with_capacity(rows.len());
    for (offer, score, price, adjusted) in rows {
        if let Ok(explanation) = scorer.explain_candidate(candidate, offer as usize)? {
            explained.push(Ranked { offer, score, price, adjusted, explanation, runner_up: None });
        }
    }
    let key = |r: &Ranked| if price.is_some() { r.adjusted } else { r.score };
    let shown = explained.len().min(k);
    let runner_ups: Vec<Option<RunnerUp>> = (0..shown)
        .map(|i| {
            let (this, next) = (&explained[i], explained.get(i + 1)?);
            Some(RunnerUp {
                offer: next.offer,
                difference: key(this) - key(next),
                factor_differences: this
                    .explanation
                    .contributions
                    .iter()
                    .zip(&next.explanation.contributions)
                    .map(|(a, b)| (a.factor, a.points - b.points))
                    .collect(),
            })
        })
        .collect();
    explained.truncate(shown);
    for (r, up) in explained.iter_mut().zip(runner_ups) {
        r.runner_up = up;
    }
    Ok(Ranking { ranked: explained, counts })
}
