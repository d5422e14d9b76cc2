//! Database cost of one MySQL/MariaDB sampling tick on a busy-looking instance:
//! 10,000 tables and 200 connections (10 of them running a statement, 5 idle inside a
//! transaction), on a throwaway MariaDB with performance_schema ON.
//!
//! Before the criterion run it prints what a 60-tick (60 s at the default interval)
//! collection costs: the start readings, the end readings, and the number of queries
//! the whole collection sends. Run with `cargo bench -p perfdiag-probes --bench
//! mysql_tick` (setup takes a minute: creating 10,000 tables).

use std::io::Write;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use perfdiag_probes::db::{self, DbOptions, DbTarget, Engine};
use perfdiag_testkit::mariadb::MariaDbServer;
use sqlx::{AssertSqlSafe, Connection, mysql::MySqlConnection};

const TABLES: usize = 10_000;
const CONNECTIONS: usize = 200;
const RUNNING: usize = 10;
const IDLE_IN_TRX: usize = 5;

fn setup() -> (
    MariaDbServer,
    tokio::runtime::Runtime,
    Vec<MySqlConnection>,
    Vec<Child>,
) {
    let server = MariaDbServer::builder()
        .option("performance_schema=ON")
        .option("max_connections=400")
        .option("table_definition_cache=12000")
        .option("table_open_cache=12000")
        .start()
        .expect("mariadb starts");
    let started = Instant::now();
    let mut script = String::from("CREATE DATABASE erp; USE erp;\n");
    for i in 0..TABLES {
        script.push_str(&format!(
            "CREATE TABLE t{i} (id INT PRIMARY KEY, customer INT, created DATE, KEY by_customer (customer));\n"
        ));
    }
    let mut client = server
        .client()
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("client");
    client
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write");
    assert!(client.wait().expect("wait").success());
    eprintln!("created {TABLES} tables in {:?}", started.elapsed());

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut conns = Vec::new();
    for i in 0..CONNECTIONS - RUNNING {
        let mut c = rt
            .block_on(MySqlConnection::connect(&server.url()))
            .expect("connect");
        if i < IDLE_IN_TRX {
            for sql in ["BEGIN", &format!("SELECT * FROM erp.t{i} FOR UPDATE")] {
                rt.block_on(sqlx::raw_sql(AssertSqlSafe(sql.to_owned())).execute(&mut c))
                    .expect("trx");
            }
        }
        conns.push(c);
    }
    let running = (0..RUNNING)
        .map(|_| {
            server
                .client()
                .arg("-e")
                .arg("SELECT SLEEP(600)")
                .stdout(Stdio::null())
                .spawn()
                .expect("client")
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    (server, rt, conns, running)
}

fn tick(c: &mut Criterion) {
    let (server, _rt, _conns, running) = setup();
    let target = DbTarget::parse(Engine::Mysql, &server.url()).expect("url");
    let options = DbOptions::default();

    // A whole 60-tick collection, back to back, to count its queries.
    let started = Instant::now();
    let mut collector = db::connect(&target, &options).expect("connects");
    let start_readings = started.elapsed();
    let ticks = Instant::now();
    for _ in 0..60 {
        collector.tick();
    }
    let ticks = ticks.elapsed();
    let end = Instant::now();
    let out = collector.finish();
    let end = end.elapsed();
    let sessions = out.records.iter().find(|r| r.id == "mysql.sessions");
    eprintln!(
        "60-tick collection: start readings {start_readings:?}, 60 ticks {ticks:?} ({:?}/tick), end readings {end:?}",
        ticks / 60
    );
    eprintln!(
        "mysql.sessions: {}",
        sessions.and_then(|r| r.message.as_deref()).unwrap_or("?")
    );
    for r in &out.records {
        eprintln!("  {} {} {} ms", r.id, r.status, r.duration_ms);
    }

    let mut collector = db::connect(&target, &options).expect("connects");
    c.bench_function("mysql_tick/10k_tables_200_connections", |b| {
        b.iter(|| collector.tick());
    });
    drop(collector);
    for mut child in running {
        let _ = child.kill();
        let _ = child.wait();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20).measurement_time(Duration::from_secs(5));
    targets = tick
}
criterion_main!(benches);
