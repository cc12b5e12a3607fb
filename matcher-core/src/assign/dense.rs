//! The exact solver for complete components with unit capacities: Jonker–Volgenant shortest
//! augmenting paths on a row-major weight matrix (column reduction, augmenting row reduction,
//! then Dijkstra-like augmentation). See the `assign` module header for when it is taken and
//! why.
//!
//! It assigns every row of a rectangular matrix with `rows ≤ cols` (persons × offers, or
//! transposed when there are more persons than offers) at maximum weight, i.e. JV's
//! minimisation of `c = −w` written with prices `p = −v`. With all weights `≥ 0` and a
//! complete graph, a maximum-weight matching may as well match every row, so this is the
//! max-weight (not necessarily perfect) problem the auction solves.

use std::borrow::Cow;

use super::NONE;
use super::reduce::{CompResult, Component};

/// Weights above this take the auction: keeps reduced costs, distances and prices (all within
/// a few times the weight range) far from `i64` overflow.
const MAX_DENSE_WEIGHT: i64 = 1 << 50;
/// Augmenting-row-reduction steps allowed per row before the rest go to the augmentation:
/// with integer ties a reduction step can raise a price by as little as 1, and a long series
/// of such steps ("price war") is slower than one shortest path.
const ARR_STEPS_PER_ROW: usize = 8;

/// Solves `c` when it is complete (every person has an edge to every offer), every offer node
/// has one place and every weight is in `0..=MAX_DENSE_WEIGHT`; `None` otherwise (the auction
/// takes it).
pub(super) fn solve(c: &Component) -> Option<CompResult> {
    let (n, m) = (c.persons.len(), c.offers.len());
    if n == 0 || m == 0 || Some(c.adj.len()) != n.checked_mul(m) || c.cap.iter().any(|&k| k != 1) {
        return None;
    }
    if c.w.iter().any(|w| !(0..=MAX_DENSE_WEIGHT).contains(w)) {
        return None;
    }
    // Rows are the smaller side: every row is matched, so no row needs a "stay unmatched" dual.
    let transpose = n > m;
    let (rows, cols) = if transpose { (m, n) } else { (n, m) };
    // No pair repeats, so `n·m` edges are all pairs. A complete input usually lists every
    // candidate's offers in order: then the weights already are the row-major matrix (the
    // copy of 4 M weights measured 41 ms of a 0.19 s solve on a loaded machine).
    let in_order =
        !transpose && (0..n).all(|i| c.adj[c.off[i]..c.off[i + 1]].iter().zip(0u32..).all(|(&j, k)| j == k));
    let a: Cow<'_, [i64]> = if in_order {
        Cow::Borrowed(&c.w[..])
    } else {
        let mut a = vec![0i64; rows * cols];
        for i in 0..n {
            for e in c.off[i]..c.off[i + 1] {
                let j = c.adj[e] as usize;
                a[if transpose { j * cols + i } else { i * cols + j }] = c.w[e];
            }
        }
        Cow::Owned(a)
    };
    let lap = Lap::solve(rows, cols, &a);
    // Duals: column prices `p` (≥ 0 after the shift) and row profits π_r = a(r, x_r) − p(x_r).
    // Prices of free columns are all 0 (rectangular case: they were never raised). In the
    // square case the smallest price is subtracted from every price and added to every
    // profit: the dual objective is unchanged (as many rows as columns) and
    // π_r + p_min ≥ a(r, argmin p) ≥ 0 keeps profits non-negative.
    let mut price = lap.p;
    let shift = price.iter().copied().min().unwrap_or(0);
    for p in &mut price {
        *p -= shift;
    }
    let profit: Vec<i64> = (0..rows)
        .map(|r| a[r * cols + lap.col_of_row[r] as usize] - price[lap.col_of_row[r] as usize])
        .collect();
    let iterations = lap.steps;
    Some(if transpose {
        CompResult {
            assigned: lap.row_of_col,
            price: profit,
            profit: price,
            phases: 0,
            iterations,
            parts: Default::default(),
        }
    } else {
        CompResult {
            assigned: lap.col_of_row,
            price,
            profit,
            phases: 0,
            iterations,
            parts: Default::default(),
        }
    })
}

