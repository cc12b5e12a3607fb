//! The problem the exact solver really solves: locked candidates removed, their places taken
//! from the offer's capacity, the continuity bonus added, minimum volumes turned into
//! guaranteed places with the bonus `M`, useless edges dropped; then split into connected
//! components with local indices.

use std::borrow::Cow;

use rayon::prelude::*;

use super::{NONE, Problem};
use crate::error::{Error, Result};

/// Result of one component, in local indices and original units.
pub(crate) struct CompResult {
    /// Local offer of every person, or [`NONE`].
    pub assigned: Vec<u32>,
    /// Exact price of every local offer.
    pub price: Vec<i64>,
    /// Exact profit of every person.
    pub profit: Vec<i64>,
    pub phases: u64,
    pub iterations: u64,
    pub parts: super::SolveParts,
}

/// Offer-side view of the modified problem. Offer nodes `0..m` are the regular places of the
/// original offers; nodes `m..m + g` are the guaranteed places of the offers with a residual
/// minimum volume.
pub(crate) struct Reduced {
    /// Residual capacity of every offer node.
    pub cap: Vec<u32>,
    /// Original offer of every guarantee node (`index - m`).
    pub guarantee_offer: Vec<u32>,
    /// Guarantee node of every original offer, or [`NONE`].
    pub guarantee_node: Vec<u32>,
    /// Bonus of a guaranteed place (0 when there are none).
    pub big_m: i64,
    /// Continuity bonus.
    pub bonus: i64,
}

/// Residual capacities `c'_j = min(capacity_j − locked_j, n + 1)` and lower bounds
/// `L'_j = min(c'_j, max(0, min_volume_j − locked_j))`.
///
/// The clamp at `n + 1` (`n` candidates) changes no optimum and no price: such an offer can
/// never be full, exactly like the unclamped one, so it keeps price 0. It is what keeps the
/// per-place arrays of the auction and the repair sized by the candidates, not by whatever a
/// record claims (issue 15: one offer of capacity 4,294,967,295 asked for 1.7 TB).
pub(crate) fn residual(problem: &Problem) -> (Vec<u32>, Vec<u32>) {
    let most = u32::try_from(problem.n_candidates).unwrap_or(u32::MAX).saturating_add(1);
    let mut cap = problem.capacity.clone();
    let mut locked = vec![0u32; problem.n_offers()];
    for i in (0..problem.n_candidates).filter(|&i| problem.is_locked(i)) {
        if let Some(j) = problem.current_of(i) {
            locked[j as usize] += 1;
        }
    }
    for (c, l) in cap.iter_mut().zip(&locked) {
        *c = c.saturating_sub(*l).min(most);
    }
    let lower = (0..problem.n_offers())
        .map(|j| problem.min_volume_of(j).saturating_sub(locked[j]).min(cap[j]))
        .collect();
    (cap, lower)
}

/// The minimum-volume bonus `M = 1 + 2·Σ_i max_j |w'_ij|` over unlocked candidates (0 when no
/// offer has a residual minimum volume): larger than the weight difference of any two
/// assignments, so filling one more guaranteed place always wins.
///
/// # Errors
/// [`Error::Problem`] when `M` overflows `i64`.
pub(crate) fn guarantee_bonus(problem: &Problem, bonus: i64, lower: &[u32]) -> Result<i64> {
    if lower.iter().all(|&l| l == 0) {
        return Ok(0);
    }
    let mut sum: i128 = 0;
    for i in (0..problem.n_candidates).filter(|&i| !problem.is_locked(i)) {
        let (_, ws) = problem.edges(i);
        let max = ws.iter().map(|w| i128::from(*w).abs()).max().unwrap_or(0);
        sum += max + if problem.current_of(i).is_some() { i128::from(bonus) } else { 0 };
    }
    i64::try_from(1 + 2 * sum)
        .ok()
        .filter(|m| *m <= i64::MAX / 4)
        .ok_or_else(|| Error::Problem(format!("minimum-volume bonus 1 + 2·{sum} overflows i64")))
}

