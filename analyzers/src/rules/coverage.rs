//! Rule coverage: every rule id, with the one fault that makes it fire planted in the
//! healthy fixture of the kind it needs (host, PostgreSQL, MySQL, SQL Server, slow log).
//!
//! One test walks the table and proves, for each rule, that the healthy fixture
//! evaluates it and stays silent and that the planted fault makes it fire; and that the
//! table lists exactly the rules of the code and of the baseline files. It reports
//! every gap at once, so a new rule without a fixture is named, not just counted.
//! The plantings are those of the per-rule tests, which check severities and evidence.

use std::collections::{BTreeMap, BTreeSet};

use perfdiag_model::facts::ProcessLimits;
use perfdiag_model::facts::mysql::Account;
use perfdiag_model::facts::postgres::PgHbaRule;
use perfdiag_model::{Assessment, Snapshot};

use crate::Baseline;
use crate::test_support::{DiskSample, Fixture, GIB, SqlFixture, findings_of};

use super::mssql::fixtures::{MsFixture as Ms, Request as MsRequest, Statement as MsStatement};
use super::mysql::fixtures::{MyFixture as My, Session as MySession};
use super::postgres::tests::Pg;

/// The fault of one rule, planted in the healthy fixture of the kind the rule needs.
#[derive(Clone, Copy)]
enum Plant {
    Host(fn(&mut Fixture)),
    Postgres(fn(&mut Pg)),
    Mysql(fn(&mut My)),
    Mssql(fn(&mut Ms)),
    Sql(fn(&mut SqlFixture)),
}

impl Plant {
    fn kind(self) -> &'static str {
        match self {
            Self::Host(_) => "host",
            Self::Postgres(_) => "PostgreSQL",
            Self::Mysql(_) => "MySQL",
            Self::Mssql(_) => "SQL Server",
            Self::Sql(_) => "slow log",
        }
    }

    /// The snapshot of the healthy fixture of this kind, with the fault when `planted`.
    fn snapshot(self, planted: bool) -> Snapshot {
        match self {
            Self::Host(plant) => {
                let mut f = Fixture::healthy();
                if planted {
                    plant(&mut f);
                }
                f.build()
            }
            Self::Postgres(plant) => {
                let mut f = Pg::healthy();
                if planted {
                    plant(&mut f);
                }
                f.snapshot()
            }
            Self::Mysql(plant) => {
                let mut f = My::healthy();
                if planted {
                    plant(&mut f);
                }
                f.snapshot()
            }
            Self::Mssql(plant) => {
                let mut f = Ms::healthy();
                if planted {
                    plant(&mut f);
                }
                f.snapshot()
            }
            Self::Sql(plant) => {
                let mut f = SqlFixture::healthy();
                if planted {
                    plant(&mut f);
                }
                f.build()
            }
        }
    }
}

