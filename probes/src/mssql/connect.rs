//! The collector's one TDS connection (tiberius over tokio): opened with the
//! application name `perfdiag`, TLS as the URL asks, the connect timeout of
//! [`DbOptions`], then made harmless by `sql/session.sql`; every query runs through
//! [`Conn::fetch`], which bounds it, times it, and returns its rows as [`TextRows`]
//! (see [`super::cells`] for how each value becomes text).
//!
//! SQL Server has no server-side statement timeout, so the client enforces it: a query
//! that does not answer in time drops the connection (the server then abandons the
//! query with it) and the next query opens a new one, at most [`MAX_REOPENS`] times.
//!
//! The same `Conn` answers from the files of an offline capture when it is a
//! [`Replay`] (`perfdiag import`): each query has a name (its `sql/` file's stem, or
//! `query_store.<database_id>`), which is its file's name in the capture, and an error
//! the capture recorded (sqlcmd's `Msg 300, Level 14, …`) comes back with its number,
//! so the collector takes the same decisions (skipped with the GRANT) as live.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tiberius::{AuthMethod, Client, Config, EncryptionLevel};
use tokio::net::TcpStream;
use tokio_util::compat::{Compat, TokioAsyncWriteCompatExt};

use super::cells::text_rows;
use crate::db::{DbError, DbOptions, DbTarget, TextRows};
use crate::offline::{Recorded, Replay};

const SESSION_SQL: &str = include_str!("sql/session.sql");

/// How many times a connection dropped after a timeout or a network error is opened
/// again before the remaining queries are given up.
pub(crate) const MAX_REOPENS: u32 = 3;

type TdsClient = Client<Compat<TcpStream>>;

/// Why a query failed, with SQL Server's error number when the server answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct QueryError {
    pub number: Option<u32>,
    pub message: String,
}

impl QueryError {
    /// Permission denied (229, 230, 262, 297, 300) or no access to the database (916,
    /// 4060).
    pub fn is_permission(&self) -> bool {
        matches!(self.number, Some(229 | 230 | 262 | 297 | 300 | 916 | 4060))
    }

    /// An object (208) or a column (207) this server version does not have.
    pub fn is_missing_object(&self) -> bool {
        matches!(self.number, Some(207 | 208))
    }

    fn lost(message: String) -> Self {
        Self {
            number: None,
            message,
        }
    }
}

impl std::fmt::Display for QueryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.number {
            Some(n) => write!(f, "{} (error {n})", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// The collector's connection (or the replay of a capture), with what it cost.
#[derive(Debug)]
pub(crate) struct Conn {
    backend: Backend,
    /// Time spent waiting for the server, and queries issued (for the load figures).
    pub spent: Duration,
    pub queries: u64,
}

#[derive(Debug)]
enum Backend {
    /// Boxed: tiberius' client is large, and a replay is small.
    Live(Box<Live>),
    Replay(Replay),
}

/// A TDS connection and the runtime that drives it.
struct Live {
    runtime: tokio::runtime::Runtime,
    config: Config,
    label: String,
    connect_timeout: Duration,
    lock_timeout: Duration,
    /// `None` after a timeout or a network error, until the next query reopens it.
    client: Option<TdsClient>,
    reopens: u32,
    /// Client-side bound of one query: the statement timeout.
    guard: Duration,
}

/// Never prints the configuration (it holds the password).
impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("label", &self.label)
            .field("open", &self.client.is_some())
            .field("reopens", &self.reopens)
            .finish()
    }
}

impl Conn {
    /// Connects to `target` and prepares the session.
    pub fn open(target: &DbTarget, options: &DbOptions) -> Result<Self, DbError> {
        let runtime = crate::db::runtime()?;
        let config = config(target, options)?;
        let label = target.label().to_owned();
        let client = runtime.block_on(connect(
            &config,
            &label,
            options.connect_timeout,
            options.lock_timeout,
        ))?;
        Ok(Self {
            backend: Backend::Live(Box::new(Live {
                runtime,
                config,
                label,
                connect_timeout: options.connect_timeout,
                lock_timeout: options.lock_timeout,
                client: Some(client),
                reopens: 0,
                guard: options.statement_timeout,
            })),
            spent: Duration::ZERO,
            queries: 0,
        })
    }

