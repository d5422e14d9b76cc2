//! `progress.toml`: perfdiag's own record of a case — its snapshots, the plan and each
//! step's history, the optimization and its guarantee window, the re-checks and the
//! sign-off. Human-readable so an engineer or a lead can read a case without the
//! tool, and checked on every read ([`Progress::validate`]) so a hand edit that breaks
//! it is refused with the problem named, before anything is changed.
//!
//! Dates are whole seconds, UTC. Paths are relative to the case folder.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use perfdiag_model::{Evidence, Plan, StepState, Unit};
use serde::{Deserialize, Serialize};

use super::window::{self, Window};

pub const FILE: &str = "progress.toml";

/// The format this build writes and reads.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Progress {
    /// [`FORMAT`] when written.
    pub format: u32,
    pub created_at: DateTime<Utc>,
    /// The host every snapshot must be of: the first snapshot's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<CaseHost>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub snapshots: Vec<SnapshotEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanEntry>,
    /// One per step of the plan, in the plan's order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<StepEntry>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optimization: Option<Optimization>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rechecks: Vec<Recheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<Confirmation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseHost {
    pub hostname: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machine_id: Option<String>,
}

/// What a snapshot is for in the engagement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Before the optimization: what the plan is made from.
    Diagnosis,
    /// Right after the optimization: what re-checks are compared with.
    Baseline,
    /// A follow-up in (or after) the guarantee window.
    Recheck,
}

impl Role {
    pub fn id(self) -> &'static str {
        match self {
            Self::Diagnosis => "diagnosis",
            Self::Baseline => "baseline",
            Self::Recheck => "recheck",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotEntry {
    /// `snapshots/<name>.pdsnap`.
    pub file: String,
    pub role: Role,
    /// When its collection window started (from the snapshot).
    pub taken_at: DateTime<Utc>,
    pub hostname: String,
    /// When it joined the case (the case's clock).
    pub added_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanEntry {
    /// The plan folder (`plan`), with its `plan.json` and scripts.
    pub folder: String,
    /// The diagnosis snapshot it was made from.
    pub snapshot: String,
    pub made_at: DateTime<Utc>,
}

/// A finding, as findings are matched across snapshots: rule id and subject. Written
/// `rule` or `rule @ subject` so the file stays readable.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FindingKey {
    pub rule: String,
    pub subject: Option<String>,
}

impl std::fmt::Display for FindingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.subject {
            Some(s) => write!(f, "{} @ {s}", self.rule),
            None => f.write_str(&self.rule),
        }
    }
}

impl Serialize for FindingKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for FindingKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        // Rule ids have no spaces: the first " @ " ends the rule.
        Ok(match text.split_once(" @ ") {
            Some((rule, subject)) => Self {
                rule: rule.to_owned(),
                subject: Some(subject.to_owned()),
            },
            None => Self {
                rule: text,
                subject: None,
            },
        })
    }
}

