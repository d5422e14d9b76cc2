//! `case recheck`: a follow-up snapshot compared with the post-optimization
//! baseline; steps verified or regressed, the guarantee's verdict recorded. A
//! collected re-check that fails is recorded as failed and changes nothing else.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Utc};
use perfdiag_model::{Snapshot, StepState};

use super::snapshots::{check_order, check_targets, collect_snapshot, failed_probes};
use super::{analysis, catalog, open_locked};
use crate::case::clock::Clock;
use crate::case::progress::{Recheck, Role, StepEntry, Verdict};
use crate::case::status::CaseStatus;
use crate::case::{self, Case, print, rules, verify};
use crate::cli::{CaseRecheckArgs, CaseSampling};
use crate::commands::Outcome;
use crate::output;
use crate::terminal::Paint;

pub(super) fn run(args: &CaseRecheckArgs) -> Result<Outcome> {
    let result = match &args.snapshot {
        Some(file) => recheck_given(&args.dir, file),
        None => recheck_collected(&args.dir, &args.sampling),
    };
    if args.log {
        log(&args.dir, &result);
    }
    result
}

/// Appends the outcome of an unattended run to `logs/recheck.log`.
fn log(dir: &Path, result: &Result<Outcome>) {
    let path = dir.join(case::RECHECK_LOG);
    let line = match result {
        Ok(_) => "re-check done (see progress.toml)".to_owned(),
        Err(e) => format!("re-check failed: {e:#}"),
    };
    let now = Clock::from_env().map_or_else(|_| Utc::now(), |c| c.now());
    let written = std::fs::create_dir_all(dir.join(case::LOGS)).and_then(|()| {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        writeln!(f, "{} {line}", now.format("%Y-%m-%dT%H:%M:%SZ"))
    });
    if let Err(e) = written {
        eprintln!("warning: cannot write {}: {e}", path.display());
    }
}

/// What the re-check found, ready to be recorded.
struct Judged {
    steps: Vec<StepEntry>,
    changes: Vec<(String, StepState, StepState)>,
    comparison: perfdiag_model::comparison::Comparison,
    verdict: Verdict,
    reasons: Vec<crate::case::progress::Reason>,
}

/// Checks a re-check snapshot and judges it, changing nothing.
fn judge(
    case: &Case,
    path: &Path,
    snapshot: &Snapshot,
    at: DateTime<Utc>,
    collected: bool,
) -> Result<Judged> {
    let o = case
        .progress
        .optimization
        .as_ref()
        .expect("checked by the caller");
    let m = snapshot.manifest();
    case.check_host(path, m)?;
    check_order(m, path, &o.baseline, case, "post-optimization baseline")?;
    check_targets(case, m, path, collected)?;
    let (baseline, options) = analysis(case)?;
    let before = case.read_snapshot(&o.baseline)?;
    let comparison = perfdiag_analyzers::compare(&before, snapshot, &baseline, &options)
        .context("comparing the baseline with the re-check")?;
    let assessment = perfdiag_analyzers::assess_with(snapshot, &baseline, &options)
        .context("assessing the re-check")?;
    let gains = case.read_comparison(&o.comparison)?;
    let mut steps = case.progress.steps.clone();
    let file = case::snapshot_file(path, m);
    let judgements = verify::judge_steps(&mut steps, &assessment, at, &file);
    let (verdict, reasons) = rules::verdict(&steps, &judgements, &comparison, Some(&gains));
    let changes = judgements
        .into_iter()
        .filter(verify::Judgement::changed)
        .map(|j| (j.step, j.before, j.after))
        .collect();
    Ok(Judged {
        steps,
        changes,
        comparison,
        verdict,
        reasons,
    })
}

/// The case is optimized, and the clock is not before its last re-check.
fn check_recheckable(case: &Case, now: DateTime<Utc>) -> Result<()> {
    if case.progress.optimization.is_none() {
        bail!(
            "the case has no post-optimization baseline yet: run `perfdiag case optimized {}` \
             once the plan is applied",
            case.dir.display()
        );
    }
    if let Some(last) = case.progress.rechecks.last()
        && now < last.at
    {
        bail!(
            "it is {} by the case's clock, before its last re-check ({}): check the clock (or {})",
            now.format("%Y-%m-%d %H:%M UTC"),
            last.at.format("%Y-%m-%d %H:%M UTC"),
            crate::case::clock::NOW_VARIABLE
        );
    }
    Ok(())
}