    /// A connection that answers from the files of an offline capture.
    pub fn replay(replay: Replay) -> Self {
        Self {
            backend: Backend::Replay(replay),
            spent: Duration::ZERO,
            queries: 0,
        }
    }

    pub fn replay_mut(&mut self) -> Option<&mut Replay> {
        match &mut self.backend {
            Backend::Replay(r) => Some(r),
            Backend::Live(_) => None,
        }
    }

    /// The time of the reading in progress: the clock here, or the time the capture
    /// recorded for its phase.
    pub fn now(&self) -> DateTime<Utc> {
        match &self.backend {
            Backend::Live(_) => Utc::now(),
            Backend::Replay(r) => r.now(),
        }
    }

    /// Times the connection was opened again after a timeout or a network error.
    pub fn reopens(&self) -> u32 {
        match &self.backend {
            Backend::Live(live) => live.reopens,
            Backend::Replay(_) => 0,
        }
    }

    /// Runs query `name` (`sql`, a file of `sql/` with its placeholders filled) and
    /// returns its first result set as text.
    pub fn fetch(&mut self, name: &str, sql: &str) -> Result<TextRows, QueryError> {
        match &mut self.backend {
            Backend::Replay(replay) => {
                self.queries += 1;
                // The Query Store files are written by batches the server generated:
                // when that query failed there are none, for the reason it gives.
                if name.starts_with("query_store.")
                    && let Ok(text) = std::fs::read_to_string(
                        replay.capture().dir.join("start/query_store_plan.err"),
                    )
                    && !text.trim().is_empty()
                {
                    return Err(recorded_error(Recorded::Failed(text)));
                }
                replay.fetch(name).map_err(recorded_error)
            }
            Backend::Live(live) => live.fetch(sql, &mut self.queries, &mut self.spent),
        }
    }

    /// Closes the connection politely, if it is live and still open.
    pub fn close(self) {
        if let Backend::Live(live) = self.backend {
            (*live).close();
        }
    }
}

impl Live {
    /// Runs `sql`, counting it in `queries` and its wait in `spent` once it is sent.
    fn fetch(
        &mut self,
        sql: &str,
        queries: &mut u64,
        spent: &mut Duration,
    ) -> Result<TextRows, QueryError> {
        if self.client.is_none() {
            if self.reopens >= MAX_REOPENS {
                return Err(QueryError::lost(format!(
                    "the connection was lost {MAX_REOPENS} times; the remaining queries were not run"
                )));
            }
            self.reopens += 1;
            let reopened = self.runtime.block_on(connect(
                &self.config,
                &self.label,
                self.connect_timeout,
                self.lock_timeout,
            ));
            match reopened {
                Ok(client) => self.client = Some(client),
                Err(e) => return Err(QueryError::lost(format!("cannot reconnect: {e}"))),
            }
        }
        let Some(client) = self.client.as_mut() else {
            return Err(QueryError::lost("no connection".to_owned()));
        };
        let started = Instant::now();
        *queries += 1;
        let guard = self.guard;
        let result = self
            .runtime
            .block_on(async { tokio::time::timeout(guard, run(client, sql)).await });
        *spent += started.elapsed();
        match result {
            Ok(Ok(rows)) => Ok(rows),
            Ok(Err(tiberius::error::Error::Server(e))) => Err(QueryError {
                number: Some(e.code()),
                message: e.message().to_owned(),
            }),
            Ok(Err(e)) => {
                // I/O, protocol or TLS errors leave the connection out of step.
                self.client = None;
                Err(QueryError::lost(format!("connection lost: {e}")))
            }
            Err(_) => {
                // Dropping the connection is how the query is cancelled: the stream
                // is out of step after an abandoned read.
                self.client = None;
                Err(QueryError::lost(format!(
                    "no answer within {} s (statement timeout); the connection was dropped, \
                     which cancels the query on the server",
                    guard.as_secs_f64()
                )))
            }
        }
    }

    fn close(mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.runtime.block_on(async {
                tokio::time::timeout(Duration::from_secs(2), client.close()).await
            });
        }
    }
}

