//! `case.toml`: what the engineer says about the engagement — customer, system,
//! engineer, language, workload, the database targets and how long to collect. Written
//! once by `perfdiag case init`, then the engineer's to edit by hand; perfdiag only
//! reads it. Unknown keys are refused (a typo must not be silently ignored), and so is
//! a URL holding a password: passwords come from the environment, `~/.pgpass` or a
//! prompt, and are never stored.
//!
//! Read in two stages: the file as written ([`CaseFile`]), then resolved and checked
//! ([`CaseConfig`]: languages, URLs and durations parsed).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use clap::ValueEnum;
use perfdiag_model::Workload;
use perfdiag_probes::db::{DbTarget, Engine};
use serde::Deserialize;

use crate::report::Lang;

pub const FILE: &str = "case.toml";

const DEFAULT_DURATION: &str = "60s";
const DEFAULT_INTERVAL: &str = "1s";

/// `case.toml` as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    pub customer: Option<String>,
    pub system: Option<String>,
    pub engineer: Option<String>,
    /// `en` or `zh-CN`: the terminal output and reports of the case.
    pub language: Option<String>,
    /// `oltp`, `olap` or `mixed`; absent: detected from the statement mix.
    pub workload: Option<Workload>,
    /// The host also runs other services: size database memory for a share of RAM.
    #[serde(default)]
    pub shared_host: bool,
    /// A baseline file overriding the built-in thresholds, relative to the case folder.
    pub baseline: Option<PathBuf>,
    #[serde(default)]
    pub targets: Targets,
    #[serde(default)]
    pub collection: Collection,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    #[serde(default)]
    pub postgres: Vec<String>,
    #[serde(default)]
    pub mysql: Vec<String>,
    #[serde(default)]
    pub mssql: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Collection {
    /// How long each collection samples, e.g. `60s`, `5m`.
    pub duration: Option<String>,
    /// Time between samples, e.g. `1s`.
    pub interval: Option<String>,
    /// Read /proc, /sys and /etc under this folder instead of / (a container that
    /// mounts the host's directories elsewhere).
    pub host_root: Option<PathBuf>,
}

/// `case.toml` resolved: every value parsed and checked.
#[derive(Debug, Clone)]
pub struct CaseConfig {
    pub file: CaseFile,
    pub lang: Option<Lang>,
    pub postgres: Vec<DbTarget>,
    pub mysql: Vec<DbTarget>,
    pub mssql: Vec<DbTarget>,
    pub duration: Duration,
    pub interval: Duration,
}

