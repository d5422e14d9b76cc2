//! Locking rules: requests blocked by another session in the samples, with the head
//! blockers of the chains.

use std::collections::{BTreeMap, BTreeSet};

use perfdiag_model::{Unit, Value, tables};

use super::super::{RuleDef, context, crossed, finding};
use super::{Rows, per_target};
use crate::baseline::Direction;

/// The most requests seen blocked (`blocking_session_id` set) in one sample, with
/// the head blockers — blockers not blocked themselves, whose transaction the chain
/// waits for — and the longest wait seen.
pub(in crate::rules) const BLOCKING: RuleDef = RuleDef {
    id: "mssql.locks.blocking",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let rows = Rows::of(inputs, tables::MSSQL_SESSIONS, &t.target)?;
            // Per sample: the blocked sessions and their blockers.
            let mut samples: BTreeMap<i64, BTreeMap<i64, i64>> = BTreeMap::new();
            let mut longest = 0i64;
            let mut resources = BTreeSet::new();
            for &r in &rows.rows {
                let (Some(ts), Some(id), Some(by)) = (
                    rows.int("ts", r),
                    rows.int("session_id", r),
                    rows.int("blocking_session_id", r),
                ) else {
                    continue;
                };
                // 0 is "not blocked"; negative ids are orphaned distributed
                // transactions or latch owners the DMV cannot name.
                if by == 0 || by == id {
                    continue;
                }
                samples.entry(ts).or_default().insert(id, by);
                longest = longest.max(rows.int("wait_time_ms", r).unwrap_or(0));
                if let Some(res) = rows.text("wait_resource", r).filter(|s| !s.is_empty()) {
                    resources.insert(res.to_owned());
                }
            }
            let peak = samples.values().map(BTreeMap::len).max().unwrap_or(0) as f64;
            let Some((severity, threshold)) = spec.grade(peak) else {
                return Ok(Vec::new());
            };
            let heads: BTreeSet<i64> = samples
                .values()
                .flat_map(|chain| {
                    chain
                        .values()
                        .filter(|by| !chain.contains_key(by))
                        .copied()
                        .collect::<Vec<_>>()
                })
                .collect();
            let join = |v: Vec<String>| v.join(", ");
            let mut evidence = vec![
                crossed(
                    "mssql_sessions.blocked.peak",
                    Value::number(peak, Unit::None),
                    threshold,
                ),
                context(
                    "mssql_sessions.head_blockers",
                    Value::text(join(heads.iter().map(ToString::to_string).collect())),
                ),
                context(
                    "mssql_sessions.wait_ms.max",
                    Value::number(longest as f64, Unit::Milliseconds),
                ),
                context(
                    "mssql_sessions.blocked.samples",
                    Value::number(samples.len() as f64, Unit::None),
                ),
            ];
            if !resources.is_empty() {
                evidence.push(context(
                    "mssql_sessions.wait_resources",
                    Value::text(join(resources.into_iter().take(5).collect())),
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

    use super::super::fixtures::{MsFixture, Request};
    use crate::test_support::{evidence_number, findings_of, only_finding};

    #[test]
    fn blocked_requests_and_their_head_blocker() {
        assert!(findings_of(&MsFixture::healthy().assess(), "mssql.locks.blocking").is_empty());
        let mut f = MsFixture::healthy();
        for ts in 0..3 {
            f.requests.push(Request::blocked(ts, 61, 55));
            f.requests.push(Request::blocked(ts, 62, 61));
        }
        let a = f.assess();
        let found = only_finding(&a, "mssql.locks.blocking");
        assert_eq!(found.severity, Severity::Warning);
        assert_eq!(evidence_number(found, "mssql_sessions.blocked.peak"), 2.0);
        assert!(
            found
                .evidence
                .iter()
                .any(|e| e.metric == "mssql_sessions.head_blockers"
                    && e.observed.to_string() == "55")
        );
        let mut f = MsFixture::healthy();
        f.with_tables = false;
        f.assert_not_evaluated("mssql.locks.blocking", "table mssql_sessions");
    }
}
