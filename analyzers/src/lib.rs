//! perfdiag's assessment: judges a snapshot against a baseline.
//!
//! ```text
//! Snapshot ──► frames (polars) ──► metrics (HostStats) ──► rules ──► findings ──► scores
//!                                          ▲
//!                       Baseline (thresholds, as data)
//! ```
//! The entry point is [`assess`]. Findings are language-neutral (rule id, numbers,
//! thresholds); their titles and rationales live in the report's message catalogs.

use std::cmp::Reverse;
use std::collections::BTreeSet;

use perfdiag_model::{Assessment, NotEvaluated, Snapshot, facts_names};
use serde::de::DeserializeOwned;

pub mod baseline;
pub mod db_time;
pub mod error;
pub mod frames;
pub mod metrics;
mod rules;
pub mod score;
mod sql;
#[cfg(test)]
mod test_support;

pub use baseline::{Baseline, Direction, Levels, RuleSpec};
pub use error::AnalyzeError;
pub use rules::implemented_rule_ids;

use frames::{Missing, Need};
use metrics::HostStats;
use rules::Inputs;

/// Judges `snapshot` against every enabled rule of `baseline`.
///
/// A rule whose input is absent (a table or facts document the snapshot lacks, a probe
/// that failed) does not fire: it is listed in `not_evaluated` with what was missing.
/// Disabled rules appear nowhere.
pub fn assess(snapshot: &Snapshot, baseline: &Baseline) -> Result<Assessment, AnalyzeError> {
    let stats = HostStats::compute(snapshot)?;
    let inputs = Inputs {
        stats: &stats,
        host: load_fact(snapshot, facts_names::HOST),
        os: load_fact(snapshot, facts_names::OS),
        network: load_fact(snapshot, facts_names::NETWORK),
        postgres: load_fact(snapshot, facts_names::POSTGRES),
        mysql: load_fact(snapshot, facts_names::MYSQL),
        snapshot,
        sql: std::cell::OnceCell::new(),
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
    findings.sort_by(|a, b| {
        (
            Reverse(a.severity),
            Reverse(a.penalty),
            &a.rule_id,
            &a.subject,
        )
            .cmp(&(
                Reverse(b.severity),
                Reverse(b.penalty),
                &b.rule_id,
                &b.subject,
            ))
    });
    let (scores, overall) = score::score(&findings, &evaluated);
    Ok(Assessment {
        generated_at: chrono::Utc::now(),
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        baseline: baseline.name().to_owned(),
        findings,
        not_evaluated,
        scores,
        overall,
        metrics: stats.summary(),
        db_time: db_time::compute(snapshot)?,
    })
}

/// Database rules and the engine whose collection they judge, by rule id prefix.
const ENGINE_RULES: [(&str, &str); 2] = [("pg.", "postgres"), ("mysql.", "mysql")];

/// Whether a rule concerns this snapshot: database rules only when their engine was
/// asked for (its facts or a probe record of it are present). A host-only snapshot
/// does not list every database rule as "not evaluated".
fn applies(rule_id: &str, snapshot: &Snapshot) -> bool {
    // The SQL rules read statement texts from any engine or a log: they concern the
    // snapshot when one of those tables is there, whichever engine was asked for.
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
