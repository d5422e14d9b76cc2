//! The status of a case as one document: what `perfdiag case status --json` prints,
//! what the terminal view shows, and what the engagement report will be made from.
//! It gathers the record, the plan, the guarantee (rules.rs) and the KPIs across the
//! engagement (diagnosis → baseline → each re-check) from the stored comparisons.

use std::collections::BTreeMap;

use anyhow::Result;
use chrono::{DateTime, Utc};
use perfdiag_model::plan::ExpectedEffect;
use perfdiag_model::{ChangeDirection, Phase, Risk, StepState, Unit, Verification, Workload};
use serde::Serialize;

use super::Case;
use super::progress::{
    CaseHost, Confirmation, FindingKey, Optimization, Reason, Recheck, SnapshotEntry, StepEvent,
    Verdict,
};
use super::rules::{self, Guarantee};
use crate::report::Lang;

#[derive(Debug, Clone, Serialize)]
pub struct CaseStatus {
    pub folder: String,
    /// The clock the status was judged at.
    pub now: DateTime<Utc>,
    pub tool_version: String,
    pub customer: Option<String>,
    pub system: Option<String>,
    pub engineer: Option<String>,
    pub language: Lang,
    pub workload: Option<Workload>,
    pub shared_host: bool,
    /// The database targets of case.toml (URLs without password).
    pub targets: Vec<String>,
    pub host: Option<CaseHost>,
    pub snapshots: Vec<SnapshotEntry>,
    pub plan: Option<PlanStatus>,
    pub optimization: Option<Optimization>,
    pub guarantee: Guarantee,
    /// What the latest re-check (in the window or after it) found wrong.
    pub open_regressions: Vec<Reason>,
    pub rechecks: Vec<Recheck>,
    /// Each KPI across the engagement.
    pub kpis: Vec<KpiTrend>,
    pub confirmation: Option<Confirmation>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PlanStatus {
    pub folder: String,
    pub snapshot: String,
    pub made_at: DateTime<Utc>,
    pub proposed: usize,
    pub applied: usize,
    pub verified: usize,
    pub regressed: usize,
    pub steps: Vec<StepStatus>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepStatus {
    /// 1-based, as the plan folder numbers it.
    pub number: usize,
    pub id: String,
    pub phase: Phase,
    pub risk: Risk,
    pub needs_restart: bool,
    pub subject: Option<String>,
    pub state: StepState,
    /// When it entered its state.
    pub since: Option<DateTime<Utc>>,
    pub addresses: Vec<FindingKey>,
    pub verify: Verification,
    pub expected_effect: Option<ExpectedEffect>,
    pub history: Vec<StepEvent>,
}

/// One KPI: before the optimization, right after, and at each re-check.
#[derive(Debug, Clone, Serialize)]
pub struct KpiTrend {
    pub id: String,
    pub subject: Option<String>,
    pub unit: Unit,
    pub higher_is_better: bool,
    pub diagnosis: Option<f64>,
    pub baseline: Option<f64>,
    /// What the optimization did to it (diagnosis → baseline, against the noise).
    pub optimization: Option<ChangeDirection>,
    pub rechecks: Vec<KpiPoint>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KpiPoint {
    pub at: DateTime<Utc>,
    pub in_window: bool,
    pub mean: f64,
    /// Against the baseline, beyond the noise or not.
    pub direction: ChangeDirection,
}

impl CaseStatus {
    pub fn of(case: &Case, now: DateTime<Utc>) -> Result<Self> {
        let p = &case.progress;
        let c = &case.config;
        let plan = match (&p.plan, &case.plan) {
            (Some(entry), Some(plan)) => {
                let steps: Vec<StepStatus> = plan
                    .steps
                    .iter()
                    .enumerate()
                    .filter_map(|(i, s)| {
                        let e = p.step(&s.id)?;
                        Some(StepStatus {
                            number: i + 1,
                            id: s.id.clone(),
                            phase: s.phase,
                            risk: s.risk,
                            needs_restart: s.needs_restart,
                            subject: s.subject.clone(),
                            state: e.state,
                            since: e.since(),
                            addresses: e.addresses.clone(),
                            verify: s.verify.clone(),
                            expected_effect: s.expected_effect.clone(),
                            history: e.history.clone(),
                        })
                    })
                    .collect();
                let count = |st: StepState| steps.iter().filter(|s| s.state == st).count();
                Some(PlanStatus {
                    folder: entry.folder.clone(),
                    snapshot: entry.snapshot.clone(),
                    made_at: entry.made_at,
                    proposed: count(StepState::Proposed),
                    applied: count(StepState::Applied),
                    verified: count(StepState::Verified),
                    regressed: count(StepState::Regressed),
                    steps,
                })
            }
            _ => None,
        };
        let open_regressions = p
            .rechecks
            .iter()
            .rfind(|r| r.verdict != Verdict::Failed)
            .map(|r| r.reasons.clone())
            .unwrap_or_default();
        Ok(Self {
            folder: case.dir.display().to_string(),
            now,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            customer: c.file.customer.clone(),
            system: c.file.system.clone(),
            engineer: c.file.engineer.clone(),
            language: c.lang(),
            workload: c.file.workload,
            shared_host: c.file.shared_host,
            targets: c.targets().map(|t| t.label().to_owned()).collect(),
            host: p.host.clone(),
            snapshots: p.snapshots.clone(),
            plan,
            optimization: p.optimization.clone(),
            guarantee: rules::guarantee(p, now),
            open_regressions,
            rechecks: p.rechecks.clone(),
            kpis: kpi_trends(case)?,
            confirmation: p.confirmation.clone(),
        })
    }
}

/// The KPIs from the stored comparisons: the optimization's gives the diagnosis and
/// the baseline, each re-check's its own mean.
fn kpi_trends(case: &Case) -> Result<Vec<KpiTrend>> {
    let mut trends: BTreeMap<(String, Option<String>), KpiTrend> = BTreeMap::new();
    let Some(o) = &case.progress.optimization else {
        return Ok(Vec::new());
    };
    for k in case.read_comparison(&o.comparison)?.kpis {
        trends.insert(
            (k.id.clone(), k.subject.clone()),
            KpiTrend {
                id: k.id,
                subject: k.subject,
                unit: k.unit,
                higher_is_better: k.higher_is_better,
                diagnosis: Some(k.before.mean),
                baseline: Some(k.after.mean),
                optimization: Some(k.direction),
                rechecks: Vec::new(),
            },
        );
    }
    for r in &case.progress.rechecks {
        let Some(file) = &r.comparison else { continue };
        for k in case.read_comparison(file)?.kpis {
            let trend = trends
                .entry((k.id.clone(), k.subject.clone()))
                .or_insert_with(|| KpiTrend {
                    id: k.id.clone(),
                    subject: k.subject.clone(),
                    unit: k.unit,
                    higher_is_better: k.higher_is_better,
                    diagnosis: None,
                    baseline: Some(k.before.mean),
                    optimization: None,
                    rechecks: Vec::new(),
                });
            trend.rechecks.push(KpiPoint {
                at: r.at,
                in_window: r.in_window,
                mean: k.after.mean,
                direction: k.direction,
            });
        }
    }
    Ok(trends.into_values().collect())
}
