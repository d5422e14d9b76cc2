//! `perfdiag report` end to end through the binary, from the fixed snapshot of
//! `fixture.rs`: the report model (JSON) and the HTML report, in English and Chinese,
//! compared with the golden files in `tests/golden/`, and what each section is fed
//! with. Regenerate the goldens after an intended change with
//! `UPDATE_GOLDEN=1 cargo test --test report`, and read the diff before committing.

use std::path::{Path, PathBuf};

mod browser;
#[path = "../common/mod.rs"]
mod common;
mod fixture;

use common::{ok, perfdiag, s};
use serde_json::Value;

/// The report's date, fixed so the same snapshot gives the same report.
const GENERATED_AT: &str = "2026-11-02T10:30:00Z";
const COVER: [&str; 6] = [
    "--customer",
    "ACME Trading Co.",
    "--system",
    "ERP production",
    "--engineer",
    "Li Wei",
];

/// The report of `snapshot` in `lang` and `format`, as text.
fn report(dir: &Path, snapshot: &Path, lang: &str, format: &str, extra: &[&str]) -> String {
    let out = dir.join(format!("report-{lang}.{format}"));
    let mut args = vec![
        "report",
        s(snapshot),
        "--lang",
        lang,
        "--format",
        format,
        "--generated-at",
        GENERATED_AT,
        "-o",
        s(&out),
    ];
    args.extend(extra);
    ok(&perfdiag(&args));
    std::fs::read_to_string(&out).unwrap()
}

fn fixture_snapshot(dir: &Path) -> PathBuf {
    let path = dir.join("fixture.pdsnap");
    fixture::write(&fixture::Names::plain(), &path);
    path
}

/// Compares `fresh` with `tests/golden/<name>`, or rewrites it with UPDATE_GOLDEN=1.
/// On a difference the fresh text is saved beside the target dir for `diff`.
fn golden(name: &str, fresh: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, fresh).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    if on_disk == fresh {
        return;
    }
    let saved = std::env::temp_dir().join(format!("perfdiag-golden-{name}"));
    std::fs::write(&saved, fresh).unwrap();
    let line = on_disk
        .lines()
        .zip(fresh.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| on_disk.lines().count().min(fresh.lines().count()));
    panic!(
        "{} differs from the fresh report from line {} on (fresh copy: {}):\n  golden: {:?}\n  fresh:  {:?}\n\
         If the change is intended: UPDATE_GOLDEN=1 cargo test --test report",
        path.display(),
        line + 1,
        saved.display(),
        on_disk.lines().nth(line).unwrap_or("<end>"),
        fresh.lines().nth(line).unwrap_or("<end>"),
    );
}

#[test]
fn report_model_json_matches_the_golden_files_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    let snap = fixture_snapshot(dir.path());
    for lang in ["en", "zh-CN"] {
        let json = report(dir.path(), &snap, lang, "json", &COVER);
        assert!(!json.contains("[["), "{lang}: a catalog key is missing");
        golden(&format!("report-{lang}.json"), &json);
    }
}

#[test]
fn html_report_matches_the_golden_files_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    let snap = fixture_snapshot(dir.path());
    for lang in ["en", "zh-CN"] {
        let html = report(dir.path(), &snap, lang, "html", &COVER);
        assert!(!html.contains("[["), "{lang}: a catalog key is missing");
        golden(&format!("report-{lang}.html"), &html);
    }
}

#[test]
fn the_same_snapshot_gives_the_same_report_twice() {
    let dir = tempfile::tempdir().unwrap();
    let snap = fixture_snapshot(dir.path());
    let first = report(dir.path(), &snap, "en", "html", &COVER);
    let second = report(dir.path(), &snap, "en", "html", &COVER);
    assert!(first == second, "two renderings of one snapshot differ");
}

fn ids(v: &Value, key: &str) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x[key].to_string().trim_matches('"').to_owned())
        .collect()
}

