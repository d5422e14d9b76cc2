//! Statement classes of two snapshots matched by fingerprint id: new heavy queries,
//! vanished ones, and those whose time per call regressed or improved.
//!
//! The statistics views hold one reading over the whole window (end minus start), not
//! per-call samples, so there is no noise to estimate: a fixed rule decides instead
//! (see [`judge`] and docs/comparison.md).

use std::collections::BTreeMap;

use perfdiag_model::{QueryChange, QueryStats, QueryStatus, Snapshot, tables};
use polars::prelude::*;

use crate::error::AnalyzeError;
use crate::frames::to_frame;

/// A class holding at least this share of its source's time is heavy.
pub(crate) const HEAVY_SHARE_PCT: f64 = 5.0;
/// Mean time per call must grow (or shrink) by this factor to count.
pub(crate) const MEAN_RATIO: f64 = 1.5;
/// ... and by at least this much, so sub-millisecond jitter does not count.
pub(crate) const MIN_MEAN_CHANGE_MS: f64 = 0.1;
/// ... and each side must have this many calls, so the mean is not one unlucky call.
pub(crate) const MIN_CALLS: f64 = 10.0;
/// Statement texts are cut to this many characters.
const TEXT_CHARS: usize = 120;

/// One statement class of one snapshot.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Class {
    pub source: &'static str,
    pub target: Option<String>,
    pub id: String,
    pub text: String,
    pub stats: QueryStats,
}

/// How a statement table names its columns.
struct Layout {
    table: &'static str,
    /// The column that tells sources apart: the server, or the log file.
    target: &'static str,
    id: &'static str,
    text: &'static str,
    calls: &'static str,
    total: &'static str,
    /// Multiplier from the total column's unit to milliseconds.
    total_to_ms: f64,
}

const LAYOUTS: [Layout; 3] = [
    Layout {
        table: tables::PG_STATEMENTS,
        target: "target",
        id: "queryid",
        text: "query",
        calls: "calls",
        total: "total_exec_time_ms",
        total_to_ms: 1.0,
    },
    Layout {
        table: tables::MYSQL_STATEMENTS,
        target: "target",
        id: "digest",
        text: "digest_text",
        calls: "calls",
        total: "total_ms",
        total_to_ms: 1.0,
    },
    Layout {
        table: tables::LOG_QUERIES,
        target: "source",
        id: "id",
        text: "fingerprint",
        calls: "calls",
        total: "total_s",
        total_to_ms: 1000.0,
    },
];

/// Every statement class of the snapshot, one row per (source, target, id): pg rows
/// of several users or databases with one queryid are summed.
pub(crate) fn classes(snapshot: &Snapshot) -> Result<Vec<Class>, AnalyzeError> {
    let window_s = snapshot.manifest().window.duration_secs();
    let mut out = Vec::new();
    for layout in &LAYOUTS {
        let Some(table) = snapshot.table(layout.table) else {
            continue;
        };
        let err = |cause| AnalyzeError::Frame {
            table: layout.table.to_owned(),
            cause,
        };
        let df = to_frame(table).map_err(err)?;
        let numeric = [layout.calls, layout.total];
        if df.height() == 0
            || numeric.iter().any(|c| {
                df.column(c)
                    .map_or(true, |c| !c.dtype().is_primitive_numeric())
            })
            || df.column(layout.id).is_err()
        {
            continue;
        }
        let optional_text = |name: &str| {
            if df.column(name).is_ok() {
                col(name).cast(DataType::String)
            } else {
                lit(NULL).cast(DataType::String)
            }
        };
        let span_s = log_spans(&df, layout).map_err(err)?;
        // A log's own share is of all its statements, not only the kept top classes.
        let own_share = layout.table == tables::LOG_QUERIES
            && df
                .column("share_pct")
                .is_ok_and(|c| c.dtype().is_primitive_numeric());
        let share = if own_share {
            col("share_pct").cast(DataType::Float64)
        } else {
            lit(NULL).cast(DataType::Float64)
        };
        let grouped = df
            .clone()
            .lazy()
            .select([
                optional_text(layout.target).alias("target"),
                col(layout.id).cast(DataType::String).alias("id"),
                optional_text(layout.text).alias("text"),
                col(layout.calls).cast(DataType::Float64).alias("calls"),
                (col(layout.total).cast(DataType::Float64) * lit(layout.total_to_ms))
                    .alias("total_ms"),
                share.alias("share_pct"),
            ])
            .filter(col("id").is_not_null())
            .group_by_stable([col("target"), col("id")])
            .agg([
                col("text").drop_nulls().first().alias("text"),
                col("calls").sum().alias("calls"),
                col("total_ms").sum().alias("total_ms"),
                col("share_pct").sum().alias("share_pct"),
            ])
            .collect()
            .map_err(err)?;
        let strings = |name: &str| {
            grouped
                .column(name)
                .and_then(|c| c.str().cloned())
                .map_err(err)
        };
        let floats = |name: &str| {
            grouped
                .column(name)
                .and_then(|c| c.f64().cloned())
                .map_err(err)
        };
        let (targets, ids, texts) = (strings("target")?, strings("id")?, strings("text")?);
        let (calls, totals, shares) = (floats("calls")?, floats("total_ms")?, floats("share_pct")?);
        // Otherwise the share is of the captured classes of the same target.
        let mut target_totals: BTreeMap<Option<&str>, f64> = BTreeMap::new();
        for (t, v) in targets.iter().zip(totals.iter()) {
            *target_totals.entry(t).or_default() += v.unwrap_or(0.0);
        }
        for i in 0..grouped.height() {
            let Some(id) = ids.get(i) else { continue };
            let target = targets.get(i).map(str::to_owned);
            let calls = calls.get(i).unwrap_or(0.0);
            let total_ms = totals.get(i).unwrap_or(0.0);
            let span = match layout.table {
                tables::LOG_QUERIES => target.as_ref().and_then(|t| span_s.get(t).copied()),
                _ => Some(window_s),
            };
            out.push(Class {
                source: layout.table,
                target,
                id: id.to_owned(),
                text: texts
                    .get(i)
                    .unwrap_or_default()
                    .chars()
                    .take(TEXT_CHARS)
                    .collect(),
                stats: QueryStats {
                    calls,
                    calls_per_s: span.filter(|s| *s > 0.0).map(|s| calls / s),
                    mean_ms: (calls > 0.0).then(|| total_ms / calls),
                    total_ms,
                    share_pct: if own_share {
                        shares.get(i).unwrap_or(0.0)
                    } else {
                        match target_totals.get(&targets.get(i)) {
                            Some(sum) if *sum > 0.0 => total_ms * 100.0 / sum,
                            _ => 0.0,
                        }
                    },
                },
            });
        }
    }
    Ok(out)
}

