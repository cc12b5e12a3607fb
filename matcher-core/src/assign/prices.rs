//! The prices an exact solve reports: the **least** optimal dual price of every offer node.
//!
//! Owns turning any duals that prove an assignment optimal (exact integers, or the auction's
//! ε-complementary-slackness prices in scaled units) into the least ones. Must not change the
//! assignment, and holds no solver of its own.
//!
//! Why the least: an optimal assignment usually has many optimal duals, and which one a solve
//! ends with depends on its path (a warm repair from yesterday's prices ends elsewhere than a
//! cold auction). The least prices are unique, so the files do not depend on the path. And by
//! linear-programming sensitivity they are what the column says: the right derivative of the
//! optimum in a node's capacity is the least of its optimal duals, and with integer data the
//! optimum is linear between whole places, so the least price **is** the rise of the night's
//! optimum with one more place there (the greatest is the fall with one place fewer).
//!
//! How: the dual constraints that bound a price from below are difference constraints,
//! `p_x ≥ p_y + w_kx − w_ky` for every holder `k` of `y` with an edge to `x`,
//! `p_x ≥ w_kx` for every unmatched `k`, and `p_x ≥ 0`. The least solution is a shortest-path
//! problem on `−p` from a root, over the holders' own rows (no offer-major copy is needed). Any
//! proof's prices are potentials that make every arc non-negative; ε-CS duals need `+1` per arc
//! and a scale `S` above the number of hops, as in the auction's module header.
//! One Dijkstra with lazy deletion: `O(E log m)` over the assigned persons' rows (in practice
//! about one heap push per node), one scan of the unmatched persons' rows.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use super::reduce::{Component, Reduced};
use super::{NONE, Problem};
use crate::error::{Error, Result};

/// Holders whose rows are loaded ahead of the one being scanned.
const TOUCH_AHEAD: usize = 8;

/// The persons' rows a proof speaks of: for person `i`, every useful edge as
/// `(node, weight in the proof's units)`.
pub(crate) trait Rows {
    fn for_each_edge(&self, i: usize, f: impl FnMut(u32, i64));
    /// Loads the first cache line of person `i`'s row, so that its miss overlaps others.
    fn touch(&self, i: usize);
}

/// A component's rows, its weights scaled by `S` (1 for exact duals).
pub(crate) struct ComponentRows<'c, 'p> {
    pub c: &'c Component<'p>,
    pub scale: i64,
}

impl Rows for ComponentRows<'_, '_> {
    #[inline]
    fn for_each_edge(&self, i: usize, mut f: impl FnMut(u32, i64)) {
        let c = self.c;
        for e in c.off[i]..c.off[i + 1] {
            f(c.adj[e], c.w[e] * self.scale);
        }
    }

    #[inline]
    fn touch(&self, i: usize) {
        let e = self.c.off[i];
        if e < self.c.off[i + 1] {
            std::hint::black_box((self.c.adj[e], self.c.w[e]));
        }
    }
}

/// The whole modified problem's rows (every candidate; none for a locked one), in original units.
pub(crate) struct ModifiedRows<'a> {
    pub problem: &'a Problem,
    pub red: &'a Reduced,
}

impl Rows for ModifiedRows<'_> {
    #[inline]
    fn for_each_edge(&self, i: usize, f: impl FnMut(u32, i64)) {
        self.red.for_each_edge(self.problem, i, f);
    }

    #[inline]
    fn touch(&self, i: usize) {
        let (offers, weights) = self.problem.edges(i);
        if let (Some(j), Some(w)) = (offers.first(), weights.first()) {
            std::hint::black_box((*j, *w));
        }
    }
}

/// Duals that prove `assigned` optimal, in the units of the [`Rows`].
pub(crate) struct Proof<'a> {
    /// Node of every person, or [`NONE`].
    pub assigned: &'a [u32],
    /// Every holder's value at the potentials: its own edge's weight less `pot` of its node
    /// (not read for unmatched persons).
    pub value: &'a [i64],
    /// Every node's price in the proof (non-negative).
    pub pot: &'a [i64],
    /// Units per original weight unit (1 for exact duals).
    pub scale: i64,
    /// The proof's slack per arc: 0 for exact duals, ε = 1 for the auction's scaled prices.
    pub slack: i64,
}

