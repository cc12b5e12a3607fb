//! Candidate-proposing deferred acceptance (Gale–Shapley with capacities) and the blocking
//! pair count that certifies it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use super::reduce::residual;
use super::{Problem, Solution, SolveOptions, SolveStats};
use crate::error::{Error, Result};

/// How offer `j` ranks candidate `i` (higher is better): the priority key, ties to the lower
/// candidate index. A total order, so "prefers" is always strict.
#[inline]
fn offer_rank(options: &SolveOptions, i: usize, w: i64) -> (i64, Reverse<u32>) {
    let key = options.offer_priority.as_ref().map_or(w, |p| p[i]);
    (key, Reverse(i as u32))
}

/// How a candidate ranks an offer (higher is better): weight with bonus, ties to the lower
/// offer index. Only offers with positive weight are acceptable.
#[inline]
fn candidate_rank(w: i64, j: u32) -> (i64, Reverse<u32>) {
    (w, Reverse(j))
}

/// The acceptable offers of unlocked candidate `i` with their weights (bonus included).
fn acceptable(problem: &Problem, bonus: i64, i: usize) -> impl Iterator<Item = (u32, i64)> + '_ {
    acceptable_edges(problem, bonus, i).map(|(_, j, w)| (j, w))
}

/// [`acceptable`] with each edge's index in the problem's arrays.
fn acceptable_edges(problem: &Problem, bonus: i64, i: usize) -> impl Iterator<Item = (usize, u32, i64)> + '_ {
    let cur = problem.current_of(i);
    let row = problem.offsets[i]..problem.offsets[i + 1];
    let locked = problem.is_locked(i);
    row.map(move |e| {
        let (j, w) = (problem.offers[e], problem.weights[e]);
        (e, j, if cur == Some(j) { w + bonus } else { w })
    })
    .filter(move |&(_, _, w)| w > 0 && !locked)
}

/// The proposers an offer holds, worst on top: (offer's rank of the candidate, candidate).
type Holders = BinaryHeap<Reverse<((i64, Reverse<u32>), u32)>>;

/// Deferred acceptance: free candidates propose down their list; an offer keeps the best
/// `capacity − locked` proposers by its ranking. Locked candidates keep their place.
///
/// # Complexity
/// `O(E log K)` to sort the lists, `O(E log C)` for the proposals; the lists take 4 bytes an
/// edge.
pub(crate) fn deferred_acceptance(problem: &Problem, options: &SolveOptions) -> Result<Solution> {
    let n = problem.n_candidates;
    let bonus = options.continuity_bonus;
    let (room, _) = residual(problem);
    let mut off = Vec::with_capacity(n + 1);
    off.push(0usize);
    // Each candidate's list as edge indices, best first: 4 bytes an edge instead of an
    // (offer, weight) pair's 16 (the national night: 56 MB instead of 226 MB, held beside the
    // exact solve).
    if u32::try_from(problem.n_edges()).is_err() {
        return Err(Error::Problem(format!(
            "{} edges: deferred acceptance takes at most 2^32",
            problem.n_edges()
        )));
    }
    let mut pref: Vec<u32> = Vec::with_capacity(problem.n_edges());
    let mut row: Vec<(usize, u32, i64)> = Vec::new();
    for i in 0..n {
        row.clear();
        row.extend(acceptable_edges(problem, bonus, i));
        row.sort_unstable_by_key(|&(_, j, w)| Reverse(candidate_rank(w, j)));
        pref.extend(row.iter().map(|&(e, _, _)| e as u32));
        off.push(pref.len());
    }
    let cur_weight = |i: usize, e: usize| -> (u32, i64) {
        let (j, w) = (problem.offers[e], problem.weights[e]);
        (j, if problem.current_of(i) == Some(j) { w + bonus } else { w })
    };
    let mut held: Vec<Holders> = vec![BinaryHeap::new(); problem.n_offers()];
    let mut next: Vec<usize> = off[..n].to_vec();
    let mut assignment: Vec<Option<u32>> = vec![None; n];
    let mut queue: VecDeque<u32> = (0..n as u32).filter(|&i| !problem.is_locked(i as usize)).collect();
    let mut proposals = 0u64;
    while let Some(i) = queue.pop_front() {
        let i = i as usize;
        while next[i] < off[i + 1] {
            let (j, w) = cur_weight(i, pref[next[i]] as usize);
            next[i] += 1;
            proposals += 1;
            let rank = offer_rank(options, i, w);
            let heap = &mut held[j as usize];
            if heap.len() < room[j as usize] as usize {
                heap.push(Reverse((rank, i as u32)));
                assignment[i] = Some(j);
                break;
            }
            if let Some(Reverse((worst, out))) = heap.peek().copied()
                && rank > worst
            {
                heap.pop();
                heap.push(Reverse((rank, i as u32)));
                assignment[out as usize] = None;
                queue.push_back(out);
                assignment[i] = Some(j);
                break;
            }
        }
    }
    for i in (0..n).filter(|&i| problem.is_locked(i)) {
        assignment[i] = problem.current_of(i);
    }
    let stats = SolveStats { iterations: proposals, ..SolveStats::default() };
    Ok(Solution { assignment, stats, ..Solution::default() })
}

