//! `perfdiag case …`: one engagement in a folder, from the diagnosis to the end of
//! its guarantee (docs/case.md). Each verb opens and checks the case, takes its lock
//! when it changes it, does its work without touching the case, and then writes what
//! changed — snapshots and comparisons first, `progress.toml` last.

use std::path::Path;

use anyhow::{Result, bail};
use chrono::{DateTime, Utc};
use perfdiag_analyzers::{Baseline, Options};

use crate::case::clock::Clock;
use crate::case::config::{self};
use crate::case::lock::Lock;
use crate::commands::Outcome;

use crate::case::Case;
use crate::cli::{AnalysisArgs, CaseCommand, WorkloadArg};
use crate::report::Catalog;

mod applied;
mod confirm;
mod init;
mod optimized;
mod plan;
mod recheck;
mod report;
mod schedule;
mod snapshots;
mod status;

pub fn run(command: &CaseCommand) -> Result<Outcome> {
    match command {
        CaseCommand::Init(args) => init::run(args),
        CaseCommand::Add(args) => snapshots::add(args),
        CaseCommand::Collect(args) => snapshots::collect(args),
        CaseCommand::Plan(args) => plan::run(&args.dir),
        CaseCommand::Applied(args) => applied::run(args),
        CaseCommand::Optimized(args) => optimized::run(args),
        CaseCommand::Recheck(args) => recheck::run(args),
        CaseCommand::Status(args) => status::run(args),
        CaseCommand::Report(args) => report::run(args),
        CaseCommand::Confirm(args) => confirm::run(args),
        CaseCommand::Schedule(args) => schedule::run(args),
    }
}

pub(super) fn catalog(case: &Case) -> Result<Catalog> {
    Catalog::load(case.config.lang())
}

/// Takes the lock, then opens the case: what every verb that changes a case does first.
pub(super) fn open_locked(dir: &Path, verb: &str) -> Result<(Lock, Case)> {
    if !dir.join(config::FILE).is_file() {
        bail!(
            "{} is not a case folder (it has no {}): `perfdiag case init {}` makes one",
            dir.display(),
            config::FILE,
            dir.display()
        );
    }
    let lock = Lock::take(dir, verb)?;
    let case = Case::open(dir)?;
    Ok((lock, case))
}

/// `--at` for an event: not in the future of the case's clock.
pub(super) fn event_time(
    at: Option<DateTime<Utc>>,
    clock: &Clock,
    what: &str,
) -> Result<DateTime<Utc>> {
    let at = at.map_or_else(|| clock.now(), |t| Clock::fixed(t).now());
    if at > clock.now() {
        bail!(
            "{what} cannot be dated in the future ({}, and it is {} now)",
            at.format("%Y-%m-%d %H:%M UTC"),
            clock.now().format("%Y-%m-%d %H:%M UTC")
        );
    }
    Ok(at)
}

/// The analysis options of `perfdiag plan`, from case.toml.
pub(super) fn analysis_args(case: &Case) -> AnalysisArgs {
    let c = &case.config;
    AnalysisArgs {
        lang: Some(c.lang()),
        baseline: c.file.baseline.as_ref().map(|b| case.dir.join(b)),
        workload: c.file.workload.map(|w| match w {
            perfdiag_model::Workload::Oltp => WorkloadArg::Oltp,
            perfdiag_model::Workload::Olap => WorkloadArg::Olap,
            perfdiag_model::Workload::Mixed => WorkloadArg::Mixed,
        }),
        shared_host: c.file.shared_host,
    }
}

/// The baseline thresholds and options of the analyzers, from case.toml.
pub(super) fn analysis(case: &Case) -> Result<(Baseline, Options)> {
    let c = &case.config;
    let baseline = match &c.file.baseline {
        Some(path) => Baseline::from_file(&case.dir.join(path))?,
        None => Baseline::builtin(),
    };
    Ok((
        baseline,
        Options {
            workload: c.file.workload,
            dedicated: !c.file.shared_host,
        },
    ))
}
