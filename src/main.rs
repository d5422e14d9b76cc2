//! perfdiag: database performance diagnosis and tuning.
//!
//! The pipeline, one module a stage: `collection` (probes → snapshot), the
//! `perfdiag-analyzers` crate (snapshot → assessment), `perfdiag-advice` (assessment →
//! plan), `report` (everything → HTML/JSON). `commands` wires them to the CLI.

mod case;
mod cli;
mod collection;
mod commands;
mod compare_summary;
mod databases;
mod engagement;
mod output;
mod report;
mod summary;
mod terminal;

use std::process::ExitCode;

use clap::Parser;

/// Exit code when the output was written but a probe failed.
const EXIT_PROBE_FAILED: u8 = 3;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match commands::run(cli.command) {
        Ok(commands::Outcome::Clean) => ExitCode::SUCCESS,
        Ok(commands::Outcome::ProbeFailed) => ExitCode::from(EXIT_PROBE_FAILED),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
