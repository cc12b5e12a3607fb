//! Warm re-solve by shortest augmenting paths from yesterday's exact duals.
//!
//! Yesterday's solution is optimal for yesterday's problem, and its integer duals (a price per
//! offer node, a profit per candidate) prove it. When few candidates changed, almost every
//! complementary-slackness condition still holds today; only a few are broken, and each can be
//! fixed by one Dijkstra search that stays local. This module does exactly that, on the
//! modified problem of `reduce` (locked candidates out, continuity bonus in, guaranteed places
//! as their own nodes), without components or scaling; the driver then turns its exact duals
//! into the least ones (`prices`), as it does every path's.
//!
//! Invariants kept between searches (all in original integer units):
//! * dual feasibility: `π_i ≥ 0`, `p_x ≥ 0`, `π_i + p_x ≥ w'_ix` on every useful edge;
//! * every assigned pair is tight (`π_i + p_x = w'_ix`), every unassigned settled person has
//!   `π_i = 0`.
//!
//! Two kinds of violation remain after seeding yesterday's assignment at yesterday's prices:
//! * a *free person* (a changed candidate, or one whose place is gone): a **forward search**
//!   from it over reduced costs `π_i + p_x − w'_ix` (to offers) and 0 (offer to its holders)
//!   ends at the cheapest way to place it: an offer with a free place, or some person on the
//!   path dropping to "unmatched" (cost `π`). Prices of the settled offers rise, profits of the
//!   settled persons fall by `D − d`, the path is shifted. No new violation appears.
//! * a *vacancy*: a free place at a positive price (the place a changed candidate left). A
//!   **reverse search** over the offers' in-edges finds the cheapest way to fill it (an
//!   unmatched person moves in, or a chain of moves ends at an offer whose price can fall to
//!   0), or drops its price to 0. Prices of the settled offers fall, profits rise.
//!
//! When both lists are empty the assignment and the duals satisfy complementary slackness:
//! optimal, with exact integer duals (gap 0, checked by `verify` like any other solution).
//!
//! This module must not be used for cold starts: without good duals the searches are global
//! (one Dijkstra per candidate). [`repair`] declines (returns `None`) when too much is broken
//! at the start or the searches exceed a work budget, and the caller falls back to the
//! auction, so the answer never depends on which path ran.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rayon::prelude::*;

use super::reduce::Reduced;
use super::{NONE, Problem};

/// Heap entry kinds, in tie-break order: at equal distance a terminal ends the search first.
const TERM_PERSON: u64 = 0;
const TERM_OFFER: u64 = 1;
const OFFER: u64 = 2;
const PERSON: u64 = 3;

/// The repair declines when more than `1 / DECLINE_FRACTION` of the candidates start broken:
/// that is no "night where few changed", and the auction handles it better.
const DECLINE_FRACTION: usize = 8;

/// Whether [`solve`](super::solve) may take the repair path for a warm start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WarmRepair {
    /// Repair when it looks local, else (or over budget) the auction.
    Auto,
    /// Always repair, whatever it costs (tests: the path must be exact on any input).
    #[cfg(test)]
    Always,
    /// Never repair (tests: the auction's own warm start).
    #[cfg(test)]
    Never,
}

/// Result in global indices: node (see `Reduced`) of every candidate, or [`NONE`] (locked
/// candidates too); exact price of every node; exact profit of every candidate.
pub(super) struct Repaired {
    pub assigned: Vec<u32>,
    pub price: Vec<i64>,
    pub profit: Vec<i64>,
    /// Searches run (forward and reverse).
    pub searches: u64,
}

