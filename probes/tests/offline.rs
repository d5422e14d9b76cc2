//! Offline collection against throwaway servers: the generated scripts run with the
//! engines' own clients (psql, mariadb), the import of what they wrote holds the same
//! facts as a live collection of the same window (settings, security findings, top
//! statements), and bad captures are reported file by file while the rest is
//! imported.
//!
//! Live and offline collections run over the same window here: the live collector
//! takes its start readings, the script its own, then the workload runs (as another
//! user, so the monitoring queries of either side can be told apart), then both take
//! their end readings. The workload's statements are thus counted identically by both.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use perfdiag_model::facts::{MysqlFacts, PostgresFacts};
use perfdiag_model::{ColumnData, ProbeStatus, Snapshot, Table, facts_names, tables};
use perfdiag_probes::db::{self, DbOptions, DbOutput, DbTarget, Engine};
use perfdiag_probes::offline::{self, ScriptOptions};
use perfdiag_testkit::mariadb::MariaDbServer;
use perfdiag_testkit::postgres::PgServer;

mod common;

const TOP_N: usize = 200;

fn options() -> DbOptions {
    DbOptions {
        top_n: TOP_N,
        ..DbOptions::default()
    }
}

/// Writes `engine`'s scripts into a new folder.
fn scripts(engine: Engine, dir: &Path) -> PathBuf {
    let at = dir.join(format!("{}-scripts", engine.id()));
    offline::scripts(engine, &ScriptOptions::default())
        .expect("scripts exist")
        .write(&at)
        .expect("scripts written");
    at
}

/// Starts `collect.sh` with a 3 s window sampled every second.
fn run_script(scripts: &Path, out: &Path, args: &[String], env: &[(&str, &str)]) -> Child {
    let mut cmd = Command::new("sh");
    cmd.arg(scripts.join("collect.sh"))
        .args(args)
        .env("DURATION", "3")
        .env("INTERVAL", "1")
        .env("TOP_N", TOP_N.to_string())
        .env("OUT", out)
        .env_remove("PGPASSWORD")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.spawn().expect("sh runs the script")
}

fn wait_for(path: &Path, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !path.exists() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!(
                "the script ended ({status}) before writing {}",
                path.display()
            );
        }
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn finish(child: Child) {
    let out = child.wait_with_output().expect("script ends");
    assert!(
        out.status.success(),
        "collect.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn table<'a>(out: &'a DbOutput, name: &str) -> &'a Table {
    &out.tables
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no table {name}"))
        .1
}

/// The rows of `t` whose `column` is `value`, every column as text, sorted.
fn rows_where(t: &Table, column: &str, value: &str, skip: &[&str]) -> Vec<Vec<String>> {
    let n = t.rows();
    let cell = |data: &ColumnData, i: usize| -> String {
        match data {
            ColumnData::Utf8(v) => format!("{:?}", v[i]),
            ColumnData::Int64(v) => format!("{:?}", v[i]),
            ColumnData::Float64(v) => format!("{:?}", v[i].map(|f| (f * 1000.0).round() / 1000.0)),
            ColumnData::Bool(v) => format!("{:?}", v[i]),
            other => format!("{other:?}"),
        }
    };
    let key = t.column(column).expect("key column");
    let mut out: Vec<Vec<String>> = (0..n)
        .filter(|&i| cell(key, i) == format!("{:?}", Some(value)))
        .map(|i| {
            t.columns()
                .iter()
                .filter(|c| !skip.contains(&c.name.as_str()))
                .map(|c| format!("{}={}", c.name, cell(&c.data, i)))
                .collect()
        })
        .collect();
    out.sort();
    out
}

/// The status an imported record has where a live one has `status`: a part read
/// completely says `imported`; partial, skipped and failed stay what they are.
fn as_imported(status: ProbeStatus) -> ProbeStatus {
    if status == ProbeStatus::Ok {
        ProbeStatus::Imported
    } else {
        status
    }
}

/// Status of every probe record, by id, `.import` left out.
fn statuses(records: impl Iterator<Item = (String, ProbeStatus)>) -> Vec<(String, ProbeStatus)> {
    let mut v: Vec<_> = records.filter(|(id, _)| !id.ends_with(".import")).collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn imported_table<'a>(s: &'a Snapshot, name: &str) -> &'a Table {
    s.table(name)
        .unwrap_or_else(|| panic!("no table {name} imported"))
}

