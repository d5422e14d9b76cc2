//! PostgreSQL rules on in-memory snapshots: a healthy target where every rule is
//! evaluated and silent, bent in one place per test to make one rule fire, and inputs
//! removed to show the rule is then not evaluated.

use chrono::{TimeZone, Utc};
use perfdiag_model::facts::PostgresFacts;
use perfdiag_model::facts::postgres::{
    PgCheckpointer, PgConnections, PgCounters, PgDatabaseStats, PgHbaRule, PgSecurity, PgSetting,
    PgStatStatementsState,
};
use perfdiag_model::{Assessment, Severity, Snapshot, Table, col, facts_names, tables};

use crate::test_support::{Fixture, GIB, evidence_number, findings_of, only_finding};
use crate::{Baseline, assess};

const TARGET: &str = "postgres://app@localhost:5432/erp";

fn setting(name: &str, raw: &str, unit: Option<&str>, normalised: Option<f64>) -> PgSetting {
    PgSetting {
        name: name.to_owned(),
        setting: raw.to_owned(),
        unit: unit.map(str::to_owned),
        vartype: "integer".to_owned(),
        source: "configuration file".to_owned(),
        normalised,
        normalised_unit: unit.map(|u| if u.ends_with('B') { "bytes" } else { "ms" }.to_owned()),
        pending_restart: false,
    }
}

fn db_stats(hit: i64, read: i64, temp_bytes: i64) -> PgDatabaseStats {
    PgDatabaseStats {
        datname: "erp".to_owned(),
        blks_hit: Some(hit),
        blks_read: Some(read),
        temp_files: Some(temp_bytes / 1_000_000),
        temp_bytes: Some(temp_bytes),
        ..PgDatabaseStats::default()
    }
}

