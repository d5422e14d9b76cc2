//! SQL Server: facts, statement statistics, indexes and sessions sampled through the
//! window, over one read-only TDS connection (tiberius).
//!
//! ```text
//! connect ─► start readings ─► tick … tick ─► finish: end readings ─► DbOutput
//!            server, databases,  sessions       waits, file I/O, counters,
//!            security, waits,                   statements, memory, plan cache,
//!            file I/O, counters,                missing indexes, index usage
//!            statements
//! ```
//! Every query is a file of `sql/` whose rows come back as text ([`TextRows`], see
//! [`cells`]), and [`results::assemble`] maps them to the facts and tables, so the
//! same mapping serves a live collection, `perfdiag import` of sqlcmd's files and
//! the tests on recorded rows. Each sub-probe records its own outcome in a
//! [`probe::Tally`]; what needs more than VIEW SERVER STATE (msdb's backup history,
//! other databases' Query Store, every login) is recorded as skipped with the GRANT
//! that would allow it.
//!
//! `replay` runs this same collector over a capture of the sqlcmd scripts instead of
//! a connection (`perfdiag import`, see `crate::offline`): the records, GRANT hints
//! and Query Store come out as a live run would make them.

pub(crate) mod ado;
pub mod cells;
mod connect;
pub mod counters;
mod databases;
mod indexes;
mod probe;
pub mod results;
mod security;
mod server;
pub mod sessions;
mod statements;

use std::time::{Duration, Instant};

use perfdiag_model::{ProbeRecord, ProbeStatus};

use crate::db::{DbCollector, DbError, DbOptions, DbOutput, DbTarget, Engine, TextRows};
use crate::offline::{Phase, Replay};
use connect::{Conn, QueryError};
use counters::WindowRows;
use probe::{Tally, quote_name};
pub use results::{Assembled, Results, assemble};

/// Every query of the probe, by file name: what the parse test and `perfdiag
/// scripts` walk. Placeholders in braces (`{top}`, `{database}`, `{lock_timeout_ms}`)
/// are filled before a query runs.
pub const QUERIES: &[(&str, &str)] = &[
    ("session", include_str!("sql/session.sql")),
    ("server", SERVER_SQL),
    ("host_info", HOST_INFO_SQL),
    ("sys_info", SYS_INFO_SQL),
    ("configurations", CONFIGURATIONS_SQL),
    ("memory", MEMORY_SQL),
    ("plan_cache", PLAN_CACHE_SQL),
    ("databases", DATABASES_SQL),
    ("vlf_counts", VLF_COUNTS_SQL),
    ("backups", BACKUPS_SQL),
    ("query_store", QUERY_STORE_SQL),
    ("tempdb_files", TEMPDB_FILES_SQL),
    ("logins", LOGINS_SQL),
    ("wait_stats", WAIT_STATS_SQL),
    ("file_io", FILE_IO_SQL),
    ("perf_counters", PERF_COUNTERS_SQL),
    ("statements", STATEMENTS_SQL),
    ("missing_indexes", MISSING_INDEXES_SQL),
    ("indexes", INDEXES_SQL),
    ("sessions", SESSIONS_SQL),
];

const SERVER_SQL: &str = include_str!("sql/server.sql");
const HOST_INFO_SQL: &str = include_str!("sql/host_info.sql");
const SYS_INFO_SQL: &str = include_str!("sql/sys_info.sql");
const CONFIGURATIONS_SQL: &str = include_str!("sql/configurations.sql");
const MEMORY_SQL: &str = include_str!("sql/memory.sql");
const PLAN_CACHE_SQL: &str = include_str!("sql/plan_cache.sql");
const DATABASES_SQL: &str = include_str!("sql/databases.sql");
const VLF_COUNTS_SQL: &str = include_str!("sql/vlf_counts.sql");
const BACKUPS_SQL: &str = include_str!("sql/backups.sql");
const QUERY_STORE_SQL: &str = include_str!("sql/query_store.sql");
const TEMPDB_FILES_SQL: &str = include_str!("sql/tempdb_files.sql");
const LOGINS_SQL: &str = include_str!("sql/logins.sql");
const WAIT_STATS_SQL: &str = include_str!("sql/wait_stats.sql");
const FILE_IO_SQL: &str = include_str!("sql/file_io.sql");
const PERF_COUNTERS_SQL: &str = include_str!("sql/perf_counters.sql");
const STATEMENTS_SQL: &str = include_str!("sql/statements.sql");
const MISSING_INDEXES_SQL: &str = include_str!("sql/missing_indexes.sql");
const INDEXES_SQL: &str = include_str!("sql/indexes.sql");
const SESSIONS_SQL: &str = include_str!("sql/sessions.sql");