/// Repairs yesterday's `start` assignment at yesterday's node prices `price` (non-negative,
/// one per node of `red`) into an optimum of `problem`; `None` when it declines (see module).
pub(super) fn repair(
    problem: &Problem,
    red: &Reduced,
    price: &[i64],
    start: &[Option<u32>],
    policy: WarmRepair,
) -> Option<Repaired> {
    let n = problem.n_candidates;
    #[cfg(test)]
    if policy == WarmRepair::Never {
        return None;
    }
    let auto = policy == WarmRepair::Auto;
    if price.len() != red.n_nodes() || start.len() != n || price.iter().any(|&p| p < 0) {
        return None;
    }
    // Prices come from outside (yesterday's run files): above every weight a price only
    // means "nobody wants it", and capping it there keeps every sum far from overflow.
    let cap = (2 * super::MAX_WEIGHT).saturating_add(red.big_m);
    let mut r = Repair::new(problem, red, price.iter().map(|&p| p.min(cap)).collect());
    let free = r.seed(start);
    let vacant: usize =
        (0..red.n_nodes()).filter(|&x| r.price[x] > 0).map(|x| (red.cap[x] - r.held[x]) as usize).sum();
    if auto && (free.len() + vacant) * DECLINE_FRACTION > n {
        return None;
    }
    // Enough for a local repair; a search that wanders through the whole graph means the
    // duals were not close, and the auction is faster then. Forced repairs get a budget too,
    // so that a defect shows as a declined repair, not as a hang.
    let scale = if auto { 2 } else { 1000 };
    r.budget = scale * (problem.n_edges() as u64 + 32 * n as u64);
    if !free.iter().all(|&i| r.forward(i as usize)) {
        return None;
    }
    if (0..red.n_nodes()).any(|x| r.is_vacant(x)) {
        r.build_in_edges(None)?;
        for x in 0..red.n_nodes() {
            while r.is_vacant(x) {
                match r.reverse(x) {
                    Fill::Done => {}
                    Fill::OverBudget => return None,
                    // Nothing was changed: rebuild with a limit the search is known to need.
                    Fill::NeedsSlack(limit) => r.build_in_edges(Some(limit))?,
                }
            }
        }
    }
    Some(Repaired { assigned: r.assigned, price: r.price, profit: r.profit, searches: r.searches })
}

/// Offer-major copy of the unlocked candidates' edges (original offers) whose reduced cost
/// was below `limit` when it was built, each packed into one `u64`: the weight with the
/// continuity bonus in the high bits, the person in the low `shift` bits.
///
/// Why the limit: a full copy (12 M edges on the peers' national shape) costs more than all
/// the searches together, and almost all of it is never useful: reverse searches end at
/// small distances (median 21, maximum 961 weight units on the geo 200k night with 1%
/// changed) while the median reduced cost of an edge is 3,161. An edge left out is only
/// needed by a search that settles a node `v` at `d` with `d + limit − fall_v < D` (`fall_v`
/// = how far `v`'s price fell since the build, the most its edges' reduced costs can have
/// fallen); every search checks that before it changes anything and asks for a rebuild with
/// a larger limit otherwise. So the result is exact whatever the limit.
struct InEdges {
    off: Vec<usize>,
    packed: Vec<u64>,
    shift: u32,
    limit: i64,
}

/// Outcome of one reverse search.
enum Fill {
    Done,
    OverBudget,
    /// The in-edges left out an edge this search may need; rebuild with this limit.
    NeedsSlack(i64),
}

/// The in-edges first keep about this fraction of the edges (by reduced cost).
const IN_EDGE_FRACTION: f64 = 0.08;

