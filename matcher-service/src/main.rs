//! `matcher`: the command line of Brobygger. Glue only: parsing flags, calling
//! `matcher-core`, turning its typed errors into messages and exit codes.

mod batch_cmd;
mod effects_cmd;
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
        /// Write the next night instead: the same data set with this fraction of the
        /// candidates changed (e.g. 0.01), for measuring a warm re-run with `batch --previous`.
        #[arg(long, value_parser = parse_fraction)]
        changed: Option<f64>,
    },
    /// Check a data set directory or snapshot; list every bad row. Exit code 1 if any.
    Validate {
        /// A directory of CSV/JSON tables, or a snapshot file.
        path: PathBuf,
        /// List at most this many bad rows (0: all); the total is always counted.
        #[arg(long, default_value_t = 1000)]
        max_problems: usize,
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
    /// Measure the effect estimates on generated worlds with a known truth: the share of the
    /// oracle's avoided benefit weeks the engine reaches, against random and nearest offers.
    Evaluate(effects_cmd::EvaluateArgs),
    /// Print a data set's episode history (the `outcomes` table) as CSV.
    History {
        /// A directory of CSV/JSON tables, or a snapshot file.
        path: PathBuf,
    },
    /// Run the HTTP service (see docs/service.md).
    Serve(ServeArgs),
    /// Manage bearer tokens of the service.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "MATCHER_BIND", default_value = "127.0.0.1:8080")]
    bind: std::net::SocketAddr,
    /// SQLite database file (WAL), created on first start.
    #[arg(long, env = "MATCHER_DB", default_value = "matcher.db")]
    db: PathBuf,
    /// Load a generated municipality-scale data set (invented) and print demo tokens.
    #[arg(long, env = "MATCHER_DEMO")]
    demo: bool,
    /// Load the offers (with their evidence) of a data set directory or snapshot at start,
    /// without its candidates; e.g. `matcher gen --scale national` output for load tests.
    #[arg(long, env = "MATCHER_OFFERS_FROM")]
    offers_from: Option<PathBuf>,
    /// Origin allowed by CORS; repeat for several (comma-separated in the variable).
    #[arg(long = "cors-origin", env = "MATCHER_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,
    /// Largest request body in bytes.
    #[arg(long, env = "MATCHER_MAX_BODY_BYTES", default_value_t = 8 * 1024 * 1024)]
    max_body_bytes: usize,
    /// Request timeout in seconds.
    #[arg(long, env = "MATCHER_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    request_timeout_secs: u64,
    /// Requests handled at once; more are answered 503 with Retry-After immediately.
    #[arg(long, env = "MATCHER_MAX_IN_FLIGHT", default_value_t = 256, value_parser = clap::value_parser!(u64).range(1..))]
    max_in_flight: u64,
    /// Day the benefit clocks are read against (YYYY-MM-DD); default: today (UTC).
    #[arg(long, env = "MATCHER_TODAY", value_parser = parse_date)]
    today: Option<Date>,
    /// Async worker threads (0 = one per core).
    #[arg(long, env = "MATCHER_WORKERS", default_value_t = 0)]
    workers: usize,
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print it (it is stored only as a hash: this is the one time it shows).
    Create {
        /// Municipality code (kommunekode), e.g. 0101.
        #[arg(long)]
        municipality: String,
        /// system, caseworker, provider or admin.
        #[arg(long)]
        role: String,
        /// Who holds the token (recorded on decisions).
        #[arg(long, default_value = "unnamed")]
        user: String,
        /// Days until the token stops working (at most 3650); 0: it never expires.
        #[arg(long, value_name = "DAYS", default_value = "90", allow_hyphen_values = true, value_parser = parse_expires_in)]
        expires_in: u32,
        /// SQLite database file of the service.
        #[arg(long, env = "MATCHER_DB", default_value = "matcher.db")]
        db: PathBuf,
    },
    /// List tokens: id, municipality, role, user, created, expires, revoked (tab-separated,
    /// never the secret or its hash).
    List {
        /// Only this municipality's tokens (kommunekode).
        #[arg(long)]
        municipality: Option<String>,
        /// SQLite database file of the service.
        #[arg(long, env = "MATCHER_DB", default_value = "matcher.db")]
        db: PathBuf,
    },
    /// Revoke a token by its id (from `token list`); a running service refuses it within
    /// 5 seconds.
    Revoke {
        /// The token's id.
        #[arg(allow_hyphen_values = true)]
        id: String,
        /// SQLite database file of the service.
        #[arg(long, env = "MATCHER_DB", default_value = "matcher.db")]
        db: PathBuf,
    },
}

