//! `perfdiag logs` through the binary on the peers' sample logs.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn corpus(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpora")
        .join(rel)
}

fn perfdiag(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perfdiag"))
        .args(args)
        .output()
        .expect("perfdiag runs")
}

fn profile(file: &Path) -> serde_json::Value {
    let out = perfdiag(&["logs", "--json", "-q", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn mysql_slow_log_profile_matches_pt_query_digest() {
    // slow002.txt: pt-query-digest finds 8 events in 7 classes (expected/slow002_report.txt).
    let p = profile(&corpus("percona/slowlogs/slow002.txt"));
    assert_eq!(p["events"], 8);
    assert_eq!(p["classes"], 7);
    let top = &p["top"][0];
    assert_eq!(top["calls"], 1);
    assert!(
        (top["total_time_s"].as_f64().unwrap() - 0.726052).abs() < 1e-6,
        "{top}"
    );
    // Samples leave the tool with their literals masked.
    assert!(!top["sample"].as_str().unwrap().contains("'"), "{top}");
}

#[test]
fn postgres_log_format_is_detected_and_compressed_input_read() {
    let file = corpus("pgbadger/fixtures/light.postgres.log.bz2");
    let out = perfdiag(&["logs", "-q", file.to_str().unwrap()]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("PostgreSQL stderr log, prefix '%t [%p]: [%l-1]"),
        "{stderr}"
    );
    // pgBadger counts 629 queries in this log.
    assert_eq!(profile(&file)["events"], 629);
}

#[test]
fn unknown_and_empty_inputs_are_handled() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.bin");
    std::fs::write(&garbage, [0u8, 159, 146, 150, 7, 255, 0, 1].repeat(1000)).unwrap();
    let out = perfdiag(&["logs", garbage.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--format"));

    let empty = dir.path().join("empty.log");
    std::fs::write(&empty, "").unwrap();
    assert_eq!(profile(&empty)["events"], 0);
}

#[test]
fn collect_with_logs_puts_the_profile_in_the_snapshot_and_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("s.pdsnap");
    let report = dir.path().join("r.html");
    let mysql = corpus("percona/slowlogs/slow002.txt");
    let pg = corpus("pgbadger/fixtures/light.postgres.log.bz2");
    let out = perfdiag(&[
        "diagnose",
        "--duration",
        "1",
        "-q",
        "--lang",
        "en",
        "--log",
        mysql.to_str().unwrap(),
        "--log",
        pg.to_str().unwrap(),
        "--snapshot",
        snap.to_str().unwrap(),
        "-o",
        report.to_str().unwrap(),
    ]);
    assert!(matches!(out.status.code(), Some(0 | 3)), "{out:?}");
    let snapshot = perfdiag_model::Snapshot::read(&snap).unwrap();
    let table = snapshot
        .table(perfdiag_model::tables::LOG_QUERIES)
        .expect("log_queries table");
    // Both logs' classes, 7 each, told apart by their source.
    assert_eq!(table.rows(), 14);
    let Some(perfdiag_model::ColumnData::Utf8(sources)) = table.column("source") else {
        panic!("source column");
    };
    assert_eq!(
        sources
            .iter()
            .filter(|s| s.as_deref() == pg.to_str())
            .count(),
        7
    );
    let logs: Vec<_> = snapshot
        .manifest()
        .probes
        .iter()
        .filter(|p| p.id == "logs")
        .collect();
    assert_eq!(logs.len(), 2);
    assert!(
        logs[1].message.as_deref().unwrap().contains("629 events"),
        "{logs:?}"
    );
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.contains("id=\"sql\"") && html.contains("update pgbench_tellers"));
}
