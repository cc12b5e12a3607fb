//! The ties of an exact solution: which of its choices every optimal assignment shares, and
//! which vary among equally good ones (its *optimal face*).
//!
//! With optimal duals (the certificate's candidate profits `π` and offer prices `p`), an
//! assignment is optimal exactly when it uses only tight edges (`w = π + p`), matches every
//! candidate with a positive profit and fills every offer with a positive price (complementary
//! slackness). Seen as a circulation root → candidate → offer → root, the arcs that can change
//! among the optimal assignments are those on a cycle of the residual graph of those arcs: an
//! edge lies in some optimal assignment exactly when it lies in this one or its two ends share a
//! strongly connected component. So the face is one pass over the edges and one search, and
//! it is the same whichever optimal assignment and duals it starts from.
//!
//! An offer with guaranteed places (a minimum volume) is two groups of places here, the
//! guaranteed ones worth the bonus `M` more at their own price, as the solver and the
//! certificate see it.
//!
//! Must not: solve or change a solution; it reads one.

use super::reduce::residual;
use super::{Problem, Solution};
use crate::error::{Error, Result};

/// What optimality leaves open in one exact solution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Face {
    /// Row starts into `others`: candidate `i`'s are `others[offsets[i]..offsets[i + 1]]`.
    pub offsets: Vec<usize>,
    /// Offers a candidate holds in some other optimal assignment, in its row's order.
    pub others: Vec<u32>,
    /// Per candidate: matched here, unmatched in some optimal assignment.
    pub may_go_unmatched: Vec<bool>,
}

impl Face {
    /// The offers candidate `i` holds in some other optimal assignment.
    pub fn others(&self, i: usize) -> &[u32] {
        &self.others[self.offsets[i]..self.offsets[i + 1]]
    }

    /// Candidate `i` has the same offer (or none) in every optimal assignment.
    pub fn settled(&self, i: usize) -> bool {
        self.offsets[i] == self.offsets[i + 1] && !self.may_go_unmatched[i]
    }

    /// Candidates whose offer differs in some optimal assignment.
    pub fn n_open(&self) -> usize {
        (0..self.may_go_unmatched.len()).filter(|&i| !self.settled(i)).count()
    }
}

