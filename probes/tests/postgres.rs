//! The PostgreSQL collector against throwaway PostgreSQL 15 servers (no mocks): planted
//! faults are captured in the output and reported by the assessment and the plan; a
//! `pg_monitor`-only read-only role collects, with what needs more `skipped` and the
//! GRANT; unreachable servers, servers killed mid-window and probe queries hitting
//! the lock timeout are recorded without losing what was collected.

use std::time::{Duration, Instant};

use chrono::Utc;
use perfdiag_model::facts::{HostFacts, MemoryFacts, PostgresFacts};
use perfdiag_model::{ColumnData, ProbeRecord, ProbeStatus, Snapshot, Table};
use perfdiag_probes::db::{self, DbError, DbOptions, DbOutput, DbTarget, Engine};
use perfdiag_testkit::postgres::{PgServer, free_port};

mod common;

fn target(url: &str) -> DbTarget {
    DbTarget::parse(Engine::Postgres, url).expect("valid url")
}

fn record<'a>(out: &'a DbOutput, id: &str) -> &'a ProbeRecord {
    out.records
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no record {id}: {:#?}", out.records))
}

fn table<'a>(out: &'a DbOutput, name: &str) -> &'a Table {
    &out.tables
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no table {name}"))
        .1
}

fn texts(t: &Table, column: &str) -> Vec<Option<String>> {
    match t.column(column) {
        Some(ColumnData::Utf8(v)) => v.clone(),
        other => panic!("{column}: {other:?}"),
    }
}

fn ints(t: &Table, column: &str) -> Vec<Option<i64>> {
    match t.column(column) {
        Some(ColumnData::Int64(v)) => v.clone(),
        other => panic!("{column}: {other:?}"),
    }
}

fn facts(out: &DbOutput) -> PostgresFacts {
    serde_json::from_value(out.facts.clone().expect("facts")).expect("PostgresFacts")
}

/// A snapshot holding one target's output and a 16 GiB host, as `collect` writes it.
fn snapshot(out: DbOutput, started: chrono::DateTime<Utc>) -> Snapshot {
    let host = HostFacts {
        hostname: "db1".into(),
        memory: MemoryFacts {
            total_bytes: 16 << 30,
            ..MemoryFacts::default()
        },
        ..HostFacts::default()
    };
    common::snapshot(out, Some(host), started)
}

/// A baseline with a 1 s idle-in-transaction threshold: a test cannot idle for the
/// built-in 30 s.
fn test_baseline() -> perfdiag_analyzers::Baseline {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("test.toml");
    std::fs::write(
        &path,
        "[[rule]]\nid = \"pg.sessions.idle_in_transaction\"\nwarning = 1000\n",
    )
    .expect("write baseline");
    perfdiag_analyzers::Baseline::from_file(&path).expect("baseline")
}

/// The sampled sessions spent their time waiting on the planted lock chain: that is
/// the primary bottleneck, and `rule` (the chain) heads its dimension's findings.
fn assert_primary_is_locking(a: &perfdiag_model::Assessment, rule: &str) {
    let primary = a.primary.as_ref().expect("a primary bottleneck");
    assert_eq!(
        (primary.dimension, primary.wait_class.as_deref()),
        (perfdiag_model::Dimension::SessionsLocking, Some("Lock")),
        "{primary:#?}\n{:#?}",
        a.db_time
    );
    let first = a
        .findings
        .iter()
        .find(|f| f.dimension == perfdiag_model::Dimension::SessionsLocking)
        .expect("a locking finding");
    assert_eq!(first.rule_id, rule);
    assert!(
        first.impact.as_ref().is_some_and(|i| i.share_pct >= 50.0),
        "{first:#?}"
    );
    assert_eq!(
        primary.finding.as_ref().map(|f| f.rule_id.as_str()),
        Some(rule)
    );
}

fn rule_ids(a: &perfdiag_model::Assessment) -> Vec<&str> {
    a.findings.iter().map(|f| f.rule_id.as_str()).collect()
}

