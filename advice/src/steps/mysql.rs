//! Plan steps for MySQL and MariaDB findings, chosen by each target's flavor and
//! version, with rollbacks that restore the values the snapshot recorded.
//!
//! A variable is changed for now and for every later start. MySQL 8 does both with
//! `SET PERSIST` (plain SQL). MariaDB has no `SET PERSIST`, and MySQL 5.7 neither: there
//! the step is a shell script that runs `SET GLOBAL` through the client and writes the
//! same line into an option file of its own (`99-perfdiag-<what>.cnf`), which the
//! rollback deletes. A variable read only at startup is set with `SET PERSIST_ONLY`
//! (MySQL 8) or by the option file alone, and the server restarted. Schema and account
//! steps are SQL. `tuning_mysql.rs` writes its settings the same way, through
//! [`settings_step`].
//!
//! Findings of several targets merge into one step: the script has one section per
//! target, headed by its label.

use perfdiag_model::facts::MysqlFacts;
use perfdiag_model::{Finding, Phase, Risk, Script};

use super::index_ddl::mysql_indexes;
use super::{
    Context, Draft, StepDef, evidence_lines, number, sh, shell_sections, sql, text, verify,
};

const BYTES_128M: u64 = 128 << 20;

/// The facts of the finding's target, when the snapshot has them.
pub(super) fn facts<'a>(ctx: &'a Context, f: &Finding) -> Option<&'a MysqlFacts> {
    let subject = f.subject.as_deref()?;
    ctx.mysql.iter().find(|m| m.target == subject)
}

/// Whether the server is MariaDB: the flavor the probe recorded, or failing that the
/// version string (`10.11.6-MariaDB-0+deb12u1`), so a MariaDB is never sent MySQL-only
/// SQL such as `SET PERSIST`.
pub(super) fn mariadb(m: &MysqlFacts) -> bool {
    m.is_mariadb()
        || m.version
            .as_deref()
            .is_some_and(|v| v.to_ascii_lowercase().contains("mariadb"))
}

/// MySQL 8.0+ (not MariaDB): `SET PERSIST` writes mysqld-auto.cnf.
pub(super) fn persists(m: Option<&MysqlFacts>) -> bool {
    m.is_some_and(|m| !mariadb(m) && m.version_triple().is_some_and(|v| v.0 >= 8))
}

/// The recorded value of a variable, or a placeholder that does not run.
pub(super) fn recorded(m: Option<&MysqlFacts>, name: &str) -> String {
    m.and_then(|m| m.variable(name))
        .map(|v| match v.parse::<f64>() {
            Ok(_) => v.to_owned(),
            Err(_) => format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'")),
        })
        .unwrap_or_else(|| "<value before the change>".to_owned())
}

/// Whether `name` can be changed at run time on this server (`SET GLOBAL`); else it
/// is read only at startup and the change needs a restart.
pub(super) fn dynamic(m: Option<&MysqlFacts>, name: &str) -> bool {
    match name {
        // Read only at startup everywhere.
        "innodb_flush_method" | "performance_schema" => false,
        // Resizable at run time from MariaDB 10.9; before, and on MySQL, at startup
        // (MySQL 8.0.30+ resizes with innodb_redo_log_capacity instead).
        "innodb_log_file_size" => m.is_some_and(|m| {
            mariadb(m) && m.version_triple().is_some_and(|v| (v.0, v.1) >= (10, 9))
        }),
        _ => true,
    }
}

/// One target's part of a settings step.
#[derive(Default)]
pub(super) struct Section {
    /// Comment lines (without the comment marker) explaining the change.
    pub note: String,
    /// The variables to set, with their new values as `SET` takes them.
    pub set: Vec<(String, String)>,
    /// Read-only SQL to run as well (e.g. a query listing the sessions to look at).
    pub sql: String,
}

impl Section {
    /// The variables it sets, with the values the snapshot recorded before the change.
    fn before(&self, m: Option<&MysqlFacts>) -> Vec<(String, String)> {
        self.set
            .iter()
            .map(|(name, _)| (name.clone(), recorded(m, name)))
            .collect()
    }
}

