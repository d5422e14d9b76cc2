//! SQL anti-pattern rules over the statement classes of the snapshot: `log_queries`
//! (slow/general logs), `pg_statements` (pg_stat_statements), `mysql_statements`
//! (performance_schema digests) and `mssql_statements` (sys.dm_exec_query_stats).
//!
//! Each class is parsed once ([`Workload`], cached in [`Inputs`]) and every check runs
//! on that one tree; the rules only read the results. Only classes that matter are
//! judged: `min_activity` of each rule is the least share of the table's total time a
//! class must hold. For `pg_statements` and `mysql_statements` the share is of the time
//! of the captured (top N) classes, so it overstates the share of all statements.
//!
//! Texts are masked by every probe (literals are `?` or `$n`): what each rule can see
//! is said on its check in `crate::sql::antipatterns`.

use perfdiag_model::{Comparison, Evidence, Threshold, Unit, Value, tables};

use super::index_evidence::{Asked, Engine};
use super::{Inputs, Outcome, RuleDef, context, crossed, finding};
use crate::baseline::{Direction, RuleSpec};
use crate::frames::{Missing, Need};
use crate::sql::antipatterns::{Detected, Offset, check_all, short};
use crate::sql::index_candidates::{self, IndexCandidate};
use crate::sql::parse::{Origin, on_parsed};
use crate::statements::{numbers, texts};

/// The statement tables, in the order their classes are listed.
pub(crate) const STATEMENT_TABLES: [&str; 4] = [
    tables::LOG_QUERIES,
    tables::PG_STATEMENTS,
    tables::MYSQL_STATEMENTS,
    tables::MSSQL_STATEMENTS,
];

/// One statement class and what its parse found.
#[derive(Debug)]
pub(crate) struct Class {
    pub table: &'static str,
    /// The database target, for the engine tables.
    pub target: Option<String>,
    /// The class id: log class id, pg queryid or MySQL digest.
    pub id: String,
    /// The fingerprint or masked text, cut to 80 characters.
    pub text: String,
    pub calls: f64,
    pub mean_ms: Option<f64>,
    /// Share of the table's total time, in percent.
    pub share_pct: f64,
    /// Rows read and rows returned over all calls (slow logs only).
    pub rows_examined: Option<f64>,
    pub rows_sent: Option<f64>,
    /// The class's database when the log names exactly one.
    pub database: Option<String>,
    /// `None` when no text of the class parses: the class is not judged.
    pub detected: Option<Detected>,
    /// The indexes its predicates ask for, names as written (MySQL's reading: only a
    /// slow log's classes use them).
    pub index: Vec<IndexCandidate>,
}

/// Every statement class of the snapshot, parsed once.
#[derive(Debug, Default)]
pub(crate) struct Workload {
    pub classes: Vec<Class>,
    /// Which statement tables the snapshot has.
    pub tables: Vec<&'static str>,
}

/// Shares of each row's total within its target (rows without a target share one).
fn shares(targets: &[Option<String>], totals: &[Option<f64>]) -> Vec<f64> {
    let sum_of = |target: &Option<String>| -> f64 {
        targets
            .iter()
            .zip(totals)
            .filter(|(t, _)| *t == target)
            .filter_map(|(_, v)| *v)
            .sum()
    };
    targets
        .iter()
        .zip(totals)
        .map(|(t, v)| {
            let sum = sum_of(t);
            match v {
                Some(v) if sum > 0.0 => v * 100.0 / sum,
                _ => 0.0,
            }
        })
        .collect()
}

