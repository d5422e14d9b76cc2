//! Plan step for `pg.config.deviates`: each setting the finding lists is set to its
//! expected value with `ALTER SYSTEM`, then the configuration is reloaded (or, for the
//! settings read only at start, PostgreSQL is restarted). The rollback puts back the
//! values the snapshot recorded, like every PostgreSQL step ([`postgres::restore`]:
//! `ALTER SYSTEM RESET` for built-in defaults and for values of perfdiag's own
//! session), and a script for several servers runs each section only on its own
//! ([`postgres::psql_sections`]).
//!
//! The expected values come from the finding's evidence, `pg.expected.<name>` (the
//! analyzers computed them from the host's hardware, the workload and the measured
//! rates; docs/tuning.md).

use perfdiag_model::{Finding, Phase, Risk, Unit, Value};

use super::postgres::{self, Parts};
use super::{Context, Draft, StepDef, evidence_lines, sql, verify};

/// Settings PostgreSQL reads only at server start (`pg_settings.context` =
/// `postmaster`) among those the rule judges.
const RESTART: [&str; 4] = [
    "shared_buffers",
    "huge_pages",
    "max_worker_processes",
    "wal_buffers",
];

pub(super) const APPLY_EXPECTED: StepDef = StepDef {
    id: "pg.config.apply_expected",
    rule_id: "pg.config.deviates",
    phase: Phase::Configuration,
    build,
};

/// The PostgreSQL expected-settings steps, one per rule.
pub(super) const STEPS: &[StepDef] = &[APPLY_EXPECTED];

/// `(setting, expected value)` of every `<prefix>.expected.<name>` evidence of `f`.
pub(crate) fn expected_settings(f: &Finding, prefix: &str) -> Vec<(String, Value)> {
    let head = format!("{prefix}.expected.");
    f.evidence
        .iter()
        .filter_map(|e| {
            let name = e.metric.strip_prefix(&head)?;
            (!name.contains('.')).then(|| (name.to_owned(), e.observed.clone()))
        })
        .collect()
}

