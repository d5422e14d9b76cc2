//! Plan steps for MySQL and MariaDB findings: SQL for a DBA to review and run, chosen
//! by each target's flavor and version (MySQL 8 persists with `SET PERSIST`; MariaDB
//! and MySQL 5.7 need `SET GLOBAL` plus the same line in my.cnf), with rollbacks that
//! restore the values the snapshot recorded.
//!
//! Findings of several targets merge into one step: the script has one section per
//! target, headed by its label.

use perfdiag_model::facts::MysqlFacts;
use perfdiag_model::{Finding, Phase, Risk, Script, Value};

use super::{Context, Draft, StepDef, evidence_lines, sh, verify};

const BYTES_128M: u64 = 128 << 20;

fn sql(body: String) -> Script {
    Script {
        language: "sql".to_owned(),
        body,
    }
}

/// The facts of the finding's target, when the snapshot has them.
fn facts<'a>(ctx: &'a Context, f: &Finding) -> Option<&'a MysqlFacts> {
    let subject = f.subject.as_deref()?;
    ctx.mysql.iter().find(|m| m.target == subject)
}

/// MySQL 8.0+ (not MariaDB): `SET PERSIST` writes mysqld-auto.cnf.
fn persists(m: Option<&MysqlFacts>) -> bool {
    m.is_some_and(|m| !m.is_mariadb() && m.version_triple().is_some_and(|v| v.0 >= 8))
}

/// `SET PERSIST` on MySQL 8, else `SET GLOBAL` and the my.cnf line to keep it.
fn set_global(m: Option<&MysqlFacts>, name: &str, value: &str) -> String {
    if persists(m) {
        format!("SET PERSIST {name} = {value};\n")
    } else {
        format!(
            "SET GLOBAL {name} = {value};\n-- Also in my.cnf, [mysqld] section, or the change is lost at the next restart:\n--   {name} = {value}\n"
        )
    }
}

/// The recorded value of a variable, or a placeholder that does not run.
fn recorded(m: Option<&MysqlFacts>, name: &str) -> String {
    m.and_then(|m| m.variable(name))
        .map(|v| match v.parse::<f64>() {
            Ok(_) => v.to_owned(),
            Err(_) => format!("'{v}'"),
        })
        .unwrap_or_else(|| "<value before the change>".to_owned())
}

fn restore(m: Option<&MysqlFacts>, names: &[&str]) -> String {
    names
        .iter()
        .map(|n| set_global(m, n, &recorded(m, n)))
        .collect()
}

fn header(f: &Finding) -> String {
    format!(
        "-- Target: {}\n",
        f.subject.as_deref().unwrap_or("<the MySQL/MariaDB server>")
    )
}

fn number(f: &Finding, metric: &str) -> Option<f64> {
    f.evidence
        .iter()
        .find_map(|e| match (&e.metric, &e.observed) {
            (m, Value::Number { value, .. }) if m == metric => Some(*value),
            _ => None,
        })
}

fn text<'a>(f: &'a Finding, metric: &str) -> Option<&'a str> {
    f.evidence
        .iter()
        .find_map(|e| match (&e.metric, &e.observed) {
            (m, Value::Text { text }) if m == metric => Some(text.as_str()),
            _ => None,
        })
}