fn parse_expires_in(text: &str) -> Result<u32, String> {
    let max = matcher_service::auth::MAX_EXPIRES_IN_DAYS;
    text.trim()
        .parse::<u32>()
        .ok()
        .filter(|d| *d <= max)
        .ok_or_else(|| format!("{text}: expected whole days from 0 (never expires) to {max}"))
}

/// A municipality code that is one of the 98.
fn municipality_code(text: &str) -> anyhow::Result<u16> {
    let code: u16 = text
        .trim()
        .parse()
        .with_context(|| format!("municipality {text}: expected a kommunekode such as 0101"))?;
    let reference = ReferenceData::embedded().context("embedded reference data")?;
    if reference.municipality(matcher_core::model::MunicipalityCode(code)).is_none() {
        bail!("municipality {text}: not one of the 98 municipality codes");
    }
    Ok(code)
}

/// The store of an existing database file: listing or revoking in a mistyped path must not
/// quietly create an empty database and find nothing.
fn existing_store(db: &std::path::Path) -> anyhow::Result<matcher_service::store::Store> {
    if !db.is_file() {
        bail!("{}: no such database file", db.display());
    }
    matcher_service::store::Store::open(db).with_context(|| format!("opening {}", db.display()))
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

fn parse_fraction(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(f) if (0.0..=1.0).contains(&f) => Ok(f),
        _ => Err(format!("expected a fraction between 0 and 1, got {text:?}")),
    }
}

fn parse_scale(text: &str) -> Result<Scale, String> {
    Scale::parse(text).ok_or_else(|| "expected demo, municipality or national".to_string())
}

