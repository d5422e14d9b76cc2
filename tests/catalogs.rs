//! The message catalogs document every rule (title, rationale) and every plan step
//! (title, why, effect) in every language, and mention nothing that does not exist.
//! (That both languages have the same keys, and no empty text, is checked with the
//! catalog loader in `src/report/i18n.rs`.)

use std::collections::BTreeSet;
use std::path::Path;

const LANGS: [&str; 2] = ["en", "zh-CN"];
const FILES: [&str; 5] = [
    "rules.toml",
    "rules-postgres.toml",
    "rules-mysql.toml",
    "rules-mssql.toml",
    "rules-sql.toml",
];

/// `section|id|field` for every text of a language's rule catalogs.
fn keys(lang: &str) -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("report-templates/i18n")
        .join(lang);
    let mut out = BTreeSet::new();
    for file in FILES {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let doc: toml::Table =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{lang}/{file}: {e}"));
        for (section, entries) in &doc {
            for (id, fields) in entries.as_table().expect("[section] tables") {
                for (field, value) in fields.as_table().expect("[section.id] tables") {
                    assert!(
                        value.is_str(),
                        "{lang}/{file}: {section}.{id}.{field} is not text"
                    );
                    out.insert(format!("{section}|{id}|{field}"));
                }
            }
        }
    }
    out
}

fn check(kind: &str, known: &BTreeSet<&str>, fields: &[&str]) {
    for lang in LANGS {
        let keys = keys(lang);
        for id in known {
            for field in fields {
                assert!(
                    keys.contains(&format!("{kind}|{id}|{field}")),
                    "{lang}: {kind} \"{id}\" has no {field}"
                );
            }
        }
        for key in keys.iter().filter(|k| k.starts_with(&format!("{kind}|"))) {
            let id = key.split('|').nth(1).unwrap_or_default();
            assert!(
                known.contains(id),
                "{lang}: catalog text for unknown {kind} {id}"
            );
        }
    }
}

#[test]
fn every_rule_has_a_title_and_rationale_in_every_language() {
    let rules: BTreeSet<&str> = perfdiag_analyzers::implemented_rule_ids().collect();
    assert!(rules.len() >= 40, "{}", rules.len());
    check("rule", &rules, &["title", "rationale"]);
}

#[test]
fn every_step_has_a_title_why_and_effect_in_every_language() {
    let steps: BTreeSet<&str> = perfdiag_advice::steps_catalog()
        .iter()
        .map(|s| s.id)
        .collect();
    check("step", &steps, &["title", "why", "effect"]);
}
