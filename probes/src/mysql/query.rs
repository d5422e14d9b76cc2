//! Running one probe query, bounded, and reading its rows as text.
//!
//! Every query goes through the text protocol (`raw_sql`): nothing is prepared on the
//! server (no statement handles left behind, nothing counted against
//! `max_prepared_stmt_count`), and every value arrives as text, which sidesteps
//! MySQL's DECIMAL / BIGINT UNSIGNED / binary-collation typing in SHOW output and
//! information_schema. Values are then parsed here, in one place.
//!
//! Rows come back as [`TextRows`] (the text protocol's text, as is), so the
//! sub-probes' mapping also reads the files the offline scripts write with `mysql
//! --batch`, when the connection is a [`Replay`] of a capture (`perfdiag import`).
//! Each query has a name (its `sql/` file's stem), which is its file's name there.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use sqlx::mysql::{MySqlConnection, MySqlRow};
use sqlx::{AssertSqlSafe, Column, Row as _};

use crate::db::{Row, TextRows};
use crate::offline::{Phase, Recorded, Replay};

/// Why a query gave nothing, in the terms a record needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum QueryError {
    /// The account lacks a privilege (1044, 1142, 1143, 1227, 1370...).
    Denied(String),
    /// The server's statement or lock timeout fired, or the client-side guard did.
    Timeout(String),
    /// The statement or object does not exist on this version (1064, 1146, 1109, 1193).
    Unsupported(String),
    /// The connection is gone (server down, network cut): later queries will fail too.
    Lost(String),
    Other(String),
}

impl QueryError {
    pub fn message(&self) -> &str {
        match self {
            Self::Denied(m)
            | Self::Timeout(m)
            | Self::Unsupported(m)
            | Self::Lost(m)
            | Self::Other(m) => m,
        }
    }
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.message())
    }
}

/// Maps a driver error to what the probe can say about it.
pub(crate) fn classify(err: &sqlx::Error) -> QueryError {
    match err {
        sqlx::Error::Database(db) => {
            let text = db.message().to_owned();
            let number = db
                .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                .map(sqlx::mysql::MySqlDatabaseError::number);
            classify_server(number, text)
        }
        sqlx::Error::Io(e) => QueryError::Lost(format!("connection lost: {e}")),
        sqlx::Error::Protocol(e) => QueryError::Lost(format!("connection lost: {e}")),
        sqlx::Error::PoolTimedOut | sqlx::Error::WorkerCrashed => {
            QueryError::Lost(format!("connection lost: {err}"))
        }
        other => QueryError::Other(other.to_string()),
    }
}

/// A server error by its number, the same for a live error and for one a capture
/// recorded.
fn classify_server(number: Option<u16>, text: String) -> QueryError {
    match number {
        Some(1044 | 1045 | 1142 | 1143 | 1227 | 1370 | 3118) => {
            QueryError::Denied(format!("access denied: {text}"))
        }
        // 1969 MariaDB max_statement_time, 3024 MySQL max_execution_time,
        // 1205 lock wait timeout (row or metadata lock), 1317 interrupted.
        Some(1969 | 3024 | 1205 | 1317) => QueryError::Timeout(format!("timed out: {text}")),
        Some(1064 | 1146 | 1109 | 1193 | 1054) => {
            QueryError::Unsupported(format!("not available here: {text}"))
        }
        Some(n) => QueryError::Other(format!("error {n}: {text}")),
        None => QueryError::Other(text),
    }
}

