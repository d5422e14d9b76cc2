//! MySQL and MariaDB: facts, statement statistics and sampled sessions.
//!
//! One connection, made safe first (`connect.rs`: statement and lock timeouts by
//! flavor, read-only transactions), then:
//! - at the start: identity and flavor, variables, status (first reading), InnoDB
//!   numbers, replication, digests (first reading), tables, indexes, accounts;
//! - at every tick: the sessions sample (two queries);
//! - at the end: status and digests again, so rates cover the window.
//!
//! Each sub-probe records its own outcome (`mysql.<name>`), with the exact GRANT or
//! setting that would enable what it could not read. A lost connection fails the
//! queries after it at once; everything gathered before is kept.
//!
//! `replay` runs this same collector over a capture of the offline scripts instead
//! of a connection (`perfdiag import`, see `crate::offline`).

mod connect;
mod digests;
mod flavor;
mod indexes;
mod innodb;
mod outcome;
mod query;
mod replication;
mod security;
mod sessions;
mod status;
mod tables;
mod variables;

use std::collections::BTreeMap;
use std::time::Duration;

use perfdiag_model::facts::MysqlFacts;
use perfdiag_model::{ProbeRecord, ProbeStatus, Table, tables as table_names};

use crate::db::{DbCollector, DbError, DbOptions, DbOutput, DbTarget, Engine, runtime};
use crate::offline::manifest::CaptureManifest;
use crate::offline::{Phase, Replay};
use flavor::Server;
use outcome::Outcome;
use query::{Conn, QueryError, Stamp, fetch, text};

/// What every sub-probe needs to know about the session.
#[derive(Debug, Clone)]
pub(crate) struct Ctx {
    pub server: Server,
    /// Client-side bound of every query: the server's timeout plus a margin.
    pub guard: Duration,
    /// `'user'@'host'` of the account, for GRANT hints.
    pub account: String,
    pub top_n: usize,
    pub performance_schema: bool,
}

impl Ctx {
    /// The GRANT statement that gives this account `privilege` (e.g. `PROCESS ON *.*`).
    pub fn grant(&self, privilege: &str) -> String {
        format!("GRANT {privilege} TO {};", self.account)
    }
}

/// Connects to a MySQL or MariaDB target and takes the start-of-window readings.
pub fn connect(target: &DbTarget, options: &DbOptions) -> Result<Box<dyn DbCollector>, DbError> {
    let rt = runtime()?;
    let conn = rt.block_on(connect::open(target, options))?;
    let state = rt.block_on(State::start(Conn::new(conn), target.label(), options))?;
    Ok(Box::new(MysqlCollector { rt, state }))
}

/// Replays an offline capture through the collector: the start readings, each sample,
/// the end readings, as a live window would have read them (`perfdiag import`).
pub(crate) fn replay(
    label: &str,
    manifest: &CaptureManifest,
    replay: Replay,
    samples: &[u32],
) -> DbOutput {
    let options = DbOptions {
        statement_timeout: Duration::from_millis(manifest.statement_timeout_ms),
        lock_timeout: Duration::from_millis(manifest.lock_timeout_ms),
        top_n: manifest.top_n,
        ..DbOptions::default()
    };
    let failed = |message: String| DbOutput {
        engine: Engine::Mysql,
        target: label.to_owned(),
        facts: None,
        tables: Vec::new(),
        records: vec![ProbeRecord {
            id: "mysql.connect".to_owned(),
            target: Some(label.to_owned()),
            status: ProbeStatus::Failed,
            duration_ms: 0,
            message: Some(message),
            hint: None,
        }],
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(e) => return failed(e.to_string()),
    };
    let mut state = match rt.block_on(State::start(Conn::replay(replay), label, &options)) {
        Ok(state) => state,
        Err(e) => return failed(e.to_string()),
    };
    for n in samples {
        state.conn.set_phase(Phase::Sample(*n));
        rt.block_on(state.tick());
    }
    state.conn.set_phase(Phase::End);
    rt.block_on(state.finish())
}

#[derive(Debug)]
struct MysqlCollector {
    rt: tokio::runtime::Runtime,
    state: State,
}

impl DbCollector for MysqlCollector {
    fn tick(&mut self) {
        self.rt.block_on(self.state.tick());
    }

    fn finish(self: Box<Self>) -> DbOutput {
        let MysqlCollector { rt, state } = *self;
        rt.block_on(state.finish())
    }
}