/// A finding seen in a snapshot, with what makes it true.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FindingEvidence {
    pub finding: FindingKey,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepEntry {
    pub id: String,
    /// The state now: the last event's.
    pub state: StepState,
    /// The findings of the diagnosis the step fixes: it is verified when none is left.
    pub addresses: Vec<FindingKey>,
    /// Every change of state, oldest first; the first is `proposed`, when the plan was made.
    pub history: Vec<StepEvent>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepEvent {
    pub state: StepState,
    pub at: DateTime<Utc>,
    /// The snapshot that showed it (verified, regressed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
    /// For `regressed`: the findings that came back.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<FindingEvidence>,
}

impl StepEntry {
    /// When the step last entered `state`.
    pub fn last(&self, state: StepState) -> Option<&StepEvent> {
        self.history.iter().rev().find(|e| e.state == state)
    }

    pub fn since(&self) -> Option<DateTime<Utc>> {
        self.history.last().map(|e| e.at)
    }

    pub fn push(&mut self, event: StepEvent) {
        self.state = event.state;
        self.history.push(event);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Optimization {
    /// When the optimization was complete: the guarantee window opens.
    pub at: DateTime<Utc>,
    /// When the guarantee ends: at most 3 months later.
    pub until: DateTime<Utc>,
    /// The post-optimization baseline snapshot.
    pub baseline: String,
    /// The diagnosis compared with the baseline: the gains, as JSON.
    pub comparison: String,
}

impl Optimization {
    pub fn window(&self) -> Window {
        Window {
            from: self.at,
            until: self.until,
        }
    }
}

/// What a re-check concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Holding,
    AtRisk,
    Breached,
    /// The re-check could not be made (unattended collection failed); nothing else changed.
    Failed,
}

impl Verdict {
    pub fn id(self) -> &'static str {
        match self {
            Self::Holding => "holding",
            Self::AtRisk => "at_risk",
            Self::Breached => "breached",
            Self::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Recheck {
    pub at: DateTime<Utc>,
    pub verdict: Verdict,
    /// Whether `at` is inside the guarantee window; out of window it counts for nothing.
    pub in_window: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<String>,
    /// The baseline compared with this re-check, as JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison: Option<String>,
    /// Why the verdict is not `holding`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<Reason>,
    /// Why it failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirmation {
    pub by: String,
    pub at: DateTime<Utc>,
}

/// Why a guarantee is at risk or breached (docs/case.md, "Guarantee status").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Reason {
    /// Breach: a verified step's finding is back.
    StepRegressed {
        step: String,
        findings: Vec<FindingEvidence>,
    },
    /// Breach: a KPI the optimization improved is now worse than before it.
    KpiLost { kpi: KpiEvidence },
    /// Risk: a KPI worse than the baseline beyond its noise, not yet past its value
    /// before the optimization.
    KpiRegressed { kpi: KpiEvidence },
    /// Risk: a query class not seen at the baseline takes a heavy share of time.
    NewHeavyQuery { query: QueryEvidence },
    /// Risk, in the last 14 days: an applied step not verified yet.
    StepNotVerified { step: String },
    /// Risk, in the last 14 days: the last re-check attempt failed.
    RecheckFailed { at: DateTime<Utc>, error: String },
    /// Risk, in the last 14 days: no re-check yet.
    NoRecheck,
}

impl Reason {
    pub fn id(&self) -> &'static str {
        match self {
            Self::StepRegressed { .. } => "step_regressed",
            Self::KpiLost { .. } => "kpi_lost",
            Self::KpiRegressed { .. } => "kpi_regressed",
            Self::NewHeavyQuery { .. } => "new_heavy_query",
            Self::StepNotVerified { .. } => "step_not_verified",
            Self::RecheckFailed { .. } => "recheck_failed",
            Self::NoRecheck => "no_recheck",
        }
    }

    /// Whether it breaches the guarantee (else it puts it at risk).
    pub fn breaches(&self) -> bool {
        matches!(self, Self::StepRegressed { .. } | Self::KpiLost { .. })
    }
}

/// A KPI across the engagement: before the optimization, at the baseline, now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KpiEvidence {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub unit: Unit,
    pub higher_is_better: bool,
    /// The diagnosis's mean, when it measured the KPI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<f64>,
    pub baseline: f64,
    pub recheck: f64,
    /// `recheck - baseline`.
    pub change: f64,
    /// The change the noise of the two windows explains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub noise: Option<f64>,
}

/// A query class of the re-check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryEvidence {
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub id: String,
    /// Masked statement text.
    pub text: String,
    pub share_pct: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calls_per_s: Option<f64>,
}

