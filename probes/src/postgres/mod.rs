//! PostgreSQL: facts, statement statistics, tables and indexes, and sessions sampled
//! through the window, over one read-only connection.
//!
//! ```text
//! connect ─► start readings ─► tick … tick ─► finish: end readings ─► DbOutput
//!            settings, activity,  sessions       activity, statements,
//!            security, hba,                      tables, indexes
//!            statements, tables
//! ```
//! Each sub-probe (one module each) records its own outcome in a [`probe::Tally`];
//! a failing query costs only its part. When the server goes away mid-window, the
//! connection is marked lost, later queries fail at once, and `finish` returns what
//! was gathered before with `partial`/`failed` records. The queries are in `sql/`.
//!
//! `replay` runs this same collector over a capture of the offline scripts instead
//! of a connection (`perfdiag import`, see `crate::offline`).

mod activity;
mod connect;
mod probe;
mod security;
mod sessions;
mod settings;
mod statements;
mod tables;

use std::time::{Duration, Instant};

use perfdiag_model::facts::PostgresFacts;
use perfdiag_model::{ProbeRecord, tables as names};

use crate::db::{DbCollector, DbError, DbOptions, DbOutput, DbTarget, Engine};
use crate::offline::{Phase, Replay};
use connect::Conn;
use probe::Tally;

/// Connects to a PostgreSQL target and takes the start-of-window readings.
pub fn connect(target: &DbTarget, options: &DbOptions) -> Result<Box<dyn DbCollector>, DbError> {
    Ok(Box::new(PgCollector::connect(target, options)?))
}

/// Replays an offline capture through the collector: the start readings, each sample,
/// the end readings, as a live window would have read them (`perfdiag import`).
pub(crate) fn replay(label: &str, top_n: usize, replay: Replay, samples: &[u32]) -> DbOutput {
    let mut c = PgCollector::with_conn(Conn::replay(replay), label.to_owned(), top_n);
    c.start();
    for n in samples {
        c.set_phase(Phase::Sample(*n));
        c.tick();
    }
    c.set_phase(Phase::End);
    c.finish_output()
}

/// The per-sub-probe tallies, in the order their records are reported.
#[derive(Debug, Default)]
struct Tallies {
    settings: Tally,
    activity: Tally,
    security: Tally,
    hba: Tally,
    statements: Tally,
    tables: Tally,
}

/// A collector connected to one PostgreSQL server.
#[derive(Debug)]
pub struct PgCollector {
    label: String,
    top_n: usize,
    conn: Conn,
    facts: PostgresFacts,
    tallies: Tallies,
    statements_access: Option<statements::Access>,
    statements_start: Option<statements::Reading>,
    tables_start: Option<tables::StartCounters>,
    sessions: sessions::Sessions,
    sessions_spent: Duration,
}

impl PgCollector {
    /// Connects and takes the start-of-window readings.
    pub fn connect(target: &DbTarget, options: &DbOptions) -> Result<Self, DbError> {
        let conn = Conn::open(target, options)?;
        let mut c = Self::with_conn(conn, target.label().to_owned(), options.top_n);
        c.start();
        Ok(c)
    }

    fn with_conn(conn: Conn, label: String, top_n: usize) -> Self {
        Self {
            facts: PostgresFacts {
                target: label.clone(),
                ..PostgresFacts::default()
            },
            label,
            top_n: top_n.max(1),
            conn,
            tallies: Tallies::default(),
            statements_access: None,
            statements_start: None,
            tables_start: None,
            sessions: sessions::Sessions::default(),
            sessions_spent: Duration::ZERO,
        }
    }

    /// Moves a replay to the next phase of the capture (no-op when live).
    fn set_phase(&mut self, phase: Phase) {
        if let Some(replay) = self.conn.replay_mut() {
            replay.set_phase(phase);
        }
    }

