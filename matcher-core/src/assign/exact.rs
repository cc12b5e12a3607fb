//! The exact mode's driver: reduces the problem, tries the warm repair, splits the rest into
//! components and solves each by Jonker–Volgenant (`dense.rs`, complete unit-capacity
//! components) or the auction (`auction.rs`), then joins the results into a [`Solution`].
//! Owns the order of these attempts; holds no solver arithmetic of its own, so `dense` and
//! `auction` need not know each other.

use rayon::prelude::*;

use super::auction::Schedule;
use super::prices::{self, ComponentRows, ModifiedRows};
use super::reduce::{CompResult, Component, Reduced};
use super::repair::WarmRepair;
use super::{NONE, Problem, Solution, SolveOptions, SolveStats};
use crate::error::Result;

pub(crate) fn solve_exact(
    problem: &Problem,
    options: &SolveOptions,
    policy: WarmRepair,
    schedule: Schedule,
) -> Result<Solution> {
    let red = Reduced::new(problem, options.continuity_bonus, options.guarantee_bonus)?;
    let m = problem.n_offers();
    let warm: Option<Vec<i64>> = options.warm_start.as_ref().filter(|w| w.len() == m).map(|w| {
        // Guaranteed places start at their regular price plus M: the optimum has them there
        // whenever both parts are in use.
        let mut node_price: Vec<i64> = w.iter().map(|p| (*p).max(0)).collect();
        node_price
            .extend(red.guarantee_offer.iter().map(|&j| w[j as usize].max(0).saturating_add(red.big_m)));
        node_price
    });
    let start = if warm.is_some() { options.warm_assignment.as_deref() } else { None };
    let n = problem.n_candidates;
    if let (Some(price), Some(start)) = (warm.as_deref(), start)
        && let Some(mut r) = super::repair::repair(problem, &red, price, start, policy)
    {
        // The repair's duals are exact but lean on yesterday's prices; the night reports the
        // least ones, whatever path it took.
        prices::make_least(&ModifiedRows { problem, red: &red }, &r.assigned, &mut r.price, &mut r.profit)?;
        let mut assignment: Vec<Option<u32>> = vec![None; n];
        for i in 0..n {
            if problem.is_locked(i) {
                assignment[i] = problem.current_of(i);
            } else if r.assigned[i] != NONE {
                let node = r.assigned[i] as usize;
                assignment[i] = Some(if node >= m { red.guarantee_offer[node - m] } else { node as u32 });
            }
        }
        let stats = SolveStats { iterations: r.searches, warm_repair: true, ..SolveStats::default() };
        return Ok(finish(problem, &red, assignment, r.profit, r.price, stats));
    }
    let comps = red.components(problem, start);
    let results: Vec<Result<CompResult>> =
        comps.par_iter().map(|c| solve_component(c, warm.as_deref(), schedule)).collect();

    let mut assignment: Vec<Option<u32>> = vec![None; n];
    let mut profit = vec![0i64; n];
    let mut node_price = vec![0i64; red.n_nodes()];
    let mut stats = SolveStats { components: comps.len(), ..SolveStats::default() };
    for i in (0..n).filter(|&i| problem.is_locked(i)) {
        assignment[i] = problem.current_of(i);
    }
    for (c, r) in comps.iter().zip(results) {
        let r = r?;
        stats.phases += r.phases;
        stats.iterations += r.iterations;
        stats.parts.add(&r.parts);
        stats.largest_component = stats.largest_component.max(c.persons.len());
        for (k, &i) in c.persons.iter().enumerate() {
            profit[i as usize] = r.profit[k];
            if r.assigned[k] != NONE {
                let node = c.offers[r.assigned[k] as usize] as usize;
                assignment[i as usize] =
                    Some(if node >= m { red.guarantee_offer[node - m] } else { node as u32 });
            }
        }
        for (l, &node) in c.offers.iter().enumerate() {
            node_price[node as usize] = r.price[l];
        }
    }
    Ok(finish(problem, &red, assignment, profit, node_price, stats))
}

/// Candidates whose edges one task reads for the prices of nodes without places.
const CLOSED_BLOCK: usize = 4096;

/// The solution from global results: prices of nodes without places, split of the prices.
fn finish(
    problem: &Problem,
    red: &Reduced,
    assignment: Vec<Option<u32>>,
    profit: Vec<i64>,
    mut node_price: Vec<i64>,
    stats: SolveStats,
) -> Solution {
    let (n, m) = (problem.n_candidates, problem.n_offers());
    // Nodes without places (all taken by locks, or all guaranteed) take no part in the
    // auction; any price that covers their edges is a valid dual and costs nothing. Every
    // edge is read, in blocks of candidates on the pool's threads (a maximum: the same in
    // any order).
    let closed: Vec<usize> = (0..red.n_nodes()).filter(|&x| red.cap[x] == 0).collect();
    if !closed.is_empty() {
        let mut slot = vec![NONE; red.n_nodes()];
        for (k, &x) in closed.iter().enumerate() {
            slot[x] = k as u32;
        }
        let most = |mut a: Vec<i64>, b: Vec<i64>| {
            a.iter_mut().zip(b).for_each(|(x, y)| *x = (*x).max(y));
            a
        };
        let covers = (0..n)
            .into_par_iter()
            .with_min_len(CLOSED_BLOCK)
            .fold(
                || vec![i64::MIN; closed.len()],
                |mut covers, i| {
                    red.for_each_edge_all(problem, i, |node, w| {
                        if let Some(c) = covers.get_mut(slot[node as usize] as usize) {
                            *c = (*c).max(w - profit[i]);
                        }
                    });
                    covers
                },
            )
            .reduce(|| vec![i64::MIN; closed.len()], most);
        for (&x, cover) in closed.iter().zip(covers) {
            node_price[x] = node_price[x].max(cover);
        }
    }
    let guarantee_prices = node_price.split_off(m);
    Solution {
        assignment,
        objective: 0,
        offer_prices: node_price,
        guarantee_prices,
        candidate_profits: profit,
        guarantee_bonus: red.big_m,
        stats,
        ..Solution::default()
    }
}

/// One component: Jonker–Volgenant when it is complete with unit capacities, else the auction.
fn solve_component(c: &Component, warm: Option<&[i64]>, schedule: Schedule) -> Result<CompResult> {
    match super::dense::solve(c) {
        Some(mut r) => {
            prices::make_least(&ComponentRows { c, scale: 1 }, &r.assigned, &mut r.price, &mut r.profit)?;
            Ok(r)
        }
        None => super::auction::solve_component(c, warm, schedule),
    }
}
