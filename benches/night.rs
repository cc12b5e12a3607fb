//! The night's work around the graph and the exact solve (issue 18): the stable and greedy
//! baselines, the morning report's numbers and the proposal records of `proposals.jsonl`, on
//! one generated night, on a 2-thread pool; and the whole night (`batch::run`) on 2 threads.
//!
//! `cargo bench -p matcher-core --bench night` runs the municipality scale (`NIGHT_BENCH_SCALE=
//! national` for the national one, ~1 min to set up). Under `cargo test --benches` (CI's smoke
//! run) the demo scale is used.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use matcher_core::assign::{Mode, SolveOptions, solve};
use matcher_core::batch::{self, BatchOptions, ProposalRecord, report};
use matcher_core::model::{ContractKind, Date, ReferenceData};
use matcher_core::policy::PolicySet;
use matcher_core::{Scale, generate};

fn night(c: &mut Criterion) {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    let smoke = !std::env::args().any(|a| a == "--bench");
    let scale = match std::env::var("NIGHT_BENCH_SCALE").as_deref() {
        _ if smoke => Scale::Demo,
        Ok("national") => Scale::National,
        _ => Scale::Municipality,
    };
    let r = Arc::new(ReferenceData::embedded().expect("reference"));
    let data = Arc::new(generate(scale, 7, &r));
    let today = Date::parse("2026-11-02").expect("date");
    let pool = rayon::ThreadPoolBuilder::new().num_threads(2).build().expect("pool");
    let options = BatchOptions { today: Some(today), threads: 2, ..BatchOptions::default() };
    let policies = Arc::new(PolicySet::default());
    let result = batch::run(data.clone(), r.clone(), policies.clone(), &options).expect("night");
    let night = result.night.clone();
    let problem = batch::problem_of_night(&night, &result);
    let stable = SolveOptions { mode: Mode::Stable, threads: 2, ..SolveOptions::default() };
    eprintln!(
        "{} candidates, {} offers, {} edges, {} matched",
        night.candidates.len(),
        night.offers.len(),
        problem.n_edges(),
        result.solution.matched()
    );
    let mut group = c.benchmark_group(format!("night_{}", scale.label()));
    group.sample_size(10);
    // `batch::run` builds its own pool of `options.threads`.
    group.bench_function("run", |b| {
        b.iter(|| batch::run(data.clone(), r.clone(), policies.clone(), &options).expect("night"))
    });
    // The exact solve of the night's problem alone, with the strategic partners' guaranteed
    // places as the night has them (`batch::problem_of`), on 2 threads.
    let mut guaranteed = problem.clone();
    guaranteed.min_volume = night
        .offers
        .iter()
        .map(|o| match o.contract {
            Some(ContractKind::StrategicPartner) => o.guaranteed_volume.min(o.capacity),
            _ => 0,
        })
        .collect();
    let exact = SolveOptions { mode: Mode::Exact, threads: 2, ..SolveOptions::default() };
    group.bench_function("exact_solve", |b| b.iter(|| solve(black_box(&guaranteed), &exact).expect("exact")));
    group.bench_function("baselines_stable_then_greedy", |b| {
        b.iter(|| {
            let s = solve(black_box(&problem), &stable).expect("stable");
            let g = solve(black_box(&problem), &SolveOptions { mode: Mode::Greedy, ..stable.clone() })
                .expect("greedy");
            (s, g)
        })
    });
    group.bench_function("baselines_together", |b| {
        b.iter(|| matcher_core::assign::solve_baselines(black_box(&problem), &stable).expect("baselines"))
    });
    group.bench_function("report_build", |b| b.iter(|| pool.install(|| report::build(&night, &r, &result))));
    group.bench_function("proposal_records_serde", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            for p in &result.proposals {
                serde_json::to_writer(&mut out, &ProposalRecord::new(p, &night)).expect("json");
                out.push(b'\n');
            }
            out
        })
    });
    group.bench_function("proposal_records_written", |b| {
        b.iter(|| {
            let mut out = Vec::new();
            for p in &result.proposals {
                batch::write_record_json(p, &night, &mut out).expect("json");
                out.push(b'\n');
            }
            out
        })
    });
    group.finish();
}

criterion_group!(benches, night);
criterion_main!(benches);
