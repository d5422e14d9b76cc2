//! Errors of database collection, each saying what the engineer can do about it.

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The URL itself is wrong: nothing was tried.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// The server could not be reached (refused, unknown host, timeout, TLS).
    #[error("cannot connect to {target}: {detail}")]
    Connect { target: String, detail: String },
    /// The server refused the credentials; the CLI may prompt for a password.
    #[error("{target} refused the login: {detail}")]
    Auth { target: String, detail: String },
    #[error("{0}")]
    Internal(String),
}
