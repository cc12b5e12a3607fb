//! `matcher batch`: the nightly re-matching run, end to end, with its files.
//!
//! Loads the data set, runs `matcher_core::batch`, and writes the run directory atomically
//! (see `run_dir`). Every file but `run.json` is deterministic: the same inputs give the same
//! bytes, whatever the number of threads. `run.json` holds what differs between runs of the
//! same inputs: phase timings, threads, the program version.

use crate::cli::flags::{RunFlags, load};
use crate::cli::report_html;
use crate::cli::run_dir::RunDir;
use crate::html::Lang;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use matcher_core::batch::{self, BatchOptions, BatchResult, Proposal, caseload, report};
use matcher_core::dataset;
use matcher_core::dataset::previous::fingerprint_text;
use matcher_core::effect::quality_csv;
use matcher_core::model::{Caseworker, Dataset, ReferenceData};
use matcher_core::progress::{Phase, Progress};
use matcher_core::score::Factor;
use rayon::prelude::*;
use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// Flags of `matcher batch`.
#[derive(clap::Args)]
pub struct BatchArgs {
    /// Data set: a directory of CSV/JSON tables, or a snapshot file.
    #[arg(long)]
    data: PathBuf,
    /// Run directory to publish (a symbolic link to the newest complete run).
    #[arg(long)]
    out: PathBuf,
    /// The previous run directory: each suggestion is compared with it (kept, changed and
    /// why, new, dropped), yesterday's pairs carry the policy's `stability.least_gain_points`,
    /// and its prices and suggestions warm-start the solver.
    #[arg(long)]
    previous: Option<PathBuf>,
    /// Language of report.html: da (default) or en.
    #[arg(long, value_enum, default_value_t = Lang::Da)]
    lang: Lang,
    /// Extra points for keeping a candidate's current offer, on top of the policy's continuity
    /// factor.
    #[arg(long, default_value_t = 0)]
    continuity_bonus: i64,
    /// Skip the stable and greedy baselines (the report's comparison shows the optimum only).
    #[arg(long)]
    no_baselines: bool,
    /// Price the contract rules: the report's "what the contract rules cost" re-solves the
    /// night once without each rule that changes something tonight. Off by default: on the
    /// national night it doubles the run (7.3 s to 14.6 s, 1.26 to 1.70 GB), for a figure a
    /// procurement analysis needs, not every night.
    #[arg(long)]
    rule_costs: bool,
    /// Caseworkers (CSV, or JSON when the name ends in .json): also propose which caseworker
    /// takes each new candidate, balancing caseloads under the caps (`caseloads.csv`).
    #[arg(long)]
    caseworkers: Option<PathBuf>,
    /// No progress or log lines on stderr; errors are still printed.
    #[arg(long)]
    quiet: bool,
    /// Also write the proposals, prices, caseloads and the report's overview tables as Danish
    /// Excel CSV (`NAME.excel.csv`: `;`, decimal comma, UTF-8 with BOM).
    #[arg(long)]
    excel: bool,
    #[command(flatten)]
    run: RunFlags,
    #[command(flatten)]
    pub(crate) input: super::validate_explain::DataFlags,
}

/// Progress bars and log lines on stderr.
///
/// The core counts its progress in a [`Progress`]; a thread polls it and draws one bar (a
/// spinner for phases that are not counted). indicatif draws nothing when stderr is not a
/// terminal, and `--quiet` hides the bar and the info lines (warnings and errors still show).
/// Log lines are structured (`tracing`) and are written with the bar suspended, so the two
/// never garble each other.
struct Console {
    bar: ProgressBar,
    progress: Arc<Progress>,
    stop: Arc<AtomicBool>,
    poller: Option<std::thread::JoinHandle<()>>,
}

/// Writes one log line with the progress bar out of the way.
struct BarWriter(ProgressBar);

