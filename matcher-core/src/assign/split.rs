//! Splitting one large component into two halves that the auction solves apart (at the same
//! time when there are two threads), before the warm repair (`repair.rs`) stitches them into
//! the optimum of the whole.
//!
//! The split is a heuristic: it decides only how much work the repair has left, never the
//! answer (the repair ends at an optimum with exact duals whatever it starts from). It never
//! depends on the thread count: a component is split the same way on one thread, where the
//! halves are solved one after the other, so the result is the same on every pool.
//!
//! How it splits: a coarse offer graph links the offers that one person can reach among its
//! first [`LINK_EDGES`] edges; two breadth-first searches from far-apart offers give every
//! offer a position between them (`dist_a − dist_b`), like a coordinate along the longest
//! axis of the graph; offers are cut at the persons' median position, and every person goes
//! to the side holding most of its edges. Its edges to the other side are left out of its
//! half (the other half's offers have no places there): those are the conditions the repair
//! checks and mends.
//!
//! This module must not solve anything: it only builds the halves (`Component`s that borrow
//! their parent's edge arrays, `Component::rows`).

use std::borrow::Cow;
use std::collections::VecDeque;

use rayon::prelude::*;

use super::reduce::Component;

/// Components with fewer persons are solved whole: their solve is short, and a split would
/// only add the repair's fixed cost (a pass over every edge).
pub(crate) const SPLIT_MIN_PERSONS: usize = 20_000;

/// Edges per person (the first ones of its list) that link offers in the coarse graph.
const LINK_EDGES: usize = 8;

/// Every `SAMPLE_STEP`-th person judges the candidate cuts.
const SAMPLE_STEP: usize = 64;

/// Cut points tried on every axis, in percent of the sampled persons' positions.
const CUT_QUANTILES: [usize; 5] = [42, 46, 50, 54, 58];

/// Rounds of label propagation after the cut along the best axis.
const REFINE_ROUNDS: usize = 2;

/// Persons per share of the vote count (each share sums into its own vector of offers).
const VOTE_CHUNK: usize = 16_384;

/// A half gets at least this share of the persons, or the component is not split.
const MIN_SHARE: usize = 4;