#[test]
fn planted_faults_are_collected_and_assessed() {
    let pg = PgServer::builder()
        .conf("shared_buffers = '1MB'")
        .hba("host all all 0.0.0.0/0 trust")
        .start();
    pg.psql(
        "CREATE EXTENSION pg_stat_statements;
         CREATE TABLE big AS SELECT g AS id, g % 100000 AS val, md5(g::text) AS pad
           FROM generate_series(1, 1000000) g;
         CREATE TABLE locked (id int PRIMARY KEY, v int);
         INSERT INTO locked VALUES (1, 0);
         CREATE INDEX big_id ON big (id);
         CREATE INDEX big_id_again ON big (id);
         CREATE ROLE perfdiag_ro LOGIN IN ROLE pg_monitor;
         ALTER ROLE perfdiag_ro SET default_transaction_read_only = on;
         GRANT SELECT ON pg_hba_file_rules TO perfdiag_ro;
         GRANT EXECUTE ON FUNCTION pg_hba_file_rules() TO perfdiag_ro;",
    );
    pg.psql("VACUUM ANALYZE big");
    let started = Utc::now();
    let mut collector = db::connect(
        &target(&pg.url_for("perfdiag_ro", "postgres")),
        &DbOptions::default(),
    )
    .expect("connect");

    // A lock chain: one transaction holds a row lock, two sessions wait for it.
    let holder =
        pg.psql_background("BEGIN; UPDATE locked SET v = v + 1 WHERE id = 1; SELECT pg_sleep(60);");
    std::thread::sleep(Duration::from_millis(200));
    let blocked1 = pg.psql_background("UPDATE locked SET v = v + 10 WHERE id = 1;");
    let blocked2 = pg.psql_background("UPDATE locked SET v = v + 20 WHERE id = 1;");
    // A session idle in an open transaction.
    let idle = pg.psql_background("BEGIN; SELECT 1;");
    // Sequential scans of a 1M-row table on an unindexed column.
    for i in 0..8 {
        pg.psql(&format!(
            "SELECT count(*) FROM big WHERE val = {}",
            4200 + i
        ));
    }
    for _ in 0..3 {
        collector.tick();
        std::thread::sleep(Duration::from_millis(400));
    }
    let out = collector.finish();
    drop((holder, blocked1, blocked2, idle));

    for r in &out.records {
        assert_eq!(r.status, ProbeStatus::Ok, "{r:#?}");
        assert_eq!(r.target.as_deref(), Some(out.target.as_str()));
    }
    let f = facts(&out);
    assert_eq!(f.major_version(), Some(15));
    assert_eq!(f.setting_number("shared_buffers"), Some(1_048_576.0));
    let sb = f.setting("shared_buffers").expect("setting");
    assert_eq!(
        (sb.unit.as_deref(), sb.source.as_str()),
        (Some("8kB"), "configuration file")
    );
    assert!(f.pg_stat_statements.readable);
    assert!(f.start.is_some() && f.end.is_some());
    let hba = f
        .security
        .as_ref()
        .and_then(|s| s.hba_rules.clone())
        .expect("hba rules");
    assert!(
        hba.iter()
            .any(|r| r.auth_method.as_deref() == Some("trust") && r.matches_any_address()),
        "{hba:#?}"
    );

    // Sessions: two blocked by the holder, one idle in transaction, literals masked.
    let sessions = table(&out, perfdiag_model::tables::PG_SESSIONS);
    let pids = ints(sessions, "pid");
    let states = texts(sessions, "state");
    let blocked_by = texts(sessions, "blocked_by");
    let queries = texts(sessions, "query");
    let holder_pid = pids
        .iter()
        .zip(&queries)
        .find(|(_, q)| q.as_deref().is_some_and(|q| q.contains("pg_sleep")))
        .and_then(|(p, _)| *p)
        .expect("the lock holder was sampled");
    // The second waiter queues behind the first one's tuple lock: a chain
    // holder <- blocked1 <- blocked2, all of it visible.
    let blocked: std::collections::BTreeSet<i64> = pids
        .iter()
        .zip(&blocked_by)
        .filter(|(_, b)| b.is_some())
        .filter_map(|(p, _)| *p)
        .collect();
    assert_eq!(blocked.len(), 2, "{blocked_by:?}");
    assert!(
        blocked_by
            .iter()
            .flatten()
            .any(|b| b.split(',').any(|p| p == holder_pid.to_string())),
        "{blocked_by:?} / holder {holder_pid}"
    );
    assert!(states.iter().flatten().any(|s| s == "idle in transaction"));
    assert!(
        queries
            .iter()
            .flatten()
            .all(|q| !q.contains("+ 10") && !q.contains("(60)")),
        "{queries:?}"
    );
    assert!(
        texts(sessions, "usename")
            .iter()
            .flatten()
            .all(|u| u == "postgres")
    );

    // Statements: the scan on the unindexed column, counted over the window.
    let statements = table(&out, perfdiag_model::tables::PG_STATEMENTS);
    let st_queries = texts(statements, "query");
    let calls = ints(statements, "calls");
    let scan = st_queries
        .iter()
        .position(|q| {
            q.as_deref()
                .is_some_and(|q| q.contains("FROM big WHERE val"))
        })
        .expect("the scan statement");
    assert_eq!(calls[scan], Some(8));
    assert!(
        !st_queries[scan]
            .as_deref()
            .unwrap_or_default()
            .contains("4200")
    );

    // Tables: 8M rows read sequentially in the window; indexes: a duplicate.
    let tables = table(&out, perfdiag_model::tables::PG_TABLES);
    let names = texts(tables, "table");
    let big = names
        .iter()
        .position(|n| n.as_deref() == Some("big"))
        .expect("big");
    assert!(ints(tables, "seq_tup_read_window")[big] >= Some(8_000_000));
    assert!(ints(tables, "size_bytes")[big] > Some(50_000_000));
    let indexes = table(&out, perfdiag_model::tables::PG_INDEXES);
    assert!(
        texts(indexes, "duplicate_of")
            .iter()
            .flatten()
            .any(|d| d == "big_id")
    );

    // The assessment reports the faults, and the plan has a step for each.
    let snap = snapshot(out, started);
    let assessment = perfdiag_analyzers::assess(&snap, &test_baseline()).expect("assess");
    let ids = rule_ids(&assessment);
    for id in [
        "pg.memory.shared_buffers_low",
        "pg.locks.blocking_chains",
        "pg.sessions.idle_in_transaction",
        "pg.tables.seq_scan_heavy",
        "pg.security.trust_auth",
        "pg.logging.slow_query_off",
        "pg.indexes.duplicate",
    ] {
        assert!(ids.contains(&id), "{id} not in {ids:?}");
    }
    assert!(!ids.contains(&"pg.extension.pg_stat_statements_missing"));
    assert_primary_is_locking(&assessment, "pg.locks.blocking_chains");
    // A server started seconds ago: its counters since start are low confidence.
    assert!(
        assessment
            .low_confidence
            .iter()
            .any(|l| l.uptime_secs < 600.0),
        "{:?}",
        assessment.low_confidence
    );
    let plan = perfdiag_advice::plan(&assessment, &snap);
    let sb_step = plan
        .steps
        .iter()
        .find(|s| s.id == "pg.config.shared_buffers")
        .expect("shared_buffers step");
    assert!(
        sb_step
            .script
            .body
            .contains("ALTER SYSTEM SET shared_buffers = '4GB';")
    );
    assert!(
        sb_step
            .rollback
            .body
            .contains("ALTER SYSTEM SET shared_buffers = '1MB';")
    );
    assert!(sb_step.needs_restart);
}

