//! `matcher compare`: a procurement analysis. The same night on today's offer set and on a
//! scenario (a directory of replaced or added rows, `--add-places`), side by side, written
//! atomically to a directory: `compare.html` (Danish or English), `compare.json`, and CSV.
//!
//! Glue only: the scenario is read by `matcher_core::dataset::scenario`, applied and compared by
//! `matcher_core::batch::scenario`, both nights run by `matcher_core::batch::run`.

use crate::cli::flags::{RunFlags, load};
use crate::cli::out::say;
use crate::cli::report_html;
use crate::cli::run_dir::RunDir;
use crate::html::Lang;
use anyhow::Context;
use matcher_core::batch::scenario::{
    self, AddPlaces, Comparison, Night, PlaceValueLine, Scenario, SliceDelta,
};
use matcher_core::batch::{self, BatchOptions, report};
use matcher_core::dataset;
use matcher_core::model::{OfferId, ReferenceData};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Flags of `matcher compare`.
#[derive(clap::Args)]
pub struct CompareArgs {
    /// Data set: a directory of CSV/JSON tables, or a snapshot file (today's offer set).
    #[arg(long)]
    data: PathBuf,
    /// Scenario directory: `providers.csv`, `offers.csv`, `contracts.csv` (rows replace the
    /// data set's by id, or add), `remove.csv` (`table,id,reason`: offers closed to new
    /// candidates, contracts removed). See docs/procurement.md.
    #[arg(long)]
    scenario: Option<PathBuf>,
    /// One more place, or N more: `OFFER=N` (repeat for several offers), on top of the
    /// scenario directory.
    #[arg(long = "add-places", value_parser = parse_add_places)]
    add_places: Vec<AddPlaces>,
    /// Directory to publish (a symbolic link to the newest complete comparison).
    #[arg(long)]
    out: PathBuf,
    /// Language of compare.html: da (default) or en.
    #[arg(long, value_enum, default_value_t = Lang::Da)]
    lang: Lang,
    /// Offers whose one more place is priced in kroner (a warm re-solve each, on both nights),
    /// those with the highest dual price.
    #[arg(long, default_value_t = 10)]
    place_values: usize,
    /// No log lines on stderr; errors are still printed.
    #[arg(long)]
    quiet: bool,
    #[command(flatten)]
    run: RunFlags,
    #[command(flatten)]
    pub(crate) input: super::validate_explain::DataFlags,
}

/// `OFFER=N`, N ≥ 1.
fn parse_add_places(text: &str) -> Result<AddPlaces, String> {
    let (offer, places) =
        text.split_once('=').ok_or_else(|| format!("`{text}`: expected OFFER=N, e.g. course-00012=1"))?;
    let offer = OfferId::new(offer.trim()).map_err(|reason| format!("`{text}`: offer id: {reason}"))?;
    let places = places
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|&n| n >= 1)
        .ok_or_else(|| format!("`{text}`: N must be a whole number of places, at least 1"))?;
    Ok(AddPlaces { offer, places, source: format!("--add-places {text}") })
}

