//! `docs/rules.md` is generated from the rule files and catalogs; this test fails when
//! it is out of date. Regenerate with `UPDATE_GOLDEN=1 cargo test --test docs`.

use std::fmt::Write;
use std::path::Path;

use perfdiag_analyzers::{Baseline, Direction};
use perfdiag_model::{Unit, Value};

/// A language's rule catalogs (host, PostgreSQL, MySQL, SQL Server, SQL anti-patterns) as
/// one table.
fn catalog(lang: &str) -> toml::Table {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("report-templates/i18n")
        .join(lang);
    let text: Vec<String> = [
        "rules.toml",
        "rules-postgres.toml",
        "rules-mysql.toml",
        "rules-mssql.toml",
        "rules-sql.toml",
    ]
    .iter()
    .map(|f| std::fs::read_to_string(dir.join(f)).unwrap())
    .collect();
    toml::from_str(&text.join("\n")).unwrap()
}

fn text<'a>(catalog: &'a toml::Table, kind: &str, id: &str, field: &str) -> &'a str {
    catalog[kind][id][field].as_str().unwrap()
}

fn render() -> String {
    let (en, zh) = (catalog("en"), catalog("zh-CN"));
    let baseline = Baseline::builtin();
    let mut out = String::from(
        "# Rule catalogue\n\n\
         Generated from `analyzers/baselines/*.toml` and the message catalogs by\n\
         `UPDATE_GOLDEN=1 cargo test --test docs`; do not edit by hand.\n\n\
         Thresholds are strict: a value equal to a threshold does not fire. Override any\n\
         of them with `--baseline FILE` (see [baselines.md](baselines.md)).\n\n\
         | rule | dimension | fires when | warning | critical | plan step |\n\
         |---|---|---|---|---|---|\n",
    );
    let steps = perfdiag_advice::steps_catalog();
    for rule in baseline.rules() {
        let level = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| shown(v, rule.unit));
        let step = steps
            .iter()
            .find(|s| s.rule_id == rule.id)
            .map_or("–", |s| s.id);
        let (when, warning, critical) = match rule.direction {
            Direction::Above => (
                "above",
                level(rule.levels.warning),
                level(rule.levels.critical),
            ),
            Direction::Below => (
                "below",
                level(rule.levels.warning),
                level(rule.levels.critical),
            ),
            Direction::Condition => (
                "condition",
                rule.severity
                    .map_or("–".to_owned(), |s| format!("{s:?}").to_lowercase()),
                "–".to_owned(),
            ),
        };
        writeln!(
            out,
            "| `{}` | {} | {when} | {warning} | {critical} | `{step}` |",
            rule.id,
            rule.dimension.id(),
        )
        .unwrap();
    }
    for rule in baseline.rules() {
        let level = |v: Option<f64>| v.map_or_else(|| "–".to_owned(), |v| shown(v, rule.unit));
        writeln!(
            out,
            "\n## `{}`\n\n**{}** · {}\n\n{}\n\n{}Reference: {}.",
            rule.id,
            text(&en, "rule", &rule.id, "title"),
            text(&zh, "rule", &rule.id, "title"),
            text(&en, "rule", &rule.id, "rationale"),
            rule.variants
                .iter()
                .map(|(name, l)| format!(
                    "Variant `{name}`: warning {}, critical {}. ",
                    level(l.warning),
                    level(l.critical)
                ))
                .collect::<String>(),
            rule.reference,
        )
        .unwrap();
    }
    out
}

/// A threshold with its unit; byte sizes in GiB when they are whole GiB.
fn shown(v: f64, unit: Unit) -> String {
    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
    if unit == Unit::Bytes && v >= GIB && (v / GIB).fract() == 0.0 {
        format!("{} GiB", v / GIB)
    } else {
        Value::number(v, unit).to_string()
    }
}

#[test]
fn rules_doc_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
    let fresh = render();
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == fresh,
        "docs/rules.md is out of date: run UPDATE_GOLDEN=1 cargo test --test docs"
    );
}
