-- Statement statistics of the plan cache, read at the start and the end of the window.
-- Entries are summed per query_hash (one shape of statement, whatever its literals and
-- plans); the {top} heaviest by CPU, by elapsed time and by logical reads are kept, each
-- with the text of its costliest entry. Times are in microseconds, as the DMV keeps them.
-- cached_at is the oldest creation_time, local time turned into UTC.
WITH entries AS (
    SELECT
        qs.query_hash,
        qs.sql_handle,
        qs.plan_handle,
        qs.statement_start_offset,
        qs.statement_end_offset,
        qs.creation_time,
        qs.execution_count,
        qs.total_worker_time,
        qs.total_elapsed_time,
        qs.total_logical_reads,
        qs.total_physical_reads,
        qs.total_logical_writes,
        qs.total_rows,
        ROW_NUMBER() OVER (PARTITION BY qs.query_hash ORDER BY qs.total_worker_time DESC) AS costliest
    FROM sys.dm_exec_query_stats AS qs
),
per_hash AS (
    SELECT
        query_hash,
        SUM(execution_count) AS calls,
        SUM(total_worker_time) AS total_cpu_us,
        SUM(total_elapsed_time) AS total_elapsed_us,
        SUM(total_logical_reads) AS logical_reads,
        SUM(total_physical_reads) AS physical_reads,
        SUM(total_logical_writes) AS logical_writes,
        SUM(total_rows) AS total_rows,
        MIN(creation_time) AS first_cached,
        ROW_NUMBER() OVER (ORDER BY SUM(total_worker_time) DESC) AS by_cpu,
        ROW_NUMBER() OVER (ORDER BY SUM(total_elapsed_time) DESC) AS by_elapsed,
        ROW_NUMBER() OVER (ORDER BY SUM(total_logical_reads) DESC) AS by_reads
    FROM entries
    GROUP BY query_hash
)
SELECT
    CONVERT(varchar(18), h.query_hash, 1) AS query_hash,
    DB_NAME(CAST(attr.value AS int)) AS database_name,
    h.calls,
    h.total_cpu_us,
    h.total_elapsed_us,
    h.logical_reads,
    h.physical_reads,
    h.logical_writes,
    h.total_rows,
    DATEADD(minute, DATEDIFF(minute, SYSDATETIME(), SYSUTCDATETIME()), h.first_cached) AS cached_at,
    LEFT(SUBSTRING(st.text, (e.statement_start_offset / 2) + 1,
        ((CASE e.statement_end_offset WHEN -1 THEN DATALENGTH(st.text)
          ELSE e.statement_end_offset END - e.statement_start_offset) / 2) + 1), 4000) AS statement_text
FROM per_hash AS h
JOIN entries AS e ON e.query_hash = h.query_hash AND e.costliest = 1
OUTER APPLY sys.dm_exec_sql_text(e.sql_handle) AS st
OUTER APPLY (
    SELECT pa.value FROM sys.dm_exec_plan_attributes(e.plan_handle) AS pa
    WHERE pa.attribute = 'dbid'
) AS attr
WHERE h.by_cpu <= {top} OR h.by_elapsed <= {top} OR h.by_reads <= {top}
ORDER BY h.total_cpu_us DESC;
