//! Weighted capacitated bipartite assignment: candidates (capacity 1) × offers (integer
//! capacity), maximise the total integer weight; candidates may stay unmatched.
//!
//! # Algorithm choice
//!
//! [`Mode::Exact`] is an **ε-scaling forward auction with a reverse repair and an exact dual
//! finish** (Bertsekas' auction for the asymmetric assignment problem, offers treated as
//! `capacity` similar objects):
//!
//! * Weights are multiplied by `S = max(n, m + 1) + 1` (per connected component), so that
//!   ε-complementary slackness with ε = 1 in scaled units (< 1/n in original units) implies an
//!   optimal assignment for integer weights. Phases divide ε by a constant until ε = 1.
//! * Each person bids for its best offer, paying `entry + (v1 − v2) + ε`; "stay unmatched" is a
//!   private dummy object of value 0 that is never bid up. Offers hold their bidders in a
//!   min-heap of slot prices, so an offer with spare capacity is one bid and one sift. Within
//!   a phase prices only rise, so every person caches its 4 best edges and a bound on the rest
//!   (one cache line): most bids read 4 prices instead of `K` edges.
//! * **The asymmetric subtlety.** ε-CS alone does not make the forward auction optimal when
//!   offers keep spare capacity at a positive price (inherited from an earlier phase or from a
//!   warm start). A *reverse auction* lowers every such offer: it pulls in the best outside
//!   candidates at the `(free + 1)`-th best reverse bid, or drops its price to 0. It keeps
//!   ε-CS and ends with "spare capacity ⇒ price 0". It runs after every phase but a cold
//!   start's first two: deferred to small ε it degenerates into a long "reverse price war"
//!   (measured: 1.9 M steps, 4.7 s instead of 0.015 s on the demo night with guaranteed places).
//!   Its price cuts are patched into the bidders' cached bounds rather than rescanning all.
//! * **Exact integer duals, the least ones.** Auction prices are fractional in original units.
//!   After the last phase they are turned into exact integer duals by one Dijkstra run on the
//!   offer graph (`prices`: difference constraints `p_x ≥ p_y + w_kx − w_ky` for every holder
//!   `k` of `y`, over the holders' own rows), with the auction prices as potentials: ε-CS makes
//!   every reduced arc cost non-negative after adding 1 per arc, and `S` exceeds the number of
//!   hops, so the lexicographic key finds the true shortest paths. The result is the *least*
//!   optimal duals: unique, so every path (the dense path, the warm repair) ends with the same
//!   prices after the same pass from its own exact duals, and equal to what one more place adds
//!   to the optimum. Duality gap exactly 0, which [`verify`] checks independently.
//! * **Canonical optimum.** Which of several equally good assignments the auction reaches
//!   depends on its path (first ε, warm start). The solve ends by choosing the one the problem
//!   alone fixes (`face::canonical`): the face of optimal assignments is found from the exact
//!   duals (one strongly-connected-component search over the tight arcs), the candidates it
//!   settles keep their offer, and the open ones (0.3 % on the national night) are placed by
//!   a second exact solve of the open part, always on the schedule of record
//!   (`auction::Schedule::Record`), preferring offers earlier in each candidate's row. The
//!   first solve is then free to take the faster schedule (`Schedule::Fast`), and its long
//!   phases to bid on every thread at once, in an order that depends on timing (`bids`).
//! * **Warm start** ([`SolveOptions::warm_start`] with [`SolveOptions::warm_assignment`]):
//!   a night where few candidates changed is *repaired* rather than re-solved (`repair`):
//!   yesterday's assignment is kept wherever it is still tight at yesterday's exact integer
//!   prices, and each broken condition is fixed by one Dijkstra search over reduced costs
//!   (successive shortest paths with yesterday's duals as potentials): a forward search per
//!   changed candidate, a reverse search per place left vacant at a positive price. Every
//!   unchanged candidate sits at reduced cost 0, so the searches stay local (about 2,600
//!   searches and 0.3 s on the geo 200k night with 1 % changed, instead of 3.4 s cold). The
//!   duals come out exact, with no scaling and no dual pass. When too much is broken at the
//!   start (more than 1/8 of the candidates) or the searches exceed a work budget, it declines
//!   and the auction runs instead: the scaling then starts at ε = 16 original units from
//!   yesterday's prices and assignment, phases keep the assignment (a holder paying more than
//!   it must has its price lowered, never below the offer's cheapest place; only real ε-CS
//!   violators rebid), and unassigned persons whose best offer has a free place take it at
//!   its current price, preferring their current offer among ties.
//!
//! **Dense components** go to Jonker–Volgenant shortest augmenting paths instead (`dense`):
//! column reduction, two passes of augmenting row reduction, then one Dijkstra per remaining
//! free row on a row-major weight matrix (the input's own weight array when it already lists
//! every candidate's offers in order; copied, or transposed to keep rows ≤ columns,
//! otherwise). It is taken when a component is complete (every person has an edge to every
//! offer node), every offer node has one place and weights are in `0..=2^50`. Then some
//! maximum-weight matching saturates the smaller side, so the perfect rectangular assignment
//! is the max-weight (not necessarily perfect) optimum, and its duals are exact integers with
//! no scaling: free columns keep price 0 (prices start at 0 and rise only on assigned
//! columns), and a square solve subtracts the smallest price from every price and adds it to
//! every profit. On complete components the auction has nothing to exploit: its bids read all
//! `m` edges, ties (weights 0..1000 over 2,000 offers) make long bidding wars, and it needs an
//! offer-major copy; JV's augmentations are few and scan contiguous rows (measured on
//! 2,000 × 2,000: 0.1 s instead of 0.37 s, see `docs/solver.md`). A complete input also skips
//! the union-find (one component by definition). Sparse or capacitated components stay with
//! the auction: there, shortest paths would explore far more (next paragraph).
//!
//! Why not the alternatives for a cold solve: successive shortest paths spend one Dijkstra
//! per augmentation, which on the national shape (hundreds of thousands of augmentations
//! through crowded towns, from prices of 0) explores far too much (from yesterday's exact
//! prices it is the other way round, hence the warm repair); cost-scaling push-relabel and network simplex are what OR-Tools and
//! LEMON already do, so they would at best tie. The auction, on the other hand, has tiny
//! sequential bids that touch only one candidate's adjacency (`K` edges), restarts naturally
//! from yesterday's prices (warm start = start the scaling at a small ε), and decomposes over
//! connected components, which are solved in parallel with rayon.
//!
//! Parallelism and determinism: components are solved concurrently with rayon; inside a
//! component the full rescans after prices fell run in parallel (they only read prices) and
//! the offer-major copy used by the reverse repair is built on another worker while the
//! coarse phases run. The bidding itself is sequential (Gauss–Seidel, FIFO queue, ties to the
//! lowest index), components are independent, and results are merged by index, so the output
//! is identical for every thread count. (Parallel Jacobi bidding inside one component is not
//! implemented: on the 2-core test machine the measured gain of 2 threads is small.)
//!
//! # Side constraints
//!
//! * **Locked** candidates are removed and their offer's capacity is reduced before solving.
//! * **Continuity**: `continuity_bonus` is added to the weight of the edge to the candidate's
//!   current offer.
//! * **Minimum volume**: offer `j` with residual lower bound `L'_j = min_volume_j − locked_j` is
//!   split into a *guaranteed* part (capacity `L'_j`, every edge weight + `M`) and a regular
//!   part (capacity `capacity_j − locked_j − L'_j`). `M = 1 + 2·Σ_i max_j |w'_ij|` is larger
//!   than any weight difference, so the optimum first fills as many guaranteed places as
//!   possible (all of them when the bounds are feasible) and then maximises weight. What is
//!   proven by the certificate is optimality for this modified problem; see [`verify`].
//!
//! [`Mode::Stable`] is candidate-proposing deferred acceptance; [`Mode::Greedy`] takes the
//! heaviest edges first. Both are baselines: they fill no duals.

