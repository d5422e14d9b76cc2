//! Sessions and locking rules: connection headroom, sessions blocked by row locks in
//! the samples, and transactions left open by idle sessions.

use std::collections::{BTreeMap, BTreeSet};

use perfdiag_model::{Unit, Value, tables};

use super::super::{RuleDef, context, crossed, finding, graded_for};
use super::{Rows, per_target};
use crate::baseline::Direction;
use crate::frames::Missing;

/// Max_used_connections as a % of max_connections: the high-water mark since startup.
pub(in crate::rules) const NEAR_MAX: RuleDef = RuleDef {
    id: "mysql.connections.near_max",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let c = &t.connections;
            let (Some(max), Some(used)) = (c.max_connections, c.max_used_connections) else {
                return Err(Missing(
                    "facts mysql.connections (max_connections, Max_used_connections)".into(),
                ));
            };
            if max == 0 {
                return Ok(Vec::new());
            }
            let pct = used as f64 * 100.0 / max as f64;
            Ok(graded_for(
                spec,
                Some(t.target.clone()),
                "mysql.max_used_connections_pct",
                pct,
                || {
                    vec![
                        context(
                            "mysql.max_used_connections",
                            Value::number(used as f64, Unit::None),
                        ),
                        context(
                            "mysql.max_connections",
                            Value::number(max as f64, Unit::None),
                        ),
                    ]
                },
            ))
        })
    },
};

/// The most sessions seen waiting on a row lock in one sample, with their blockers.
pub(in crate::rules) const BLOCKED: RuleDef = RuleDef {
    id: "mysql.locks.blocked_sessions",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let rows = Rows::of(inputs, tables::MYSQL_SESSIONS, &t.target)?;
            let mut per_sample: BTreeMap<i64, BTreeSet<i64>> = BTreeMap::new();
            let mut blockers = BTreeSet::new();
            let mut longest_wait = 0i64;
            for &r in &rows.rows {
                let (Some(ts), Some(id), Some(by)) = (
                    rows.int("ts", r),
                    rows.int("id", r),
                    rows.int("blocked_by", r),
                ) else {
                    continue;
                };
                per_sample.entry(ts).or_default().insert(id);
                blockers.insert(by);
                longest_wait = longest_wait.max(rows.int("lock_wait_ms", r).unwrap_or(0));
            }
            let peak = per_sample.values().map(BTreeSet::len).max().unwrap_or(0) as f64;
            let Some((severity, threshold)) = spec.grade(peak) else {
                return Ok(Vec::new());
            };
            let mut evidence = vec![
                crossed(
                    "mysql_sessions.blocked.peak",
                    Value::number(peak, Unit::None),
                    threshold,
                ),
                context(
                    "mysql_sessions.blocking_ids",
                    Value::text(
                        blockers
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                ),
                context(
                    "mysql_sessions.lock_wait_ms.max",
                    Value::number(longest_wait as f64, Unit::Milliseconds),
                ),
            ];
            if let Some(waits) = t
                .window
                .as_ref()
                .and_then(|w| w.delta("Innodb_row_lock_waits"))
            {
                evidence.push(context(
                    "mysql.innodb_row_lock_waits",
                    Value::number(waits as f64, Unit::None),
                ));
            }
            Ok(vec![finding(
                spec,
                severity,
                Some(t.target.clone()),
                evidence,
            )])
        })
    },
};

/// The oldest transaction held open by an idle (Sleep) session: it holds its locks and
/// stops purge (the history list grows) until the application commits.
pub(in crate::rules) const IDLE_IN_TRX: RuleDef = RuleDef {
    id: "mysql.sessions.idle_in_trx",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let rows = Rows::of(inputs, tables::MYSQL_SESSIONS, &t.target)?;
            let oldest = rows
                .rows
                .iter()
                .filter(|&&r| rows.text("command", r) == Some("Sleep"))
                .filter_map(|&r| Some((rows.int("trx_age_ms", r)?, r)))
                .max_by_key(|(age, _)| *age);
            let Some((age, r)) = oldest else {
                return Ok(Vec::new());
            };
            let Some((severity, threshold)) = spec.grade(age as f64) else {
                return Ok(Vec::new());
            };
            let mut evidence = vec![crossed(
                "mysql_sessions.idle_trx_age_ms.max",
                Value::number(age as f64, Unit::Milliseconds),
                threshold,
            )];
            if let Some(id) = rows.int("id", r) {
                evidence.push(context(
                    "mysql_sessions.id",
                    Value::number(id as f64, Unit::None),
                ));
            }
            let who = format!(
                "{}@{}",
                rows.text("user", r).unwrap_or("?"),
                rows.text("host", r).unwrap_or("?")
            );
            evidence.push(context("mysql_sessions.client", Value::text(who)));
            if let Some(h) = t.innodb.history_list_length {
                evidence.push(context(
                    "mysql.innodb.history_list_length",
                    Value::number(h as f64, Unit::None),
                ));
            }
            Ok(vec![finding(
                spec,
                severity,
                Some(t.target.clone()),
                evidence,
            )])
        })
    },
};

#[cfg(test)]
mod tests {
    use perfdiag_model::Severity;

    use super::super::fixtures::{MyFixture, Session};
    use crate::test_support::{evidence_number, findings_of, only_finding};

    #[test]
    fn connections_near_max() {
        assert!(
            findings_of(&MyFixture::healthy().assess(), "mysql.connections.near_max").is_empty()
        );
        let mut f = MyFixture::healthy();
        f.facts[0].connections.max_used_connections = Some(490);
        assert_eq!(
            only_finding(&f.assess(), "mysql.connections.near_max").severity,
            Severity::Critical
        );
        let mut f = MyFixture::healthy();
        f.facts[0].connections.max_connections = None;
        f.assert_not_evaluated("mysql.connections.near_max", "max_connections");
    }

    #[test]
    fn blocked_sessions_counted_per_sample() {
        assert!(
            findings_of(
                &MyFixture::healthy().assess(),
                "mysql.locks.blocked_sessions"
            )
            .is_empty()
        );
        let mut f = MyFixture::healthy();
        for ts in 0..3 {
            f.sessions.push(Session::blocked(ts, 11, 10));
            f.sessions.push(Session::blocked(ts, 12, 10));
        }
        let a = f.assess();
        let found = only_finding(&a, "mysql.locks.blocked_sessions");
        assert_eq!(evidence_number(found, "mysql_sessions.blocked.peak"), 2.0);
        let mut f = MyFixture::healthy();
        f.with_tables = false;
        f.assert_not_evaluated("mysql.locks.blocked_sessions", "table mysql_sessions");
        f.assert_not_evaluated("mysql.sessions.idle_in_trx", "table mysql_sessions");
    }

    #[test]
    fn idle_in_transaction() {
        assert!(
            findings_of(&MyFixture::healthy().assess(), "mysql.sessions.idle_in_trx").is_empty()
        );
        let mut f = MyFixture::healthy();
        f.sessions.push(Session::idle_in_trx(0, 20, 900_000));
        let a = f.assess();
        let found = only_finding(&a, "mysql.sessions.idle_in_trx");
        assert_eq!(found.severity, Severity::Critical);
        assert_eq!(evidence_number(found, "mysql_sessions.id"), 20.0);
    }
}
