//! SQL Server plan scripts, end to end: a snapshot of a neglected SQL Server (facts and
//! the four `mssql_*` tables) → assessment → plan → T-SQL that parses.
//!
//! No SQL Server can run on these machines, so the scripts cannot be run as the
//! PostgreSQL and MariaDB ones are (probes/tests/plan_scripts.rs). What is tested
//! instead:
//! - every apply and rollback script parses with sqlparser's `MsSqlDialect`. sqlparser
//!   0.64 does not know some T-SQL statements the scripts need (`RECONFIGURE`,
//!   `ALTER DATABASE`, `ALTER LOGIN`, `ALTER INDEX … DISABLE|REBUILD`, `DBCC`,
//!   `BACKUP`). Each of those is checked on its own against the exact shape the steps
//!   write ([`SHAPES`], from the T-SQL reference) and replaced by a parseable stand-in,
//!   so the script around it (IF/BEGIN/END, EXEC, SELECT, CREATE/DROP INDEX) is still
//!   parsed whole. The test also asserts sqlparser still rejects each such statement:
//!   the day it learns one, the stand-in must go.
//! - every change is guarded by a check of the current state (idempotent in form);
//! - the rollbacks restore the values the snapshot recorded.

use chrono::{DateTime, Duration, TimeZone, Utc};
use perfdiag_model::facts::MssqlFacts;
use perfdiag_model::facts::mssql::{
    MssqlConfiguration, MssqlCounters, MssqlDatabase, MssqlDatabaseFile, MssqlFileIo,
    MssqlPlanCache, MssqlSecurity, MssqlSystem,
};
use perfdiag_model::{
    CollectionWindow, HostIdentity, Plan, PlanStep, Snapshot, Table, col, facts_names, tables,
};
use sqlparser::dialect::MsSqlDialect;
use sqlparser::parser::Parser;

const TARGET: &str = "mssql://perfdiag@sql1:1433/erp";
const GIB: i64 = 1 << 30;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0)
        .single()
        .expect("valid date")
}

fn config(name: &str, value: i64) -> MssqlConfiguration {
    MssqlConfiguration {
        name: name.to_owned(),
        value,
        value_in_use: value,
        is_dynamic: true,
        is_advanced: true,
        ..MssqlConfiguration::default()
    }
}

fn database(name: &str, id: i64) -> MssqlDatabase {
    MssqlDatabase {
        name: name.to_owned(),
        database_id: id,
        state: Some("ONLINE".to_owned()),
        recovery_model: Some(if id > 4 { "FULL" } else { "SIMPLE" }.to_owned()),
        page_verify: Some("CHECKSUM".to_owned()),
        auto_shrink: Some(false),
        read_committed_snapshot: Some(false),
        is_read_only: Some(false),
        vlf_count: Some(50),
        log_bytes: Some(16 * GIB),
        last_full_backup: Some(start() - Duration::hours(20)),
        last_log_backup: Some(start() - Duration::minutes(10)),
        last_good_checkdb: Some(start() - Duration::days(2)),
        auto_close: Some(false),
        ..MssqlDatabase::default()
    }
}

fn file(database: &str, id: i64, kind: &str, ops: i64, stall: i64) -> MssqlFileIo {
    let log = kind == "LOG";
    MssqlFileIo {
        database: database.to_owned(),
        file_id: id,
        file: format!("{database}_{}", if log { "log" } else { "data" }),
        type_desc: kind.to_owned(),
        reads: if log { 0 } else { ops },
        read_stall_ms: if log { 0 } else { stall },
        writes: if log { ops } else { 0 },
        write_stall_ms: if log { stall } else { 0 },
        size_bytes: Some(if log { 16 * GIB } else { 200 * GIB }),
        ..MssqlFileIo::default()
    }
}

