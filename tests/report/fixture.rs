//! A fixed snapshot for the report tests, built in code so every value is in sight
//! and nothing depends on the machine or the clock: a 16 GiB host under CPU pressure
//! running one PostgreSQL and one MariaDB target, with sessions that block each
//! other, statement statistics with SQL anti-patterns, a slow log, and probes that
//! partly failed.
//!
//! The names that come from the databases and the host (host name, user names, table
//! names, application name, probe messages) are parameters, so the same snapshot can
//! carry hostile text for the escaping test.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Duration, TimeZone, Utc};
use perfdiag_model::facts::mysql::{ConnectionFacts, MysqlFlavor, MysqlSettings};
use perfdiag_model::facts::postgres::{
    PgCheckpointer, PgConnections, PgCounters, PgDatabaseStats, PgSetting, PgStatStatementsState,
};
use perfdiag_model::facts::{
    CpuFacts, DiskFacts, FilesystemFacts, HostFacts, InterfaceFacts, MemoryFacts, MysqlFacts,
    OsFacts, PostgresFacts, ThpFacts, Virtualization,
};
use perfdiag_model::{
    CollectionWindow, HostIdentity, ProbeRecord, ProbeStatus, Snapshot, Table, col, facts_names,
    tables,
};

pub const GIB: u64 = 1 << 30;
pub const PG: &str = "postgres://monitor@db1:5432/erp";
pub const MY: &str = "mysql://monitor@db1:3306/shop";
/// Samples in the window, one every `INTERVAL_S` seconds.
const SAMPLES: i64 = 20;
const INTERVAL_S: i64 = 3;

/// The text the databases and the host contribute to the report.
#[derive(Debug, Clone)]
pub struct Names {
    pub hostname: String,
    /// The login of the application's sessions, in both databases.
    pub user: String,
    /// The table the application's statements touch.
    pub table: String,
    pub application: String,
    /// The message of the probe that failed.
    pub failure: String,
}

impl Names {
    pub fn plain() -> Self {
        Self {
            hostname: "db1".to_owned(),
            user: "erp_app".to_owned(),
            table: "orders".to_owned(),
            application: "erp-web".to_owned(),
            failure: "permission denied for table user".to_owned(),
        }
    }
}

pub fn started_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0)
        .single()
        .expect("a valid date")
}

/// The snapshot, written to `path`.
pub fn write(names: &Names, path: &Path) {
    snapshot(names).write(path).expect("the fixture is written");
}

pub fn snapshot(names: &Names) -> Snapshot {
    let start = started_at();
    let mut s = Snapshot::new(
        HostIdentity {
            hostname: names.hostname.clone(),
            os: "Debian GNU/Linux 12 (bookworm)".to_owned(),
            kernel: Some("6.1.0-27-amd64".to_owned()),
            arch: "x86_64".to_owned(),
            machine_id: Some("0f1e2d3c4b5a69788796a5b4c3d2e1f0".to_owned()),
        },
        CollectionWindow {
            started_at: start,
            ended_at: start + Duration::seconds(SAMPLES * INTERVAL_S),
            interval_ms: (INTERVAL_S * 1000) as u64,
            requested_duration_ms: (SAMPLES * INTERVAL_S * 1000) as u64,
            ended_early: false,
        },
    );
    for (id, target, status, ms, message, hint) in [
        ("host", None, ProbeStatus::Ok, 12, None, None),
        ("os", None, ProbeStatus::Ok, 8, None, None),
        ("sampler", None, ProbeStatus::Ok, 60_004, None, None),
        (
            "network",
            None,
            ProbeStatus::Skipped,
            0,
            Some("no --target given".to_owned()),
            Some("add --target HOST:PORT to measure round trips".to_owned()),
        ),
        (
            "postgres.settings",
            Some(PG),
            ProbeStatus::Ok,
            35,
            None,
            None,
        ),
        (
            "postgres.sessions",
            Some(PG),
            ProbeStatus::Ok,
            410,
            None,
            None,
        ),
        (
            "postgres.statements",
            Some(PG),
            ProbeStatus::Partial,
            120,
            Some("pg_stat_statements_info is not readable".to_owned()),
            Some("GRANT pg_read_all_stats TO monitor".to_owned()),
        ),
        ("mysql.status", Some(MY), ProbeStatus::Ok, 40, None, None),
        (
            "mysql.security",
            Some(MY),
            ProbeStatus::Failed,
            15,
            Some(names.failure.clone()),
            Some("GRANT SELECT ON mysql.user TO 'monitor'@'%'".to_owned()),
        ),
    ] {
        s.record_probe(ProbeRecord {
            id: id.to_owned(),
            target: target.map(str::to_owned),
            status,
            duration_ms: ms,
            message,
            hint,
        });
    }
    s.set_fact(facts_names::HOST, &host(names));
    s.set_fact(facts_names::OS, &os());
    s.set_fact(facts_names::POSTGRES, &vec![postgres(start)]);
    s.set_fact(facts_names::MYSQL, &vec![mysql()]);
    host_samples(&mut s, start);
    s.put_table(tables::PG_SESSIONS, pg_sessions(names, start));
    s.put_table(tables::PG_STATEMENTS, pg_statements(names));
    s.put_table(tables::MYSQL_SESSIONS, mysql_sessions(names, start));
    s.put_table(tables::MYSQL_STATEMENTS, mysql_statements(names));
    s.put_table(tables::LOG_QUERIES, log_queries(names));
    s
}