/// Every rule and its fault, in the registry's order.
const TABLE: &[(&str, Plant)] = &[
    // Host, OS and network.
    (
        "host.cpu.saturation",
        Plant::Host(|f| f.cpu.iter_mut().for_each(|c| c.idle = 2.0)), // busy 97 %
    ),
    (
        "host.cpu.iowait",
        Plant::Host(|f| {
            for c in &mut f.cpu {
                c.iowait = 30.0;
                c.idle = 40.0;
            }
        }),
    ),
    (
        "host.cpu.steal",
        Plant::Host(|f| f.cpu.iter_mut().for_each(|c| c.steal = 7.0)),
    ),
    (
        "host.memory.pressure",
        Plant::Host(|f| f.system[7].mem_available = (GIB + GIB / 2) as i64), // 9.4 %
    ),
    (
        "host.memory.swapping",
        Plant::Host(|f| {
            for s in &mut f.system {
                s.swap_in = 150.0;
                s.swap_out = 100.0;
            }
        }),
    ),
    (
        "host.disk.await",
        // 8 ms: fine for the spinning sda, too slow for the NVMe drive.
        Plant::Host(|f| {
            for d in &mut f.disks {
                d.1 = vec![
                    DiskSample {
                        await_ms: Some(8.0),
                        util: 10.0,
                    };
                    10
                ];
            }
        }),
    ),
    (
        "host.disk.utilisation",
        Plant::Host(|f| {
            f.disks[1].1 = vec![
                DiskSample {
                    await_ms: Some(6.0),
                    util: 90.0,
                };
                10
            ];
        }),
    ),
    (
        "host.net.errors",
        Plant::Host(|f| f.nets.push(("eth1".to_owned(), vec![40.0; 20]))),
    ),
    (
        "host.net.retransmits",
        Plant::Host(|f| f.system.iter_mut().for_each(|s| s.tcp_retrans = 30.0)), // 1.5 %
    ),
    (
        "os.thp.enabled",
        Plant::Host(|f| {
            if let Some(thp) = f.os_mut().transparent_hugepages.as_mut() {
                thp.enabled = "always".to_owned();
            }
        }),
    ),
    (
        "os.vm.swappiness",
        Plant::Host(|f| f.set_sysctl("vm.swappiness", "60")),
    ),
    (
        "os.vm.dirty",
        // The 20 % dirty ratio of 256 GiB is 51 GiB.
        Plant::Host(|f| f.host_mut().memory.total_bytes = 256 * GIB),
    ),
    (
        "os.net.somaxconn",
        Plant::Host(|f| f.set_sysctl("net.core.somaxconn", "128")),
    ),
    (
        "os.limits.nofile",
        Plant::Host(|f| {
            f.os_mut().db_processes.push(ProcessLimits {
                pid: 901,
                name: "mariadbd".to_owned(),
                nofile_soft: Some(1024),
                ..ProcessLimits::default()
            });
        }),
    ),
    (
        "os.clock.unsynchronized",
        Plant::Host(|f| f.os_mut().time_sync.synchronized = Some(false)),
    ),
    (
        "os.numa.zone_reclaim",
        Plant::Host(|f| f.set_sysctl("vm.zone_reclaim_mode", "1")),
    ),
    (
        "os.cpu.governor",
        Plant::Host(|f| {
            f.os_mut().cpu_governors =
                [("powersave".to_owned(), 6), ("performance".to_owned(), 2)].into();
        }),
    ),
    (
        "os.hugepages.unused_for_buffers",
        // Needs a database on the host to say whose buffers would use the pages: 4 GiB
        // reserved, and MariaDB runs with `large_pages = OFF`.
        Plant::Mysql(|f| {
            let m = &mut f.host.host_mut().memory;
            m.hugepages_total = Some(2048);
            m.hugepages_free = Some(2048);
            m.hugepage_size_bytes = Some(2 << 20);
        }),
    ),
    // PostgreSQL.
    (
        "pg.memory.shared_buffers_low",
        Plant::Postgres(|pg| pg.set("shared_buffers", "16", Some(1_048_576.0))),
    ),
    (
        "pg.cache.hit_ratio_low",
        Plant::Postgres(|pg| {
            if let Some(end) = pg.facts.end.as_mut() {
                end.databases[0].blks_read = Some(10_000 + 50_000); // 66 %
            }
        }),
    ),
    (
        "pg.temp.spills",
        Plant::Postgres(|pg| {
            if let Some(end) = pg.facts.end.as_mut() {
                end.databases[0].temp_bytes = Some(600 << 20); // 10 MiB/s
                end.databases[0].temp_files = Some(600);
            }
        }),
    ),
    (
        "pg.checkpoints.too_frequent",
        Plant::Postgres(|pg| {
            if let Some(bg) = pg.facts.end.as_mut().and_then(|e| e.bgwriter.as_mut()) {
                bg.checkpoints_req = Some(100); // 50 % requested
            }
        }),
    ),
    (
        "pg.connections.near_max",
        Plant::Postgres(|pg| {
            if let Some(c) = pg.facts.connections.as_mut() {
                c.peak_client_backends = Some(95); // of 97
            }
        }),
    ),
    (
        "pg.sessions.idle_in_transaction",
        Plant::Postgres(|pg| {
            pg.sessions
                .push((3, 102, "idle in transaction (aborted)", 45_000.0, None));
        }),
    ),
    (
        "pg.locks.blocking_chains",
        Plant::Postgres(|pg| {
            pg.sessions.extend([
                (5, 200, "active", 9_000.0, None),
                (5, 201, "active", 8_000.0, Some("200")),
                (5, 202, "active", 7_000.0, Some("200")),
                (5, 203, "active", 1_000.0, Some("201")),
                (6, 201, "active", 9_000.0, Some("200")),
            ]);
        }),
    ),
    (
        "pg.tables.seq_scan_heavy",
        Plant::Postgres(|pg| pg.tables.push(("big", 1_000_000, 0, 120_000_000, 120, 0))),
    ),
    (
        "pg.indexes.unused",
        Plant::Postgres(|pg| pg.indexes.push(("orders_note", 300 << 20, 0, false, None))),
    ),
    (
        "pg.indexes.duplicate",
        Plant::Postgres(|pg| {
            pg.indexes.push((
                "orders_customer2",
                40_000_000,
                0,
                false,
                Some("orders_customer"),
            ));
        }),
    ),
    (
        "pg.vacuum.dead_tuples",
        Plant::Postgres(|pg| pg.tables.push(("queue", 40_000, 60_000, 0, 0, 10))),
    ),
    (
        "pg.security.trust_auth",
        Plant::Postgres(|pg| {
            if let Some(rules) = pg
                .facts
                .security
                .as_mut()
                .and_then(|s| s.hba_rules.as_mut())
            {
                rules.push(PgHbaRule {
                    line_number: Some(3),
                    conn_type: Some("host".to_owned()),
                    address: Some("0.0.0.0".to_owned()),
                    netmask: Some("0.0.0.0".to_owned()),
                    auth_method: Some("trust".to_owned()),
                    ..PgHbaRule::default()
                });
            }
        }),
    ),
    (
        "pg.security.public_schema_create",
        Plant::Postgres(|pg| {
            if let Some(s) = pg.facts.security.as_mut() {
                s.public_schema_create = Some(true);
            }
        }),
    ),
    (
        "pg.logging.slow_query_off",
        Plant::Postgres(|pg| pg.set("log_min_duration_statement", "-1", None)),
    ),
    (
        "pg.extension.pg_stat_statements_missing",
        Plant::Postgres(|pg| pg.facts.pg_stat_statements.preloaded = false),
    ),
    (
        "pg.config.deviates",
        // 1 GiB per sort with 100 connections: far above PGTune's ceiling.
        Plant::Postgres(|pg| pg.set("work_mem", "262144", Some(GIB as f64))),
    ),
    // MySQL and MariaDB.
    (
        "mysql.memory.buffer_pool_small",
        // A 128 MiB pool for 4 GiB of data, and a hit ratio that shows it.
        Plant::Mysql(|f| {
            f.facts[0].settings.innodb_buffer_pool_size_bytes = Some(128 << 20);
            f.set_delta("Innodb_buffer_pool_reads", 6_000);
        }),
    ),
    (
        "mysql.buffer_pool.hit_ratio_low",
        Plant::Mysql(|f| f.set_delta("Innodb_buffer_pool_reads", 60_000)), // 90 %
    ),
    (
        "mysql.tmp.disk_tables",
        Plant::Mysql(|f| f.set_delta("Created_tmp_disk_tables", 80)), // 80 %
    ),
    (
        "mysql.threads.cache_misses",
        Plant::Mysql(|f| f.set_delta("Threads_created", 1200)), // 20/s
    ),
    (
        "mysql.statements.no_index",
        Plant::Mysql(|f| f.statements[0].no_index_used = 40),
    ),
    (
        "mysql.connections.near_max",
        Plant::Mysql(|f| f.facts[0].connections.max_used_connections = Some(490)),
    ),
    (
        "mysql.locks.blocked_sessions",
        Plant::Mysql(|f| {
            for ts in 0..3 {
                f.sessions.push(MySession::blocked(ts, 11, 10));
                f.sessions.push(MySession::blocked(ts, 12, 10));
            }
        }),
    ),
    (
        "mysql.sessions.idle_in_trx",
        Plant::Mysql(|f| f.sessions.push(MySession::idle_in_trx(0, 20, 900_000))),
    ),
    (
        "mysql.tables.no_primary_key",
        Plant::Mysql(|f| f.tables.push(("app", "audit_log", "InnoDB", false))),
    ),
    (
        "mysql.tables.myisam",
        Plant::Mysql(|f| {
            f.tables.push(("app", "legacy", "MyISAM", true));
            if let Some(d) = f.facts[0].data.as_mut() {
                d.myisam_tables = 1;
            }
        }),
    ),
    (
        "mysql.indexes.redundant",
        Plant::Mysql(|f| {
            f.indexes.push((
                "app",
                "orders",
                "by_customer",
                Some("by_customer_date"),
                false,
            ));
        }),
    ),
    (
        "mysql.indexes.unused",
        Plant::Mysql(|f| f.indexes.push(("app", "orders", "by_status", None, true))),
    ),
    (
        "mysql.security.empty_password",
        Plant::Mysql(|f| {
            push_account(
                f,
                Account {
                    empty_password: true,
                    ..account("app", "10.0.0.%", "mysql_native_password")
                },
            );
        }),
    ),
    (
        "mysql.security.anonymous_or_remote_root",
        Plant::Mysql(|f| push_account(f, account("", "localhost", ""))),
    ),
    (
        "mysql.security.weak_accounts",
        Plant::Mysql(|f| {
            push_account(
                f,
                Account {
                    global_privileges: true,
                    ..account("admin", "%", "ed25519")
                },
            );
        }),
    ),
    (
        "mysql.logging.slow_log_off",
        Plant::Mysql(|f| f.facts[0].settings.slow_query_log = Some(false)),
    ),
    (
        "mysql.perf_schema.off",
        Plant::Mysql(|f| f.facts[0].settings.performance_schema = Some(false)),
    ),
    (
        "mysql.config.deviates",
        Plant::Mysql(|f| {
            f.facts[0]
                .variables
                .insert("innodb_flush_method".into(), "fsync".into());
        }),
    ),
    (
        "mysql.memory.peak_over_ram",
        // 8.33 GiB global + 3000 sessions of 2.9 MiB: over the 16 GiB.
        Plant::Mysql(|f| {
            f.facts[0]
                .variables
                .insert("max_connections".into(), "3000".into());
        }),
    ),
    // SQL Server: the plantings of the faulty fixture, one at a time.
    (
        "mssql.memory.max_server_memory",
        Plant::Mssql(|f| f.set_config("max server memory (MB)", 2_147_483_647)),
    ),
    (
        "mssql.cpu.maxdop",
        Plant::Mssql(|f| f.set_config("max degree of parallelism", 0)),
    ),
    (
        "mssql.cpu.cost_threshold_default",
        Plant::Mssql(|f| f.set_config("cost threshold for parallelism", 5)),
    ),
    (
        "mssql.plan_cache.adhoc_bloat",
        Plant::Mssql(|f| f.set_config("optimize for ad hoc workloads", 0)),
    ),
    (
        "mssql.config.scheduling_options",
        Plant::Mssql(|f| f.set_config("lightweight pooling", 1)),
    ),
    (
        "mssql.tempdb.file_count",
        Plant::Mssql(|f| f.facts[0].tempdb_files.retain(|x| x.file_id <= 2)),
    ),
    (
        "mssql.io.file_latency",
        // 2 000 log writes taking 25 ms each.
        Plant::Mssql(|f| f.add_file_io("erp", 2, "LOG", 0, 0, 2000, 50_000)),
    ),
    (
        "mssql.log.vlf_count",
        Plant::Mssql(|f| f.database_mut("erp").vlf_count = Some(12_000)),
    ),
    (
        "mssql.database.auto_shrink",
        Plant::Mssql(|f| f.database_mut("erp").auto_shrink = Some(true)),
    ),
    (
        "mssql.database.auto_close",
        Plant::Mssql(|f| f.database_mut("erp").auto_close = Some(true)),
    ),
    (
        "mssql.database.page_verify",
        Plant::Mssql(|f| f.database_mut("erp").page_verify = Some("NONE".to_owned())),
    ),
    (
        "mssql.backup.missing",
        Plant::Mssql(|f| f.database_mut("model").last_full_backup = None),
    ),
    (
        "mssql.maintenance.checkdb_old",
        Plant::Mssql(|f| {
            let at = f.now() - chrono::Duration::days(20);
            f.database_mut("erp").last_good_checkdb = Some(at);
        }),
    ),
    (
        "mssql.indexes.missing",
        Plant::Mssql(|f| {
            f.missing
                .push(("[customer_id]", Some("[created_at]"), None, 2_000_000.0));
        }),
    ),
    (
        "mssql.indexes.unused_writes",
        Plant::Mssql(|f| {
            f.indexes
                .push(("ix_orders_note", "NONCLUSTERED", false, 0, 2_500_000));
        }),
    ),
    (
        "mssql.locks.blocking",
        Plant::Mssql(|f| {
            for ts in 0..3 {
                f.requests.push(MsRequest::blocked(ts, 61, 55));
            }
        }),
    ),
    (
        "mssql.statements.top_cpu",
        // 30 % of 32 processors over the window.
        Plant::Mssql(|f| {
            f.statements.push(MsStatement {
                query_hash: "0x8F2C1D00AA00BB01",
                query: "SELECT o.id FROM dbo.orders AS o WHERE o.note LIKE @p1",
                calls: 9000,
                total_cpu_ms: 576_000.0,
            });
        }),
    ),
    (
        "mssql.security.sa_enabled",
        Plant::Mssql(|f| {
            if let Some(s) = f.facts[0].security.as_mut() {
                s.sa_enabled = Some(true);
            }
        }),
    ),
    (
        "mssql.security.surface_area",
        Plant::Mssql(|f| f.set_config("xp_cmdshell", 1)),
    ),
    (
        "mssql.security.password_policy",
        Plant::Mssql(|f| {
            if let Some(s) = f.facts[0].security.as_mut() {
                s.logins_without_policy = vec!["erp_app".to_owned()];
            }
        }),
    ),
    // SQL anti-patterns, on a slow log.
    (
        "sql.select_star",
        Plant::Sql(|f| f.push("aaaa000000000001", "SELECT * FROM orders WHERE id = ?")),
    ),
    (
        "sql.like_leading_wildcard",
        Plant::Sql(|f| {
            f.push(
                "aaaa000000000001",
                "SELECT id FROM customers WHERE name LIKE CONCAT(?, ?, ?)",
            );
        }),
    ),
    (
        "sql.function_on_column",
        Plant::Sql(|f| {
            f.push(
                "aaaa000000000001",
                "SELECT id FROM orders WHERE DATE(created_at) = ?",
            );
        }),
    ),
    (
        "sql.or_across_columns",
        Plant::Sql(|f| {
            f.push(
                "aaaa000000000001",
                "SELECT id FROM users WHERE email = ? OR phone = ?",
            );
        }),
    ),
    (
        "sql.not_in_subquery",
        Plant::Sql(|f| {
            f.push(
                "aaaa000000000001",
                "SELECT id FROM a WHERE id NOT IN (SELECT a_id FROM b)",
            );
        }),
    ),
    (
        "sql.order_by_rand",
        Plant::Sql(|f| {
            f.push(
                "aaaa000000000001",
                "SELECT id FROM banners ORDER BY RAND() LIMIT ?",
            );
        }),
    ),
    (
        "sql.large_offset",
        Plant::Sql(|f| {
            f.push(
                "aaaa000000000001",
                "SELECT id FROM t ORDER BY id LIMIT 20 OFFSET 500000",
            );
        }),
    ),
    (
        "sql.update_delete_without_where",
        Plant::Sql(|f| f.push("aaaa000000000001", "DELETE FROM sessions")),
    ),
    (
        "sql.cartesian_join",
        Plant::Sql(|f| f.push("aaaa000000000001", "SELECT a.id FROM a, b WHERE a.x = ?")),
    ),
    (
        "sql.rows_examined_high",
        // 100 calls returning one row each, reading 10 million rows in all.
        Plant::Sql(|f| {
            f.push(
                "aaaa000000000001",
                "SELECT id FROM orders WHERE customer_id = ?",
            );
            if let Some(c) = f.classes.last_mut() {
                c.rows_examined = 10_000_000;
            }
        }),
    ),
    (
        "sql.n_plus_one",
        // 200 000 calls of 0.2 ms each.
        Plant::Sql(|f| {
            f.push("aaaa000000000001", "SELECT name FROM items WHERE id = ?");
            if let Some(c) = f.classes.last_mut() {
                c.calls = 200_000;
                c.mean_s = 0.0002;
            }
        }),
    ),
];

