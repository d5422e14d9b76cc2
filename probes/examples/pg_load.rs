//! The database time one sampling tick costs on an instance with 10,000 tables and
//! 200 connections, and the queries a 60 s collection issues. A measurement, not a
//! timed assertion: it prints its numbers. Building the instance takes about a minute:
//! `cargo run -p perfdiag-probes --example pg_load`.
//! The criterion version is `benches/pg_tick.rs`.

use perfdiag_probes::db::{DbCollector, DbOptions, DbTarget, Engine};
use perfdiag_probes::postgres::PgCollector;
use perfdiag_testkit::postgres::PgServer;

const TABLES: usize = 10_000;
const CONNECTIONS: usize = 200;
const TICKS: usize = 60;

fn main() {
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
    let _sessions: Vec<_> = (0..CONNECTIONS)
        .map(|i| match i % 10 {
            0 => pg.psql_background("SELECT pg_sleep(600);"),
            1 => pg.psql_background("BEGIN; SELECT count(*) FROM t1;"),
            _ => pg.psql_background("SELECT 1;"),
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_secs(3));
    assert!(
        pg.psql("SELECT count(*) FROM pg_stat_activity")
            .parse::<usize>()
            .unwrap_or(0)
            >= CONNECTIONS
    );

    let target = DbTarget::parse(Engine::Postgres, &pg.url()).expect("url");
    let mut c = PgCollector::connect(&target, &DbOptions::default()).expect("connect");
    let (start_queries, start_time) = c.query_stats();
    pg.psql("SELECT pg_stat_statements_reset()");
    for _ in 0..TICKS {
        c.tick();
    }
    let (after_ticks, ticks_time) = c.query_stats();
    let server = pg.psql(
        "SELECT calls || ' calls, mean ' || round(mean_exec_time::numeric, 3) || ' ms, max '
                || round(max_exec_time::numeric, 3) || ' ms, rows/call ' || rows / calls
         FROM pg_stat_statements WHERE query LIKE '%pg_blocking_pids%' AND calls > 0
         ORDER BY calls DESC LIMIT 1",
    );
    let out = Box::new(c).finish();
    let end_ms: u64 = out
        .records
        .iter()
        .filter(|r| r.id != "postgres.sessions")
        .map(|r| r.duration_ms)
        .sum();
    let sessions = out
        .tables
        .iter()
        .find(|(n, _)| *n == perfdiag_model::tables::PG_SESSIONS)
        .map_or(0, |(_, t)| t.rows());
    println!(
        "start readings: {start_queries} queries, {:.1} ms",
        start_time.as_secs_f64() * 1e3
    );
    println!(
        "{TICKS} ticks: {} queries, {:.2} ms per tick seen by the client",
        after_ticks - start_queries,
        (ticks_time - start_time).as_secs_f64() * 1e3 / TICKS as f64
    );
    println!("tick query on the server (pg_stat_statements): {server}");
    println!("sampled session rows: {sessions}; all sub-probes incl. start+end: {end_ms} ms");
    for r in &out.records {
        println!(
            "  {} {} {} ms {:?}",
            r.id, r.status, r.duration_ms, r.message
        );
    }
    assert!(
        out.records
            .iter()
            .all(|r| r.status == perfdiag_model::ProbeStatus::Ok)
    );
}