fn host(names: &Names) -> HostFacts {
    HostFacts {
        hostname: names.hostname.clone(),
        os_name: "Debian GNU/Linux 12 (bookworm)".to_owned(),
        kernel: Some("6.1.0-27-amd64".to_owned()),
        arch: "x86_64".to_owned(),
        uptime_secs: Some(3 * 86_400 + 7200),
        cpu: CpuFacts {
            model: Some("Intel(R) Xeon(R) Gold 6248R CPU @ 3.00GHz".to_owned()),
            sockets: Some(1),
            cores: Some(4),
            threads: 8,
            mhz: Some(3000.0),
            max_mhz: Some(4000.0),
        },
        memory: MemoryFacts {
            total_bytes: 16 * GIB,
            available_bytes: Some(3 * GIB),
            swap_total_bytes: 2 * GIB,
            swap_free_bytes: 2 * GIB,
            hugepages_total: Some(0),
            hugepages_free: Some(0),
            hugepage_size_bytes: Some(2 * 1024 * 1024),
        },
        disks: vec![DiskFacts {
            name: "sda".to_owned(),
            size_bytes: Some(500 * GIB),
            model: Some("Virtual disk".to_owned()),
            rotational: Some(true),
            scheduler: Some("mq-deadline".to_owned()),
            read_ahead_kb: Some(128),
        }],
        filesystems: vec![FilesystemFacts {
            mount_point: "/var/lib/postgresql".to_owned(),
            device: "/dev/sda2".to_owned(),
            fs_type: "ext4".to_owned(),
            options: vec!["rw".to_owned(), "relatime".to_owned()],
            size_bytes: Some(480 * GIB),
            free_bytes: Some(120 * GIB),
        }],
        interfaces: vec![InterfaceFacts {
            name: "eth0".to_owned(),
            mtu: Some(1500),
            speed_mbps: Some(10_000),
            operstate: Some("up".to_owned()),
        }],
        virtualization: Virtualization {
            hypervisor: Some("kvm".to_owned()),
            container: None,
            product: None,
        },
    }
}

fn os() -> OsFacts {
    OsFacts {
        sysctls: BTreeMap::from(
            [
                ("vm.swappiness", "60"),
                ("vm.dirty_ratio", "20"),
                ("vm.dirty_background_ratio", "10"),
                ("vm.zone_reclaim_mode", "0"),
                ("net.core.somaxconn", "4096"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned())),
        ),
        transparent_hugepages: Some(ThpFacts {
            enabled: "always".to_owned(),
            defrag: Some("madvise".to_owned()),
        }),
        ..OsFacts::default()
    }
}