impl Reduced {
    pub fn new(problem: &Problem, bonus: i64, guarantee: Option<i64>) -> Result<Self> {
        let m = problem.n_offers();
        let (mut cap, lower) = residual(problem);
        let big_m = match guarantee {
            Some(lambda) if lower.iter().any(|&l| l > 0) => lambda,
            _ => guarantee_bonus(problem, bonus, &lower)?,
        };
        let mut guarantee_offer = Vec::new();
        let mut guarantee_node = vec![NONE; m];
        for j in 0..m {
            if lower[j] > 0 {
                guarantee_node[j] = (m + guarantee_offer.len()) as u32;
                guarantee_offer.push(j as u32);
            }
        }
        for &j in &guarantee_offer {
            cap.push(lower[j as usize]);
            cap[j as usize] -= lower[j as usize];
        }
        Ok(Reduced { cap, guarantee_offer, guarantee_node, big_m, bonus })
    }

    /// Number of offer nodes.
    pub fn n_nodes(&self) -> usize {
        self.cap.len()
    }

    /// Calls `f(node, weight)` for every useful edge of candidate `i` (none when locked):
    /// regular places with non-negative weight, guaranteed places with positive weight + `M`.
    #[inline]
    pub fn for_each_edge(&self, problem: &Problem, i: usize, mut f: impl FnMut(u32, i64)) {
        if problem.is_locked(i) {
            return;
        }
        let cur = problem.current_of(i).unwrap_or(NONE);
        let (offs, ws) = problem.edges(i);
        for (&j, &w) in offs.iter().zip(ws) {
            let w = if j == cur { w + self.bonus } else { w };
            // Zero-weight edges are never chosen (the dummy is as good) but are kept, so that
            // a complete input (dense instances have zeros) is still borrowed, not copied.
            if w >= 0 && self.cap[j as usize] > 0 {
                f(j, w);
            }
            let g = self.guarantee_node[j as usize];
            if g != NONE && w + self.big_m > 0 {
                f(g, w + self.big_m);
            }
        }
    }

    /// Calls `f(node, weight)` for every edge of unlocked candidate `i` in the modified
    /// problem, useful or not (regular places with `w'`, guaranteed places with `w' + M`).
    pub fn for_each_edge_all(&self, problem: &Problem, i: usize, mut f: impl FnMut(u32, i64)) {
        if problem.is_locked(i) {
            return;
        }
        let cur = problem.current_of(i).unwrap_or(NONE);
        let (offs, ws) = problem.edges(i);
        for (&j, &w) in offs.iter().zip(ws) {
            let w = if j == cur { w + self.bonus } else { w };
            f(j, w);
            let g = self.guarantee_node[j as usize];
            if g != NONE {
                f(g, w + self.big_m);
            }
        }
    }

