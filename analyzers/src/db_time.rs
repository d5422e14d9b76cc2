//! Where the database spends its time: average active sessions (AAS) by wait class,
//! from the sessions sampled every tick. A session seen active in a sample counts one
//! interval of database time in its class; the sum over samples divided by the number
//! of samples is the class's AAS. This is the spine of the bottleneck analysis: a
//! server with 6 sessions waiting on `Lock` and 0.5 on `CPU` has a locking problem,
//! whatever its CPU graphs say.

use perfdiag_model::{Snapshot, WaitClassLoad, tables};
use polars::prelude::*;

use crate::error::AnalyzeError;
use crate::frames::to_frame;

/// MySQL thread states that are waits for a lock (processlist `State`).
const MYSQL_LOCK_STATES: [&str; 5] = [
    "Waiting for table metadata lock",
    "Waiting for table level lock",
    "Waiting for global read lock",
    "Waiting for table flush",
    "Locked",
];

/// SQL Server request statuses that count as database time (`sys.dm_exec_requests`):
/// `sleeping` and `background` do not.
const MSSQL_ACTIVE_STATUSES: [&str; 3] = ["running", "runnable", "suspended"];

/// AAS by wait class for every sampled database target; empty when none was sampled.
pub fn compute(snapshot: &Snapshot) -> Result<Vec<WaitClassLoad>, AnalyzeError> {
    let window = &snapshot.manifest().window;
    let samples = (window.duration_secs() * 1000.0 / window.interval_ms.max(1) as f64)
        .round()
        .max(1.0);
    let mut out = Vec::new();
    if let Some(df) = frame(snapshot, tables::PG_SESSIONS, &["state", "wait_event_type"])? {
        // Active client sessions; no wait event means running on a CPU (or in a
        // state PostgreSQL does not instrument, which is mostly CPU).
        let active = col("state").eq(lit("active"));
        let class = when(col("wait_event_type").is_null())
            .then(lit("CPU"))
            .otherwise(col("wait_event_type"));
        out.extend(loads(df, "postgres", active, class, samples)?);
    }
    if let Some(df) = frame(
        snapshot,
        tables::MYSQL_SESSIONS,
        &["command", "state", "blocked_by"],
    )? {
        let active = col("command")
            .neq(lit("Sleep"))
            .and(col("command").neq(lit("Daemon")));
        let lock_state = MYSQL_LOCK_STATES
            .iter()
            .fold(lit(false), |acc, s| acc.or(col("state").eq(lit(*s))));
        // The processlist does not tell CPU from I/O: what is not a lock wait is
        // "Running".
        let class = when(
            col("blocked_by")
                .is_not_null()
                .or(lock_state.fill_null(false)),
        )
        .then(lit("Lock"))
        .otherwise(lit("Running"));
        out.extend(loads(df, "mysql", active, class, samples)?);
    }
    if let Some(df) = frame(snapshot, tables::MSSQL_SESSIONS, &["status", "wait_class"])? {
        // User requests that are running, runnable (waiting for a scheduler) or
        // suspended (waiting); a request without a wait is on a CPU or queued for
        // one, which is CPU time too.
        let active = MSSQL_ACTIVE_STATUSES
            .iter()
            .fold(lit(false), |acc, s| acc.or(col("status").eq(lit(*s))));
        let class = when(col("wait_class").is_null())
            .then(lit("CPU"))
            .otherwise(col("wait_class"));
        out.extend(loads(df, "mssql", active, class, samples)?);
    }
    Ok(out)
}

/// The table as a frame when it has rows and the columns the classification reads.
fn frame(
    snapshot: &Snapshot,
    name: &str,
    needs: &[&str],
) -> Result<Option<DataFrame>, AnalyzeError> {
    let Some(table) = snapshot.table(name) else {
        return Ok(None);
    };
    if table.rows() == 0
        || !needs
            .iter()
            .chain(&["target"])
            .all(|c| table.column(c).is_some())
    {
        return Ok(None);
    }
    to_frame(table)
        .map(Some)
        .map_err(|cause| AnalyzeError::Frame {
            table: name.to_owned(),
            cause,
        })
}

fn loads(
    df: DataFrame,
    engine: &str,
    active: Expr,
    class: Expr,
    samples: f64,
) -> Result<Vec<WaitClassLoad>, AnalyzeError> {
    let err = |cause| AnalyzeError::Frame {
        table: format!("{engine} sessions"),
        cause,
    };
    let out = df
        .lazy()
        .filter(active.fill_null(false))
        .with_column(class.alias("class"))
        .group_by([col("target"), col("class")])
        .agg([len().cast(DataType::Float64).alias("seen")])
        .sort(
            ["target", "seen"],
            SortMultipleOptions::default().with_order_descending_multi([false, true]),
        )
        .collect()
        .map_err(err)?;
    let targets = out
        .column("target")
        .and_then(|c| c.str().cloned())
        .map_err(err)?;
    let classes = out
        .column("class")
        .and_then(|c| c.str().cloned())
        .map_err(err)?;
    let seen = out
        .column("seen")
        .and_then(|c| c.f64().cloned())
        .map_err(err)?;
    let mut loads: Vec<WaitClassLoad> = (0..out.height())
        .filter_map(|i| {
            Some(WaitClassLoad {
                target: targets.get(i)?.to_owned(),
                engine: engine.to_owned(),
                wait_class: classes.get(i)?.to_owned(),
                aas: seen.get(i)? / samples,
                share_pct: 0.0,
            })
        })
        .collect();
    for i in 0..loads.len() {
        let total: f64 = loads
            .iter()
            .filter(|l| l.target == loads[i].target)
            .map(|l| l.aas)
            .sum();
        loads[i].share_pct = if total > 0.0 {
            loads[i].aas * 100.0 / total
        } else {
            0.0
        };
    }
    Ok(loads)
}

