//! MySQL/MariaDB collection against throwaway MariaDB servers (no mocks): planted
//! faults are captured in the output and reported by the assessment; minimal
//! privileges collect and say what to grant; failures are recorded, not fatal.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use perfdiag_model::{ColumnData, ProbeRecord, ProbeStatus, Snapshot, Table};
use perfdiag_probes::db::{self, DbError, DbOptions, DbOutput, DbTarget, Engine};
use perfdiag_testkit::mariadb::MariaDbServer;
use sqlx::{AssertSqlSafe, Connection, mysql::MySqlConnection};

mod common;

fn options() -> DbOptions {
    DbOptions {
        statement_timeout: Duration::from_secs(5),
        lock_timeout: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(5),
        top_n: 20,
    }
}

fn target(url: &str) -> DbTarget {
    DbTarget::parse(Engine::Mysql, url).expect("valid url")
}

/// Connects, ticks `ticks` times `every` apart, finishes.
fn collect(url: &str, opts: &DbOptions, ticks: usize, every: Duration) -> DbOutput {
    let mut c = db::connect(&target(url), opts).expect("connects");
    for _ in 0..ticks {
        std::thread::sleep(every);
        c.tick();
    }
    c.finish()
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

fn texts<'a>(t: &'a Table, column: &str) -> Vec<Option<&'a str>> {
    match t.column(column) {
        Some(ColumnData::Utf8(v)) => v.iter().map(|s| s.as_deref()).collect(),
        other => panic!("column {column}: {other:?}"),
    }
}

fn ints(t: &Table, column: &str) -> Vec<Option<i64>> {
    match t.column(column) {
        Some(ColumnData::Int64(v)) => v.clone(),
        other => panic!("column {column}: {other:?}"),
    }
}

fn snapshot(out: &DbOutput) -> Snapshot {
    common::snapshot(out.clone(), None, Utc::now() - chrono::Duration::seconds(5))
}

/// A runtime and a connection for planting sessions (locks, open transactions).
struct Client {
    rt: tokio::runtime::Runtime,
    conn: MySqlConnection,
}