/// Query Store is read in at most this many user databases (one query each).
pub const MAX_QUERY_STORE_DATABASES: usize = 200;

/// The name of the Query Store reading of one database (its file in a capture): by
/// id, since a database's name may hold anything a file name cannot.
pub fn query_store_name(database_id: i64) -> String {
    format!("query_store.{database_id}")
}

/// Connects to a SQL Server target and takes the start-of-window readings.
pub fn connect(target: &DbTarget, options: &DbOptions) -> Result<Box<dyn DbCollector>, DbError> {
    Ok(Box::new(MssqlCollector::connect(target, options)?))
}

/// Replays an offline capture through the collector: the start readings, each sample,
/// the end readings, as a live window would have read them (`perfdiag import`).
pub(crate) fn replay(label: &str, top_n: usize, replay: Replay, samples: &[u32]) -> DbOutput {
    let mut c = MssqlCollector::with_conn(Conn::replay(replay), label.to_owned(), top_n);
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
    server: Tally,
    memory: Tally,
    databases: Tally,
    security: Tally,
    counters: Tally,
    statements: Tally,
    indexes: Tally,
}

/// A collector connected to one SQL Server.
#[derive(Debug)]
pub struct MssqlCollector {
    label: String,
    top_n: usize,
    conn: Conn,
    results: Results,
    tallies: Tallies,
    /// The login, bracketed, for GRANT hints.
    grantee: String,
    /// `false` when the login lacks VIEW SERVER STATE: sys.dm_exec_requests then shows
    /// only perfdiag's own session, without an error, so sampling would read "idle".
    can_see_sessions: bool,
    ticks_ok: u32,
    ticks_failed: u32,
    first_tick_error: Option<String>,
    sessions_spent: Duration,
}

impl MssqlCollector {
    /// Connects and takes the start-of-window readings.
    pub fn connect(target: &DbTarget, options: &DbOptions) -> Result<Self, DbError> {
        let conn = Conn::open(target, options)?;
        let mut c = Self::with_conn(conn, target.label().to_owned(), options.top_n);
        c.start();
        Ok(c)
    }

    fn with_conn(conn: Conn, label: String, top_n: usize) -> Self {
        Self {
            label,
            top_n: top_n.max(1),
            conn,
            results: Results::default(),
            tallies: Tallies::default(),
            grantee: "[perfdiag]".to_owned(),
            can_see_sessions: true,
            ticks_ok: 0,
            ticks_failed: 0,
            first_tick_error: None,
            sessions_spent: Duration::ZERO,
        }
    }

    /// Moves a replay to the next phase of the capture (no-op when live).
    fn set_phase(&mut self, phase: Phase) {
        if let Some(replay) = self.conn.replay_mut() {
            replay.set_phase(phase);
        }
    }

    /// `GRANT permission TO [login];`
    fn grant(&self, permission: &str) -> String {
        format!("GRANT {permission} TO {};", self.grantee)
    }

    fn start(&mut self) {
        let t = &mut self.tallies;
        let r = &mut self.results;
        r.server = query(
            &mut self.conn,
            &mut t.server,
            "server identity",
            ("server", SERVER_SQL),
            None,
        );
        let server_row = |column: &str| {
            r.server
                .as_ref()
                .and_then(|rows| rows.iter().next().and_then(|row| row.string(column)))
        };
        if let Some(login) = server_row("login_name") {
            self.grantee = quote_name(&login);
        }
        let sees_everything = ["is_sysadmin", "has_view_any_definition"]
            .iter()
            .any(|c| server_row(c).as_deref() == Some("1"));
        self.can_see_sessions = server_row("has_view_server_state").as_deref() != Some("0");
        let vss = self.grant("VIEW SERVER STATE");
        let t = &mut self.tallies;
        let r = &mut self.results;
        // sys.dm_os_host_info is missing on SQL Server 2016: the platform stays unknown.
        r.host_info = match t
            .server
            .timed(|_| self.conn.fetch("host_info", HOST_INFO_SQL))
        {
            Ok(rows) => {
                t.server.ok();
                Some(rows)
            }
            Err(e) if e.is_missing_object() => None,
            Err(e) => {
                note_error(&mut t.server, "sys.dm_os_host_info", &e, &vss);
                None
            }
        };
        r.sys_info = query(
            &mut self.conn,
            &mut t.server,
            "sys.dm_os_sys_info",
            ("sys_info", SYS_INFO_SQL),
            Some(&vss),
        );
        r.configurations = query(
            &mut self.conn,
            &mut t.server,
            "sys.configurations",
            ("configurations", CONFIGURATIONS_SQL),
            None,
        );

        r.databases = query(
            &mut self.conn,
            &mut t.databases,
            "sys.databases",
            ("databases", DATABASES_SQL),
            Some(&vss),
        );
        r.vlf_counts = query(
            &mut self.conn,
            &mut t.databases,
            "VLF counts (sys.dm_db_log_info, SQL Server 2016 SP2+)",
            ("vlf_counts", VLF_COUNTS_SQL),
            Some(&vss),
        );
        let msdb = format!(
            "USE msdb; CREATE USER {g} FOR LOGIN {g}; GRANT SELECT ON dbo.backupset TO {g};",
            g = self.grantee
        );
        r.backups = query(
            &mut self.conn,
            &mut t.databases,
            "last backups (msdb.dbo.backupset)",
            ("backups", BACKUPS_SQL),
            Some(&msdb),
        );
        r.tempdb_files = query(
            &mut self.conn,
            &mut t.databases,
            "tempdb files",
            ("tempdb_files", TEMPDB_FILES_SQL),
            None,
        );
        self.read_query_store();

        let t = &mut self.tallies;
        let r = &mut self.results;
        r.logins = query(
            &mut self.conn,
            &mut t.security,
            "logins",
            ("logins", LOGINS_SQL),
            None,
        );
        if r.logins.is_some() && !sees_everything {
            t.security.skipped(
                "logins other than sa and perfdiag's own (not visible without VIEW ANY DEFINITION)"
                    .to_owned(),
                &format!("GRANT VIEW ANY DEFINITION TO {};", self.grantee),
            );
        }
        self.results.start = self.window_readings(&vss);
    }

