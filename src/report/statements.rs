//! Top SQL: the query classes of the slow-query logs (`log_queries`) and of the
//! statement statistics (`pg_statements`, `mysql_statements`), each with its stats and
//! the SQL anti-patterns the analyzers found in it.
//!
//! The anti-pattern findings (`sql.*` rules) name their class in their evidence
//! (`sql.class.source`, `sql.class.id`, `sql.class.target`), so the report links them
//! to the rows here without judging any SQL itself.

use perfdiag_model::{Finding, Snapshot, Table, Value, tables};
use serde::Serialize;

use super::columns::{cut, floats, ints, numbers, strings, texts};
use super::findings::serde_plain;
use super::format;
use super::i18n::Catalog;

/// Statement classes shown per database target.
pub const TOP_STATEMENTS: usize = 10;
/// Characters of a statement shown: literals are placeholders already, and a
/// multi-megabyte statement is cut for the page.
const TEXT_CHARS: usize = 600;

/// A class of the slow-query logs.
#[derive(Debug, Serialize)]
pub struct TopSqlRow {
    /// The log file.
    pub source: String,
    pub rank: i64,
    /// The class id (16 hex digits, as `perfdiag logs` prints it).
    pub id: String,
    pub calls: i64,
    pub total: String,
    pub share: String,
    /// The same share, 0–100 (for the bars).
    pub share_pct: Option<f64>,
    pub mean: String,
    pub p95: String,
    /// The fingerprint (its first 600 characters): literals are placeholders, so no
    /// customer data.
    pub fingerprint: String,
    pub anti_patterns: Vec<AntiPatternView>,
}

/// A class of pg_stat_statements or performance_schema digests, over the window.
#[derive(Debug, Serialize)]
pub struct StatementRow {
    /// `pg_statements` or `mysql_statements`.
    pub source: String,
    /// `postgres` or `mysql`.
    pub engine: String,
    pub target: String,
    /// 1 = most total time within the target.
    pub rank: usize,
    /// The engine's id: pg `queryid`, MySQL digest.
    pub id: String,
    /// The source-neutral class id, the same `perfdiag logs` gives the query in a log.
    pub class_id: Option<String>,
    pub database: Option<String>,
    /// The role (PostgreSQL only).
    pub user: Option<String>,
    /// Calls over the window, with thousands separators.
    pub calls: String,
    pub total: String,
    /// Share of the total time of the target's captured classes.
    pub share: String,
    pub share_pct: f64,
    pub mean: String,
    /// Rows returned (pg `rows`, MySQL `rows_sent`).
    pub rows: Option<String>,
    /// MySQL: rows examined.
    pub rows_examined: Option<String>,
    /// PostgreSQL: shared blocks read from outside the buffer cache.
    pub blocks_read: Option<String>,
    /// PostgreSQL: temporary blocks written; MySQL: temporary tables on disk.
    pub temp: Option<String>,
    /// MySQL: calls that used no index.
    pub no_index: Option<String>,
    /// The statement, literals masked (first 600 characters).
    pub text: String,
    pub anti_patterns: Vec<AntiPatternView>,
}

/// An anti-pattern finding linked to a class.
#[derive(Debug, Serialize)]
pub struct AntiPatternView {
    pub rule_id: String,
    pub title: String,
    pub severity: String,
    pub severity_label: String,
    /// The part of the statement that shows it, e.g. `SELECT *`.
    pub fragment: Option<String>,
}

fn text_evidence<'a>(f: &'a Finding, metric: &str) -> Option<&'a str> {
    f.evidence
        .iter()
        .find(|e| e.metric == metric)
        .and_then(|e| match &e.observed {
            Value::Text { text } => Some(text.as_str()),
            Value::Number { .. } => None,
        })
}

/// The `sql.*` findings about one class: matched on the class evidence, or on the
/// subject (the class id) when a finding has no such evidence.
pub fn anti_patterns(
    findings: &[Finding],
    source: &str,
    target: Option<&str>,
    id: &str,
    c: &Catalog,
) -> Vec<AntiPatternView> {
    findings
        .iter()
        .filter(|f| f.rule_id.starts_with("sql."))
        .filter(|f| match text_evidence(f, "sql.class.id") {
            Some(class) => {
                class == id
                    && text_evidence(f, "sql.class.source").is_none_or(|s| s == source)
                    && text_evidence(f, "sql.class.target") == target
            }
            None => f.subject.as_deref() == Some(id),
        })
        .map(|f| {
            let severity = serde_plain(&f.severity);
            AntiPatternView {
                rule_id: f.rule_id.clone(),
                title: c.text(&format!("rule.{}.title", f.rule_id)),
                severity_label: c.text(&format!("severity.{severity}")),
                severity,
                fragment: text_evidence(f, "sql.fragment").map(str::to_owned),
            }
        })
        .collect()
}

