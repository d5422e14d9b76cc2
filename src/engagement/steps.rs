//! The plan's steps with what happened to each and when, the snapshots of the case,
//! and its re-checks: the engagement's timeline.

use chrono::{DateTime, Utc};
use perfdiag_model::StepState;
use serde::Serialize;

use super::DiagnosisView;
use super::reasons::{self, ReasonView};
use crate::case::print::evidence_line;
use crate::case::progress::{FindingEvidence, Role, Verdict, state_id};
use crate::case::status::CaseStatus;
use crate::report::format;
use crate::report::i18n::Catalog;

#[derive(Debug, Serialize)]
pub struct StepView {
    /// 1-based, as the plan folder numbers it.
    pub number: usize,
    pub id: String,
    /// The step's title in the report's language (its id when the diagnosis is absent).
    pub title: String,
    pub subject: Option<String>,
    /// `proposed`, `applied`, `verified` or `regressed`.
    pub state: StepState,
    pub state_label: String,
    /// When it entered its state, in the report's language.
    pub since: Option<String>,
    /// The last time it was applied, verified, regressed (`null` when never).
    pub applied: Option<String>,
    pub verified: Option<String>,
    pub regressed: Option<String>,
    /// Every change of state, oldest first.
    pub history: Vec<EventView>,
}

#[derive(Debug, Serialize)]
pub struct EventView {
    pub state: StepState,
    pub state_label: String,
    pub at: DateTime<Utc>,
    pub date: String,
    /// The snapshot that showed it (verified, regressed).
    pub snapshot: Option<String>,
    /// For a regression: the findings that came back, one line each with evidence.
    pub evidence: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct SnapshotView {
    pub file: String,
    /// `diagnosis`, `baseline` or `recheck`.
    pub role: Role,
    pub role_label: String,
    pub taken_at: DateTime<Utc>,
    pub date: String,
}

#[derive(Debug, Serialize)]
pub struct RecheckView {
    pub at: DateTime<Utc>,
    pub date: String,
    /// `holding`, `at_risk`, `breached` or `failed`.
    pub verdict: Verdict,
    pub verdict_label: String,
    /// Out of window, a re-check is shown but counts for nothing.
    pub in_window: bool,
    /// "in the window" or "out of window", in the report's language.
    pub window_label: String,
    pub snapshot: Option<String>,
    pub reasons: Vec<ReasonView>,
    pub error: Option<String>,
}

/// `finding: metric = observed (threshold); …`, at most four pieces of evidence.
pub fn finding_lines(findings: &[FindingEvidence]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            let evidence: Vec<String> = f.evidence.iter().take(4).map(evidence_line).collect();
            format!("{}: {}", f.finding, evidence.join("; "))
        })
        .collect()
}

pub fn steps(status: &CaseStatus, diagnosis: Option<&DiagnosisView>, c: &Catalog) -> Vec<StepView> {
    let lang = c.lang();
    let Some(plan) = &status.plan else {
        return Vec::new();
    };
    let date = |t: DateTime<Utc>| format::datetime(t, lang);
    plan.steps
        .iter()
        .map(|s| {
            let title = diagnosis
                .and_then(|d| d.steps.iter().find(|v| v.id == s.id))
                .map_or_else(|| s.id.clone(), |v| v.title.clone());
            let last = |state: StepState| {
                s.history
                    .iter()
                    .rev()
                    .find(|e| e.state == state)
                    .map(|e| date(e.at))
            };
            StepView {
                number: s.number,
                id: s.id.clone(),
                title,
                subject: s.subject.clone(),
                state: s.state,
                state_label: c.text(&format!("case.state.{}", state_id(s.state))),
                since: s.since.map(date),
                applied: last(StepState::Applied),
                verified: last(StepState::Verified),
                regressed: last(StepState::Regressed),
                history: s
                    .history
                    .iter()
                    .map(|e| EventView {
                        state: e.state,
                        state_label: c.text(&format!("case.state.{}", state_id(e.state))),
                        at: e.at,
                        date: date(e.at),
                        snapshot: e.snapshot.clone(),
                        evidence: finding_lines(&e.evidence),
                    })
                    .collect(),
            }
        })
        .collect()
}

pub fn snapshots(status: &CaseStatus, c: &Catalog) -> Vec<SnapshotView> {
    let mut out: Vec<SnapshotView> = status
        .snapshots
        .iter()
        .map(|s| SnapshotView {
            file: s.file.clone(),
            role: s.role,
            role_label: c.text(&format!("engagement.role.{}", s.role.id())),
            taken_at: s.taken_at,
            date: format::datetime(s.taken_at, c.lang()),
        })
        .collect();
    out.sort_by_key(|s| s.taken_at);
    out
}

pub fn rechecks(status: &CaseStatus, c: &Catalog) -> Vec<RecheckView> {
    status
        .rechecks
        .iter()
        .map(|r| RecheckView {
            at: r.at,
            date: format::datetime(r.at, c.lang()),
            verdict: r.verdict,
            verdict_label: c.text(&format!("case.verdict.{}", r.verdict.id())),
            in_window: r.in_window,
            window_label: c.text(if r.in_window {
                "engagement.in_window"
            } else {
                "case.out_of_window"
            }),
            snapshot: r.snapshot.clone(),
            reasons: r.reasons.iter().map(|x| reasons::view(x, c)).collect(),
            error: r.error.clone(),
        })
        .collect()
}
