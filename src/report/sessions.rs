//! Top sessions and blocking chains, from the sessions sampled every tick
//! (`pg_sessions`, `mysql_sessions`, `mssql_sessions`).
//!
//! A session is one process id (PostgreSQL pid, MySQL thread id) of one target over
//! the window: the sessions that ran, waited or held a transaction the longest come
//! first. A blocking chain is a tree of one sample: a root session that blocks others
//! without waiting itself, and everyone waiting on it, directly or not. The same root
//! over several samples is one chain, shown at the sample where it blocked the most.

use std::collections::{BTreeMap, BTreeSet};

use perfdiag_model::{Snapshot, Table, tables};
use serde::Serialize;

use super::columns::{cut, floats, ints, strings, timestamps};
use super::format;
use super::i18n::Catalog;

/// Sessions listed per target.
pub const TOP_SESSIONS: usize = 10;
/// Blocking chains listed per target.
pub const TOP_CHAINS: usize = 5;
/// Characters of a statement shown (literals are masked already).
const TEXT_CHARS: usize = 300;

#[derive(Debug, Serialize)]
pub struct SessionsView {
    pub target: String,
    /// `postgres`, `mysql` or `mssql`.
    pub engine: String,
    /// Samples (ticks) with at least one active session.
    pub samples: usize,
    /// Distinct sessions seen.
    pub sessions: usize,
    /// The sessions with the longest running time, transaction, state or lock wait.
    pub top: Vec<SessionRow>,
    /// Blocking chains, the most sessions blocked first.
    pub chains: Vec<ChainView>,
}

#[derive(Debug, Serialize)]
pub struct SessionRow {
    /// PostgreSQL pid or MySQL thread id.
    pub id: i64,
    pub user: Option<String>,
    pub database: Option<String>,
    /// Client address (PostgreSQL) or host (MySQL).
    pub client: Option<String>,
    /// application_name, or the backend type when there is none (PostgreSQL).
    pub application: Option<String>,
    /// The state at the sample where it had been at it the longest.
    pub state: Option<String>,
    /// The wait seen most often: `Lock: transactionid`, `IO: DataFileRead`, `LOCK WAIT`.
    pub wait: Option<String>,
    /// Samples it was seen in.
    pub samples: usize,
    /// About how long it was seen active: samples × interval.
    pub seen: String,
    /// The longest time its statement had been running.
    pub running: Option<String>,
    /// The longest time its transaction had been open.
    pub transaction: Option<String>,
    /// The longest of running, transaction, state and lock wait, in ms (the rank).
    pub longest_ms: f64,
    pub longest: String,
    /// It waited on another session's lock in some sample.
    pub blocked: bool,
    /// The most sessions waiting directly on it in one sample.
    pub blocking: usize,
    /// The statement at the sample where it had been at it the longest (masked).
    pub query: String,
}

#[derive(Debug, Serialize)]
pub struct ChainView {
    /// The root session's id.
    pub root: i64,
    /// Samples in which it blocked others.
    pub samples: usize,
    /// About how long it blocked others: samples × interval.
    pub seen: String,
    /// The most sessions blocked behind it (directly or not) in one sample.
    pub blocked: usize,
    /// Levels below the root in that sample.
    pub depth: usize,
    /// When that sample was taken.
    pub at: String,
    /// The longest wait of a blocked session in that sample.
    pub longest_wait: Option<String>,
    /// The tree in that sample, root first, depth-first.
    pub nodes: Vec<ChainNode>,
}

#[derive(Debug, Serialize)]
pub struct ChainNode {
    /// 0 for the root.
    pub depth: usize,
    pub id: i64,
    /// False when the session is named as a blocker but was not itself sampled (an
    /// idle MySQL connection holding locks): its details are unknown.
    pub sampled: bool,
    pub user: Option<String>,
    pub database: Option<String>,
    pub state: Option<String>,
    pub wait: Option<String>,
    /// How long it has waited (blocked sessions) or been in its state (the root).
    pub age: Option<String>,
    pub query: String,
}

