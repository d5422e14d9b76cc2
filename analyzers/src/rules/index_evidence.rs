//! Evidence for the missing-index findings: the index that the heaviest statements on
//! a table ask for, read from their predicates ([`crate::sql::index_candidates`]), and
//! whether an existing index already leads with those columns.
//!
//! The candidate is written as the target of a `CREATE INDEX`, names quoted for the
//! engine: `public.orders (customer_id, created_at)`. The advice builds the statement
//! around it; the analyzers never run anything.

use std::collections::BTreeMap;

use perfdiag_model::{Evidence, Snapshot, Unit, Value, tables};

use super::context;
use crate::sql::antipatterns::short;
use crate::sql::index_candidates::{self, IndexCandidate};
use crate::sql::parse::{Origin, on_parsed};
use crate::statements;

/// The engine whose statement table is read, which decides dialect and quoting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Engine {
    Postgres,
    Mysql,
}

impl Engine {
    fn source(self) -> (&'static str, &'static str, &'static str, Origin) {
        match self {
            Self::Postgres => (
                tables::PG_STATEMENTS,
                "query",
                "total_exec_time_ms",
                Origin::Postgres,
            ),
            Self::Mysql => (
                tables::MYSQL_STATEMENTS,
                "digest_text",
                "total_ms",
                Origin::Mysql,
            ),
        }
    }

    /// The catalog schemas, whose tables no index is asked for.
    fn is_system(self, schema: &str) -> bool {
        let system: &[&str] = match self {
            Self::Postgres => &["pg_catalog", "information_schema"],
            Self::Mysql => &["mysql", "information_schema", "performance_schema", "sys"],
        };
        system.iter().any(|s| s.eq_ignore_ascii_case(schema))
    }

    /// Metric ids of the evidence: `<prefix>.index.candidate` and friends.
    fn prefix(self) -> &'static str {
        match self {
            Self::Postgres => "pg",
            Self::Mysql => "mysql",
        }
    }

    fn quote(self, name: &str) -> String {
        match self {
            Self::Postgres
                if name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
                    && name
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_') =>
            {
                name.to_owned()
            }
            Self::Postgres => format!("\"{}\"", name.replace('"', "\"\"")),
            Self::Mysql => format!("`{}`", name.replace('`', "``")),
        }
    }
}

/// One index asked for, with the statement class that asks for it most.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Asked {
    pub candidate: IndexCandidate,
    /// Statement time of all the classes asking for this index.
    pub total_ms: f64,
    /// The heaviest of those classes: its id and text.
    pub class_id: Option<String>,
    pub text: String,
}

impl Asked {
    /// The evidence items: the candidate (or the index that already covers it) and the
    /// statement that asks for it.
    pub(crate) fn evidence(
        &self,
        engine: Engine,
        existing: Option<&[Vec<String>]>,
    ) -> Vec<Evidence> {
        let p = engine.prefix();
        let mut out = Vec::new();
        match existing.filter(|e| self.candidate.covered_by(e)) {
            Some(existing) => out.push(context(
                &format!("{p}.index.covered_by"),
                Value::text(format!(
                    "{} (indexes: {})",
                    self.target(engine),
                    keys_text(existing)
                )),
            )),
            None => out.push(context(
                &format!("{p}.index.candidate"),
                Value::text(self.target(engine)),
            )),
        }
        out.push(context(
            &format!("{p}.index.candidate.query"),
            Value::text(match &self.class_id {
                Some(id) => format!("class {id}: {}", self.text),
                None => self.text.clone(),
            }),
        ));
        out.push(context(
            &format!("{p}.index.candidate.total_ms"),
            Value::number(self.total_ms, Unit::Milliseconds),
        ));
        out
    }

    /// `schema.table (a, b)`, quoted for the engine.
    fn target(&self, engine: Engine) -> String {
        let c = &self.candidate;
        let table = match &c.schema {
            Some(s) => format!("{}.{}", engine.quote(s), engine.quote(&c.table)),
            None => engine.quote(&c.table),
        };
        let columns: Vec<String> = c.columns.iter().map(|n| engine.quote(n)).collect();
        format!("{table} ({})", columns.join(", "))
    }
}