// Struct-of-arrays code walks several arrays with one index; iterator zips would hide that.
#![allow(clippy::needless_range_loop)]

mod auction;
mod bids;
mod dense;
mod exact;
mod face;
mod format;
mod greedy;
mod prices;
mod reduce;
mod repair;
mod stable;
#[cfg(test)]
mod tests;
mod verify;

use crate::error::{Error, Result};
use rayon::prelude::*;

pub use face::{Face, face};
pub use format::{parse_instance, read_instance, read_instance_sized, write_instance};
pub use stable::{blocking_pairs, blocking_pairs_each};
pub use verify::{Certificate, verify};

/// The bonus per filled guaranteed place that makes [`solve`] fill as many guaranteed places
/// as possible whatever the weights: `1 + 2·Σ_i max_j |w_ij|` (with the continuity bonus).
///
/// # Errors
/// [`Error::Problem`] when it would overflow.
pub fn safe_guarantee_bonus(problem: &Problem, continuity_bonus: i64) -> Result<i64> {
    let (_, lower) = reduce::residual(problem);
    reduce::guarantee_bonus(problem, continuity_bonus, &lower)
}

/// Marker for "no offer" in internal `u32` arrays.
pub(crate) const NONE: u32 = u32::MAX;

/// A sparse bipartite assignment problem. Candidates have capacity 1, offers `capacity[j]`.
///
/// Edges are stored in CSR form: the edges of candidate `i` are
/// `offers[offsets[i]..offsets[i + 1]]` with weights `weights[..]` at the same positions.
/// Build it with [`Problem::new`] and the `with_*` methods, or fill the fields and call
/// [`Problem::validate`] ([`solve`] validates again anyway).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Problem {
    /// Number of candidates (left nodes).
    pub n_candidates: usize,
    /// Capacity of every offer; its length is the number of offers.
    pub capacity: Vec<u32>,
    /// CSR offsets, `n_candidates + 1` entries, starting at 0, non-decreasing.
    pub offsets: Vec<usize>,
    /// Offer index of every edge (`< capacity.len()`), at most one edge per pair.
    pub offers: Vec<u32>,
    /// Integer weight of every edge (higher is better). `|w| ≤ MAX_WEIGHT`.
    pub weights: Vec<i64>,
    /// Current offer of every candidate (empty = nobody has one).
    pub current: Vec<Option<u32>>,
    /// Per candidate: its current offer is locked (a course under way). Empty = no locks.
    /// A locked pair must be an edge of the graph.
    pub locked: Vec<bool>,
    /// Guaranteed minimum number of candidates per offer, locked ones included (empty = none).
    pub min_volume: Vec<u32>,
}

