//! The SQL Server probe, tested as far as it honestly can be without a SQL Server
//! (none can run on these machines): every T-SQL query parses with sqlparser's MsSql
//! dialect; rows recorded as SQL Server 2019 answers them (fixtures/mssql/README.md)
//! map to the facts and tables; the TDS connection path fails clearly where nothing
//! listens; connection strings keep no password.

use std::collections::BTreeSet;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use perfdiag_model::ColumnData;
use perfdiag_model::facts::MssqlFacts;
use perfdiag_model::tables as names;
use perfdiag_probes::db::{self, DbError, DbOptions, DbTarget, Engine, TextRows};
use perfdiag_probes::mssql::counters::WindowRows;
use perfdiag_probes::mssql::{QUERIES, Results, assemble};
use sqlparser::dialect::MsSqlDialect;
use sqlparser::parser::Parser;

fn sql_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src/mssql/sql")
}

/// A query with its placeholders filled as the probe fills them.
fn filled(sql: &str) -> String {
    sql.replace("{lock_timeout_ms}", "1000")
        .replace("{top}", "200")
        .replace("{database}", "[erp]")
}

#[test]
fn every_tsql_query_parses_with_the_mssql_dialect() {
    let mut files = BTreeSet::new();
    for entry in std::fs::read_dir(sql_dir()).expect("the sql folder") {
        let path = entry.expect("a folder entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("sql") {
            continue;
        }
        let sql = std::fs::read_to_string(&path).expect("readable sql");
        let sql = filled(&sql);
        assert!(
            !sql.contains('{'),
            "{} has a placeholder this test does not know",
            path.display()
        );
        let statements = Parser::parse_sql(&MsSqlDialect {}, &sql)
            .unwrap_or_else(|e| panic!("{} does not parse: {e}", path.display()));
        assert!(!statements.is_empty(), "{} is empty", path.display());
        files.insert(path.file_stem().unwrap().to_string_lossy().into_owned());
    }
    // Every file is a query the probe runs, and every query it runs is a file here.
    let listed: BTreeSet<String> = QUERIES.iter().map(|(n, _)| (*n).to_owned()).collect();
    assert_eq!(files, listed);
    assert!(files.len() >= 20, "{files:?}");
}

#[test]
fn the_queries_only_read() {
    let writes = [
        "insert",
        "update",
        "delete",
        "merge",
        "create",
        "alter",
        "drop",
        "exec",
        "execute",
        "dbcc",
        "truncate",
        "grant",
        "kill",
        "shutdown",
        "reconfigure",
    ];
    for (name, sql) in QUERIES {
        let code = sql
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n")
            .to_lowercase();
        for word in code.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
            assert!(!writes.contains(&word), "{name}.sql contains `{word}`");
        }
    }
}