/// The names a rule listed (`a, b and 3 more`): the listed ones.
fn names(f: &Finding, metric: &str) -> Vec<String> {
    let Some(list) = text(f, metric) else {
        return Vec::new();
    };
    let list = list.split(" and ").next().unwrap_or(list);
    list.split(", ")
        .map(|s| s.split(" (").next().unwrap_or(s).trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Runs `section` for each finding (one per target) and joins the scripts.
fn per_target(
    ctx: &Context,
    findings: &[&Finding],
    section: impl Fn(Option<&MysqlFacts>, &Finding) -> (String, String),
) -> (String, String) {
    let mut script = evidence_lines(findings).replace("# ", "-- ");
    let mut rollback = String::new();
    if findings.is_empty() {
        let (s, r) = section(None, &empty_finding());
        return (script + &s, r);
    }
    for f in findings {
        let (s, r) = section(facts(ctx, f), f);
        script.push_str(&header(f));
        script.push_str(&s);
        rollback.push_str(&header(f));
        rollback.push_str(&r);
    }
    (script, rollback)
}

fn empty_finding() -> Finding {
    Finding {
        rule_id: String::new(),
        dimension: perfdiag_model::Dimension::DbConfig,
        severity: perfdiag_model::Severity::Warning,
        subject: None,
        evidence: Vec::new(),
        penalty: 0,
    }
}

fn draft(
    (script, rollback): (String, String),
    risk: Risk,
    needs_restart: bool,
    metric: &str,
    target: &str,
) -> Draft {
    Draft {
        script: sql(script),
        rollback: sql(rollback),
        risk,
        needs_restart,
        verify: verify(metric, target),
    }
}

/// Rounds up to a multiple of 128 MiB (the default buffer pool chunk size; the server
/// rounds to chunk size × instances anyway).
fn round_up_128m(bytes: f64) -> u64 {
    let b = bytes.max(BYTES_128M as f64) as u64;
    b.div_ceil(BYTES_128M) * BYTES_128M
}

pub(super) const BUFFER_POOL_SIZE: StepDef = StepDef {
    id: "mysql.config.buffer_pool_size",
    rule_id: "mysql.memory.buffer_pool_small",
    phase: Phase::Configuration,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |m, f| {
            let wanted = number(f, "mysql.wanted_buffer_pool_bytes").map(round_up_128m);
            let value = wanted.map_or_else(
                || "<bytes: InnoDB data + 10 %, at most 75 % of RAM>".to_owned(),
                |w| w.to_string(),
            );
            let script = format!(
                "-- Resized online (MySQL 5.7.5+, MariaDB 10.2+) in chunks; watch\n\
                 -- SHOW STATUS LIKE 'Innodb_buffer_pool_resize_status' until it completes.\n{}",
                set_global(m, "innodb_buffer_pool_size", &value)
            );
            (script, restore(m, &["innodb_buffer_pool_size"]))
        });
        draft(
            scripts,
            Risk::Medium,
            false,
            "mysql.buffer_pool_pct_of_wanted",
            ">= 100 %",
        )
    },
};

pub(super) const HIT_RATIO: StepDef = StepDef {
    id: "mysql.config.buffer_pool_for_hit_ratio",
    rule_id: "mysql.buffer_pool.hit_ratio_low",
    phase: Phase::Configuration,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |m, _| {
            let current = m.and_then(|m| m.settings.innodb_buffer_pool_size_bytes);
            let value = current.map_or_else(
                || "<current size x 1.5>".to_owned(),
                |c| round_up_128m(c as f64 * 1.5).to_string(),
            );
            let script = format!(
                "-- Grow the buffer pool by half, within the host's free memory (check first:\n\
                 -- free -g; the server must keep at least 20-25 % of RAM for itself and the OS).\n{}",
                set_global(m, "innodb_buffer_pool_size", &value)
            );
            (script, restore(m, &["innodb_buffer_pool_size"]))
        });
        draft(
            scripts,
            Risk::Medium,
            false,
            "mysql.buffer_pool_hit_pct",
            ">= 99 %",
        )
    },
};