impl InEdges {
    /// Builds the in-edges whose reduced cost (at `profit` and `price`, for the regular or
    /// the guaranteed node of the offer) is below `limit`; `None` when a weight does not fit
    /// beside the person index.
    fn build(p: &Problem, red: &Reduced, profit: &[i64], price: &[i64], limit: i64) -> Option<Self> {
        let m = p.n_offers();
        let shift = usize::BITS - p.n_candidates.leading_zeros();
        // Weights with the bonus reach 2^41; beyond 2^22 candidates they may not fit.
        let wide = 1i64 << (62 - shift.min(62));
        let unlocked = |i: &usize| !p.is_locked(*i);
        let keep = |i: usize, j: u32, w: i64| {
            let j = j as usize;
            if profit[i] + price[j] - w < limit {
                return true;
            }
            let g = red.guarantee_node[j];
            g != NONE && profit[i] + price[g as usize] - (w + red.big_m) < limit
        };
        let mut off = vec![0usize; m + 1];
        let mut packed;
        if limit == i64::MAX {
            // Everything: count, then scatter (no staging copy of 12 M edges).
            for i in (0..p.n_candidates).filter(unlocked) {
                for &j in p.edges(i).0 {
                    off[j as usize + 1] += 1;
                }
            }
            for j in 0..m {
                off[j + 1] += off[j];
            }
            let mut fill = off.clone();
            packed = vec![0u64; off[m]];
            for i in (0..p.n_candidates).filter(unlocked) {
                let cur = p.current_of(i).unwrap_or(NONE);
                let (offs, ws) = p.edges(i);
                for (&j, &w) in offs.iter().zip(ws) {
                    let w = if j == cur { w + red.bonus } else { w };
                    if !(-wide..wide).contains(&w) {
                        return None;
                    }
                    let f = &mut fill[j as usize];
                    packed[*f] = ((w << shift) as u64) | i as u64;
                    *f += 1;
                }
            }
        } else {
            // A few percent: one pass over the edges stages the kept ones, then they scatter.
            let mut kept: Vec<(u32, u64)> = Vec::new();
            for i in (0..p.n_candidates).filter(unlocked) {
                let cur = p.current_of(i).unwrap_or(NONE);
                let (offs, ws) = p.edges(i);
                for (&j, &w) in offs.iter().zip(ws) {
                    let w = if j == cur { w + red.bonus } else { w };
                    if keep(i, j, w) {
                        if !(-wide..wide).contains(&w) {
                            return None;
                        }
                        off[j as usize + 1] += 1;
                        kept.push((j, ((w << shift) as u64) | i as u64));
                    }
                }
            }
            for j in 0..m {
                off[j + 1] += off[j];
            }
            let mut fill = off.clone();
            packed = vec![0u64; off[m]];
            for (j, v) in kept {
                let f = &mut fill[j as usize];
                packed[*f] = v;
                *f += 1;
            }
        }
        Some(InEdges { off, packed, shift, limit })
    }

    #[inline]
    fn unpack(&self, k: usize) -> (usize, i64) {
        let v = self.packed[k];
        ((v & ((1u64 << self.shift) - 1)) as usize, (v as i64) >> self.shift)
    }
}

/// Dijkstra labels of one side (persons or nodes), valid where `seen` holds the current
/// search's stamp (so nothing is cleared between searches).
struct Labels {
    dist: Vec<i64>,
    seen: Vec<u32>,
    /// Settled in the search with this stamp.
    done: Vec<u32>,
    from: Vec<u32>,
}

impl Labels {
    fn new(len: usize) -> Self {
        Labels { dist: vec![0; len], seen: vec![0; len], done: vec![0; len], from: vec![NONE; len] }
    }

    /// Records `d` (reached from `from`) when `k` is unsettled and this is shorter.
    #[inline]
    fn improve(&mut self, k: usize, d: i64, from: u32, stamp: u32) -> bool {
        if self.done[k] == stamp || (self.seen[k] == stamp && d >= self.dist[k]) {
            return false;
        }
        self.seen[k] = stamp;
        self.dist[k] = d;
        self.from[k] = from;
        true
    }
}

enum Terminal {
    Person(usize),
    Offer(usize),
}

