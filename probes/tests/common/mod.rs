//! What the database test files share: a snapshot made from a collector's output the
//! way `collect` makes it.
// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use perfdiag_model::facts::HostFacts;
use perfdiag_model::{CollectionWindow, HostIdentity, Snapshot, facts_names};
use perfdiag_probes::db::{self, DbOutput};

/// A snapshot of host `db1` holding `out` (through [`db::put_into`], as `collect`
/// does) and, when given, `host`'s facts.
pub fn snapshot(
    out: DbOutput,
    host: Option<HostFacts>,
    started: chrono::DateTime<chrono::Utc>,
) -> Snapshot {
    let mut s = bare_snapshot(started);
    if let Some(host) = host {
        s.set_fact(facts_names::HOST, &host);
    }
    let warnings = db::put_into([out], &mut s);
    assert!(warnings.is_empty(), "{warnings:?}");
    s
}

/// An empty snapshot of host `db1` whose window runs from `started` to now at the
/// 300 ms interval the tests tick at.
pub fn bare_snapshot(started: chrono::DateTime<chrono::Utc>) -> Snapshot {
    let ended = chrono::Utc::now();
    Snapshot::new(
        HostIdentity {
            hostname: "db1".into(),
            os: "Debian GNU/Linux 12".into(),
            kernel: None,
            arch: "x86_64".into(),
            machine_id: None,
        },
        CollectionWindow {
            started_at: started,
            ended_at: ended,
            interval_ms: 300,
            requested_duration_ms: (ended - started).num_milliseconds().max(0) as u64,
            ended_early: false,
        },
    )
}