/// One sampled session: (ts second, pid, state, state age ms, blocked_by).
type Session = (i64, i64, &'static str, f64, Option<&'static str>);
/// One table: (name, live, dead, seq_tup_read_window, seq_scans, idx_scans).
type TableRow = (&'static str, i64, i64, i64, i64, i64);
/// One index: (name, size, scans, unique, duplicate_of).
type IndexRow = (&'static str, i64, i64, bool, Option<&'static str>);

#[derive(Debug, Clone)]
pub(crate) struct Pg {
    pub facts: PostgresFacts,
    pub(crate) sessions: Vec<Session>,
    pub(crate) tables: Vec<TableRow>,
    pub(crate) indexes: Vec<IndexRow>,
}

impl Pg {
    pub fn healthy() -> Self {
        let t0 = Utc
            .with_ymd_and_hms(2026, 11, 2, 9, 0, 0)
            .single()
            .expect("date");
        let counters = |at, hit, read, temp| PgCounters {
            at,
            databases: vec![PgDatabaseStats {
                stats_reset: Some(t0 - chrono::Duration::days(30)),
                ..db_stats(hit, read, temp)
            }],
            bgwriter: Some(PgCheckpointer {
                checkpoints_timed: Some(100),
                checkpoints_req: Some(5),
                ..PgCheckpointer::default()
            }),
            wal: None,
        };
        let facts = PostgresFacts {
            target: TARGET.to_owned(),
            server_version_num: Some(150_004),
            database: Some("erp".to_owned()),
            settings: vec![
                setting(
                    "shared_buffers",
                    "524288",
                    Some("8kB"),
                    Some((4 * GIB) as f64),
                ),
                setting("work_mem", "4096", Some("kB"), Some(4_194_304.0)),
                setting("max_wal_size", "4096", Some("MB"), Some((4 * GIB) as f64)),
                setting(
                    "log_min_duration_statement",
                    "1000",
                    Some("ms"),
                    Some(1000.0),
                ),
                setting("shared_preload_libraries", "pg_stat_statements", None, None),
                setting("max_connections", "100", None, None),
            ],
            pg_stat_statements: PgStatStatementsState {
                installed: true,
                preloaded: true,
                readable: true,
                ..PgStatStatementsState::default()
            },
            start: Some(counters(t0, 1_000_000, 10_000, 0)),
            end: Some(counters(
                t0 + chrono::Duration::seconds(60),
                1_099_000,
                11_000,
                0,
            )),
            connections: Some(PgConnections {
                max_connections: Some(100),
                reserved_connections: Some(3),
                peak_client_backends: Some(20),
                ..PgConnections::default()
            }),
            security: Some(PgSecurity {
                superusers: vec!["postgres".to_owned()],
                public_schema_create: Some(false),
                hba_rules: Some(vec![
                    PgHbaRule {
                        line_number: Some(1),
                        conn_type: Some("local".to_owned()),
                        auth_method: Some("trust".to_owned()),
                        ..PgHbaRule::default()
                    },
                    PgHbaRule {
                        line_number: Some(2),
                        conn_type: Some("host".to_owned()),
                        address: Some("10.0.0.0".to_owned()),
                        netmask: Some("255.0.0.0".to_owned()),
                        auth_method: Some("scram-sha-256".to_owned()),
                        ..PgHbaRule::default()
                    },
                ]),
                ..PgSecurity::default()
            }),
            ..PostgresFacts::default()
        };
        Self {
            facts,
            sessions: vec![
                (1, 100, "active", 5.0, None),
                (2, 101, "idle in transaction", 200.0, None),
            ],
            tables: vec![("orders", 1_000_000, 1_000, 1_000, 1, 500)],
            indexes: vec![
                ("orders_pkey", 50_000_000, 900, true, None),
                ("orders_customer", 40_000_000, 100, false, None),
            ],
        }
    }

    pub fn snapshot(&self) -> Snapshot {
        let mut s = Fixture::healthy().build();
        s.set_fact(facts_names::POSTGRES, &vec![self.facts.clone()]);
        let target = |n: usize| col::utf8(vec![Some(TARGET); n]);
        let ss = &self.sessions;
        s.put_table(
            tables::PG_SESSIONS,
            Table::new()
                .with("target", target(ss.len()))
                .with(
                    "ts",
                    col::timestamp(ss.iter().map(|r| Some(r.0 * 1_000_000))),
                )
                .with("pid", col::i64(ss.iter().map(|r| Some(r.1))))
                .with("state", col::utf8(ss.iter().map(|r| Some(r.2))))
                .with("state_age_ms", col::f64(ss.iter().map(|r| Some(r.3))))
                .with("blocked_by", col::utf8(ss.iter().map(|r| r.4))),
        );
        let ts = &self.tables;
        s.put_table(
            tables::PG_TABLES,
            Table::new()
                .with("target", target(ts.len()))
                .with("schema", col::utf8(ts.iter().map(|_| Some("public"))))
                .with("table", col::utf8(ts.iter().map(|r| Some(r.0))))
                .with("n_live_tup", col::i64(ts.iter().map(|r| Some(r.1))))
                .with("n_dead_tup", col::i64(ts.iter().map(|r| Some(r.2))))
                .with(
                    "seq_tup_read_window",
                    col::i64(ts.iter().map(|r| Some(r.3))),
                )
                .with("seq_scan_window", col::i64(ts.iter().map(|r| Some(r.4))))
                .with("idx_scan_window", col::i64(ts.iter().map(|r| Some(r.5))))
                .with("last_autovacuum", col::timestamp(ts.iter().map(|_| None))),
        );
        let ix = &self.indexes;
        s.put_table(
            tables::PG_INDEXES,
            Table::new()
                .with("target", target(ix.len()))
                .with("schema", col::utf8(ix.iter().map(|_| Some("public"))))
                .with("index", col::utf8(ix.iter().map(|r| Some(r.0))))
                .with("size_bytes", col::i64(ix.iter().map(|r| Some(r.1))))
                .with("idx_scan", col::i64(ix.iter().map(|r| Some(r.2))))
                .with("is_unique", col::bool(ix.iter().map(|r| Some(r.3))))
                .with(
                    "is_primary",
                    col::bool(ix.iter().map(|r| Some(r.0.ends_with("_pkey")))),
                )
                .with("is_valid", col::bool(ix.iter().map(|_| Some(true))))
                .with("duplicate_of", col::utf8(ix.iter().map(|r| r.4))),
        );
        s
    }

    pub fn assess(&self) -> Assessment {
        assess(&self.snapshot(), &Baseline::builtin()).expect("assessment runs")
    }

    pub fn assess_with(&self, options: crate::Options) -> Assessment {
        crate::assess_with(&self.snapshot(), &Baseline::builtin(), &options)
            .expect("assessment runs")
    }

    pub fn set(&mut self, name: &str, raw: &str, normalised: Option<f64>) {
        let s = self
            .facts
            .settings
            .iter_mut()
            .find(|s| s.name == name)
            .expect("setting");
        s.setting = raw.to_owned();
        s.normalised = normalised;
    }
}

fn pg_ids() -> Vec<&'static str> {
    super::RULES.iter().map(|r| r.id).collect()
}

