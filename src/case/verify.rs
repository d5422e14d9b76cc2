//! Step verification: what a post-optimization snapshot's assessment says about each
//! step of the plan.
//!
//! A step addresses the findings (rule id and subject) of the diagnosis that its rule
//! answers. An applied step is **verified** when none of them is in the assessment;
//! a verified step whose finding comes back is **regressed**, with that finding's
//! evidence; a regressed step whose findings are gone again is verified again. A
//! finding whose rule could not be evaluated (its input missing from the snapshot)
//! proves nothing either way: the step keeps its state. Proposed steps (never
//! applied) are not judged.

use chrono::{DateTime, Utc};
use perfdiag_model::{Assessment, StepState};

use super::progress::{FindingEvidence, FindingKey, StepEntry, StepEvent};

/// What one assessment said about one step.
#[derive(Debug, Clone, PartialEq)]
pub struct Judgement {
    pub step: String,
    pub before: StepState,
    pub after: StepState,
    /// Addressed findings present in the assessment, with their evidence.
    pub present: Vec<FindingEvidence>,
    /// Rules of addressed findings that could not be evaluated, with what was missing.
    pub unjudged: Vec<String>,
}

impl Judgement {
    pub fn changed(&self) -> bool {
        self.before != self.after
    }
}

/// The findings of `assessment` among `keys`, with their evidence.
pub fn present(assessment: &Assessment, keys: &[FindingKey]) -> Vec<FindingEvidence> {
    keys.iter()
        .filter_map(|k| {
            assessment
                .findings
                .iter()
                .find(|f| f.rule_id == k.rule && f.subject == k.subject)
                .map(|f| FindingEvidence {
                    finding: k.clone(),
                    evidence: f.evidence.clone(),
                })
        })
        .collect()
}

