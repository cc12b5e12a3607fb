//! The ties of an exact solution: which of its choices every optimal assignment shares, and
//! which vary among equally good ones (its *optimal face*); and the canonical choice among
//! them, the assignment every exact solve returns whatever path its solver took.
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
//! Must not: change the problem, the duals or the objective. The canonical choice's second
//! solve is the only solve here, always on the schedule of record (`auction::Schedule::Record`):
//! tuning the first solve must never change which assignment comes out.

use super::reduce::residual;
use super::{Problem, Solution};
use crate::error::{Error, Result};
use rayon::prelude::*;

/// Candidates per parallel task of the scan over the edges.
const CHUNK: usize = 4096;

/// One chunk of candidates' part of the circulation: residual arcs as (from, to), tight arcs
/// as (offer, part node), and each candidate's number of tight arcs.
struct Scanned {
    arcs: Vec<(u32, u32)>,
    tight: Vec<(u32, u32)>,
    lengths: Vec<u32>,
}

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
    let c = Circulation::of(problem, solution)?;
    let n = problem.n_candidates;
    let mut offsets = Vec::with_capacity(n + 1);
    offsets.push(0);
    let mut others: Vec<u32> = Vec::new();
    for i in 0..n {
        let row_start = others.len();
        for &(j, part) in c.tight(i) {
            // The two parts of one offer come one after the other: the offer once.
            if Some(j) != solution.assignment[i]
                && c.varies(i, part)
                && others[row_start..].last() != Some(&j)
            {
                others.push(j);
            }
        }
        offsets.push(others.len());
    }
    let may_go_unmatched =
        (0..n).map(|i| !problem.is_locked(i) && solution.assignment[i].is_some() && c.may_drop(i)).collect();
    Ok(Face { offsets, others, may_go_unmatched })
}

