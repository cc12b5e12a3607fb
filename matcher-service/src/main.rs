//! `matcher`: the command line of Brobygger. Glue only: parsing flags, calling
//! `matcher-core`, turning its typed errors into messages and exit codes.

use clap::{Parser, Subcommand};

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
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Reference => {
            let r = matcher_core::model::ReferenceData::embedded()?;
            println!(
                "{} municipalities, {} postcodes, {} ISCO-08 groups, {} target groups, {} benefit kinds",
                r.municipalities.len(),
                r.postcodes.len(),
                r.occupations.len(),
                r.target_groups.len(),
                r.benefit_kinds.len()
            );
        }
    }
    Ok(())
}
