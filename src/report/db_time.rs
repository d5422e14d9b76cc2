//! Average active sessions (AAS) by wait class over the window, per database target:
//! the stacked-area chart of where each database spent its time, sample by sample.
//!
//! The classes are the assessment's (`perfdiag_analyzers::db_time`, which ranks the
//! bottleneck by them), applied here to each sampled session rather than summed over
//! the window:
//! - PostgreSQL (`pg_sessions`): sessions in state `active`; the class is
//!   `wait_event_type`, or `CPU` when the session is not waiting.
//! - MySQL/MariaDB (`mysql_sessions`): sessions whose command is neither `Sleep` nor
//!   `Daemon`; `Lock` when another session blocks it or its state is a lock wait,
//!   else `Running` (the processlist does not tell CPU from I/O).
//! - SQL Server (`mssql_sessions`): requests whose status is `running`, `runnable` or
//!   `suspended`; the class is `wait_class`, or `CPU` when the request is not waiting.
//!
//! A tick where no session was active records no row, so the ticks are laid on a grid
//! of the sampling interval from the first to the last sample of the window (host or
//! database, which the same loop takes), and an empty tick counts zero. Each point is
//! the mean over a run of ticks (one tick when the window has at most
//! [`MAX_POINTS`](super::series::MAX_POINTS) of them), so the mean of a class over the
//! chart is its average active sessions over the sampled ticks.

use std::collections::BTreeMap;

use perfdiag_model::{ColumnData, Snapshot, Table, tables};
use serde::Serialize;

use super::columns::{strings, timestamps};
use super::series::runs;

/// MySQL thread states that are waits for a lock (processlist `State`), as the
/// assessment counts them.
const MYSQL_LOCK_STATES: [&str; 5] = [
    "Waiting for table metadata lock",
    "Waiting for table level lock",
    "Waiting for global read lock",
    "Waiting for table flush",
    "Locked",
];

/// SQL Server request statuses that count as database time, as the assessment counts
/// them.
const MSSQL_ACTIVE_STATUSES: [&str; 3] = ["running", "runnable", "suspended"];

/// One database target's active sessions by wait class over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DbTimeSeries {
    pub target: String,
    /// `postgres`, `mysql` or `mssql`.
    pub engine: String,
    /// The wait classes, most database time first: the stacking order, bottom up.
    pub classes: Vec<String>,
    pub points: Vec<AasPoint>,
}

/// Active sessions of each class (in the order of `classes`) at time `t`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AasPoint {
    pub t: f64,
    pub aas: Vec<f64>,
}

/// Active sessions of each wait class, per tick.
type ClassCounts = BTreeMap<String, Vec<u32>>;

/// An active session in one sample.
struct Active {
    target: String,
    engine: &'static str,
    ts: i64,
    class: String,
}

