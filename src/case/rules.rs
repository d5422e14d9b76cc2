//! The guarantee's rules (docs/case.md, "Guarantee status"): what a re-check
//! concludes, and where the guarantee stands now. Pure functions of the record, the
//! comparisons and the clock, so every rule has a unit test.
//!
//! A re-check is
//! - **breached** when a step verified earlier has regressed (its finding is back),
//!   or a KPI the optimization improved is now worse than before the optimization;
//! - **at risk** otherwise when a KPI is worse than at the baseline beyond its noise
//!   (but not past its value before the optimization), or a heavy query class appeared
//!   that the baseline did not have;
//! - **holding** otherwise.
//!
//! The guarantee is not started before the optimization. Then it is the verdict of the
//! latest re-check made inside the window (holding before the first), except that in
//! the window's last 14 days a holding guarantee with an open problem — an applied
//! step not verified yet, a failed last re-check attempt, or no re-check at all — is
//! at risk. Re-checks after the window still run, and are labelled out of window; they
//! change the steps' states but not the guarantee, which ended with the window.

use chrono::{DateTime, Utc};
use perfdiag_model::comparison::Comparison;
use perfdiag_model::{ChangeDirection, KpiChange, QueryStatus, StepState};
use serde::Serialize;

use super::progress::{KpiEvidence, Progress, QueryEvidence, Reason, StepEntry, Verdict};
use super::verify::Judgement;
use super::window::Phase;

/// The verdict of one re-check and its reasons, breaches first. `steps` are the
/// steps after the re-check judged them (`judged` says what it saw of each);
/// `recheck` compares the baseline with the re-check; `optimization` the diagnosis
/// with the baseline (the gains), when known.
pub fn verdict(
    steps: &[StepEntry],
    judged: &[Judgement],
    recheck: &Comparison,
    optimization: Option<&Comparison>,
) -> (Verdict, Vec<Reason>) {
    let mut reasons = Vec::new();
    for step in steps.iter().filter(|s| s.state == StepState::Regressed) {
        // This re-check's evidence; the regression's own when it did not judge the step.
        let seen = judged
            .iter()
            .find(|j| j.step == step.id && !j.present.is_empty())
            .map(|j| j.present.clone());
        let findings = seen.unwrap_or_else(|| {
            step.last(StepState::Regressed)
                .map(|e| e.evidence.clone())
                .unwrap_or_default()
        });
        reasons.push(Reason::StepRegressed {
            step: step.id.clone(),
            findings,
        });
    }
    for k in recheck
        .kpis
        .iter()
        .filter(|k| k.direction == ChangeDirection::Worse)
    {
        let before = optimization.and_then(|o| {
            o.kpis
                .iter()
                .find(|d| d.id == k.id && d.subject == k.subject)
        });
        let kpi = evidence(k, before.map(|d| d.before.mean));
        let improved = before.is_some_and(|d| d.direction == ChangeDirection::Better);
        let lost = improved && kpi.diagnosis.is_some_and(|d| past(k, d));
        reasons.push(if lost {
            Reason::KpiLost { kpi }
        } else {
            Reason::KpiRegressed { kpi }
        });
    }
    for q in recheck
        .queries
        .iter()
        .filter(|q| q.status == QueryStatus::New && q.heavy)
    {
        let after = q.after.as_ref();
        reasons.push(Reason::NewHeavyQuery {
            query: QueryEvidence {
                source: q.source.clone(),
                target: q.target.clone(),
                id: q.id.clone(),
                text: q.text.clone(),
                share_pct: after.map_or(0.0, |a| a.share_pct),
                mean_ms: after.and_then(|a| a.mean_ms),
                calls_per_s: after.and_then(|a| a.calls_per_s),
            },
        });
    }
    reasons.sort_by_key(|r| !r.breaches());
    let verdict = if reasons.iter().any(Reason::breaches) {
        Verdict::Breached
    } else if reasons.is_empty() {
        Verdict::Holding
    } else {
        Verdict::AtRisk
    };
    (verdict, reasons)
}

/// Whether the re-check's mean of `k` is on the bad side of `diagnosis`.
fn past(k: &KpiChange, diagnosis: f64) -> bool {
    if k.higher_is_better {
        k.after.mean < diagnosis
    } else {
        k.after.mean > diagnosis
    }
}

fn evidence(k: &KpiChange, diagnosis: Option<f64>) -> KpiEvidence {
    KpiEvidence {
        id: k.id.clone(),
        subject: k.subject.clone(),
        unit: k.unit,
        higher_is_better: k.higher_is_better,
        diagnosis,
        baseline: k.before.mean,
        recheck: k.after.mean,
        change: k.change,
        noise: k.noise,
    }
}

/// Where the guarantee stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Not optimized yet: no window.
    NotStarted,
    Holding,
    AtRisk,
    Breached,
}

impl Status {
    pub fn id(self) -> &'static str {
        match self {
            Self::NotStarted => "not_started",
            Self::Holding => "holding",
            Self::AtRisk => "at_risk",
            Self::Breached => "breached",
        }
    }
}

/// The guarantee now: status, the window's phase and days left, and the reasons.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Guarantee {
    pub status: Status,
    /// `None` before the optimization.
    pub phase: Option<Phase>,
    pub days_left: Option<i64>,
    /// Whether the window has closed: the status is then final.
    pub ended: bool,
    /// The re-check the status comes from.
    pub as_of: Option<DateTime<Utc>>,
    pub reasons: Vec<Reason>,
}

pub fn guarantee(progress: &Progress, now: DateTime<Utc>) -> Guarantee {
    let Some(o) = &progress.optimization else {
        return Guarantee {
            status: Status::NotStarted,
            phase: None,
            days_left: None,
            ended: false,
            as_of: None,
            reasons: Vec::new(),
        };
    };
    let window = o.window();
    let phase = window.phase(now);
    // Re-checks recorded "in the future" of the clock (it was moved back) do not count.
    let judged: Vec<_> = progress
        .judged_in_window()
        .filter(|r| r.at <= now)
        .collect();
    let latest = judged.last();
    let (mut status, mut reasons) = match latest {
        Some(r) => (
            match r.verdict {
                Verdict::Breached => Status::Breached,
                Verdict::AtRisk => Status::AtRisk,
                _ => Status::Holding,
            },
            r.reasons.clone(),
        ),
        None => (Status::Holding, Vec::new()),
    };
    if phase == Phase::EndsSoon {
        let mut open: Vec<Reason> = progress
            .steps
            .iter()
            .filter(|s| s.state == StepState::Applied)
            .map(|s| Reason::StepNotVerified { step: s.id.clone() })
            .collect();
        let last_attempt = progress
            .rechecks
            .iter()
            .rfind(|r| r.in_window && r.at <= now);
        if let Some(r) = last_attempt
            && r.verdict == Verdict::Failed
        {
            open.push(Reason::RecheckFailed {
                at: r.at,
                error: r.error.clone().unwrap_or_default(),
            });
        }
        if latest.is_none() {
            open.push(Reason::NoRecheck);
        }
        if !open.is_empty() && status == Status::Holding {
            status = Status::AtRisk;
        }
        reasons.extend(open);
    }
    Guarantee {
        status,
        phase: Some(phase),
        days_left: Some(window.days_left(now)),
        ended: phase == Phase::Closed,
        as_of: latest.map(|r| r.at),
        reasons,
    }
}

#[cfg(test)]
mod tests;