/// The time each log covers (its first to its last statement), in seconds, by source:
/// a log's calls per second are over its own span, not the collection window.
fn log_spans(df: &DataFrame, layout: &Layout) -> PolarsResult<BTreeMap<String, f64>> {
    let mut spans = BTreeMap::new();
    if layout.table != tables::LOG_QUERIES
        || ["source", "first_seen", "last_seen"]
            .iter()
            .any(|c| df.column(c).is_err())
    {
        return Ok(spans);
    }
    let out = df
        .clone()
        .lazy()
        .group_by([col("source")])
        .agg([((col("last_seen").cast(DataType::Int64).max()
            - col("first_seen").cast(DataType::Int64).min())
        .cast(DataType::Float64)
            / lit(1e6))
        .alias("span_s")])
        .collect()?;
    let sources = out.column("source")?.str()?.clone();
    let span = out.column("span_s")?.f64()?.clone();
    for (s, v) in sources.iter().zip(span.iter()) {
        if let (Some(s), Some(v)) = (s, v) {
            spans.insert(s.to_owned(), v);
        }
    }
    Ok(spans)
}

/// Matches the classes of both snapshots and judges each; heavy and changed first.
pub(crate) fn compare(before: Vec<Class>, after: Vec<Class>) -> Vec<QueryChange> {
    type Key = (&'static str, Option<String>, String);
    let mut matched: BTreeMap<Key, (Option<Class>, Option<Class>)> = BTreeMap::new();
    for c in before {
        let key = (c.source, c.target.clone(), c.id.clone());
        matched.entry(key).or_default().0 = Some(c);
    }
    for c in after {
        let key = (c.source, c.target.clone(), c.id.clone());
        matched.entry(key).or_default().1 = Some(c);
    }
    let mut out: Vec<QueryChange> = matched
        .into_iter()
        .map(|((source, target, id), (b, a))| {
            let text = a
                .as_ref()
                .or(b.as_ref())
                .map(|c| c.text.clone())
                .unwrap_or_default();
            let (b, a) = (b.map(|c| c.stats), a.map(|c| c.stats));
            let heavy = [b, a]
                .iter()
                .flatten()
                .any(|s| s.share_pct >= HEAVY_SHARE_PCT);
            QueryChange {
                source: source.to_owned(),
                target,
                id,
                text,
                status: judge(b.as_ref(), a.as_ref()),
                heavy,
                before: b,
                after: a,
            }
        })
        .collect();
    // Changed and heavy first, then changed, then the rest; by largest share within.
    let rank = |q: &QueryChange| {
        let changed = q.status != QueryStatus::Unchanged;
        let share = [q.before, q.after]
            .iter()
            .flatten()
            .map(|s| s.share_pct)
            .fold(0.0, f64::max);
        (!(changed && q.heavy), !changed, -share)
    };
    out.sort_by(|x, y| {
        let (a, b) = (rank(x), rank(y));
        (a.0, a.1).cmp(&(b.0, b.1)).then(a.2.total_cmp(&b.2))
    });
    out
}

/// The rule for one class: present on one side only is new or vanished; on both, the
/// mean time per call must change by a factor of 1.5 and by 0.1 ms, with at least 10
/// calls on each side.
pub(crate) fn judge(before: Option<&QueryStats>, after: Option<&QueryStats>) -> QueryStatus {
    let (b, a) = match (before, after) {
        (None, Some(_)) => return QueryStatus::New,
        (Some(_), None) => return QueryStatus::Vanished,
        (Some(b), Some(a)) => (b, a),
        (None, None) => return QueryStatus::Unchanged,
    };
    let (Some(mb), Some(ma)) = (b.mean_ms, a.mean_ms) else {
        return QueryStatus::Unchanged;
    };
    if b.calls < MIN_CALLS || a.calls < MIN_CALLS || (ma - mb).abs() < MIN_MEAN_CHANGE_MS {
        return QueryStatus::Unchanged;
    }
    if ma >= mb * MEAN_RATIO {
        QueryStatus::Regressed
    } else if ma * MEAN_RATIO <= mb {
        QueryStatus::Improved
    } else {
        QueryStatus::Unchanged
    }
}