pub(super) const TMP_TABLE_SIZE: StepDef = StepDef {
    id: "mysql.config.tmp_table_size",
    rule_id: "mysql.tmp.disk_tables",
    phase: Phase::Configuration,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |m, _| {
            let current = m
                .and_then(|m| m.settings.tmp_table_size_bytes)
                .unwrap_or(16 << 20);
            let value = (current * 4).clamp(64 << 20, 256 << 20).to_string();
            let script = format!(
                "-- The in-memory limit is the smaller of the two: raise both together. Statements\n\
                 -- with TEXT/BLOB columns (MySQL < 8.0.13, MariaDB) go to disk regardless: find\n\
                 -- them in the digests (SUM_CREATED_TMP_DISK_TABLES).\n{}{}",
                set_global(m, "tmp_table_size", &value),
                set_global(m, "max_heap_table_size", &value)
            );
            (
                script,
                restore(m, &["tmp_table_size", "max_heap_table_size"]),
            )
        });
        draft(scripts, Risk::Low, false, "mysql.tmp_disk_pct", "< 25 %")
    },
};

pub(super) const THREAD_CACHE: StepDef = StepDef {
    id: "mysql.config.thread_cache_size",
    rule_id: "mysql.threads.cache_misses",
    phase: Phase::QuickWins,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |m, _| {
            let current = m.and_then(|m| m.settings.thread_cache_size).unwrap_or(0);
            let value = (current * 2).clamp(64, 1000).to_string();
            (
                set_global(m, "thread_cache_size", &value),
                restore(m, &["thread_cache_size"]),
            )
        });
        draft(
            scripts,
            Risk::Low,
            false,
            "mysql.threads_created_per_s",
            "< 1/s",
        )
    },
};

pub(super) const FULL_SCANS: StepDef = StepDef {
    id: "mysql.sql.index_full_scans",
    rule_id: "mysql.statements.no_index",
    phase: Phase::Maintenance,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |_, f| {
            let stmt = text(f, "mysql.top_full_scan.digest_text")
                .unwrap_or("<statement from mysql_statements>");
            let script = format!(
                "-- Statement with the most full-scan time in the window:\n--   {stmt}\n\
                 -- 1. EXPLAIN it with real values; find the filtered columns without an index.\n\
                 -- 2. Add the index online (reviewed template; the column names are yours to fill):\n\
                 -- ALTER TABLE <schema>.<table> ADD INDEX idx_<column> (<column>), ALGORITHM=INPLACE, LOCK=NONE;\n\
                 -- 3. EXPLAIN again: type should be ref/range, not ALL.\n"
            );
            (
                script,
                "-- ALTER TABLE <schema>.<table> DROP INDEX idx_<column>, ALGORITHM=INPLACE, LOCK=NONE;\n".to_owned(),
            )
        });
        draft(
            scripts,
            Risk::Medium,
            false,
            "mysql.no_index_time_pct",
            "< 20 %",
        )
    },
};

pub(super) const MAX_CONNECTIONS: StepDef = StepDef {
    id: "mysql.config.max_connections",
    rule_id: "mysql.connections.near_max",
    phase: Phase::Configuration,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |m, _| {
            let current = m.and_then(|m| m.settings.max_connections).unwrap_or(151);
            let value = (current + current / 2).to_string();
            let script = format!(
                "-- Each connection can use per-session buffers (sort, join, read): check memory\n\
                 -- headroom first. A connection pool in the application is the lasting fix.\n{}",
                set_global(m, "max_connections", &value)
            );
            (script, restore(m, &["max_connections"]))
        });
        draft(
            scripts,
            Risk::Medium,
            false,
            "mysql.max_used_connections_pct",
            "< 80 %",
        )
    },
};