/// Largest accepted absolute edge weight (and continuity bonus): 2^40 ≈ 1.1·10^12, so that
/// scaled weights and sums stay far from `i64` overflow; larger weights are refused.
pub const MAX_WEIGHT: i64 = 1 << 40;

impl Problem {
    /// Builds and validates a problem without current offers, locks or minimum volumes.
    ///
    /// # Errors
    /// [`Error::Problem`] when the CSR arrays are inconsistent, an index is out of range, a
    /// pair is repeated or a weight exceeds [`MAX_WEIGHT`].
    pub fn new(
        n_candidates: usize,
        capacity: Vec<u32>,
        offsets: Vec<usize>,
        offers: Vec<u32>,
        weights: Vec<i64>,
    ) -> Result<Self> {
        let p = Problem { n_candidates, capacity, offsets, offers, weights, ..Problem::default() };
        p.validate()?;
        Ok(p)
    }

    /// Number of offers.
    pub fn n_offers(&self) -> usize {
        self.capacity.len()
    }

    /// Number of edges.
    pub fn n_edges(&self) -> usize {
        self.offers.len()
    }

    /// The offers and weights of candidate `i`.
    ///
    /// # Panics
    /// When `i >= n_candidates` or the CSR arrays are invalid (call [`Problem::validate`]).
    pub fn edges(&self, i: usize) -> (&[u32], &[i64]) {
        let r = self.offsets[i]..self.offsets[i + 1];
        (&self.offers[r.clone()], &self.weights[r])
    }