fn fixture(name: &str) -> TextRows {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/mssql")
        .join(format!("{name}.csv"));
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    TextRows::from_csv(file, "NULL").unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn window(end: &str) -> WindowRows {
    WindowRows {
        wait_stats: Some(fixture(&format!("wait_stats.{end}"))),
        file_io: Some(fixture(&format!("file_io.{end}"))),
        perf_counters: Some(fixture(&format!("perf_counters.{end}"))),
        statements: Some(fixture(&format!("statements.{end}"))),
    }
}

const T0: i64 = 1_796_191_200_000_000; // 2026-12-02 06:00:00 UTC, in microseconds

fn recorded() -> Results {
    Results {
        server: Some(fixture("server")),
        host_info: Some(fixture("host_info")),
        sys_info: Some(fixture("sys_info")),
        configurations: Some(fixture("configurations")),
        memory: Some(fixture("memory")),
        plan_cache: Some(fixture("plan_cache")),
        databases: Some(fixture("databases")),
        vlf_counts: Some(fixture("vlf_counts")),
        backups: Some(fixture("backups")),
        query_store: [("erp".to_owned(), fixture("query_store"))].into(),
        tempdb_files: Some(fixture("tempdb_files")),
        logins: Some(fixture("logins")),
        start: window("start"),
        end: window("end"),
        missing_indexes: Some(fixture("missing_indexes")),
        indexes: Some(fixture("indexes")),
        sessions: vec![
            (T0 + 1_000_000, fixture("sessions")),
            (T0 + 2_000_000, fixture("sessions")),
        ],
    }
}

const LABEL: &str = "mssql://perfdiag@db01:1433/erp";

fn facts() -> MssqlFacts {
    assemble(LABEL, &recorded(), 50).facts
}

#[test]
fn recorded_server_rows_map_to_facts() {
    let f = facts();
    assert_eq!(f.target, LABEL);
    assert_eq!(f.major_version(), Some(15));
    assert_eq!(f.product_update_level.as_deref(), Some("CU22"));
    assert_eq!(f.engine_edition, Some(2));
    assert_eq!(f.host_platform.as_deref(), Some("Windows"));
    assert_eq!(f.is_sysadmin, Some(false));
    assert_eq!(f.has_view_server_state, Some(true));
    assert_eq!(f.uptime_secs, Some(1_728_000.0));
    assert_eq!(
        f.started_at.unwrap().to_rfc3339(),
        "2026-11-12T06:00:00.123456700+00:00"
    );
    let sys = f.system.as_ref().unwrap();
    assert_eq!((sys.cpu_count, sys.numa_node_count), (Some(16), Some(2)));
    assert_eq!(sys.physical_memory_bytes, Some(67_108_392 * 1024));
    assert_eq!(f.config_in_use("max degree of parallelism"), Some(0));
    assert_eq!(f.config_in_use("cost threshold for parallelism"), Some(5));
    assert_eq!(
        f.config_in_use("max server memory (MB)"),
        Some(2_147_483_647)
    );
    assert_eq!(f.config_in_use("xp_cmdshell"), Some(1));
    let min = f.configuration("min server memory (MB)").unwrap();
    assert_eq!((min.value, min.value_in_use, min.is_dynamic), (0, 16, true));
    let memory = f.memory.as_ref().unwrap();
    assert_eq!(memory.page_life_expectancy_s, Some(212));
    assert_eq!(memory.memory_grants_pending, Some(3));
    assert_eq!(memory.locked_page_allocations_bytes, Some(0));
    assert_eq!(memory.system_memory_low, Some(false));
    let cache = f.plan_cache.as_ref().unwrap();
    assert_eq!(
        (cache.plans, cache.single_use_adhoc_plans),
        (48_211, 39_877)
    );
}

#[test]
fn recorded_database_rows_map_to_facts() {
    let f = facts();
    assert_eq!(f.databases.len(), 7);
    let erp = f.database("ERP").unwrap();
    assert_eq!(erp.recovery_model.as_deref(), Some("FULL"));
    assert_eq!(erp.compatibility_level, Some(150));
    assert_eq!(erp.auto_shrink, Some(true));
    assert_eq!(erp.read_committed_snapshot, Some(true));
    assert_eq!(erp.vlf_count, Some(1187));
    assert_eq!(erp.log_reuse_wait.as_deref(), Some("LOG_BACKUP"));
    assert_eq!(erp.log_bytes, Some(85_899_345_920));
    assert_eq!(
        erp.last_log_backup.unwrap().to_rfc3339(),
        "2026-11-20T03:15:00+00:00"
    );
    assert_eq!(
        erp.last_good_checkdb.unwrap().to_rfc3339(),
        "2026-10-04T01:12:40+00:00"
    );
    let qs = erp.query_store.as_ref().unwrap();
    assert_eq!(qs.actual_state, "READ_ONLY");
    assert_eq!(qs.readonly_reason, Some(65536));
    assert_eq!(qs.capture_mode.as_deref(), Some("AUTO"));

    let archive = f.database("erp_archive").unwrap();
    assert_eq!(archive.state.as_deref(), Some("OFFLINE"));
    assert_eq!((archive.vlf_count, archive.data_bytes), (None, None));
    let reports = f.database("reports").unwrap();
    assert_eq!(reports.page_verify.as_deref(), Some("TORN_PAGE_DETECTION"));
    assert_eq!(reports.snapshot_isolation, None, "in transition is neither");
    assert_eq!(reports.last_full_backup, None, "never backed up");
    assert_eq!(reports.query_store, None);
    assert!(f.database("tempdb").unwrap().is_system());

    let data_files: Vec<&str> = f
        .tempdb_files
        .iter()
        .filter(|t| t.type_desc == "ROWS")
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(data_files, ["tempdev"]);
    let log = &f.tempdb_files[1];
    assert_eq!((log.growth_bytes, log.growth_pct), (None, Some(10)));
}

#[test]
fn recorded_counters_give_the_window_deltas() {
    let f = facts();
    let (start, end) = (f.start.as_ref().unwrap(), f.end.as_ref().unwrap());
    assert_eq!((end.at - start.at).num_seconds(), 300);
    let waits: Vec<(String, i64)> = f
        .window_waits()
        .into_iter()
        .map(|w| (w.wait_type, w.wait_time_ms))
        .collect();
    assert_eq!(
        waits,
        [
            ("LCK_M_X".to_owned(), 240_000),
            ("CXPACKET".to_owned(), 200_000),
            ("PAGEIOLATCH_SH".to_owned(), 60_000),
            ("RESOURCE_SEMAPHORE".to_owned(), 30_000),
            ("WRITELOG".to_owned(), 30_000),
            ("SOS_SCHEDULER_YIELD".to_owned(), 20_000),
            ("LCK_M_S".to_owned(), 5_400),
        ],
        "ASYNC_NETWORK_IO did not wait in the window; LCK_M_S is new"
    );
    let batches =
        end.counter("Batch Requests/sec").unwrap() - start.counter("Batch Requests/sec").unwrap();
    assert_eq!(batches, 600_000);
    let erp_data = |c: &perfdiag_model::facts::mssql::MssqlCounters| {
        c.files
            .iter()
            .find(|x| x.database == "erp" && x.file_id == 1)
            .cloned()
            .unwrap()
    };
    let (a, b) = (erp_data(start), erp_data(end));
    assert_eq!(b.reads - a.reads, 30_000);
    assert_eq!(
        (b.read_stall_ms - a.read_stall_ms) / (b.reads - a.reads),
        20,
        "20 ms per read over the window"
    );
    assert_eq!(b.type_desc, "ROWS");
}

fn column<'a>(t: &'a perfdiag_model::Table, name: &str) -> &'a ColumnData {
    t.column(name).unwrap_or_else(|| panic!("no column {name}"))
}

