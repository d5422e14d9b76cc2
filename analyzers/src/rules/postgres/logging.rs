//! Logging and statement-statistics rules: slow statements never logged, and
//! pg_stat_statements not available to rank statements.

use perfdiag_model::facts::PostgresFacts;
use perfdiag_model::{Comparison, Threshold, Value};

use super::per_target;
use crate::baseline::Direction;
use crate::frames::{Missing, Need};
use crate::rules::{RuleDef, context, crossed, finding};

fn setting_text<'a>(facts: &'a PostgresFacts, name: &str) -> Need<&'a str> {
    facts
        .setting_text(name)
        .ok_or_else(|| Missing(format!("setting {name} in facts postgres")))
}

/// Slow statements are never logged (`log_min_duration_statement = -1` and no
/// auto_explain threshold): the slowest executions leave no trace to analyse.
pub(super) const SLOW_QUERY_LOG_OFF: RuleDef = RuleDef {
    id: "pg.logging.slow_query_off",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |facts| {
            let value = setting_text(facts, "log_min_duration_statement")?;
            let auto_explain = facts
                .setting_text("auto_explain.log_min_duration")
                .is_some_and(|v| v.trim() != "-1");
            if value.trim() != "-1" || auto_explain {
                return Ok(Vec::new());
            }
            Ok(vec![finding(
                spec,
                spec.condition_severity(),
                Some(facts.target.clone()),
                vec![crossed(
                    "pg.settings.log_min_duration_statement",
                    Value::text("-1"),
                    Threshold::new(Comparison::Equals, Value::text("-1")),
                )],
            )])
        })
    },
};

/// pg_stat_statements is not installed or not preloaded: no statement statistics, so
/// no top SQL by time, calls or I/O.
pub(super) const PG_STAT_STATEMENTS_MISSING: RuleDef = RuleDef {
    id: "pg.extension.pg_stat_statements_missing",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |facts| {
            if facts.settings.is_empty() {
                return Err(Missing("settings in facts postgres".to_owned()));
            }
            let s = &facts.pg_stat_statements;
            if s.installed && s.preloaded {
                return Ok(Vec::new());
            }
            Ok(vec![finding(
                spec,
                spec.condition_severity(),
                Some(facts.target.clone()),
                vec![
                    crossed(
                        "pg.extension.pg_stat_statements",
                        Value::text(match (s.installed, s.preloaded) {
                            (false, false) => "absent",
                            (false, true) => "not created",
                            _ => "not preloaded",
                        }),
                        Threshold::new(Comparison::NotEquals, Value::text("available")),
                    ),
                    context(
                        "pg.settings.shared_preload_libraries",
                        Value::text(facts.setting_text("shared_preload_libraries").unwrap_or("")),
                    ),
                ],
            )])
        })
    },
};
