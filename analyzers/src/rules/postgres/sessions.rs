//! Session rules: client connections near max_connections, sessions idle inside an
//! open transaction, and chains of sessions blocked on each other's locks.

use std::collections::{BTreeMap, BTreeSet};

use perfdiag_model::{Unit, Value, tables};

use super::{Columns, per_target, setting_evidence};
use crate::baseline::Direction;
use crate::frames::Missing;
use crate::rules::{RuleDef, context, graded_for};

/// The most client connections seen, as a share of what non-superusers may open.
pub(super) const CONNECTIONS_NEAR_MAX: RuleDef = RuleDef {
    id: "pg.connections.near_max",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |facts| {
            let c = facts
                .connections
                .as_ref()
                .ok_or_else(|| Missing("facts postgres.connections".to_owned()))?;
            let (Some(max), Some(peak)) = (c.max_connections, c.peak_client_backends) else {
                return Err(Missing(
                    "max_connections and the connection peak".to_owned(),
                ));
            };
            let usable = (max - c.reserved_connections.unwrap_or(0)).max(1) as f64;
            let pct = peak as f64 * 100.0 / usable;
            Ok(graded_for(
                spec,
                Some(facts.target.clone()),
                "pg.connections.peak_pct",
                pct,
                || {
                    vec![
                        context(
                            "pg.connections.peak",
                            Value::number(peak as f64, Unit::None),
                        ),
                        context(
                            "pg.settings.max_connections",
                            Value::number(max as f64, Unit::None),
                        ),
                    ]
                },
            ))
        })
    },
};

/// The longest time a session sat idle inside an open transaction: it holds its locks
/// and its snapshot, which blocks vacuum cleanup everywhere.
pub(super) const IDLE_IN_TRANSACTION: RuleDef = RuleDef {
    id: "pg.sessions.idle_in_transaction",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        inputs.postgres.as_ref().map_err(Clone::clone)?;
        let s = Columns::of(inputs, tables::PG_SESSIONS)?;
        let (state, age, pid) = (s.text("state")?, s.float("state_age_ms")?, s.int("pid")?);
        per_target(inputs, |facts| {
            let worst = s
                .rows_of(&facts.target)?
                .into_iter()
                .filter(|&i| {
                    state[i]
                        .as_deref()
                        .is_some_and(|st| st.starts_with("idle in transaction"))
                })
                .filter_map(|i| Some((age[i]?, pid[i])))
                .max_by(|a, b| a.0.total_cmp(&b.0));
            let Some((ms, pid)) = worst else {
                return Ok(Vec::new());
            };
            Ok(graded_for(
                spec,
                Some(facts.target.clone()),
                "pg.sessions.idle_in_transaction_ms.max",
                ms,
                || {
                    pid.map(|p| context("pg.sessions.pid", Value::number(p as f64, Unit::None)))
                        .into_iter()
                        .chain(setting_evidence(
                            facts,
                            "idle_in_transaction_session_timeout",
                        ))
                        .collect()
                },
            ))
        })
    },
};

/// Sessions waiting for a lock another session holds: the most seen blocked at once,
/// with the depth of the longest chain and its root blockers.
pub(super) const BLOCKING_CHAINS: RuleDef = RuleDef {
    id: "pg.locks.blocking_chains",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        inputs.postgres.as_ref().map_err(Clone::clone)?;
        let s = Columns::of(inputs, tables::PG_SESSIONS)?;
        let (ts, pid, blocked_by, age) = (
            s.int("ts")?,
            s.int("pid")?,
            s.text("blocked_by")?,
            s.float("state_age_ms")?,
        );
        per_target(inputs, |facts| {
            // Per sample: pid -> the pids blocking it.
            let mut samples: BTreeMap<i64, BTreeMap<i64, Vec<i64>>> = BTreeMap::new();
            let mut longest_wait: f64 = 0.0;
            for i in s.rows_of(&facts.target)? {
                let (Some(t), Some(p), Some(b)) = (ts[i], pid[i], blocked_by[i].as_deref()) else {
                    continue;
                };
                let blockers: Vec<i64> =
                    b.split(',').filter_map(|x| x.trim().parse().ok()).collect();
                if blockers.is_empty() {
                    continue;
                }
                longest_wait = longest_wait.max(age[i].unwrap_or(0.0));
                samples.entry(t).or_default().insert(p, blockers);
            }
            let Some((blocked, depth, roots)) = samples
                .values()
                .map(|graph| {
                    let depth = graph
                        .keys()
                        .map(|&p| chain_depth(graph, p, 0))
                        .max()
                        .unwrap_or(0);
                    let roots: BTreeSet<i64> = graph
                        .values()
                        .flatten()
                        .filter(|b| !graph.contains_key(b))
                        .copied()
                        .collect();
                    (graph.len(), depth, roots)
                })
                .max_by_key(|(n, d, _)| (*n, *d))
            else {
                return Ok(Vec::new());
            };
            Ok(graded_for(
                spec,
                Some(facts.target.clone()),
                "pg.locks.blocked_sessions.max",
                blocked as f64,
                || {
                    let roots: Vec<String> = roots.iter().map(ToString::to_string).collect();
                    vec![
                        context(
                            "pg.locks.chain_depth",
                            Value::number(depth as f64, Unit::None),
                        ),
                        context(
                            "pg.locks.longest_wait_ms",
                            Value::number(longest_wait, Unit::Milliseconds),
                        ),
                        context("pg.locks.root_blocker_pids", Value::text(roots.join(","))),
                    ]
                },
            ))
        })
    },
};

/// How many sessions stand behind `pid` in its chain (1 = waits on a non-waiting one).
fn chain_depth(graph: &BTreeMap<i64, Vec<i64>>, pid: i64, seen: usize) -> usize {
    if seen > graph.len() {
        return seen; // a cycle (a deadlock about to be broken): stop counting.
    }
    graph.get(&pid).map_or(0, |blockers| {
        1 + blockers
            .iter()
            .map(|&b| chain_depth(graph, b, seen + 1))
            .max()
            .unwrap_or(0)
    })
}
