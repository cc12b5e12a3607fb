//! The `matcher` command line: one module per command, parsing its flags and calling
//! `matcher-core` (or starting [`crate::server`]). Turns typed errors into `anyhow` messages
//! with file context; owns no matching logic and no HTTP.

pub mod batch;
mod data;
pub mod flags;
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
    /// Run the HTTP service (see docs/service.md).
    Serve(serve::ServeArgs),
    /// Manage bearer tokens of the service.
    Token {
        #[command(subcommand)]
        command: token::TokenCommand,
    },
}

/// Runs one command; the exit code is 1 when `validate` finds problems.
///
/// # Errors
/// Whatever stops the command, with the file it concerns.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let reference = || ReferenceData::embedded().context("embedded reference data");
    match cli.command {
        Command::Reference => data::reference(&reference()?),
        Command::Gen { scale, seed, out, snapshot, changed } => {
            data::generate(&reference()?, scale, seed, &out, snapshot.as_deref(), changed)?;
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
        Command::Serve(args) => serve::run(args)?,
        Command::Token { command } => token::run(command)?,
    }
    Ok(ExitCode::SUCCESS)
}
