//! A healthy SQL Server target, which each test bends in one place to make one rule
//! fire or lose its input, and a faulty one where every SQL Server rule fires.
//!
//! The healthy server is a SQL Server 2019 Enterprise on Windows, 32 logical
//! processors on two NUMA nodes, 64 GiB of RAM, set up as the guidance says; it is
//! collected from the engineer's machine (`db1`), so its hardware is its own view.

use chrono::{DateTime, Duration, TimeZone, Utc};
use perfdiag_model::facts::MssqlFacts;
use perfdiag_model::facts::mssql::{
    MssqlConfiguration, MssqlCounters, MssqlDatabase, MssqlDatabaseFile, MssqlFileIo, MssqlMemory,
    MssqlPlanCache, MssqlSecurity, MssqlSystem,
};
use perfdiag_model::{Assessment, ProbeRecord, Snapshot, Table, col, facts_names, tables};

use crate::Baseline;
use crate::test_support::{Fixture, GIB};

pub const TARGET: &str = "mssql://perfdiag@sql1:1433/erp";

/// One sampled request of `sys.dm_exec_requests`.
#[derive(Debug, Clone)]
pub struct Request {
    pub ts: i64,
    pub session_id: i64,
    pub status: &'static str,
    pub wait_type: Option<&'static str>,
    pub wait_class: Option<&'static str>,
    pub blocking_session_id: i64,
    pub wait_time_ms: i64,
}

impl Request {
    pub fn running(ts: i64, session_id: i64) -> Self {
        Self {
            ts,
            session_id,
            status: "running",
            wait_type: None,
            wait_class: None,
            blocking_session_id: 0,
            wait_time_ms: 0,
        }
    }

    /// A request waiting 4 s on a row lock held by `by`.
    pub fn blocked(ts: i64, session_id: i64, by: i64) -> Self {
        Self {
            ts,
            session_id,
            status: "suspended",
            wait_type: Some("LCK_M_U"),
            wait_class: Some("Lock"),
            blocking_session_id: by,
            wait_time_ms: 4000,
        }
    }
}

/// One row of `mssql_statements` measured over the window.
#[derive(Debug, Clone)]
pub struct Statement {
    pub query_hash: &'static str,
    pub query: &'static str,
    pub calls: i64,
    pub total_cpu_ms: f64,
}

/// (equality, inequality, included columns, improvement) on `dbo.orders` of `erp`.
pub type Missing = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    f64,
);

/// (index, type_desc, unique, reads, writes) on `dbo.orders` of `erp`.
pub type IndexRow = (&'static str, &'static str, bool, i64, i64);

#[derive(Debug, Clone)]
pub struct MsFixture {
    pub host: Fixture,
    pub facts: Vec<MssqlFacts>,
    /// Whether the four SQL Server tables are put in the snapshot at all.
    pub with_tables: bool,
    pub requests: Vec<Request>,
    pub statements: Vec<Statement>,
    pub missing: Vec<Missing>,
    pub indexes: Vec<IndexRow>,
    /// Probe records added to the manifest.
    pub probes: Vec<ProbeRecord>,
}

fn config(name: &str, value: i64) -> MssqlConfiguration {
    MssqlConfiguration {
        name: name.to_owned(),
        value,
        value_in_use: value,
        minimum: Some(0),
        maximum: Some(2_147_483_647),
        is_dynamic: !["priority boost", "lightweight pooling"].contains(&name),
        is_advanced: true,
    }
}

fn file_io(database: &str, file_id: i64, kind: &str, reads: i64, stall: i64) -> MssqlFileIo {
    let log = kind == "LOG";
    MssqlFileIo {
        database: database.to_owned(),
        file_id,
        file: format!("{database}_{}", if log { "log" } else { "data" }),
        type_desc: kind.to_owned(),
        reads: if log { 10 } else { reads },
        read_stall_ms: if log { 10 } else { stall },
        writes: if log { reads } else { 100 },
        write_stall_ms: if log { stall } else { 300 },
        ..MssqlFileIo::default()
    }
}