struct Repair<'a> {
    problem: &'a Problem,
    red: &'a Reduced,
    price: Vec<i64>,
    profit: Vec<i64>,
    assigned: Vec<u32>,
    /// Holders of every node: `holder[slot_start[x]..slot_start[x] + held[x]]`, unordered.
    slot_start: Vec<usize>,
    holder: Vec<u32>,
    held: Vec<u32>,
    /// Position of every assigned person among its node's holders.
    pos: Vec<u32>,
    /// Forward searches: a lower bound on the slack of every assigned person's edges other
    /// than its own. A person reached at `d` with `d + gap ≥ bound` cannot improve the search,
    /// so its edges are not read (they are the search's cache misses). Only forward searches
    /// keep it valid: prices only rise there, and a settled person's profit falls by
    /// `D − d`, which is subtracted.
    gap: Vec<i64>,
    in_edges: Option<InEdges>,
    /// How far every node's price fell since the in-edges were built.
    fall: Vec<i64>,
    /// Sorted sample of the edges' reduced costs at the first build: how much a limit keeps.
    sample: Vec<i64>,
    // Search scratch, valid where the stamp matches the current search.
    stamp: u32,
    /// Labels of the persons; `from`: (reverse searches) the node each would move into.
    person: Labels,
    /// Labels of the nodes; `from`: the person through whom each was reached.
    node: Labels,
    settled_p: Vec<u32>,
    settled_x: Vec<u32>,
    heap: BinaryHeap<Reverse<(i64, u64)>>,
    /// Smallest terminal value queued in this search: nothing at or beyond it can be settled
    /// before the search ends, so it is not queued at all.
    bound: i64,
    work: u64,
    budget: u64,
    searches: u64,
}

impl<'a> Repair<'a> {
    fn new(problem: &'a Problem, red: &'a Reduced, price: Vec<i64>) -> Self {
        let n = problem.n_candidates;
        let nodes = red.n_nodes();
        let mut slot_start = vec![0usize; nodes + 1];
        for x in 0..nodes {
            slot_start[x + 1] = slot_start[x] + red.cap[x] as usize;
        }
        Repair {
            problem,
            red,
            price,
            profit: vec![0; n],
            assigned: vec![NONE; n],
            holder: vec![NONE; slot_start[nodes]],
            slot_start,
            held: vec![0; nodes],
            pos: vec![0; n],
            gap: vec![0; n],
            in_edges: None,
            fall: vec![0; nodes],
            sample: Vec::new(),
            stamp: 0,
            person: Labels::new(n),
            node: Labels::new(nodes),
            settled_p: Vec::new(),
            settled_x: Vec::new(),
            heap: BinaryHeap::new(),
            bound: i64::MAX,
            work: 0,
            budget: u64::MAX,
            searches: 0,
        }
    }

    fn is_vacant(&self, x: usize) -> bool {
        self.held[x] < self.red.cap[x] && self.price[x] > 0
    }

    /// Puts every candidate whose previous node is still tight (its best value at today's
    /// prices) back there while places last, sets every profit to the best value, and returns
    /// the candidates that must search: unplaced ones that want something.
    fn seed(&mut self, start: &[Option<u32>]) -> Vec<u32> {
        let (problem, red, price) = (self.problem, self.red, &self.price);
        let m = problem.n_offers();
        // Best and second-best value and the tight one of the previous offer's nodes
        // (guaranteed first), in parallel: it is one pass over every edge.
        let scanned: Vec<(i64, i64, [u32; 2])> = (0..problem.n_candidates)
            .into_par_iter()
            .map(|i| {
                let (j, g) = match start[i].filter(|&j| (j as usize) < m) {
                    Some(j) => (j, red.guarantee_node[j as usize]),
                    None => (NONE, NONE),
                };
                let (mut top, mut second) = (i64::MIN, i64::MIN);
                let (mut at_j, mut at_g) = (i64::MIN, i64::MIN);
                red.for_each_edge(problem, i, |x, w| {
                    let v = w - price[x as usize];
                    if v > top {
                        second = top;
                        top = v;
                    } else if v > second {
                        second = v;
                    }
                    if x == j {
                        at_j = v;
                    } else if x == g {
                        at_g = v;
                    }
                });
                let best = top.max(0);
                // Both nodes of the offer, guaranteed first, where the edge is tight.
                let tight = [if at_g == best { g } else { NONE }, if at_j == best { j } else { NONE }];
                (best, second, tight)
            })
            .collect();
        let mut free = Vec::new();
        for (i, &(best, second, tight)) in scanned.iter().enumerate() {
            self.profit[i] = best;
            // The guaranteed part may be full while the regular one is not (yesterday the
            // candidate held a regular place): take whichever tight node has room.
            let room = tight.into_iter().find(|&x| x != NONE && self.held[x as usize] < red.cap[x as usize]);
            if let Some(x) = room {
                self.assign(i, x as usize);
                // Held at its best value, so every other edge has slack ≥ best − second.
                self.gap[i] = if second == i64::MIN { i64::MAX } else { best - second };
            } else if best > 0 {
                free.push(i as u32);
            }
        }
        free
    }