/// A failure the capture recorded, or a file that cannot be used. sqlcmd writes a
/// server error as `Msg 300, Level 14, State 1, Server DB03, Line 1` and the message
/// on the next line; its number is what tells a missing permission (skipped with the
/// GRANT) or a missing view (an older version) from a failure, as live.
fn recorded_error(recorded: Recorded) -> QueryError {
    match recorded {
        Recorded::Failed(text) => {
            let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
            let first = lines.next().unwrap_or_default();
            let number = first
                .strip_prefix("Msg ")
                .and_then(|rest| rest.split(',').next())
                .and_then(|n| n.trim().parse::<u32>().ok());
            let message = match number {
                Some(_) => lines.next().unwrap_or(first),
                None => first,
            };
            QueryError {
                number,
                message: message.to_owned(),
            }
        }
        Recorded::Unusable(message) => QueryError::lost(message),
    }
}

/// One batch, its first result set as text; the column names even when it is empty.
async fn run(client: &mut TdsClient, sql: &str) -> tiberius::Result<TextRows> {
    let mut stream = client.simple_query(sql).await?;
    let columns: Vec<String> = stream
        .columns()
        .await?
        .map(|c| c.iter().map(|c| c.name().to_owned()).collect())
        .unwrap_or_default();
    let rows = stream.into_first_result().await?;
    Ok(text_rows(columns, &rows))
}

/// The tiberius configuration of a `mssql://` target (see `docs/mssql.md`).
pub(crate) fn config(target: &DbTarget, options: &DbOptions) -> Result<Config, DbError> {
    let url = url::Url::parse(target.url()).map_err(|e| DbError::InvalidUrl(e.to_string()))?;
    let decode = |s: &str| {
        percent_decode(s).map_err(|e| DbError::InvalidUrl(format!("{}: {e}", target.label())))
    };
    let param = |key: &str| {
        url.query_pairs()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.into_owned())
    };
    let truthy = |v: &str| matches!(v.to_ascii_lowercase().as_str(), "true" | "yes" | "1");
    let mut config = Config::new();
    let host = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| DbError::InvalidUrl(format!("{}: no host", target.label())))?;
    config.host(host);
    match (url.port(), param("instance")) {
        (Some(port), _) => config.port(port),
        (None, Some(instance)) => {
            return Err(DbError::InvalidUrl(format!(
                "{}: the named instance {instance} needs its TCP port (Server=HOST,PORT or \
                 mssql://USER@HOST:PORT/DB): perfdiag does not ask the SQL Browser service; \
                 the port is in SQL Server Configuration Manager or the error log",
                target.label()
            )));
        }
        (None, None) => config.port(1433),
    }
    let database = decode(url.path().trim_start_matches('/'))?;
    if !database.is_empty() {
        config.database(database);
    }
    config.application_name("perfdiag");
    let integrated = param("integrated_security").is_some_and(|v| truthy(&v));
    if integrated {
        config.authentication(integrated_auth(target)?);
    } else {
        let user = decode(url.username())?;
        if user.is_empty() {
            return Err(DbError::InvalidUrl(format!(
                "{}: no user; give one (mssql://USER@HOST:1433/DB or User Id=USER) or \
                 integrated_security=true",
                target.label()
            )));
        }
        let Some(password) = url.password() else {
            // Asking the server would only log a failed login: the caller prompts.
            return Err(DbError::Auth {
                target: target.label().to_owned(),
                detail: "no password given".to_owned(),
            });
        };
        config.authentication(AuthMethod::sql_server(user, decode(password)?));
    }
    match param("encrypt").map(|v| v.to_ascii_lowercase()).as_deref() {
        None | Some("true" | "yes" | "mandatory") => config.encryption(EncryptionLevel::Required),
        Some("false" | "no" | "optional") => config.encryption(EncryptionLevel::Off),
        Some("strict") => config.encryption(EncryptionLevel::Strict),
        Some(other) => {
            return Err(DbError::InvalidUrl(format!(
                "{}: encrypt={other}: expected true, false or strict",
                target.label()
            )));
        }
    }
    if param("trust_server_certificate").is_some_and(|v| truthy(&v)) {
        config.trust_cert();
    }
    config.handshake_timeout(Some(options.connect_timeout));
    config.command_timeout(Some(options.statement_timeout));
    Ok(config)
}

