//! The engagement on a throwaway MariaDB, shorter: its slow-query log is off (as
//! MariaDB ships), the plan's script switches it on, the baseline verifies the step,
//! the log is switched off again and the re-check flags the regression.

use perfdiag_testkit::mariadb::MariaDbServer;

use super::*;

/// The step's script, run from its plan folder as docs/plan.md says: a shell script
/// for a server without `SET PERSIST`, told which client to use and where option
/// files go.
fn apply(server: &MariaDbServer, plan: &Path, id: &str, cnf_dir: &Path) {
    let folder = std::fs::read_dir(plan)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(&format!("-{id}")))
        .unwrap_or_else(|| panic!("no folder for {id} in {}", plan.display()));
    let script = folder.join("apply.sh");
    let text =
        std::fs::read_to_string(&script).unwrap_or_else(|e| panic!("{}: {e}", script.display()));
    assert!(!text.contains("TEMPLATE:"), "{id} is a template:\n{text}");
    let client = format!(
        "mariadb --no-defaults --socket={} --user=root",
        server.socket().display()
    );
    let out = Command::new("sh")
        .arg("apply.sh")
        .current_dir(&folder)
        .env("MYSQL", client)
        .env("CNF_DIR", cnf_dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{id}: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const STEP: &str = "mysql.logging.enable_slow_log";

#[test]
fn a_mariadb_engagement_verifies_a_step_and_flags_its_regression() {
    let server = MariaDbServer::start().expect("mariadb starts");
    assert_eq!(
        server.sql("SELECT @@slow_query_log").unwrap().trim(),
        "0",
        "the fault is MariaDB's default"
    );
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("acme-mariadb");
    let c = s(&case);
    let url = server.url();
    ok(&perfdiag(&[
        "case",
        "init",
        c,
        "--customer",
        "ACME",
        "--lang",
        "en",
        "--mysql",
        &url,
        "--duration",
        "2s",
        "--interval",
        "1s",
    ]));

    ok(&perfdiag(&["case", "collect", c, "-q"]));
    let listing = ok(&perfdiag(&["case", "plan", c]));
    assert!(listing.contains(STEP), "{STEP} not planned:\n{listing}");
    let status = status_json(None, &case);
    let addressed = step(&status, STEP)["addresses"][0].as_str().unwrap();
    assert!(
        addressed.starts_with("mysql.logging.slow_log_off") && addressed.contains(&url),
        "{addressed}"
    );

    let cnf_dir = dir.path().join("conf.d");
    std::fs::create_dir(&cnf_dir).unwrap();
    apply(&server, &case.join("plan"), STEP, &cnf_dir);
    assert_eq!(server.sql("SELECT @@slow_query_log").unwrap().trim(), "1");
    ok(&perfdiag(&["case", "applied", c, STEP]));

    let out = ok(&perfdiag(&["case", "optimized", c, "-q"]));
    assert!(
        out.contains(&format!("{STEP}: applied → verified")),
        "{out}"
    );

    // Someone switches the log off again: the re-check finds what the step fixed back.
    server.sql("SET GLOBAL slow_query_log = OFF").unwrap();
    let out = ok(&perfdiag(&["case", "recheck", c, "-q"]));
    assert!(
        out.contains(&format!("step {STEP} regressed: what it fixed is back")),
        "{out}"
    );
    let status = status_json(None, &case);
    assert_eq!(step(&status, STEP)["state"], "regressed");
    let g = &status["guarantee"];
    assert_eq!(g["status"], "breached", "{g:#}");
    assert_eq!(g["reasons"][0]["step"], STEP);
    let evidence = &g["reasons"][0]["findings"][0]["evidence"][0];
    assert_eq!(evidence["metric"], "mysql.slow_query_log", "{g:#}");
}
