//! Sub-probe `postgres.statements`: pg_stat_statements over the window.
//!
//! Counters are read without text at the start and the end of the window and
//! subtracted per (user, database, queryid). A statement first seen at the end counts
//! fully; so does every statement when the statistics were reset between the readings
//! (`pg_stat_statements_info.stats_reset` moved), or a single entry whose calls went
//! down (it was evicted and came back). The top N by total time, by calls and by
//! blocks read are kept, and only their texts are fetched, masked once more.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use perfdiag_model::facts::postgres::{PgStatStatementsState, PostgresFacts};
use perfdiag_model::{Table, col};

use super::connect::{Binds, Conn};
use super::probe::{Tally, f64_of, i64_of, quote_ident, text_of, time_of};
use crate::sql::{class_id, mask_literals};

const INFO_SQL: &str = include_str!("sql/statements_info.sql");
const STATEMENTS_SQL: &str = include_str!("sql/statements.sql");
const STATEMENTS_PRE13_SQL: &str = include_str!("sql/statements_pre13.sql");
const TEXTS_SQL: &str = include_str!("sql/statement_texts.sql");

/// One statement's cumulative counters.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Counters {
    pub rolname: Option<String>,
    pub datname: Option<String>,
    pub calls: i64,
    pub total_ms: f64,
    pub rows: i64,
    pub blks: [i64; 6],
}

/// (userid, dbid, queryid).
pub(crate) type Key = (i64, i64, i64);

/// One reading of pg_stat_statements.
#[derive(Debug, Clone, Default)]
pub(crate) struct Reading {
    pub reset_at: Option<DateTime<Utc>>,
    pub rows: BTreeMap<Key, Counters>,
}

/// How to reach the extension in this database, or why it cannot be read.
#[derive(Debug, Clone)]
pub(crate) struct Access {
    schema: String,
    pre13: bool,
    has_info: bool,
}

const BLOCK_COLUMNS: [&str; 6] = [
    "shared_blks_hit",
    "shared_blks_read",
    "shared_blks_dirtied",
    "shared_blks_written",
    "temp_blks_read",
    "temp_blks_written",
];

/// Decides whether pg_stat_statements can be read; when not, records the sub-probe
/// as skipped with the exact remedy.
pub(crate) fn access(facts: &mut PostgresFacts, tally: &mut Tally) -> Option<Access> {
    let preloaded = facts
        .setting_text("shared_preload_libraries")
        .is_some_and(|v| {
            v.split(',')
                .any(|l| l.trim().trim_matches('"') == "pg_stat_statements")
        });
    let ext = facts
        .extensions
        .iter()
        .find(|e| e.name == "pg_stat_statements");
    facts.pg_stat_statements = PgStatStatementsState {
        installed: ext.is_some(),
        preloaded,
        ..PgStatStatementsState::default()
    };
    let db = facts
        .database
        .clone()
        .unwrap_or_else(|| "<database>".to_owned());
    let preload = "shared_preload_libraries = 'pg_stat_statements'  -- in postgresql.conf \
                   (or ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements';), \
                   then restart PostgreSQL";
    let create =
        format!("CREATE EXTENSION pg_stat_statements;  -- as a superuser, in database {db}");
    match (ext, preloaded) {
        (None, false) => {
            tally.skipped(
                "pg_stat_statements is not installed nor preloaded".to_owned(),
                &format!("{preload}\n{create}"),
            );
            None
        }
        (None, true) => {
            tally.skipped(
                format!("pg_stat_statements is preloaded but not created in database {db}"),
                &create,
            );
            None
        }
        (Some(_), false) => {
            tally.skipped(
                "pg_stat_statements is created but not in shared_preload_libraries".to_owned(),
                preload,
            );
            None
        }
        (Some(ext), true) => {
            let version = facts.server_version_num.unwrap_or(0);
            let ext_version: Vec<u32> = ext
                .version
                .split('.')
                .filter_map(|p| p.parse().ok())
                .collect();
            Some(Access {
                schema: quote_ident(&ext.schema),
                pre13: version > 0 && version < 130_000,
                // pg_stat_statements_info arrived with extension 1.9.
                has_info: ext_version >= vec![1, 9],
            })
        }
    }
}

