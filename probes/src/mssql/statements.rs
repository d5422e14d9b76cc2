//! Sub-probe `mssql.statements`: `sys.dm_exec_query_stats` summed per query_hash, read
//! at the start and at the end of the window (`statements.sql`). A statement both
//! readings saw, with the same oldest cached entry and no fewer executions, is counted
//! over the window (end minus start); any other is counted since it was cached
//! (`over_window` false, `cached_at` says since when). The top N by CPU, by elapsed
//! time and by logical reads are kept, with their text masked and their class id.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use perfdiag_model::{Table, col};

use crate::db::TextRows;
use crate::sql::{class_id, mask_literals};

/// One statement's counters (times in microseconds).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Entry {
    pub query_hash: String,
    pub database: Option<String>,
    pub calls: i64,
    pub cpu_us: i64,
    pub elapsed_us: i64,
    pub logical_reads: i64,
    pub physical_reads: i64,
    pub logical_writes: i64,
    pub rows: i64,
    pub cached_at: Option<DateTime<Utc>>,
    pub text: Option<String>,
}

/// One reading, by query_hash.
pub(crate) fn entries(rows: &TextRows) -> BTreeMap<String, Entry> {
    rows.iter()
        .filter_map(|r| {
            let n = |c: &str| r.i64(c).unwrap_or(0);
            let hash = r.string("query_hash")?;
            Some((
                hash.clone(),
                Entry {
                    query_hash: hash,
                    database: r.string("database_name"),
                    calls: n("calls"),
                    cpu_us: n("total_cpu_us"),
                    elapsed_us: n("total_elapsed_us"),
                    logical_reads: n("logical_reads"),
                    physical_reads: n("physical_reads"),
                    logical_writes: n("logical_writes"),
                    rows: n("total_rows"),
                    cached_at: r.time("cached_at"),
                    text: r.string("statement_text"),
                },
            ))
        })
        .collect()
}

/// A statement's numbers for the table, and whether they are the window's.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Kept {
    pub entry: Entry,
    pub over_window: bool,
}

/// End minus start where both readings saw the same entries; statements that did not
/// run in the window are dropped. Without an end reading, the start reading is kept
/// as it is (since cached).
pub(crate) fn window(
    start: Option<&BTreeMap<String, Entry>>,
    end: Option<&BTreeMap<String, Entry>>,
) -> Vec<Kept> {
    let Some(end) = end else {
        return start
            .into_iter()
            .flat_map(|s| s.values())
            .map(|e| Kept {
                entry: e.clone(),
                over_window: false,
            })
            .collect();
    };
    let mut out = Vec::new();
    for (hash, e) in end {
        let base = start
            .and_then(|s| s.get(hash))
            .filter(|s| s.calls <= e.calls && s.cached_at == e.cached_at);
        let kept = match base {
            Some(s) => Kept {
                entry: Entry {
                    calls: e.calls - s.calls,
                    cpu_us: (e.cpu_us - s.cpu_us).max(0),
                    elapsed_us: (e.elapsed_us - s.elapsed_us).max(0),
                    logical_reads: (e.logical_reads - s.logical_reads).max(0),
                    physical_reads: (e.physical_reads - s.physical_reads).max(0),
                    logical_writes: (e.logical_writes - s.logical_writes).max(0),
                    rows: (e.rows - s.rows).max(0),
                    text: e.text.clone().or_else(|| s.text.clone()),
                    ..e.clone()
                },
                over_window: true,
            },
            None => Kept {
                entry: e.clone(),
                over_window: false,
            },
        };
        if kept.entry.calls > 0 {
            out.push(kept);
        }
    }
    out
}

/// The union of the top `n` by CPU, by elapsed time and by logical reads, ordered by
/// CPU.
pub(crate) fn top(mut all: Vec<Kept>, n: usize) -> Vec<Kept> {
    let mut keep = BTreeSet::new();
    let mut rank = |all: &mut Vec<Kept>, by: fn(&Entry) -> i64| {
        all.sort_by(|a, b| {
            by(&b.entry)
                .cmp(&by(&a.entry))
                .then_with(|| a.entry.query_hash.cmp(&b.entry.query_hash))
        });
        keep.extend(all.iter().take(n).map(|k| k.entry.query_hash.clone()));
    };
    rank(&mut all, |e| e.logical_reads);
    rank(&mut all, |e| e.elapsed_us);
    rank(&mut all, |e| e.cpu_us);
    all.retain(|k| keep.contains(&k.entry.query_hash));
    all
}

