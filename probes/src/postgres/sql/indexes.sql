-- Indexes of the connected database's user tables, bounded: the top N ($1) by size,
-- plus every invalid index, every index duplicating another (same table, columns,
-- operator classes, expressions and predicate) and the top N unused ones by size.
-- {size} is pg_relation_size(i.indexrelid) (an ACCESS SHARE lock, so it can wait
-- until lock_timeout) or, in the fallback, relpages * block_size (no lock).
WITH ix AS (
    SELECT s.relid, s.indexrelid, s.schemaname, s.relname, s.indexrelname, s.idx_scan,
           i.indisunique, i.indisprimary, i.indisvalid,
           i.indkey::text || ' ' || i.indclass::text || ' '
               || coalesce(pg_get_expr(i.indexprs, i.indrelid), '') || ' '
               || coalesce(pg_get_expr(i.indpred, i.indrelid), '') AS shape,
           {size} AS size_bytes
    FROM pg_stat_user_indexes s
    JOIN pg_index i ON i.indexrelid = s.indexrelid
    JOIN pg_class c ON c.oid = s.indexrelid
), dup AS (
    SELECT ix.*,
           first_value(indexrelname) OVER w AS first_name,
           count(*) OVER (PARTITION BY relid, shape) AS same_shape
    FROM ix
    WINDOW w AS (PARTITION BY relid, shape ORDER BY indisprimary DESC, indisunique DESC,
                 indexrelname)
), ranked AS (
    SELECT dup.*,
           rank() OVER (ORDER BY size_bytes DESC NULLS LAST) AS by_size,
           rank() OVER (PARTITION BY idx_scan = 0 ORDER BY size_bytes DESC NULLS LAST)
               AS by_unused_size
    FROM dup
)
SELECT schemaname::text, relname::text AS table_name, indexrelname::text AS index_name,
       size_bytes::int8, idx_scan::int8, indisunique AS is_unique,
       indisprimary AS is_primary, indisvalid AS is_valid,
       CASE WHEN same_shape > 1 AND first_name <> indexrelname THEN first_name END::text
           AS duplicate_of
FROM ranked
WHERE by_size <= $1 OR NOT indisvalid OR same_shape > 1
   OR (idx_scan = 0 AND by_unused_size <= $1)
ORDER BY size_bytes DESC NULLS LAST
