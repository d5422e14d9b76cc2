-- Per-database cumulative counters, read at the start and the end of the window.
-- The row with datid = 0 (shared objects, PG12+) has no name and is skipped.
-- conflicts only count on standbys; temp_* and deadlocks exist since 9.2.
SELECT clock_timestamp() AS at,
       datname::text,
       numbackends::int8,
       xact_commit::int8,
       xact_rollback::int8,
       blks_read::int8,
       blks_hit::int8,
       temp_files::int8,
       temp_bytes::int8,
       deadlocks::int8,
       conflicts::int8,
       stats_reset
FROM pg_stat_database
WHERE datname IS NOT NULL
ORDER BY datname
