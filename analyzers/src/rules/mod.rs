//! The host, OS and network rules: one registry, one module per area.
//!
//! A rule reads the precomputed [`HostStats`] and the facts documents, and either
//! returns its findings (possibly none) or says which input it lacked. Thresholds come
//! from the [`RuleSpec`] of the baseline, never from the code.

use perfdiag_model::Snapshot;
use perfdiag_model::facts::{
    HostFacts, MssqlFacts, MysqlFacts, NetworkFacts, OsFacts, PostgresFacts,
};
use perfdiag_model::{Evidence, Finding, Severity, Threshold, Value};

use crate::baseline::{Direction, RuleSpec};
use crate::frames::{Missing, Need};
use crate::metrics::HostStats;
use crate::score;

#[cfg(test)]
mod coverage;
mod cpu;
mod disk;
mod index_evidence;
mod memory;
mod mssql;
mod mysql;
mod network;
mod os;
mod postgres;
mod rows;
mod sql;

/// What the rules read: the sampled numbers and the facts documents.
#[derive(Debug)]
pub(crate) struct Inputs<'a> {
    pub stats: &'a HostStats,
    pub host: Need<HostFacts>,
    pub os: Need<OsFacts>,
    #[allow(dead_code)] // no host rule reads it yet; database rules will.
    pub network: Need<NetworkFacts>,
    /// One entry per PostgreSQL target.
    pub postgres: Need<Vec<PostgresFacts>>,
    /// One entry per MySQL/MariaDB target.
    pub mysql: Need<Vec<MysqlFacts>>,
    /// One entry per SQL Server target.
    pub mssql: Need<Vec<MssqlFacts>>,
    /// The snapshot itself, for rules that compute over its database tables.
    pub snapshot: &'a Snapshot,
    /// The statement classes, parsed on first use by the `sql.*` rules and shared by
    /// them, so each class is parsed once per assessment.
    pub sql: std::cell::OnceCell<sql::Workload>,
    /// The kind of work the databases do: given by the engineer, or detected.
    pub workload: perfdiag_model::Workload,
    /// Whether the databases have the host to themselves.
    pub dedicated: bool,
}

impl Inputs<'_> {
    pub fn host(&self) -> Need<&HostFacts> {
        self.host.as_ref().map_err(Clone::clone)
    }
    pub fn os(&self) -> Need<&OsFacts> {
        self.os.as_ref().map_err(Clone::clone)
    }
    /// A sysctl of the `os` facts, parsed as an integer.
    pub fn sysctl(&self, name: &str) -> Need<i64> {
        self.os()?
            .sysctl_i64(name)
            .ok_or_else(|| Missing(format!("sysctl {name} in facts os")))
    }
}

/// A rule's verdict: its findings (none when all is well), or the missing input.
pub(crate) type Outcome = Need<Vec<Finding>>;

/// A rule implemented in code.
#[derive(Debug)]
pub(crate) struct RuleDef {
    pub id: &'static str,
    /// How the rule compares; the baseline must agree.
    pub direction: Direction,
    /// Names of the alternative threshold sets the rule understands.
    pub variants: &'static [&'static str],
    pub eval: fn(&Inputs<'_>, &RuleSpec) -> Outcome,
}

/// Every rule, in the order they are evaluated: host first, then each engine.
pub(crate) fn registry() -> impl Iterator<Item = &'static RuleDef> {
    HOST.iter()
        .chain(postgres::RULES)
        .chain(mysql::RULES)
        .chain(mssql::RULES)
        .chain(sql::RULES)
}

/// The host, OS and network rules.
const HOST: &[RuleDef] = &[
    cpu::SATURATION,
    cpu::IOWAIT,
    cpu::STEAL,
    memory::PRESSURE,
    memory::SWAPPING,
    disk::AWAIT,
    disk::UTILISATION,
    network::ERRORS,
    network::RETRANSMITS,
    os::THP,
    os::SWAPPINESS,
    os::DIRTY,
    os::SOMAXCONN,
    os::NOFILE,
    os::CLOCK,
    os::ZONE_RECLAIM,
    os::GOVERNOR,
    os::HUGEPAGES,
];

/// The snapshot tables holding statement classes, which the `sql.*` rules judge.
pub(crate) const STATEMENT_TABLES: [&str; 4] = sql::STATEMENT_TABLES;

pub(crate) fn definition(id: &str) -> Option<&'static RuleDef> {
    registry().find(|d| d.id == id)
}

/// The ids of every implemented rule.
pub fn implemented_rule_ids() -> impl Iterator<Item = &'static str> {
    registry().map(|d| d.id)
}

/// Evidence that crossed `threshold`.
pub(crate) fn crossed(metric: &str, observed: Value, threshold: Threshold) -> Evidence {
    Evidence {
        metric: metric.to_owned(),
        observed,
        threshold: Some(threshold),
    }
}

/// Evidence given for context only.
pub(crate) fn context(metric: &str, observed: Value) -> Evidence {
    Evidence {
        metric: metric.to_owned(),
        observed,
        threshold: None,
    }
}