    /// Query Store of each ONLINE user database, by three-part name.
    fn read_query_store(&mut self) {
        let names: Vec<(i64, String)> = self
            .results
            .databases
            .as_ref()
            .map(databases::databases)
            .unwrap_or_default()
            .into_iter()
            .filter(|d| !d.is_system() && databases::is_online(d))
            .map(|d| (d.database_id, d.name))
            .collect();
        let tally = &mut self.tallies.databases;
        if names.len() > MAX_QUERY_STORE_DATABASES {
            tally.hint(&format!(
                "Query Store was read in the first {MAX_QUERY_STORE_DATABASES} of {} user databases",
                names.len()
            ));
        }
        let hint = format!("GRANT CONNECT ANY DATABASE TO {};", self.grantee);
        let mut denied = Vec::new();
        for (id, name) in names.into_iter().take(MAX_QUERY_STORE_DATABASES) {
            let sql = QUERY_STORE_SQL.replace("{database}", &quote_name(&name));
            let file = query_store_name(id);
            match tally.timed(|_| self.conn.fetch(&file, &sql)) {
                Ok(rows) => {
                    tally.ok();
                    self.results.query_store.insert(name, rows);
                }
                Err(e) if e.is_permission() => denied.push(name),
                Err(e) => tally.failed(&format!("Query Store of {name}"), &e),
            }
        }
        if !denied.is_empty() {
            tally.skipped(
                format!(
                    "Query Store of {} (no access to the database)",
                    denied.join(", ")
                ),
                &hint,
            );
        }
    }

    /// The counters and statements read at one end of the window.
    fn window_readings(&mut self, vss: &str) -> WindowRows {
        let t = &mut self.tallies;
        let statements_sql = STATEMENTS_SQL.replace("{top}", &(self.top_n * 4).to_string());
        WindowRows {
            wait_stats: query(
                &mut self.conn,
                &mut t.counters,
                "wait statistics",
                ("wait_stats", WAIT_STATS_SQL),
                Some(vss),
            ),
            file_io: query(
                &mut self.conn,
                &mut t.counters,
                "file I/O",
                ("file_io", FILE_IO_SQL),
                Some(vss),
            ),
            perf_counters: query(
                &mut self.conn,
                &mut t.counters,
                "performance counters",
                ("perf_counters", PERF_COUNTERS_SQL),
                Some(vss),
            ),
            statements: query(
                &mut self.conn,
                &mut t.statements,
                "sys.dm_exec_query_stats",
                ("statements", &statements_sql),
                Some(vss),
            ),
        }
    }

    /// Queries issued so far and the time they took as seen by the client.
    pub fn query_stats(&self) -> (u64, Duration) {
        (self.conn.queries, self.conn.spent)
    }

    fn sessions_record(&self) -> ProbeRecord {
        if !self.can_see_sessions {
            return ProbeRecord {
                id: "mssql.sessions".to_owned(),
                target: Some(self.label.clone()),
                status: ProbeStatus::Skipped,
                duration_ms: 0,
                message: Some(
                    "not sampled: without VIEW SERVER STATE sys.dm_exec_requests shows only \
                     perfdiag's own session"
                        .to_owned(),
                ),
                hint: Some(self.grant("VIEW SERVER STATE")),
            };
        }
        crate::db::tally::sampled(
            "mssql.sessions",
            &self.label,
            (self.ticks_ok, self.ticks_failed),
            self.first_tick_error.as_deref(),
            self.sessions_spent,
        )
    }

