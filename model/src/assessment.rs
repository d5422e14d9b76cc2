//! The assessment: findings and scores the analyzers derive from a snapshot.
//!
//! Language-neutral on purpose: a finding names its rule and carries numbers; the
//! report looks up titles and explanations in the message catalogs.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The dimensions every finding and score belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dimension {
    Cpu,
    Memory,
    StorageIo,
    Network,
    OsConfig,
    DbConfig,
    SessionsLocking,
    SqlWorkload,
    Security,
}

impl Dimension {
    pub const ALL: [Dimension; 9] = [
        Self::Cpu,
        Self::Memory,
        Self::StorageIo,
        Self::Network,
        Self::OsConfig,
        Self::DbConfig,
        Self::SessionsLocking,
        Self::SqlWorkload,
        Self::Security,
    ];

    /// The snake_case id used in files and message keys.
    pub fn id(self) -> &'static str {
        match self {
            Self::Cpu => "cpu",
            Self::Memory => "memory",
            Self::StorageIo => "storage_io",
            Self::Network => "network",
            Self::OsConfig => "os_config",
            Self::DbConfig => "db_config",
            Self::SessionsLocking => "sessions_locking",
            Self::SqlWorkload => "sql_workload",
            Self::Security => "security",
        }
    }
}

/// The kind of work the database does; expected settings depend on it (PGTune's
/// "DB type"). Given with `--workload`, or detected from the statement mix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Workload {
    /// Many short transactions: an ERP's order entry, a web shop.
    Oltp,
    /// Few long reporting or batch queries over much data.
    Olap,
    /// Both; the default when nothing says otherwise.
    #[default]
    Mixed,
}

impl Workload {
    pub fn id(self) -> &'static str {
        match self {
            Self::Oltp => "oltp",
            Self::Olap => "olap",
            Self::Mixed => "mixed",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

/// A measured or configured value with its unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    Number { value: f64, unit: Unit },
    Text { text: String },
}

impl Value {
    pub fn number(value: f64, unit: Unit) -> Self {
        Self::Number { value, unit }
    }
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text { text: text.into() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A plain number or count.
    None,
    Percent,
    Bytes,
    Milliseconds,
    PerSecond,
    /// Pages per second (swap).
    PagesPerSecond,
}

/// Plain, language-neutral text: `60`, `85.5 %`, `4294967296 bytes`. Reports format
/// values for their language themselves; this is for scripts, logs and tests.
impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Text { text } => f.write_str(text),
            Self::Number { value, unit } => {
                if value.fract() == 0.0 && value.abs() < 1e15 {
                    write!(f, "{}", *value as i64)?;
                } else {
                    write!(f, "{value:.2}")?;
                }
                f.write_str(match unit {
                    Unit::None => "",
                    Unit::Percent => " %",
                    Unit::Bytes => " bytes",
                    Unit::Milliseconds => " ms",
                    Unit::PerSecond => "/s",
                    Unit::PagesPerSecond => " pages/s",
                })
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    Above,
    Below,
    Equals,
    NotEquals,
}

impl Comparison {
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Above => ">",
            Self::Below => "<",
            Self::Equals => "=",
            Self::NotEquals => "≠",
        }
    }
}

/// The threshold a value crossed: `> 85 %`, `= always`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    pub op: Comparison,
    pub value: Value,
}

impl Threshold {
    pub fn new(op: Comparison, value: Value) -> Self {
        Self { op, value }
    }
}

impl std::fmt::Display for Threshold {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.op.symbol(), self.value)
    }
}

/// One piece of evidence: the metric, what was seen, and the threshold it crossed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// Metric id, e.g. `cpu.busy_pct.p95` or `sysctl.vm.swappiness`.
    pub metric: String,
    pub observed: Value,
    /// The threshold crossed; `None` for context-only evidence.
    pub threshold: Option<Threshold>,
}

/// A problem a rule found, with the evidence that makes it true.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// The rule id, e.g. `host.cpu.saturation`.
    pub rule_id: String,
    pub dimension: Dimension,
    pub severity: Severity,
    /// What the finding is about when not the whole host: a device, an interface.
    pub subject: Option<String>,
    pub evidence: Vec<Evidence>,
    /// Points this finding costs its dimension's score (docs/scoring.md).
    pub penalty: u32,
    /// How much of the system's time or capacity the problem takes, when measured.
    #[serde(default)]
    pub impact: Option<Impact>,
    /// Priority tier, 1 (act now) to 4 (for the record), from severity and impact.
    #[serde(default = "Tier::lowest")]
    pub tier: Tier,
}

/// What a finding's impact is a share of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImpactBasis {
    /// Share of a target's database time (average active sessions) in the wait
    /// classes the finding explains, as ADDM ranks findings.
    DbTime,
    /// Share of the statement time of all query classes (one query class).
    StatementTime,
    /// How saturated the resource is (busy %, utilisation %), for host findings.
    Saturation,
}

/// A finding's measured weight: what share of what.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Impact {
    pub basis: ImpactBasis,
    /// 0–100.
    pub share_pct: f64,
    /// The wait classes counted, for `db_time`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub wait_classes: Vec<String>,
}

