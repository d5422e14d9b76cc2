//! Sub-probe `postgres.tables`: user tables and indexes of the connected database.
//!
//! Only the connected database: statistics views are per database, and reading
//! another one needs another connection (pass one `--pg` URL per database of
//! interest). Scan counters of every table are read at the start of the window
//! (integers only), and the bounded table and index lists at the end, so scans are
//! known both cumulatively and over the window.
//!
//! Exact sizes take an ACCESS SHARE lock per relation; behind an ACCESS EXCLUSIVE lock
//! (a running `ALTER TABLE`, `VACUUM FULL`) that waits until `lock_timeout`. The query
//! is then run again with sizes estimated from `relpages` (no lock), and the record
//! says so.

use std::collections::BTreeMap;

use perfdiag_model::{Table, col};

use super::connect::{Binds, Conn, QueryError};
use super::probe::{Tally, bool_of, i64_of, micros_of, text_of};
use crate::db::{Row, TextRows};

const COUNTERS_SQL: &str = include_str!("sql/tables_counters.sql");
const TABLES_SQL: &str = include_str!("sql/tables.sql");
const INDEXES_SQL: &str = include_str!("sql/indexes.sql");

const EXACT_TABLE_SIZE: &str = "pg_total_relation_size(c.oid)";
const EXACT_INDEX_SIZE: &str = "pg_relation_size(s.indexrelid)";
const ESTIMATED_SIZE: &str = "c.relpages::int8 * current_setting('block_size')::int8";

/// Scan counters of one table at the start: seq_scan, seq_tup_read, idx_scan,
/// idx_tup_fetch, n_tup_mod.
pub(crate) type StartCounters = BTreeMap<i64, [Option<i64>; 5]>;

const COUNTER_COLUMNS: [&str; 5] = [
    "seq_scan",
    "seq_tup_read",
    "idx_scan",
    "idx_tup_fetch",
    "n_tup_mod",
];

pub(crate) fn start(conn: &mut Conn, tally: &mut Tally) -> Option<StartCounters> {
    tally.timed(
        |tally| match conn.fetch("tables_counters", COUNTERS_SQL, Binds::None) {
            Ok(rows) => {
                tally.ok();
                Some(
                    rows.iter()
                        .filter_map(|r| {
                            let relid = i64_of(r, "relid")?;
                            Some((relid, COUNTER_COLUMNS.map(|c| i64_of(r, c))))
                        })
                        .collect(),
                )
            }
            Err(e) => {
                tally.failed("table scan counters at the start", &e);
                None
            }
        },
    )
}

/// Runs a sizing query exactly, or with estimated sizes when the exact one timed out.
fn sized(
    conn: &mut Conn,
    name: &str,
    sql: &str,
    exact: &str,
    what: &str,
    top_n: i64,
    tally: &mut Tally,
) -> Option<(TextRows, bool)> {
    let run = |conn: &mut Conn, name: &str, size: &str| -> Result<TextRows, QueryError> {
        conn.fetch(name, &sql.replace("{size}", size), Binds::Int(top_n))
    };
    match run(conn, name, exact) {
        Ok(rows) => {
            tally.ok();
            Some((rows, true))
        }
        Err(e) if e.is_timeout() => {
            tally.failed(&format!("{what} with exact sizes"), &e);
            tally.hint(
                "A relation was locked (ACCESS EXCLUSIVE) past lock_timeout: sizes are estimated \
                 from pg_class.relpages; run the collection again outside maintenance windows",
            );
            match run(conn, &format!("{name}_estimated"), ESTIMATED_SIZE) {
                Ok(rows) => {
                    tally.ok();
                    Some((rows, false))
                }
                Err(e) => {
                    tally.failed(&format!("{what} with estimated sizes"), &e);
                    None
                }
            }
        }
        Err(e) => {
            tally.failed(what, &e);
            None
        }
    }
}

