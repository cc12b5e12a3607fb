//! Candidate graph build at national scale (`matcher gen --scale national --seed 1`: about
//! 250,000 candidates and 33,000 offers), on a 2-thread pool, K from the national policy (64).
//!
//! Also the service's ranking of one candidate's suggestions (`graph::rank`, k = 5) over the
//! same offers, without prices and with the night's least dual prices (`rank/…`): every 250th
//! candidate, all offers open.
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

    // The night's prices, as a tenant's last batch run gives them to the service.
    let options = matcher_core::batch::BatchOptions { today: Some(today), threads: 2, ..Default::default() };
    let night =
        matcher_core::batch::run(Arc::new(data.clone()), Arc::new(r.clone()), Arc::new(policies), &options)
            .expect("night");
    let prices = night.solution.offer_prices.clone();
    let index = graph::Index::new(&scorer);
    let sample: Vec<_> = data.candidates.iter().step_by(250).collect();
    // What the ranking with prices scores (the pairs it prunes are its saving), and how often
    // it asks for a price (the service's price is a look-up by offer id).
    let (mut scored, mut pruned, mut in_reach) = (0u64, 0u64, 0u64);
    let asked = std::cell::Cell::new(0u64);
    for c in &sample {
        let price = |o: usize| {
            asked.set(asked.get() + 1);
            prices.get(o).copied().unwrap_or(0)
        };
        let counts = graph::rank(&index, &scorer, c, 5, |_| 1, Some(price)).expect("rank").counts;
        (scored, pruned, in_reach) = (
            scored + u64::from(counts.feasible),
            pruned + u64::from(counts.pruned),
            in_reach + u64::from(counts.in_reach),
        );
    }
    let per = |n: u64| n as f64 / sample.len().max(1) as f64;
    eprintln!(
        "ranking with the night's prices, per candidate: {:.0} offers in reach, {:.0} scored, {:.0} pruned, \
         {:.0} prices asked",
        per(in_reach),
        per(scored),
        per(pruned),
        per(asked.get())
    );
    let mut group = c.benchmark_group("rank");
    group.sample_size(10);
    group.bench_function(format!("{}_k5_no_prices", scale.label()), |b| {
        b.iter(|| {
            for c in &sample {
                graph::rank(&index, &scorer, c, 5, |_| 1, None::<fn(usize) -> i64>).expect("rank");
            }
        })
    });
    group.bench_function(format!("{}_k5_night_prices", scale.label()), |b| {
        b.iter(|| {
            for c in &sample {
                let price = |o: usize| prices.get(o).copied().unwrap_or(0);
                graph::rank(&index, &scorer, c, 5, |_| 1, Some(price)).expect("rank");
            }
        })
    });
    group.finish();
}

criterion_group!(benches, graph_build);
criterion_main!(benches);