/// The collector's data between the start and the end of the window.
#[derive(Debug)]
struct State {
    label: String,
    ctx: Ctx,
    conn: Conn,
    facts: MysqlFacts,
    status_start: Option<(BTreeMap<String, String>, Stamp)>,
    digests_start: Option<digests::Start>,
    tables: Vec<(&'static str, Table)>,
    records: Vec<ProbeRecord>,
    /// Outcomes of the sub-probes that also run at the end of the window.
    status_out: Outcome,
    digests_out: Outcome,
    sessions_out: Outcome,
    samples: Vec<sessions::SessionRow>,
    ticks: u64,
    failed_ticks: u64,
}

impl State {
    async fn start(mut conn: Conn, label: &str, options: &DbOptions) -> Result<Self, DbError> {
        let label = label.to_owned();
        // Before the session limits are known to work: bound the identity query by
        // the client guard alone.
        let guard = options.statement_timeout + Duration::from_secs(2);
        let identity = fetch(
            &mut conn,
            "identity",
            include_str!("sql/identity.sql"),
            guard,
        )
        .await
        .map_err(|e| DbError::Connect {
            target: label.clone(),
            detail: format!("connected, but the first query failed: {e}"),
        })?;
        let row = identity.first();
        let version = row.and_then(|r| text(r, 0));
        let comment = row.and_then(|r| text(r, 1));
        let server = Server::detect(
            version.as_deref().unwrap_or(""),
            comment.as_deref().unwrap_or(""),
        );
        let account = row
            .and_then(|r| text(r, 3))
            .map_or_else(|| "'perfdiag'@'%'".to_owned(), |a| quote_account(&a));
        let since = row.and_then(|r| text(r, 4)).unwrap_or_default();
        let mut ctx = Ctx {
            server,
            guard,
            account,
            top_n: options.top_n,
            performance_schema: false,
        };
        let mut facts = MysqlFacts {
            target: label.clone(),
            flavor: version.as_ref().map(|_| server.flavor),
            version,
            version_comment: comment,
            ..MysqlFacts::default()
        };
        let mut records = Vec::new();

        // The session limits come first: every later query runs under them.
        let mut out = Outcome::new("mysql.session");
        let limits = server.session_sql(options.statement_timeout, options.lock_timeout);
        match query::execute(&mut conn, "session_limits", &limits, guard).await {
            Ok(()) => out.ok(),
            Err(e) => {
                out.failed("statement and lock timeouts", &e);
                out.hint("MySQL before 5.7.8 has no server-side statement timeout: only the client-side guard bounds queries.");
            }
        }
        let read_only = include_str!("sql/session_read_only.sql");
        match query::execute(&mut conn, "session_read_only", read_only, guard).await {
            Ok(()) => out.ok(),
            Err(e) => out.failed("read-only transactions", &e),
        }
        records.push(out.record(&label));

        let mut out = Outcome::new("mysql.variables");
        match variables::read(&mut conn, &ctx).await {
            Ok(vars) => {
                out.ok();
                facts.settings = variables::settings(&vars);
                facts.variables = vars;
            }
            Err(e) => out.failed("SHOW GLOBAL VARIABLES", &e),
        }
        records.push(out.record(&label));
        ctx.performance_schema = facts.settings.performance_schema == Some(true);

        let mut status_out = Outcome::new("mysql.status");
        let status_start = match status::read(&mut conn, &ctx).await {
            Ok(s) => {
                status_out.ok();
                Some((s, conn.stamp()))
            }
            Err(e) => {
                status_out.failed("start reading", &e);
                None
            }
        };
        status_out.pause();
        let start_status = status_start
            .as_ref()
            .map(|s| s.0.clone())
            .unwrap_or_default();
        facts.uptime_secs = start_status
            .get("Uptime")
            .and_then(|v| query::parse_uint(v));
        facts.connections = status::connections(&facts.settings, &start_status);

        let mut out = Outcome::new("mysql.innodb");
        facts.innodb = innodb::read(&mut conn, &ctx, &start_status, &mut out).await;
        records.push(out.record(&label));

        let mut out = Outcome::new("mysql.replication");
        facts.replication = replication::read(&mut conn, &ctx, &mut out).await;
        records.push(out.record(&label));

        let mut digests_out = Outcome::new("mysql.digests");
        let digests_start = if ctx.performance_schema {
            match digests::start(&mut conn, &ctx, &since).await {
                Ok(s) => {
                    digests_out.ok();
                    Some(s)
                }
                Err(e) => {
                    digests_out.failed("start reading", &e);
                    if matches!(e, QueryError::Denied(_)) {
                        digests_out.hint(ctx.grant("SELECT ON performance_schema.*"));
                    }
                    None
                }
            }
        } else {
            digests_out.skip(
                "performance_schema is OFF: no statement digests",
                "Set performance_schema = ON in the [mysqld] section of my.cnf and restart the server (it cannot be switched on at run time).",
            );
            None
        };
        digests_out.pause();

        let mut tables = Vec::new();
        let mut out = Outcome::new("mysql.tables");
        // Whether the tables read are all there are (not hidden by privileges).
        let mut visible = false;
        let mut table_rows = match tables::read(&mut conn, &ctx).await {
            Ok(rows) => {
                if rows.is_empty() && !tables::sees_all_tables(&mut conn, &ctx).await {
                    out.missing("no user table is visible to this account (information_schema lists only tables it holds a privilege on)");
                    out.hint(ctx.grant("SHOW VIEW ON *.*"));
                } else {
                    // Either tables were listed, or the account sees everything and
                    // the server has no user table.
                    out.ok();
                    visible = true;
                }
                rows
            }
            Err(e) => {
                out.failed("information_schema.TABLES", &e);
                Vec::new()
            }
        };
        // The index list also tells which tables have a primary key.
        let mut index_out = Outcome::new("mysql.indexes");
        let columns = match indexes::read_columns(&mut conn, &ctx).await {
            Ok(c) => {
                if visible {
                    index_out.ok();
                    tables::mark_indexes(&mut table_rows, &c);
                }
                c
            }
            Err(e) => {
                index_out.failed("information_schema.STATISTICS", &e);
                if visible {
                    out.failed("primary keys (information_schema.STATISTICS)", &e);
                }
                Vec::new()
            }
        };
        if visible {
            facts.data = Some(tables::sizes(&table_rows));
        }
        tables.push((
            table_names::MYSQL_TABLES,
            tables::table(&label, &tables::keep(table_rows, ctx.top_n)),
        ));
        records.push(out.record(&label));

        let mut out = index_out;
        if !visible {
            out.missing("no user table is visible to this account");
            out.hint(ctx.grant("SHOW VIEW ON *.*"));
        }
        let unused = if ctx.performance_schema {
            match indexes::read_unused(&mut conn, &ctx).await {
                Ok(u) => Some(u),
                Err(e) => {
                    out.failed("unused indexes (performance_schema)", &e);
                    None
                }
            }
        } else {
            out.missing("unused indexes (performance_schema is OFF)");
            None
        };
        tables.push((
            table_names::MYSQL_INDEXES,
            indexes::table(&label, &columns, unused.as_deref(), ctx.top_n * 20),
        ));
        records.push(out.record(&label));

        let mut out = Outcome::new("mysql.security");
        match security::read(&mut conn, &ctx).await {
            Ok(accounts) => {
                out.ok();
                facts.accounts = Some(accounts);
            }
            Err(e) => {
                if matches!(e, QueryError::Denied(_)) {
                    out.hint(ctx.grant(&format!("SELECT ON {}", server.accounts_table())));
                }
                out.failed(&format!("accounts ({})", server.accounts_table()), &e);
            }
        }
        records.push(out.record(&label));

        let mut sessions_out = Outcome::new("mysql.sessions");
        sessions_out.pause();
        Ok(Self {
            label,
            ctx,
            conn,
            facts,
            status_start,
            digests_start,
            tables,
            records,
            status_out,
            digests_out,
            sessions_out,
            samples: Vec::new(),
            ticks: 0,
            failed_ticks: 0,
        })
    }