pub(crate) fn read(conn: &mut Conn, access: &Access, tally: &mut Tally) -> Option<Reading> {
    tally.timed(|tally| {
        let mut reading = Reading::default();
        if access.has_info {
            match conn.fetch("statements_info", &INFO_SQL.replace("{schema}", &access.schema), Binds::None) {
                Ok(rows) => reading.reset_at = rows.first().and_then(|r| time_of(r, "stats_reset")),
                Err(e) => tally.failed("pg_stat_statements_info", &e),
            }
        }
        let (name, sql) = if access.pre13 {
            ("statements_pre13", STATEMENTS_PRE13_SQL)
        } else {
            ("statements", STATEMENTS_SQL)
        };
        match conn.fetch(name, &sql.replace("{schema}", &access.schema), Binds::None) {
            Ok(rows) => {
                for r in rows.iter() {
                    let (Some(u), Some(d), Some(q)) =
                        (i64_of(r, "userid"), i64_of(r, "dbid"), i64_of(r, "queryid"))
                    else {
                        continue;
                    };
                    let mut blks = [0; 6];
                    for (slot, name) in blks.iter_mut().zip(BLOCK_COLUMNS) {
                        *slot = i64_of(r, name).unwrap_or(0);
                    }
                    reading.rows.insert(
                        (u, d, q),
                        Counters {
                            rolname: text_of(r, "rolname"),
                            datname: text_of(r, "datname"),
                            calls: i64_of(r, "calls").unwrap_or(0),
                            total_ms: f64_of(r, "total_exec_time_ms").unwrap_or(0.0),
                            rows: i64_of(r, "rows").unwrap_or(0),
                            blks,
                        },
                    );
                }
                tally.ok();
                Some(reading)
            }
            Err(e) => {
                if e.is_not_preloaded() {
                    tally.skipped(
                        format!("pg_stat_statements: {e}"),
                        "shared_preload_libraries = 'pg_stat_statements'  -- in postgresql.conf, then restart PostgreSQL",
                    );
                } else {
                    tally.failed("pg_stat_statements", &e);
                }
                None
            }
        }
    })
}

/// One statement's numbers over the window.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Delta {
    pub key: Key,
    pub counters: Counters,
    /// `false` when counted fully (new at the end, reset, or evicted meanwhile).
    pub from_start: bool,
}

/// End minus start, per statement; statements without calls in the window are dropped.
pub(crate) fn deltas(start: Option<&Reading>, end: &Reading) -> (Vec<Delta>, bool) {
    let reset = match (start.and_then(|s| s.reset_at), end.reset_at) {
        (Some(a), Some(b)) => b > a,
        _ => false,
    };
    let mut out = Vec::new();
    for (key, e) in &end.rows {
        let base = start
            .filter(|_| !reset)
            .and_then(|s| s.rows.get(key))
            .filter(|s| s.calls <= e.calls);
        let counters = match base {
            Some(s) => {
                let mut blks = [0; 6];
                for (i, slot) in blks.iter_mut().enumerate() {
                    *slot = (e.blks[i] - s.blks[i]).max(0);
                }
                Counters {
                    rolname: e.rolname.clone(),
                    datname: e.datname.clone(),
                    calls: e.calls - s.calls,
                    total_ms: (e.total_ms - s.total_ms).max(0.0),
                    rows: (e.rows - s.rows).max(0),
                    blks,
                }
            }
            None => e.clone(),
        };
        if counters.calls > 0 {
            out.push(Delta {
                key: *key,
                counters,
                from_start: base.is_some(),
            });
        }
    }
    (out, reset)
}

/// The union of the top `n` by total time, by calls and by blocks read, ordered by
/// total time.
pub(crate) fn top(mut all: Vec<Delta>, n: usize) -> Vec<Delta> {
    let mut keep = BTreeSet::new();
    let mut rank = |all: &mut Vec<Delta>, by: &dyn Fn(&Delta) -> f64| {
        all.sort_by(|a, b| by(b).total_cmp(&by(a)));
        keep.extend(all.iter().take(n).map(|d| d.key));
    };
    rank(&mut all, &|d| d.counters.calls as f64);
    rank(&mut all, &|d| {
        (d.counters.blks[1] + d.counters.blks[4]) as f64
    });
    rank(&mut all, &|d| d.counters.total_ms);
    all.retain(|d| keep.contains(&d.key));
    all
}

/// The `pg_statements` table: the window's top statements with their (masked) text.
pub(crate) fn finish(
    conn: &mut Conn,
    access: &Access,
    (start, end): (Option<&Reading>, &Reading),
    top_n: usize,
    label: &str,
    state: &mut PgStatStatementsState,
    tally: &mut Tally,
) -> Table {
    let (all, reset) = deltas(start, end);
    state.readable = true;
    state.reset_at = end.reset_at;
    state.reset_in_window = reset;
    let kept = top(all, top_n);
    let ids: Vec<i64> = kept
        .iter()
        .map(|d| d.key.2)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut texts: BTreeMap<i64, String> = BTreeMap::new();
    if !ids.is_empty() {
        tally.timed(|tally| {
            match conn.fetch(
                "statement_texts",
                &TEXTS_SQL.replace("{schema}", &access.schema),
                Binds::Ints(ids),
            ) {
                Ok(rows) => {
                    for r in rows.iter() {
                        if let (Some(id), Some(q)) = (i64_of(r, "queryid"), text_of(r, "query")) {
                            texts.insert(id, mask_literals(&q));
                        }
                    }
                }
                Err(e) => tally.failed("statement texts", &e),
            }
        });
    }
    table(&kept, &texts, label)
}