pub(crate) fn finding(
    spec: &RuleSpec,
    severity: Severity,
    subject: Option<String>,
    evidence: Vec<Evidence>,
) -> Finding {
    Finding {
        rule_id: spec.id.clone(),
        dimension: spec.dimension,
        severity,
        subject,
        evidence,
        penalty: score::penalty(severity),
        // Set once all findings and the database time are known (crate::impact).
        impact: None,
        tier: perfdiag_model::Tier::LOW,
    }
}

/// A host-wide graded rule on one number: a finding when it crosses a threshold.
pub(crate) fn graded(
    spec: &RuleSpec,
    metric: &str,
    value: Need<f64>,
    extra: impl FnOnce() -> Vec<Evidence>,
) -> Outcome {
    Ok(graded_for(spec, None, metric, value?, extra))
}

/// The finding (if any) of one number graded against the rule's thresholds, about
/// `subject` (a target, a device), with `extra` context evidence after the crossed one.
pub(crate) fn graded_for(
    spec: &RuleSpec,
    subject: Option<String>,
    metric: &str,
    value: f64,
    extra: impl FnOnce() -> Vec<Evidence>,
) -> Vec<Finding> {
    spec.grade(value)
        .map(|(severity, threshold)| {
            let mut evidence = vec![crossed(metric, Value::number(value, spec.unit), threshold)];
            evidence.extend(extra());
            finding(spec, severity, subject, evidence)
        })
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use perfdiag_model::Severity;

    use crate::test_support::{Fixture, GIB};

    #[test]
    fn healthy_host_is_fully_evaluated_and_silent() {
        let a = Fixture::healthy().assess();
        assert_eq!(a.findings, Vec::new());
        assert_eq!(a.not_evaluated, Vec::new());
        assert_eq!(a.overall, Some(100));
        assert_eq!(a.baseline, "builtin");
    }

    #[test]
    fn empty_snapshot_evaluates_nothing_and_scores_nothing() {
        let mut f = Fixture::healthy();
        f.cpu.clear();
        f.system.clear();
        f.disks.clear();
        f.nets.clear();
        f.host = None;
        f.os = None;
        f.network = None;
        let a = f.assess();
        assert!(a.findings.is_empty());
        let ids: Vec<&str> = a.not_evaluated.iter().map(|n| n.rule_id.as_str()).collect();
        // A snapshot without databases (nor statement tables) is judged by the host
        // rules only.
        let host: Vec<&str> = super::implemented_rule_ids()
            .filter(|id| {
                ["pg.", "mysql.", "mssql.", "sql."]
                    .iter()
                    .all(|p| !id.starts_with(p))
            })
            .collect();
        assert_eq!(ids, host);
        assert!(a.scores.iter().all(|s| s.score.is_none()));
        assert_eq!(a.overall, None);
        assert!(a.metrics.is_empty());
    }

    #[test]
    fn findings_are_sorted_by_severity_then_penalty() {
        let mut f = Fixture::healthy();
        f.set_sysctl("vm.swappiness", "60"); // warning
        for s in &mut f.system {
            s.mem_available = (GIB / 4) as i64; // 1.6 %: critical
        }
        let a = f.assess();
        let got: Vec<(&str, Severity)> = a
            .findings
            .iter()
            .map(|f| (f.rule_id.as_str(), f.severity))
            .collect();
        assert_eq!(
            got,
            vec![
                ("host.memory.pressure", Severity::Critical),
                ("os.vm.swappiness", Severity::Warning),
            ]
        );
        let memory = a
            .scores
            .iter()
            .find(|s| s.dimension == perfdiag_model::Dimension::Memory);
        // Critical (25) × (0.5 + 98.4 % saturated) = 37 points.
        assert_eq!(memory.and_then(|s| s.score), Some(63));
        assert_eq!(a.overall, Some(91)); // (100 + 63 + 100 + 100 + 90) / 5 = 90.6
        assert_eq!(a.findings[0].tier, perfdiag_model::Tier::URGENT);
        assert_eq!(a.findings[1].tier, perfdiag_model::Tier::MEDIUM);
        let primary = a.primary.as_ref().expect("a primary bottleneck");
        assert_eq!(primary.dimension, perfdiag_model::Dimension::Memory);
        assert_eq!(primary.basis, Some(perfdiag_model::ImpactBasis::Saturation));
    }

    #[test]
    fn summary_metrics_are_filled_from_the_samples() {
        let a = Fixture::healthy().assess();
        let number = |id: &str| match a.metric(id) {
            Some(perfdiag_model::Value::Number { value, .. }) => *value,
            other => panic!("metric {id}: {other:?}"),
        };
        // busy = 100 - idle(60..64) - iowait 1 - steal 0: 35..39, mean 37.
        assert!((number("host_cpu.busy_pct.mean") - 37.0).abs() < 1e-9);
        assert!((number("host_system.mem_available_pct.min") - 50.0).abs() < 1e-9);
        assert!((number("host_disk.await_ms.worst") - 6.0).abs() < 1e-9);
        assert!((number("host_system.tcp_retrans_pct") - 0.1).abs() < 1e-9);
        assert_eq!(
            number("host_net.errors_per_s.worst"),
            0.0,
            "zero is a value, not unknown"
        );
        assert_eq!(a.metrics.len(), 10);
    }
}
