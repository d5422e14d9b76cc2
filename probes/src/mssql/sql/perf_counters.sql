-- The cumulative ("/sec", cntr_type 272696576) counters worth a rate, read at the start
-- and the end of the window. object_name starts with SQLServer: on a default instance
-- and MSSQL$NAME: on a named one, hence LIKE.
SELECT
    RTRIM(counter_name) AS counter_name,
    RTRIM(instance_name) AS instance_name,
    cntr_value AS value,
    SYSUTCDATETIME() AS read_at
FROM sys.dm_os_performance_counters
WHERE cntr_type = 272696576
  AND (
    (object_name LIKE '%SQL Statistics%'
        AND counter_name IN ('Batch Requests/sec', 'SQL Compilations/sec', 'SQL Re-Compilations/sec'))
    OR (object_name LIKE '%Buffer Manager%'
        AND counter_name IN ('Page reads/sec', 'Page writes/sec', 'Lazy writes/sec'))
    OR (object_name LIKE '%Access Methods%'
        AND counter_name IN ('Full Scans/sec', 'Index Searches/sec', 'Page Splits/sec'))
    OR (object_name LIKE '%:Locks%' AND instance_name = '_Total'
        AND counter_name IN ('Lock Waits/sec', 'Number of Deadlocks/sec', 'Lock Timeouts/sec'))
    OR (object_name LIKE '%:Databases%' AND instance_name = '_Total'
        AND counter_name IN ('Transactions/sec', 'Log Flushes/sec'))
  )
ORDER BY counter_name;