/// The indexes the statement classes of `target` ask for, heaviest first. On MySQL
/// only the digests that read a table without an index (`no_index_used`) ask, and a
/// class without a schema in its text takes the digest's schema.
pub(crate) fn asked(snapshot: &Snapshot, engine: Engine, target: &str) -> Vec<Asked> {
    let (name, text_column, total_column, origin) = engine.source();
    let read = match engine {
        Engine::Postgres => index_candidates::postgres,
        Engine::Mysql => index_candidates::mysql,
    };
    let Some(t) = snapshot.table(name) else {
        return Vec::new();
    };
    let (targets, texts, ids, schemas) = (
        statements::texts(t, "target"),
        statements::texts(t, text_column),
        statements::texts(t, "fingerprint_id"),
        statements::texts(t, "schema"),
    );
    let totals = statements::numbers(t, total_column);
    let scans = statements::numbers(t, "no_index_used");
    let rows: Vec<usize> = (0..t.rows())
        .filter(|&r| targets[r].as_deref() == Some(target) && texts[r].is_some())
        .filter(|&r| engine == Engine::Postgres || scans[r].is_some_and(|n| n > 0.0))
        .collect();
    let jobs = rows
        .iter()
        .map(|&r| (vec![texts[r].clone().unwrap_or_default()], origin))
        .collect();
    // Per index: the summed time, and the heaviest class's time and row.
    let mut by_index: BTreeMap<IndexKey, (Asked, f64)> = BTreeMap::new();
    for (&r, found) in rows.iter().zip(on_parsed(jobs, read)) {
        let ms = totals[r].unwrap_or(0.0);
        for mut c in found.into_iter().flatten() {
            if engine == Engine::Mysql {
                if c.schema.is_none() {
                    c.schema = schemas[r].clone();
                }
                c.columns = c.columns.into_iter().map(digest_keyword).collect();
            }
            if c.schema.as_deref().is_some_and(|s| engine.is_system(s)) {
                continue; // the catalog, often the probe's own queries
            }
            let key = (c.schema.clone(), c.table.clone(), c.columns.clone());
            let (asked, top) = by_index.entry(key).or_insert_with(|| {
                let asked = Asked {
                    candidate: c,
                    total_ms: 0.0,
                    class_id: None,
                    text: String::new(),
                };
                (asked, f64::NEG_INFINITY)
            });
            asked.total_ms += ms;
            if ms > *top {
                *top = ms;
                asked.class_id = ids[r].clone();
                asked.text = short(texts[r].as_deref().unwrap_or(""));
            }
        }
    }
    let mut out = merge_prefixes(by_index.into_values().collect());
    out.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
    out
}

/// Folds each index whose columns lead another's on the same table into the longer
/// one, which serves both: its time is added, and its class kept when heavier.
fn merge_prefixes(mut all: Vec<(Asked, f64)>) -> Vec<Asked> {
    // Longest first, so each short one finds the longest index it leads.
    all.sort_by_key(|(a, _)| std::cmp::Reverse(a.candidate.columns.len()));
    let mut kept: Vec<(Asked, f64)> = Vec::new();
    for (short, top) in all {
        let c = &short.candidate;
        let host = kept.iter_mut().find(|(long, _)| {
            let l = &long.candidate;
            l.schema == c.schema && l.table == c.table && l.columns.starts_with(&c.columns)
        });
        match host {
            Some((long, long_top)) => {
                long.total_ms += short.total_ms;
                if top > *long_top {
                    *long_top = top;
                    long.class_id = short.class_id;
                    long.text = short.text;
                }
            }
            None => kept.push((short, top)),
        }
    }
    kept.into_iter().map(|(a, _)| a).collect()
}

/// A column as the server names it. A digest quotes every identifier, except one that
/// is also a keyword, which it prints by its token name: MariaDB writes a column `day`
/// as `SQL_TSI_DAY`.
fn digest_keyword(column: String) -> String {
    match column.strip_prefix("SQL_TSI_") {
        Some(name) if !name.is_empty() => name.to_lowercase(),
        _ => column,
    }
}

/// (schema, table, columns)
type IndexKey = (Option<String>, String, Vec<String>);

/// Key columns of each index, from a `index_keys` cell: `a,b;c` (indexes split by `;`,
/// columns by `,`).
pub(crate) fn parse_keys(cell: &str) -> Vec<Vec<String>> {
    cell.split(';')
        .filter(|i| !i.trim().is_empty())
        .map(|i| i.split(',').map(|c| c.trim().to_owned()).collect())
        .collect()
}

fn keys_text(existing: &[Vec<String>]) -> String {
    existing
        .iter()
        .map(|i| format!("({})", i.join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}
