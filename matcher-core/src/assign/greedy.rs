//! Heaviest edge first: the baseline the exact solver is compared with.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::stable::{Preferences, weight_with_bonus};
use super::{Problem, Solution, SolveOptions};
use crate::error::Result;

/// Locked pairs first, then every positive edge (continuity bonus included) from the heaviest
/// down, ties to the lower candidate then the lower offer, taken when both ends have room.
/// Minimum volumes are not pursued (their shortfall is reported by `solve`).
///
/// # Errors
/// [`crate::Error::Problem`] when the problem has 2^31 edges or more.
///
/// # Complexity
/// `O(E)` to read the rows, `O(E log K)` to sort those out of order ([`Preferences::of`]),
/// then see [`greedy_with`].
pub(crate) fn greedy(problem: &Problem, options: &SolveOptions) -> Result<Solution> {
    let preferences = Preferences::of(problem, options.continuity_bonus)?;
    Ok(greedy_with(problem, options, &preferences))
}

/// Widest span of weights taken with a bucket per weight (1 M buckets, 24 MB at most).
const BUCKETED_SPAN: i64 = 1 << 20;

/// [`greedy`] over the candidates' lists, already sorted best first ([`Preferences::of`]
/// with the same bonus).
///
/// Equal to taking every edge in the global order, without sorting all edges: each free
/// candidate waits with its *head*, its best edge to an offer that had room when it was
/// queued, and the heaviest head goes first. Every heavier edge belongs to a candidate
/// already placed (the global order skips it) or went to an offer that was full (and stays
/// full: room only falls). At its turn the candidate's head is read again past the offers
/// filled meanwhile: still of the turn's weight, it is taken; lighter, the candidate waits
/// again. Ties follow the global key (weight with bonus, lower candidate, lower offer). The
/// queue is a bucket per weight when the weights span fewer than [`BUCKETED_SPAN`] values
/// (the heaviest head only falls, so each bucket is complete at its turn and is taken in
/// candidate order), a heap otherwise.
///
/// # Complexity
/// `O(E + W + Q log Q)` with buckets (`W` weights, `Q` candidates queued, each bucket sorted),
/// `O(E + Q log n)` with the heap; the national night queues each unmatched candidate once
/// per offer that fills ahead of it, where sorting every edge (14 M) took 0.9 s before
/// issue 18.
pub(crate) fn greedy_with(problem: &Problem, options: &SolveOptions, preferences: &Preferences) -> Solution {
    let n = problem.n_candidates;
    let bonus = options.continuity_bonus;
    let mut room = problem.capacity.clone();
    let mut assignment = vec![None; n];
    for i in (0..n).filter(|&i| problem.is_locked(i)) {
        let j = problem.current_of(i).expect("validated: a locked candidate has a current offer");
        room[j as usize] -= 1;
        assignment[i] = Some(j);
    }
    let weight = |i: usize, e: usize| weight_with_bonus(problem, bonus, i, e).1;
    // Place in each candidate's list of its current head.
    let mut next = vec![0u32; n];
    // The head of `i` from `next[i]` on: the first edge whose offer has room.
    let head = |i: usize, next: &mut [u32], room: &[u32]| -> Option<(i64, Reverse<u32>, Reverse<u32>)> {
        while (next[i] as usize) < preferences.len(i) {
            let e = preferences.edge(i, next[i] as usize);
            let j = problem.offers[e];
            if room[j as usize] > 0 {
                return Some((weight(i, e), Reverse(i as u32), Reverse(j)));
            }
            next[i] += 1;
        }
        None
    };
    // The weights of the heads: buckets by weight when they span few values (score points
    // do), a heap otherwise.
    let (mut lo, mut hi) = (i64::MAX, i64::MIN);
    for i in 0..n {
        if let Some(last) = preferences.len(i).checked_sub(1) {
            for e in [preferences.edge(i, 0), preferences.edge(i, last)] {
                let w = weight(i, e);
                (lo, hi) = (lo.min(w), hi.max(w));
            }
        }
    }
    let mut take = |i: usize, j: u32, room: &mut [u32]| -> bool {
        if room[j as usize] > 0 {
            room[j as usize] -= 1;
            assignment[i] = Some(j);
            true
        } else {
            false
        }
    };
    if lo <= hi && hi - lo < BUCKETED_SPAN {
        // A bucket per weight, heaviest first. The heaviest head only falls (a candidate's
        // next edge is no heavier than its last), so a bucket is complete when its turn
        // comes, and is taken in candidate order; a candidate whose next edge has the same
        // weight goes on at once (its next edge is the global order's next one).
        // A waiting candidate with its head's offer: at its turn, an offer that still has
        // room is taken without reading the candidate's list again.
        let mut buckets: Vec<Vec<(u32, u32)>> = vec![Vec::new(); (hi - lo) as usize + 1];
        let slot = |w: i64| (hi - w) as usize;
        for i in 0..n {
            if let Some((w, _, Reverse(j))) = head(i, &mut next, &room) {
                buckets[slot(w)].push((i as u32, j));
            }
        }
        for at in 0..buckets.len() {
            let mut bucket = std::mem::take(&mut buckets[at]);
            bucket.sort_unstable_by_key(|&(i, _)| i);
            for (i, j) in bucket {
                let i = i as usize;
                if take(i, j, &mut room) {
                    continue;
                }
                next[i] += 1;
                if let Some((w, _, Reverse(j))) = head(i, &mut next, &room) {
                    if slot(w) == at {
                        let taken = take(i, j, &mut room);
                        debug_assert!(taken, "a head's offer has room");
                    } else {
                        buckets[slot(w)].push((i as u32, j));
                    }
                }
            }
        }
    } else {
        let mut heads = Vec::with_capacity(n);
        for i in 0..n {
            if let Some(h) = head(i, &mut next, &room) {
                heads.push(h);
            }
        }
        let mut heap = BinaryHeap::from(heads);
        while let Some((_, Reverse(i), Reverse(j))) = heap.pop() {
            let i = i as usize;
            if !take(i, j, &mut room) {
                next[i] += 1;
                if let Some(h) = head(i, &mut next, &room) {
                    heap.push(h);
                }
            }
        }
    }
    Solution { assignment, ..Solution::default() }
}
