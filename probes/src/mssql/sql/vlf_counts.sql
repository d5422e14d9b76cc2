-- Virtual log files per database (sys.dm_db_log_info: SQL Server 2016 SP2+, VIEW SERVER
-- STATE), for the databases that are ONLINE (state 0): the others cannot be read.
SELECT
    d.name,
    d.database_id,
    COUNT_BIG(*) AS vlf_count
FROM sys.databases AS d
CROSS APPLY sys.dm_db_log_info(d.database_id) AS li
WHERE d.state = 0
GROUP BY d.name, d.database_id
ORDER BY d.database_id;