impl Client {
    fn new(url: &str) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let conn = rt
            .block_on(MySqlConnection::connect(url))
            .expect("client connects");
        Self { rt, conn }
    }

    fn run(&mut self, sql: &str) {
        let conn = &mut self.conn;
        self.rt
            .block_on(sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(conn))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

/// A `mariadb` client running `sql` in the background (a blocked UPDATE, a scan loop).
fn background(server: &MariaDbServer, sql: &str) -> Child {
    server
        .client()
        .arg("-e")
        .arg(sql)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("mariadb client")
}

fn stop(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn planted_faults_are_collected_and_assessed() {
    let server = MariaDbServer::builder()
        .option("performance_schema=ON")
        .option("innodb_buffer_pool_size=8M")
        .start()
        .expect("mariadb starts");
    let setup = Instant::now();
    server
        .sql(
            "CREATE DATABASE app;
             CREATE TABLE app.big (id INT PRIMARY KEY, b INT NOT NULL, c INT NOT NULL);
             USE app;
             INSERT INTO app.big SELECT seq, seq MOD 1000, seq FROM seq_1_to_1000000;
             ANALYZE TABLE app.big;
             CREATE TABLE app.nopk (a INT, b INT);
             CREATE TABLE app.legacy (id INT PRIMARY KEY) ENGINE=MyISAM;
             CREATE TABLE app.orders (id INT PRIMARY KEY, customer INT, created DATE,
                 KEY by_customer (customer), KEY by_customer_created (customer, created));
             CREATE TABLE app.small (id INT PRIMARY KEY) ;
             INSERT INTO app.small VALUES (1), (2);
             CREATE USER ''@'localhost';
             CREATE USER 'nopw'@'%';",
        )
        .expect("setup");
    eprintln!("setup with 1M rows: {:?}", setup.elapsed());
    let url = server.url();

    // The blocker: holds a row lock and then sits idle inside its transaction.
    let mut blocker = Client::new(&url);
    blocker.run("BEGIN");
    blocker.run("UPDATE app.big SET c = c + 1 WHERE id = 1");
    // Another idle session in an open transaction, holding shared locks.
    let mut idle = Client::new(&url);
    idle.run("BEGIN");
    idle.run("SELECT * FROM app.small LOCK IN SHARE MODE");
    // Two sessions blocked by the first, and a scan loop on an unindexed column.
    let waiters = [
        background(&server, "UPDATE app.big SET c = c + 2 WHERE id = 1"),
        background(&server, "UPDATE app.big SET c = c + 3 WHERE id = 1"),
    ];
    let scans = background(
        &server,
        &"SELECT COUNT(*) FROM app.big WHERE b = 7;".repeat(40),
    );

    let out = collect(&url, &options(), 8, Duration::from_millis(300));
    for w in waiters {
        stop(w);
    }
    stop(scans);
    blocker.run("ROLLBACK");
    idle.run("ROLLBACK");

    // Every sub-probe ran: root may read everything.
    for r in &out.records {
        assert_eq!(r.target.as_deref(), Some(out.target.as_str()));
        assert!(
            matches!(r.status, ProbeStatus::Ok | ProbeStatus::Partial),
            "{r:#?}"
        );
    }
    assert!(!out.target.contains("password"));
    let facts = out.facts.as_ref().expect("facts");
    assert_eq!(facts["flavor"], "mariadb");
    assert_eq!(
        facts["settings"]["innodb_buffer_pool_size_bytes"],
        8 * 1024 * 1024
    );
    assert!(
        facts["data"]["innodb_bytes"].as_u64().unwrap_or(0) > 20 << 20,
        "{}",
        facts["data"]
    );
    assert!(facts["window"]["deltas"]["Questions"].as_i64().unwrap_or(0) > 0);

    // Sessions: both waiters blocked by the blocker; the idle transactions visible.
    let sessions = table(&out, perfdiag_model::tables::MYSQL_SESSIONS);
    let blocked_by = ints(sessions, "blocked_by");
    let ids = ints(sessions, "id");
    let commands = texts(sessions, "command");
    let blocked: std::collections::BTreeSet<i64> = ids
        .iter()
        .zip(&blocked_by)
        .filter_map(|(id, by)| by.and(*id))
        .collect();
    assert_eq!(blocked.len(), 2, "{sessions:#?}");
    let blockers: std::collections::BTreeSet<i64> = blocked_by.iter().flatten().copied().collect();
    assert_eq!(blockers.len(), 1);
    let idle_in_trx = commands
        .iter()
        .zip(ints(sessions, "trx_age_ms"))
        .filter(|(c, age)| **c == Some("Sleep") && age.is_some())
        .count();
    assert!(idle_in_trx >= 2, "{sessions:#?}");
    let infos = texts(sessions, "info");
    assert!(
        infos
            .iter()
            .flatten()
            .any(|i| i.contains("WHERE b = ?") || i.contains("WHERE id = ?")),
        "literals masked: {infos:?}"
    );
    assert!(
        infos.iter().flatten().all(|i| !i.contains("perfdiag")),
        "own session excluded"
    );

    // Statements: the scan on the unindexed column, with no index used.
    let statements = table(&out, perfdiag_model::tables::MYSQL_STATEMENTS);
    let digest_texts = texts(statements, "digest_text");
    let scan = digest_texts
        .iter()
        .position(|t| t.is_some_and(|t| t.contains("`b` = ?")))
        .unwrap_or_else(|| panic!("scan digest: {digest_texts:?}"));
    assert!(ints(statements, "no_index_used")[scan].unwrap_or(0) > 0);
    assert!(ints(statements, "calls")[scan].unwrap_or(0) > 0);

    // Tables and indexes.
    let tables = table(&out, perfdiag_model::tables::MYSQL_TABLES);
    let names = texts(tables, "table");
    assert!(names.contains(&Some("big")) && names.contains(&Some("nopk")));
    let indexes = table(&out, perfdiag_model::tables::MYSQL_INDEXES);
    let redundant: Vec<(Option<&str>, Option<&str>)> = texts(indexes, "index")
        .into_iter()
        .zip(texts(indexes, "redundant_with"))
        .filter(|(_, with)| with.is_some())
        .collect();
    assert_eq!(
        redundant,
        [(Some("by_customer"), Some("by_customer_created"))]
    );
    // Never read since the server started: unused too (judged by the rule only after
    // a representative uptime).
    assert!(texts(indexes, "index").contains(&Some("by_customer_created")));

    // The assessment reports the planted faults; the plan has a step for each.
    let snap = snapshot(&out);
    let mut file = tempfile::Builder::new()
        .suffix(".toml")
        .tempfile()
        .expect("temp");
    // The window is seconds long: judge idle transactions from half a second on.
    file.write_all(b"[[rule]]\nid = \"mysql.sessions.idle_in_trx\"\nwarning = 500\n")
        .expect("write");
    let baseline = perfdiag_analyzers::Baseline::from_file(file.path()).expect("baseline");
    let a = perfdiag_analyzers::assess(&snap, &baseline).expect("assess");
    let fired: BTreeMap<&str, usize> = a.findings.iter().fold(BTreeMap::new(), |mut m, f| {
        *m.entry(f.rule_id.as_str()).or_default() += 1;
        m
    });
    for id in [
        "mysql.memory.buffer_pool_small",
        "mysql.locks.blocked_sessions",
        "mysql.sessions.idle_in_trx",
        "mysql.statements.no_index",
        "mysql.tables.no_primary_key",
        "mysql.tables.myisam",
        "mysql.indexes.redundant",
        "mysql.security.empty_password",
        "mysql.security.anonymous_or_remote_root",
        "mysql.logging.slow_log_off",
    ] {
        assert!(
            fired.contains_key(id),
            "{id} not reported: {fired:?}\n{a:#?}"
        );
    }
    // The sampled sessions spent most of their time blocked by the planted lock.
    let primary = a.primary.as_ref().expect("a primary bottleneck");
    assert_eq!(
        (primary.dimension, primary.wait_class.as_deref()),
        (perfdiag_model::Dimension::SessionsLocking, Some("Lock")),
        "{primary:#?}\n{:#?}",
        a.db_time
    );
    assert_eq!(
        primary.finding.as_ref().map(|f| f.rule_id.as_str()),
        Some("mysql.locks.blocked_sessions")
    );
    let empty = a
        .findings
        .iter()
        .find(|f| f.rule_id == "mysql.security.empty_password")
        .expect("finding");
    assert_eq!(empty.subject.as_deref(), Some(out.target.as_str()));
    let evidence = format!("{:?}", empty.evidence);
    assert!(evidence.contains("'nopw'@'%'"), "{evidence}");
    // MariaDB's own locked account `mariadb.sys` has no password and must not count.
    assert!(!evidence.contains("mariadb.sys"), "{evidence}");
    let plan = perfdiag_advice::plan(&a, &snap);
    let pool = plan
        .steps
        .iter()
        .find(|s| s.id == "mysql.config.buffer_pool_size")
        .expect("buffer pool step");
    assert!(
        pool.script
            .body
            .contains("SET GLOBAL innodb_buffer_pool_size"),
        "{}",
        pool.script.body
    );
    assert!(
        pool.rollback.body.contains("8388608"),
        "{}",
        pool.rollback.body
    );
}

#[test]
fn minimal_privileges_collect_and_name_the_grants() {
    let server = MariaDbServer::builder()
        .option("performance_schema=ON")
        .start()
        .expect("mariadb starts");
    server
        .sql(
            "CREATE USER 'perfdiag'@'%' IDENTIFIED BY 'pw';
             GRANT PROCESS ON *.* TO 'perfdiag'@'%';
             GRANT SELECT ON performance_schema.* TO 'perfdiag'@'%';
             CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY);",
        )
        .expect("setup");
    let url = server.url_for("perfdiag", "pw");
    let out = collect(&url, &options(), 2, Duration::from_millis(100));
    assert!(!out.target.contains("pw"), "{}", out.target);
    for id in [
        "mysql.session",
        "mysql.variables",
        "mysql.status",
        "mysql.innodb",
        "mysql.digests",
        "mysql.sessions",
    ] {
        assert_eq!(
            record(&out, id).status,
            ProbeStatus::Ok,
            "{:#?}",
            record(&out, id)
        );
    }
    let hint = |id: &str| {
        let r = record(&out, id);
        assert_eq!(r.status, ProbeStatus::Skipped, "{r:#?}");
        r.hint.clone().unwrap_or_default()
    };
    assert_eq!(
        hint("mysql.security"),
        "GRANT SELECT ON mysql.global_priv TO 'perfdiag'@'%';"
    );
    assert_eq!(
        hint("mysql.replication"),
        "GRANT SLAVE MONITOR ON *.* TO 'perfdiag'@'%';"
    );
    assert_eq!(
        hint("mysql.tables"),
        "GRANT SHOW VIEW ON *.* TO 'perfdiag'@'%';"
    );
    assert!(out.facts.is_some());
}

#[test]
fn performance_schema_off_skips_digests_with_the_remedy() {
    let server = MariaDbServer::start().expect("mariadb starts");
    let out = collect(&server.url(), &options(), 1, Duration::from_millis(50));
    let r = record(&out, "mysql.digests");
    assert_eq!(r.status, ProbeStatus::Skipped, "{r:#?}");
    assert!(
        r.hint
            .as_deref()
            .is_some_and(|h| h.contains("performance_schema = ON"))
    );
    assert_eq!(
        table(&out, perfdiag_model::tables::MYSQL_STATEMENTS).rows(),
        0
    );
    let a = perfdiag_analyzers::assess(&snapshot(&out), &perfdiag_analyzers::Baseline::builtin())
        .expect("assess");
    assert!(
        a.findings
            .iter()
            .any(|f| f.rule_id == "mysql.perf_schema.off")
    );
    assert!(
        a.not_evaluated
            .iter()
            .any(|n| n.rule_id == "mysql.statements.no_index")
    );
}

#[test]
fn unreachable_target_and_refused_login_are_told_apart() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("port");
    let started = Instant::now();
    let err = db::connect(
        &target(&format!("mysql://root@127.0.0.1:{port}/")),
        &options(),
    )
    .expect_err("nothing listens");
    assert!(started.elapsed() < Duration::from_secs(5));
    match err {
        DbError::Connect { detail, .. } => {
            assert!(detail.contains("connection refused"), "{detail}")
        }
        other => panic!("{other:?}"),
    }

    let server = MariaDbServer::start().expect("mariadb starts");
    server
        .sql("CREATE USER 'app'@'%' IDENTIFIED BY 'right';")
        .expect("setup");
    let err = db::connect(&target(&server.url_for("app", "wrong")), &options())
        .expect_err("bad password");
    assert!(matches!(err, DbError::Auth { .. }), "{err:?}");
    assert!(!err.to_string().contains("wrong"));
}