/// One sampled session, the same for both engines.
#[derive(Debug, Clone)]
struct Sample {
    ts: i64,
    id: i64,
    user: Option<String>,
    database: Option<String>,
    client: Option<String>,
    application: Option<String>,
    state: Option<String>,
    wait: Option<String>,
    running_ms: Option<f64>,
    xact_ms: Option<f64>,
    /// Time in the current state (PostgreSQL) or waiting for a lock (MySQL).
    state_ms: Option<f64>,
    blocked_by: Vec<i64>,
    query: Option<String>,
}

impl Sample {
    fn longest_ms(&self) -> f64 {
        [self.running_ms, self.xact_ms, self.state_ms]
            .into_iter()
            .flatten()
            .fold(0.0, f64::max)
    }
}

fn pg_samples(t: &Table) -> Vec<(String, Sample)> {
    let (target, ts, pid) = (strings(t, "target"), timestamps(t, "ts"), ints(t, "pid"));
    let (user, db, client, app, backend) = (
        strings(t, "usename"),
        strings(t, "datname"),
        strings(t, "client_addr"),
        strings(t, "application_name"),
        strings(t, "backend_type"),
    );
    let (state, wtype, wevent, blocked, query) = (
        strings(t, "state"),
        strings(t, "wait_event_type"),
        strings(t, "wait_event"),
        strings(t, "blocked_by"),
        strings(t, "query"),
    );
    let (qage, xage, sage) = (
        floats(t, "query_age_ms"),
        floats(t, "xact_age_ms"),
        floats(t, "state_age_ms"),
    );
    (0..t.rows())
        .filter_map(|i| {
            let sample = Sample {
                ts: ts[i]?,
                id: pid[i]?,
                user: user[i].clone(),
                database: db[i].clone(),
                client: client[i].clone(),
                application: app[i]
                    .clone()
                    .filter(|a| !a.is_empty())
                    .or_else(|| backend[i].clone()),
                state: state[i].clone(),
                wait: match (&wtype[i], &wevent[i]) {
                    (Some(t), Some(e)) => Some(format!("{t}: {e}")),
                    (Some(t), None) => Some(t.clone()),
                    _ => None,
                },
                running_ms: qage[i],
                xact_ms: xage[i],
                state_ms: sage[i],
                blocked_by: blocked[i]
                    .as_deref()
                    .unwrap_or_default()
                    .split(',')
                    .filter_map(|p| p.trim().parse().ok())
                    .collect(),
                query: query[i].clone(),
            };
            Some((target[i].clone()?, sample))
        })
        .collect()
}

fn mysql_samples(t: &Table) -> Vec<(String, Sample)> {
    let (target, ts, id) = (strings(t, "target"), timestamps(t, "ts"), ints(t, "id"));
    let (user, db, host, command, state, trx_state, info) = (
        strings(t, "user"),
        strings(t, "db"),
        strings(t, "host"),
        strings(t, "command"),
        strings(t, "state"),
        strings(t, "trx_state"),
        strings(t, "info"),
    );
    let (time, trx_age, blocked, lock_wait) = (
        ints(t, "time_ms"),
        ints(t, "trx_age_ms"),
        ints(t, "blocked_by"),
        ints(t, "lock_wait_ms"),
    );
    let ms = |v: Option<i64>| v.map(|v| v as f64);
    (0..t.rows())
        .filter_map(|i| {
            let state = match (&command[i], state[i].as_deref().filter(|s| !s.is_empty())) {
                (Some(c), Some(s)) => Some(format!("{c} ({s})")),
                (Some(c), None) => Some(c.clone()),
                (None, s) => s.map(str::to_owned),
            };
            let sample = Sample {
                ts: ts[i]?,
                id: id[i]?,
                user: user[i].clone(),
                database: db[i].clone(),
                client: host[i].clone(),
                application: None,
                state,
                wait: trx_state[i]
                    .clone()
                    .filter(|s| s.eq_ignore_ascii_case("LOCK WAIT")),
                running_ms: ms(time[i]),
                xact_ms: ms(trx_age[i]),
                state_ms: ms(lock_wait[i]),
                blocked_by: blocked[i].into_iter().collect(),
                query: info[i].clone(),
            };
            Some((target[i].clone()?, sample))
        })
        .collect()
}