impl Workload {
    pub fn build(snapshot: &perfdiag_model::Snapshot) -> Self {
        let mut classes = Vec::new();
        let mut candidates = Vec::new();
        let mut present = Vec::new();
        for name in STATEMENT_TABLES {
            let Some(t) = snapshot.table(name) else {
                continue;
            };
            present.push(name);
            let n = t.rows();
            // What only a slow log has: rows read and sent, and the databases.
            let (examined, sent, databases) = if name == tables::LOG_QUERIES {
                (
                    numbers(t, "rows_examined"),
                    numbers(t, "rows_sent"),
                    texts(t, "databases"),
                )
            } else {
                (vec![None; n], vec![None; n], vec![None; n])
            };
            let (origin, ids, text_columns, calls, totals, means, share, targets) = match name {
                tables::LOG_QUERIES => {
                    let share = numbers(t, "share_pct");
                    (
                        Origin::Log,
                        texts(t, "id"),
                        // The masked sample keeps the statement's structure; the
                        // fingerprint (lists collapsed) is the fallback.
                        vec![texts(t, "sample"), texts(t, "fingerprint")],
                        numbers(t, "calls"),
                        numbers(t, "total_s"),
                        numbers(t, "mean_s")
                            .into_iter()
                            .map(|m| m.map(|s| s * 1000.0))
                            .collect(),
                        Some(share),
                        vec![None; n],
                    )
                }
                tables::PG_STATEMENTS => (
                    Origin::Postgres,
                    texts(t, "queryid"),
                    vec![texts(t, "query")],
                    numbers(t, "calls"),
                    numbers(t, "total_exec_time_ms"),
                    numbers(t, "mean_exec_time_ms"),
                    None,
                    texts(t, "target"),
                ),
                tables::MSSQL_STATEMENTS => {
                    let calls = numbers(t, "calls");
                    let totals = numbers(t, "total_ms");
                    let means = calls
                        .iter()
                        .zip(&totals)
                        .map(|(c, t)| Some(t.as_ref()? / c.filter(|c| *c > 0.0)?))
                        .collect();
                    (
                        Origin::Mssql,
                        texts(t, "query_hash"),
                        vec![texts(t, "query")],
                        calls,
                        totals,
                        means,
                        None,
                        texts(t, "target"),
                    )
                }
                _ => (
                    Origin::Mysql,
                    texts(t, "digest"),
                    vec![texts(t, "digest_text")],
                    numbers(t, "calls"),
                    numbers(t, "total_ms"),
                    numbers(t, "avg_ms"),
                    None,
                    texts(t, "target"),
                ),
            };
            let shares: Vec<f64> = match share {
                Some(s) => s.into_iter().map(|v| v.unwrap_or(0.0)).collect(),
                None => shares(&targets, &totals),
            };
            for row in 0..n {
                let row_texts: Vec<String> = text_columns
                    .iter()
                    .filter_map(|c| c.get(row).cloned().flatten())
                    .collect();
                let text = row_texts.last().map(|t| short(t)).unwrap_or_default();
                classes.push(Class {
                    table: name,
                    target: targets.get(row).cloned().flatten(),
                    id: ids
                        .get(row)
                        .cloned()
                        .flatten()
                        .unwrap_or_else(|| format!("#{}", row + 1)),
                    text,
                    calls: calls.get(row).copied().flatten().unwrap_or(0.0),
                    mean_ms: means.get(row).copied().flatten(),
                    share_pct: shares.get(row).copied().unwrap_or(0.0),
                    rows_examined: examined[row],
                    rows_sent: sent[row],
                    database: databases[row]
                        .clone()
                        .filter(|d| !d.is_empty() && !d.contains(',')),
                    detected: None,
                    index: Vec::new(),
                });
                candidates.push((row_texts, origin));
            }
        }
        let parsed = on_parsed(candidates, |stmts| {
            (check_all(stmts), index_candidates::mysql(stmts))
        });
        for (class, parsed) in classes.iter_mut().zip(parsed) {
            if let Some((detected, index)) = parsed {
                class.detected = Some(detected);
                class.index = index;
            }
        }
        Self {
            classes,
            tables: present,
        }
    }
}

/// The parsed workload, or which table is missing.
fn workload<'a>(inputs: &'a Inputs<'_>) -> Need<&'a Workload> {
    let w = inputs.sql.get_or_init(|| Workload::build(inputs.snapshot));
    if w.tables.is_empty() {
        return Err(Missing(format!("table {}", STATEMENT_TABLES.join(", "))));
    }
    Ok(w)
}

/// The classes a rule judges: those holding at least `min_activity` % of the time.
fn judged<'a>(w: &'a Workload, spec: &RuleSpec) -> impl Iterator<Item = &'a Class> {
    let least = spec.min_activity.unwrap_or(0.0);
    w.classes.iter().filter(move |c| c.share_pct >= least)
}

/// The class's subject: its id (the table and target are in the evidence).
fn subject(c: &Class) -> String {
    short(&c.id)
}

