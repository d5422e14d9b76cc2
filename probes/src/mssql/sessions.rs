//! Sub-probe `mssql.sessions`: one sample per tick of the user requests
//! (`sys.dm_exec_requests` with their sessions) and of the sessions that block them
//! without running a request, as the `mssql_sessions` table. Each row gets a wait
//! class (see [`wait_class`]); a row that blocks others and is not blocked itself is
//! a head blocker. Statement text is masked before it is kept.

use std::collections::BTreeSet;

use perfdiag_model::{Table, col};

use crate::db::TextRows;
use crate::sql::mask_literals;

/// The small set of wait classes the sessions are counted by, from the wait type:
///
/// | class | wait types |
/// |---|---|
/// | CPU | no wait (running or runnable), `SOS_SCHEDULER_YIELD` |
/// | Lock | `LCK_M_*` |
/// | Buffer IO | `PAGEIOLATCH_*` |
/// | Buffer Latch | `PAGELATCH_*` |
/// | Log | `WRITELOG`, `LOGBUFFER` |
/// | Network | `ASYNC_NETWORK_IO` |
/// | Parallelism | `CXPACKET`, `CXCONSUMER`, `CXSYNC_*` |
/// | Memory | `RESOURCE_SEMAPHORE*` |
/// | Idle | a sleeping session (kept only as a head blocker), `WAITFOR`, `BROKER_RECEIVE_WAITFOR` |
/// | Other | every other wait |
pub fn wait_class(status: Option<&str>, wait_type: Option<&str>) -> &'static str {
    if status.is_some_and(|s| s.eq_ignore_ascii_case("sleeping")) {
        return "Idle";
    }
    let Some(w) = wait_type.filter(|w| !w.is_empty()) else {
        return "CPU";
    };
    match w {
        "SOS_SCHEDULER_YIELD" => "CPU",
        "WRITELOG" | "LOGBUFFER" => "Log",
        "ASYNC_NETWORK_IO" => "Network",
        "CXPACKET" | "CXCONSUMER" => "Parallelism",
        "WAITFOR" | "BROKER_RECEIVE_WAITFOR" => "Idle",
        _ if w.starts_with("LCK_M_") => "Lock",
        _ if w.starts_with("PAGEIOLATCH_") => "Buffer IO",
        _ if w.starts_with("PAGELATCH_") => "Buffer Latch",
        _ if w.starts_with("CXSYNC_") => "Parallelism",
        _ if w.starts_with("RESOURCE_SEMAPHORE") => "Memory",
        _ => "Other",
    }
}

/// Statement text beyond this is cut (after masking).
const STATEMENT_MAX_CHARS: usize = 2000;

#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SessionRow {
    pub ts: i64,
    pub session_id: Option<i64>,
    pub database: Option<String>,
    pub login: Option<String>,
    pub host: Option<String>,
    pub program: Option<String>,
    pub status: Option<String>,
    pub command: Option<String>,
    pub wait_type: Option<String>,
    pub wait_class: &'static str,
    pub wait_time_ms: Option<i64>,
    pub wait_resource: Option<String>,
    pub blocking_session_id: Option<i64>,
    pub head_blocker: bool,
    pub cpu_time_ms: Option<i64>,
    pub elapsed_ms: Option<i64>,
    pub logical_reads: Option<i64>,
    pub open_transactions: Option<i64>,
    pub query_hash: Option<String>,
    pub statement: Option<String>,
}

