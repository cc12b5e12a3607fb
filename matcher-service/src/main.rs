//! `matcher`: the command line of Brobygger. Glue only: parsing flags, calling
//! `matcher-core`, turning its typed errors into messages and exit codes.

use anyhow::Context;
use clap::{Parser, Subcommand};
use matcher_core::dataset;
use matcher_core::model::{Dataset, OfferKind, ReferenceData};
use matcher_core::{Error, Scale};
use std::path::PathBuf;
use std::process::ExitCode;
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
