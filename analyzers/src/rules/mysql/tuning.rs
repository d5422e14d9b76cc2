//! Expected-settings rules for MySQL and MariaDB: settings far from what the host, the
//! workload and the measured rates call for, and a peak memory beyond the RAM
//! (formulas in [`expected::mysql`], docs/tuning.md).

use perfdiag_model::{Unit, Value};

use super::super::{RuleDef, context, finding, graded_for};
use super::config::machine;
use super::per_target;
use crate::baseline::Direction;
use crate::expected;
use crate::frames::Missing;

/// One finding per target listing each setting whose distance from its expected value
/// (a factor, [`expected::Expected::deviation`]) crosses the rule's thresholds: redo
/// capacity against the measured redo rate, table cache against measured misses,
/// max_heap_table_size against tmp_table_size, and on this host's storage and OS,
/// innodb_flush_neighbors and innodb_flush_method. The severity is the worst
/// setting's; minor settings count as warnings at most.
pub(in crate::rules) const DEVIATES: RuleDef = RuleDef {
    id: "mysql.config.deviates",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            if t.variables.is_empty() {
                return Err(Missing("facts mysql.variables".into()));
            }
            let m = machine(inputs, t);
            let items = expected::mysql::settings(m.as_ref(), t);
            let shared = m
                .as_ref()
                .map(expected::Machine::inputs)
                .unwrap_or_default();
            Ok(expected::judge(spec, "mysql", &items, shared)
                .map(|(severity, evidence)| {
                    finding(spec, severity, Some(t.target.clone()), evidence)
                })
                .into_iter()
                .collect())
        })
    },
};

/// The most memory the server may take — global buffers plus per-thread buffers times
/// max_connections, MySQLTuner's "maximum possible memory usage"
/// ([`expected::mysql::peak_memory`]) — as a % of the RAM for the database (all of it
/// on a dedicated host). Past 100 % a burst of connections can push the host into
/// swapping or the OOM killer. Judged only for targets on this host.
pub(in crate::rules) const PEAK_OVER_RAM: RuleDef = RuleDef {
    id: "mysql.memory.peak_over_ram",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let peak = expected::mysql::peak_memory(t).ok_or_else(|| {
                Missing("facts mysql.variables (buffer sizes and max_connections)".into())
            })?;
            let m = machine(inputs, t).ok_or_else(|| {
                Missing(format!(
                    "the database server's RAM (facts host, and target {} on this host)",
                    expected::url_host(&t.target)
                ))
            })?;
            let ram = m.db_ram();
            Ok(graded_for(
                spec,
                Some(t.target.clone()),
                "mysql.memory.peak_pct_ram",
                peak.peak() * 100.0 / ram,
                || {
                    let bytes = |v: f64| Value::number(v, Unit::Bytes);
                    let mut evidence = vec![
                        context("mysql.memory.peak_bytes", bytes(peak.peak())),
                        context("mysql.memory.global_buffers_bytes", bytes(peak.global)),
                        context(
                            "mysql.memory.per_thread_buffers_bytes",
                            bytes(peak.per_thread),
                        ),
                        context(
                            "mysql.settings.max_connections",
                            Value::number(peak.max_connections, Unit::None),
                        ),
                    ];
                    if let (Some(used), Some(c)) = (peak.used_peak(), peak.max_used_connections) {
                        evidence.push(context(
                            "mysql.max_used_connections",
                            Value::number(c, Unit::None),
                        ));
                        evidence.push(context("mysql.memory.used_peak_bytes", bytes(used)));
                    }
                    for name in expected::mysql::PER_THREAD_BUFFERS {
                        if let Some(v) = expected::mysql::var(t, name) {
                            evidence.push(context(&format!("mysql.settings.{name}"), bytes(v)));
                        }
                    }
                    evidence.extend(m.inputs());
                    evidence
                },
            ))
        })
    },
};

#[cfg(test)]
mod tests {
    use perfdiag_model::Severity;

    use super::super::fixtures::{MyFixture, TARGET};
    use crate::test_support::{evidence_number, evidence_threshold, findings_of, only_finding};

    #[test]
    fn deviates_lists_each_setting_far_from_expected() {
        assert!(findings_of(&MyFixture::healthy().assess(), "mysql.config.deviates").is_empty());
        let mut f = MyFixture::healthy();
        // 96 MiB of redo for 1 MiB/s: 37.5 times too small (critical); O_DIRECT off.
        let vars = &mut f.facts[0].variables;
        vars.insert("innodb_log_file_size".into(), "100663296".into());
        vars.insert("innodb_flush_method".into(), "fsync".into());
        let a = f.assess();
        let found = only_finding(&a, "mysql.config.deviates");
        assert_eq!(found.severity, Severity::Critical);
        assert_eq!(found.subject.as_deref(), Some(TARGET));
        assert_eq!(
            evidence_threshold(found, "mysql.settings.innodb_log_file_size").as_deref(),
            Some("< 3774873600 bytes")
        );
        assert_eq!(
            evidence_number(found, "mysql.redo_bytes_per_s"),
            1_048_576.0
        );
        assert_eq!(
            evidence_threshold(found, "mysql.settings.innodb_flush_method").as_deref(),
            Some("≠ O_DIRECT")
        );
        // Only the minor setting: a warning.
        let mut f = MyFixture::healthy();
        f.facts[0]
            .variables
            .insert("innodb_flush_method".into(), "fsync".into());
        assert_eq!(
            only_finding(&f.assess(), "mysql.config.deviates").severity,
            Severity::Warning
        );
        let mut f = MyFixture::healthy();
        f.facts[0].variables.clear();
        f.assert_not_evaluated("mysql.config.deviates", "facts mysql.variables");
    }

    #[test]
    fn peak_memory_over_ram() {
        assert!(
            findings_of(&MyFixture::healthy().assess(), "mysql.memory.peak_over_ram").is_empty()
        );
        let mut f = MyFixture::healthy();
        // 8.33 GiB global + 3000 * 2.9 MiB = 16.8 GiB of 16 GiB.
        f.facts[0]
            .variables
            .insert("max_connections".into(), "3000".into());
        let a = f.assess();
        let found = only_finding(&a, "mysql.memory.peak_over_ram");
        assert_eq!(found.severity, Severity::Critical);
        assert!(evidence_number(found, "mysql.memory.peak_pct_ram") > 100.0);
        assert_eq!(
            evidence_number(found, "mysql.settings.max_connections"),
            3000.0
        );
        // A shared host judges against half the RAM: the healthy settings are already
        // over it (9.9 GiB of 8 GiB).
        let shared = MyFixture::healthy().assess_with(crate::Options {
            workload: None,
            dedicated: false,
        });
        assert_eq!(
            only_finding(&shared, "mysql.memory.peak_over_ram").severity,
            Severity::Critical
        );
        let mut f = MyFixture::healthy();
        f.facts[0].target = "mysql://app@db-remote:3306/".into();
        f.assert_not_evaluated("mysql.memory.peak_over_ram", "on this host");
    }
}