/// Number of blocking pairs of `assignment`: an unlocked candidate `i` and an acceptable offer
/// `j` (positive weight with bonus) such that `i` strictly prefers `j` to its own offer (by
/// weight with bonus, ties to the lower offer index; unmatched is worst) and `j` has room or
/// ranks `i` above one of its unlocked holders (by `options.offer_priority`, default the edge
/// weight, ties to the lower candidate index). Locked candidates neither block nor are
/// displaced. Deferred acceptance ([`super::Mode::Stable`]) always returns 0.
///
/// # Errors
/// [`Error::Problem`] when the problem is invalid, `assignment` has the wrong length, assigns a
/// pair that is no edge, moves a locked candidate or overfills an offer, or `offer_priority`
/// has the wrong length.
///
/// # Complexity
/// `O(n + m + E)`.
pub fn blocking_pairs(
    problem: &Problem,
    assignment: &[Option<u32>],
    options: &SolveOptions,
) -> Result<usize> {
    problem.validate()?;
    let n = problem.n_candidates;
    if assignment.len() != n {
        return Err(Error::Problem(format!("assignment has {} entries, expected {n}", assignment.len())));
    }
    if options.offer_priority.as_ref().is_some_and(|p| p.len() != n) {
        return Err(Error::Problem(format!("offer_priority needs {n} entries")));
    }
    let bonus = options.continuity_bonus;
    let (room, _) = residual(problem);
    let mut count = vec![0u32; problem.n_offers()];
    let mut worst: Vec<Option<(i64, Reverse<u32>)>> = vec![None; problem.n_offers()];
    let mut own: Vec<Option<(i64, Reverse<u32>)>> = vec![None; n];
    for i in 0..n {
        let locked = problem.is_locked(i);
        if locked && assignment[i] != problem.current_of(i) {
            return Err(Error::Problem(format!("candidate {i} is locked but was moved")));
        }
        let Some(j) = assignment[i] else { continue };
        if locked {
            continue;
        }
        let w = super::edge_weight(problem, bonus, i, j).ok_or_else(|| {
            Error::Problem(format!("candidate {i} is assigned to offer {j}, which is not an edge"))
        })?;
        count[j as usize] += 1;
        if count[j as usize] > room[j as usize] {
            return Err(Error::Problem(format!("offer {j} is over capacity")));
        }
        own[i] = Some(candidate_rank(w, j));
        let r = offer_rank(options, i, w);
        let slot = &mut worst[j as usize];
        *slot = Some(slot.map_or(r, |s| s.min(r)));
    }
    let mut blocking = 0;
    for i in 0..n {
        for (j, w) in acceptable(problem, bonus, i) {
            let prefers = own[i].is_none_or(|o| candidate_rank(w, j) > o);
            let ju = j as usize;
            let admits = count[ju] < room[ju] || worst[ju].is_some_and(|wr| offer_rank(options, i, w) > wr);
            if prefers && admits && assignment[i] != Some(j) {
                blocking += 1;
            }
        }
    }
    Ok(blocking)
}