    /// Splits the modified problem into connected components that have at least one edge,
    /// numbered by their smallest candidate.
    ///
    /// # Complexity
    /// `O(E α(n))` for the union-find, then `O(E)` to copy the edges, both in blocks of
    /// candidates on the current rayon pool, plus `O(n + m)` per extra thread to join the
    /// blocks' sets.
    pub fn components<'p>(&self, problem: &'p Problem, warm: Option<&[Option<u32>]>) -> Vec<Component<'p>> {
        let n = problem.n_candidates;
        if self.is_complete_input(problem) {
            // One component, the input itself: the union-find below costs one find per edge,
            // as much as the dense solve of a complete 2,000 × 2,000 component.
            return vec![self.whole(
                problem,
                (0..n as u32).collect(),
                (0..self.n_nodes() as u32).collect(),
                warm,
            )];
        }
        // The sweep over the edges, in one block of candidates per thread (each its own
        // union-find), then the blocks' sets joined: the partition, and so the components
        // and their order, is the same for any number of blocks.
        let mut degree = vec![0u32; n];
        let per = n.div_ceil(rayon::current_num_threads().max(1)).max(1);
        let sweeps: Vec<Sweep> = degree
            .par_chunks_mut(per)
            .enumerate()
            .map(|(b, degree)| self.sweep(problem, b * per, degree))
            .collect();
        let mut sweeps = sweeps.into_iter();
        // `kept` and `changed` say whether the modified problem is the input itself (every
        // edge kept, no weight changed): then a single all-covering component borrows the
        // input's arrays.
        let Sweep { mut uf, mut kept, mut changed, .. } =
            sweeps.next().unwrap_or_else(|| Sweep::empty(n + self.n_nodes(), 0));
        for mut sweep in sweeps {
            kept += sweep.kept;
            changed |= sweep.changed;
            let block = sweep.first..sweep.first + per.min(n - sweep.first);
            for x in block.chain(n..n + self.n_nodes()) {
                let root = sweep.uf.find(x);
                if root != x {
                    uf.union(x, root);
                }
            }
        }
        let has_edge = |i: usize| degree[i] > 0;
        // Component id per root, in order of first candidate; candidates without edges get none.
        let mut comp_of_root = vec![NONE; n + self.n_nodes()];
        let mut persons: Vec<Vec<u32>> = Vec::new();
        for i in 0..n {
            if !has_edge(i) {
                continue;
            }
            let r = uf.find(i);
            if comp_of_root[r] == NONE {
                comp_of_root[r] = persons.len() as u32;
                persons.push(Vec::new());
            }
            persons[comp_of_root[r] as usize].push(i as u32);
        }
        let mut offers: Vec<Vec<u32>> = vec![Vec::new(); persons.len()];
        let mut local = vec![NONE; self.n_nodes()];
        for j in 0..self.n_nodes() {
            let c = comp_of_root[uf.find(n + j)];
            if c != NONE {
                local[j] = offers[c as usize].len() as u32;
                offers[c as usize].push(j as u32);
            }
        }
        let identity = persons.len() == 1
            && persons[0].len() == n
            && offers[0].len() == self.n_nodes()
            && kept == problem.n_edges()
            && !changed
            && self.guarantee_offer.is_empty();
        if identity {
            let (persons, offers) = (persons.pop().expect("one"), offers.pop().expect("one"));
            return vec![self.whole(problem, persons, offers, warm)];
        }
        persons
            .into_par_iter()
            .zip(offers)
            .map(|(persons, offers)| {
                let (off, adj, w) = self.copy_edges(problem, &persons, &degree, &local);
                let cap = offers.iter().map(|&j| self.cap[j as usize]).collect();
                let current = persons
                    .iter()
                    .map(|&i| match problem.current_of(i as usize) {
                        // Only when the current offer is in this component (its edge may
                        // have been dropped, leaving the offer to another component).
                        Some(j)
                            if !problem.is_locked(i as usize)
                                && offers.get(local[j as usize] as usize) == Some(&j) =>
                        {
                            local[j as usize]
                        }
                        _ => NONE,
                    })
                    .collect();
                let start = self.start_nodes(problem, warm, &persons, &offers, &local);
                Component {
                    persons,
                    offers,
                    cap,
                    off: Cow::Owned(off),
                    adj: Cow::Owned(adj),
                    w: Cow::Owned(w),
                    current,
                    start,
                }
            })
            .collect()
    }
}

/// One block's part of [`Reduced::components`]' sweep: its candidates' unions (in a
/// union-find over every candidate and node), the edges it kept and whether the bonus changed
/// one of them.
struct Sweep {
    uf: UnionFind,
    first: usize,
    kept: usize,
    changed: bool,
}

impl Sweep {
    fn empty(size: usize, first: usize) -> Sweep {
        Sweep { uf: UnionFind::new(size), first, kept: 0, changed: false }
    }
}