fn utf8(t: &perfdiag_model::Table, name: &str) -> Vec<Option<String>> {
    match column(t, name) {
        ColumnData::Utf8(v) => v.clone(),
        other => panic!("{name} is {other:?}"),
    }
}

fn i64s(t: &perfdiag_model::Table, name: &str) -> Vec<Option<i64>> {
    match column(t, name) {
        ColumnData::Int64(v) => v.clone(),
        other => panic!("{name} is {other:?}"),
    }
}

fn bools(t: &perfdiag_model::Table, name: &str) -> Vec<Option<bool>> {
    match column(t, name) {
        ColumnData::Bool(v) => v.clone(),
        other => panic!("{name} is {other:?}"),
    }
}

#[test]
fn recorded_sessions_show_the_blocking_chain() {
    let a = assemble(LABEL, &recorded(), 50);
    let (name, t) = &a.tables[0];
    assert_eq!(*name, names::MSSQL_SESSIONS);
    assert_eq!(t.rows(), 10, "two samples of five sessions");
    let ids = i64s(t, "session_id");
    let blocked_by = i64s(t, "blocking_session_id");
    let classes = utf8(t, "wait_class");
    let heads = bools(t, "head_blocker");
    let at = |id: i64| ids.iter().position(|s| *s == Some(id)).unwrap();
    // 91 waits for 87, which waits for 64: a sleeping session with an open transaction.
    assert_eq!(blocked_by[at(91)], Some(87));
    assert_eq!(blocked_by[at(87)], Some(64));
    assert_eq!(
        blocked_by[at(64)],
        Some(0),
        "0 is not blocked, as SQL Server says it"
    );
    assert_eq!(heads[at(64)], Some(true));
    assert_eq!(
        heads[at(87)],
        Some(false),
        "87 blocks 91 but is blocked itself"
    );
    assert_eq!(classes[at(87)].as_deref(), Some("Lock"));
    assert_eq!(classes[at(64)].as_deref(), Some("Idle"));
    assert_eq!(classes[at(102)].as_deref(), Some("CPU"));
    assert_eq!(classes[at(115)].as_deref(), Some("Buffer IO"));
    let statements = utf8(t, "statement");
    assert_eq!(
        statements[at(87)].as_deref(),
        Some("UPDATE dbo.stock SET qty = qty - ? WHERE item_id = ?")
    );
    assert_eq!(
        utf8(t, "wait_resource")[at(102)],
        None,
        "an empty resource is none"
    );
    assert_eq!(
        match column(t, "ts") {
            ColumnData::Timestamp(v) => v[at(64)],
            other => panic!("ts is {other:?}"),
        },
        Some(T0 + 1_000_000)
    );
}

