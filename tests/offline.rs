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

/// SQL Server end to end, with no SQL Server anywhere: the capture the sqlcmd scripts
/// would leave, made from the recorded rows by
/// `probes/tests/fixtures/mssql/make_capture.py`, imported, assessed, planned and
/// reported through the binary.
#[test]
fn a_sql_server_capture_is_assessed_planned_and_reported() {
    let capture = Path::new(env!("CARGO_MANIFEST_DIR")).join("probes/tests/fixtures/mssql-capture");
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("db01.pdsnap");
    let out = perfdiag(&["import", s(&capture), "-o", s(&snap)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // The database the login could not enter is skipped with the GRANT that allows it.
    assert!(
        stderr.contains("GRANT CONNECT ANY DATABASE TO [perfdiag];"),
        "{stderr}"
    );
    let target = "mssql://perfdiag@db01:1433/erp";

    // The planted faults are found, and the lock waits of the sampled requests are
    // the primary bottleneck.
    let out = perfdiag(&["analyze", s(&snap), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let assessment: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let fired: Vec<&str> = assessment["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    for rule in [
        "mssql.cpu.maxdop",
        "mssql.cpu.cost_threshold_default",
        "mssql.memory.max_server_memory",
        "mssql.plan_cache.adhoc_bloat",
        "mssql.tempdb.file_count",
        "mssql.log.vlf_count",
        "mssql.database.auto_shrink",
        "mssql.database.page_verify",
        "mssql.backup.missing",
        "mssql.locks.blocking",
        "mssql.indexes.missing",
        "mssql.indexes.unused_writes",
        "mssql.security.sa_enabled",
        "mssql.security.surface_area",
    ] {
        assert!(fired.contains(&rule), "{rule} not found in {fired:?}");
    }
    let primary = &assessment["primary"];
    assert_eq!(
        (
            &primary["dimension"],
            &primary["wait_class"],
            &primary["target"]
        ),
        (
            &serde_json::Value::from("sessions_locking"),
            &serde_json::Value::from("Lock"),
            &serde_json::Value::from(target)
        ),
        "{primary:#}"
    );

    // The plan is T-SQL, guarded by the current value, with the recorded value to
    // go back to.
    let plan = dir.path().join("plan");
    let out = perfdiag(&["plan", s(&snap), "-o", s(&plan)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let step = std::fs::read_dir(&plan)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.to_string_lossy()
                .ends_with("-mssql.config.cost_threshold")
        })
        .expect("the cost threshold step");
    let apply = std::fs::read_to_string(step.join("apply.sql")).unwrap();
    assert!(
        apply.contains("WHERE name = N'cost threshold for parallelism') <> 50")
            && apply.contains("EXEC sys.sp_configure N'cost threshold for parallelism', 50;"),
        "{apply}"
    );
    let rollback = std::fs::read_to_string(step.join("rollback.sql")).unwrap();
    assert!(
        rollback.contains("N'cost threshold for parallelism', 5;"),
        "{rollback}"
    );

    // The report names the server, its options, its heaviest statement and who
    // blocks whom, in both languages.
    for lang in ["en", "zh-CN"] {
        let html = dir.path().join(format!("report-{lang}.html"));
        let out = perfdiag(&["report", s(&snap), "--lang", lang, "-o", s(&html)]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let html = std::fs::read_to_string(&html).unwrap();
        assert!(!html.contains("[["), "{lang}: a catalog key is missing");
        assert!(html.contains("SQL Server 2019 15.0.4322.2 CU22"), "{lang}");
        assert!(
            html.contains("max degree of parallelism</code></td><td class=\"num\">0</td>"),
            "{lang}: MAXDOP not in the inventory"
        );
        assert!(html.contains("dbo.ledger"), "{lang}: the top statement");
        // The sleeping head blocker 64, with 87 waiting on it and 91 on 87.
        let sessions = &html[html.find("id=\"sessions\"").expect("a sessions section")..];
        let chain = &sessions[sessions.find("class=\"chain\"").expect("a chain")..];
        let order: Vec<usize> = [
            "<strong>64</strong>",
            "<strong>87</strong>",
            "<strong>91</strong>",
        ]
        .iter()
        .map(|id| {
            chain
                .find(id)
                .unwrap_or_else(|| panic!("{lang}: {id} not in the chain"))
        })
        .collect();
        assert!(order.is_sorted(), "{lang}: the chain is not 64 → 87 → 91");
        assert!(chain.contains("Lock: LCK_M_X"), "{lang}");
    }
}