/// Candidates whose edges one task copies into a component's arrays.
const COPY_BLOCK: usize = 4096;

impl Reduced {
    /// Unions every useful edge of the candidates `start..start + degree.len()` (each offer
    /// with the candidate's first one: one find per edge) and counts them into `degree`.
    fn sweep(&self, problem: &Problem, start: usize, degree: &mut [u32]) -> Sweep {
        let n = problem.n_candidates;
        let mut out = Sweep::empty(n + self.n_nodes(), start);
        let uf = &mut out.uf;
        // Once everything met so far (candidates with edges, offers they reach) is one
        // component, an edge to an offer already met adds nothing once the candidate is
        // linked to it: those finds are skipped. The partition is the same. Counted as
        // met − successful unions = parts among the met.
        let mut met = vec![false; self.n_nodes()];
        let (mut met_count, mut joined) = (0usize, 0usize);
        for (i, d) in (start..).zip(degree.iter_mut()) {
            let mut first = usize::MAX;
            let cur = problem.current_of(i);
            let merged = met_count == joined + 1;
            let mut linked = false;
            let mut edges = 0u32;
            self.for_each_edge(problem, i, |j, _| {
                edges += 1;
                out.changed |= self.bonus != 0 && cur == Some(j);
                let new = !met[j as usize];
                if new {
                    met[j as usize] = true;
                    met_count += 1;
                }
                if first == usize::MAX {
                    met_count += 1; // the candidate itself
                    first = uf.find(n + j as usize);
                    joined += usize::from(uf.union(i, first));
                } else if !merged || new || !linked {
                    joined += usize::from(uf.union(first, n + j as usize));
                }
                linked |= !new;
            });
            *d = edges;
            out.kept += edges as usize;
        }
        out
    }

    /// A component's own copy of its persons' useful edges (`off`, `adj` in local offer
    /// indices, `w`), written a block of persons per task into arrays sized beforehand from
    /// the sweep's `degree`.
    fn copy_edges(
        &self,
        problem: &Problem,
        persons: &[u32],
        degree: &[u32],
        local: &[u32],
    ) -> (Vec<usize>, Vec<u32>, Vec<i64>) {
        let mut off = Vec::with_capacity(persons.len() + 1);
        off.push(0);
        let mut total = 0usize;
        for &i in persons {
            total += degree[i as usize] as usize;
            off.push(total);
        }
        let mut adj = vec![0u32; total];
        let mut w = vec![0i64; total];
        let mut blocks = Vec::with_capacity(persons.len().div_ceil(COPY_BLOCK));
        let (mut adj_rest, mut w_rest) = (adj.as_mut_slice(), w.as_mut_slice());
        for (b, block) in persons.chunks(COPY_BLOCK).enumerate() {
            let len = off[b * COPY_BLOCK + block.len()] - off[b * COPY_BLOCK];
            let (a, a_rest) = std::mem::take(&mut adj_rest).split_at_mut(len);
            let (ws, ws_rest) = std::mem::take(&mut w_rest).split_at_mut(len);
            (adj_rest, w_rest) = (a_rest, ws_rest);
            blocks.push((block, a, ws));
        }
        blocks.into_par_iter().for_each(|(block, a, ws)| {
            let mut e = 0;
            for &i in block {
                self.for_each_edge(problem, i as usize, |j, wt| {
                    a[e] = local[j as usize];
                    ws[e] = wt;
                    e += 1;
                });
            }
            debug_assert_eq!(e, a.len(), "the sweep counted these edges");
        });
        (off, adj, w)
    }
}

impl Reduced {
    /// Whether the modified problem is the input itself and a complete bipartite graph (every
    /// candidate has an edge to every offer, which without repeated pairs is a degree count):
    /// no locks, no guaranteed places, no weight changed by the bonus, no edge dropped.
    fn is_complete_input(&self, problem: &Problem) -> bool {
        let (n, m) = (problem.n_candidates, problem.n_offers());
        n > 0
            && m > 0
            && self.guarantee_offer.is_empty()
            && !problem.locked.contains(&true)
            && (self.bonus == 0 || problem.current.iter().all(Option::is_none))
            && self.cap.iter().all(|&c| c > 0)
            && problem.offsets.windows(2).all(|o| o[1] - o[0] == m)
            && problem.weights.iter().all(|&w| w >= 0)
    }