pub(crate) fn table(kept: &[Delta], texts: &BTreeMap<i64, String>, label: &str) -> Table {
    let n = kept.len();
    let c = |d: &Delta| d.counters.clone();
    let mut t = Table::new()
        .with("target", col::utf8(vec![Some(label); n]))
        .with("queryid", col::i64(kept.iter().map(|d| Some(d.key.2))))
        .with("dbid", col::i64(kept.iter().map(|d| Some(d.key.1))))
        .with("datname", col::utf8(kept.iter().map(|d| c(d).datname)))
        .with("userid", col::i64(kept.iter().map(|d| Some(d.key.0))))
        .with("rolname", col::utf8(kept.iter().map(|d| c(d).rolname)))
        .with(
            "query",
            col::utf8(kept.iter().map(|d| texts.get(&d.key.2).cloned())),
        )
        .with(
            "fingerprint_id",
            col::utf8(
                kept.iter()
                    .map(|d| texts.get(&d.key.2).map(|q| class_id(q))),
            ),
        )
        .with(
            "calls",
            col::i64(kept.iter().map(|d| Some(d.counters.calls))),
        )
        .with(
            "total_exec_time_ms",
            col::f64(kept.iter().map(|d| Some(d.counters.total_ms))),
        )
        .with(
            "mean_exec_time_ms",
            col::f64(kept.iter().map(|d| {
                (d.counters.calls > 0).then(|| d.counters.total_ms / d.counters.calls as f64)
            })),
        )
        .with("rows", col::i64(kept.iter().map(|d| Some(d.counters.rows))));
    for (i, name) in BLOCK_COLUMNS.iter().enumerate() {
        t = t.with(
            name,
            col::i64(kept.iter().map(|d| Some(d.counters.blks[i]))),
        );
    }
    t.with(
        "delta_from_start",
        col::bool(kept.iter().map(|d| Some(d.from_start))),
    )
}

/// The empty `pg_statements` table (same columns), when nothing could be read.
pub(crate) fn empty_table(label: &str) -> Table {
    table(&[], &BTreeMap::new(), label)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counters(calls: i64, ms: f64) -> Counters {
        Counters {
            calls,
            total_ms: ms,
            blks: [calls; 6],
            ..Counters::default()
        }
    }

    #[test]
    fn deltas_subtract_count_new_fully_and_respect_resets() {
        let start = Reading {
            reset_at: None,
            rows: BTreeMap::from([
                ((1, 1, 10), counters(5, 50.0)),
                ((1, 1, 11), counters(7, 70.0)),
                ((1, 1, 12), counters(9, 90.0)),
            ]),
        };
        let end = Reading {
            reset_at: None,
            rows: BTreeMap::from([
                ((1, 1, 10), counters(8, 80.0)), // 3 calls in the window
                ((1, 1, 11), counters(7, 70.0)), // idle: dropped
                ((1, 1, 12), counters(2, 20.0)), // evicted and back: counted fully
                ((1, 1, 13), counters(4, 40.0)), // new: counted fully
            ]),
        };
        let (d, reset) = deltas(Some(&start), &end);
        assert!(!reset);
        let got: Vec<(i64, i64, bool)> = d
            .iter()
            .map(|d| (d.key.2, d.counters.calls, d.from_start))
            .collect();
        assert_eq!(got, vec![(10, 3, true), (12, 2, false), (13, 4, false)]);
        assert_eq!(d[0].counters.total_ms, 30.0);
        assert_eq!(d[0].counters.blks, [3; 6]);

        let t0 = Utc::now();
        let start = Reading {
            reset_at: Some(t0),
            ..start
        };
        let end = Reading {
            reset_at: Some(t0 + chrono::Duration::seconds(5)),
            ..end
        };
        let (d, reset) = deltas(Some(&start), &end);
        assert!(reset);
        assert_eq!(d.len(), 4, "after a reset every statement counts fully");
        assert!(d.iter().all(|d| !d.from_start));
    }

    #[test]
    fn top_keeps_the_union_of_the_rankings() {
        let mk = |q: i64, calls: i64, ms: f64, read: i64| Delta {
            key: (1, 1, q),
            counters: Counters {
                calls,
                total_ms: ms,
                blks: [0, read, 0, 0, 0, 0],
                ..Counters::default()
            },
            from_start: true,
        };
        let all = vec![
            mk(1, 1, 1000.0, 0),
            mk(2, 500, 1.0, 0),
            mk(3, 1, 0.5, 9999),
            mk(4, 1, 2.0, 1),
        ];
        let kept: Vec<i64> = top(all, 1).iter().map(|d| d.key.2).collect();
        assert_eq!(kept, vec![1, 2, 3]);
        let t = table(&top(vec![mk(1, 2, 10.0, 0)], 5), &BTreeMap::new(), "pg");
        assert_eq!(t.rows(), 1);
        assert_eq!(
            t.column("mean_exec_time_ms"),
            Some(&perfdiag_model::ColumnData::Float64(vec![Some(5.0)]))
        );
    }
}
