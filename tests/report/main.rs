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

    // Charts. Database time sample by sample, per target: the chart's mean of each
    // class is the assessment's average active sessions (every tick was sampled).
    let series = &r["series"];
    for (i, target) in [fixture::PG, fixture::MY].into_iter().enumerate() {
        let chart = &series["db_time"][i];
        assert_eq!(chart["target"], target);
        let points = chart["points"].as_array().unwrap();
        assert_eq!(points.len(), 20, "one point per tick");
        let assessed = r["databases"][i]["db_time"].as_array().unwrap();
        let classes: Vec<&str> = chart["classes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let by_share: Vec<&str> = assessed
            .iter()
            .map(|w| w["wait_class"].as_str().unwrap())
            .collect();
        assert_eq!(classes, by_share, "{target}");
        for (k, w) in assessed.iter().enumerate() {
            let mean = points
                .iter()
                .map(|p| p["aas"][k].as_f64().unwrap())
                .sum::<f64>()
                / points.len() as f64;
            let shown: f64 = w["aas"].as_str().unwrap().parse().unwrap();
            assert!(
                (mean - shown).abs() < 0.005,
                "{target} {classes:?}: {mean} vs {shown}"
            );
        }
    }
    // PostgreSQL at 24 s (tick 8): the lock waiters 4102 and 4103, 4104 reading
    // (IO), one short statement on a CPU.
    let at_24 = &series["db_time"][0]["points"][7];
    assert_eq!(at_24["t"], 24.0);
    assert_eq!(at_24["aas"], serde_json::json!([1.0, 2.0, 1.0]));
    assert_eq!(series["disk_await_ms"].as_array().unwrap().len(), 1);
    assert_eq!(series["disk_await_ms"][0][0], "sda");
    assert_eq!(
        series["disk_await_ms"][0][1][0],
        serde_json::json!([3.0, 9.0])
    );
    assert_eq!(
        series["net_rx_bytes_per_s"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l[0].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["eth0", "eth1"],
        "the busiest interface first"
    );
    let errors = series["net_errors_per_s"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "eth1 had no errors or drops");
    assert_eq!(errors[0][1][6], serde_json::json!([21.0, 2.0]));
    // The slow log's shares as numbers, for the bars.
    assert_eq!(r["top_sql"][0]["share_pct"], 61.0);

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

/// A chart with nothing to show is left out with a sentence, never drawn empty: no
/// disk completed an I/O, no interface moved a byte.
#[test]
fn charts_with_nothing_to_show_are_left_out_with_a_sentence() {
    use perfdiag_model::{Table, col, tables};
    let dir = tempfile::tempdir().unwrap();
    let mut snapshot = fixture::snapshot(&fixture::Names::plain());
    let start = fixture::started_at().timestamp_micros();
    let ts = || col::timestamp((1..=4).map(|i| Some(start + i * 3_000_000)));
    snapshot.put_table(
        tables::HOST_DISK,
        Table::new()
            .with("ts", ts())
            .with("device", col::utf8((1..=4).map(|_| Some("sda"))))
            .with("await_ms", col::f64((1..=4).map(|_| None)))
            .with("util_pct", col::f64((1..=4).map(|_| Some(0.0)))),
    );
    let zero = || col::f64((1..=4).map(|_| Some(0.0)));
    snapshot.put_table(
        tables::HOST_NET,
        Table::new()
            .with("ts", ts())
            .with("interface", col::utf8((1..=4).map(|_| Some("eth0"))))
            .with("rx_bytes_per_s", zero())
            .with("tx_bytes_per_s", zero())
            .with("rx_errors_per_s", zero())
            .with("tx_errors_per_s", zero())
            .with("rx_drops_per_s", zero())
            .with("tx_drops_per_s", zero()),
    );
    let snap = dir.path().join("idle.pdsnap");
    snapshot.write(&snap).unwrap();
    for lang in ["en", "zh-CN"] {
        let r: Value = serde_json::from_str(&report(dir.path(), &snap, lang, "json", &[])).unwrap();
        assert_eq!(r["series"]["disk_await_ms"], serde_json::json!([]));
        assert_eq!(r["series"]["net_rx_bytes_per_s"], serde_json::json!([]));
        assert_eq!(r["series"]["net_errors_per_s"], serde_json::json!([]));

        let html = report(dir.path(), &snap, lang, "html", &[]);
        let resources = &html[html.find("<section id=\"resources\">").unwrap()..];
        let resources = &resources[..resources.find("</section>").unwrap()];
        let catalog = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("report-templates/i18n")
                .join(lang)
                .join("report.toml"),
        )
        .unwrap();
        let chart: toml::Table = toml::from_str::<toml::Table>(&catalog).unwrap()["chart"]
            .as_table()
            .unwrap()
            .clone();
        let text = |key: &str| {
            let t = chart[key].as_str().unwrap().to_owned();
            // As the template engine escapes it.
            t.replace('/', "&#x2f;")
        };
        assert!(resources.contains(&text("no_disk_latency")), "{lang}");
        assert!(resources.contains(&text("no_network")), "{lang}");
        assert!(!resources.contains(&text("net_errors")), "{lang}");
        // CPU, memory and the (idle) disk's utilisation are still drawn.
        assert_eq!(resources.matches("<svg").count(), 3, "{lang}");
    }
}