    /// Current offer of candidate `i`, if any.
    pub fn current_of(&self, i: usize) -> Option<u32> {
        self.current.get(i).copied().flatten()
    }

    /// Whether candidate `i` is locked to its current offer.
    pub fn is_locked(&self, i: usize) -> bool {
        self.locked.get(i).copied().unwrap_or(false)
    }

    /// Minimum volume of offer `j` (0 when none is set).
    pub fn min_volume_of(&self, j: usize) -> u32 {
        self.min_volume.get(j).copied().unwrap_or(0)
    }

    /// Checks every invariant listed on the fields.
    ///
    /// # Errors
    /// [`Error::Problem`] naming the first offending candidate, offer or edge: inconsistent CSR
    /// arrays, an offer index out of range, a repeated pair, a weight beyond [`MAX_WEIGHT`], a
    /// lock without a current offer or whose pair is no edge, more locks on an offer than its
    /// capacity, a minimum volume above the capacity.
    ///
    /// # Complexity
    /// `O(n + m + E)` time, `O(m)` extra memory.
    pub fn validate(&self) -> Result<()> {
        let n = self.n_candidates;
        let m = self.n_offers();
        let bad = |s: String| Err(Error::Problem(s));
        // Candidates, offers and guaranteed-place nodes share one `u32` index space inside.
        if (n as u64) + 2 * (m as u64) >= u64::from(NONE) {
            return bad(format!("{n} candidates and {m} offers: n + 2m must stay below {NONE}"));
        }
        if self.offers.len() >= NONE as usize {
            return bad(format!("{} edges: at most {} are supported", self.offers.len(), NONE - 1));
        }
        if self.offsets.len() != n + 1 {
            return bad(format!(
                "offsets has {} entries, expected n_candidates + 1 = {}",
                self.offsets.len(),
                n + 1
            ));
        }
        if self.offsets[0] != 0 {
            return bad(format!("offsets[0] = {}, expected 0", self.offsets[0]));
        }
        if self.offers.len() != self.weights.len() {
            return bad(format!("{} offers but {} weights", self.offers.len(), self.weights.len()));
        }
        if self.offsets[n] != self.offers.len() {
            return bad(format!(
                "offsets[{n}] = {} but there are {} edges",
                self.offsets[n],
                self.offers.len()
            ));
        }
        for i in 0..n {
            if self.offsets[i] > self.offsets[i + 1] {
                return bad(format!("offsets decrease at candidate {i}"));
            }
        }
        // The edges a block of rows at a time on the caller's threads: a national night checks
        // its 14 M edges in each solve, each certificate and each count of blocking pairs, one
        // of them on the critical path after the solve. `find_map_first` names the first bad
        // row in candidate order, as one loop would.
        let first_bad = row_blocks(n).map_init(
            || vec![NONE; m],
            |seen, rows| {
                for i in rows {
                    let (offs, ws) = self.edges(i);
                    for (&j, &w) in offs.iter().zip(ws) {
                        if j as usize >= m {
                            return Some(format!(
                                "candidate {i}: offer {j} out of range (there are {m} offers)"
                            ));
                        }
                        // A row's own index marks its offers: a buffer reused from earlier
                        // blocks holds only other rows' indices.
                        if seen[j as usize] == i as u32 {
                            return Some(format!("candidate {i}: offer {j} appears twice"));
                        }
                        seen[j as usize] = i as u32;
                        if w.unsigned_abs() > MAX_WEIGHT as u64 {
                            return Some(format!(
                                "candidate {i}, offer {j}: weight {w} exceeds ±{MAX_WEIGHT}"
                            ));
                        }
                    }
                }
                None
            },
        );
        if let Some(message) = first_bad.find_map_first(|bad| bad) {
            return bad(message);
        }
        if !self.current.is_empty() && self.current.len() != n {
            return bad(format!("current has {} entries, expected 0 or {n}", self.current.len()));
        }
        if let Some((i, j)) =
            self.current.iter().enumerate().find_map(|(i, c)| c.filter(|&j| j as usize >= m).map(|j| (i, j)))
        {
            return bad(format!("candidate {i}: current offer {j} out of range (there are {m} offers)"));
        }
        if !self.locked.is_empty() && self.locked.len() != n {
            return bad(format!("locked has {} entries, expected 0 or {n}", self.locked.len()));
        }
        let mut locked_count = vec![0u64; m];
        for i in (0..n).filter(|&i| self.is_locked(i)) {
            let Some(j) = self.current_of(i) else {
                return bad(format!("candidate {i} is locked but has no current offer"));
            };
            if !self.edges(i).0.contains(&j) {
                return bad(format!("candidate {i} is locked to offer {j}, which is not one of its edges"));
            }
            locked_count[j as usize] += 1;
        }
        for (j, (&l, &c)) in locked_count.iter().zip(&self.capacity).enumerate() {
            if l > u64::from(c) {
                return bad(format!("offer {j}: {l} locked candidates exceed its capacity {c}"));
            }
        }
        if !self.min_volume.is_empty() && self.min_volume.len() != m {
            return bad(format!("min_volume has {} entries, expected 0 or {m}", self.min_volume.len()));
        }
        for (j, (&lo, &c)) in self.min_volume.iter().zip(&self.capacity).enumerate() {
            if lo > c {
                return bad(format!("offer {j}: minimum volume {lo} exceeds its capacity {c}"));
            }
        }
        Ok(())
    }
}