/// The optimal face of an exact `solution` of `problem` (see the module's header).
///
/// # Errors
/// [`Error::Problem`] when the solution carries no duals (not [`super::Mode::Exact`]) or the
/// solution and duals are not complementary (they do not prove each other optimal:
/// [`super::verify`] says where).
///
/// # Complexity
/// `O(n + m + E)`: every edge is read once, the search visits each node and tight arc once.
pub fn face(problem: &Problem, solution: &Solution) -> Result<Face> {
    let n = problem.n_candidates;
    let m = problem.n_offers();
    let (pi, p, q) = (&solution.candidate_profits, &solution.offer_prices, &solution.guarantee_prices);
    let (cap, lower) = residual(problem);
    // Guarantee prices come one per offer with guaranteed places left, in offer order.
    let with_floor: Vec<usize> = (0..m).filter(|&j| lower[j] > 0).collect();
    if pi.len() != n || p.len() != m || solution.assignment.len() != n || q.len() != with_floor.len() {
        return Err(Error::Problem("the ties are known only for an exact solution with its duals".into()));
    }
    let mut q_at = vec![0i64; m];
    for (&j, &price) in with_floor.iter().zip(q) {
        q_at[j] = price;
    }
    let bonus = i128::from(solution.continuity_bonus);
    let big_m = i128::from(solution.guarantee_bonus);
    let not_complementary =
        |what: String| Error::Problem(format!("{what}: the solution and its duals are not complementary"));
    // Nodes: the root 0, candidate i at 1 + i; an offer's regular places at 1 + n + j and its
    // guaranteed places (worth the bonus `M` more, at their own price) at 1 + n + m + j.
    let root = 0usize;
    let cand = |i: usize| 1 + i;
    let regular_part = |j: usize| 1 + n + j;
    let guaranteed_part = |j: usize| 1 + n + m + j;
    let node = |x: usize| x as u32;
    // Holders so far per offer: the first `lower` (in candidate order) take the guaranteed
    // places. When both parts hold someone their prices differ by exactly `M`, so every holder
    // is tight on both and any split is an optimal one of the two-part problem.
    let mut fill = vec![0u32; m];
    // Residual arcs of the tight circulation, as (from, to).
    let mut arcs: Vec<(u32, u32)> = Vec::new();
    // Tight arcs to other offers, as (candidate, offer, node of the part).
    let mut tight: Vec<(u32, u32, u32)> = Vec::new();
    for i in 0..n {
        if problem.is_locked(i) {
            continue;
        }
        let assigned = solution.assignment[i];
        let mut holds = None;
        if let Some(j) = assigned {
            let ju = j as usize;
            if ju >= m {
                return Err(Error::Problem(format!("candidate {i} holds offer {j}, which does not exist")));
            }
            let part = if fill[ju] < lower[ju] { guaranteed_part(ju) } else { regular_part(ju) };
            fill[ju] += 1;
            holds = Some(part);
            // Taken: the arc can be given back (part → candidate).
            arcs.push((node(part), node(cand(i))));
        }
        match (assigned, pi[i]) {
            (_, x) if x < 0 => return Err(not_complementary(format!("candidate {i} has profit {x}"))),
            (Some(_), 0) => arcs.push((node(cand(i)), node(root))),
            (None, 0) => arcs.push((node(root), node(cand(i)))),
            (None, x) => return Err(not_complementary(format!("candidate {i} is unmatched at profit {x}"))),
            (Some(_), _) => {}
        }
        let current = problem.current_of(i);
        let (offs, ws) = problem.edges(i);
        for (&j, &w) in offs.iter().zip(ws) {
            let ju = j as usize;
            let w = i128::from(w) + if current == Some(j) { bonus } else { 0 };
            let mut parts = [(regular_part(ju), i128::from(p[ju]), w), (guaranteed_part(ju), 0, w + big_m)];
            let n_parts = if lower[ju] > 0 { 2 } else { 1 };
            if n_parts == 2 {
                parts[1].1 = i128::from(q_at[ju]);
            }
            for &(part, price, worth) in &parts[..n_parts] {
                let dual = i128::from(pi[i]) + price;
                if dual < worth {
                    return Err(not_complementary(format!("edge ({i}, {j}) is worth more than its duals")));
                }
                if holds == Some(part) {
                    if dual != worth {
                        return Err(not_complementary(format!(
                            "candidate {i} holds offer {j} off a tight edge"
                        )));
                    }
                } else if dual == worth {
                    arcs.push((node(cand(i)), node(part)));
                    if Some(j) != assigned {
                        tight.push((i as u32, j, node(part)));
                    }
                }
            }
        }
    }
    for j in 0..m {
        let in_guaranteed = fill[j].min(lower[j]);
        let parts = [
            (regular_part(j), p[j], fill[j] - in_guaranteed, cap[j].saturating_sub(lower[j])),
            (guaranteed_part(j), 0, in_guaranteed, lower[j]),
        ];
        let n_parts = if lower[j] > 0 { 2 } else { 1 };
        let mut parts = parts;
        if n_parts == 2 {
            parts[1].1 = q_at[j];
        }
        for &(part, price, held, places) in &parts[..n_parts] {
            match (price, held.cmp(&places)) {
                (x, _) if x < 0 => return Err(not_complementary(format!("offer {j} has price {x}"))),
                (_, std::cmp::Ordering::Greater) => {
                    return Err(not_complementary(format!("offer {j} holds more than its places")));
                }
                (0, order) => {
                    if order == std::cmp::Ordering::Less {
                        arcs.push((node(part), node(root)));
                    }
                    if held > 0 {
                        arcs.push((node(root), node(part)));
                    }
                }
                (x, std::cmp::Ordering::Less) => {
                    return Err(not_complementary(format!("offer {j} has free places at price {x}")));
                }
                _ => {}
            }
        }
    }
    let component = components(1 + n + 2 * m, &arcs);
    let mut offsets = Vec::with_capacity(n + 1);
    offsets.push(0);
    let mut others: Vec<u32> = Vec::new();
    let mut next = tight.iter().peekable();
    for i in 0..n {
        let row_start = others.len();
        while let Some(&&(c, j, part)) = next.peek() {
            if c as usize != i {
                break;
            }
            // The two parts of one offer come one after the other: the offer once.
            if component[cand(i)] == component[part as usize] && others[row_start..].last() != Some(&j) {
                others.push(j);
            }
            next.next();
        }
        offsets.push(others.len());
    }
    let may_go_unmatched = (0..n)
        .map(|i| {
            !problem.is_locked(i)
                && solution.assignment[i].is_some()
                && pi[i] == 0
                && component[cand(i)] == component[root]
        })
        .collect();
    Ok(Face { offsets, others, may_go_unmatched })
}

