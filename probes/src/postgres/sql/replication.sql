-- Standbys streaming from this server. Without pg_read_all_stats (pg_monitor) the
-- address, state and lag columns of other roles' walsenders read as NULL.
-- write_lag/flush_lag/replay_lag exist since 10.
SELECT application_name::text,
       host(client_addr) AS client_addr,
       state::text,
       sync_state::text,
       (extract(epoch FROM write_lag) * 1000)::float8 AS write_lag_ms,
       (extract(epoch FROM flush_lag) * 1000)::float8 AS flush_lag_ms,
       (extract(epoch FROM replay_lag) * 1000)::float8 AS replay_lag_ms,
       pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::float8 AS replay_lag_bytes
FROM pg_stat_replication
ORDER BY application_name