/// A SQL Server 2019 installed with its defaults and left alone: 32 logical
/// processors on two NUMA nodes, 64 GiB, unlimited memory, MAXDOP 0, one tempdb data
/// file, priority boost on, an auto-shrinking, auto-closing ERP database with
/// torn-page detection, 12 000 VLFs, no log backup and no integrity check for 40 days,
/// sa enabled, xp_cmdshell on; blocking, a CPU-heavy statement, two overlapping
/// missing indexes and an index written but never read.
fn neglected() -> Snapshot {
    let t0 = start();
    let mut erp = database("erp", 5);
    erp.auto_shrink = Some(true);
    erp.auto_close = Some(true);
    erp.last_good_checkdb = Some(start() - Duration::days(40));
    erp.page_verify = Some("TORN_PAGE_DETECTION".to_owned());
    erp.vlf_count = Some(12_000);
    erp.last_log_backup = None;
    let facts = MssqlFacts {
        target: TARGET.to_owned(),
        product_version: Some("15.0.4322.2".to_owned()),
        engine_edition: Some(2),
        database: Some("erp".to_owned()),
        uptime_secs: Some(40.0 * 86_400.0),
        system: Some(MssqlSystem {
            cpu_count: Some(32),
            scheduler_count: Some(32),
            numa_node_count: Some(2),
            physical_memory_bytes: Some(64 * GIB),
            ..MssqlSystem::default()
        }),
        configurations: vec![
            config("max server memory (MB)", 2_147_483_647),
            config("max degree of parallelism", 0),
            config("cost threshold for parallelism", 5),
            config("optimize for ad hoc workloads", 0),
            config("xp_cmdshell", 1),
            MssqlConfiguration {
                is_dynamic: false,
                ..config("priority boost", 1)
            },
            MssqlConfiguration {
                is_dynamic: false,
                ..config("lightweight pooling", 0)
            },
            config("clr enabled", 0),
            config("show advanced options", 0),
        ],
        plan_cache: Some(MssqlPlanCache {
            plans: 20_000,
            bytes: 4 * GIB,
            single_use_adhoc_plans: 60_000,
            single_use_adhoc_bytes: 3 * GIB,
        }),
        databases: vec![
            database("master", 1),
            database("tempdb", 2),
            database("model", 3),
            database("msdb", 4),
            erp,
        ],
        tempdb_files: vec![
            MssqlDatabaseFile {
                file_id: 1,
                name: "tempdev".to_owned(),
                type_desc: "ROWS".to_owned(),
                physical_name: Some("T:\\tempdb\\tempdb.mdf".to_owned()),
                size_bytes: Some(8 * GIB),
                growth_bytes: Some(512 << 20),
                growth_pct: None,
            },
            MssqlDatabaseFile {
                file_id: 2,
                name: "templog".to_owned(),
                type_desc: "LOG".to_owned(),
                physical_name: Some("T:\\tempdb\\templog.ldf".to_owned()),
                size_bytes: Some(2 * GIB),
                ..MssqlDatabaseFile::default()
            },
        ],
        start: Some(MssqlCounters {
            at: t0,
            files: vec![file("erp", 1, "ROWS", 0, 0), file("erp", 2, "LOG", 0, 0)],
            ..MssqlCounters::default()
        }),
        // Data reads at 2 ms, log writes at 25 ms.
        end: Some(MssqlCounters {
            at: t0 + Duration::seconds(60),
            files: vec![
                file("erp", 1, "ROWS", 60_000, 120_000),
                file("erp", 2, "LOG", 2_000, 50_000),
            ],
            ..MssqlCounters::default()
        }),
        security: Some(MssqlSecurity {
            sa_enabled: Some(true),
            sa_name: Some("sa".to_owned()),
            sysadmins: vec!["sa".to_owned()],
            logins_without_policy: vec!["erp_app".to_owned()],
            windows_auth_only: Some(false),
            logins_visible: Some(true),
            ..MssqlSecurity::default()
        }),
        ..MssqlFacts::default()
    };
    let mut s = Snapshot::new(
        HostIdentity {
            hostname: "laptop".to_owned(),
            os: "Debian GNU/Linux 12".to_owned(),
            kernel: None,
            arch: "x86_64".to_owned(),
            machine_id: None,
        },
        CollectionWindow {
            started_at: t0,
            ended_at: t0 + Duration::seconds(60),
            interval_ms: 1000,
            requested_duration_ms: 60_000,
            ended_early: false,
        },
    );
    s.set_fact(facts_names::MSSQL, &vec![facts]);
    let us = t0.timestamp_micros();
    // Sessions 61 and 62 blocked behind 55 for three samples.
    let blocked: Vec<(i64, i64, i64)> = (0..3).flat_map(|t| [(t, 61, 55), (t, 62, 61)]).collect();
    let n = blocked.len();
    let target = |n: usize| col::utf8((0..n).map(|_| Some(TARGET)));
    s.put_table(
        tables::MSSQL_SESSIONS,
        Table::new()
            .with(
                "ts",
                col::timestamp(blocked.iter().map(|r| Some(us + (r.0 + 1) * 1_000_000))),
            )
            .with("target", target(n))
            .with("session_id", col::i64(blocked.iter().map(|r| Some(r.1))))
            .with("status", col::utf8((0..n).map(|_| Some("suspended"))))
            .with("wait_type", col::utf8((0..n).map(|_| Some("LCK_M_U"))))
            .with("wait_class", col::utf8((0..n).map(|_| Some("Lock"))))
            .with("wait_time_ms", col::i64((0..n).map(|_| Some(4000))))
            .with(
                "blocking_session_id",
                col::i64(blocked.iter().map(|r| Some(r.2))),
            ),
    );
    s.put_table(
        tables::MSSQL_STATEMENTS,
        Table::new()
            .with("target", target(1))
            .with("query_hash", col::utf8([Some("0x8F2C1D00AA00BB01")]))
            .with("fingerprint_id", col::utf8([Some("8f2c1d00aa00bb01")]))
            .with("database", col::utf8([Some("erp")]))
            .with(
                "query",
                col::utf8([Some(
                    "SELECT o.id, o.total FROM dbo.orders AS o WHERE o.note LIKE @p1",
                )]),
            )
            .with("calls", col::i64([Some(9000)]))
            .with("total_ms", col::f64([Some(700_000.0)]))
            .with("total_cpu_ms", col::f64([Some(576_000.0)]))
            .with("over_window", col::bool([Some(true)])),
    );
    let missing = [
        (
            "[customer_id]",
            Some("[created_at]"),
            Some("[total]"),
            2_000_000.0,
        ),
        ("[customer_id]", None, Some("[status]"), 500_000.0),
    ];
    let on = |v: &'static str| col::utf8([Some(v), Some(v)]);
    s.put_table(
        tables::MSSQL_MISSING_INDEXES,
        Table::new()
            .with("target", target(2))
            .with("database", on("erp"))
            .with("schema", on("dbo"))
            .with("table", on("orders"))
            .with(
                "equality_columns",
                col::utf8(missing.iter().map(|m| Some(m.0))),
            )
            .with("inequality_columns", col::utf8(missing.iter().map(|m| m.1)))
            .with("included_columns", col::utf8(missing.iter().map(|m| m.2)))
            .with("improvement", col::f64(missing.iter().map(|m| Some(m.3)))),
    );
    s.put_table(
        tables::MSSQL_INDEXES,
        Table::new()
            .with("target", target(1))
            .with("database", col::utf8([Some("erp")]))
            .with("schema", col::utf8([Some("dbo")]))
            .with("table", col::utf8([Some("orders")]))
            .with("index", col::utf8([Some("ix_orders_note")]))
            .with("type_desc", col::utf8([Some("NONCLUSTERED")]))
            .with("is_unique", col::bool([Some(false)]))
            .with("is_primary_key", col::bool([Some(false)]))
            .with("user_seeks", col::i64([Some(0)]))
            .with("user_scans", col::i64([Some(0)]))
            .with("user_lookups", col::i64([Some(0)]))
            .with("user_updates", col::i64([Some(2_500_000)]))
            .with("size_bytes", col::i64([Some(GIB)])),
    );
    s
}

