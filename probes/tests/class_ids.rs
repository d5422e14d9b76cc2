//! One query has one class id whichever source it came from: the slow log digested by
//! `perfdiag logs` and the statistics view the database probe reads
//! (performance_schema digests, pg_stat_statements), on throwaway servers.

use std::collections::BTreeSet;
use std::time::Duration;

use perfdiag_model::{ColumnData, Table, tables};
use perfdiag_probes::db::{self, DbOptions, DbOutput, DbTarget, Engine};
use perfdiag_probes::logs::LogParser;
use perfdiag_probes::logs::digest::digest_reader;
use perfdiag_probes::logs::mysql_slow::MysqlSlowParser;
use perfdiag_probes::logs::postgres::PgStderrParser;
use perfdiag_testkit::mariadb::MariaDbServer;
use perfdiag_testkit::postgres::PgServer;

/// The shapes of [`STATEMENTS`] in fingerprints.
const SHAPES: [&str; 4] = [
    "into items (id, name) values(?+)",
    "from items where id = ?",
    "from items where id in(?+)",
    "update items set name = ?",
];

/// Statements of several shapes: a point lookup, an IN list, a multi-row insert.
const STATEMENTS: [&str; 4] = [
    "INSERT INTO items (id, name) VALUES (1, 'a'), (2, 'b'), (3, 'c')",
    "SELECT name FROM items WHERE id = 2",
    "SELECT name FROM items WHERE id IN (1, 2, 3) ORDER BY name",
    "UPDATE items SET name = 'z' WHERE id=3",
];

/// Starts a collection window, runs `work` inside it, and ends the window.
fn collect_around(engine: Engine, url: &str, work: impl FnOnce()) -> DbOutput {
    let target = DbTarget::parse(engine, url).expect("valid url");
    let options = DbOptions {
        statement_timeout: Duration::from_secs(5),
        lock_timeout: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(5),
        top_n: 100,
    };
    let mut c = db::connect(&target, &options).expect("connects");
    work();
    c.tick();
    c.finish()
}

/// The class ids of a statement table, with the statement texts for messages.
fn ids_in(out: &DbOutput, name: &str, text: &str) -> BTreeSet<(String, String)> {
    let t: &Table = &out
        .tables
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no table {name}: {:#?}", out.records))
        .1;
    let column = |c: &str| match t.column(c) {
        Some(ColumnData::Utf8(v)) => v.clone(),
        other => panic!("{c}: {other:?}"),
    };
    column("fingerprint_id")
        .into_iter()
        .zip(column(text))
        .filter_map(|(id, text)| Some((id?, text.unwrap_or_default())))
        .collect()
}

fn log_ids(log: &[u8], parser: &dyn LogParser) -> Vec<(String, String)> {
    let (digest, _) = digest_reader(log, parser, 1, &|_| {}).expect("digest");
    digest
        .profile()
        .iter()
        .map(|r| (format!("{:016x}", r.class.id), r.class.fingerprint.clone()))
        .collect()
}

/// Every log class with one of `shapes` in its fingerprint has its id in the view.
fn assert_same_ids(
    from_log: &[(String, String)],
    from_view: &BTreeSet<(String, String)>,
    shapes: &[&str],
) {
    for shape in shapes {
        let (id, fp) = from_log
            .iter()
            .find(|(_, fp)| fp.contains(*shape))
            .unwrap_or_else(|| panic!("no log class with {shape:?}: {from_log:#?}"));
        assert!(
            from_view.iter().any(|(v, _)| v == id),
            "log class {fp:?} ({id}) not among the view's ids {from_view:?}"
        );
    }
}

#[test]
fn mariadb_slow_log_and_performance_schema_agree() {
    let dir = tempfile::tempdir().expect("temp dir");
    let slow = dir.path().join("slow.log");
    let server = MariaDbServer::builder()
        .option("performance_schema=ON")
        .option("slow_query_log=1")
        .option("long_query_time=0")
        .option(&format!("slow_query_log_file={}", slow.display()))
        .start()
        .expect("mariadb starts");
    server
        .sql("CREATE DATABASE app; CREATE TABLE app.items (id int PRIMARY KEY, name text)")
        .expect("schema");
    let out = collect_around(Engine::Mysql, &server.url(), || {
        for sql in STATEMENTS {
            server.sql(&format!("USE app; {sql}")).expect(sql);
        }
    });
    let log = std::fs::read(&slow).expect("slow log");
    assert_same_ids(
        &log_ids(&log, &MysqlSlowParser),
        &ids_in(&out, tables::MYSQL_STATEMENTS, "digest_text"),
        // And the probe's own query of information_schema.tables, which the digest
        // writes `information_schema` . `TABLES`.
        &[&SHAPES[..], &["from information_schema.tables where"]].concat(),
    );
}

#[test]
fn postgres_log_and_pg_stat_statements_agree() {
    let pg = PgServer::builder()
        .conf("log_min_duration_statement = 0")
        .conf("log_line_prefix = '%m [%p] %q%u@%d '")
        .start();
    pg.psql("CREATE EXTENSION pg_stat_statements");
    pg.psql("CREATE TABLE items (id int PRIMARY KEY, name text)");
    let out = collect_around(Engine::Postgres, &pg.url(), || {
        for sql in STATEMENTS {
            pg.psql(sql);
        }
    });
    let log = pg.log();
    assert_same_ids(
        &log_ids(log.as_bytes(), &PgStderrParser::detect(log.as_bytes())),
        &ids_in(&out, tables::PG_STATEMENTS, "query"),
        &SHAPES,
    );
}