/// Seconds with their unit.
fn secs(v: Option<f64>) -> String {
    v.map_or_else(String::new, |s| format!("{} s", format::number(s, 4)))
}

fn percent(v: f64) -> String {
    format!("{} %", format::number(v, 1))
}

/// The `log_queries` table as report rows.
pub fn top_sql(snapshot: &Snapshot, findings: &[Finding], c: &Catalog) -> Vec<TopSqlRow> {
    let Some(t) = snapshot.table(tables::LOG_QUERIES) else {
        return Vec::new();
    };
    let (source, id, fingerprint) = (
        strings(t, "source"),
        strings(t, "id"),
        strings(t, "fingerprint"),
    );
    let (rank, calls) = (ints(t, "rank"), ints(t, "calls"));
    let (total, share, mean, p95) = (
        floats(t, "total_s"),
        floats(t, "share_pct"),
        floats(t, "mean_s"),
        floats(t, "p95_s"),
    );
    (0..t.rows())
        .map(|i| {
            let id = id[i].clone().unwrap_or_default();
            TopSqlRow {
                source: source[i].clone().unwrap_or_default(),
                rank: rank[i].unwrap_or_default(),
                anti_patterns: anti_patterns(findings, tables::LOG_QUERIES, None, &id, c),
                id,
                calls: calls[i].unwrap_or_default(),
                total: secs(total[i]),
                share: share[i].map_or_else(String::new, percent),
                share_pct: share[i],
                mean: secs(mean[i]),
                p95: secs(p95[i]),
                fingerprint: cut(fingerprint[i].as_deref().unwrap_or_default(), TEXT_CHARS),
            }
        })
        .collect()
}

/// The columns of one statement table, by meaning.
struct Layout {
    table: &'static str,
    engine: &'static str,
    id: &'static str,
    text: &'static str,
    database: &'static str,
    total_ms: &'static str,
    mean_ms: &'static str,
    rows: &'static str,
}

const LAYOUTS: [Layout; 3] = [
    Layout {
        table: tables::PG_STATEMENTS,
        engine: "postgres",
        id: "queryid",
        text: "query",
        database: "datname",
        total_ms: "total_exec_time_ms",
        mean_ms: "mean_exec_time_ms",
        rows: "rows",
    },
    Layout {
        table: tables::MYSQL_STATEMENTS,
        engine: "mysql",
        id: "digest",
        text: "digest_text",
        database: "schema",
        total_ms: "total_ms",
        mean_ms: "avg_ms",
        rows: "rows_sent",
    },
    Layout {
        table: tables::MSSQL_STATEMENTS,
        engine: "mssql",
        id: "query_hash",
        text: "query",
        database: "database",
        total_ms: "total_ms",
        // Not in the table: total over calls.
        mean_ms: "mean_ms",
        rows: "rows",
    },
];

/// The top classes of each target's statement statistics, most total time first.
pub fn statements(snapshot: &Snapshot, findings: &[Finding], c: &Catalog) -> Vec<StatementRow> {
    let mut out = Vec::new();
    for layout in &LAYOUTS {
        if let Some(t) = snapshot.table(layout.table) {
            out.extend(rows_of(t, layout, findings, c));
        }
    }
    out
}

