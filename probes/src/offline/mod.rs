//! Offline collection: scripts for the engine's own client where no perfdiag binary may
//! run (`perfdiag scripts`), and the import of what they wrote (`perfdiag import`).
//!
//! There is one mapping from query results to facts and tables: the live collectors'.
//! Their connection returns every result as [`TextRows`](crate::db::TextRows); the
//! import hands the same collectors a [`Replay`] of the capture instead of a
//! connection, so start readings, samples and end readings go through exactly the code
//! of a live `collect` — differences, top-N choices, skipped-with-GRANT decisions and
//! all. The scripts run the same SQL files the probes run.
//!
//! An engine plugs in with three things: its scripts (its queries, each written to a
//! file named after it, for its client), its file format ([`FileFormat`]), and a
//! `replay` entry in its collector module that drives the collector over the phases.

mod capture;
mod import;
pub mod manifest;
mod mssql;
mod mysql;
mod postgres;
mod readme;
mod script;

use crate::db::Engine;

pub use capture::{Capture, FileFormat, Findings, Phase, Recorded, Replay};
pub use import::{Imported, import};
pub use script::{Script, ScriptOptions};

/// The scripts for `engine`'s own client.
pub fn scripts(engine: Engine, options: &ScriptOptions) -> Result<Script, String> {
    match engine {
        Engine::Postgres => Ok(postgres::script(options)),
        Engine::Mysql => Ok(mysql::script(options)),
        Engine::Mssql => Ok(mssql::script(options)),
    }
}
