//! `perfdiag case` end to end through the binary (docs/case.md).
//!
//! On a throwaway PostgreSQL with planted faults (a 64kB work_mem under sorts that
//! spill, a large table scanned on a column without an index, no slow-query log): the
//! diagnosis, the plan, its scripts applied with psql as an engineer would, the
//! baseline, a re-check that verifies the steps, a fault planted again and the re-check
//! that flags it with its evidence, then the clock moved to the window's last days and
//! past its end.
//!
//! On fixture trees (no database): the bad input a case must refuse without changing
//! anything — an invalid case.toml or progress.toml, a missing snapshot, a snapshot of
//! another host, a locked case, a window longer than 3 months, a password in a URL —
//! a failed unattended re-check recorded as such, and the scheduling commands.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use perfdiag_testkit::postgres::PgServer;
use serde_json::Value;

mod common;
use common::{ok, s};

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
// The whole engagement on PostgreSQL

/// The workload the case is collected under: seq scans of `big` on a column without
/// an index, and a count(DISTINCT) whose sort spills past a 64kB work_mem. Runs in
/// a thread, one psql per round, until dropped.
struct Load {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<u32>>,
}

impl Load {
    fn start(pg: &PgServer) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let url = pg.admin_url();
        let thread = std::thread::spawn(move || {
            let mut round = 0;
            while !flag.load(Ordering::SeqCst) {
                let status = Command::new("/usr/bin/psql")
                    .args(["-X", "-q", "-o", "/dev/null", "-v", "ON_ERROR_STOP=1"])
                    .arg(&url)
                    .args([
                        "-c",
                        &format!(
                            "SELECT count(*), max(pad) FROM big WHERE val = {}",
                            round % 1000
                        ),
                        "-c",
                        &format!(
                            "SELECT count(*) FROM big WHERE val = {}",
                            (round + 500) % 1000
                        ),
                        "-c",
                        "SELECT count(DISTINCT pad) FROM words",
                    ])
                    .env_remove("PGPASSWORD")
                    .status()
                    .expect("psql runs");
                assert!(status.success(), "the load's psql failed");
                round += 1;
            }
            round
        });
        // Let the load run before the window opens.
        std::thread::sleep(Duration::from_millis(300));
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Load {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let rounds = t.join();
            if !std::thread::panicking() {
                assert!(rounds.expect("the load ran") > 3, "the load hardly ran");
            }
        }
    }
}

/// A case verb that collects, run under the load.
fn under_load(pg: &PgServer, now: Option<&str>, args: &[&str]) -> String {
    let _load = Load::start(pg);
    ok(&perfdiag_at(now, args))
}

/// The steps the test applies, as an engineer would pick them: one per planted fault,
/// each a reload-only SQL script.
const APPLIED: [&str; 3] = [
    "pg.config.work_mem",
    "pg.logging.log_slow_queries",
    "pg.tables.add_index",
];