#[cfg(test)]
mod tests {
    use super::*;
    use perfdiag_model::{CollectionWindow, HostIdentity, Table, col as c};

    fn snapshot_with(table: &str, data: Table) -> Snapshot {
        let start = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let mut s = Snapshot::new(
            HostIdentity {
                hostname: "db1".into(),
                os: "Linux".into(),
                kernel: None,
                arch: "x86_64".into(),
                machine_id: None,
            },
            CollectionWindow {
                started_at: start,
                ended_at: start + chrono::Duration::seconds(4),
                interval_ms: 1000,
                requested_duration_ms: 4000,
                ended_early: false,
            },
        );
        s.put_table(table, data);
        s
    }

    #[test]
    fn postgres_sessions_give_aas_by_wait_class() {
        // 4 samples: a lock waiter in all 4, a CPU session in 2, idle ones never count.
        let rows = [
            ("active", Some("Lock")),
            ("active", Some("Lock")),
            ("active", Some("Lock")),
            ("active", Some("Lock")),
            ("active", None),
            ("active", None),
            ("idle", None),
            ("idle in transaction", Some("Client")),
        ];
        let t = Table::new()
            .with("target", c::utf8(rows.iter().map(|_| Some("pg1"))))
            .with("state", c::utf8(rows.iter().map(|r| Some(r.0))))
            .with("wait_event_type", c::utf8(rows.iter().map(|r| r.1)));
        let loads = compute(&snapshot_with(tables::PG_SESSIONS, t)).unwrap();
        assert_eq!(loads.len(), 2, "{loads:?}");
        assert_eq!((loads[0].wait_class.as_str(), loads[0].aas), ("Lock", 1.0));
        assert_eq!((loads[1].wait_class.as_str(), loads[1].aas), ("CPU", 0.5));
        assert!((loads[0].share_pct - 200.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn mysql_blocked_sessions_are_lock_time_and_sleepers_do_not_count() {
        let rows = [
            ("Query", Some("updating"), Some("12")),
            ("Query", Some("Waiting for table metadata lock"), None),
            ("Query", Some("Sending data"), None),
            ("Sleep", None, None),
        ];
        let t = Table::new()
            .with("target", c::utf8(rows.iter().map(|_| Some("my1"))))
            .with("command", c::utf8(rows.iter().map(|r| Some(r.0))))
            .with("state", c::utf8(rows.iter().map(|r| r.1)))
            .with("blocked_by", c::utf8(rows.iter().map(|r| r.2)));
        let loads = compute(&snapshot_with(tables::MYSQL_SESSIONS, t)).unwrap();
        let lock = loads.iter().find(|l| l.wait_class == "Lock").unwrap();
        let running = loads.iter().find(|l| l.wait_class == "Running").unwrap();
        assert_eq!((lock.aas, running.aas), (0.5, 0.25));
    }

    #[test]
    fn mssql_requests_by_wait_class_and_background_tasks_do_not_count() {
        let rows = [
            ("suspended", Some("Lock")),
            ("suspended", Some("Lock")),
            ("running", None),
            ("runnable", None),
            ("suspended", Some("Buffer IO")),
            ("sleeping", None),
            ("background", Some("Idle")),
        ];
        let t = Table::new()
            .with("target", c::utf8(rows.iter().map(|_| Some("ms1"))))
            .with("status", c::utf8(rows.iter().map(|r| Some(r.0))))
            .with("wait_class", c::utf8(rows.iter().map(|r| r.1)));
        let loads = compute(&snapshot_with(tables::MSSQL_SESSIONS, t)).unwrap();
        let aas = |class: &str| {
            loads
                .iter()
                .find(|l| l.wait_class == class)
                .map(|l| (l.engine.as_str(), l.aas))
        };
        assert_eq!(aas("Lock"), Some(("mssql", 0.5)));
        assert_eq!(aas("CPU"), Some(("mssql", 0.5)));
        assert_eq!(aas("Buffer IO"), Some(("mssql", 0.25)));
        assert_eq!(loads.len(), 3, "{loads:?}");
    }

    #[test]
    fn no_session_tables_means_no_database_time() {
        let t = Table::new().with("x", c::i64([Some(1)]));
        assert!(compute(&snapshot_with("other", t)).unwrap().is_empty());
    }
}