/// The class context every finding carries.
fn class_evidence(c: &Class) -> Vec<Evidence> {
    let mut e = vec![
        context("sql.class.id", Value::text(&c.id)),
        context("sql.class.source", Value::text(c.table)),
    ];
    if let Some(t) = &c.target {
        e.push(context("sql.class.target", Value::text(t)));
    }
    e.push(context("sql.class.fingerprint", Value::text(&c.text)));
    e.push(context(
        "sql.class.calls",
        Value::number(c.calls, Unit::None),
    ));
    e.push(context(
        "sql.class.share_pct",
        Value::number(c.share_pct, Unit::Percent),
    ));
    if let Some(m) = c.mean_ms {
        e.push(context(
            "sql.class.mean_ms",
            Value::number(m, Unit::Milliseconds),
        ));
    }
    e
}

/// A condition rule over the checks: one finding per judged class where `pick` finds
/// the pattern. Not evaluated when no judged class parsed.
fn judge_ast(
    inputs: &Inputs<'_>,
    spec: &RuleSpec,
    pattern: &str,
    pick: fn(&Detected) -> Option<&String>,
) -> Outcome {
    let w = workload(inputs)?;
    let mut findings = Vec::new();
    let (mut parsed, mut unparsed) = (0, 0);
    for c in judged(w, spec) {
        let Some(d) = &c.detected else {
            unparsed += 1;
            continue;
        };
        parsed += 1;
        if let Some(fragment) = pick(d) {
            let mut evidence = vec![crossed(
                "sql.fragment",
                Value::text(fragment),
                Threshold::new(Comparison::Equals, Value::text(pattern)),
            )];
            evidence.extend(class_evidence(c));
            findings.push(finding(
                spec,
                spec.condition_severity(),
                Some(subject(c)),
                evidence,
            ));
        }
    }
    if parsed == 0 && unparsed > 0 {
        return Err(Missing(format!(
            "a statement text that parses ({unparsed} judged classes did not)"
        )));
    }
    Ok(findings)
}

macro_rules! ast_rule {
    ($name:ident, $id:literal, $pattern:literal, $field:ident) => {
        pub(super) const $name: RuleDef = RuleDef {
            id: $id,
            direction: Direction::Condition,
            variants: &[],
            eval: |inputs, spec| judge_ast(inputs, spec, $pattern, |d| d.$field.as_ref()),
        };
    };
}

ast_rule!(SELECT_STAR, "sql.select_star", "SELECT *", select_star);
ast_rule!(
    LIKE_LEADING_WILDCARD,
    "sql.like_leading_wildcard",
    "LIKE '%…'",
    like_leading_wildcard
);
ast_rule!(
    FUNCTION_ON_COLUMN,
    "sql.function_on_column",
    "f(column) <op> …",
    function_on_column
);
ast_rule!(
    OR_ACROSS_COLUMNS,
    "sql.or_across_columns",
    "a = … OR b = …",
    or_across_columns
);
ast_rule!(
    NOT_IN_SUBQUERY,
    "sql.not_in_subquery",
    "NOT IN (SELECT …)",
    not_in_subquery
);
ast_rule!(
    ORDER_BY_RAND,
    "sql.order_by_rand",
    "ORDER BY RAND()",
    order_by_rand
);
ast_rule!(
    UPDATE_DELETE_WITHOUT_WHERE,
    "sql.update_delete_without_where",
    "UPDATE/DELETE without WHERE",
    update_delete_without_where
);
ast_rule!(
    CARTESIAN_JOIN,
    "sql.cartesian_join",
    "tables without a join condition",
    cartesian_join
);

/// Deep `OFFSET` paging. A visible offset (unmasked text) is graded against the
/// thresholds. A masked one (`OFFSET ?`, always the case in perfdiag's own tables) has
/// an unknown depth: on a class important enough to be judged it is a warning, since
/// the first page and the ten-thousandth look alike and only keyset paging keeps every
/// page cheap.
pub(super) const LARGE_OFFSET: RuleDef = RuleDef {
    id: "sql.large_offset",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        let w = workload(inputs)?;
        let mut findings = Vec::new();
        for c in judged(w, spec) {
            let Some(offset) = c.detected.as_ref().and_then(|d| d.offset.as_ref()) else {
                continue;
            };
            let (severity, first) = match offset {
                Offset::Literal(value, _) => match spec.grade(*value) {
                    Some((severity, threshold)) => (
                        severity,
                        crossed("sql.offset", Value::number(*value, Unit::None), threshold),
                    ),
                    None => continue,
                },
                Offset::Masked(fragment) => (
                    perfdiag_model::Severity::Warning,
                    context("sql.fragment", Value::text(fragment)),
                ),
            };
            let mut evidence = vec![first];
            evidence.extend(class_evidence(c));
            findings.push(finding(spec, severity, Some(subject(c)), evidence));
        }
        Ok(findings)
    },
};

