//! Slow-query logs: MySQL/MariaDB slow logs and PostgreSQL logs (stderr, csvlog,
//! jsonlog), read in bounded memory on all cores, and digested per fingerprint.
//!
//! ```text
//! input (file, .gz/.zst/.bz2) ──► format detection ──► LogParser (per format)
//!        ──► LogEvent per execution ──► fingerprint ──► Digest (per-class stats)
//! ```
//! A parser works on byte chunks that start at an event boundary, so a driver can cut
//! a large block into one chunk per core ([`LogParser::next_boundary`]) and merge the
//! per-thread digests.

use std::borrow::Cow;

/// The formats perfdiag reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogFormat {
    /// MySQL/MariaDB/Percona slow query log.
    MysqlSlow,
    /// PostgreSQL stderr/syslog-style text log, with its `log_line_prefix` when known
    /// (`None`: detected from the lines).
    PgStderr { prefix: Option<String> },
    /// PostgreSQL csvlog.
    PgCsv,
    /// PostgreSQL jsonlog (15+).
    PgJson,
}

/// One statement execution read from a log. Fields borrow from the chunk where they
/// can; `statement` is owned when the parser had to rebuild it (multi-line, bind
/// parameters substituted).
#[derive(Debug, Clone, PartialEq)]
pub struct LogEvent<'a> {
    /// Microseconds since the Unix epoch, UTC, when the log says.
    pub ts_us: Option<i64>,
    pub duration_ms: Option<f64>,
    pub lock_ms: Option<f64>,
    pub rows_sent: Option<u64>,
    pub rows_examined: Option<u64>,
    pub database: Option<&'a str>,
    pub user: Option<&'a str>,
    pub client: Option<&'a str>,
    pub statement: Cow<'a, str>,
    /// Byte offset of the event in its input (decompressed), for "at byte N" pointers.
    pub offset: u64,
}

/// What a parser did with a chunk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ParseStats {
    pub events: u64,
    /// Lines that belong to no event the parser understands (garbage, other messages).
    pub skipped_lines: u64,
}

impl std::ops::AddAssign for ParseStats {
    fn add_assign(&mut self, other: Self) {
        self.events += other.events;
        self.skipped_lines += other.skipped_lines;
    }
}

/// A parser for one format. Shared by the threads that parse chunks of one input.
pub trait LogParser: Sync {
    /// Parses the events that start in `chunk` (which begins at an event boundary, or
    /// at the start of the input), calling `sink` for each. `base` is the offset of
    /// `chunk` in the whole input. Never panics on bad input.
    fn parse(&self, chunk: &[u8], base: u64, sink: &mut dyn FnMut(LogEvent<'_>)) -> ParseStats;

    /// The first event boundary at or after `from` in `data` (`data.len()` when none):
    /// where a chunk may be cut without splitting an event.
    fn next_boundary(&self, data: &[u8], from: usize) -> usize;
}

pub mod digest;
pub mod input;
pub mod mysql_slow;
pub mod postgres;
pub mod probe;