/// Settings that belong to the server, not to either session: each client sets its
/// own (sqlx sets DateStyle, TimeZone, extra_float_digits; psql does not).
fn server_settings(f: &PostgresFacts, other: &PostgresFacts) -> Vec<String> {
    let session = |name: &str| {
        [f, other].iter().any(|facts| {
            facts
                .setting(name)
                .is_some_and(|s| matches!(s.source.as_str(), "client" | "session"))
        })
    };
    f.settings
        .iter()
        .filter(|s| !session(&s.name))
        .map(|s| format!("{}={}{:?} {}", s.name, s.setting, s.unit, s.source))
        .collect()
}

/// A PostgreSQL capture made over the same window as a live collection.
struct PgRun {
    live: DbOutput,
    imported: offline::Imported,
    capture: PathBuf,
    _dir: tempfile::TempDir,
    _server: PgServer,
}

fn pg_run() -> PgRun {
    let pg = PgServer::start();
    pg.psql(
        "CREATE EXTENSION pg_stat_statements; \
         CREATE ROLE monitor LOGIN IN ROLE pg_monitor; \
         CREATE ROLE app LOGIN; CREATE ROLE dba LOGIN SUPERUSER; \
         CREATE TABLE orders (id int PRIMARY KEY, customer_id int, total numeric); \
         INSERT INTO orders SELECT g, g % 100, g FROM generate_series(1, 5000) g; \
         GRANT SELECT ON orders TO app; ANALYZE orders;",
    );
    let dir = tempfile::tempdir().expect("dir");
    let capture = dir.path().join("capture");
    let scripts = scripts(Engine::Postgres, dir.path());

    let target = DbTarget::parse(Engine::Postgres, &pg.url_for("monitor", "postgres")).unwrap();
    let mut live = db::connect(&target, &options()).expect("live collector connects");
    let args: Vec<String> = [
        "-h",
        "127.0.0.1",
        "-p",
        &pg.port().to_string(),
        "-U",
        "monitor",
        "-d",
        "postgres",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let mut child = run_script(&scripts, &capture, &args, &[]);
    wait_for(&capture.join("samples/0001/clock.csv"), &mut child);
    // The workload, by `app`, after both start readings and before both end ones.
    let url = pg.url_for("app", "postgres");
    let workload = "SELECT count(*) FROM orders WHERE customer_id = 7; ".repeat(25)
        + &"SELECT sum(total) FROM orders; ".repeat(5);
    let out = Command::new("psql")
        .args(["-X", "-q", &url, "-c", &workload])
        .output()
        .expect("psql runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for _ in 0..3 {
        live.tick();
        std::thread::sleep(Duration::from_millis(300));
    }
    wait_for(&capture.join("samples/0003/sessions.csv"), &mut child);
    let live = live.finish();
    finish(child);
    let imported = offline::import(&capture).expect("the capture imports");
    PgRun {
        live,
        imported,
        capture,
        _dir: dir,
        _server: pg,
    }
}

#[test]
fn postgres_scripts_import_to_the_facts_of_a_live_collection() {
    let run = pg_run();
    let live: PostgresFacts = serde_json::from_value(run.live.facts.clone().unwrap()).unwrap();
    let snapshot = &run.imported.snapshot;
    assert!(
        run.imported.problems.is_empty(),
        "{:?}",
        run.imported.problems
    );
    assert!(
        run.imported.warnings.is_empty(),
        "{:?}",
        run.imported.warnings
    );
    let docs: Vec<PostgresFacts> = snapshot.fact(facts_names::POSTGRES).unwrap().unwrap();
    let offline = &docs[0];

    // Settings, databases, extensions, identity.
    assert_eq!(
        server_settings(offline, &live),
        server_settings(&live, offline)
    );
    assert!(live.settings.len() > 300);
    assert_eq!(offline.server_version_num, live.server_version_num);
    assert_eq!(
        offline
            .databases
            .iter()
            .map(|d| &d.name)
            .collect::<Vec<_>>(),
        live.databases.iter().map(|d| &d.name).collect::<Vec<_>>()
    );
    assert_eq!(offline.extensions, live.extensions);
    assert_eq!(offline.user.as_deref(), Some("monitor"));
    assert_eq!(offline.pg_stat_statements, live.pg_stat_statements);

    // Security findings: superusers, roles without expiry, schema public, hba skipped.
    assert_eq!(offline.security, live.security);
    let security = offline.security.as_ref().unwrap();
    assert!(
        security.superusers.contains(&"dba".to_owned()),
        "{security:?}"
    );
    assert!(
        security
            .login_roles_without_expiry
            .contains(&"app".to_owned())
    );
    assert!(
        security.hba_rules.is_none(),
        "a pg_monitor role cannot read pg_hba.conf"
    );

    // Top statements: the workload's, counted the same over the same window.
    let skip = ["target", "delta_from_start"];
    let live_statements = rows_where(
        table(&run.live, tables::PG_STATEMENTS),
        "rolname",
        "app",
        &skip,
    );
    let offline_statements = rows_where(
        imported_table(snapshot, tables::PG_STATEMENTS),
        "rolname",
        "app",
        &skip,
    );
    assert_eq!(offline_statements, live_statements);
    assert!(
        live_statements
            .iter()
            .any(|r| r.iter().any(|c| c == "calls=Some(25)")),
        "{live_statements:#?}"
    );

    // Every probe ran with the same outcome, and says it was imported: in its status
    // where live says ok, in its message otherwise.
    let live_statuses = statuses(
        run.live
            .records
            .iter()
            .map(|r| (r.id.clone(), as_imported(r.status))),
    );
    let m = snapshot.manifest();
    let offline_statuses = statuses(m.probes.iter().map(|r| (r.id.clone(), r.status)));
    assert_eq!(offline_statuses, live_statuses);
    for r in m.probes.iter().filter(|r| r.id.starts_with("postgres.")) {
        let message = r.message.as_deref().unwrap_or_default();
        assert!(
            r.status == ProbeStatus::Imported || message.starts_with("imported"),
            "{}: {:?} {message}",
            r.id,
            r.status
        );
    }
    // A query the role may not run is skipped with the GRANT, as live.
    let hba = m.probes.iter().find(|r| r.id == "postgres.hba").unwrap();
    assert_eq!(hba.status, ProbeStatus::Skipped, "{hba:?}");
    assert!(
        hba.hint
            .as_deref()
            .is_some_and(|h| h.contains("GRANT SELECT ON pg_hba_file_rules TO monitor")),
        "{hba:?}"
    );
    let import = m
        .probes
        .iter()
        .find(|r| r.id == "postgres.import")
        .expect("import record");
    assert_eq!(import.status, ProbeStatus::Imported, "{import:?}");
    assert!(
        import
            .message
            .as_deref()
            .unwrap()
            .contains("psql (PostgreSQL)")
    );

    // Sessions were sampled three times; the window is the script's.
    let sessions = imported_table(snapshot, tables::PG_SESSIONS);
    assert_eq!(m.window.interval_ms, 1000);
    assert!(!m.window.ended_early);
    assert!(m.window.ended_at > m.window.started_at);
    let _ = sessions;
    assert!(run.capture.join("files.txt").exists());
}

/// A copy of a capture to damage.
fn copy_capture(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

/// Replaces a file and its size in files.txt, as if the script had written it so.
fn rewrite(capture: &Path, relative: &str, bytes: &[u8]) {
    std::fs::write(capture.join(relative), bytes).unwrap();
    let sizes = std::fs::read_to_string(capture.join("files.txt")).unwrap();
    let sizes: String = sizes
        .lines()
        .map(|l| match l.split_once(' ') {
            Some((_, path)) if path == relative => format!("{} {path}\n", bytes.len()),
            _ => format!("{l}\n"),
        })
        .collect();
    std::fs::write(capture.join("files.txt"), sizes).unwrap();
}

fn record<'a>(s: &'a Snapshot, id: &str) -> &'a perfdiag_model::ProbeRecord {
    s.manifest()
        .probes
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no record {id}"))
}

