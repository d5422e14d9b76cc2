//! Server configuration rules: buffer pool size against data and RAM, slow query log,
//! performance_schema.

use perfdiag_model::facts::MysqlFacts;
use perfdiag_model::{Comparison, Threshold, Unit, Value};

use super::super::{RuleDef, context, crossed, finding};
use super::per_target;
use crate::baseline::Direction;
use crate::frames::Missing;

/// Share of host RAM a dedicated database server gives its buffer pool.
pub(crate) const DEDICATED_RAM_SHARE: f64 = 0.75;
/// Headroom over the InnoDB data size, for growth and the change buffer.
pub(crate) const DATA_HEADROOM: f64 = 1.1;

/// What the buffer pool should hold: all InnoDB data with headroom, but no more than
/// the RAM share of a dedicated server (when the host's RAM is known).
pub(crate) fn wanted_buffer_pool(innodb_bytes: u64, ram_bytes: Option<u64>) -> f64 {
    let data = innodb_bytes as f64 * DATA_HEADROOM;
    match ram_bytes.filter(|r| *r > 0) {
        Some(ram) => data.min(ram as f64 * DEDICATED_RAM_SHARE),
        None => data,
    }
}

/// innodb_buffer_pool_size as a % of what the data and the RAM call for: below it,
/// reads that should be memory accesses go to disk.
pub(in crate::rules) const BUFFER_POOL_SMALL: RuleDef = RuleDef {
    id: "mysql.memory.buffer_pool_small",
    direction: Direction::Below,
    variants: &[],
    eval: |inputs, spec| {
        let ram = inputs.host().ok().map(|h| h.memory.total_bytes);
        per_target(inputs, |t| {
            let pool = t.settings.innodb_buffer_pool_size_bytes.ok_or_else(|| {
                Missing("facts mysql.settings.innodb_buffer_pool_size_bytes".into())
            })?;
            let data = t
                .data
                .as_ref()
                .ok_or_else(|| Missing("facts mysql.data (table sizes)".into()))?;
            let wanted = wanted_buffer_pool(data.innodb_bytes, ram);
            // No InnoDB data: nothing for the pool to hold.
            if wanted < (1u64 << 20) as f64 {
                return Ok(Vec::new());
            }
            let pct = pool as f64 * 100.0 / wanted;
            let Some((severity, threshold)) = spec.grade(pct) else {
                return Ok(Vec::new());
            };
            let mut evidence = vec![
                crossed(
                    "mysql.buffer_pool_pct_of_wanted",
                    Value::number(pct, Unit::Percent),
                    threshold,
                ),
                context(
                    "mysql.innodb_buffer_pool_size",
                    Value::number(pool as f64, Unit::Bytes),
                ),
                context(
                    "mysql.wanted_buffer_pool_bytes",
                    Value::number(wanted.round(), Unit::Bytes),
                ),
                context(
                    "mysql.innodb_data_bytes",
                    Value::number(data.innodb_bytes as f64, Unit::Bytes),
                ),
            ];
            if let Some(ram) = ram {
                evidence.push(context(
                    "host.memory.total_bytes",
                    Value::number(ram as f64, Unit::Bytes),
                ));
            }
            Ok(vec![finding(
                spec,
                severity,
                Some(t.target.clone()),
                evidence,
            )])
        })
    },
};

/// The slow query log is off, or its threshold lets nothing through: slow statements
/// leave no trace to analyse after the fact.
pub(in crate::rules) const SLOW_LOG_OFF: RuleDef = RuleDef {
    id: "mysql.logging.slow_log_off",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let on = t
                .settings
                .slow_query_log
                .ok_or_else(|| Missing("facts mysql.settings.slow_query_log".into()))?;
            let long = t.settings.long_query_time_secs;
            let evidence = if !on {
                vec![crossed(
                    "mysql.slow_query_log",
                    Value::text("OFF"),
                    Threshold::new(Comparison::Equals, Value::text("OFF")),
                )]
            } else if let Some(secs) = long.filter(|s| *s >= SLOW_LOG_USELESS_SECS) {
                vec![
                    context("mysql.slow_query_log", Value::text("ON")),
                    crossed(
                        "mysql.long_query_time_ms",
                        Value::number(secs * 1000.0, Unit::Milliseconds),
                        Threshold::new(
                            Comparison::Above,
                            Value::number(SLOW_LOG_USELESS_SECS * 1000.0 - 1.0, Unit::Milliseconds),
                        ),
                    ),
                ]
            } else {
                return Ok(Vec::new());
            };
            Ok(vec![finding(
                spec,
                spec.condition_severity(),
                Some(t.target.clone()),
                evidence,
            )])
        })
    },
};