/// SQL Server requests: a session is a `session_id`; its wait is the wait class and
/// type (`Lock: LCK_M_X`), its blocker `blocking_session_id` (0 is none).
fn mssql_samples(t: &Table) -> Vec<(String, Sample)> {
    let (target, ts, id) = (
        strings(t, "target"),
        timestamps(t, "ts"),
        ints(t, "session_id"),
    );
    let (login, db, host, program, status, command, wait_type, wait_class, statement) = (
        strings(t, "login"),
        strings(t, "database"),
        strings(t, "host"),
        strings(t, "program"),
        strings(t, "status"),
        strings(t, "command"),
        strings(t, "wait_type"),
        strings(t, "wait_class"),
        strings(t, "statement"),
    );
    let (elapsed, wait_ms, blocker) = (
        ints(t, "elapsed_ms"),
        ints(t, "wait_time_ms"),
        ints(t, "blocking_session_id"),
    );
    let ms = |v: Option<i64>| v.map(|v| v as f64);
    (0..t.rows())
        .filter_map(|i| {
            let state = match (&status[i], &command[i]) {
                (Some(s), Some(c)) => Some(format!("{s} ({c})")),
                (s, c) => s.clone().or_else(|| c.clone()),
            };
            let wait = wait_type[i]
                .as_deref()
                .map(|w| match wait_class[i].as_deref() {
                    Some(class) => format!("{class}: {w}"),
                    None => w.to_owned(),
                });
            let sample = Sample {
                ts: ts[i]?,
                id: id[i]?,
                user: login[i].clone(),
                database: db[i].clone(),
                client: host[i].clone(),
                application: program[i].clone(),
                state,
                wait,
                running_ms: ms(elapsed[i]),
                xact_ms: None,
                state_ms: ms(wait_ms[i]),
                blocked_by: blocker[i].filter(|b| *b > 0).into_iter().collect(),
                query: statement[i].clone(),
            };
            Some((target[i].clone()?, sample))
        })
        .collect()
}

pub fn build(snapshot: &Snapshot, c: &Catalog) -> Vec<SessionsView> {
    let interval_s = snapshot.manifest().window.interval_ms as f64 / 1000.0;
    let mut out = Vec::new();
    for (table, engine, read) in [
        (
            tables::PG_SESSIONS,
            "postgres",
            pg_samples as fn(&Table) -> Vec<(String, Sample)>,
        ),
        (tables::MYSQL_SESSIONS, "mysql", mysql_samples),
        (tables::MSSQL_SESSIONS, "mssql", mssql_samples),
    ] {
        let Some(t) = snapshot.table(table) else {
            continue;
        };
        // Targets in the order they first appear.
        let mut by_target: Vec<(String, Vec<Sample>)> = Vec::new();
        for (target, s) in read(t) {
            match by_target.iter_mut().find(|(t, _)| *t == target) {
                Some((_, v)) => v.push(s),
                None => by_target.push((target, vec![s])),
            }
        }
        for (target, samples) in by_target {
            out.push(view(target, engine, &samples, interval_s, c));
        }
    }
    out
}

fn view(
    target: String,
    engine: &str,
    samples: &[Sample],
    interval_s: f64,
    c: &Catalog,
) -> SessionsView {
    let ticks: BTreeSet<i64> = samples.iter().map(|s| s.ts).collect();
    let ids: BTreeSet<i64> = samples.iter().map(|s| s.id).collect();
    SessionsView {
        target,
        engine: engine.to_owned(),
        samples: ticks.len(),
        sessions: ids.len(),
        top: top_sessions(samples, interval_s, c),
        chains: chains(samples, interval_s, c),
    }
}

fn ms(v: Option<f64>) -> Option<String> {
    v.map(format::millis)
}