/// Runs a step's apply.sql from its plan folder, as docs/plan.md says.
fn apply(pg: &PgServer, plan: &Path, id: &str) {
    let folder = std::fs::read_dir(plan)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .ends_with(&format!("-{id}"))
        })
        .unwrap_or_else(|| panic!("no folder for {id} in {}", plan.display()));
    let script = std::fs::read_to_string(folder.join("apply.sql")).unwrap();
    assert!(
        !script.contains("TEMPLATE:"),
        "{id} is a template:\n{script}"
    );
    let out = Command::new("/usr/bin/psql")
        .args(["-X", "-v", "ON_ERROR_STOP=1", "-f", "apply.sql"])
        .arg(pg.admin_url())
        .current_dir(&folder)
        .env_remove("PGPASSWORD")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{id}: {}\n{script}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_postgres_engagement_from_diagnosis_through_a_regression_to_the_end_of_its_window() {
    let pg = PgServer::builder()
        .conf("work_mem = '64kB'")
        .conf("max_connections = 20")
        .start();
    pg.psql(
        "CREATE EXTENSION pg_stat_statements;
         CREATE TABLE big (id int PRIMARY KEY, val int NOT NULL, pad text NOT NULL);
         INSERT INTO big SELECT g, g % 1000, md5(g::text) FROM generate_series(1, 300000) g;
         CREATE TABLE words (pad text NOT NULL);
         INSERT INTO words SELECT md5(g::text) FROM generate_series(1, 20000) g;",
    );
    pg.psql("VACUUM ANALYZE big");
    pg.psql("VACUUM ANALYZE words");

    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("acme-erp");
    let c = s(&case);
    let url = pg.admin_url();
    ok(&perfdiag(&[
        "case",
        "init",
        c,
        "--customer",
        "ACME Trading",
        "--system",
        "ERP",
        "--engineer",
        "Li Wei",
        "--lang",
        "en",
        "--pg",
        &url,
        "--duration",
        "3s",
        "--interval",
        "1s",
    ]));
    let toml = std::fs::read_to_string(case.join("case.toml")).unwrap();
    assert!(toml.contains(&format!("postgres = [\"{url}\"]")), "{toml}");

    // Diagnosis and plan.
    under_load(&pg, None, &["case", "collect", c, "-q"]);
    let listing = ok(&perfdiag(&["case", "plan", c]));
    for id in APPLIED {
        assert!(listing.contains(id), "{id} not planned:\n{listing}");
    }
    let status = status_json(None, &case);
    for id in APPLIED {
        let st = step(&status, id);
        assert_eq!(st["state"], "proposed");
        assert!(!st["addresses"].as_array().unwrap().is_empty(), "{st:#}");
    }
    assert!(
        step(&status, "pg.tables.add_index")["addresses"][0]
            .as_str()
            .unwrap()
            .ends_with("public.big"),
        "{status:#}"
    );

    // The engineer applies three steps, then records them (by id and by number).
    for id in APPLIED {
        apply(&pg, &case.join("plan"), id);
    }
    let third = step(&status, APPLIED[2])["number"].to_string();
    ok(&perfdiag(&[
        "case", "applied", c, APPLIED[0], APPLIED[1], &third,
    ]));
    let status = status_json(None, &case);
    for id in APPLIED {
        assert_eq!(step(&status, id)["state"], "applied", "{id}");
    }

    // The baseline verifies what it can; the first re-check finds every step holding.
    let out = under_load(&pg, None, &["case", "optimized", c, "-q"]);
    assert!(out.contains("the guarantee window is open"), "{out}");
    let out = under_load(&pg, None, &["case", "recheck", c, "-q"]);
    let status = status_json(None, &case);
    for id in APPLIED {
        assert_eq!(step(&status, id)["state"], "verified", "{id}\n{out}");
    }
    let optimized_at = time(&status["optimization"]["at"]);
    assert_eq!(
        time(&status["optimization"]["until"]),
        optimized_at
            .checked_add_months(chrono::Months::new(3))
            .unwrap()
    );
    // KPIs of a shared test machine may move with other work; steps cannot regress.
    let kinds: Vec<&str> = status["guarantee"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert!(!kinds.contains(&"step_regressed"), "{out}");
    if status["guarantee"]["status"] != "holding" {
        eprintln!("first re-check not holding, for KPIs or queries only:\n{out}");
    }
    assert_eq!(status["rechecks"][0]["in_window"], true);
    assert!(
        status["kpis"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["id"] == "host_cpu.busy_pct.mean"
                && k["diagnosis"].is_number()
                && k["rechecks"].as_array().unwrap().len() == 1),
        "{:#}",
        status["kpis"]
    );

    // The fault comes back: the work_mem step regressed, with the spills as evidence.
    pg.psql("ALTER SYSTEM SET work_mem = '64kB'");
    pg.psql("SELECT pg_reload_conf()");
    let out = under_load(&pg, None, &["case", "recheck", c, "-q"]);
    assert!(out.contains("BREACHED"), "{out}");
    assert!(
        out.contains("step pg.config.work_mem regressed: what it fixed is back"),
        "{out}"
    );
    assert!(out.contains("pg.temp.spills @ "), "{out}");
    assert!(out.contains("pg.temp.bytes_per_s = "), "{out}");
    let status = status_json(None, &case);
    assert_eq!(step(&status, "pg.config.work_mem")["state"], "regressed");
    assert_eq!(step(&status, "pg.tables.add_index")["state"], "verified");
    let g = &status["guarantee"];
    assert_eq!(g["status"], "breached", "{g:#}");
    assert_eq!(g["reasons"][0]["kind"], "step_regressed");
    assert_eq!(g["reasons"][0]["step"], "pg.config.work_mem");
    let evidence = &g["reasons"][0]["findings"][0];
    assert_eq!(evidence["evidence"][0]["metric"], "pg.temp.bytes_per_s");
    assert_eq!(status["open_regressions"][0]["kind"], "step_regressed");
    let history = step(&status, "pg.config.work_mem")["history"]
        .as_array()
        .unwrap()
        .clone();
    let states: Vec<&str> = history
        .iter()
        .map(|e| e["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["proposed", "applied", "verified", "regressed"]);

    // Eighty days on: the window ends soon.
    let soon = rfc3339(optimized_at + chrono::Duration::days(80));
    let text = ok(&perfdiag_at(Some(&soon), &["case", "status", c]));
    assert!(text.contains("days left: ends soon"), "{text}");
    let status = status_json(Some(&soon), &case);
    assert_eq!(status["guarantee"]["phase"], "ends_soon");
    assert!(status["guarantee"]["days_left"].as_i64().unwrap() <= 14);

    // A hundred days on: a re-check still runs, out of window, and the guarantee's
    // status is the one it ended with.
    let late = rfc3339(optimized_at + chrono::Duration::days(100));
    let out = under_load(&pg, Some(&late), &["case", "recheck", c, "-q"]);
    assert!(out.contains("(out of window)"), "{out}");
    let status = status_json(Some(&late), &case);
    let rechecks = status["rechecks"].as_array().unwrap();
    assert_eq!(rechecks.len(), 3);
    assert_eq!(rechecks[2]["in_window"], false);
    let g = &status["guarantee"];
    assert_eq!(
        (g["ended"].as_bool(), &g["phase"]),
        (Some(true), &Value::from("closed"))
    );
    assert_eq!(g["status"], "breached");
    let text = ok(&perfdiag_at(Some(&late), &["case", "status", c]));
    assert!(text.contains("ended"), "{text}");
    assert!(text.contains("out of window"), "{text}");
    assert!(!text.contains("[["), "a catalog key is missing:\n{text}");
    let zh = ok(&perfdiag_at(
        Some(&late),
        &["case", "status", c, "--lang", "zh-CN"],
    ));
    assert!(zh.contains("保障期外"), "{zh}");
    assert!(!zh.contains("[["), "a catalog key is missing:\n{zh}");
    // Nothing on disk holds a credential-shaped URL, and the record reads back.
    let record = std::fs::read_to_string(case.join("progress.toml")).unwrap();
    assert!(record.contains("[[rechecks]]"), "{record}");
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

#[test]
fn a_case_refuses_bad_input_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (case, after) = optimized_case(dir.path());
    let c = s(&case);
    let before = contents(&case);
    let unchanged = |what: &str| {
        assert!(contents(&case) == before, "{what} changed the case");
    };

    // A password in a URL never reaches case.toml: the folder is not even made.
    let other = dir.path().join("other-case");
    let out = perfdiag(&[
        "case",
        "init",
        s(&other),
        "--pg",
        "postgres://app:S3cret@db1/erp",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("holds a password"), "{stderr}");
    assert!(!other.exists());

    // A window of 4 months: refused, whatever the snapshot.
    let later = dir.path().join("later.pdsnap");
    collect(&after, &later);
    let e = fails(&perfdiag(&[
        "case",
        "optimized",
        c,
        "--snapshot",
        s(&later),
        "--until",
        "2099-01-01",
    ]));
    assert!(e.contains("was optimized on"), "{e}");
    let fresh = dir.path().join("fresh");
    std::fs::create_dir(&fresh).unwrap();
    let (fresh_case, _) = optimized_case_until_applied(&fresh);
    let until = rfc3339(Utc::now() + chrono::Duration::days(122));
    let fresh_before = contents(&fresh_case);
    let e = fails(&perfdiag(&[
        "case",
        "optimized",
        s(&fresh_case),
        "--snapshot",
        s(&later),
        "--until",
        &until,
    ]));
    assert!(
        e.contains("the guarantee window is at most 3 months"),
        "{e}"
    );
    assert!(
        contents(&fresh_case) == fresh_before,
        "the refused window changed the case"
    );

    // A snapshot of another host: refused to add and to re-check with.
    let foreign_root = tree(dir.path(), "many-disks", "foreign", false);
    let foreign = dir.path().join("foreign.pdsnap");
    collect(&foreign_root, &foreign);
    let e = fails(&perfdiag(&["case", "add", c, s(&foreign)]));
    assert!(
        e.contains("is a snapshot of host db-disks, and this case is of host db-numa"),
        "{e}"
    );
    let e = fails(&perfdiag(&[
        "case",
        "recheck",
        c,
        "--snapshot",
        s(&foreign),
    ]));
    assert!(e.contains("host db-disks"), "{e}");
    unchanged("a snapshot of another host");

    // Two re-checks at once: the second fails at once, naming the first.
    let lock = case.join("case.lock");
    std::fs::write(
        &lock,
        format!(
            "pid = {}\nhost = \"{}\"\ncommand = \"recheck\"\nstarted_at = \"2026-12-01T03:17:00Z\"\n",
            std::process::id(),
            this_host()
        ),
    )
    .unwrap();
    let started = Instant::now();
    let e = fails(&perfdiag(&["case", "recheck", c, "--snapshot", s(&later)]));
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(
        e.contains("another perfdiag is working on this case"),
        "{e}"
    );
    assert!(
        e.contains(&format!("process {}", std::process::id())),
        "{e}"
    );
    // A lock left by a dead process: reported stale, with how to remove it.
    let mut child = Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let text = std::fs::read_to_string(&lock).unwrap();
    std::fs::write(
        &lock,
        text.replace(
            &format!("pid = {}", std::process::id()),
            &format!("pid = {dead}"),
        ),
    )
    .unwrap();
    let e = fails(&perfdiag(&["case", "recheck", c, "--snapshot", s(&later)]));
    assert!(e.contains("stale lock"), "{e}");
    assert!(
        e.contains(&format!("remove the file ({})", lock.display())),
        "{e}"
    );
    std::fs::remove_file(&lock).unwrap();
    unchanged("a locked case");

    // Hand edits: each gives an error naming the file and the problem.
    let edit = |file: &str, change: &dyn Fn(&str) -> String, words: &[&str]| {
        let path = case.join(file);
        let original = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, change(&original)).unwrap();
        let edited = contents(&case);
        for args in [
            vec!["case", "status", c],
            vec!["case", "recheck", c, "--snapshot", s(&later)],
            vec!["case", "confirm", c, "--by", "Wang Fang"],
        ] {
            let e = fails(&perfdiag(&args));
            assert!(e.contains(&path.display().to_string()), "{args:?}: {e}");
            for w in words {
                assert!(e.contains(w), "{args:?}: expected {w:?} in {e}");
            }
            assert!(
                contents(&case) == edited,
                "{args:?} changed an invalid case"
            );
        }
        std::fs::write(&path, original).unwrap();
    };
    edit(
        "case.toml",
        &|t| format!("{t}\ncustomr = \"typo\"\n"),
        &["customr"],
    );
    edit(
        "case.toml",
        &|t| t.replace("customer = \"ACME\"", "customer = \"ACME"),
        &["line"],
    );
    edit(
        "case.toml",
        &|t| {
            t.replace(
                "postgres = []",
                "postgres = [\"postgres://app:pw@db1/erp\"]",
            )
        },
        &["holds a password"],
    );
    edit("progress.toml", &|t| t[..t.len() / 2].to_owned(), &[]);
    edit(
        "progress.toml",
        &|t| t.replace("id = \"os.thp.disable\"", "id = \"os.thp.disabled\""),
        &["unknown step os.thp.disabled"],
    );
    edit(
        "progress.toml",
        &|t| {
            let until = t.lines().find(|l| l.starts_with("until = ")).unwrap();
            t.replace(until, "until = \"2099-01-01T00:00:00Z\"")
        },
        &["at most 3 months"],
    );
    edit(
        "progress.toml",
        &|t| {
            let at = t
                .lines()
                .skip_while(|l| *l != "[optimization]")
                .find(|l| l.starts_with("at = "))
                .unwrap();
            t.replace(at, "at = \"2020-01-01T00:00:00Z\"")
        },
        &["dates out of order"],
    );
    unchanged("hand edits, put back");

    // A missing snapshot, and one replaced by another host's.
    let baseline = case.join("snapshots/baseline.pdsnap");
    let aside = dir.path().join("aside.pdsnap");
    std::fs::rename(&baseline, &aside).unwrap();
    let e = fails(&perfdiag(&["case", "status", c]));
    assert!(e.contains("progress.toml"), "{e}");
    assert!(
        e.contains("snapshot snapshots/baseline.pdsnap is missing from the case folder"),
        "{e}"
    );
    std::fs::copy(&foreign, &baseline).unwrap();
    let e = fails(&perfdiag(&["case", "status", c]));
    assert!(
        e.contains("is of host db-disks, not db-numa as recorded"),
        "{e}"
    );
    std::fs::rename(&aside, &baseline).unwrap();
    unchanged("a missing snapshot, put back");

    // After all that, the case works: a re-check holds, and the service is confirmed.
    let out = ok(&perfdiag(&["case", "recheck", c, "--snapshot", s(&later)]));
    assert!(out.contains("holding"), "{out}");
    ok(&perfdiag(&["case", "confirm", c, "--by", "Wang Fang"]));
    let status = status_json(None, &case);
    assert_eq!(status["confirmation"]["by"], "Wang Fang");
    assert_eq!(status["guarantee"]["status"], "holding");
    assert_eq!(step(&status, "os.thp.disable")["state"], "verified");
    assert_eq!(
        step(&status, "os.cpu.governor.performance")["state"],
        "proposed"
    );
    let e = fails(&perfdiag(&["case", "confirm", c, "--by", "Someone Else"]));
    assert!(e.contains("already confirmed by Wang Fang"), "{e}");
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
fn a_failed_unattended_recheck_is_recorded_and_changes_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let (case, after) = optimized_case(dir.path());
    let c = s(&case);
    // The scheduled run collects the fixed tree and a database that does not answer.
    let toml_path = case.join("case.toml");
    let toml = std::fs::read_to_string(&toml_path).unwrap();
    let toml = toml
        .replace(
            "postgres = []",
            "postgres = [\"postgres://perfdiag@127.0.0.1:1/erp\"]",
        )
        .replace("duration = \"60s\"", "duration = \"1s\"")
        .replace(
            "# host_root = \"/host\"",
            &format!("host_root = \"{}\"", s(&after)),
        );
    std::fs::write(&toml_path, toml).unwrap();
    let before = contents(&case);
    let record_before = std::fs::read_to_string(case.join("progress.toml")).unwrap();

    // The snapshot it took is kept for a look, in the temporary folder.
    let temp = dir.path().join("tmp");
    std::fs::create_dir(&temp).unwrap();
    let run = Command::new(env!("CARGO_BIN_EXE_perfdiag"))
        .args(["case", "recheck", c, "--log", "-q"])
        .env("LANG", "C")
        .env("TMPDIR", &temp)
        .env_remove("PERFDIAG_NOW")
        .output()
        .unwrap();
    let e = fails(&run);
    assert!(e.contains("recorded as failed"), "{e}");
    assert!(
        e.contains(&format!("the snapshot taken is kept at {}", temp.display())),
        "{e}"
    );
    assert!(
        e.contains("lacks the database postgres://perfdiag@127.0.0.1:1/erp"),
        "{e}"
    );

    // Only the record (one failed re-check) and the log changed.
    let after_run = contents(&case);
    let changed: Vec<&PathBuf> = after_run
        .keys()
        .filter(|k| before.get(*k) != after_run.get(*k))
        .collect();
    assert_eq!(
        changed,
        [Path::new("logs/recheck.log"), Path::new("progress.toml")],
        "{changed:?}"
    );
    let record = std::fs::read_to_string(case.join("progress.toml")).unwrap();
    assert!(
        record.starts_with(&record_before[..record_before.len() - 1]),
        "{record}"
    );
    let status = status_json(None, &case);
    let r = &status["rechecks"][0];
    assert_eq!(r["verdict"], "failed");
    assert!(r["snapshot"].is_null());
    assert!(
        r["error"].as_str().unwrap().contains("127.0.0.1:1"),
        "{r:#}"
    );
    assert_eq!(step(&status, "os.thp.disable")["state"], "verified");
    let log = std::fs::read_to_string(case.join("logs/recheck.log")).unwrap();
    assert!(log.contains("re-check failed"), "{log}");

    // A failure alone does not change the guarantee; near the end it is a risk.
    assert_eq!(status["guarantee"]["status"], "holding");
    let until = time(&status["optimization"]["until"]);
    let soon = rfc3339(until - chrono::Duration::days(3));
    let status = status_json(Some(&soon), &case);
    assert_eq!(status["guarantee"]["status"], "at_risk");
    let kinds: Vec<&str> = status["guarantee"]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"recheck_failed") && kinds.contains(&"no_recheck"),
        "{kinds:?}"
    );
}

#[test]
fn schedule_prints_cron_systemd_and_schtasks_for_the_case() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("acme erp");
    ok(&perfdiag(&["case", "init", s(&case), "--lang", "en"]));
    let out = ok(&perfdiag(&["case", "schedule", s(&case), "--every", "7d"]));
    let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_perfdiag")).unwrap();
    let folder = std::fs::canonicalize(&case).unwrap();
    assert!(
        out.contains(&format!(
            "17 3 * * 1 {} case recheck '{}' --log",
            exe.display(),
            folder.display()
        )),
        "{out}"
    );
    assert!(out.contains("OnCalendar=Mon *-*-* 03:17:00"), "{out}");
    assert!(out.contains("Persistent=true"), "{out}");
    assert!(out.contains("[Service]\nType=oneshot"), "{out}");
    assert!(
        out.contains("schtasks /Create /TN \"perfdiag-recheck-acme-erp\" /SC DAILY /MO 7"),
        "{out}"
    );
    let out = ok(&perfdiag(&[
        "case",
        "schedule",
        s(&case),
        "--every",
        "12h",
        "--time",
        "00:05",
    ]));
    assert!(out.contains("5 */12 * * * "), "{out}");
    let bad = perfdiag(&["case", "schedule", s(&case), "--every", "3 months"]);
    assert_eq!(bad.status.code(), Some(2));
    // Without a case there is nothing to schedule.
    let e = fails(&perfdiag(&[
        "case",
        "schedule",
        s(&dir.path().join("none")),
        "--every",
        "7d",
    ]));
    assert!(e.contains("case.toml"), "{e}");
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

// ---------------------------------------------------------------------------------
// The engagement report

/// Every key of a JSON value, at any depth.
fn keys(v: &Value, out: &mut std::collections::BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                out.insert(k.clone());
                keys(x, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|x| keys(x, out)),
        _ => {}
    }
}

