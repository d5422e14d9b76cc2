-- WAL activity, PostgreSQL 18+: write and sync counts moved to pg_stat_io.
SELECT wal_records::int8,
       wal_fpi::int8,
       wal_bytes::float8,
       wal_buffers_full::int8,
       NULL::int8 AS wal_write,
       NULL::int8 AS wal_sync,
       stats_reset
FROM pg_stat_wal