/// The N+1 shape: one class called very many times, each call cheap — a loop in the
/// application issuing one query per row where one join or `IN` would do. Graded on
/// the calls; a class is cheap when its mean is below the `cheap_mean_ms` variant's
/// `warning` (a ceiling, not a threshold set of its own). No parsing needed. Calls are
/// counted over the window of the table (log span or probe window), not per second.
pub(super) const N_PLUS_ONE: RuleDef = RuleDef {
    id: "sql.n_plus_one",
    direction: Direction::Above,
    variants: &["cheap_mean_ms"],
    eval: |inputs, spec| {
        let w = workload(inputs)?;
        let cheap = spec
            .variants
            .get("cheap_mean_ms")
            .and_then(|l| l.warning)
            .ok_or_else(|| {
                Missing("baseline variant cheap_mean_ms of sql.n_plus_one".to_owned())
            })?;
        let mut findings = Vec::new();
        for c in judged(w, spec) {
            let Some(mean) = c.mean_ms.filter(|&m| m < cheap) else {
                continue;
            };
            if let Some((severity, threshold)) = spec.grade(c.calls) {
                let mut evidence = vec![
                    crossed(
                        "sql.class.calls",
                        Value::number(c.calls, Unit::None),
                        threshold,
                    ),
                    crossed(
                        "sql.class.mean_ms",
                        Value::number(mean, Unit::Milliseconds),
                        Threshold::new(Comparison::Below, Value::number(cheap, Unit::Milliseconds)),
                    ),
                ];
                evidence.extend(
                    class_evidence(c).into_iter().filter(|e| {
                        e.metric != "sql.class.calls" && e.metric != "sql.class.mean_ms"
                    }),
                );
                findings.push(finding(spec, severity, Some(subject(c)), evidence));
            }
        }
        Ok(findings)
    },
};

/// Statement classes of a slow log that read far more rows than they return: rows
/// examined per row sent (at least one row per call, so an `UPDATE` counts its calls).
/// Only a MySQL/MariaDB slow log records rows examined; the performance_schema digests
/// have their own rule (`mysql.statements.no_index`). Each finding names the index the
/// statement's predicates ask for, when they ask for one.
pub(super) const ROWS_EXAMINED: RuleDef = RuleDef {
    id: "sql.rows_examined_high",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        let w = workload(inputs)?;
        let logged: Vec<&Class> = judged(w, spec)
            .filter(|c| c.table == tables::LOG_QUERIES && c.rows_examined.is_some())
            .collect();
        if logged.is_empty() && !w.classes.iter().any(|c| c.rows_examined.is_some()) {
            return Err(Missing(
                "rows_examined of log_queries (a MySQL/MariaDB slow log)".to_owned(),
            ));
        }
        let mut flagged = Vec::new();
        for c in logged {
            let examined = c.rows_examined.unwrap_or(0.0);
            let per_row = examined / c.rows_sent.unwrap_or(0.0).max(c.calls).max(1.0);
            if let Some(graded) = spec.grade(per_row) {
                flagged.push((c, examined, per_row, graded));
            }
        }
        let mut findings = Vec::new();
        for (c, examined, per_row, (severity, threshold)) in flagged {
            let mut evidence = vec![
                crossed(
                    "sql.rows_examined_per_row",
                    Value::number(per_row, Unit::None),
                    threshold,
                ),
                context("sql.rows_examined", Value::number(examined, Unit::None)),
                context(
                    "sql.rows_sent",
                    Value::number(c.rows_sent.unwrap_or(0.0), Unit::None),
                ),
            ];
            evidence.extend(class_evidence(c));
            // The first candidate: the outermost query's first table, where the
            // statement's own filter is.
            if let Some(mut candidate) = c.index.first().cloned() {
                if candidate.schema.is_none() {
                    candidate.schema.clone_from(&c.database);
                }
                let asked = Asked {
                    candidate,
                    total_ms: c.mean_ms.unwrap_or(0.0) * c.calls,
                    class_id: Some(c.id.clone()),
                    text: c.text.clone(),
                };
                evidence.extend(asked.evidence(Engine::Mysql, None));
            }
            findings.push(finding(spec, severity, Some(subject(c)), evidence));
        }
        Ok(findings)
    },
};

