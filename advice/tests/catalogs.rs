//! Every plan step has a title, a reason and an expected effect in every language.

use std::collections::BTreeSet;

/// Each language's rule catalogs (host, PostgreSQL, MySQL) as one TOML text.
const CATALOGS: [(&str, &str); 2] = [
    (
        "en",
        concat!(
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../report-templates/i18n/en/rules.toml"
            )),
            "\n",
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../report-templates/i18n/en/rules-postgres.toml"
            )),
            "\n",
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../report-templates/i18n/en/rules-mysql.toml"
            )),
        ),
    ),
    (
        "zh-CN",
        concat!(
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../report-templates/i18n/zh-CN/rules.toml"
            )),
            "\n",
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../report-templates/i18n/zh-CN/rules-postgres.toml"
            )),
            "\n",
            include_str!(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../report-templates/i18n/zh-CN/rules-mysql.toml"
            )),
        ),
    ),
];

/// The `step` entries of a catalog: `id|field` for each non-empty text.
fn step_keys(lang: &str, text: &str) -> BTreeSet<String> {
    let doc: toml::Table = toml::from_str(text).unwrap_or_else(|e| panic!("{lang}: {e}"));
    let Some(steps) = doc.get("step").and_then(toml::Value::as_table) else {
        panic!("{lang}: no [step] section");
    };
    let mut out = BTreeSet::new();
    for (id, fields) in steps {
        let fields = fields
            .as_table()
            .unwrap_or_else(|| panic!("{lang}: step {id} is not a table"));
        for (field, value) in fields {
            let text = value.as_str().unwrap_or_default();
            assert!(
                !text.trim().is_empty(),
                "{lang}: step {id}.{field} is empty or not text"
            );
            out.insert(format!("{id}|{field}"));
        }
    }
    out
}

#[test]
fn every_step_has_title_why_and_effect_in_every_language() {
    let known: BTreeSet<&str> = perfdiag_advice::steps_catalog()
        .iter()
        .map(|s| s.id)
        .collect();
    for (lang, text) in CATALOGS {
        let keys = step_keys(lang, text);
        for id in &known {
            for field in ["title", "why", "effect"] {
                assert!(
                    keys.contains(&format!("{id}|{field}")),
                    "{lang}: step \"{id}\" has no {field}"
                );
            }
        }
        for key in &keys {
            let id = key.split('|').next().unwrap_or_default();
            assert!(
                known.contains(id),
                "{lang}: catalog text for unknown step {id}"
            );
        }
    }
    assert_eq!(
        step_keys(CATALOGS[0].0, CATALOGS[0].1),
        step_keys(CATALOGS[1].0, CATALOGS[1].1)
    );
}
