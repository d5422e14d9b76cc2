//! Running one probe query, bounded, and reading its rows as text.
//!
//! Every query goes through the text protocol (`raw_sql`): nothing is prepared on the
//! server (no statement handles left behind, nothing counted against
//! `max_prepared_stmt_count`), and every value arrives as text, which sidesteps
//! MySQL's DECIMAL / BIGINT UNSIGNED / binary-collation typing in SHOW output and
//! information_schema. Values are then parsed here, in one place.

use std::time::Duration;

use sqlx::mysql::{MySqlConnection, MySqlRow};
use sqlx::{AssertSqlSafe, Row};

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
            match number {
                Some(1044 | 1045 | 1142 | 1143 | 1227 | 1370 | 3118) => {
                    QueryError::Denied(format!("access denied: {text}"))
                }
                // 1969 MariaDB max_statement_time, 3024 MySQL max_execution_time,
                // 1205 lock wait timeout (row or metadata lock), 1317 interrupted.
                Some(1969 | 3024 | 1205 | 1317) => {
                    QueryError::Timeout(format!("timed out: {text}"))
                }
                Some(1064 | 1146 | 1109 | 1193 | 1054) => {
                    QueryError::Unsupported(format!("not available here: {text}"))
                }
                Some(n) => QueryError::Other(format!("error {n}: {text}")),
                None => QueryError::Other(text),
            }
        }
        sqlx::Error::Io(e) => QueryError::Lost(format!("connection lost: {e}")),
        sqlx::Error::Protocol(e) => QueryError::Lost(format!("connection lost: {e}")),
        sqlx::Error::PoolTimedOut | sqlx::Error::WorkerCrashed => {
            QueryError::Lost(format!("connection lost: {err}"))
        }
        other => QueryError::Other(other.to_string()),
    }
}

/// The probe's single connection, with what it cost the server. Once it is lost
/// (server down, no answer), every later query fails at once with the first cause
/// rather than waiting for its own timeout.
#[derive(Debug)]
pub(crate) struct Conn {
    inner: Option<MySqlConnection>,
    lost: Option<String>,
    /// Queries sent, and the time spent waiting for their answers.
    pub queries: u64,
    pub db_time: Duration,
}

impl Conn {
    pub fn new(conn: MySqlConnection) -> Self {
        Self {
            inner: Some(conn),
            lost: None,
            queries: 0,
            db_time: Duration::ZERO,
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

/// Runs `sql` and returns its rows. The server bounds it (session timeouts); `guard`
/// bounds it on the client too, for a server that stops answering altogether.
/// Every query is tagged `/* perfdiag */` so a DBA sees who runs it.
pub(crate) async fn fetch(
    conn: &mut Conn,
    sql: &str,
    guard: Duration,
) -> Result<Vec<MySqlRow>, QueryError> {
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
        Ok(Ok(rows)) => Ok(rows),
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
pub(crate) async fn execute(conn: &mut Conn, sql: &str, guard: Duration) -> Result<(), QueryError> {
    fetch(conn, sql, guard).await.map(|_| ())
}

/// The text of column `i`; `None` for NULL or a missing column.
pub(crate) fn text(row: &MySqlRow, i: usize) -> Option<String> {
    // Text protocol: every value is its textual form; unchecked because the declared
    // types vary (DECIMAL, BLOB, VARBINARY) while the bytes are always text.
    let bytes: Option<Vec<u8>> = row.try_get_unchecked(i).ok().flatten();
    bytes.map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// The text of the column named `name` (case-insensitive), for SHOW output whose
/// column order varies between versions.
pub(crate) fn text_named(row: &MySqlRow, name: &str) -> Option<String> {
    use sqlx::Column;
    let i = row
        .columns()
        .iter()
        .position(|c| c.name().eq_ignore_ascii_case(name))?;
    text(row, i)
}

pub(crate) fn int(row: &MySqlRow, i: usize) -> Option<i64> {
    text(row, i).and_then(|t| parse_int(&t))
}

pub(crate) fn uint(row: &MySqlRow, i: usize) -> Option<u64> {
    text(row, i).and_then(|t| parse_uint(&t))
}

/// A boolean as MySQL writes them: `1`/`0`, `ON`/`OFF`, `YES`/`NO`, `true`/`false`.
pub(crate) fn flag(row: &MySqlRow, i: usize) -> Option<bool> {
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

pub(crate) fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_uppercase().as_str() {
        "1" | "ON" | "YES" | "TRUE" | "Y" => Some(true),
        "0" | "OFF" | "NO" | "FALSE" | "N" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