/// The `pg_tables` table. `window_secs` is unused here: rates are the analyzers' job.
pub(crate) fn tables(
    conn: &mut Conn,
    start: Option<&StartCounters>,
    top_n: i64,
    label: &str,
    tally: &mut Tally,
) -> Table {
    let rows = tally
        .timed(|tally| {
            sized(
                conn,
                "tables",
                TABLES_SQL,
                EXACT_TABLE_SIZE,
                "tables",
                top_n,
                tally,
            )
        })
        .unwrap_or_default();
    let (rows, exact) = (rows.0, rows.1);
    let n = rows.len();
    let window = |column: usize, name: &str| {
        col::i64(rows.iter().map(|r| {
            let end = i64_of(r, name)?;
            let relid = i64_of(r, "relid")?;
            let begin = start?.get(&relid)?[column].unwrap_or(0);
            Some((end - begin).max(0))
        }))
    };
    let live = |r: Row<'_>| i64_of(r, "n_live_tup");
    let dead = |r: Row<'_>| i64_of(r, "n_dead_tup");
    Table::new()
        .with("target", col::utf8(vec![Some(label); n]))
        .with(
            "schema",
            col::utf8(rows.iter().map(|r| text_of(r, "schemaname"))),
        )
        .with(
            "table",
            col::utf8(rows.iter().map(|r| text_of(r, "relname"))),
        )
        .with(
            "seq_scan",
            col::i64(rows.iter().map(|r| i64_of(r, "seq_scan"))),
        )
        .with(
            "seq_tup_read",
            col::i64(rows.iter().map(|r| i64_of(r, "seq_tup_read"))),
        )
        .with(
            "idx_scan",
            col::i64(rows.iter().map(|r| i64_of(r, "idx_scan"))),
        )
        .with(
            "idx_tup_fetch",
            col::i64(rows.iter().map(|r| i64_of(r, "idx_tup_fetch"))),
        )
        .with("seq_scan_window", window(0, "seq_scan"))
        .with("seq_tup_read_window", window(1, "seq_tup_read"))
        .with("idx_scan_window", window(2, "idx_scan"))
        .with("n_live_tup", col::i64(rows.iter().map(live)))
        .with("n_dead_tup", col::i64(rows.iter().map(dead)))
        .with(
            "dead_ratio_pct",
            col::f64(rows.iter().map(|r| {
                let (l, d) = (live(r)?, dead(r)?);
                (l + d > 0).then(|| d as f64 * 100.0 / (l + d) as f64)
            })),
        )
        .with(
            "n_mod_since_analyze",
            col::i64(rows.iter().map(|r| i64_of(r, "n_mod_since_analyze"))),
        )
        .with(
            "last_vacuum",
            col::timestamp(rows.iter().map(|r| micros_of(r, "last_vacuum"))),
        )
        .with(
            "last_autovacuum",
            col::timestamp(rows.iter().map(|r| micros_of(r, "last_autovacuum"))),
        )
        .with(
            "last_analyze",
            col::timestamp(rows.iter().map(|r| micros_of(r, "last_analyze"))),
        )
        .with(
            "last_autoanalyze",
            col::timestamp(rows.iter().map(|r| micros_of(r, "last_autoanalyze"))),
        )
        .with(
            "autovacuum_count",
            col::i64(rows.iter().map(|r| i64_of(r, "autovacuum_count"))),
        )
        .with(
            "size_bytes",
            col::i64(rows.iter().map(|r| i64_of(r, "size_bytes"))),
        )
        .with("size_exact", col::bool(vec![Some(exact); n]))
        .with(
            "index_keys",
            col::utf8(rows.iter().map(|r| text_of(r, "index_keys"))),
        )
}

/// The `pg_indexes` table.
pub(crate) fn indexes(conn: &mut Conn, top_n: i64, label: &str, tally: &mut Tally) -> Table {
    let (rows, exact) = tally
        .timed(|tally| {
            sized(
                conn,
                "indexes",
                INDEXES_SQL,
                EXACT_INDEX_SIZE,
                "indexes",
                top_n,
                tally,
            )
        })
        .unwrap_or_default();
    let n = rows.len();
    Table::new()
        .with("target", col::utf8(vec![Some(label); n]))
        .with(
            "schema",
            col::utf8(rows.iter().map(|r| text_of(r, "schemaname"))),
        )
        .with(
            "table",
            col::utf8(rows.iter().map(|r| text_of(r, "table_name"))),
        )
        .with(
            "index",
            col::utf8(rows.iter().map(|r| text_of(r, "index_name"))),
        )
        .with(
            "size_bytes",
            col::i64(rows.iter().map(|r| i64_of(r, "size_bytes"))),
        )
        .with(
            "idx_scan",
            col::i64(rows.iter().map(|r| i64_of(r, "idx_scan"))),
        )
        .with(
            "is_unique",
            col::bool(rows.iter().map(|r| bool_of(r, "is_unique"))),
        )
        .with(
            "is_primary",
            col::bool(rows.iter().map(|r| bool_of(r, "is_primary"))),
        )
        .with(
            "is_valid",
            col::bool(rows.iter().map(|r| bool_of(r, "is_valid"))),
        )
        .with(
            "duplicate_of",
            col::utf8(rows.iter().map(|r| text_of(r, "duplicate_of"))),
        )
        .with("size_exact", col::bool(vec![Some(exact); n]))
}
