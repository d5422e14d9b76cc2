//! The PDF report end to end through the binary, read back with poppler (pdftotext,
//! pdftoppm, pdffonts; `.ci/run` installs poppler-utils): the fixed snapshot of the
//! report tests (`tests/report/fixture.rs`: a host, PostgreSQL and MariaDB, blocking
//! sessions, statements with anti-patterns, a slow log, failed probes), reported in
//! zh-CN and en.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
#[allow(dead_code)]
#[path = "report/fixture.rs"]
mod fixture;

use common::{ok, perfdiag, s};
use fixture::Names;

const CUSTOMER: &str = "示例贸易有限公司";
const SYSTEM: &str = "ERP 生产库";
const ENGINEER: &str = "张工";

fn snapshot(dir: &Path, names: &Names) -> PathBuf {
    let snap = dir.join("fixture.pdsnap");
    fixture::write(names, &snap);
    snap
}

/// `perfdiag report` of `snap` in `lang`, with the cover filled in; the PDF's path and
/// the run's stderr.
fn report(dir: &Path, snap: &Path, lang: &str, extra: &[&str]) -> (PathBuf, String) {
    let pdf = dir.join(format!("report-{lang}.pdf"));
    let mut args = vec![
        "report",
        s(snap),
        "--lang",
        lang,
        "--generated-at",
        "2026-11-30T10:00:00Z",
        "-o",
        s(&pdf),
    ];
    args.extend_from_slice(extra);
    let out = perfdiag(&args);
    ok(&out);
    (pdf, String::from_utf8_lossy(&out.stderr).into_owned())
}

fn poppler(program: &str, args: &[&str]) -> Output {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} (poppler-utils) runs: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The PDF's text with all white space removed: lines wrap wherever typst broke them.
fn text(pdf: &Path) -> String {
    let out = poppler("pdftotext", &[s(pdf), "-"]);
    String::from_utf8(out.stdout)
        .unwrap()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

fn squeeze(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// The report model of the same snapshot, as JSON.
fn model(dir: &Path, snap: &Path, lang: &str) -> serde_json::Value {
    let json = dir.join(format!("model-{lang}.json"));
    ok(&perfdiag(&[
        "report",
        s(snap),
        "--lang",
        lang,
        "--format",
        "json",
        "-o",
        s(&json),
    ]));
    serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap()
}

/// A message of a language's catalog, e.g. `section.summary`.
fn message(lang: &str, file: &str, key: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("report-templates/i18n")
        .join(lang)
        .join(file);
    let table: toml::Table = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let (section, name) = key.split_once('.').unwrap();
    table[section][name].as_str().unwrap().to_owned()
}

#[test]
fn the_chinese_pdf_has_the_section_titles_and_the_primary_bottleneck() {
    let dir = tempfile::tempdir().unwrap();
    let snap = snapshot(dir.path(), &Names::plain());
    let (pdf, stderr) = report(
        dir.path(),
        &snap,
        "zh-CN",
        &[
            "--customer",
            CUSTOMER,
            "--system",
            SYSTEM,
            "--engineer",
            ENGINEER,
        ],
    );
    assert!(!stderr.contains("warning"), "typst warned:\n{stderr}");
    let text = text(&pdf);
    for key in [
        "report.title",
        "report.contents",
        "section.summary",
        "section.environment",
        "section.resources",
        "section.findings",
        "section.plan",
        "section.collection",
        "sessions.title",
        "statements.title",
        "gaps.title",
        "appendix.title",
        "confirm.title",
    ] {
        let title = squeeze(&message("zh-CN", "report.toml", key));
        assert!(text.contains(&title), "{key} ({title}) not in the PDF");
    }
    let model = model(dir.path(), &snap, "zh-CN");
    let sentence = model["primary"]["sentence"]
        .as_str()
        .expect("the fixture has a primary bottleneck");
    assert!(
        text.contains(&squeeze(sentence)),
        "the primary bottleneck sentence is not in the PDF: {sentence}"
    );
    // The cover, the running header and the confirmation page name the customer.
    assert!(
        text.matches(CUSTOMER).count() >= 3,
        "customer in the header"
    );
    assert!(text.contains(&squeeze(SYSTEM)) && text.contains(ENGINEER));
    let page = squeeze(&message("zh-CN", "pdf.toml", "pdf.page"));
    let page_two = page.split("{total}").next().unwrap().replace("{n}", "2");
    assert!(text.contains(&page_two), "page numbers: {page_two}");
    // Every step's script is in the appendix.
    for step in model["steps"].as_array().unwrap() {
        let script = step["script"].as_str().unwrap();
        let first_line = script.lines().find(|l| !l.trim().is_empty()).unwrap();
        assert!(
            text.contains(&squeeze(first_line)),
            "script of step {} not in the appendix",
            step["number"]
        );
    }
    assert!(!text.contains("[["), "a catalog key is missing: {text}");
}

#[test]
fn the_english_pdf_renders_and_page_one_rasterises() {
    let dir = tempfile::tempdir().unwrap();
    let snap = snapshot(dir.path(), &Names::plain());
    // No cover fields: the header and the blanks stay empty, nothing fails.
    let (pdf, stderr) = report(dir.path(), &snap, "en", &[]);
    assert!(!stderr.contains("warning"), "typst warned:\n{stderr}");
    let text = text(&pdf);
    for key in ["section.summary", "section.findings", "section.plan"] {
        let title = squeeze(&message("en", "report.toml", key));
        assert!(text.contains(&title), "{key} ({title}) not in the PDF");
    }
    assert!(text.contains("Page2of"), "page numbers");
    assert!(!text.contains("[["), "a catalog key is missing");

    let png = dir.path().join("page");
    poppler(
        "pdftoppm",
        &["-r", "50", "-f", "1", "-l", "1", "-png", s(&pdf), s(&png)],
    );
    let page = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "png"))
        .expect("pdftoppm wrote page 1");
    assert!(std::fs::metadata(page).unwrap().len() > 1000);
}

