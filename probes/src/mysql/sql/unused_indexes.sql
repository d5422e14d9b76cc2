-- Indexes not read since performance_schema started (what sys.schema_unused_indexes
-- shows; sys is absent on MariaDB < 10.6 and often not installed, so the view's query
-- is used directly). Meaningful only after a representative uptime: the facts carry
-- the uptime for the rule to judge.
SELECT OBJECT_SCHEMA, OBJECT_NAME, INDEX_NAME
FROM performance_schema.table_io_waits_summary_by_index_usage
WHERE INDEX_NAME IS NOT NULL AND INDEX_NAME <> 'PRIMARY' AND COUNT_STAR = 0
  AND OBJECT_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')
ORDER BY OBJECT_SCHEMA, OBJECT_NAME, INDEX_NAME