/// The rows `0..n` in blocks of 8,192, in row order, on the caller's rayon pool: how
/// [`Problem::validate`] and [`verify`] check a national night's edges on every core while
/// naming the first bad row as one loop would (`find_map_first`, or the blocks' results in order).
fn row_blocks(n: usize) -> impl IndexedParallelIterator<Item = std::ops::Range<usize>> {
    const ROWS: usize = 8192;
    (0..n.div_ceil(ROWS)).into_par_iter().map(move |block| block * ROWS..((block + 1) * ROWS).min(n))
}

/// Which algorithm [`solve`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Mode {
    /// Maximum total weight, proven by integer duals (gap 0).
    #[default]
    Exact,
    /// Candidate-proposing deferred acceptance: no blocking pairs, no duals.
    Stable,
    /// Heaviest edge first: a fast baseline for reports and tests, no duals.
    Greedy,
}

/// Options of [`solve`].
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SolveOptions {
    /// The algorithm.
    pub mode: Mode,
    /// Worker threads; 0 = all available. The result does not depend on it.
    pub threads: usize,
    /// Added to the weight of the edge to a candidate's current offer (`>= 0`).
    pub continuity_bonus: i64,
    /// Offer prices of a previous solution of a similar problem (same offers), used by
    /// [`Mode::Exact`] to start near the optimum. Ignored when its length is not the number of
    /// offers.
    pub warm_start: Option<Vec<i64>>,
    /// With [`SolveOptions::warm_start`]: the previous solution's offer of every candidate.
    /// Candidates start at it (where it is still an edge with a free place) instead of bidding
    /// anew, so that a night where few candidates changed costs few bids. Ignored when its
    /// length is not the number of candidates; never changes the optimum, only the work.
    pub warm_assignment: Option<Vec<Option<u32>>>,
    /// [`Mode::Stable`] only: how offers rank candidates, one key per candidate (higher is
    /// preferred, ties to the lower index). `None` = by the edge weight (with bonus).
    pub offer_priority: Option<Vec<i64>>,
    /// [`Mode::Exact`] with minimum volumes: the bonus per filled guaranteed place. `None`
    /// uses the safe bonus of [`safe_guarantee_bonus`], which fills as many guaranteed places
    /// as possible whatever the weights; a smaller one is much faster (the auction's price
    /// range shrinks with it) and gives the same answer whenever its solution fills that
    /// many, which the caller can check (see `batch`).
    pub guarantee_bonus: Option<i64>,
}

