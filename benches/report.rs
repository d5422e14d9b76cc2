//! The report renderers on a large case: the report model → HTML and → PDF.
//!
//! The case is synthetic and large on purpose: 50 findings, a plan step for each, 200
//! slow-query classes, and samples of 13 snapshots' windows (a baseline and twelve
//! re-checks of 10 minutes at 1 s, 7,800 samples a series: CPU, memory, 3 disks, 2
//! interfaces, and 4 sessions a tick of one PostgreSQL target; the model thins each
//! to 300 points). Targets (issue 6): HTML under 200 ms, PDF under 3 s.
//!
//! `cargo bench --bench report` (a release build: slow the first time, and it holds
//! the target directory while it builds). `cargo test --bench report` runs each
//! renderer once in a debug build; with `PERFDIAG_BENCH_OUT=DIR` it also writes the
//! large case's HTML and PDF there, to look at. The binary crate has no library, so the
//! report module is compiled into this benchmark from its source.

use std::hint::black_box;

use chrono::{DateTime, Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use perfdiag_model::facts::PostgresFacts;
use perfdiag_model::{
    Assessment, CollectionWindow, ColumnData, HostIdentity, Plan, ProbeRecord, ProbeStatus,
    Snapshot, Table, facts_names, tables,
};
use serde_json::json;

#[allow(unused)]
#[path = "../src/report/mod.rs"]
mod report;

use report::{Catalog, Lang, Report};

const FINDINGS: usize = 50;
const QUERIES: usize = 200;
const SNAPSHOTS: i64 = 13;
const SAMPLES_PER_SNAPSHOT: i64 = 600;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()
}

