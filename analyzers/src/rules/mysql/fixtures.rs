//! A healthy MariaDB target on the healthy host fixture, which each test bends in one
//! place to make one rule fire or lose its input.

use std::collections::BTreeMap;

use perfdiag_model::facts::MysqlFacts;
use perfdiag_model::facts::mysql::{
    Account, ConnectionFacts, DataSizes, InnodbFacts, MysqlFlavor, MysqlSettings, StatusWindow,
};
use perfdiag_model::{Assessment, Snapshot, Table, col, facts_names, tables};

use crate::Baseline;
use crate::test_support::{Fixture, GIB};

pub const TARGET: &str = "mysql://app@db1:3306/";

/// One sampled session row.
#[derive(Debug, Clone)]
pub struct Session {
    pub ts: i64,
    pub id: i64,
    pub command: &'static str,
    pub trx_age_ms: Option<i64>,
    pub blocked_by: Option<i64>,
}

impl Session {
    pub fn blocked(ts: i64, id: i64, by: i64) -> Self {
        Self {
            ts,
            id,
            command: "Query",
            trx_age_ms: Some(2000),
            blocked_by: Some(by),
        }
    }

    pub fn idle_in_trx(ts: i64, id: i64, age_ms: i64) -> Self {
        Self {
            ts,
            id,
            command: "Sleep",
            trx_age_ms: Some(age_ms),
            blocked_by: None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Statement {
    pub text: &'static str,
    pub calls: i64,
    pub total_ms: f64,
    pub no_index_used: i64,
}

#[derive(Debug, Clone)]
pub struct MyFixture {
    pub host: Fixture,
    pub facts: Vec<MysqlFacts>,
    /// Whether the four MySQL tables are put in the snapshot at all.
    pub with_tables: bool,
    pub sessions: Vec<Session>,
    pub statements: Vec<Statement>,
    /// (schema, table, engine, has primary key)
    pub tables: Vec<(&'static str, &'static str, &'static str, bool)>,
    /// (schema, table, index, redundant with, unused)
    pub indexes: Vec<(
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
        bool,
    )>,
}

impl MyFixture {
    /// MariaDB 10.11 with an 8 GiB buffer pool for 4 GiB of data on a 16 GiB host.
    pub fn healthy() -> Self {
        let deltas: BTreeMap<String, i64> = [
            ("Questions", 60_000),
            ("Com_commit", 6_000),
            ("Com_rollback", 10),
            ("Innodb_buffer_pool_read_requests", 600_000),
            ("Innodb_buffer_pool_reads", 60),
            ("Created_tmp_tables", 100),
            ("Created_tmp_disk_tables", 5),
            ("Threads_created", 6),
            ("Innodb_row_lock_waits", 0),
            ("Innodb_os_log_written", 60 << 20),
            ("Opened_tables", 6),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        // The raw variables the expected-settings rules read (MariaDB 10.11 defaults
        // but for the sizes set above): a 4 GiB redo log holds an hour of 1 MiB/s.
        let variables: BTreeMap<String, String> = [
            ("innodb_buffer_pool_size", "8589934592"),
            ("max_connections", "500"),
            ("key_buffer_size", "134217728"),
            ("tmp_table_size", "67108864"),
            ("max_heap_table_size", "67108864"),
            ("innodb_log_buffer_size", "16777216"),
            ("query_cache_size", "1048576"),
            ("aria_pagecache_buffer_size", "134217728"),
            ("sort_buffer_size", "2097152"),
            ("join_buffer_size", "262144"),
            ("read_buffer_size", "131072"),
            ("read_rnd_buffer_size", "262144"),
            ("thread_stack", "299008"),
            ("innodb_log_file_size", "4294967296"),
            ("table_open_cache", "2000"),
            ("innodb_flush_neighbors", "1"),
            ("innodb_flush_method", "O_DIRECT"),
            ("back_log", "150"),
            ("large_pages", "OFF"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let facts = MysqlFacts {
            target: TARGET.to_owned(),
            variables,
            flavor: Some(MysqlFlavor::Mariadb),
            version: Some("10.11.6-MariaDB-0+deb12u1".to_owned()),
            version_comment: Some("Debian 12".to_owned()),
            uptime_secs: Some(30 * 86_400),
            settings: MysqlSettings {
                innodb_buffer_pool_size_bytes: Some(8 * GIB),
                max_connections: Some(500),
                thread_cache_size: Some(64),
                table_open_cache: Some(2000),
                tmp_table_size_bytes: Some(64 << 20),
                slow_query_log: Some(true),
                long_query_time_secs: Some(1.0),
                performance_schema: Some(true),
                ..MysqlSettings::default()
            },
            window: Some(StatusWindow {
                seconds: 60.0,
                deltas,
            }),
            innodb: InnodbFacts {
                history_list_length: Some(12),
                deadlocks: Some(0),
            },
            connections: ConnectionFacts {
                max_connections: Some(500),
                max_used_connections: Some(120),
                threads_connected: Some(80),
                threads_running: Some(3),
            },
            replication: Some(Vec::new()),
            data: Some(DataSizes {
                innodb_bytes: 4 * GIB,
                total_bytes: 4 * GIB,
                tables: 2,
                myisam_tables: 0,
            }),
            accounts: Some(vec![
                Account {
                    user: "root".to_owned(),
                    host: "localhost".to_owned(),
                    plugin: "mysql_native_password".to_owned(),
                    global_privileges: true,
                    ..Account::default()
                },
                Account {
                    user: "app".to_owned(),
                    host: "10.0.0.%".to_owned(),
                    plugin: "mysql_native_password".to_owned(),
                    ..Account::default()
                },
            ]),
            ..MysqlFacts::default()
        };
        Self {
            host: Fixture::healthy(),
            facts: vec![facts],
            with_tables: true,
            sessions: vec![Session {
                ts: 0,
                id: 7,
                command: "Query",
                trx_age_ms: None,
                blocked_by: None,
            }],
            statements: vec![
                Statement {
                    text: "SELECT * FROM `orders` WHERE `customer_id` = ?",
                    calls: 5000,
                    total_ms: 900.0,
                    no_index_used: 0,
                },
                Statement {
                    text: "SELECT * FROM `settings`",
                    calls: 10,
                    total_ms: 100.0,
                    no_index_used: 10,
                },
            ],
            tables: vec![
                ("app", "orders", "InnoDB", true),
                ("app", "customers", "InnoDB", true),
            ],
            indexes: Vec::new(),
        }
    }

    /// Sets a status delta of the first target's window.
    pub fn set_delta(&mut self, name: &str, value: i64) {
        if let Some(w) = self.facts[0].window.as_mut() {
            w.deltas.insert(name.to_owned(), value);
        }
    }

    pub fn assess(&self) -> Assessment {
        self.assess_with(crate::Options::default())
    }

    /// The assessment with the engineer's options (workload, shared host).
    pub fn assess_with(&self, options: crate::Options) -> Assessment {
        crate::assess_with(&self.snapshot(), &Baseline::builtin(), &options)
            .expect("assessment runs")
    }

    /// The host's snapshot with the MySQL facts and, unless `with_tables` is off, the
    /// four MySQL tables.
    pub fn snapshot(&self) -> Snapshot {
        let mut s = self.host.build();
        s.set_fact(facts_names::MYSQL, &self.facts);
        if self.with_tables {
            let target = |n: usize| col::utf8((0..n).map(|_| Some(TARGET)));
            let ss = &self.sessions;
            s.put_table(
                tables::MYSQL_SESSIONS,
                Table::new()
                    .with("target", target(ss.len()))
                    .with(
                        "ts",
                        col::timestamp(ss.iter().map(|r| Some(r.ts * 1_000_000))),
                    )
                    .with("id", col::i64(ss.iter().map(|r| Some(r.id))))
                    .with("user", col::utf8(ss.iter().map(|_| Some("app"))))
                    .with("host", col::utf8(ss.iter().map(|_| Some("10.0.0.5:41000"))))
                    .with("command", col::utf8(ss.iter().map(|r| Some(r.command))))
                    .with("trx_age_ms", col::i64(ss.iter().map(|r| r.trx_age_ms)))
                    .with("blocked_by", col::i64(ss.iter().map(|r| r.blocked_by)))
                    .with(
                        "lock_wait_ms",
                        col::i64(ss.iter().map(|r| r.blocked_by.map(|_| 1500))),
                    ),
            );
            let st = &self.statements;
            s.put_table(
                tables::MYSQL_STATEMENTS,
                Table::new()
                    .with("target", target(st.len()))
                    .with("schema", col::utf8(st.iter().map(|_| Some("app"))))
                    .with("digest_text", col::utf8(st.iter().map(|r| Some(r.text))))
                    .with("calls", col::i64(st.iter().map(|r| Some(r.calls))))
                    .with("total_ms", col::f64(st.iter().map(|r| Some(r.total_ms))))
                    .with(
                        "no_index_used",
                        col::i64(st.iter().map(|r| Some(r.no_index_used))),
                    ),
            );
            let tb = &self.tables;
            s.put_table(
                tables::MYSQL_TABLES,
                Table::new()
                    .with("target", target(tb.len()))
                    .with("schema", col::utf8(tb.iter().map(|r| Some(r.0))))
                    .with("table", col::utf8(tb.iter().map(|r| Some(r.1))))
                    .with("engine", col::utf8(tb.iter().map(|r| Some(r.2))))
                    .with("has_primary_key", col::bool(tb.iter().map(|r| Some(r.3))))
                    .with(
                        "index_keys",
                        col::utf8(tb.iter().map(|r| Some(if r.3 { "id" } else { "" }))),
                    ),
            );
            let ix = &self.indexes;
            s.put_table(
                tables::MYSQL_INDEXES,
                Table::new()
                    .with("target", target(ix.len()))
                    .with("schema", col::utf8(ix.iter().map(|r| Some(r.0))))
                    .with("table", col::utf8(ix.iter().map(|r| Some(r.1))))
                    .with("index", col::utf8(ix.iter().map(|r| Some(r.2))))
                    .with("redundant_with", col::utf8(ix.iter().map(|r| r.3)))
                    .with("unused", col::bool(ix.iter().map(|r| Some(r.4)))),
            );
        }
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
    let a = MyFixture::healthy().assess();
    let mine: Vec<_> = a
        .findings
        .iter()
        .filter(|f| f.rule_id.starts_with("mysql."))
        .collect();
    assert!(mine.is_empty(), "{mine:#?}");
    let skipped: Vec<_> = a
        .not_evaluated
        .iter()
        .filter(|n| n.rule_id.starts_with("mysql."))
        .collect();
    assert!(skipped.is_empty(), "{skipped:#?}");
}

#[test]
fn without_mysql_facts_no_rule_is_evaluated() {
    let f = MyFixture {
        facts: Vec::new(),
        ..MyFixture::healthy()
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