/// Judges every step against `assessment` (of the snapshot `snapshot`, taken as of
/// `at`) and records the changes in the steps' histories.
pub fn judge_steps(
    steps: &mut [StepEntry],
    assessment: &Assessment,
    at: DateTime<Utc>,
    snapshot: &str,
) -> Vec<Judgement> {
    steps
        .iter_mut()
        .map(|step| {
            let present = present(assessment, &step.addresses);
            let unjudged: Vec<String> = assessment
                .not_evaluated
                .iter()
                .filter(|n| step.addresses.iter().any(|k| k.rule == n.rule_id))
                .map(|n| format!("{}: {}", n.rule_id, n.missing))
                .collect();
            let gone = present.is_empty() && unjudged.is_empty();
            let before = step.state;
            // A step recorded as applied after this snapshot's time is not judged by it.
            let later = step.since().is_some_and(|since| since > at);
            let next = match before {
                _ if later => None,
                StepState::Applied | StepState::Regressed if gone => Some(StepState::Verified),
                StepState::Verified if !present.is_empty() => Some(StepState::Regressed),
                _ => None,
            };
            if let Some(state) = next {
                step.push(StepEvent {
                    state,
                    at,
                    snapshot: Some(snapshot.to_owned()),
                    evidence: if state == StepState::Regressed {
                        present.clone()
                    } else {
                        Vec::new()
                    },
                });
            }
            Judgement {
                step: step.id.clone(),
                before,
                after: step.state,
                present,
                unjudged,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use perfdiag_model::{Dimension, Evidence, Finding, NotEvaluated, Severity, Tier, Unit, Value};

    fn t(s: &str) -> DateTime<Utc> {
        crate::cli::parse_time(s).unwrap()
    }

    fn key(rule: &str, subject: Option<&str>) -> FindingKey {
        FindingKey {
            rule: rule.into(),
            subject: subject.map(Into::into),
        }
    }

    fn step(id: &str, state: StepState, addresses: Vec<FindingKey>) -> StepEntry {
        let mut s = StepEntry {
            id: id.into(),
            state: StepState::Proposed,
            addresses,
            history: vec![StepEvent {
                state: StepState::Proposed,
                at: t("2026-11-01"),
                snapshot: None,
                evidence: vec![],
            }],
        };
        if state != StepState::Proposed {
            s.push(StepEvent {
                state,
                at: t("2026-11-02"),
                snapshot: None,
                evidence: vec![],
            });
        }
        s
    }

    fn finding(rule: &str, subject: Option<&str>, bytes_per_s: f64) -> Finding {
        Finding {
            rule_id: rule.into(),
            dimension: Dimension::SqlWorkload,
            severity: Severity::Warning,
            subject: subject.map(Into::into),
            evidence: vec![Evidence {
                metric: "pg.temp.bytes_per_s".into(),
                observed: Value::number(bytes_per_s, Unit::PerSecond),
                threshold: None,
            }],
            penalty: 10,
            impact: None,
            tier: Tier::MEDIUM,
        }
    }

    fn assessment(findings: Vec<Finding>, not_evaluated: Vec<NotEvaluated>) -> Assessment {
        Assessment {
            generated_at: t("2026-12-01"),
            tool_version: "test".into(),
            baseline: "builtin".into(),
            findings,
            not_evaluated,
            scores: vec![],
            overall: None,
            metrics: vec![],
            db_time: vec![],
            primary: None,
            correlations: vec![],
            workload: None,
            low_confidence: vec![],
        }
    }

    const PG: Option<&str> = Some("postgres://app@db1/erp");

    #[test]
    fn applied_steps_are_verified_when_their_findings_are_gone_and_regress_when_back() {
        let mut steps = vec![
            step(
                "pg.config.work_mem",
                StepState::Applied,
                vec![key("pg.temp.spills", PG)],
            ),
            step(
                "os.thp.disable",
                StepState::Proposed,
                vec![key("os.thp.enabled", None)],
            ),
            step(
                "pg.tables.add_index",
                StepState::Applied,
                vec![key(
                    "pg.tables.seq_scan_heavy",
                    Some("postgres://app@db1/erp public.big"),
                )],
            ),
        ];
        // The spills are gone; the seq scans are still there; THP was never applied.
        let a = assessment(
            vec![
                finding(
                    "pg.tables.seq_scan_heavy",
                    Some("postgres://app@db1/erp public.big"),
                    1.0,
                ),
                // The same rule on another target is not this step's finding.
                finding("pg.temp.spills", Some("postgres://app@db2/erp"), 5e6),
            ],
            vec![],
        );
        let j = judge_steps(&mut steps, &a, t("2026-12-01"), "snapshots/b.pdsnap");
        assert_eq!(
            j.iter().map(|j| j.after).collect::<Vec<_>>(),
            [StepState::Verified, StepState::Proposed, StepState::Applied]
        );
        assert!(j[0].changed() && !j[1].changed() && !j[2].changed());
        assert_eq!(j[2].present.len(), 1);
        let e = steps[0].last(StepState::Verified).unwrap();
        assert_eq!(e.snapshot.as_deref(), Some("snapshots/b.pdsnap"));

        // The spills come back: regressed, with the evidence of the finding.
        let back = assessment(vec![finding("pg.temp.spills", PG, 3e6)], vec![]);
        let j = judge_steps(&mut steps, &back, t("2026-12-08"), "snapshots/r1.pdsnap");
        assert_eq!(j[0].after, StepState::Regressed);
        let e = steps[0].last(StepState::Regressed).unwrap();
        assert_eq!(e.evidence[0].finding, key("pg.temp.spills", PG));
        assert_eq!(e.evidence[0].evidence[0].metric, "pg.temp.bytes_per_s");
        // The index step is now verified (its finding is gone in this one).
        assert_eq!(j[2].after, StepState::Verified);

        // Still back a week later: no new event; then fixed again: verified again.
        let j = judge_steps(&mut steps, &back, t("2026-12-15"), "snapshots/r2.pdsnap");
        assert!(!j[0].changed());
        assert_eq!(steps[0].history.len(), 4);
        let clean = assessment(vec![], vec![]);
        let j = judge_steps(&mut steps, &clean, t("2026-12-22"), "snapshots/r3.pdsnap");
        assert_eq!(j[0].after, StepState::Verified);
    }

    #[test]
    fn a_rule_that_could_not_be_evaluated_proves_nothing() {
        let mut steps = vec![step(
            "pg.config.work_mem",
            StepState::Applied,
            vec![key("pg.temp.spills", PG)],
        )];
        let a = assessment(
            vec![],
            vec![NotEvaluated {
                rule_id: "pg.temp.spills".into(),
                missing: "facts postgres".into(),
            }],
        );
        let j = judge_steps(&mut steps, &a, t("2026-12-01"), "snapshots/b.pdsnap");
        assert_eq!(j[0].after, StepState::Applied);
        assert_eq!(j[0].unjudged, ["pg.temp.spills: facts postgres"]);
    }
}
