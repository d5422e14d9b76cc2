//! MySQL and MariaDB rules: one module per area, one registry.
//!
//! Each rule judges every MySQL/MariaDB target of the snapshot on its own; findings
//! carry the target's label as `subject`. A rule is "not evaluated" only when no
//! target has its input (a target whose probe failed is simply not judged).

use perfdiag_model::facts::MysqlFacts;
use perfdiag_model::{ColumnData, Finding, Table};

use super::{Inputs, Outcome, RuleDef};
use crate::frames::{Missing, Need};

mod config;
mod schema;
mod security;
mod sessions;
mod tuning;
mod workload;

/// The MySQL and MariaDB rules, in evaluation order.
pub(in crate::rules) const RULES: &[RuleDef] = &[
    config::BUFFER_POOL_SMALL,
    workload::HIT_RATIO,
    workload::TMP_DISK,
    workload::THREAD_CACHE,
    workload::NO_INDEX,
    sessions::NEAR_MAX,
    sessions::BLOCKED,
    sessions::IDLE_IN_TRX,
    schema::NO_PRIMARY_KEY,
    schema::MYISAM,
    schema::REDUNDANT_INDEXES,
    schema::UNUSED_INDEXES,
    security::EMPTY_PASSWORD,
    security::ANONYMOUS_OR_REMOTE_ROOT,
    security::WEAK_ACCOUNTS,
    config::SLOW_LOG_OFF,
    config::PERF_SCHEMA_OFF,
    tuning::DEVIATES,
    tuning::PEAK_OVER_RAM,
];

/// Runs `judge` on every target; missing only when no target could be judged.
fn per_target(inputs: &Inputs<'_>, judge: impl Fn(&MysqlFacts) -> Need<Vec<Finding>>) -> Outcome {
    let targets = inputs.mysql.as_ref().map_err(Clone::clone)?;
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
        Err(missing.unwrap_or_else(|| Missing("a MySQL/MariaDB target in facts mysql".to_owned())))
    }
}

/// The rows of snapshot table `name` that belong to `target`.
struct Rows<'a> {
    table: &'a Table,
    rows: Vec<usize>,
}

impl<'a> Rows<'a> {
    fn of(inputs: &Inputs<'a>, name: &str, target: &str) -> Need<Self> {
        let table = inputs
            .snapshot
            .table(name)
            .ok_or_else(|| Missing(format!("table {name}")))?;
        let Some(ColumnData::Utf8(targets)) = table.column("target") else {
            return Err(Missing(format!("column {name}.target")));
        };
        let rows = targets
            .iter()
            .enumerate()
            .filter(|(_, t)| t.as_deref() == Some(target))
            .map(|(i, _)| i)
            .collect();
        Ok(Self { table, rows })
    }

    fn text(&self, column: &str, row: usize) -> Option<&'a str> {
        match self.table.column(column)? {
            ColumnData::Utf8(v) => v.get(row)?.as_deref(),
            _ => None,
        }
    }

    fn int(&self, column: &str, row: usize) -> Option<i64> {
        match self.table.column(column)? {
            ColumnData::Int64(v) | ColumnData::Timestamp(v) => *v.get(row)?,
            _ => None,
        }
    }

    fn float(&self, column: &str, row: usize) -> Option<f64> {
        match self.table.column(column)? {
            ColumnData::Float64(v) => *v.get(row)?,
            ColumnData::Int64(v) => v.get(row)?.map(|x| x as f64),
            _ => None,
        }
    }

    fn flag(&self, column: &str, row: usize) -> Option<bool> {
        match self.table.column(column)? {
            ColumnData::Bool(v) => *v.get(row)?,
            _ => None,
        }
    }

    /// `schema.table` of a row.
    fn qualified(&self, row: usize) -> String {
        format!(
            "{}.{}",
            self.text("schema", row).unwrap_or("?"),
            self.text("table", row).unwrap_or("?")
        )
    }
}

/// At most `n` names, then "and N more".
fn listing(names: &[String], n: usize) -> String {
    let mut out = names.iter().take(n).cloned().collect::<Vec<_>>().join(", ");
    if names.len() > n {
        out.push_str(&format!(" and {} more", names.len() - n));
    }
    out
}

#[cfg(test)]
pub(super) mod fixtures;