/// `(name, value)` of a variable to set.
fn var(name: &str, value: impl Into<String>) -> (String, String) {
    (name.to_owned(), value.into())
}

/// A settings step's scripts, and whether a variable read at startup needs a restart.
pub(super) struct Scripts {
    pub script: Script,
    pub rollback: Script,
    pub restart: bool,
}

/// Comments `text` line by line with `marker` (`--` or `#`).
fn commented(text: &str, marker: &str) -> String {
    text.lines().map(|l| format!("{marker} {l}\n")).collect()
}

/// The client command for the targets' flavor: `mariadb` when all are MariaDB.
fn client(targets: &[Option<&MysqlFacts>]) -> &'static str {
    if targets.iter().all(|m| m.is_some_and(mariadb)) {
        "mariadb"
    } else {
        "mysql"
    }
}

/// What a settings step's shell script says first.
const SET_GLOBAL_INTRO: &str = "Run on the database server as root. SET GLOBAL changes the running server;\n\
     the option file keeps the change for later starts (MariaDB and MySQL 5.7 have\n\
     no SET PERSIST).";

/// The shell preamble of a step that writes an option file: `intro`, then the client
/// and the option-file folder, each overridable from the environment, with defaults
/// for the flavor(s) at hand.
fn shell_preamble(targets: &[Option<&MysqlFacts>], file: &str, intro: &str) -> String {
    let client = client(targets);
    let any_mariadb = targets.iter().any(|m| m.is_none_or(mariadb));
    let mut dirs = Vec::new();
    if any_mariadb {
        dirs.push("/etc/mysql/mariadb.conf.d");
    }
    if client == "mysql" {
        dirs.push("/etc/mysql/mysql.conf.d");
    }
    dirs.extend(["/etc/my.cnf.d", "/etc/mysql/conf.d"]);
    let dirs = dirs.join(" ");
    format!(
        "{}# Set these first if the defaults do not fit:\n\
         #   MYSQL    client command connecting as an administrator (default: {client},\n\
         #            with the credentials of ~/.my.cnf), e.g. MYSQL='{client} -uroot -p'\n\
         #   CNF_DIR  a folder whose *.cnf files the server reads (default: the first of\n\
         #            {dirs})\n\
         set -eu\n\
         MYSQL=${{MYSQL:-{client}}}\n\
         if [ -z \"${{CNF_DIR:-}}\" ]; then\n\
         \x20 for d in {dirs}; do\n\
         \x20   if [ -d \"$d\" ]; then CNF_DIR=$d; break; fi\n\
         \x20 done\n\
         fi\n\
         : \"${{CNF_DIR:?set CNF_DIR to a folder the server reads option files from}}\"\n\
         CNF=\"$CNF_DIR/99-perfdiag-{file}.cnf\"\n",
        commented(intro, "#")
    )
}

/// SQL run through the client from a shell script (a quoted here-document: nothing in
/// it is expanded by the shell).
fn through_client(sql: &str) -> String {
    format!("$MYSQL <<'SQL'\n{sql}SQL\n")
}

/// The lines that set `set` on a MySQL 8 server, `SET PERSIST` (or `SET PERSIST_ONLY`
/// for variables read at startup), and whether a restart is due.
fn persist_lines(m: Option<&MysqlFacts>, set: &[(String, String)]) -> (String, bool) {
    let mut out = String::new();
    let mut restart = false;
    for (name, value) in set {
        if dynamic(m, name) {
            out.push_str(&format!("SET PERSIST {name} = {value};\n"));
        } else {
            out.push_str(&format!(
                "SET PERSIST_ONLY {name} = {value};  -- read at startup: restart the server\n"
            ));
            restart = true;
        }
    }
    (out, restart)
}

/// What a shell script says about a restart for the variables read at startup.
const RESTART_NOTE: &str = "# Restart the server now (e.g. systemctl restart mariadb, or mysql): some of\n\
     # these variables are read only at startup.\n";

