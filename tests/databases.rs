//! End to end through the binary with real, throwaway database servers: collection
//! with the host, credentials that never reach a file, and an unreachable target that
//! costs nothing else.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output};

use perfdiag_model::{ProbeStatus, Snapshot, facts_names, tables};
use perfdiag_testkit::mariadb::MariaDbServer;
use perfdiag_testkit::postgres::PgServer;

const SECRET: &str = "Sup3r-S3cret-pw";

fn perfdiag(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_perfdiag"));
    cmd.args(args).env("LANG", "C").env_remove("PGPASSWORD");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("perfdiag runs")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every byte of every entry of a snapshot, decompressed.
fn snapshot_text(path: &Path) -> String {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut all = Vec::new();
    for i in 0..zip.len() {
        zip.by_index(i).unwrap().read_to_end(&mut all).unwrap();
    }
    String::from_utf8_lossy(&all).into_owned()
}

#[test]
fn diagnose_collects_both_engines_and_never_stores_a_password() {
    let pg = PgServer::start();
    pg.psql(&format!(
        "CREATE EXTENSION pg_stat_statements; \
         CREATE ROLE monitor LOGIN PASSWORD '{SECRET}' IN ROLE pg_monitor;"
    ));
    let maria = MariaDbServer::start().expect("MariaDB starts");
    maria
        .sql(&format!(
            "CREATE USER 'monitor'@'%' IDENTIFIED BY '{SECRET}'; \
             GRANT PROCESS ON *.* TO 'monitor'@'%'; \
             GRANT SELECT ON performance_schema.* TO 'monitor'@'%';"
        ))
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("r.html");
    let snap = dir.path().join("r.pdsnap");
    let pg_url = pg.url_for("monitor", "postgres");
    let maria_url = maria.url_for("monitor", "");
    let out = perfdiag(
        &[
            "diagnose",
            "--duration",
            "2",
            "-q",
            "--lang",
            "en",
            "--pg",
            &pg_url,
            "--mysql",
            &maria_url,
            "-o",
            s(&report),
            "--snapshot",
            s(&snap),
        ],
        // Passwords from the environment, as the README recommends.
        &[("PGPASSWORD", SECRET), ("MYSQL_PWD", SECRET)],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(matches!(out.status.code(), Some(0 | 3)), "{stderr}");

    let snapshot = Snapshot::read(&snap).unwrap();
    let m = snapshot.manifest();
    for engine in ["postgres", "mysql"] {
        assert!(
            m.facts.iter().any(|f| f == engine),
            "{engine} facts: {:?}",
            m.facts
        );
        let connected = m
            .probes
            .iter()
            .filter(|p| p.id.starts_with(&format!("{engine}.")))
            .filter(|p| p.status != ProbeStatus::Failed)
            .count();
        assert!(connected >= 3, "{engine} probes: {:#?}", m.probes);
    }
    let pg_facts: Vec<serde_json::Value> = snapshot.fact(facts_names::POSTGRES).unwrap().unwrap();
    assert_eq!(pg_facts[0]["target"], pg_url.as_str());
    for table in [
        tables::PG_SESSIONS,
        tables::MYSQL_SESSIONS,
        tables::HOST_CPU,
    ] {
        assert!(snapshot.table(table).is_some(), "{table} missing");
    }

    // The password was used (collection worked) but is nowhere to be found.
    assert!(
        !snapshot_text(&snap).contains(SECRET),
        "password in the snapshot"
    );
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(!html.contains(SECRET), "password in the report");
    assert!(!stderr.contains(SECRET) && !String::from_utf8_lossy(&out.stdout).contains(SECRET));
    assert!(!html.contains("[["), "a catalog key is missing");
    for product in ["PostgreSQL 15", "MariaDB 10"] {
        assert!(
            html.contains(product),
            "{product} missing from the databases section"
        );
    }
}

#[test]
fn an_unreachable_database_costs_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("u.pdsnap");
    // Port 1 on loopback: refused at once.
    let out = perfdiag(
        &[
            "collect",
            "--duration",
            "1",
            "-q",
            "--pg",
            "postgres://erp@127.0.0.1:1/erp",
            "-o",
            s(&snap),
        ],
        &[],
    );
    assert_eq!(
        out.status.code(),
        Some(3),
        "a failed probe gives exit code 3"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot connect to postgres://erp@127.0.0.1:1/erp"),
        "{stderr}"
    );

    let snapshot = Snapshot::read(&snap).unwrap();
    let connect = snapshot
        .manifest()
        .probes
        .iter()
        .find(|p| p.id == "postgres.connect")
        .expect("the failure is recorded");
    assert_eq!(connect.status, ProbeStatus::Failed);
    assert_eq!(
        connect.target.as_deref(),
        Some("postgres://erp@127.0.0.1:1/erp")
    );
    assert!(
        connect
            .hint
            .as_deref()
            .unwrap_or("")
            .contains("server runs")
    );
    assert!(
        snapshot.table(tables::HOST_CPU).is_some(),
        "host samples kept"
    );
}
