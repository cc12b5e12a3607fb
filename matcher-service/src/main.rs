//! `matcher`: the command line of Brobygger. Glue only: parses the flags and hands them to
//! [`matcher_service::cli::run`]; an error is printed as one line and exits with code 1.

use clap::Parser;
use matcher_core::model::cpr;
use matcher_service::cli::{Cli, run};
use std::process::ExitCode;

fn main() -> ExitCode {
    // Errors echo what was given (a flag's value, an id, the flag whole as a problem's
    // source), and a CPR number given by mistake must not reach a terminal, a cron mail or a
    // log: every error is printed with CPR-like numbers starred out (`cpr::mask`), clap's
    // own ones included. Help and version go out as they are.
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if e.use_stderr() => {
            eprint!("{}", cpr::mask(&e.render().to_string()));
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
        Err(e) => e.exit(),
    };
    // The error and its causes, one line, whatever RUST_BACKTRACE says: this is what an
    // operator reads in a cron mail, not a stack trace.
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", cpr::mask(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}