fn not_evaluated(a: &Assessment, id: &str) -> bool {
    a.not_evaluated.iter().any(|n| n.rule_id == id)
}

#[test]
fn healthy_target_is_evaluated_by_every_rule_and_silent() {
    let a = Pg::healthy().assess();
    let pg: Vec<_> = a
        .findings
        .iter()
        .filter(|f| f.rule_id.starts_with("pg."))
        .collect();
    assert!(pg.is_empty(), "{pg:#?}");
    let skipped: Vec<_> = a
        .not_evaluated
        .iter()
        .filter(|n| n.rule_id.starts_with("pg."))
        .collect();
    assert!(skipped.is_empty(), "{skipped:#?}");
    assert_eq!(pg_ids().len(), 16);
}

#[test]
fn without_postgres_facts_no_rule_is_evaluated() {
    // Not asked for: the PostgreSQL rules do not concern the snapshot at all.
    let host_only = crate::test_support::Fixture::healthy().assess();
    assert!(
        host_only
            .not_evaluated
            .iter()
            .all(|n| !n.rule_id.starts_with("pg."))
            && host_only
                .findings
                .iter()
                .all(|f| !f.rule_id.starts_with("pg."))
    );
    // Asked for but not collected (the server was unreachable): every rule says so.
    let mut snapshot = crate::test_support::Fixture::healthy().build();
    snapshot.record_probe(perfdiag_model::ProbeRecord {
        id: "postgres.connect".to_owned(),
        target: Some("postgres://erp@db01/erp".to_owned()),
        status: perfdiag_model::ProbeStatus::Failed,
        duration_ms: 3,
        message: Some("connection refused".to_owned()),
        hint: None,
    });
    let a = crate::assess(&snapshot, &crate::Baseline::builtin()).expect("assessment runs");
    for id in pg_ids() {
        assert!(not_evaluated(&a, id), "{id}");
    }
}

#[test]
fn shared_buffers_low_is_graded_against_the_expected_size_and_needs_a_local_host() {
    let mut pg = Pg::healthy();
    pg.set("shared_buffers", "16", Some(1_048_576.0));
    // The healthy window's hit ratio is 99 %: not enough to accept a small cache.
    let a = pg.assess();
    let f = only_finding(&a, "pg.memory.shared_buffers_low");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.subject.as_deref(), Some(TARGET));
    assert!(evidence_number(f, "pg.settings.shared_buffers_pct_ram") < 0.01);
    // PGTune: a quarter of the 16 GiB.
    assert_eq!(
        evidence_number(f, "pg.expected.shared_buffers"),
        (4 * GIB) as f64
    );
    pg.set("shared_buffers", "131072", Some(GIB as f64)); // 25 % of the expected
    assert_eq!(
        only_finding(&pg.assess(), "pg.memory.shared_buffers_low").severity,
        Severity::Warning
    );
    // A shared host expects 2 GiB: 1 GiB is half of it, above the 40 % warning.
    let shared = pg.assess_with(crate::Options {
        workload: None,
        dedicated: false,
    });
    assert!(findings_of(&shared, "pg.memory.shared_buffers_low").is_empty());
    // A hit ratio of 99.9 % over enough requests accepts the small cache.
    if let Some(end) = pg.facts.end.as_mut() {
        end.databases[0].blks_read = Some(10_000 + 50);
    }
    assert!(findings_of(&pg.assess(), "pg.memory.shared_buffers_low").is_empty());
    pg.facts.target = "postgres://app@db-remote:5432/erp".to_owned();
    assert!(not_evaluated(&pg.assess(), "pg.memory.shared_buffers_low"));
}

#[test]
fn cache_hit_ratio_low_needs_enough_reads() {
    let mut pg = Pg::healthy();
    if let Some(end) = pg.facts.end.as_mut() {
        end.databases[0].blks_read = Some(10_000 + 50_000); // 99k hit, 50k read: 66 %
    }
    let a = pg.assess();
    assert_eq!(
        only_finding(&a, "pg.cache.hit_ratio_low").severity,
        Severity::Critical
    );
    if let Some(end) = pg.facts.end.as_mut() {
        end.databases[0].blks_hit = Some(1_000_010);
        end.databases[0].blks_read = Some(10_100);
    }
    assert!(
        not_evaluated(&pg.assess(), "pg.cache.hit_ratio_low"),
        "110 requests: too few"
    );
    pg.facts.end = None;
    assert!(not_evaluated(&pg.assess(), "pg.cache.hit_ratio_low"));
}

