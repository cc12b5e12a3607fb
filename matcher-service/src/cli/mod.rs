//! The `matcher` command line: one module per command, parsing its flags and calling
//! `matcher-core` (or starting [`crate::server`]). Turns typed errors into `anyhow` messages
//! with file context; owns no matching logic and no HTTP.

mod accountability;
pub mod batch;
pub mod compare;
mod data;
pub mod describe;
mod effects;
pub mod flags;
pub(crate) mod out;
pub mod report_html;
pub mod run_dir;
mod serve;
mod solve;
mod token;
mod validate_explain;

use anyhow::Context;
use clap::{Parser, Subcommand};
use flags::{RunFlags, parse_fraction, parse_scale};
use matcher_core::Scale;
use matcher_core::model::ReferenceData;
use std::path::PathBuf;
use std::process::ExitCode;

/// The command line.
#[derive(Parser)]
#[command(name = "matcher", version, about = "Brobygger: matching candidates with offers")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the embedded reference data summary.
    Reference,
    /// Generate a synthetic (invented) data set as CSV tables, and optionally a snapshot.
    Gen {
        /// demo (~2,000 candidates), municipality (~10,000), national (~250,000) or nordic
        /// (1,000,000, with `--reference data/reference-nordic`).
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
        // The reference tables to generate against (`--reference`, read with `--encoding`):
        // `--scale nordic` needs one with synthetic_regions.csv (data/reference-nordic), and
        // `batch` and `validate` of the data set then need the same.
        #[command(flatten)]
        input: validate_explain::DataFlags,
    },
    /// Check a data set directory or snapshot; list every bad row. Exit code 1 if any.
    Validate {
        /// A directory of CSV/JSON tables, or a snapshot file.
        path: PathBuf,
        /// List at most this many bad rows (0: all); the total is always counted.
        #[arg(long, default_value_t = 1000)]
        max_problems: usize,
        /// Also say what the data set holds: how each file reads, counts per table,
        /// municipality and target group, date ranges; problems grouped by kind.
        #[arg(long)]
        explain: bool,
        #[command(flatten)]
        input: validate_explain::DataFlags,
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
        #[command(flatten)]
        input: validate_explain::DataFlags,
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
        #[command(flatten)]
        input: validate_explain::DataFlags,
    },
    /// Solve an assignment instance in the neutral peers format and print one JSON line.
    Solve(solve::SolveArgs),
    /// The nightly re-matching run: suggestions, offer prices and the morning report, written
    /// atomically to a run directory.
    Batch(batch::BatchArgs),
    /// A procurement analysis: the same night on today's offer set and on a scenario (a
    /// directory of replaced or added offers, contracts and providers, closed offers, or
    /// `--add-places OFFER=N`), side by side, with what one more place is worth in kroner
    /// (docs/procurement.md).
    Compare(Box<compare::CompareArgs>),
    /// Measure the effect estimates on generated worlds with a known truth: the share of the
    /// oracle's avoided benefit weeks the engine reaches, against random and nearest offers.
    Evaluate(effects::EvaluateArgs),
    /// Write the model card for an algorithm register and a DPIA (Markdown or HTML, Danish or
    /// English), generated from the code and the policy in force.
    Describe(describe::DescribeArgs),
    /// Print a data set's episode history (the `outcomes` table) as CSV, or with `--db` the
    /// history a municipality recorded in the service.
    History {
        /// A directory of CSV/JSON tables, or a snapshot file (not with `--db`).
        #[arg(required_unless_present = "db", conflicts_with = "db")]
        path: Option<PathBuf>,
        /// The service's SQLite file: its recorded episodes (accepted decisions with their
        /// outcomes, and no-offer records) instead of a data set's.
        #[arg(long, requires = "municipality")]
        db: Option<PathBuf>,
        /// With `--db`: the municipality (kommunekode), e.g. 0851.
        #[arg(long, requires = "db")]
        municipality: Option<u16>,
        /// Write to this file instead of stdout (atomically: a reader never sees half of it).
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        input: validate_explain::DataFlags,
    },
    /// Run the HTTP service (see docs/service.md).
    Serve(Box<serve::ServeArgs>),
    /// Write a municipality's live state from the service's database as a data set directory
    /// (candidates with their running courses locked, declines in force, offers with the
    /// municipality's share of the free places, and its episode history as `outcomes.csv`),
    /// so that `matcher batch` can run on it and learn from the day's records.
    ExportState {
        /// The service's SQLite file.
        #[arg(long)]
        db: PathBuf,
        /// The municipality (kommunekode), e.g. 0851.
        #[arg(long)]
        municipality: u16,
        /// Directory to write the tables to.
        #[arg(long)]
        out: PathBuf,
        /// The day the state is read for (default: today, UTC).
        #[arg(long)]
        today: Option<String>,
    },
    /// Manage bearer tokens of the service.
    Token {
        #[command(subcommand)]
        command: token::TokenCommand,
    },
    /// Oversight of the system's influence on one municipality's decisions, as a page in
    /// Danish (`--out FILE.html`) or JSON: top-suggestion accepts, offers not suggested, time
    /// to decision, decline reasons, rubber-stamp flags (docs/accountability.md).
    Oversight(accountability::OversightArgs),
    /// Delete the records past their retention period (`[retention]` in the policy), or
    /// count them with `--dry-run` (docs/accountability.md).
    Retention(accountability::RetentionArgs),
}

