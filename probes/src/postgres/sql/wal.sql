-- WAL activity, PostgreSQL 14 to 17 (the view appeared in 14). PostgreSQL 18 dropped
-- wal_write/wal_sync and their times (see wal_18.sql).
SELECT wal_records::int8,
       wal_fpi::int8,
       wal_bytes::float8,
       wal_buffers_full::int8,
       wal_write::int8,
       wal_sync::int8,
       stats_reset
FROM pg_stat_wal
