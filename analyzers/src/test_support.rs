//! Test fixtures: a healthy host where every rule is evaluated and none fires, which
//! each test bends in one place to make one rule fire or lose its input.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use perfdiag_model::facts::{
    CpuFacts, DiskFacts, HostFacts, MemoryFacts, NetworkFacts, NumaNode, OsFacts, ProcessLimits,
    ThpFacts, TimeSync,
};
use perfdiag_model::{
    Assessment, CollectionWindow, Finding, HostIdentity, Snapshot, Table, Value, col, facts_names,
    tables,
};

use crate::{Baseline, assess};

pub const GIB: u64 = 1 << 30;

#[derive(Debug, Clone, Copy)]
pub struct CpuSample {
    pub idle: f64,
    pub iowait: f64,
    pub steal: f64,
}

#[derive(Debug, Clone, Copy)]
pub struct SystemSample {
    pub procs_running: i64,
    pub mem_total: i64,
    pub mem_available: i64,
    pub swap_in: f64,
    pub swap_out: f64,
    pub tcp_out: f64,
    pub tcp_retrans: f64,
}

/// One disk sample: await (None when no I/O completed) and util%.
#[derive(Debug, Clone, Copy)]
pub struct DiskSample {
    pub await_ms: Option<f64>,
    pub util: f64,
}

#[derive(Debug, Clone)]
pub struct Fixture {
    /// All-CPU samples (a busy `cpu0` row is added beside each, which rules must ignore).
    pub cpu: Vec<CpuSample>,
    pub system: Vec<SystemSample>,
    pub disks: Vec<(String, Vec<DiskSample>)>,
    /// Per interface: errors + drops per second of each sample (split over four columns).
    pub nets: Vec<(String, Vec<f64>)>,
    pub host: Option<HostFacts>,
    pub os: Option<OsFacts>,
    pub network: Option<NetworkFacts>,
}