fn setting(name: &str, raw: &str, unit: Option<&str>, normalised: Option<f64>) -> PgSetting {
    PgSetting {
        name: name.to_owned(),
        setting: raw.to_owned(),
        unit: unit.map(str::to_owned),
        vartype: if unit.is_some() { "integer" } else { "string" }.to_owned(),
        source: "configuration file".to_owned(),
        normalised,
        normalised_unit: unit.map(|u| if u.ends_with('B') { "bytes" } else { "ms" }.to_owned()),
        pending_restart: false,
    }
}

fn postgres(start: DateTime<Utc>) -> PostgresFacts {
    let counters = |at, hit: i64, read: i64| PgCounters {
        at,
        databases: vec![PgDatabaseStats {
            datname: "erp".to_owned(),
            numbackends: Some(24),
            xact_commit: Some(hit / 100),
            xact_rollback: Some(10),
            blks_hit: Some(hit),
            blks_read: Some(read),
            temp_files: Some(0),
            temp_bytes: Some(0),
            deadlocks: Some(0),
            conflicts: Some(0),
            stats_reset: Some(start - Duration::days(30)),
        }],
        bgwriter: Some(PgCheckpointer {
            checkpoints_timed: Some(100),
            checkpoints_req: Some(5),
            ..PgCheckpointer::default()
        }),
        wal: None,
    };
    PostgresFacts {
        target: PG.to_owned(),
        server_version_num: Some(150_010),
        version: Some(
            "PostgreSQL 15.10 (Debian 15.10-0+deb12u1) on x86_64-pc-linux-gnu, compiled by gcc"
                .to_owned(),
        ),
        started_at: Some(start - Duration::days(12)),
        uptime_secs: Some(12.0 * 86_400.0),
        database: Some("erp".to_owned()),
        user: Some("monitor".to_owned()),
        is_superuser: Some(false),
        in_recovery: Some(false),
        settings: vec![
            setting(
                "shared_buffers",
                "16384",
                Some("8kB"),
                Some(128.0 * 1048576.0),
            ),
            setting(
                "effective_cache_size",
                "524288",
                Some("8kB"),
                Some(4.0 * GIB as f64),
            ),
            setting("work_mem", "4096", Some("kB"), Some(4_194_304.0)),
            setting("max_wal_size", "1024", Some("MB"), Some(GIB as f64)),
            setting("checkpoint_timeout", "300", Some("s"), Some(300_000.0)),
            setting("log_min_duration_statement", "-1", Some("ms"), None),
            setting("shared_preload_libraries", "pg_stat_statements", None, None),
            setting("max_connections", "200", None, None),
            setting("random_page_cost", "4", None, None),
        ],
        pg_stat_statements: PgStatStatementsState {
            installed: true,
            preloaded: true,
            readable: true,
            ..PgStatStatementsState::default()
        },
        start: Some(counters(start, 50_000_000, 900_000)),
        end: Some(counters(
            start + Duration::seconds(SAMPLES * INTERVAL_S),
            50_900_000,
            1_000_000,
        )),
        connections: Some(PgConnections {
            max_connections: Some(200),
            reserved_connections: Some(3),
            by_state: BTreeMap::new(),
            peak_client_backends: Some(60),
        }),
        ..PostgresFacts::default()
    }
}

fn mysql() -> MysqlFacts {
    MysqlFacts {
        target: MY.to_owned(),
        flavor: Some(MysqlFlavor::Mariadb),
        version: Some("10.11.6-MariaDB-0+deb12u1".to_owned()),
        version_comment: Some("Debian 12".to_owned()),
        uptime_secs: Some(5 * 86_400),
        settings: MysqlSettings {
            innodb_buffer_pool_size_bytes: Some(128 * 1024 * 1024),
            innodb_flush_log_at_trx_commit: Some(1),
            max_connections: Some(151),
            thread_cache_size: Some(8),
            tmp_table_size_bytes: Some(16 * 1024 * 1024),
            performance_schema: Some(true),
            slow_query_log: Some(true),
            long_query_time_secs: Some(1.0),
            ..MysqlSettings::default()
        },
        connections: ConnectionFacts {
            max_connections: Some(151),
            max_used_connections: Some(40),
            threads_connected: Some(30),
            threads_running: Some(4),
        },
        ..MysqlFacts::default()
    }
}