fn plan() -> Plan {
    let snapshot = neglected();
    let baseline = perfdiag_analyzers::Baseline::builtin();
    let assessment = perfdiag_analyzers::assess(&snapshot, &baseline).expect("assessment runs");
    perfdiag_advice::plan(&assessment, &snapshot)
}

fn mssql_steps(plan: &Plan) -> Vec<&PlanStep> {
    plan.steps
        .iter()
        .filter(|s| s.id.starts_with("mssql."))
        .collect()
}

fn step<'a>(plan: &'a Plan, id: &str) -> &'a PlanStep {
    plan.steps
        .iter()
        .find(|s| s.id == id)
        .unwrap_or_else(|| panic!("no step {id}"))
}

/// One token of a T-SQL statement, as [`SHAPES`] names them.
fn tokens(statement: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = statement.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {}
            '[' => {
                // A bracketed identifier; `]]` is an escaped `]`.
                loop {
                    match chars.next() {
                        Some(']') if chars.peek() == Some(&']') => {
                            chars.next();
                        }
                        Some(']') | None => break,
                        Some(_) => {}
                    }
                }
                out.push("ID".to_owned());
            }
            'N' if chars.peek() == Some(&'\'') => {
                chars.next();
                loop {
                    match chars.next() {
                        Some('\'') if chars.peek() == Some(&'\'') => {
                            chars.next();
                        }
                        Some('\'') | None => break,
                        Some(_) => {}
                    }
                }
                out.push("STR".to_owned());
            }
            c if c.is_ascii_digit() => {
                while chars.peek().is_some_and(char::is_ascii_digit) {
                    chars.next();
                }
                out.push("NUM".to_owned());
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let mut word = String::from(c);
                while let Some(&n) = chars.peek() {
                    if n.is_ascii_alphanumeric() || n == '_' {
                        word.push(n);
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(word.to_ascii_uppercase());
            }
            c => out.push(c.to_string()),
        }
    }
    out
}