impl MsFixture {
    /// The window's start: the host fixture's.
    pub fn start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0)
            .single()
            .expect("valid date")
    }

    /// The window's end, when the counters were read the second time.
    pub fn now(&self) -> DateTime<Utc> {
        Self::start() + Duration::seconds(60)
    }

    pub fn healthy() -> Self {
        let t0 = Self::start();
        let end = t0 + Duration::seconds(60);
        let database = |name: &str, id: i64, model: &str| MssqlDatabase {
            name: name.to_owned(),
            database_id: id,
            state: Some("ONLINE".to_owned()),
            recovery_model: Some(model.to_owned()),
            compatibility_level: Some(150),
            page_verify: Some("CHECKSUM".to_owned()),
            auto_shrink: Some(false),
            auto_close: Some(false),
            auto_create_stats: Some(true),
            auto_update_stats: Some(true),
            read_committed_snapshot: Some(false),
            snapshot_isolation: Some(false),
            is_read_only: Some(false),
            data_bytes: Some(if id > 4 { 200 * GIB as i64 } else { 64 << 20 }),
            log_bytes: Some(if id > 4 { 16 * GIB as i64 } else { 8 << 20 }),
            vlf_count: Some(if id > 4 { 120 } else { 8 }),
            log_reuse_wait: Some("NOTHING".to_owned()),
            last_full_backup: (id != 2).then(|| t0 - Duration::hours(20)),
            last_diff_backup: None,
            last_log_backup: (model == "FULL").then(|| t0 - Duration::minutes(10)),
            last_good_checkdb: Some(t0 - Duration::days(3)),
            query_store: None,
        };
        let counters = |at, reads: i64, stall: i64| MssqlCounters {
            at,
            waits: Vec::new(),
            files: vec![
                file_io("erp", 1, "ROWS", reads, stall),
                file_io("erp", 2, "LOG", reads, stall / 4),
                file_io("tempdb", 1, "ROWS", reads / 10, stall / 10),
            ],
            counters: Vec::new(),
        };
        let facts = MssqlFacts {
            target: TARGET.to_owned(),
            version: Some(
                "Microsoft SQL Server 2019 (RTM-CU22) (KB5027702) - 15.0.4322.2 (X64)".to_owned(),
            ),
            product_version: Some("15.0.4322.2".to_owned()),
            product_level: Some("RTM".to_owned()),
            product_update_level: Some("CU22".to_owned()),
            edition: Some("Enterprise Edition: Core-based Licensing (64-bit)".to_owned()),
            engine_edition: Some(3),
            host_platform: Some("Windows".to_owned()),
            server_name: Some("SQL1".to_owned()),
            login: Some("perfdiag".to_owned()),
            database: Some("erp".to_owned()),
            is_sysadmin: Some(false),
            has_view_server_state: Some(true),
            has_view_any_definition: Some(true),
            started_at: Some(t0 - Duration::days(40)),
            uptime_secs: Some(40.0 * 86_400.0),
            system: Some(MssqlSystem {
                cpu_count: Some(32),
                hyperthread_ratio: Some(16),
                socket_count: Some(2),
                cores_per_socket: Some(8),
                numa_node_count: Some(2),
                scheduler_count: Some(32),
                physical_memory_bytes: Some(64 * GIB as i64),
                committed_bytes: Some(50 * GIB as i64),
                committed_target_bytes: Some(54 * GIB as i64),
                max_workers_count: Some(960),
                virtual_machine_type: Some("NONE".to_owned()),
            }),
            configurations: vec![
                config("max server memory (MB)", 55_296),
                config("min server memory (MB)", 0),
                config("max degree of parallelism", 8),
                config("cost threshold for parallelism", 50),
                config("optimize for ad hoc workloads", 1),
                config("priority boost", 0),
                config("lightweight pooling", 0),
                config("xp_cmdshell", 0),
                config("Ole Automation Procedures", 0),
                config("clr enabled", 0),
                config("clr strict security", 1),
                config("Ad Hoc Distributed Queries", 0),
                config("show advanced options", 0),
            ],
            memory: Some(MssqlMemory {
                total_server_bytes: Some(54 * GIB as i64),
                target_server_bytes: Some(54 * GIB as i64),
                page_life_expectancy_s: Some(5400),
                memory_grants_pending: Some(0),
                ..MssqlMemory::default()
            }),
            plan_cache: Some(MssqlPlanCache {
                plans: 20_000,
                bytes: 4 * GIB as i64,
                single_use_adhoc_plans: 60_000,
                single_use_adhoc_bytes: 3 * GIB as i64,
            }),
            databases: vec![
                database("master", 1, "SIMPLE"),
                database("tempdb", 2, "SIMPLE"),
                database("model", 3, "FULL"),
                database("msdb", 4, "SIMPLE"),
                database("erp", 5, "FULL"),
            ],
            tempdb_files: (1..=9)
                .map(|i| MssqlDatabaseFile {
                    file_id: i,
                    name: if i == 2 {
                        "templog".to_owned()
                    } else {
                        format!("tempdev{i}")
                    },
                    type_desc: if i == 2 { "LOG" } else { "ROWS" }.to_owned(),
                    physical_name: Some(format!("T:\\tempdb\\tempdev{i}.ndf")),
                    size_bytes: Some(8 * GIB as i64),
                    growth_bytes: Some(512 << 20),
                    growth_pct: None,
                })
                .collect(),
            start: Some(counters(t0, 1_000_000, 2_000_000)),
            // 60 000 reads in 60 s at 2 ms each; log writes at 0.5 ms.
            end: Some(counters(end, 1_060_000, 2_120_000)),
            security: Some(MssqlSecurity {
                sa_enabled: Some(false),
                sa_name: Some("sa".to_owned()),
                sysadmins: vec!["CORP\\dba".to_owned()],
                logins_without_policy: Vec::new(),
                logins_without_expiration: vec!["erp_app".to_owned()],
                windows_auth_only: Some(false),
                logins_visible: Some(true),
            }),
        };
        Self {
            host: Fixture::healthy(),
            facts: vec![facts],
            with_tables: true,
            requests: vec![Request::running(0, 55), Request::running(1, 55)],
            statements: vec![Statement {
                query_hash: "0x1A2B3C4D5E6F7081",
                query: "SELECT o.id, o.total FROM dbo.orders AS o WHERE o.customer_id = @p1",
                calls: 5_000,
                total_cpu_ms: 19_200.0, // 1 % of 32 processors for 60 s
            }],
            missing: vec![("[status]", None, None, 1_200.0)],
            indexes: vec![
                ("PK_orders", "CLUSTERED", true, 90_000, 40_000),
                ("ix_orders_customer", "NONCLUSTERED", false, 50_000, 40_000),
            ],
            probes: Vec::new(),
        }
    }

    /// Every SQL Server rule fires: the server as installed with defaults, left alone
    /// for years.
    pub fn faulty() -> Self {
        let mut f = Self::healthy();
        f.set_config("max server memory (MB)", 2_147_483_647);
        f.set_config("max degree of parallelism", 0);
        f.set_config("cost threshold for parallelism", 5);
        f.set_config("optimize for ad hoc workloads", 0);
        f.set_config("xp_cmdshell", 1);
        f.facts[0].tempdb_files.retain(|x| x.file_id <= 2);
        f.add_file_io("erp", 2, "LOG", 0, 0, 2000, 50_000);
        let erp = f.database_mut("erp");
        erp.auto_shrink = Some(true);
        erp.page_verify = Some("TORN_PAGE_DETECTION".to_owned());
        erp.vlf_count = Some(12_000);
        erp.last_log_backup = None;
        erp.auto_close = Some(true);
        erp.last_good_checkdb = None;
        f.database_mut("model").last_full_backup = None;
        if let Some(c) = f.facts[0]
            .configurations
            .iter_mut()
            .find(|c| c.name == "priority boost")
        {
            c.value = 1;
        }
        if let Some(s) = f.facts[0].security.as_mut() {
            s.sa_enabled = Some(true);
            s.logins_without_policy = vec!["erp_app".to_owned()];
        }
        f.missing.push((
            "[customer_id]",
            Some("[created_at]"),
            Some("[total]"),
            2_000_000.0,
        ));
        f.missing
            .push(("[customer_id]", None, Some("[status]"), 500_000.0));
        f.indexes
            .push(("ix_orders_note", "NONCLUSTERED", false, 0, 2_500_000));
        for ts in 0..3 {
            f.requests.push(Request::blocked(ts, 61, 55));
            f.requests.push(Request::blocked(ts, 62, 61));
        }
        f.statements.push(Statement {
            query_hash: "0x8F2C1D00AA00BB01",
            query: "SELECT o.id, o.total FROM dbo.orders AS o WHERE o.note LIKE @p1",
            calls: 9000,
            total_cpu_ms: 576_000.0,
        });
        f
    }

    /// Sets a configuration option (value and value in use), adding it if absent.
    pub fn set_config(&mut self, name: &str, value: i64) {
        let all = &mut self.facts[0].configurations;
        match all.iter_mut().find(|c| c.name == name) {
            Some(c) => {
                c.value = value;
                c.value_in_use = value;
            }
            None => all.push(config(name, value)),
        }
    }

    pub fn database_mut(&mut self, name: &str) -> &mut MssqlDatabase {
        self.facts[0]
            .databases
            .iter_mut()
            .find(|d| d.name == name)
            .expect("a database of the fixture")
    }

    /// Sets the I/O of a file over the window: reads and writes with their stalls
    /// (the end counters become the start's plus these).
    #[allow(clippy::too_many_arguments)]
    pub fn add_file_io(
        &mut self,
        database: &str,
        file_id: i64,
        kind: &str,
        reads: i64,
        read_stall_ms: i64,
        writes: i64,
        write_stall_ms: i64,
    ) {
        let facts = &mut self.facts[0];
        let find = |c: &Option<MssqlCounters>| -> Option<MssqlFileIo> {
            c.as_ref()?
                .files
                .iter()
                .find(|f| f.database == database && f.file_id == file_id && f.type_desc == kind)
                .cloned()
        };
        let Some(start) = find(&facts.start) else {
            return;
        };
        if let Some(end) = facts.end.as_mut()
            && let Some(f) = end
                .files
                .iter_mut()
                .find(|f| f.database == database && f.file_id == file_id && f.type_desc == kind)
        {
            f.reads = start.reads + reads;
            f.read_stall_ms = start.read_stall_ms + read_stall_ms;
            f.writes = start.writes + writes;
            f.write_stall_ms = start.write_stall_ms + write_stall_ms;
        }
    }

    pub fn assess(&self) -> Assessment {
        self.assess_with(crate::Options::default())
    }

    pub fn assess_with(&self, options: crate::Options) -> Assessment {
        crate::assess_with(&self.snapshot(), &Baseline::builtin(), &options)
            .expect("assessment runs")
    }

    /// The host's snapshot with the SQL Server facts and, unless `with_tables` is off,
    /// the four SQL Server tables.
    pub fn snapshot(&self) -> Snapshot {
        let mut s = self.host.build();
        s.set_fact(facts_names::MSSQL, &self.facts);
        for p in &self.probes {
            s.record_probe(p.clone());
        }
        if !self.with_tables {
            return s;
        }
        let target = |n: usize| col::utf8((0..n).map(|_| Some(TARGET)));
        let start_us = Self::start().timestamp_micros();
        let rq = &self.requests;
        s.put_table(
            tables::MSSQL_SESSIONS,
            Table::new()
                .with(
                    "ts",
                    col::timestamp(rq.iter().map(|r| Some(start_us + (r.ts + 1) * 1_000_000))),
                )
                .with("target", target(rq.len()))
                .with(
                    "session_id",
                    col::i64(rq.iter().map(|r| Some(r.session_id))),
                )
                .with("database", col::utf8(rq.iter().map(|_| Some("erp"))))
                .with("login", col::utf8(rq.iter().map(|_| Some("erp_app"))))
                .with("status", col::utf8(rq.iter().map(|r| Some(r.status))))
                .with("command", col::utf8(rq.iter().map(|_| Some("SELECT"))))
                .with("wait_type", col::utf8(rq.iter().map(|r| r.wait_type)))
                .with("wait_class", col::utf8(rq.iter().map(|r| r.wait_class)))
                .with(
                    "wait_time_ms",
                    col::i64(rq.iter().map(|r| Some(r.wait_time_ms))),
                )
                .with(
                    "wait_resource",
                    col::utf8(rq.iter().map(|r| {
                        (r.blocking_session_id > 0)
                            .then_some("KEY: 5:72057594043170816 (8194443284a0)")
                    })),
                )
                .with(
                    "blocking_session_id",
                    col::i64(rq.iter().map(|r| Some(r.blocking_session_id))),
                ),
        );
        let st = &self.statements;
        s.put_table(
            tables::MSSQL_STATEMENTS,
            Table::new()
                .with("target", target(st.len()))
                .with(
                    "query_hash",
                    col::utf8(st.iter().map(|r| Some(r.query_hash))),
                )
                .with(
                    "fingerprint_id",
                    col::utf8(
                        st.iter()
                            .map(|r| Some(r.query_hash.trim_start_matches("0x"))),
                    ),
                )
                .with("database", col::utf8(st.iter().map(|_| Some("erp"))))
                .with("query", col::utf8(st.iter().map(|r| Some(r.query))))
                .with("calls", col::i64(st.iter().map(|r| Some(r.calls))))
                .with(
                    "total_ms",
                    col::f64(st.iter().map(|r| Some(r.total_cpu_ms * 1.5))),
                )
                .with(
                    "total_cpu_ms",
                    col::f64(st.iter().map(|r| Some(r.total_cpu_ms))),
                )
                .with(
                    "logical_reads",
                    col::i64(st.iter().map(|r| Some(r.calls * 40))),
                )
                .with("over_window", col::bool(st.iter().map(|_| Some(true))))
                .with(
                    "cached_at",
                    col::timestamp(st.iter().map(|_| Some(start_us - 3_600_000_000))),
                ),
        );
        let mi = &self.missing;
        let on_orders = |n: usize, v: &'static str| col::utf8((0..n).map(move |_| Some(v)));
        s.put_table(
            tables::MSSQL_MISSING_INDEXES,
            Table::new()
                .with("target", target(mi.len()))
                .with("database", on_orders(mi.len(), "erp"))
                .with("schema", on_orders(mi.len(), "dbo"))
                .with("table", on_orders(mi.len(), "orders"))
                .with("equality_columns", col::utf8(mi.iter().map(|m| Some(m.0))))
                .with("inequality_columns", col::utf8(mi.iter().map(|m| m.1)))
                .with("included_columns", col::utf8(mi.iter().map(|m| m.2)))
                .with("user_seeks", col::i64(mi.iter().map(|_| Some(10_000))))
                .with("user_scans", col::i64(mi.iter().map(|_| Some(0))))
                .with(
                    "avg_total_user_cost",
                    col::f64(mi.iter().map(|m| Some(m.3 / 10_000.0 / 90.0))),
                )
                .with("avg_user_impact", col::f64(mi.iter().map(|_| Some(90.0))))
                .with("improvement", col::f64(mi.iter().map(|m| Some(m.3)))),
        );
        let ix = &self.indexes;
        s.put_table(
            tables::MSSQL_INDEXES,
            Table::new()
                .with("target", target(ix.len()))
                .with("database", on_orders(ix.len(), "erp"))
                .with("schema", on_orders(ix.len(), "dbo"))
                .with("table", on_orders(ix.len(), "orders"))
                .with("index", col::utf8(ix.iter().map(|r| Some(r.0))))
                .with("type_desc", col::utf8(ix.iter().map(|r| Some(r.1))))
                .with("is_unique", col::bool(ix.iter().map(|r| Some(r.2))))
                .with(
                    "is_primary_key",
                    col::bool(ix.iter().map(|r| Some(r.0.starts_with("PK_")))),
                )
                .with(
                    "key_columns",
                    col::utf8(ix.iter().map(|_| Some("customer_id"))),
                )
                .with("user_seeks", col::i64(ix.iter().map(|r| Some(r.3))))
                .with("user_scans", col::i64(ix.iter().map(|_| Some(0))))
                .with("user_lookups", col::i64(ix.iter().map(|_| Some(0))))
                .with("user_updates", col::i64(ix.iter().map(|r| Some(r.4))))
                .with("size_bytes", col::i64(ix.iter().map(|_| Some(GIB as i64))))
                .with("rows", col::i64(ix.iter().map(|_| Some(40_000_000)))),
        );
        s
    }

    /// Asserts `rule` was not evaluated, with a reason containing `missing`.
    pub fn assert_not_evaluated(&self, rule: &str, missing: &str) {
        let a = self.assess();
        assert!(
            a.not_evaluated
                .iter()
                .any(|n| n.rule_id == rule && n.missing.contains(missing)),
            "{rule} should be not evaluated for `{missing}`: {:#?}",
            a.not_evaluated
        );
        assert!(a.findings.iter().all(|f| f.rule_id != rule));
    }
}

#[test]
fn healthy_target_is_fully_evaluated_and_silent() {
    let a = MsFixture::healthy().assess();
    let mine: Vec<_> = a
        .findings
        .iter()
        .filter(|f| f.rule_id.starts_with("mssql."))
        .collect();
    assert!(mine.is_empty(), "{mine:#?}");
    let skipped: Vec<_> = a
        .not_evaluated
        .iter()
        .filter(|n| n.rule_id.starts_with("mssql."))
        .collect();
    assert!(skipped.is_empty(), "{skipped:#?}");
}

#[test]
fn the_faulty_server_fires_every_rule() {
    let a = MsFixture::faulty().assess();
    for def in super::RULES {
        assert!(
            a.findings.iter().any(|f| f.rule_id == def.id),
            "{} silent on the faulty server: {:#?}",
            def.id,
            a.not_evaluated
        );
    }
}

#[test]
fn without_mssql_facts_no_rule_is_evaluated() {
    let f = MsFixture {
        facts: Vec::new(),
        ..MsFixture::healthy()
    };
    let a = f.assess();
    for def in super::RULES {
        assert!(
            a.not_evaluated.iter().any(|n| n.rule_id == def.id),
            "{} evaluated without a target",
            def.id
        );
    }
}