impl Fixture {
    /// A healthy 8-thread, 16 GiB, two-node host running PostgreSQL.
    pub fn healthy() -> Self {
        let n = 20;
        let sysctls: BTreeMap<String, String> = [
            ("vm.swappiness", "1"),
            ("vm.dirty_ratio", "20"),
            ("vm.dirty_background_ratio", "10"),
            ("vm.dirty_bytes", "0"),
            ("vm.dirty_background_bytes", "0"),
            ("vm.zone_reclaim_mode", "0"),
            ("net.core.somaxconn", "4096"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        Self {
            cpu: (0..n)
                .map(|i| CpuSample {
                    idle: 60.0 + f64::from(i % 5),
                    iowait: 1.0,
                    steal: 0.0,
                })
                .collect(),
            system: (0..n)
                .map(|_| SystemSample {
                    procs_running: 3,
                    mem_total: 16 * GIB as i64,
                    mem_available: 8 * GIB as i64,
                    swap_in: 0.0,
                    swap_out: 0.0,
                    tcp_out: 2000.0,
                    tcp_retrans: 2.0,
                })
                .collect(),
            disks: vec![
                (
                    "nvme0n1".to_owned(),
                    vec![
                        DiskSample {
                            await_ms: Some(0.4),
                            util: 20.0
                        };
                        n as usize
                    ],
                ),
                (
                    "sda".to_owned(),
                    vec![
                        DiskSample {
                            await_ms: Some(6.0),
                            util: 30.0
                        };
                        n as usize
                    ],
                ),
            ],
            nets: vec![("eth0".to_owned(), vec![0.0; n as usize])],
            host: Some(HostFacts {
                hostname: "db1".to_owned(),
                os_name: "Debian GNU/Linux 12 (bookworm)".to_owned(),
                arch: "x86_64".to_owned(),
                cpu: CpuFacts {
                    threads: 8,
                    ..CpuFacts::default()
                },
                memory: MemoryFacts {
                    total_bytes: 16 * GIB,
                    hugepages_total: Some(0),
                    ..MemoryFacts::default()
                },
                disks: vec![
                    DiskFacts {
                        name: "nvme0n1".to_owned(),
                        rotational: Some(false),
                        ..DiskFacts::default()
                    },
                    DiskFacts {
                        name: "sda".to_owned(),
                        rotational: Some(true),
                        ..DiskFacts::default()
                    },
                ],
                ..HostFacts::default()
            }),
            os: Some(OsFacts {
                sysctls,
                transparent_hugepages: Some(ThpFacts {
                    enabled: "madvise".to_owned(),
                    defrag: Some("madvise".to_owned()),
                }),
                cpu_governors: BTreeMap::from([("performance".to_owned(), 8)]),
                numa_nodes: vec![
                    NumaNode {
                        id: 0,
                        cpus: "0-3".to_owned(),
                        mem_total_bytes: Some(8 * GIB),
                    },
                    NumaNode {
                        id: 1,
                        cpus: "4-7".to_owned(),
                        mem_total_bytes: Some(8 * GIB),
                    },
                ],
                db_processes: vec![ProcessLimits {
                    pid: 812,
                    name: "postgres".to_owned(),
                    nofile_soft: Some(1_048_576),
                    nofile_hard: Some(1_048_576),
                    ..ProcessLimits::default()
                }],
                time_sync: TimeSync {
                    synchronized: Some(true),
                    daemon: Some("chronyd".to_owned()),
                    max_error_us: Some(1500),
                },
            }),
            network: Some(NetworkFacts::default()),
        }
    }

    pub fn os_mut(&mut self) -> &mut OsFacts {
        self.os.get_or_insert_with(OsFacts::default)
    }

    pub fn host_mut(&mut self) -> &mut HostFacts {
        self.host.get_or_insert_with(HostFacts::default)
    }

    pub fn set_sysctl(&mut self, name: &str, value: &str) {
        self.os_mut()
            .sysctls
            .insert(name.to_owned(), value.to_owned());
    }

    pub fn build(&self) -> Snapshot {
        let mut s = bare_snapshot();
        let start = s.manifest().window.started_at;
        let ts = |i: usize| Some(start.timestamp_micros() + (i as i64 + 1) * 1_000_000);
        if !self.cpu.is_empty() {
            // Each sample as an `all` row followed by a saturated `cpu0` row.
            let rows: Vec<(usize, &str, CpuSample)> = self
                .cpu
                .iter()
                .enumerate()
                .flat_map(|(i, c)| {
                    [
                        (i, "all", *c),
                        (
                            i,
                            "cpu0",
                            CpuSample {
                                idle: 0.0,
                                iowait: 50.0,
                                steal: 50.0,
                            },
                        ),
                    ]
                })
                .collect();
            let f = |g: fn(&CpuSample) -> f64| col::f64(rows.iter().map(|r| Some(g(&r.2))));
            let busy = |c: &CpuSample| 100.0 - c.idle - c.iowait - c.steal;
            let table = Table::new()
                .with("ts", col::timestamp(rows.iter().map(|r| ts(r.0))))
                .with("cpu", col::utf8(rows.iter().map(|r| Some(r.1))))
                .with("user_pct", col::f64(rows.iter().map(|r| Some(busy(&r.2)))))
                .with("system_pct", col::f64(rows.iter().map(|_| Some(0.0))))
                .with("iowait_pct", f(|c| c.iowait))
                .with("steal_pct", f(|c| c.steal))
                .with("idle_pct", f(|c| c.idle));
            s.put_table(tables::HOST_CPU, table);
        }
        if !self.system.is_empty() {
            let r = &self.system;
            let f = |g: fn(&SystemSample) -> f64| col::f64(r.iter().map(|x| Some(g(x))));
            let i = |g: fn(&SystemSample) -> i64| col::i64(r.iter().map(|x| Some(g(x))));
            let table = Table::new()
                .with("ts", col::timestamp((0..r.len()).map(ts)))
                .with("procs_running", i(|x| x.procs_running))
                .with("mem_total_bytes", i(|x| x.mem_total))
                .with("mem_available_bytes", i(|x| x.mem_available))
                .with("swap_in_pages_per_s", f(|x| x.swap_in))
                .with("swap_out_pages_per_s", f(|x| x.swap_out))
                .with("tcp_out_segs_per_s", f(|x| x.tcp_out))
                .with("tcp_retrans_segs_per_s", f(|x| x.tcp_retrans));
            s.put_table(tables::HOST_SYSTEM, table);
        }
        if !self.disks.is_empty() {
            let rows: Vec<(usize, &str, DiskSample)> = self
                .disks
                .iter()
                .flat_map(|(dev, samples)| {
                    samples
                        .iter()
                        .enumerate()
                        .map(move |(i, d)| (i, dev.as_str(), *d))
                })
                .collect();
            let table = Table::new()
                .with("ts", col::timestamp(rows.iter().map(|r| ts(r.0))))
                .with("device", col::utf8(rows.iter().map(|r| Some(r.1))))
                .with("await_ms", col::f64(rows.iter().map(|r| r.2.await_ms)))
                .with("util_pct", col::f64(rows.iter().map(|r| Some(r.2.util))));
            s.put_table(tables::HOST_DISK, table);
        }
        if !self.nets.is_empty() {
            let rows: Vec<(usize, &str, f64)> = self
                .nets
                .iter()
                .flat_map(|(name, v)| {
                    v.iter()
                        .enumerate()
                        .map(move |(i, e)| (i, name.as_str(), *e))
                })
                .collect();
            let quarter = || col::f64(rows.iter().map(|r| Some(r.2 / 4.0)));
            let table = Table::new()
                .with("ts", col::timestamp(rows.iter().map(|r| ts(r.0))))
                .with("interface", col::utf8(rows.iter().map(|r| Some(r.1))))
                .with("rx_errors_per_s", quarter())
                .with("tx_errors_per_s", quarter())
                .with("rx_drops_per_s", quarter())
                .with("tx_drops_per_s", quarter());
            s.put_table(tables::HOST_NET, table);
        }
        if let Some(h) = &self.host {
            s.set_fact(facts_names::HOST, h);
        }
        if let Some(o) = &self.os {
            s.set_fact(facts_names::OS, o);
        }
        if let Some(n) = &self.network {
            s.set_fact(facts_names::NETWORK, n);
        }
        s
    }

    pub fn assess(&self) -> Assessment {
        assess(&self.build(), &Baseline::builtin()).expect("assessment runs")
    }
}

/// The findings of one rule.
pub fn findings_of<'a>(a: &'a Assessment, rule: &str) -> Vec<&'a Finding> {
    a.findings.iter().filter(|f| f.rule_id == rule).collect()
}