/// A step that changes server variables on each target (see the module comment for
/// how each flavor keeps the change), with a rollback to the recorded values.
pub(super) fn settings_step(
    ctx: &Context,
    findings: &[&Finding],
    file: &str,
    section: impl Fn(Option<&MysqlFacts>, &Finding) -> Section,
) -> Scripts {
    let empty = empty_finding();
    let targets: Vec<(Option<&MysqlFacts>, &Finding)> = if findings.is_empty() {
        vec![(None, &empty)]
    } else {
        findings.iter().map(|f| (facts(ctx, f), *f)).collect()
    };
    let sections: Vec<Section> = targets.iter().map(|(m, f)| section(*m, f)).collect();
    let label = |f: &Finding| {
        f.subject
            .clone()
            .unwrap_or_else(|| "<the MySQL/MariaDB server>".to_owned())
    };
    let evidence = evidence_lines(findings);
    let mut restart = false;
    let sql_only =
        targets.iter().all(|(m, _)| persists(*m)) || sections.iter().all(|s| s.set.is_empty());
    if sql_only {
        let mut script = evidence.replace("# ", "-- ");
        let mut rollback = String::new();
        for ((m, f), sec) in targets.iter().zip(&sections) {
            let (target, reset) = (label(f), sec.before(*m));
            let (set, again) = persist_lines(*m, &sec.set);
            restart |= again;
            script.push_str(&format!(
                "-- Target: {target}\n{}{set}{}",
                commented(&sec.note, "--"),
                sec.sql
            ));
            rollback.push_str(&format!(
                "-- Target: {target}\n{}",
                persist_lines(*m, &reset).0
            ));
            if sec.set.is_empty() {
                rollback.push_str("-- Nothing to undo: this part only reads.\n");
            }
        }
        if restart {
            script.push_str("-- Restart the server for the variables read at startup.\n");
            rollback.push_str("-- Restart the server for the variables read at startup.\n");
        }
        return Scripts {
            script: sql(script),
            rollback: sql(rollback),
            restart,
        };
    }
    let facts: Vec<Option<&MysqlFacts>> = targets.iter().map(|(m, _)| *m).collect();
    let preamble = shell_preamble(&facts, file, SET_GLOBAL_INTRO);
    let mut applies = Vec::new();
    let mut undos = Vec::new();
    for ((m, f), sec) in targets.iter().zip(&sections) {
        let (target, reset) = (label(f), sec.before(*m));
        let (mut apply, mut undo) = (String::new(), String::new());
        if persists(*m) {
            let (set, again) = persist_lines(*m, &sec.set);
            restart |= again;
            apply.push_str(&through_client(&format!("{set}{}", sec.sql)));
            if !reset.is_empty() {
                undo.push_str(&through_client(&persist_lines(*m, &reset).0));
            }
        } else {
            let global = |set: &[(String, String)]| -> String {
                set.iter()
                    .filter(|(name, _)| dynamic(*m, name))
                    .map(|(name, value)| format!("SET GLOBAL {name} = {value};\n"))
                    .collect()
            };
            let lines: String = sec
                .set
                .iter()
                .map(|(name, value)| format!("{name} = {}\n", value.trim_matches('\'')))
                .collect();
            let at_startup = sec.set.iter().any(|(name, _)| !dynamic(*m, name));
            restart |= at_startup;
            let now = format!("{}{}", global(&sec.set), sec.sql);
            if !now.is_empty() {
                apply.push_str(&through_client(&now));
            }
            if !sec.set.is_empty() {
                apply.push_str(&format!(
                    "cat > \"$CNF\" <<'EOF'\n\
                     # Written by a perfdiag plan step; delete it to roll back.\n\
                     [mysqld]\n{lines}EOF\n"
                ));
                undo.push_str("rm -f \"$CNF\"\n");
                let back = global(&reset);
                if !back.is_empty() {
                    undo.push_str(&through_client(&back));
                }
            }
            if at_startup {
                apply.push_str(RESTART_NOTE);
                undo.push_str(RESTART_NOTE);
            }
        }
        if undo.is_empty() {
            undo.push_str("# Nothing to undo here: this part only reads.\n:\n");
        }
        applies.push((target.clone(), commented(&sec.note, "#"), apply));
        undos.push((target, String::new(), undo));
    }
    let script = shell_sections(format!("{evidence}{preamble}"), &applies);
    let rollback = shell_sections(preamble, &undos);
    Scripts {
        script: sh(script),
        rollback: sh(rollback),
        restart,
    }
}