fn top_sessions(samples: &[Sample], interval_s: f64, c: &Catalog) -> Vec<SessionRow> {
    // How many sessions wait directly on each id, per sample.
    let mut blocking: BTreeMap<(i64, i64), usize> = BTreeMap::new();
    for s in samples {
        for b in &s.blocked_by {
            *blocking.entry((s.ts, *b)).or_default() += 1;
        }
    }
    let mut by_id: BTreeMap<i64, Vec<&Sample>> = BTreeMap::new();
    for s in samples {
        by_id.entry(s.id).or_default().push(s);
    }
    let mut rows: Vec<SessionRow> = by_id
        .into_iter()
        .map(|(id, seen)| {
            let worst = seen
                .iter()
                .copied()
                .max_by(|a, b| a.longest_ms().total_cmp(&b.longest_ms()))
                .expect("a session has samples");
            let max =
                |f: fn(&Sample) -> Option<f64>| seen.iter().filter_map(|s| f(s)).reduce(f64::max);
            let longest_ms = worst.longest_ms();
            SessionRow {
                id,
                user: worst.user.clone(),
                database: worst.database.clone(),
                client: worst.client.clone(),
                application: worst.application.clone(),
                state: worst.state.clone(),
                wait: most_frequent(seen.iter().filter_map(|s| s.wait.clone())),
                samples: seen.len(),
                seen: format::duration_in(seen.len() as f64 * interval_s, c),
                running: ms(max(|s| s.running_ms)),
                transaction: ms(max(|s| s.xact_ms)),
                longest_ms,
                longest: format::millis(longest_ms),
                blocked: seen.iter().any(|s| !s.blocked_by.is_empty()),
                blocking: seen
                    .iter()
                    .filter_map(|s| blocking.get(&(s.ts, id)))
                    .copied()
                    .max()
                    .unwrap_or(0),
                query: cut(worst.query.as_deref().unwrap_or_default(), TEXT_CHARS),
            }
        })
        .collect();
    rows.sort_by(|a, b| {
        b.longest_ms
            .total_cmp(&a.longest_ms)
            .then(b.samples.cmp(&a.samples))
            .then(a.id.cmp(&b.id))
    });
    rows.truncate(TOP_SESSIONS);
    rows
}

/// The value seen most often; the first seen wins a tie.
fn most_frequent(values: impl Iterator<Item = String>) -> Option<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for v in values {
        match counts.iter_mut().find(|(k, _)| *k == v) {
            Some((_, n)) => *n += 1,
            None => counts.push((v, 1)),
        }
    }
    let best = counts.iter().map(|(_, n)| *n).max()?;
    counts.into_iter().find(|(_, n)| *n == best).map(|(k, _)| k)
}

/// One root's tree in one sample.
struct Tree<'a> {
    ts: i64,
    /// (depth, id, the session's sample if it was sampled)
    nodes: Vec<(usize, i64, Option<&'a Sample>)>,
}

impl Tree<'_> {
    fn blocked(&self) -> usize {
        self.nodes.len() - 1
    }
    fn depth(&self) -> usize {
        self.nodes.iter().map(|n| n.0).max().unwrap_or(0)
    }
    /// The longest a blocked session of the tree had waited, in ms.
    fn longest_wait(&self) -> Option<f64> {
        self.nodes
            .iter()
            .skip(1)
            .filter_map(|(_, _, s)| s.and_then(|s| s.state_ms.or(s.running_ms)))
            .reduce(f64::max)
    }
}

/// The trees of one sample: each root, and who waits on it, depth-first.
fn trees_of<'a>(ts: i64, tick: &[&'a Sample]) -> Vec<(i64, Tree<'a>)> {
    let session = |id: i64| tick.iter().copied().find(|s| s.id == id);
    let mut waiters: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for s in tick {
        for b in &s.blocked_by {
            waiters.entry(*b).or_default().push(s.id);
        }
    }
    // A root blocks others and waits on no one (or was not sampled, so cannot be
    // seen waiting). Sessions that only block each other (a deadlock about to be
    // broken) have no root and no tree.
    let roots: Vec<i64> = waiters
        .keys()
        .copied()
        .filter(|id| session(*id).is_none_or(|s| s.blocked_by.is_empty()))
        .collect();
    roots
        .into_iter()
        .map(|root| {
            let mut nodes = Vec::new();
            let mut seen = BTreeSet::new();
            let mut stack = vec![(0, root)];
            while let Some((depth, id)) = stack.pop() {
                if !seen.insert(id) {
                    continue;
                }
                nodes.push((depth, id, session(id)));
                if let Some(w) = waiters.get(&id) {
                    // Reversed so the stack pops them in id order.
                    for child in w.iter().rev() {
                        stack.push((depth + 1, *child));
                    }
                }
            }
            (root, Tree { ts, nodes })
        })
        .collect()
}

