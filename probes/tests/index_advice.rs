//! Missing indexes, end to end on throwaway servers: a table scanned by a filtered
//! query with no index on the filter is collected, assessed and planned; the plan's
//! script creates the index the query's predicates ask for, after which the query
//! uses it, and the rollback drops it again.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use chrono::Utc;
use perfdiag_model::{Plan, PlanStep, Snapshot};
use perfdiag_probes::db::{self, DbOptions, DbOutput, DbTarget, Engine};
use perfdiag_testkit::mariadb::MariaDbServer;
use perfdiag_testkit::postgres::PgServer;

/// Collects around `work`, as `collect --pg/--mysql` would, with every statement kept.
fn collect_around(engine: Engine, url: &str, work: impl FnOnce()) -> Snapshot {
    let target = DbTarget::parse(engine, url).expect("valid url");
    let options = DbOptions {
        statement_timeout: Duration::from_secs(10),
        lock_timeout: Duration::from_secs(1),
        connect_timeout: Duration::from_secs(5),
        top_n: 100,
    };
    let started = Utc::now();
    let mut c = db::connect(&target, &options).expect("connects");
    work();
    c.tick();
    let out: DbOutput = c.finish();
    common::snapshot(out, None, started)
}

fn plan_of(snap: &Snapshot) -> Plan {
    let assessment =
        perfdiag_analyzers::assess(snap, &perfdiag_analyzers::Baseline::builtin()).expect("assess");
    perfdiag_advice::plan(&assessment, snap)
}

fn step<'a>(plan: &'a Plan, id: &str) -> &'a PlanStep {
    plan.steps.iter().find(|s| s.id == id).unwrap_or_else(|| {
        let ids: Vec<&str> = plan.steps.iter().map(|s| s.id.as_str()).collect();
        panic!("{id} not in the plan {ids:?}")
    })
}

/// Runs a script file with a client, as an engineer would; panics with its output
/// when the client fails.
fn run(mut client: Command, script: &str, dir: &Path, name: &str) {
    let file = dir.join(name);
    std::fs::write(&file, script).expect("write script");
    let out = client
        .stdin(std::fs::File::open(&file).expect("script"))
        .output()
        .expect("client runs");
    assert!(
        out.status.success(),
        "{name} failed: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        script
    );
}

#[test]
fn postgres_gets_the_index_its_scanning_query_asks_for() {
    let server = PgServer::start();
    server.psql(
        "CREATE EXTENSION pg_stat_statements;
         CREATE TABLE orders AS
           SELECT g AS id, g % 5000 AS customer_id,
                  (ARRAY['open', 'paid', 'sent'])[g % 3 + 1] AS status,
                  now() - g * interval '1 minute' AS created_at, md5(g::text) AS pad
           FROM generate_series(1, 200000) g;
         ALTER TABLE orders ADD PRIMARY KEY (id);",
    );
    server.psql("VACUUM ANALYZE orders");
    let query = |customer: i32| {
        format!(
            "SELECT id FROM orders WHERE customer_id = {customer} AND status = 'open' \
             ORDER BY created_at DESC LIMIT 5"
        )
    };
    let snap = collect_around(Engine::Postgres, &server.url(), || {
        for i in 0..40 {
            server.psql(&query(i));
        }
    });
    let plan = plan_of(&snap);
    let add = step(&plan, "pg.tables.add_index");
    assert!(!add.template, "{}", add.script.body);
    assert!(
        add.script.body.contains(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_status_created_at_idx \
             ON public.orders (customer_id, status, created_at);"
        ),
        "{}",
        add.script.body
    );

    let dir = tempfile::tempdir().expect("dir");
    let psql = || {
        let mut c = Command::new("psql");
        c.args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &server.url()]);
        c
    };
    let plan_of_query = || server.psql(&format!("EXPLAIN (COSTS OFF) {}", query(7)));
    assert!(plan_of_query().contains("Seq Scan on orders"));
    run(psql(), &add.script.body, dir.path(), "apply.sql");
    let used = plan_of_query();
    assert!(
        used.contains("orders_customer_id_status_created_at_idx"),
        "the query does not use the new index:\n{used}"
    );
    run(psql(), &add.rollback.body, dir.path(), "rollback.sql");
    assert_eq!(
        server.psql(
            "SELECT count(*) FROM pg_indexes WHERE indexname = \
             'orders_customer_id_status_created_at_idx'"
        ),
        "0"
    );
    assert!(plan_of_query().contains("Seq Scan on orders"));
}

#[test]
fn mariadb_gets_the_index_its_full_scans_ask_for() {
    let server = MariaDbServer::builder()
        .option("performance_schema=ON")
        .start()
        .expect("mariadb starts");
    server
        .sql(
            "CREATE DATABASE app;
             USE app;
             CREATE TABLE app.orders (id int PRIMARY KEY, customer_id int, day date, pad char(32));
             INSERT INTO app.orders
               SELECT seq, seq % 500, '2026-01-01' + INTERVAL (seq % 300) DAY, md5(seq)
               FROM seq_1_to_200000;
             ANALYZE TABLE app.orders;",
        )
        .expect("schema");
    let query = |c: i32| {
        format!("SELECT pad FROM app.orders WHERE customer_id = {c} AND day > '2026-03-01'")
    };
    let snap = collect_around(Engine::Mysql, &server.url(), || {
        // Enough full scans to pass the rule's floor of 1 s of statement time.
        for i in 0..150 {
            server.sql(&query(i)).expect("query");
        }
    });
    let plan = plan_of(&snap);
    let add = step(&plan, "mysql.sql.index_full_scans");
    assert!(!add.template, "{}", add.script.body);
    assert!(
        add.script.body.contains(
            "ALTER TABLE `app`.`orders` ADD INDEX orders_customer_id_day_idx \
             (`customer_id`, `day`), ALGORITHM=INPLACE, LOCK=NONE;"
        ),
        "{}",
        add.script.body
    );
    let dir = tempfile::tempdir().expect("dir");
    let explain = || {
        server
            .sql(&format!("EXPLAIN {}", query(7)))
            .expect("explain")
    };
    assert!(explain().contains("ALL"), "{}", explain());
    run(server.client(), &add.script.body, dir.path(), "apply.sql");
    assert!(
        explain().contains("orders_customer_id_day_idx"),
        "{}",
        explain()
    );
    run(
        server.client(),
        &add.rollback.body,
        dir.path(),
        "rollback.sql",
    );
    assert_eq!(
        server
            .sql(
                "SELECT count(*) FROM information_schema.STATISTICS \
                 WHERE INDEX_NAME = 'orders_customer_id_day_idx'"
            )
            .expect("count")
            .trim(),
        "0"
    );
}
