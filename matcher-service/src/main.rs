//! `matcher`: the command line of Brobygger. Glue only: parsing flags, calling
//! `matcher-core`, turning its typed errors into messages and exit codes.

mod batch_cmd;
mod report_html;
mod run_dir;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use matcher_core::assign::{self, Mode, Problem, Solution, SolveOptions};
use matcher_core::dataset;
use matcher_core::graph;
use matcher_core::model::{Dataset, Date, OfferKind, ReferenceData};
use matcher_core::policy::{Policy, PolicySet};
use matcher_core::score::Scorer;
use matcher_core::{Error, Scale};
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

#[derive(Parser)]
#[command(name = "matcher", version, about = "Brobygger: matching candidates with offers")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the embedded reference data summary.
    Reference,
    /// Generate a synthetic (invented) data set as CSV tables, and optionally a snapshot.
    Gen {
        /// demo (~2,000 candidates), municipality (~10,000) or national (~250,000).
        #[arg(long, value_parser = parse_scale)]
        scale: Scale,
        /// Seed of the generator: the same seed gives the same files, byte for byte.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Directory to write providers.csv, offers.csv, evidence.csv and candidates.csv to.
        #[arg(long)]
        out: PathBuf,
        /// Also write a binary snapshot of the data set to this file.
        #[arg(long)]
        snapshot: Option<PathBuf>,
    },
    /// Check a data set directory or snapshot; list every bad row. Exit code 1 if any.
    Validate {
        /// A directory of CSV/JSON tables, or a snapshot file.
        path: PathBuf,
    },
    /// Build the candidate graph of a data set and print its size and build time as JSON.
    Graph {
        /// A directory of CSV/JSON tables, or a snapshot file.
        path: PathBuf,
        /// Also write the assignment instance in the peers' neutral format to this file.
        #[arg(long)]
        instance: Option<PathBuf>,
        #[command(flatten)]
        run: RunFlags,
    },
    /// Explain one candidate–offer pair: every factor, or the hard limit that removes it.
    Explain {
        /// A directory of CSV/JSON tables, or a snapshot file.
        path: PathBuf,
        /// Candidate id.
        candidate: String,
        /// Offer id.
        offer: String,
        #[command(flatten)]
        run: RunFlags,
    },
    /// Solve an assignment instance in the neutral peers format and print one JSON line.
    Solve(SolveArgs),
    /// The nightly re-matching run: suggestions, offer prices and the morning report, written
    /// atomically to a run directory.
    Batch(batch_cmd::BatchArgs),
}

#[derive(clap::Args)]
struct SolveArgs {
    /// Instance file (`shared/peers/FORMAT.md`).
    file: PathBuf,
    /// Worker threads (0 = all cores).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Algorithm.
    #[arg(long, value_enum, default_value_t = CliMode::Exact)]
    mode: CliMode,
    /// Continuity bonus (the format has no current offers, so it only matters with
    /// `--warm-check`).
    #[arg(long, default_value_t = 0)]
    bonus: i64,
    /// Also measure a warm start: change this fraction of the candidates (new random weights),
    /// make the first solution the current offers, and solve the changed instance cold and warm
    /// (from the first solution's prices).
    #[arg(long)]
    warm_check: Option<f64>,
    /// With `--warm-check`: write the changed instance here, for the peers.
    #[arg(long)]
    write_changed: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum CliMode {
    Exact,
    Stable,
    Greedy,
}

/// Flags shared by the commands that score.
#[derive(clap::Args)]
pub(crate) struct RunFlags {
    /// Policy file (TOML). Repeat for several; a file with `municipality = CODE` applies there,
    /// one without replaces the national default.
    #[arg(long = "policy")]
    policies: Vec<PathBuf>,
    /// Day the benefit clocks are read against (YYYY-MM-DD); default: today (UTC).
    #[arg(long, value_parser = parse_date)]
    today: Option<Date>,
    /// Worker threads (0 = one per core). Results do not depend on it.
    #[arg(long, default_value_t = 0)]
    threads: usize,
}

impl RunFlags {
    fn policy_set(&self) -> anyhow::Result<PolicySet> {
        let mut set = PolicySet::default();
        for path in &self.policies {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the policy {}", path.display()))?;
            let policy = Policy::from_toml(&text, &path.display().to_string())?;
            match policy.municipality_code() {
                None => set.national = policy,
                Some(code) => {
                    if set.municipal.iter().any(|p| p.municipality_code() == Some(code)) {
                        anyhow::bail!("{}: a second policy for municipality {code}", path.display());
                    }
                    set.municipal.push(policy);
                }
            }
        }
        set.municipal.sort_by_key(|p| p.municipality);
        Ok(set)
    }