impl Progress {
    pub fn new(now: DateTime<Utc>) -> Self {
        Self {
            format: FORMAT,
            created_at: now,
            host: None,
            snapshots: Vec::new(),
            plan: None,
            steps: Vec::new(),
            optimization: None,
            rechecks: Vec::new(),
            confirmation: None,
        }
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        // The version first, so a newer file gets that message, not its first unknown key.
        if let Ok(table) = text.parse::<toml::Table>()
            && let Some(format) = table.get("format").and_then(toml::Value::as_integer)
            && format > i64::from(FORMAT)
        {
            return Err(format!(
                "format {format} was written by a newer perfdiag; this one ({}) reads format {FORMAT}: \
                 update perfdiag",
                env!("CARGO_PKG_VERSION")
            ));
        }
        toml::from_str(text).map_err(|e| e.to_string())
    }

    pub fn render(&self) -> String {
        let body = toml::to_string(self).expect("the record serialises");
        format!(
            "# perfdiag's record of this case (docs/case.md). Written by perfdiag after each\n\
             # verb; read it freely, edit it only to correct a mistake: every read checks it.\n\n\
             {body}"
        )
    }

    pub fn snapshot(&self, file: &str) -> Option<&SnapshotEntry> {
        self.snapshots.iter().find(|s| s.file == file)
    }

    /// The latest diagnosis snapshot, by collection time.
    pub fn latest_diagnosis(&self) -> Option<&SnapshotEntry> {
        self.snapshots
            .iter()
            .filter(|s| s.role == Role::Diagnosis)
            .max_by_key(|s| s.taken_at)
    }

    pub fn step(&self, id: &str) -> Option<&StepEntry> {
        self.steps.iter().find(|s| s.id == id)
    }

    /// The re-checks that count for the guarantee and produced a verdict.
    pub fn judged_in_window(&self) -> impl Iterator<Item = &Recheck> {
        self.rechecks
            .iter()
            .filter(|r| r.in_window && r.verdict != Verdict::Failed)
    }

    /// Every rule a hand edit could break. `plan` is the plan folder's `plan.json`,
    /// when the record names one. Returns the first problem found.
    pub fn validate(&self, plan: Option<&Plan>) -> Result<(), String> {
        if self.format != FORMAT {
            return Err(format!("format = {} is not {FORMAT}", self.format));
        }
        self.validate_snapshots()?;
        self.validate_plan(plan)?;
        self.validate_optimization()?;
        self.validate_rechecks()?;
        if let Some(c) = &self.confirmation {
            let Some(o) = &self.optimization else {
                return Err("[confirmation] is there, but the case has no [optimization]".into());
            };
            if c.at < o.at {
                return Err(format!(
                    "dates out of order: the confirmation ({}) is before the optimization ({})",
                    c.at, o.at
                ));
            }
            if c.by.trim().is_empty() {
                return Err("confirmation.by is empty".into());
            }
        }
        Ok(())
    }

    fn validate_snapshots(&self) -> Result<(), String> {
        let mut seen = BTreeSet::new();
        for s in &self.snapshots {
            if !seen.insert(&s.file) {
                return Err(format!("snapshot {} is listed twice", s.file));
            }
            if !s.file.starts_with("snapshots/") || s.file.contains("..") {
                return Err(format!(
                    "snapshot {} is not in the case's snapshots/ folder",
                    s.file
                ));
            }
            let Some(host) = &self.host else {
                return Err("snapshots are listed but [host] is missing".into());
            };
            if s.hostname != host.hostname {
                return Err(format!(
                    "snapshot {} is of host {}, the case is of host {}",
                    s.file, s.hostname, host.hostname
                ));
            }
        }
        Ok(())
    }