#[test]
fn bad_captures_are_reported_file_by_file_and_the_rest_is_imported() {
    let run = pg_run();
    let work = tempfile::tempdir().unwrap();

    // Missing file: the settings probe fails naming it; security is still imported.
    let missing = work.path().join("missing");
    copy_capture(&run.capture, &missing);
    std::fs::remove_file(missing.join("start/settings.csv")).unwrap();
    let got = offline::import(&missing).unwrap();
    assert!(
        got.problems
            .iter()
            .any(|p| p.contains("start/settings.csv is missing")),
        "{:?}",
        got.problems
    );
    let r = record(&got.snapshot, "postgres.settings");
    assert_eq!(r.status, ProbeStatus::Partial);
    assert!(
        r.message.as_deref().unwrap().contains("start/settings.csv"),
        "{r:?}"
    );
    let docs: Vec<PostgresFacts> = got.snapshot.fact(facts_names::POSTGRES).unwrap().unwrap();
    assert!(docs[0].settings.is_empty());
    assert!(
        docs[0]
            .security
            .as_ref()
            .is_some_and(|s| !s.superusers.is_empty())
    );
    assert_eq!(
        record(&got.snapshot, "postgres.import").status,
        ProbeStatus::Partial
    );

    // Truncated in transit: the size in files.txt tells.
    let truncated = work.path().join("truncated");
    copy_capture(&run.capture, &truncated);
    let path = truncated.join("start/security_roles.csv");
    let text = std::fs::read(&path).unwrap();
    std::fs::write(&path, &text[..text.len() / 2]).unwrap();
    let got = offline::import(&truncated).unwrap();
    assert!(
        got.problems
            .iter()
            .any(|p| p.contains("start/security_roles.csv is truncated")),
        "{:?}",
        got.problems
    );
    assert_eq!(
        record(&got.snapshot, "postgres.security").status,
        ProbeStatus::Partial
    );
    assert_eq!(
        record(&got.snapshot, "postgres.settings").status,
        ProbeStatus::Imported
    );

    // Wrong encoding: a Latin-1 file.
    let latin1 = work.path().join("latin1");
    copy_capture(&run.capture, &latin1);
    rewrite(
        &latin1,
        "start/databases.csv",
        b"name,size_bytes\ncaf\xe9,8000000\n",
    );
    let got = offline::import(&latin1).unwrap();
    assert!(
        got.problems
            .iter()
            .any(|p| p.contains("start/databases.csv is not UTF-8")),
        "{:?}",
        got.problems
    );

    // A file from another server version: PostgreSQL 17's pg_stat_bgwriter has no
    // checkpoint columns.
    let other = work.path().join("other-version");
    copy_capture(&run.capture, &other);
    rewrite(&other, "start/bgwriter.csv", b"buffers_clean,maxwritten_clean,buffers_alloc,stats_reset\n0,0,100,2026-12-02 10:00:00+00\n");
    let got = offline::import(&other).unwrap();
    assert!(
        got.problems
            .iter()
            .any(|p| p.contains("start/bgwriter.csv lacks") && p.contains("checkpoints_timed")),
        "{:?}",
        got.problems
    );

    // Not a capture of this format at all: refused, naming the file.
    let newer = work.path().join("newer");
    copy_capture(&run.capture, &newer);
    let manifest = std::fs::read_to_string(newer.join("manifest.txt")).unwrap();
    std::fs::write(
        newer.join("manifest.txt"),
        manifest.replace("format_version=1", "format_version=2"),
    )
    .unwrap();
    let e = offline::import(&newer).unwrap_err();
    assert!(e.contains("manifest.txt") && e.contains("format 2"), "{e}");
    let e = offline::import(work.path()).unwrap_err();
    assert!(e.contains("manifest.txt is missing"), "{e}");
}