/// The two halves of `c`, or `None` when it is too small or does not split evenly enough.
pub(crate) fn halves<'c>(c: &'c Component<'_>) -> Option<[Component<'c>; 2]> {
    let (n, m) = (c.persons.len(), c.offers.len());
    if n < SPLIT_MIN_PERSONS || m < 2 || c.rows.is_some() {
        return None;
    }
    let (off, adj) = (&c.off[..], &c.adj[..]);
    let t0 = std::time::Instant::now();
    let tk = super::auction::thread_ticks();
    // The coarse offer graph, CSR: consecutive offers among each person's first edges.
    let links = |i: usize| {
        let start = off[i];
        let end = off[i + 1].min(start + LINK_EDGES);
        (start + 1..end).map(move |e| (adj[e - 1] as usize, adj[e] as usize))
    };
    let mut goff = vec![0usize; m + 1];
    for i in 0..n {
        for (x, y) in links(i) {
            goff[x + 1] += 1;
            goff[y + 1] += 1;
        }
    }
    for j in 0..m {
        goff[j + 1] += goff[j];
    }
    let mut fill = goff.clone();
    let mut next = vec![0u32; goff[m]];
    for i in 0..n {
        for (x, y) in links(i) {
            next[fill[x]] = y as u32;
            fill[x] += 1;
            next[fill[y]] = x as u32;
            fill[y] += 1;
        }
    }
    drop(fill);
    let bfs = |src: usize| {
        let mut dist = vec![u32::MAX; m];
        let mut queue = VecDeque::from([src]);
        dist[src] = 0;
        while let Some(x) = queue.pop_front() {
            for &y in &next[goff[x]..goff[x + 1]] {
                if dist[y as usize] == u32::MAX {
                    dist[y as usize] = dist[x] + 1;
                    queue.push_back(y as usize);
                }
            }
        }
        dist
    };
    // The farthest reached offer, ties to the lowest index.
    let farthest = |dist: &[u32]| {
        let mut best = 0usize;
        for (j, &d) in dist.iter().enumerate() {
            if d != u32::MAX && (dist[best] == u32::MAX || d > dist[best]) {
                best = j;
            }
        }
        best
    };
    let first = adj.get(off[0]).map_or(0, |&j| j as usize);
    // Four poles: two far apart (a, b), then one far from both (c) and the farthest from it
    // (d). Every pair of them is an axis; `dist_x − dist_y` is a coordinate along it.
    let dist_a = bfs(farthest(&bfs(first)));
    let dist_b = bfs(farthest(&dist_a));
    let mut c_pole = 0usize;
    for j in 0..m {
        let far = |j: usize| dist_a[j].min(dist_b[j]);
        if far(j) != u32::MAX && (far(c_pole) == u32::MAX || far(j) > far(c_pole)) {
            c_pole = j;
        }
    }
    let dist_c = bfs(c_pole);
    let dist_d = bfs(farthest(&dist_c));
    let dists = [&dist_a, &dist_b, &dist_c, &dist_d];
    // Offers the coarse graph does not reach go to the first half.
    let axis_key = |x: usize, y: usize| -> Vec<i64> {
        (0..m)
            .map(|j| match (dists[x][j], dists[y][j]) {
                (u32::MAX, _) | (_, u32::MAX) => i64::MIN,
                (dx, dy) => i64::from(dx) - i64::from(dy),
            })
            .collect()
    };
    let majority = |side: &[u8], i: usize| {
        let edges = &adj[off[i]..off[i + 1]];
        let second: usize = edges.iter().map(|&j| usize::from(side[j as usize])).sum();
        match (2 * second).cmp(&edges.len()) {
            std::cmp::Ordering::Greater => 1,
            std::cmp::Ordering::Less => 0,
            std::cmp::Ordering::Equal => edges.first().map_or(0, |&j| side[j as usize]),
        }
    };
    // Every axis and a few cut points near its median, judged on a sample of the persons by
    // how many have an edge across the cut (each is work for the repair).
    let sample: Vec<usize> = (0..n).step_by(SAMPLE_STEP).collect();
    let mut best: Option<(usize, Vec<u8>)> = None;
    for (x, y) in [(0, 1), (2, 3), (0, 2), (0, 3), (1, 2), (1, 3)] {
        let key = axis_key(x, y);
        let mut keys: Vec<i64> =
            sample.iter().map(|&i| adj.get(off[i]).map_or(i64::MIN, |&j| key[j as usize])).collect();
        keys.sort_unstable();
        for q in CUT_QUANTILES {
            let cut = keys[(keys.len() - 1) * q / 100];
            let side: Vec<u8> = key.iter().map(|&k| u8::from(k > cut)).collect();
            let crossing = sample
                .par_iter()
                .filter(|&&i| {
                    let h = majority(&side, i);
                    adj[off[i]..off[i + 1]].iter().any(|&j| side[j as usize] != h)
                })
                .count();
            if best.as_ref().is_none_or(|(b, _)| crossing < *b) {
                best = Some((crossing, side));
            }
        }
    }
    let (_, mut side) = best?;
    let mut person_side: Vec<u8> = (0..n).into_par_iter().map(|i| majority(&side, i)).collect();
    // Label propagation: every offer joins the side most of its persons are on, then every
    // person the side most of its offers are on. A cut through a town moves out of it (on geo
    // 200k the persons with an edge across fall from ~19 k to ~9 k in two rounds). Votes are
    // integer sums, so the result does not depend on how the work was shared out.
    for _ in 0..REFINE_ROUNDS {
        let votes = (0..n)
            .into_par_iter()
            .with_min_len(VOTE_CHUNK)
            .fold(
                || vec![0i32; m],
                |mut votes, i| {
                    let v = if person_side[i] == 1 { 1 } else { -1 };
                    for &j in &adj[off[i]..off[i + 1]] {
                        votes[j as usize] += v;
                    }
                    votes
                },
            )
            .reduce(
                || vec![0i32; m],
                |mut a, b| {
                    for (x, y) in a.iter_mut().zip(b) {
                        *x += y;
                    }
                    a
                },
            );
        for (s, v) in side.iter_mut().zip(votes) {
            if v != 0 {
                *s = u8::from(v > 0);
            }
        }
        person_side = (0..n).into_par_iter().map(|i| majority(&side, i)).collect();
    }
    let in_second = person_side.iter().filter(|&&s| s == 1).count();
    if std::env::var_os("MATCHER_TRACE_SPLIT").is_some() {
        let cut_persons = (0..n).filter(|&i| adj[off[i]..off[i + 1]].iter().any(|&j| side[j as usize] != person_side[i])).count();
        let cut_edges: usize = (0..n).map(|i| adj[off[i]..off[i + 1]].iter().filter(|&&j| side[j as usize] != person_side[i]).count()).sum();
        let maxd = dist_a.iter().filter(|&&d| d != u32::MAX).max();
        eprintln!("[split] second half {in_second} of {n}; cut persons {cut_persons}, cut edges {cut_edges}, diameter {maxd:?}, {:.3}s, {} ticks", t0.elapsed().as_secs_f64(), super::auction::thread_ticks() - tk);
    }
    if in_second * MIN_SHARE < n || (n - in_second) * MIN_SHARE < n {
        return None;
    }
    let half = |h: u8| {
        let rows: Vec<u32> = (0..n as u32).filter(|&k| person_side[k as usize] == h).collect();
        let persons = rows.iter().map(|&k| c.persons[k as usize]).collect();
        let current = if c.current.is_empty() {
            Vec::new()
        } else {
            rows.iter().map(|&k| c.current[k as usize]).collect()
        };
        let start =
            if c.start.is_empty() { Vec::new() } else { rows.iter().map(|&k| c.start[k as usize]).collect() };
        let cap = c.cap.iter().zip(&side).map(|(&k, &s)| if s == h { k } else { 0 }).collect();
        Component {
            persons,
            offers: c.offers.clone(),
            cap,
            off: Cow::Borrowed(off),
            adj: Cow::Borrowed(adj),
            w: Cow::Borrowed(&c.w[..]),
            current,
            start,
            rows: Some(rows),
        }
    };
    Some([half(0), half(1)])
}
