//! The CLI verbs, each in its own file.

mod analyze;
mod case;
mod collect;
mod diagnose;
mod import;
mod inspect;
mod logs;
mod plan;
mod report;
mod scripts;

use std::path::Path;

use anyhow::{Context, Result, bail};
use perfdiag_analyzers::Baseline;
use perfdiag_model::{Assessment, Plan, ProbeStatus, Snapshot, default_file_name};

use crate::cli::{AnalysisArgs, Command, SnapshotCommand};
use crate::report::{Catalog, Lang};

/// How a command ended when it did not fail.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    Clean,
    /// Output written, but at least one probe failed.
    ProbeFailed,
}

pub fn run(command: Command) -> Result<Outcome> {
    match command {
        Command::Diagnose(args) => diagnose::run(&args),
        Command::Collect(args) => collect::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Logs(args) => logs::run(&args),
        Command::Analyze(args) => analyze::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Scripts(args) => scripts::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Snapshot(SnapshotCommand::Inspect { file, json }) => inspect::run(&file, json),
        Command::Case(command) => case::run(&command),
    }
}

fn outcome_of(snapshot: &Snapshot) -> Outcome {
    if snapshot
        .manifest()
        .probes
        .iter()
        .any(|p| p.status == ProbeStatus::Failed)
    {
        Outcome::ProbeFailed
    } else {
        Outcome::Clean
    }
}

/// Assessment, plan and catalog for a snapshot: the part `diagnose` and `report` share.
fn assess_and_plan(
    snapshot: &Snapshot,
    args: &AnalysisArgs,
) -> Result<(Assessment, Plan, Catalog)> {
    let baseline = match &args.baseline {
        Some(path) => Baseline::from_file(path)?,
        None => Baseline::builtin(),
    };
    let options = perfdiag_analyzers::Options {
        workload: args.workload.map(Into::into),
        dedicated: !args.shared_host,
    };
    let assessment = perfdiag_analyzers::assess_with(snapshot, &baseline, &options)
        .context("assessing the snapshot")?;
    let plan = perfdiag_advice::plan(&assessment, snapshot);
    let catalog = Catalog::load(args.lang.unwrap_or_else(Lang::from_env))?;
    Ok((assessment, plan, catalog))
}

/// Writes the snapshot. When `path` cannot be written, the snapshot is saved in the
/// system's temporary folder instead, so a collection window is never lost, and the
/// command fails naming both places.
fn save_snapshot(snapshot: &Snapshot, path: &Path) -> Result<()> {
    let Err(error) = snapshot.write(path) else {
        return Ok(());
    };
    let m = snapshot.manifest();
    let rescue =
        std::env::temp_dir().join(default_file_name(&m.host.hostname, m.window.started_at));
    match snapshot.write(&rescue) {
        Ok(()) => bail!(
            "{error}; the collection was saved to {} instead",
            rescue.display()
        ),
        Err(_) => Err(error.into()),
    }
}

fn write_file(path: &Path, content: impl AsRef<[u8]>) -> Result<()> {
    std::fs::write(path, content).with_context(|| format!("cannot write {}", path.display()))
}
