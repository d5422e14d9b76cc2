-- User tables of the connected database at the end of the window, bounded: the top N
-- ($1) by size, by rows read in sequential scans and by dead tuples (a table in any
-- of the three lists is kept).
-- {size} is pg_total_relation_size(c.oid), which takes an ACCESS SHARE lock on each
-- table and so waits behind an ACCESS EXCLUSIVE lock until lock_timeout; when that
-- happens the probe runs this query again with {size} = relpages * block_size (the
-- size at the last VACUUM/ANALYZE, no lock taken). Sizes are in bytes.
-- index_keys: the key columns of each valid, non-partial index, in index order, columns
-- joined by ',' and indexes by ';' (an expression column shows as '(expression)'); the
-- analyzers use it so as not to suggest an index whose leading column is indexed
-- already. indkey holds INCLUDE columns too (PostgreSQL 11+), after the keys.
WITH t AS (
    SELECT s.relid, s.schemaname, s.relname, s.seq_scan, s.seq_tup_read, s.idx_scan,
           s.idx_tup_fetch, s.n_live_tup, s.n_dead_tup, s.n_mod_since_analyze,
           s.last_vacuum, s.last_autovacuum, s.last_analyze, s.last_autoanalyze,
           s.vacuum_count, s.autovacuum_count,
           {size} AS size_bytes
    FROM pg_stat_user_tables s
    JOIN pg_class c ON c.oid = s.relid
), ranked AS (
    SELECT t.*,
           rank() OVER (ORDER BY size_bytes DESC NULLS LAST) AS by_size,
           rank() OVER (ORDER BY seq_tup_read DESC NULLS LAST) AS by_seq,
           rank() OVER (ORDER BY n_dead_tup DESC NULLS LAST) AS by_dead
    FROM t
)
SELECT relid::int8, schemaname::text, relname::text,
       seq_scan::int8, seq_tup_read::int8, idx_scan::int8, idx_tup_fetch::int8,
       n_live_tup::int8, n_dead_tup::int8, n_mod_since_analyze::int8,
       last_vacuum, last_autovacuum, last_analyze, last_autoanalyze,
       vacuum_count::int8, autovacuum_count::int8,
       size_bytes::int8,
       (SELECT string_agg(k.keys, ';' ORDER BY k.keys)
        FROM (SELECT string_agg(coalesce(quote_ident(a.attname), '(expression)'), ','
                                ORDER BY o.n) AS keys
              FROM pg_index i
              CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS o(attnum, n)
              LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = o.attnum
              WHERE i.indrelid = ranked.relid AND i.indisvalid AND i.indpred IS NULL
              GROUP BY i.indexrelid) k) AS index_keys
FROM ranked
WHERE by_size <= $1 OR by_seq <= $1 OR by_dead <= $1
ORDER BY size_bytes DESC NULLS LAST
