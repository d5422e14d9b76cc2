//! Test fixtures for advice: findings as the analyzers produce them, and a snapshot
//! with the OS facts the rollbacks are personalised from.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use perfdiag_model::facts::{OsFacts, ProcessLimits, ThpFacts, TimeSync};
use perfdiag_model::{
    Assessment, CollectionWindow, Comparison, Dimension, Evidence, Finding, HostIdentity, Severity,
    Snapshot, Threshold, Unit, Value, facts_names,
};

pub fn finding(
    rule: &str,
    severity: Severity,
    subject: Option<&str>,
    evidence: Vec<Evidence>,
) -> Finding {
    Finding {
        rule_id: rule.to_owned(),
        dimension: if rule.starts_with("os.") {
            Dimension::OsConfig
        } else {
            Dimension::Cpu
        },
        severity,
        subject: subject.map(str::to_owned),
        evidence,
        impact: None,
        tier: perfdiag_model::Tier::MEDIUM,
        penalty: match severity {
            Severity::Info => 0,
            Severity::Warning => 10,
            Severity::Critical => 25,
        },
    }
}

/// Evidence with a plain number; `threshold` is written as shown, e.g. `"> 50"`.
pub fn number(metric: &str, value: f64, threshold: Option<&str>) -> Evidence {
    let threshold = threshold.map(|t| {
        let (op, limit) = t.split_once(' ').expect("threshold like \"> 50\"");
        let op = match op {
            ">" => Comparison::Above,
            "<" => Comparison::Below,
            _ => Comparison::Equals,
        };
        Threshold::new(
            op,
            Value::number(limit.parse().expect("number"), Unit::None),
        )
    });
    Evidence {
        metric: metric.to_owned(),
        observed: Value::number(value, Unit::None),
        threshold,
    }
}

pub fn assessment(findings: Vec<Finding>) -> Assessment {
    Assessment {
        generated_at: Utc::now(),
        tool_version: "test".to_owned(),
        baseline: "builtin".to_owned(),
        findings,
        not_evaluated: Vec::new(),
        scores: Vec::new(),
        overall: None,
        metrics: Vec::new(),
        db_time: Vec::new(),
        primary: None,
        correlations: Vec::new(),
        workload: None,
        low_confidence: Vec::new(),
    }
}

/// OS facts with values a default distribution install has (the "before" values).
pub fn os_facts() -> OsFacts {
    OsFacts {
        sysctls: [
            ("vm.swappiness", "60"),
            ("vm.dirty_ratio", "20"),
            ("vm.dirty_background_ratio", "10"),
            ("vm.dirty_bytes", "0"),
            ("vm.dirty_background_bytes", "0"),
            ("vm.zone_reclaim_mode", "1"),
            ("net.core.somaxconn", "128"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
        transparent_hugepages: Some(ThpFacts {
            enabled: "always".to_owned(),
            defrag: Some("madvise".to_owned()),
        }),
        cpu_governors: BTreeMap::from([("ondemand".to_owned(), 8)]),
        numa_nodes: Vec::new(),
        db_processes: vec![ProcessLimits {
            pid: 812,
            name: "postgres".to_owned(),
            nofile_soft: Some(1024),
            ..ProcessLimits::default()
        }],
        time_sync: TimeSync {
            synchronized: Some(false),
            daemon: None,
            max_error_us: None,
        },
    }
}

pub fn snapshot(os: Option<&OsFacts>) -> Snapshot {
    let start = Utc
        .with_ymd_and_hms(2026, 11, 2, 9, 0, 0)
        .single()
        .expect("valid date");
    let mut s = Snapshot::new(
        HostIdentity {
            hostname: "db1".to_owned(),
            os: "Debian GNU/Linux 12".to_owned(),
            kernel: None,
            arch: "x86_64".to_owned(),
            machine_id: None,
        },
        CollectionWindow {
            started_at: start,
            ended_at: start + chrono::Duration::seconds(60),
            interval_ms: 1000,
            requested_duration_ms: 60_000,
            ended_early: false,
        },
    );
    if let Some(os) = os {
        s.set_fact(facts_names::OS, os);
    }
    s
}

/// One finding for every rule advice knows, as the analyzers would report it.
pub fn every_finding() -> Vec<Finding> {
    crate::steps_catalog()
        .iter()
        .map(|def| {
            let (severity, subject, evidence) = match def.rule_id {
                "os.limits.nofile" => (
                    Severity::Critical,
                    Some("postgres"),
                    vec![
                        number("process.nofile_soft", 1024.0, Some("< 4096")),
                        number("process.pid", 812.0, None),
                    ],
                ),
                "host.disk.await" => (
                    Severity::Critical,
                    Some("sda"),
                    vec![number("host_disk.await_ms.mean", 70.0, Some("> 50"))],
                ),
                _ => (Severity::Warning, None, vec![number("x", 1.0, Some("> 0"))]),
            };
            finding(def.rule_id, severity, subject, evidence)
        })
        .collect()
}
