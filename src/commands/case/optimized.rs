//! `case optimized`: the post-optimization baseline, which opens the guarantee
//! window and judges the applied steps for the first time.

use anyhow::{Context, Result, anyhow, bail};
use perfdiag_model::{Snapshot, StepState};

use super::snapshots::{check_order, check_targets, collect_snapshot};
use super::{analysis, catalog, event_time, open_locked};
use crate::case::clock::Clock;
use crate::case::progress::{Optimization, Role, state_id};
use crate::case::status::CaseStatus;
use crate::case::window::Window;
use crate::case::{print, verify};
use crate::cli::CaseOptimizedArgs;
use crate::commands::Outcome;
use crate::output;

pub(super) fn run(args: &CaseOptimizedArgs) -> Result<Outcome> {
    let clock = Clock::from_env()?;
    let (_lock, mut case) = open_locked(&args.dir, "optimized")?;
    if let Some(o) = &case.progress.optimization {
        bail!(
            "the case was optimized on {} and its window runs until {}: a window opens once",
            o.at.format("%Y-%m-%d"),
            o.until.format("%Y-%m-%d")
        );
    }
    let Some(plan) = case.progress.plan.clone() else {
        bail!(
            "the case has no plan yet: `perfdiag case plan {}` makes it",
            args.dir.display()
        );
    };
    let first_applied = case
        .progress
        .steps
        .iter()
        .filter_map(|s| s.last(StepState::Applied))
        .map(|e| e.at)
        .min();
    let Some(first_applied) = first_applied else {
        bail!(
            "no step of the plan is recorded as applied: record them first with `perfdiag case \
             applied {} STEP…`",
            args.dir.display()
        );
    };
    let at = event_time(args.at, &clock, "the optimization")?;
    if at < first_applied {
        bail!(
            "dates out of order: the optimization ({}) cannot be before the first step was \
             applied ({})",
            at.format("%Y-%m-%d %H:%M UTC"),
            first_applied.format("%Y-%m-%d %H:%M UTC")
        );
    }
    let window =
        Window::open(at, args.until.map(|u| Clock::fixed(u).now())).map_err(|e| anyhow!("{e}"))?;

    let collected = match &args.snapshot {
        Some(_) => None,
        None => Some(collect_snapshot(&case, &args.sampling)?),
    };
    let (path, snapshot) = match (&args.snapshot, &collected) {
        (Some(p), _) => (p.clone(), Snapshot::read(p)?),
        (None, Some(c)) => (c.path.clone(), c.snapshot.clone()),
        (None, None) => unreachable!("collected above"),
    };
    let m = snapshot.manifest().clone();
    case.check_host(&path, &m)?;
    check_order(&m, &path, &plan.snapshot, &case, "diagnosis")?;
    check_targets(&case, &m, &path, collected.is_some())?;

    let (baseline, options) = analysis(&case)?;
    let diagnosis = case.read_snapshot(&plan.snapshot)?;
    let gains = perfdiag_analyzers::compare(&diagnosis, &snapshot, &baseline, &options)
        .context("comparing the diagnosis with the baseline")?;
    let assessment = perfdiag_analyzers::assess_with(&snapshot, &baseline, &options)
        .context("assessing the baseline")?;

    let file = case.add_snapshot(&path, &m, Role::Baseline, clock.now())?;
    let comparison = case.write_comparison("optimization.json", &gains)?;
    let judgements = verify::judge_steps(&mut case.progress.steps, &assessment, at, &file);
    case.progress.optimization = Some(Optimization {
        at,
        until: window.until,
        baseline: file.clone(),
        comparison,
    });
    case.save()?;
    if let Some(c) = &collected {
        c.discard();
    }

    let catalog = catalog(&case)?;
    let status = CaseStatus::of(&case, clock.now())?;
    let mut out = format!("{file}: {}\n", catalog.text("case.baseline_taken"));
    for j in judgements.iter().filter(|j| j.changed()) {
        out.push_str(&format!(
            "  {} {}: {} → {}\n",
            catalog.text("case.step"),
            j.step,
            catalog.text(&format!("case.state.{}", state_id(j.before))),
            catalog.text(&format!("case.state.{}", state_id(j.after))),
        ));
    }
    for j in judgements
        .iter()
        .filter(|j| j.after == StepState::Applied && !j.present.is_empty())
    {
        out.push_str(&format!(
            "  {} {}: {}\n",
            catalog.text("case.step"),
            j.step,
            catalog.text("case.still_present")
        ));
    }
    out.push_str(&format!(
        "  {}: {}\n",
        catalog.text("case.window.label"),
        print::window_line(&status, &catalog)
    ));
    output::print(&out);
    Ok(Outcome::Clean)
}