/// The SQL rules, in evaluation order.
pub(super) const RULES: &[RuleDef] = &[
    SELECT_STAR,
    LIKE_LEADING_WILDCARD,
    FUNCTION_ON_COLUMN,
    OR_ACROSS_COLUMNS,
    NOT_IN_SUBQUERY,
    ORDER_BY_RAND,
    LARGE_OFFSET,
    UPDATE_DELETE_WITHOUT_WHERE,
    CARTESIAN_JOIN,
    N_PLUS_ONE,
    ROWS_EXAMINED,
];

#[cfg(test)]
mod tests {
    use perfdiag_model::{Assessment, Severity, Snapshot, col, tables};

    use crate::test_support::{Fixture, evidence_number, findings_of, only_finding};
    use crate::{Baseline, assess};

    /// A log class: id, masked sample, calls, share of the log's time (%), mean (s).
    type LogRow<'a> = (&'a str, &'a str, i64, f64, f64);

    fn log_table(rows: &[LogRow<'_>]) -> perfdiag_model::Table {
        perfdiag_model::Table::new()
            .with("source", col::utf8(rows.iter().map(|_| Some("slow.log"))))
            .with("rank", col::i64((1..=rows.len() as i64).map(Some)))
            .with("id", col::utf8(rows.iter().map(|r| Some(r.0))))
            .with(
                "fingerprint",
                col::utf8(rows.iter().map(|r| Some(r.1.to_lowercase()))),
            )
            .with("sample", col::utf8(rows.iter().map(|r| Some(r.1))))
            .with("calls", col::i64(rows.iter().map(|r| Some(r.2))))
            .with("share_pct", col::f64(rows.iter().map(|r| Some(r.3))))
            .with(
                "total_s",
                col::f64(rows.iter().map(|r| Some(r.2 as f64 * r.4))),
            )
            .with("mean_s", col::f64(rows.iter().map(|r| Some(r.4))))
    }

    fn with_table(name: &str, table: perfdiag_model::Table) -> Snapshot {
        let mut s = Fixture::healthy().build();
        s.put_table(name, table);
        s
    }

    fn run(s: &Snapshot) -> Assessment {
        assess(s, &Baseline::builtin()).expect("assessment runs")
    }

    fn log(rows: &[LogRow<'_>]) -> Assessment {
        run(&with_table(tables::LOG_QUERIES, log_table(rows)))
    }

    /// Per rule: a statement where it fires and a near miss where it does not.
    const CASES: [(&str, &str, &str); 8] = [
        (
            "sql.select_star",
            "SELECT * FROM orders WHERE id = ?",
            "SELECT id, total FROM orders WHERE id = ?",
        ),
        (
            "sql.like_leading_wildcard",
            "SELECT id FROM customers WHERE name LIKE CONCAT(?, ?, ?)",
            "SELECT id FROM customers WHERE name LIKE CONCAT(?, '%')",
        ),
        (
            "sql.function_on_column",
            "SELECT id FROM orders WHERE DATE(created_at) = ?",
            "SELECT id FROM orders WHERE created_at >= ? AND created_at < ?",
        ),
        (
            "sql.or_across_columns",
            "SELECT id FROM users WHERE email = ? OR phone = ?",
            "SELECT id FROM users WHERE email = ? OR email = ?",
        ),
        (
            "sql.not_in_subquery",
            "SELECT id FROM a WHERE id NOT IN (SELECT a_id FROM b)",
            "SELECT id FROM a WHERE NOT EXISTS (SELECT 1 FROM b WHERE b.a_id = a.id)",
        ),
        (
            "sql.order_by_rand",
            "SELECT id FROM banners ORDER BY RAND() LIMIT ?",
            "SELECT id FROM banners ORDER BY id LIMIT ?",
        ),
        (
            "sql.update_delete_without_where",
            "DELETE FROM sessions",
            "DELETE FROM sessions WHERE expires < ?",
        ),
        (
            "sql.cartesian_join",
            "SELECT a.id FROM a, b WHERE a.x = ?",
            "SELECT a.id FROM a, b WHERE a.id = b.a_id",
        ),
    ];

    #[test]
    fn every_ast_rule_fires_on_its_pattern_and_not_on_the_near_miss() {
        for (rule, bad, good) in CASES {
            let a = log(&[
                ("aaaa000000000001", bad, 100, 40.0, 0.05),
                ("bbbb000000000002", good, 100, 40.0, 0.05),
            ]);
            let f = only_finding(&a, rule);
            assert_eq!(f.subject.as_deref(), Some("aaaa000000000001"), "{rule}");
            assert_eq!(f.dimension, perfdiag_model::Dimension::SqlWorkload);
            assert_eq!(evidence_number(f, "sql.class.calls"), 100.0);
            assert_eq!(evidence_number(f, "sql.class.share_pct"), 40.0);
            let metrics: Vec<&str> = f.evidence.iter().map(|e| e.metric.as_str()).collect();
            for m in ["sql.fragment", "sql.class.id", "sql.class.fingerprint"] {
                assert!(metrics.contains(&m), "{rule}: {metrics:?}");
            }

            let a = log(&[("bbbb000000000002", good, 100, 40.0, 0.05)]);
            assert!(findings_of(&a, rule).is_empty(), "{rule} on {good}: {a:#?}");
            assert!(!a.not_evaluated.iter().any(|n| n.rule_id == rule), "{rule}");
        }
    }

    #[test]
    fn classes_below_the_share_threshold_are_not_judged() {
        let a = log(&[("aaaa000000000001", "SELECT * FROM t", 10, 0.5, 0.01)]);
        assert!(findings_of(&a, "sql.select_star").is_empty());
    }

    #[test]
    fn pg_statements_are_parsed_with_dollar_placeholders_and_shares_computed() {
        let t = perfdiag_model::Table::new()
            .with("target", col::utf8([Some("postgres://app@db1/erp"); 3]))
            .with("queryid", col::i64([Some(11), Some(22), Some(33)]))
            .with(
                "query",
                col::utf8([
                    Some("SELECT id FROM orders WHERE id::text = $1"),
                    Some("SELECT id FROM customers WHERE name ILIKE $1 || $2 || $3"),
                    Some("SELECT id FROM orders WHERE id = $1"),
                ]),
            )
            .with("calls", col::i64([Some(10), Some(10), Some(10)]))
            .with(
                "total_exec_time_ms",
                col::f64([Some(600.0), Some(300.0), Some(100.0)]),
            )
            .with(
                "mean_exec_time_ms",
                col::f64([Some(60.0), Some(30.0), Some(10.0)]),
            );
        let a = run(&with_table(tables::PG_STATEMENTS, t));
        let f = only_finding(&a, "sql.function_on_column");
        assert_eq!(f.subject.as_deref(), Some("11"));
        assert!((evidence_number(f, "sql.class.share_pct") - 60.0).abs() < 1e-9);
        assert_eq!(
            only_finding(&a, "sql.like_leading_wildcard")
                .subject
                .as_deref(),
            Some("22")
        );
    }

    #[test]
    fn offsets_are_graded_when_visible_and_warned_when_masked() {
        let a = log(&[
            (
                "aaaa000000000001",
                "SELECT id FROM t ORDER BY id LIMIT 20 OFFSET 500000",
                10,
                30.0,
                1.0,
            ),
            (
                "bbbb000000000002",
                "SELECT id FROM t ORDER BY id LIMIT 20 OFFSET 100",
                10,
                30.0,
                1.0,
            ),
            (
                "cccc000000000003",
                "SELECT id FROM u ORDER BY id LIMIT ? OFFSET ?",
                10,
                30.0,
                1.0,
            ),
        ]);
        let found = findings_of(&a, "sql.large_offset");
        let got: Vec<(Option<&str>, Severity)> = found
            .iter()
            .map(|f| (f.subject.as_deref(), f.severity))
            .collect();
        assert_eq!(
            got,
            vec![
                (Some("aaaa000000000001"), Severity::Critical),
                (Some("cccc000000000003"), Severity::Warning),
            ]
        );
    }

    #[test]
    fn n_plus_one_needs_many_calls_each_cheap() {
        let a = log(&[
            (
                "aaaa000000000001",
                "SELECT name FROM items WHERE id = ?",
                200_000,
                30.0,
                0.0002,
            ),
            (
                "bbbb000000000002",
                "SELECT name FROM big WHERE id = ?",
                200_000,
                30.0,
                0.05,
            ),
            (
                "cccc000000000003",
                "SELECT name FROM few WHERE id = ?",
                500,
                30.0,
                0.0002,
            ),
        ]);
        let f = only_finding(&a, "sql.n_plus_one");
        assert_eq!(f.subject.as_deref(), Some("aaaa000000000001"));
        assert_eq!(f.severity, Severity::Critical);
        assert!((evidence_number(f, "sql.class.mean_ms") - 0.2).abs() < 1e-9);
    }

    #[test]
    fn unparseable_statements_are_not_judged_and_do_not_panic() {
        let garbage = "\u{1}\u{2} select from where ((( 'unterminated";
        let a = log(&[("aaaa000000000001", garbage, 100, 90.0, 0.01)]);
        assert!(
            a.findings.iter().all(|f| !f.rule_id.starts_with("sql.")),
            "{a:#?}"
        );
        let not: Vec<&str> = a
            .not_evaluated
            .iter()
            .filter(|n| n.rule_id.starts_with("sql."))
            .map(|n| n.rule_id.as_str())
            .collect();
        assert!(not.contains(&"sql.select_star"), "{not:?}");
        assert!(
            a.not_evaluated
                .iter()
                .any(|n| n.missing.contains("1 judged classes did not")),
            "{a:#?}"
        );

        // Beside a parseable class, the garbage one is skipped and the other judged.
        let a = log(&[
            ("aaaa000000000001", garbage, 100, 45.0, 0.01),
            ("bbbb000000000002", "SELECT * FROM t", 100, 45.0, 0.01),
        ]);
        assert_eq!(
            only_finding(&a, "sql.select_star").subject.as_deref(),
            Some("bbbb000000000002")
        );
        assert!(
            !a.not_evaluated
                .iter()
                .any(|n| n.rule_id.starts_with("sql."))
        );
    }

    #[test]
    fn rows_examined_per_row_sent_names_the_index_of_the_filter() {
        let mut f = crate::test_support::SqlFixture::healthy();
        f.push(
            "aaaa000000000001",
            "SELECT o.id FROM Orders o JOIN customers c ON c.id = o.customer_id \
             WHERE o.status = ? AND o.created_at > ?",
        );
        f.classes[1].rows_examined = 500_000; // 5,000 per call, one row sent per call
        let a = run(&f.build());
        let found = only_finding(&a, "sql.rows_examined_high");
        assert_eq!(found.severity, Severity::Warning);
        assert_eq!(evidence_number(found, "sql.rows_examined_per_row"), 5000.0);
        let text = |metric: &str| {
            found
                .evidence
                .iter()
                .find(|e| e.metric == metric)
                .map(|e| e.observed.to_string())
        };
        // The first table's filter, its case kept, in the log's one database.
        assert_eq!(
            text("mysql.index.candidate").as_deref(),
            Some("`app`.`Orders` (`status`, `customer_id`, `created_at`)")
        );
        // A PostgreSQL log has no rows examined: the rule does not apply.
        let a = log(&[("aaaa000000000001", "SELECT 1", 100, 45.0, 0.01)]);
        assert!(
            !a.not_evaluated
                .iter()
                .any(|n| n.rule_id == "sql.rows_examined_high")
        );
        assert!(findings_of(&a, "sql.rows_examined_high").is_empty());
    }

    #[test]
    fn without_a_statement_table_the_sql_rules_do_not_apply() {
        let a = Fixture::healthy().assess();
        assert!(a.findings.iter().all(|f| !f.rule_id.starts_with("sql.")));
        assert!(
            a.not_evaluated
                .iter()
                .all(|n| !n.rule_id.starts_with("sql."))
        );
    }
}
