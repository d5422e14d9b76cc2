//! Plan steps for the MySQL/MariaDB expected-settings findings: each listed setting set
//! to its expected value, and the peak memory brought under the RAM. The variables are
//! changed the way every MySQL step changes them ([`mysql::settings_step`]): `SET
//! PERSIST` on MySQL 8; on MariaDB and MySQL 5.7 a shell script that runs `SET GLOBAL`
//! through the client and writes an option file of its own, which the rollback
//! deletes; for variables read only at startup `SET PERSIST_ONLY` or the option file
//! alone, and a restart. Rollbacks restore the variables the snapshot recorded.

use perfdiag_model::facts::MysqlFacts;
use perfdiag_model::{Finding, Phase, Risk, Value};

use super::mysql::{self, Section, settings_step};
use super::tuning_postgres::{expected_settings, plain};
use super::{Context, Draft, StepDef, number, verify};

pub(super) const APPLY_EXPECTED: StepDef = StepDef {
    id: "mysql.config.apply_expected",
    rule_id: "mysql.config.deviates",
    phase: Phase::Configuration,
    build: apply_expected,
};

pub(super) const FIT_PEAK_MEMORY: StepDef = StepDef {
    id: "mysql.memory.fit_peak_to_ram",
    rule_id: "mysql.memory.peak_over_ram",
    phase: Phase::Configuration,
    build: fit_peak,
};

/// The MySQL/MariaDB expected-settings steps, one per rule.
pub(super) const STEPS: &[StepDef] = &[APPLY_EXPECTED, FIT_PEAK_MEMORY];

/// A value as `SET` takes it: bytes and counts as integers, text quoted.
fn literal(value: &Value) -> String {
    match value {
        Value::Number { value, .. } => plain(value.round()),
        Value::Text { text } => format!("'{}'", text.replace('\'', "\\'")),
    }
}

