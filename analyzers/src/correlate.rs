//! Findings on different layers that tell one story, so the report names the cause
//! once instead of listing each symptom: I/O waits with device latency, the cache
//! sizes and dirty-page settings behind them; memory pressure with THP, swappiness,
//! NUMA and buffer sizes; CPU with the queries that burn it; lock waits with the
//! sessions that hold locks.
//!
//! A chain holds when at least one of its symptoms and one of its causes fired (two
//! different rules). Rule ids end in `*` to match a prefix.

use perfdiag_model::{Correlation, Dimension, Finding, FindingRef, Severity};

struct Chain {
    id: &'static str,
    dimension: Dimension,
    symptoms: &'static [&'static str],
    causes: &'static [&'static str],
}

const CHAINS: &[Chain] = &[
    Chain {
        id: "io",
        dimension: Dimension::StorageIo,
        symptoms: &[
            "host.cpu.iowait",
            "host.disk.await",
            "host.disk.utilisation",
            "pg.cache.hit_ratio_low",
            "mysql.buffer_pool.hit_ratio_low",
        ],
        causes: &[
            "os.vm.dirty",
            "pg.memory.shared_buffers_low",
            "pg.checkpoints.too_frequent",
            "pg.temp.spills",
            "pg.tables.seq_scan_heavy",
            "mysql.memory.buffer_pool_small",
            "mysql.tmp.disk_tables",
            "mysql.statements.no_index",
            "pg.config.*",
            "mysql.config.*",
        ],
    },
    Chain {
        id: "memory",
        dimension: Dimension::Memory,
        symptoms: &["host.memory.pressure", "host.memory.swapping"],
        causes: &[
            "os.thp.enabled",
            "os.vm.swappiness",
            "os.numa.zone_reclaim",
            "pg.memory.*",
            "mysql.memory.*",
        ],
    },
    Chain {
        id: "cpu",
        dimension: Dimension::Cpu,
        symptoms: &["host.cpu.saturation"],
        causes: &[
            "sql.*",
            "pg.tables.seq_scan_heavy",
            "mysql.statements.no_index",
            "os.cpu.governor",
        ],
    },
    Chain {
        id: "locking",
        dimension: Dimension::SessionsLocking,
        symptoms: &["pg.locks.blocking_chains", "mysql.locks.blocked_sessions"],
        causes: &[
            "pg.sessions.idle_in_transaction",
            "mysql.sessions.idle_in_trx",
            "sql.update_without_where",
        ],
    },
];

fn matches(pattern: &str, rule_id: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => rule_id.starts_with(prefix),
        None => pattern == rule_id,
    }
}

/// The chains that hold among `findings` (info findings take no part).
pub fn correlate(findings: &[Finding]) -> Vec<Correlation> {
    let refs = |patterns: &[&str]| -> Vec<&Finding> {
        findings
            .iter()
            .filter(|f| f.severity > Severity::Info)
            .filter(|f| patterns.iter().any(|p| matches(p, &f.rule_id)))
            .collect()
    };
    CHAINS
        .iter()
        .filter_map(|chain| {
            let symptoms = refs(chain.symptoms);
            let causes: Vec<&Finding> = refs(chain.causes)
                .into_iter()
                .filter(|c| symptoms.iter().all(|s| s.rule_id != c.rule_id))
                .collect();
            if symptoms.is_empty() || causes.is_empty() {
                return None;
            }
            Some(Correlation {
                id: chain.id.to_owned(),
                dimension: chain.dimension,
                findings: symptoms
                    .into_iter()
                    .chain(causes)
                    .map(|f| FindingRef {
                        rule_id: f.rule_id.clone(),
                        subject: f.subject.clone(),
                    })
                    .collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use perfdiag_model::Tier;

    fn f(rule: &str, severity: Severity) -> Finding {
        Finding {
            rule_id: rule.to_owned(),
            dimension: Dimension::Memory,
            severity,
            subject: None,
            evidence: Vec::new(),
            penalty: 10,
            impact: None,
            tier: Tier::MEDIUM,
        }
    }

    fn ids(c: &Correlation) -> Vec<&str> {
        c.findings.iter().map(|f| f.rule_id.as_str()).collect()
    }

    #[test]
    fn memory_pressure_is_tied_to_thp_and_the_buffer_settings() {
        let found = correlate(&[
            f("os.thp.enabled", Severity::Warning),
            f("host.memory.pressure", Severity::Critical),
            f("mysql.memory.peak_over_ram", Severity::Critical),
            f("os.vm.dirty", Severity::Warning),
        ]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].id, "memory");
        assert_eq!(
            ids(&found[0]),
            [
                "host.memory.pressure",
                "os.thp.enabled",
                "mysql.memory.peak_over_ram"
            ]
        );
    }

    #[test]
    fn a_cause_without_its_symptom_or_an_info_symptom_is_no_story() {
        assert!(correlate(&[f("os.thp.enabled", Severity::Warning)]).is_empty());
        assert!(
            correlate(&[
                f("host.disk.await", Severity::Info),
                f("os.vm.dirty", Severity::Warning),
            ])
            .is_empty()
        );
        let io = correlate(&[
            f("host.disk.await", Severity::Warning),
            f("os.vm.dirty", Severity::Warning),
        ]);
        assert_eq!(io.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["io"]);
    }
}