#[cfg(windows)]
fn integrated_auth(_target: &DbTarget) -> Result<AuthMethod, DbError> {
    Ok(AuthMethod::Integrated)
}

/// tiberius offers integrated (Kerberos) login on Unix only through GSSAPI, a C
/// library this self-contained binary does not link.
#[cfg(not(windows))]
fn integrated_auth(target: &DbTarget) -> Result<AuthMethod, DbError> {
    Err(DbError::Connect {
        target: target.label().to_owned(),
        detail: "Windows integrated authentication is not available on this platform \
                 (only the Windows build of perfdiag has it); use a SQL Server login \
                 (User Id=…; the password from MSSQL_PWD, SQLCMDPASSWORD or a prompt)"
            .to_owned(),
    })
}

/// TCP, the TDS handshake and the session settings, each bounded by `timeout`.
async fn connect(
    config: &Config,
    label: &str,
    timeout: Duration,
    lock_timeout: Duration,
) -> Result<TdsClient, DbError> {
    let connect_error = |detail: String| DbError::Connect {
        target: label.to_owned(),
        detail,
    };
    let addr = config.get_addr();
    let tcp = match tokio::time::timeout(timeout, TcpStream::connect(&addr)).await {
        Err(_) => {
            return Err(connect_error(format!(
                "no answer from {addr} within {} s (connect timeout): check the host name, \
                 that SQL Server listens on TCP at this port, and that no firewall drops the \
                 connection",
                timeout.as_secs_f64()
            )));
        }
        Ok(Err(e)) => return Err(connect_error(tcp_detail(&addr, &e))),
        Ok(Ok(tcp)) => tcp,
    };
    let _ = tcp.set_nodelay(true);
    let client =
        match tokio::time::timeout(timeout, Client::connect(config.clone(), tcp.compat_write()))
            .await
        {
            Err(_) => {
                return Err(connect_error(format!(
                    "{addr} accepted the connection but the TDS login did not finish within {} s: \
                 is this port a SQL Server?",
                    timeout.as_secs_f64()
                )));
            }
            Ok(Err(e)) => return Err(login_error(label, &addr, e)),
            Ok(Ok(client)) => client,
        };
    let mut client = client;
    let session = SESSION_SQL.replace(
        "{lock_timeout_ms}",
        &lock_timeout
            .as_millis()
            .clamp(1, i32::MAX as u128)
            .to_string(),
    );
    let prepared = tokio::time::timeout(timeout, async {
        client.simple_query(session).await?.into_results().await
    })
    .await;
    match prepared {
        Ok(Ok(_)) => Ok(client),
        Ok(Err(e)) => Err(connect_error(format!("cannot prepare the session: {e}"))),
        Err(_) => Err(connect_error(
            "the session settings got no answer".to_owned(),
        )),
    }
}

/// What a failed TCP connect means, and what to check.
pub(crate) fn tcp_detail(addr: &str, e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    let what = match e.kind() {
        ErrorKind::ConnectionRefused => "nothing listens there (connection refused)".to_owned(),
        ErrorKind::TimedOut => "the connection timed out".to_owned(),
        _ => e.to_string(),
    };
    format!(
        "{addr}: {what}; check that SQL Server runs, that TCP/IP is enabled for it (SQL Server \
         Configuration Manager) at this port (a named instance has its own port), and that no \
         firewall blocks this host"
    )
}

/// Wrong credentials become [`DbError::Auth`] (the CLI may then prompt); everything
/// else is [`DbError::Connect`] with the server's words and what to do.
fn login_error(label: &str, addr: &str, e: tiberius::error::Error) -> DbError {
    use tiberius::error::Error;
    let detail = match &e {
        Error::Server(t) => match t.code() {
            // 18456: login failed (unknown login or wrong password).
            18456 => {
                return DbError::Auth {
                    target: label.to_owned(),
                    detail: t.message().to_owned(),
                };
            }
            // 18452: the server accepts Windows logins only.
            18452 => {
                return DbError::Auth {
                    target: label.to_owned(),
                    detail: format!(
                        "{} (the server accepts Windows logins only: ask for a SQL login, or \
                         run the Windows build with integrated_security=true)",
                        t.message()
                    ),
                };
            }
            4060 => format!(
                "{} (error 4060: the database does not exist or this login has no user in it)",
                t.message()
            ),
            n => format!("{} (error {n})", t.message()),
        },
        Error::Tls(m) => format!(
            "TLS with {addr} failed: {m}. A self-signed server certificate needs \
             trust_server_certificate=true (TrustServerCertificate=True)"
        ),
        Error::Routing { host, port } => {
            format!("the server redirects to {host}:{port}; connect to that address instead")
        }
        other => other.to_string(),
    };
    DbError::Connect {
        target: label.to_owned(),
        detail,
    }
}

