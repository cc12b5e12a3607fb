//! Heaviest edge first: the baseline the exact solver is compared with.

use rayon::prelude::*;

use super::{Problem, Solution, SolveOptions};

/// Locked pairs first, then every positive edge (continuity bonus included) from the heaviest
/// down, ties to the lower candidate then the lower offer, taken when both ends have room.
/// Minimum volumes are not pursued (their shortfall is reported by `solve`).
///
/// # Complexity
/// `O(E + W)` time when the positive weights span `W ≤ 2^22` values (a counting sort; score
/// points do), `O(E log E)` otherwise (parallel sort); `O(E)` memory.
pub(crate) fn greedy(problem: &Problem, options: &SolveOptions) -> Solution {
    let n = problem.n_candidates;
    let mut room = problem.capacity.clone();
    let mut assignment = vec![None; n];
    for i in (0..n).filter(|&i| problem.is_locked(i)) {
        let j = problem.current_of(i).expect("validated: a locked candidate has a current offer");
        room[j as usize] -= 1;
        assignment[i] = Some(j);
    }
    let mut take = |i: u32, j: u32| {
        if assignment[i as usize].is_none() && room[j as usize] > 0 {
            room[j as usize] -= 1;
            assignment[i as usize] = Some(j);
        }
    };
    match heaviest_first(problem, options.continuity_bonus, true) {
        Order::Pairs(pairs) => pairs.into_iter().for_each(|(i, j)| take(i, j)),
        Order::Packed { shift, keys } => {
            let mask = (1u32 << shift) - 1;
            for key in keys {
                let i = key >> shift;
                let j = problem.offers[problem.offsets[i as usize] + (key & mask) as usize];
                take(i, j);
            }
        }
    }
    Solution { assignment, ..Solution::default() }
}

/// The unlocked positive edges, heaviest first.
enum Order {
    /// `(candidate, offer)` pairs.
    Pairs(Vec<(u32, u32)>),
    /// `candidate << shift | place in the candidate's row`, one `u32` an edge: half the pairs'
    /// memory (the national night: 14 M edges, 56 MB instead of 113 MB, held beside the exact
    /// solve), used when the candidate and the place fit in 32 bits together.
    Packed { shift: u32, keys: Vec<u32> },
}

/// Bits needed to write every number below `n`.
fn bits_below(n: usize) -> u32 {
    usize::BITS - n.saturating_sub(1).leading_zeros()
}

/// Widest span of weights sorted by counting (4 M counters, 16 MB).
const COUNTING_SPAN: i64 = 1 << 22;