    async fn tick(&mut self) {
        self.sessions_out.resume();
        self.ticks += 1;
        let ts = self.conn.now().timestamp_micros();
        match sessions::sample(&mut self.conn, &self.ctx, ts).await {
            Ok((rows, wait_err)) => {
                self.sessions_out.ok();
                self.samples.extend(rows);
                if let Some(e) = wait_err {
                    self.sessions_out.failed("lock waits", &e);
                }
            }
            Err(e) => {
                self.failed_ticks += 1;
                if matches!(e, QueryError::Denied(_)) {
                    self.sessions_out.hint(self.ctx.grant("PROCESS ON *.*"));
                }
                self.sessions_out
                    .failed(&format!("sample {}", self.ticks), &e);
            }
        }
        self.sessions_out.pause();
    }

    async fn finish(mut self) -> DbOutput {
        let label = self.label.clone();
        self.status_out.resume();
        let end = status::read(&mut self.conn, &self.ctx).await;
        match (&end, &self.status_start) {
            (Ok(end), Some((start, at))) => {
                self.status_out.ok();
                let seconds = self.conn.seconds_since(at);
                self.facts.window = Some(status::window(start, end, seconds));
            }
            (Ok(_), None) => self.status_out.ok(),
            (Err(e), _) => self.status_out.failed("end reading", e),
        }
        match end {
            Ok(end) => {
                self.facts.uptime_secs = end.get("Uptime").and_then(|v| query::parse_uint(v));
                self.facts.connections = status::connections(&self.facts.settings, &end);
                if let Some(d) = end
                    .get("Innodb_deadlocks")
                    .and_then(|v| query::parse_uint(v))
                {
                    self.facts.innodb.deadlocks = Some(d);
                }
                self.facts.status = end;
            }
            Err(_) => {
                if let Some((start, _)) = self.status_start.take() {
                    self.facts.status = start;
                }
            }
        }

        self.digests_out.resume();
        let statements = match &self.digests_start {
            Some(start) => match digests::end(&mut self.conn, &self.ctx, start).await {
                Ok(d) => {
                    self.digests_out.ok();
                    digests::table(&label, &d)
                }
                Err(e) => {
                    self.digests_out.failed("end reading", &e);
                    digests::empty_table(&label)
                }
            },
            None => digests::empty_table(&label),
        };
        self.conn.close(Duration::from_secs(1)).await;

        // Sessions: what the window cost the server, beside the outcome.
        let summary = format!(
            "{} samples ({} failed), {} session rows; {} queries in all, {} ms waiting for the server",
            self.ticks,
            self.failed_ticks,
            self.samples.len(),
            self.conn.queries,
            self.conn.db_time.as_millis()
        );
        let mut sessions_record = self.sessions_out.record(&label);
        sessions_record.message = Some(match sessions_record.message.take() {
            Some(m) => format!("{summary}; {m}"),
            None => summary,
        });

        let mut records = self.records;
        records.push(self.status_out.record(&label));
        records.push(self.digests_out.record(&label));
        records.push(sessions_record);

        let mut tables = vec![
            (
                table_names::MYSQL_SESSIONS,
                sessions::table(&label, &self.samples),
            ),
            (table_names::MYSQL_STATEMENTS, statements),
        ];
        tables.extend(self.tables);
        let facts = self
            .facts
            .version
            .is_some()
            .then(|| serde_json::to_value(&self.facts).ok())
            .flatten();
        DbOutput {
            engine: Engine::Mysql,
            target: label,
            facts,
            tables,
            records,
        }
    }
}

/// The flavor-dependent SQL the offline scripts carry, made by the same code as the
/// live probe's (`flavor.rs`), for a representative server of each kind.
pub(crate) mod script_support {
    use std::time::Duration;

