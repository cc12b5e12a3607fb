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
/// The `k` are the best of every offer the candidate can take, however far down the scores a
/// full or dear offer pushes them (the index is asked once more, for every offer in reach, when
/// the first rows are not enough); a price below 0 counts as 0 (a dual price never is).
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
    // The ranking order: adjusted score, then score, then offer index (without prices the
    // adjusted score is the score, and this is the rows' own order).
    let order = |a: &(u32, i64, i64, i64), b: &(u32, i64, i64, i64)| {
        b.3.cmp(&a.3).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0))
    };
    // Ask for more than k: full offers are dropped and the price may reorder the rest. The
    // best `want` by score are not always enough: when they are full, or dear enough that
    // offers further down overtake them, ask for all, unless the `k + 1`-th row is known to
    // be ahead of every offer not asked for (each scores at most the worst one asked for
    // and costs at least 0, so it is ranked after that one's score at no price).
    let mut want = k * 2 + 8;
    let (rows, counts) = loop {
        let (top, counts) = index.top_k(scorer, &view, want);
        // The worst offer kept (an appended current offer, if any, comes after it).
        let bound = (top.len() >= want).then(|| top[want - 1]);
        let mut rows: Vec<(u32, i64, i64, i64)> = top
            .into_iter()
            .filter(|&(o, _)| remaining(o as usize) > 0)
            .map(|(o, score)| {
                let p = price.as_ref().map_or(0, |f| f(o as usize)).max(0);
                (o, score, p, score - p)
            })
            .collect();
        // Without prices the index's own order (score, then offer index) is already this one.
        if price.is_some() {
            rows.sort_by(order);
        }
        let settled = match bound {
            None => true,
            Some((o, score)) => rows.get(k).is_some_and(|row| order(row, &(o, score, 0, score)).is_le()),
        };
        if settled {
            rows.truncate(k + 1);
            break (rows, counts);
        }
        // The second pass takes every offer in reach at once: a candidate's reach holds a few
        // hundred offers, so one unpruned pass costs less than a series of growing ones.
        want = usize::MAX;
    };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Dataset, OfferKind};
    use crate::policy::PolicySet;
    use crate::score::tests::{candidate, offer, reference, scorer_for};

    /// A case: its name, the places left and the prices.
    type Case<'a> = (&'a str, &'a dyn Fn(usize) -> u32, Option<&'a dyn Fn(usize) -> i64>);

    /// One candidate in Copenhagen and 60 offers ever farther away, so that their scores
    /// fall with the index.
    fn world() -> (Dataset, Candidate) {
        let r = reference();
        let c = candidate(&r, "c1", 55.68, 12.57);
        let offers = (0..60)
            .map(|j| offer(&r, &format!("o{j}"), OfferKind::Provider, 55.68 + 0.002 * j as f64, 12.57))
            .collect();
        (Dataset { candidates: vec![c.clone()], offers, ..Dataset::default() }, c)
    }

    /// Every scored offer with places left, ordered as [`rank`] promises: by `score − price`
    /// with prices (ties: higher score, then lower index), by score without; `k + 1` of them.
    fn brute_force(
        scorer: &Scorer,
        c: &Candidate,
        k: usize,
        remaining: impl Fn(usize) -> u32,
        price: Option<&dyn Fn(usize) -> i64>,
    ) -> Vec<(u32, i64)> {
        let view = scorer.view(c).expect("view");
        let mut all: Vec<(u32, i64, i64)> = (0..scorer.n_offers())
            .filter(|&o| remaining(o) > 0)
            .filter_map(|o| scorer.score(&view, o).ok().map(|w| (o as u32, w, w - price.map_or(0, |p| p(o)))))
            .collect();
        all.sort_by(|a, b| b.2.cmp(&a.2).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0)));
        all.truncate(k + 1);
        all.into_iter().map(|(o, w, _)| (o, w)).collect()
    }

    /// The ranking is the best `k` offers with places left among all those the candidate can
    /// take, not among the best `2k + 8` by score: when those are full, or priced so high
    /// that cheaper offers a little further down overtake them, the offers below count.
    /// (Both failed before: with the 18 best offers full, a candidate asking for 5 got
    /// nothing; with them priced at 5,000 points, offers 18 onwards, at no price, were
    /// never seen, and an offer priced at 5,000 came first.)
    #[test]
    fn the_ranking_looks_past_full_and_dear_offers() {
        let r = reference();
        let (data, c) = world();
        let scorer = scorer_for(&data, &r, &PolicySet::default());
        let index = Index::new(&scorer);
        let k = 5;
        let view = scorer.view(&c).expect("view");
        let by_score: Vec<u32> = {
            let mut all: Vec<(i64, u32)> = (0..scorer.n_offers())
                .filter_map(|o| scorer.score(&view, o).ok().map(|w| (w, o as u32)))
                .collect();
            all.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            all.into_iter().map(|(_, o)| o).collect()
        };
        assert!(by_score.len() > 40, "{} offers scored", by_score.len());
        let top: Vec<u32> = by_score[..2 * k + 8].to_vec();
        let full = |o: usize| u32::from(!top.contains(&(o as u32)));
        let open = |_: usize| 1;
        let dear = |o: usize| if top.contains(&(o as u32)) { 5_000 } else { 0 };
        let cases: [Case<'_>; 3] =
            [("full", &full, None), ("dear", &open, Some(&dear)), ("full and dear", &full, Some(&dear))];
        for (label, remaining, price) in cases {
            let ranking = rank(&index, &scorer, &c, k, remaining, price).expect("rank");
            let got: Vec<(u32, i64)> = ranking.ranked.iter().map(|x| (x.offer, x.score)).collect();
            let want = brute_force(&scorer, &c, k, remaining, price);
            assert_eq!(got, want[..k], "{label}");
            let last = ranking.ranked.last().expect("ranked");
            assert_eq!(last.runner_up.as_ref().map(|u| u.offer), Some(want[k].0), "{label}");
        }
    }
}
