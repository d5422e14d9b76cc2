//! The collector's one connection: opened with the safety settings in the startup
//! packet (so even the first query is bounded and read-only), and every query run
//! through [`Conn::fetch`], which times it, bounds it on the client side too, and turns
//! a server error into a [`QueryError`] the sub-probes can explain.
//!
//! Rows come back as [`TextRows`], converted here by column type, in one place: the
//! sub-probes map text to facts, so the same mapping reads the CSV files of the
//! offline scripts when the connection is a [`Replay`] of a capture (`perfdiag
//! import`). Each query has a name (its `sql/` file's stem), which is also the name
//! of its file in a capture.

use std::str::FromStr;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgRow};
use sqlx::{Column, ConnectOptions, Connection, Row, TypeInfo};

use crate::db::{DbError, DbOptions, DbTarget, TextRows};
use crate::offline::{Recorded, Replay};

const SESSION_SQL: &str = include_str!("sql/session.sql");

/// The collector's connection (or the replay of a capture).
#[derive(Debug)]
pub(crate) struct Conn {
    backend: Backend,
    /// Client-side bound of one query: the statement timeout plus a margin, in case
    /// the network (not the server) stalls.
    guard: Duration,
    /// Database time spent by our queries (wall time seen by the client).
    pub spent: Duration,
    /// Number of queries issued.
    pub queries: u64,
}

#[derive(Debug)]
enum Backend {
    Live {
        runtime: tokio::runtime::Runtime,
        /// `None` once the connection was lost: later queries fail at once.
        conn: Option<PgConnection>,
    },
    Replay(Replay),
}

/// Why a query failed, classified for the probe records.
#[derive(Debug, Clone)]
pub(crate) struct QueryError {
    /// SQLSTATE when the server answered with an error.
    pub code: Option<String>,
    pub message: String,
}

impl QueryError {
    /// The role lacks a privilege (42501).
    pub fn is_privilege(&self) -> bool {
        self.code.as_deref() == Some("42501")
    }
    /// pg_stat_statements is created but not preloaded (55000
    /// object_not_in_prerequisite_state).
    pub fn is_not_preloaded(&self) -> bool {
        self.code.as_deref() == Some("55000")
    }
    /// statement_timeout (57014) or lock_timeout (55P03) cancelled the query.
    pub fn is_timeout(&self) -> bool {
        matches!(self.code.as_deref(), Some("57014" | "55P03"))
    }
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{} (SQLSTATE {code})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl Conn {
    /// Connects to `target` with application_name `perfdiag`, read-only transactions,
    /// and the statement and lock timeouts of `options`.
    pub fn open(target: &DbTarget, options: &DbOptions) -> Result<Self, DbError> {
        let runtime = crate::db::runtime()?;
        let connect_options = PgConnectOptions::from_str(target.url())
            .map_err(|e| DbError::InvalidUrl(e.to_string()))?
            .application_name("perfdiag")
            .options([
                ("default_transaction_read_only", "on".to_owned()),
                (
                    "statement_timeout",
                    options.statement_timeout.as_millis().max(1).to_string(),
                ),
                (
                    "lock_timeout",
                    options.lock_timeout.as_millis().max(1).to_string(),
                ),
                // Our session is idle between ticks and never holds a transaction
                // open; this caps the damage if it ever did.
                ("idle_in_transaction_session_timeout", "60000".to_owned()),
            ])
            // A few dozen distinct statements: keep all of them prepared.
            .statement_cache_capacity(64);
        let label = target.label().to_owned();
        let result = runtime.block_on(async {
            tokio::time::timeout(options.connect_timeout, connect_options.connect()).await
        });
        let mut conn = match result {
            Err(_) => {
                return Err(DbError::Connect {
                    target: label,
                    detail: format!(
                        "no answer within {} s (connect timeout)",
                        options.connect_timeout.as_secs_f64()
                    ),
                });
            }
            Ok(Err(e)) => return Err(classify_connect_error(&label, &e)),
            Ok(Ok(conn)) => conn,
        };
        runtime
            .block_on(sqlx::raw_sql(SESSION_SQL).execute(&mut conn))
            .map_err(|e| DbError::Connect {
                target: label.clone(),
                detail: format!("cannot make the session read-only: {e}"),
            })?;
        Ok(Self {
            backend: Backend::Live {
                runtime,
                conn: Some(conn),
            },
            guard: options.statement_timeout + Duration::from_secs(2),
            spent: Duration::ZERO,
            queries: 0,
        })
    }

    /// A connection that answers from the files of an offline capture.
    pub fn replay(replay: Replay) -> Self {
        Self {
            backend: Backend::Replay(replay),
            guard: Duration::ZERO,
            spent: Duration::ZERO,
            queries: 0,
        }
    }

    pub fn replay_mut(&mut self) -> Option<&mut Replay> {
        match &mut self.backend {
            Backend::Replay(r) => Some(r),
            Backend::Live { .. } => None,
        }
    }

    pub fn is_alive(&self) -> bool {
        match &self.backend {
            Backend::Live { conn, .. } => conn.is_some(),
            Backend::Replay(_) => true,
        }
    }

    /// The time of the reading in progress: the clock here, or the time the capture
    /// recorded for its phase.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.backend {
            Backend::Live { .. } => Utc::now(),
            Backend::Replay(r) => r.now(),
        }
    }

    /// Runs query `name` (`sql`, with `binds` applied in order) and returns its rows.
    pub fn fetch(&mut self, name: &str, sql: &str, binds: Binds) -> Result<TextRows, QueryError> {
        let (runtime, conn) = match &mut self.backend {
            Backend::Live { runtime, conn } => (runtime, conn),
            Backend::Replay(replay) => {
                self.queries += 1;
                return replay.fetch(name).map_err(recorded_error);
            }
        };
        let Some(live) = conn.as_mut() else {
            return Err(QueryError {
                code: None,
                message: "the connection to the server was lost earlier".to_owned(),
            });
        };
        // Our SQL comes from the `sql/` files (with identifiers quoted by
        // `quote_ident`); values are always bound, never interpolated.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql.to_owned()));
        match binds {
            Binds::None => {}
            Binds::Int(n) => query = query.bind(n),
            Binds::Ints(v) => query = query.bind(v),
        }
        let started = Instant::now();
        self.queries += 1;
        let guard = self.guard;
        let result =
            runtime.block_on(async { tokio::time::timeout(guard, query.fetch_all(live)).await });
        self.spent += started.elapsed();
        match result {
            Ok(Ok(rows)) => Ok(text_rows(&rows)),
            Ok(Err(sqlx::Error::Database(e))) => Err(QueryError {
                code: e.code().map(|c| c.into_owned()),
                message: e.message().to_owned(),
            }),
            Ok(Err(e)) => {
                // I/O, protocol or TLS errors leave the connection unusable.
                *conn = None;
                Err(QueryError {
                    code: None,
                    message: format!("connection lost: {e}"),
                })
            }
            Err(_) => {
                *conn = None;
                Err(QueryError {
                    code: None,
                    message: format!(
                        "no answer within {} s; connection dropped",
                        self.guard.as_secs_f64()
                    ),
                })
            }
        }
    }

    /// Closes the connection politely (a Terminate message), if it is still open.
    pub fn close(self) {
        if let Backend::Live {
            runtime,
            conn: Some(conn),
        } = self.backend
        {
            let _ = runtime.block_on(async {
                tokio::time::timeout(Duration::from_secs(2), conn.close()).await
            });
        }
    }
}