/// Counters of one solve.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SolveStats {
    /// Connected components solved (after removing locked candidates and useless edges).
    pub components: usize,
    /// Number of candidates in the largest component.
    pub largest_component: usize,
    /// ε-scaling phases, summed over components (0 outside [`Mode::Exact`]).
    pub phases: u64,
    /// Forward bids plus reverse steps (exact), or proposals (stable), summed over components.
    pub iterations: u64,
    /// Wall-clock seconds of the solve, validation included.
    pub seconds: f64,
    /// Threads of the pool that ran it.
    pub threads: usize,
    /// A warm start was repaired by shortest augmenting paths from the previous duals (then
    /// `iterations` counts those searches and `components` is 0: nothing was split).
    pub warm_repair: bool,
    /// Candidates whose offer optimality alone leaves open (exact mode): the canonical choice
    /// placed them ([`face`]).
    pub open: usize,
    /// Where an exact solve's time went: zeros outside [`Mode::Exact`]; after a warm repair
    /// (which is none of the auction's parts) only the canonical choice's.
    pub parts: SolveParts,
}

/// Seconds of an exact solve's parts, summed over its components (which may run at the same
/// time on several threads): where a slow night lost its time, without a profiler.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize)]
pub struct SolveParts {
    /// The auction's forward bids, every phase.
    pub bids: f64,
    /// The reverse repairs after the phases.
    pub repairs: f64,
    /// The bid caches patched after a repair lowered prices.
    pub patches: f64,
    /// Every person's bid cache rescanned before a phase, when prices fell too far for a patch.
    pub rescans: f64,
    /// The starts of the phases that keep the assignment: who keeps a place, who bids again.
    pub keeps: f64,
    /// The least optimal prices from the auction's final duals (`prices.rs`).
    pub least_prices: f64,
    /// The canonical choice among the equally good assignments (`face.rs`).
    pub canonical: f64,
}

impl SolveParts {
    fn add(&mut self, other: &SolveParts) {
        self.bids += other.bids;
        self.repairs += other.repairs;
        self.patches += other.patches;
        self.rescans += other.rescans;
        self.keeps += other.keeps;
        self.least_prices += other.least_prices;
        self.canonical += other.canonical;
    }
}

/// The answer of [`solve`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Solution {
    /// Offer of every candidate, `None` = unmatched. Locked candidates keep their offer.
    pub assignment: Vec<Option<u32>>,
    /// `Σ weight(i, assignment[i]) + continuity_bonus · #{i : assignment[i] = current[i]}`
    /// over all assigned candidates, locked ones included. The minimum-volume bonus `M` is not
    /// part of it.
    pub objective: i64,
    /// Dual price of every offer's regular places (empty outside [`Mode::Exact`]).
    pub offer_prices: Vec<i64>,
    /// Dual price of every offer's guaranteed (minimum-volume) places, empty when no offer has
    /// a residual minimum volume or outside [`Mode::Exact`]. Includes the bonus `M`.
    pub guarantee_prices: Vec<i64>,
    /// Dual profit of every candidate; 0 for locked candidates (empty outside
    /// [`Mode::Exact`]).
    pub candidate_profits: Vec<i64>,
    /// `(offer, missing places)` for every offer whose minimum volume is not met.
    pub min_volume_shortfall: Vec<(u32, u32)>,
    /// The algorithm that produced it; duals are present only for [`Mode::Exact`].
    pub mode: Mode,
    /// The continuity bonus the solution was computed with (needed by [`verify`]).
    pub continuity_bonus: i64,
    /// The bonus per filled guaranteed place the solution was computed with (0 without
    /// minimum volumes or outside [`Mode::Exact`]); [`verify`] proves optimality for it.
    pub guarantee_bonus: i64,
    /// Counters.
    pub stats: SolveStats,
}