#[test]
fn server_killed_mid_window_keeps_what_was_collected() {
    let mut server = MariaDbServer::start().expect("mariadb starts");
    let sleeper = background(&server, "SELECT SLEEP(30)");
    std::thread::sleep(Duration::from_millis(300));
    let mut c = db::connect(&target(&server.url()), &options()).expect("connects");
    c.tick();
    c.tick();
    server.kill();
    let killed = Instant::now();
    c.tick();
    c.tick();
    let out = c.finish();
    assert!(
        killed.elapsed() < Duration::from_secs(10),
        "no waiting on a dead server"
    );
    stop(sleeper);
    assert!(out.facts.is_some());
    let sessions = table(&out, perfdiag_model::tables::MYSQL_SESSIONS);
    assert!(sessions.rows() >= 2, "samples before the kill are kept");
    let r = record(&out, "mysql.sessions");
    assert_eq!(r.status, ProbeStatus::Partial, "{r:#?}");
    assert!(
        r.message
            .as_deref()
            .is_some_and(|m| m.contains("4 samples (2 failed)")),
        "{r:#?}"
    );
    let status = record(&out, "mysql.status");
    assert_eq!(status.status, ProbeStatus::Partial, "{status:#?}");
    assert!(
        status
            .message
            .as_deref()
            .is_some_and(|m| m.contains("end reading"))
    );
    assert_eq!(record(&out, "mysql.variables").status, ProbeStatus::Ok);
}