/// Host samples over 13 windows end to end, and 200 slow-query classes.
fn snapshot() -> Snapshot {
    let samples = SNAPSHOTS * SAMPLES_PER_SNAPSHOT;
    let window = CollectionWindow {
        started_at: start(),
        ended_at: start() + Duration::seconds(samples),
        interval_ms: 1000,
        requested_duration_ms: samples as u64 * 1000,
        ended_early: false,
    };
    let host = HostIdentity {
        hostname: "db-erp-01".into(),
        os: "Debian GNU/Linux 12 (bookworm)".into(),
        kernel: Some("6.1.0-18-amd64".into()),
        arch: "x86_64".into(),
        machine_id: None,
    };
    let mut snap = Snapshot::new(host, window);
    let n = samples as usize;
    let ts: Vec<Option<i64>> = (0..samples)
        .map(|i| Some((start() + Duration::seconds(i)).timestamp_micros()))
        .collect();
    let wave = |i: usize, base: f64, amp: f64| Some(base + amp * ((i as f64) / 97.0).sin().abs());
    let pct =
        |base: f64, amp: f64| ColumnData::Float64((0..n).map(|i| wave(i, base, amp)).collect());
    snap.put_table(
        tables::HOST_CPU,
        Table::new()
            .with("ts", ColumnData::Timestamp(ts.clone()))
            .with("cpu", ColumnData::Utf8(vec![Some("all".into()); n]))
            .with("user_pct", pct(35.0, 30.0))
            .with("nice_pct", pct(0.0, 0.5))
            .with("system_pct", pct(8.0, 6.0))
            .with("irq_pct", pct(0.0, 0.3))
            .with("softirq_pct", pct(0.5, 1.0))
            .with("iowait_pct", pct(5.0, 15.0))
            .with("steal_pct", pct(0.0, 2.0)),
    );
    let total = 64_i64 << 30;
    snap.put_table(
        tables::HOST_SYSTEM,
        Table::new()
            .with("ts", ColumnData::Timestamp(ts.clone()))
            .with(
                "mem_available_bytes",
                ColumnData::Int64(
                    (0..n)
                        .map(|i| Some(total / 5 + ((i as i64 % 600) << 20)))
                        .collect(),
                ),
            )
            .with("mem_total_bytes", ColumnData::Int64(vec![Some(total); n])),
    );
    let devices = ["nvme0n1", "nvme1n1", "sda"];
    let rows = n * devices.len();
    snap.put_table(
        tables::HOST_DISK,
        Table::new()
            .with(
                "ts",
                ColumnData::Timestamp((0..rows).map(|i| ts[i / devices.len()]).collect()),
            )
            .with(
                "device",
                ColumnData::Utf8((0..rows).map(|i| Some(devices[i % 3].into())).collect()),
            )
            .with(
                "util_pct",
                ColumnData::Float64((0..rows).map(|i| wave(i, 20.0, 70.0)).collect()),
            )
            .with(
                "await_ms",
                ColumnData::Float64((0..rows).map(|i| wave(i, 0.4, 12.0)).collect()),
            ),
    );
    let interfaces = ["eth0", "eth1"];
    let rows = n * interfaces.len();
    let rate =
        |base: f64, amp: f64| ColumnData::Float64((0..rows).map(|i| wave(i, base, amp)).collect());
    snap.put_table(
        tables::HOST_NET,
        Table::new()
            .with(
                "ts",
                ColumnData::Timestamp((0..rows).map(|i| ts[i / 2]).collect()),
            )
            .with(
                "interface",
                ColumnData::Utf8((0..rows).map(|i| Some(interfaces[i % 2].into())).collect()),
            )
            .with("rx_bytes_per_s", rate(2.0e6, 4.0e7))
            .with("tx_bytes_per_s", rate(5.0e6, 9.0e7))
            .with("rx_errors_per_s", rate(0.0, 0.0))
            .with("tx_errors_per_s", rate(0.0, 0.0))
            .with("rx_drops_per_s", rate(0.0, 3.0))
            .with("tx_drops_per_s", rate(0.0, 0.0)),
    );
    snap.set_fact(
        facts_names::POSTGRES,
        &vec![PostgresFacts {
            target: "postgres://monitor@db-erp-01/erp".into(),
            server_version_num: Some(160_004),
            ..PostgresFacts::default()
        }],
    );
    // Four sessions a tick on one PostgreSQL target, waiting on a CPU, I/O, locks or
    // LWLocks in turn: 31,200 sampled sessions.
    let waits = [None, Some("IO"), Some("Lock"), Some("LWLock"), Some("IO")];
    let rows = n * 4;
    snap.put_table(
        tables::PG_SESSIONS,
        Table::new()
            .with(
                "target",
                ColumnData::Utf8(vec![Some("postgres://monitor@db-erp-01/erp".into()); rows]),
            )
            .with(
                "ts",
                ColumnData::Timestamp((0..rows).map(|i| ts[i / 4]).collect()),
            )
            .with(
                "pid",
                ColumnData::Int64((0..rows).map(|i| Some(4000 + (i % 4) as i64)).collect()),
            )
            .with("state", ColumnData::Utf8(vec![Some("active".into()); rows]))
            .with(
                "wait_event_type",
                ColumnData::Utf8(
                    (0..rows)
                        .map(|i| waits[(i / 4 + i % 4) % waits.len()].map(Into::into))
                        .collect(),
                ),
            ),
    );
    let shares: Vec<f64> = (0..QUERIES).map(|i| 40.0 / (i as f64 + 1.0)).collect();
    let sum: f64 = shares.iter().sum();
    snap.put_table(
        tables::LOG_QUERIES,
        Table::new()
            .with("source", ColumnData::Utf8(vec![Some("postgresql-15-main.log".into()); QUERIES]))
            .with("rank", ColumnData::Int64((1..=QUERIES as i64).map(Some).collect()))
            .with("id", ColumnData::Utf8((0..QUERIES).map(|i| Some(format!("{:016x}", i * 7919 + 11))).collect()))
            .with("calls", ColumnData::Int64((0..QUERIES).map(|i| Some(100_000 / (i as i64 + 1))).collect()))
            .with("total_s", ColumnData::Float64(shares.iter().map(|s| Some(s * 36.0)).collect()))
            .with("share_pct", ColumnData::Float64(shares.iter().map(|s| Some(s * 100.0 / sum)).collect()))
            .with("mean_s", ColumnData::Float64((0..QUERIES).map(|i| Some(0.002 * (i as f64 + 1.0))).collect()))
            .with("p95_s", ColumnData::Float64((0..QUERIES).map(|i| Some(0.009 * (i as f64 + 1.0))).collect()))
            .with(
                "fingerprint",
                ColumnData::Utf8(
                    (0..QUERIES)
                        .map(|i| {
                            Some(format!(
                                "select o.id, o.customer_id, o.total, c.name from orders_{i} o join customers c on c.id = o.customer_id where o.created_at >= $1 and o.status in ($2, $3) order by o.created_at desc limit $4"
                            ))
                        })
                        .collect(),
                ),
            ),
    );
    for (id, status) in [
        ("host", ProbeStatus::Ok),
        ("os", ProbeStatus::Ok),
        ("sampler", ProbeStatus::Ok),
        ("network", ProbeStatus::Partial),
        ("logs", ProbeStatus::Ok),
    ] {
        snap.record_probe(ProbeRecord {
            id: id.into(),
            target: None,
            status,
            duration_ms: 120,
            message: (status != ProbeStatus::Ok).then(|| "ethtool is not installed".into()),
            hint: (status != ProbeStatus::Ok).then(|| "apt-get install ethtool".into()),
        });
    }
    snap
}

/// Ids of `prefix.<id>.title` entries of the catalog: real rules and steps, so the
/// texts are the real ones.
fn ids(catalog: &Catalog, prefix: &str) -> Vec<String> {
    catalog
        .messages()
        .keys()
        .filter_map(|k| k.strip_prefix(prefix)?.strip_suffix(".title"))
        .map(str::to_owned)
        .collect()
}

