//! The whole engagement on a throwaway PostgreSQL with planted faults.

use super::*;

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