    fn assign(&mut self, i: usize, x: usize) {
        let k = self.held[x] as usize;
        self.holder[self.slot_start[x] + k] = i as u32;
        self.pos[i] = k as u32;
        self.held[x] += 1;
        self.assigned[i] = x as u32;
    }

    fn unassign(&mut self, i: usize) {
        let x = self.assigned[i] as usize;
        let s = self.slot_start[x];
        let last = self.held[x] as usize - 1;
        let k = self.pos[i] as usize;
        let moved = self.holder[s + last];
        self.holder[s + k] = moved;
        self.pos[moved as usize] = k as u32;
        self.held[x] -= 1;
        self.assigned[i] = NONE;
    }

    fn begin(&mut self) {
        self.stamp += 1;
        self.searches += 1;
        self.heap.clear();
        self.bound = i64::MAX;
        self.settled_p.clear();
        self.settled_x.clear();
    }

    #[inline]
    fn reach_person(&mut self, i: usize, d: i64, from: u32) {
        if d < self.bound && self.person.improve(i, d, from, self.stamp) {
            self.heap.push(Reverse((d, (PERSON << 32) | i as u64)));
        }
    }

    #[inline]
    fn reach_node(&mut self, x: usize, d: i64, from: u32) {
        if d < self.bound && self.node.improve(x, d, from, self.stamp) {
            self.heap.push(Reverse((d, (OFFER << 32) | x as u64)));
        }
    }

    /// Queues the terminal `kind` of `v` at `d`.
    #[inline]
    fn terminal(&mut self, d: i64, kind: u64, v: usize) {
        if d < self.bound {
            self.bound = d;
            self.heap.push(Reverse((d, (kind << 32) | v as u64)));
        }
    }

    /// Pops the next live entry: (distance, kind, index); `None` when the heap ran dry.
    #[inline]
    fn pop(&mut self) -> Option<(i64, u64, usize)> {
        while let Some(Reverse((d, key))) = self.heap.pop() {
            let (kind, v) = (key >> 32, (key & 0xFFFF_FFFF) as usize);
            let live = match kind {
                PERSON => self.person.done[v] != self.stamp && d == self.person.dist[v],
                OFFER => self.node.done[v] != self.stamp && d == self.node.dist[v],
                _ => true,
            };
            if live {
                match kind {
                    PERSON => {
                        self.person.done[v] = self.stamp;
                        self.settled_p.push(v as u32);
                    }
                    OFFER => {
                        self.node.done[v] = self.stamp;
                        self.settled_x.push(v as u32);
                    }
                    _ => {}
                }
                return Some((d, kind, v));
            }
        }
        None
    }

