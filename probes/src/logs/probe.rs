//! Slow-query logs as a collection probe: open a log (compressed or not), detect or
//! take its format, digest it, and keep the top classes as the `log_queries` table.

use std::io::Read;
use std::path::Path;
use std::time::Instant;

use perfdiag_model::{ProbeRecord, ProbeStatus, Table, col};

use super::digest::{Digest, digest_reader};
use super::mysql_slow::MysqlSlowParser;
use super::{LogFormat, LogParser, input, postgres};
use crate::sql::mask_literals;

/// An opened log, ready to digest.
pub struct OpenLog {
    pub format: LogFormat,
    /// What was detected, for the engineer ("PostgreSQL stderr log, prefix '…'").
    pub described: String,
    pub parser: Box<dyn LogParser>,
    pub reader: Box<dyn Read + Send>,
}

impl std::fmt::Debug for OpenLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenLog")
            .field("format", &self.format)
            .field("described", &self.described)
            .finish_non_exhaustive()
    }
}

/// Opens `path` with `format`, or detects it from the first 64 KB. `Ok(None)` for an
/// empty file.
pub fn open(path: &Path, format: Option<LogFormat>) -> Result<Option<OpenLog>, String> {
    let (head, reader) = input::open_with_head(path, input::HEAD_LEN)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let (format, described) = match format {
        Some(f) => {
            let described = format!("{} (as given)", describe(&f));
            (f, described)
        }
        None if head.is_empty() => return Ok(None),
        None => input::detect(&head).ok_or_else(|| {
            format!(
                "cannot tell the format of {}: give it with --format (and --prefix for a PostgreSQL stderr log)",
                path.display()
            )
        })?,
    };
    let parser = parser_for(&format, &head)
        .ok_or_else(|| format!("no parser for the format of {}", path.display()))?;
    Ok(Some(OpenLog {
        format,
        described,
        parser,
        reader,
    }))
}

/// A format in words, for the engineer.
pub fn describe(format: &LogFormat) -> String {
    match format {
        LogFormat::MysqlSlow => "MySQL/MariaDB slow query log".to_owned(),
        LogFormat::PgStderr { prefix: Some(p) } => format!("PostgreSQL stderr log, prefix '{p}'"),
        LogFormat::PgStderr { prefix: None } => "PostgreSQL stderr log".to_owned(),
        LogFormat::PgCsv => "PostgreSQL csvlog".to_owned(),
        LogFormat::PgJson => "PostgreSQL jsonlog".to_owned(),
    }
}

/// The parser of a format; PostgreSQL stderr parsers look at the head for syslog
/// wrapping and the prefix.
pub fn parser_for(format: &LogFormat, head: &[u8]) -> Option<Box<dyn LogParser>> {
    match format {
        LogFormat::MysqlSlow => Some(Box::new(MysqlSlowParser)),
        other => postgres::parser_for(other, head),
    }
}

/// Digests `path` into the `log_queries` table (top `top_n` classes by total time)
/// and the probe's record (id `logs`, target the file).
pub fn collect(path: &Path, threads: usize, top_n: usize) -> (Option<Table>, ProbeRecord) {
    let started = Instant::now();
    let mut record = ProbeRecord {
        id: "logs".to_owned(),
        target: Some(path.display().to_string()),
        status: ProbeStatus::Ok,
        duration_ms: 0,
        message: None,
        hint: None,
    };
    let result = open(path, None).and_then(|log| match log {
        None => Ok(None),
        Some(log) => digest_reader(log.reader, log.parser.as_ref(), threads, &|_| {})
            .map(|(digest, stats)| Some((log.described, digest, stats)))
            .map_err(|e| format!("reading {}: {e}", path.display())),
    });
    let table = match result {
        Ok(None) => {
            record.message = Some("empty file".to_owned());
            None
        }
        Ok(Some((described, digest, stats))) => {
            record.message = Some(format!(
                "{described}: {} events, {} classes, {} lines skipped",
                digest.events,
                digest.classes.len(),
                stats.skipped_lines
            ));
            Some(table(&digest, &path.display().to_string(), top_n))
        }
        Err(e) => {
            record.status = ProbeStatus::Failed;
            record.message = Some(e);
            record.hint = Some("check the path, or give the format with perfdiag logs --format to see what is read".to_owned());
            None
        }
    };
    record.duration_ms = started.elapsed().as_millis() as u64;
    (table, record)
}

/// The top classes as a table; sample statements have their literals masked.
pub fn table(digest: &Digest, source: &str, top_n: usize) -> Table {
    let rows: Vec<_> = digest.profile().into_iter().take(top_n).collect();
    let f = |get: &dyn Fn(&super::digest::ClassStats) -> f64| {
        col::f64(rows.iter().map(|r| Some(get(r.class))))
    };
    // Sums of what not every log records (rows: MySQL's slow log): null when no event
    // of the class had it.
    let counted = |get: &dyn Fn(&super::digest::ClassStats) -> &super::digest::Metric| {
        col::f64(rows.iter().map(|r| {
            let m = get(r.class);
            (m.count > 0).then_some(m.sum)
        }))
    };
    let names =
        |set: &super::digest::BoundedSet| set.values.keys().cloned().collect::<Vec<_>>().join(",");
    Table::new()
        .with("source", col::utf8(rows.iter().map(|_| Some(source))))
        .with("rank", col::i64(rows.iter().map(|r| Some(r.rank as i64))))
        .with(
            "id",
            col::utf8(rows.iter().map(|r| Some(format!("{:016x}", r.class.id)))),
        )
        .with(
            "fingerprint",
            col::utf8(rows.iter().map(|r| Some(r.class.fingerprint.clone()))),
        )
        .with(
            "sample",
            col::utf8(rows.iter().map(|r| Some(mask_literals(&r.class.sample)))),
        )
        .with(
            "calls",
            col::i64(rows.iter().map(|r| Some(r.class.count as i64))),
        )
        .with(
            "share_pct",
            col::f64(rows.iter().map(|r| Some(r.share * 100.0))),
        )
        .with("total_s", f(&|c| c.query_time.sum))
        .with("mean_s", f(&|c| c.query_time.mean()))
        .with("p95_s", f(&|c| c.query_time.p95()))
        .with("p99_s", f(&|c| c.query_time.p99()))
        .with("max_s", f(&|c| c.query_time.max))
        .with("lock_s", f(&|c| c.lock_time.sum))
        .with("rows_sent", counted(&|c| &c.rows_sent))
        .with("rows_examined", counted(&|c| &c.rows_examined))
        .with(
            "first_seen",
            col::timestamp(rows.iter().map(|r| r.class.first_seen_us)),
        )
        .with(
            "last_seen",
            col::timestamp(rows.iter().map(|r| r.class.last_seen_us)),
        )
        .with(
            "databases",
            col::utf8(rows.iter().map(|r| Some(names(&r.class.databases)))),
        )
        .with(
            "users",
            col::utf8(rows.iter().map(|r| Some(names(&r.class.users)))),
        )
}