/// What the client wrote to stderr for a failed query (`ERROR 1142 (42000) at line
/// 1: SELECT command denied…`, or a connection error), as the live error.
fn recorded_error(recorded: Recorded) -> QueryError {
    let text = match recorded {
        Recorded::Unusable(message) => return QueryError::Other(message),
        Recorded::Failed(text) => text,
    };
    let line = text
        .lines()
        .find(|l| l.starts_with("ERROR"))
        .unwrap_or(text.lines().next().unwrap_or(""))
        .trim();
    let Some(rest) = line.strip_prefix("ERROR ") else {
        return QueryError::Other(line.to_owned());
    };
    let (number, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    let message = rest
        .split_once(": ")
        .map_or(rest, |(_, m)| m)
        .trim()
        .to_owned();
    match number.parse::<u16>() {
        // 2002/2003/2005/2013: the client could not reach the server or lost it.
        Ok(n @ (2002 | 2003 | 2005 | 2006 | 2013)) => {
            QueryError::Lost(format!("connection lost: error {n}: {message}"))
        }
        Ok(n) => classify_server(Some(n), message),
        Err(_) => QueryError::Other(line.to_owned()),
    }
}

/// The probe's single connection, with what it cost the server. Once it is lost
/// (server down, no answer), every later query fails at once with the first cause
/// rather than waiting for its own timeout.
#[derive(Debug)]
pub(crate) struct Conn {
    inner: Option<MySqlConnection>,
    /// Set when the connection is the replay of a capture.
    replay: Option<Replay>,
    lost: Option<String>,
    /// Queries sent, and the time spent waiting for their answers.
    pub queries: u64,
    pub db_time: Duration,
}

impl Conn {
    pub fn new(conn: MySqlConnection) -> Self {
        Self {
            inner: Some(conn),
            replay: None,
            lost: None,
            queries: 0,
            db_time: Duration::ZERO,
        }
    }

    /// A connection that answers from the files of an offline capture.
    pub fn replay(replay: Replay) -> Self {
        Self {
            inner: None,
            replay: Some(replay),
            lost: None,
            queries: 0,
            db_time: Duration::ZERO,
        }
    }

    /// Moves a replay to the next phase of the capture (no-op when live).
    pub fn set_phase(&mut self, phase: Phase) {
        if let Some(replay) = self.replay.as_mut() {
            replay.set_phase(phase);
        }
    }

    /// The time of the reading in progress: the clock here, or the capture's.
    pub fn now(&self) -> DateTime<Utc> {
        self.replay.as_ref().map_or_else(Utc::now, Replay::now)
    }

    /// A mark to measure a window from.
    pub fn stamp(&self) -> Stamp {
        match &self.replay {
            Some(r) => Stamp::Replayed(r.now()),
            None => Stamp::Live(Instant::now()),
        }
    }

    /// Seconds since `stamp`, on the monotonic clock live, on the capture's clocks in
    /// a replay.
    pub fn seconds_since(&self, stamp: &Stamp) -> f64 {
        match stamp {
            Stamp::Live(at) => at.elapsed().as_secs_f64(),
            Stamp::Replayed(at) => (self.now() - *at).as_seconds_f64().max(0.0),
        }
    }

    /// Closes the connection politely (COM_QUIT), bounded by `guard`.
    pub async fn close(&mut self, guard: Duration) {
        if let Some(conn) = self.inner.take() {
            use sqlx::Connection;
            let _ = tokio::time::timeout(guard, conn.close()).await;
        }
    }
}

/// When a window's start was read.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Stamp {
    Live(Instant),
    Replayed(DateTime<Utc>),
}

/// Runs query `name` (`sql`) and returns its rows. The server bounds it (session
/// timeouts); `guard` bounds it on the client too, for a server that stops answering
/// altogether. Every query is tagged `/* perfdiag */` so a DBA sees who runs it.
pub(crate) async fn fetch(
    conn: &mut Conn,
    name: &str,
    sql: &str,
    guard: Duration,
) -> Result<TextRows, QueryError> {
    if let Some(replay) = conn.replay.as_mut() {
        conn.queries += 1;
        return replay.fetch(name).map_err(recorded_error);
    }
    let Some(inner) = conn.inner.as_mut() else {
        return Err(QueryError::Lost(
            conn.lost
                .clone()
                .unwrap_or_else(|| "connection closed".to_owned()),
        ));
    };
    let tagged = format!("/* perfdiag */ {}", sql.trim());
    let started = std::time::Instant::now();
    let run = sqlx::raw_sql(AssertSqlSafe(tagged)).fetch_all(&mut *inner);
    let result = match tokio::time::timeout(guard, run).await {
        Ok(Ok(rows)) => Ok(text_rows(&rows)),
        Ok(Err(e)) => Err(classify(&e)),
        Err(_) => Err(QueryError::Lost(format!(
            "no answer within {} ms (client-side guard)",
            guard.as_millis()
        ))),
    };
    conn.queries += 1;
    conn.db_time += started.elapsed();
    if let Err(QueryError::Lost(cause)) = &result {
        conn.inner = None;
        conn.lost = Some(cause.clone());
    }
    result
}

/// Runs a statement whose result does not matter (SET).
pub(crate) async fn execute(
    conn: &mut Conn,
    name: &str,
    sql: &str,
    guard: Duration,
) -> Result<(), QueryError> {
    fetch(conn, name, sql, guard).await.map(|_| ())
}

