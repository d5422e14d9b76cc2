//! The optimization plan as the report shows it: steps in the plan's order (which is
//! phase order), the phases with their step numbers, and each step's script and
//! rollback for the appendix.

use perfdiag_model::plan::ExpectedEffect;
use perfdiag_model::{Plan, PlanStep};
use serde::Serialize;

use super::findings::serde_plain;
use super::format;
use super::i18n::Catalog;

#[derive(Debug, Serialize)]
pub struct StepView {
    /// 1-based, in the order to apply the steps.
    pub number: usize,
    pub id: String,
    pub title: String,
    pub why: String,
    /// The expected effect in words.
    pub effect: String,
    /// The expected effect in numbers: `pg.cache.hit_ratio_pct: 91 % → >= 99 %`.
    pub expected: Option<String>,
    /// The phase's label; `phase_id` is its id.
    pub phase: String,
    pub phase_id: String,
    pub risk: String,
    pub risk_id: String,
    pub needs_restart: bool,
    /// The script has `<placeholders>` to fill in before it runs.
    pub template: bool,
    pub subject: Option<String>,
    /// Titles of the findings the step fixes.
    pub addresses: Vec<String>,
    /// Numbers of the steps to apply first.
    pub depends_on: Vec<usize>,
    pub script_language: String,
    pub script: String,
    pub rollback_language: String,
    pub rollback: String,
    pub verify: String,
}

/// One phase of the plan and its steps, by number.
#[derive(Debug, Serialize)]
pub struct PhaseView {
    pub id: String,
    pub label: String,
    pub steps: Vec<usize>,
}

pub fn steps(plan: &Plan, c: &Catalog) -> Vec<StepView> {
    let number_of = |id: &str| plan.steps.iter().position(|s| s.id == id).map(|i| i + 1);
    plan.steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut v = step(i + 1, s, c);
            v.depends_on = s.depends_on.iter().filter_map(|d| number_of(d)).collect();
            v
        })
        .collect()
}

/// The phases that have steps, in plan order.
pub fn phases(steps: &[StepView]) -> Vec<PhaseView> {
    let mut out: Vec<PhaseView> = Vec::new();
    for s in steps {
        match out.iter_mut().find(|p| p.id == s.phase_id) {
            Some(p) => p.steps.push(s.number),
            None => out.push(PhaseView {
                id: s.phase_id.clone(),
                label: s.phase.clone(),
                steps: vec![s.number],
            }),
        }
    }
    out
}

fn step(number: usize, s: &PlanStep, c: &Catalog) -> StepView {
    let phase_id = serde_plain(&s.phase);
    let risk_id = serde_plain(&s.risk);
    StepView {
        number,
        id: s.id.clone(),
        title: c.text(&format!("step.{}.title", s.id)),
        why: c.text(&format!("step.{}.why", s.id)),
        effect: c.text(&format!("step.{}.effect", s.id)),
        expected: s.expected_effect.as_ref().map(|e| expected(e, c)),
        phase: c.text(&format!("phase.{phase_id}")),
        phase_id,
        risk: c.text(&format!("risk.{risk_id}")),
        risk_id,
        needs_restart: s.needs_restart,
        template: s.template,
        subject: s.subject.clone(),
        addresses: s
            .findings
            .iter()
            .map(|id| c.text(&format!("rule.{id}.title")))
            .collect(),
        depends_on: Vec::new(),
        script_language: s.script.language.clone(),
        script: s.script.body.clone(),
        rollback_language: s.rollback.language.clone(),
        rollback: s.rollback.body.clone(),
        verify: format!("{} {}", s.verify.metric, s.verify.target),
    }
}

/// `metric: now → after`, the value now formatted for the language and the target
/// read as a reader would: `2 → 0`, `91 % → ≥ 99 %`.
pub fn expected(e: &ExpectedEffect, c: &Catalog) -> String {
    format!(
        "{}: {} → {}",
        e.metric,
        format::value(&e.now, c),
        target(&e.after)
    )
}

/// A verification target with its comparison as a symbol; `=` goes (the value is the
/// target).
fn target(after: &str) -> String {
    let after = after.trim();
    for (op, symbol) in [(">=", "≥ "), ("<=", "≤ "), ("==", ""), ("=", "")] {
        if let Some(rest) = after.strip_prefix(op) {
            return format!("{symbol}{}", rest.trim_start());
        }
    }
    after.to_owned()
}

#[cfg(test)]
mod tests {
    use super::target;

    #[test]
    fn targets_read_as_symbols() {
        assert_eq!(target("= 0"), "0");
        assert_eq!(target(">= 99 %"), "≥ 99 %");
        assert_eq!(target("<= 5"), "≤ 5");
        assert_eq!(target("< 100000"), "< 100000");
        assert_eq!(target("= never"), "never");
    }
}