    /// The end readings and everything gathered, as [`DbOutput`].
    pub fn finish_output(mut self) -> DbOutput {
        let vss = self.grant("VIEW SERVER STATE");
        self.results.end = self.window_readings(&vss);
        let t = &mut self.tallies;
        let r = &mut self.results;
        r.memory = query(
            &mut self.conn,
            &mut t.memory,
            "memory",
            ("memory", MEMORY_SQL),
            Some(&vss),
        );
        r.plan_cache = query(
            &mut self.conn,
            &mut t.memory,
            "plan cache",
            ("plan_cache", PLAN_CACHE_SQL),
            Some(&vss),
        );
        r.missing_indexes = query(
            &mut self.conn,
            &mut t.indexes,
            "missing indexes",
            ("missing_indexes", MISSING_INDEXES_SQL),
            Some(&vss),
        );
        let indexes_sql = INDEXES_SQL.replace("{top}", &(self.top_n * 20).to_string());
        r.indexes = query(
            &mut self.conn,
            &mut t.indexes,
            "index usage",
            ("indexes", &indexes_sql),
            Some(&vss),
        );
        let assembled = assemble(&self.label, &self.results, self.top_n);
        let t = &mut self.tallies;
        if r_is_empty(&self.results.indexes) && !results::logins_visible(&assembled.facts) {
            t.indexes.skipped(
                format!(
                    "index usage: no index of database {} is visible to this login",
                    assembled.facts.database.as_deref().unwrap_or("?")
                ),
                &format!("GRANT VIEW ANY DEFINITION TO {};", self.grantee),
            );
        }
        if self.conn.reopens() > 0 {
            t.server.hint(&format!(
                "the connection was dropped and opened again {} time(s) after a query timed out \
                 or the network failed; raise --statement-timeout if queries time out",
                self.conn.reopens()
            ));
        }
        let label = self.label.clone();
        let mut records = vec![
            t.server.record("mssql.server", &label),
            t.memory.record("mssql.memory", &label),
            t.databases.record("mssql.databases", &label),
            t.security.record("mssql.security", &label),
            t.counters.record("mssql.counters", &label),
            t.statements.record("mssql.statements", &label),
            t.indexes.record("mssql.indexes", &label),
        ];
        records.push(self.sessions_record());
        // Not even the version was read: there are no facts to speak of.
        let facts = assembled
            .facts
            .version
            .is_some()
            .then(|| serde_json::to_value(&assembled.facts).ok())
            .flatten();
        self.conn.close();
        DbOutput {
            engine: Engine::Mssql,
            target: label,
            facts,
            tables: assembled.tables,
            records,
        }
    }
}

fn r_is_empty(rows: &Option<TextRows>) -> bool {
    rows.as_ref().is_some_and(TextRows::is_empty)
}

impl DbCollector for MssqlCollector {
    fn tick(&mut self) {
        if !self.can_see_sessions {
            return;
        }
        let started = Instant::now();
        let ts = self.conn.now().timestamp_micros();
        match self.conn.fetch("sessions", SESSIONS_SQL) {
            Ok(rows) => {
                self.ticks_ok += 1;
                self.results.sessions.push((ts, rows));
            }
            Err(e) => {
                self.ticks_failed += 1;
                self.first_tick_error.get_or_insert_with(|| e.to_string());
            }
        }
        self.sessions_spent += started.elapsed();
    }

    fn finish(self: Box<Self>) -> DbOutput {
        (*self).finish_output()
    }
}

/// Runs one query for a sub-probe: its rows, or `None` with the failure recorded (as
/// skipped with `grant` when a permission is missing and a GRANT would allow it).
fn query(
    conn: &mut Conn,
    tally: &mut Tally,
    what: &str,
    (name, sql): (&str, &str),
    grant: Option<&str>,
) -> Option<TextRows> {
    match tally.timed(|_| conn.fetch(name, sql)) {
        Ok(rows) => {
            tally.ok();
            Some(rows)
        }
        Err(e) => {
            note_error(tally, what, &e, grant.unwrap_or(""));
            None
        }
    }
}

fn note_error(tally: &mut Tally, what: &str, e: &QueryError, grant: &str) {
    if e.is_permission() && !grant.is_empty() {
        tally.skipped(format!("{what}: {e}"), grant);
    } else {
        tally.failed(what, e);
    }
}