/// typst reads no system font: with fontconfig pointed at nothing the PDF is the
/// same, and its only fonts are the three embedded Noto subsets.
#[test]
fn the_pdf_uses_only_the_embedded_fonts() {
    let dir = tempfile::tempdir().unwrap();
    let snap = snapshot(dir.path(), &Names::plain());
    let pdf = dir.path().join("nofonts.pdf");
    let out = Command::new(env!("CARGO_BIN_EXE_perfdiag"))
        .args(["report", s(&snap), "--lang", "zh-CN", "-o", s(&pdf)])
        .env("LANG", "C")
        .env("FONTCONFIG_FILE", "/nonexistent/fonts.conf")
        .env("FONTCONFIG_PATH", "/nonexistent")
        .env("XDG_DATA_HOME", "/nonexistent")
        .env("HOME", dir.path())
        .output()
        .unwrap();
    ok(&out);
    assert!(
        std::fs::read(&pdf).unwrap().starts_with(b"%PDF-"),
        "-o x.pdf writes a PDF without --format"
    );
    let fonts = String::from_utf8(poppler("pdffonts", &[s(&pdf)]).stdout).unwrap();
    let faces: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!faces.is_empty());
    for face in faces {
        assert!(
            face.contains("NotoSansCJKsc-") || face.contains("NotoSansMonoCJKsc-"),
            "a font that is not ours: {face}"
        );
        let columns: Vec<&str> = face.split_whitespace().collect();
        // name type... encoding emb sub uni object ID: "emb" is the 5th from the end.
        assert_eq!(columns[columns.len() - 5], "yes", "not embedded: {face}");
    }
}

/// Text from the snapshot or the engineer is typeset as text, never as typst markup.
#[test]
fn markup_in_the_data_prints_literally() {
    let dir = tempfile::tempdir().unwrap();
    let names = Names {
        hostname: "db1#panic(\"host\")".to_owned(),
        user: "app*bold*_u_".to_owned(),
        table: "orders$x$<l>@ref".to_owned(),
        application: "web#let x = 1".to_owned(),
        failure: "denied [[x]] {{ y }} `raw`".to_owned(),
    };
    let snap = snapshot(dir.path(), &names);
    let customer = "ACME #panic(\"x\") *bold* $x$ <l> @ref";
    let (pdf, _) = report(dir.path(), &snap, "en", &["--customer", customer]);
    let text = text(&pdf);
    for literal in [customer, &names.hostname, &names.user, &names.failure] {
        assert!(
            text.contains(&squeeze(literal)),
            "{literal} is not shown as written"
        );
    }
}

/// The charts of the window (CPU, memory, disks, network) and of each database's
/// time, and the top-SQL bars, are drawn under their titles in both languages.
#[test]
fn the_charts_are_drawn_under_their_titles_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    let snap = snapshot(dir.path(), &Names::plain());
    for lang in ["en", "zh-CN"] {
        let (pdf, stderr) = report(dir.path(), &snap, lang, &[]);
        assert!(!stderr.contains("warning"), "typst warned:\n{stderr}");
        let text = text(&pdf);
        let title = |key: &str| squeeze(&message(lang, "report.toml", key));
        for (key, times) in [
            ("chart.cpu", 1),
            ("chart.memory", 1),
            ("chart.disk", 1),
            ("chart.disk_await", 1),
            ("chart.net_errors", 1),
            // One chart per database target, one set of bars per statements target
            // and per slow log.
            ("chart.db_time", 2),
            ("chart.top_sql", 3),
        ] {
            assert_eq!(
                text.matches(&title(key)).count(),
                times,
                "{lang}: {key} ({})",
                title(key)
            );
        }
        // Throughput in the unit of its values (the fixture's eth0 moves ~25 MB/s),
        // each interface received and sent.
        assert!(text.contains(&format!("{}(MiB/s)", title("chart.network"))));
        for legend in [
            format!("eth0{}", title("chart.received")),
            format!("eth0{}", title("chart.sent")),
            format!("eth1{}", title("chart.sent")),
        ] {
            assert!(text.contains(&legend), "{lang}: legend {legend}");
        }
        for sentence in [
            "chart.no_network",
            "chart.no_disk_latency",
            "chart.no_net_errors",
        ] {
            assert!(!text.contains(&title(sentence)), "{lang}: {sentence}");
        }
    }
}
