//! One candidate's ranked suggestions, as the service answers them: the best offers in the
//! candidate's reach by `score − scarcity price` when a batch run's offer prices are given (by
//! score without), full offers dropped, found in one pruned scan of the reach, each explained, with the difference to the next offer in the
//! ranking (its runner-up). Owns the ranking rule; knows nothing of HTTP or storage (places
//! left and prices come in as functions).

use super::{Index, RowCounts, RowFloor};
use crate::error::Result;
use crate::model::Candidate;
use crate::score::{Explanation, Factor, Scorer};
use std::cmp::Ordering;
use std::collections::BinaryHeap;

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
    /// The counts of the scan behind the ranking. `in_reach` is every offer in the candidate's
    /// reach and `feasible + pruned` those of them that pass the hard limits checked before
    /// scoring (a pruned pair escapes the ones checked on its values: the minimum score and a
    /// course's minimum effect), the same figures as a row of the graph gives. `feasible`
    /// counts only the pairs scored, `pruned` those skipped: the offers with no places left
    /// and those whose best case less their price is below the `k + 1`-th best adjusted score
    /// already found among offers with places left.
    /// A candidate on a locked course has its row of the graph: that course alone.
    pub counts: RowCounts,
}

/// A ranked row: offer, score, price (at least 0), adjusted score.
type Row = (u32, i64, i64, i64);

/// The ranking order: adjusted score, then score, then offer index (without prices the
/// adjusted score is the score, and this is the index's own row order). `Less` is better.
fn order(a: &Row, b: &Row) -> Ordering {
    b.3.cmp(&a.3).then(b.1.cmp(&a.1)).then(a.0.cmp(&b.0))
}

/// A row in [`Best`]'s heap, ordered by [`order`], so that the worst kept is on top.
#[derive(PartialEq, Eq)]
struct Kept(Row);

impl Ord for Kept {
    fn cmp(&self, other: &Kept) -> Ordering {
        order(&self.0, &other.0)
    }
}

impl PartialOrd for Kept {
    fn partial_cmp(&self, other: &Kept) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// The ranking's floor: the best `keep` rows of offers with places left met so far, and
/// the adjusted score an offer must reach to enter them.
struct Best<R, P> {
    keep: usize,
    kept: BinaryHeap<Kept>,
    remaining: R,
    price: P,
}

impl<R: Fn(usize) -> u32, P: Fn(u32) -> i64> Best<R, P> {
    /// The `keep`-th best adjusted score known among offers with places left: an offer whose
    /// adjusted score is below it has `keep` offers ranked before it. Full offers never count
    /// here, even as they are scored: they are never ranked, so they push nothing out.
    fn floor(&self) -> Option<i64> {
        self.kept.peek().filter(|_| self.kept.len() == self.keep).map(|worst| worst.0.3)
    }
}

impl<R: Fn(usize) -> u32, P: Fn(u32) -> i64> RowFloor for Best<R, P> {
    /// Score minus price is the key, so an offer at price `p` is pruned when even its best
    /// score is below `floor + p`: its adjusted score is then below the floor, strictly (the
    /// scan prunes only strictly below, so a tie with the floor is scored and the order
    /// decides it). An offer without places left is not scored at all.
    fn prune_below(&self, offer: u32) -> Option<i64> {
        if (self.remaining)(offer as usize) == 0 {
            return Some(i64::MAX);
        }
        self.floor().map(|floor| floor.saturating_add((self.price)(offer)))
    }

