//! Candidate-proposing deferred acceptance (Gale–Shapley with capacities) and the blocking
//! pair count that certifies it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use rayon::prelude::*;

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

/// Each unlocked candidate's acceptable edges (positive weight with bonus), best first by
/// the candidate's ranking ([`candidate_rank`]: weight with bonus, ties to the lower offer),
/// as edge indices. Deferred acceptance proposes down these lists; greedy walks them too
/// (`greedy::greedy_with`), so the baselines order the rows once between them.
///
/// A row already in that order, its acceptable edges first, is its own list: only its length
/// is kept, and a walk down it reads the problem's arrays in a row. The candidate graph lists
/// a row best first, ties to the lower offer, so a night's row is in order unless a rule
/// lowered some of its weights. Other rows are sorted into `listed`, 4 bytes an edge. National
/// night (seed 7): 175,047 of 250,000 rows are their own lists, and `listed` holds 4.5 M edges
/// (18 MB beside the exact solve) instead of 14.1 M (56 MB); those rows are not sorted, and
/// a step down them reads no index first.
pub(crate) struct Preferences {
    /// Per candidate: its list's first entry, in the problem's edges when the row is its own
    /// list, else in `listed`.
    start: Vec<usize>,
    /// Per candidate: its list's length, with [`LISTED`] set when the list is in `listed`.
    len: Vec<u32>,
    /// The lists of the rows out of order: edge indices into the problem's arrays.
    listed: Vec<u32>,
}

/// The bit of [`Preferences`]' lengths that marks a list sorted into `listed`.
const LISTED: u32 = 1 << 31;

/// Candidates per parallel chunk when the lists are read and sorted.
const CANDIDATES_PER_CHUNK: usize = 4096;

impl Preferences {
    /// The lists of `problem` with the continuity `bonus`, checked and sorted in parallel
    /// chunks on the current rayon pool (each row on its own, so the lists do not depend on
    /// the threads).
    ///
    /// # Errors
    /// [`Error::Problem`] when the problem has 2^31 edges or more.
    ///
    /// # Complexity
    /// `O(E)` for rows in order, `O(E log K)` for rows of at most `K` edges that are not.
    pub(crate) fn of(problem: &Problem, bonus: i64) -> Result<Preferences> {
        if problem.n_edges() >= LISTED as usize {
            return Err(Error::Problem(format!(
                "{} edges: the baselines take fewer than 2^31",
                problem.n_edges()
            )));
        }
        let n = problem.n_candidates;
        // Each row's acceptable edges, and whether they come first and in order.
        let rows: Vec<(u32, bool)> = (0..n)
            .into_par_iter()
            .with_min_len(CANDIDATES_PER_CHUNK)
            .map(|i| {
                let first = problem.offsets[i];
                let (mut count, mut in_order) = (0u32, true);
                let mut last: Option<(i64, Reverse<u32>)> = None;
                for (e, j, w) in acceptable_edges(problem, bonus, i) {
                    let rank = candidate_rank(w, j);
                    in_order &= e == first + count as usize && last.is_none_or(|l| rank < l);
                    last = Some(rank);
                    count += 1;
                }
                (count, in_order)
            })
            .collect();
        let mut start = Vec::with_capacity(n);
        let mut len = Vec::with_capacity(n);
        // Where each chunk's sorted lists begin in `listed`, and the end.
        let mut bounds = Vec::with_capacity(n.div_ceil(CANDIDATES_PER_CHUNK) + 1);
        let mut at = 0usize;
        for (i, &(count, in_order)) in rows.iter().enumerate() {
            if i % CANDIDATES_PER_CHUNK == 0 {
                bounds.push(at);
            }
            if in_order {
                start.push(problem.offsets[i]);
                len.push(count);
            } else {
                start.push(at);
                len.push(count | LISTED);
                at += count as usize;
            }
        }
        bounds.push(at);
        let mut listed = vec![0u32; at];
        let mut chunks = Vec::with_capacity(bounds.len());
        let mut rest = listed.as_mut_slice();
        for (c, first) in (0..n).step_by(CANDIDATES_PER_CHUNK).enumerate() {
            let end = (first + CANDIDATES_PER_CHUNK).min(n);
            let (chunk, tail) = std::mem::take(&mut rest).split_at_mut(bounds[c + 1] - bounds[c]);
            chunks.push((first..end, chunk));
            rest = tail;
        }
        let len_of = &len;
        chunks.into_par_iter().for_each(|(candidates, out)| {
            let mut row: Vec<(usize, u32, i64)> = Vec::new();
            let mut at = 0;
            for i in candidates.filter(|&i| len_of[i] & LISTED != 0) {
                row.clear();
                row.extend(acceptable_edges(problem, bonus, i));
                row.sort_unstable_by_key(|&(_, j, w)| Reverse(candidate_rank(w, j)));
                for &(e, _, _) in &row {
                    out[at] = e as u32;
                    at += 1;
                }
            }
        });
        Ok(Preferences { start, len, listed })
    }

    /// The length of candidate `i`'s list.
    #[inline]
    pub(crate) fn len(&self, i: usize) -> usize {
        (self.len[i] & !LISTED) as usize
    }

    /// The `k`-th edge of candidate `i`'s list (`k < self.len(i)`), an index into the
    /// problem's arrays.
    #[inline]
    pub(crate) fn edge(&self, i: usize, k: usize) -> usize {
        if self.len[i] & LISTED == 0 { self.start[i] + k } else { self.listed[self.start[i] + k] as usize }
    }