impl std::io::Write for BarWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.suspend(|| std::io::stderr().write_all(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl Console {
    fn start(quiet: bool) -> Console {
        let target = if quiet { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() };
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(style(SPINNER));
        let writer = bar.clone();
        let level = if quiet { tracing::Level::WARN } else { tracing::Level::INFO };
        // Fails only when a subscriber is already set (never in the `matcher` binary).
        let _ = tracing_subscriber::fmt()
            .with_writer(move || BarWriter(writer.clone()))
            .with_target(false)
            .with_max_level(level)
            .try_init();
        let progress = Arc::new(Progress::default());
        let stop = Arc::new(AtomicBool::new(false));
        let poller = (!quiet && !bar.is_hidden()).then(|| {
            let (bar, progress, stop) = (bar.clone(), progress.clone(), stop.clone());
            std::thread::spawn(move || draw(&bar, &progress, &stop))
        });
        Console { bar, progress, stop, poller }
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(poller) = self.poller.take() {
            poller.thread().unpark();
            let _ = poller.join();
        }
        self.bar.finish_and_clear();
    }
}

const SPINNER: &str = "{spinner} {msg} {elapsed}";
const COUNTED: &str = "{spinner} {msg} [{bar:30}] {human_pos}/{human_len} {elapsed}";

fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template).unwrap_or_else(|_| ProgressStyle::default_spinner())
}

/// Follows `progress` on `bar` until `stop`.
fn draw(bar: &ProgressBar, progress: &Progress, stop: &AtomicBool) {
    let (counted, spinner) = (style(COUNTED), style(SPINNER));
    let mut shown = None;
    while !stop.load(Ordering::Relaxed) {
        let now = progress.snapshot();
        if now.phase != shown {
            shown = now.phase;
            bar.reset();
            bar.set_style(if now.total > 0 { counted.clone() } else { spinner.clone() });
            bar.set_length(now.total);
            bar.set_message(now.phase.map_or("", Phase::label));
        }
        bar.set_position(now.done);
        bar.tick();
        std::thread::park_timeout(std::time::Duration::from_millis(100));
    }
}

/// Seconds since `started`, rounded to milliseconds, for log fields.
fn seconds(started: Instant) -> f64 {
    round3(started.elapsed().as_secs_f64())
}

fn round3(seconds: f64) -> f64 {
    (seconds * 1000.0).round() / 1000.0
}