    fn scored(&mut self, offer: u32, score: i64) {
        if (self.remaining)(offer as usize) == 0 {
            return;
        }
        let price = (self.price)(offer);
        let row = Kept((offer, score, price, score - price));
        if self.kept.len() < self.keep {
            self.kept.push(row);
        } else if let Some(mut worst) = self.kept.peek_mut()
            && row < *worst
        {
            *worst = row;
        }
    }
}

/// Ranks the offers for `candidate`: at most `k`, none with `remaining(offer) == 0`, ordered by
/// score, or by `score − price(offer)` when `price` is given (ties: higher score, then lower
/// offer index). One offer more than `k` is ranked, so that the last one has a runner-up too.
/// The `k` are the best of every offer the candidate can take, however far down the scores a
/// full or dear offer pushes them (every offer in reach is looked at; one that cannot enter the
/// best `k + 1` found so far is pruned unscored); a price below 0 counts as 0 (a dual price
/// never is). A candidate whose current offer is locked (a course under way) is ranked that
/// course alone, as the night's graph holds it.
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
    let price_of = |o: u32| price.as_ref().map_or(0, |f| f(o as usize)).max(0);
    let (rows, counts) = if view.locked && Scorer::current_offer(&view).is_some() {
        // A course under way is the one row of such a candidate, as in the night's graph.
        let (top, counts) = index.top_k(scorer, &view, k + 1);
        let rows = top
            .into_iter()
            .filter(|&(o, _)| remaining(o as usize) > 0)
            .map(|(o, score)| (o, score, price_of(o), score - price_of(o)))
            .collect();
        (rows, counts)
    } else {
        // One pass over every offer in reach, each scored only if it could enter the best
        // `k + 1` with places left found so far. The scan starts at the candidate's own cells,
        // where the best offers tend to be, so the floor rises early and most pairs are pruned
        // unscored, with prices or without.
        let mut best = Best {
            keep: k + 1,
            kept: BinaryHeap::with_capacity(k + 2),
            remaining: &remaining,
            price: price_of,
        };
        let counts = index.scan_row(scorer, &view, &mut best);
        (best.kept.into_sorted_vec().into_iter().map(|Kept(row)| row).collect::<Vec<Row>>(), counts)
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
            .map(std::sync::Arc::new)
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
            .filter_map(|o| {
                let p = price.map_or(0, |p| p(o)).max(0);
                scorer.score(&view, o).ok().map(|w| (o as u32, w, w - p))
            })
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

    /// Two offers tie exactly on `score − price` at the edge of the ranking: the dearer one,
    /// which scores more, comes first (the documented tie-break). The offers lie in one grid
    /// cell, so the scan meets them in index order, and the dearer one comes after the cheaper:
    /// with `k = 2` the cheaper one already holds the floor (the `k + 1`-th kept) when the
    /// dearer one arrives exactly at it, and only a floor that lets the tie through keeps the
    /// right runner-up (the scorer's bound prunes 8 points below the floor, so here a floor
    /// that pruned ties fails this only from 8 points too high; the next test sees one point).
    /// The dearer one has the higher index too, so an order that broke the tie by index alone
    /// would rank them the other way round. With `k = 3` the tie is between the last offer
    /// shown and its runner-up.
    #[test]
    fn a_tie_at_the_floor_is_decided_by_score_then_index() {
        let r = reference();
        let c = candidate(&r, "c1", 55.68, 12.57);
        // Steps of 0.001° north: offers 0 and 1 nearest, then `dear` (3) nearer than `cheap`
        // (2), then six more, each a few points below the one before.
        let (cheap, dear) = (2, 3);
        let steps = [0, 1, 5, 2, 6, 7, 8, 9, 10, 11];
        let offers = steps
            .iter()
            .enumerate()
            .map(|(j, &step)| {
                offer(&r, &format!("o{j}"), OfferKind::Provider, 55.68 + 0.001 * f64::from(step), 12.57)
            })
            .collect::<Vec<_>>();
        let frame = crate::geo::Frame::covering(offers.iter().map(|o| (o.location.lat, o.location.lon)));
        let cells: Vec<usize> = offers.iter().map(|o| frame.cell(o.location.lat, o.location.lon)).collect();
        assert!(cells.iter().all(|&cell| cell == cells[0]), "one cell, scanned in index order: {cells:?}");
        let data = Dataset {
            candidates: vec![c.clone()],
            offers: offers.into_iter().map(std::sync::Arc::new).collect(),
            ..Dataset::default()
        };
        let scorer = scorer_for(&data, &r, &PolicySet::default());
        let index = Index::new(&scorer);
        let view = scorer.view(&c).expect("view");
        let score = |o: usize| scorer.score(&view, o).expect("in reach");
        assert!(score(1) > score(dear) && score(dear) > score(cheap) && score(cheap) > score(4));
        let price = |o: usize| if o == dear { score(dear) - score(cheap) } else { 0 };
        for (k, shown, next) in [(2, vec![0, 1], dear), (3, vec![0, 1, dear], cheap)] {
            let ranking = rank(&index, &scorer, &c, k, |_| 1, Some(price)).expect("rank");
            let got: Vec<(u32, i64, i64, i64)> =
                ranking.ranked.iter().map(|x| (x.offer, x.score, x.price, x.adjusted)).collect();
            let want: Vec<(u32, i64, i64, i64)> =
                shown.iter().map(|&o| (o as u32, score(o), price(o), score(o) - price(o))).collect();
            assert_eq!(got, want, "k = {k}");
            let up = ranking.ranked.last().and_then(|x| x.runner_up.as_ref()).expect("a runner-up");
            let brute: Vec<u32> =
                brute_force(&scorer, &c, k, |_| 1, Some(&price)).iter().map(|w| w.0).collect();
            let ours: Vec<u32> = got.iter().map(|g| g.0).chain([up.offer]).collect();
            assert_eq!((ours, up.offer), (brute, next as u32), "k = {k}");
            let adjusted = |o: usize| score(o) - price(o);
            let last = shown[k - 1];
            assert_eq!(up.difference, adjusted(last) - adjusted(next), "k = {k}");
            if k == 3 {
                assert_eq!(up.difference, 0, "an exact tie");
            }
        }
    }

    /// The floor itself is exact, with no slack: the score an offer must reach not to be
    /// pruned is the one at which its adjusted score ties the `k + 1`-th kept (the scan prunes
    /// only strictly below it), and a tie is then decided by the ranking's order, higher score
    /// first, then lower index, whichever arrives first. The scorer's bound prunes only 8 points
    /// below this threshold, and its 8 rounded contributions add at most 4 to a score, so a
    /// threshold up to 4 points too high (up to 7 in the worlds above) changes no ranking: only
    /// this test, which does not go through the scorer, sees a floor that prunes ties.
    #[test]
    fn the_floor_is_the_score_that_ties_and_the_order_decides_the_tie() {
        let price = |o: u32| if [2, 4, 5].contains(&o) { 40 } else { 0 };
        let remaining = |o: usize| u32::from(o != 9);
        let mut best = Best { keep: 2, kept: BinaryHeap::new(), remaining: &remaining, price };
        best.scored(0, 900);
        assert_eq!(best.prune_below(3), None, "nothing is pruned before k + 1 are kept");
        best.scored(1, 700);
        assert_eq!(best.prune_below(9), Some(i64::MAX), "a full offer is never scored");
        // The floor is 700 adjusted: 700 points tie it at no price, 740 at a price of 40.
        assert_eq!((best.prune_below(3), best.prune_below(2)), (Some(700), Some(740)));
        // At the same adjusted score, 740 points beat 700: offer 5 takes offer 1's place...
        best.scored(5, 740);
        // ...and offer 3, tying both on adjusted score with 700 points, loses to it.
        best.scored(3, 700);
        // At the same score too, the lower index wins, though it came later.
        best.scored(4, 740);
        // A full offer is never kept, whatever it scores.
        best.scored(9, 2_000);
        assert_eq!(best.prune_below(3), Some(700), "the floor holds at the tie");
        let kept: Vec<Row> = best.kept.into_sorted_vec().into_iter().map(|Kept(row)| row).collect();
        assert_eq!(kept, [(0, 900, 0, 900), (4, 740, 40, 700)]);
    }

    /// A pseudo-random number from a seed and an offer (splitmix64), so that a case's places
    /// and prices are fixed by its seed.
    fn mix(seed: u64, offer: usize) -> u64 {
        let mut z = seed.wrapping_add((offer as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// What [`ranks_like_brute_force`] saw: the pairs its rankings scored and pruned.
    #[derive(Default)]
    struct Seen {
        scored: u32,
        pruned: u32,
    }

    /// Every candidate of `data` is ranked as [`brute_force`] ranks it, with the runner-up of
    /// the last offer, its price and adjusted score, and counts that say the same about the
    /// reach as the graph's row (every offer in reach; those passing the limits checked
    /// before scoring).
    fn ranks_like_brute_force(
        data: &Dataset,
        scorer: &Scorer,
        index: &Index,
        k: usize,
        remaining: &dyn Fn(usize) -> u32,
        price: Option<&dyn Fn(usize) -> i64>,
    ) -> Seen {
        let mut seen = Seen::default();
        for (i, c) in data.candidates.iter().enumerate() {
            let ranking = rank(index, scorer, c, k, remaining, price).expect("rank");
            let want = brute_force(scorer, c, k, remaining, price);
            let got: Vec<(u32, i64)> = ranking.ranked.iter().map(|x| (x.offer, x.score)).collect();
            assert_eq!(got, want[..want.len().min(k)], "candidate {i}");
            for x in &ranking.ranked {
                let p = price.map_or(0, |p| p(x.offer as usize)).max(0);
                assert_eq!((x.price, x.adjusted), (p, x.score - p), "candidate {i}");
            }
            if let Some(last) = ranking.ranked.last() {
                assert_eq!(
                    last.runner_up.as_ref().map(|u| u.offer),
                    want.get(k).map(|w| w.0),
                    "candidate {i}"
                );
            }
            let view = scorer.view(c).expect("view");
            let (_, row) = index.top_k(scorer, &view, 2 * k + 8);
            let counts = ranking.counts;
            // `feasible + pruned` is the same in both scans because no pair of this world is
            // removed by a limit checked after the bound (which a pruned pair escapes).
            assert_eq!(
                (counts.in_reach, counts.feasible + counts.pruned, counts.full, counts.excluded),
                (row.in_reach, row.feasible + row.pruned, row.full, row.excluded),
                "candidate {i}"
            );
            seen.scored += counts.feasible;
            seen.pruned += counts.pruned;
        }
        seen
    }

    /// The places left and prices of a case: each offer full with probability `full`/8, and
    /// priced with probability `priced`/8 at up to `max_price` points (some prices below 0,
    /// which count as 0).
    fn case(
        seed: u64,
        full: u64,
        priced: u64,
        max_price: i64,
    ) -> (impl Fn(usize) -> u32, impl Fn(usize) -> i64) {
        let remaining =
            move |o: usize| u32::from(mix(seed, o) % 8 >= full) * (1 + (mix(seed, o) >> 60) as u32);
        let price = move |o: usize| {
            let r = mix(seed ^ 0x5555, o);
            if r % 8 < priced { (r >> 16) as i64 % (max_price + 1) - max_price / 20 } else { 0 }
        };
        (remaining, price)
    }

    /// A world of 600 candidates and 500 offers of every kind around two cities (the graph's
    /// test world), so that reaches hold a few hundred offers.
    fn big_world() -> (Dataset, Scorer) {
        let r = reference();
        let mut data = super::super::tests::world(600, 500);
        for c in &mut data.candidates {
            c.max_travel_km = 30.0;
        }
        let scorer = scorer_for(&data, &r, &PolicySet::default());
        (data, scorer)
    }

    /// The floor must prune most pairs here, and still rank like brute force: a floor that
    /// ignored the prices (the `k + 1`-th best score instead of adjusted score) or that let
    /// full offers in failed this test.
    #[test]
    fn the_scan_prunes_and_ranks_like_brute_force() {
        let (data, scorer) = big_world();
        let index = Index::new(&scorer);
        let (remaining, price) = case(7, 2, 6, 2000);
        let seen = ranks_like_brute_force(&data, &scorer, &index, 5, &remaining, Some(&price));
        assert!(seen.pruned > 2 * seen.scored, "{} scored, {} pruned", seen.scored, seen.pruned);
        // Three offers in four full.
        let (remaining, _) = case(7, 6, 0, 0);
        let seen = ranks_like_brute_force(&data, &scorer, &index, 5, &remaining, None);
        assert!(seen.pruned > 2 * seen.scored, "{} scored, {} pruned", seen.scored, seen.pruned);
    }

    /// A candidate on a locked course is ranked that course alone, as the night's graph holds
    /// it, however cheap the offers around it.
    #[test]
    fn a_locked_course_is_ranked_alone() {
        let r = reference();
        let (mut data, mut c) = world();
        c.current = Some(crate::model::CurrentAssignment { offer: data.offers[30].id.clone(), locked: true });
        data.candidates[0] = c.clone();
        let scorer = scorer_for(&data, &r, &PolicySet::default());
        let index = Index::new(&scorer);
        let price = |o: usize| if o == 30 { 9_000 } else { 0 };
        let ranking = rank(&index, &scorer, &c, 5, |_| 1, Some(price)).expect("rank");
        let got: Vec<(u32, i64)> = ranking.ranked.iter().map(|x| (x.offer, x.price)).collect();
        assert_eq!(got, [(30, 9_000)]);
        assert_eq!(ranking.counts.in_reach, 1);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        /// Any places, prices and `k`: the ranking is brute force's.
        #[test]
        fn rankings_are_brute_force_for_any_places_and_prices(
            seed in proptest::prelude::any::<u64>(),
            k in 1usize..9,
            full in 0u64..8,
            priced in 0u64..9,
            max_price in 0i64..5000,
            with_prices in proptest::prelude::any::<bool>(),
        ) {
            thread_local! {
                static WORLD: (Dataset, Scorer) = big_world();
            }
            WORLD.with(|(data, scorer)| {
                let index = Index::new(scorer);
                let (remaining, price) = case(seed, full, priced, max_price);
                let price: Option<&dyn Fn(usize) -> i64> = if with_prices { Some(&price) } else { None };
                ranks_like_brute_force(data, scorer, &index, k, &remaining, price);
            });
        }
    }
}