/// Microseconds of sample `i` (1-based).
fn ts(start: DateTime<Utc>, i: i64) -> i64 {
    start.timestamp_micros() + i * INTERVAL_S * 1_000_000
}

/// CPU busy 85–95 % of the window, memory getting scarce, one disk fairly busy.
fn host_samples(s: &mut Snapshot, start: DateTime<Utc>) {
    let n = 1..=SAMPLES;
    let busy = |i: i64| 82.0 + (i % 5) as f64 * 3.0;
    s.put_table(
        tables::HOST_CPU,
        Table::new()
            .with("ts", col::timestamp(n.clone().map(|i| Some(ts(start, i)))))
            .with("cpu", col::utf8(n.clone().map(|_| Some("all"))))
            .with(
                "user_pct",
                col::f64(n.clone().map(|i| Some(busy(i) - 10.0))),
            )
            .with("nice_pct", col::f64(n.clone().map(|_| Some(0.0))))
            .with("system_pct", col::f64(n.clone().map(|_| Some(8.0))))
            .with("irq_pct", col::f64(n.clone().map(|_| Some(0.5))))
            .with("softirq_pct", col::f64(n.clone().map(|_| Some(1.5))))
            .with("iowait_pct", col::f64(n.clone().map(|_| Some(4.0))))
            .with("steal_pct", col::f64(n.clone().map(|_| Some(0.0))))
            .with(
                "idle_pct",
                col::f64(n.clone().map(|i| Some(100.0 - busy(i) - 4.0))),
            ),
    );
    s.put_table(
        tables::HOST_SYSTEM,
        Table::new()
            .with("ts", col::timestamp(n.clone().map(|i| Some(ts(start, i)))))
            .with(
                "procs_running",
                col::i64(n.clone().map(|i| Some(10 + i % 4))),
            )
            .with(
                "mem_total_bytes",
                col::i64(n.clone().map(|_| Some((16 * GIB) as i64))),
            )
            .with(
                "mem_available_bytes",
                col::i64(n.clone().map(|i| Some((3 * GIB) as i64 - i * 10_000_000))),
            )
            .with(
                "swap_in_pages_per_s",
                col::f64(n.clone().map(|_| Some(0.0))),
            )
            .with(
                "swap_out_pages_per_s",
                col::f64(n.clone().map(|_| Some(0.0))),
            )
            .with(
                "tcp_out_segs_per_s",
                col::f64(n.clone().map(|_| Some(5000.0))),
            )
            .with(
                "tcp_retrans_segs_per_s",
                col::f64(n.clone().map(|_| Some(1.0))),
            ),
    );
    s.put_table(
        tables::HOST_DISK,
        Table::new()
            .with("ts", col::timestamp(n.clone().map(|i| Some(ts(start, i)))))
            .with("device", col::utf8(n.clone().map(|_| Some("sda"))))
            .with(
                "await_ms",
                col::f64(n.clone().map(|i| Some(8.0 + (i % 3) as f64))),
            )
            .with(
                "util_pct",
                col::f64(n.clone().map(|i| Some(55.0 + (i % 4) as f64 * 5.0))),
            ),
    );
    // eth0 carries the application's traffic (and drops a few packets in two
    // samples: 0.2 a second over the window, under the rule's threshold); eth1 the
    // backups, little.
    let rows: Vec<(i64, &str)> = n.flat_map(|i| [(i, "eth0"), (i, "eth1")]).collect();
    let eth0 = |name: &str| name == "eth0";
    s.put_table(
        tables::HOST_NET,
        Table::new()
            .with(
                "ts",
                col::timestamp(rows.iter().map(|&(i, _)| Some(ts(start, i)))),
            )
            .with("interface", col::utf8(rows.iter().map(|&(_, k)| Some(k))))
            .with(
                "rx_bytes_per_s",
                col::f64(rows.iter().map(|&(i, k)| {
                    Some(if eth0(k) {
                        6.0e6 + (i % 4) as f64 * 1.5e6
                    } else {
                        2.0e5
                    })
                })),
            )
            .with(
                "tx_bytes_per_s",
                col::f64(rows.iter().map(|&(i, k)| {
                    Some(if eth0(k) {
                        1.8e7 + (i % 5) as f64 * 2.0e6
                    } else {
                        4.0e5
                    })
                })),
            )
            .with(
                "rx_packets_per_s",
                col::f64(rows.iter().map(|_| Some(9000.0))),
            )
            .with(
                "tx_packets_per_s",
                col::f64(rows.iter().map(|_| Some(12000.0))),
            )
            .with("rx_errors_per_s", col::f64(rows.iter().map(|_| Some(0.0))))
            .with("tx_errors_per_s", col::f64(rows.iter().map(|_| Some(0.0))))
            .with(
                "rx_drops_per_s",
                col::f64(rows.iter().map(|&(i, k)| {
                    Some(if eth0(k) && (7..=8).contains(&i) {
                        2.0
                    } else {
                        0.0
                    })
                })),
            )
            .with("tx_drops_per_s", col::f64(rows.iter().map(|_| Some(0.0)))),
    );
}