/// Runs `matcher batch`.
pub fn run(args: &BatchArgs, reference: ReferenceData) -> anyhow::Result<()> {
    let console = Console::start(args.quiet);
    let progress = console.progress.clone();
    let policies = args.run.policy_set(&reference)?;
    let today = args.run.today();

    console.bar.set_message("loading the data set");
    let started = Instant::now();
    // The run's threads (`--threads`) read the data set (a CSV data set's long tables side by
    // side and in batches) and write the run; the night itself runs on the core's own pool of
    // the same size.
    let pool = args.run.pool()?;
    // Yesterday's run is read beside the data set: the night needs neither before both are
    // in (a national run's 250,000 proposals take ~0.35 s on one core).
    let (data, previous) = std::thread::scope(|s| {
        let previous = args.previous.as_deref().map(|dir| {
            s.spawn(move || {
                let started = Instant::now();
                let run = dataset::previous::load_previous_run(dir)
                    .with_context(|| format!("reading the previous run {}", dir.display()));
                (run, seconds(started))
            })
        });
        let data = pool.install(|| load(&args.data, &reference, &args.input));
        let loaded = seconds(started);
        (data.map(|d| (d, loaded)), previous.map(|h| h.join()))
    });
    // The data set's problems first, then the caseworkers', then yesterday's: as when they
    // were read one after the other.
    let (data, loaded) = data?;
    tracing::info!(
        phase = %"load",
        seconds = loaded,
        candidates = data.candidates.len(),
        offers = data.offers.len(),
        "data set loaded"
    );
    // Read before any work: a bad caseworkers file stops the run before anything is written.
    let caseworkers = match &args.caseworkers {
        Some(path) => Some(
            dataset::load_caseworkers_with(path, &data, &reference, &args.input.options())
                .with_context(|| format!("loading {}", path.display()))?,
        ),
        None => None,
    };
    let previous = match previous {
        Some(Ok((run, seconds))) => {
            let run = run?;
            tracing::info!(phase = %"previous", seconds, "previous run read");
            Some(Arc::new(run))
        }
        Some(Err(_)) => anyhow::bail!("reading the previous run stopped unexpectedly"),
        None => None,
    };
    let data = Arc::new(data);
    let reference = Arc::new(reference);
    let options = BatchOptions {
        today: Some(today),
        threads: args.run.threads,
        continuity_bonus: args.continuity_bonus,
        warm_start: None,
        warm_assignment: None,
        previous,
        compare_baselines: !args.no_baselines,
        progress: Some(progress.clone()),
        rules: Default::default(),
        rule_costs: args.rule_costs,
        place_values: 0,
    };
    let started = Instant::now();
    // The run gets the only reference, so the contracts' terms go onto its offers in place
    // (no copy of the data set); what is written below reads the night's data set, whose
    // candidates and ids are the loaded ones.
    let mut result = batch::run(data, reference.clone(), Arc::new(policies), &options)?;
    let data = result.night.clone();
    let t = &result.timings;
    tracing::info!(
        phase = %"match",
        seconds = seconds(started),
        graph_seconds = round3(t.graph_seconds),
        solve_seconds = round3(t.solve_seconds),
        verify_seconds = round3(t.verify_seconds),
        baselines_seconds = round3(t.baselines_seconds),
        baselines_wait_seconds = round3(t.baselines_wait_seconds),
        views_seconds = round3(t.views_seconds),
        summaries_seconds = round3(t.summaries_seconds),
        proposals_seconds = round3(t.proposals_seconds),
        edges = result.graph.n_edges(),
        matched = result.solution.matched(),
        gap = ?result.certificate.gap,
        warm_repair = result.solution.stats.warm_repair,
        "night matched"
    );

    let caseloads = match &caseworkers {
        Some(caseworkers) => {
            progress.start(Phase::Caseloads, 0);
            let started = Instant::now();
            let plan = caseload::plan(&data, caseworkers, args.run.threads)?;
            let elapsed = started.elapsed().as_secs_f64();
            let summary = caseload::report(&data, caseworkers, &plan);
            tracing::info!(
                phase = %"caseloads",
                seconds = seconds(started),
                caseworkers = caseworkers.len(),
                new_candidates = plan.proposals.len(),
                assigned = summary.total.assigned,
                edges = plan.edges,
                gap = ?plan.certificate.gap,
                "caseworkers proposed"
            );
            Some((caseworkers, plan, summary, elapsed))
        }
        None => None,
    };

    let with_history = !data.outcomes.is_empty();
    progress.start(Phase::Writing, 8 + u64::from(caseloads.is_some()) + u64::from(with_history));
    let started = Instant::now();
    // The report's numbers and the two large files are computed side by side on the run's
    // threads (`--threads`), the files in parallel chunks; the bytes do not depend on the
    // number of threads.
    let clock = Instant::now();
    let (mut report, (proposals, proposals_jsonl)) = pool.install(|| {
        rayon::join(
            || report::build(&data, &reference, &result),
            || rayon::join(|| proposals_csv(&data, &result), || proposals_jsonl(&data, &result)),
        )
    });
    let (proposals, proposals_jsonl) = (proposals?, proposals_jsonl?);
    let formatted_seconds = seconds(clock);
    report.caseloads = caseloads.as_ref().map(|(_, _, summary, _)| summary.clone());
    // Nothing written below reads the candidate graph (14 M edges, about 180 MB on the
    // national night): give it back before the other files are formatted.
    drop(std::mem::take(&mut result.graph.offers));
    drop(std::mem::take(&mut result.graph.weights));
    drop(std::mem::take(&mut result.graph.offsets));
    drop(std::mem::take(&mut result.graph.counts));
    let dir = RunDir::create(&args.out)?;
    // Files are written and synced by a writer thread while the next ones are formatted;
    // the run is published only once every file is on disk (`RunDir::publish`).
    let clock = Instant::now();
    let (files_seconds, written_seconds) = std::thread::scope(|scope| -> anyhow::Result<(f64, f64)> {
        let (send, receive) = std::sync::mpsc::channel::<(Cow<'static, str>, Vec<Vec<u8>>)>();
        let (dir, progress) = (&dir, &progress);
        let writer = scope.spawn(move || -> anyhow::Result<f64> {
            let mut busy = 0.0;
            for (name, parts) in receive {
                let clock = Instant::now();
                let parts: Vec<&[u8]> = parts.iter().map(Vec::as_slice).collect();
                dir.write_parts(&name, &parts)?;
                progress.advance(1);
                busy += clock.elapsed().as_secs_f64();
            }
            Ok(busy)
        });
        let formatted = (|| -> anyhow::Result<()> {
            let write = |name: Cow<'static, str>, bytes: Vec<u8>| -> anyhow::Result<()> {
                // A refused file comes back in the error: its name says which writer stopped.
                send.send((name, vec![bytes])).map_err(|e| anyhow::anyhow!("the writer of {} stopped", e.0.0))
            };
            let prices = prices_csv(&data, &result)?;
            let caseloads_file = match &caseloads {
                Some((caseworkers, plan, _, _)) => Some(caseloads_csv(&data, caseworkers, plan)?),
                None => None,
            };
            if args.excel {
                let mut csv_files: Vec<(&str, &[u8])> =
                    vec![("proposals.csv", &proposals), ("prices.csv", &prices)];
                if let Some(bytes) = &caseloads_file {
                    csv_files.push(("caseloads.csv", bytes));
                }
                let excel = super::validate_explain::excel_files(&csv_files, &report)?;
                progress.add_total(excel.len() as u64);
                for (name, bytes) in excel {
                    write(name.into(), bytes)?;
                }
            }
            write("proposals.csv".into(), proposals)?;
            send.send(("proposals.jsonl".into(), proposals_jsonl))
                .map_err(|_| anyhow::anyhow!("the writer of proposals.jsonl stopped"))?;
            write("prices.csv".into(), prices)?;
            write("prices.json".into(), prices_json(&data, &result)?)?;
            write("provider_groups.csv".into(), provider_groups_csv(&result, &reference)?)?;
            if let Some(bytes) = caseloads_file {
                write("caseloads.csv".into(), bytes)?;
            }
            if with_history {
                // The night's own estimate (the model it scored with), not a second one.
                write("quality.csv".into(), quality_csv(&result.quality)?)?;
            }
            if let Some(fairness) = &report.fairness {
                let (header, rows) = batch::fairness::table(fairness);
                let header: Vec<&str> = header.iter().map(String::as_str).collect();
                write("fairness.csv".into(), csv_bytes(&header, rows.into_iter())?)?;
            }
            let mut report_json = serde_json::to_vec_pretty(&report)?;
            report_json.push(b'\n');
            write("report.json".into(), report_json)?;
            write("report.html".into(), report_html::render(&report, &reference, args.lang).into_bytes())?;
            Ok(())
        })();
        drop(send);
        let files_seconds = seconds(clock);
        let written = writer.join().map_err(|_| anyhow::anyhow!("the writer thread panicked"))?;
        // A writer's error (a file that could not be written) comes first: formatting then
        // stopped because nobody took its files. Otherwise the writer ended with the files.
        let written = written?;
        formatted?;
        Ok((files_seconds, round3(written)))
    })?;
    let run_json = serde_json::json!({
        "program": concat!("matcher ", env!("CARGO_PKG_VERSION")),
        "date": result.today.to_string(),
        "threads": args.run.threads,
        "warm_start": args.previous.as_ref().map(|p| p.display().to_string()),
        "timings": result.timings,
        "caseload_seconds": caseloads.as_ref().map(|(_, _, _, seconds)| seconds),
        "solver": {
            "components": result.solution.stats.components,
            "largest_component": result.solution.stats.largest_component,
            "phases": result.solution.stats.phases,
            "iterations": result.solution.stats.iterations,
            "open": result.solution.stats.open,
            // The last exact solve's (a night with guaranteed places may solve more than once).
            "parts": result.solution.stats.parts,
        },
    });
    dir.write("run.json", &serde_json::to_vec_pretty(&run_json)?)?;
    progress.advance(1);
    let written = dir.publish()?;
    tracing::info!(
        phase = %"write",
        seconds = seconds(started),
        report_and_proposals_seconds = formatted_seconds,
        other_files_seconds = files_seconds,
        writer_busy_seconds = written_seconds,
        out = %args.out.display(),
        run = %written.display(),
        "run published"
    );
    Ok(())
}

