//! Opening the single probe connection and making it safe: bounded statements and
//! lock waits, read-only transactions.
//!
//! sqlx's MySQL driver sends no connection attributes, so `program_name` cannot be set;
//! instead every probe query starts with a `/* perfdiag */` comment (see `query.rs`
//! callers), which shows in the processlist and the slow log.

use std::str::FromStr;

use sqlx::ConnectOptions;
use sqlx::mysql::{MySqlConnectOptions, MySqlConnection};

use crate::db::{DbError, DbOptions, DbTarget};

/// Server error numbers that mean the credentials (or the account) were refused:
/// 1045 access denied, 1044 no access to the URL's database, 1698 (auth_socket).
const AUTH_ERRORS: [u16; 3] = [1045, 1044, 1698];

pub(crate) async fn open(
    target: &DbTarget,
    options: &DbOptions,
) -> Result<MySqlConnection, DbError> {
    let label = target.label().to_owned();
    let connect_opts = MySqlConnectOptions::from_str(target.url())
        .map_err(|e| DbError::InvalidUrl(format!("{label}: {e}")))?
        // Only the text protocol is used: nothing to cache.
        .statement_cache_capacity(0);
    let attempt = connect_opts.connect();
    let conn = match tokio::time::timeout(options.connect_timeout, attempt).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => return Err(connect_error(&label, &e)),
        Err(_) => {
            return Err(DbError::Connect {
                target: label,
                detail: format!(
                    "no answer within {} s (connect timeout)",
                    options.connect_timeout.as_secs_f64()
                ),
            });
        }
    };
    Ok(conn)
}

fn connect_error(label: &str, e: &sqlx::Error) -> DbError {
    if let sqlx::Error::Database(db) = e {
        let number = db
            .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
            .map(sqlx::mysql::MySqlDatabaseError::number);
        if number.is_some_and(|n| AUTH_ERRORS.contains(&n)) {
            return DbError::Auth {
                target: label.to_owned(),
                detail: db.message().to_owned(),
            };
        }
    }
    let detail = match e {
        sqlx::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => format!(
            "connection refused: is the server running and listening on that host and port? ({io})"
        ),
        other => other.to_string(),
    };
    DbError::Connect {
        target: label.to_owned(),
        detail,
    }
}