/// One sampled PostgreSQL session.
struct PgRow {
    tick: i64,
    pid: i64,
    state: &'static str,
    wait: Option<(&'static str, &'static str)>,
    age_ms: f64,
    xact_ms: Option<f64>,
    blocked_by: Option<&'static str>,
    query: String,
}

/// Session 4101 opens a transaction, updates a row and goes idle holding the lock;
/// 4102 waits on it, 4103 on 4102 (ticks 5–16). 4104 runs a long report, reading
/// from disk; 4105 and 4106 run short statements.
fn pg_sessions(names: &Names, start: DateTime<Utc>) -> Table {
    let table = &names.table;
    let update = format!("UPDATE \"{table}\" SET status = $1 WHERE id = $2");
    let report = format!(
        "SELECT * FROM \"{table}\" o JOIN order_lines l ON l.order_id = o.id WHERE o.created_at > $1"
    );
    let mut rows = Vec::new();
    for tick in 1..=SAMPLES {
        let ms = |ticks: i64| (ticks * INTERVAL_S * 1000) as f64;
        if (5..=16).contains(&tick) {
            let held = tick - 4;
            rows.push(PgRow {
                tick,
                pid: 4101,
                state: "idle in transaction",
                wait: Some(("Client", "ClientRead")),
                age_ms: ms(held),
                xact_ms: Some(ms(held) + 500.0),
                blocked_by: None,
                query: update.clone(),
            });
            rows.push(PgRow {
                tick,
                pid: 4102,
                state: "active",
                wait: Some(("Lock", "transactionid")),
                age_ms: ms(held) - 1000.0,
                xact_ms: Some(ms(held) - 1000.0),
                blocked_by: Some("4101"),
                query: update.clone(),
            });
            if tick >= 8 {
                rows.push(PgRow {
                    tick,
                    pid: 4103,
                    state: "active",
                    wait: Some(("Lock", "tuple")),
                    age_ms: ms(tick - 7),
                    xact_ms: Some(ms(tick - 7)),
                    blocked_by: Some("4102"),
                    query: update.clone(),
                });
            }
        }
        if tick <= 15 {
            rows.push(PgRow {
                tick,
                pid: 4104,
                state: "active",
                wait: (tick % 2 == 0).then_some(("IO", "DataFileRead")),
                age_ms: ms(tick) + 2000.0,
                xact_ms: Some(ms(tick) + 2000.0),
                blocked_by: None,
                query: report.clone(),
            });
        }
        rows.push(PgRow {
            tick,
            pid: 4105 + tick % 2,
            state: "active",
            wait: None,
            age_ms: 12.0,
            xact_ms: Some(12.0),
            blocked_by: None,
            query: "SELECT id, total FROM customers WHERE id = $1".to_owned(),
        });
    }
    let n = rows.len();
    Table::new()
        .with("target", col::utf8(vec![Some(PG); n]))
        .with(
            "ts",
            col::timestamp(rows.iter().map(|r| Some(ts(start, r.tick)))),
        )
        .with("pid", col::i64(rows.iter().map(|r| Some(r.pid))))
        .with("datname", col::utf8(vec![Some("erp"); n]))
        .with("usename", col::utf8(vec![Some(names.user.as_str()); n]))
        .with(
            "application_name",
            col::utf8(vec![Some(names.application.as_str()); n]),
        )
        .with("client_addr", col::utf8(vec![Some("10.0.4.21"); n]))
        .with("backend_type", col::utf8(vec![Some("client backend"); n]))
        .with("state", col::utf8(rows.iter().map(|r| Some(r.state))))
        .with(
            "wait_event_type",
            col::utf8(rows.iter().map(|r| r.wait.map(|w| w.0))),
        )
        .with(
            "wait_event",
            col::utf8(rows.iter().map(|r| r.wait.map(|w| w.1))),
        )
        .with(
            "query_age_ms",
            col::f64(rows.iter().map(|r| Some(r.age_ms))),
        )
        .with("xact_age_ms", col::f64(rows.iter().map(|r| r.xact_ms)))
        .with(
            "state_age_ms",
            col::f64(rows.iter().map(|r| Some(r.age_ms))),
        )
        .with("blocked_by", col::utf8(rows.iter().map(|r| r.blocked_by)))
        .with("query_id", col::i64(rows.iter().map(|_| None)))
        .with(
            "query",
            col::utf8(rows.iter().map(|r| Some(r.query.clone()))),
        )
}