/// The T-SQL statements sqlparser 0.64 cannot parse, in the exact shapes the steps
/// write them (T-SQL reference: RECONFIGURE; ALTER DATABASE SET options and File and
/// Filegroup options; ALTER LOGIN; ALTER INDEX; DBCC SHRINKFILE; BACKUP). `ID` is a
/// bracketed identifier, `STR` an N'…' literal, `NUM` a number, `A|B` one of the
/// words.
const SHAPES: &[&str] = &[
    "RECONFIGURE ;",
    "ALTER DATABASE ID SET AUTO_SHRINK|AUTO_CLOSE ON|OFF ;",
    "ALTER DATABASE ID SET PAGE_VERIFY CHECKSUM|TORN_PAGE_DETECTION|NONE ;",
    "ALTER DATABASE ID ADD FILE ( NAME = STR , FILENAME = STR , SIZE = NUM MB , FILEGROWTH = NUM MB ) ;",
    "ALTER DATABASE ID MODIFY FILE ( NAME = STR , SIZE = NUM MB , FILEGROWTH = NUM MB ) ;",
    "ALTER DATABASE ID REMOVE FILE ID ;",
    "ALTER LOGIN ID ENABLE|DISABLE ;",
    "ALTER LOGIN ID WITH CHECK_POLICY = ON|OFF ;",
    "ALTER INDEX ID ON ID . ID DISABLE|REBUILD ;",
    "DBCC SHRINKFILE ( STR , EMPTYFILE ) ;",
    "DBCC SHRINKFILE ( STR , NUM , TRUNCATEONLY ) ;",
    "DBCC CHECKDB ( STR ) WITH NO_INFOMSGS , ALL_ERRORMSGS ;",
    "BACKUP DATABASE|LOG ID TO DISK = STR WITH CHECKSUM , COMPRESSION ;",
];

fn matches_shape(statement: &str) -> bool {
    let got = tokens(statement);
    SHAPES.iter().any(|shape| {
        let want: Vec<&str> = shape.split(' ').collect();
        want.len() == got.len()
            && want
                .iter()
                .zip(&got)
                .all(|(w, g)| w.split('|').any(|alt| alt == g))
    })
}

/// Leading keywords of the statements sqlparser 0.64 does not parse.
const UNPARSED: [&str; 6] = [
    "RECONFIGURE",
    "ALTER DATABASE",
    "ALTER LOGIN",
    "ALTER INDEX",
    "DBCC",
    "BACKUP",
];

/// Checks one script: every line holding a statement sqlparser cannot parse has the
/// exact shape of [`SHAPES`] and is still rejected by sqlparser; the script with those
/// lines replaced by `PRINT N'…';` parses whole. Returns the problems.
fn check_script(id: &str, which: &str, body: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let mut stood_in = String::new();
    for line in body.lines() {
        let trimmed = line.trim();
        if UNPARSED.iter().any(|k| trimmed.starts_with(k)) {
            if !matches_shape(trimmed) {
                problems.push(format!("{id} {which}: unknown shape: {trimmed}"));
            }
            if Parser::parse_sql(&MsSqlDialect {}, trimmed).is_ok() {
                problems.push(format!(
                    "{id} {which}: sqlparser now parses `{trimmed}`: drop its stand-in"
                ));
            }
            stood_in.push_str("PRINT N'stand-in';\n");
        } else {
            stood_in.push_str(line);
            stood_in.push('\n');
        }
    }
    match Parser::parse_sql(&MsSqlDialect {}, &stood_in) {
        Ok(statements) if statements.is_empty() && !stood_in.lines().all(is_comment) => {
            problems.push(format!("{id} {which}: no statement parsed"));
        }
        Ok(_) => {}
        Err(e) => problems.push(format!("{id} {which}: {e}\n{stood_in}")),
    }
    problems
}