impl Solution {
    /// Number of matched candidates.
    pub fn matched(&self) -> usize {
        self.assignment.iter().filter(|a| a.is_some()).count()
    }
}

/// Solves `problem` with the algorithm of `options.mode`.
///
/// In [`Mode::Exact`] the assignment is the canonical optimum: among equally good assignments,
/// the one the problem alone fixes, the same for any thread count, warm start or schedule
/// (see the module's header and [`face`]).
///
/// # Errors
/// [`Error::Problem`] when the problem is invalid (see [`Problem::validate`]), the continuity
/// bonus is negative or too large, scaled weights would overflow `i64`, or the thread pool
/// cannot be built.
///
/// # Complexity
/// Exact: pseudo-polynomial in the worst case (`O(n·E·log(nC))` for the auction), in practice
/// a few passes over the edges per scaling phase; one Dijkstra `O(E log m)` for the least duals;
/// one pass over the edges and a search for the canonical choice, and an exact solve of its
/// open part (0.3 % of the candidates on the national night).
/// Stable: `O(E log K)` (`O(E)` to read rows already best first, `O(E log K)` to sort the
/// others). Greedy: the same lists, then `O(E + W + Q log Q)` (`greedy::greedy_with`).
///
/// # Example
/// ```
/// use matcher_core::assign::{solve, Problem, SolveOptions};
/// // 2 candidates, 2 offers, offer 1 has 2 places.
/// let p = Problem::new(2, vec![1, 2], vec![0, 2, 3], vec![0, 1, 1], vec![5, 3, 4]).unwrap();
/// let s = solve(&p, &SolveOptions::default()).unwrap();
/// assert_eq!(s.objective, 9);
/// assert_eq!(s.assignment, vec![Some(0), Some(1)]);
/// ```
pub fn solve(problem: &Problem, options: &SolveOptions) -> Result<Solution> {
    solve_with(problem, options, repair::WarmRepair::Auto)
}

/// The pool a solve runs on: `threads` threads (`0`: rayon's default, one per core).
fn thread_pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| Error::Problem(format!("cannot build a thread pool: {e}")))
}

/// [`solve`] with a choice of warm-start path (tests force each path).
fn solve_with(problem: &Problem, options: &SolveOptions, policy: repair::WarmRepair) -> Result<Solution> {
    let start = std::time::Instant::now();
    check_options(problem, options)?;
    let pool = thread_pool(options.threads)?;
    let threads = pool.current_num_threads();
    let mut sol = pool.install(|| match options.mode {
        Mode::Exact => exact::solve_exact(problem, options, policy, auction::Schedule::Fast),
        Mode::Stable => stable::deferred_acceptance(problem, options),
        Mode::Greedy => greedy::greedy(problem, options),
    })?;
    if options.mode == Mode::Exact {
        // Which of the equally good assignments: the problem's own choice, not the path's.
        sol.continuity_bonus = options.continuity_bonus;
        let clock = std::time::Instant::now();
        (sol.assignment, sol.stats.open) = pool.install(|| face::canonical(problem, &sol))?;
        sol.stats.parts.canonical = clock.elapsed().as_secs_f64();
    }
    finish(problem, options.mode, options.continuity_bonus, sol, threads, start)
}

