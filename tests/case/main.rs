//! `perfdiag case` end to end through the binary (docs/case.md), one module a flow.
//!
//! - `postgres`: on a throwaway PostgreSQL with planted faults (a 64kB work_mem under
//!   sorts that spill, a large table scanned on a column without an index, no
//!   slow-query log): the diagnosis, the plan, its scripts applied with psql as an
//!   engineer would, the baseline, a re-check that verifies the steps, a fault planted
//!   again and the re-check that flags it with its evidence, then the clock moved to
//!   the window's last days and past its end.
//! - `mariadb`: the same, shorter, on a throwaway MariaDB.
//! - `bad_input` (fixture trees, no database): what a case must refuse without
//!   changing anything — an invalid case.toml or progress.toml, a missing snapshot, a
//!   snapshot of another host, a locked case, a window longer than 3 months, a
//!   password in a URL.
//! - `unattended`: a failed unattended re-check recorded as such; the scheduling
//!   commands, and `--install` on the real crontab (restored afterwards).
//! - `report`: the engagement report after a regression, and after the window.

mod bad_input;
#[path = "../common/mod.rs"]
mod common;
mod mariadb;
mod postgres;
mod report;
mod unattended;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common::{ok, s};
use perfdiag_testkit::postgres::PgServer;
use serde_json::Value;

/// Runs the binary in the C locale, with the clock at `now` when given.
fn perfdiag_at(now: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_perfdiag"));
    cmd.args(args)
        .env("LANG", "C")
        .env_remove("PGPASSWORD")
        .env_remove("PERFDIAG_NOW");
    if let Some(now) = now {
        cmd.env("PERFDIAG_NOW", now);
    }
    cmd.output().expect("perfdiag runs")
}

fn perfdiag(args: &[&str]) -> Output {
    perfdiag_at(None, args)
}

/// Stderr of a run that must fail with exit code 1.
fn fails(output: &Output) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(
        output.status.code(),
        Some(1),
        "expected a failure\nstdout:\n{}\nstderr:\n{stderr}",
        String::from_utf8_lossy(&output.stdout)
    );
    stderr
}

fn status_json(now: Option<&str>, case: &Path) -> Value {
    serde_json::from_str(&ok(&perfdiag_at(
        now,
        &["case", "status", s(case), "--json"],
    )))
    .expect("status --json is JSON")
}

fn step<'a>(status: &'a Value, id: &str) -> &'a Value {
    status["plan"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == id)
        .unwrap_or_else(|| panic!("no step {id} in {:#}", status["plan"]))
}

fn time(v: &Value) -> DateTime<Utc> {
    v.as_str().unwrap().parse().unwrap()
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// Every file of a folder and its bytes: to show a failed verb changed nothing.
fn contents(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.insert(
                    path.strip_prefix(dir).unwrap().to_owned(),
                    std::fs::read(&path).unwrap(),
                );
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------
// Fixture trees: bad input, failures, scheduling

/// A copy of a fixture tree under `dir/name`; `fixed` sets THP to never and
/// swappiness to 1 (what the plan's two host steps do).
fn tree(dir: &Path, fixture: &str, name: &str, fixed: bool) -> PathBuf {
    let from = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("probes/tests/fixtures")
        .join(fixture);
    let root = dir.join(name);
    let status = Command::new("cp")
        .args(["-r", s(&from), s(&root)])
        .status()
        .unwrap();
    assert!(status.success());
    if fixed {
        std::fs::write(
            root.join("sys/kernel/mm/transparent_hugepage/enabled"),
            "always madvise [never]\n",
        )
        .unwrap();
        std::fs::write(root.join("proc/sys/vm/swappiness"), "1\n").unwrap();
    }
    root
}

fn collect(root: &Path, snap: &Path) {
    ok(&perfdiag(&[
        "collect",
        "--duration",
        "1",
        "-q",
        "--host-root",
        s(root),
        "-o",
        s(snap),
    ]));
}

/// A case of the NUMA fixture host, optimized: THP and swappiness fixed, baseline
/// taken. Returns the case folder and the fixed tree.
fn optimized_case(dir: &Path) -> (PathBuf, PathBuf) {
    let before = tree(dir, "numa", "before", false);
    let after = tree(dir, "numa", "after", true);
    let case = dir.join("case");
    let c = s(&case);
    ok(&perfdiag(&[
        "case",
        "init",
        c,
        "--customer",
        "ACME",
        "--lang",
        "en",
    ]));
    let diagnosis = dir.join("diagnosis.pdsnap");
    collect(&before, &diagnosis);
    ok(&perfdiag(&["case", "add", c, s(&diagnosis)]));
    ok(&perfdiag(&["case", "plan", c]));
    ok(&perfdiag(&[
        "case",
        "applied",
        c,
        "os.thp.disable",
        "os.sysctl.swappiness",
    ]));
    let baseline = dir.join("baseline.pdsnap");
    collect(&after, &baseline);
    let out = ok(&perfdiag(&[
        "case",
        "optimized",
        c,
        "--snapshot",
        s(&baseline),
    ]));
    assert!(out.contains("os.thp.disable: applied → verified"), "{out}");
    (case, after)
}

/// A case of the NUMA host with its plan and two steps applied, not yet optimized.
fn optimized_case_until_applied(dir: &Path) -> (PathBuf, PathBuf) {
    let before = tree(dir, "numa", "before", false);
    let case = dir.join("case");
    let c = s(&case);
    ok(&perfdiag(&["case", "init", c, "--lang", "en"]));
    let diagnosis = dir.join("diagnosis.pdsnap");
    collect(&before, &diagnosis);
    ok(&perfdiag(&["case", "add", c, s(&diagnosis)]));
    ok(&perfdiag(&["case", "plan", c]));
    ok(&perfdiag(&["case", "applied", c, "os.thp.disable"]));
    (case, before)
}

fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap()
        .trim()
        .to_owned()
}

#[test]
fn every_case_verb_has_help_that_teaches() {
    let out = ok(&perfdiag(&["case", "--help"]));
    for verb in [
        "init",
        "add",
        "collect",
        "plan",
        "applied",
        "optimized",
        "recheck",
        "status",
        "report",
        "confirm",
        "schedule",
    ] {
        assert!(out.contains(verb), "{verb} missing from:\n{out}");
        let help = ok(&perfdiag(&["case", verb, "--help"]));
        assert!(help.contains("Example: `perfdiag case"), "{verb}:\n{help}");
    }
}
