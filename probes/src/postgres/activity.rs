//! Sub-probe `postgres.activity`: cumulative counters read at the start and the end of
//! the window (per-database cache, temp, deadlocks, conflicts, commits; checkpointer
//! and background writer; WAL), so analyzers can compute the window's rates; plus,
//! once at the start, replication state and connections by state.
//!
//! The checkpointer's view depends on the version: PostgreSQL 17 split it out of
//! `pg_stat_bgwriter` into `pg_stat_checkpointer`; `pg_stat_wal` exists from 14 and
//! lost its write/sync counters in 18.

use perfdiag_model::facts::postgres::{
    PgCheckpointer, PgConnections, PgCounters, PgDatabaseStats, PgReplica, PgReplication, PgWal,
};

use super::connect::{Binds, Conn};
use super::probe::{Tally, f64_of, i64_of, text_of, time_of};

const DATABASE_STATS_SQL: &str = include_str!("sql/database_stats.sql");
const BGWRITER_SQL: &str = include_str!("sql/bgwriter.sql");
const CHECKPOINTER_SQL: &str = include_str!("sql/checkpointer.sql");
const WAL_SQL: &str = include_str!("sql/wal.sql");
const WAL_18_SQL: &str = include_str!("sql/wal_18.sql");
const REPLICATION_SQL: &str = include_str!("sql/replication.sql");
const REPLICATION_STANDBY_SQL: &str = include_str!("sql/replication_standby.sql");
const CONNECTIONS_SQL: &str = include_str!("sql/connections.sql");

/// Reads the cumulative counters. `version` is `server_version_num` (0 if unknown:
/// the newest views are then not tried).
pub(crate) fn counters(conn: &mut Conn, version: i64, tally: &mut Tally) -> Option<PgCounters> {
    tally.timed(|tally| {
        let mut counters = PgCounters {
            at: conn.now(),
            ..PgCounters::default()
        };
        let mut any = false;
        match conn.fetch("database_stats", DATABASE_STATS_SQL, Binds::None) {
            Ok(rows) => {
                if let Some(at) = rows.first().and_then(|r| time_of(r, "at")) {
                    counters.at = at;
                }
                counters.databases = rows
                    .iter()
                    .filter_map(|r| {
                        Some(PgDatabaseStats {
                            datname: text_of(r, "datname")?,
                            numbackends: i64_of(r, "numbackends"),
                            xact_commit: i64_of(r, "xact_commit"),
                            xact_rollback: i64_of(r, "xact_rollback"),
                            blks_read: i64_of(r, "blks_read"),
                            blks_hit: i64_of(r, "blks_hit"),
                            temp_files: i64_of(r, "temp_files"),
                            temp_bytes: i64_of(r, "temp_bytes"),
                            deadlocks: i64_of(r, "deadlocks"),
                            conflicts: i64_of(r, "conflicts"),
                            stats_reset: time_of(r, "stats_reset"),
                        })
                    })
                    .collect();
                any = true;
                tally.ok();
            }
            Err(e) => tally.failed("pg_stat_database", &e),
        }
        let (name, sql, view) = if version >= 170_000 {
            ("checkpointer", CHECKPOINTER_SQL, "pg_stat_checkpointer")
        } else {
            ("bgwriter", BGWRITER_SQL, "pg_stat_bgwriter")
        };
        match conn.fetch(name, sql, Binds::None) {
            Ok(rows) => {
                counters.bgwriter = rows.first().map(|r| PgCheckpointer {
                    checkpoints_timed: i64_of(r, "checkpoints_timed"),
                    checkpoints_req: i64_of(r, "checkpoints_req"),
                    checkpoint_write_time_ms: f64_of(r, "checkpoint_write_time_ms"),
                    checkpoint_sync_time_ms: f64_of(r, "checkpoint_sync_time_ms"),
                    buffers_checkpoint: i64_of(r, "buffers_checkpoint"),
                    buffers_clean: i64_of(r, "buffers_clean"),
                    maxwritten_clean: i64_of(r, "maxwritten_clean"),
                    buffers_backend: i64_of(r, "buffers_backend"),
                    buffers_alloc: i64_of(r, "buffers_alloc"),
                    stats_reset: time_of(r, "stats_reset"),
                });
                any = true;
                tally.ok();
            }
            Err(e) => tally.failed(view, &e),
        }
        if version >= 140_000 {
            let (name, sql) = if version >= 180_000 {
                ("wal_18", WAL_18_SQL)
            } else {
                ("wal", WAL_SQL)
            };
            match conn.fetch(name, sql, Binds::None) {
                Ok(rows) => {
                    counters.wal = rows.first().map(|r| PgWal {
                        wal_records: i64_of(r, "wal_records"),
                        wal_fpi: i64_of(r, "wal_fpi"),
                        wal_bytes: f64_of(r, "wal_bytes"),
                        wal_buffers_full: i64_of(r, "wal_buffers_full"),
                        wal_write: i64_of(r, "wal_write"),
                        wal_sync: i64_of(r, "wal_sync"),
                        stats_reset: time_of(r, "stats_reset"),
                    });
                    any = true;
                    tally.ok();
                }
                Err(e) => tally.failed("pg_stat_wal", &e),
            }
        }
        any.then_some(counters)
    })
}

