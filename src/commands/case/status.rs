//! `case status`: days left, KPI trends and open regressions, as text or JSON.

use anyhow::Result;

use crate::case::clock::Clock;
use crate::case::status::CaseStatus;
use crate::case::{Case, print};
use crate::cli::CaseStatusArgs;
use crate::commands::Outcome;
use crate::output;
use crate::report::Catalog;
use crate::terminal::Paint;

pub(super) fn run(args: &CaseStatusArgs) -> Result<Outcome> {
    let clock = Clock::from_env()?;
    let case = Case::open(&args.dir)?;
    let status = CaseStatus::of(&case, clock.now())?;
    if args.json {
        output::print(&(serde_json::to_string_pretty(&status)? + "\n"));
    } else {
        let catalog = Catalog::load(args.lang.unwrap_or_else(|| case.config.lang()))?;
        output::print(&print::status(&status, &catalog, Paint::for_stdout()));
    }
    Ok(Outcome::Clean)
}
