//! PostgreSQL rules, from the `postgres` facts (one entry per target), the host's RAM
//! and the `pg_*` tables of the snapshot.
//!
//! Every rule judges each target on its own: findings carry the target's label (and
//! the table when there is one) as `subject`. A target whose input is missing is
//! skipped; the rule is "not evaluated" only when no target could be judged, with the
//! first target's reason.
//!
//! One module per area (memory and I/O, sessions, tables and indexes, security,
//! logging, tuning), one registry: [`RULES`].

use perfdiag_model::facts::PostgresFacts;
use perfdiag_model::facts::postgres::PgCounters;
use perfdiag_model::{ColumnData, Finding, Table, Unit, Value};

use super::{Inputs, Outcome, RuleDef, context};
use crate::expected::{self, Machine, url_host};
use crate::frames::{Missing, Need};

mod logging;
mod memory;
mod security;
mod sessions;
mod tables;
mod tuning;

/// The PostgreSQL rules, in evaluation order.
pub(super) const RULES: &[RuleDef] = &[
    memory::SHARED_BUFFERS_LOW,
    memory::CACHE_HIT_RATIO_LOW,
    memory::TEMP_SPILLS,
    memory::CHECKPOINTS_TOO_FREQUENT,
    sessions::CONNECTIONS_NEAR_MAX,
    sessions::IDLE_IN_TRANSACTION,
    sessions::BLOCKING_CHAINS,
    tables::SEQ_SCAN_HEAVY,
    tables::INDEXES_UNUSED,
    tables::INDEXES_DUPLICATE,
    tables::VACUUM_DEAD_TUPLES,
    security::TRUST_AUTH,
    security::PUBLIC_SCHEMA_CREATE,
    logging::SLOW_QUERY_LOG_OFF,
    logging::PG_STAT_STATEMENTS_MISSING,
    tuning::DEVIATES,
];

/// Runs `judge` on every target; `Missing` only when no target could be judged.
fn per_target(
    inputs: &Inputs<'_>,
    mut judge: impl FnMut(&PostgresFacts) -> Need<Vec<Finding>>,
) -> Outcome {
    let targets = inputs.postgres.as_ref().map_err(Clone::clone)?;
    let mut findings = Vec::new();
    let mut judged = false;
    let mut first_missing = None;
    for facts in targets {
        match judge(facts) {
            Ok(found) => {
                judged = true;
                findings.extend(found);
            }
            Err(Missing(m)) => {
                first_missing.get_or_insert_with(|| {
                    if targets.len() > 1 {
                        format!("{m} ({})", facts.target)
                    } else {
                        m
                    }
                });
            }
        }
    }
    match (judged, first_missing) {
        (false, Some(m)) => Err(Missing(m)),
        (false, None) => Err(Missing("facts postgres (no target)".to_owned())),
        _ => Ok(findings),
    }
}

/// Context evidence for a setting, in its normalised unit.
fn setting_evidence(facts: &PostgresFacts, name: &str) -> Option<perfdiag_model::Evidence> {
    let s = facts.setting(name)?;
    let value = match (s.normalised, s.normalised_unit.as_deref()) {
        (Some(v), Some("bytes")) => Value::number(v, Unit::Bytes),
        (Some(v), Some("ms")) => Value::number(v, Unit::Milliseconds),
        _ => match s.setting.parse::<f64>() {
            Ok(v) => Value::number(v, Unit::None),
            Err(_) => Value::text(&s.setting),
        },
    };
    Some(context(&format!("pg.settings.{name}"), value))
}

/// The start and end counters and the seconds between them.
fn window(facts: &PostgresFacts) -> Need<(&PgCounters, &PgCounters, f64)> {
    let (Some(start), Some(end)) = (&facts.start, &facts.end) else {
        return Err(Missing(
            "counters at both ends of the window (facts postgres.start/end)".to_owned(),
        ));
    };
    let secs = (end.at - start.at).num_milliseconds() as f64 / 1000.0;
    if secs <= 0.0 {
        return Err(Missing("a window longer than zero seconds".to_owned()));
    }
    Ok((start, end, secs))
}

/// True when the target runs on the host whose facts the snapshot holds: only then
/// is the host's RAM the database server's.
fn is_local(inputs: &Inputs<'_>, facts: &PostgresFacts) -> bool {
    let hostname = inputs
        .host()
        .map(|h| h.hostname.as_str())
        .unwrap_or_default();
    expected::is_local(&facts.target, hostname)
}

/// The machine the target runs on, for the expected-settings formulas: the host's
/// facts when the target is local, with the storage under its `data_directory`.
fn machine(inputs: &Inputs<'_>, facts: &PostgresFacts) -> Need<Machine> {
    let host = inputs.host()?;
    if !is_local(inputs, facts) {
        return Err(Missing(format!(
            "the database server's RAM (target {} is not on this host)",
            url_host(&facts.target)
        )));
    }
    Machine::new(
        host,
        facts.setting_text("data_directory"),
        inputs.workload,
        inputs.dedicated,
    )
    .ok_or_else(|| Missing("facts host.memory.total_bytes".to_owned()))
}

/// Typed access to the columns of a snapshot table.
struct Columns<'a> {
    table: &'a Table,
    name: &'static str,
}

impl<'a> Columns<'a> {
    fn of(inputs: &Inputs<'a>, name: &'static str) -> Need<Self> {
        let table = inputs
            .snapshot
            .table(name)
            .ok_or_else(|| Missing(format!("table {name}")))?;
        Ok(Self { table, name })
    }
    fn text(&self, column: &str) -> Need<&'a [Option<String>]> {
        match self.table.column(column) {
            Some(ColumnData::Utf8(v)) => Ok(v),
            _ => Err(Missing(format!("column {}.{column}", self.name))),
        }
    }
    fn int(&self, column: &str) -> Need<&'a [Option<i64>]> {
        match self.table.column(column) {
            Some(ColumnData::Int64(v) | ColumnData::Timestamp(v)) => Ok(v),
            _ => Err(Missing(format!("column {}.{column}", self.name))),
        }
    }
    fn float(&self, column: &str) -> Need<&'a [Option<f64>]> {
        match self.table.column(column) {
            Some(ColumnData::Float64(v)) => Ok(v),
            _ => Err(Missing(format!("column {}.{column}", self.name))),
        }
    }
    fn boolean(&self, column: &str) -> Need<&'a [Option<bool>]> {
        match self.table.column(column) {
            Some(ColumnData::Bool(v)) => Ok(v),
            _ => Err(Missing(format!("column {}.{column}", self.name))),
        }
    }
    /// Row indexes belonging to `target`.
    fn rows_of(&self, target: &str) -> Need<Vec<usize>> {
        Ok(self
            .text("target")?
            .iter()
            .enumerate()
            .filter(|(_, t)| t.as_deref() == Some(target))
            .map(|(i, _)| i)
            .collect())
    }
}

#[cfg(test)]
pub(super) mod tests;