/// `SHOW GLOBAL VARIABLES` for the variables a section sets.
fn check(set: &[(String, String)]) -> String {
    format!(
        "SHOW GLOBAL VARIABLES WHERE Variable_name IN ({});\n",
        set.iter()
            .map(|(n, _)| format!("'{n}'"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn apply_expected(ctx: &Context, findings: &[&Finding]) -> Draft {
    let mut checks = Vec::new();
    for f in findings {
        for (name, value) in expected_settings(f, "mysql") {
            checks.push(format!("{name} = {}", literal(&value).trim_matches('\'')));
        }
    }
    let scripts = settings_step(ctx, findings, "expected-settings", |_, f| {
        let set: Vec<(String, String)> = expected_settings(f, "mysql")
            .iter()
            .map(|(name, value)| (name.clone(), literal(value)))
            .collect();
        if set.is_empty() {
            return Section {
                note: "The finding names no expected value: set each listed variable to the\n\
                       value its formula gives (docs/tuning.md)."
                    .to_owned(),
                ..Section::default()
            };
        }
        Section {
            note: "Expected values: formulas in docs/tuning.md.".to_owned(),
            sql: check(&set),
            set,
        }
    });
    Draft {
        script: scripts.script,
        rollback: scripts.rollback,
        risk: if scripts.restart {
            Risk::Medium
        } else {
            Risk::Low
        },
        needs_restart: scripts.restart,
        verify: verify(
            "mysql.variables",
            &if checks.is_empty() {
                "= the expected values of the finding".to_owned()
            } else {
                checks.join("; ")
            },
        ),
    }
}

/// The server defaults of the per-thread buffers (MySQL 8.0; MariaDB's sort buffer is
/// 2 MiB): what the step returns oversized buffers to.
fn default_buffer(m: Option<&MysqlFacts>, name: &str) -> Option<f64> {
    let is_mariadb = m.is_some_and(mysql::mariadb);
    Some(match name {
        "sort_buffer_size" if is_mariadb => 2_097_152.0,
        "sort_buffer_size" | "join_buffer_size" | "read_rnd_buffer_size" => 262_144.0,
        "read_buffer_size" => 131_072.0,
        _ => return None,
    })
}

/// The share of the RAM for the database the peak memory should stay under:
/// MySQLTuner's warning level.
const PEAK_TARGET: f64 = 0.85;
/// Connections kept above the most seen since startup.
const CONNECTION_HEADROOM: f64 = 1.25;

/// One target's part of the peak-memory step: per-thread buffers above the server
/// defaults back to the defaults, then max_connections down to what fits, if that
/// still leaves headroom over the most connections seen.
fn fit_peak_section(m: Option<&MysqlFacts>, f: &Finding) -> Section {
    let mut set = Vec::new();
    let mut note = String::new();
    // 1. A report that needs a big sort buffer sets it for its own session.
    let mut per_thread = number(f, "mysql.memory.per_thread_buffers_bytes");
    for name in [
        "sort_buffer_size",
        "join_buffer_size",
        "read_buffer_size",
        "read_rnd_buffer_size",
    ] {
        let (Some(current), Some(default)) = (
            number(f, &format!("mysql.settings.{name}")),
            default_buffer(m, name),
        ) else {
            continue;
        };
        if current > default {
            per_thread = per_thread.map(|p| p - current + default);
            note.push_str(&format!(
                "{name} back to the default; raise it per session where a report needs it.\n"
            ));
            set.push((name.to_owned(), plain(default)));
        }
    }
    // 2. max_connections.
    let fit = match (
        number(f, "expected.ram_for_database_bytes"),
        number(f, "mysql.memory.global_buffers_bytes"),
        per_thread.filter(|p| *p > 0.0),
    ) {
        (Some(ram), Some(global), Some(per)) => Some(((ram * PEAK_TARGET - global) / per).floor()),
        _ => None,
    };
    let current = number(f, "mysql.settings.max_connections");
    let used = number(f, "mysql.max_used_connections");
    if let (Some(fit), Some(current), Some(used)) = (fit, current, used)
        && fit < current
        && fit >= (used * CONNECTION_HEADROOM).ceil()
    {
        note.push_str(&format!(
            "max_connections down to what fits in {:.0} % of the RAM; the most seen since\n\
             startup is {}: pool the application's connections if that changes.\n",
            PEAK_TARGET * 100.0,
            plain(used)
        ));
        set.push(("max_connections".to_owned(), plain(fit)));
    }
    if set.is_empty() || fit.is_some_and(|fit| fit < 1.0) {
        note.push_str(
            "The global buffers (innodb_buffer_pool_size first) leave too little RAM for the\n\
             connections: shrink the buffer pool to the data it must hold, pool the\n\
             application's connections, or add RAM.\n",
        );
    }
    Section {
        note,
        sql: if set.is_empty() {
            String::new()
        } else {
            check(&set)
        },
        set,
    }
}

fn fit_peak(ctx: &Context, findings: &[&Finding]) -> Draft {
    let scripts = settings_step(ctx, findings, "peak-memory", fit_peak_section);
    Draft {
        script: scripts.script,
        rollback: scripts.rollback,
        risk: Risk::Medium,
        needs_restart: scripts.restart,
        verify: verify("mysql.memory.peak_pct_ram", "<= 85 %"),
    }
}

#[cfg(test)]
mod tests {
    use perfdiag_model::facts::mysql::MysqlFlavor;
    use perfdiag_model::{Evidence, Severity, Unit};

    use super::*;
    use crate::test_support::finding;

    const T: &str = "mysql://app@db1:3306/";
    const GIB: f64 = 1_073_741_824.0;

    fn ev(metric: &str, value: f64, unit: Unit) -> Evidence {
        Evidence {
            metric: metric.to_owned(),
            observed: Value::number(value, unit),
            threshold: None,
        }
    }

    fn ctx(flavor: MysqlFlavor, version: &str, vars: &[(&str, &str)]) -> Context {
        Context {
            mysql: vec![MysqlFacts {
                target: T.to_owned(),
                flavor: Some(flavor),
                version: Some(version.to_owned()),
                variables: vars
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
                ..MysqlFacts::default()
            }],
            ..Context::default()
        }
    }

    fn deviates() -> Finding {
        finding(
            "mysql.config.deviates",
            Severity::Critical,
            Some(T),
            vec![
                ev(
                    "mysql.expected.innodb_redo_log_capacity",
                    3600.0 * 1_048_576.0,
                    Unit::Bytes,
                ),
                ev("mysql.expected.table_open_cache", 4000.0, Unit::None),
                Evidence {
                    metric: "mysql.expected.innodb_flush_method".to_owned(),
                    observed: Value::text("O_DIRECT"),
                    threshold: None,
                },
                Evidence {
                    metric: "mysql.expected.table_open_cache.formula".to_owned(),
                    observed: Value::text("measured.opened_tables"),
                    threshold: None,
                },
            ],
        )
    }

    #[test]
    fn mysql_8_persists_and_restarts_only_for_startup_settings() {
        let c = ctx(
            MysqlFlavor::Mysql,
            "8.0.36",
            &[
                ("innodb_redo_log_capacity", "104857600"),
                ("table_open_cache", "2000"),
                ("innodb_flush_method", "fsync"),
            ],
        );
        let d = apply_expected(&c, &[&deviates()]);
        let body = &d.script.body;
        assert!(
            body.contains("SET PERSIST innodb_redo_log_capacity = 3774873600;"),
            "{body}"
        );
        assert!(body.contains("SET PERSIST table_open_cache = 4000;"));
        assert!(
            body.contains("SET PERSIST_ONLY innodb_flush_method = 'O_DIRECT';"),
            "{body}"
        );
        let rb = &d.rollback.body;
        assert!(
            rb.contains("SET PERSIST innodb_redo_log_capacity = 104857600;"),
            "{rb}"
        );
        assert!(
            rb.contains("SET PERSIST_ONLY innodb_flush_method = 'fsync';"),
            "{rb}"
        );
        assert!(d.needs_restart);
        assert_eq!(
            d.verify.target,
            "innodb_redo_log_capacity = 3774873600; table_open_cache = 4000; innodb_flush_method = O_DIRECT"
        );
    }

    #[test]
    fn mariadb_sets_global_and_writes_an_option_file_the_rollback_deletes() {
        let f = finding(
            "mysql.config.deviates",
            Severity::Critical,
            Some(T),
            vec![ev(
                "mysql.expected.innodb_log_file_size",
                4.0 * GIB,
                Unit::Bytes,
            )],
        );
        // The flavor was not recorded: the version string tells MariaDB.
        let mut c = ctx(
            MysqlFlavor::Mariadb,
            "10.11.6-MariaDB-0+deb12u1",
            &[("innodb_log_file_size", "100663296")],
        );
        c.mysql[0].flavor = None;
        let d = apply_expected(&c, &[&f]);
        let (script, rollback) = (&d.script, &d.rollback);
        assert_eq!(
            (script.language.as_str(), rollback.language.as_str()),
            ("sh", "sh")
        );
        let body = &script.body;
        assert!(
            body.lines()
                .all(|l| l.starts_with('#') || !l.contains("SET PERSIST")),
            "{body}"
        );
        assert!(body.contains("MYSQL=${MYSQL:-mariadb}"), "{body}");
        assert!(
            body.contains("CNF=\"$CNF_DIR/99-perfdiag-expected-settings.cnf\""),
            "{body}"
        );
        assert!(
            body.contains("$MYSQL <<'SQL'\nSET GLOBAL innodb_log_file_size = 4294967296;\n"),
            "{body}"
        );
        assert!(
            body.contains("[mysqld]\ninnodb_log_file_size = 4294967296\nEOF\n"),
            "{body}"
        );
        assert!(
            rollback.body.contains("rm -f \"$CNF\"\n"),
            "{}",
            rollback.body
        );
        assert!(
            rollback
                .body
                .contains("SET GLOBAL innodb_log_file_size = 100663296;"),
            "{}",
            rollback.body
        );
        assert!(
            !d.needs_restart,
            "MariaDB 10.9+ resizes the redo log online"
        );
        // MariaDB 10.6 reads it only at startup: the option file and a restart.
        let old = ctx(MysqlFlavor::Mariadb, "10.6.16-MariaDB", &[]);
        let d = apply_expected(&old, &[&f]);
        let body = &d.script.body;
        assert!(!body.contains("SET GLOBAL innodb_log_file_size"), "{body}");
        assert!(
            body.contains("innodb_log_file_size = 4294967296\nEOF"),
            "{body}"
        );
        assert!(body.contains("# Restart the server now"), "{body}");
        assert!(d.rollback.body.contains("# Restart the server now"));
        assert!(d.needs_restart);
    }

    #[test]
    fn mysql_5_7_writes_an_option_file_too() {
        let c = ctx(
            MysqlFlavor::Mysql,
            "5.7.44-log",
            &[
                ("table_open_cache", "2000"),
                ("innodb_flush_method", "fsync"),
            ],
        );
        let d = apply_expected(&c, &[&deviates()]);
        let body = &d.script.body;
        assert_eq!(d.script.language, "sh");
        assert!(body.contains("MYSQL=${MYSQL:-mysql}"), "{body}");
        assert!(
            body.contains("SET GLOBAL table_open_cache = 4000;"),
            "{body}"
        );
        assert!(
            !body.contains("SET GLOBAL innodb_flush_method"),
            "read only at startup: {body}"
        );
        assert!(body.contains("innodb_flush_method = O_DIRECT\n"), "{body}");
        assert!(d.needs_restart);
        assert!(
            d.rollback
                .body
                .contains("SET GLOBAL table_open_cache = 2000;"),
            "{}",
            d.rollback.body
        );
    }

    #[test]
    fn peak_memory_shrinks_buffers_then_connections() {
        let f = finding(
            "mysql.memory.peak_over_ram",
            Severity::Critical,
            Some(T),
            vec![
                ev("expected.ram_for_database_bytes", 16.0 * GIB, Unit::Bytes),
                ev("mysql.memory.global_buffers_bytes", 8.5 * GIB, Unit::Bytes),
                ev(
                    "mysql.memory.per_thread_buffers_bytes",
                    8_388_608.0 + 786_432.0,
                    Unit::Bytes,
                ),
                ev("mysql.settings.sort_buffer_size", 8_388_608.0, Unit::Bytes),
                ev("mysql.settings.join_buffer_size", 262_144.0, Unit::Bytes),
                ev("mysql.settings.max_connections", 5000.0, Unit::None),
                ev("mysql.max_used_connections", 400.0, Unit::None),
            ],
        );
        let c = ctx(
            MysqlFlavor::Mysql,
            "8.0.36",
            &[("sort_buffer_size", "8388608"), ("max_connections", "5000")],
        );
        let d = fit_peak(&c, &[&f]);
        let body = &d.script.body;
        assert!(
            body.contains("SET PERSIST sort_buffer_size = 262144;"),
            "{body}"
        );
        assert!(
            !body.contains("SET PERSIST join_buffer_size"),
            "at its default already"
        );
        // (13.6 GiB - 8.5 GiB) / (256 KiB + 768 KiB) = 5222 > 5000: nothing to cut.
        assert!(!body.contains("SET PERSIST max_connections"), "{body}");
        assert!(
            d.rollback
                .body
                .contains("SET PERSIST sort_buffer_size = 8388608;")
        );
        // Bigger global buffers: connections must shrink too (to 1638 >= 400 * 1.25).
        let mut f = f;
        f.evidence[1] = ev("mysql.memory.global_buffers_bytes", 12.0 * GIB, Unit::Bytes);
        let d = fit_peak(&c, &[&f]);
        assert!(
            d.script
                .body
                .contains("SET PERSIST max_connections = 1638;"),
            "{}",
            d.script.body
        );
        assert!(
            d.rollback
                .body
                .contains("SET PERSIST max_connections = 5000;")
        );
    }
}
