//! Sub-probe `postgres.sessions`: one sample of pg_stat_activity per tick, every
//! non-idle session but perfdiag's own, with its wait, its ages, the pids blocking it
//! (for sessions waiting on a lock) and its query text with literals masked. The
//! number of client backends of each sample feeds the connection peak.
//!
//! One query per tick, a few dozen rows: negligible database time even with hundreds
//! of connections (see `benches/pg_tick.rs`).

use perfdiag_model::{Table, col};

use super::connect::{Binds, Conn};
use super::probe::{f64_of, i64_of, text_of};
use crate::sql::mask_literals;

const SESSIONS_SQL: &str = include_str!("sql/sessions.sql");

/// One sampled session.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SessionRow {
    pub ts: i64,
    pub pid: Option<i64>,
    pub datname: Option<String>,
    pub usename: Option<String>,
    pub application_name: Option<String>,
    pub client_addr: Option<String>,
    pub backend_type: Option<String>,
    pub state: Option<String>,
    pub wait_event_type: Option<String>,
    pub wait_event: Option<String>,
    pub query_age_ms: Option<f64>,
    pub xact_age_ms: Option<f64>,
    pub state_age_ms: Option<f64>,
    pub blocked_by: Option<String>,
    pub query_id: Option<i64>,
    pub query: Option<String>,
}

/// Every sample of the window, and how the ticks fared.
#[derive(Debug, Default)]
pub(crate) struct Sessions {
    sql: String,
    pub rows: Vec<SessionRow>,
    pub ticks_ok: u32,
    pub ticks_failed: u32,
    pub first_error: Option<String>,
    pub peak_client_backends: Option<i64>,
}

impl Sessions {
    /// `version` is `server_version_num`: query_id exists from PostgreSQL 14.
    pub fn new(version: i64) -> Self {
        let query_id = if version >= 140_000 {
            "a.query_id"
        } else {
            "NULL::int8"
        };
        Self {
            sql: SESSIONS_SQL.replace("{query_id}", query_id),
            ..Self::default()
        }
    }

    /// Takes one sample; a failure is counted, never fatal.
    pub fn sample(&mut self, conn: &mut Conn) {
        let ts = conn.now().timestamp_micros();
        match conn.fetch("sessions", &self.sql, Binds::None) {
            Ok(rows) => {
                self.ticks_ok += 1;
                for r in rows.iter() {
                    if let Some(n) = i64_of(r, "client_backends") {
                        // Our own connection is a client backend too: not the
                        // application's.
                        let n = (n - 1).max(0);
                        self.peak_client_backends =
                            Some(self.peak_client_backends.map_or(n, |p| p.max(n)));
                    }
                    // The LEFT JOIN's placeholder row when nothing is active.
                    let Some(pid) = i64_of(r, "pid") else {
                        continue;
                    };
                    self.rows.push(SessionRow {
                        ts,
                        pid: Some(pid),
                        datname: text_of(r, "datname"),
                        usename: text_of(r, "usename"),
                        application_name: text_of(r, "application_name"),
                        client_addr: text_of(r, "client_addr"),
                        backend_type: text_of(r, "backend_type"),
                        state: text_of(r, "state"),
                        wait_event_type: text_of(r, "wait_event_type"),
                        wait_event: text_of(r, "wait_event"),
                        query_age_ms: f64_of(r, "query_age_ms"),
                        xact_age_ms: f64_of(r, "xact_age_ms"),
                        state_age_ms: f64_of(r, "state_age_ms"),
                        blocked_by: text_of(r, "blocked_by").filter(|b| !b.is_empty()),
                        query_id: i64_of(r, "query_id"),
                        query: text_of(r, "query").map(|q| mask_literals(&q)),
                    });
                }
            }
            Err(e) => {
                self.ticks_failed += 1;
                self.first_error.get_or_insert_with(|| e.to_string());
            }
        }
    }

    /// The `pg_sessions` table.
    pub fn table(&self, label: &str) -> Table {
        let r = &self.rows;
        let n = r.len();
        let text =
            |f: fn(&SessionRow) -> &Option<String>| col::utf8(r.iter().map(|s| f(s).clone()));
        Table::new()
            .with("target", col::utf8(vec![Some(label); n]))
            .with("ts", col::timestamp(r.iter().map(|s| Some(s.ts))))
            .with("pid", col::i64(r.iter().map(|s| s.pid)))
            .with("datname", text(|s| &s.datname))
            .with("usename", text(|s| &s.usename))
            .with("application_name", text(|s| &s.application_name))
            .with("client_addr", text(|s| &s.client_addr))
            .with("backend_type", text(|s| &s.backend_type))
            .with("state", text(|s| &s.state))
            .with("wait_event_type", text(|s| &s.wait_event_type))
            .with("wait_event", text(|s| &s.wait_event))
            .with("query_age_ms", col::f64(r.iter().map(|s| s.query_age_ms)))
            .with("xact_age_ms", col::f64(r.iter().map(|s| s.xact_age_ms)))
            .with("state_age_ms", col::f64(r.iter().map(|s| s.state_age_ms)))
            .with("blocked_by", text(|s| &s.blocked_by))
            .with("query_id", col::i64(r.iter().map(|s| s.query_id)))
            .with("query", text(|s| &s.query))
    }
}
