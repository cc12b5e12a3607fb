//! Criterion benches of the assignment solvers on small generated instances (CONVENTIONS.md,
//! item 9). `cargo test --benches` smoke-runs them; real figures come from `cargo bench` and
//! from the peers harness on the large instances (see `docs/solver.md`).
//!
//! With `SOLVER_BENCH_LARGE` set, `cargo bench -p matcher-core --bench solver -- large` adds one
//! instance of the peers' geo 200k size (200,000 candidates, 20,000 offers, 64 edges each),
//! solved on 1 and on 2 threads, that no longer fits the caches. Its offers lie on a line and
//! each candidate's edges are consecutive offers, unlike the peers' towns (`gen.py geo`): a
//! change to the auction's memory access can differ between the two (session 9,
//! `docs/solver.md`).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use matcher_core::assign::{Mode, Problem, SolveOptions, solve};

/// A geo-like instance: `n` candidates, `m` offers on a line, each candidate linked to its `k`
/// nearest offers with a weight that falls with distance plus noise; capacities 1..=4.
fn geo(n: usize, m: usize, k: usize, seed: u64) -> Problem {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut rnd = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let capacity: Vec<u32> = (0..m).map(|_| 1 + (rnd() % 4) as u32).collect();
    let mut offsets = vec![0];
    let (mut offers, mut weights) = (Vec::new(), Vec::new());
    for i in 0..n {
        let centre = i * m / n.max(1);
        let lo = centre.saturating_sub(k / 2).min(m.saturating_sub(k));
        for j in lo..(lo + k).min(m) {
            let dist = centre.abs_diff(j) as i64;
            offers.push(j as u32);
            weights.push(1 + (10_000 - 400 * dist).max(0) + (rnd() % 2_000) as i64);
        }
        offsets.push(offers.len());
    }
    Problem::new(n, capacity, offsets, offers, weights).expect("valid instance")
}

/// A complete `n × m` instance with weights 0..=1000 (the dense Jonker–Volgenant path).
fn dense(n: usize, m: usize, seed: u64) -> Problem {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let offsets = (0..=n).map(|i| i * m).collect();
    let offers = (0..n * m).map(|e| (e % m) as u32).collect();
    let weights = (0..n * m)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 1001) as i64
        })
        .collect();
    Problem::new(n, vec![1; m], offsets, offers, weights).expect("valid instance")
}

fn bench(c: &mut Criterion) {
    let sparse = geo(5_000, 800, 16, 1);
    let square = dense(200, 200, 2);
    let wide = dense(200, 400, 3);
    let tall = dense(400, 200, 4);
    let mut g = c.benchmark_group("solve");
    g.sample_size(10);
    for (name, mode) in [("exact", Mode::Exact), ("stable", Mode::Stable), ("greedy", Mode::Greedy)] {
        let o = SolveOptions { mode, threads: 1, ..SolveOptions::default() };
        g.bench_function(format!("geo_5k/{name}"), |b| b.iter(|| solve(black_box(&sparse), &o).unwrap()));
    }
    let o = SolveOptions { threads: 1, ..SolveOptions::default() };
    g.bench_function("dense_200/exact", |b| b.iter(|| solve(black_box(&square), &o).unwrap()));
    g.bench_function("dense_200x400/exact", |b| b.iter(|| solve(black_box(&wide), &o).unwrap()));
    g.bench_function("dense_400x200/exact", |b| b.iter(|| solve(black_box(&tall), &o).unwrap()));
    // Warm start: yesterday's prices, 1 % of the candidates changed.
    let first = solve(&sparse, &o).unwrap();
    let mut changed = sparse.clone();
    for i in (0..changed.n_candidates).step_by(100) {
        for w in &mut changed.weights[changed.offsets[i]..changed.offsets[i + 1]] {
            *w = (*w * 7) % 12_000 + 1;
        }
    }
    let warm = SolveOptions {
        warm_start: Some(first.offer_prices.clone()),
        warm_assignment: Some(first.assignment.clone()),
        ..o.clone()
    };
    g.bench_function("geo_5k_1pct_changed/cold", |b| b.iter(|| solve(black_box(&changed), &o).unwrap()));
    g.bench_function("geo_5k_1pct_changed/warm", |b| b.iter(|| solve(black_box(&changed), &warm).unwrap()));
    g.finish();
    if std::env::var_os("SOLVER_BENCH_LARGE").is_some() {
        let large = geo(200_000, 20_000, 64, 11);
        let mut g = c.benchmark_group("solve_large");
        g.sample_size(10);
        g.bench_function("geo_200k/exact", |b| b.iter(|| solve(black_box(&large), &o).unwrap()));
        // Issue 18: two threads at least 1.6x one.
        let two = SolveOptions { threads: 2, ..o.clone() };
        g.bench_function("geo_200k/exact_2_threads", |b| b.iter(|| solve(black_box(&large), &two).unwrap()));
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