/// The rows of one sample taken at `ts` (microseconds since the epoch).
pub(crate) fn sample(rows: &TextRows, ts: i64) -> Vec<SessionRow> {
    let mut out: Vec<SessionRow> = rows
        .iter()
        .map(|r| {
            let status = r.string("status");
            let wait_type = r.string("wait_type").filter(|w| !w.is_empty());
            SessionRow {
                ts,
                session_id: r.i64("session_id"),
                database: r.string("database_name"),
                login: r.string("login_name"),
                host: r.string("host_name"),
                program: r.string("program_name"),
                wait_class: wait_class(status.as_deref(), wait_type.as_deref()),
                status,
                command: r.string("command"),
                wait_type,
                wait_time_ms: r.i64("wait_time_ms"),
                wait_resource: r.string("wait_resource").filter(|w| !w.is_empty()),
                blocking_session_id: r.i64("blocking_session_id"),
                head_blocker: false,
                cpu_time_ms: r.i64("cpu_time_ms"),
                elapsed_ms: r.i64("elapsed_ms"),
                logical_reads: r.i64("logical_reads"),
                open_transactions: r.i64("open_transactions"),
                query_hash: r.string("query_hash"),
                statement: r
                    .text("statement_text")
                    .map(|t| mask_literals(t).chars().take(STATEMENT_MAX_CHARS).collect()),
            }
        })
        .collect();
    // 0 is "not blocked"; -2 to -5 are owners that are not sessions (an orphaned
    // distributed transaction, a deferred recovery, latch owners).
    let blockers: BTreeSet<i64> = out
        .iter()
        .filter_map(|s| s.blocking_session_id)
        .filter(|b| *b > 0)
        .collect();
    for s in &mut out {
        s.head_blocker = s.blocking_session_id.is_none_or(|b| b <= 0)
            && s.session_id.is_some_and(|id| blockers.contains(&id));
    }
    out
}

/// The `mssql_sessions` table.
pub(crate) fn table(rows: &[SessionRow], label: &str) -> Table {
    let text = |f: fn(&SessionRow) -> Option<&str>| col::utf8(rows.iter().map(f));
    let int = |f: fn(&SessionRow) -> Option<i64>| col::i64(rows.iter().map(f));
    Table::new()
        .with("ts", col::timestamp(rows.iter().map(|r| Some(r.ts))))
        .with("target", col::utf8(vec![Some(label); rows.len()]))
        .with("session_id", int(|r| r.session_id))
        .with("database", text(|r| r.database.as_deref()))
        .with("login", text(|r| r.login.as_deref()))
        .with("host", text(|r| r.host.as_deref()))
        .with("program", text(|r| r.program.as_deref()))
        .with("status", text(|r| r.status.as_deref()))
        .with("command", text(|r| r.command.as_deref()))
        .with("wait_type", text(|r| r.wait_type.as_deref()))
        .with("wait_class", text(|r| Some(r.wait_class)))
        .with("wait_time_ms", int(|r| r.wait_time_ms))
        .with("wait_resource", text(|r| r.wait_resource.as_deref()))
        .with("blocking_session_id", int(|r| r.blocking_session_id))
        .with(
            "head_blocker",
            col::bool(rows.iter().map(|r| Some(r.head_blocker))),
        )
        .with("cpu_time_ms", int(|r| r.cpu_time_ms))
        .with("elapsed_ms", int(|r| r.elapsed_ms))
        .with("logical_reads", int(|r| r.logical_reads))
        .with("open_transactions", int(|r| r.open_transactions))
        .with("query_hash", text(|r| r.query_hash.as_deref()))
        .with("statement", text(|r| r.statement.as_deref()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_types_fall_into_the_documented_classes() {
        let cases = [
            (Some("running"), None, "CPU"),
            (Some("runnable"), Some(""), "CPU"),
            (Some("suspended"), Some("SOS_SCHEDULER_YIELD"), "CPU"),
            (Some("suspended"), Some("LCK_M_X"), "Lock"),
            (Some("suspended"), Some("PAGEIOLATCH_SH"), "Buffer IO"),
            (Some("suspended"), Some("PAGELATCH_EX"), "Buffer Latch"),
            (Some("suspended"), Some("WRITELOG"), "Log"),
            (Some("suspended"), Some("LOGBUFFER"), "Log"),
            (Some("suspended"), Some("ASYNC_NETWORK_IO"), "Network"),
            (Some("suspended"), Some("CXPACKET"), "Parallelism"),
            (Some("suspended"), Some("CXCONSUMER"), "Parallelism"),
            (Some("suspended"), Some("RESOURCE_SEMAPHORE"), "Memory"),
            (
                Some("suspended"),
                Some("RESOURCE_SEMAPHORE_QUERY_COMPILE"),
                "Memory",
            ),
            (Some("suspended"), Some("PREEMPTIVE_OS_WRITEFILE"), "Other"),
            (Some("sleeping"), None, "Idle"),
            (Some("suspended"), Some("WAITFOR"), "Idle"),
        ];
        for (status, wait, want) in cases {
            assert_eq!(wait_class(status, wait), want, "{status:?} {wait:?}");
        }
    }
}
