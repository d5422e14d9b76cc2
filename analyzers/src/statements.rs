//! The statement classes of a snapshot, whichever source holds them
//! (pg_stat_statements, performance_schema digests, sys.dm_exec_query_stats, a slow
//! log), as one list: calls and time per class, for the workload detection and the
//! primary bottleneck.

use perfdiag_model::{ColumnData, QueryRef, Snapshot, Table, tables};

/// One query class of one source.
#[derive(Debug, Clone, PartialEq)]
pub struct StatementClass {
    /// The database target; `None` for a log.
    pub target: Option<String>,
    /// The source-neutral class id (16 hex digits), when the table has it.
    pub id: Option<String>,
    /// The statement text, literals masked.
    pub text: Option<String>,
    pub calls: f64,
    pub total_ms: f64,
}

/// (table, id column, text column, total time column, milliseconds per unit)
const SOURCES: [(&str, &str, &str, &str, f64); 4] = [
    (
        tables::PG_STATEMENTS,
        "fingerprint_id",
        "query",
        "total_exec_time_ms",
        1.0,
    ),
    (
        tables::MYSQL_STATEMENTS,
        "fingerprint_id",
        "digest_text",
        "total_ms",
        1.0,
    ),
    (
        tables::MSSQL_STATEMENTS,
        "fingerprint_id",
        "query",
        "total_ms",
        1.0,
    ),
    (tables::LOG_QUERIES, "id", "fingerprint", "total_s", 1000.0),
];

/// Every class with calls and a time, of every statement table present.
pub fn classes(snapshot: &Snapshot) -> Vec<StatementClass> {
    let mut out = Vec::new();
    for (name, id, text, total, scale) in SOURCES {
        let Some(t) = snapshot.table(name) else {
            continue;
        };
        let targets = texts(t, "target");
        let ids = texts(t, id);
        let statements = texts(t, text);
        let calls = numbers(t, "calls");
        let totals = numbers(t, total);
        for row in 0..t.rows() {
            let (Some(calls), Some(total)) = (calls[row], totals[row]) else {
                continue;
            };
            if calls <= 0.0 || total < 0.0 {
                continue;
            }
            out.push(StatementClass {
                target: targets[row].clone(),
                id: ids[row].clone(),
                text: statements[row].clone(),
                calls,
                total_ms: total * scale,
            });
        }
    }
    out
}

/// The class taking the largest share of statement time: of `target`'s classes when
/// it has any, else of all (a log has no target).
pub fn top_query(snapshot: &Snapshot, target: Option<&str>) -> Option<QueryRef> {
    let all = classes(snapshot);
    let own: Vec<&StatementClass> = all
        .iter()
        .filter(|c| target.is_some() && c.target.as_deref() == target)
        .collect();
    let pool: Vec<&StatementClass> = if own.is_empty() {
        all.iter().collect()
    } else {
        own
    };
    let total: f64 = pool.iter().map(|c| c.total_ms).sum();
    let top = pool
        .into_iter()
        .max_by(|a, b| a.total_ms.total_cmp(&b.total_ms))?;
    (total > 0.0).then(|| QueryRef {
        id: top.id.clone().unwrap_or_default(),
        fingerprint: top.text.clone().unwrap_or_default(),
        share_pct: top.total_ms * 100.0 / total,
    })
}

/// A column as optional strings (integers printed), `None` everywhere when absent.
pub(crate) fn texts(t: &Table, column: &str) -> Vec<Option<String>> {
    match t.column(column) {
        Some(ColumnData::Utf8(v)) => v.clone(),
        Some(ColumnData::Int64(v)) => v.iter().map(|x| x.map(|x| x.to_string())).collect(),
        _ => vec![None; t.rows()],
    }
}

/// A column as optional floats (integers converted), `None` everywhere when absent.
pub(crate) fn numbers(t: &Table, column: &str) -> Vec<Option<f64>> {
    match t.column(column) {
        Some(ColumnData::Float64(v)) => v.clone(),
        Some(ColumnData::Int64(v)) => v.iter().map(|x| x.map(|x| x as f64)).collect(),
        _ => vec![None; t.rows()],
    }
}