/// Runs `matcher compare`.
pub fn run(args: &CompareArgs, reference: ReferenceData) -> anyhow::Result<()> {
    if args.scenario.is_none() && args.add_places.is_empty() {
        anyhow::bail!("nothing to compare: give --scenario DIR, --add-places OFFER=N, or both");
    }
    let level = if args.quiet { tracing::Level::WARN } else { tracing::Level::INFO };
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_max_level(level)
        .try_init();
    let policies = Arc::new(args.run.policy_set(&reference)?);
    let today = args.run.today();
    let started = Instant::now();
    // Read on the run's threads (`--threads`), as the nights are run.
    let data = args.run.pool()?.install(|| load(&args.data, &reference, &args.input))?;
    // Read and checked before any work: a bad scenario stops the run before anything is written.
    let mut chosen = match &args.scenario {
        Some(dir) => match dataset::load_scenario(dir, &data, &reference, &args.input.options()) {
            Ok(scenario) => scenario,
            // Every bad row, one a line: a procurement officer fixes them in one go.
            Err(matcher_core::Error::InvalidData(problems)) => {
                let lines: Vec<String> = problems.0.iter().take(100).map(|p| format!("  {p}")).collect();
                anyhow::bail!(
                    "reading the scenario {}: {} problems\n{}",
                    dir.display(),
                    problems.0.len(),
                    lines.join("\n")
                );
            }
            Err(e) => return Err(e).with_context(|| format!("reading the scenario {}", dir.display())),
        },
        None => Scenario::default(),
    };
    if !args.add_places.is_empty() {
        let flags: Vec<String> =
            args.add_places.iter().map(|a| format!("+{} {}", a.places, a.offer)).collect();
        chosen.name = [chosen.name.clone(), flags.join(", ")]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" + ");
    }
    chosen.add_places.extend(args.add_places.iter().cloned());
    let (changed, changes) = scenario::apply(&data, &chosen).context("applying the scenario")?;
    tracing::info!(phase = %"load", seconds = secs(started), candidates = data.candidates.len(), offers = data.offers.len(), scenario_offers = changed.offers.len(), "data set and scenario loaded");

    let reference = Arc::new(reference);
    let options = BatchOptions {
        today: Some(today),
        threads: args.run.threads,
        compare_baselines: false,
        place_values: args.place_values,
        ..BatchOptions::default()
    };
    let data = Arc::new(data);
    let started = Instant::now();
    let mut tonight = batch::run(data.clone(), reference.clone(), policies.clone(), &options)?;
    let today_report = report::build(&data, &reference, &tonight);
    free_graph(&mut tonight);
    tracing::info!(phase = %"today", seconds = secs(started), solve_seconds = tonight.timings.solve_seconds, matched = tonight.solution.matched(), gap = ?tonight.certificate.gap, "today's offer set matched");

    // The scenario's night starts from today's duals and suggestions (offers by id): the warm
    // repair then only moves what the scenario's offers move.
    let prices: Vec<(String, i64)> =
        data.offers.iter().zip(&tonight.solution.offer_prices).map(|(o, &p)| (o.id.to_string(), p)).collect();
    let suggested: Vec<(String, String)> = tonight
        .solution
        .assignment
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            a.map(|j| (data.candidates[i].id.to_string(), data.offers[j as usize].id.to_string()))
        })
        .collect();
    let changed = Arc::new(changed);
    let warm = BatchOptions {
        warm_start: Some(batch::warm_start_prices(&changed, &prices)),
        warm_assignment: Some(batch::warm_start_assignment(&changed, &suggested)),
        ..options.clone()
    };
    drop((prices, suggested));
    let started = Instant::now();
    let mut other = batch::run(changed.clone(), reference.clone(), policies, &warm)?;
    let other_report = report::build(&changed, &reference, &other);
    free_graph(&mut other);
    tracing::info!(phase = %"scenario", seconds = secs(started), solve_seconds = other.timings.solve_seconds, warm_repair = other.solution.stats.warm_repair, matched = other.solution.matched(), gap = ?other.certificate.gap, "scenario matched");

    let comparison = scenario::compare(
        &chosen.name,
        &reference,
        &Night { data: &data, result: &tonight, report: &today_report },
        &Night { data: &changed, result: &other, report: &other_report },
        changes,
    )?;
    let started = Instant::now();
    let dir = RunDir::create(&args.out)?;
    let mut json = serde_json::to_vec_pretty(&comparison)?;
    json.push(b'\n');
    dir.write("compare.json", &json)?;
    dir.write("compare.html", report_html::compare::render(&comparison, args.lang).as_bytes())?;
    dir.write("compare_groups.csv", &slices_csv(&comparison.by_group, "target_group", false)?)?;
    dir.write("compare_municipalities.csv", &slices_csv(&comparison.by_municipality, "municipality", true)?)?;
    dir.write("place_values.csv", &place_values_csv(&comparison)?)?;
    let run_json = serde_json::json!({
        "program": concat!("matcher ", env!("CARGO_PKG_VERSION")),
        "date": comparison.date,
        "threads": args.run.threads,
        "today": tonight.timings,
        "scenario": other.timings,
        "scenario_warm_repair": other.solution.stats.warm_repair,
    });
    dir.write("run.json", &serde_json::to_vec_pretty(&run_json)?)?;
    let written = dir.publish()?;
    tracing::info!(phase = %"write", seconds = secs(started), out = %args.out.display(), run = %written.display(), "comparison published");
    let c = &comparison;
    say!(
        "{}: expected effect {:.0} -> {:.0} DKK ({:+.0}), spend {} -> {} DKK, matched {} -> {}, {} suggestions change; {}",
        c.scenario,
        c.today.effect_dkk,
        c.scenario_figures.effect_dkk,
        c.scenario_figures.effect_dkk - c.today.effect_dkk,
        c.today.spend_dkk,
        c.scenario_figures.spend_dkk,
        c.today.matched,
        c.scenario_figures.matched,
        c.churn.changed(),
        args.out.display()
    );
    Ok(())
}