fn account(user: &str, host: &str, plugin: &str) -> Account {
    Account {
        user: user.into(),
        host: host.into(),
        plugin: plugin.into(),
        ..Account::default()
    }
}

fn push_account(f: &mut My, account: Account) {
    if let Some(accounts) = f.facts[0].accounts.as_mut() {
        accounts.push(account);
    }
}

fn assess(snapshot: &Snapshot) -> Assessment {
    crate::assess(snapshot, &Baseline::builtin()).expect("assessment runs")
}

/// Ids listed more than once.
fn repeated<'a>(ids: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut seen = BTreeSet::new();
    ids.into_iter().filter(|id| !seen.insert(*id)).collect()
}

/// What is wrong with the table's ids: repeated, or not those of the code and of the
/// baseline files. That code and baseline agree, and that a baseline id is defined
/// once, `Baseline::builtin` checks at load (tested in `baseline`); that a code id is
/// registered once is checked here.
fn id_problems() -> Vec<String> {
    let mut problems = Vec::new();
    for id in repeated(super::implemented_rule_ids()) {
        problems.push(format!("{id}: registered twice in rules::registry"));
    }
    for id in repeated(TABLE.iter().map(|(id, _)| *id)) {
        problems.push(format!("{id}: listed twice in the coverage table"));
    }
    let table: BTreeSet<&str> = TABLE.iter().map(|(id, _)| *id).collect();
    let baseline = Baseline::builtin();
    let sources: [(&str, BTreeSet<&str>); 2] = [
        ("the code", super::implemented_rule_ids().collect()),
        (
            "the baseline files",
            baseline.rules().iter().map(|r| r.id.as_str()).collect(),
        ),
    ];
    for (source, ids) in &sources {
        for id in ids.difference(&table) {
            problems.push(format!(
                "{id}: in {source} but not in the coverage table (no fault planted for it)"
            ));
        }
        for id in table.difference(ids) {
            problems.push(format!("{id}: in the coverage table but not in {source}"));
        }
    }
    problems
}

