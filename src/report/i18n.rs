//! Message catalogs: every user-facing string of a report, in zh-CN and en.
//!
//! Catalogs are TOML files under `report-templates/i18n/<lang>/`, embedded in the
//! binary so a report can be made on a machine with nothing else installed. Nested
//! tables flatten to dotted keys: `[rule."os.vm.swappiness"] title` is
//! `rule.os.vm.swappiness.title`.

use std::collections::BTreeMap;

use anyhow::{Context, Result};

/// The languages a report can be written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
pub enum Lang {
    #[value(name = "en")]
    #[serde(rename = "en")]
    En,
    #[value(name = "zh-CN")]
    #[serde(rename = "zh-CN")]
    ZhCn,
}

impl Lang {
    /// The language of the system locale (`LC_ALL`, `LC_MESSAGES`, `LANG`): Chinese
    /// locales give zh-CN, everything else English.
    pub fn from_env() -> Self {
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|v| std::env::var(v).ok())
            .find(|v| !v.is_empty())
            .unwrap_or_default();
        if locale.to_ascii_lowercase().starts_with("zh") {
            Self::ZhCn
        } else {
            Self::En
        }
    }

    fn sources(self) -> &'static [(&'static str, &'static str)] {
        macro_rules! catalog {
            ($lang:literal, $file:literal) => {
                (
                    concat!($lang, "/", $file),
                    include_str!(concat!("../../report-templates/i18n/", $lang, "/", $file)),
                )
            };
        }
        match self {
            Self::En => &[
                catalog!("en", "report.toml"),
                catalog!("en", "rules.toml"),
                catalog!("en", "rules-postgres.toml"),
                catalog!("en", "rules-mysql.toml"),
                catalog!("en", "rules-mssql.toml"),
                catalog!("en", "rules-sql.toml"),
                catalog!("en", "pdf.toml"),
            ],
            Self::ZhCn => &[
                catalog!("zh-CN", "report.toml"),
                catalog!("zh-CN", "rules.toml"),
                catalog!("zh-CN", "rules-postgres.toml"),
                catalog!("zh-CN", "rules-mysql.toml"),
                catalog!("zh-CN", "rules-mssql.toml"),
                catalog!("zh-CN", "rules-sql.toml"),
                catalog!("zh-CN", "pdf.toml"),
            ],
        }
    }
}

/// All messages of one language.
#[derive(Debug, Clone)]
pub struct Catalog {
    lang: Lang,
    messages: BTreeMap<String, String>,
}

impl Catalog {
    pub fn load(lang: Lang) -> Result<Self> {
        let mut messages = BTreeMap::new();
        for (name, text) in lang.sources() {
            let table: toml::Table =
                toml::from_str(text).with_context(|| format!("message catalog {name}"))?;
            flatten("", &toml::Value::Table(table), &mut messages);
        }
        Ok(Self { lang, messages })
    }

    pub fn lang(&self) -> Lang {
        self.lang
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.messages.get(key).map(String::as_str)
    }

    /// Every message by its dotted key (the PDF templates get them all as JSON).
    pub fn messages(&self) -> &BTreeMap<String, String> {
        &self.messages
    }

    /// The message, or the key in brackets so a gap shows in the report (and fails
    /// the tests) instead of vanishing.
    pub fn text(&self, key: &str) -> String {
        self.get(key)
            .map_or_else(|| format!("[[{key}]]"), str::to_owned)
    }

    #[cfg(test)]
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.messages.keys().map(String::as_str)
    }
}

fn flatten(prefix: &str, value: &toml::Value, out: &mut BTreeMap<String, String>) {
    match value {
        toml::Value::Table(table) => {
            for (k, v) in table {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten(&key, v, out);
            }
        }
        other => {
            let text = other
                .as_str()
                .map_or_else(|| other.to_string(), str::to_owned);
            out.insert(prefix.to_owned(), text);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_have_the_same_keys() {
        let en = Catalog::load(Lang::En).unwrap();
        let zh = Catalog::load(Lang::ZhCn).unwrap();
        let en_keys: Vec<_> = en.keys().collect();
        let zh_keys: Vec<_> = zh.keys().collect();
        let only_en: Vec<_> = en_keys.iter().filter(|k| zh.get(k).is_none()).collect();
        let only_zh: Vec<_> = zh_keys.iter().filter(|k| en.get(k).is_none()).collect();
        assert!(only_en.is_empty(), "keys only in en: {only_en:?}");
        assert!(only_zh.is_empty(), "keys only in zh-CN: {only_zh:?}");
        assert!(en_keys.len() > 100);
    }

    #[test]
    fn no_message_is_empty() {
        for lang in [Lang::En, Lang::ZhCn] {
            let catalog = Catalog::load(lang).unwrap();
            for key in catalog.keys() {
                assert!(
                    !catalog.text(key).trim().is_empty(),
                    "{lang:?} {key} is empty"
                );
            }
        }
    }

    #[test]
    fn missing_keys_are_visible() {
        let en = Catalog::load(Lang::En).unwrap();
        assert_eq!(en.text("no.such.key"), "[[no.such.key]]");
        assert_eq!(en.text("dimension.cpu"), "CPU");
        assert_eq!(
            Catalog::load(Lang::ZhCn).unwrap().text("dimension.memory"),
            "内存"
        );
    }
}