#[test]
fn mariadb_scripts_import_to_the_facts_of_a_live_collection() {
    let maria = MariaDbServer::builder()
        .option("performance_schema=ON")
        .start()
        .expect("MariaDB starts");
    maria
        .sql(
            "CREATE USER 'monitor'@'%'; GRANT PROCESS ON *.* TO 'monitor'@'%'; \
             GRANT SELECT ON performance_schema.* TO 'monitor'@'%'; \
             GRANT SELECT ON mysql.global_priv TO 'monitor'@'%'; \
             CREATE USER 'app'@'%'; CREATE DATABASE appdb; \
             CREATE TABLE appdb.orders (id int PRIMARY KEY, customer_id int, KEY c (customer_id), KEY c2 (customer_id)); \
             CREATE TABLE appdb.nopk (a int); \
             INSERT INTO appdb.orders SELECT seq, seq % 100 FROM appdb.seq_1_to_5000; \
             GRANT SELECT ON appdb.* TO 'app'@'%'; GRANT SHOW VIEW ON *.* TO 'monitor'@'%';",
        )
        .expect("setup");
    let dir = tempfile::tempdir().expect("dir");
    let capture = dir.path().join("capture");
    let scripts = scripts(Engine::Mysql, dir.path());

    let target = DbTarget::parse(Engine::Mysql, &maria.url_for("monitor", "")).unwrap();
    let mut live = db::connect(&target, &options()).expect("live collector connects");
    let args: Vec<String> = [
        "--no-defaults",
        "-h",
        "127.0.0.1",
        "-P",
        &maria.port().to_string(),
        "-u",
        "monitor",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let mut child = run_script(&scripts, &capture, &args, &[("MYSQL", "mariadb")]);
    wait_for(&capture.join("samples/0001/clock.tsv"), &mut child);
    let workload = "SELECT COUNT(*) FROM orders WHERE customer_id = 7; ".repeat(25)
        + &"SELECT SUM(id) FROM orders; ".repeat(5);
    let out = Command::new("mariadb")
        .args([
            "--no-defaults",
            "-h",
            "127.0.0.1",
            "-P",
            &maria.port().to_string(),
            "-u",
            "app",
            "appdb",
            "-e",
            &workload,
        ])
        .output()
        .expect("mariadb runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for _ in 0..3 {
        live.tick();
        std::thread::sleep(Duration::from_millis(300));
    }
    wait_for(&capture.join("samples/0003/lock_waits.tsv"), &mut child);
    let live = live.finish();
    finish(child);
    let imported = offline::import(&capture).expect("the capture imports");
    assert!(imported.problems.is_empty(), "{:?}", imported.problems);
    let snapshot = &imported.snapshot;

    let live_facts: MysqlFacts = serde_json::from_value(live.facts.clone().unwrap()).unwrap();
    let docs: Vec<MysqlFacts> = snapshot.fact(facts_names::MYSQL).unwrap().unwrap();
    let offline = &docs[0];
    // Settings and variables (the server's globals), flavor, security findings.
    assert_eq!(offline.settings, live_facts.settings);
    assert_eq!(offline.variables, live_facts.variables);
    assert_eq!(offline.version, live_facts.version);
    assert_eq!(offline.flavor, live_facts.flavor);
    assert_eq!(offline.accounts, live_facts.accounts);
    assert!(
        offline
            .accounts
            .as_ref()
            .is_some_and(|a| a.iter().any(|a| a.user == "app" && a.empty_password))
    );
    assert_eq!(offline.data, live_facts.data);

    // Top statements: the workload's digests in appdb, the same over the same window.
    let skip = ["target"];
    let live_statements = rows_where(
        table(&live, tables::MYSQL_STATEMENTS),
        "schema",
        "appdb",
        &skip,
    );
    let offline_statements = rows_where(
        imported_table(snapshot, tables::MYSQL_STATEMENTS),
        "schema",
        "appdb",
        &skip,
    );
    assert_eq!(offline_statements, live_statements);
    assert!(
        live_statements
            .iter()
            .any(|r| r.iter().any(|c| c == "calls=Some(25)")),
        "{live_statements:#?}"
    );

    // Tables and indexes (no primary key, redundant index) alike.
    for name in [tables::MYSQL_TABLES, tables::MYSQL_INDEXES] {
        let live_rows = rows_where(table(&live, name), "schema", "appdb", &skip);
        assert!(!live_rows.is_empty(), "{name}");
        assert_eq!(
            rows_where(imported_table(snapshot, name), "schema", "appdb", &skip),
            live_rows,
            "{name}"
        );
    }

    let live_statuses = statuses(
        live.records
            .iter()
            .map(|r| (r.id.clone(), as_imported(r.status))),
    );
    let offline_statuses = statuses(
        snapshot
            .manifest()
            .probes
            .iter()
            .map(|r| (r.id.clone(), r.status)),
    );
    assert_eq!(offline_statuses, live_statuses);
    // A file lost in transit costs its own probe only.
    let damaged = dir.path().join("damaged");
    copy_capture(&capture, &damaged);
    std::fs::remove_file(damaged.join("start/accounts_mariadb.tsv")).unwrap();
    let got = offline::import(&damaged).unwrap();
    let security = record(&got.snapshot, "mysql.security");
    assert_eq!(security.status, ProbeStatus::Failed, "{security:?}");
    assert!(
        security
            .message
            .as_deref()
            .unwrap()
            .contains("start/accounts_mariadb.tsv is missing"),
        "{security:?}"
    );
    assert_eq!(
        record(&got.snapshot, "mysql.variables").status,
        ProbeStatus::Imported
    );
    let docs: Vec<MysqlFacts> = got.snapshot.fact(facts_names::MYSQL).unwrap().unwrap();
    assert_eq!(docs[0].settings, live_facts.settings);

    let sessions = snapshot
        .manifest()
        .probes
        .iter()
        .find(|r| r.id == "mysql.sessions")
        .unwrap();
    assert_eq!(sessions.status, ProbeStatus::Imported, "{sessions:?}");
    assert!(
        sessions
            .message
            .as_deref()
            .unwrap()
            .starts_with("3 samples (0 failed)"),
        "{sessions:?}"
    );
}

#[test]
fn a_script_that_cannot_connect_leaves_a_capture_that_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let scripts = scripts(Engine::Postgres, dir.path());
    let capture = dir.path().join("capture");
    let port = perfdiag_testkit::postgres::free_port().to_string();
    let args: Vec<String> = ["-h", "127.0.0.1", "-p", &port, "-U", "nobody", "-d", "x"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let out = run_script(&scripts, &capture, &args, &[])
        .wait_with_output()
        .unwrap();
    assert!(
        !out.status.success(),
        "psql cannot connect: the runner says so"
    );
    let got = offline::import(&capture).expect("still a capture");
    assert!(
        got.warnings
            .iter()
            .any(|w| w.starts_with("psql-errors.log:") && w.contains(&port)),
        "{:?}",
        got.warnings
    );
    let settings = record(&got.snapshot, "postgres.settings");
    assert_eq!(settings.status, ProbeStatus::Failed, "{settings:?}");
    assert_eq!(
        record(&got.snapshot, "postgres.import").status,
        ProbeStatus::Partial
    );
}

/// The recorded SQL Server rows (`fixtures/mssql/`, written by hand: no SQL Server
/// runs here) as a capture of the sqlcmd scripts, each file one `FOR JSON` value on a
/// line padded with blanks, as sqlcmd prints it; the import runs the live collector
/// over it, so it must give exactly what the probe's mapping gives for the same rows,
/// and the live records: Query Store read per database, a database the login cannot
/// enter skipped with its GRANT, the target named as sqlcmd was told it.
#[test]
fn a_sql_server_capture_imports_through_the_probes_own_collector() {
    use perfdiag_probes::mssql::{Results, assemble, counters::WindowRows};

    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mssql");
    let load = |name: &str| {
        let file = std::fs::File::open(fixtures.join(format!("{name}.csv"))).unwrap();
        perfdiag_probes::db::TextRows::from_csv(file, "NULL").unwrap()
    };
    let dir = tempfile::tempdir().unwrap();
    let capture = dir.path().join("capture");
    let mut sizes = String::new();
    let mut put = |relative: &str, rows: &perfdiag_probes::db::TextRows| {
        let items: Vec<serde_json::Value> = rows
            .rows
            .iter()
            .map(|cells| {
                let object = rows
                    .columns
                    .iter()
                    .zip(cells)
                    .map(|(c, v)| {
                        (
                            c.clone(),
                            v.clone()
                                .map_or(serde_json::Value::Null, serde_json::Value::String),
                        )
                    })
                    .collect();
                serde_json::Value::Object(object)
            })
            .collect();
        // One nvarchar(max) value: one line, which sqlcmd may pad with blanks.
        let text = serde_json::to_string(&items).unwrap() + "    \n";
        let path = capture.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        sizes.push_str(&format!("{} {relative}\n", text.len()));
    };
    let clock = |at: &str| {
        perfdiag_probes::db::TextRows::from_csv(format!("at\n{at}\n").as_bytes(), "").unwrap()
    };
    put("start/clock.json", &clock("2026-12-02T10:00:00.1234567"));
    for name in [
        "server",
        "host_info",
        "sys_info",
        "configurations",
        "databases",
        "vlf_counts",
        "backups",
        "tempdb_files",
        "logins",
    ] {
        put(&format!("start/{name}.json"), &load(name));
    }
    for name in ["wait_stats", "file_io", "perf_counters", "statements"] {
        put(
            &format!("start/{name}.json"),
            &load(&format!("{name}.start")),
        );
        put(&format!("end/{name}.json"), &load(&format!("{name}.end")));
    }
    put(
        "samples/0001/clock.json",
        &clock("2026-12-02T10:00:01.0000000"),
    );
    put("samples/0001/sessions.json", &load("sessions"));
    put("end/clock.json", &clock("2026-12-02T10:05:00.0000000"));
    for name in ["memory", "plan_cache", "missing_indexes", "indexes"] {
        put(&format!("end/{name}.json"), &load(name));
    }
    // Query Store of the ONLINE user databases (erp is 5, reports 7), as the batches
    // the server wrote for the second sqlcmd leave them: reports cannot be entered.
    put("start/query_store.5.json", &load("query_store"));
    std::fs::write(capture.join("start/query_store.7.json"), "").unwrap();
    std::fs::write(
        capture.join("start/query_store.7.err"),
        "Msg 916, Level 14, State 2, Server DB01, Line 11\nThe server principal \"perfdiag\" \
         is not able to access the database \"reports\" under the current security context.\n",
    )
    .unwrap();
    std::fs::write(capture.join("files.txt"), &sizes).unwrap();
    std::fs::write(
        capture.join("connection.txt"),
        "server tcp:db01,1433\nuser perfdiag\ndbname erp\n",
    )
    .unwrap();
    std::fs::write(
        capture.join("manifest.txt"),
        "format=perfdiag-offline-capture\nformat_version=1\nengine=mssql\n\
         client=Microsoft (R) SQL Server Command Line Tool Version 15.0.4298.1\nhost=APP01\n\
         os=Windows\narch=AMD64\nduration_s=300\ninterval_s=300\nsamples=1\ntop_n=50\n\
         started_at=2026-12-02T10:00:00Z\nended_at=2026-12-02T10:05:01Z\n",
    )
    .unwrap();

    let imported = offline::import(&capture).expect("the capture imports");
    assert!(imported.problems.is_empty(), "{:?}", imported.problems);
    assert!(imported.warnings.is_empty(), "{:?}", imported.warnings);
    let snapshot = &imported.snapshot;
    let docs: Vec<serde_json::Value> = snapshot.fact(facts_names::MSSQL).unwrap().unwrap();
    let label = docs[0]["target"].as_str().unwrap().to_owned();
    assert_eq!(
        label, "mssql://perfdiag@db01:1433/erp",
        "the target sqlcmd was told"
    );

    let results = Results {
        server: Some(load("server")),
        host_info: Some(load("host_info")),
        sys_info: Some(load("sys_info")),
        configurations: Some(load("configurations")),
        memory: Some(load("memory")),
        plan_cache: Some(load("plan_cache")),
        databases: Some(load("databases")),
        vlf_counts: Some(load("vlf_counts")),
        backups: Some(load("backups")),
        tempdb_files: Some(load("tempdb_files")),
        logins: Some(load("logins")),
        start: WindowRows {
            wait_stats: Some(load("wait_stats.start")),
            file_io: Some(load("file_io.start")),
            perf_counters: Some(load("perf_counters.start")),
            statements: Some(load("statements.start")),
        },
        end: WindowRows {
            wait_stats: Some(load("wait_stats.end")),
            file_io: Some(load("file_io.end")),
            perf_counters: Some(load("perf_counters.end")),
            statements: Some(load("statements.end")),
        },
        missing_indexes: Some(load("missing_indexes")),
        indexes: Some(load("indexes")),
        query_store: [("erp".to_owned(), load("query_store"))].into(),
        sessions: vec![(
            chrono::DateTime::parse_from_rfc3339("2026-12-02T10:00:01Z")
                .unwrap()
                .timestamp_micros(),
            load("sessions"),
        )],
    };
    let direct = assemble(&label, &results, 50);
    assert_eq!(docs[0], serde_json::to_value(&direct.facts).unwrap());
    assert!(docs[0]["version"].as_str().unwrap().contains("15.0.4322.2"));
    for (name, table) in &direct.tables {
        assert_eq!(imported_table(snapshot, name), table, "{name}");
    }
    let erp = docs[0]["databases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == "erp")
        .unwrap();
    assert_eq!(erp["query_store"]["actual_state"], "READ_ONLY", "{erp:#}");
    let m = snapshot.manifest();
    for id in [
        "mssql.server",
        "mssql.memory",
        "mssql.counters",
        "mssql.statements",
        "mssql.indexes",
        "mssql.sessions",
        "mssql.import",
    ] {
        let r = record(snapshot, id);
        assert_eq!(r.status, ProbeStatus::Imported, "{id}: {:#?}", m.probes);
        assert_eq!(r.target.as_deref(), Some(label.as_str()), "{id}");
    }
    // The live bookkeeping decided: every login is visible (VIEW ANY DEFINITION), the
    // database that cannot be entered is skipped with the GRANT that allows it.
    let security = record(snapshot, "mssql.security");
    assert_eq!(security.status, ProbeStatus::Imported, "{security:?}");
    let databases = record(snapshot, "mssql.databases");
    assert_eq!(databases.status, ProbeStatus::Partial, "{databases:?}");
    assert!(
        databases
            .message
            .as_deref()
            .is_some_and(|m| m.starts_with("imported: ") && m.contains("Query Store of reports")),
        "{databases:?}"
    );
    assert_eq!(
        databases.hint.as_deref(),
        Some("GRANT CONNECT ANY DATABASE TO [perfdiag];"),
        "{databases:?}"
    );

    // msdb's backup history denied: skipped with the statement that allows it, as
    // live; the rest of the capture is still imported.
    let denied = dir.path().join("denied");
    copy_capture(&capture, &denied);
    std::fs::write(
        denied.join("start/backups.err"),
        "Msg 229, Level 14, State 5, Server DB01, Line 9\nThe SELECT permission was denied on \
         the object 'backupset', database 'msdb', schema 'dbo'.\n",
    )
    .unwrap();
    let got = offline::import(&denied).unwrap();
    let databases = record(&got.snapshot, "mssql.databases");
    assert_eq!(databases.status, ProbeStatus::Partial, "{databases:?}");
    assert!(
        databases.hint.as_deref().is_some_and(|h| h.contains(
            "USE msdb; CREATE USER [perfdiag] FOR LOGIN [perfdiag]; GRANT SELECT ON dbo.backupset TO [perfdiag];"
        )),
        "{databases:?}"
    );
    assert_eq!(
        record(&got.snapshot, "mssql.server").status,
        ProbeStatus::Imported
    );

    // The query that writes the Query Store batches failed: no Query Store file, and
    // its error (not "missing files") is the reason given.
    let no_plan = dir.path().join("no-plan");
    copy_capture(&capture, &no_plan);
    std::fs::remove_file(no_plan.join("start/query_store.5.json")).unwrap();
    std::fs::write(
        no_plan.join("start/query_store_plan.err"),
        "Msg 1222, Level 16, State 18, Server DB01, Line 4\nLock request time out period exceeded.\n",
    )
    .unwrap();
    let got = offline::import(&no_plan).unwrap();
    assert!(got.problems.is_empty(), "{:?}", got.problems);
    let databases = record(&got.snapshot, "mssql.databases");
    assert_eq!(databases.status, ProbeStatus::Partial, "{databases:?}");
    assert!(
        databases.message.as_deref().is_some_and(|m| m
            .contains("Query Store of erp: Lock request time out period exceeded. (error 1222)")),
        "{databases:?}"
    );
}
