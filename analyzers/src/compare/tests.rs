//! Comparisons of small snapshots built in code: each kind of change is detected, and
//! noise alone is not reported as one.

use perfdiag_model::comparison::Comparison;
use perfdiag_model::{
    ChangeDirection, ComparisonWarning, FindingStatus, KpiChange, QueryStatus, Snapshot, Table,
    col, tables,
};

use super::compare;
use crate::test_support::{CpuSample, DiskSample, Fixture};
use crate::{Baseline, Options};

fn run(before: &Snapshot, after: &Snapshot) -> Comparison {
    compare(before, after, &Baseline::builtin(), &Options::default()).expect("comparison runs")
}

fn kpi<'a>(c: &'a Comparison, id: &str, subject: Option<&str>) -> &'a KpiChange {
    c.kpis
        .iter()
        .find(|k| k.id == id && k.subject.as_deref() == subject)
        .unwrap_or_else(|| panic!("no KPI {id} {subject:?} in {:#?}", c.kpis))
}

fn finding_status(c: &Comparison, rule: &str) -> Option<FindingStatus> {
    c.findings
        .iter()
        .find(|f| f.rule_id == rule)
        .map(|f| f.status)
}

/// A small deterministic generator (xorshift), so noisy fixtures are reproducible.
struct Noise(u64);