/// The single finding of `rule`; panics with the assessment when there is not exactly one.
pub fn only_finding<'a>(a: &'a Assessment, rule: &str) -> &'a Finding {
    let found = findings_of(a, rule);
    assert_eq!(found.len(), 1, "expected one {rule} finding in {a:#?}");
    found[0]
}

/// The numeric value of the evidence `metric` of `f`.
pub fn evidence_number(f: &Finding, metric: &str) -> f64 {
    match f
        .evidence
        .iter()
        .find(|e| e.metric == metric)
        .map(|e| &e.observed)
    {
        Some(Value::Number { value, .. }) => *value,
        other => panic!("no numeric evidence {metric} in {f:#?}: {other:?}"),
    }
}

/// The threshold of the evidence `metric` of `f`.
pub fn evidence_threshold(f: &Finding, metric: &str) -> Option<String> {
    f.evidence
        .iter()
        .find(|e| e.metric == metric)
        .and_then(|e| e.threshold.as_ref())
        .map(ToString::to_string)
}

/// One statement class of a slow log, as the `log_queries` table holds it.
#[derive(Debug, Clone)]
pub struct LogClass {
    pub id: &'static str,
    /// The masked sample; the fingerprint is its lower-case form.
    pub sample: &'static str,
    pub calls: i64,
    /// Share of the log's total time, in percent.
    pub share_pct: f64,
    pub mean_s: f64,
    /// Rows read over all calls; one row is sent per call.
    pub rows_examined: i64,
}

