//! The assessment's judgement in words: the primary bottleneck in one sentence, the
//! findings that share a cause, and the workload kind the settings were judged for.
//! Sentences are catalog templates with `{name}` placeholders.

use perfdiag_model::{Assessment, FindingRef, ImpactBasis, Workload};
use serde::Serialize;

use super::format;
use super::i18n::Catalog;

#[derive(Debug, Serialize)]
pub struct PrimaryView {
    pub dimension: String,
    /// The one sentence.
    pub sentence: String,
}

#[derive(Debug, Serialize)]
pub struct CorrelationView {
    pub id: String,
    pub title: String,
    pub explanation: String,
    /// The findings' titles (with their subjects), symptom first.
    pub findings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct WorkloadView {
    pub kind: String,
    /// "given with --workload", "detected from the statement mix", …
    pub source: String,
}

/// `template` with every `{name}` replaced by its value.
fn fill(template: &str, values: &[(&str, String)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |text, (name, value)| {
            text.replace(&format!("{{{name}}}"), value)
        })
}

fn finding_title(r: &FindingRef, c: &Catalog) -> String {
    let title = c.text(&format!("rule.{}.title", r.rule_id));
    match &r.subject {
        Some(s) => format!("{title} ({s})"),
        None => title,
    }
}

fn percent(share: f64) -> String {
    format!("{} %", format::number(share, 0))
}

pub fn primary(a: &Assessment, c: &Catalog) -> Option<PrimaryView> {
    let p = a.primary.as_ref()?;
    let dimension = c.text(&format!("dimension.{}", p.dimension.id()));
    let finding = p
        .finding
        .as_ref()
        .map(|f| finding_title(f, c))
        .unwrap_or_default();
    let mut sentence = match p.basis {
        Some(ImpactBasis::DbTime) => {
            let class = p.wait_class.clone().unwrap_or_default();
            fill(
                &c.text("primary.db_time"),
                &[
                    ("target", p.target.clone().unwrap_or_default()),
                    ("share", percent(p.share_pct.unwrap_or(0.0))),
                    (
                        "class",
                        c.get(&format!("wait_class.{class}"))
                            .map_or(class.clone(), str::to_owned),
                    ),
                    ("dimension", dimension.clone()),
                ],
            )
        }
        Some(_) => fill(
            &c.text("primary.saturation"),
            &[
                ("dimension", dimension.clone()),
                ("finding", finding.clone()),
                ("share", percent(p.share_pct.unwrap_or(0.0))),
            ],
        ),
        None => fill(
            &c.text("primary.findings"),
            &[
                ("dimension", dimension.clone()),
                ("finding", finding.clone()),
            ],
        ),
    };
    // Database time names a class; the finding behind it is a sentence of its own.
    if p.basis == Some(ImpactBasis::DbTime) && p.finding.is_some() {
        sentence.push(' ');
        sentence += &fill(&c.text("primary.cause"), &[("finding", finding)]);
    }
    if let Some(q) = &p.top_query {
        sentence.push(' ');
        let text: String = q.fingerprint.chars().take(120).collect();
        sentence += &fill(
            &c.text("primary.top_query"),
            &[("query", text), ("share", percent(q.share_pct))],
        );
    }
    Some(PrimaryView {
        dimension,
        sentence,
    })
}

pub fn correlations(a: &Assessment, c: &Catalog) -> Vec<CorrelationView> {
    a.correlations
        .iter()
        .map(|k| CorrelationView {
            id: k.id.clone(),
            title: c.text(&format!("correlation.{}.title", k.id)),
            explanation: c.text(&format!("correlation.{}.text", k.id)),
            findings: k.findings.iter().map(|f| finding_title(f, c)).collect(),
        })
        .collect()
}

/// `None` for a host-only snapshot: an assumed workload says nothing there.
pub fn workload(a: &Assessment, c: &Catalog) -> Option<WorkloadView> {
    let w = a
        .workload
        .as_ref()
        .filter(|w| w.source != "default" || !a.db_time.is_empty())?;
    let kind = match w.kind {
        Workload::Oltp => "oltp",
        Workload::Olap => "olap",
        Workload::Mixed => "mixed",
    };
    Some(WorkloadView {
        kind: c.text(&format!("workload.{kind}")),
        source: c.text(&format!("workload.source_{}", w.source)),
    })
}

/// How much a finding weighs, in words: "62 % of database time".
pub fn impact(f: &perfdiag_model::Finding, c: &Catalog) -> Option<String> {
    let i = f.impact.as_ref()?;
    let key = match i.basis {
        ImpactBasis::DbTime => "impact.db_time",
        ImpactBasis::StatementTime => "impact.statement_time",
        ImpactBasis::Saturation => "impact.saturation",
    };
    Some(fill(&c.text(key), &[("share", percent(i.share_pct))]))
}

/// One sentence per target whose counters cover less than a day.
pub fn low_confidence(a: &Assessment, c: &Catalog) -> Vec<String> {
    a.low_confidence
        .iter()
        .map(|l| {
            fill(
                &c.text("summary.low_confidence"),
                &[
                    ("target", l.target.clone()),
                    ("hours", format::number(l.uptime_secs / 3600.0, 1)),
                ],
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Lang;
    use perfdiag_model::{
        Dimension, PrimaryBottleneck, QueryRef, WaitClassLoad, WorkloadAssessment,
    };

    fn assessment() -> Assessment {
        Assessment {
            generated_at: chrono::Utc::now(),
            tool_version: "test".to_owned(),
            baseline: "builtin".to_owned(),
            findings: Vec::new(),
            not_evaluated: Vec::new(),
            scores: Vec::new(),
            overall: None,
            metrics: Vec::new(),
            db_time: Vec::new(),
            primary: None,
            correlations: Vec::new(),
            workload: Some(WorkloadAssessment {
                kind: Workload::Mixed,
                source: "default".to_owned(),
                evidence: Vec::new(),
            }),
            low_confidence: Vec::new(),
        }
    }

    #[test]
    fn database_time_names_target_share_class_cause_and_query_in_each_language() {
        let mut a = assessment();
        a.primary = Some(PrimaryBottleneck {
            dimension: Dimension::SessionsLocking,
            basis: Some(ImpactBasis::DbTime),
            share_pct: Some(66.6),
            target: Some("postgres://db1/erp".to_owned()),
            wait_class: Some("Lock".to_owned()),
            finding: Some(FindingRef {
                rule_id: "pg.locks.blocking_chains".to_owned(),
                subject: None,
            }),
            top_query: Some(QueryRef {
                id: "0011223344556677".to_owned(),
                fingerprint: "update t set v = ? where id = ?".to_owned(),
                share_pct: 40.0,
            }),
        });
        for lang in [Lang::En, Lang::ZhCn] {
            let c = Catalog::load(lang).expect("catalog");
            let p = primary(&a, &c).expect("a sentence");
            for part in [
                "postgres://db1/erp",
                "67 %",
                c.get("wait_class.Lock").unwrap_or("?"),
                &c.text("rule.pg.locks.blocking_chains.title"),
                "update t set v = ? where id = ?",
                "40 %",
            ] {
                assert!(
                    p.sentence.contains(part),
                    "{lang:?}: {part:?} in {}",
                    p.sentence
                );
            }
            assert!(
                !p.sentence.contains('{'),
                "a placeholder left: {}",
                p.sentence
            );
        }
    }

    #[test]
    fn an_assumed_workload_is_shown_only_when_databases_were_sampled() {
        let c = Catalog::load(Lang::En).expect("catalog");
        let mut a = assessment();
        assert!(workload(&a, &c).is_none());
        a.db_time.push(WaitClassLoad {
            target: "pg".to_owned(),
            engine: "postgres".to_owned(),
            wait_class: "CPU".to_owned(),
            aas: 1.0,
            share_pct: 100.0,
        });
        let w = workload(&a, &c).expect("shown");
        assert_eq!(w.kind, c.text("workload.mixed"));
    }
}
