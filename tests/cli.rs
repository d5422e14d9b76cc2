//! End to end through the binary: diagnose, collect, inspect and report, including
//! Ctrl-C, bad snapshots, and escaping of text that comes from the host.

use std::path::{Path, PathBuf};
use std::process::Command;

use perfdiag_model::{Snapshot, tables};

mod common;
use common::{ok, perfdiag, s};

#[test]
fn diagnose_writes_a_report_and_a_snapshot_of_this_host() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.html");
    let snap = dir.path().join("host.pdsnap");
    let out = perfdiag(&[
        "diagnose",
        "--duration",
        "3",
        "--interval",
        "1s",
        "-q",
        "--lang",
        "en",
        "-o",
        s(&report),
        "--snapshot",
        s(&snap),
    ]);
    let stdout = ok(&out);
    assert!(stdout.contains("Overall score"), "{stdout}");

    let snapshot = Snapshot::read(&snap).unwrap();
    let cpu = snapshot.table(tables::HOST_CPU).expect("cpu samples");
    assert!(
        cpu.rows() >= 3,
        "3 ticks of at least the `all` row: {}",
        cpu.rows()
    );
    assert!(snapshot.table(tables::HOST_SYSTEM).unwrap().rows() >= 3);
    assert!(!snapshot.manifest().window.ended_early);
    let hostname = &snapshot.manifest().host.hostname;

    let html = std::fs::read_to_string(&report).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains(hostname.as_str()));
    assert!(html.contains("<svg"), "the CPU chart is inline");
    assert!(!html.contains("[["), "a catalog key is missing");
    assert!(!html.contains("<script"), "the report runs no script");
    for external in ["src=\"http", "href=\"http", "url(http", "@import"] {
        assert!(
            !html.contains(external),
            "the report loads nothing: {external}"
        );
    }
}

#[test]
fn diagnose_writes_a_pdf_when_the_report_name_asks_for_one() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("probes/tests/fixtures/numa");
    let (report, snap) = (dir.path().join("r.pdf"), dir.path().join("r.pdsnap"));
    ok(&perfdiag(&[
        "diagnose",
        "--duration",
        "1",
        "-q",
        "--host-root",
        s(&root),
        "-o",
        s(&report),
        "--snapshot",
        s(&snap),
    ]));
    let pdf = std::fs::read(&report).unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
    assert!(snap.exists());
}

#[test]
fn collect_inspect_and_report_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("c.pdsnap");
    ok(&perfdiag(&[
        "collect",
        "--duration",
        "2",
        "-q",
        "-o",
        s(&snap),
    ]));

    let inspect = ok(&perfdiag(&["snapshot", "inspect", s(&snap)]));
    for needle in [
        "schema      1.1",
        "sampler",
        "host_cpu",
        "host_disk",
        "processes",
    ] {
        assert!(inspect.contains(needle), "{needle} missing in:\n{inspect}");
    }
    let json = ok(&perfdiag(&["snapshot", "inspect", "--json", s(&snap)]));
    let manifest: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(manifest["format"], "perfdiag-snapshot");

    let zh = dir.path().join("zh.html");
    ok(&perfdiag(&[
        "report",
        s(&snap),
        "--lang",
        "zh-CN",
        "-o",
        s(&zh),
    ]));
    let html = std::fs::read_to_string(&zh).unwrap();
    assert!(html.contains("性能诊断报告") && html.contains("lang=\"zh-CN\""));
    assert!(!html.contains("[["));

    ok(&perfdiag(&["report", s(&snap), "--format", "json"]));
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(snap.with_extension("json")).unwrap())
            .unwrap();
    assert!(model["findings"].is_array() && model["probes"].as_array().unwrap().len() >= 4);
}

