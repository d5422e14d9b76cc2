-- pg_stat_statements counters without their text (showtext => false does not read
-- the query text file: cheap even with pg_stat_statements.max = 10000), read at the
-- start and the end of the window. Rows are summed per (userid, dbid, queryid) so the
-- `toplevel` split of 1.9+ (PostgreSQL 14) does not matter.
-- PostgreSQL 13+ names: total_exec_time/mean_exec_time (12 and older: total_time,
-- see statements_pre13.sql). Without pg_read_all_stats, other roles' rows have a
-- NULL queryid and are dropped.
-- {schema} is the quoted schema the extension was installed in.
SELECT s.userid::int8,
       s.dbid::int8,
       s.queryid::int8,
       max(r.rolname)::text AS rolname,
       max(d.datname)::text AS datname,
       sum(s.calls)::int8 AS calls,
       sum(s.total_exec_time)::float8 AS total_exec_time_ms,
       sum(s.rows)::int8 AS rows,
       sum(s.shared_blks_hit)::int8 AS shared_blks_hit,
       sum(s.shared_blks_read)::int8 AS shared_blks_read,
       sum(s.shared_blks_dirtied)::int8 AS shared_blks_dirtied,
       sum(s.shared_blks_written)::int8 AS shared_blks_written,
       sum(s.temp_blks_read)::int8 AS temp_blks_read,
       sum(s.temp_blks_written)::int8 AS temp_blks_written
FROM {schema}.pg_stat_statements(false) s
LEFT JOIN pg_roles r ON r.oid = s.userid
LEFT JOIN pg_database d ON d.oid = s.dbid
WHERE s.queryid IS NOT NULL
GROUP BY s.userid, s.dbid, s.queryid
