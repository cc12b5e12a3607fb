//! The optimality certificate, checked independently of the solver: it reads only the
//! [`Problem`] and the [`Solution`], never solver state.
//!
//! What is proven. Let `w'` be the weight plus the continuity bonus, `c'_j` the capacity minus
//! the locked candidates of `j`, `L'_j` the residual minimum volume and `M` the guarantee bonus
//! (see the `assign` module header). The certificate is about the *modified problem*: unlocked
//! candidates only, offer `j` split into `L'_j` guaranteed places worth `w' + M` and
//! `c'_j − L'_j` regular places worth `w'`. Its LP dual is
//! `min Σ_i π_i + Σ_j (c'_j − L'_j)·p_j + Σ_j L'_j·q_j` subject to `π_i + p_j ≥ w'_ij`,
//! `π_i + q_j ≥ w'_ij + M`, `π, p, q ≥ 0`. Any feasible dual bounds every assignment from
//! above (weak duality), so `gap = dual − primal = 0` proves the assignment optimal for the
//! modified problem: it fills the most guaranteed places possible and, among those, has the
//! maximum weight. Locked pairs are fixed data, not decisions, so they are outside both sides.

use super::reduce::{guarantee_bonus, residual};
use super::{Problem, Solution, edge_weight, row_blocks};
use crate::error::{Error, Result};
use rayon::prelude::*;

/// What [`verify`] established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    /// The objective as defined on [`Solution::objective`], recomputed.
    pub objective: i64,
    /// Primal value of the modified problem: `Σ w'` over unlocked assigned candidates plus
    /// `M · Σ_j min(L'_j, unlocked assigned to j)`.
    pub modified_primal: i128,
    /// Dual objective, `None` when the solution carries no duals (modes other than exact).
    pub dual: Option<i128>,
    /// `dual − modified_primal` (0 = proven optimal), `None` without duals.
    pub gap: Option<i128>,
    /// The guarantee bonus `M` (0 without minimum volumes).
    pub big_m: i64,
}