#[test]
fn recorded_statements_count_the_window_where_both_readings_saw_them() {
    let a = assemble(LABEL, &recorded(), 50);
    let (name, t) = &a.tables[1];
    assert_eq!(*name, names::MSSQL_STATEMENTS);
    let hashes = utf8(t, "query_hash");
    let hashes: Vec<&str> = hashes.iter().map(|h| h.as_deref().unwrap()).collect();
    // By CPU: the new ledger query, the orders query's window, the recompiled update.
    assert_eq!(
        hashes,
        [
            "0x77E1A2B3C4D5E6F7",
            "0x8F3C2A1B9D4E6F70",
            "0x1D2E3F4A5B6C7D8E"
        ],
        "the audit query left the cache and the report did not run in the window"
    );
    assert_eq!(i64s(t, "calls"), [Some(1), Some(3000), Some(120)]);
    assert_eq!(
        bools(t, "over_window"),
        [Some(false), Some(true), Some(false)]
    );
    match column(t, "total_cpu_ms") {
        ColumnData::Float64(v) => assert_eq!(v[1], Some(25_000.0)),
        other => panic!("{other:?}"),
    }
    let queries = utf8(t, "query");
    assert_eq!(
        queries[1].as_deref(),
        Some(
            "SELECT TOP (?) o.order_id, o.customer_id, o.total FROM dbo.orders AS o \
             WHERE o.customer_id = @P1 AND o.status = ? ORDER BY o.created_at DESC"
        )
    );
    assert!(queries.iter().flatten().all(|q| !q.contains("2026-01-01")));
    let ids = utf8(t, "fingerprint_id");
    assert!(
        ids.iter()
            .all(|i| i.as_ref().is_some_and(|i| i.len() == 16))
    );
}

#[test]
fn recorded_index_rows_map_to_tables() {
    let a = assemble(LABEL, &recorded(), 50);
    let (name, missing) = &a.tables[2];
    assert_eq!(*name, names::MSSQL_MISSING_INDEXES);
    assert_eq!(utf8(missing, "table")[0].as_deref(), Some("orders"));
    assert_eq!(utf8(missing, "inequality_columns")[2], None);
    let (name, usage) = &a.tables[3];
    assert_eq!(*name, names::MSSQL_INDEXES);
    let unused = utf8(usage, "index")
        .iter()
        .zip(i64s(usage, "user_seeks"))
        .zip(i64s(usage, "user_updates"))
        .filter(|((_, seeks), updates)| *seeks == Some(0) && updates.unwrap_or(0) > 1_000_000)
        .map(|((i, _), _)| i.clone().unwrap())
        .collect::<Vec<_>>();
    assert_eq!(unused, ["IX_orders_legacy_status"]);
    assert_eq!(bools(usage, "is_primary_key")[0], Some(true));
}

#[test]
fn recorded_logins_map_to_security_facts() {
    let s = facts().security.unwrap();
    assert_eq!(
        (s.sa_enabled, s.sa_name.as_deref()),
        (Some(true), Some("sa"))
    );
    assert_eq!(s.windows_auth_only, Some(false));
    assert_eq!(s.logins_visible, Some(true));
    assert_eq!(
        s.sysadmins,
        [
            "sa",
            "NT SERVICE\\SQLSERVERAGENT",
            "CORP\\dba-team",
            "erp_app"
        ],
        "the disabled old_vendor is not counted"
    );
    assert_eq!(s.logins_without_policy, ["erp_app"]);
    assert_eq!(
        s.logins_without_expiration,
        ["sa", "erp_app", "report_reader"]
    );
}

