//! The exact solver on small instances with every side constraint, cold and then warm from
//! its own duals after a few candidates changed (the nightly case, which takes the
//! shortest-path repair) and from prices taken straight from the input (anything a run file
//! could hold). Nothing may panic, every solution must verify with gap 0, and every warm
//! start must reach the cold optimum.
#![no_main]

use libfuzzer_sys::fuzz_target;
use matcher_core::assign::{Problem, SolveOptions, solve, verify};

/// Reads the fuzzer's bytes as small numbers; zeros once they run out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else { return 0 };
        self.0 = rest;
        b
    }
    fn below(&mut self, n: u32) -> u32 {
        u32::from(self.byte()) % n.max(1)
    }
}

fn problem(b: &mut Bytes<'_>) -> (Problem, i64) {
    let n = 8 + b.below(56) as usize;
    let m = 1 + b.below(12) as usize;
    let capacity: Vec<u32> = (0..m).map(|_| b.below(5)).collect();
    let (mut offsets, mut offers, mut weights) = (vec![0], Vec::new(), Vec::new());
    for _ in 0..n {
        let mask = u32::from(b.byte()) | (u32::from(b.byte()) << 8);
        for j in (0..m).filter(|j| mask >> j & 1 == 1) {
            offers.push(j as u32);
            weights.push(i64::from(b.byte()) - 20);
        }
        offsets.push(offers.len());
    }
    let mut p = Problem { n_candidates: n, capacity, offsets, offers, weights, ..Problem::default() };
    let mut locked_on = vec![0u32; m];
    p.current = vec![None; n];
    p.locked = vec![false; n];
    for i in 0..n {
        let (offs, _) = p.edges(i);
        let k = b.byte() as usize;
        if k % 3 == 0 && !offs.is_empty() {
            let j = offs[k / 3 % offs.len()];
            p.current[i] = Some(j);
            if k % 9 == 0 && locked_on[j as usize] < p.capacity[j as usize] {
                locked_on[j as usize] += 1;
                p.locked[i] = true;
            }
        }
    }
    p.min_volume = p.capacity.iter().map(|&c| b.below(c + 1)).collect();
    let bonus = i64::from(b.below(6));
    (p, bonus)
}

fn check(p: &Problem, o: &SolveOptions, best: i128, what: &str) {
    let s = solve(p, o).expect("a valid problem solves");
    let c = verify(p, &s).expect("a solution verifies");
    assert_eq!(c.gap, Some(0), "{what}: gap");
    assert_eq!(c.modified_primal, best, "{what}: not the cold optimum");
}

fuzz_target!(|data: &[u8]| {
    let mut b = Bytes(data);
    let (p, bonus) = problem(&mut b);
    if p.validate().is_err() {
        return;
    }
    let cold_options = SolveOptions { continuity_bonus: bonus, ..SolveOptions::default() };
    let first = solve(&p, &cold_options).expect("a valid problem solves");
    // Tonight: a few candidates changed, yesterday's result is the current offers.
    let mut q = p.clone();
    for _ in 0..1 + b.below(3) {
        let i = b.below(q.n_candidates as u32) as usize;
        for e in q.offsets[i]..q.offsets[i + 1] {
            q.weights[e] = i64::from(b.byte()) - 20;
        }
    }
    q.current = first.assignment.iter().zip(&p.current).zip(&p.locked).map(|((a, c), l)| if *l { *c } else { *a }).collect();
    if q.validate().is_err() {
        return;
    }
    let cold = solve(&q, &cold_options).expect("a valid problem solves");
    let best = verify(&q, &cold).expect("a solution verifies").modified_primal;
    let warm = SolveOptions {
        warm_start: Some(first.offer_prices.clone()),
        warm_assignment: Some(first.assignment.clone()),
        ..cold_options.clone()
    };
    check(&q, &warm, best, "warm from yesterday");
    let wild: Vec<i64> = (0..q.n_offers())
        .map(|_| match b.byte() {
            0 => i64::MAX,
            1 => i64::MIN,
            2 => 1 << 45,
            k => i64::from(k) * 7 - 300,
        })
        .collect();
    let from_file = SolveOptions { warm_start: Some(wild), ..warm };
    check(&q, &from_file, best, "warm from arbitrary prices");
});