    fn today(&self) -> Date {
        self.today.unwrap_or_else(|| {
            let days = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() / 86_400);
            Date(i32::try_from(days).unwrap_or(i32::MAX))
        })
    }

    fn pool(&self) -> anyhow::Result<rayon::ThreadPool> {
        rayon::ThreadPoolBuilder::new().num_threads(self.threads).build().context("starting worker threads")
    }
}

fn parse_date(text: &str) -> Result<Date, String> {
    Date::parse(text).ok_or_else(|| "expected a date as YYYY-MM-DD".to_string())
}

pub(crate) fn load(path: &std::path::Path, r: &ReferenceData) -> anyhow::Result<Dataset> {
    dataset::load(path, r).with_context(|| format!("loading {}", path.display()))
}

fn parse_scale(text: &str) -> Result<Scale, String> {
    Scale::parse(text).ok_or_else(|| "expected demo, municipality or national".to_string())
}

fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    let reference = || ReferenceData::embedded().context("embedded reference data");
    match cli.command {
        Command::Reference => {
            let r = reference()?;
            println!(
                "{} municipalities, {} postcodes, {} ISCO-08 groups, {} target groups, {} benefit kinds",
                r.municipalities.len(),
                r.postcodes.len(),
                r.occupations.len(),
                r.target_groups.len(),
                r.benefit_kinds.len()
            );
        }
        Command::Gen { scale, seed, out, snapshot } => {
            let r = reference()?;
            let started = Instant::now();
            let data = matcher_core::generate(scale, seed, &r);
            let generated = started.elapsed();
            dataset::write_dir(&data, &r, &out)
                .with_context(|| format!("writing the data set to {}", out.display()))?;
            if let Some(path) = &snapshot {
                dataset::write_snapshot(&data, path)
                    .with_context(|| format!("writing the snapshot {}", path.display()))?;
            }
            println!("{} to {}", summary(&data), out.display());
            eprintln!(
                "generated in {} ms, written in {} ms",
                generated.as_millis(),
                (started.elapsed() - generated).as_millis()
            );
        }
        Command::Validate { path } => {
            let r = reference()?;
            let started = Instant::now();
            match dataset::load(&path, &r) {
                Ok(data) => {
                    println!("valid: {}", summary(&data));
                    eprintln!("checked in {} ms", started.elapsed().as_millis());
                }
                Err(Error::InvalidData(problems)) => {
                    for problem in &problems.0 {
                        println!("{problem}");
                    }
                    let n = problems.0.len();
                    println!("{n} {} in {}", if n == 1 { "problem" } else { "problems" }, path.display());
                    return Ok(ExitCode::FAILURE);
                }
                Err(e) => return Err(e).with_context(|| format!("validating {}", path.display())),
            }
        }
        Command::Graph { path, instance, run } => {
            let r = reference()?;
            let policies = run.policy_set()?;
            let started = Instant::now();
            let data = load(&path, &r)?;
            let load_seconds = started.elapsed().as_secs_f64();
            let pool = run.pool()?;
            let started = Instant::now();
            let scorer = Scorer::new(Arc::new(data), Arc::new(r), Arc::new(policies), run.today())?;
            let g = pool.install(|| graph::build(&scorer))?;
            let graph_seconds = started.elapsed().as_secs_f64();
            if let Some(file) = &instance {
                let problem = matcher_core::batch::problem_of(scorer.data(), &scorer, &g);
                let writer = std::io::BufWriter::new(
                    std::fs::File::create(file).with_context(|| format!("creating {}", file.display()))?,
                );
                assign::write_instance(&problem, writer)
                    .with_context(|| format!("writing {}", file.display()))?;
            }
            let sum = |f: fn(&graph::RowCounts) -> u32| g.counts.iter().map(|c| u64::from(f(c))).sum::<u64>();
            println!(
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
        }
        Command::Explain { path, candidate, offer, run } => {
            let r = reference()?;
            let policies = run.policy_set()?;
            let data = load(&path, &r)?;
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
            println!("{}", serde_json::to_string_pretty(&answer)?);
        }
        Command::Solve(args) => solve(&args)?,
        Command::Batch(args) => batch_cmd::run(&args, reference()?)?,
    }
    Ok(ExitCode::SUCCESS)
}

