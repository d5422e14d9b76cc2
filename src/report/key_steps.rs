//! The executive summary's "most valuable steps": the three plan steps that fix the
//! findings that matter most, with their expected gains.
//!
//! A step is worth what its most important finding is worth, ranked as the analyzers
//! rank findings: the lowest priority tier first (tier 1 = act now), then severity,
//! then the largest measured impact (share of database time, statement time or
//! saturation), then the points the findings cost their scores. Ties keep the plan's
//! order, so the cheaper phase wins.

use std::cmp::Reverse;

use perfdiag_model::{Assessment, Finding, Plan, PlanStep, Severity};
use serde::Serialize;

use super::bottleneck;
use super::i18n::Catalog;
use super::plan::expected;

/// How many steps the summary shows.
pub const KEY_STEPS: usize = 3;

#[derive(Debug, Serialize)]
pub struct KeyStepView {
    /// The step's number in the plan.
    pub number: usize,
    pub id: String,
    pub title: String,
    pub subject: Option<String>,
    /// The expected effect in words.
    pub effect: String,
    /// The expected effect in numbers, when the evidence gives the value now.
    pub expected: Option<String>,
    /// The best priority tier of the findings it fixes.
    pub tier: u8,
    /// The largest measured impact of those findings, in words.
    pub impact: Option<String>,
    /// Titles of the findings it fixes.
    pub fixes: Vec<String>,
}

/// What ranks a step: smaller is more valuable.
type Value = (u8, Reverse<Severity>, Reverse<u64>, Reverse<u32>, usize);

fn value(index: usize, findings: &[&Finding]) -> Value {
    let tier = findings.iter().map(|f| f.tier.0).min().unwrap_or(u8::MAX);
    // Shares compare as integers in hundredths of a percent: f64 is not Ord.
    let impact = findings
        .iter()
        .filter_map(|f| f.impact.as_ref())
        .map(|i| (i.share_pct.max(0.0) * 100.0).round() as u64)
        .max()
        .unwrap_or(0);
    let severity = findings
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Info);
    let penalty = findings.iter().map(|f| f.penalty).sum();
    (
        tier,
        Reverse(severity),
        Reverse(impact),
        Reverse(penalty),
        index,
    )
}

pub fn key_steps(plan: &Plan, a: &Assessment, c: &Catalog) -> Vec<KeyStepView> {
    let mut ranked: Vec<(Value, usize, &PlanStep, Vec<&Finding>)> = plan
        .steps
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let fixed: Vec<&Finding> = a
                .findings
                .iter()
                .filter(|f| s.findings.contains(&f.rule_id))
                .collect();
            (value(i, &fixed), i, s, fixed)
        })
        .collect();
    ranked.sort_by_key(|r| r.0);
    ranked
        .into_iter()
        .take(KEY_STEPS)
        .map(|(v, i, s, fixed)| {
            let weightiest = fixed.iter().filter(|f| f.impact.is_some()).max_by(|a, b| {
                let share = |f: &&&Finding| f.impact.as_ref().map_or(0.0, |i| i.share_pct);
                share(a).total_cmp(&share(b))
            });
            KeyStepView {
                number: i + 1,
                id: s.id.clone(),
                title: c.text(&format!("step.{}.title", s.id)),
                subject: s.subject.clone(),
                effect: c.text(&format!("step.{}.effect", s.id)),
                expected: s.expected_effect.as_ref().map(|e| expected(e, c)),
                tier: if v.0 == u8::MAX { 4 } else { v.0 },
                impact: weightiest.and_then(|f| bottleneck::impact(f, c)),
                fixes: s
                    .findings
                    .iter()
                    .map(|id| c.text(&format!("rule.{id}.title")))
                    .collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Lang;
    use perfdiag_model::{
        Dimension, Impact, ImpactBasis, Phase, Risk, Script, StepState, Tier, Verification,
    };

    fn finding(rule: &str, tier: u8, severity: Severity, share: Option<f64>) -> Finding {
        Finding {
            rule_id: rule.to_owned(),
            dimension: Dimension::DbConfig,
            severity,
            subject: None,
            evidence: Vec::new(),
            penalty: 10,
            impact: share.map(|share_pct| Impact {
                basis: ImpactBasis::DbTime,
                share_pct,
                wait_classes: Vec::new(),
            }),
            tier: Tier(tier),
        }
    }

    fn step(id: &str, rule: &str) -> PlanStep {
        let script = Script {
            language: "sh".to_owned(),
            body: String::new(),
        };
        PlanStep {
            id: id.to_owned(),
            phase: Phase::Configuration,
            findings: vec![rule.to_owned()],
            subject: None,
            script: script.clone(),
            rollback: script,
            risk: Risk::Low,
            needs_restart: false,
            verify: Verification {
                metric: "m".to_owned(),
                target: "t".to_owned(),
            },
            template: false,
            expected_effect: None,
            depends_on: Vec::new(),
            state: StepState::Proposed,
        }
    }

    #[test]
    fn tier_then_severity_then_impact_pick_the_three_steps() {
        let a = Assessment {
            generated_at: chrono::Utc::now(),
            tool_version: "test".to_owned(),
            baseline: "builtin".to_owned(),
            findings: vec![
                finding("r.info", 4, Severity::Info, None),
                finding("r.warn", 3, Severity::Warning, None),
                finding("r.loud", 2, Severity::Warning, Some(90.0)),
                finding("r.small", 1, Severity::Critical, Some(10.0)),
                finding("r.big", 1, Severity::Critical, Some(60.0)),
                finding("r.crit", 2, Severity::Critical, None),
            ],
            not_evaluated: Vec::new(),
            scores: Vec::new(),
            overall: None,
            metrics: Vec::new(),
            db_time: Vec::new(),
            primary: None,
            correlations: Vec::new(),
            workload: None,
            low_confidence: Vec::new(),
        };
        let plan = Plan {
            generated_at: chrono::Utc::now(),
            steps: ["info", "warn", "small", "big", "crit", "loud"]
                .iter()
                .map(|n| step(&format!("s.{n}"), &format!("r.{n}")))
                .collect(),
        };
        let c = Catalog::load(Lang::En).unwrap();
        let picked: Vec<(usize, String)> = key_steps(&plan, &a, &c)
            .into_iter()
            .map(|k| (k.number, k.id))
            .collect();
        assert_eq!(
            picked,
            [
                (4, "s.big".to_owned()),
                (3, "s.small".to_owned()),
                (5, "s.crit".to_owned())
            ]
        );
        let big = &key_steps(&plan, &a, &c)[0];
        assert_eq!(big.impact.as_deref(), Some("60 % of database time"));
        assert_eq!(big.tier, 1);
    }
}