#[test]
fn temp_spills_fire_on_bytes_per_second() {
    let mut pg = Pg::healthy();
    if let Some(end) = pg.facts.end.as_mut() {
        end.databases[0].temp_bytes = Some(600 << 20); // 10 MiB/s over 60 s
        end.databases[0].temp_files = Some(600);
    }
    let a = pg.assess();
    let f = only_finding(&a, "pg.temp.spills");
    assert_eq!(f.severity, Severity::Warning);
    assert!((evidence_number(f, "pg.temp.bytes_per_s") - 10.0 * 1_048_576.0).abs() < 1.0);
    assert_eq!(evidence_number(f, "pg.temp.mean_file_bytes"), 1_048_576.0);
    // 600 temporary files of 1 MiB each: PGTune's global ceiling (18 MiB on this mixed
    // 16 GiB host with 100 connections) already covers them.
    assert_eq!(
        evidence_number(f, "pg.expected.work_mem_for_spills"),
        18.0 * 1_048_576.0
    );
    assert_eq!(
        evidence_number(f, "pg.expected.work_mem_max"),
        18.0 * 1_048_576.0
    );
    // Spills of 300 MiB each need more than the global ceiling: set per role.
    if let Some(end) = pg.facts.end.as_mut() {
        end.databases[0].temp_files = Some(2);
    }
    let a = pg.assess();
    assert_eq!(
        evidence_number(
            only_finding(&a, "pg.temp.spills"),
            "pg.expected.work_mem_for_spills"
        ),
        300.0 * 1_048_576.0
    );
    pg.facts.start = None;
    assert!(not_evaluated(&pg.assess(), "pg.temp.spills"));
}

#[test]
fn checkpoints_too_frequent_uses_the_requested_share() {
    let mut pg = Pg::healthy();
    if let Some(bg) = pg.facts.end.as_mut().and_then(|e| e.bgwriter.as_mut()) {
        bg.checkpoints_req = Some(100); // 50 %: warning (strict > 50 for critical)
    }
    assert_eq!(
        only_finding(&pg.assess(), "pg.checkpoints.too_frequent").severity,
        Severity::Warning
    );
    for c in [pg.facts.start.as_mut(), pg.facts.end.as_mut()]
        .into_iter()
        .flatten()
    {
        c.bgwriter = Some(PgCheckpointer {
            checkpoints_timed: Some(1),
            checkpoints_req: Some(3),
            ..PgCheckpointer::default()
        });
    }
    assert!(
        not_evaluated(&pg.assess(), "pg.checkpoints.too_frequent"),
        "4 checkpoints: too few"
    );
}

#[test]
fn connections_near_max_uses_the_peak() {
    let mut pg = Pg::healthy();
    if let Some(c) = pg.facts.connections.as_mut() {
        c.peak_client_backends = Some(95); // 95 / 97
    }
    assert_eq!(
        only_finding(&pg.assess(), "pg.connections.near_max").severity,
        Severity::Critical
    );
    pg.facts.connections = None;
    assert!(not_evaluated(&pg.assess(), "pg.connections.near_max"));
}

#[test]
fn idle_in_transaction_takes_the_longest_sampled() {
    let mut pg = Pg::healthy();
    pg.sessions
        .push((3, 102, "idle in transaction (aborted)", 45_000.0, None));
    let a = pg.assess();
    let f = only_finding(&a, "pg.sessions.idle_in_transaction");
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(evidence_number(f, "pg.sessions.pid"), 102.0);
    let mut s = pg.snapshot();
    s.put_table(tables::PG_SESSIONS, Table::new());
    let a = assess(&s, &Baseline::builtin()).expect("assess");
    assert!(not_evaluated(&a, "pg.sessions.idle_in_transaction"));
}

