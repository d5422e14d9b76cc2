-- Every database with its options. Sizes come from sys.dm_io_virtual_file_stats
-- (VIEW SERVER STATE), typed by sys.master_files where visible (see file_io.sql).
-- LastGoodCheckDbTime (SQL Server 2016 SP2+) is the server's local time, and
-- 1900-01-01 when CHECKDB never succeeded: it is turned into UTC or NULL here.
SELECT
    d.name,
    d.database_id,
    d.state_desc AS state,
    d.recovery_model_desc AS recovery_model,
    d.compatibility_level,
    d.page_verify_option_desc AS page_verify,
    d.is_auto_shrink_on AS auto_shrink,
    d.is_auto_close_on AS auto_close,
    d.is_auto_create_stats_on AS auto_create_stats,
    d.is_auto_update_stats_on AS auto_update_stats,
    d.is_read_committed_snapshot_on AS read_committed_snapshot,
    d.snapshot_isolation_state_desc AS snapshot_isolation,
    d.is_read_only,
    d.log_reuse_wait_desc AS log_reuse_wait,
    sizes.data_bytes,
    sizes.log_bytes,
    CASE WHEN checkdb.local_time > '1900-01-01'
        THEN DATEADD(minute, clock.utc_offset_min, checkdb.local_time) END AS last_good_checkdb
FROM sys.databases AS d
CROSS JOIN (SELECT DATEDIFF(minute, SYSDATETIME(), SYSUTCDATETIME()) AS utc_offset_min) AS clock
CROSS APPLY (SELECT CAST(DATABASEPROPERTYEX(d.name, 'LastGoodCheckDbTime') AS datetime2(3)) AS local_time) AS checkdb
LEFT JOIN (
    SELECT
        vfs.database_id,
        SUM(CASE WHEN COALESCE(mf.type_desc, CASE WHEN vfs.file_id = 2 THEN 'LOG' ELSE 'ROWS' END) = 'LOG'
            THEN 0 ELSE vfs.size_on_disk_bytes END) AS data_bytes,
        SUM(CASE WHEN COALESCE(mf.type_desc, CASE WHEN vfs.file_id = 2 THEN 'LOG' ELSE 'ROWS' END) = 'LOG'
            THEN vfs.size_on_disk_bytes ELSE 0 END) AS log_bytes
    FROM sys.dm_io_virtual_file_stats(NULL, NULL) AS vfs
    LEFT JOIN sys.master_files AS mf
        ON mf.database_id = vfs.database_id AND mf.file_id = vfs.file_id
    GROUP BY vfs.database_id
) AS sizes ON sizes.database_id = d.database_id
ORDER BY d.database_id;
