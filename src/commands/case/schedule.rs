//! `case schedule`: the cron line, systemd timer and schtasks command that run
//! `case recheck` unattended; `--install` adds the cron line.

use anyhow::{Context, Result};

use crate::case::Case;
use crate::case::schedule::{self, Schedule};
use crate::cli::CaseScheduleArgs;
use crate::commands::Outcome;
use crate::output;

pub(super) fn run(args: &CaseScheduleArgs) -> Result<Outcome> {
    // The case must exist and be sound before anything runs it unattended.
    let case = Case::open(&args.dir)?;
    let dir = std::fs::canonicalize(&case.dir)
        .with_context(|| format!("cannot resolve {}", case.dir.display()))?;
    let exe = std::env::current_exe().context("cannot tell where perfdiag is")?;
    let schedule = Schedule {
        every: args.every,
        at: args.time,
        exe: exe.to_string_lossy().into_owned(),
        dir: dir.to_string_lossy().into_owned(),
    };
    output::print(&schedule.instructions());
    if args.install {
        schedule::install_cron(&schedule)?;
        eprintln!(
            "installed in the crontab of the current user: {}",
            schedule.cron_line()
        );
    }
    Ok(Outcome::Clean)
}