    fn validate_plan(&self, plan: Option<&Plan>) -> Result<(), String> {
        let Some(entry) = &self.plan else {
            if let Some(s) = self.steps.first() {
                return Err(format!(
                    "step {} is listed, but the case has no [plan]",
                    s.id
                ));
            }
            return Ok(());
        };
        match self.snapshot(&entry.snapshot) {
            Some(s) if s.role == Role::Diagnosis => {}
            Some(_) => {
                return Err(format!(
                    "plan.snapshot {} is not a diagnosis snapshot",
                    entry.snapshot
                ));
            }
            None => {
                return Err(format!(
                    "plan.snapshot {} is not among the snapshots",
                    entry.snapshot
                ));
            }
        }
        let Some(plan) = plan else {
            return Ok(());
        };
        let in_plan: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
        for step in &self.steps {
            if !in_plan.contains(&step.id.as_str()) {
                return Err(format!(
                    "unknown step {}: it is not in {}/plan.json (whose steps are: {})",
                    step.id,
                    entry.folder,
                    in_plan.join(", ")
                ));
            }
        }
        for id in &in_plan {
            if self.step(id).is_none() {
                return Err(format!(
                    "step {id} of {}/plan.json has no [[steps]] entry",
                    entry.folder
                ));
            }
        }
        for step in &self.steps {
            self.validate_step(step, entry)?;
        }
        Ok(())
    }

    fn validate_step(&self, step: &StepEntry, plan: &PlanEntry) -> Result<(), String> {
        let id = &step.id;
        let Some(first) = step.history.first() else {
            return Err(format!("step {id} has no history"));
        };
        if first.state != StepState::Proposed {
            return Err(format!("step {id}: its history must start with proposed"));
        }
        if first.at < plan.made_at {
            return Err(format!(
                "dates out of order: step {id} was proposed ({}) before the plan was made ({})",
                first.at, plan.made_at
            ));
        }
        for pair in step.history.windows(2) {
            let (from, to) = (&pair[0], &pair[1]);
            if to.at < from.at {
                return Err(format!(
                    "dates out of order: step {id} became {} ({}) before it became {} ({})",
                    state_id(to.state),
                    to.at,
                    state_id(from.state),
                    from.at
                ));
            }
            use StepState::*;
            let allowed = matches!(
                (from.state, to.state),
                (Proposed, Applied)
                    | (Applied, Verified)
                    | (Verified, Regressed)
                    | (Regressed, Verified)
                    | (Regressed, Applied)
            );
            if !allowed {
                return Err(format!(
                    "step {id} cannot go from {} to {}",
                    state_id(from.state),
                    state_id(to.state)
                ));
            }
            if matches!(to.state, Verified | Regressed) {
                let Some(o) = &self.optimization else {
                    return Err(format!(
                        "step {id} is {} but the case has no [optimization]",
                        state_id(to.state)
                    ));
                };
                if to.at < o.at {
                    return Err(format!(
                        "dates out of order: step {id} became {} ({}) before the optimization ({})",
                        state_id(to.state),
                        to.at,
                        o.at
                    ));
                }
                match to.snapshot.as_deref().and_then(|f| self.snapshot(f)) {
                    Some(s) if s.role != Role::Diagnosis => {}
                    _ => {
                        return Err(format!(
                            "step {id} became {} without a baseline or re-check snapshot",
                            state_id(to.state)
                        ));
                    }
                }
            }
        }
        let last = step.history.last().map(|e| e.state);
        if last != Some(step.state) {
            return Err(format!(
                "step {id}: state = \"{}\" but its history ends with {}",
                state_id(step.state),
                last.map_or("nothing", state_id)
            ));
        }
        Ok(())
    }

    fn validate_optimization(&self) -> Result<(), String> {
        let baselines: Vec<&SnapshotEntry> = self
            .snapshots
            .iter()
            .filter(|s| s.role == Role::Baseline)
            .collect();
        let Some(o) = &self.optimization else {
            if let Some(b) = baselines.first() {
                return Err(format!(
                    "{} is a baseline snapshot, but the case has no [optimization]",
                    b.file
                ));
            }
            return Ok(());
        };
        if baselines.len() != 1 || baselines[0].file != o.baseline {
            return Err(format!(
                "optimization.baseline {} must be the one snapshot with role = \"baseline\"",
                o.baseline
            ));
        }
        let Some(plan) = &self.plan else {
            return Err("the case has an [optimization] but no [plan]".into());
        };
        if o.at < plan.made_at {
            return Err(format!(
                "dates out of order: the optimization ({}) is before the plan was made ({})",
                o.at, plan.made_at
            ));
        }
        let first_applied = self
            .steps
            .iter()
            .filter_map(|s| s.history.iter().find(|e| e.state == StepState::Applied))
            .map(|e| e.at)
            .min();
        match first_applied {
            None => return Err("the case is optimized but no step was ever applied".into()),
            Some(a) if a > o.at => {
                return Err(format!(
                    "dates out of order: the optimization ({}) is before the first step was applied ({a})",
                    o.at
                ));
            }
            Some(_) => {}
        }
        Window::open(o.at, Some(o.until)).map_err(|e| {
            format!(
                "optimization.until {}: {e} (the latest end is {})",
                o.until,
                window::latest_end(o.at)
            )
        })?;
        Ok(())
    }

