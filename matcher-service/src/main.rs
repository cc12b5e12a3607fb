//! `matcher`: the command line of Brobygger. Glue only: parses the flags and hands them to
//! [`matcher_service::cli::run`]; an error is printed as one line and exits with code 1.

use clap::Parser;
use matcher_service::cli::{Cli, run};
use std::process::ExitCode;

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