/// (queryid, query, calls, total ms, rows, shared_blks_read, temp_blks_written)
fn pg_statements(names: &Names) -> Table {
    let table = &names.table;
    let rows: Vec<(i64, String, i64, f64, i64, i64, i64)> = vec![
        (
            -7_212_334_455_667_788_990,
            format!(
                "SELECT * FROM \"{table}\" o JOIN order_lines l ON l.order_id = o.id WHERE o.created_at > $1"
            ),
            40,
            41_000.0,
            2_000_000,
            380_000,
            12_000,
        ),
        (
            1_234_567_890_123,
            format!("UPDATE \"{table}\" SET status = $1 WHERE id = $2"),
            2_400,
            18_500.0,
            2_400,
            120,
            0,
        ),
        (
            555_000_111,
            "SELECT id, total FROM customers WHERE id = $1".to_owned(),
            95_000,
            9_500.0,
            95_000,
            40,
            0,
        ),
        (
            42,
            format!(
                "SELECT id, status FROM \"{table}\" ORDER BY created_at DESC LIMIT $1 OFFSET $2"
            ),
            300,
            6_000.0,
            15_000,
            9_000,
            0,
        ),
    ];
    let n = rows.len();
    Table::new()
        .with("target", col::utf8(vec![Some(PG); n]))
        .with("queryid", col::i64(rows.iter().map(|r| Some(r.0))))
        .with("dbid", col::i64(vec![Some(16_384); n]))
        .with("datname", col::utf8(vec![Some("erp"); n]))
        .with("userid", col::i64(vec![Some(16_390); n]))
        .with("rolname", col::utf8(vec![Some(names.user.as_str()); n]))
        .with("query", col::utf8(rows.iter().map(|r| Some(r.1.clone()))))
        .with(
            "fingerprint_id",
            col::utf8(
                (0..n).map(|i| Some(format!("{:016x}", 0x00a1_0000_0000_0000_u64 + i as u64))),
            ),
        )
        .with("calls", col::i64(rows.iter().map(|r| Some(r.2))))
        .with(
            "total_exec_time_ms",
            col::f64(rows.iter().map(|r| Some(r.3))),
        )
        .with(
            "mean_exec_time_ms",
            col::f64(rows.iter().map(|r| Some(r.3 / r.2 as f64))),
        )
        .with("rows", col::i64(rows.iter().map(|r| Some(r.4))))
        .with(
            "shared_blks_hit",
            col::i64(rows.iter().map(|r| Some(r.5 * 9))),
        )
        .with("shared_blks_read", col::i64(rows.iter().map(|r| Some(r.5))))
        .with("shared_blks_dirtied", col::i64(vec![Some(0); n]))
        .with("shared_blks_written", col::i64(vec![Some(0); n]))
        .with("temp_blks_read", col::i64(rows.iter().map(|r| Some(r.6))))
        .with(
            "temp_blks_written",
            col::i64(rows.iter().map(|r| Some(r.6))),
        )
        .with("delta_from_start", col::bool(vec![Some(true); n]))
}

