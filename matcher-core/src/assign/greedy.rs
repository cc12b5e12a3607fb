//! Heaviest edge first: the baseline the exact solver is compared with.

use rayon::prelude::*;

use super::{Problem, Solution, SolveOptions};

/// Locked pairs first, then every positive edge (continuity bonus included) from the heaviest
/// down, ties to the lower candidate then the lower offer, taken when both ends have room.
/// Minimum volumes are not pursued (their shortfall is reported by `solve`).
///
/// # Complexity
/// `O(E log E)` time (parallel sort), `O(E)` memory.
pub(crate) fn greedy(problem: &Problem, options: &SolveOptions) -> Solution {
    let n = problem.n_candidates;
    let mut room = problem.capacity.clone();
    let mut assignment = vec![None; n];
    for i in (0..n).filter(|&i| problem.is_locked(i)) {
        let j = problem.current_of(i).expect("validated: a locked candidate has a current offer");
        room[j as usize] -= 1;
        assignment[i] = Some(j);
    }
    let bonus = options.continuity_bonus;
    let mut edges: Vec<(i64, u32, u32)> = (0..n)
        .into_par_iter()
        .filter(|&i| !problem.is_locked(i))
        .flat_map_iter(|i| {
            let cur = problem.current_of(i);
            let (offs, ws) = problem.edges(i);
            offs.iter().zip(ws).filter_map(move |(&j, &w)| {
                let w = if cur == Some(j) { w + bonus } else { w };
                (w > 0).then_some((-w, i as u32, j))
            })
        })
        .collect();
    edges.par_sort_unstable();
    for (_, i, j) in edges {
        if assignment[i as usize].is_none() && room[j as usize] > 0 {
            room[j as usize] -= 1;
            assignment[i as usize] = Some(j);
        }
    }
    Solution { assignment, ..Solution::default() }
}