/// Replication: standbys of a primary, or the replay delay of a standby.
pub(crate) fn replication(
    conn: &mut Conn,
    in_recovery: Option<bool>,
    tally: &mut Tally,
) -> Option<PgReplication> {
    tally.timed(|tally| {
        let in_recovery = in_recovery?;
        let mut replication = PgReplication {
            in_recovery,
            ..PgReplication::default()
        };
        let result = if in_recovery {
            conn.fetch("replication_standby", REPLICATION_STANDBY_SQL, Binds::None)
                .map(|rows| {
                    replication.replay_delay_ms =
                        rows.first().and_then(|r| f64_of(r, "replay_delay_ms"));
                })
        } else {
            conn.fetch("replication", REPLICATION_SQL, Binds::None)
                .map(|rows| {
                    replication.replicas = rows
                        .iter()
                        .map(|r| PgReplica {
                            application_name: text_of(r, "application_name"),
                            client_addr: text_of(r, "client_addr"),
                            state: text_of(r, "state"),
                            sync_state: text_of(r, "sync_state"),
                            write_lag_ms: f64_of(r, "write_lag_ms"),
                            flush_lag_ms: f64_of(r, "flush_lag_ms"),
                            replay_lag_ms: f64_of(r, "replay_lag_ms"),
                            replay_lag_bytes: f64_of(r, "replay_lag_bytes"),
                        })
                        .collect();
                })
        };
        match result {
            Ok(()) => {
                tally.ok();
                Some(replication)
            }
            Err(e) => {
                tally.failed("replication", &e);
                None
            }
        }
    })
}

/// Connection limits and client backends by state.
pub(crate) fn connections(conn: &mut Conn, tally: &mut Tally) -> Option<PgConnections> {
    tally.timed(
        |tally| match conn.fetch("connections", CONNECTIONS_SQL, Binds::None) {
            Ok(rows) => {
                let mut c = PgConnections::default();
                let mut total = 0;
                for r in rows.iter() {
                    c.max_connections = c.max_connections.or(i64_of(r, "max_connections"));
                    c.reserved_connections =
                        c.reserved_connections.or(i64_of(r, "reserved_connections"));
                    let n = i64_of(r, "sessions").unwrap_or(0);
                    if n > 0 {
                        let state = text_of(r, "state").unwrap_or_else(|| "unknown".to_owned());
                        c.by_state.insert(state, n);
                        total += n;
                    }
                }
                c.peak_client_backends = Some(total);
                tally.ok();
                Some(c)
            }
            Err(e) => {
                tally.failed("connections", &e);
                None
            }
        },
    )
}
