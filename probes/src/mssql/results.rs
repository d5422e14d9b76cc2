//! The results of the probe's queries as text, and what they make: the facts document
//! and the tables. The live collector fills [`Results`] query by query; `perfdiag
//! import` fills it from the CSV files sqlcmd wrote; the tests fill it from recorded
//! rows. [`assemble`] is the one mapping all three go through.

use std::collections::BTreeMap;

use perfdiag_model::facts::mssql::{MssqlFacts, MssqlSecurity};
use perfdiag_model::{Table, tables as names};

use super::counters::{self, WindowRows};
use super::{databases, indexes, security, server, sessions, statements};
use crate::db::TextRows;

/// The rows of every query, by query file (`sql/NAME.sql`); `None` when the query
/// failed or was not run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Results {
    pub server: Option<TextRows>,
    pub host_info: Option<TextRows>,
    pub sys_info: Option<TextRows>,
    pub configurations: Option<TextRows>,
    /// Read at the end of the window.
    pub memory: Option<TextRows>,
    /// Read at the end of the window.
    pub plan_cache: Option<TextRows>,
    pub databases: Option<TextRows>,
    pub vlf_counts: Option<TextRows>,
    pub backups: Option<TextRows>,
    /// `query_store.sql` by database name.
    pub query_store: BTreeMap<String, TextRows>,
    pub tempdb_files: Option<TextRows>,
    pub logins: Option<TextRows>,
    pub start: WindowRows,
    pub end: WindowRows,
    pub missing_indexes: Option<TextRows>,
    pub indexes: Option<TextRows>,
    /// `sessions.sql` samples: (time in microseconds since the epoch, rows).
    pub sessions: Vec<(i64, TextRows)>,
}

/// The facts document and the tables of one target.
#[derive(Debug, Clone)]
pub struct Assembled {
    pub facts: MssqlFacts,
    /// `mssql_sessions`, `mssql_statements`, `mssql_missing_indexes`, `mssql_indexes`,
    /// each present (possibly empty) so that every target has the same columns.
    pub tables: Vec<(&'static str, Table)>,
}

/// Maps every result to facts and tables. `top_n` bounds each statement ranking.
pub fn assemble(label: &str, results: &Results, top_n: usize) -> Assembled {
    let mut facts = MssqlFacts {
        target: label.to_owned(),
        ..MssqlFacts::default()
    };
    let now = results
        .server
        .as_ref()
        .and_then(|r| server::apply_server(r, &mut facts));
    if let Some(r) = &results.host_info {
        server::apply_host_info(r, &mut facts);
    }
    if let Some(r) = &results.sys_info {
        server::apply_sys_info(r, now, &mut facts);
    }
    facts.configurations = results
        .configurations
        .as_ref()
        .map(server::configurations)
        .unwrap_or_default();
    facts.memory = results.memory.as_ref().and_then(server::memory);
    facts.plan_cache = results.plan_cache.as_ref().and_then(server::plan_cache);

    let mut dbs = results
        .databases
        .as_ref()
        .map(databases::databases)
        .unwrap_or_default();
    if let Some(r) = &results.vlf_counts {
        databases::apply_vlf_counts(r, &mut dbs);
    }
    if let Some(r) = &results.backups {
        databases::apply_backups(r, &mut dbs);
    }
    for (name, rows) in &results.query_store {
        if let Some(d) = dbs.iter_mut().find(|d| d.name.eq_ignore_ascii_case(name)) {
            d.query_store = databases::query_store(rows);
        }
    }
    facts.databases = dbs;
    facts.tempdb_files = results
        .tempdb_files
        .as_ref()
        .map(databases::database_files)
        .unwrap_or_default();

    let windows_auth_only = results
        .server
        .as_ref()
        .and_then(|r| r.iter().next().and_then(|r| r.bool("windows_auth_only")));
    facts.security = match &results.logins {
        Some(rows) => Some(security::security(
            rows,
            windows_auth_only,
            logins_visible(&facts),
        )),
        None => windows_auth_only.map(|w| MssqlSecurity {
            windows_auth_only: Some(w),
            ..MssqlSecurity::default()
        }),
    };

    facts.start = counters::reading(&results.start);
    facts.end = counters::reading(&results.end);
    let start = results.start.statements.as_ref().map(statements::entries);
    let end = results.end.statements.as_ref().map(statements::entries);
    let kept = statements::top(
        statements::window(start.as_ref(), end.as_ref()),
        top_n.max(1),
    );

    let samples: Vec<sessions::SessionRow> = results
        .sessions
        .iter()
        .flat_map(|(ts, rows)| sessions::sample(rows, *ts))
        .collect();
    let empty = TextRows::default();
    let tables = vec![
        (names::MSSQL_SESSIONS, sessions::table(&samples, label)),
        (names::MSSQL_STATEMENTS, statements::table(&kept, label)),
        (
            names::MSSQL_MISSING_INDEXES,
            indexes::missing_indexes(results.missing_indexes.as_ref().unwrap_or(&empty), label),
        ),
        (
            names::MSSQL_INDEXES,
            indexes::indexes(results.indexes.as_ref().unwrap_or(&empty), label),
        ),
    ];
    Assembled { facts, tables }
}

/// Whether the login sees every login and object: sysadmin or VIEW ANY DEFINITION.
pub(crate) fn logins_visible(facts: &MssqlFacts) -> bool {
    facts.is_sysadmin == Some(true) || facts.has_view_any_definition == Some(true)
}