fn summary(data: &Dataset) -> String {
    let count = |kind| data.offers.iter().filter(|o| o.kind == kind).count();
    let evidence: usize = data.offers.iter().map(|o| o.evidence.len()).sum();
    format!(
        "{} candidates, {} offers ({} provider, {} job, {} work trial, {} reciprocal help), {} providers, {} evidence rows",
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

fn solve(args: &SolveArgs) -> anyhow::Result<()> {
    let name = args.file.display().to_string();
    let t = Instant::now();
    let text = std::fs::read_to_string(&args.file).with_context(|| format!("cannot read {name}"))?;
    let problem = assign::parse_instance(&name, &text)?;
    drop(text);
    let parse_seconds = t.elapsed().as_secs_f64();
    let mode = match args.mode {
        CliMode::Exact => Mode::Exact,
        CliMode::Stable => Mode::Stable,
        CliMode::Greedy => Mode::Greedy,
    };
    let options =
        SolveOptions { mode, threads: args.threads, continuity_bonus: args.bonus, ..SolveOptions::default() };
    let sol = assign::solve(&problem, &options)?;
    let t = Instant::now();
    let cert = assign::verify(&problem, &sol)?;
    let verify_seconds = t.elapsed().as_secs_f64();
    let mut out = json!({
        "solver": "brobygger",
        "instance": name,
        "mode": format!("{mode:?}").to_lowercase(),
        "objective": sol.objective,
        "matched": sol.matched(),
        "parse_seconds": parse_seconds,
        "solve_seconds": sol.stats.seconds,
        "verify_seconds": verify_seconds,
        "gap": cert.gap.map(|g| g.to_string()),
        "threads": sol.stats.threads,
        "components": sol.stats.components,
        "largest_component": sol.stats.largest_component,
        "phases": sol.stats.phases,
        "iterations": sol.stats.iterations,
    });
    if let Some(frac) = args.warm_check {
        if !(0.0..=1.0).contains(&frac) || mode != Mode::Exact {
            bail!("--warm-check needs a fraction in 0..=1 and --mode exact");
        }
        let mut changed = change_candidates(&problem, frac);
        // Tonight's current offers are last night's result (continuity bonus as given).
        changed.current = sol.assignment.clone();
        if let Some(path) = &args.write_changed {
            write_instance(&changed, path)?;
        }
        let cold = assign::solve(&changed, &options)?;
        let warm_opts = SolveOptions { warm_start: Some(sol.offer_prices.clone()), ..options.clone() };
        let warm: Solution = assign::solve(&changed, &warm_opts)?;
        let wc = assign::verify(&changed, &warm)?;
        if warm.objective != cold.objective || wc.gap != Some(0) {
            bail!(
                "warm start disagrees: warm {} (gap {:?}) vs cold {}",
                warm.objective,
                wc.gap,
                cold.objective
            );
        }
        out["warm_changed_fraction"] = json!(frac);
        out["warm_cold_seconds"] = json!(cold.stats.seconds);
        out["warm_seconds"] = json!(warm.stats.seconds);
        out["warm_objective"] = json!(warm.objective);
        out["warm_iterations"] = json!(warm.stats.iterations);
        out["warm_cold_iterations"] = json!(cold.stats.iterations);
    }
    out["peak_rss_mb"] = json!(peak_rss_mb());
    println!("{out}");
    Ok(())
}

/// A copy of `p` where every `1/frac`-th candidate gets fresh weights in `1..=10000` (the
/// generator's range), deterministically.
fn change_candidates(p: &Problem, frac: f64) -> Problem {
    let mut q = p.clone();
    let k = ((p.n_candidates as f64 * frac).ceil() as usize).max(1);
    let stride = (p.n_candidates / k).max(1);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for i in (0..p.n_candidates).step_by(stride).take(k) {
        for w in &mut q.weights[p.offsets[i]..p.offsets[i + 1]] {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *w = 1 + (x % 10_000) as i64;
        }
    }
    q
}

fn write_instance(p: &Problem, path: &Path) -> anyhow::Result<()> {
    let f = std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?;
    let mut w = std::io::BufWriter::new(f);
    writeln!(w, "p {} {} {}", p.n_candidates, p.n_offers(), p.n_edges())?;
    for (j, c) in p.capacity.iter().enumerate().filter(|(_, c)| **c != 1) {
        writeln!(w, "r {j} {c}")?;
    }
    for i in 0..p.n_candidates {
        let (offs, ws) = p.edges(i);
        for (j, wt) in offs.iter().zip(ws) {
            writeln!(w, "e {i} {j} {wt}")?;
        }
    }
    w.flush()?;
    Ok(())
}

/// Peak resident memory of this process (Linux `VmHWM`), `None` elsewhere.
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