/// A maximum-weight assignment of every row of a `rows × cols` weight matrix (`rows ≤ cols`)
/// with column prices `p`. In Jonker–Volgenant's terms this minimises `c = −a` with column
/// duals `v = −p`; the *reduced cost* of `(r, j)` is `p_j − a_rj`. Invariant: every assigned
/// row's column has its smallest reduced cost (so the row duals `u_r` are implicit), and when
/// `rows < cols` prices only rise from 0 and only on assigned columns, so free columns keep 0.
struct Lap {
    col_of_row: Vec<u32>,
    row_of_col: Vec<u32>,
    p: Vec<i64>,
    /// Row reduction steps plus columns scanned by the augmentation.
    steps: u64,
}

impl Lap {
    fn solve(rows: usize, cols: usize, a: &[i64]) -> Self {
        debug_assert!(rows <= cols && a.len() == rows * cols);
        let mut lap =
            Lap { col_of_row: vec![NONE; rows], row_of_col: vec![NONE; cols], p: vec![0; cols], steps: 0 };
        let free = if rows == cols {
            lap.column_reduction(a)
        } else {
            // Column reduction would price columns that may stay free; the row reduction
            // below starts from zero prices instead and keeps 0 on every column it never
            // assigns.
            (0..rows as u32).collect()
        };
        let free = lap.augmenting_row_reduction(a, free);
        lap.augment(a, &free);
        lap
    }

    /// Square case: every column is priced at its best weight `p_j = max_r a_rj` and taken by
    /// that row (first row on ties; a row best for several columns keeps the first). A row
    /// best for exactly one column raises that column's price by its second-smallest reduced
    /// cost ("reduction transfer"), which keeps the column its best and makes it dearer for
    /// the others. Returns the rows left free.
    fn column_reduction(&mut self, a: &[i64]) -> Vec<u32> {
        let (rows, cols) = (self.col_of_row.len(), self.p.len());
        // Row-major sweep: strided column scans would miss the cache on every element.
        self.p.copy_from_slice(row(a, cols, 0));
        let mut arg = vec![0u32; cols];
        for r in 1..rows {
            let ar = row(a, cols, r);
            for j in 0..cols {
                if ar[j] > self.p[j] {
                    self.p[j] = ar[j];
                    arg[j] = r as u32;
                }
            }
        }
        let mut matches = vec![0u32; rows];
        for j in 0..cols {
            let r = arg[j] as usize;
            matches[r] += 1;
            if matches[r] == 1 {
                self.col_of_row[r] = j as u32;
                self.row_of_col[j] = r as u32;
            }
        }
        let mut free = Vec::new();
        for r in 0..rows {
            match matches[r] {
                0 => free.push(r as u32),
                1 => {
                    let j1 = self.col_of_row[r] as usize;
                    let ar = row(a, cols, r);
                    let mut min = i64::MAX;
                    for j in (0..cols).filter(|&j| j != j1) {
                        min = min.min(self.p[j] - ar[j]);
                    }
                    if min != i64::MAX {
                        self.p[j1] += min;
                    }
                }
                _ => {}
            }
        }
        free
    }

    /// Two passes of augmenting row reduction: a free row takes the column of its smallest
    /// reduced cost and raises that column's price by the gap to its second smallest, evicting
    /// the column's row, which is processed next when the price moved (else in the next pass).
    /// Returns the rows still free.
    fn augmenting_row_reduction(&mut self, a: &[i64], mut free: Vec<u32>) -> Vec<u32> {
        let cols = self.p.len();
        let limit = ARR_STEPS_PER_ROW * self.col_of_row.len() + 16;
        let mut steps = 0;
        for _pass in 0..2 {
            let mut cur = std::mem::take(&mut free);
            let mut k = 0;
            while k < cur.len() {
                if steps >= limit {
                    free.extend_from_slice(&cur[k..]);
                    break;
                }
                steps += 1;
                let r = cur[k] as usize;
                k += 1;
                let (u1, mut j1, u2, j2) = two_cheapest(row(a, cols, r), &self.p);
                let mut evicted = self.row_of_col[j1];
                let raised = j2 != NONE && u1 < u2;
                if raised {
                    self.p[j1] += u2 - u1;
                } else if evicted != NONE && j2 != NONE {
                    // A tie: take the second cheapest instead, which may be free.
                    j1 = j2 as usize;
                    evicted = self.row_of_col[j1];
                }
                self.col_of_row[r] = j1 as u32;
                self.row_of_col[j1] = r as u32;
                if evicted != NONE {
                    self.col_of_row[evicted as usize] = NONE;
                    if raised {
                        k -= 1;
                        cur[k] = evicted;
                    } else {
                        free.push(evicted);
                    }
                }
            }
        }
        self.steps += steps as u64;
        free
    }

