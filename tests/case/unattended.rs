//! Unattended re-checks: a failure recorded as such, and the scheduling commands.

use super::*;

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

/// The user's crontab as it was, put back when the test ends (even when it fails).
struct CrontabGuard(Option<String>);

impl CrontabGuard {
    fn save() -> Self {
        let listed = Command::new("crontab")
            .arg("-l")
            .output()
            .expect("crontab runs: install cron (.ci/run does)");
        Self(
            listed
                .status
                .success()
                .then(|| String::from_utf8_lossy(&listed.stdout).into_owned()),
        )
    }

    fn current() -> String {
        let listed = Command::new("crontab").arg("-l").output().unwrap();
        String::from_utf8_lossy(&listed.stdout).into_owned()
    }
}

impl Drop for CrontabGuard {
    fn drop(&mut self) {
        let restored = match &self.0 {
            Some(table) => {
                let mut child = Command::new("crontab")
                    .arg("-")
                    .stdin(std::process::Stdio::piped())
                    .spawn()
                    .unwrap();
                use std::io::Write as _;
                child
                    .stdin
                    .take()
                    .unwrap()
                    .write_all(table.as_bytes())
                    .unwrap();
                child.wait().unwrap()
            }
            None => Command::new("crontab").arg("-r").status().unwrap(),
        };
        assert!(
            restored.success() || std::thread::panicking(),
            "crontab not restored"
        );
    }
}

#[test]
fn schedule_install_adds_one_cron_line_and_keeps_the_rest() {
    let guard = CrontabGuard::save();
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("acme");
    ok(&perfdiag(&["case", "init", s(&case), "--lang", "en"]));
    // Someone's own line, which must survive.
    let own = "0 1 * * * /usr/local/bin/backup.sh\n";
    let mut table = guard.0.clone().unwrap_or_default();
    table.push_str(own);
    let mut child = Command::new("crontab")
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), table.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());

    let folder = std::fs::canonicalize(&case).unwrap();
    let marker = format!(
        "# perfdiag: unattended re-checks of the case {}",
        folder.display()
    );
    let install = |every: &str| {
        let out = perfdiag(&["case", "schedule", s(&case), "--every", every, "--install"]);
        ok(&out);
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let said = install("7d");
    assert!(said.contains("installed in the crontab"), "{said}");
    let after = CrontabGuard::current();
    assert!(after.contains(own), "{after}");
    assert_eq!(after.matches(&marker).count(), 1, "{after}");
    let line = after.lines().skip_while(|l| *l != marker).nth(1).unwrap();
    assert!(
        line.starts_with("17 3 * * 1 ")
            && line.ends_with(&format!("case recheck {} --log", folder.display())),
        "{line}"
    );

    // Installed again with another period: replaced, not added.
    install("1d");
    let again = CrontabGuard::current();
    assert_eq!(again.matches(&marker).count(), 1, "{again}");
    assert!(again.contains(own), "{again}");
    let line = again.lines().skip_while(|l| *l != marker).nth(1).unwrap();
    assert!(line.starts_with("17 3 * * * "), "{line}");
    drop(guard);
}