/// Why `id` was not evaluated on `snapshot`, if it was not.
fn not_evaluated(id: &str, snapshot: &Snapshot, a: &Assessment) -> Option<String> {
    if !Baseline::builtin().rule(id).is_some_and(|r| r.enabled) {
        return Some("not an enabled rule of the built-in baseline".to_owned());
    }
    if !crate::applies(id, snapshot) {
        return Some("the rule does not concern this snapshot".to_owned());
    }
    a.not_evaluated
        .iter()
        .find(|n| n.rule_id == id)
        .map(|n| format!("missing {}", n.missing))
}

/// The demand, as one test: every rule has a fixture where it fires and one
/// where it stays silent, and the rule ids are unique and all covered.
#[test]
fn every_rule_fires_on_its_fault_and_is_silent_but_evaluated_when_healthy() {
    let mut problems = id_problems();
    let mut healthy: BTreeMap<&str, (Snapshot, Assessment)> = BTreeMap::new();
    for &(id, plant) in TABLE {
        let kind = plant.kind();
        let (snapshot, a) = healthy.entry(kind).or_insert_with(|| {
            let s = plant.snapshot(false);
            let a = assess(&s);
            (s, a)
        });
        if let Some(why) = not_evaluated(id, snapshot, a) {
            problems.push(format!(
                "{id}: not evaluated on the healthy {kind} fixture ({why})"
            ));
        }
        for f in findings_of(a, id) {
            problems.push(format!(
                "{id}: fires on the healthy {kind} fixture ({:?}, subject {:?})",
                f.severity, f.subject
            ));
        }
        let snapshot = plant.snapshot(true);
        let a = assess(&snapshot);
        if findings_of(&a, id).is_empty() {
            let why = not_evaluated(id, &snapshot, &a).unwrap_or_else(|| "evaluated".to_owned());
            problems.push(format!(
                "{id}: silent on its fault in the {kind} fixture ({why})"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) in the coverage of {} rules:\n{}",
        problems.len(),
        TABLE.len(),
        problems.join("\n")
    );
}