/// The server default (10 s): an OLTP statement that slow is an incident already.
const SLOW_LOG_USELESS_SECS: f64 = 10.0;

/// performance_schema is off: no statement digests, no wait or lock instrumentation.
pub(in crate::rules) const PERF_SCHEMA_OFF: RuleDef = RuleDef {
    id: "mysql.perf_schema.off",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t: &MysqlFacts| {
            let on = t
                .settings
                .performance_schema
                .ok_or_else(|| Missing("facts mysql.settings.performance_schema".into()))?;
            if on {
                return Ok(Vec::new());
            }
            Ok(vec![finding(
                spec,
                spec.condition_severity(),
                Some(t.target.clone()),
                vec![crossed(
                    "mysql.performance_schema",
                    Value::text("OFF"),
                    Threshold::new(Comparison::Equals, Value::text("OFF")),
                )],
            )])
        })
    },
};

#[cfg(test)]
mod tests {
    use perfdiag_model::Severity;

    use super::super::fixtures::{MyFixture, TARGET};
    use crate::test_support::{GIB, evidence_number, findings_of, only_finding};

    #[test]
    fn buffer_pool_small_against_data_and_ram() {
        assert!(
            findings_of(
                &MyFixture::healthy().assess(),
                "mysql.memory.buffer_pool_small"
            )
            .is_empty()
        );
        let mut f = MyFixture::healthy();
        f.facts[0].settings.innodb_buffer_pool_size_bytes = Some(128 << 20);
        let a = f.assess();
        let found = only_finding(&a, "mysql.memory.buffer_pool_small");
        assert_eq!(found.severity, Severity::Critical);
        assert_eq!(found.subject.as_deref(), Some(TARGET));
        // 4 GiB of data * 1.1 < 75 % of 16 GiB: the data decides.
        let wanted = evidence_number(found, "mysql.wanted_buffer_pool_bytes");
        assert!((wanted - 4.4 * GIB as f64).abs() < 1.0, "{wanted}");
        // Huge data: the RAM caps what is wanted.
        let mut f = MyFixture::healthy();
        if let Some(d) = f.facts[0].data.as_mut() {
            d.innodb_bytes = 100 * GIB;
        }
        f.facts[0].settings.innodb_buffer_pool_size_bytes = Some(4 * GIB);
        let a = f.assess();
        let found = only_finding(&a, "mysql.memory.buffer_pool_small");
        assert_eq!(
            evidence_number(found, "mysql.wanted_buffer_pool_bytes"),
            12.0 * GIB as f64
        );
        let mut f = MyFixture::healthy();
        f.facts[0].data = None;
        f.assert_not_evaluated("mysql.memory.buffer_pool_small", "facts mysql.data");
    }

    #[test]
    fn slow_log_and_performance_schema() {
        let a = MyFixture::healthy().assess();
        assert!(findings_of(&a, "mysql.logging.slow_log_off").is_empty());
        assert!(findings_of(&a, "mysql.perf_schema.off").is_empty());
        let mut f = MyFixture::healthy();
        f.facts[0].settings.slow_query_log = Some(false);
        f.facts[0].settings.performance_schema = Some(false);
        let a = f.assess();
        only_finding(&a, "mysql.logging.slow_log_off");
        only_finding(&a, "mysql.perf_schema.off");
        let mut f = MyFixture::healthy();
        f.facts[0].settings.long_query_time_secs = Some(10.0);
        only_finding(&f.assess(), "mysql.logging.slow_log_off");
        let mut f = MyFixture::healthy();
        f.facts[0].settings.slow_query_log = None;
        f.facts[0].settings.performance_schema = None;
        f.assert_not_evaluated("mysql.logging.slow_log_off", "slow_query_log");
        f.assert_not_evaluated("mysql.perf_schema.off", "performance_schema");
    }
}