    /// The single component that borrows the input's arrays.
    fn whole<'p>(
        &self,
        problem: &'p Problem,
        persons: Vec<u32>,
        offers: Vec<u32>,
        warm: Option<&[Option<u32>]>,
    ) -> Component<'p> {
        let current = (0..problem.n_candidates)
            .map(|i| match problem.current_of(i) {
                Some(j) if !problem.is_locked(i) => j,
                _ => NONE,
            })
            .collect();
        // Every node is its own local index here.
        let start = self.start_nodes(problem, warm, &persons, &offers, &offers);
        Component {
            persons,
            offers,
            cap: self.cap.clone(),
            off: Cow::Borrowed(&problem.offsets),
            adj: Cow::Borrowed(&problem.offers),
            w: Cow::Borrowed(&problem.weights),
            current,
            start,
        }
    }
}

/// One connected component with local indices (persons `0..persons.len()`, offers
/// `0..offers.len()`); `w` holds the modified weights (all non-negative).
pub(crate) struct Component<'p> {
    pub persons: Vec<u32>,
    pub offers: Vec<u32>,
    pub cap: Vec<u32>,
    pub off: Cow<'p, [usize]>,
    pub adj: Cow<'p, [u32]>,
    pub w: Cow<'p, [i64]>,
    /// Local current offer of every person (regular places), or NONE: the tie-break of warm
    /// starts.
    pub current: Vec<u32>,
    /// Warm starts with a previous assignment: per person, the local guaranteed and regular
    /// node of its previous offer (NONE where absent), tried in that order. Empty otherwise.
    pub start: Vec<[u32; 2]>,
}

impl Reduced {
    /// [`Component::start`]: the local nodes of every person's previous offer, when they
    /// belong to this component (`local` maps a node to its index within its component).
    fn start_nodes(
        &self,
        problem: &Problem,
        warm: Option<&[Option<u32>]>,
        persons: &[u32],
        offers: &[u32],
        local: &[u32],
    ) -> Vec<[u32; 2]> {
        let Some(warm) = warm.filter(|w| w.len() == problem.n_candidates) else {
            return Vec::new();
        };
        let here = |node: u32| match local.get(node as usize) {
            Some(&l) if offers.get(l as usize) == Some(&node) => l,
            _ => NONE,
        };
        persons
            .iter()
            .map(|&i| match warm[i as usize] {
                Some(j) if (j as usize) < problem.n_offers() && !problem.is_locked(i as usize) => {
                    let g = self.guarantee_node[j as usize];
                    [if g == NONE { NONE } else { here(g) }, here(j)]
                }
                _ => [NONE, NONE],
            })
            .collect()
    }
}

/// Union-find with path halving and union by size.
struct UnionFind {
    parent: Vec<u32>,
    size: Vec<u32>,
}

impl UnionFind {
    fn new(n: usize) -> Self {
        UnionFind { parent: (0..n as u32).collect(), size: vec![1; n] }
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] as usize != x {
            let p = self.parent[x] as usize;
            self.parent[x] = self.parent[p];
            x = self.parent[x] as usize;
        }
        x
    }

    /// Joins the sets of `a` and `b`; whether they were apart.
    fn union(&mut self, a: usize, b: usize) -> bool {
        let (mut a, mut b) = (self.find(a), self.find(b));
        if a == b {
            return false;
        }
        if self.size[a] < self.size[b] {
            std::mem::swap(&mut a, &mut b);
        }
        self.parent[b] = a as u32;
        self.size[a] += self.size[b];
        true
    }
}
