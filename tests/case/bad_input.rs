//! Bad input a case refuses without changing anything.

use super::*;

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
    // The same for a SQL Server connection string, whose password hides in a key.
    let out = perfdiag(&[
        "case",
        "init",
        s(&other),
        "--mssql",
        "Server=tcp:db2,1433;Database=erp;User Id=sa;Password=S3cret",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("holds a password") && stderr.contains("MSSQL_PWD"),
        "{stderr}"
    );
    assert!(!other.exists());
    // Without it, the string is kept as its URL.
    ok(&perfdiag(&[
        "case",
        "init",
        s(&other),
        "--mssql",
        "Server=tcp:db2,1433;Database=erp;User Id=perfdiag;TrustServerCertificate=True",
    ]));
    let toml = std::fs::read_to_string(other.join("case.toml")).unwrap();
    assert!(
        toml.contains("mssql = [\"mssql://perfdiag@db2:1433/erp?trust_server_certificate=true\"]"),
        "{toml}"
    );

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