fn main() -> ExitCode {
    // The error and its causes, one line, whatever RUST_BACKTRACE says: this is what an
    // operator reads in a cron mail, not a stack trace.
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
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
        Command::Gen { scale, seed, out, snapshot, changed } => {
            let r = reference()?;
            let started = Instant::now();
            let mut data = matcher_core::generate(scale, seed, &r);
            if let Some(fraction) = changed {
                data = matcher_core::next_night(&data, scale, seed, fraction, &r);
            }
            let generated = started.elapsed();
            dataset::write_dir(&data, &r, &out)
                .with_context(|| format!("writing the data set to {}", out.display()))?;
            let caseworkers = matcher_core::r#gen::caseworkers(&data, seed);
            let path = out.join("caseworkers.csv");
            std::fs::write(&path, dataset::caseworkers_csv(&caseworkers, &r)?)
                .with_context(|| format!("writing {}", path.display()))?;
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
        Command::Validate { path, max_problems } => {
            let r = reference()?;
            let started = Instant::now();
            match dataset::load(&path, &r) {
                Ok(data) => {
                    println!("valid: {}", summary(&data));
                    eprintln!("checked in {} ms", started.elapsed().as_millis());
                }
                Err(Error::InvalidData(problems)) => {
                    let n = problems.0.len();
                    let shown = if max_problems == 0 { n } else { n.min(max_problems) };
                    for problem in &problems.0[..shown] {
                        println!("{problem}");
                    }
                    if shown < n {
                        println!("… {} more not listed (--max-problems 0 lists all)", n - shown);
                    }
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
        Command::Evaluate(args) => effects_cmd::evaluate(&args, reference()?)?,
        Command::History { path } => effects_cmd::history(&path, &reference()?)?,
        Command::Serve(args) => serve(args)?,
        Command::Token { command: TokenCommand::Create { municipality, role, user, expires_in, db } } => {
            let code = municipality_code(&municipality)?;
            let role = matcher_service::auth::Role::parse(&role)
                .with_context(|| format!("role {role}: expected system, caseworker, provider or admin"))?;
            if user.trim().is_empty() || user.len() > 100 || matcher_core::model::looks_like_cpr(&user) {
                bail!("user: 1 to 100 characters, never a CPR number");
            }
            let expires_at = matcher_service::auth::expiry_after_days(expires_in)
                .map_err(|d| anyhow::anyhow!("--expires-in {d}: more than the allowed days"))?;
            let store = matcher_service::store::Store::open(&db)
                .with_context(|| format!("opening {}", db.display()))?;
            let (token, id) =
                matcher_service::auth::issue_token(&store, code, role, user.trim(), expires_at)?;
            // stdout is the token alone (scripts read it); what it is goes to stderr.
            let expires = expires_at.map_or_else(|| "never".to_string(), matcher_service::store::rfc3339);
            eprintln!("token {id}: municipality {code:04}, role {}, expires {expires}", role.name());
            println!("{token}");
        }
        Command::Token { command: TokenCommand::List { municipality, db } } => {
            let code = municipality.as_deref().map(municipality_code).transpose()?;
            let store = existing_store(&db)?;
            println!("id\tmunicipality\trole\tuser\tcreated\texpires\trevoked");
            for t in store.list_tokens(code)? {
                println!(
                    "{}\t{:04}\t{}\t{}\t{}\t{}\t{}",
                    t.id,
                    t.row.municipality,
                    t.row.role,
                    t.row.user,
                    t.created_at,
                    t.row.expires_at.as_deref().unwrap_or("never"),
                    t.row.revoked_at.as_deref().unwrap_or("-"),
                );
            }
        }
        Command::Token { command: TokenCommand::Revoke { id, db } } => {
            let number: i64 = id.trim().parse().ok().filter(|n| *n >= 1).with_context(|| {
                format!("token id {id}: expected a positive whole number from `matcher token list`")
            })?;
            let store = existing_store(&db)?;
            match store.revoke_token(number) {
                Ok((at, true)) => eprintln!("token {number} revoked at {at}"),
                Ok((at, false)) => eprintln!("token {number} was already revoked at {at}"),
                Err(matcher_service::store::StoreError::NotFound(_)) => {
                    bail!("token id {number}: no such token in {}", db.display())
                }
                Err(e) => return Err(e).with_context(|| format!("revoking token {number}")),
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_writer(std::io::stderr).with_target(false).init();
    let mut runtime = tokio::runtime::Builder::new_multi_thread();
    runtime.enable_all();
    if args.workers > 0 {
        runtime.worker_threads(args.workers);
    }
    let runtime = runtime.build().context("starting the async runtime")?;
    let config = matcher_service::Config {
        db: args.db.clone(),
        max_body_bytes: args.max_body_bytes,
        request_timeout: std::time::Duration::from_secs(args.request_timeout_secs.max(1)),
        max_in_flight: usize::try_from(args.max_in_flight).unwrap_or(usize::MAX),
        cors_origins: args.cors_origins.clone(),
        today: args.today,
    };
    let state =
        matcher_service::AppState::open(config).with_context(|| format!("opening {}", args.db.display()))?;
    if args.demo {
        let started = Instant::now();
        let tokens = matcher_service::load_demo(&state).context("loading the demo data set")?;
        eprintln!(
            "demo data set loaded in {} ms (everything in it is invented)",
            started.elapsed().as_millis()
        );
        for (m, role, user, token) in tokens {
            println!("demo token  municipality={m:04} role={} user={user}  {token}", role.name());
        }
    }
    if let Some(path) = &args.offers_from {
        let started = Instant::now();
        let mut data = load(path, state.catalogues.reference())?;
        data.candidates.clear();
        matcher_service::load_dataset(&state, &data).context("storing the offers")?;
        eprintln!("{} offers loaded in {} ms", data.offers.len(), started.elapsed().as_millis());
    }
    runtime.block_on(async move {
        let (listener, addr) =
            matcher_service::bind(args.bind).await.with_context(|| format!("binding {}", args.bind))?;
        // Scripts and tests read this line to learn the port (with --bind 127.0.0.1:0).
        println!("listening on http://{addr}");
        if args.demo {
            // Whoever read the line above may have closed stdout since: that must not stop us.
            let _ =
                writeln!(std::io::stdout(), "demo case screen with the caseworker widget: http://{addr}/");
        }
        let _ = std::io::stdout().flush();
        tracing::info!(%addr, db = %args.db.display(), "matcher serve started");
        matcher_service::serve(state, listener, matcher_service::shutdown_signal()).await;
        tracing::info!("stopped");
        anyhow::Ok(())
    })
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
        let warm_opts = SolveOptions {
            warm_start: Some(sol.offer_prices.clone()),
            warm_assignment: Some(sol.assignment.clone()),
            ..options.clone()
        };
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
        out["warm_repair"] = json!(warm.stats.warm_repair);
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
