//! Findings as the report shows them: each with its evidence, and grouped by
//! dimension in the order of the scores.

use perfdiag_model::{Assessment, Dimension, Finding};
use serde::Serialize;

use super::bottleneck;
use super::format;
use super::i18n::Catalog;

#[derive(Debug, Serialize)]
pub struct FindingView {
    pub rule_id: String,
    pub title: String,
    pub rationale: String,
    /// The dimension's label in the report's language.
    pub dimension: String,
    /// The dimension's id: `cpu`, `memory`, `storage_io`, …
    pub dimension_id: String,
    /// `info`, `warning` or `critical`.
    pub severity: String,
    pub severity_label: String,
    /// Priority tier, 1 (act now) to 4.
    pub tier: u8,
    /// What share of what it takes, when measured: "62 % of database time".
    pub impact: Option<String>,
    pub subject: Option<String>,
    pub evidence: Vec<EvidenceView>,
}

#[derive(Debug, Serialize)]
pub struct EvidenceView {
    pub metric: String,
    pub observed: String,
    pub threshold: Option<String>,
}

/// The findings of one dimension: indexes into `Report::findings`, so a finding is
/// written once in the JSON.
#[derive(Debug, Serialize)]
pub struct FindingGroup {
    pub dimension: String,
    pub label: String,
    pub score: Option<u8>,
    pub findings: Vec<usize>,
}

pub fn finding(f: &Finding, c: &Catalog) -> FindingView {
    let severity = serde_plain(&f.severity);
    FindingView {
        rule_id: f.rule_id.clone(),
        title: c.text(&format!("rule.{}.title", f.rule_id)),
        rationale: c.text(&format!("rule.{}.rationale", f.rule_id)),
        dimension: c.text(&format!("dimension.{}", f.dimension.id())),
        dimension_id: f.dimension.id().to_owned(),
        severity_label: c.text(&format!("severity.{severity}")),
        severity,
        tier: f.tier.0,
        impact: bottleneck::impact(f, c),
        subject: f.subject.clone(),
        evidence: f
            .evidence
            .iter()
            .map(|e| EvidenceView {
                metric: e.metric.clone(),
                observed: format::value(&e.observed, c),
                threshold: e
                    .threshold
                    .as_ref()
                    .map(|t| format!("{} {}", t.op.symbol(), format::value(&t.value, c))),
            })
            .collect(),
    }
}

/// One group per dimension that has findings, in the dimensions' fixed order; inside
/// a group the findings keep the assessment's order (most severe and costly first).
pub fn groups(a: &Assessment, c: &Catalog) -> Vec<FindingGroup> {
    Dimension::ALL
        .iter()
        .filter_map(|&d| {
            let findings: Vec<usize> = a
                .findings
                .iter()
                .enumerate()
                .filter(|(_, f)| f.dimension == d)
                .map(|(i, _)| i)
                .collect();
            (!findings.is_empty()).then(|| FindingGroup {
                dimension: d.id().to_owned(),
                label: c.text(&format!("dimension.{}", d.id())),
                score: a
                    .scores
                    .iter()
                    .find(|s| s.dimension == d)
                    .and_then(|s| s.score),
                findings,
            })
        })
        .collect()
}

/// The snake_case name serde gives a unit enum variant.
pub fn serde_plain<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