fn header(f: &Finding) -> String {
    format!(
        "-- Target: {}\n",
        f.subject.as_deref().unwrap_or("<the MySQL/MariaDB server>")
    )
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
        impact: None,
        tier: perfdiag_model::Tier::LOW,
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

fn settings_draft(scripts: Scripts, risk: Risk, metric: &str, target: &str) -> Draft {
    Draft {
        script: scripts.script,
        rollback: scripts.rollback,
        risk,
        needs_restart: scripts.restart,
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
        let scripts = settings_step(ctx, findings, "buffer-pool-size", |_, f| {
            let wanted = number(f, "mysql.wanted_buffer_pool_bytes").map(round_up_128m);
            let value = wanted.map_or_else(
                || "<bytes: InnoDB data + 10 %, at most 75 % of RAM>".to_owned(),
                |w| w.to_string(),
            );
            Section {
                note: "Resized online (MySQL 5.7.5+, MariaDB 10.2+) in chunks; watch\n\
                       SHOW STATUS LIKE 'Innodb_buffer_pool_resize_status' until it completes."
                    .to_owned(),
                set: vec![var("innodb_buffer_pool_size", value)],
                ..Section::default()
            }
        });
        settings_draft(
            scripts,
            Risk::Medium,
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
        let scripts = settings_step(ctx, findings, "buffer-pool-hit-ratio", |m, _| {
            let current = m.and_then(|m| m.settings.innodb_buffer_pool_size_bytes);
            let value = current.map_or_else(
                || "<current size x 1.5>".to_owned(),
                |c| round_up_128m(c as f64 * 1.5).to_string(),
            );
            Section {
                note: "Grow the buffer pool by half, within the host's free memory (check first:\n\
                       free -g; the server must keep at least 20-25 % of RAM for itself and the OS)."
                    .to_owned(),
                set: vec![var("innodb_buffer_pool_size", value)],
                ..Section::default()
            }
        });
        settings_draft(
            scripts,
            Risk::Medium,
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
        let scripts = settings_step(ctx, findings, "tmp-table-size", |m, _| {
            let current = m
                .and_then(|m| m.settings.tmp_table_size_bytes)
                .unwrap_or(16 << 20);
            let value = (current * 4).clamp(64 << 20, 256 << 20).to_string();
            Section {
                note: "The in-memory limit is the smaller of the two: raise both together. Statements\n\
                       with TEXT/BLOB columns (MySQL < 8.0.13, MariaDB) go to disk regardless: find\n\
                       them in the digests (SUM_CREATED_TMP_DISK_TABLES)."
                    .to_owned(),
                set: vec![
                    var("tmp_table_size", value.clone()),
                    var("max_heap_table_size", value),
                ],
                ..Section::default()
            }
        });
        settings_draft(scripts, Risk::Low, "mysql.tmp_disk_pct", "< 25 %")
    },
};

pub(super) const THREAD_CACHE: StepDef = StepDef {
    id: "mysql.config.thread_cache_size",
    rule_id: "mysql.threads.cache_misses",
    phase: Phase::QuickWins,
    build: |ctx, findings| {
        let scripts = settings_step(ctx, findings, "thread-cache-size", |m, f| {
            let current = m
                .and_then(|m| m.settings.thread_cache_size)
                .or_else(|| number(f, "mysql.thread_cache_size").map(|v| v as u64))
                .unwrap_or(0);
            // Never above max_connections: MariaDB caps it there at startup anyway.
            let cap = m
                .and_then(|m| m.settings.max_connections)
                .unwrap_or(1000)
                .min(1000);
            // The size MySQL 8 gives the cache for max_connections; when the cache is
            // already that big and threads are still created, double it.
            let value = match number(f, "mysql.expected.thread_cache_size") {
                Some(e) if e.round() as u64 > current => e.round() as u64,
                _ => (current * 2).clamp(64, 1000),
            };
            Section {
                set: vec![var("thread_cache_size", value.min(cap).to_string())],
                ..Section::default()
            }
        });
        settings_draft(scripts, Risk::Low, "mysql.threads_created_per_s", "< 1/s")
    },
};

pub(super) const FULL_SCANS: StepDef = StepDef {
    id: "mysql.sql.index_full_scans",
    rule_id: "mysql.statements.no_index",
    phase: Phase::SqlIndexes,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |_, f| full_scan_indexes(f));
        draft(
            scripts,
            Risk::Medium,
            false,
            "mysql.no_index_time_pct",
            "< 20 %",
        )
    },
};

/// The indexes the full-scanning digests ask for, added online; with none to read, a
/// template from the statement with the most full-scan time.
fn full_scan_indexes(f: &Finding) -> (String, String) {
    if let Some(found) = mysql_indexes(&[f]) {
        return found;
    }
    let stmt =
        text(f, "mysql.top_full_scan.digest_text").unwrap_or("<statement from mysql_statements>");
    (
        format!(
            "-- Statement with the most full-scan time in the window:\n--   {stmt}\n\
             -- 1. EXPLAIN it with real values; find the filtered columns without an index.\n\
             -- 2. Add the index online (the table and column names are yours to fill in):\n\
             ALTER TABLE <schema>.<table> ADD INDEX idx_<column> (<column>), ALGORITHM=INPLACE, LOCK=NONE;\n\
             -- 3. EXPLAIN again: type should be ref/range, not ALL.\n"
        ),
        "ALTER TABLE <schema>.<table> DROP INDEX idx_<column>, ALGORITHM=INPLACE, LOCK=NONE;\n"
            .to_owned(),
    )
}

pub(super) const MAX_CONNECTIONS: StepDef = StepDef {
    id: "mysql.config.max_connections",
    rule_id: "mysql.connections.near_max",
    phase: Phase::Configuration,
    build: |ctx, findings| {
        let scripts = settings_step(ctx, findings, "max-connections", |m, _| {
            let current = m.and_then(|m| m.settings.max_connections).unwrap_or(151);
            Section {
                note:
                    "Each connection can use per-session buffers (sort, join, read): check memory\n\
                       headroom first. A connection pool in the application is the lasting fix."
                        .to_owned(),
                set: vec![var("max_connections", (current + current / 2).to_string())],
                ..Section::default()
            }
        });
        settings_draft(
            scripts,
            Risk::Medium,
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
            let waits = if persists(m) {
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
        let scripts = settings_step(ctx, findings, "idle-transaction-timeout", |m, _| {
            if m.is_some_and(mariadb) {
                // MariaDB 10.3+: ends only sessions idle inside a transaction.
                Section {
                    note: "Ends sessions left idle inside a transaction for 10 minutes (their\n\
                           transaction rolls back); fix the application's commit path as well."
                        .to_owned(),
                    set: vec![var("idle_transaction_timeout", "600")],
                    ..Section::default()
                }
            } else {
                Section {
                    note: "MySQL has no idle-in-transaction timeout (wait_timeout would also end idle\n\
                           pooled connections). Find the sessions and fix the application's commit\n\
                           path; end one with KILL and its ID (its transaction rolls back)."
                        .to_owned(),
                    sql: "SELECT p.ID, p.USER, p.HOST, t.trx_started\nFROM information_schema.INNODB_TRX t\n\
                          JOIN information_schema.PROCESSLIST p ON p.ID = t.trx_mysql_thread_id\n\
                          WHERE p.COMMAND = 'Sleep' ORDER BY t.trx_started;\n"
                        .to_owned(),
                    ..Section::default()
                }
            }
        });
        settings_draft(
            scripts,
            Risk::Low,
            "mysql_sessions.idle_trx_age_ms.max",
            "< 60000 ms",
        )
    },
};

pub(super) const PRIMARY_KEYS: StepDef = StepDef {
    id: "mysql.schema.add_primary_keys",
    rule_id: "mysql.tables.no_primary_key",
    phase: Phase::SqlIndexes,
    build: |ctx, findings| {
        let scripts = per_target(ctx, findings, |_, f| {
            let tables = names(f, "mysql_tables.no_primary_key.names");
            let mut script = String::from(
                "-- If the table has a NOT NULL unique column, make that the primary key instead.\n\
                 -- Rebuilds the table and blocks writes meanwhile (a new AUTO_INCREMENT column\n\
                 -- cannot be added with LOCK=NONE): run off-peak, or with\n\
                 -- pt-online-schema-change / gh-ost on large tables.\n",
            );
            let mut rollback = String::new();
            for t in tables.iter().map(|t| quote_table(t)) {
                script.push_str(&format!(
                    "ALTER TABLE {t} ADD COLUMN perfdiag_id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY FIRST, ALGORITHM=INPLACE, LOCK=SHARED;\n"
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
    phase: Phase::SqlIndexes,
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
    let mariadb = m.is_some_and(mariadb);
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
    phase: Phase::SqlIndexes,
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
    phase: Phase::SqlIndexes,
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
        let targets: Vec<Option<&MysqlFacts>> = findings.iter().map(|f| facts(ctx, f)).collect();
        let client = client(&targets);
        let preamble = format!(
            "# Run where the client reaches the server as an administrator (MYSQL, default\n\
             # {client} with ~/.my.cnf). Make sure a local administrator account still works\n\
             # before dropping remote root. Each account's CREATE USER and GRANTs are saved\n\
             # first to $SAVED (default: perfdiag-saved-accounts.sql in the current folder):\n\
             # the rollback replays that file, so keep it.\n\
             set -eu\n\
             MYSQL=${{MYSQL:-{client}}}\n\
             SAVED=${{SAVED:-perfdiag-saved-accounts.sql}}\n"
        );
        let mut applies = Vec::new();
        let mut undos = Vec::new();
        for f in findings {
            let accounts: Vec<String> = names(f, "mysql.accounts.anonymous.names")
                .into_iter()
                .chain(names(f, "mysql.accounts.remote_root.names"))
                .collect();
            let show: String = accounts
                .iter()
                .map(|a| format!("SHOW CREATE USER {a};\nSHOW GRANTS FOR {a};\n"))
                .collect();
            let drop: String = accounts
                .iter()
                .map(|a| format!("DROP USER {a};\n"))
                .collect();
            let target = f
                .subject
                .clone()
                .unwrap_or_else(|| "<the MySQL/MariaDB server>".to_owned());
            applies.push((
                target.clone(),
                String::new(),
                format!(
                    "if [ -e \"$SAVED\" ]; then echo \"$SAVED exists: move it away first\" >&2; exit 1; fi\n\
                     $MYSQL -N -r <<'SQL' | sed 's/$/;/' > \"$SAVED\"\n{show}SQL\n{}",
                    through_client(&drop)
                ),
            ));
            undos.push((target, String::new(), "$MYSQL < \"$SAVED\"\n".to_owned()));
        }
        Draft {
            script: sh(shell_sections(
                format!("{}{preamble}", evidence_lines(findings)),
                &applies,
            )),
            rollback: sh(shell_sections(preamble, &undos)),
            risk: Risk::Medium,
            needs_restart: false,
            verify: verify("mysql.accounts.anonymous", "= 0"),
        }
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
                if m.is_some_and(mariadb) {
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
        let scripts = settings_step(ctx, findings, "slow-log", |_, _| Section {
            note: "Log statements slower than 1 s; the log grows with the workload: rotate it\n\
                   (logrotate, or FLUSH SLOW LOGS) and keep it on a volume with free space."
                .to_owned(),
            set: vec![var("slow_query_log", "ON"), var("long_query_time", "1")],
            ..Section::default()
        });
        settings_draft(
            scripts,
            Risk::Low,
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
        let targets: Vec<Option<&MysqlFacts>> = if findings.is_empty() {
            vec![None]
        } else {
            findings.iter().map(|f| facts(ctx, f)).collect()
        };
        let service = if client(&targets) == "mariadb" {
            "mariadb"
        } else {
            "mysql"
        };
        let intro = format!(
            "Run on the database server as root. performance_schema cannot be switched on\n\
             at run time: the option file takes effect at the next restart of the server\n\
             (e.g. systemctl restart {service}), which this step needs."
        );
        let preamble = shell_preamble(&targets, "performance-schema", &intro);
        Draft {
            script: sh(format!(
                "{}{preamble}cat > \"$CNF\" <<'EOF'\n\
                 # Written by a perfdiag plan step; delete it to roll back.\n\
                 [mysqld]\nperformance_schema = ON\nEOF\n",
                evidence_lines(findings)
            )),
            rollback: sh(format!(
                "{preamble}rm -f \"$CNF\"\n# Then restart the server again (systemctl restart {service}).\n"
            )),
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
    fn full_scans_get_the_indexes_their_statements_ask_for_added_online() {
        let t = |s: &str| Value::text(s);
        let step = plan_for(
            facts(MysqlFlavor::Mariadb, "10.11.6-MariaDB"),
            "mysql.statements.no_index",
            vec![
                ev(
                    "mysql.index.candidate",
                    t("`app`.`orders` (`customer_id`, `day`)"),
                ),
                ev(
                    "mysql.index.candidate.query",
                    t("SELECT * FROM `orders` WHERE …"),
                ),
                ev(
                    "mysql.index.covered_by",
                    t("`app`.`items` (`sku`) (indexes: (sku))"),
                ),
                ev(
                    "mysql.index.candidate.query",
                    t("SELECT * FROM `items` WHERE …"),
                ),
            ],
        );
        let body = &step.script.body;
        assert!(!step.template, "{body}");
        assert!(
            body.contains(
                "ALTER TABLE `app`.`orders` ADD INDEX orders_customer_id_day_idx \
                 (`customer_id`, `day`), ALGORITHM=INPLACE, LOCK=NONE;"
            ),
            "{body}"
        );
        assert!(body.contains("already leads with the filtered columns: `app`.`items`"));
        assert!(step.rollback.body.contains(
            "ALTER TABLE `app`.`orders` DROP INDEX orders_customer_id_day_idx, ALGORITHM=INPLACE, LOCK=NONE;"
        ));
        assert!(!step.rollback.body.contains("items"));
        // Without candidates: the template from the heaviest full scan.
        let step = plan_for(
            facts(MysqlFlavor::Mariadb, "10.11.6-MariaDB"),
            "mysql.statements.no_index",
            vec![ev(
                "mysql.top_full_scan.digest_text",
                t("SELECT * FROM `t`"),
            )],
        );
        assert!(step.template);
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

    #[test]
    fn mariadb_gets_set_global_and_an_option_file_never_set_persist() {
        // The flavor was not recorded: the version string still tells MariaDB.
        let mut m = facts(MysqlFlavor::Mariadb, "10.11.6-MariaDB-0+deb12u1");
        m.flavor = None;
        let step = plan_for(m, "mysql.logging.slow_log_off", vec![]);
        let (script, rollback) = (&step.script, &step.rollback);
        assert_eq!(
            (script.language.as_str(), rollback.language.as_str()),
            ("sh", "sh")
        );
        assert!(!script.body.contains("SET PERSIST slow"), "{}", script.body);
        assert!(
            script.body.contains("MYSQL=${MYSQL:-mariadb}"),
            "{}",
            script.body
        );
        assert!(
            script.body.contains(
                "$MYSQL <<'SQL'\nSET GLOBAL slow_query_log = ON;\nSET GLOBAL long_query_time = 1;\nSQL\n"
            ),
            "{}",
            script.body
        );
        assert!(
            script
                .body
                .contains("CNF=\"$CNF_DIR/99-perfdiag-slow-log.cnf\"")
        );
        assert!(
            script
                .body
                .contains("[mysqld]\nslow_query_log = ON\nlong_query_time = 1\nEOF\n"),
            "{}",
            script.body
        );
        assert!(rollback.body.contains("rm -f \"$CNF\"\n"));
        assert!(rollback.body.contains("SET GLOBAL slow_query_log = 'OFF';"));
        assert!(!step.template);

        // MySQL 8 persists by itself: plain SQL.
        let step = plan_for(
            facts(MysqlFlavor::Mysql, "8.0.36"),
            "mysql.logging.slow_log_off",
            vec![],
        );
        assert_eq!(step.script.language, "sql");
        assert!(
            step.script
                .body
                .contains("SET PERSIST slow_query_log = ON;")
        );
        assert!(
            step.rollback
                .body
                .contains("SET PERSIST slow_query_log = 'OFF';")
        );
    }

    #[test]
    fn a_shell_step_for_several_servers_runs_only_the_section_of_target() {
        let mut a = facts(MysqlFlavor::Mariadb, "10.11.6-MariaDB");
        let mut b = a.clone();
        a.target = "mysql://app@db1:3306/".to_owned();
        b.target = "mysql://app@db2:3306/".to_owned();
        b.variables
            .insert("slow_query_log".to_owned(), "ON".to_owned());
        let mut s = snapshot(None);
        s.set_fact(facts_names::MYSQL, &vec![a.clone(), b.clone()]);
        let findings = vec![
            finding(
                "mysql.logging.slow_log_off",
                Severity::Warning,
                Some(&a.target),
                vec![],
            ),
            finding(
                "mysql.logging.slow_log_off",
                Severity::Warning,
                Some(&b.target),
                vec![],
            ),
        ];
        let plan = crate::plan(&assessment(findings), &s);
        let body = &plan.steps[0].rollback.body;
        assert!(body.contains(": \"${TARGET:?"), "{body}");
        assert!(
            body.contains("if [ \"$TARGET\" = 'mysql://app@db2:3306/' ]; then\nrm -f"),
            "{body}"
        );
        assert!(body.contains("SET GLOBAL slow_query_log = 'ON';"), "{body}");
    }

    #[test]
    fn accounts_are_saved_before_they_are_dropped() {
        let step = plan_for(
            facts(MysqlFlavor::Mariadb, "10.11.6-MariaDB"),
            "mysql.security.anonymous_or_remote_root",
            vec![ev(
                "mysql.accounts.anonymous.names",
                Value::text("''@'localhost'"),
            )],
        );
        let body = &step.script.body;
        let save = body.find("SHOW CREATE USER ''@'localhost';").expect(body);
        let drop = body.find("DROP USER ''@'localhost';").expect(body);
        assert!(save < drop);
        assert!(step.rollback.body.contains("$MYSQL < \"$SAVED\""));
    }

    #[test]
    fn the_thread_cache_is_the_size_mysql_8_gives_it_for_max_connections() {
        let mut m = facts(MysqlFlavor::Mysql, "8.0.36");
        m.settings.thread_cache_size = Some(0);
        m.settings.max_connections = Some(1500);
        let expected = vec![ev(
            "mysql.expected.thread_cache_size",
            Value::number(23.0, Unit::None),
        )];
        let step = plan_for(m.clone(), "mysql.threads.cache_misses", expected.clone());
        assert!(
            step.script
                .body
                .contains("SET PERSIST thread_cache_size = 23;"),
            "{}",
            step.script.body
        );
        // Already that big and still creating threads: doubled.
        m.settings.thread_cache_size = Some(100);
        let step = plan_for(m.clone(), "mysql.threads.cache_misses", expected);
        assert!(
            step.script
                .body
                .contains("SET PERSIST thread_cache_size = 200;"),
            "{}",
            step.script.body
        );
        // Without the expected value: doubled, at least 64.
        m.settings.thread_cache_size = Some(0);
        let step = plan_for(m, "mysql.threads.cache_misses", vec![]);
        assert!(
            step.script
                .body
                .contains("SET PERSIST thread_cache_size = 64;")
        );
    }
}
