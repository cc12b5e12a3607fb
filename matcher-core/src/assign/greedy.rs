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
    let bonus = options.continuity_bonus;
    let order = heaviest_first(problem, bonus);
    for (i, j) in order {
        if assignment[i as usize].is_none() && room[j as usize] > 0 {
            room[j as usize] -= 1;
            assignment[i as usize] = Some(j);
        }
    }
    Solution { assignment, ..Solution::default() }
}

/// Widest span of weights sorted by counting (4 M counters, 16 MB).
const COUNTING_SPAN: i64 = 1 << 22;

/// The unlocked positive edges `(candidate, offer)`, heaviest first, ties to the lower
/// candidate, then the lower offer.
fn heaviest_first(problem: &Problem, bonus: i64) -> Vec<(u32, u32)> {
    let n = problem.n_candidates;
    let weight = |i: usize, j: u32, w: i64| if problem.current_of(i) == Some(j) { w + bonus } else { w };
    let (mut lo, mut hi, mut count) = (i64::MAX, i64::MIN, 0usize);
    for i in (0..n).filter(|&i| !problem.is_locked(i)) {
        let (offs, ws) = problem.edges(i);
        for (&j, &w) in offs.iter().zip(ws) {
            let w = weight(i, j, w);
            if w > 0 {
                (lo, hi, count) = (lo.min(w), hi.max(w), count + 1);
            }
        }
    }
    if count == 0 {
        return Vec::new();
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
        return edges.into_iter().map(|(_, i, j)| (i, j)).collect();
    }
    // Counting sort, stable: candidates are visited in index order and each row in offer
    // order, so equal weights keep (candidate, offer) order.
    let slot = |w: i64| (hi - w) as usize;
    let mut row: Vec<(u32, i64)> = Vec::new();
    let positive_row = |i: usize, row: &mut Vec<(u32, i64)>| {
        let (offs, ws) = problem.edges(i);
        row.clear();
        row.extend(offs.iter().zip(ws).map(|(&j, &w)| (j, weight(i, j, w))).filter(|e| e.1 > 0));
    };
    let mut start = vec![0usize; (hi - lo) as usize + 2];
    for i in (0..n).filter(|&i| !problem.is_locked(i)) {
        positive_row(i, &mut row);
        row.iter().for_each(|&(_, w)| start[slot(w) + 1] += 1);
    }
    for k in 1..start.len() {
        start[k] += start[k - 1];
    }
    let mut order = vec![(0u32, 0u32); count];
    for i in (0..n).filter(|&i| !problem.is_locked(i)) {
        positive_row(i, &mut row);
        row.sort_unstable_by_key(|e| e.0);
        for &(j, w) in &row {
            let at = &mut start[slot(w)];
            order[*at] = (i as u32, j);
            *at += 1;
        }
    }
    order
}