/// The unlocked positive edges, heaviest first, ties to the lower candidate, then the lower
/// offer; packed when `pack` and the candidates and rows are small enough.
fn heaviest_first(problem: &Problem, bonus: i64, pack: bool) -> Order {
    let n = problem.n_candidates;
    let weight = |i: usize, j: u32, w: i64| if problem.current_of(i) == Some(j) { w + bonus } else { w };
    let (mut lo, mut hi, mut count, mut widest) = (i64::MAX, i64::MIN, 0usize, 0usize);
    for i in (0..n).filter(|&i| !problem.is_locked(i)) {
        let (offs, ws) = problem.edges(i);
        widest = widest.max(offs.len());
        for (&j, &w) in offs.iter().zip(ws) {
            let w = weight(i, j, w);
            if w > 0 {
                (lo, hi, count) = (lo.min(w), hi.max(w), count + 1);
            }
        }
    }
    if count == 0 {
        return Order::Pairs(Vec::new());
    }
    if hi - lo >= COUNTING_SPAN {
        let mut edges: Vec<(i64, u32, u32)> = (0..n)
            .into_par_iter()
            .filter(|&i| !problem.is_locked(i))
            .flat_map_iter(|i| {
                let (offs, ws) = problem.edges(i);
                offs.iter().zip(ws).filter_map(move |(&j, &w)| {
                    let w = weight(i, j, w);
                    (w > 0).then_some((-w, i as u32, j))
                })
            })
            .collect();
        edges.par_sort_unstable();
        return Order::Pairs(edges.into_iter().map(|(_, i, j)| (i, j)).collect());
    }
    // Counting sort, stable: candidates are visited in index order and each row in offer
    // order, so equal weights keep (candidate, offer) order.
    let slot = |w: i64| (hi - w) as usize;
    // (offer, weight with bonus, place in the row)
    let mut row: Vec<(u32, i64, u32)> = Vec::new();
    let positive_row = |i: usize, row: &mut Vec<(u32, i64, u32)>| {
        let (offs, ws) = problem.edges(i);
        row.clear();
        row.extend(
            offs.iter()
                .zip(ws)
                .enumerate()
                .map(|(k, (&j, &w))| (j, weight(i, j, w), k as u32))
                .filter(|e| e.1 > 0),
        );
    };
    let mut start = vec![0usize; (hi - lo) as usize + 2];
    for i in (0..n).filter(|&i| !problem.is_locked(i)) {
        positive_row(i, &mut row);
        row.iter().for_each(|&(_, w, _)| start[slot(w) + 1] += 1);
    }
    for k in 1..start.len() {
        start[k] += start[k - 1];
    }
    let shift = bits_below(widest);
    if pack && shift < u32::BITS && bits_below(n) + shift <= u32::BITS {
        let mut keys = vec![0u32; count];
        for i in (0..n).filter(|&i| !problem.is_locked(i)) {
            positive_row(i, &mut row);
            row.sort_unstable_by_key(|e| e.0);
            for &(_, w, k) in &row {
                let at = &mut start[slot(w)];
                keys[*at] = (i as u32) << shift | k;
                *at += 1;
            }
        }
        return Order::Packed { shift, keys };
    }
    let mut order = vec![(0u32, 0u32); count];
    for i in (0..n).filter(|&i| !problem.is_locked(i)) {
        positive_row(i, &mut row);
        row.sort_unstable_by_key(|e| e.0);
        for &(j, w, _) in &row {
            let at = &mut start[slot(w)];
            order[*at] = (i as u32, j);
            *at += 1;
        }
    }
    Order::Pairs(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The order as `(candidate, offer)` pairs, however it is held.
    fn pairs(problem: &Problem, order: Order) -> Vec<(u32, u32)> {
        match order {
            Order::Pairs(pairs) => pairs,
            Order::Packed { shift, keys } => keys
                .into_iter()
                .map(|key| {
                    let i = key >> shift;
                    (i, problem.offers[problem.offsets[i as usize] + (key & ((1 << shift) - 1)) as usize])
                })
                .collect(),
        }
    }

    /// Issue 18: the packed order (one `u32` an edge) is the pairs' order, and both are the
    /// plain sort by weight with bonus, candidate, offer.
    #[test]
    fn the_packed_order_is_the_sorted_order_of_the_pairs() {
        // Rows out of offer order, equal weights across and within rows, a locked candidate,
        // a current offer whose bonus lifts it, and non-positive edges left out.
        let problem = Problem {
            n_candidates: 4,
            capacity: vec![1, 2, 1],
            offsets: vec![0, 3, 5, 6, 9],
            offers: vec![2, 0, 1, 1, 0, 2, 0, 2, 1],
            weights: vec![5, 5, 7, 5, -1, 9, 3, 0, 5],
            current: vec![None, Some(0), Some(2), None],
            locked: vec![false, false, true, false],
            min_volume: vec![],
        };
        let bonus = 3;
        let mut expected: Vec<(i64, u32, u32)> = Vec::new();
        for i in [0usize, 1, 3] {
            let r = problem.offsets[i]..problem.offsets[i + 1];
            for e in r {
                let j = problem.offers[e];
                let w = problem.weights[e] + if problem.current[i] == Some(j) { bonus } else { 0 };
                if w > 0 {
                    expected.push((-w, i as u32, j));
                }
            }
        }
        expected.sort_unstable();
        let expected: Vec<(u32, u32)> = expected.into_iter().map(|(_, i, j)| (i, j)).collect();
        assert!(matches!(heaviest_first(&problem, bonus, true), Order::Packed { .. }));
        assert_eq!(pairs(&problem, heaviest_first(&problem, bonus, true)), expected);
        assert!(matches!(heaviest_first(&problem, bonus, false), Order::Pairs(_)));
        assert_eq!(pairs(&problem, heaviest_first(&problem, bonus, false)), expected);
        assert_eq!((bits_below(0), bits_below(1), bits_below(64), bits_below(65)), (0, 0, 6, 7));
    }
}
