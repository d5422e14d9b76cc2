//! `case applied`: steps recorded as applied, by id or number, with their date.

use anyhow::{Result, bail};
use perfdiag_model::StepState;

use super::{event_time, open_locked};
use crate::case::Case;
use crate::case::clock::Clock;
use crate::case::progress::{StepEvent, state_id};
use crate::cli::CaseAppliedArgs;
use crate::commands::Outcome;

/// A step named by id or by its number in the plan.
fn resolve_step<'a>(case: &'a Case, name: &str) -> Result<&'a str> {
    let steps = &case.progress.steps;
    if let Some(s) = steps.iter().find(|s| s.id == name) {
        return Ok(&s.id);
    }
    if let Ok(n) = name.parse::<usize>()
        && let Some(s) = n.checked_sub(1).and_then(|i| steps.get(i))
    {
        return Ok(&s.id);
    }
    let known: Vec<String> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{} {}", i + 1, s.id))
        .collect();
    bail!(
        "the plan has no step {name}; its steps are: {}",
        known.join(", ")
    )
}

pub(super) fn run(args: &CaseAppliedArgs) -> Result<Outcome> {
    let clock = Clock::from_env()?;
    let (_lock, mut case) = open_locked(&args.dir, "applied")?;
    let Some(plan) = case.progress.plan.clone() else {
        bail!(
            "the case has no plan yet: `perfdiag case plan {}` makes it",
            args.dir.display()
        );
    };
    let at = event_time(args.at, &clock, "a step")?;
    if at < plan.made_at {
        bail!(
            "dates out of order: a step cannot be applied ({}) before the plan was made ({})",
            at.format("%Y-%m-%d %H:%M UTC"),
            plan.made_at.format("%Y-%m-%d %H:%M UTC")
        );
    }
    let mut ids = Vec::new();
    for name in &args.steps {
        let id = resolve_step(&case, name)?.to_owned();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    for id in &ids {
        let step = case
            .progress
            .steps
            .iter_mut()
            .find(|s| &s.id == id)
            .expect("resolved above");
        match step.state {
            StepState::Proposed | StepState::Regressed => {}
            state => bail!(
                "step {id} is already {} (since {}); nothing was recorded",
                state_id(state),
                step.since()
                    .map_or_else(String::new, |t| t.format("%Y-%m-%d").to_string())
            ),
        }
        if let Some(since) = step.since()
            && at < since
        {
            bail!(
                "dates out of order: step {id} became {} on {}, after {}",
                state_id(step.state),
                since.format("%Y-%m-%d %H:%M UTC"),
                at.format("%Y-%m-%d %H:%M UTC")
            );
        }
        step.push(StepEvent {
            state: StepState::Applied,
            at,
            snapshot: None,
            evidence: Vec::new(),
        });
    }
    case.save()?;
    for id in &ids {
        eprintln!("step {id}: applied on {}", at.format("%Y-%m-%d %H:%M UTC"));
    }
    if case.progress.optimization.is_none() {
        eprintln!(
            "once the optimization is complete: `perfdiag case optimized {}` takes the baseline \
             snapshot and opens the guarantee window",
            args.dir.display()
        );
    }
    Ok(Outcome::Clean)
}