fn pdf_text(pdf: &Path) -> String {
    let out = Command::new("pdftotext")
        .args([s(pdf), "-"])
        .output()
        .expect("pdftotext (poppler-utils) runs");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// The NUMA host's case through a holding re-check and a regressed one (THP back on),
/// then its engagement report in HTML, JSON and PDF, in English and Chinese.
#[test]
fn the_engagement_report_tells_the_whole_story_after_a_regression() {
    let dir = tempfile::tempdir().unwrap();
    let (case, after) = optimized_case(dir.path());
    let c = s(&case);
    let good = dir.path().join("recheck-1.pdsnap");
    collect(&after, &good);
    ok(&perfdiag(&["case", "recheck", c, "--snapshot", s(&good)]));
    let broken = tree(dir.path(), "numa", "broken", false);
    let bad = dir.path().join("recheck-2.pdsnap");
    collect(&broken, &bad);
    let out = ok(&perfdiag(&["case", "recheck", c, "--snapshot", s(&bad)]));
    assert!(out.contains("BREACHED"), "{out}");
    let status = status_json(None, &case);
    assert_eq!(step(&status, "os.thp.disable")["state"], "regressed");
    let days_left = status["guarantee"]["days_left"].as_i64().unwrap();
    // The row of the step shows when it was applied, verified and regressed.
    let when = |v: &Value| time(v).format("%Y-%m-%d %H:%M:%S UTC").to_string();
    let history = &step(&status, "os.thp.disable")["history"];
    let row = format!(
        "<td class=\"state-regressed\">regressed</td><td>{}</td><td>{}</td><td>{}</td>",
        when(&history[1]["at"]),
        when(&history[2]["at"]),
        when(&history[3]["at"])
    );

    // HTML, English: the default file in the case folder.
    let before = contents(&case);
    ok(&perfdiag(&["case", "report", c]));
    let html = std::fs::read_to_string(case.join("engagement-report.html")).unwrap();
    assert!(!html.contains("[["), "a catalog key is missing");
    assert!(html.contains("Engagement report"));
    assert!(html.contains("ACME"));
    // Every link to a step's scripts has its target in the appendix.
    let link = "href=\"#step-";
    for (i, _) in html.match_indices(link) {
        let number: String = html[i + link.len()..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        assert!(
            html.contains(&format!("id=\"step-{number}\"")),
            "no target for #step-{number}"
        );
    }
    assert!(
        html.contains("href=\"#step-"),
        "the plan links to its scripts"
    );
    // The steps, verified and regressed, with their dates.
    let steps = &html[html.find("id=\"steps\"").unwrap()..html.find("id=\"kpis\"").unwrap()];
    assert!(steps.contains("os.thp.disable"), "{steps}");
    assert!(steps.contains("os.sysctl.swappiness"), "{steps}");
    assert!(
        steps.contains("class=\"state-regressed\">regressed"),
        "{steps}"
    );
    assert!(steps.contains(&row), "{row} not in {steps}");
    // The regression with its evidence.
    let regression = &status["open_regressions"][0];
    assert_eq!(regression["kind"], "step_regressed");
    let finding = regression["findings"][0]["finding"].as_str().unwrap();
    let metric = regression["findings"][0]["evidence"][0]["metric"]
        .as_str()
        .unwrap();
    let open = &html[html.find("id=\"regressions\"").unwrap()..];
    assert!(
        open.contains("step os.thp.disable regressed: what it fixed is back"),
        "{open}"
    );
    assert!(open.contains(finding) && open.contains(metric), "{open}");
    // The status and days left.
    assert!(html.contains("BREACHED"));
    assert!(
        html.contains(&format!("{days_left} days left")),
        "no {days_left} days left"
    );
    // A chart of each KPI, with the window marked.
    let kpis = &html[html.find("id=\"kpis\"").unwrap()..html.find("id=\"gains\"").unwrap()];
    assert!(
        kpis.contains("<div class=\"chart kpi-chart\"><svg"),
        "no KPI chart"
    );
    assert!(kpis.contains("re-check"));
    // The sign-off page, blank until confirmed.
    assert!(html.contains("id=\"confirmation\""));
    assert!(html.contains("class=\"blank tall\""));
    assert!(
        contents(&case).len() == before.len() + 1,
        "only the report was added"
    );

    // JSON: the model, every key of it documented.
    let json = dir.path().join("engagement.json");
    ok(&perfdiag(&["case", "report", c, "-o", s(&json)]));
    let model: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(model["kind"], "engagement");
    assert_eq!(model["guarantee"]["status"], "breached");
    assert_eq!(model["guarantee"]["days_left"], days_left);
    assert_eq!(model["regressions"][0]["kind"], "step_regressed");
    assert_eq!(model["regressions"][0]["breaches"], true);
    assert_eq!(model["rechecks"].as_array().unwrap().len(), 2);
    assert_eq!(model["confirmation"]["signed"], false);
    let kpi = &model["kpis"][0];
    let stages: Vec<&str> = kpi["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        ["diagnosis", "baseline", "recheck", "recheck"],
        "{kpi:#}"
    );
    assert!(model["diagnosis"]["findings"].as_array().unwrap().len() >= 2);
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/engagement-report.md"),
    )
    .unwrap();
    let mut all = std::collections::BTreeSet::new();
    keys(&model, &mut all);
    // The diagnosis keeps the single-snapshot model's fields, documented there.
    let single =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report-model.md"))
            .unwrap();
    let undocumented: Vec<&String> = all
        .iter()
        .filter(|k| !doc.contains(&format!("`{k}`")) && !single.contains(&format!("`{k}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "not in docs/engagement-report.md: {undocumented:?}"
    );
    assert!(doc.contains(&format!(
        "`{{\"major\": {}, \"minor\": {}}}`",
        model["schema_version"]["major"], model["schema_version"]["minor"]
    )));

    // Chinese, HTML and PDF; then confirmed, the sign-off shows who and when.
    let zh = dir.path().join("engagement-zh.html");
    ok(&perfdiag(&[
        "case",
        "report",
        c,
        "--lang",
        "zh-CN",
        "-o",
        s(&zh),
    ]));
    let zh = std::fs::read_to_string(&zh).unwrap();
    assert!(!zh.contains("[["), "a catalog key is missing");
    assert!(zh.contains("优化服务报告") && zh.contains("已违约") && zh.contains("已退化"));
    let pdf = dir.path().join("engagement-zh.pdf");
    ok(&perfdiag(&[
        "case",
        "report",
        c,
        "--lang",
        "zh-CN",
        "-o",
        s(&pdf),
    ]));
    let text = pdf_text(&pdf);
    for title in [
        "优化服务报告",
        "执行摘要",
        "效果保障状态",
        "优化方案与实施记录",
        "未解决的退化",
        "服务确认",
        "已违约",
    ] {
        assert!(text.contains(title), "{title} not in the PDF:\n{text}");
    }
    assert!(!text.contains("[["), "a catalog key is missing:\n{text}");
    ok(&perfdiag(&["case", "confirm", c, "--by", "Wang Fang"]));
    let pdf = dir.path().join("engagement-en.pdf");
    ok(&perfdiag(&[
        "case",
        "report",
        c,
        "--format",
        "pdf",
        "-o",
        s(&pdf),
    ]));
    let text = pdf_text(&pdf);
    assert!(text.contains("ConfirmedbyWangFang"), "{text}");
    assert!(text.contains("os.thp.disable"), "{text}");
    assert!(text.contains(&format!("{days_left}daysleft")), "{text}");
}
