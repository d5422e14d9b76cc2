//! perfdiag's assessment: judges a snapshot against a baseline.
//!
//! ```text
//! Snapshot ──► frames (polars) ──► metrics (HostStats) ──► rules ──► findings
//!    │                                     ▲                            │
//!    │                  Baseline (thresholds, as data), workload kind   ▼
//!    └──► db_time (AAS by wait class) ──────────────────────────► impact, tiers
//!                                                                       │
//!                      scores ◄── primary bottleneck, correlations ◄────┘
//! ```
//! The entry point is [`assess`]; [`compare`] sets two assessments side by side.
//! Findings are language-neutral (rule id, numbers, thresholds); their titles and
//! rationales live in the report's message catalogs. The model is in docs/scoring.md.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use perfdiag_model::{Assessment, NotEvaluated, Snapshot, Workload, facts_names};
use serde::de::DeserializeOwned;

pub mod baseline;
pub mod compare;
mod correlate;
pub mod db_time;
pub mod error;
/// Expected settings from the hardware, the workload and the measured rates; the rules
/// are its only users (see docs/tuning.md).
mod expected;
pub mod frames;
pub mod impact;
pub mod metrics;
pub mod primary;
mod rules;
pub mod score;
pub mod series;
mod sql;
pub mod statements;
#[cfg(test)]
mod test_support;
pub mod workload;

pub use baseline::{Baseline, Direction, Levels, RuleSpec};
pub use compare::{compare, kpi_ids};
pub use error::AnalyzeError;
pub use rules::implemented_rule_ids;

use frames::{Missing, Need};
use metrics::HostStats;
use rules::Inputs;

/// What the engineer knows about the system that the snapshot cannot tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The kind of work; `None`: detected from the statement mix.
    pub workload: Option<Workload>,
    /// Whether the databases have the host to themselves (the usual ERP set-up).
    pub dedicated: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            workload: None,
            dedicated: true,
        }
    }
}

/// [`assess_with`] with default [`Options`]: workload detected, dedicated host.
pub fn assess(snapshot: &Snapshot, baseline: &Baseline) -> Result<Assessment, AnalyzeError> {
    assess_with(snapshot, baseline, &Options::default())
}

/// Judges `snapshot` against every enabled rule of `baseline`.
///
/// A rule whose input is absent (a table or facts document the snapshot lacks, a probe
/// that failed) does not fire: it is listed in `not_evaluated` with what was missing.
/// Disabled rules appear nowhere.
pub fn assess_with(
    snapshot: &Snapshot,
    baseline: &Baseline,
    options: &Options,
) -> Result<Assessment, AnalyzeError> {
    let stats = HostStats::compute(snapshot)?;
    let workload = workload::assess(snapshot, options.workload);
    let inputs = Inputs {
        stats: &stats,
        host: load_fact(snapshot, facts_names::HOST),
        os: load_fact(snapshot, facts_names::OS),
        network: load_fact(snapshot, facts_names::NETWORK),
        postgres: load_fact(snapshot, facts_names::POSTGRES),
        mysql: load_fact(snapshot, facts_names::MYSQL),
        mssql: load_fact(snapshot, facts_names::MSSQL),
        snapshot,
        sql: std::cell::OnceCell::new(),
        workload: workload.kind,
        dedicated: options.dedicated,
    };
    let mut findings = Vec::new();
    let mut not_evaluated = Vec::new();
    let mut evaluated = BTreeSet::new();
    for spec in baseline
        .rules()
        .iter()
        .filter(|r| r.enabled && applies(&r.id, snapshot))
    {
        // Every baseline rule is implemented: `Baseline` checks it at load.
        let Some(def) = rules::definition(&spec.id) else {
            continue;
        };
        match (def.eval)(&inputs, spec) {
            Ok(found) => {
                evaluated.insert(spec.dimension);
                findings.extend(found);
            }
            Err(Missing(missing)) => not_evaluated.push(NotEvaluated {
                rule_id: spec.id.clone(),
                missing,
            }),
        }
    }
    let db_time = db_time::compute(snapshot)?;
    impact::apply(&mut findings, &db_time);
    // Most important first: tier, then severity, then the points it costs (which
    // grow with its measured impact).
    findings.sort_by(|a, b| {
        let key =
            |f: &'_ perfdiag_model::Finding| (f.tier, Reverse(f.severity), Reverse(f.penalty));
        key(a)
            .cmp(&key(b))
            .then_with(|| (&a.rule_id, &a.subject).cmp(&(&b.rule_id, &b.subject)))
    });
    let (scores, overall) = score::score(&findings, &evaluated);
    let primary = primary::find(&findings, &db_time, snapshot);
    let correlations = correlate::correlate(&findings);
    Ok(Assessment {
        generated_at: chrono::Utc::now(),
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        baseline: baseline.name().to_owned(),
        findings,
        not_evaluated,
        scores,
        overall,
        metrics: stats.summary(),
        db_time,
        primary,
        correlations,
        workload: Some(workload),
        low_confidence: low_confidence(&inputs),
    })
}