    /// Places free person `i0` along a shortest augmenting path. `false` when over budget.
    #[inline(never)]
    fn forward(&mut self, i0: usize) -> bool {
        self.begin();
        let (problem, red) = (self.problem, self.red);
        // Prices only rose since the seeding scan: recompute the profit, so the search starts
        // from the person's true best value.
        let mut best = 0i64;
        red.for_each_edge(problem, i0, |x, w| best = best.max(w - self.price[x as usize]));
        self.profit[i0] = best;
        self.reach_person(i0, 0, NONE);
        let (big_d, terminal) = loop {
            let Some((d, kind, v)) = self.pop() else {
                // Unreachable: the source's own "stay unmatched" terminal is always queued.
                return false;
            };
            match kind {
                TERM_PERSON => break (d, Terminal::Person(v)),
                OFFER => {
                    if self.held[v] < red.cap[v] {
                        break (d, Terminal::Offer(v));
                    }
                    let s = self.slot_start[v];
                    for k in s..s + self.held[v] as usize {
                        let h = self.holder[k] as usize;
                        self.reach_person(h, d, NONE);
                    }
                }
                PERSON => {
                    let pi = self.profit[v];
                    self.terminal(d + pi, TERM_PERSON, v);
                    if v != i0 && d.saturating_add(self.gap[v]) >= self.bound {
                        continue;
                    }
                    let own = self.assigned[v];
                    let mut work = 0u64;
                    red.for_each_edge(problem, v, |x, w| {
                        work += 1;
                        if x != own {
                            let reduced = pi + self.price[x as usize] - w;
                            debug_assert!(reduced >= 0, "dual infeasible at ({v}, {x}): {reduced}");
                            let x = x as usize;
                            let nd = d + reduced;
                            self.reach_node(x, nd, v as u32);
                            if self.held[x] < red.cap[x]
                                && self.node.seen[x] == self.stamp
                                && self.node.dist[x] == nd
                            {
                                // Reaching a free place ends the search at `nd` at the latest.
                                self.bound = self.bound.min(nd + 1);
                            }
                        }
                    });
                    self.work += work;
                }
                _ => unreachable!("forward searches queue no offer terminals"),
            }
            if self.work > self.budget {
                return false;
            }
        };
        for k in 0..self.settled_p.len() {
            let i = self.settled_p[k] as usize;
            let fall = big_d - self.person.dist[i];
            self.profit[i] -= fall;
            self.gap[i] = (self.gap[i] - fall).max(0);
        }
        for k in 0..self.settled_x.len() {
            let x = self.settled_x[k] as usize;
            self.price[x] += big_d - self.node.dist[x];
        }
        let mut x = match terminal {
            Terminal::Offer(x) => x,
            Terminal::Person(v) if v == i0 => return true,
            Terminal::Person(v) => {
                let y = self.assigned[v] as usize;
                self.unassign(v);
                y
            }
        };
        loop {
            let i = self.node.from[x] as usize;
            let old = self.assigned[i];
            if old != NONE {
                self.unassign(i);
            }
            self.assign(i, x);
            // Its previous node (if any) is as tight as the new one now.
            self.gap[i] = 0;
            if i == i0 {
                return true;
            }
            x = old as usize;
        }
    }

    /// (Re)builds the in-edges at today's duals. The first build keeps about
    /// [`IN_EDGE_FRACTION`] of a sample of the edges; a rebuild asked for `needed` keeps
    /// everything once that would be a large share anyway (then it is the last one).
    fn build_in_edges(&mut self, needed: Option<i64>) -> Option<()> {
        let (p, red) = (self.problem, self.red);
        if needed.is_none() {
            self.sample.clear();
            for i in (0..p.n_candidates).step_by(16) {
                red.for_each_edge(p, i, |x, w| self.sample.push(self.profit[i] + self.price[x as usize] - w));
            }
            self.sample.sort_unstable();
        }
        let share =
            |limit: i64| self.sample.partition_point(|&s| s < limit) as f64 / self.sample.len() as f64;
        let limit = match needed {
            _ if self.sample.is_empty() => i64::MAX,
            None => {
                let k = ((self.sample.len() as f64 * IN_EDGE_FRACTION) as usize).min(self.sample.len() - 1);
                self.sample[k].saturating_add(1).max(1)
            }
            Some(limit) if share(limit) > 0.4 => i64::MAX,
            Some(limit) => limit,
        };
        self.in_edges = Some(InEdges::build(p, red, &self.profit, &self.price, limit)?);
        self.fall.fill(0);
        Some(())
    }

