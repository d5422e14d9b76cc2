//! SQL Server workload steps: find and end blocking chains, and tune the statements
//! that take the largest share of the CPU. Both are read-only queries for a person to
//! act on; nothing is changed, so there is nothing to roll back.

use perfdiag_model::{Phase, Risk, Value};

use super::mssql::per_target;
use super::{Draft, StepDef, text, verify};

pub(super) const BLOCKING: StepDef = StepDef {
    id: "mssql.locks.resolve_blocking",
    rule_id: "mssql.locks.blocking",
    phase: Phase::QuickWins,
    build: |ctx, findings| {
        let (script, rollback) = per_target(ctx, findings, |m, f| {
            let heads = text(f, "mssql_sessions.head_blockers").unwrap_or("<session id>");
            let rcsi = m
                .and_then(|m| m.database.as_deref().and_then(|d| m.database(d)))
                .filter(|d| d.read_committed_snapshot == Some(false))
                .map(|d| {
                    format!(
                        "-- Lasting fix: shorter transactions, rows locked in one order, and indexes\n\
                         -- for the blocked statements. Readers blocked by writers stop waiting with\n\
                         -- READ_COMMITTED_SNAPSHOT (test first: tempdb version store, code relying on\n\
                         -- blocking reads): ALTER DATABASE [{}] SET READ_COMMITTED_SNAPSHOT ON;\n",
                        d.name.replace(']', "]]")
                    )
                })
                .unwrap_or_else(|| {
                    "-- Lasting fix: shorter transactions, rows locked in one order, and indexes\n\
                     -- for the blocked statements.\n"
                        .to_owned()
                });
            (
                format!(
                    "-- 1. Who blocks whom right now, head blockers first:\n\
                     SELECT r.session_id, r.blocking_session_id, r.wait_type, r.wait_time, r.wait_resource, \
                     s.login_name, s.host_name, s.program_name, s.open_transaction_count, t.text \
                     FROM sys.dm_exec_sessions AS s LEFT JOIN sys.dm_exec_requests AS r ON r.session_id = s.session_id \
                     OUTER APPLY sys.dm_exec_sql_text(r.sql_handle) AS t \
                     WHERE r.blocking_session_id <> 0 OR s.session_id IN (SELECT blocking_session_id FROM sys.dm_exec_requests) \
                     ORDER BY r.blocking_session_id, r.wait_time DESC;\n\
                     -- 2. If a head blocker is an abandoned session, end it (its transaction rolls\n\
                     -- back, which can take as long as it ran):\n\
                     -- KILL <session id>;   -- head blockers seen in the samples: {heads}\n\
                     {rcsi}"
                ),
                "-- Nothing to undo: a killed session's transaction was rolled back by the server.\n"
                    .to_owned(),
            )
        });
        Draft {
            script,
            rollback,
            risk: Risk::Medium,
            needs_restart: false,
            verify: verify("mssql_sessions.blocked.peak", "= 0"),
        }
    },
};

/// A query hash as a T-SQL binary literal, when it is one (`0x` and hex digits).
fn hash_literal(text: &str) -> Option<String> {
    let hex = text
        .strip_prefix("0x")
        .or_else(|| text.strip_prefix("0X"))?;
    (!hex.is_empty() && hex.len() <= 16 && hex.chars().all(|c| c.is_ascii_hexdigit()))
        .then(|| format!("0x{}", hex.to_ascii_uppercase()))
}

pub(super) const TOP_CPU: StepDef = StepDef {
    id: "mssql.sql.tune_top_cpu",
    rule_id: "mssql.statements.top_cpu",
    phase: Phase::SqlIndexes,
    build: |ctx, findings| {
        let (script, rollback) = per_target(ctx, findings, |_, f| {
            let hashes: Vec<String> = f
                .evidence
                .iter()
                .filter(|e| e.metric == "mssql.statement.query_hash")
                .filter_map(|e| match &e.observed {
                    Value::Text { text } => hash_literal(text),
                    Value::Number { .. } => None,
                })
                .collect();
            let filter = if hashes.is_empty() {
                String::new()
            } else {
                format!("WHERE qs.query_hash IN ({}) ", hashes.join(", "))
            };
            (
                format!(
                    "-- The statements named above take the largest share of the CPU. Their plans\n\
                     -- (open query_plan in SSMS): look for scans of large tables, implicit\n\
                     -- conversions (CONVERT_IMPLICIT), key lookups and parallelism, then add the\n\
                     -- index the plan asks for, or rewrite the statement; compare the CPU per\n\
                     -- execution before and after.\n\
                     SELECT TOP (20) qs.query_hash, qs.execution_count, qs.total_worker_time / 1000 AS cpu_ms, \
                     qs.total_worker_time / 1000 / qs.execution_count AS cpu_ms_per_call, \
                     qs.total_logical_reads / qs.execution_count AS reads_per_call, qp.query_plan \
                     FROM sys.dm_exec_query_stats AS qs CROSS APPLY sys.dm_exec_query_plan(qs.plan_handle) AS qp \
                     {filter}ORDER BY qs.total_worker_time DESC;\n"
                ),
                "-- Nothing to undo: this step only reads.\n".to_owned(),
            )
        });
        Draft {
            script,
            rollback,
            risk: Risk::Low,
            needs_restart: false,
            verify: verify("mssql.statement.cpu_pct", "< 10 %"),
        }
    },
};

#[cfg(test)]
mod tests {
    use super::hash_literal;

    #[test]
    fn only_hex_hashes_become_literals() {
        assert_eq!(
            hash_literal("0x8f2c1d00aa00bb01").as_deref(),
            Some("0x8F2C1D00AA00BB01")
        );
        assert_eq!(hash_literal("8F2C"), None);
        assert_eq!(hash_literal("0x12; DROP TABLE t"), None);
    }
}