/// Priority tiers, like sp_Blitz's: what to read first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Tier(pub u8);

impl Tier {
    /// Tier 1: critical and costing much time, or a critical exposure.
    pub const URGENT: Tier = Tier(1);
    /// Tier 2: critical with little measured cost, or a warning costing much time.
    pub const HIGH: Tier = Tier(2);
    /// Tier 3: a warning.
    pub const MEDIUM: Tier = Tier(3);
    /// Tier 4: information.
    pub const LOW: Tier = Tier(4);

    pub fn lowest() -> Tier {
        Self::LOW
    }
}

/// The one place to look first: the bottleneck that takes the largest share of the
/// database's time, or (without database samples) the most saturated resource.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrimaryBottleneck {
    pub dimension: Dimension,
    /// How it was measured: database time, or saturation of a host resource;
    /// `None` when nothing was measured and it is the most serious finding.
    pub basis: Option<ImpactBasis>,
    /// The share it takes (of database time or of the resource), 0–100.
    pub share_pct: Option<f64>,
    /// The database target, for `db_time`.
    pub target: Option<String>,
    /// The wait class, for `db_time`.
    pub wait_class: Option<String>,
    /// The finding that explains it best, if any: rule id and subject.
    pub finding: Option<FindingRef>,
    /// The heaviest query class (fingerprint id and its share of statement time)
    /// behind it, when the snapshot holds statements.
    pub top_query: Option<QueryRef>,
}

/// A reference to one finding of the same assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FindingRef {
    pub rule_id: String,
    pub subject: Option<String>,
}

/// A query class, by fingerprint id, and its share of statement time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryRef {
    /// The 64-bit fingerprint id, in hex, as `perfdiag logs` prints it.
    pub id: String,
    pub fingerprint: String,
    pub share_pct: f64,
}

/// Findings on different layers that tell one story (I/O waits with device latency
/// and dirty-page settings, say): reported together so the cause is fixed, not each
/// symptom.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Correlation {
    /// `io`, `memory`, `cpu` or `locking`: the catalog key of its explanation.
    pub id: String,
    pub dimension: Dimension,
    /// The findings, symptom first, then the causes.
    pub findings: Vec<FindingRef>,
}

/// The workload kind the assessment used, and where it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkloadAssessment {
    pub kind: Workload,
    /// `given` (--workload), `detected` (statement mix) or `default` (no statements).
    pub source: String,
    /// What the detection saw (mean time per call, share of time in long queries).
    #[serde(default)]
    pub evidence: Vec<Evidence>,
}

/// A rule that could not be evaluated because its input is missing from the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotEvaluated {
    pub rule_id: String,
    /// What was missing, e.g. `table host_disk` or `facts os.transparent_hugepages`.
    pub missing: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DimensionScore {
    pub dimension: Dimension,
    /// 0 (worst) to 100 (nothing found); `None` when no rule of the dimension could run.
    pub score: Option<u8>,
    /// The rule ids of the findings that cost points.
    pub findings: Vec<String>,
}

/// Summary numbers the report shows next to the findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metric {
    pub id: String,
    pub value: Value,
}

/// Database time by wait class for one target: average active sessions (AAS) over
/// the window, the measure Oracle's ADDM ranks bottlenecks by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitClassLoad {
    /// The target's label (its URL without password).
    pub target: String,
    /// `postgres` or `mysql`.
    pub engine: String,
    /// `CPU` (active, not waiting), or the engine's wait class (`IO`, `Lock`,
    /// `LWLock`, `Client`…).
    pub wait_class: String,
    /// Sessions in this class on average over the window's samples.
    pub aas: f64,
    /// This class's share of the target's database time, 0–100.
    pub share_pct: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub generated_at: DateTime<Utc>,
    pub tool_version: String,
    /// The baseline the rules were judged against (`builtin` or a file name).
    pub baseline: String,
    /// Findings, most severe and costly first.
    pub findings: Vec<Finding>,
    pub not_evaluated: Vec<NotEvaluated>,
    pub scores: Vec<DimensionScore>,
    /// Mean of the dimensions that could be scored.
    pub overall: Option<u8>,
    pub metrics: Vec<Metric>,
    /// Where each database spent its time, largest class first per target.
    #[serde(default)]
    pub db_time: Vec<WaitClassLoad>,
    /// The bottleneck to look at first; `None` when nothing stands out.
    #[serde(default)]
    pub primary: Option<PrimaryBottleneck>,
    /// Findings on several layers that share one cause.
    #[serde(default)]
    pub correlations: Vec<Correlation>,
    #[serde(default)]
    pub workload: Option<WorkloadAssessment>,
    /// Database targets whose cumulative counters (since the server started) cover
    /// less than a day: what they say about unused indexes or hit ratios since start
    /// may not hold for a whole business cycle.
    #[serde(default)]
    pub low_confidence: Vec<LowConfidence>,
}

/// A target whose counters cover too short a time to judge a business cycle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LowConfidence {
    pub target: String,
    pub uptime_secs: f64,
}

impl Assessment {
    pub fn metric(&self, id: &str) -> Option<&Value> {
        self.metrics.iter().find(|m| m.id == id).map(|m| &m.value)
    }
}
