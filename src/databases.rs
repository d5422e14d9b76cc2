//! The database side of a collection run: connecting to each target (with the
//! password from the URL, the environment, or a prompt: never stored), sampling them
//! with the host, and gathering their output into the snapshot.

use std::io::IsTerminal;

use perfdiag_model::{ProbeRecord, ProbeStatus, Snapshot};
use perfdiag_probes::db::{self, DbCollector, DbError, DbOptions, DbTarget, Engine};

/// The connected targets, and the records of those that could not be reached.
#[derive(Debug, Default)]
pub struct Databases {
    collectors: Vec<Box<dyn DbCollector>>,
    failed: Vec<ProbeRecord>,
}

impl Databases {
    /// Connects to every target; one that fails is recorded and the others go on.
    pub fn connect(targets: &[DbTarget], options: &DbOptions) -> Self {
        let mut out = Self::default();
        for target in targets {
            let started = std::time::Instant::now();
            match connect_with_password(target, options) {
                Ok(collector) => out.collectors.push(collector),
                Err(error) => {
                    eprintln!("warning: {error}");
                    out.failed.push(ProbeRecord {
                        id: format!("{}.connect", target.engine.id()),
                        target: Some(target.label().to_owned()),
                        status: ProbeStatus::Failed,
                        duration_ms: started.elapsed().as_millis() as u64,
                        hint: Some(hint(&error, target.engine)),
                        message: Some(error.to_string()),
                    });
                }
            }
        }
        out
    }

    pub fn tick(&mut self) {
        for collector in &mut self.collectors {
            collector.tick();
        }
    }

    /// Ends every collector's window and puts what they gathered into `snapshot`.
    pub fn finish_into(self, snapshot: &mut Snapshot) {
        let outputs = self.collectors.into_iter().map(|c| c.finish());
        for warning in db::put_into(outputs, snapshot) {
            eprintln!("warning: {warning}");
        }
        for record in self.failed {
            snapshot.record_probe(record);
        }
    }
}

/// Connects, supplying a password when the URL has none: `MYSQL_PWD` for MySQL,
/// `MSSQL_PWD` or sqlcmd's `SQLCMDPASSWORD` for SQL Server (PostgreSQL's driver reads
/// `PGPASSWORD` and `~/.pgpass` itself), then, when the server asks for one and
/// someone is at the terminal, a prompt.
fn connect_with_password(
    target: &DbTarget,
    options: &DbOptions,
) -> Result<Box<dyn DbCollector>, DbError> {
    let from_env = match target.engine {
        Engine::Postgres => None,
        Engine::Mysql => std::env::var("MYSQL_PWD").ok(),
        Engine::Mssql => std::env::var("MSSQL_PWD")
            .or_else(|_| std::env::var("SQLCMDPASSWORD"))
            .ok(),
    };
    let target = match from_env {
        Some(pw) if !target.has_password() => target.with_password(&pw),
        _ => target.clone(),
    };
    match db::connect(&target, options) {
        Err(DbError::Auth { .. }) if !target.has_password() && std::io::stdin().is_terminal() => {
            let prompt = format!("password for {}: ", target.label());
            let password = rpassword::prompt_password(prompt)
                .map_err(|e| DbError::Internal(format!("cannot read the password: {e}")))?;
            db::connect(&target.with_password(&password), options)
        }
        other => other,
    }
}

/// What the engineer can do about a failed connection.
fn hint(error: &DbError, engine: Engine) -> String {
    let variable = match engine {
        Engine::Postgres => "PGPASSWORD (or ~/.pgpass)",
        Engine::Mysql => "MYSQL_PWD",
        Engine::Mssql => "MSSQL_PWD (or SQLCMDPASSWORD)",
    };
    match error {
        DbError::Auth { .. } => format!(
            "check the user and password: set {variable}, or run perfdiag at a terminal to be asked"
        ),
        DbError::InvalidUrl(_) => "correct the URL".to_owned(),
        _ => "check that the server runs and that this host may reach it (address, port, firewall, listen address, TLS)".to_owned(),
    }
}