#[test]
fn bad_snapshots_fail_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let garbage = dir.path().join("garbage.pdsnap");
    std::fs::write(&garbage, "this is not a snapshot").unwrap();
    for args in [
        vec!["report", s(&garbage)],
        vec!["snapshot", "inspect", s(&garbage)],
    ] {
        let out = perfdiag(&args);
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("garbage.pdsnap is not a perfdiag snapshot"),
            "{err}"
        );
    }
    let missing = perfdiag(&["report", "/nonexistent/x.pdsnap"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("cannot read"));

    let usage = perfdiag(&["collect", "--duration", "soon"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[test]
fn ctrl_c_ends_the_window_early_and_keeps_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("early.pdsnap");
    let child = Command::new(env!("CARGO_BIN_EXE_perfdiag"))
        .args(["collect", "--duration", "120", "-q", "-o", s(&snap)])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert!(matches!(out.status.code(), Some(0 | 3)), "{out:?}");
    let snapshot = Snapshot::read(&snap).unwrap();
    let window = &snapshot.manifest().window;
    assert!(window.ended_early);
    assert!(window.duration_secs() < 60.0);
    let sampler = snapshot
        .manifest()
        .probes
        .iter()
        .find(|p| p.id == "sampler")
        .unwrap();
    assert_eq!(sampler.status.to_string(), "partial");
}

/// A copy of a captured fixture tree whose hostname is hostile HTML.
fn hostile_root(dir: &Path) -> PathBuf {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("probes/tests/fixtures/this-machine");
    let root = dir.join("root");
    let status = Command::new("cp")
        .args(["-r", s(&fixture), s(&root)])
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::write(
        root.join("proc/sys/kernel/hostname"),
        "<script>alert('x')</script>\n",
    )
    .unwrap();
    root
}

/// `diagnose` for one second on the fixture tree `root`: the report and snapshot paths.
fn diagnose_tree(dir: &Path, root: &Path) -> (PathBuf, PathBuf) {
    let (report, snap) = (dir.join("r.html"), dir.join("r.pdsnap"));
    ok(&perfdiag(&[
        "diagnose",
        "--duration",
        "1",
        "-q",
        "--host-root",
        s(root),
        "--lang",
        "en",
        "-o",
        s(&report),
        "--snapshot",
        s(&snap),
    ]));
    (report, snap)
}

#[test]
fn text_from_the_host_is_escaped_in_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let root = hostile_root(dir.path());
    let (report, _) = diagnose_tree(dir.path(), &root);
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(!html.contains("<script>"), "hostname must be escaped");
    assert!(html.contains("&lt;script&gt;"));
}

/// The whole chain on a hand-made NUMA server tree: its planted misconfigurations
/// come out as findings, and each as a plan step with a script.
#[test]
fn diagnose_on_a_fixture_tree_finds_its_planted_problems() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("probes/tests/fixtures/numa");
    let (report, snap) = diagnose_tree(dir.path(), &root);
    let json = dir.path().join("r.json");
    ok(&perfdiag(&[
        "report",
        s(&snap),
        "--format",
        "json",
        "-o",
        s(&json),
    ]));
    let model: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let fired: Vec<&str> = model["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    for planted in ["os.thp.enabled", "os.numa.zone_reclaim", "os.cpu.governor"] {
        assert!(fired.contains(&planted), "{planted} not in {fired:?}");
    }
    let steps: Vec<&str> = model["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    for step in [
        "os.thp.disable",
        "os.sysctl.zone_reclaim",
        "os.cpu.governor.performance",
    ] {
        assert!(steps.contains(&step), "{step} not in {steps:?}");
    }
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(
        html.contains("transparent_hugepage"),
        "the THP script is in the report"
    );
}

#[test]
fn an_unwritable_output_never_loses_the_collection() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_perfdiag"))
        .args([
            "collect",
            "--duration",
            "1",
            "-q",
            "-o",
            "/nonexistent/dir/x.pdsnap",
        ])
        .env("TMPDIR", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot write snapshot /nonexistent/dir/x.pdsnap"),
        "{err}"
    );
    assert!(err.contains("saved to"), "{err}");
    let rescued: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "pdsnap"))
        .collect();
    assert_eq!(rescued.len(), 1, "{rescued:?}");
    assert!(Snapshot::read(&rescued[0]).is_ok());
}

#[test]
fn a_bad_baseline_file_is_refused_with_the_rule_named() {
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("site.toml");
    std::fs::write(
        &baseline,
        "[[rule]]\nid = \"host.cpu.saturaton\"\nwarning = 1.0\n",
    )
    .unwrap();
    let snap = dir.path().join("s.pdsnap");
    ok(&perfdiag(&[
        "collect",
        "--duration",
        "1",
        "-q",
        "-o",
        s(&snap),
    ]));
    let out = perfdiag(&["report", s(&snap), "--baseline", s(&baseline)]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown rule id `host.cpu.saturaton`"),
        "{err}"
    );
}
