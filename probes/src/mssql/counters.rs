//! Sub-probe `mssql.counters`: the cumulative counters read at the start and at the
//! end of the window (waits, file I/O, performance counters), so that analyzers
//! compute the window's waits, latencies and rates. Pure mappings from the rows of
//! `wait_stats.sql`, `file_io.sql` and `perf_counters.sql`.

use perfdiag_model::facts::mssql::{MssqlCounter, MssqlCounters, MssqlFileIo, MssqlWait};

use crate::db::TextRows;

/// The rows read at one end of the window (start or end); a query that failed or was
/// not run is `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowRows {
    pub wait_stats: Option<TextRows>,
    pub file_io: Option<TextRows>,
    pub perf_counters: Option<TextRows>,
    /// `statements.sql` (see `statements.rs`).
    pub statements: Option<TextRows>,
}

/// One reading; `None` when none of its queries answered (its time is the server's
/// clock of the first that did).
pub(crate) fn reading(rows: &WindowRows) -> Option<MssqlCounters> {
    let at = [&rows.perf_counters, &rows.wait_stats, &rows.file_io]
        .into_iter()
        .flatten()
        .find_map(|t| t.iter().find_map(|r| r.time("read_at")))?;
    Some(MssqlCounters {
        at,
        waits: rows.wait_stats.as_ref().map(waits).unwrap_or_default(),
        files: rows.file_io.as_ref().map(files).unwrap_or_default(),
        counters: rows
            .perf_counters
            .as_ref()
            .map(counters)
            .unwrap_or_default(),
    })
}

fn waits(rows: &TextRows) -> Vec<MssqlWait> {
    rows.iter()
        .filter_map(|r| {
            Some(MssqlWait {
                wait_type: r.string("wait_type")?,
                waiting_tasks: r.i64("waiting_tasks").unwrap_or(0),
                wait_time_ms: r.i64("wait_time_ms")?,
                signal_wait_time_ms: r.i64("signal_wait_time_ms").unwrap_or(0),
            })
        })
        .collect()
}

fn files(rows: &TextRows) -> Vec<MssqlFileIo> {
    rows.iter()
        .filter_map(|r| {
            let n = |c: &str| r.i64(c).unwrap_or(0);
            Some(MssqlFileIo {
                database: r.string("database_name")?,
                file_id: r.i64("file_id")?,
                file: r.string("file_name").unwrap_or_default(),
                type_desc: r.string("type_desc").unwrap_or_default(),
                physical_name: r.string("physical_name"),
                reads: n("reads"),
                bytes_read: n("bytes_read"),
                read_stall_ms: n("read_stall_ms"),
                writes: n("writes"),
                bytes_written: n("bytes_written"),
                write_stall_ms: n("write_stall_ms"),
                size_bytes: r.i64("size_bytes"),
            })
        })
        .collect()
}

fn counters(rows: &TextRows) -> Vec<MssqlCounter> {
    rows.iter()
        .filter_map(|r| {
            Some(MssqlCounter {
                name: r.string("counter_name")?.trim().to_owned(),
                value: r.i64("value")?,
            })
        })
        .collect()
}