    fn validate_rechecks(&self) -> Result<(), String> {
        let Some(first) = self.rechecks.first() else {
            if let Some(s) = self.snapshots.iter().find(|s| s.role == Role::Recheck) {
                return Err(format!(
                    "{} is a re-check snapshot, but no [[rechecks]] entry names it",
                    s.file
                ));
            }
            return Ok(());
        };
        let Some(o) = &self.optimization else {
            return Err(format!(
                "the re-check of {} is listed, but the case has no [optimization]",
                first.at
            ));
        };
        let window = o.window();
        let mut named = BTreeSet::new();
        for (i, r) in self.rechecks.iter().enumerate() {
            if r.at < o.at {
                return Err(format!(
                    "dates out of order: the re-check of {} is before the optimization ({})",
                    r.at, o.at
                ));
            }
            if i > 0 && r.at < self.rechecks[i - 1].at {
                return Err(format!(
                    "dates out of order: the re-check of {} is listed after the one of {}",
                    r.at,
                    self.rechecks[i - 1].at
                ));
            }
            if r.in_window != window.contains(r.at) {
                return Err(format!(
                    "the re-check of {} says in_window = {}, but the window is {} – {}",
                    r.at, r.in_window, o.at, o.until
                ));
            }
            match (&r.snapshot, r.verdict) {
                (None, Verdict::Failed) => {}
                (None, _) => {
                    return Err(format!("the re-check of {} has no snapshot", r.at));
                }
                (Some(f), _) => match self.snapshot(f) {
                    Some(s) if s.role == Role::Recheck => {
                        named.insert(f.as_str());
                    }
                    _ => {
                        return Err(format!(
                            "the re-check of {} names {f}, which is not a re-check snapshot",
                            r.at
                        ));
                    }
                },
            }
            if r.verdict != Verdict::Failed && r.comparison.is_none() {
                return Err(format!("the re-check of {} has no comparison", r.at));
            }
        }
        if let Some(s) = self
            .snapshots
            .iter()
            .find(|s| s.role == Role::Recheck && !named.contains(s.file.as_str()))
        {
            return Err(format!(
                "{} is a re-check snapshot, but no [[rechecks]] entry names it",
                s.file
            ));
        }
        Ok(())
    }
}