/// Records a judged re-check: the snapshot copied in, its comparison, the steps, the
/// re-check; the record last.
fn record(
    case: &mut Case,
    path: &Path,
    at: DateTime<Utc>,
    judged: Judged,
    now: DateTime<Utc>,
) -> Result<Recheck> {
    let m = Snapshot::read_manifest(path)?;
    let n = case.progress.rechecks.len() + 1;
    let file = case.add_snapshot(path, &m, Role::Recheck, now)?;
    let comparison = case.write_comparison(&format!("recheck-{n:03}.json"), &judged.comparison)?;
    case.progress.steps = judged.steps;
    let window = case
        .progress
        .optimization
        .as_ref()
        .expect("optimized")
        .window();
    let r = Recheck {
        at,
        verdict: judged.verdict,
        in_window: window.contains(at),
        snapshot: Some(file),
        comparison: Some(comparison),
        reasons: judged.reasons,
        error: None,
    };
    case.progress.rechecks.push(r.clone());
    case.save()?;
    Ok(r)
}

fn print_recheck(
    case: &Case,
    r: &Recheck,
    changes: &[(String, StepState, StepState)],
    now: DateTime<Utc>,
) -> Result<()> {
    let status = CaseStatus::of(case, now)?;
    output::print(&print::recheck(
        r,
        changes,
        &status,
        &catalog(case)?,
        Paint::for_stdout(),
    ));
    Ok(())
}

/// `recheck --snapshot FILE` (and `add --role recheck`): an engineer's snapshot. A
/// bad file is the engineer's to fix, so it is refused and nothing is recorded.
pub(super) fn recheck_given(dir: &Path, file: &Path) -> Result<Outcome> {
    let clock = Clock::from_env()?;
    let (_lock, mut case) = open_locked(dir, "recheck")?;
    let now = clock.now();
    check_recheckable(&case, now)?;
    let snapshot = Snapshot::read(file)?;
    // The time the system was seen: the snapshot's own (an engineer may bring it back
    // days later), never later than the clock.
    let at = Clock::fixed(snapshot.manifest().window.started_at)
        .now()
        .min(now);
    let o = case.progress.optimization.as_ref().expect("checked");
    if at < o.at {
        bail!(
            "{} was taken at {}, before the optimization ({}): it cannot re-check it",
            file.display(),
            at.format("%Y-%m-%d %H:%M UTC"),
            o.at.format("%Y-%m-%d %H:%M UTC")
        );
    }
    if let Some(last) = case.progress.rechecks.last()
        && at < last.at
    {
        bail!(
            "{} was taken at {}, before the last re-check ({}): re-checks are recorded in order",
            file.display(),
            at.format("%Y-%m-%d %H:%M UTC"),
            last.at.format("%Y-%m-%d %H:%M UTC")
        );
    }
    let judged = judge(&case, file, &snapshot, at, false)?;
    let changes = judged.changes.clone();
    let r = record(&mut case, file, at, judged, now)?;
    print_recheck(&case, &r, &changes, now)?;
    Ok(Outcome::Clean)
}

/// `recheck` without a snapshot: collect now, as a scheduled run does. Once the case
/// is open and locked, a failure (a database unreachable, a snapshot that cannot be
/// judged) is recorded as a failed re-check, and nothing else changes.
fn recheck_collected(dir: &Path, sampling: &CaseSampling) -> Result<Outcome> {
    let clock = Clock::from_env()?;
    let (_lock, mut case) = open_locked(dir, "recheck")?;
    let now = clock.now();
    check_recheckable(&case, now)?;
    let attempt = collect_snapshot(&case, sampling).and_then(|c| {
        failed_probes(&c.snapshot);
        let judged = judge(&case, &c.path, &c.snapshot, now, true);
        match judged {
            Ok(j) => Ok((c, j)),
            Err(e) => Err(e.context(format!(
                "the snapshot taken is kept at {}",
                c.path.display()
            ))),
        }
    });
    match attempt {
        Ok((collected, judged)) => {
            let changes = judged.changes.clone();
            let r = record(&mut case, &collected.path, now, judged, now)?;
            collected.discard();
            print_recheck(&case, &r, &changes, now)?;
            Ok(Outcome::Clean)
        }
        Err(error) => {
            let message = format!("{error:#}");
            let window = case
                .progress
                .optimization
                .as_ref()
                .expect("checked")
                .window();
            case.progress.rechecks.push(Recheck {
                at: now,
                verdict: Verdict::Failed,
                in_window: window.contains(now),
                snapshot: None,
                comparison: None,
                reasons: Vec::new(),
                error: Some(message.clone()),
            });
            case.save()?;
            Err(anyhow!(
                "the re-check failed, and is recorded as failed in {}: {message}",
                case.path(crate::case::progress::FILE).display()
            ))
        }
    }
}
