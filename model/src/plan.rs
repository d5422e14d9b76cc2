//! The optimization plan: ordered steps, each with a script, its rollback and a check.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Phases in the order a plan is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    QuickWins,
    Configuration,
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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
    pub state: StepState,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub generated_at: DateTime<Utc>,
    /// Steps in the order to carry them out.
    pub steps: Vec<PlanStep>,
}