/// A day: counters younger than this have not seen a whole business cycle.
pub const MIN_UPTIME_SECS: f64 = 86_400.0;

/// The database targets whose servers started less than a day before the window.
fn low_confidence(inputs: &Inputs<'_>) -> Vec<perfdiag_model::LowConfidence> {
    let pg = inputs
        .postgres
        .iter()
        .flatten()
        .map(|f| (&f.target, f.uptime_secs));
    let my = inputs
        .mysql
        .iter()
        .flatten()
        .map(|f| (&f.target, f.uptime_secs.map(|u| u as f64)));
    let ms = inputs
        .mssql
        .iter()
        .flatten()
        .map(|f| (&f.target, f.uptime_secs));
    pg.chain(my)
        .chain(ms)
        .filter_map(|(target, uptime)| {
            let uptime_secs = uptime.filter(|u| *u < MIN_UPTIME_SECS)?;
            Some(perfdiag_model::LowConfidence {
                target: target.clone(),
                uptime_secs,
            })
        })
        .collect()
}

/// Database rules and the engine whose collection they judge, by rule id prefix.
const ENGINE_RULES: [(&str, &str); 3] = [
    ("pg.", "postgres"),
    ("mysql.", "mysql"),
    ("mssql.", "mssql"),
];

/// Whether a rule concerns this snapshot: database rules only when their engine was
/// asked for (its facts or a probe record of it are present). A host-only snapshot
/// does not list every database rule as "not evaluated".
fn applies(rule_id: &str, snapshot: &Snapshot) -> bool {
    // The SQL rules read statement texts from any engine or a log: they concern the
    // snapshot when one of those tables is there, whichever engine was asked for.
    if rule_id == "sql.rows_examined_high" {
        // Only a MySQL/MariaDB slow log counts the rows a statement examined.
        return snapshot
            .table(perfdiag_model::tables::LOG_QUERIES)
            .and_then(|t| t.column("rows_examined"))
            .is_some_and(|c| !matches!(c, perfdiag_model::ColumnData::Float64(v) if v.iter().all(Option::is_none)));
    }
    if rule_id.starts_with("sql.") {
        return rules::STATEMENT_TABLES
            .iter()
            .any(|t| snapshot.table(t).is_some());
    }
    let Some((_, engine)) = ENGINE_RULES
        .iter()
        .find(|(prefix, _)| rule_id.starts_with(prefix))
    else {
        return true;
    };
    let manifest = snapshot.manifest();
    manifest.facts.iter().any(|f| f == engine)
        || manifest
            .probes
            .iter()
            .any(|p| p.id.split('.').next() == Some(engine))
}

/// A facts document, or why it is unavailable. A document that does not parse costs
/// only the rules that read it, never the whole assessment.
fn load_fact<T: DeserializeOwned>(snapshot: &Snapshot, name: &str) -> Need<T> {
    match snapshot.fact::<T>(name) {
        Ok(Some(fact)) => Ok(fact),
        Ok(None) => Err(Missing(format!("facts {name}"))),
        Err(e) => Err(Missing(format!("readable facts {name} ({e})"))),
    }
}
