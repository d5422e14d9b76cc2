//! `perfdiag analyze` end to end through the binary, on snapshots collected from
//! fixture trees: one snapshot assessed, and two compared (a re-check after THP and
//! swappiness were fixed).

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::{ok, perfdiag, s};

/// A copy of the NUMA fixture tree (THP `always`, swappiness 30), under `dir/name`.
fn numa_tree(dir: &Path, name: &str) -> PathBuf {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("probes/tests/fixtures/numa");
    let root = dir.join(name);
    let status = Command::new("cp")
        .args(["-r", s(&fixture), s(&root)])
        .status()
        .unwrap();
    assert!(status.success());
    root
}

/// The same tree after the optimization: THP `never`, swappiness 1.
fn fix_tree(root: &Path) {
    std::fs::write(
        root.join("sys/kernel/mm/transparent_hugepage/enabled"),
        "always madvise [never]\n",
    )
    .unwrap();
    std::fs::write(root.join("proc/sys/vm/swappiness"), "1\n").unwrap();
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

/// Before and after snapshots of the NUMA tree, the second with THP and swappiness fixed.
fn before_and_after(dir: &Path) -> (PathBuf, PathBuf) {
    let before_root = numa_tree(dir, "before");
    let after_root = numa_tree(dir, "after");
    fix_tree(&after_root);
    let (before, after) = (dir.join("before.pdsnap"), dir.join("after.pdsnap"));
    collect(&before_root, &before);
    collect(&after_root, &after);
    (before, after)
}

fn finding_status<'a>(json: &'a serde_json::Value, rule: &str) -> Option<&'a str> {
    json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["rule_id"] == rule)
        .and_then(|f| f["status"].as_str())
}

#[test]
fn a_fixed_setting_is_a_resolved_finding() {
    let dir = tempfile::tempdir().unwrap();
    let (before, after) = before_and_after(dir.path());

    let json = ok(&perfdiag(&[
        "analyze",
        s(&after),
        "--against",
        s(&before),
        "--json",
    ]));
    let cmp: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(finding_status(&cmp, "os.thp.enabled"), Some("resolved"));
    assert_eq!(finding_status(&cmp, "os.vm.swappiness"), Some("resolved"));
    // What did not change is matched and unchanged, not resolved and new again.
    assert_eq!(
        finding_status(&cmp, "os.numa.zone_reclaim"),
        Some("unchanged")
    );
    assert_eq!(cmp["before"]["hostname"], cmp["after"]["hostname"]);
    assert_eq!(cmp["warnings"].as_array().unwrap().len(), 0);
    assert!(cmp["kpis"].is_array() && cmp["queries"].is_array());

    let text = ok(&perfdiag(&[
        "analyze",
        s(&after),
        "--against",
        s(&before),
        "--lang",
        "en",
    ]));
    assert!(text.contains("Resolved findings:"), "{text}");
    assert!(!text.contains("New findings:"), "{text}");
    assert!(text.contains("Verdict: no regression."), "{text}");
    assert!(!text.contains("[["), "a catalog key is missing:\n{text}");

    // Swapped, the fix reads as a regression, and the order as suspicious.
    let zh = ok(&perfdiag(&[
        "analyze",
        s(&before),
        "--against",
        s(&after),
        "--lang",
        "zh-CN",
    ]));
    assert!(zh.contains("新出现的发现"), "{zh}");
    assert!(zh.contains("结论：发现退化。"), "{zh}");
    assert!(zh.contains("文件是否放反了"), "{zh}");
    assert!(!zh.contains("[["), "a catalog key is missing:\n{zh}");
}

#[test]
fn one_snapshot_is_assessed_as_text_or_json() {
    let dir = tempfile::tempdir().unwrap();
    let root = numa_tree(dir.path(), "numa");
    let snap = dir.path().join("numa.pdsnap");
    collect(&root, &snap);

    let text = ok(&perfdiag(&["analyze", s(&snap), "--lang", "en"]));
    assert!(text.contains("Overall score"), "{text}");
    // Piped: plain text. Forced: severities and scores coloured.
    assert!(!text.contains('\x1b'), "{text}");
    let forced = Command::new(env!("CARGO_BIN_EXE_perfdiag"))
        .args(["analyze", s(&snap), "--lang", "en"])
        .env("CLICOLOR_FORCE", "1")
        .env_remove("NO_COLOR")
        .output()
        .unwrap();
    let coloured = ok(&forced);
    assert!(
        coloured.contains("\x1b[1;31m[") || coloured.contains("\x1b[33m["),
        "{coloured}"
    );
    let json = ok(&perfdiag(&["analyze", s(&snap), "--json"]));
    let assessment: serde_json::Value = serde_json::from_str(&json).unwrap();
    let rules: Vec<&str> = assessment["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule_id"].as_str().unwrap())
        .collect();
    assert!(rules.contains(&"os.thp.enabled"), "{rules:?}");
}

#[test]
fn another_host_is_compared_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let before_root = numa_tree(dir.path(), "old-server");
    let after_root = numa_tree(dir.path(), "new-server");
    std::fs::write(after_root.join("proc/sys/kernel/hostname"), "db-new\n").unwrap();
    let (before, after) = (dir.path().join("old.pdsnap"), dir.path().join("new.pdsnap"));
    collect(&before_root, &before);
    collect(&after_root, &after);

    let out = perfdiag(&["analyze", s(&after), "--against", s(&before), "--json"]);
    let cmp: serde_json::Value = serde_json::from_str(&ok(&out)).unwrap();
    let warnings = cmp["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["kind"], "different_host");
    assert_eq!(warnings[0]["after"], "db-new");

    let text = ok(&perfdiag(&[
        "analyze",
        s(&after),
        "--against",
        s(&before),
        "--lang",
        "en",
    ]));
    assert!(
        text.contains("Warning: the snapshots are of different hosts"),
        "{text}"
    );
}

#[test]
fn a_bad_earlier_snapshot_fails_with_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let root = numa_tree(dir.path(), "numa");
    let snap = dir.path().join("numa.pdsnap");
    collect(&root, &snap);
    let garbage = dir.path().join("garbage.pdsnap");
    std::fs::write(&garbage, "not a snapshot").unwrap();
    let out = perfdiag(&["analyze", s(&snap), "--against", s(&garbage)]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("garbage.pdsnap is not a perfdiag snapshot"),
        "{err}"
    );
}
