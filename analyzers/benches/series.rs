//! A guarantee window's series: 13 weekly snapshots of 10,000 ticks each (130,000 sample
//! times), each tick with 58 metric values (8 CPU, 24 host-wide, 2 disks × 9, one
//! interface × 8), scanned from their `.pdsnap` files into per-snapshot KPIs and trends.
//!
//! `cargo bench -p perfdiag-analyzers --bench series`; the target is under 1 s.

use std::path::{Path, PathBuf};

use chrono::{Duration, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
use perfdiag_model::{CollectionWindow, ColumnData, HostIdentity, Snapshot, Table, col, tables};

const WEEKS: usize = 13;
const TICKS: usize = 10_000;

const CPU: [&str; 8] = [
    "user_pct",
    "nice_pct",
    "system_pct",
    "iowait_pct",
    "irq_pct",
    "softirq_pct",
    "steal_pct",
    "idle_pct",
];
const SYSTEM_F: [&str; 13] = [
    "load1",
    "load5",
    "load15",
    "ctx_switches_per_s",
    "interrupts_per_s",
    "forks_per_s",
    "swap_in_pages_per_s",
    "swap_out_pages_per_s",
    "major_faults_per_s",
    "tcp_out_segs_per_s",
    "tcp_retrans_segs_per_s",
    "tcp_in_errs_per_s",
    "tcp_active_opens_per_s",
];
const SYSTEM_I: [&str; 11] = [
    "procs_running",
    "procs_blocked",
    "mem_total_bytes",
    "mem_available_bytes",
    "mem_free_bytes",
    "mem_cached_bytes",
    "mem_buffers_bytes",
    "mem_dirty_bytes",
    "swap_total_bytes",
    "swap_free_bytes",
    "tcp_curr_estab",
];
const DISK: [&str; 9] = [
    "reads_per_s",
    "writes_per_s",
    "read_bytes_per_s",
    "write_bytes_per_s",
    "read_await_ms",
    "write_await_ms",
    "await_ms",
    "util_pct",
    "queue_depth",
];
const NET: [&str; 8] = [
    "rx_bytes_per_s",
    "tx_bytes_per_s",
    "rx_packets_per_s",
    "tx_packets_per_s",
    "rx_errors_per_s",
    "tx_errors_per_s",
    "rx_drops_per_s",
    "tx_drops_per_s",
];

/// Deterministic pseudo-random numbers in [0, 1).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn column(&mut self, n: usize, scale: f64) -> ColumnData {
        col::f64((0..n).map(|_| Some(self.next() * scale)))
    }
}

fn snapshot(week: usize, rng: &mut Rng) -> Snapshot {
    let start = Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap() + Duration::weeks(week as i64);
    let mut s = Snapshot::new(
        HostIdentity {
            hostname: "db1".to_owned(),
            os: "Linux".to_owned(),
            kernel: None,
            arch: "x86_64".to_owned(),
            machine_id: None,
        },
        CollectionWindow {
            started_at: start,
            ended_at: start + Duration::seconds(TICKS as i64),
            interval_ms: 1000,
            requested_duration_ms: TICKS as u64 * 1000,
            ended_early: false,
        },
    );
    let ts = |n: usize, per_tick: usize| {
        col::timestamp(
            (0..n).map(|i| Some(start.timestamp_micros() + (i / per_tick) as i64 * 1_000_000)),
        )
    };
    let mut cpu = Table::new()
        .with("ts", ts(TICKS, 1))
        .with("cpu", col::utf8((0..TICKS).map(|_| Some("all"))));
    for name in CPU {
        cpu = cpu.with(name, rng.column(TICKS, 30.0));
    }
    s.put_table(tables::HOST_CPU, cpu);

    let mut system = Table::new().with("ts", ts(TICKS, 1));
    for name in SYSTEM_F {
        system = system.with(name, rng.column(TICKS, 1000.0));
    }
    for name in SYSTEM_I {
        let big = name.ends_with("bytes");
        system = system.with(
            name,
            col::i64((0..TICKS).map(|_| {
                Some(if big {
                    (16.0 * 1024.0 * 1024.0 * 1024.0 * (0.5 + rng.next() / 2.0)) as i64
                } else {
                    (rng.next() * 8.0) as i64
                })
            })),
        );
    }
    s.put_table(tables::HOST_SYSTEM, system);

    let rows = TICKS * 2;
    let mut disk = Table::new().with("ts", ts(rows, 2)).with(
        "device",
        col::utf8((0..rows).map(|i| Some(if i % 2 == 0 { "sda" } else { "nvme0n1" }))),
    );
    for name in DISK {
        disk = disk.with(name, rng.column(rows, 50.0));
    }
    s.put_table(tables::HOST_DISK, disk);

    let mut net = Table::new()
        .with("ts", ts(TICKS, 1))
        .with("interface", col::utf8((0..TICKS).map(|_| Some("eth0"))));
    for name in NET {
        net = net.with(name, rng.column(TICKS, 10.0));
    }
    s.put_table(tables::HOST_NET, net);
    s
}

fn write_series(dir: &Path) -> Vec<PathBuf> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    (0..WEEKS)
        .map(|w| {
            let path = dir.join(format!("week{w:02}.pdsnap"));
            snapshot(w, &mut rng)
                .write(&path)
                .expect("snapshot written");
            path
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let paths = write_series(dir.path());
    let metrics = CPU.len() + SYSTEM_F.len() + SYSTEM_I.len() + 2 * DISK.len() + NET.len();
    let series = perfdiag_analyzers::series::scan(&paths).expect("series scans");
    assert_eq!(series.snapshots.len(), WEEKS);
    eprintln!(
        "series: {WEEKS} snapshots × {TICKS} ticks = {} sample times × {metrics} metrics; {} KPI series",
        WEEKS * TICKS,
        series.kpis.len()
    );
    let mut group = c.benchmark_group("series");
    group.sample_size(10);
    group.measurement_time(std::time::Duration::from_secs(10));
    group.bench_function("scan_13_weekly_snapshots_130k_ticks", |b| {
        b.iter(|| perfdiag_analyzers::series::scan(&paths).expect("series scans"));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