#[test]
fn a_query_hitting_the_statement_timeout_is_recorded_and_the_rest_continues() {
    let server = MariaDbServer::start().expect("mariadb starts");
    server
        .sql("CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY);")
        .expect("setup");
    // Holds the accounts table the security probe must read.
    let mut locker = Client::new(&server.url());
    locker.run("LOCK TABLES mysql.global_priv WRITE");
    let opts = DbOptions {
        statement_timeout: Duration::from_secs(1),
        lock_timeout: Duration::from_secs(30),
        ..options()
    };
    let started = Instant::now();
    let out = collect(&server.url(), &opts, 1, Duration::from_millis(50));
    locker.run("UNLOCK TABLES");
    assert!(started.elapsed() < Duration::from_secs(10));
    let r = record(&out, "mysql.security");
    assert_eq!(r.status, ProbeStatus::Failed, "{r:#?}");
    assert!(
        r.message
            .as_deref()
            .is_some_and(|m| m.contains("timed out")),
        "{r:#?}"
    );
    for id in [
        "mysql.variables",
        "mysql.status",
        "mysql.sessions",
        "mysql.tables",
    ] {
        assert_eq!(
            record(&out, id).status,
            ProbeStatus::Ok,
            "{:#?}",
            record(&out, id)
        );
    }
}