/// The strongly connected component of every node of a directed graph given as arcs, by
/// Tarjan's algorithm with an explicit stack: a chain of alternating arcs as long as the
/// problem cannot overflow the thread's stack (petgraph's Tarjan recurses).
fn components(n_nodes: usize, arcs: &[(u32, u32)]) -> Vec<u32> {
    let mut start = vec![0usize; n_nodes + 1];
    for &(a, _) in arcs {
        start[a as usize + 1] += 1;
    }
    for v in 0..n_nodes {
        start[v + 1] += start[v];
    }
    let mut fill = start.clone();
    let mut head = vec![0u32; arcs.len()];
    for &(a, b) in arcs {
        head[fill[a as usize]] = b;
        fill[a as usize] += 1;
    }
    const UNSEEN: u32 = u32::MAX;
    let mut index = vec![UNSEEN; n_nodes];
    let mut low = vec![0u32; n_nodes];
    let mut on_stack = vec![false; n_nodes];
    let mut component = vec![UNSEEN; n_nodes];
    let mut stack: Vec<u32> = Vec::new();
    // (node, next arc to look at)
    let mut calls: Vec<(u32, usize)> = Vec::new();
    let (mut counter, mut n_components) = (0u32, 0u32);
    for s in 0..n_nodes {
        if index[s] != UNSEEN {
            continue;
        }
        calls.push((s as u32, start[s]));
        index[s] = counter;
        low[s] = counter;
        counter += 1;
        stack.push(s as u32);
        on_stack[s] = true;
        while let Some(&mut (v, ref mut next)) = calls.last_mut() {
            let v = v as usize;
            if *next < start[v + 1] {
                let w = head[*next] as usize;
                *next += 1;
                if index[w] == UNSEEN {
                    index[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w as u32);
                    on_stack[w] = true;
                    calls.push((w as u32, start[w]));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(parent, _)) = calls.last() {
                let parent = parent as usize;
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w as usize] = false;
                    component[w as usize] = n_components;
                    if w as usize == v {
                        break;
                    }
                }
                n_components += 1;
            }
        }
    }
    component
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assign::{Mode, SolveOptions, solve};

    /// Every assignment of a tiny problem, by brute force: each candidate takes one of its
    /// edges or nothing, within the places.
    fn all_assignments(problem: &Problem) -> Vec<Vec<Option<u32>>> {
        let mut out = Vec::new();
        let mut current = vec![None; problem.n_candidates];
        fn go(problem: &Problem, i: usize, current: &mut Vec<Option<u32>>, out: &mut Vec<Vec<Option<u32>>>) {
            if i == problem.n_candidates {
                let mut fill = vec![0u32; problem.n_offers()];
                for j in current.iter().flatten() {
                    fill[*j as usize] += 1;
                }
                if fill.iter().zip(&problem.capacity).all(|(f, c)| f <= c) {
                    out.push(current.clone());
                }
                return;
            }
            if problem.is_locked(i) {
                current[i] = problem.current_of(i);
                go(problem, i + 1, current, out);
                return;
            }
            current[i] = None;
            go(problem, i + 1, current, out);
            for &j in problem.edges(i).0 {
                current[i] = Some(j);
                go(problem, i + 1, current, out);
            }
            current[i] = None;
        }
        go(problem, 0, &mut current, &mut out);
        out
    }

    /// The solver's objective: weights plus the continuity bonus at current offers, plus `big_m`
    /// for every guaranteed place filled.
    fn value(problem: &Problem, a: &[Option<u32>], big_m: i64) -> i64 {
        let mut fill = vec![0u32; problem.n_offers()];
        let mut total = 0;
        for (i, j) in a.iter().enumerate() {
            let Some(j) = *j else { continue };
            fill[j as usize] += 1;
            let (offs, ws) = problem.edges(i);
            let bonus = if problem.current_of(i) == Some(j) { BONUS } else { 0 };
            total += offs.iter().position(|&o| o == j).map_or(0, |k| ws[k] + bonus);
        }
        let floors = fill.iter().enumerate().map(|(j, &f)| i64::from(f.min(problem.min_volume_of(j))));
        total + big_m * floors.sum::<i64>()
    }

    const BONUS: i64 = 1;

    /// A small problem with many ties: weights from a handful of values; some candidates hold
    /// a current offer (worth the continuity bonus), one in four of those locked to it.
    fn tied_problem(seed: u64, n: usize, m: usize) -> Problem {
        let mut rng = crate::r#gen::rng::Rng::new(seed, 3);
        let capacity: Vec<u32> = (0..m).map(|_| 1 + (rng.unit() * 2.0) as u32).collect();
        let (mut offsets, mut offers, mut weights) = (vec![0], Vec::new(), Vec::new());
        for _ in 0..n {
            for j in 0..m {
                if rng.unit() < 0.6 {
                    offers.push(j as u32);
                    weights.push((rng.unit() * 3.0) as i64);
                }
            }
            offsets.push(offers.len());
        }
        let mut problem = Problem::new(n, capacity, offsets, offers, weights).expect("problem");
        problem.current = (0..n)
            .map(|i| {
                let edges = problem.edges(i).0;
                (!edges.is_empty() && rng.unit() < 0.4)
                    .then(|| edges[(rng.unit() * edges.len() as f64) as usize])
            })
            .collect();
        problem.locked = problem.current.iter().map(|c| c.is_some() && rng.unit() < 0.25).collect();
        // A lock takes a place: keep the problem feasible.
        let mut locked_fill = vec![0u32; m];
        for i in 0..n {
            if let (true, Some(j)) = (problem.locked[i], problem.current[i]) {
                if locked_fill[j as usize] == problem.capacity[j as usize] {
                    problem.locked[i] = false;
                } else {
                    locked_fill[j as usize] += 1;
                }
            }
        }
        // One offer in three guarantees a place or two (some beyond what the locks fill).
        problem.min_volume = (0..m)
            .map(|j| {
                if rng.unit() < 0.33 { 1 + (rng.unit() * 2.0) as u32 } else { 0 }.min(problem.capacity[j])
            })
            .collect();
        problem.validate().expect("valid");
        problem
    }

    fn exact() -> SolveOptions {
        SolveOptions { mode: Mode::Exact, continuity_bonus: BONUS, ..SolveOptions::default() }
    }

    #[test]
    fn the_face_is_every_optimal_assignment_by_brute_force() {
        let (mut open_seen, mut guaranteed) = (0, 0);
        for seed in 0..400 {
            let problem = tied_problem(seed, 2 + (seed % 5) as usize, 1 + (seed % 3) as usize);
            let solution = solve(&problem, &exact()).expect("solve");
            let face = face(&problem, &solution).expect("face");
            let all = all_assignments(&problem);
            let big_m = solution.guarantee_bonus;
            guaranteed += usize::from(big_m > 0);
            let best = all.iter().map(|a| value(&problem, a, big_m)).max().expect("one assignment");
            let optima: Vec<&Vec<Option<u32>>> =
                all.iter().filter(|a| value(&problem, a, big_m) == best).collect();
            for i in 0..problem.n_candidates {
                let mine = solution.assignment[i];
                let mut others: Vec<u32> =
                    optima.iter().filter_map(|a| a[i]).filter(|&j| Some(j) != mine).collect();
                others.sort_unstable();
                others.dedup();
                let mut found = face.others(i).to_vec();
                found.sort_unstable();
                assert_eq!(found, others, "seed {seed}, candidate {i}");
                let unmatched = mine.is_some() && optima.iter().any(|a| a[i].is_none());
                assert_eq!(face.may_go_unmatched[i], unmatched, "seed {seed}, candidate {i}");
                open_seen += usize::from(!face.settled(i));
            }
        }
        // The worlds must have ties, or this test would not guard anything.
        assert!(open_seen > 100 && guaranteed > 100, "{open_seen} open candidates, {guaranteed} guaranteed");
    }

    #[test]
    fn a_solution_without_duals_is_refused() {
        let problem = tied_problem(1, 4, 2);
        let greedy =
            solve(&problem, &SolveOptions { mode: Mode::Greedy, ..SolveOptions::default() }).expect("solve");
        assert!(face(&problem, &greedy).is_err());
    }

    #[test]
    fn duals_that_do_not_fit_the_assignment_are_refused() {
        let problem = tied_problem(7, 5, 2);
        let mut solution = solve(&problem, &exact()).expect("solve");
        for p in &mut solution.offer_prices {
            *p += 5;
        }
        let message = face(&problem, &solution).expect_err("refused").to_string();
        assert!(message.contains("not complementary"), "{message}");
    }

    #[test]
    fn a_long_chain_of_ties_does_not_overflow_the_stack() {
        // Candidate i may take offer i or i + 1, all at the same weight: one alternating chain
        // through 200,001 nodes, searched on a thread with a small stack.
        let n = 100_000;
        let capacity = vec![1; n + 1];
        let mut offsets = vec![0];
        let mut offers = Vec::new();
        for i in 0..n {
            offers.extend([i as u32, i as u32 + 1]);
            offsets.push(offers.len());
        }
        let weights = vec![5; offers.len()];
        let problem = Problem::new(n, capacity, offsets, offers, weights).expect("problem");
        let solution =
            solve(&problem, &SolveOptions { mode: Mode::Exact, ..SolveOptions::default() }).expect("solve");
        let open = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || face(&problem, &solution).map(|f| f.n_open()))
            .expect("thread")
            .join()
            .expect("no overflow")
            .expect("face");
        assert_eq!(open, n);
    }
}