/// Thread 77 sleeps holding a row lock (so it is not sampled); 78 waits on it; 79
/// runs a long search.
/// A sampled MySQL session: (tick, id, command, state, time ms, trx_state, blocked_by,
/// info).
type MySession = (
    i64,
    i64,
    &'static str,
    &'static str,
    i64,
    Option<&'static str>,
    Option<i64>,
    String,
);

/// A performance_schema digest: (digest, text, calls, total ms, rows sent, rows
/// examined, temporary tables on disk, calls without index).
type Digest = (&'static str, String, i64, f64, i64, i64, i64, i64);

fn mysql_sessions(names: &Names, start: DateTime<Utc>) -> Table {
    let table = &names.table;
    let mut rows: Vec<MySession> = Vec::new();
    for tick in 3..=9 {
        let held = (tick - 2) * INTERVAL_S * 1000;
        rows.push((
            tick,
            78,
            "Query",
            "Updating",
            held,
            Some("LOCK WAIT"),
            Some(77),
            format!("UPDATE `{table}` SET `stock` = `stock` - ? WHERE `sku` = ?"),
        ));
        rows.push((
            tick,
            79,
            "Query",
            "Sending data",
            held * 2,
            Some("RUNNING"),
            None,
            "SELECT * FROM `customers` WHERE `name` LIKE CONCAT ( '%' , ? , '%' )".to_owned(),
        ));
    }
    let n = rows.len();
    Table::new()
        .with("target", col::utf8(vec![Some(MY); n]))
        .with(
            "ts",
            col::timestamp(rows.iter().map(|r| Some(ts(start, r.0)))),
        )
        .with("id", col::i64(rows.iter().map(|r| Some(r.1))))
        .with("user", col::utf8(vec![Some(names.user.as_str()); n]))
        .with("host", col::utf8(vec![Some("10.0.4.22:51234"); n]))
        .with("db", col::utf8(vec![Some("shop"); n]))
        .with("command", col::utf8(rows.iter().map(|r| Some(r.2))))
        .with("state", col::utf8(rows.iter().map(|r| Some(r.3))))
        .with("time_ms", col::i64(rows.iter().map(|r| Some(r.4))))
        .with("trx_age_ms", col::i64(rows.iter().map(|r| Some(r.4 + 700))))
        .with("trx_state", col::utf8(rows.iter().map(|r| r.5)))
        .with("blocked_by", col::i64(rows.iter().map(|r| r.6)))
        .with(
            "lock_wait_ms",
            col::i64(rows.iter().map(|r| r.6.map(|_| r.4))),
        )
        .with("info", col::utf8(rows.iter().map(|r| Some(r.7.clone()))))
}

fn mysql_statements(names: &Names) -> Table {
    let table = &names.table;
    let rows: Vec<Digest> = vec![
        (
            "3f1c9a0d5e7b2468ac13579bdf02468ace13579bdf02468ace13579bdf024681",
            "SELECT * FROM `customers` WHERE `name` LIKE CONCAT ( '%' , ? , '%' )".to_owned(),
            900,
            27_000.0,
            4_500,
            45_000_000,
            0,
            900,
        ),
        (
            "9b8a7c6d5e4f30211203f4e5d6c7b8a99a8b7c6d5e4f30211203f4e5d6c7b8a9",
            format!("UPDATE `{table}` SET `stock` = `stock` - ? WHERE `sku` = ?"),
            5_000,
            9_000.0,
            0,
            5_000,
            0,
            0,
        ),
        (
            "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "SELECT `sku` , `stock` FROM `stock_levels` ORDER BY `sku`".to_owned(),
            60,
            3_000.0,
            600_000,
            600_000,
            60,
            60,
        ),
    ];
    let n = rows.len();
    Table::new()
        .with("target", col::utf8(vec![Some(MY); n]))
        .with("digest", col::utf8(rows.iter().map(|r| Some(r.0))))
        .with("schema", col::utf8(vec![Some("shop"); n]))
        .with(
            "digest_text",
            col::utf8(rows.iter().map(|r| Some(r.1.clone()))),
        )
        .with(
            "fingerprint_id",
            col::utf8(
                (0..n).map(|i| Some(format!("{:016x}", 0x00b2_0000_0000_0000_u64 + i as u64))),
            ),
        )
        .with("calls", col::i64(rows.iter().map(|r| Some(r.2))))
        .with("total_ms", col::f64(rows.iter().map(|r| Some(r.3))))
        .with(
            "avg_ms",
            col::f64(rows.iter().map(|r| Some(r.3 / r.2 as f64))),
        )
        .with("rows_sent", col::i64(rows.iter().map(|r| Some(r.4))))
        .with("rows_examined", col::i64(rows.iter().map(|r| Some(r.5))))
        .with("tmp_tables", col::i64(rows.iter().map(|r| Some(r.6))))
        .with("tmp_disk_tables", col::i64(rows.iter().map(|r| Some(r.6))))
        .with("no_index_used", col::i64(rows.iter().map(|r| Some(r.7))))
        .with("no_good_index_used", col::i64(vec![Some(0); n]))
        .with("errors", col::i64(vec![Some(0); n]))
}

fn log_queries(names: &Names) -> Table {
    let table = &names.table;
    // (id, sample, calls, share %, total s, rows examined)
    let rows: Vec<(&str, String, i64, f64, f64, f64)> = vec![
        (
            "c0ffee0000000001",
            format!("SELECT * FROM `{table}` WHERE DATE(`created_at`) = ?"),
            1_200,
            61.0,
            3_050.0,
            96_000_000.0,
        ),
        (
            "c0ffee0000000002",
            "SELECT `id` FROM `customers` WHERE `email` = ?".to_owned(),
            40_000,
            39.0,
            1_950.0,
            40_000.0,
        ),
    ];
    let n = rows.len();
    Table::new()
        .with("source", col::utf8(vec![Some("mariadb-slow.log"); n]))
        .with("rank", col::i64((1..=n as i64).map(Some)))
        .with("id", col::utf8(rows.iter().map(|r| Some(r.0))))
        .with(
            "fingerprint",
            col::utf8(rows.iter().map(|r| Some(r.1.to_lowercase()))),
        )
        .with("sample", col::utf8(rows.iter().map(|r| Some(r.1.clone()))))
        .with("calls", col::i64(rows.iter().map(|r| Some(r.2))))
        .with("share_pct", col::f64(rows.iter().map(|r| Some(r.3))))
        .with("total_s", col::f64(rows.iter().map(|r| Some(r.4))))
        .with(
            "mean_s",
            col::f64(rows.iter().map(|r| Some(r.4 / r.2 as f64))),
        )
        .with(
            "p95_s",
            col::f64(rows.iter().map(|r| Some(r.4 / r.2 as f64 * 2.5))),
        )
        .with("rows_sent", col::f64(rows.iter().map(|r| Some(r.2 as f64))))
        .with("rows_examined", col::f64(rows.iter().map(|r| Some(r.5))))
        .with("databases", col::utf8(vec![Some("shop"); n]))
        .with("users", col::utf8(vec![Some(names.user.as_str()); n]))
}