impl Noise {
    /// Uniform in [-1, 1).
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

/// A healthy host whose CPU idle and sda await wander randomly around their levels.
fn noisy(seed: u64, samples: usize, idle: f64, await_ms: f64, spread: f64) -> Fixture {
    let mut noise = Noise(seed);
    let mut f = Fixture::healthy();
    f.cpu = (0..samples)
        .map(|_| CpuSample {
            idle: idle + spread * noise.next(),
            iowait: 1.0,
            steal: 0.0,
        })
        .collect();
    f.system = vec![f.system[0]; samples];
    f.disks = vec![(
        "sda".to_owned(),
        (0..samples)
            .map(|_| DiskSample {
                await_ms: Some(await_ms * (1.0 + 0.3 * noise.next())),
                util: 30.0,
            })
            .collect(),
    )];
    f.nets = vec![("eth0".to_owned(), vec![0.0; samples])];
    f
}

#[test]
fn an_identical_snapshot_changes_nothing() {
    let s = Fixture::healthy().build();
    let c = run(&s, &s);
    assert!(c.kpis.len() >= 8, "{:#?}", c.kpis);
    assert!(
        c.kpis
            .iter()
            .all(|k| k.direction == ChangeDirection::Unchanged && k.change == 0.0)
    );
    assert!(
        c.findings
            .iter()
            .all(|f| f.status == FindingStatus::Unchanged)
    );
    assert!(c.warnings.is_empty());
    assert!(!c.has_regression());
}

#[test]
fn a_busier_cpu_is_a_regression_and_a_faster_disk_an_improvement() {
    let before = noisy(1, 120, 60.0, 30.0, 5.0);
    let after = noisy(2, 120, 20.0, 8.0, 5.0);
    let c = run(&before.build(), &after.build());

    let busy = kpi(&c, "host_cpu.busy_pct.mean", None);
    assert_eq!(busy.direction, ChangeDirection::Worse, "{busy:#?}");
    assert!(
        busy.beyond_noise && (busy.change - 40.0).abs() < 2.0,
        "{busy:#?}"
    );
    assert!(busy.noise.unwrap() < 5.0, "{busy:#?}");

    let disk = kpi(&c, "host_disk.await_ms.mean", Some("sda"));
    assert_eq!(disk.direction, ChangeDirection::Better, "{disk:#?}");
    assert!(disk.change < -20.0);

    // The await finding of sda is gone with the faster disk.
    assert_eq!(
        finding_status(&c, "host.disk.await"),
        Some(FindingStatus::Resolved)
    );
    assert!(c.has_regression(), "the CPU regressed");
    // Worse KPIs are listed first.
    assert_eq!(c.kpis[0].direction, ChangeDirection::Worse);
}

#[test]
fn noise_alone_is_not_reported_as_change() {
    // Same levels, different random samples: means differ by chance only, often by
    // more than the smallest change that matters, so only the noise estimate keeps
    // them from being reported.
    let mut above_floor = 0;
    for seed in 1..=8 {
        let before = noisy(seed, 20, 50.0, 10.0, 30.0).build();
        let after = noisy(seed + 100, 20, 50.0, 10.0, 30.0).build();
        let c = run(&before, &after);
        assert!(c.kpis.len() >= 8, "{:#?}", c.kpis);
        for k in &c.kpis {
            assert_eq!(k.direction, ChangeDirection::Unchanged, "{k:#?}");
            assert!(!k.beyond_noise);
            if k.change.abs() > k.min_change {
                above_floor += 1;
            }
        }
        assert!(!c.has_regression(), "{c:#?}");
    }
    assert!(
        above_floor >= 3,
        "chance moved {above_floor} KPIs past their floor"
    );
}

#[test]
fn a_shift_smaller_than_the_noise_is_not_a_change_though_above_the_floor() {
    // CPU busy moves by 3 points (above the 2-point floor), but the samples spread
    // ±15 points: 20 samples a side cannot tell 3 points from chance.
    let before = noisy(11, 20, 60.0, 10.0, 15.0).build();
    let after = noisy(11, 20, 57.0, 10.0, 15.0).build();
    let c = run(&before, &after);
    let busy = kpi(&c, "host_cpu.busy_pct.mean", None);
    assert!((busy.change - 3.0).abs() < 1e-9, "{busy:#?}");
    assert!(busy.change.abs() > busy.min_change);
    assert!(busy.noise.unwrap() > busy.change.abs(), "{busy:#?}");
    assert_eq!(busy.direction, ChangeDirection::Unchanged);

    // The same shift with steady samples is a change.
    let steady = |idle| {
        let mut f = Fixture::healthy();
        f.cpu.iter_mut().for_each(|c| c.idle = idle);
        f.build()
    };
    let c = run(&steady(60.0), &steady(57.0));
    let busy = kpi(&c, "host_cpu.busy_pct.mean", None);
    assert_eq!(busy.direction, ChangeDirection::Worse, "{busy:#?}");
}

#[test]
fn findings_are_matched_by_rule_and_subject() {
    let mut before = Fixture::healthy();
    before.set_sysctl("vm.swappiness", "60");
    before.disks[1]
        .1
        .iter_mut()
        .for_each(|d| d.await_ms = Some(30.0));
    let mut after = Fixture::healthy();
    if let Some(thp) = after.os_mut().transparent_hugepages.as_mut() {
        thp.enabled = "always".to_owned();
    }
    after.disks[1]
        .1
        .iter_mut()
        .for_each(|d| d.await_ms = Some(60.0));
    let c = run(&before.build(), &after.build());

    assert_eq!(
        finding_status(&c, "os.vm.swappiness"),
        Some(FindingStatus::Resolved)
    );
    assert_eq!(
        finding_status(&c, "os.thp.enabled"),
        Some(FindingStatus::New)
    );
    let disk = c
        .findings
        .iter()
        .find(|f| f.rule_id == "host.disk.await")
        .expect("disk finding");
    assert_eq!(disk.subject.as_deref(), Some("sda"));
    assert_eq!(disk.status, FindingStatus::Worse, "warning to critical");
    assert!(disk.evidence_before.is_some() && disk.evidence_after.is_some());
    // New and worse findings come first.
    assert!(matches!(
        c.findings[0].status,
        FindingStatus::New | FindingStatus::Worse
    ));
}

/// A pg_statements table: (queryid, query, calls, total ms).
fn statements(rows: &[(i64, &str, i64, f64)]) -> Table {
    Table::new()
        .with(
            "target",
            col::utf8(rows.iter().map(|_| Some("pg://db1/erp"))),
        )
        .with("queryid", col::i64(rows.iter().map(|r| Some(r.0))))
        .with("query", col::utf8(rows.iter().map(|r| Some(r.1))))
        .with("calls", col::i64(rows.iter().map(|r| Some(r.2))))
        .with(
            "total_exec_time_ms",
            col::f64(rows.iter().map(|r| Some(r.3))),
        )
}

#[test]
fn queries_are_matched_by_fingerprint_id() {
    let steady = (1, "SELECT * FROM orders WHERE id = $1", 10_000, 20_000.0);
    let slower_before = (2, "SELECT sum(total) FROM invoices", 100, 1_000.0);
    let slower_after = (2, "SELECT sum(total) FROM invoices", 100, 4_000.0);
    let faster_before = (
        3,
        "SELECT name FROM customers WHERE city = $1",
        500,
        5_000.0,
    );
    let faster_after = (
        3,
        "SELECT name FROM customers WHERE city = $1",
        500,
        1_000.0,
    );
    let gone = (4, "SELECT count(*) FROM audit_log", 50, 9_000.0);
    let fresh = (5, "SELECT * FROM stock WHERE sku = $1", 2_000, 8_000.0);
    let light = (6, "SELECT 1", 20, 1.0);

    let mut before = Fixture::healthy().build();
    before.put_table(
        tables::PG_STATEMENTS,
        statements(&[steady, slower_before, faster_before, gone]),
    );
    let mut after = Fixture::healthy().build();
    after.put_table(
        tables::PG_STATEMENTS,
        statements(&[steady, slower_after, faster_after, fresh, light]),
    );
    let c = run(&before, &after);
    let status = |id: &str| {
        let q = c
            .queries
            .iter()
            .find(|q| q.id == id)
            .unwrap_or_else(|| panic!("query {id} in {:#?}", c.queries));
        (q.status, q.heavy)
    };
    assert_eq!(status("1"), (QueryStatus::Unchanged, true));
    assert_eq!(status("2"), (QueryStatus::Regressed, true));
    assert_eq!(status("3"), (QueryStatus::Improved, true));
    assert_eq!(status("4"), (QueryStatus::Vanished, true));
    assert_eq!(status("5"), (QueryStatus::New, true));
    assert_eq!(status("6"), (QueryStatus::New, false), "new but light");

    let q1 = c.queries.iter().find(|q| q.id == "1").unwrap();
    let after1 = q1.after.unwrap();
    assert_eq!(after1.mean_ms, Some(2.0));
    assert_eq!(
        after1.calls_per_s,
        Some(10_000.0 / 60.0),
        "over the 60 s window"
    );
    assert_eq!(q1.source, "pg_statements");
    assert_eq!(q1.target.as_deref(), Some("pg://db1/erp"));
    // Changed heavy classes first; the unchanged and the light ones last.
    assert!(c.queries[..4].iter().all(|q| q.heavy));
    assert_eq!(c.queries.last().unwrap().status, QueryStatus::Unchanged);
    assert!(c.has_regression());
}

#[test]
fn queries_with_few_calls_or_tiny_changes_are_unchanged() {
    let mut before = Fixture::healthy().build();
    before.put_table(
        tables::PG_STATEMENTS,
        statements(&[(1, "SELECT 1", 5, 5.0), (2, "SELECT 2", 1000, 20.0)]),
    );
    let mut after = Fixture::healthy().build();
    after.put_table(
        tables::PG_STATEMENTS,
        statements(&[(1, "SELECT 1", 5, 50.0), (2, "SELECT 2", 1000, 60.0)]),
    );
    let c = run(&before, &after);
    // 5 calls are too few; 0.02 to 0.06 ms is under 0.1 ms.
    assert!(
        c.queries.iter().all(|q| q.status == QueryStatus::Unchanged),
        "{:#?}",
        c.queries
    );
}

/// pg_sessions with `active` sessions per tick, over the fixture's 60 s window.
fn sessions(snapshot: &mut Snapshot, per_tick: &[(usize, &str)]) {
    let start = snapshot.manifest().window.started_at.timestamp_micros();
    let rows: Vec<(i64, &str)> = (0..60)
        .flat_map(|tick| {
            per_tick.iter().flat_map(move |(n, class)| {
                std::iter::repeat_n((start + (tick + 1) * 1_000_000, *class), *n)
            })
        })
        .collect();
    let class = |c: &str| (c != "CPU").then(|| c.to_owned());
    snapshot.put_table(
        tables::PG_SESSIONS,
        Table::new()
            .with(
                "target",
                col::utf8(rows.iter().map(|_| Some("pg://db1/erp"))),
            )
            .with("ts", col::timestamp(rows.iter().map(|r| Some(r.0))))
            .with("state", col::utf8(rows.iter().map(|_| Some("active"))))
            .with(
                "wait_event_type",
                col::utf8(rows.iter().map(|r| class(r.1))),
            ),
    );
}

#[test]
fn database_load_and_wait_classes_are_compared_per_target() {
    let mut before = Fixture::healthy().build();
    sessions(&mut before, &[(1, "CPU"), (4, "Lock")]);
    let mut after = Fixture::healthy().build();
    sessions(&mut after, &[(1, "CPU"), (1, "IO")]);
    let c = run(&before, &after);

    let aas = kpi(&c, "db.aas", Some("pg://db1/erp"));
    assert_eq!((aas.before.mean, aas.after.mean), (5.0, 2.0));
    assert_eq!(aas.direction, ChangeDirection::Better);

    let class = |name: &str| {
        c.wait_classes
            .iter()
            .find(|w| w.wait_class == name)
            .map(|w| (w.aas_before, w.aas_after))
    };
    assert_eq!(class("Lock"), Some((4.0, 0.0)));
    assert_eq!(class("IO"), Some((0.0, 1.0)));
    assert_eq!(class("CPU"), Some((1.0, 1.0)));
    assert_eq!(c.wait_classes[0].wait_class, "Lock", "largest first");
}

#[test]
fn another_host_is_a_warning_not_an_error() {
    let before = Fixture::healthy().build();
    // The same samples under another hostname, a day earlier.
    let mut host = before.manifest().host.clone();
    host.hostname = "db2".to_owned();
    let mut window = before.manifest().window.clone();
    window.started_at -= chrono::Duration::days(1);
    window.ended_at -= chrono::Duration::days(1);
    let mut after = Snapshot::new(host, window);
    for entry in &before.manifest().tables {
        after.put_table(&entry.name, before.table(&entry.name).unwrap().clone());
    }
    let c = run(&before, &after);
    assert_eq!(
        c.warnings,
        vec![
            ComparisonWarning::DifferentHost {
                before: "db1".to_owned(),
                after: "db2".to_owned()
            },
            ComparisonWarning::AfterIsEarlier
        ]
    );
    assert!(!c.kpis.is_empty());
}