    /// How many rows are their own list, and how many were sorted (tests).
    #[cfg(test)]
    pub(crate) fn rows_in_place(&self) -> (usize, usize) {
        let listed = self.len.iter().filter(|&&l| l & LISTED != 0).count();
        (self.len.len() - listed, listed)
    }
}

/// Edge `e` of candidate `i`: its offer and its weight with the continuity `bonus` when the
/// offer is the candidate's current one. The one home of that rule for greedy and deferred
/// acceptance, which read edges one at a time.
#[inline]
pub(crate) fn weight_with_bonus(problem: &Problem, bonus: i64, i: usize, e: usize) -> (u32, i64) {
    let (j, w) = (problem.offers[e], problem.weights[e]);
    // Without a bonus the current offer need not be read (one cache miss a call).
    (j, if bonus != 0 && problem.current_of(i) == Some(j) { w + bonus } else { w })
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
/// `O(E)` to read the lists, `O(E log K)` to sort the rows out of order ([`Preferences::of`]),
/// `O(E log C)` for the proposals; a sorted list takes 4 bytes an edge.
pub(crate) fn deferred_acceptance(problem: &Problem, options: &SolveOptions) -> Result<Solution> {
    let preferences = Preferences::of(problem, options.continuity_bonus)?;
    Ok(deferred_acceptance_with(problem, options, &preferences))
}

/// [`deferred_acceptance`] down lists already sorted ([`Preferences::of`] with the same bonus).
pub(crate) fn deferred_acceptance_with(
    problem: &Problem,
    options: &SolveOptions,
    preferences: &Preferences,
) -> Solution {
    let n = problem.n_candidates;
    let bonus = options.continuity_bonus;
    let (room, _) = residual(problem);
    let cur_weight = |i: usize, e: usize| weight_with_bonus(problem, bonus, i, e);
    let mut held: Vec<Holders> = vec![BinaryHeap::new(); problem.n_offers()];
    // Each candidate's place in its list.
    let mut next: Vec<u32> = vec![0; n];
    let mut assignment: Vec<Option<u32>> = vec![None; n];
    let mut queue: VecDeque<u32> = (0..n as u32).filter(|&i| !problem.is_locked(i as usize)).collect();
    let mut proposals = 0u64;
    while let Some(i) = queue.pop_front() {
        let i = i as usize;
        while (next[i] as usize) < preferences.len(i) {
            let (j, w) = cur_weight(i, preferences.edge(i, next[i] as usize));
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
    Solution { assignment, stats, ..Solution::default() }
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
    Ok(blocking_pairs_each(problem, &[assignment], options)?[0])
}

/// [`blocking_pairs`] of each of `assignments` of the same problem, with one validation and
/// one pass over the edges for all of them (the night counts both baselines' so, beside the
/// exact solve). Candidates are counted in parallel on the current rayon pool: integer sums,
/// the same for any number of threads.
///
/// # Errors
/// As [`blocking_pairs`], for the first assignment that has one.
///
/// # Complexity
/// `O(n + m + E)` for each assignment, the edges read once.
pub fn blocking_pairs_each(
    problem: &Problem,
    assignments: &[&[Option<u32>]],
    options: &SolveOptions,
) -> Result<Vec<usize>> {
    problem.validate()?;
    let n = problem.n_candidates;
    if options.offer_priority.as_ref().is_some_and(|p| p.len() != n) {
        return Err(Error::Problem(format!("offer_priority needs {n} entries")));
    }
    let bonus = options.continuity_bonus;
    let (room, _) = residual(problem);
    let holders = assignments
        .iter()
        .map(|assignment| holders_of(problem, assignment, options, &room))
        .collect::<Result<Vec<Holding>>>()?;
    let counts = (0..n)
        .into_par_iter()
        .fold(
            || vec![0usize; assignments.len()],
            |mut blocking, i| {
                for (j, w) in acceptable(problem, bonus, i) {
                    let ju = j as usize;
                    for ((h, assignment), b) in holders.iter().zip(assignments).zip(&mut blocking) {
                        let prefers = h.own[i].is_none_or(|o| candidate_rank(w, j) > o);
                        let admits = h.count[ju] < room[ju]
                            || h.worst[ju].is_some_and(|wr| offer_rank(options, i, w) > wr);
                        *b += usize::from(prefers && admits && assignment[i] != Some(j));
                    }
                }
                blocking
            },
        )
        .reduce(|| vec![0usize; assignments.len()], |a, b| a.iter().zip(&b).map(|(x, y)| x + y).collect());
    Ok(counts)
}

/// What one assignment holds: places taken per offer, each offer's worst unlocked holder and
/// each candidate's rank of its own offer.
struct Holding {
    count: Vec<u32>,
    worst: Vec<Option<(i64, Reverse<u32>)>>,
    own: Vec<Option<(i64, Reverse<u32>)>>,
}

fn holders_of(
    problem: &Problem,
    assignment: &[Option<u32>],
    options: &SolveOptions,
    room: &[u32],
) -> Result<Holding> {
    let n = problem.n_candidates;
    if assignment.len() != n {
        return Err(Error::Problem(format!("assignment has {} entries, expected {n}", assignment.len())));
    }
    let bonus = options.continuity_bonus;
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
    Ok(Holding { count, worst, own })
}
