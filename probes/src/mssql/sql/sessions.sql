-- One sample of what the server is doing: every user request but the probe's own, and
-- the sessions that block one without running a request themselves (a head blocker is
-- often a sleeping session with an open transaction), with their last statement.
-- Elapsed times are in ms; times of sleeping sessions are measured from their last
-- request's end, local time against local time.
SELECT
    r.session_id,
    DB_NAME(r.database_id) AS database_name,
    s.login_name,
    s.host_name,
    s.program_name,
    r.status,
    r.command,
    r.wait_type,
    r.wait_time AS wait_time_ms,
    r.wait_resource,
    r.blocking_session_id,
    r.cpu_time AS cpu_time_ms,
    r.total_elapsed_time AS elapsed_ms,
    r.logical_reads,
    r.open_transaction_count AS open_transactions,
    CONVERT(varchar(18), r.query_hash, 1) AS query_hash,
    LEFT(SUBSTRING(st.text, (r.statement_start_offset / 2) + 1,
        ((CASE r.statement_end_offset WHEN -1 THEN DATALENGTH(st.text)
          ELSE r.statement_end_offset END - r.statement_start_offset) / 2) + 1), 2000) AS statement_text
FROM sys.dm_exec_requests AS r
JOIN sys.dm_exec_sessions AS s ON s.session_id = r.session_id
OUTER APPLY sys.dm_exec_sql_text(r.sql_handle) AS st
WHERE s.is_user_process = 1 AND r.session_id <> @@SPID
UNION ALL
SELECT
    s.session_id,
    DB_NAME(s.database_id),
    s.login_name,
    s.host_name,
    s.program_name,
    s.status,
    NULL,
    NULL,
    NULL,
    NULL,
    0,
    s.cpu_time,
    CAST(DATEDIFF(second, s.last_request_end_time, SYSDATETIME()) AS bigint) * 1000,
    s.logical_reads,
    s.open_transaction_count,
    NULL,
    LEFT(last_sql.text, 2000)
FROM sys.dm_exec_sessions AS s
LEFT JOIN sys.dm_exec_connections AS c ON c.session_id = s.session_id AND c.net_transport <> 'Session'
OUTER APPLY sys.dm_exec_sql_text(c.most_recent_sql_handle) AS last_sql
WHERE s.session_id IN (SELECT b.blocking_session_id FROM sys.dm_exec_requests AS b WHERE b.blocking_session_id > 0)
  AND NOT EXISTS (SELECT 1 FROM sys.dm_exec_requests AS own WHERE own.session_id = s.session_id);