    fn start(&mut self) {
        let t = &mut self.tallies;
        settings::collect(&mut self.conn, &mut self.facts, &mut t.settings);
        let version = self.facts.server_version_num.unwrap_or(0);
        self.sessions = sessions::Sessions::new(version);
        self.facts.start = activity::counters(&mut self.conn, version, &mut t.activity);
        self.facts.replication =
            activity::replication(&mut self.conn, self.facts.in_recovery, &mut t.activity);
        self.facts.connections = activity::connections(&mut self.conn, &mut t.activity);
        let mut security = security::collect(&mut self.conn, &mut t.security);
        let user = self
            .facts
            .user
            .clone()
            .unwrap_or_else(|| "<role>".to_owned());
        security.hba_rules = security::hba(&mut self.conn, &user, &mut t.hba);
        self.facts.security = Some(security);
        self.statements_access = statements::access(&mut self.facts, &mut t.statements);
        if let Some(access) = &self.statements_access {
            self.statements_start = statements::read(&mut self.conn, access, &mut t.statements);
        }
        self.tables_start = tables::start(&mut self.conn, &mut t.tables);
    }

    /// Queries issued so far and the time they took as seen by the client (for the
    /// load measurements).
    pub fn query_stats(&self) -> (u64, Duration) {
        (self.conn.queries, self.conn.spent)
    }

    fn sessions_record(&self) -> ProbeRecord {
        let s = &self.sessions;
        crate::db::tally::sampled(
            "postgres.sessions",
            &self.label,
            (s.ticks_ok, s.ticks_failed),
            s.first_error.as_deref(),
            self.sessions_spent,
        )
    }

    /// The end readings and everything gathered, as [`DbOutput`].
    pub fn finish_output(mut self) -> DbOutput {
        let t = &mut self.tallies;
        let version = self.facts.server_version_num.unwrap_or(0);
        let lost_before = !self.conn.is_alive();
        self.facts.end = activity::counters(&mut self.conn, version, &mut t.activity);
        let top_n = i64::try_from(self.top_n).unwrap_or(i64::MAX);
        let statements_table = match &self.statements_access {
            Some(access) => match statements::read(&mut self.conn, access, &mut t.statements) {
                Some(end) => statements::finish(
                    &mut self.conn,
                    access,
                    (self.statements_start.as_ref(), &end),
                    self.top_n,
                    &self.label,
                    &mut self.facts.pg_stat_statements,
                    &mut t.statements,
                ),
                None => statements::empty_table(&self.label),
            },
            None => statements::empty_table(&self.label),
        };
        let tables_table = tables::tables(
            &mut self.conn,
            self.tables_start.as_ref(),
            top_n,
            &self.label,
            &mut t.tables,
        );
        let indexes_table = tables::indexes(&mut self.conn, top_n, &self.label, &mut t.tables);
        if lost_before {
            for tally in [&mut t.activity, &mut t.statements, &mut t.tables] {
                tally.hint("The connection was lost during the window: the end-of-window readings are missing; the samples taken before are kept");
            }
        }
        if let Some(c) = self.facts.connections.as_mut() {
            c.peak_client_backends =
                match (c.peak_client_backends, self.sessions.peak_client_backends) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
        }
        let label = self.label.clone();
        let mut records = vec![
            t.settings.record("postgres.settings", &label),
            t.activity.record("postgres.activity", &label),
            t.security.record("postgres.security", &label),
            t.hba.record("postgres.hba", &label),
            t.statements.record("postgres.statements", &label),
            t.tables.record("postgres.tables", &label),
        ];
        records.push(self.sessions_record());
        let sessions_table = self.sessions.table(&label);
        // Not even the version was read: there are no facts to speak of.
        let facts = self
            .facts
            .server_version_num
            .is_some()
            .then(|| serde_json::to_value(&self.facts).ok())
            .flatten();
        self.conn.close();
        DbOutput {
            engine: Engine::Postgres,
            target: label,
            facts,
            tables: vec![
                (names::PG_SESSIONS, sessions_table),
                (names::PG_STATEMENTS, statements_table),
                (names::PG_TABLES, tables_table),
                (names::PG_INDEXES, indexes_table),
            ],
            records,
        }
    }
}

impl DbCollector for PgCollector {
    fn tick(&mut self) {
        let started = Instant::now();
        self.sessions.sample(&mut self.conn);
        self.sessions_spent += started.elapsed();
    }

    fn finish(self: Box<Self>) -> DbOutput {
        (*self).finish_output()
    }
}