/// `%XX` sequences of a URL part, as UTF-8.
fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3).ok_or("a truncated %-escape")?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| "a malformed %-escape")?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "not UTF-8 once %-decoded".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Engine;

    fn target(url: &str) -> DbTarget {
        DbTarget::parse(Engine::Mssql, url).unwrap()
    }

    #[test]
    fn configuration_follows_the_url() {
        let options = DbOptions::default();
        let c = config(
            &target(
                "mssql://perf%20diag:p%40ss@db01:1533/ERP%20Prod?trust_server_certificate=true",
            ),
            &options,
        )
        .unwrap();
        assert_eq!(c.get_addr(), "db01:1533");
        assert_eq!(c.get_command_timeout(), Some(options.statement_timeout));
        assert_eq!(c.get_handshake_timeout(), Some(options.connect_timeout));
        let debug = format!("{c:?}");
        assert!(!debug.contains("p@ss"), "the password leaks: {debug}");
        assert!(debug.contains("ERP Prod"), "{debug}");
    }

    #[test]
    fn what_cannot_work_is_said_before_connecting() {
        let options = DbOptions::default();
        let e = config(&target("mssql://perfdiag@db01/erp"), &options).unwrap_err();
        assert!(matches!(e, DbError::Auth { .. }), "{e}");
        let e = config(
            &target("Server=db01\\SQLEXPRESS;User Id=u;Password=p"),
            &options,
        )
        .unwrap_err();
        assert!(e.to_string().contains("needs its TCP port"), "{e}");
        let e = config(&target("mssql://db01/erp"), &options).unwrap_err();
        assert!(e.to_string().contains("no user"), "{e}");
        #[cfg(not(windows))]
        {
            let e = config(&target("Server=db01;Integrated Security=SSPI"), &options).unwrap_err();
            assert!(
                e.to_string().contains("not available on this platform"),
                "{e}"
            );
        }
    }

    #[test]
    fn errors_sqlcmd_recorded_keep_their_number() {
        let e = recorded_error(Recorded::Failed(
            "Msg 300, Level 14, State 1, Server DB03, Line 1\r\n\
             VIEW SERVER STATE permission was denied on object 'server', database 'master'.\r\n"
                .to_owned(),
        ));
        assert_eq!(e.number, Some(300));
        assert!(e.is_permission());
        assert!(
            e.message
                .starts_with("VIEW SERVER STATE permission was denied"),
            "{e}"
        );
        let e = recorded_error(Recorded::Failed(
            "Msg 208, Level 16, State 1, Server DB03, Line 5\nInvalid object name 'sys.dm_os_host_info'.".to_owned(),
        ));
        assert!(e.is_missing_object(), "{e}");
        // sqlcmd's own errors carry no server number: a plain failure.
        let e = recorded_error(Recorded::Failed(
            "Sqlcmd: Error: Microsoft ODBC Driver 17 for SQL Server : Query timeout expired."
                .to_owned(),
        ));
        assert_eq!(e.number, None);
        assert!(e.message.contains("Query timeout expired"), "{e}");
        let e = recorded_error(Recorded::Unusable("start/x.json is missing".to_owned()));
        assert_eq!(
            (e.number, e.message.as_str()),
            (None, "start/x.json is missing")
        );
    }

    #[test]
    fn percent_escapes_decode() {
        assert_eq!(percent_decode("a%3Bb%7Dc").unwrap(), "a;b}c");
        assert_eq!(percent_decode("%E4%B8%AD").unwrap(), "中");
        assert!(percent_decode("%4").is_err());
    }
}