/// The column of `prices.csv` holding an offer's dual price (one home: the reader of previous
/// runs, which also reads the name `price` of runs before issue 20).
pub use matcher_core::dataset::previous::PRICE_COLUMN;

fn csv_bytes(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> anyhow::Result<Vec<u8>> {
    let mut writer =
        csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    writer.write_record(header)?;
    for row in rows {
        writer.write_record(&row)?;
    }
    writer.into_inner().context("finishing a CSV file")
}

/// Rows per chunk when a large file is formatted in parallel.
const ROWS_PER_CHUNK: usize = 4096;

fn change_label(p: &Proposal) -> &'static str {
    match p.change {
        batch::Change::Locked => "locked",
        batch::Change::Kept => "kept",
        batch::Change::Changed => "changed",
        batch::Change::New => "new",
        batch::Change::Unmatched => "unmatched",
    }
}

fn proposals_csv(data: &Dataset, result: &BatchResult) -> anyhow::Result<Vec<u8>> {
    let mut header = vec!["candidate_id", "municipality", "offer_id", "offer_kind", "score"];
    header.extend(Factor::ALL.iter().map(|f| f.key()));
    header.extend([
        "effect_dkk",
        "distance_km",
        "runner_up_offer_id",
        "runner_up_score",
        "score_difference",
        "current_offer_id",
        "change",
        "unmatched_reason",
        "previous_offer_id",
        "since_previous",
        "change_reason",
        "candidate_fingerprint",
        "uplift",
        "effect_flag",
    ]);
    // Each field goes straight into the CSV writer (the same quoting as a record of strings),
    // numbers formatted into one scratch buffer: no string is allocated per field.
    let row = |w: &mut csv::Writer<Vec<u8>>, scratch: &mut String, p: &Proposal| -> csv::Result<()> {
        use std::fmt::Write as _;
        // A formatted field when `$when`, else an empty one.
        macro_rules! number {
            ($when:expr, $($format:tt)*) => {{
                scratch.clear();
                if $when {
                    let _ = write!(scratch, $($format)*);
                }
                w.write_field(scratch.as_bytes())?;
            }};
        }
        let c = &data.candidates[p.candidate as usize];
        let since = p.since_previous.as_ref();
        let offer = p.offer.map(|o| &data.offers[o as usize]);
        let id = |o: Option<u32>| o.map_or("", |o| data.offers[o as usize].id.as_str());
        w.write_field(c.id.as_str())?;
        number!(true, "{}", c.municipality);
        w.write_field(offer.map_or("", |o| o.id.as_str()))?;
        w.write_field(offer.map_or("", |o| o.kind.label()))?;
        let matched = offer.is_some();
        number!(matched, "{}", p.score);
        for v in &p.points {
            number!(matched, "{v}");
        }
        number!(matched, "{:.0}", p.effect_dkk);
        number!(matched, "{:.2}", p.distance_km);
        w.write_field(id(p.runner_up))?;
        number!(p.runner_up.is_some(), "{}", p.runner_up_score);
        number!(matched && p.runner_up.is_some(), "{}", p.score - p.runner_up_score);
        w.write_field(id(p.current))?;
        w.write_field(change_label(p))?;
        w.write_field(p.unmatched_reason.map_or("", |r| r.key()))?;
        w.write_field(since.and_then(|s| s.previous_offer.as_ref()).map_or("", |o| o.as_str()))?;
        w.write_field(since.map_or("", |s| s.status.key()))?;
        w.write_field(since.and_then(|s| s.reason).map_or("", |r| r.key()))?;
        w.write_field(fingerprint_text(result.fingerprints.candidates[p.candidate as usize]))?;
        number!(matched, "{:.4}", p.uplift);
        w.write_field(p.effect_flag.map_or("", |f| f.key()))?;
        w.write_record(None::<&[u8]>)
    };
    let chunks: Vec<Vec<u8>> = result
        .proposals
        .par_chunks(ROWS_PER_CHUNK)
        .map(|chunk| -> anyhow::Result<Vec<u8>> {
            let mut writer = csv::WriterBuilder::new()
                .terminator(csv::Terminator::Any(b'\n'))
                .from_writer(Vec::with_capacity(chunk.len() * 128));
            let mut scratch = String::new();
            for p in chunk {
                row(&mut writer, &mut scratch, p)?;
            }
            writer.into_inner().context("finishing a CSV file")
        })
        .collect::<anyhow::Result<_>>()?;
    let mut out = csv_bytes(&header, std::iter::empty())?;
    out.reserve(chunks.iter().map(Vec::len).sum());
    for chunk in chunks {
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// `proposals.jsonl` in chunks of lines, to be written in order.
fn proposals_jsonl(data: &Dataset, result: &BatchResult) -> anyhow::Result<Vec<Vec<u8>>> {
    result
        .proposals
        .par_chunks(ROWS_PER_CHUNK)
        .map(|chunk| -> anyhow::Result<Vec<u8>> {
            let mut out = Vec::with_capacity(chunk.len() * 450);
            for p in chunk {
                // The bytes of `ProposalRecord::new(p, data)` serialised, without building it.
                batch::write_record_json(p, data, &mut out)?;
                out.push(b'\n');
            }
            Ok(out)
        })
        .collect::<anyhow::Result<_>>()
}

fn prices_csv(data: &Dataset, result: &BatchResult) -> anyhow::Result<Vec<u8>> {
    let rows = result.prices.iter().map(|p| {
        let o = &data.offers[p.offer as usize];
        vec![
            o.id.to_string(),
            o.kind.label().to_string(),
            o.provider.to_string(),
            p.capacity.to_string(),
            p.assigned.to_string(),
            p.price.to_string(),
            fingerprint_text(result.fingerprints.offers[p.offer as usize]),
            p.holds_guarantee_shares.to_string(),
        ]
    });
    csv_bytes(
        &[
            "offer_id",
            "offer_kind",
            "provider_id",
            "capacity",
            "assigned",
            PRICE_COLUMN,
            "offer_fingerprint",
            HOLDS_SHARES_COLUMN,
        ],
        rows,
    )
}

/// The column of `prices.csv` (and field of `prices.json`) that says an offer's price holds
/// tonight's guaranteed places: one more place there would also move a strategic partner's
/// guaranteed place between the contract's offers (`batch::OfferPrice::holds_guarantee_shares`).
pub const HOLDS_SHARES_COLUMN: &str = "price_holds_guarantee_shares";

/// One offer of `prices.json`. Fields in the order of their names: the order the file had
/// when it was built as `serde_json` maps (sorted keys).
#[derive(serde::Serialize)]
struct PriceLine<'a> {
    assigned: u32,
    capacity: u32,
    offer_id: &'a str,
    /// [`HOLDS_SHARES_COLUMN`], only where true (a test keeps the two names equal).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    price_holds_guarantee_shares: bool,
    /// [`PRICE_COLUMN`] (a test keeps the two names equal).
    value_of_one_more_place_points: i64,
}

/// `prices.json`, keys in name order as in [`PriceLine`].
#[derive(serde::Serialize)]
struct PricesDoc<'a> {
    date: String,
    offers: Vec<PriceLine<'a>>,
    unit: &'static str,
}