fn chains(samples: &[Sample], interval_s: f64, c: &Catalog) -> Vec<ChainView> {
    let mut ticks: BTreeMap<i64, Vec<&Sample>> = BTreeMap::new();
    for s in samples {
        ticks.entry(s.ts).or_default().push(s);
    }
    for tick in ticks.values_mut() {
        tick.sort_by_key(|s| s.id);
    }
    // Per root: the samples it blocked in, and its largest tree (the longest wait on
    // a tie, then the earliest).
    let mut roots: BTreeMap<i64, (usize, Tree<'_>)> = BTreeMap::new();
    for (ts, tick) in &ticks {
        for (root, tree) in trees_of(*ts, tick) {
            match roots.get_mut(&root) {
                Some((n, best)) => {
                    *n += 1;
                    let worse = tree.blocked().cmp(&best.blocked()).then_with(|| {
                        tree.longest_wait()
                            .unwrap_or(0.0)
                            .total_cmp(&best.longest_wait().unwrap_or(0.0))
                    });
                    if worse.is_gt() {
                        *best = tree;
                    }
                }
                None => {
                    roots.insert(root, (1, tree));
                }
            }
        }
    }
    let mut out: Vec<ChainView> = roots
        .into_iter()
        .map(|(root, (n, tree))| {
            let longest_wait = tree.longest_wait();
            ChainView {
                root,
                samples: n,
                seen: format::duration_in(n as f64 * interval_s, c),
                blocked: tree.blocked(),
                depth: tree.depth(),
                at: chrono::DateTime::from_timestamp_micros(tree.ts)
                    .map(|t| format::datetime(t, c.lang()))
                    .unwrap_or_default(),
                longest_wait: ms(longest_wait),
                nodes: tree
                    .nodes
                    .iter()
                    .map(|&(depth, id, s)| ChainNode {
                        depth,
                        id,
                        sampled: s.is_some(),
                        user: s.and_then(|s| s.user.clone()),
                        database: s.and_then(|s| s.database.clone()),
                        state: s.and_then(|s| s.state.clone()),
                        wait: s.and_then(|s| s.wait.clone()),
                        age: ms(s.and_then(|s| s.state_ms.or(s.running_ms))),
                        query: cut(
                            s.and_then(|s| s.query.as_deref()).unwrap_or_default(),
                            TEXT_CHARS,
                        ),
                    })
                    .collect(),
            }
        })
        .collect();
    out.sort_by(|a, b| {
        b.blocked
            .cmp(&a.blocked)
            .then(b.samples.cmp(&a.samples))
            .then(a.root.cmp(&b.root))
    });
    out.truncate(TOP_CHAINS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Lang;

    fn s(ts: i64, id: i64, blocked_by: &[i64], state_ms: f64) -> Sample {
        Sample {
            ts,
            id,
            user: Some(format!("u{id}")),
            database: None,
            client: None,
            application: None,
            state: Some("active".to_owned()),
            wait: (!blocked_by.is_empty()).then(|| "Lock: transactionid".to_owned()),
            running_ms: None,
            xact_ms: None,
            state_ms: Some(state_ms),
            blocked_by: blocked_by.to_vec(),
            query: None,
        }
    }

    #[test]
    fn chains_are_trees_from_roots_at_their_worst_sample() {
        let c = Catalog::load(Lang::En).unwrap();
        // Tick 1: 10 blocks 11. Tick 2: 10 blocks 11 and 12, 12 blocks 13; 20 (not
        // sampled) blocks 21. 30 and 31 block each other: no root.
        let samples = vec![
            s(1, 10, &[], 900.0),
            s(1, 11, &[10], 500.0),
            s(2, 10, &[], 1900.0),
            s(2, 11, &[10], 1500.0),
            s(2, 12, &[10], 300.0),
            s(2, 13, &[12], 2500.0),
            s(2, 21, &[20], 100.0),
            s(2, 30, &[31], 100.0),
            s(2, 31, &[30], 100.0),
        ];
        let chains = chains(&samples, 1.0, &c);
        assert_eq!(chains.len(), 2, "{chains:?}");
        let first = &chains[0];
        assert_eq!(
            (first.root, first.samples, first.blocked, first.depth),
            (10, 2, 3, 2)
        );
        let order: Vec<(usize, i64)> = first.nodes.iter().map(|n| (n.depth, n.id)).collect();
        assert_eq!(order, [(0, 10), (1, 11), (1, 12), (2, 13)]);
        assert_eq!(first.longest_wait.as_deref(), Some("2.5 s"));
        let second = &chains[1];
        assert_eq!((second.root, second.blocked), (20, 1));
        assert!(!second.nodes[0].sampled && second.nodes[1].sampled);
    }

    #[test]
    fn top_sessions_rank_by_their_longest_time_and_count_who_they_block() {
        let c = Catalog::load(Lang::En).unwrap();
        let samples = vec![
            s(1, 10, &[], 900.0),
            s(1, 11, &[10], 500.0),
            s(1, 12, &[10], 5000.0),
            s(2, 10, &[], 1900.0),
        ];
        let top = top_sessions(&samples, 1.0, &c);
        let ids: Vec<i64> = top.iter().map(|r| r.id).collect();
        assert_eq!(ids, [12, 10, 11]);
        assert_eq!(
            (top[1].samples, top[1].blocking, top[1].blocked),
            (2, 2, false)
        );
        assert!(top[0].blocked);
        assert_eq!(top[0].wait.as_deref(), Some("Lock: transactionid"));
    }

    #[test]
    fn sql_server_requests_become_sessions_with_their_blockers() {
        use perfdiag_model::col;
        let ts = 1_764_684_000_000_000_i64;
        let t = Table::new()
            .with("ts", col::timestamp([Some(ts), Some(ts)]))
            .with(
                "target",
                col::utf8([Some("mssql://db01"), Some("mssql://db01")]),
            )
            .with("session_id", col::i64([Some(53), Some(61)]))
            .with("login", col::utf8([Some("erp"), Some("erp")]))
            .with("status", col::utf8([Some("sleeping"), Some("suspended")]))
            .with(
                "command",
                col::utf8([Some("AWAITING COMMAND"), Some("UPDATE")]),
            )
            .with("wait_type", col::utf8([None, Some("LCK_M_X")]))
            .with("wait_class", col::utf8([None, Some("Lock")]))
            .with("wait_time_ms", col::i64([None, Some(4200)]))
            .with("blocking_session_id", col::i64([Some(0), Some(53)]))
            .with("elapsed_ms", col::i64([Some(90_000), Some(4300)]));
        let samples = mssql_samples(&t);
        assert_eq!(samples.len(), 2);
        let (target, blocker) = &samples[0];
        assert_eq!(target, "mssql://db01");
        assert!(blocker.blocked_by.is_empty(), "0 is no blocker");
        let waiter = &samples[1].1;
        assert_eq!(waiter.blocked_by, [53]);
        assert_eq!(waiter.wait.as_deref(), Some("Lock: LCK_M_X"));
        assert_eq!(waiter.state.as_deref(), Some("suspended (UPDATE)"));
        let c = Catalog::load(Lang::En).unwrap();
        let samples: Vec<Sample> = samples.into_iter().map(|(_, s)| s).collect();
        let chains = chains(&samples, 1.0, &c);
        assert_eq!((chains[0].root, chains[0].blocked), (53, 1));
    }
}