/// The healthy host with a slow log whose classes every `sql.*` rule judges and none
/// flags, which each test bends by adding one class.
#[derive(Debug, Clone)]
pub struct SqlFixture {
    pub host: Fixture,
    pub classes: Vec<LogClass>,
}

impl SqlFixture {
    /// One class holding 40 % of the log's time, written the way the rules ask for.
    pub fn healthy() -> Self {
        Self {
            host: Fixture::healthy(),
            classes: vec![LogClass {
                id: "bbbb000000000002",
                sample: "SELECT id, total FROM orders WHERE id = ?",
                calls: 100,
                share_pct: 40.0,
                mean_s: 0.05,
                rows_examined: 100,
            }],
        }
    }

    /// Adds a class holding 40 % of the log's time, 100 calls of 50 ms.
    pub fn push(&mut self, id: &'static str, sample: &'static str) {
        self.classes.push(LogClass {
            id,
            sample,
            calls: 100,
            share_pct: 40.0,
            mean_s: 0.05,
            rows_examined: 100,
        });
    }

    pub fn build(&self) -> Snapshot {
        let rows = &self.classes;
        let mut s = self.host.build();
        s.put_table(
            tables::LOG_QUERIES,
            Table::new()
                .with("source", col::utf8(rows.iter().map(|_| Some("slow.log"))))
                .with("rank", col::i64((1..=rows.len() as i64).map(Some)))
                .with("id", col::utf8(rows.iter().map(|r| Some(r.id))))
                .with(
                    "fingerprint",
                    col::utf8(rows.iter().map(|r| Some(r.sample.to_lowercase()))),
                )
                .with("sample", col::utf8(rows.iter().map(|r| Some(r.sample))))
                .with("calls", col::i64(rows.iter().map(|r| Some(r.calls))))
                .with(
                    "share_pct",
                    col::f64(rows.iter().map(|r| Some(r.share_pct))),
                )
                .with(
                    "total_s",
                    col::f64(rows.iter().map(|r| Some(r.calls as f64 * r.mean_s))),
                )
                .with("mean_s", col::f64(rows.iter().map(|r| Some(r.mean_s))))
                .with(
                    "rows_sent",
                    col::f64(rows.iter().map(|r| Some(r.calls as f64))),
                )
                .with(
                    "rows_examined",
                    col::f64(rows.iter().map(|r| Some(r.rows_examined as f64))),
                )
                .with("databases", col::utf8(rows.iter().map(|_| Some("app")))),
        );
        s
    }
}

/// A snapshot of host `db1` with a 60 s window from 2026-11-02 09:00 UTC and nothing
/// in it yet.
pub fn bare_snapshot() -> Snapshot {
    let start = Utc
        .with_ymd_and_hms(2026, 11, 2, 9, 0, 0)
        .single()
        .expect("valid date");
    Snapshot::new(
        HostIdentity {
            hostname: "db1".to_owned(),
            os: "Debian GNU/Linux 12 (bookworm)".to_owned(),
            kernel: Some("6.1.0".to_owned()),
            arch: "x86_64".to_owned(),
            machine_id: None,
        },
        CollectionWindow {
            started_at: start,
            ended_at: start + chrono::Duration::seconds(60),
            interval_ms: 1000,
            requested_duration_ms: 60_000,
            ended_early: false,
        },
    )
}