/// The least optimal price of every one of the `m` nodes, in original units.
///
/// # Errors
/// [`Error::Problem`] (internal) when the proof is seen not to prove the assignment optimal: a
/// node settling below the one before it (an arc of negative reduced cost into a node not yet
/// settled). An arc into a settled node is not checked in release builds; `verify` checks
/// every night's duals independently.
pub(crate) fn least_prices(rows: &impl Rows, m: usize, proof: &Proof<'_>) -> Result<Vec<i64>> {
    let Proof { assigned, value, pot, scale, slack } = *proof;
    // `len[x]`: the shortest root → x length found so far, in the proof's units with `slack`
    // per arc (`S·(−p_x) + hops`); `i64::MIN` once settled, so that one load and one compare
    // per edge decide (the hot loop reads nothing else at random). The heap orders by the
    // reduced length `len + pot`, which every arc keeps non-negative.
    let mut len = vec![slack; m];
    let mut holders = vec![0u32; m + 1];
    for (i, &y) in assigned.iter().enumerate() {
        if y == NONE {
            rows.for_each_edge(i, |x, a| {
                let t = &mut len[x as usize];
                *t = (*t).min(slack - a);
            });
        } else {
            holders[y as usize + 1] += 1;
        }
    }
    for y in 0..m {
        holders[y + 1] += holders[y];
    }
    let mut held = vec![0u32; holders[m] as usize];
    let mut fill = holders.clone();
    for (i, &y) in assigned.iter().enumerate().filter(|(_, y)| **y != NONE) {
        held[fill[y as usize] as usize] = i as u32;
        fill[y as usize] += 1;
    }
    drop(fill);
    let mut heap: BinaryHeap<Reverse<(i64, u32)>> =
        (0..m).map(|x| Reverse((len[x] + pot[x], x as u32))).collect();
    let mut least = vec![0i64; m];
    let mut last = i64::MIN;
    while let Some(Reverse((d, y))) = heap.pop() {
        let y = y as usize;
        let l = len[y];
        if l == i64::MIN || d != l + pot[y] {
            continue;
        }
        if d < last.max(0) {
            return Err(Error::Problem(format!(
                "internal: duals do not prove the assignment (node {y} settles at {d} after {last})"
            )));
        }
        last = d;
        len[y] = i64::MIN;
        // l = S·D + hops·slack with 0 ≤ hops·slack < S: D = −(least price) is the floor.
        least[y] = -l.div_euclid(scale);
        let mine = &held[holders[y] as usize..holders[y + 1] as usize];
        // The holders' rows lie anywhere in the edge arrays: their first misses are taken
        // together (the auction's bid loop does the same).
        for &k in mine.iter().take(TOUCH_AHEAD) {
            rows.touch(k as usize);
        }
        for (h, &k) in mine.iter().enumerate() {
            if let Some(&ahead) = mine.get(h + TOUCH_AHEAD) {
                rows.touch(ahead as usize);
            }
            // The arc y → x through holder k: a_ky − a_kx + slack, with a_ky = value_k + pot_y.
            let base = l + value[k as usize] + pot[y] + slack;
            rows.for_each_edge(k as usize, |x, a| {
                let cand = base - a;
                debug_assert!(
                    len[x as usize] != i64::MIN || cand + pot[x as usize] >= d,
                    "arc {y} -> {x} of negative reduced cost"
                );
                let t = &mut len[x as usize];
                if cand < *t {
                    *t = cand;
                    heap.push(Reverse((cand + pot[x as usize], x)));
                }
            });
        }
    }
    Ok(least)
}

/// Replaces exact duals (`price` per node, `profit` per person, proving `assigned` optimal) by
/// the least prices and the profits they leave.
///
/// # Errors
/// As [`least_prices`].
pub(crate) fn make_least(
    rows: &impl Rows,
    assigned: &[u32],
    price: &mut [i64],
    profit: &mut [i64],
) -> Result<()> {
    let proof = Proof { assigned, value: profit, pot: price, scale: 1, slack: 0 };
    let least = least_prices(rows, price.len(), &proof)?;
    for (i, &y) in assigned.iter().enumerate() {
        if y != NONE {
            profit[i] += price[y as usize] - least[y as usize];
        }
    }
    price.copy_from_slice(&least);
    Ok(())
}