pub(super) const BLOCKING: StepDef = StepDef {
    id: "mysql.locks.resolve_blocking",
    rule_id: "mysql.locks.blocked_sessions",
    phase: Phase::QuickWins,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |m, f| {
            let waits = if m
                .is_some_and(|m| !m.is_mariadb() && m.version_triple().is_some_and(|v| v.0 >= 8))
            {
                "SELECT r.trx_mysql_thread_id AS waiting, b.trx_mysql_thread_id AS blocking,\n       b.trx_started, b.trx_query\nFROM performance_schema.data_lock_waits w\nJOIN information_schema.INNODB_TRX r ON r.trx_id = w.REQUESTING_ENGINE_TRANSACTION_ID\nJOIN information_schema.INNODB_TRX b ON b.trx_id = w.BLOCKING_ENGINE_TRANSACTION_ID;\n"
            } else {
                "SELECT r.trx_mysql_thread_id AS waiting, b.trx_mysql_thread_id AS blocking,\n       b.trx_started, b.trx_query\nFROM information_schema.INNODB_LOCK_WAITS w\nJOIN information_schema.INNODB_TRX r ON r.trx_id = w.requesting_trx_id\nJOIN information_schema.INNODB_TRX b ON b.trx_id = w.blocking_trx_id;\n"
            };
            let blockers = text(f, "mysql_sessions.blocking_ids").unwrap_or("<blocking id>");
            let script = format!(
                "-- 1. Who blocks whom right now:\n{waits}\
                 -- 2. If a blocker is an abandoned session, end it (its transaction rolls back):\n\
                 -- KILL <blocking id>;   -- blockers seen in the samples: {blockers}\n\
                 -- 3. Lasting fix in the application: shorter transactions, rows locked in one order.\n"
            );
            (script, "-- Nothing to undo: a killed session's transaction was rolled back by the server.\n".to_owned())
        });
        draft(
            scripts,
            Risk::Medium,
            false,
            "mysql_sessions.blocked.peak",
            "= 0",
        )
    },
};

pub(super) const IDLE_TRX: StepDef = StepDef {
    id: "mysql.sessions.idle_transaction_timeout",
    rule_id: "mysql.sessions.idle_in_trx",
    phase: Phase::Configuration,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |m, _| {
            if m.is_some_and(MysqlFacts::is_mariadb) {
                // MariaDB 10.3+: ends only sessions idle inside a transaction.
                (
                    set_global(m, "idle_transaction_timeout", "600"),
                    restore(m, &["idle_transaction_timeout"]),
                )
            } else {
                (
                    "-- MySQL has no idle-in-transaction timeout (wait_timeout would also end idle\n\
                     -- pooled connections). Find the sessions and fix the application's commit path:\n\
                     SELECT p.ID, p.USER, p.HOST, t.trx_started\nFROM information_schema.INNODB_TRX t\n\
                     JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id\n\
                     WHERE p.COMMAND = 'Sleep' ORDER BY t.trx_started;\n-- KILL <ID>;\n"
                        .to_owned(),
                    "-- Nothing to undo: the query only reads; a killed session's transaction was rolled back.\n".to_owned(),
                )
            }
        });
        draft(
            scripts,
            Risk::Low,
            false,
            "mysql_sessions.idle_trx_age_ms.max",
            "< 60000 ms",
        )
    },
};

pub(super) const PRIMARY_KEYS: StepDef = StepDef {
    id: "mysql.schema.add_primary_keys",
    rule_id: "mysql.tables.no_primary_key",
    phase: Phase::Maintenance,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |_, f| {
            let tables = names(f, "mysql_tables.no_primary_key.names");
            let mut script = String::from(
                "-- Reviewed template: if the table has a NOT NULL unique column, make that the\n\
                 -- primary key instead. Rebuilds the table: run off-peak, or with\n\
                 -- pt-online-schema-change / gh-ost on large tables.\n",
            );
            let mut rollback = String::new();
            for t in tables.iter().map(|t| quote_table(t)) {
                script.push_str(&format!(
                    "ALTER TABLE {t} ADD COLUMN perfdiag_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY FIRST, ALGORITHM=INPLACE, LOCK=NONE;\n"
                ));
                rollback.push_str(&format!(
                    "ALTER TABLE {t} DROP PRIMARY KEY, DROP COLUMN perfdiag_id;\n"
                ));
            }
            (script, rollback)
        });
        draft(
            scripts,
            Risk::Medium,
            false,
            "mysql_tables.no_primary_key",
            "= 0",
        )
    },
};

