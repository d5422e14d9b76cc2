//! `case confirm`: the customer's service confirmation, recorded with its date.

use anyhow::{Result, bail};

use super::{event_time, open_locked};
use crate::case::clock::Clock;
use crate::cli::CaseConfirmArgs;
use crate::commands::Outcome;

pub(super) fn run(args: &CaseConfirmArgs) -> Result<Outcome> {
    let clock = Clock::from_env()?;
    let (_lock, mut case) = open_locked(&args.dir, "confirm")?;
    let Some(o) = case.progress.optimization.clone() else {
        bail!(
            "the service is confirmed once the optimization is done: `perfdiag case optimized {}` first",
            args.dir.display()
        );
    };
    if let Some(c) = &case.progress.confirmation {
        bail!(
            "the service was already confirmed by {} on {}",
            c.by,
            c.at.format("%Y-%m-%d")
        );
    }
    let at = event_time(args.at, &clock, "the confirmation")?;
    if at < o.at {
        bail!(
            "dates out of order: the confirmation ({}) cannot be before the optimization ({})",
            at.format("%Y-%m-%d"),
            o.at.format("%Y-%m-%d")
        );
    }
    case.progress.confirmation = Some(crate::case::progress::Confirmation {
        by: args.by.clone(),
        at,
    });
    case.save()?;
    eprintln!(
        "service confirmed by {} on {}",
        args.by,
        at.format("%Y-%m-%d")
    );
    Ok(Outcome::Clean)
}