/// The stable and greedy baselines of `problem`: what [`solve`] gives with `options` in
/// [`Mode::Stable`] and in [`Mode::Greedy`] (`options.mode` is not read), with one validation
/// and one sort of the candidates' lists between the two. The night compares its optimum
/// with them (issue 18: they ran beside the exact solve and took 1.7 s of the national night).
///
/// # Errors
/// As [`solve`].
pub fn solve_baselines(problem: &Problem, options: &SolveOptions) -> Result<(Solution, Solution)> {
    let start = std::time::Instant::now();
    check_options(problem, options)?;
    let pool = thread_pool(options.threads)?;
    let threads = pool.current_num_threads();
    let (stable, greedy) = pool.install(|| -> Result<(Solution, Solution)> {
        let preferences = stable::Preferences::of(problem, options.continuity_bonus)?;
        Ok((
            stable::deferred_acceptance_with(problem, options, &preferences),
            greedy::greedy_with(problem, options, &preferences),
        ))
    })?;
    let bonus = options.continuity_bonus;
    Ok((
        finish(problem, Mode::Stable, bonus, stable, threads, start)?,
        finish(problem, Mode::Greedy, bonus, greedy, threads, start)?,
    ))
}

/// The checks of [`solve`] beyond [`Problem::validate`]: the bonuses and the priority's length.
fn check_options(problem: &Problem, options: &SolveOptions) -> Result<()> {
    problem.validate()?;
    if !(0..=MAX_WEIGHT).contains(&options.continuity_bonus) {
        return Err(Error::Problem(format!(
            "continuity bonus {} must be between 0 and {MAX_WEIGHT}",
            options.continuity_bonus
        )));
    }
    if let Some(lambda) = options.guarantee_bonus
        && !(1..=i64::MAX / 4).contains(&lambda)
    {
        return Err(Error::Problem(format!(
            "guarantee bonus {lambda} must be between 1 and {}",
            i64::MAX / 4
        )));
    }
    if let Some(prio) = &options.offer_priority
        && prio.len() != problem.n_candidates
    {
        return Err(Error::Problem(format!(
            "offer_priority has {} entries, expected one per candidate ({})",
            prio.len(),
            problem.n_candidates
        )));
    }
    Ok(())
}

/// A solution's reported fields: mode, bonus, objective, shortfall, threads and seconds.
fn finish(
    problem: &Problem,
    mode: Mode,
    bonus: i64,
    mut sol: Solution,
    threads: usize,
    start: std::time::Instant,
) -> Result<Solution> {
    sol.continuity_bonus = bonus;
    sol.mode = mode;
    sol.objective = objective(problem, bonus, &sol.assignment)?;
    sol.min_volume_shortfall = shortfall(problem, &sol.assignment);
    sol.stats.threads = threads;
    sol.stats.seconds = start.elapsed().as_secs_f64();
    Ok(sol)
}

/// Weight of edge `(i, j)` including the continuity bonus, `None` when it is no edge.
pub(crate) fn edge_weight(problem: &Problem, bonus: i64, i: usize, j: u32) -> Option<i64> {
    let (offs, ws) = problem.edges(i);
    let k = offs.iter().position(|&o| o == j)?;
    Some(ws[k] + if problem.current_of(i) == Some(j) { bonus } else { 0 })
}

/// The reported objective (see [`Solution::objective`]), with overflow checked.
fn objective(problem: &Problem, bonus: i64, assignment: &[Option<u32>]) -> Result<i64> {
    let mut total: i128 = 0;
    for (i, a) in assignment.iter().enumerate() {
        if let Some(j) = *a {
            let w = edge_weight(problem, bonus, i, j)
                .ok_or_else(|| Error::Problem(format!("internal: candidate {i} assigned to non-edge {j}")))?;
            total += i128::from(w);
        }
    }
    i64::try_from(total).map_err(|_| Error::Problem(format!("objective {total} overflows i64")))
}

/// Offers whose minimum volume is not reached, with the number of missing places.
fn shortfall(problem: &Problem, assignment: &[Option<u32>]) -> Vec<(u32, u32)> {
    if problem.min_volume.is_empty() {
        return Vec::new();
    }
    let mut count = vec![0u32; problem.n_offers()];
    for j in assignment.iter().flatten() {
        count[*j as usize] += 1;
    }
    (0..problem.n_offers())
        .filter(|&j| count[j] < problem.min_volume[j])
        .map(|j| (j as u32, problem.min_volume[j] - count[j]))
        .collect()
}