#[test]
fn blocking_chains_count_blocked_sessions_and_depth() {
    let mut pg = Pg::healthy();
    pg.sessions.extend([
        (5, 200, "active", 9_000.0, None),
        (5, 201, "active", 8_000.0, Some("200")),
        (5, 202, "active", 7_000.0, Some("200")),
        (5, 203, "active", 1_000.0, Some("201")),
        (6, 201, "active", 9_000.0, Some("200")),
    ]);
    let a = pg.assess();
    let f = only_finding(&a, "pg.locks.blocking_chains");
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(evidence_number(f, "pg.locks.blocked_sessions.max"), 3.0);
    assert_eq!(evidence_number(f, "pg.locks.chain_depth"), 2.0);
    assert!(
        f.evidence
            .iter()
            .any(|e| e.observed == perfdiag_model::Value::text("200"))
    );
    // One blocked session at a time is ordinary lock traffic.
    pg.sessions.truncate(2);
    pg.sessions.push((5, 201, "active", 8_000.0, Some("200")));
    assert!(findings_of(&pg.assess(), "pg.locks.blocking_chains").is_empty());
}

/// The snapshot of `pg` with statements over `big` and the key columns of its indexes.
fn with_statements(pg: &Pg, index_keys: Option<&str>) -> Snapshot {
    let mut s = pg.snapshot();
    let statements = [
        (
            "SELECT * FROM big WHERE val = $1 AND pad > $2",
            9_000.0,
            "1111",
        ),
        ("SELECT * FROM public.big b WHERE b.val = $1", 500.0, "2222"),
        ("SELECT count(*) FROM big", 4_000.0, "3333"),
        ("UPDATE other SET v = $1 WHERE k = $2", 7_000.0, "4444"),
    ];
    s.put_table(
        tables::PG_STATEMENTS,
        Table::new()
            .with("target", col::utf8(statements.iter().map(|_| Some(TARGET))))
            .with("query", col::utf8(statements.iter().map(|s| Some(s.0))))
            .with(
                "total_exec_time_ms",
                col::f64(statements.iter().map(|s| Some(s.1))),
            )
            .with(
                "fingerprint_id",
                col::utf8(statements.iter().map(|s| Some(s.2))),
            )
            .with("calls", col::i64(statements.iter().map(|_| Some(10)))),
    );
    let t = s.table(tables::PG_TABLES).expect("pg_tables").clone();
    let keys = (0..t.rows()).map(|_| index_keys);
    s.put_table(tables::PG_TABLES, t.with("index_keys", col::utf8(keys)));
    s
}

#[test]
fn seq_scan_heavy_names_the_index_the_heaviest_statements_ask_for() {
    let mut pg = Pg::healthy();
    pg.tables.push(("big", 1_000_000, 0, 120_000_000, 120, 0));
    let text = |a: &Assessment, metric: &str| {
        let f = only_finding(a, "pg.tables.seq_scan_heavy");
        f.evidence
            .iter()
            .find(|e| e.metric == metric)
            .map(|e| e.observed.to_string())
    };
    let a = assess(&with_statements(&pg, Some("id")), &Baseline::builtin()).expect("assess");
    assert_eq!(
        text(&a, "pg.index.candidate").as_deref(),
        Some("public.big (val, pad)")
    );
    assert_eq!(
        text(&a, "pg.index.candidate.query").as_deref(),
        Some("class 1111: SELECT * FROM big WHERE val = $1 AND pad > $2")
    );
    // An index leading with `val` exists: no new one, the reason is elsewhere.
    let a = assess(
        &with_statements(&pg, Some("id;val,x")),
        &Baseline::builtin(),
    )
    .expect("assess");
    assert_eq!(text(&a, "pg.index.candidate"), None);
    assert!(
        text(&a, "pg.index.covered_by").is_some_and(|c| c.contains("(val, x)")),
        "{a:#?}"
    );
    // No statements: the finding stands without a candidate.
    assert_eq!(text(&pg.assess(), "pg.index.candidate"), None);
}

#[test]
fn seq_scan_heavy_flags_large_tables_read_sequentially() {
    let mut pg = Pg::healthy();
    pg.tables.push(("big", 1_000_000, 0, 120_000_000, 120, 0)); // 2M rows/s
    pg.tables.push(("small", 5_000, 0, 120_000_000, 24_000, 0)); // too small to matter
    let a = pg.assess();
    let f = only_finding(&a, "pg.tables.seq_scan_heavy");
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(
        f.subject.as_deref(),
        Some(format!("{TARGET} public.big").as_str())
    );
    let mut s = pg.snapshot();
    s.put_table(
        tables::PG_TABLES,
        Table::new().with("target", col::utf8([Some(TARGET)])),
    );
    assert!(not_evaluated(
        &assess(&s, &Baseline::builtin()).expect("assess"),
        "pg.tables.seq_scan_heavy"
    ));
}

