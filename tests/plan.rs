//! `perfdiag plan SNAPSHOT -o DIR` end to end through the binary: the folder it writes
//! (plan.json, numbered step folders with apply and rollback scripts that start with
//! what the step is, a README in the report language), that it never writes over a
//! plan, and that the files it writes run as they are (a PostgreSQL step applied and
//! rolled back with psql on a throwaway server).

use std::path::{Path, PathBuf};
use std::process::Command;

use perfdiag_model::Plan;
use perfdiag_testkit::postgres::PgServer;

mod common;
use common::{ok, perfdiag, s};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("probes/tests/fixtures")
        .join(name)
}

/// A one-second snapshot of a fixture tree (and of the databases in `extra`).
fn snapshot(dir: &Path, tree: &str, extra: &[&str]) -> PathBuf {
    let snap = dir.join("s.pdsnap");
    let root = fixture(tree);
    let mut args = vec![
        "collect",
        "--duration",
        "1",
        "-q",
        "--host-root",
        s(&root),
        "-o",
        s(&snap),
    ];
    args.extend(extra);
    ok(&perfdiag(&args));
    snap
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The step folders of a plan folder, in name order (= plan order).
fn step_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn plan_writes_numbered_scripts_with_headers_a_readme_and_plan_json() {
    let dir = tempfile::tempdir().unwrap();
    let snap = snapshot(dir.path(), "numa", &[]);
    let out = dir.path().join("plan");
    let stdout = ok(&perfdiag(&[
        "plan",
        s(&snap),
        "-o",
        s(&out),
        "--lang",
        "en",
    ]));

    let plan: Plan = serde_json::from_str(&read(&out.join("plan.json"))).unwrap();
    let ids: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
    for planted in [
        "os.thp.disable",
        "os.sysctl.zone_reclaim",
        "os.cpu.governor.performance",
    ] {
        assert!(ids.contains(&planted), "{planted} not in {ids:?}");
    }
    // One folder per step, numbered in plan order, each with its two scripts.
    let dirs = step_dirs(&out);
    assert_eq!(dirs.len(), plan.steps.len());
    for (i, (d, step)) in dirs.iter().zip(&plan.steps).enumerate() {
        let name = d.file_name().unwrap().to_str().unwrap();
        assert_eq!(name, format!("{:02}-{}", i + 1, step.id));
        for (file, script) in [("apply", &step.script), ("rollback", &step.rollback)] {
            let ext = match script.language.as_str() {
                "sql" => "sql",
                "sh" => "sh",
                _ => "txt",
            };
            let path = d.join(format!("{file}.{ext}"));
            let text = read(&path);
            assert!(
                stdout.contains(s(&path)),
                "{} not listed:\n{stdout}",
                path.display()
            );
            assert!(text.ends_with(&script.body), "{}", path.display());
            let header = &text[..text.len() - script.body.len()];
            if ext == "sh" {
                assert!(header.starts_with("#!/bin/sh\n"), "{header}");
                let syntax = Command::new("sh").arg("-n").arg(&path).output().unwrap();
                assert!(syntax.status.success(), "{}: {syntax:?}", path.display());
            }
            let marker = if ext == "sql" { "--" } else { "#" };
            for line in header.lines().filter(|l| !l.is_empty()) {
                assert!(line.starts_with(marker), "{}: {line}", path.display());
            }
            assert!(header.contains(&format!("step {} of {}", i + 1, plan.steps.len())));
            assert!(
                header.contains(&format!("Step id: {}", step.id)),
                "{header}"
            );
            assert!(header.contains("Risk: ") && header.contains("Needs a restart: "));
            assert!(
                header.contains("perfdiag never runs this script"),
                "{header}"
            );
            if file == "apply" {
                assert!(header.contains(&format!("How to verify: {}", step.verify.metric)));
            }
        }
    }
    let thp =
        read(&dirs[ids.iter().position(|i| *i == "os.thp.disable").unwrap()].join("apply.sh"));
    assert!(thp.contains(": Disable transparent huge pages\n"), "{thp}");
    assert!(thp.contains("Target: this host"), "{thp}");

    // The README: the order, each step, and that nothing runs by itself.
    let readme = read(&out.join("README.md"));
    assert!(readme.contains("perfdiag never runs anything"), "{readme}");
    assert!(
        !readme.contains("[["),
        "a catalog key is missing:\n{readme}"
    );
    let mut at = 0;
    for (i, step) in plan.steps.iter().enumerate() {
        let heading = format!("\n## {}. ", i + 1);
        let found = readme[at..]
            .find(&heading)
            .unwrap_or_else(|| panic!("no section for step {} ({}) in order", i + 1, step.id));
        at += found + heading.len();
        assert!(readme.contains(&format!("`{}`", step.id)));
    }
    assert!(readme.contains("| 1 | "), "{readme}");

    // Never over an existing plan; an empty folder is fine.
    let again = perfdiag(&["plan", s(&snap), "-o", s(&out)]);
    assert_eq!(again.status.code(), Some(1));
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("exists and is not empty"), "{err}");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    ok(&perfdiag(&[
        "plan",
        s(&snap),
        "-o",
        s(&empty),
        "--lang",
        "zh-CN",
    ]));
    let zh = read(&empty.join("README.md"));
    assert!(zh.starts_with("# 优化方案"), "{zh}");
    assert!(zh.contains("perfdiag 不会执行任何操作"), "{zh}");
    assert!(!zh.contains("[["), "{zh}");
    let zh_thp = step_dirs(&empty)
        .into_iter()
        .find(|d| d.to_str().unwrap().ends_with("-os.thp.disable"))
        .unwrap();
    assert!(read(&zh_thp.join("apply.sh")).contains("# 风险: "));
}

#[test]
fn help_describes_plan() {
    let out = ok(&perfdiag(&["plan", "--help"]));
    for text in [
        "plan.json",
        "README",
        "never runs",
        "--output <DIR>",
        "--lang",
    ] {
        assert!(out.contains(text), "{text} not in:\n{out}");
    }
}

/// The files run as written: a PostgreSQL step's apply.sql and rollback.sql, header and
/// all, through psql on a throwaway server; the template step is marked as such.
#[test]
fn a_postgres_step_written_by_plan_runs_with_psql_and_rolls_back() {
    let pg = PgServer::start();
    pg.psql("CREATE EXTENSION pg_stat_statements");
    let dir = tempfile::tempdir().unwrap();
    let url = pg.url();
    let snap = snapshot(dir.path(), "this-machine", &["--pg", &url]);
    let out = dir.path().join("plan");
    ok(&perfdiag(&[
        "plan",
        s(&snap),
        "-o",
        s(&out),
        "--lang",
        "en",
    ]));
    let step = step_dirs(&out)
        .into_iter()
        .find(|d| {
            d.to_str()
                .unwrap()
                .ends_with("-pg.logging.log_slow_queries")
        })
        .unwrap_or_else(|| panic!("no slow-query step in {:?}", step_dirs(&out)));
    let psql = |file: &str| {
        let out = Command::new("/usr/bin/psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", file, &url])
            .current_dir(&step)
            .output()
            .unwrap();
        assert!(out.status.success(), "{file}: {out:?}");
    };
    assert_eq!(pg.psql("SHOW log_min_duration_statement"), "-1");
    psql("apply.sql");
    assert_eq!(pg.psql("SHOW log_min_duration_statement"), "1s");
    psql("rollback.sql");
    assert_eq!(pg.psql("SHOW log_min_duration_statement"), "-1");
}
