//! perfdiag's host-side collectors: host facts, OS parameters, network facts, the
//! resource sampler and top processes.
//!
//! Every probe reads `/proc` and `/sys` under a [`Root`], so the same code runs on the
//! live machine (`/`) and on fixture trees captured from real machines in tests.
//! Parsing is kept apart from reading: the `procfs` parsers are pure functions on
//! strings. A probe never panics or aborts the run on bad input; it records its own
//! outcome in a [`ProbeRecord`] (see [`record`]).

use std::path::PathBuf;

use perfdiag_model::ProbeRecord;

pub mod db;
pub mod error;
pub mod host;
pub mod logs;
pub mod mssql;
pub mod mysql;
pub mod network;
pub mod offline;
pub mod os;
pub mod postgres;
pub mod processes;
pub mod procfs;
pub mod record;
pub mod sampler;
pub mod sql;
mod sys;
mod sysfs;

pub use error::ProbeError;
pub use processes::ProcessTracker;
pub use sampler::Sampler;

/// Where /proc and /sys are read from: "/" in production, a fixture tree in tests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Root {
    path: PathBuf,
}

impl Root {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self { path: path.into() }
    }

    /// The live system, rooted at `/`.
    pub fn system() -> Self {
        Self::new("/")
    }

    /// A path under the root; `rel` is written without a leading slash ("proc/stat"),
    /// but one is tolerated.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.path.join(rel.trim_start_matches('/'))
    }

    /// True when this is the live system: only then may a probe ask the kernel
    /// directly (statvfs, adjtimex), since a fixture tree cannot answer those calls.
    pub fn is_system(&self) -> bool {
        self.path == std::path::Path::new("/")
    }
}

/// A one-shot probe's result: the facts when it ran (possibly partial) and its record.
#[derive(Debug, Clone)]
pub struct Collected<T> {
    pub facts: Option<T>,
    pub record: ProbeRecord,
}
