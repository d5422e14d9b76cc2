-- The plan cache, and the part of it taken by ad hoc plans used only once (what
-- 'optimize for ad hoc workloads' reclaims).
SELECT
    COUNT_BIG(*) AS plans,
    SUM(CAST(size_in_bytes AS bigint)) AS bytes,
    SUM(CASE WHEN objtype = 'Adhoc' AND usecounts = 1 THEN 1 ELSE 0 END) AS single_use_adhoc_plans,
    SUM(CASE WHEN objtype = 'Adhoc' AND usecounts = 1 THEN CAST(size_in_bytes AS bigint) ELSE 0 END) AS single_use_adhoc_bytes
FROM sys.dm_exec_cached_plans;
