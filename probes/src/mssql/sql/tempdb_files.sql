-- The files of tempdb, from tempdb itself (every login may read its catalog, unlike
-- sys.master_files). size and growth are in 8 KB pages unless growth is a percentage.
SELECT
    file_id,
    name,
    type_desc,
    physical_name,
    CAST(size AS bigint) * 8192 AS size_bytes,
    CASE WHEN is_percent_growth = 0 THEN CAST(growth AS bigint) * 8192 END AS growth_bytes,
    CASE WHEN is_percent_growth = 1 THEN growth END AS growth_pct
FROM tempdb.sys.database_files
ORDER BY file_id;