#[test]
fn a_pg_monitor_role_collects_read_only_and_missing_pieces_are_skipped_with_the_remedy() {
    let pg = PgServer::builder()
        .preload_pg_stat_statements(false)
        .hba("host all pw 127.0.0.1/32 scram-sha-256")
        .start();
    pg.psql(
        "CREATE ROLE monitor LOGIN IN ROLE pg_monitor;
         ALTER ROLE monitor SET default_transaction_read_only = on;
         SET password_encryption = 'scram-sha-256';
         CREATE ROLE pw LOGIN PASSWORD 'secret';",
    );
    let started = Utc::now();
    let mut c = db::connect(
        &target(&pg.url_for("monitor", "postgres")),
        &DbOptions::default(),
    )
    .expect("connect");
    c.tick();
    let out = c.finish();

    for id in [
        "postgres.settings",
        "postgres.activity",
        "postgres.security",
        "postgres.tables",
        "postgres.sessions",
    ] {
        assert_eq!(
            record(&out, id).status,
            ProbeStatus::Ok,
            "{:#?}",
            record(&out, id)
        );
    }
    let statements = record(&out, "postgres.statements");
    assert_eq!(statements.status, ProbeStatus::Skipped, "{statements:#?}");
    let hint = statements.hint.as_deref().unwrap_or_default();
    assert!(
        hint.contains("CREATE EXTENSION pg_stat_statements;"),
        "{hint}"
    );
    assert!(
        hint.contains("shared_preload_libraries = 'pg_stat_statements'"),
        "{hint}"
    );
    let hba = record(&out, "postgres.hba");
    assert_eq!(hba.status, ProbeStatus::Skipped, "{hba:#?}");
    assert_eq!(
        hba.hint.as_deref(),
        Some(
            "GRANT SELECT ON pg_hba_file_rules TO monitor;\n\
             GRANT EXECUTE ON FUNCTION pg_hba_file_rules() TO monitor;"
        )
    );
    let f = facts(&out);
    assert_eq!(f.is_superuser, Some(false));
    assert_eq!(f.setting_text("default_transaction_read_only"), Some("on"));
    assert_eq!(f.setting_text("application_name"), Some("perfdiag"));
    assert_eq!(f.setting_number("statement_timeout"), Some(5000.0));
    assert!(!f.pg_stat_statements.installed && !f.pg_stat_statements.preloaded);

    let snap = snapshot(out, started);
    let a = perfdiag_analyzers::assess(&snap, &perfdiag_analyzers::Baseline::builtin())
        .expect("assess");
    assert!(rule_ids(&a).contains(&"pg.extension.pg_stat_statements_missing"));
    assert!(
        a.not_evaluated
            .iter()
            .any(|n| n.rule_id == "pg.security.trust_auth"),
        "hba rules unread: the rule is not evaluated, not silently passed"
    );

    // A role that needs a password and got none: an Auth error the CLI can prompt on.
    let e = db::connect(
        &target(&pg.url_for("pw", "postgres")),
        &DbOptions::default(),
    )
    .expect_err("no password");
    assert!(matches!(e, DbError::Auth { .. }), "{e:?}");
    let ok = db::connect(
        &target(&pg.url_for("pw", "postgres")).with_password("secret"),
        &DbOptions::default(),
    );
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn an_unreachable_target_is_a_clear_connect_error() {
    let url = format!("postgres://postgres@127.0.0.1:{}/postgres", free_port());
    let options = DbOptions {
        connect_timeout: Duration::from_secs(3),
        ..DbOptions::default()
    };
    let e = db::connect(&target(&url), &options).expect_err("nothing listens");
    assert!(matches!(e, DbError::Connect { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.starts_with("cannot connect to postgres://postgres@127.0.0.1:"),
        "{text}"
    );
    assert!(text.to_lowercase().contains("refused"), "{text}");
}

#[test]
fn a_server_killed_mid_window_keeps_what_was_collected() {
    let mut pg = PgServer::start();
    pg.psql("CREATE EXTENSION pg_stat_statements");
    let _sleeper = pg.psql_background("SELECT pg_sleep(60);");
    std::thread::sleep(Duration::from_millis(200));
    let mut c = db::connect(&target(&pg.url()), &DbOptions::default()).expect("connect");
    c.tick();
    c.tick();
    pg.kill();
    let t = Instant::now();
    c.tick();
    c.tick();
    let out = c.finish();
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "a dead server is not waited for"
    );

    let sessions = record(&out, "postgres.sessions");
    assert_eq!(sessions.status, ProbeStatus::Partial, "{sessions:#?}");
    assert!(
        sessions
            .message
            .as_deref()
            .is_some_and(|m| m.starts_with("2 of 4 samples failed")),
        "{sessions:#?}"
    );
    let sampled = table(&out, perfdiag_model::tables::PG_SESSIONS);
    assert!(
        texts(sampled, "query")
            .iter()
            .flatten()
            .filter(|q| q.contains("pg_sleep"))
            .count()
            >= 2
    );
    assert_eq!(record(&out, "postgres.settings").status, ProbeStatus::Ok);
    for id in ["postgres.activity", "postgres.statements"] {
        let r = record(&out, id);
        assert_eq!(r.status, ProbeStatus::Partial, "{r:#?}");
    }
    assert_eq!(record(&out, "postgres.tables").status, ProbeStatus::Partial);
    let f = facts(&out);
    assert!(f.start.is_some() && f.end.is_none());
    assert!(!f.settings.is_empty());
}

#[test]
fn a_probe_query_hitting_the_lock_timeout_is_recorded_and_the_rest_continues() {
    let pg = PgServer::start();
    pg.psql(
        "CREATE EXTENSION pg_stat_statements;
         CREATE TABLE t AS SELECT g AS id FROM generate_series(1, 1000) g;
         CREATE TABLE busy (id int);
         ANALYZE t;",
    );
    let options = DbOptions {
        lock_timeout: Duration::from_millis(200),
        ..DbOptions::default()
    };
    let mut c = db::connect(&target(&pg.url()), &options).expect("connect");
    // Like a running ALTER TABLE: sizing `busy` must wait for this lock.
    let _alter =
        pg.psql_background("BEGIN; LOCK TABLE busy IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60);");
    std::thread::sleep(Duration::from_millis(300));
    c.tick();
    let out = c.finish();

    let tables = record(&out, "postgres.tables");
    assert_eq!(tables.status, ProbeStatus::Partial, "{tables:#?}");
    let message = tables.message.as_deref().unwrap_or_default();
    assert!(message.contains("lock timeout"), "{message}");
    assert!(message.contains("55P03"), "{message}");
    let t = table(&out, perfdiag_model::tables::PG_TABLES);
    assert!(
        texts(t, "table").iter().flatten().any(|n| n == "t"),
        "estimated sizes replace the exact ones"
    );
    for id in [
        "postgres.settings",
        "postgres.activity",
        "postgres.statements",
        "postgres.sessions",
    ] {
        assert_eq!(
            record(&out, id).status,
            ProbeStatus::Ok,
            "{:#?}",
            record(&out, id)
        );
    }
}
