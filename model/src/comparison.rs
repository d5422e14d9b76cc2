//! The comparison of two snapshots of one system: what got better, what got worse,
//! and what appeared or vanished, by KPI, wait class, finding and query.
//!
//! `perfdiag analyze AFTER --against BEFORE` produces it; re-checks in a guarantee
//! window compare each follow-up snapshot with the post-optimization baseline the same
//! way. Like the assessment it is language-neutral: ids, numbers and statuses; the
//! terminal and report look up the words in the message catalogs.
//!
//! The type is reached as `perfdiag_model::comparison::Comparison`: the crate root's
//! `Comparison` is the operator of a threshold (`>`, `<`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::assessment::{Dimension, Evidence, Severity, Unit};

/// Two snapshots compared: `before` is the earlier one (the `--against` snapshot, or the
/// post-optimization baseline of a re-check), `after` the one being judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub generated_at: DateTime<Utc>,
    pub tool_version: String,
    /// The baseline both snapshots were assessed against.
    pub baseline: String,
    pub before: SnapshotIdentity,
    pub after: SnapshotIdentity,
    /// Reasons to read the comparison with care (another host, reversed order); never
    /// a reason to refuse it.
    pub warnings: Vec<ComparisonWarning>,
    /// Overall score of each side (mean of the scored dimensions).
    pub overall: ScoreChange,
    /// One row per dimension scored on either side.
    pub scores: Vec<DimensionScoreChange>,
    /// KPIs measured on both sides, judged against the noise of their samples.
    pub kpis: Vec<KpiChange>,
    /// Average active sessions by wait class, per database target.
    pub wait_classes: Vec<WaitClassChange>,
    /// Findings matched by rule id and subject.
    pub findings: Vec<FindingChange>,
    /// Statement classes matched by source, target and fingerprint id.
    pub queries: Vec<QueryChange>,
}

impl Comparison {
    /// Whether anything got worse: a KPI beyond its noise, a new or worse finding, a new
    /// heavy query or a regressed one. What a guarantee re-check flags.
    pub fn has_regression(&self) -> bool {
        self.kpis
            .iter()
            .any(|k| k.direction == ChangeDirection::Worse)
            || self
                .findings
                .iter()
                .any(|f| matches!(f.status, FindingStatus::New | FindingStatus::Worse))
            || self.queries.iter().any(|q| {
                q.status == QueryStatus::Regressed || (q.status == QueryStatus::New && q.heavy)
            })
    }
}

/// Which snapshot a side of the comparison is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotIdentity {
    pub hostname: String,
    pub machine_id: Option<String>,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub interval_ms: u64,
    /// The perfdiag that wrote the snapshot.
    pub tool_version: String,
}

/// A reason to read a comparison with care.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ComparisonWarning {
    /// The snapshots name different hosts: a migration, a rename, or the wrong file.
    DifferentHost { before: String, after: String },
    /// Same hostname, but different `/etc/machine-id`: a reinstalled or another machine.
    DifferentMachine,
    /// The `after` snapshot was taken before the `before` one: the files may be swapped.
    AfterIsEarlier,
}

/// A score on each side; `None` where it could not be scored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScoreChange {
    pub before: Option<u8>,
    pub after: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DimensionScoreChange {
    pub dimension: Dimension,
    pub before: Option<u8>,
    pub after: Option<u8>,
}

/// Whether a change is for the better, judged by the KPI's good direction, and only
/// when it is beyond the noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeDirection {
    Better,
    Worse,
    /// Within the noise, or too small to matter.
    Unchanged,
}

/// The samples of one KPI in one window.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KpiSide {
    /// Mean over the window's samples.
    pub mean: f64,
    /// Number of samples.
    pub samples: u64,
    /// Standard error of the mean, corrected for the correlation of successive samples
    /// (see docs/comparison.md); `None` with fewer than two samples.
    pub std_error: Option<f64>,
}

/// One KPI before and after.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KpiChange {
    /// e.g. `host_cpu.busy_pct.mean`, `host_disk.await_ms.mean`, `db.aas`.
    pub id: String,
    /// The device, interface or database target, when not the whole host.
    pub subject: Option<String>,
    pub unit: Unit,
    pub higher_is_better: bool,
    pub before: KpiSide,
    pub after: KpiSide,
    /// `after.mean - before.mean`.
    pub change: f64,
    /// The change as a percentage of `before`; `None` when `before` is 0.
    pub change_pct: Option<f64>,
    /// How large a change the noise of the two windows explains (3 combined standard
    /// errors); `None` when a side has too few samples to tell.
    pub noise: Option<f64>,
    /// The smallest change that matters for this KPI, whatever the noise.
    pub min_change: f64,
    /// Whether |change| exceeds both `noise` and `min_change`.
    pub beyond_noise: bool,
    pub direction: ChangeDirection,
}

/// Average active sessions in one wait class of one database target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitClassChange {
    pub target: String,
    pub engine: String,
    pub wait_class: String,
    /// 0 when the class was not seen on that side.
    pub aas_before: f64,
    pub aas_after: f64,
    /// `aas_after - aas_before`.
    pub change: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    /// Only in `after`.
    New,
    /// Only in `before`: fixed.
    Resolved,
    /// In both, more severe or more costly in `after`.
    Worse,
    /// In both, less severe or less costly in `after`.
    Better,
    Unchanged,
}

/// A finding matched across the snapshots by rule id and subject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingChange {
    pub rule_id: String,
    pub dimension: Dimension,
    pub subject: Option<String>,
    pub status: FindingStatus,
    pub severity_before: Option<Severity>,
    pub severity_after: Option<Severity>,
    pub penalty_before: Option<u32>,
    pub penalty_after: Option<u32>,
    /// The first piece of evidence on each side (the number the rule judged).
    pub evidence_before: Option<Evidence>,
    pub evidence_after: Option<Evidence>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QueryStatus {
    /// Only in `after`'s statement tables.
    New,
    /// Only in `before`'s.
    Vanished,
    /// Mean time per call went up beyond the rule in docs/comparison.md.
    Regressed,
    /// Mean time per call went down beyond that rule.
    Improved,
    Unchanged,
}

/// One statement class on one side.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QueryStats {
    pub calls: f64,
    /// Calls over the collection window (statistics views) or over the log's span.
    pub calls_per_s: Option<f64>,
    pub mean_ms: Option<f64>,
    pub total_ms: f64,
    /// Share of the total time of its source and target, 0–100.
    pub share_pct: f64,
}

/// A statement class matched across the snapshots by source, target and id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryChange {
    /// The table it came from: `pg_statements`, `mysql_statements` or `log_queries`.
    pub source: String,
    /// The database target, or the log file for `log_queries`.
    pub target: Option<String>,
    /// pg queryid, MySQL digest, or the log class id.
    pub id: String,
    /// The masked statement or fingerprint, cut to 120 characters.
    pub text: String,
    pub status: QueryStatus,
    /// Whether the class holds a heavy share of time on either side (see
    /// docs/comparison.md): new and vanished classes matter only when heavy.
    pub heavy: bool,
    pub before: Option<QueryStats>,
    pub after: Option<QueryStats>,
}