#[test]
fn unused_indexes_are_summed_once_statistics_are_old_enough() {
    let mut pg = Pg::healthy();
    pg.indexes.push(("orders_note", 300 << 20, 0, false, None));
    pg.indexes.push(("orders_uk", 300 << 20, 0, true, None)); // unique: enforces a rule
    let a = pg.assess();
    let f = only_finding(&a, "pg.indexes.unused");
    assert_eq!(
        evidence_number(f, "pg.indexes.unused_bytes"),
        (300 << 20) as f64
    );
    for c in [pg.facts.start.as_mut(), pg.facts.end.as_mut()]
        .into_iter()
        .flatten()
    {
        c.databases[0].stats_reset = Some(c.at - chrono::Duration::days(1));
    }
    assert!(not_evaluated(&pg.assess(), "pg.indexes.unused"));
}

#[test]
fn duplicate_indexes_are_listed() {
    let mut pg = Pg::healthy();
    pg.indexes.push((
        "orders_customer2",
        40_000_000,
        0,
        false,
        Some("orders_customer"),
    ));
    let a = pg.assess();
    let f = only_finding(&a, "pg.indexes.duplicate");
    assert_eq!(f.severity, Severity::Warning);
    assert!(f.evidence.iter().any(|e| e.observed
        == perfdiag_model::Value::text("public.orders_customer2 = public.orders_customer")));
    let mut s = pg.snapshot();
    s.put_table(tables::PG_INDEXES, Table::new());
    assert!(not_evaluated(
        &assess(&s, &Baseline::builtin()).expect("assess"),
        "pg.indexes.duplicate"
    ));
}

#[test]
fn dead_tuples_fire_per_table() {
    let mut pg = Pg::healthy();
    pg.tables.push(("queue", 40_000, 60_000, 0, 0, 10));
    let a = pg.assess();
    let f = only_finding(&a, "pg.vacuum.dead_tuples");
    assert_eq!(f.severity, Severity::Critical);
    assert!(
        f.evidence
            .iter()
            .any(|e| e.observed == perfdiag_model::Value::text("never"))
    );
}

#[test]
fn trust_from_the_network_is_critical_and_unread_hba_is_not_evaluated() {
    let mut pg = Pg::healthy();
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
    let a = pg.assess();
    let f = only_finding(&a, "pg.security.trust_auth");
    assert_eq!(f.severity, Severity::Critical);
    assert!(
        f.evidence
            .iter()
            .any(|e| e.observed
                == perfdiag_model::Value::text("line 3: host trust from any address"))
    );
    if let Some(s) = pg.facts.security.as_mut() {
        s.hba_rules = None;
    }
    assert!(not_evaluated(&pg.assess(), "pg.security.trust_auth"));
}

#[test]
fn public_schema_create_fires_when_granted() {
    let mut pg = Pg::healthy();
    if let Some(s) = pg.facts.security.as_mut() {
        s.public_schema_create = Some(true);
    }
    only_finding(&pg.assess(), "pg.security.public_schema_create");
    pg.facts.security = None;
    assert!(not_evaluated(
        &pg.assess(),
        "pg.security.public_schema_create"
    ));
}

#[test]
fn slow_query_logging_off_fires_unless_auto_explain_logs() {
    let mut pg = Pg::healthy();
    pg.set("log_min_duration_statement", "-1", None);
    only_finding(&pg.assess(), "pg.logging.slow_query_off");
    pg.facts.settings.push(setting(
        "auto_explain.log_min_duration",
        "500",
        Some("ms"),
        Some(500.0),
    ));
    assert!(findings_of(&pg.assess(), "pg.logging.slow_query_off").is_empty());
    pg.facts.settings.clear();
    assert!(not_evaluated(&pg.assess(), "pg.logging.slow_query_off"));
}

#[test]
fn pg_stat_statements_missing_fires_when_absent_or_not_preloaded() {
    let mut pg = Pg::healthy();
    pg.facts.pg_stat_statements.preloaded = false;
    let a = pg.assess();
    let f = only_finding(&a, "pg.extension.pg_stat_statements_missing");
    assert_eq!(
        f.evidence[0].observed,
        perfdiag_model::Value::text("not preloaded")
    );
    pg.facts.settings.clear();
    assert!(not_evaluated(
        &pg.assess(),
        "pg.extension.pg_stat_statements_missing"
    ));
}

