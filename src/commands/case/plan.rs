//! `case plan`: the plan, from the latest diagnosis snapshot, written once.

use std::path::Path;

use anyhow::{Context, Result, bail};
use perfdiag_model::{Assessment, StepState};

use super::snapshots::refuse_after_optimization;
use super::{analysis_args, open_locked};
use crate::case::clock::Clock;
use crate::case::progress::{FindingKey, PlanEntry, StepEntry, StepEvent};
use crate::case::{self};
use crate::commands::{Outcome, assess_and_plan};
use crate::output;

pub(super) fn run(dir: &Path) -> Result<Outcome> {
    let clock = Clock::from_env()?;
    let (_lock, mut case) = open_locked(dir, "plan")?;
    if let Some(p) = &case.progress.plan {
        bail!(
            "the case already has its plan ({}/, made {} from {}): a case has one plan, and \
             perfdiag never writes over one",
            p.folder,
            p.made_at.format("%Y-%m-%d"),
            p.snapshot
        );
    }
    refuse_after_optimization(&case)?;
    let Some(diagnosis) = case.progress.latest_diagnosis().cloned() else {
        bail!(
            "the case has no diagnosis snapshot yet: `perfdiag case collect {}` takes one",
            dir.display()
        );
    };
    let folder = case.path(case::PLAN);
    if folder.exists() {
        bail!(
            "{} exists but the case records no plan (left by an interrupted run?): remove or \
             rename it, then run again",
            folder.display()
        );
    }
    let snapshot = case.read_snapshot(&diagnosis.file)?;
    let (assessment, plan, catalog) = assess_and_plan(&snapshot, &analysis_args(&case))?;

    // Written beside, then renamed: the plan folder appears whole or not at all.
    let temp = case.path(&format!(".plan.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&temp);
    std::fs::create_dir_all(&temp).with_context(|| format!("cannot create {}", temp.display()))?;
    let source = diagnosis.file.trim_start_matches("snapshots/").to_owned();
    let written = crate::commands::plan::write_plan(&temp, &plan, &catalog, &snapshot, &source);
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&temp);
        return Err(e);
    }
    std::fs::rename(&temp, &folder)
        .with_context(|| format!("cannot move the plan into {}", folder.display()))?;

    let now = clock.now();
    case.progress.steps = plan
        .steps
        .iter()
        .map(|s| StepEntry {
            id: s.id.clone(),
            state: StepState::Proposed,
            addresses: addressed(&assessment, &s.findings),
            history: vec![StepEvent {
                state: StepState::Proposed,
                at: now,
                snapshot: None,
                evidence: Vec::new(),
            }],
        })
        .collect();
    case.progress.plan = Some(PlanEntry {
        folder: case::PLAN.to_owned(),
        snapshot: diagnosis.file.clone(),
        made_at: now,
    });
    case.save()?;

    let mut listing = String::new();
    for (i, s) in plan.steps.iter().enumerate() {
        listing.push_str(&format!("{:>3}  {}\n", i + 1, s.id));
    }
    output::print(&listing);
    eprintln!(
        "plan of {} steps written to {} from {}: review its README.md and scripts, apply by \
         hand, then record what was applied with `perfdiag case applied {} STEP…` (ids or numbers)",
        plan.steps.len(),
        folder.display(),
        diagnosis.file,
        dir.display()
    );
    Ok(Outcome::Clean)
}

/// The findings of `assessment` whose rule a step answers: what it must make disappear.
fn addressed(assessment: &Assessment, rules: &[String]) -> Vec<FindingKey> {
    let mut keys: Vec<FindingKey> = assessment
        .findings
        .iter()
        .filter(|f| rules.contains(&f.rule_id))
        .map(|f| FindingKey {
            rule: f.rule_id.clone(),
            subject: f.subject.clone(),
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
}