pub fn state_id(state: StepState) -> &'static str {
    match state {
        StepState::Proposed => "proposed",
        StepState::Applied => "applied",
        StepState::Verified => "verified",
        StepState::Regressed => "regressed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use perfdiag_model::{Phase, Risk, Script, Threshold, Value, Verification};

    fn t(s: &str) -> DateTime<Utc> {
        crate::cli::parse_time(s).unwrap()
    }

    fn plan() -> Plan {
        let step = |id: &str| perfdiag_model::PlanStep {
            id: id.into(),
            phase: Phase::Configuration,
            findings: vec!["pg.temp.spills".into()],
            subject: None,
            script: Script {
                language: "sql".into(),
                body: "SELECT 1;".into(),
            },
            rollback: Script {
                language: "sql".into(),
                body: "SELECT 1;".into(),
            },
            risk: Risk::Low,
            needs_restart: false,
            verify: Verification {
                metric: "m".into(),
                target: "< 1".into(),
            },
            template: false,
            expected_effect: None,
            depends_on: vec![],
            state: StepState::Proposed,
        };
        Plan {
            generated_at: t("2026-11-02"),
            steps: vec![
                step("pg.config.work_mem"),
                step("pg.logging.log_slow_queries"),
            ],
        }
    }

    fn snap(file: &str, role: Role, at: &str) -> SnapshotEntry {
        SnapshotEntry {
            file: format!("snapshots/{file}"),
            role,
            taken_at: t(at),
            hostname: "db1".into(),
            added_at: t(at),
        }
    }

    fn event(state: StepState, at: &str, snapshot: Option<&str>) -> StepEvent {
        StepEvent {
            state,
            at: t(at),
            snapshot: snapshot.map(|s| format!("snapshots/{s}")),
            evidence: vec![],
        }
    }

    /// A case two weeks into its window: one step verified then regressed, one proposed.
    fn record() -> Progress {
        let key = FindingKey {
            rule: "pg.temp.spills".into(),
            subject: Some("postgres://app@db1/erp".into()),
        };
        let mut p = Progress::new(t("2026-11-01"));
        p.host = Some(CaseHost {
            hostname: "db1".into(),
            machine_id: None,
        });
        p.snapshots = vec![
            snap("d.pdsnap", Role::Diagnosis, "2026-11-01T10:00:00Z"),
            snap("b.pdsnap", Role::Baseline, "2026-11-05"),
            snap("r1.pdsnap", Role::Recheck, "2026-11-12"),
        ];
        p.plan = Some(PlanEntry {
            folder: "plan".into(),
            snapshot: "snapshots/d.pdsnap".into(),
            made_at: t("2026-11-02"),
        });
        let mut work_mem = StepEntry {
            id: "pg.config.work_mem".into(),
            state: StepState::Proposed,
            addresses: vec![key.clone()],
            history: vec![event(StepState::Proposed, "2026-11-02", None)],
        };
        work_mem.push(event(StepState::Applied, "2026-11-03", None));
        work_mem.push(event(StepState::Verified, "2026-11-05", Some("b.pdsnap")));
        let mut regressed = event(StepState::Regressed, "2026-11-12", Some("r1.pdsnap"));
        regressed.evidence = vec![FindingEvidence {
            finding: key,
            evidence: vec![Evidence {
                metric: "pg.temp.bytes_per_s".into(),
                observed: Value::number(3e6, Unit::PerSecond),
                threshold: Some(Threshold::new(
                    perfdiag_model::Comparison::Above,
                    Value::number(1048576.0, Unit::PerSecond),
                )),
            }],
        }];
        work_mem.push(regressed.clone());
        p.steps = vec![
            work_mem.clone(),
            StepEntry {
                id: "pg.logging.log_slow_queries".into(),
                state: StepState::Proposed,
                addresses: vec![FindingKey {
                    rule: "pg.logging.slow_query_off".into(),
                    subject: None,
                }],
                history: vec![event(StepState::Proposed, "2026-11-02", None)],
            },
        ];
        p.optimization = Some(Optimization {
            at: t("2026-11-05"),
            until: t("2027-02-05"),
            baseline: "snapshots/b.pdsnap".into(),
            comparison: "comparisons/optimization.json".into(),
        });
        p.rechecks = vec![Recheck {
            at: t("2026-11-12"),
            verdict: Verdict::Breached,
            in_window: true,
            snapshot: Some("snapshots/r1.pdsnap".into()),
            comparison: Some("comparisons/recheck-001.json".into()),
            reasons: vec![
                Reason::StepRegressed {
                    step: "pg.config.work_mem".into(),
                    findings: regressed.evidence,
                },
                Reason::KpiLost {
                    kpi: KpiEvidence {
                        id: "db.aas".into(),
                        subject: Some("postgres://app@db1/erp".into()),
                        unit: Unit::None,
                        higher_is_better: false,
                        diagnosis: Some(3.5),
                        baseline: 0.5,
                        recheck: 4.25,
                        change: 3.75,
                        noise: None,
                    },
                },
                Reason::NewHeavyQuery {
                    query: QueryEvidence {
                        source: "pg_statements".into(),
                        target: Some("postgres://app@db1/erp".into()),
                        id: "-42".into(),
                        text: "SELECT \"a\" FROM t WHERE x = $1".into(),
                        share_pct: 31.0,
                        mean_ms: Some(12.5),
                        calls_per_s: None,
                    },
                },
            ],
            error: None,
        }];
        p
    }

    #[test]
    fn a_record_reads_back_as_written_and_is_valid() {
        let p = record();
        p.validate(Some(&plan())).unwrap();
        let text = p.render();
        assert!(
            text.contains("addresses = [\"pg.temp.spills @ postgres://app@db1/erp\"]"),
            "{text}"
        );
        assert!(text.contains("[[rechecks]]"), "{text}");
        assert_eq!(Progress::parse(&text).unwrap(), p);
    }

    /// Each hand edit a validation catches, with the words of its message.
    #[test]
    fn hand_edits_that_break_the_record_are_named() {
        let plan = plan();
        let check = |edit: &dyn Fn(&mut Progress), words: &str| {
            let mut p = record();
            edit(&mut p);
            let e = p.validate(Some(&plan)).unwrap_err();
            assert!(e.contains(words), "expected {words:?} in: {e}");
        };
        check(
            &|p| p.steps[1].id = "pg.config.typo".into(),
            "unknown step pg.config.typo",
        );
        check(
            &|p| {
                p.steps.pop();
            },
            "has no [[steps]] entry",
        );
        check(
            &|p| p.steps[0].history[1].at = t("2026-11-01"),
            "dates out of order: step pg.config.work_mem became applied",
        );
        check(
            &|p| p.steps[1].history[0].at = t("2026-11-01"),
            "was proposed (2026-11-01 00:00:00 UTC) before the plan was made",
        );
        check(
            &|p| p.steps[0].history[2].at = t("2026-11-04"),
            "before the optimization",
        );
        check(
            &|p| p.steps[0].state = StepState::Verified,
            "its history ends with regressed",
        );
        check(
            &|p| p.steps[1].history[0].state = StepState::Applied,
            "must start with proposed",
        );
        check(
            &|p| {
                let e = p.steps[1].history[0].clone();
                p.steps[1].push(StepEvent {
                    state: StepState::Verified,
                    ..e
                });
            },
            "cannot go from proposed to verified",
        );
        check(
            &|p| p.optimization.as_mut().unwrap().until = t("2027-03-05"),
            "at most 3 months",
        );
        check(
            &|p| p.optimization.as_mut().unwrap().at = t("2026-11-01"),
            "dates out of order",
        );
        check(
            &|p| p.rechecks[0].at = t("2026-11-04"),
            "before the optimization",
        );
        check(&|p| p.rechecks[0].in_window = false, "in_window = false");
        check(
            &|p| p.snapshots[2].hostname = "db9".into(),
            "is of host db9",
        );
        check(
            &|p| p.snapshots[1].role = Role::Recheck,
            "must be the one snapshot",
        );
        check(&|p| p.rechecks.clear(), "no [[rechecks]] entry names it");
        check(
            &|p| {
                p.confirmation = Some(Confirmation {
                    by: "Wang".into(),
                    at: t("2026-11-04"),
                })
            },
            "the confirmation",
        );
        check(&|p| p.format = 0, "format = 0");
    }

    #[test]
    fn a_newer_format_says_which_perfdiag_reads_it() {
        let e = Progress::parse("format = 2\nfuture_key = 1\n").unwrap_err();
        assert!(e.contains("newer perfdiag"), "{e}");
        let e = Progress::parse("format = 1\ncreated_at = \"2026-11-01T00:00:00Z\"\ntypo = 1\n")
            .unwrap_err();
        assert!(e.contains("typo"), "{e}");
    }
}
