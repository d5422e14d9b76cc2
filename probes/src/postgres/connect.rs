//! The collector's one connection: opened with the safety settings in the startup
//! packet (so even the first query is bounded and read-only), and every query run
//! through [`Conn::fetch`], which times it, bounds it on the client side too, and turns
//! a server error into a [`QueryError`] the sub-probes can explain.

use std::str::FromStr;
use std::time::{Duration, Instant};

use sqlx::postgres::{PgConnectOptions, PgConnection, PgRow};
use sqlx::{ConnectOptions, Connection};

use crate::db::{DbError, DbOptions, DbTarget};

const SESSION_SQL: &str = include_str!("sql/session.sql");

/// The collector's connection and the runtime that drives it.
#[derive(Debug)]
pub(crate) struct Conn {
    runtime: tokio::runtime::Runtime,
    /// `None` once the connection was lost: later queries fail at once.
    conn: Option<PgConnection>,
    /// Client-side bound of one query: the statement timeout plus a margin, in case
    /// the network (not the server) stalls.
    guard: Duration,
    /// Database time spent by our queries (wall time seen by the client).
    pub spent: Duration,
    /// Number of queries issued.
    pub queries: u64,
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
            runtime,
            conn: Some(conn),
            guard: options.statement_timeout + Duration::from_secs(2),
            spent: Duration::ZERO,
            queries: 0,
        })
    }

    pub fn is_alive(&self) -> bool {
        self.conn.is_some()
    }

    /// Runs `sql` with `binds` (applied in order) and returns its rows.
    pub fn fetch(&mut self, sql: &str, binds: Binds) -> Result<Vec<PgRow>, QueryError> {
        let Some(conn) = self.conn.as_mut() else {
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
        let result = self
            .runtime
            .block_on(async { tokio::time::timeout(self.guard, query.fetch_all(conn)).await });
        self.spent += started.elapsed();
        match result {
            Ok(Ok(rows)) => Ok(rows),
            Ok(Err(sqlx::Error::Database(e))) => Err(QueryError {
                code: e.code().map(|c| c.into_owned()),
                message: e.message().to_owned(),
            }),
            Ok(Err(e)) => {
                // I/O, protocol or TLS errors leave the connection unusable.
                self.conn = None;
                Err(QueryError {
                    code: None,
                    message: format!("connection lost: {e}"),
                })
            }
            Err(_) => {
                self.conn = None;
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
    pub fn close(mut self) {
        if let Some(conn) = self.conn.take() {
            let _ = self.runtime.block_on(async {
                tokio::time::timeout(Duration::from_secs(2), conn.close()).await
            });
        }
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
