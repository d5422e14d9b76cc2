//! Snapshots entering a case: added by hand or collected with the case's targets,
//! and the checks every one passes (same host, right order, every database reached).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use perfdiag_model::{Manifest, ProbeStatus, Snapshot, default_file_name};

use super::open_locked;
use super::recheck::recheck_given;
use crate::case::Case;
use crate::case::clock::Clock;
use crate::case::progress::Role;
use crate::cli::{
    CaseAddArgs, CaseCollectArgs, CaseRole, CaseSampling, DatabaseArgs, SamplingArgs,
};
use crate::commands::{Outcome, outcome_of};

/// The database targets a snapshot reached: some probe of theirs did not fail (an
/// unreachable target has only its failed connection record), whatever the engine.
fn reached(m: &Manifest) -> BTreeSet<String> {
    m.probes
        .iter()
        .filter(|p| p.status != ProbeStatus::Failed)
        .filter_map(|p| p.target.clone())
        .collect()
}

/// Why `target` is missing from a snapshot, from its failed probes.
fn why_missing(m: &Manifest, target: &str) -> String {
    m.probes
        .iter()
        .find(|p| p.target.as_deref() == Some(target) && p.status == ProbeStatus::Failed)
        .and_then(|p| p.message.clone())
        .unwrap_or_else(|| "not collected".to_owned())
}

/// A post-optimization snapshot must hold every database the diagnosis held (else its
/// findings would look resolved), and, when collected with the case's targets, reach
/// every one of them.
pub(super) fn check_targets(case: &Case, m: &Manifest, file: &Path, collected: bool) -> Result<()> {
    let mut required = BTreeSet::new();
    if let Some(plan) = &case.progress.plan {
        required.extend(reached(&Snapshot::read_manifest(
            &case.path(&plan.snapshot),
        )?));
    }
    if collected {
        required.extend(case.config.targets().map(|t| t.label().to_owned()));
    }
    let have = reached(m);
    let missing: Vec<String> = required
        .iter()
        .filter(|t| !have.contains(*t))
        .map(|t| format!("{t} ({})", why_missing(m, t)))
        .collect();
    if !missing.is_empty() {
        bail!(
            "{} lacks the database {}: a re-check without it would take its problems for fixed",
            file.display(),
            missing.join(", ")
        );
    }
    Ok(())
}

/// Refuses a snapshot taken before `after` (the baseline before the diagnosis, a
/// re-check before the baseline): the files may be swapped.
pub(super) fn check_order(
    m: &Manifest,
    file: &Path,
    after: &str,
    case: &Case,
    what: &str,
) -> Result<()> {
    let Some(earlier) = case.progress.snapshot(after) else {
        return Ok(());
    };
    if m.window.started_at <= earlier.taken_at {
        bail!(
            "{} was taken at {}, not after the {what} ({}, {}): give a snapshot taken later",
            file.display(),
            m.window.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
            after,
            earlier.taken_at.format("%Y-%m-%d %H:%M:%S UTC"),
        );
    }
    Ok(())
}

/// A collected snapshot, written to a temporary file outside the case (moved in only
/// once the verb succeeds; kept there when it fails, for a look).
pub(super) struct Collected {
    pub path: PathBuf,
    pub snapshot: Snapshot,
}

/// Collects this host and the case's targets, as `perfdiag collect` would, with the
/// case's duration and interval (or the command line's).
pub(super) fn collect_snapshot(case: &Case, overrides: &CaseSampling) -> Result<Collected> {
    let c = &case.config;
    let sampling = SamplingArgs {
        duration: overrides.duration.unwrap_or(c.duration),
        interval: overrides.interval.unwrap_or(c.interval),
        targets: Vec::new(),
        top_processes: 15,
        host_root: c
            .file
            .collection
            .host_root
            .clone()
            .unwrap_or_else(|| PathBuf::from("/")),
        quiet: overrides.quiet,
        logs: Vec::new(),
        databases: DatabaseArgs {
            postgres: c.postgres.clone(),
            mysql: c.mysql.clone(),
            mssql: c.mssql.clone(),
            statement_timeout: std::time::Duration::from_secs(5),
            top: 50,
        },
    };
    let stop = crate::collection::interrupt_flag();
    let snapshot = crate::collection::collect(&sampling, &stop);
    let m = snapshot.manifest();
    let folder = std::env::temp_dir().join(format!("perfdiag-case-{}", std::process::id()));
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    let path = folder.join(default_file_name(&m.host.hostname, m.window.started_at));
    snapshot.write(&path)?;
    Ok(Collected { path, snapshot })
}

impl Collected {
    /// The temporary copy is no longer needed.
    pub fn discard(&self) {
        let _ = std::fs::remove_file(&self.path);
        if let Some(parent) = self.path.parent() {
            let _ = std::fs::remove_dir(parent);
        }
    }
}

pub(super) fn failed_probes(snapshot: &Snapshot) {
    for p in snapshot
        .manifest()
        .probes
        .iter()
        .filter(|p| p.status == ProbeStatus::Failed)
    {
        eprintln!(
            "warning: probe {}{} failed: {}",
            p.id,
            p.target
                .as_deref()
                .map(|t| format!(" of {t}"))
                .unwrap_or_default(),
            p.message.as_deref().unwrap_or("")
        );
    }
}

pub(super) fn add(args: &CaseAddArgs) -> Result<Outcome> {
    match args.role {
        CaseRole::Recheck => recheck_given(&args.dir, &args.snapshot),
        CaseRole::Diagnosis => {
            let clock = Clock::from_env()?;
            let (_lock, mut case) = open_locked(&args.dir, "add")?;
            // What is wrong with the file first: it is wrong for any case.
            let m = Snapshot::read_manifest(&args.snapshot)?;
            case.check_host(&args.snapshot, &m)?;
            refuse_after_optimization(&case)?;
            let file = case.add_snapshot(&args.snapshot, &m, Role::Diagnosis, clock.now())?;
            case.save()?;
            eprintln!("{file} added as a diagnosis snapshot");
            next_after_diagnosis(&case);
            Ok(Outcome::Clean)
        }
    }
}

pub(super) fn refuse_after_optimization(case: &Case) -> Result<()> {
    if let Some(o) = &case.progress.optimization {
        bail!(
            "the case was optimized on {}: a diagnosis now would not be one; take follow-up \
             snapshots with `perfdiag case recheck {}`",
            o.at.format("%Y-%m-%d"),
            case.dir.display()
        );
    }
    Ok(())
}

pub(super) fn next_after_diagnosis(case: &Case) {
    if case.progress.plan.is_none() {
        eprintln!(
            "next: `perfdiag case plan {}` makes the plan from the latest diagnosis snapshot",
            case.dir.display()
        );
    }
}

pub(super) fn collect(args: &CaseCollectArgs) -> Result<Outcome> {
    let clock = Clock::from_env()?;
    let (_lock, mut case) = open_locked(&args.dir, "collect")?;
    refuse_after_optimization(&case)?;
    let collected = collect_snapshot(&case, &args.sampling)?;
    failed_probes(&collected.snapshot);
    let m = collected.snapshot.manifest().clone();
    let file = case.add_snapshot(&collected.path, &m, Role::Diagnosis, clock.now())?;
    case.save()?;
    collected.discard();
    eprintln!("{file} added as a diagnosis snapshot");
    next_after_diagnosis(&case);
    Ok(outcome_of(&collected.snapshot))
}