pub(super) const MYISAM: StepDef = StepDef {
    id: "mysql.schema.convert_myisam",
    rule_id: "mysql.tables.myisam",
    phase: Phase::Maintenance,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |_, f| {
            let tables = names(f, "mysql_tables.myisam.names");
            let mut script = String::from(
                "-- Check first: FULLTEXT/SPATIAL indexes need MySQL 5.6+/5.7+ InnoDB; the copy needs\n\
                 -- free disk space of the table's size. Rebuilds each table (locks writes on MyISAM).\n",
            );
            let mut rollback = String::new();
            for t in tables.iter().map(|t| quote_table(t)) {
                script.push_str(&format!("ALTER TABLE {t} ENGINE=InnoDB;\n"));
                rollback.push_str(&format!("ALTER TABLE {t} ENGINE=MyISAM;\n"));
            }
            (script, rollback)
        });
        draft(scripts, Risk::Medium, false, "mysql_tables.myisam", "= 0")
    },
};

/// Makes indexes invisible (MySQL 8) or ignored (MariaDB 10.6+) first: the optimizer
/// stops using them while they are still maintained, so the change is undone at once.
fn hide_indexes(m: Option<&MysqlFacts>, list: &[String]) -> (String, String) {
    let mariadb = m.is_some_and(MysqlFacts::is_mariadb);
    let (hide, show) = if mariadb {
        ("IGNORED", "NOT IGNORED")
    } else {
        ("INVISIBLE", "VISIBLE")
    };
    let mut script = format!(
        "-- Step 1: hide the index from the optimizer ({}), watch the workload for a full\n\
         -- business cycle, then step 2: ALTER TABLE ... DROP INDEX ... (save SHOW CREATE TABLE first).\n",
        if mariadb {
            "MariaDB 10.6+"
        } else {
            "MySQL 8.0+"
        }
    );
    let mut rollback = String::new();
    for entry in list {
        let Some((table, index)) = entry.rsplit_once('.') else {
            continue;
        };
        let t = quote_table(table);
        script.push_str(&format!("ALTER TABLE {t} ALTER INDEX `{index}` {hide};\n"));
        rollback.push_str(&format!("ALTER TABLE {t} ALTER INDEX `{index}` {show};\n"));
    }
    (script, rollback)
}

pub(super) const REDUNDANT: StepDef = StepDef {
    id: "mysql.schema.drop_redundant_indexes",
    rule_id: "mysql.indexes.redundant",
    phase: Phase::Maintenance,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |m, f| {
            hide_indexes(m, &names(f, "mysql_indexes.redundant.names"))
        });
        draft(scripts, Risk::Low, false, "mysql_indexes.redundant", "= 0")
    },
};

pub(super) const UNUSED: StepDef = StepDef {
    id: "mysql.schema.drop_unused_indexes",
    rule_id: "mysql.indexes.unused",
    phase: Phase::Maintenance,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |m, f| {
            hide_indexes(m, &names(f, "mysql_indexes.unused.names"))
        });
        draft(scripts, Risk::Medium, false, "mysql_indexes.unused", "= 0")
    },
};

pub(super) const EMPTY_PASSWORD: StepDef = StepDef {
    id: "mysql.security.set_passwords",
    rule_id: "mysql.security.empty_password",
    phase: Phase::QuickWins,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |_, f| {
            let accounts = names(f, "mysql.accounts.empty_password.names");
            let mut script = String::from(
                "-- Give each account a strong password (or DROP USER if unused); update the\n\
                 -- applications' configuration at the same time.\n",
            );
            let mut rollback = String::from(
                "-- Restoring an empty password reopens the hole; only if an application breaks:\n",
            );
            for a in &accounts {
                script.push_str(&format!(
                    "ALTER USER {a} IDENTIFIED BY '<new strong password>';\n"
                ));
                rollback.push_str(&format!("-- ALTER USER {a} IDENTIFIED BY '';\n"));
            }
            (script, rollback)
        });
        draft(
            scripts,
            Risk::Medium,
            false,
            "mysql.accounts.empty_password",
            "= 0",
        )
    },
};