/// 50 findings over the dimensions, each with three pieces of evidence.
fn assessment(rules: &[String]) -> Assessment {
    let dimensions = [
        "cpu",
        "memory",
        "storage_io",
        "network",
        "os_config",
        "db_config",
        "sessions_locking",
        "sql_workload",
    ];
    let severities = ["critical", "warning", "warning", "info"];
    let findings: Vec<_> = (0..FINDINGS)
        .map(|i| {
            json!({
                "rule_id": rules[i % rules.len()],
                "dimension": dimensions[i % dimensions.len()],
                "severity": severities[i % severities.len()],
                "subject": if i % 3 == 0 { Some(format!("nvme{}n1", i % 4)) } else { None },
                "evidence": [
                    {"metric": "host_cpu.busy_pct.p95", "observed": {"value": 91.5, "unit": "percent"},
                     "threshold": {"op": "above", "value": {"value": 85.0, "unit": "percent"}}},
                    {"metric": "host_disk.await_ms.mean", "observed": {"value": 23.0, "unit": "milliseconds"}, "threshold": null},
                    {"metric": "sysctl.vm.swappiness", "observed": {"text": "60"},
                     "threshold": {"op": "above", "value": {"text": "10"}}}
                ],
                "penalty": 5 + i % 10,
                "tier": 1 + i % 4
            })
        })
        .collect();
    let scores: Vec<_> = dimensions
        .iter()
        .enumerate()
        .map(|(i, d)| json!({"dimension": d, "score": 40 + i * 7, "findings": []}))
        .collect();
    serde_json::from_value(json!({
        "generated_at": start() + Duration::seconds(SNAPSHOTS * SAMPLES_PER_SNAPSHOT),
        "tool_version": "0.1.0",
        "baseline": "builtin",
        "findings": findings,
        "not_evaluated": [],
        "scores": scores,
        "overall": 64,
        "metrics": [],
    }))
    .expect("a valid assessment")
}

/// A step for each finding, with a script and a rollback of some length.
fn plan(steps: &[String], rules: &[String]) -> Plan {
    let phases = [
        "quick_wins",
        "configuration",
        "sql_indexes",
        "maintenance",
        "hardware_deployment",
    ];
    let script: String = (0..12)
        .map(|l| {
            format!(
                "ALTER SYSTEM SET work_mem = '{}MB'; -- line {l} of the change\n",
                4 + l
            )
        })
        .collect();
    let steps: Vec<_> = (0..FINDINGS)
        .map(|i| {
            json!({
                "id": steps[i % steps.len()],
                "phase": phases[i * phases.len() / FINDINGS],
                "findings": [rules[i % rules.len()]],
                "subject": null,
                "script": {"language": "sql", "body": script},
                "rollback": {"language": "sql", "body": "ALTER SYSTEM RESET work_mem;\nSELECT pg_reload_conf();\n"},
                "risk": "low",
                "needs_restart": i % 5 == 0,
                "verify": {"metric": "pg.temp_bytes_per_s", "target": "< 1 MB/s"},
                "state": "proposed"
            })
        })
        .collect();
    serde_json::from_value(json!({"generated_at": start(), "steps": steps})).expect("a valid plan")
}

fn renderers(c: &mut Criterion) {
    let snapshot = snapshot();
    for lang in [Lang::ZhCn, Lang::En] {
        let catalog = Catalog::load(lang).unwrap();
        let (rules, steps) = (ids(&catalog, "rule."), ids(&catalog, "step."));
        let (assessment, plan) = (assessment(&rules), plan(&steps, &rules));
        let report = Report::build(&snapshot, &assessment, &plan, &catalog).unwrap();
        let name = serde_json::to_value(lang).unwrap();
        let name = name.as_str().unwrap();
        // PERFDIAG_BENCH_OUT=DIR keeps the outputs, to look at the large case.
        if let Some(dir) = std::env::var_os("PERFDIAG_BENCH_OUT") {
            let dir = std::path::Path::new(&dir);
            std::fs::create_dir_all(dir).expect("PERFDIAG_BENCH_OUT is a folder perfdiag can make");
            let started = std::time::Instant::now();
            let html = report::html::render(&report, &catalog).unwrap();
            let html_time = started.elapsed();
            let pdf = report::pdf::render(&report, &catalog).unwrap();
            eprintln!(
                "{name}: HTML {html_time:.2?}, PDF {:.2?} (this build's profile)",
                started.elapsed() - html_time
            );
            std::fs::write(dir.join(format!("large-{name}.html")), html).unwrap();
            std::fs::write(dir.join(format!("large-{name}.pdf")), pdf).unwrap();
        }
        let mut group = c.benchmark_group(format!("report-{name}"));
        group.bench_function("html", |b| {
            b.iter(|| report::html::render(black_box(&report), &catalog).unwrap())
        });
        // Seconds an iteration: ten samples are plenty.
        group.sample_size(10);
        group.bench_function("pdf", |b| {
            b.iter(|| {
                // typst memoizes layout across compiles in one process: without the
                // eviction every iteration after the first reuses the first's work,
                // which `perfdiag report` (one render per process) never does.
                typst::comemo::evict(0);
                report::pdf::render(black_box(&report), &catalog).unwrap()
            })
        });
        group.finish();
    }
}

criterion_group!(benches, renderers);
criterion_main!(benches);