impl CaseConfig {
    /// Reads and checks `dir/case.toml`; every error names the file and the key.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(FILE);
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "cannot read {}: is {} a case folder? (`perfdiag case init` makes one)",
                path.display(),
                dir.display()
            )
        })?;
        Self::parse(&text).map_err(|e| anyhow!("{}: {e:#}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self> {
        // toml's message names the line and shows it.
        let file: CaseFile = toml::from_str(text).map_err(|e| anyhow!("{e}"))?;
        Self::resolve(file)
    }

    pub fn resolve(file: CaseFile) -> Result<Self> {
        let lang = match &file.language {
            Some(l) => Some(Lang::from_str(l, true).map_err(|_| {
                anyhow!(
                    "language = \"{l}\" is not a language perfdiag speaks: use \"en\" or \"zh-CN\""
                )
            })?),
            None => None,
        };
        for (key, value) in [
            ("customer", &file.customer),
            ("system", &file.system),
            ("engineer", &file.engineer),
        ] {
            if let Some(v) = value {
                crate::cli::no_credentials(v).map_err(|e| anyhow!("{key}: {e}"))?;
            }
        }
        let postgres = targets(Engine::Postgres, "postgres", &file.targets.postgres)?;
        let mysql = targets(Engine::Mysql, "mysql", &file.targets.mysql)?;
        let mssql = targets(Engine::Mssql, "mssql", &file.targets.mssql)?;
        let duration = parse_duration(
            "collection.duration",
            file.collection
                .duration
                .as_deref()
                .unwrap_or(DEFAULT_DURATION),
        )?;
        let interval = parse_duration(
            "collection.interval",
            file.collection
                .interval
                .as_deref()
                .unwrap_or(DEFAULT_INTERVAL),
        )?;
        if interval > duration {
            bail!(
                "collection.interval is longer than collection.duration: no sample would be taken"
            );
        }
        Ok(Self {
            file,
            lang,
            postgres,
            mysql,
            mssql,
            duration,
            interval,
        })
    }

    /// The language of the terminal output: the case's, else the system locale's.
    pub fn lang(&self) -> Lang {
        self.lang.unwrap_or_else(Lang::from_env)
    }

    pub fn targets(&self) -> impl Iterator<Item = &DbTarget> {
        self.postgres.iter().chain(&self.mysql).chain(&self.mssql)
    }

    /// The text of a new `case.toml`: every key, commented where not given, so the
    /// file teaches what can go in it.
    pub fn render(file: &CaseFile) -> String {
        let q = |s: &str| toml::Value::String(s.to_owned()).to_string();
        let opt = |key: &str, value: &Option<String>, example: &str| match value {
            Some(v) => format!("{key} = {}\n", q(v)),
            None => format!("# {key} = {}\n", q(example)),
        };
        let mut s = String::new();
        s.push_str(
            "# A perfdiag case: one performance engagement (docs/case.md).\n\
             # Written by `perfdiag case init`; yours to edit. perfdiag keeps its own record\n\
             # in progress.toml beside this file.\n\
             # Passwords never go here: they come from PGPASSWORD, ~/.pgpass or MYSQL_PWD,\n\
             # or a prompt.\n\n",
        );
        s.push_str(&opt("customer", &file.customer, "ACME Trading Co."));
        s.push_str(&opt("system", &file.system, "ERP production database"));
        s.push_str(&opt("engineer", &file.engineer, "Li Wei"));
        s.push_str("# Language of the terminal output and reports: \"en\" or \"zh-CN\".\n");
        s.push_str(&opt("language", &file.language, "zh-CN"));
        s.push_str(
            "# \"oltp\", \"olap\" or \"mixed\"; left out, it is detected from the statement mix.\n",
        );
        match file.workload {
            Some(w) => {
                let _ = writeln!(s, "workload = {}", q(w.id()));
            }
            None => s.push_str("# workload = \"oltp\"\n"),
        }
        s.push_str("# true when the host also runs other services (application server, other databases).\n");
        let _ = writeln!(s, "shared_host = {}", file.shared_host);
        s.push_str("# A baseline file overriding the built-in thresholds (docs/baselines.md), relative to this folder.\n");
        match &file.baseline {
            Some(b) => {
                let _ = writeln!(s, "baseline = {}", q(&b.to_string_lossy()));
            }
            None => s.push_str("# baseline = \"baseline.toml\"\n"),
        }
        s.push_str("\n# The databases to collect from, as URLs without a password.\n[targets]\n");
        let list = |urls: &[String]| {
            let items: Vec<String> = urls.iter().map(|u| q(u)).collect();
            format!("[{}]", items.join(", "))
        };
        let _ = writeln!(s, "postgres = {}", list(&file.targets.postgres));
        let _ = writeln!(s, "mysql = {}", list(&file.targets.mysql));
        let _ = writeln!(s, "mssql = {}", list(&file.targets.mssql));
        s.push_str(
            "\n# How `case collect`, `case optimized` and `case recheck` sample.\n[collection]\n",
        );
        let c = &file.collection;
        let _ = writeln!(
            s,
            "duration = {}",
            q(c.duration.as_deref().unwrap_or(DEFAULT_DURATION))
        );
        let _ = writeln!(
            s,
            "interval = {}",
            q(c.interval.as_deref().unwrap_or(DEFAULT_INTERVAL))
        );
        match &c.host_root {
            Some(r) => {
                let _ = writeln!(s, "host_root = {}", q(&r.to_string_lossy()));
            }
            None => s.push_str(
                "# Read /proc, /sys and /etc under another folder (a container mounting the host's).\n\
                 # host_root = \"/host\"\n",
            ),
        }
        s
    }
}