#[test]
fn url_hosts_are_parsed_for_locality() {
    assert_eq!(super::url_host("postgres://u@db1:5432/x"), "db1");
    assert_eq!(super::url_host("postgres://db1/x?sslmode=require"), "db1");
    assert_eq!(super::url_host("postgres://u@[::1]:5432/x"), "[::1]");
    assert_eq!(super::url_host("postgres:///x"), "");
}

#[test]
fn config_deviates_lists_settings_far_from_pgtune() {
    let mut pg = Pg::healthy();
    pg.facts.settings.extend([
        setting(
            "effective_cache_size",
            "524288",
            Some("8kB"),
            Some((4 * GIB) as f64),
        ),
        setting(
            "maintenance_work_mem",
            "65536",
            Some("kB"),
            Some(64.0 * 1_048_576.0),
        ),
        setting("default_statistics_target", "100", None, None),
    ]);
    pg.set("work_mem", "262144", Some(GIB as f64)); // 1 GiB per sort, 100 connections
    pg.set("max_wal_size", "1024", Some(GIB as f64));
    let a = pg.assess();
    let f = only_finding(&a, "pg.config.deviates");
    // work_mem is 56 times its ceiling and not a minor setting: critical.
    assert_eq!(f.severity, Severity::Critical);
    assert_eq!(f.subject.as_deref(), Some(TARGET));
    let listed: Vec<&str> = f
        .evidence
        .iter()
        .filter(|e| e.threshold.is_some())
        .map(|e| e.metric.as_str())
        .collect();
    assert_eq!(
        listed,
        [
            "pg.settings.effective_cache_size",
            "pg.settings.maintenance_work_mem",
            "pg.settings.work_mem",
            "pg.settings.max_wal_size",
        ]
    );
    assert_eq!(
        evidence_number(f, "pg.expected.effective_cache_size"),
        (12 * GIB) as f64
    );
    assert_eq!(
        crate::test_support::evidence_threshold(f, "pg.settings.work_mem").as_deref(),
        Some("> 18874368 bytes")
    );
    assert_eq!(
        f.evidence
            .iter()
            .find(|e| e.metric == "pg.expected.max_wal_size.formula")
            .map(|e| e.observed.clone()),
        Some(perfdiag_model::Value::text("pgtune.max_wal_size"))
    );
    assert_eq!(
        evidence_number(f, "host.memory.total_bytes"),
        (16 * GIB) as f64
    );
    // The minor settings alone make a warning; OLAP wants statistics target 500.
    let mut pg = Pg::healthy();
    pg.facts
        .settings
        .push(setting("default_statistics_target", "100", None, None));
    assert!(findings_of(&pg.assess(), "pg.config.deviates").is_empty());
    let olap = pg.assess_with(crate::Options {
        workload: Some(perfdiag_model::Workload::Olap),
        dedicated: true,
    });
    let f = only_finding(&olap, "pg.config.deviates");
    assert_eq!(f.severity, Severity::Warning);
    assert_eq!(
        evidence_number(f, "pg.expected.default_statistics_target"),
        500.0
    );
    pg.facts.settings.clear();
    assert!(not_evaluated(&pg.assess(), "pg.config.deviates"));
}

#[test]
fn max_wal_size_is_sized_from_the_measured_wal_rate() {
    use perfdiag_model::facts::postgres::PgWal;
    let mut pg = Pg::healthy();
    pg.facts.settings.push(setting(
        "checkpoint_timeout",
        "300",
        Some("s"),
        Some(300_000.0),
    ));
    // 60 MiB/s for 60 s: two 5-minute cycles are 35.2 GiB -> 36 GiB.
    for (c, bytes) in [
        (pg.facts.start.as_mut(), 0.0),
        (pg.facts.end.as_mut(), 3600.0 * 1_048_576.0),
    ] {
        if let Some(c) = c {
            c.wal = Some(PgWal {
                wal_bytes: Some(bytes),
                ..PgWal::default()
            });
        }
    }
    let a = pg.assess();
    let f = only_finding(&a, "pg.config.deviates");
    assert_eq!(f.severity, Severity::Critical, "4 GiB is 9 times too small");
    assert_eq!(
        evidence_number(f, "pg.expected.max_wal_size"),
        (36 * GIB) as f64
    );
    assert_eq!(evidence_number(f, "pg.wal.bytes_per_s"), 60.0 * 1_048_576.0);
}
