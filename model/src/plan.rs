//! The optimization plan: ordered steps, each with a script, its rollback and a check.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::assessment::Value;

/// Phases in the order a plan is carried out: the cheapest, safest changes first, the
/// ones that need a budget or a maintenance window last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    QuickWins,
    Configuration,
    /// Statements rewritten, indexes created or dropped, keys and storage engines: a
    /// change to the schema or the application's SQL, tested with the application.
    SqlIndexes,
    /// Vacuum, analyze and statistics, backups.
    Maintenance,
    HardwareDeployment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    Low,
    Medium,
    High,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Proposed,
    Applied,
    Verified,
    Regressed,
}

/// A script for a person to review and run; perfdiag never runs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Script {
    /// `sh`, `sql`, `powershell`, or `manual` for steps a person carries out by hand.
    pub language: String,
    pub body: String,
}

/// How to tell the step worked: a metric and the target it should reach.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    pub metric: String,
    pub target: String,
}

/// What a step should change, in numbers: the metric, its value in the snapshot and
/// the value expected after the change, e.g. `pg.cache.hit_ratio_pct`: `91 %` →
/// `>= 99 %`. Language-neutral, so a report or a re-check can compare it as it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExpectedEffect {
    /// A metric id as the findings' evidence names it.
    pub metric: String,
    /// The value measured (the worst one when the step covers several subjects).
    pub now: Value,
    /// A comparison and a value, e.g. `>= 99 %` or `= 256MB`: no prose.
    pub after: String,
}

impl std::fmt::Display for ExpectedEffect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {} → {}", self.metric, self.now, self.after)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanStep {
    /// Step id, e.g. `os.thp.disable`; titles and explanations come from the catalogs.
    pub id: String,
    pub phase: Phase,
    /// The findings (rule ids) this step addresses.
    pub findings: Vec<String>,
    pub subject: Option<String>,
    pub script: Script,
    pub rollback: Script,
    pub risk: Risk,
    /// Whether the change needs a restart of the database or a reboot.
    pub needs_restart: bool,
    pub verify: Verification,
    /// The script has `<placeholders>` outside its comments (a column to index, a new
    /// password) that a person must fill in: it does not run as written, and its first
    /// line says so (as does its rollback's when that has placeholders too).
    #[serde(default)]
    pub template: bool,
    /// The change in numbers, when the evidence gives the value now; `None` otherwise.
    #[serde(default)]
    pub expected_effect: Option<ExpectedEffect>,
    /// Ids of steps of this plan to apply first: an extension before the steps that
    /// query it, a table's engine before its new key, the reload-only settings of a
    /// server before the step that restarts it (one restart then takes them all).
    /// The plan's order already respects them; they matter when steps are skipped.
    #[serde(default)]
    pub depends_on: Vec<String>,
    pub state: StepState,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub generated_at: DateTime<Utc>,
    /// Steps in the order to carry them out.
    pub steps: Vec<PlanStep>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A plan written before `expected_effect`, `depends_on` and `template` existed
    /// still reads (a case folder keeps its plan for months).
    #[test]
    fn older_plans_still_read() {
        let json = r#"{"generated_at":"2026-11-02T09:00:00Z","steps":[{"id":"os.thp.disable",
            "phase":"quick_wins","findings":["os.thp.enabled"],"subject":null,
            "script":{"language":"sh","body":"echo never"},
            "rollback":{"language":"sh","body":"echo always"},"risk":"low",
            "needs_restart":false,"verify":{"metric":"os.thp.enabled","target":"= never"},
            "state":"proposed"}]}"#;
        let plan: Plan = serde_json::from_str(json).expect("reads");
        let s = &plan.steps[0];
        assert!(s.expected_effect.is_none() && s.depends_on.is_empty() && !s.template);
        assert_eq!(
            serde_json::to_value(Phase::SqlIndexes).expect("serialises"),
            "sql_indexes"
        );
    }
}