/// The canonical optimum: among the optimal assignments of `problem`, the one the problem
/// alone fixes, whatever optimum and duals `solution` holds (another solver path, a warm start,
/// another thread count: the same answer). Candidates that optimality settles keep their offer;
/// the open ones are placed by a second exact solve over the open part of the face only, which
/// prefers for each candidate the offers earlier in its row (the better scores). That second
/// problem is built from the face alone, which every optimum shares, so its answer is too.
///
/// Returns the assignment and the number of candidates whose offer optimality leaves open.
///
/// # Errors
/// As [`face`]; an internal error if the second solve left a place the face requires.
pub(crate) fn canonical(problem: &Problem, solution: &Solution) -> Result<(Vec<Option<u32>>, usize)> {
    let c = Circulation::of(problem, solution)?;
    let n = problem.n_candidates;
    let open: Vec<usize> =
        (0..n).filter(|&i| c.tight(i).iter().any(|&(_, part)| c.varies(i, part))).collect();
    if open.is_empty() {
        return Ok((solution.assignment.clone(), 0));
    }
    let parts = 2 * c.m;
    let part_index = |part: u32| part as usize - 1 - n;
    let mut is_open = vec![false; n];
    for &i in &open {
        is_open[i] = true;
    }
    // Places held by settled candidates stay theirs.
    let mut settled = vec![0u32; parts];
    for i in (0..n).filter(|&i| !is_open[i]) {
        if let Some(part) = c.holds[i] {
            settled[part_index(part)] += 1;
        }
    }
    // The parts the open candidates may take, numbered in node order.
    let mut number = vec![u32::MAX; parts];
    for &i in &open {
        for &(_, part) in c.tight(i).iter().filter(|&&(_, part)| c.varies(i, part)) {
            number[part_index(part)] = 0;
        }
    }
    let mut part_of: Vec<u32> = Vec::new();
    for (k, slot) in number.iter_mut().enumerate() {
        if *slot == 0 {
            *slot = part_of.len() as u32;
            part_of.push((1 + n + k) as u32);
        }
    }
    // A part whose fill optimality fixes must keep it exactly; one that may vary offers the
    // places the settled candidates leave.
    let fixed: Vec<bool> = part_of.iter().map(|&part| !c.part_root_varies[part_index(part)]).collect();
    let capacity: Vec<u32> = part_of
        .iter()
        .zip(&fixed)
        .map(|(&part, &fixed)| {
            let k = part_index(part);
            if fixed { c.held[k] - settled[k] } else { c.places[k] - settled[k] }
        })
        .collect();
    let row_len = |i: usize| problem.edges(i).0.len() as i64;
    // Larger than any difference of the preferences' sums: a place the face requires always wins.
    let big = 1 + open.iter().map(|&i| row_len(i)).sum::<i64>();
    // Matched here and in every optimum: the second solve must match them too.
    let must: Vec<bool> = open.iter().map(|&i| c.holds[i].is_some() && !c.may_drop(i)).collect();
    let (mut offsets, mut offers, mut weights) = (vec![0usize], Vec::new(), Vec::new());
    for (&i, &must) in open.iter().zip(&must) {
        let row = problem.edges(i).0;
        let mut position = 0;
        for &(j, part) in c.tight(i) {
            while row[position] != j {
                position += 1;
            }
            if !c.varies(i, part) {
                continue;
            }
            let o = number[part_index(part)];
            offers.push(o);
            weights.push(
                row_len(i) - position as i64
                    + if must { big } else { 0 }
                    + if fixed[o as usize] { big } else { 0 },
            );
        }
        offsets.push(offers.len());
    }
    let second = Problem::new(open.len(), capacity.clone(), offsets, offers, weights)?;
    let options = super::SolveOptions { mode: super::Mode::Exact, ..super::SolveOptions::default() };
    let placed = super::exact::solve_exact(
        &second,
        &options,
        super::repair::WarmRepair::Auto,
        super::auction::Schedule::Record,
    )?
    .assignment;
    let mut fill = vec![0u32; part_of.len()];
    let mut out = solution.assignment.clone();
    for (k, &i) in open.iter().enumerate() {
        if must[k] && placed[k].is_none() {
            return Err(Error::Problem(format!(
                "internal: the canonical choice left candidate {i} unmatched"
            )));
        }
        out[i] = placed[k].map(|o| {
            fill[o as usize] += 1;
            c.offer_of(part_of[o as usize])
        });
    }
    if let Some(o) = (0..part_of.len()).find(|&o| fixed[o] && fill[o] != capacity[o]) {
        return Err(Error::Problem(format!(
            "internal: the canonical choice changed the fill of offer {}",
            c.offer_of(part_of[o])
        )));
    }
    // Counted by offer: a candidate that only trades guaranteed for regular places of the same
    // offer keeps its offer.
    let moves = |i: usize| {
        c.may_drop(i)
            || c.tight(i).iter().any(|&(j, part)| Some(j) != solution.assignment[i] && c.varies(i, part))
    };
    Ok((out, open.iter().filter(|&&i| moves(i)).count()))
}

/// The tight circulation of an exact solution (root → candidate → part of an offer → root) and
/// the strongly connected components of its residual graph: what [`face`] and [`canonical`]
/// read.
struct Circulation {
    n: usize,
    m: usize,
    component: Vec<u32>,
    /// Per candidate, its tight arcs as (offer, part node), the one it holds included, in row
    /// order (regular part before guaranteed).
    tight_start: Vec<usize>,
    tight: Vec<(u32, u32)>,
    /// The part node each candidate holds.
    holds: Vec<Option<u32>>,
    /// Per part node (index − 1 − n): places, holders, and whether its root arc can change.
    places: Vec<u32>,
    held: Vec<u32>,
    part_root_varies: Vec<bool>,
    /// Per candidate: its profit is 0 (it may be unmatched at these duals).
    free: Vec<bool>,
}

const ROOT: usize = 0;

impl Circulation {
    fn cand(&self, i: usize) -> usize {
        1 + i
    }

    fn tight(&self, i: usize) -> &[(u32, u32)] {
        &self.tight[self.tight_start[i]..self.tight_start[i + 1]]
    }

    /// The arc between candidate `i` and `part` lies on a cycle: it differs in some optimum.
    fn varies(&self, i: usize, part: u32) -> bool {
        self.component[self.cand(i)] == self.component[part as usize]
    }

    /// Candidate `i`'s arc from the root lies on a cycle: matched in some optima, not in others.
    fn may_drop(&self, i: usize) -> bool {
        self.free[i] && self.component[self.cand(i)] == self.component[ROOT]
    }