fn secs(started: Instant) -> f64 {
    (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0
}

/// Nothing after the report reads the candidate graph: give its memory back before the next
/// night is built.
fn free_graph(result: &mut batch::BatchResult) {
    drop(std::mem::take(&mut result.graph.offers));
    drop(std::mem::take(&mut result.graph.weights));
    drop(std::mem::take(&mut result.graph.offsets));
    drop(std::mem::take(&mut result.graph.counts));
}

fn writer() -> csv::Writer<Vec<u8>> {
    csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new())
}

/// One row per group or municipality: both nights and the difference. Spend is counted per
/// municipality only (a course is bought by a municipality, not by a group), so the groups'
/// file has no spend columns rather than columns of zeros.
fn slices_csv(rows: &[SliceDelta], key: &str, with_spend: bool) -> anyhow::Result<Vec<u8>> {
    let mut w = writer();
    let mut header = vec![
        key,
        "name",
        "candidates",
        "matched_today",
        "matched_scenario",
        "match_rate_today",
        "match_rate_scenario",
        "effect_today_dkk",
        "effect_scenario_dkk",
        "effect_difference_dkk",
    ];
    if with_spend {
        header.extend(["spend_today_dkk", "spend_scenario_dkk"]);
    }
    header.push("suggestions_changed");
    w.write_record(&header)?;
    for r in rows {
        let mut record = vec![
            r.key.clone(),
            r.name.clone(),
            r.candidates.to_string(),
            r.matched.to_string(),
            r.matched_scenario.to_string(),
            format!("{:.4}", r.match_rate),
            format!("{:.4}", r.match_rate_scenario),
            format!("{:.0}", r.effect_dkk),
            format!("{:.0}", r.effect_scenario_dkk),
            format!("{:.0}", r.effect_delta_dkk()),
        ];
        if with_spend {
            record.extend([r.spend_dkk.to_string(), r.spend_scenario_dkk.to_string()]);
        }
        record.push(r.changed.to_string());
        w.write_record(&record)?;
    }
    w.into_inner().context("finishing a CSV file")
}

/// The offers whose one more place was priced, on both nights.
fn place_values_csv(c: &Comparison) -> anyhow::Result<Vec<u8>> {
    let mut w = writer();
    w.write_record([
        "night",
        "offer_id",
        "offer_name",
        "provider_id",
        "municipality",
        "capacity",
        "assigned",
        "dual_points",
        "resolve_gain_points",
        "value_of_one_more_place_dkk",
        "candidates_moved",
        "newly_matched",
    ])?;
    let lines = |night: &str, lines: &[PlaceValueLine], w: &mut csv::Writer<Vec<u8>>| -> anyhow::Result<()> {
        for l in lines {
            w.write_record([
                night.to_string(),
                l.offer.clone(),
                l.name.clone(),
                l.provider.clone(),
                l.municipality.clone(),
                l.capacity.to_string(),
                l.assigned.to_string(),
                l.value.dual_points.to_string(),
                l.value.gain_points.to_string(),
                format!("{:.0}", l.value.gain_dkk),
                l.value.moved.to_string(),
                l.value.newly_matched.to_string(),
            ])?;
        }
        Ok(())
    };
    lines("today", &c.place_values, &mut w)?;
    lines("scenario", &c.place_values_scenario, &mut w)?;
    w.into_inner().context("finishing a CSV file")
}
