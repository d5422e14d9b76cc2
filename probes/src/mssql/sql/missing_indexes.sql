-- Indexes the optimizer asked for since the server started, server-wide (VIEW SERVER
-- STATE). statement is [database].[schema].[table]. improvement is the usual ranking:
-- (seeks + scans) x average cost x average impact (a percentage).
SELECT TOP (200)
    DB_NAME(mid.database_id) AS database_name,
    PARSENAME(mid.statement, 2) AS schema_name,
    PARSENAME(mid.statement, 1) AS table_name,
    mid.equality_columns,
    mid.inequality_columns,
    mid.included_columns,
    migs.user_seeks,
    migs.user_scans,
    migs.avg_total_user_cost,
    migs.avg_user_impact,
    (migs.user_seeks + migs.user_scans) * migs.avg_total_user_cost * migs.avg_user_impact AS improvement
FROM sys.dm_db_missing_index_details AS mid
JOIN sys.dm_db_missing_index_groups AS mig ON mig.index_handle = mid.index_handle
JOIN sys.dm_db_missing_index_group_stats AS migs ON migs.group_handle = mig.index_group_handle
ORDER BY improvement DESC;
