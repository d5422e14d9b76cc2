-- User tables of the connected database at the end of the window, bounded: the top N
-- ($1) by size, by rows read in sequential scans and by dead tuples (a table in any
-- of the three lists is kept).
-- {size} is pg_total_relation_size(c.oid), which takes an ACCESS SHARE lock on each
-- table and so waits behind an ACCESS EXCLUSIVE lock until lock_timeout; when that
-- happens the probe runs this query again with {size} = relpages * block_size (the
-- size at the last VACUUM/ANALYZE, no lock taken). Sizes are in bytes.
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
       size_bytes::int8
FROM ranked
WHERE by_size <= $1 OR by_seq <= $1 OR by_dead <= $1
ORDER BY size_bytes DESC NULLS LAST