/// Each section of the model is fed from its part of the snapshot, assessment and
/// plan (the goldens pin the values; this says what must be there).
#[test]
fn every_section_of_the_model_is_fed() {
    let dir = tempfile::tempdir().unwrap();
    let snap = fixture_snapshot(dir.path());
    let r: Value = serde_json::from_str(&report(dir.path(), &snap, "en", "json", &COVER)).unwrap();

    assert_eq!(r["schema_version"]["major"], 1);
    // Cover and confirmation: what the engineer gave, dated as asked.
    assert_eq!(r["cover"]["customer"], "ACME Trading Co.");
    assert_eq!(r["cover"]["engineer"], "Li Wei");
    assert_eq!(r["cover"]["date"], "2 November 2026");
    assert_eq!(r["confirmation"]["system"], "ERP production");
    assert_eq!(r["cover"]["databases"].as_array().unwrap().len(), 2);

    // Inventory: the short versions and the settings that matter.
    let products = ids(&r["databases"], "product");
    assert_eq!(products, ["PostgreSQL 15.10", "MariaDB 10.11.6"]);
    let pg_settings = r["databases"][0]["settings"].to_string();
    assert!(pg_settings.contains("shared_buffers") && pg_settings.contains("128.0 MiB"));

    // Executive summary: three steps, each a step of the plan, the most urgent first.
    let key = r["key_steps"].as_array().unwrap();
    assert_eq!(key.len(), 3);
    for k in key {
        let n = k["number"].as_u64().unwrap() as usize;
        assert_eq!(r["steps"][n - 1]["id"], k["id"]);
    }
    let tiers: Vec<u64> = key.iter().map(|k| k["tier"].as_u64().unwrap()).collect();
    assert!(tiers.windows(2).all(|w| w[0] <= w[1]), "{tiers:?}");
    let best_tier = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["tier"].as_u64().unwrap())
        .min()
        .unwrap();
    assert_eq!(tiers[0], best_tier);

    // Findings by dimension: every finding in exactly one group.
    let mut grouped: Vec<u64> = r["finding_groups"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|g| g["findings"].as_array().unwrap().clone())
        .map(|i| i.as_u64().unwrap())
        .collect();
    grouped.sort_unstable();
    let n = r["findings"].as_array().unwrap().len() as u64;
    assert!(n > 0);
    assert_eq!(grouped, (0..n).collect::<Vec<_>>());

    // Sessions: the PostgreSQL chain 4101 → 4102 → 4103; MariaDB's blocker was idle.
    let pg = &r["sessions"][0];
    assert_eq!(pg["engine"], "postgres");
    assert_eq!(
        ids(&pg["top"], "id")[0],
        "4104",
        "the longest-running first"
    );
    let chain = &pg["chains"][0];
    assert_eq!(chain["root"], 4101);
    assert_eq!(chain["blocked"], 2);
    assert_eq!(ids(&chain["nodes"], "id"), ["4101", "4102", "4103"]);
    assert_eq!(ids(&chain["nodes"], "depth"), ["0", "1", "2"]);
    let my = &r["sessions"][1];
    assert_eq!(my["chains"][0]["root"], 77);
    assert_eq!(my["chains"][0]["nodes"][0]["sampled"], false);

    // Top SQL: statements ranked by time within their target, anti-patterns linked.
    let statements = r["statements"].as_array().unwrap();
    assert_eq!(statements[0]["source"], "pg_statements");
    assert_eq!(statements[0]["rank"], 1);
    assert!(
        statements[0]["text"]
            .as_str()
            .unwrap()
            .starts_with("SELECT *")
    );
    let linked: Vec<String> = statements
        .iter()
        .chain(r["top_sql"].as_array().unwrap())
        .flat_map(|q| ids(&q["anti_patterns"], "rule_id"))
        .collect();
    assert!(
        linked.iter().any(|id| id == "sql.select_star"),
        "{linked:?}"
    );
    assert!(linked.iter().all(|id| id.starts_with("sql.")));
    // Every anti-pattern finding shows on its class.
    let sql_findings = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["rule_id"].as_str().unwrap().starts_with("sql."))
        .count();
    assert_eq!(linked.len(), sql_findings);

    // The plan by phase, every step once, in order.
    let in_phases: Vec<u64> = r["phases"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["steps"].as_array().unwrap().clone())
        .map(|n| n.as_u64().unwrap())
        .collect();
    let steps = r["steps"].as_array().unwrap().len() as u64;
    assert_eq!(in_phases, (1..=steps).collect::<Vec<_>>());
    assert!(
        r["steps"][0]["script"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    assert!(
        r["steps"][0]["rollback"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );

    // What could not be collected: the skipped, partial and failed probes, with hints.
    let gaps = ids(&r["not_collected"], "status");
    assert_eq!(gaps, ["skipped", "partial", "failed"]);
    assert!(
        r["not_collected"][2]["hint"]
            .as_str()
            .unwrap()
            .contains("GRANT")
    );
}

/// Every field of the model is documented in docs/report-model.md.
#[test]
fn every_field_of_the_model_is_documented() {
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
    let dir = tempfile::tempdir().unwrap();
    let snap = fixture_snapshot(dir.path());
    let model: Value =
        serde_json::from_str(&report(dir.path(), &snap, "en", "json", &COVER)).unwrap();
    let mut all = std::collections::BTreeSet::new();
    keys(&model, &mut all);
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report-model.md"))
            .unwrap();
    let undocumented: Vec<&String> = all
        .iter()
        .filter(|k| !doc.contains(&format!("`{k}`")))
        .collect();
    assert!(
        undocumented.is_empty(),
        "fields missing from docs/report-model.md: {undocumented:?}"
    );
    assert!(doc.contains(&format!(
        "`{{\"major\": {}, \"minor\": {}}}`",
        model["schema_version"]["major"], model["schema_version"]["minor"]
    )));
}

#[test]
fn cover_fields_not_given_are_blank_and_a_password_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let snap = fixture_snapshot(dir.path());
    let r: Value = serde_json::from_str(&report(dir.path(), &snap, "zh-CN", "json", &[])).unwrap();
    assert_eq!(r["cover"]["customer"], Value::Null);
    assert_eq!(r["cover"]["date"], "2026年11月2日");
    assert_eq!(r["window"]["duration"], "1 分 00 秒");
    let html = report(dir.path(), &snap, "zh-CN", "html", &[]);
    assert!(html.matches("class=\"blank\"").count() >= 3);

    let out = perfdiag(&[
        "report",
        s(&snap),
        "--system",
        "postgres://admin:hunter2@db1/erp",
        "-o",
        s(&dir.path().join("x.html")),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("password"), "{stderr}");
    assert!(!dir.path().join("x.html").exists());
}
