//! What one sampling tick costs the database on an instance with 10,000 tables and
//! 200 connections (the target: under 50 ms per tick), and how many queries a
//! 60 s collection at 1 s ticks issues.
//!
//! Run with `cargo bench -p perfdiag-probes --bench pg_tick`. Besides criterion's
//! client-side timing of `tick()`, it prints the server-side execution time of the
//! tick's query as pg_stat_statements measured it, and the query counts of the start
//! readings, 60 ticks and the end readings.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use perfdiag_probes::db::{DbCollector, DbOptions, DbTarget, Engine};
use perfdiag_probes::postgres::PgCollector;
use perfdiag_testkit::postgres::PgServer;

const TABLES: usize = 10_000;
const CONNECTIONS: usize = 200;

fn setup() -> (PgServer, Vec<perfdiag_testkit::postgres::Background>) {
    let pg = PgServer::builder().conf("max_connections = 300").start();
    pg.psql("CREATE EXTENSION pg_stat_statements");
    // In batches: one transaction creating 10,000 tables runs out of lock slots.
    for batch in 0..TABLES / 1000 {
        pg.psql(&format!(
            "DO $$ BEGIN FOR i IN {}..{} LOOP
               EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, v text)', i);
             END LOOP; END $$",
            batch * 1000 + 1,
            batch * 1000 + 1000
        ));
    }
    // 200 client sessions: most idle, some busy, a few idle in a transaction.
    let sessions = (0..CONNECTIONS)
        .map(|i| match i % 10 {
            0 => pg.psql_background("SELECT pg_sleep(600);"),
            1 => pg.psql_background("BEGIN; SELECT count(*) FROM t1;"),
            _ => pg.psql_background("SELECT 1;"),
        })
        .collect();
    std::thread::sleep(Duration::from_secs(2));
    (pg, sessions)
}

fn bench(c: &mut Criterion) {
    let (pg, _sessions) = setup();
    let target = DbTarget::parse(Engine::Postgres, &pg.url()).expect("url");
    let options = DbOptions::default();

    // Query counts of a 60 s collection at 1 s ticks.
    let mut collector = PgCollector::connect(&target, &options).expect("connect");
    let (start_queries, start_time) = collector.query_stats();
    for _ in 0..60 {
        collector.tick();
    }
    let (after_ticks, ticks_time) = collector.query_stats();
    let out = collector.finish_output();
    eprintln!(
        "start readings: {start_queries} queries in {:.1} ms; 60 ticks: {} queries, {:.2} ms per tick (client side); \
         end readings: see records: {:?}",
        start_time.as_secs_f64() * 1e3,
        after_ticks - start_queries,
        (ticks_time - start_time).as_secs_f64() * 1e3 / 60.0,
        out.records
            .iter()
            .map(|r| (r.id.as_str(), r.duration_ms))
            .collect::<Vec<_>>()
    );

    let mut collector = PgCollector::connect(&target, &options).expect("connect");
    pg.psql("SELECT pg_stat_statements_reset()");
    c.bench_function("pg_tick_10k_tables_200_connections", |b| {
        b.iter(|| collector.tick());
    });
    // Server-side execution time of the tick's query, from pg_stat_statements.
    let server = pg.psql(
        "SELECT calls || ' ticks, mean ' || round(mean_exec_time::numeric, 3) || ' ms, max '
                || round(max_exec_time::numeric, 3) || ' ms (server execution time)'
         FROM pg_stat_statements WHERE query LIKE '%pg_blocking_pids%' AND calls > 0
         ORDER BY calls DESC LIMIT 1",
    );
    eprintln!("sessions query on the server: {server}");
    let (queries, spent) = collector.query_stats();
    eprintln!(
        "collector total: {queries} queries, {:.2} ms mean client-side time per query",
        spent.as_secs_f64() * 1e3 / queries.max(1) as f64
    );
    let _ = Box::new(collector).finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(5));
    targets = bench
}
criterion_main!(benches);
