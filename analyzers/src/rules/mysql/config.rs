//! Server configuration rules: buffer pool size against data and RAM, slow query log,
//! performance_schema.

use perfdiag_model::facts::MysqlFacts;
use perfdiag_model::{Comparison, Threshold, Unit, Value};

use super::super::{Inputs, RuleDef, context, crossed, finding};
use super::per_target;
use crate::baseline::Direction;
use crate::expected::{self, Machine};
use crate::frames::Missing;

/// The machine a target runs on, when it is on this host (then the host's RAM is the
/// server's): for the expected-settings formulas.
pub(super) fn machine(inputs: &Inputs<'_>, t: &MysqlFacts) -> Option<Machine> {
    let host = inputs.host().ok()?;
    if !expected::is_local(&t.target, &host.hostname) {
        return None;
    }
    Machine::new(
        host,
        t.variable("datadir"),
        inputs.workload,
        inputs.dedicated,
    )
}

/// innodb_buffer_pool_size as a % of what the data and the RAM call for
/// ([`expected::mysql::buffer_pool`]: the InnoDB data + 10 %, capped by the
/// `innodb_dedicated_server` share of the RAM for the database): below it, reads that
/// should be memory accesses go to disk. A window hit ratio of 99.9 % or more accepts
/// the current size: the working set fits.
pub(in crate::rules) const BUFFER_POOL_SMALL: RuleDef = RuleDef {
    id: "mysql.memory.buffer_pool_small",
    direction: Direction::Below,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            t.settings.innodb_buffer_pool_size_bytes.ok_or_else(|| {
                Missing("facts mysql.settings.innodb_buffer_pool_size_bytes".into())
            })?;
            let data = t
                .data
                .as_ref()
                .ok_or_else(|| Missing("facts mysql.data (table sizes)".into()))?;
            let m = machine(inputs, t);
            let Some(e) = expected::mysql::buffer_pool(m.as_ref(), t) else {
                return Ok(Vec::new());
            };
            let pool = t.settings.innodb_buffer_pool_size_bytes.unwrap_or(0) as f64;
            let wanted = e.suggested_number();
            // No InnoDB data: nothing for the pool to hold.
            if wanted < (1u64 << 20) as f64 {
                return Ok(Vec::new());
            }
            let pct = pool * 100.0 / wanted;
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
                    Value::number(pool, Unit::Bytes),
                ),
                context(
                    "mysql.wanted_buffer_pool_bytes",
                    Value::number(wanted, Unit::Bytes),
                ),
                context(
                    "mysql.expected.innodb_buffer_pool_size.formula",
                    Value::text(e.formula),
                ),
                context(
                    "mysql.innodb_data_bytes",
                    Value::number(data.innodb_bytes as f64, Unit::Bytes),
                ),
            ];
            evidence.extend(
                e.evidence
                    .iter()
                    .filter(|x| x.metric != "mysql.innodb_data_bytes")
                    .cloned(),
            );
            if let Some(m) = &m {
                evidence.extend(m.inputs());
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
        // The healthy window's hit ratio (99.99 %) shows the working set fits: no ask.
        assert!(findings_of(&f.assess(), "mysql.memory.buffer_pool_small").is_empty());
        f.set_delta("Innodb_buffer_pool_reads", 6_000); // 99 %
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
        f.facts[0].settings.innodb_buffer_pool_size_bytes = Some(2 * GIB);
        f.set_delta("Innodb_buffer_pool_reads", 6_000);
        let a = f.assess();
        let found = only_finding(&a, "mysql.memory.buffer_pool_small");
        assert_eq!(
            evidence_number(found, "mysql.wanted_buffer_pool_bytes"),
            12.0 * GIB as f64
        );
        assert_eq!(found.severity, Severity::Critical);
        // A host shared with other services: three quarters of half the RAM.
        let shared = f.assess_with(crate::Options {
            workload: None,
            dedicated: false,
        });
        let found = only_finding(&shared, "mysql.memory.buffer_pool_small");
        assert_eq!(found.severity, Severity::Warning);
        assert_eq!(
            evidence_number(found, "mysql.wanted_buffer_pool_bytes"),
            6.0 * GIB as f64
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