/// The `mssql_statements` table.
pub(crate) fn table(kept: &[Kept], label: &str) -> Table {
    let n = kept.len();
    let masked: Vec<Option<String>> = kept
        .iter()
        .map(|k| k.entry.text.as_deref().map(mask_literals))
        .collect();
    let int = |f: fn(&Entry) -> i64| col::i64(kept.iter().map(|k| Some(f(&k.entry))));
    let ms =
        |f: fn(&Entry) -> i64| col::f64(kept.iter().map(|k| Some(f(&k.entry) as f64 / 1000.0)));
    Table::new()
        .with("target", col::utf8(vec![Some(label); n]))
        .with(
            "query_hash",
            col::utf8(kept.iter().map(|k| Some(k.entry.query_hash.as_str()))),
        )
        .with(
            "fingerprint_id",
            col::utf8(masked.iter().map(|q| q.as_deref().map(class_id))),
        )
        .with(
            "database",
            col::utf8(kept.iter().map(|k| k.entry.database.as_deref())),
        )
        .with("query", col::utf8(masked.iter().map(|q| q.as_deref())))
        .with("calls", int(|e| e.calls))
        .with("total_ms", ms(|e| e.elapsed_us))
        .with("total_cpu_ms", ms(|e| e.cpu_us))
        .with("logical_reads", int(|e| e.logical_reads))
        .with("physical_reads", int(|e| e.physical_reads))
        .with("logical_writes", int(|e| e.logical_writes))
        .with("rows", int(|e| e.rows))
        .with(
            "over_window",
            col::bool(kept.iter().map(|k| Some(k.over_window))),
        )
        .with(
            "cached_at",
            col::timestamp(
                kept.iter()
                    .map(|k| k.entry.cached_at.map(|t| t.timestamp_micros())),
            ),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(hash: &str, calls: i64, cpu_us: i64, reads: i64) -> Entry {
        Entry {
            query_hash: hash.to_owned(),
            calls,
            cpu_us,
            elapsed_us: cpu_us,
            logical_reads: reads,
            ..Entry::default()
        }
    }

    fn map(entries: Vec<Entry>) -> BTreeMap<String, Entry> {
        entries
            .into_iter()
            .map(|e| (e.query_hash.clone(), e))
            .collect()
    }

    #[test]
    fn window_deltas_only_where_both_readings_saw_the_same_entries() {
        let t0 = chrono::Utc::now();
        let later = t0 + chrono::Duration::seconds(30);
        let start = map(vec![
            Entry {
                cached_at: Some(t0),
                ..entry("0xA", 10, 1000, 50)
            },
            Entry {
                cached_at: Some(t0),
                ..entry("0xB", 5, 500, 5)
            },
            Entry {
                cached_at: Some(t0),
                ..entry("0xC", 9, 900, 9)
            },
        ]);
        let end = map(vec![
            Entry {
                cached_at: Some(t0),
                ..entry("0xA", 14, 1600, 90)
            }, // 4 calls
            Entry {
                cached_at: Some(t0),
                ..entry("0xB", 5, 500, 5)
            }, // idle: dropped
            Entry {
                cached_at: Some(later),
                ..entry("0xC", 2, 200, 2)
            }, // recompiled
            Entry {
                cached_at: Some(later),
                ..entry("0xD", 1, 100, 1)
            }, // new
        ]);
        let got: Vec<(String, i64, i64, bool)> = window(Some(&start), Some(&end))
            .into_iter()
            .map(|k| {
                (
                    k.entry.query_hash,
                    k.entry.calls,
                    k.entry.cpu_us,
                    k.over_window,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("0xA".into(), 4, 600, true),
                ("0xC".into(), 2, 200, false),
                ("0xD".into(), 1, 100, false),
            ]
        );
        assert!(window(Some(&start), None).iter().all(|k| !k.over_window));
    }

    #[test]
    fn top_keeps_the_union_of_the_three_rankings() {
        let all = vec![
            Kept {
                entry: entry("0x1", 1, 9000, 1),
                over_window: true,
            },
            Kept {
                entry: entry("0x2", 1, 10, 99_999),
                over_window: true,
            },
            Kept {
                entry: entry("0x3", 1, 20, 2),
                over_window: true,
            },
        ];
        let kept: Vec<String> = top(all, 1)
            .into_iter()
            .map(|k| k.entry.query_hash)
            .collect();
        assert_eq!(kept, vec!["0x1", "0x2"]);
    }
}
