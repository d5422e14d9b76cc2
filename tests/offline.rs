//! `perfdiag scripts` and `perfdiag import` through the binary: the scripts a DBA gets,
//! a capture made with them on a throwaway PostgreSQL imported into a snapshot, and
//! the clear refusals (not a capture, a non-empty folder, an engine without scripts).
//! The equivalence with a live collection is shown in probes/tests/offline.rs.

use std::path::Path;
use std::process::{Command, Output};

use perfdiag_model::{ProbeStatus, Snapshot, facts_names, tables};
use perfdiag_testkit::postgres::PgServer;

fn perfdiag(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_perfdiag"))
        .args(args)
        .env("LANG", "C")
        .output()
        .expect("perfdiag runs")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn scripts_for_each_engine_come_with_a_readme_and_refuse_a_used_folder() {
    let dir = tempfile::tempdir().unwrap();
    for (engine, files) in [
        (
            "postgres",
            &[
                "collect.sh",
                "start.psql",
                "sample.psql",
                "end.psql",
                "README.md",
            ][..],
        ),
        (
            "mysql",
            &[
                "collect.sh",
                "queries/identity.sql",
                "queries/variables.sql",
                "README.md",
            ][..],
        ),
    ] {
        let out_dir = dir.path().join(engine);
        let out = perfdiag(&[
            "scripts",
            "--engine",
            engine,
            "-o",
            s(&out_dir),
            "--duration",
            "5m",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for f in files {
            assert!(out_dir.join(f).is_file(), "{engine}: {f}");
        }
        let readme = std::fs::read_to_string(out_dir.join("README.md")).unwrap();
        for needed in [
            "## What they do",
            "## Safety",
            "## How to run it",
            "## What to send back",
            "| 300 |",
        ] {
            assert!(readme.contains(needed), "{engine} README lacks {needed}");
        }
        let again = perfdiag(&["scripts", "--engine", engine, "-o", s(&out_dir)]);
        assert_eq!(again.status.code(), Some(1));
        assert!(String::from_utf8_lossy(&again.stderr).contains("is not empty"));
    }
    // SQL Server: sqlcmd scripts for Windows and Linux (not run here: no SQL Server).
    let ms = dir.path().join("ms");
    let out = perfdiag(&["scripts", "--engine", "mssql", "-o", s(&ms)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for f in [
        "collect.cmd",
        "collect.sh",
        "queries/server.sql",
        "queries/sessions.sql",
        "README.md",
    ] {
        assert!(ms.join(f).is_file(), "mssql: {f}");
    }
    let cmd = std::fs::read_to_string(ms.join("collect.cmd")).unwrap();
    assert!(cmd.contains("\r\n"), "collect.cmd has Windows line ends");
}

#[test]
fn a_postgres_capture_imports_into_a_snapshot() {
    let pg = PgServer::start();
    pg.psql("CREATE EXTENSION pg_stat_statements");
    let dir = tempfile::tempdir().unwrap();
    let scripts = dir.path().join("scripts");
    let capture = dir.path().join("capture");
    let out = perfdiag(&["scripts", "--engine", "postgres", "-o", s(&scripts)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = Command::new("sh")
        .arg(scripts.join("collect.sh"))
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &pg.port().to_string(),
            "-U",
            "postgres",
            "-d",
            "postgres",
        ])
        .env("DURATION", "2")
        .env("OUT", &capture)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );

    let snap = dir.path().join("db.pdsnap");
    let out = perfdiag(&["import", s(&capture), "-o", s(&snap)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let snapshot = Snapshot::read(&snap).unwrap();
    let m = snapshot.manifest();
    assert!(m.facts.iter().any(|f| f == facts_names::POSTGRES));
    assert!(snapshot.table(tables::PG_SESSIONS).is_some());
    let import = m.probes.iter().find(|p| p.id == "postgres.import").unwrap();
    assert_eq!(import.status, ProbeStatus::Imported, "{import:?}");
    assert_eq!(m.window.interval_ms, 1000);

    // The snapshot reads like any other: a report is made from it, and its probes
    // section says, in each language, that the parts were imported.
    let report = dir.path().join("r.json");
    let out = perfdiag(&["report", s(&snap), "--format", "json", "-o", s(&report)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (lang, label) in [("en", "imported"), ("zh-CN", "已导入")] {
        let html = dir.path().join(format!("r-{lang}.html"));
        let out = perfdiag(&["report", s(&snap), "--lang", lang, "-o", s(&html)]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let html = std::fs::read_to_string(&html).unwrap();
        let badge = format!("<span class=\"badge imported\">{label}</span>");
        assert!(html.contains(&badge), "{lang}: no {badge}");
    }

    // Not a capture: refused, naming the file.
    let out = perfdiag(&["import", s(&scripts), "-o", s(&dir.path().join("x.pdsnap"))]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("manifest.txt is missing"), "{stderr}");
}