/// Runs one command; the exit code is 1 when `validate` finds problems.
///
/// # Errors
/// Whatever stops the command, with the file it concerns.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let reference = || ReferenceData::embedded().context("embedded reference data");
    match cli.command {
        Command::Reference => data::reference(&reference()?),
        Command::Gen { scale, seed, out, snapshot, changed, input } => {
            let r = input.reference()?;
            if scale == Scale::Nordic && r.synthetic_regions.is_empty() {
                anyhow::bail!(
                    "the nordic scale places three quarters of its candidates in synthetic regions: pass --reference data/reference-nordic (and the same to batch and validate)"
                );
            }
            data::generate(&r, scale, seed, &out, snapshot.as_deref(), changed)?;
        }
        Command::Validate { path, max_problems, explain, input } => {
            return validate_explain::validate(&path, max_problems, explain, &input, data::summary);
        }
        Command::Graph { path, instance, run, input } => {
            data::graph(input.reference()?, &path, instance.as_deref(), &run, &input)?
        }
        Command::Explain { path, candidate, offer, run, input } => {
            data::explain(input.reference()?, &path, &candidate, &offer, &run, &input)?;
        }
        Command::Solve(args) => solve::run(&args)?,
        Command::Batch(args) => {
            let r = args.input.reference()?;
            batch::run(&args, r)?
        }
        Command::Compare(args) => {
            let r = args.input.reference()?;
            compare::run(&args, r)?
        }
        Command::Evaluate(args) => effects::evaluate(&args, reference()?)?,
        Command::Describe(args) => describe::run(&args, reference()?)?,
        Command::History { path, db, municipality, out, input } => {
            let reference = input.reference()?;
            let bytes = match (path, db, municipality) {
                (_, Some(db), Some(m)) => history_from_db(&db, m)?,
                (Some(path), _, _) => effects::history(&path, &reference, &input)?,
                _ => anyhow::bail!("give a data set, or --db FILE --municipality CODE"),
            };
            effects::write_out(&bytes, out.as_deref())?;
        }
        Command::Serve(args) => serve::run(*args)?,
        Command::ExportState { db, municipality, out, today } => {
            export_state(&db, municipality, &out, today.as_deref())?
        }
        Command::Token { command } => token::run(command)?,
        Command::Oversight(args) => accountability::oversight(&args)?,
        Command::Retention(args) => accountability::retention(&args)?,
    }
    Ok(ExitCode::SUCCESS)
}

/// `matcher export-state`: the service's live state of one municipality as a data set.
fn export_state(
    db: &std::path::Path,
    municipality: u16,
    out: &std::path::Path,
    today: Option<&str>,
) -> anyhow::Result<()> {
    use anyhow::Context;
    let today = match today {
        Some(text) => Some(
            matcher_core::model::Date::parse(text)
                .with_context(|| format!("--today {text}: expected YYYY-MM-DD"))?,
        ),
        None => None,
    };
    // The store and the offers only: no start-up work of a server (a running server may share
    // the file; its batch runs must not be marked interrupted).
    let store = crate::server::store::Store::open(db).with_context(|| format!("opening {}", db.display()))?;
    let reference = std::sync::Arc::new(ReferenceData::embedded()?);
    let today = today.unwrap_or_else(crate::server::today_utc);
    let catalogues = crate::server::catalogue::Catalogues::load(
        &store,
        reference.clone(),
        std::sync::Arc::new(matcher_core::policy::PolicySet::default()),
        today,
    )?;
    let data =
        crate::server::batch::live_dataset(&store, &catalogues, municipality).map_err(anyhow::Error::msg)?;
    let mut data = data;
    // The tenant's own episodes only. The shared evidence keeps the counts of every tenant's
    // outcomes, as a data set's `evidence` counts the courses its `outcomes` hold: the core
    // takes the tenant's episodes out of it once, and other tenants' outcomes stay evidence,
    // so the night learns from every outcome exactly once.
    data.outcomes.retain(|e| e.municipality.0 == municipality);
    matcher_core::dataset::write_dir(&data, &reference, out)
        .with_context(|| format!("writing {}", out.display()))?;
    println!(
        "{} candidates, {} offers, {} declines, {} episodes written to {}",
        data.candidates.len(),
        data.offers.len(),
        data.declines.len(),
        data.outcomes.len(),
        out.display()
    );
    Ok(())
}

/// `matcher history --db FILE --municipality CODE`: the municipality's recorded episodes in
/// the `outcomes` table's format, as `GET /v1/history` answers them in CSV.
fn history_from_db(db: &std::path::Path, municipality: u16) -> anyhow::Result<Vec<u8>> {
    let store = crate::server::store::Store::open(db).with_context(|| format!("opening {}", db.display()))?;
    let rows = store
        .history(Some(municipality), 0, u32::MAX)
        .with_context(|| format!("reading the history of {municipality:04} from {}", db.display()))?;
    Ok(crate::server::history::csv(&rows))
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// `matcher --help` is the first page an operator reads: every command says what it does,
    /// in its own line (a doc comment placed one variant too early once gave `token` no line
    /// and `export-state` the token's first sentence).
    #[test]
    fn every_command_says_what_it_does_in_its_own_words() {
        let cli = Cli::command();
        for sub in cli.get_subcommands() {
            let about = sub.get_about().map(ToString::to_string).unwrap_or_default();
            assert!(!about.trim().is_empty(), "`matcher {}` has no line in --help", sub.get_name());
            if sub.get_name() != "token" {
                assert!(!about.contains("token"), "`matcher {}` is described as: {about}", sub.get_name());
            }
        }
        let token = cli.find_subcommand("token").map(|t| t.get_about().map(ToString::to_string));
        assert_eq!(token, Some(Some("Manage bearer tokens of the service".to_string())));
    }
}