    use super::flavor::Server;

    fn mariadb() -> Server {
        Server::detect("10.11.0-MariaDB", "")
    }

    fn mysql8() -> Server {
        Server::detect("8.0.36", "MySQL Community Server - GPL")
    }

    /// The session limits statement of each flavor.
    pub fn session_variants(statement: Duration, lock: Duration) -> Vec<(&'static str, String)> {
        vec![
            (
                "session_limits_mariadb",
                mariadb().session_sql(statement, lock),
            ),
            (
                "session_limits_mysql",
                mysql8().session_sql(statement, lock),
            ),
        ]
    }

    /// The session sample: the process list (MariaDB's, with TIME_MS; MySQL's), and
    /// MySQL 8's performance_schema.threads.
    pub fn sessions_variants() -> Vec<(&'static str, String)> {
        vec![
            ("sessions_mariadb", mariadb().sessions_sql(false)),
            ("sessions_mysql", mysql8().sessions_sql(false)),
            ("sessions_threads", mysql8().sessions_sql(true)),
        ]
    }
}

/// `perfdiag@%` (CURRENT_USER()) as `'perfdiag'@'%'`.
fn quote_account(current_user: &str) -> String {
    let (user, host) = current_user.rsplit_once('@').unwrap_or((current_user, "%"));
    format!(
        "'{}'@'{}'",
        user.replace('\'', "''"),
        host.replace('\'', "''")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounts_are_quoted_for_grants() {
        assert_eq!(quote_account("perfdiag@%"), "'perfdiag'@'%'");
        assert_eq!(quote_account("a@b@10.0.0.%"), "'a@b'@'10.0.0.%'");
        assert_eq!(quote_account("o'k@localhost"), "'o''k'@'localhost'");
    }
}