#[test]
fn missing_results_are_unknown_not_zero() {
    let mut r = recorded();
    r.backups = None;
    r.end = WindowRows::default();
    r.logins = None;
    let a = assemble(LABEL, &r, 50);
    let erp = a.facts.database("erp").unwrap();
    assert_eq!(erp.last_full_backup, None);
    assert!(a.facts.end.is_none() && a.facts.window_waits().is_empty());
    let s = a.facts.security.unwrap();
    assert_eq!((s.logins_visible, s.windows_auth_only), (None, Some(false)));
    // Without an end reading the statements are those of the start, since cached.
    let t = &a.tables[1].1;
    assert!(bools(t, "over_window").iter().all(|b| *b == Some(false)));
    assert_eq!(t.rows(), 4);
}

/// A local port with nothing listening on it.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    listener.local_addr().expect("its address").port()
}

fn options() -> DbOptions {
    DbOptions {
        connect_timeout: Duration::from_secs(5),
        ..DbOptions::default()
    }
}

#[test]
fn a_port_with_nothing_listening_cannot_be_connected_to_and_says_what_to_check() {
    let port = free_port();
    let target = DbTarget::parse(
        Engine::Mssql,
        &format!("mssql://perfdiag:S3cret!@127.0.0.1:{port}/erp?trust_server_certificate=true"),
    )
    .expect("a valid URL");
    let error = db::connect(&target, &options()).expect_err("nothing listens there");
    let text = error.to_string();
    assert!(matches!(error, DbError::Connect { .. }), "{text}");
    assert!(
        text.starts_with("cannot connect to mssql://perfdiag@127.0.0.1:"),
        "{text}"
    );
    assert!(
        text.contains(&format!("127.0.0.1:{port}: nothing listens there")),
        "{text}"
    );
    assert!(text.contains("check that SQL Server runs"), "{text}");
    assert!(!text.contains("S3cret"), "{text}");
}

#[test]
fn a_port_that_is_not_sql_server_fails_as_a_connect_error() {
    // A listener that accepts and hangs up at once, as a wrong service might.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        if let Ok((stream, _)) = listener.accept() {
            drop(stream);
        }
    });
    let target = DbTarget::parse(
        Engine::Mssql,
        &format!("Server=tcp:127.0.0.1,{port};Database=erp;User Id=perfdiag;Password=S3cret!"),
    )
    .expect("a valid connection string");
    let error = db::connect(&target, &options()).expect_err("not a SQL Server");
    server.join().unwrap();
    let text = error.to_string();
    assert!(matches!(error, DbError::Connect { .. }), "{text}");
    assert!(
        text.starts_with(&format!(
            "cannot connect to mssql://perfdiag@127.0.0.1:{port}/erp"
        )),
        "{text}"
    );
    assert!(!text.contains("S3cret"), "{text}");
}

#[test]
fn connection_strings_become_urls_without_their_password() {
    let t = DbTarget::parse(
        Engine::Mssql,
        "Server=tcp:db01,1433;Database=erp;User Id=perfdiag;Password=p@ss;w0rd;TrustServerCertificate=True",
    );
    // `;` ends a bare value: the password must be quoted to hold one.
    assert!(t.is_err(), "{t:?}");
    let t = DbTarget::parse(
        Engine::Mssql,
        "Server=tcp:db01,1433;Database=erp;User Id=perfdiag;Password=\"p@ss;w0rd\";TrustServerCertificate=True",
    )
    .unwrap();
    assert_eq!(
        t.label(),
        "mssql://perfdiag@db01:1433/erp?trust_server_certificate=true"
    );
    assert!(t.has_password());
    assert!(!format!("{t:?}").contains("p@ss"));
    let without =
        DbTarget::parse(Engine::Mssql, "Server=db01;Database=erp;User Id=perfdiag").unwrap();
    assert!(!without.has_password());
    assert!(without.with_password("x").has_password());
    assert_eq!(
        without.with_password("x").label(),
        "mssql://perfdiag@db01/erp"
    );
}
