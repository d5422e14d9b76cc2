-- Checkpointer and background writer, PostgreSQL up to 16: one view holds both.
-- (PostgreSQL 17 moved the checkpoint columns to pg_stat_checkpointer: see
-- checkpointer.sql.)
SELECT checkpoints_timed::int8,
       checkpoints_req::int8,
       checkpoint_write_time::float8 AS checkpoint_write_time_ms,
       checkpoint_sync_time::float8 AS checkpoint_sync_time_ms,
       buffers_checkpoint::int8,
       buffers_clean::int8,
       maxwritten_clean::int8,
       buffers_backend::int8,
       buffers_alloc::int8,
       stats_reset
FROM pg_stat_bgwriter