fn is_comment(line: &str) -> bool {
    line.trim().is_empty() || line.trim_start().starts_with("--")
}

#[test]
fn the_neglected_server_gets_a_step_for_every_sql_server_rule() {
    let plan = plan();
    let ids: Vec<&str> = mssql_steps(&plan).iter().map(|s| s.id.as_str()).collect();
    let rules: Vec<&str> = perfdiag_analyzers::implemented_rule_ids()
        .filter(|id| id.starts_with("mssql."))
        .collect();
    assert!(rules.len() >= 15, "{rules:?}");
    assert_eq!(ids.len(), rules.len(), "{ids:?}");
    for s in mssql_steps(&plan) {
        assert_eq!(s.subject.as_deref(), Some(TARGET), "{}", s.id);
    }
}

#[test]
fn every_sql_server_script_parses_with_the_mssql_dialect() {
    let plan = plan();
    let mut problems = Vec::new();
    let mut parsed = 0;
    for s in mssql_steps(&plan) {
        for (which, script) in [("script", &s.script), ("rollback", &s.rollback)] {
            if script.language == "manual" {
                continue;
            }
            assert_eq!(script.language, "sql", "{} {which}", s.id);
            problems.extend(check_script(&s.id, which, &script.body));
            parsed += 1;
        }
    }
    assert!(parsed >= 30, "{parsed} scripts");
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn the_shape_check_rejects_what_the_steps_never_write() {
    assert!(matches_shape("ALTER DATABASE [erp] SET AUTO_SHRINK OFF;"));
    assert!(matches_shape("ALTER INDEX [ix] ON [dbo].[orders] REBUILD;"));
    for wrong in [
        "ALTER DATABASE [erp] SET AUTO_SHRINK MAYBE;",
        "ALTER DATABASE erp SET AUTO_SHRINK OFF;",
        "ALTER DATABASE [erp] SET AUTO_SHRINK OFF",
        "ALTER LOGIN [sa] DISABLE; DROP TABLE [x];",
        "RECONFIGURE WITH OVERRIDE;",
    ] {
        assert!(!matches_shape(wrong), "{wrong}");
    }
    // A script with a broken statement outside the shapes fails to parse.
    let broken = "IF (SELECT 1) = 1\nBEGIN\n    RECONFIGURE;\nEND\nSELEC 1;\n";
    assert!(!check_script("t", "script", broken).is_empty());
}

/// Statements that change the server, which must sit inside an `IF … BEGIN … END`
/// checking the current state first (a backup and the log shrink, harmless to repeat,
/// excepted).
fn changes_state(line: &str) -> bool {
    let l = line.trim();
    (l.starts_with("EXEC sys.sp_configure") && !l.contains("N'show advanced options'"))
        || [
            "ALTER DATABASE",
            "ALTER LOGIN",
            "ALTER INDEX",
            "CREATE INDEX",
        ]
        .iter()
        .any(|k| l.starts_with(k))
}

#[test]
fn every_change_is_guarded_by_a_check_of_the_current_state() {
    let plan = plan();
    for s in mssql_steps(&plan) {
        let mut guarded = false;
        let mut last_if = false;
        for line in s.script.body.lines() {
            let l = line.trim();
            if l.starts_with("IF ") {
                last_if = true;
            } else if l == "BEGIN" && last_if {
                guarded = true;
            } else if l == "END;" {
                guarded = false;
                last_if = false;
            } else if changes_state(l) {
                assert!(guarded, "{}: unguarded change `{l}`", s.id);
            }
        }
    }
}

#[test]
fn rollbacks_restore_the_recorded_values() {
    let plan = plan();
    let rollback = |id: &str| step(&plan, id).rollback.body.clone();
    let script = |id: &str| step(&plan, id).script.body.clone();
    assert!(
        rollback("mssql.config.max_server_memory")
            .contains("EXEC sys.sp_configure N'max server memory (MB)', 2147483647;")
    );
    // 64 GiB less 10 GiB for the OS.
    assert!(
        script("mssql.config.max_server_memory")
            .contains("EXEC sys.sp_configure N'max server memory (MB)', 55296;")
    );
    assert!(
        script("mssql.config.max_server_memory").contains(
            "IF (SELECT CAST(value_in_use AS BIGINT) FROM sys.configurations WHERE name = N'max server memory (MB)') <> 55296"
        )
    );
    assert!(
        script("mssql.config.maxdop").contains("N'max degree of parallelism', 16;"),
        "{}",
        script("mssql.config.maxdop")
    );
    assert!(rollback("mssql.config.maxdop").contains("N'max degree of parallelism', 0;"));
    assert!(
        rollback("mssql.config.cost_threshold").contains("N'cost threshold for parallelism', 5;")
    );
    assert!(
        rollback("mssql.config.optimize_for_ad_hoc")
            .contains("N'optimize for ad hoc workloads', 0;")
    );
    // Advanced options go back to how they were (off).
    assert!(
        script("mssql.config.maxdop")
            .contains("EXEC sys.sp_configure N'show advanced options', 0;")
    );
    let surface = script("mssql.security.reduce_surface_area");
    assert!(surface.contains("N'xp_cmdshell', 0;"), "{surface}");
    assert!(
        !surface.contains("N'clr enabled', 0;"),
        "only what is on: {surface}"
    );
    assert!(rollback("mssql.security.reduce_surface_area").contains("N'xp_cmdshell', 1;"));
    assert!(
        rollback("mssql.database.auto_shrink_off")
            .contains("ALTER DATABASE [erp] SET AUTO_SHRINK ON;")
    );
    assert!(
        rollback("mssql.database.page_verify_checksum")
            .contains("ALTER DATABASE [erp] SET PAGE_VERIFY TORN_PAGE_DETECTION;")
    );
    assert!(rollback("mssql.security.disable_sa").contains("ALTER LOGIN [sa] ENABLE;"));
    assert!(
        rollback("mssql.security.check_policy")
            .contains("ALTER LOGIN [erp_app] WITH CHECK_POLICY = OFF;")
    );
    // The two overlapping suggestions make one index.
    let create = script("mssql.indexes.create_missing");
    assert_eq!(create.matches("CREATE INDEX").count(), 1, "{create}");
    assert!(create.contains(
        "CREATE INDEX [ix_orders_customer_id_created_at] ON [dbo].[orders] ([customer_id], [created_at]) INCLUDE ([total], [status]);"
    ));
    assert!(
        rollback("mssql.indexes.create_missing")
            .contains("DROP INDEX IF EXISTS [ix_orders_customer_id_created_at] ON [dbo].[orders];")
    );
    assert!(
        rollback("mssql.indexes.disable_unused")
            .contains("ALTER INDEX [ix_orders_note] ON [dbo].[orders] REBUILD;")
    );
    // Seven tempdb files added next to the first, each removed by the rollback.
    let tempdb = script("mssql.tempdb.add_data_files");
    assert_eq!(tempdb.matches("ADD FILE").count(), 7, "{tempdb}");
    assert!(tempdb.contains(
        "FILENAME = N'T:\\tempdb\\tempdev_perfdiag1.ndf', SIZE = 8192MB, FILEGROWTH = 512MB"
    ));
    assert_eq!(
        rollback("mssql.tempdb.add_data_files")
            .matches("REMOVE FILE")
            .count(),
        7
    );
    assert!(
        rollback("mssql.database.auto_close_off")
            .contains("ALTER DATABASE [erp] SET AUTO_CLOSE ON;")
    );
    // Options read at startup: the guard reads the configured value, and a restart.
    let boost = step(&plan, "mssql.config.disable_scheduling_options");
    assert!(boost.needs_restart);
    assert!(boost.script.body.contains(
        "IF (SELECT CAST(value AS BIGINT) FROM sys.configurations WHERE name = N'priority boost') <> 0"
    ));
    assert!(!boost.script.body.contains("N'lightweight pooling', 0;"));
    assert!(boost.rollback.body.contains("N'priority boost', 1;"));
    // The restart comes after the other option changes of the same server and phase.
    for id in ["mssql.config.max_server_memory", "mssql.config.maxdop"] {
        assert!(
            boost.depends_on.iter().any(|d| d == id),
            "{:?}",
            boost.depends_on
        );
    }
    let only_boost: Vec<&str> = mssql_steps(&plan)
        .iter()
        .filter(|s| s.needs_restart)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(only_boost, ["mssql.config.disable_scheduling_options"]);
    // Only the backup step asks for a value the snapshot cannot know (the folder).
    let templates: Vec<&str> = mssql_steps(&plan)
        .iter()
        .filter(|s| s.template)
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(templates, ["mssql.backup.schedule"]);
}
