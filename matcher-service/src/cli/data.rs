//! The data set commands: `reference`, `gen`, `validate`, `graph` and `explain`.

use super::flags::{RunFlags, load};
use super::validate_explain::DataFlags;
use crate::cli::out::say;
use anyhow::Context;
use matcher_core::Scale;
use matcher_core::assign;
use matcher_core::dataset;
use matcher_core::graph;
use matcher_core::model::{Dataset, OfferKind, ReferenceData};
use matcher_core::score::Scorer;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// `matcher reference`: a one-line summary of the embedded reference data.
pub(super) fn reference(r: &ReferenceData) {
    say!(
        "{} municipalities, {} postcodes, {} ISCO-08 groups, {} target groups, {} benefit kinds",
        r.municipalities.len(),
        r.postcodes.len(),
        r.occupations.len(),
        r.target_groups.len(),
        r.benefit_kinds.len()
    );
}

/// `matcher gen`: writes a generated data set (and its next night with `changed`).
pub(super) fn generate(
    r: &ReferenceData,
    scale: Scale,
    seed: u64,
    out: &Path,
    snapshot: Option<&Path>,
    changed: Option<f64>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut data = matcher_core::generate(scale, seed, r);
    if let Some(fraction) = changed {
        data = matcher_core::next_night(&data, scale, seed, fraction, r);
    }
    let generated = started.elapsed();
    dataset::write_dir(&data, r, out)
        .with_context(|| format!("writing the data set to {}", out.display()))?;
    let caseworkers = matcher_core::r#gen::caseworkers(&data, seed);
    let path = out.join("caseworkers.csv");
    std::fs::write(&path, dataset::caseworkers_csv(&caseworkers, r)?)
        .with_context(|| format!("writing {}", path.display()))?;
    if let Some(path) = snapshot {
        dataset::write_snapshot(&data, path)
            .with_context(|| format!("writing the snapshot {}", path.display()))?;
    }
    say!("{} to {}", summary(&data), out.display());
    eprintln!(
        "generated in {} ms, written in {} ms",
        generated.as_millis(),
        (started.elapsed() - generated).as_millis()
    );
    Ok(())
}

/// `matcher graph`: builds the candidate graph and prints its size and timings as JSON.
pub(super) fn graph(
    r: ReferenceData,
    path: &Path,
    instance: Option<&Path>,
    run: &RunFlags,
    input: &DataFlags,
) -> anyhow::Result<()> {
    let policies = run.policy_set(&r)?;
    let pool = run.pool()?;
    let started = Instant::now();
    // Read on the run's threads (`--threads`), as the graph is built.
    let data = pool.install(|| load(path, &r, input))?;
    let load_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let scorer = Scorer::new(Arc::new(data), Arc::new(r), Arc::new(policies), run.today())?;
    let g = pool.install(|| graph::build(&scorer))?;
    let graph_seconds = started.elapsed().as_secs_f64();
    if let Some(file) = instance {
        let problem = matcher_core::batch::problem_of(scorer.data(), &scorer, &g);
        let writer = std::io::BufWriter::new(
            std::fs::File::create(file).with_context(|| format!("creating {}", file.display()))?,
        );
        assign::write_instance(&problem, writer).with_context(|| format!("writing {}", file.display()))?;
    }
    let sum = |f: fn(&graph::RowCounts) -> u32| g.counts.iter().map(|c| u64::from(f(c))).sum::<u64>();
    say!(
        "{}",
        serde_json::json!({
            "candidates": g.n_candidates(),
            "offers": g.n_offers,
            "edges": g.n_edges(),
            "pairs_in_reach": sum(|c| c.in_reach),
            "pairs_scored": sum(|c| c.feasible),
            "pairs_pruned": sum(|c| c.pruned),
            "candidates_without_edges": g.counts.iter().filter(|c| c.feasible == 0).count(),
            "threads": pool.current_num_threads(),
            "load_seconds": load_seconds,
            "graph_seconds": graph_seconds,
        })
    );
    Ok(())
}

/// `matcher explain`: every factor of one pair, or the hard limit that removes it.
pub(super) fn explain(
    r: ReferenceData,
    path: &Path,
    candidate: &str,
    offer: &str,
    run: &RunFlags,
    input: &DataFlags,
) -> anyhow::Result<()> {
    let policies = run.policy_set(&r)?;
    let data = load(path, &r, input)?;
    let ci = data
        .candidates
        .iter()
        .position(|c| c.id.as_str() == candidate)
        .with_context(|| format!("no candidate `{candidate}` in {}", path.display()))?;
    let oi = data
        .offers
        .iter()
        .position(|o| o.id.as_str() == offer)
        .with_context(|| format!("no offer `{offer}` in {}", path.display()))?;
    let scorer = Scorer::new(Arc::new(data), Arc::new(r), Arc::new(policies), run.today())?;
    let answer = match scorer.explain(ci, oi)? {
        Ok(explanation) => {
            serde_json::json!({ "candidate": candidate, "offer": offer, "explanation": explanation })
        }
        Err(removal) => {
            serde_json::json!({ "candidate": candidate, "offer": offer, "removed_by": removal })
        }
    };
    say!("{}", serde_json::to_string_pretty(&answer)?);
    Ok(())
}

pub(super) fn summary(data: &Dataset) -> String {
    let count = |kind| data.offers.iter().filter(|o| o.kind == kind).count();
    let evidence: usize = data.offers.iter().map(|o| o.evidence.len()).sum();
    let history = match data.outcomes.len() {
        0 => String::new(),
        n => format!(
            ", {n} episodes ({} without an offer)",
            data.outcomes.iter().filter(|e| e.offer.is_none()).count()
        ),
    };
    format!(
        "{} candidates, {} offers ({} provider, {} job, {} work trial, {} reciprocal help), {} providers, {} evidence rows{history}",
        data.candidates.len(),
        data.offers.len(),
        count(OfferKind::Provider),
        count(OfferKind::Job),
        count(OfferKind::WorkTrial),
        count(OfferKind::ReciprocalHelp),
        data.providers.len(),
        evidence
    )
}