fn prices_json(data: &Dataset, result: &BatchResult) -> anyhow::Result<Vec<u8>> {
    let offers = result
        .prices
        .iter()
        .map(|p| PriceLine {
            assigned: p.assigned,
            capacity: p.capacity,
            offer_id: data.offers[p.offer as usize].id.as_str(),
            price_holds_guarantee_shares: p.holds_guarantee_shares,
            value_of_one_more_place_points: p.price,
        })
        .collect();
    let doc = PricesDoc {
        date: result.today.to_string(),
        offers,
        unit: "score points: the rise of the night's optimum if the offer had one more place",
    };
    let mut bytes = serde_json::to_vec_pretty(&doc)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// One row per new candidate: the proposed caseworker and the caseload it gives them.
fn caseloads_csv(
    data: &Dataset,
    caseworkers: &[Caseworker],
    plan: &caseload::CaseloadPlan,
) -> anyhow::Result<Vec<u8>> {
    let rows = plan.proposals.iter().map(|p| {
        let c = &data.candidates[p.candidate as usize];
        let w = p.caseworker.map(|w| &caseworkers[w as usize]);
        vec![
            c.id.to_string(),
            c.municipality.to_string(),
            w.map(|w| w.id.to_string()).unwrap_or_default(),
            w.map(|w| w.caseload.to_string()).unwrap_or_default(),
            w.map(|_| p.load_after.to_string()).unwrap_or_default(),
            w.map(|w| w.cap.to_string()).unwrap_or_default(),
            w.map(|_| p.speciality.to_string()).unwrap_or_default(),
            p.reason.map(|r| r.key().to_string()).unwrap_or_default(),
        ]
    });
    csv_bytes(
        &[
            "candidate_id",
            "municipality",
            "caseworker_id",
            "caseload_before",
            "caseload_with_candidate",
            "cap",
            "speciality",
            "no_caseworker_reason",
        ],
        rows,
    )
}

/// `provider_groups.csv`: the orderer's provider × target group overview (see
/// `report::provider_groups`).
fn provider_groups_csv(result: &BatchResult, reference: &ReferenceData) -> anyhow::Result<Vec<u8>> {
    let mut csv = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    csv.write_record([
        "provider_id",
        "provider_name",
        "target_group",
        "places",
        "used",
        "mean_price_dkk",
        "spend_dkk",
        "contract",
    ])?;
    for l in report::provider_groups(result, reference) {
        csv.write_record([
            l.provider,
            l.provider_name,
            l.target_group,
            l.places.to_string(),
            l.used.to_string(),
            l.mean_price_dkk.to_string(),
            l.spend_dkk.to_string(),
            l.contract,
        ])?;
    }
    csv.into_inner().map_err(|e| anyhow::anyhow!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `prices.json` is written from structs; its bytes are those of the `serde_json` maps it
    /// was built from before (sorted keys), the dual price is named by the column the
    /// previous-run reader looks for, and the shares flag by its `prices.csv` column.
    #[test]
    fn the_price_lines_write_the_bytes_of_the_maps() {
        let line = |o: &'static str, n: u32| PriceLine {
            assigned: n,
            capacity: n + 1,
            offer_id: o,
            price_holds_guarantee_shares: n == 2,
            value_of_one_more_place_points: -i64::from(n),
        };
        let unit = "score points";
        let doc = PricesDoc { date: "2026-11-02".into(), offers: vec![line("a", 1), line("b\"", 2)], unit };
        let offers: Vec<serde_json::Value> = [(1u32, "a"), (2, "b\"")]
            .into_iter()
            .map(|(n, o)| {
                let mut line = serde_json::json!({
                    "offer_id": o,
                    "capacity": n + 1,
                    "assigned": n,
                    PRICE_COLUMN: -i64::from(n),
                });
                // Only where the price holds tonight's guarantee shares.
                if n == 2 {
                    line[HOLDS_SHARES_COLUMN] = serde_json::json!(true);
                }
                line
            })
            .collect();
        let maps = serde_json::json!({ "date": "2026-11-02", "unit": unit, "offers": offers });
        assert_eq!(
            String::from_utf8(serde_json::to_vec_pretty(&doc).unwrap()).unwrap(),
            String::from_utf8(serde_json::to_vec_pretty(&maps).unwrap()).unwrap()
        );
    }
}