    /// The offer of a part node.
    fn offer_of(&self, part: u32) -> u32 {
        let k = part as usize - 1 - self.n;
        (if k >= self.m { k - self.m } else { k }) as u32
    }

    fn of(problem: &Problem, solution: &Solution) -> Result<Circulation> {
        let n = problem.n_candidates;
        let m = problem.n_offers();
        let (pi, p, q) = (&solution.candidate_profits, &solution.offer_prices, &solution.guarantee_prices);
        let (cap, lower) = residual(problem);
        // Guarantee prices come one per offer with guaranteed places left, in offer order.
        let with_floor: Vec<usize> = (0..m).filter(|&j| lower[j] > 0).collect();
        if pi.len() != n || p.len() != m || solution.assignment.len() != n || q.len() != with_floor.len() {
            return Err(Error::Problem(
                "the ties are known only for an exact solution with its duals".into(),
            ));
        }
        // Both prices of an offer side by side (one load per edge in the scan below); an offer
        // without guaranteed places has `NO_FLOOR` for the second.
        const NO_FLOOR: i64 = i64::MIN;
        let mut prices_of: Vec<[i64; 2]> = p.iter().map(|&price| [price, NO_FLOOR]).collect();
        for (&j, &price) in with_floor.iter().zip(q) {
            prices_of[j][1] = price;
        }
        let bonus = solution.continuity_bonus;
        let big_m = solution.guarantee_bonus;
        let not_complementary = |what: String| {
            Error::Problem(format!("{what}: the solution and its duals are not complementary"))
        };
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
        let mut holds_of: Vec<Option<u32>> = vec![None; n];
        for i in (0..n).filter(|&i| !problem.is_locked(i)) {
            if let Some(j) = solution.assignment[i] {
                let ju = j as usize;
                if ju >= m {
                    return Err(Error::Problem(format!(
                        "candidate {i} holds offer {j}, which does not exist"
                    )));
                }
                let part = if fill[ju] < lower[ju] { guaranteed_part(ju) } else { regular_part(ju) };
                fill[ju] += 1;
                holds_of[i] = Some(node(part));
            }
        }
        // Each candidate's arcs on its own (every edge is read here: in parallel, in fixed
        // chunks joined in order). Residual arcs as (from, to); tight arcs per candidate as
        // (offer, node of the part), the one it holds included.
        let scan = |range: std::ops::Range<usize>| -> Result<Scanned> {
            let (mut arcs, mut tight, mut lengths) =
                (Vec::new(), Vec::new(), Vec::with_capacity(range.len()));
            for i in range {
                let before = tight.len();
                if problem.is_locked(i) {
                    lengths.push(0);
                    continue;
                }
                let assigned = solution.assignment[i];
                let holds = holds_of[i];
                if let Some(part) = holds {
                    // Taken: the arc can be given back (part → candidate).
                    arcs.push((part, node(cand(i))));
                }
                match (assigned, pi[i]) {
                    (_, x) if x < 0 => {
                        return Err(not_complementary(format!("candidate {i} has profit {x}")));
                    }
                    (Some(_), 0) => arcs.push((node(cand(i)), node(root))),
                    (None, 0) => arcs.push((node(root), node(cand(i)))),
                    (None, x) => {
                        return Err(not_complementary(format!("candidate {i} is unmatched at profit {x}")));
                    }
                    (Some(_), _) => {}
                }
                let current = problem.current_of(i);
                let (offs, ws) = problem.edges(i);
                let profit = pi[i];
                // Every edge is read here: plain `i64` sums, saturating (a saturated sum of two
                // non-negative duals exceeds every worth, which stays below `i64::MAX`).
                let mut part_arc = |j: u32, part: usize, price: i64, worth: i64| -> Result<()> {
                    let dual = profit.saturating_add(price);
                    if dual < worth {
                        return Err(not_complementary(format!(
                            "edge ({i}, {j}) is worth more than its duals"
                        )));
                    }
                    if holds == Some(node(part)) {
                        if dual != worth {
                            return Err(not_complementary(format!(
                                "candidate {i} holds offer {j} off a tight edge"
                            )));
                        }
                        tight.push((j, node(part)));
                    } else if dual == worth {
                        arcs.push((node(cand(i)), node(part)));
                        tight.push((j, node(part)));
                    }
                    Ok(())
                };
                for (&j, &w) in offs.iter().zip(ws) {
                    let ju = j as usize;
                    let w = w.saturating_add(if current == Some(j) { bonus } else { 0 });
                    let [regular, guaranteed] = prices_of[ju];
                    part_arc(j, regular_part(ju), regular, w)?;
                    if guaranteed != NO_FLOOR {
                        part_arc(j, guaranteed_part(ju), guaranteed, w.saturating_add(big_m))?;
                    }
                }
                lengths.push((tight.len() - before) as u32);
            }
            Ok(Scanned { arcs, tight, lengths })
        };
        let starts: Vec<usize> = (0..n).step_by(CHUNK).collect();
        let chunks: Vec<Scanned> =
            starts.par_iter().map(|&start| scan(start..(start + CHUNK).min(n))).collect::<Result<_>>()?;
        let mut arcs: Vec<(u32, u32)> =
            Vec::with_capacity(chunks.iter().map(|c| c.arcs.len()).sum::<usize>() + 2 * m);
        let mut tight: Vec<(u32, u32)> = Vec::with_capacity(chunks.iter().map(|c| c.tight.len()).sum());
        let mut tight_start = Vec::with_capacity(n + 1);
        tight_start.push(0);
        for chunk in chunks {
            arcs.extend_from_slice(&chunk.arcs);
            tight.extend_from_slice(&chunk.tight);
            for len in chunk.lengths {
                let last = tight_start[tight_start.len() - 1];
                tight_start.push(last + len as usize);
            }
        }
        // Per part node (index − 1 − n): its places, holders and price.
        let (mut places, mut held, mut prices) = (vec![0u32; 2 * m], vec![0u32; 2 * m], vec![0i64; 2 * m]);
        for j in 0..m {
            let in_guaranteed = fill[j].min(lower[j]);
            let [regular, guaranteed] = prices_of[j];
            let parts = [
                (regular_part(j), regular, fill[j] - in_guaranteed, cap[j].saturating_sub(lower[j])),
                (guaranteed_part(j), guaranteed, in_guaranteed, lower[j]),
            ];
            let n_parts = if lower[j] > 0 { 2 } else { 1 };
            for &(part, price, holders, room) in &parts[..n_parts] {
                let k = part - 1 - n;
                (places[k], held[k], prices[k]) = (room, holders, price);
                match (price, holders.cmp(&room)) {
                    (x, _) if x < 0 => return Err(not_complementary(format!("offer {j} has price {x}"))),
                    (_, std::cmp::Ordering::Greater) => {
                        return Err(not_complementary(format!("offer {j} holds more than its places")));
                    }
                    (0, order) => {
                        if order == std::cmp::Ordering::Less {
                            arcs.push((node(part), node(root)));
                        }
                        if holders > 0 {
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
        Ok(Circulation {
            n,
            m,
            component,
            tight_start,
            tight,
            holds: holds_of,
            places,
            held,
            part_root_varies: Vec::new(),
            free: (0..n).map(|i| !problem.is_locked(i) && pi[i] == 0).collect(),
        }
        .with_root_arcs(&prices))
    }

    fn with_root_arcs(mut self, prices: &[i64]) -> Circulation {
        let root = self.component[ROOT];
        self.part_root_varies = (0..2 * self.m)
            .map(|k| {
                let (held, places) = (self.held[k], self.places[k]);
                prices[k] == 0 && (held < places || held > 0) && self.component[1 + self.n + k] == root
            })
            .collect();
        self
    }
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
        unlock_beyond_places(&mut problem);
        // One offer in three guarantees a place or two (some beyond what the locks fill).
        problem.min_volume = (0..m)
            .map(|j| {
                if rng.unit() < 0.33 { 1 + (rng.unit() * 2.0) as u32 } else { 0 }.min(problem.capacity[j])
            })
            .collect();
        problem.validate().expect("valid");
        problem
    }

    /// A lock takes a place: locks beyond an offer's places are lifted, so the problem stays
    /// feasible.
    fn unlock_beyond_places(problem: &mut Problem) {
        let mut locked_fill = vec![0u32; problem.n_offers()];
        for i in 0..problem.n_candidates {
            if let (true, Some(j)) = (problem.locked[i], problem.current[i]) {
                if locked_fill[j as usize] == problem.capacity[j as usize] {
                    problem.locked[i] = false;
                } else {
                    locked_fill[j as usize] += 1;
                }
            }
        }
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
    fn the_canonical_optimum_is_the_same_from_every_optimum() {
        let (mut starts, mut moved) = (0, 0);
        for seed in 0..400 {
            let problem = tied_problem(seed, 2 + (seed % 5) as usize, 1 + (seed % 3) as usize);
            let solution = solve(&problem, &exact()).expect("solve");
            let big_m = solution.guarantee_bonus;
            let all = all_assignments(&problem);
            let best = all.iter().map(|a| value(&problem, a, big_m)).max().expect("one assignment");
            let mut answers = Vec::new();
            // Every optimum, with the solver's duals (they fit every optimum), as a start.
            for start in all.iter().filter(|a| value(&problem, a, big_m) == best) {
                let from = Solution { assignment: start.clone(), ..solution.clone() };
                let answer = canonical(&problem, &from).expect("canonical").0;
                assert_eq!(value(&problem, &answer, big_m), best, "seed {seed}: not optimal");
                moved += usize::from(&answer != start);
                starts += 1;
                answers.push(answer);
            }
            assert!(answers.windows(2).all(|w| w[0] == w[1]), "seed {seed}: {answers:?}");
            // The solver returns it too.
            assert_eq!(answers[0], solution.assignment, "seed {seed}");
        }
        assert!(moved > 100 && starts > 500, "{moved} of {starts} starts moved");
    }

    /// Larger tied problems (up to 80 candidates, places up to 6, guarantees up to 4) solved
    /// three ways: cold, cold on the schedule of record, and warm from random prices and a
    /// random start. The raw optima differ (the assertion on `raw_differ` below); the answers
    /// must not.
    #[test]
    fn every_solver_path_returns_the_same_assignment() {
        let mut raw_differ = 0;
        for seed in 0..600u64 {
            let (n, m) = (20 + (seed % 60) as usize, 3 + (seed % 9) as usize);
            let mut problem = tied_problem(seed * 13 + 5, n, m);
            let mut rng = crate::r#gen::rng::Rng::new(seed, 11);
            problem.capacity = (0..m).map(|_| 1 + (rng.unit() * 6.0) as u32).collect();
            problem.min_volume =
                (0..m).map(|j| ((rng.unit() * 5.0) as u32).min(problem.capacity[j])).collect();
            unlock_beyond_places(&mut problem);
            // Half with the night's small guarantee bonus, half with the safe one.
            let options = SolveOptions { guarantee_bonus: (seed % 2 == 0).then_some(5), ..exact() };
            let cold = solve(&problem, &options).expect("solve");
            let mut record = super::super::exact::solve_exact(
                &problem,
                &options,
                super::super::repair::WarmRepair::Auto,
                super::super::auction::Schedule::Record,
            )
            .expect("record");
            raw_differ += usize::from(record.assignment != cold.assignment);
            record.continuity_bonus = options.continuity_bonus;
            assert_eq!(canonical(&problem, &record).expect("canonical").0, cold.assignment, "seed {seed}");
            let prices: Vec<i64> = (0..m).map(|_| (rng.unit() * 4.0) as i64).collect();
            let start: Vec<Option<u32>> = (0..n)
                .map(|i| {
                    let row = problem.edges(i).0;
                    (!row.is_empty() && rng.unit() < 0.7)
                        .then(|| row[(rng.unit() * row.len() as f64) as usize])
                })
                .collect();
            let warm_options =
                SolveOptions { warm_start: Some(prices), warm_assignment: Some(start), ..options.clone() };
            let warm = solve(&problem, &warm_options).expect("warm");
            assert_eq!(warm.objective, cold.objective, "seed {seed}");
            assert_eq!(warm.assignment, cold.assignment, "seed {seed}");
            assert_eq!(warm.offer_prices, cold.offer_prices, "seed {seed}");
            assert_eq!(warm.guarantee_prices, cold.guarantee_prices, "seed {seed}");
            assert_eq!(record.offer_prices, cold.offer_prices, "seed {seed}");
        }
        assert!(raw_differ > 20, "{raw_differ} problems where the two schedules' raw optima differ");
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