    /// Shortest augmenting path from every free row: Dijkstra on reduced costs over the
    /// columns, entering an assigned column's row at distance `d_j` (its reduced cost there
    /// is its minimum, the implicit `u_r`). Then the prices of the scanned columns rise by
    /// their distance deficit to the end of the path, and the path is flipped.
    // The scans run from the `up` of their start while `up` grows behind them (columns
    // reached at the minimum are swapped into place): the range is meant to stay fixed.
    #[allow(clippy::mut_range_bound)]
    fn augment(&mut self, a: &[i64], free: &[u32]) {
        let cols = self.p.len();
        let mut pred = vec![0u32; cols];
        // The columns in scan order (`list`), with their distance and price at the same
        // position: the inner loop then reads them sequentially and gathers only the weight.
        let mut list: Vec<u32> = vec![0; cols];
        let mut d = vec![0i64; cols];
        let mut lp = vec![0i64; cols];
        for &f in free {
            let af = row(a, cols, f as usize);
            for j in 0..cols {
                list[j] = j as u32;
                lp[j] = self.p[j];
                d[j] = self.p[j] - af[j];
                pred[j] = f;
            }
            let swap = |list: &mut [u32], d: &mut [i64], lp: &mut [i64], x: usize, y: usize| {
                list.swap(x, y);
                d.swap(x, y);
                lp.swap(x, y);
            };
            // Positions ..low scanned, low..up at the current minimum distance, up.. not
            // reached at the minimum.
            let (mut low, mut up) = (0usize, 0usize);
            let mut min = 0i64;
            let end = 'search: loop {
                if up == low {
                    min = d[up];
                    up += 1;
                    for k in up..cols {
                        let h = d[k];
                        if h <= min {
                            if h < min {
                                up = low;
                                min = h;
                            }
                            swap(&mut list, &mut d, &mut lp, k, up);
                            up += 1;
                        }
                    }
                    if let Some(&j) = list[low..up].iter().find(|&&j| self.row_of_col[j as usize] == NONE) {
                        break 'search j as usize;
                    }
                }
                let j1 = list[low] as usize;
                let r = self.row_of_col[j1];
                let ar = row(a, cols, r as usize);
                // Distance to row r minus its implicit dual: d(j) via r = h + p_j − a_rj.
                let h = min - (lp[low] - ar[j1]);
                low += 1;
                self.steps += (cols - up) as u64;
                for k in up..cols {
                    let j = list[k] as usize;
                    let v2 = h + lp[k] - ar[j];
                    if v2 < d[k] {
                        pred[j] = r;
                        d[k] = v2;
                        if v2 == min {
                            if self.row_of_col[j] == NONE {
                                break 'search j;
                            }
                            swap(&mut list, &mut d, &mut lp, k, up);
                            up += 1;
                        }
                    }
                }
            };
            for k in 0..low {
                self.p[list[k] as usize] += min - d[k];
            }
            let mut j = end;
            loop {
                let r = pred[j];
                self.row_of_col[j] = r;
                let next = self.col_of_row[r as usize];
                self.col_of_row[r as usize] = j as u32;
                if r == f {
                    break;
                }
                j = next as usize;
            }
        }
    }
}

/// Row `r` of the row-major matrix `a` with `cols` columns.
#[inline]
fn row(a: &[i64], cols: usize, r: usize) -> &[i64] {
    &a[r * cols..(r + 1) * cols]
}

/// Smallest and second smallest reduced cost `p[j] − ar[j]` with their columns (first column
/// on ties; the second is `(i64::MAX, NONE)` for a single column).
#[inline]
fn two_cheapest(ar: &[i64], p: &[i64]) -> (i64, usize, i64, u32) {
    let (mut u1, mut j1, mut u2, mut j2) = (p[0] - ar[0], 0usize, i64::MAX, NONE);
    for j in 1..ar.len() {
        let h = p[j] - ar[j];
        if h < u2 {
            if h >= u1 {
                u2 = h;
                j2 = j as u32;
            } else {
                (u2, j2) = (u1, j1 as u32);
                (u1, j1) = (h, j);
            }
        }
    }
    (u1, j1, u2, j2)
}