pub(super) const ANONYMOUS_ROOT: StepDef = StepDef {
    id: "mysql.security.drop_anonymous_remote_root",
    rule_id: "mysql.security.anonymous_or_remote_root",
    phase: Phase::QuickWins,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |_, f| {
            let mut script = String::from(
                "-- Save the grants first (SHOW GRANTS FOR each account) and make sure a local\n\
                 -- administrator account still works before dropping remote root.\n",
            );
            let mut rollback = String::from("-- Re-create from the saved SHOW GRANTS output:\n");
            for a in names(f, "mysql.accounts.anonymous.names")
                .into_iter()
                .chain(names(f, "mysql.accounts.remote_root.names"))
            {
                script.push_str(&format!("SHOW GRANTS FOR {a};\nDROP USER {a};\n"));
                rollback.push_str(&format!("-- CREATE USER {a} ...; GRANT ... TO {a};\n"));
            }
            (script, rollback)
        });
        draft(
            scripts,
            Risk::Medium,
            false,
            "mysql.accounts.anonymous",
            "= 0",
        )
    },
};

pub(super) const WEAK_ACCOUNTS: StepDef = StepDef {
    id: "mysql.security.harden_accounts",
    rule_id: "mysql.security.weak_accounts",
    phase: Phase::Configuration,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |m, f| {
            let mut script = String::new();
            let mut rollback = String::new();
            for a in names(f, "mysql.accounts.wildcard_host_global_privileges.names") {
                let user = a.split('@').next().unwrap_or(&a).to_owned();
                script.push_str(&format!(
                    "-- Restrict the host to the application's network:\nRENAME USER {a} TO {user}@'<app subnet, e.g. 10.0.0.%>';\n"
                ));
                rollback.push_str(&format!("RENAME USER {user}@'<app subnet>' TO {a};\n"));
            }
            for a in names(f, "mysql.accounts.outdated_auth_plugin.names") {
                if m.is_some_and(MysqlFacts::is_mariadb) {
                    script.push_str(&format!(
                        "ALTER USER {a} IDENTIFIED VIA mysql_native_password USING PASSWORD('<new strong password>');\n"
                    ));
                } else {
                    script.push_str(&format!(
                        "ALTER USER {a} IDENTIFIED WITH caching_sha2_password BY '<new strong password>';\n"
                    ));
                }
                rollback.push_str(&format!(
                    "-- ALTER USER {a} IDENTIFIED WITH <previous plugin> BY '<previous password>';\n"
                ));
            }
            if script.is_empty() {
                script.push_str("-- Review the accounts named in the finding.\n");
                rollback.push_str("-- Nothing changed.\n");
            }
            (script, rollback)
        });
        draft(
            scripts,
            Risk::Medium,
            false,
            "mysql.accounts.wildcard_host_global_privileges",
            "= 0",
        )
    },
};

pub(super) const SLOW_LOG: StepDef = StepDef {
    id: "mysql.logging.enable_slow_log",
    rule_id: "mysql.logging.slow_log_off",
    phase: Phase::QuickWins,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |m, _| {
            let script = format!(
                "-- Log statements slower than 1 s; the log grows with the workload: rotate it\n\
                 -- (logrotate, or FLUSH SLOW LOGS) and keep it on a volume with free space.\n{}{}",
                set_global(m, "slow_query_log", "ON"),
                set_global(m, "long_query_time", "1")
            );
            (script, restore(m, &["slow_query_log", "long_query_time"]))
        });
        draft(
            scripts,
            Risk::Low,
            false,
            "mysql.slow_query_log",
            "= ON, long_query_time <= 1 s",
        )
    },
};

