-- On a standby: how long ago the last replayed transaction committed on the primary
-- (0 when replay has caught up with everything received). Only run in recovery,
-- where pg_current_wal_lsn() (used by replication.sql) would fail.
SELECT CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0::float8
            ELSE (extract(epoch FROM now() - pg_last_xact_replay_timestamp()) * 1000)::float8
       END AS replay_delay_ms