/// A failure the capture recorded (psql's `:LAST_ERROR_SQLSTATE` on the first line of
/// the `.err` file, its message after), or a file that cannot be used.
fn recorded_error(recorded: Recorded) -> QueryError {
    match recorded {
        Recorded::Failed(text) => {
            let (code, message) = text.trim().split_once('\n').unwrap_or(("", text.trim()));
            let code = code.trim();
            QueryError {
                code: (code.len() == 5).then(|| code.to_owned()),
                message: message.trim().to_owned(),
            }
        }
        Recorded::Unusable(message) => QueryError {
            code: None,
            message,
        },
    }
}

/// The rows as text, by column type, as psql prints them: integers and floats in
/// decimal (floats in their shortest exact form), booleans `t`/`f`, times in RFC
/// 3339, text arrays as array literals. The probe queries cast every column to one of
/// these types; another type reads as NULL.
fn text_rows(rows: &[PgRow]) -> TextRows {
    let Some(first) = rows.first() else {
        return TextRows::default();
    };
    let columns = first.columns();
    let mut out = TextRows::new(columns.iter().map(|c| c.name().to_owned()).collect());
    let kinds: Vec<&str> = columns.iter().map(|c| c.type_info().name()).collect();
    out.rows = rows
        .iter()
        .map(|row| {
            kinds
                .iter()
                .enumerate()
                .map(|(i, kind)| cell(row, i, kind))
                .collect()
        })
        .collect();
    out
}

fn cell(row: &PgRow, i: usize, kind: &str) -> Option<String> {
    fn get<'r, T>(row: &'r PgRow, i: usize) -> Option<T>
    where
        T: sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    {
        row.try_get::<Option<T>, _>(i).ok().flatten()
    }
    match kind {
        "INT8" => get::<i64>(row, i).map(|v| v.to_string()),
        "INT4" => get::<i32>(row, i).map(|v| v.to_string()),
        "INT2" => get::<i16>(row, i).map(|v| v.to_string()),
        "FLOAT8" => get::<f64>(row, i).map(|v| v.to_string()),
        "FLOAT4" => get::<f32>(row, i).map(|v| v.to_string()),
        "BOOL" => get::<bool>(row, i).map(|v| if v { "t" } else { "f" }.to_owned()),
        "TIMESTAMPTZ" => {
            get::<DateTime<Utc>>(row, i).map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
        }
        "TEXT[]" | "VARCHAR[]" | "NAME[]" => {
            get::<Vec<String>>(row, i).map(|v| super::probe::array_literal(&v))
        }
        _ => get::<String>(row, i),
    }
}

/// Parameters of a query.
#[derive(Debug)]
pub(crate) enum Binds {
    None,
    Int(i64),
    Ints(Vec<i64>),
}

/// Wrong credentials become [`DbError::Auth`] so the CLI can prompt for a password;
/// everything else is [`DbError::Connect`] with the server's or the OS's words.
fn classify_connect_error(label: &str, e: &sqlx::Error) -> DbError {
    if let sqlx::Error::Database(db) = e {
        let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
        let message = db.message().to_owned();
        // 28P01 invalid_password; 28000 invalid_authorization_specification (no
        // pg_hba.conf entry, or no password supplied).
        let no_password =
            message.contains("no password supplied") || message.contains("password authentication");
        if code == "28P01" || no_password {
            return DbError::Auth {
                target: label.to_owned(),
                detail: message,
            };
        }
        return DbError::Connect {
            target: label.to_owned(),
            detail: format!("{message} (SQLSTATE {code})"),
        };
    }
    DbError::Connect {
        target: label.to_owned(),
        detail: e.to_string(),
    }
}