pub(super) const PERF_SCHEMA: StepDef = StepDef {
    id: "mysql.config.enable_performance_schema",
    rule_id: "mysql.perf_schema.off",
    phase: Phase::Configuration,
    build: |ctx, findings| {
        let mut script = evidence_lines(findings);
        let mut rollback = String::new();
        let targets: Vec<Option<&MysqlFacts>> = if findings.is_empty() {
            vec![None]
        } else {
            findings.iter().map(|f| facts(ctx, f)).collect()
        };
        for (i, m) in targets.iter().enumerate() {
            let (dir, service) = if m.is_some_and(|m| m.is_mariadb()) {
                ("/etc/mysql/mariadb.conf.d", "mariadb")
            } else {
                ("/etc/mysql/mysql.conf.d", "mysql")
            };
            if let Some(f) = findings.get(i) {
                script.push_str(&format!(
                    "# Target: {}\n",
                    f.subject.as_deref().unwrap_or("?")
                ));
            }
            script.push_str(&format!(
                "# performance_schema cannot be switched on at run time: a restart is needed.\n\
                 # Debian/Ubuntu path; on RHEL use /etc/my.cnf.d/.\n\
                 cat > {dir}/99-perfdiag-performance-schema.cnf <<'EOF'\n[mysqld]\nperformance_schema = ON\nEOF\n\
                 systemctl restart {service}\n"
            ));
            rollback.push_str(&format!(
                "rm -f {dir}/99-perfdiag-performance-schema.cnf\nsystemctl restart {service}\n"
            ));
        }
        Draft {
            script: sh(script),
            rollback: sh(rollback),
            risk: Risk::Medium,
            needs_restart: true,
            verify: verify("mysql.performance_schema", "= ON"),
        }
    },
};

/// `schema.table` as a quoted identifier.
fn quote_table(name: &str) -> String {
    match name.split_once('.') {
        Some((s, t)) => format!("`{s}`.`{t}`"),
        None => format!("`{name}`"),
    }
}

/// The MySQL and MariaDB steps, one per rule.
pub(super) const STEPS: &[StepDef] = &[
    BUFFER_POOL_SIZE,
    HIT_RATIO,
    TMP_TABLE_SIZE,
    THREAD_CACHE,
    FULL_SCANS,
    MAX_CONNECTIONS,
    BLOCKING,
    IDLE_TRX,
    PRIMARY_KEYS,
    MYISAM,
    REDUNDANT,
    UNUSED,
    EMPTY_PASSWORD,
    ANONYMOUS_ROOT,
    WEAK_ACCOUNTS,
    SLOW_LOG,
    PERF_SCHEMA,
];

#[cfg(test)]
mod tests {
    use perfdiag_model::facts::MysqlFacts;
    use perfdiag_model::facts::mysql::MysqlFlavor;
    use perfdiag_model::{Evidence, Severity, Unit, Value, facts_names};

    use crate::test_support::{assessment, finding, snapshot};

    const T: &str = "mysql://app@db1:3306/";

    fn facts(flavor: MysqlFlavor, version: &str) -> MysqlFacts {
        let mut m = MysqlFacts {
            target: T.to_owned(),
            flavor: Some(flavor),
            version: Some(version.to_owned()),
            ..MysqlFacts::default()
        };
        for (k, v) in [
            ("innodb_buffer_pool_size", "134217728"),
            ("slow_query_log", "OFF"),
            ("long_query_time", "10.000000"),
        ] {
            m.variables.insert(k.to_owned(), v.to_owned());
        }
        m.settings.innodb_buffer_pool_size_bytes = Some(128 << 20);
        m
    }

    fn plan_for(m: MysqlFacts, rule: &str, evidence: Vec<Evidence>) -> perfdiag_model::PlanStep {
        let mut s = snapshot(None);
        s.set_fact(facts_names::MYSQL, &vec![m]);
        let f = finding(rule, Severity::Warning, Some(T), evidence);
        let plan = crate::plan(&assessment(vec![f]), &s);
        assert_eq!(plan.steps.len(), 1);
        plan.steps[0].clone()
    }