fn rows_of(t: &Table, l: &Layout, findings: &[Finding], c: &Catalog) -> Vec<StatementRow> {
    let target = strings(t, "target");
    let (ids, class_ids, text, database, user) = (
        texts(t, l.id),
        strings(t, "fingerprint_id"),
        strings(t, l.text),
        strings(t, l.database),
        strings(t, "rolname"),
    );
    let (calls, total, mean, rows) = (
        numbers(t, "calls"),
        numbers(t, l.total_ms),
        numbers(t, l.mean_ms),
        numbers(t, l.rows),
    );
    let (examined, blocks_read, temp_blocks, tmp_disk, no_index) = (
        numbers(t, "rows_examined"),
        // 8 kB pages read from disk, in both engines.
        numbers(
            t,
            if l.engine == "mssql" {
                "physical_reads"
            } else {
                "shared_blks_read"
            },
        ),
        numbers(t, "temp_blks_written"),
        numbers(t, "tmp_disk_tables"),
        numbers(t, "no_index_used"),
    );
    let count = |v: Option<f64>| v.map(|n| format::count(n.round() as i64));
    // Targets in the order they first appear.
    let mut targets: Vec<&str> = Vec::new();
    for t in target.iter().flatten() {
        if !targets.contains(&t.as_str()) {
            targets.push(t);
        }
    }
    let mut out = Vec::new();
    for tg in targets {
        let mut idx: Vec<usize> = (0..t.rows())
            .filter(|&i| target[i].as_deref() == Some(tg))
            .collect();
        let sum: f64 = idx.iter().filter_map(|&i| total[i]).sum();
        idx.sort_by(|&a, &b| {
            total[b]
                .unwrap_or(0.0)
                .total_cmp(&total[a].unwrap_or(0.0))
                .then(a.cmp(&b))
        });
        for (rank, &i) in idx.iter().take(TOP_STATEMENTS).enumerate() {
            let id = ids[i].clone().unwrap_or_default();
            let share_pct = match total[i] {
                Some(v) if sum > 0.0 => v * 100.0 / sum,
                _ => 0.0,
            };
            let mean_ms = mean[i].or_else(|| match (total[i], calls[i]) {
                (Some(t), Some(n)) if n > 0.0 => Some(t / n),
                _ => None,
            });
            let mysql = l.engine == "mysql";
            out.push(StatementRow {
                source: l.table.to_owned(),
                engine: l.engine.to_owned(),
                target: tg.to_owned(),
                rank: rank + 1,
                anti_patterns: anti_patterns(findings, l.table, Some(tg), &id, c),
                id,
                class_id: class_ids[i].clone(),
                database: database[i].clone(),
                user: user[i].clone(),
                calls: count(calls[i]).unwrap_or_default(),
                total: total[i].map(format::millis).unwrap_or_default(),
                share: percent(share_pct),
                share_pct,
                mean: mean_ms.map(format::millis).unwrap_or_default(),
                rows: count(rows[i]),
                rows_examined: count(examined[i]),
                blocks_read: count(blocks_read[i]),
                temp: if mysql {
                    count(tmp_disk[i])
                } else {
                    count(temp_blocks[i])
                },
                no_index: count(no_index[i]),
                text: cut(text[i].as_deref().unwrap_or_default(), TEXT_CHARS),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Lang;
    use perfdiag_model::{Dimension, Evidence, Severity, Tier};

    fn context(metric: &str, text: &str) -> Evidence {
        Evidence {
            metric: metric.to_owned(),
            observed: Value::text(text),
            threshold: None,
        }
    }

    fn select_star(source: &str, target: Option<&str>, id: &str) -> Finding {
        let mut evidence = vec![
            context("sql.fragment", "SELECT *"),
            context("sql.class.id", id),
            context("sql.class.source", source),
        ];
        if let Some(t) = target {
            evidence.push(context("sql.class.target", t));
        }
        Finding {
            rule_id: "sql.select_star".to_owned(),
            dimension: Dimension::SqlWorkload,
            severity: Severity::Warning,
            subject: Some(id.to_owned()),
            evidence,
            penalty: 5,
            impact: None,
            tier: Tier(3),
        }
    }

    #[test]
    fn anti_patterns_link_by_source_target_and_class_id() {
        let c = Catalog::load(Lang::En).unwrap();
        let findings = vec![
            select_star("pg_statements", Some("pg://a"), "42"),
            select_star("pg_statements", Some("pg://b"), "42"),
            select_star("log_queries", None, "00aa"),
        ];
        let a = anti_patterns(&findings, "pg_statements", Some("pg://a"), "42", &c);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].fragment.as_deref(), Some("SELECT *"));
        assert_eq!(a[0].title, c.text("rule.sql.select_star.title"));
        assert!(anti_patterns(&findings, "pg_statements", Some("pg://c"), "42", &c).is_empty());
        assert!(anti_patterns(&findings, "mysql_statements", Some("pg://a"), "42", &c).is_empty());
        assert_eq!(
            anti_patterns(&findings, "log_queries", None, "00aa", &c).len(),
            1
        );
    }
}