    /// Fills one vacant place of node `x0` along a shortest path, or drops its price to 0.
    #[inline(never)]
    fn reverse(&mut self, x0: usize) -> Fill {
        self.begin();
        let (problem, red) = (self.problem, self.red);
        let Some(ins) = self.in_edges.take() else {
            return Fill::OverBudget; // unreachable: built before any reverse search
        };
        let m = problem.n_offers();
        self.reach_node(x0, 0, NONE);
        let found = loop {
            let Some((d, kind, v)) = self.pop() else {
                break None; // unreachable: x0's own price drop is always queued
            };
            match kind {
                TERM_OFFER => break Some((d, Terminal::Offer(v))),
                OFFER => {
                    let p = self.price[v];
                    self.terminal(d + p, TERM_OFFER, v);
                    // Holders first, from the holder list: the in-edges may leave them out
                    // (after a rebuild), and their profits must rise with this price's fall.
                    let s0 = self.slot_start[v];
                    for k in s0..s0 + self.held[v] as usize {
                        let h = self.holder[k] as usize;
                        self.reach_person(h, d, v as u32);
                    }
                    let (j, extra) =
                        if v < m { (v, 0) } else { (red.guarantee_offer[v - m] as usize, red.big_m) };
                    let range = ins.off[j]..ins.off[j + 1];
                    self.work += range.len() as u64;
                    for k in range {
                        let (i, w) = ins.unpack(k);
                        // The same useful-edge rule as `Reduced::for_each_edge`.
                        if v < m && w < 0 {
                            continue;
                        }
                        let w = w + extra;
                        if v >= m && w <= 0 {
                            continue;
                        }
                        let reduced = self.profit[i] + p - w;
                        debug_assert!(reduced >= 0, "dual infeasible at ({i}, {v}): {reduced}");
                        self.reach_person(i, d + reduced, v as u32);
                        if self.assigned[i] == NONE
                            && self.person.seen[i] == self.stamp
                            && self.person.dist[i] == d + reduced
                        {
                            self.bound = self.bound.min(d + reduced + 1);
                        }
                    }
                }
                PERSON => {
                    let y = self.assigned[v];
                    if y == NONE {
                        debug_assert_eq!(self.profit[v], 0, "unmatched person {v} with a profit");
                        break Some((d, Terminal::Person(v)));
                    }
                    self.reach_node(y as usize, d, v as u32);
                }
                _ => unreachable!("reverse searches queue no person terminals"),
            }
            if self.work > self.budget {
                break None;
            }
        };
        let limit = ins.limit;
        self.in_edges = Some(ins);
        let Some((big_d, terminal)) = found else {
            return Fill::OverBudget;
        };
        // Exact only if no edge left out of the in-edges could have reached below `big_d`.
        let mut needed = i64::MIN;
        for &x in &self.settled_x {
            let x = x as usize;
            if self.node.dist[x].saturating_add(limit).saturating_sub(self.fall[x]) < big_d {
                needed = needed.max(big_d - self.node.dist[x]);
            }
        }
        if needed > i64::MIN {
            // After a rebuild `fall` is 0 and the search can only get shorter, so a limit
            // above `big_d` is enough; doubling keeps the number of rebuilds logarithmic.
            return Fill::NeedsSlack(limit.saturating_mul(2).max(needed + 1).max(big_d + 1));
        }
        for k in 0..self.settled_p.len() {
            let i = self.settled_p[k] as usize;
            self.profit[i] += big_d - self.person.dist[i];
        }
        for k in 0..self.settled_x.len() {
            let x = self.settled_x[k] as usize;
            self.price[x] -= big_d - self.node.dist[x];
            self.fall[x] += big_d - self.node.dist[x];
        }
        // The chain of moves, from the terminal towards x0; applied from x0's end, where the
        // vacant place is, so no node ever holds more than its capacity.
        let mut chain = Vec::new();
        let mut i = match terminal {
            Terminal::Person(i) => i,
            Terminal::Offer(y) if y == x0 => return Fill::Done,
            Terminal::Offer(y) => self.node.from[y] as usize,
        };
        loop {
            chain.push(i as u32);
            let x = self.person.from[i] as usize;
            if x == x0 {
                break;
            }
            i = self.node.from[x] as usize;
        }
        for &i in chain.iter().rev() {
            let i = i as usize;
            if self.assigned[i] != NONE {
                self.unassign(i);
            }
            let x = self.person.from[i] as usize;
            self.assign(i, x);
        }
        Fill::Done
    }
}