    fn ev(metric: &str, observed: Value) -> Evidence {
        Evidence {
            metric: metric.to_owned(),
            observed,
            threshold: None,
        }
    }

    #[test]
    fn buffer_pool_by_flavor_with_recorded_rollback() {
        let wanted = ev(
            "mysql.wanted_buffer_pool_bytes",
            Value::number(3.3 * (1u64 << 30) as f64, Unit::Bytes),
        );
        let maria = plan_for(
            facts(MysqlFlavor::Mariadb, "10.11.6-MariaDB"),
            "mysql.memory.buffer_pool_small",
            vec![wanted.clone()],
        );
        // 3.3 GiB rounded up to 128 MiB chunks: 3456 MiB.
        assert!(
            maria
                .script
                .body
                .contains("SET GLOBAL innodb_buffer_pool_size = 3623878656;"),
            "{}",
            maria.script.body
        );
        assert!(maria.script.body.contains("my.cnf"));
        assert!(
            maria
                .rollback
                .body
                .contains("SET GLOBAL innodb_buffer_pool_size = 134217728;")
        );
        let mysql = plan_for(
            facts(MysqlFlavor::Mysql, "8.0.36"),
            "mysql.memory.buffer_pool_small",
            vec![wanted],
        );
        assert!(
            mysql
                .script
                .body
                .contains("SET PERSIST innodb_buffer_pool_size = 3623878656;")
        );
        assert!(
            mysql
                .rollback
                .body
                .contains("SET PERSIST innodb_buffer_pool_size = 134217728;")
        );
        assert_eq!(mysql.subject.as_deref(), Some(T));
    }

    #[test]
    fn slow_log_and_accounts_and_tables_are_named() {
        let step = plan_for(
            facts(MysqlFlavor::Mysql, "5.7.44"),
            "mysql.logging.slow_log_off",
            vec![],
        );
        assert!(step.script.body.contains("SET GLOBAL slow_query_log = ON;"));
        assert!(
            step.rollback
                .body
                .contains("SET GLOBAL slow_query_log = 'OFF';"),
            "{}",
            step.rollback.body
        );
        assert!(step.rollback.body.contains("long_query_time = 10.000000;"));

        let step = plan_for(
            facts(MysqlFlavor::Mariadb, "10.11.6-MariaDB"),
            "mysql.security.anonymous_or_remote_root",
            vec![ev(
                "mysql.accounts.anonymous.names",
                Value::text("''@'localhost'"),
            )],
        );
        assert!(
            step.script.body.contains("DROP USER ''@'localhost';"),
            "{}",
            step.script.body
        );

        let step = plan_for(
            facts(MysqlFlavor::Mariadb, "10.11.6-MariaDB"),
            "mysql.tables.no_primary_key",
            vec![ev(
                "mysql_tables.no_primary_key.names",
                Value::text("app.nopk, app.log and 3 more"),
            )],
        );
        assert!(
            step.script
                .body
                .contains("ALTER TABLE `app`.`nopk` ADD COLUMN"),
            "{}",
            step.script.body
        );
        assert!(
            step.rollback
                .body
                .contains("ALTER TABLE `app`.`log` DROP PRIMARY KEY")
        );

        let step = plan_for(
            facts(MysqlFlavor::Mariadb, "10.11.6-MariaDB"),
            "mysql.indexes.redundant",
            vec![ev(
                "mysql_indexes.redundant.names",
                Value::text("app.orders.by_customer"),
            )],
        );
        assert!(
            step.script
                .body
                .contains("ALTER TABLE `app`.`orders` ALTER INDEX `by_customer` IGNORED;")
        );
        assert!(step.rollback.body.contains("NOT IGNORED"));
    }
}
