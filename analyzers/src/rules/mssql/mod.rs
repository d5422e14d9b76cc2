//! SQL Server rules: one module per area, one registry.
//!
//! Each rule judges every SQL Server target of the snapshot on its own; findings carry
//! the target's label as `subject`. A rule is "not evaluated" only when no target has
//! its input (a target whose probe failed is simply not judged). The hardware the
//! settings are judged against is the server's own view (`sys.dm_os_sys_info`), since
//! SQL Server is usually collected from another machine.

use perfdiag_model::Finding;
use perfdiag_model::facts::MssqlFacts;

use super::rows::{Rows, listing};
use super::{Inputs, Outcome, RuleDef};
use crate::frames::{Missing, Need};

mod config;
mod databases;
mod indexes;
mod security;
mod sessions;
mod storage;
mod workload;

/// The SQL Server rules, in evaluation order.
pub(in crate::rules) const RULES: &[RuleDef] = &[
    config::MAX_SERVER_MEMORY,
    config::MAXDOP,
    config::COST_THRESHOLD_DEFAULT,
    config::ADHOC_PLAN_BLOAT,
    config::SCHEDULING,
    storage::TEMPDB_FILES,
    storage::FILE_LATENCY,
    storage::VLF_COUNT,
    databases::AUTO_SHRINK,
    databases::AUTO_CLOSE,
    databases::PAGE_VERIFY,
    databases::BACKUPS_MISSING,
    databases::CHECKDB_OLD,
    indexes::MISSING_INDEXES,
    indexes::UNUSED_INDEXES,
    sessions::BLOCKING,
    workload::TOP_CPU,
    security::SA_ENABLED,
    security::SURFACE_AREA,
    security::PASSWORD_POLICY,
];

/// Runs `judge` on every target; missing only when no target could be judged.
fn per_target(inputs: &Inputs<'_>, judge: impl Fn(&MssqlFacts) -> Need<Vec<Finding>>) -> Outcome {
    let targets = inputs.mssql.as_ref().map_err(Clone::clone)?;
    let mut found = Vec::new();
    let mut missing = None;
    let mut judged = false;
    for t in targets {
        match judge(t) {
            Ok(f) => {
                judged = true;
                found.extend(f);
            }
            Err(m) => missing = Some(m),
        }
    }
    if judged {
        Ok(found)
    } else {
        Err(missing.unwrap_or_else(|| Missing("a SQL Server target in facts mssql".to_owned())))
    }
}

/// The configuration option `name` in use, or what is missing.
fn config(t: &MssqlFacts, name: &str) -> Need<i64> {
    t.config_in_use(name)
        .ok_or_else(|| Missing(format!("facts mssql.configurations ({name})")))
}

/// A T-SQL identifier in brackets, `]` doubled.
pub(super) fn bracket(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

#[cfg(test)]
pub(super) mod fixtures;