/// Checks primal feasibility (one offer per candidate, edges exist, capacities, locks kept)
/// and, when the solution carries duals, dual feasibility (`π_i + p_j ≥ w'_ij` on every edge,
/// the same with `q_j` and `+ M` on guaranteed places, all duals `≥ 0`, locked candidates'
/// profits 0) and the duality gap. Sums are in `i128`, so nothing overflows.
///
/// # Errors
/// [`Error::Problem`] naming the first violated condition (candidate, offer, values).
///
/// # Complexity
/// `O(n + m + E)`.
pub fn verify(problem: &Problem, solution: &Solution) -> Result<Certificate> {
    problem.validate()?;
    let n = problem.n_candidates;
    let m = problem.n_offers();
    let bonus = solution.continuity_bonus;
    if solution.assignment.len() != n {
        return bad(format!("assignment has {} entries, expected {n}", solution.assignment.len()));
    }
    let (cap, lower) = residual(problem);
    // The certificate is for the bonus the solution was computed with; without one (stable,
    // greedy) the primal value is stated with the safe bonus.
    let big_m = if lower.iter().all(|&l| l == 0) {
        0
    } else if solution.guarantee_bonus > 0 {
        solution.guarantee_bonus
    } else {
        guarantee_bonus(problem, bonus, &lower)?
    };

    // Primal feasibility and value.
    let mut total = vec![0u64; m];
    let mut unlocked = vec![0u32; m];
    let mut objective: i128 = 0;
    let mut primal: i128 = 0;
    for (i, a) in solution.assignment.iter().enumerate() {
        let locked = problem.is_locked(i);
        if locked && *a != problem.current_of(i) {
            return bad(format!(
                "candidate {i} is locked to {:?} but assigned to {a:?}",
                problem.current_of(i)
            ));
        }
        let Some(j) = *a else { continue };
        if j as usize >= m {
            return bad(format!("candidate {i}: offer {j} out of range"));
        }
        let Some(w) = edge_weight(problem, bonus, i, j) else {
            return bad(format!("candidate {i} is assigned to offer {j}, which is not one of its edges"));
        };
        total[j as usize] += 1;
        objective += i128::from(w);
        if !locked {
            unlocked[j as usize] += 1;
            primal += i128::from(w);
        }
    }
    for j in 0..m {
        if total[j] > u64::from(problem.capacity[j]) {
            return bad(format!("offer {j} holds {} candidates, capacity {}", total[j], problem.capacity[j]));
        }
        primal += i128::from(big_m) * i128::from(lower[j].min(unlocked[j]));
    }
    let objective = i64::try_from(objective).map_err(|_| Error::Problem("objective overflows i64".into()))?;
    if objective != solution.objective {
        return bad(format!(
            "reported objective {} but the assignment is worth {objective}",
            solution.objective
        ));
    }
    let mut cert = Certificate { objective, modified_primal: primal, dual: None, gap: None, big_m };
    if solution.mode != super::Mode::Exact {
        return Ok(cert);
    }

    // Dual feasibility and value.
    let (p, pi, q) = (&solution.offer_prices, &solution.candidate_profits, &solution.guarantee_prices);
    let guaranteed: Vec<usize> = (0..m).filter(|&j| lower[j] > 0).collect();
    if p.len() != m || pi.len() != n || q.len() != guaranteed.len() {
        return bad(format!(
            "duals have lengths {}/{}/{}, expected {m} prices, {n} profits, {} guarantee prices",
            p.len(),
            pi.len(),
            q.len(),
            guaranteed.len()
        ));
    }
    let mut q_of = vec![None; m];
    for (k, &j) in guaranteed.iter().enumerate() {
        q_of[j] = Some(q[k]);
    }
    if let Some(j) = (0..m).find(|&j| p[j] < 0 || q_of[j].is_some_and(|x| x < 0)) {
        return bad(format!("offer {j}: negative price"));
    }
    // Every edge's dual constraint, a block of rows at a time on the caller's threads (the
    // certificate is on a national night's critical path, with the other core idle); the
    // first broken row in candidate order is named, and the sum is of integers, so neither
    // depends on the threads.
    let row = |i: usize| -> Result<i128> {
        if problem.is_locked(i) {
            if pi[i] != 0 {
                return bad(format!("candidate {i} is locked but has profit {}", pi[i]));
            }
            return Ok(0);
        }
        if pi[i] < 0 {
            return bad(format!("candidate {i}: negative profit {}", pi[i]));
        }
        let cur = problem.current_of(i);
        let (offs, ws) = problem.edges(i);
        for (&j, &w) in offs.iter().zip(ws) {
            let w = i128::from(w) + if cur == Some(j) { i128::from(bonus) } else { 0 };
            let ju = j as usize;
            if i128::from(pi[i]) + i128::from(p[ju]) < w {
                return bad(format!("edge ({i}, {j}): profit {} + price {} < weight {w}", pi[i], p[ju]));
            }
            if let Some(qj) = q_of[ju]
                && i128::from(pi[i]) + i128::from(qj) < w + i128::from(big_m)
            {
                return bad(format!("edge ({i}, {j}): profit {} + guarantee price {qj} < {w} + M", pi[i]));
            }
        }
        Ok(i128::from(pi[i]))
    };
    let blocks: Vec<Result<i128>> = row_blocks(n).map(|rows| rows.map(row).sum()).collect();
    let mut dual: i128 = 0;
    for block in blocks {
        dual += block?;
    }
    for j in 0..m {
        dual += i128::from(cap[j] - lower[j]) * i128::from(p[j]);
        if let Some(qj) = q_of[j] {
            dual += i128::from(lower[j]) * i128::from(qj);
        }
    }
    cert.dual = Some(dual);
    cert.gap = Some(dual - primal);
    Ok(cert)
}

fn bad<T>(s: String) -> Result<T> {
    Err(Error::Problem(s))
}