pub fn build(snapshot: &Snapshot) -> Vec<DbTimeSeries> {
    let window = &snapshot.manifest().window;
    let start = window.started_at.timestamp_micros();
    let end = window.ended_at.timestamp_micros();
    let interval = (window.interval_ms.max(1) * 1000) as i64;
    let mut active = Vec::new();
    // Every sample time, to lay the grid of ticks: the sessions' and the host's.
    let mut sampled: Vec<i64> = Vec::new();
    for (name, engine) in [
        (tables::PG_SESSIONS, "postgres"),
        (tables::MYSQL_SESSIONS, "mysql"),
        (tables::MSSQL_SESSIONS, "mssql"),
    ] {
        if let Some(t) = snapshot.table(name) {
            sampled.extend(timestamps(t, "ts").into_iter().flatten());
            active.extend(match engine {
                "postgres" => postgres(t),
                "mysql" => mysql(t),
                _ => mssql(t),
            });
        }
    }
    if active.is_empty() {
        return Vec::new();
    }
    if let Some(t) = snapshot.table(tables::HOST_CPU) {
        sampled.extend(timestamps(t, "ts").into_iter().flatten());
    }
    // A clock that jumped must not make a grid of millions of ticks.
    let in_window = |ts: &i64| (start - interval..=end + interval).contains(ts);
    let first = sampled.iter().copied().filter(in_window).min();
    let last = sampled.iter().copied().filter(in_window).max();
    let (Some(first), Some(last)) = (first, last) else {
        return Vec::new();
    };
    let ticks = ((last - first) as f64 / interval as f64).round() as usize + 1;
    let tick_of = |ts: i64| {
        ((ts - first) as f64 / interval as f64)
            .round()
            .clamp(0.0, (ticks - 1) as f64) as usize
    };
    // Targets in the order they first appear; classes counted per tick.
    let mut targets: Vec<(String, &'static str, ClassCounts)> = Vec::new();
    for a in active.iter().filter(|a| in_window(&a.ts)) {
        let at = match targets.iter().position(|(t, _, _)| *t == a.target) {
            Some(i) => i,
            None => {
                targets.push((a.target.clone(), a.engine, BTreeMap::new()));
                targets.len() - 1
            }
        };
        targets[at]
            .2
            .entry(a.class.clone())
            .or_insert_with(|| vec![0; ticks])[tick_of(a.ts)] += 1;
    }
    let secs = |tick: f64| ((first - start) as f64 + tick * interval as f64) / 1e6;
    targets
        .into_iter()
        .map(|(target, engine, by_class)| {
            let mut classes: Vec<(String, Vec<u32>)> = by_class.into_iter().collect();
            // Most sessions first; equal ones by name (the map's order, kept by a
            // stable sort).
            classes.sort_by_key(|(_, n)| {
                std::cmp::Reverse(n.iter().map(|&c| u64::from(c)).sum::<u64>())
            });
            let points = runs(ticks)
                .map(|r| {
                    let n = r.len() as f64;
                    AasPoint {
                        t: secs((r.start + r.end - 1) as f64 / 2.0),
                        aas: classes
                            .iter()
                            .map(|(_, counts)| {
                                counts[r.clone()].iter().map(|&c| f64::from(c)).sum::<f64>() / n
                            })
                            .collect(),
                    }
                })
                .collect();
            DbTimeSeries {
                target,
                engine: engine.to_owned(),
                classes: classes.into_iter().map(|(c, _)| c).collect(),
                points,
            }
        })
        .collect()
}

/// Whether each row of a column has a value, whatever its type; `None` when the
/// table has no such column.
fn known(t: &Table, name: &str) -> Option<Vec<bool>> {
    fn some<T>(v: &[Option<T>]) -> Vec<bool> {
        v.iter().map(Option::is_some).collect()
    }
    Some(match t.column(name)? {
        ColumnData::Int64(v) | ColumnData::Timestamp(v) => some(v),
        ColumnData::Float64(v) => some(v),
        ColumnData::Utf8(v) => some(v),
        ColumnData::Bool(v) => some(v),
    })
}

/// Whether the table has every column the classification reads (as the assessment
/// asks, it classifies nothing otherwise).
fn has(t: &Table, needs: &[&str]) -> bool {
    needs.iter().all(|c| t.column(c).is_some())
}

fn postgres(t: &Table) -> Vec<Active> {
    if !has(t, &["target", "ts", "state", "wait_event_type"]) {
        return Vec::new();
    }
    let (target, ts, state, wait) = (
        strings(t, "target"),
        timestamps(t, "ts"),
        strings(t, "state"),
        strings(t, "wait_event_type"),
    );
    (0..t.rows())
        .filter(|&i| state[i].as_deref() == Some("active"))
        .filter_map(|i| {
            Some(Active {
                target: target[i].clone()?,
                engine: "postgres",
                ts: ts[i]?,
                class: wait[i].clone().unwrap_or_else(|| "CPU".to_owned()),
            })
        })
        .collect()
}

fn mysql(t: &Table) -> Vec<Active> {
    if !has(t, &["target", "ts", "command", "state", "blocked_by"]) {
        return Vec::new();
    }
    let (target, ts, command, state) = (
        strings(t, "target"),
        timestamps(t, "ts"),
        strings(t, "command"),
        strings(t, "state"),
    );
    let blocked = known(t, "blocked_by").unwrap_or_default();
    (0..t.rows())
        .filter(|&i| {
            command[i]
                .as_deref()
                .is_some_and(|c| c != "Sleep" && c != "Daemon")
        })
        .filter_map(|i| {
            let lock = blocked[i]
                || state[i]
                    .as_deref()
                    .is_some_and(|s| MYSQL_LOCK_STATES.contains(&s));
            Some(Active {
                target: target[i].clone()?,
                engine: "mysql",
                ts: ts[i]?,
                class: if lock { "Lock" } else { "Running" }.to_owned(),
            })
        })
        .collect()
}

fn mssql(t: &Table) -> Vec<Active> {
    if !has(t, &["target", "ts", "status", "wait_class"]) {
        return Vec::new();
    }
    let (target, ts, status, class) = (
        strings(t, "target"),
        timestamps(t, "ts"),
        strings(t, "status"),
        strings(t, "wait_class"),
    );
    (0..t.rows())
        .filter(|&i| {
            status[i]
                .as_deref()
                .is_some_and(|s| MSSQL_ACTIVE_STATUSES.contains(&s))
        })
        .filter_map(|i| {
            Some(Active {
                target: target[i].clone()?,
                engine: "mssql",
                ts: ts[i]?,
                class: class[i].clone().unwrap_or_else(|| "CPU".to_owned()),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::series::MAX_POINTS;
    use super::*;
    use perfdiag_model::{CollectionWindow, HostIdentity, col};

    const START: i64 = 1_800_000_000;

    fn snapshot(secs: i64, interval_ms: u64) -> Snapshot {
        let start = chrono::DateTime::from_timestamp(START, 0).unwrap();
        Snapshot::new(
            HostIdentity {
                hostname: "db1".into(),
                os: "Linux".into(),
                kernel: None,
                arch: "x86_64".into(),
                machine_id: None,
            },
            CollectionWindow {
                started_at: start,
                ended_at: start + chrono::Duration::seconds(secs),
                interval_ms,
                requested_duration_ms: secs as u64 * 1000,
                ended_early: false,
            },
        )
    }

    /// Microseconds at `secs` into the window, plus `jitter_ms` (a tick is never
    /// exactly on time).
    fn at(secs: f64, jitter_ms: i64) -> Option<i64> {
        Some(START * 1_000_000 + (secs * 1e6) as i64 + jitter_ms * 1000)
    }

    /// pg_sessions rows: (seconds, jitter ms, pid, state, wait_event_type).
    fn pg(rows: &[(f64, i64, i64, &str, Option<&str>)]) -> Table {
        Table::new()
            .with("target", col::utf8(rows.iter().map(|_| Some("pg1"))))
            .with("ts", col::timestamp(rows.iter().map(|r| at(r.0, r.1))))
            .with("pid", col::i64(rows.iter().map(|r| Some(r.2))))
            .with("state", col::utf8(rows.iter().map(|r| Some(r.3))))
            .with("wait_event_type", col::utf8(rows.iter().map(|r| r.4)))
    }

    fn host_ticks(s: &mut Snapshot, ticks: impl Iterator<Item = f64>) {
        let ts: Vec<Option<i64>> = ticks.map(|t| at(t, 0)).collect();
        s.put_table(
            tables::HOST_CPU,
            Table::new()
                .with("cpu", col::utf8(ts.iter().map(|_| Some("all"))))
                .with("ts", col::timestamp(ts)),
        );
    }

    #[test]
    fn each_sample_is_split_by_wait_class_and_empty_ticks_count_zero() {
        // Ticks at 2, 4, 6, 8 s (interval 2 s); the host sampled all four, the
        // database had active sessions at 2, 4 and 8 only, a little late each time.
        let mut s = snapshot(10, 2000);
        host_ticks(&mut s, [2.0, 4.0, 6.0, 8.0].into_iter());
        s.put_table(
            tables::PG_SESSIONS,
            pg(&[
                (2.0, 15, 1, "active", Some("Lock")),
                (2.0, 15, 2, "active", Some("Lock")),
                (2.0, 15, 3, "active", None),
                (2.0, 15, 4, "idle in transaction", Some("Client")),
                (4.0, 40, 1, "active", Some("Lock")),
                (4.0, 40, 5, "active", Some("IO")),
                (4.0, 40, 6, "active", Some("IO")),
                (4.0, 40, 7, "active", Some("IO")),
                (8.0, 5, 3, "active", None),
            ]),
        );
        let series = build(&s);
        assert_eq!(series.len(), 1);
        let pg = &series[0];
        assert_eq!(
            (pg.target.as_str(), pg.engine.as_str()),
            ("pg1", "postgres")
        );
        // IO 3, Lock 3, CPU 2 session-samples: IO and Lock tie, by name.
        assert_eq!(pg.classes, ["IO", "Lock", "CPU"]);
        let t: Vec<f64> = pg.points.iter().map(|p| p.t).collect();
        assert_eq!(t, [2.0, 4.0, 6.0, 8.0]);
        let aas: Vec<&[f64]> = pg.points.iter().map(|p| p.aas.as_slice()).collect();
        assert_eq!(
            aas,
            [
                &[0.0, 2.0, 1.0][..],
                &[3.0, 1.0, 0.0],
                &[0.0, 0.0, 0.0],
                &[0.0, 0.0, 1.0]
            ]
        );
    }

    #[test]
    fn mysql_sessions_are_lock_or_running_and_sleepers_do_not_count() {
        let mut s = snapshot(4, 1000);
        // (seconds, command, state, blocked_by)
        let rows: [(f64, &str, Option<&str>, Option<i64>); 6] = [
            (1.0, "Query", Some("updating"), Some(12)),
            (1.0, "Query", Some("Waiting for table metadata lock"), None),
            (1.0, "Query", Some("Sending data"), None),
            (1.0, "Sleep", None, None),
            (2.0, "Daemon", Some("InnoDB purge worker"), None),
            (3.0, "Execute", Some("Sending data"), None),
        ];
        s.put_table(
            tables::MYSQL_SESSIONS,
            Table::new()
                .with("target", col::utf8(rows.iter().map(|_| Some("my1"))))
                .with("ts", col::timestamp(rows.iter().map(|r| at(r.0, 0))))
                .with("command", col::utf8(rows.iter().map(|r| Some(r.1))))
                .with("state", col::utf8(rows.iter().map(|r| r.2)))
                .with("blocked_by", col::i64(rows.iter().map(|r| r.3))),
        );
        let series = build(&s);
        let my = &series[0];
        assert_eq!(my.engine, "mysql");
        assert_eq!(my.classes, ["Lock", "Running"]);
        let aas: Vec<&[f64]> = my.points.iter().map(|p| p.aas.as_slice()).collect();
        assert_eq!(aas, [&[2.0, 1.0][..], &[0.0, 0.0], &[0.0, 1.0]]);
    }

    #[test]
    fn a_long_window_is_thinned_to_run_means() {
        // 1,000 ticks at 1 s: runs of 4 ticks. A Lock waiter in every tick, a CPU
        // session in every other one, IO in the first tick of each run of 4.
        let mut s = snapshot(1000, 1000);
        let mut rows = Vec::new();
        for tick in 1..=1000 {
            let secs = f64::from(tick);
            rows.push((secs, 0, 1, "active", Some("Lock")));
            if tick % 2 == 0 {
                rows.push((secs, 0, 2, "active", None));
            }
            if (tick - 1) % 4 == 0 {
                rows.push((secs, 0, 3, "active", Some("IO")));
            }
        }
        s.put_table(tables::PG_SESSIONS, pg(&rows));
        let pg = &build(&s)[0];
        assert_eq!(pg.classes, ["Lock", "CPU", "IO"]);
        assert_eq!(pg.points.len(), 250);
        assert!(pg.points.len() <= MAX_POINTS);
        assert_eq!(pg.points[0].t, 2.5); // ticks at 1, 2, 3, 4 s
        assert_eq!(pg.points[0].aas, [1.0, 0.5, 0.25]);
        assert_eq!(pg.points[249].t, 998.5);
        assert!(pg.points.iter().all(|p| p.aas == [1.0, 0.5, 0.25]));
    }

    /// The chart's classes are the assessment's: over the window each class holds the
    /// same session-samples as `perfdiag_analyzers::db_time` counts.
    #[test]
    fn classes_and_counts_agree_with_the_assessment() {
        let mut s = snapshot(6, 1000);
        host_ticks(&mut s, (1..=6).map(f64::from));
        s.put_table(
            tables::PG_SESSIONS,
            pg(&[
                (1.0, 0, 1, "active", Some("LWLock")),
                (2.0, 0, 1, "active", Some("LWLock")),
                (2.0, 0, 2, "active", None),
                (3.0, 0, 2, "active", Some("IO")),
                (5.0, 0, 3, "idle in transaction", Some("Client")),
                (6.0, 0, 2, "active", Some("Client")),
            ]),
        );
        let rows: [(f64, &str, Option<&str>, Option<i64>); 4] = [
            (1.0, "Query", Some("Locked"), None),
            (2.0, "Query", Some("Sending data"), None),
            (2.0, "Query", Some("updating"), Some(9)),
            (4.0, "Sleep", None, Some(3)),
        ];
        s.put_table(
            tables::MYSQL_SESSIONS,
            Table::new()
                .with("target", col::utf8(rows.iter().map(|_| Some("my1"))))
                .with("ts", col::timestamp(rows.iter().map(|r| at(r.0, 0))))
                .with("command", col::utf8(rows.iter().map(|r| Some(r.1))))
                .with("state", col::utf8(rows.iter().map(|r| r.2)))
                .with("blocked_by", col::i64(rows.iter().map(|r| r.3))),
        );
        // (seconds, status, wait_class)
        let requests: [(f64, &str, Option<&str>); 5] = [
            (1.0, "suspended", Some("Lock")),
            (1.0, "running", None),
            (3.0, "runnable", None),
            (3.0, "sleeping", None),
            (5.0, "background", Some("Idle")),
        ];
        s.put_table(
            tables::MSSQL_SESSIONS,
            Table::new()
                .with("target", col::utf8(requests.iter().map(|_| Some("ms1"))))
                .with("ts", col::timestamp(requests.iter().map(|r| at(r.0, 0))))
                .with("status", col::utf8(requests.iter().map(|r| Some(r.1))))
                .with("wait_class", col::utf8(requests.iter().map(|r| r.2))),
        );
        let assessed = perfdiag_analyzers::db_time::compute(&s).unwrap();
        let window = &s.manifest().window;
        let samples = (window.duration_secs() * 1000.0 / window.interval_ms as f64).round();
        let series = build(&s);
        let mut charted = Vec::new();
        for d in &series {
            for (i, class) in d.classes.iter().enumerate() {
                let seen: f64 = d.points.iter().map(|p| p.aas[i]).sum();
                charted.push((d.target.clone(), class.clone(), seen));
            }
        }
        let mut expected: Vec<(String, String, f64)> = assessed
            .iter()
            .map(|l| {
                (
                    l.target.clone(),
                    l.wait_class.clone(),
                    (l.aas * samples).round(),
                )
            })
            .collect();
        charted.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        expected.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
        assert_eq!(charted, expected);
        assert_eq!(charted.len(), 8, "{charted:?}");
    }

    #[test]
    fn nothing_active_means_no_series() {
        let mut s = snapshot(4, 1000);
        s.put_table(
            tables::PG_SESSIONS,
            pg(&[(1.0, 0, 1, "idle in transaction", Some("Client"))]),
        );
        assert!(build(&s).is_empty());
        assert!(build(&snapshot(4, 1000)).is_empty());
    }
}
