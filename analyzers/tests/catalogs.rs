//! Every rule has a title and a rationale in every language, and the languages agree.

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

/// Every `section.id.field` key of a catalog, failing on non-string texts.
fn keys(lang: &str, text: &str) -> BTreeSet<String> {
    let doc: toml::Table = toml::from_str(text).unwrap_or_else(|e| panic!("{lang}: {e}"));
    let mut out = BTreeSet::new();
    for (section, entries) in &doc {
        let entries = entries
            .as_table()
            .unwrap_or_else(|| panic!("{lang}: [{section}] is not a table"));
        for (id, fields) in entries {
            let fields = fields
                .as_table()
                .unwrap_or_else(|| panic!("{lang}: {section}.{id} is not a table"));
            for (field, value) in fields {
                let text = value
                    .as_str()
                    .unwrap_or_else(|| panic!("{lang}: {section}.{id}.{field} is not text"));
                assert!(
                    !text.trim().is_empty(),
                    "{lang}: {section}.{id}.{field} is empty"
                );
                out.insert(format!("{section}|{id}|{field}"));
            }
        }
    }
    out
}

#[test]
fn every_rule_has_a_title_and_rationale_in_every_language() {
    for (lang, text) in CATALOGS {
        let keys = keys(lang, text);
        for id in perfdiag_analyzers::implemented_rule_ids() {
            for field in ["title", "rationale"] {
                assert!(
                    keys.contains(&format!("rule|{id}|{field}")),
                    "{lang}: rule \"{id}\" has no {field}"
                );
            }
        }
        let implemented: BTreeSet<&str> = perfdiag_analyzers::implemented_rule_ids().collect();
        for key in keys.iter().filter(|k| k.starts_with("rule|")) {
            let id = key.split('|').nth(1).unwrap_or_default();
            assert!(
                implemented.contains(id),
                "{lang}: catalog text for unknown rule {id}"
            );
        }
    }
}

#[test]
fn languages_have_the_same_keys() {
    let (en, zh) = (
        keys(CATALOGS[0].0, CATALOGS[0].1),
        keys(CATALOGS[1].0, CATALOGS[1].1),
    );
    let only_en: Vec<_> = en.difference(&zh).collect();
    let only_zh: Vec<_> = zh.difference(&en).collect();
    assert!(
        only_en.is_empty() && only_zh.is_empty(),
        "only in en: {only_en:?}; only in zh-CN: {only_zh:?}"
    );
}
