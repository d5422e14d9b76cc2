-- Checkpointer and background writer, PostgreSQL 17+: checkpoints moved to
-- pg_stat_checkpointer (num_timed, num_requested, write_time, sync_time,
-- buffers_written); buffers_backend was removed (pg_stat_io has it per backend type).
SELECT c.num_timed::int8 AS checkpoints_timed,
       c.num_requested::int8 AS checkpoints_req,
       c.write_time::float8 AS checkpoint_write_time_ms,
       c.sync_time::float8 AS checkpoint_sync_time_ms,
       c.buffers_written::int8 AS buffers_checkpoint,
       b.buffers_clean::int8,
       b.maxwritten_clean::int8,
       NULL::int8 AS buffers_backend,
       b.buffers_alloc::int8,
       c.stats_reset
FROM pg_stat_checkpointer c, pg_stat_bgwriter b