/// The URLs of one engine, each parsed; one with a password is refused without
/// printing the password.
fn targets(engine: Engine, key: &str, urls: &[String]) -> Result<Vec<DbTarget>> {
    urls.iter()
        .enumerate()
        .map(|(i, url)| {
            let target =
                DbTarget::parse(engine, url).map_err(|e| anyhow!("targets.{key}[{i}]: {e}"))?;
            if target.has_password() {
                bail!(
                    "targets.{key}[{i}] ({}) holds a password: a case never stores one; remove \
                     it from the URL (the password comes from {}, or a prompt)",
                    target.label(),
                    password_sources(engine)
                );
            }
            Ok(target)
        })
        .collect()
}

/// Where the password of a target comes from instead.
pub fn password_sources(engine: Engine) -> &'static str {
    match engine {
        Engine::Postgres => "PGPASSWORD or ~/.pgpass",
        Engine::Mysql => "MYSQL_PWD",
        Engine::Mssql => "MSSQL_PWD or SQLCMDPASSWORD",
    }
}

fn parse_duration(key: &str, text: &str) -> Result<Duration> {
    crate::cli::parse_duration(text).map_err(|e| anyhow!("{key}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rendered_case_reads_back_and_teaches_its_keys() {
        let file = CaseFile {
            customer: Some("ACME \"Trading\" Co.".into()),
            engineer: Some("李伟".into()),
            language: Some("zh-CN".into()),
            workload: Some(Workload::Oltp),
            targets: Targets {
                postgres: vec!["postgres://perfdiag@db01:5432/erp".into()],
                mysql: vec![],
                mssql: vec!["mssql://perfdiag@db02:1433/erp?trust_server_certificate=true".into()],
            },
            ..CaseFile::default()
        };
        let text = CaseConfig::render(&file);
        assert!(text.contains("# system = "), "{text}");
        assert!(text.contains("# host_root = "), "{text}");
        let config = CaseConfig::parse(&text).unwrap();
        assert_eq!(config.file.customer, file.customer);
        assert_eq!(config.lang, Some(Lang::ZhCn));
        assert_eq!(config.file.workload, Some(Workload::Oltp));
        assert_eq!(
            config.postgres[0].label(),
            "postgres://perfdiag@db01:5432/erp"
        );
        assert_eq!(
            config.mssql[0].label(),
            "mssql://perfdiag@db02:1433/erp?trust_server_certificate=true"
        );
        assert_eq!(config.targets().count(), 2);
        assert_eq!(config.duration, Duration::from_secs(60));
        assert_eq!(config.interval, Duration::from_secs(1));
    }

    #[test]
    fn bad_values_are_refused_with_the_key_and_no_password_is_printed() {
        let e = CaseConfig::parse("[targets]\npostgres = [\"postgres://app:S3cret@db1/erp\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("targets.postgres[0]") && e.contains("holds a password"),
            "{e}"
        );
        assert!(!e.contains("S3cret"), "{e}");
        let e = CaseConfig::parse("[targets]\nmssql = [\"mssql://sa:S3cret@db2/erp\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("targets.mssql[0]") && e.contains("MSSQL_PWD"),
            "{e}"
        );
        assert!(!e.contains("S3cret"), "{e}");
        let e = CaseConfig::parse("customr = \"x\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("customr"), "{e}");
        let e = CaseConfig::parse("language = \"fr\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("\"en\" or \"zh-CN\""), "{e}");
        let e = CaseConfig::parse("[collection]\nduration = \"5 days\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("collection.duration"), "{e}");
        let e = CaseConfig::parse("workload = \"batch\"\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("batch"), "{e}");
        assert!(CaseConfig::parse("customer = \"").is_err());
        assert!(CaseConfig::parse("").is_ok());
    }
}