/// The rows as text, cell by cell: the text protocol sends every value as text;
/// unchecked because the declared types vary (DECIMAL, BLOB, VARBINARY) while the
/// bytes are always text.
fn text_rows(rows: &[MySqlRow]) -> TextRows {
    let Some(first) = rows.first() else {
        return TextRows::default();
    };
    let width = first.columns().len();
    let mut out = TextRows::new(
        first
            .columns()
            .iter()
            .map(|c| c.name().to_owned())
            .collect(),
    );
    out.rows = rows
        .iter()
        .map(|row| {
            (0..width)
                .map(|i| {
                    let bytes: Option<Vec<u8>> = row.try_get_unchecked(i).ok().flatten();
                    bytes.map(|b| String::from_utf8_lossy(&b).into_owned())
                })
                .collect()
        })
        .collect();
    out
}

/// The text of column `i`; `None` for NULL or a missing column.
pub(crate) fn text(row: Row<'_>, i: usize) -> Option<String> {
    row.at(i).map(str::to_owned)
}

/// The text of the column named `name` (case-insensitive), for SHOW output whose
/// column order and names vary between versions.
pub(crate) fn text_named(row: Row<'_>, name: &str) -> Option<String> {
    row.text_if_present(name).map(str::to_owned)
}

pub(crate) fn int(row: Row<'_>, i: usize) -> Option<i64> {
    text(row, i).and_then(|t| parse_int(&t))
}

pub(crate) fn uint(row: Row<'_>, i: usize) -> Option<u64> {
    text(row, i).and_then(|t| parse_uint(&t))
}

/// A boolean as MySQL writes them: `1`/`0`, `ON`/`OFF`, `YES`/`NO`, `true`/`false`.
pub(crate) fn flag(row: Row<'_>, i: usize) -> Option<bool> {
    text(row, i).and_then(|t| parse_bool(&t))
}

/// An integer, tolerating a decimal form (`123.000`, from `* 1000` on DECIMAL columns).
pub(crate) fn parse_int(text: &str) -> Option<i64> {
    let t = text.trim();
    t.parse::<i64>().ok().or_else(|| {
        t.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .map(|f| f as i64)
    })
}

pub(crate) fn parse_uint(text: &str) -> Option<u64> {
    let t = text.trim();
    t.parse::<u64>().ok().or_else(|| {
        t.parse::<f64>()
            .ok()
            .filter(|f| f.is_finite() && *f >= 0.0)
            .map(|f| f as u64)
    })
}

/// MySQL's ON/OFF, YES/NO, Y/N and 1/0, as every client's booleans are read.
pub(crate) use crate::db::rows::parse_bool;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_client_errors_read_as_live_errors() {
        let denied = recorded_error(Recorded::Failed(
            "ERROR 1142 (42000) at line 1: SELECT command denied to user 'm'@'%' for table `global_priv`".into(),
        ));
        assert!(
            matches!(&denied, QueryError::Denied(m) if m.contains("SELECT command denied")),
            "{denied:?}"
        );
        let unknown = recorded_error(Recorded::Failed(
            "ERROR 1146 (42S02) at line 1: Table 'performance_schema.data_lock_waits' doesn't exist".into(),
        ));
        assert!(matches!(unknown, QueryError::Unsupported(_)));
        let gone = recorded_error(Recorded::Failed(
            "ERROR 2002 (HY000): Can't connect to local server through socket '/x' (2)".into(),
        ));
        assert!(matches!(gone, QueryError::Lost(_)));
        let file = recorded_error(Recorded::Unusable("start/status.tsv is missing".into()));
        assert_eq!(
            file,
            QueryError::Other("start/status.tsv is missing".into())
        );
    }

    #[test]
    fn numbers_and_flags_parse_from_mysql_text() {
        assert_eq!(parse_int("42"), Some(42));
        assert_eq!(parse_int("3000.0000"), Some(3000));
        assert_eq!(parse_int("x"), None);
        assert_eq!(parse_uint("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_uint("-1"), None);
        assert_eq!(parse_bool("ON"), Some(true));
        assert_eq!(parse_bool("off"), Some(false));
        assert_eq!(parse_bool("Y"), Some(true));
        assert_eq!(parse_bool("maybe"), None);
    }
}