/// A plain number: integers without a decimal point, others to three decimals.
pub(crate) fn plain(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// An expected value written the way `ALTER SYSTEM SET` takes it.
fn literal(value: &Value) -> String {
    match value {
        Value::Number {
            value,
            unit: Unit::Bytes,
        } => postgres::size(*value),
        Value::Number {
            value,
            unit: Unit::Milliseconds,
        } => format!("{}ms", value.round() as i64),
        Value::Number { value, .. } => plain(*value),
        Value::Text { text } => text.clone(),
    }
}

fn build(ctx: &Context, findings: &[&Finding]) -> Draft {
    let mut parts = Parts::default();
    let mut restart = false;
    let mut checks = Vec::new();
    for f in findings {
        let target = f.subject.as_deref().unwrap_or("<the PostgreSQL server>");
        let facts = ctx.postgres.iter().find(|p| p.target == target);
        let settings = expected_settings(f, "pg");
        if settings.is_empty() {
            continue;
        }
        let names: Vec<&str> = settings.iter().map(|(n, _)| n.as_str()).collect();
        let needs_restart: Vec<&str> = names
            .iter()
            .copied()
            .filter(|n| RESTART.contains(n))
            .collect();
        restart |= !needs_restart.is_empty();
        let (mut script, mut rollback) = (String::new(), String::new());
        for (name, value) in &settings {
            let v = literal(value);
            script.push_str(&format!(
                "ALTER SYSTEM SET {name} = '{}';\n",
                v.replace('\'', "''")
            ));
            rollback.push_str(&postgres::restore(facts, name));
            rollback.push('\n');
            checks.push(format!("{name} = {v}"));
        }
        script.push_str("SELECT pg_reload_conf();\n");
        rollback.push_str("SELECT pg_reload_conf();\n");
        if !needs_restart.is_empty() {
            let note = format!(
                "-- {} take(s) effect only after a restart of PostgreSQL (e.g. systemctl restart postgresql).\n",
                needs_restart.join(", ")
            );
            script.push_str(&note);
            rollback.push_str(&note);
        }
        script.push_str(&format!(
            "-- Check: every row shows the new value, pending_restart false after any restart.\n\
             SELECT name, setting, unit, pending_restart FROM pg_settings\n\
             WHERE name IN ({});\n",
            names
                .iter()
                .map(|n| format!("'{n}'"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        parts.add(target, script, rollback);
    }
    let (mut script, mut rollback) = parts.join(&format!(
        "-- Measured and expected (formulas: docs/tuning.md):\n{}",
        evidence_lines(findings).replace("# ", "-- ")
    ));
    if checks.is_empty() {
        script.push_str(
            "-- The finding names no expected value: set each listed setting to the value its\n\
             -- formula gives (docs/tuning.md) with ALTER SYSTEM SET, then SELECT pg_reload_conf();\n",
        );
        rollback.push_str(
            "-- ALTER SYSTEM RESET <setting>; for each setting changed, then SELECT pg_reload_conf();\n",
        );
    }
    let memory = checks.iter().any(|c| {
        [
            "shared_buffers",
            "work_mem",
            "maintenance_work_mem",
            "huge_pages",
        ]
        .iter()
        .any(|m| c.starts_with(&format!("{m} =")))
    });
    Draft {
        script: sql(script),
        rollback: sql(rollback),
        risk: if restart || memory {
            Risk::Medium
        } else {
            Risk::Low
        },
        needs_restart: restart,
        verify: verify(
            "pg.settings",
            &if checks.is_empty() {
                "= the expected values of the finding".to_owned()
            } else {
                checks.join("; ")
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use perfdiag_model::facts::PostgresFacts;
    use perfdiag_model::facts::postgres::PgSetting;
    use perfdiag_model::{Evidence, Severity};

    use super::*;
    use crate::test_support::finding;

    const T: &str = "postgres://app@localhost/erp";

    fn ev(metric: &str, observed: Value) -> Evidence {
        Evidence {
            metric: metric.to_owned(),
            observed,
            threshold: None,
        }
    }

    fn ctx() -> Context {
        let s =
            |name: &str, raw: &str, n: Option<f64>, unit: Option<&str>, source: &str| PgSetting {
                name: name.to_owned(),
                setting: raw.to_owned(),
                normalised: n,
                normalised_unit: unit.map(str::to_owned),
                source: source.to_owned(),
                ..PgSetting::default()
            };
        Context {
            postgres: vec![PostgresFacts {
                target: T.to_owned(),
                settings: vec![
                    s(
                        "work_mem",
                        "1048576",
                        Some(1_073_741_824.0),
                        Some("bytes"),
                        "configuration file",
                    ),
                    s("random_page_cost", "4", None, None, "default"),
                    s("huge_pages", "off", None, None, "configuration file"),
                    s(
                        "idle_in_transaction_session_timeout",
                        "60000",
                        Some(60_000.0),
                        Some("ms"),
                        "client",
                    ),
                ],
                ..PostgresFacts::default()
            }],
            ..Context::default()
        }
    }

    #[test]
    fn sets_each_expected_value_and_rolls_back_to_the_recorded_one() {
        let f = finding(
            "pg.config.deviates",
            Severity::Critical,
            Some(T),
            vec![
                ev(
                    "pg.settings.work_mem",
                    Value::number(1_073_741_824.0, Unit::Bytes),
                ),
                ev(
                    "pg.expected.work_mem",
                    Value::number(18.0 * 1_048_576.0, Unit::Bytes),
                ),
                ev(
                    "pg.expected.work_mem.formula",
                    Value::text("pgtune.work_mem"),
                ),
                ev(
                    "pg.expected.random_page_cost",
                    Value::number(1.1, Unit::None),
                ),
                ev("pg.expected.huge_pages", Value::text("try")),
            ],
        );
        let d = build(&ctx(), &[&f]);
        let body = &d.script.body;
        assert!(
            body.contains("ALTER SYSTEM SET work_mem = '18MB';"),
            "{body}"
        );
        assert!(
            body.contains("ALTER SYSTEM SET random_page_cost = '1.1';"),
            "{body}"
        );
        assert!(
            body.contains("ALTER SYSTEM SET huge_pages = 'try';"),
            "{body}"
        );
        assert!(body.contains("SELECT pg_reload_conf();"));
        assert!(
            body.contains("huge_pages take(s) effect only after a restart"),
            "{body}"
        );
        assert!(
            !body.contains("SET work_mem.formula"),
            "the formula is not a setting"
        );
        let rb = &d.rollback.body;
        assert!(rb.contains("ALTER SYSTEM SET work_mem = '1GB';"), "{rb}");
        assert!(rb.contains("ALTER SYSTEM RESET random_page_cost;"), "{rb}");
        assert!(rb.contains("ALTER SYSTEM SET huge_pages = 'off';"), "{rb}");
        assert!(d.needs_restart);
        assert_eq!(d.risk, Risk::Medium);
        assert_eq!(d.verify.metric, "pg.settings");
        assert_eq!(
            d.verify.target,
            "work_mem = 18MB; random_page_cost = 1.1; huge_pages = try"
        );
    }

    #[test]
    fn reload_only_changes_need_no_restart() {
        let f = finding(
            "pg.config.deviates",
            Severity::Warning,
            Some(T),
            vec![ev(
                "pg.expected.max_wal_size",
                Value::number(12.0 * 1_073_741_824.0, Unit::Bytes),
            )],
        );
        let d = build(&ctx(), &[&f]);
        assert!(
            d.script
                .body
                .contains("ALTER SYSTEM SET max_wal_size = '12GB';")
        );
        assert!(
            d.rollback
                .body
                .contains("ALTER SYSTEM SET max_wal_size = '<value before the change>';")
        );
        assert!(!d.needs_restart);
        assert_eq!(d.risk, Risk::Low);
        assert_eq!(plain(0.25), "0.25");
    }

    #[test]
    fn a_value_of_perfdiags_own_session_rolls_back_with_reset_and_servers_are_guarded() {
        // perfdiag's connection sets idle_in_transaction_session_timeout for itself:
        // pg_settings shows that value with source "client" (see ctx), not the server's.
        let f = |target: &str| {
            finding(
                "pg.config.deviates",
                Severity::Warning,
                Some(target),
                vec![ev(
                    "pg.expected.idle_in_transaction_session_timeout",
                    Value::number(300_000.0, Unit::Milliseconds),
                )],
            )
        };
        let d = build(&ctx(), &[&f(T)]);
        assert!(
            d.script
                .body
                .contains("ALTER SYSTEM SET idle_in_transaction_session_timeout = '300000ms';"),
            "{}",
            d.script.body
        );
        let reset = "ALTER SYSTEM RESET idle_in_transaction_session_timeout;";
        assert!(d.rollback.body.contains(reset), "{}", d.rollback.body);
        // Two servers: each section runs only where TARGET names it.
        let other = f("postgres://app@db2/erp");
        let d = build(&ctx(), &[&f(T), &other]);
        assert!(
            d.script.body.contains("\\if :{?TARGET}"),
            "{}",
            d.script.body
        );
        assert!(d.rollback.body.contains("\\if :perfdiag_on_target"));
    }
}
