//! What every database probe shares: targets, options, the collector contract, errors.
//!
//! A database collector connects once, reads its facts and first counters, samples
//! sessions at every tick of the window, and takes its second counter readings when the
//! window ends. It never writes: sessions are read-only with a statement timeout on
//! every query (see each engine's `session.sql`). Each of its sub-probes records its
//! own outcome, so a missing privilege costs only what needs it.

mod error;
pub mod rows;
pub(crate) mod tally;
mod target;

use std::time::Duration;

use std::collections::BTreeMap;

use perfdiag_model::{ProbeRecord, Snapshot, Table};

pub use error::DbError;
pub use rows::{Row, TextRows};
pub use target::{DbTarget, Engine};

/// Limits every database probe honours.
#[derive(Debug, Clone)]
pub struct DbOptions {
    /// Server-side timeout of every query.
    pub statement_timeout: Duration,
    /// How long a query may wait for a lock before giving up (PostgreSQL
    /// `lock_timeout`, MySQL `lock_wait_timeout`, SQL Server `SET LOCK_TIMEOUT`).
    pub lock_timeout: Duration,
    pub connect_timeout: Duration,
    /// How many statements, tables and indexes to keep in each top-N list.
    pub top_n: usize,
}

impl Default for DbOptions {
    fn default() -> Self {
        Self {
            statement_timeout: Duration::from_secs(5),
            lock_timeout: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(10),
            top_n: 50,
        }
    }
}

/// Everything one database collector gathered over the window.
#[derive(Debug, Clone)]
pub struct DbOutput {
    pub engine: Engine,
    /// The target's label (its URL without password).
    pub target: String,
    /// The engine's facts document for this target (`PostgresFacts`, `MysqlFacts`),
    /// `None` when not even the version could be read.
    pub facts: Option<serde_json::Value>,
    /// Tables named by `perfdiag_model::tables`, each with a `target` column.
    pub tables: Vec<(&'static str, Table)>,
    /// One record per sub-probe, each with `target` set.
    pub records: Vec<ProbeRecord>,
}

/// A collector connected to one database, sampling it through the window.
pub trait DbCollector: Send + std::fmt::Debug {
    /// One sample of sessions, waits and blocking. Errors are recorded, never fatal.
    fn tick(&mut self);
    /// The end-of-window readings, then everything collected.
    fn finish(self: Box<Self>) -> DbOutput;
}

/// Connects to `target` and takes the start-of-window readings.
pub fn connect(target: &DbTarget, options: &DbOptions) -> Result<Box<dyn DbCollector>, DbError> {
    match target.engine {
        Engine::Postgres => crate::postgres::connect(target, options),
        Engine::Mysql => crate::mysql::connect(target, options),
        Engine::Mssql => crate::mssql::connect(target, options),
    }
}

/// A current-thread tokio runtime for one collector: the CLI's loop stays synchronous,
/// and each collector drives its own connection.
pub fn runtime() -> Result<tokio::runtime::Runtime, DbError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| DbError::Internal(format!("cannot start the async runtime: {e}")))
}

/// Puts what the collectors gathered into `snapshot`, as `collect` writes it: one
/// facts document per engine listing every target, each table appended across
/// targets, every probe record. Returns a warning for each table that could not be
/// appended (a defect, since both sides come from this build; it must not cost the
/// rest of the snapshot).
pub fn put_into(
    outputs: impl IntoIterator<Item = DbOutput>,
    snapshot: &mut Snapshot,
) -> Vec<String> {
    let mut facts: BTreeMap<&str, Vec<serde_json::Value>> = BTreeMap::new();
    let mut tables: BTreeMap<&str, Table> = BTreeMap::new();
    let mut warnings = Vec::new();
    for output in outputs {
        facts
            .entry(output.engine.id())
            .or_default()
            .extend(output.facts);
        for (name, table) in output.tables {
            if let Err(e) = tables.entry(name).or_default().append(table) {
                warnings.push(format!("table {name} of {} not kept: {e}", output.target));
            }
        }
        for record in output.records {
            snapshot.record_probe(record);
        }
    }
    for (name, documents) in facts {
        snapshot.set_fact(name, &documents);
    }
    for (name, table) in tables {
        snapshot.put_table(name, table);
    }
    warnings
}
