//! Candidate graph build at national scale (`matcher gen --scale national --seed 1`: about
//! 250,000 candidates and 33,000 offers), on a 2-thread pool, K from the national policy (64).
//!
//! `cargo bench -p matcher-core --bench graph`. Under `cargo test --benches` (CI's smoke run)
//! the demo scale is used instead, so that the smoke run stays quick.

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use matcher_core::model::{Date, ReferenceData};
use matcher_core::policy::PolicySet;
use matcher_core::score::Scorer;
use matcher_core::{Scale, generate, graph};

fn graph_build(c: &mut Criterion) {
    let smoke = std::env::args().any(|a| a == "--test" || a == "--list")
        && std::env::var_os("GRAPH_BENCH_NATIONAL").is_none();
    let scale = if smoke { Scale::Demo } else { Scale::National };
    let r = ReferenceData::embedded().expect("reference");
    let data = generate(scale, 1, &r);
    let policies = PolicySet::default();
    let today = Date::parse("2026-11-22").expect("date");
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("pool");
    let scorer = Scorer::new(Arc::new(data.clone()), Arc::new(r.clone()), Arc::new(policies.clone()), today)
        .expect("scorer");
    let g = pool.install(|| graph::build(&scorer)).expect("graph");
    let per_candidate = |f: fn(&graph::RowCounts) -> u32| {
        g.counts.iter().map(|c| f64::from(f(c))).sum::<f64>() / data.candidates.len().max(1) as f64
    };
    eprintln!(
        "{} candidates, {} offers, {} edges; per candidate: {:.0} offers in reach, {:.0} feasible",
        data.candidates.len(),
        data.offers.len(),
        g.n_edges(),
        per_candidate(|c| c.in_reach),
        per_candidate(|c| c.feasible),
    );
    let mut group = c.benchmark_group("graph");
    group.sample_size(10);
    group.bench_function(format!("build_{}_2_threads", scale.label()), |b| {
        b.iter(|| pool.install(|| graph::build(&scorer)).expect("graph"))
    });
    group.finish();
}

criterion_group!(benches, graph_build);
criterion_main!(benches);
