//! PostgreSQL log parsing throughput (MB/s, one core) on a generated ~50 MB stderr log
//! shaped like pgbench with custom scripts: simple-protocol statements with quoted
//! strings and IN lists, extended-protocol execute + DETAIL parameters, multi-line
//! statements, and noise lines. Also csvlog and jsonlog renderings of the same events.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use perfdiag_probes::logs::LogParser;
use perfdiag_probes::logs::postgres::{PgCsvParser, PgJsonParser, PgStderrParser};

const TARGET: usize = 50 << 20;

fn gen_stderr() -> Vec<u8> {
    let mut s = String::with_capacity(TARGET + 4096);
    let mut i: u64 = 0;
    while s.len() < TARGET {
        i += 1;
        let pid = 1000 + i % 64;
        let (sec, ms) = ((i / 1000) % 60, i % 1000);
        let p = format!(
            "2024-06-27 10:{:02}:{sec:02}.{ms:03} CEST [{pid}]: [{i}-1] user=app,db=shop,app=pgbench,client=10.0.0.{} ",
            (i / 60_000) % 60,
            i % 250
        );
        match i % 5 {
            0 => {
                s += &format!(
                    "{p}LOG:  duration: 0.{ms} ms  statement: UPDATE pgbench_accounts SET abalance = abalance + {} WHERE aid = {i};\n",
                    i % 977
                )
            }
            1 => {
                s += &format!(
                    "{p}LOG:  duration: 1.{ms} ms  execute S_1: SELECT a.aid, a.abalance, b.note FROM pgbench_accounts a JOIN notes b ON b.aid = a.aid WHERE a.aid = $1 AND b.tag = $2\n{p}DETAIL:  parameters: $1 = '{i}', $2 = 'tag ''{}'''\n",
                    i % 13
                )
            }
            2 => {
                s += &format!(
                    "{p}LOG:  duration: 2.{ms} ms  statement: SELECT o.id, o.total\n\t  FROM orders o\n\t WHERE o.customer_id IN ({}, {}, {}, {})\n\t   AND o.status = 'open'\n\t ORDER BY o.created_at DESC LIMIT 20;\n",
                    i,
                    i + 1,
                    i + 2,
                    i + 3
                )
            }
            3 => {
                s += &format!(
                    "{p}LOG:  duration: 0.0{ms} ms  statement: INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES ({}, 1, {i}, -4897, CURRENT_TIMESTAMP);\n",
                    i % 10
                )
            }
            _ => {
                s += &format!(
                    "{p}LOG:  checkpoint complete: wrote {} buffers (0.1%); 0 WAL file(s) added, 0 removed, 1 recycled\n",
                    i % 100
                )
            }
        }
    }
    s.into_bytes()
}

fn gen_csv() -> Vec<u8> {
    let mut s = String::with_capacity(TARGET + 4096);
    let mut i: u64 = 0;
    while s.len() < TARGET {
        i += 1;
        s += &format!(
            "2024-06-27 10:00:{:02}.{:03} CEST,\"app\",\"shop\",{},\"10.0.0.1:5{:04}\",667c8f67.e327,{i},\"SELECT\",2024-06-27 00:00:07 CEST,21/52610848,0,LOG,00000,\"duration: 1.{} ms  execute S_1: SELECT \"\"a\"\".aid FROM pgbench_accounts a\nWHERE a.aid = $1\",\"parameters: $1 = '{i}'\",,,,,,,,\"pgbench\",\"client backend\",,0\n",
            (i / 1000) % 60,
            i % 1000,
            1000 + i % 64,
            i % 10000,
            i % 1000
        );
    }
    s.into_bytes()
}

fn gen_json() -> Vec<u8> {
    let mut s = String::with_capacity(TARGET + 4096);
    let mut i: u64 = 0;
    while s.len() < TARGET {
        i += 1;
        s += &format!(
            "{{\"timestamp\":\"2024-06-27 10:00:{:02}.{:03} CEST\",\"user\":\"app\",\"dbname\":\"shop\",\"pid\":{},\"remote_host\":\"10.0.0.1\",\"remote_port\":5432,\"session_id\":\"667c8f67.e327\",\"line_num\":{i},\"ps\":\"SELECT\",\"session_start\":\"2024-06-27 00:00:07 CEST\",\"vxid\":\"21/52610848\",\"txid\":0,\"error_severity\":\"LOG\",\"message\":\"duration: 1.{} ms  statement: SELECT \\\"a\\\".aid FROM pgbench_accounts a\\nWHERE a.aid = {i}\",\"application_name\":\"pgbench\",\"backend_type\":\"client backend\",\"query_id\":0}}\n",
            (i / 1000) % 60,
            i % 1000,
            1000 + i % 64,
            i % 1000
        );
    }
    s.into_bytes()
}

fn bench_one(c: &mut Criterion, name: &str, p: &dyn LogParser, data: &[u8]) {
    // Guard against benchmarking a parser that matches nothing.
    let st = p.parse(data, 0, &mut |_| {});
    assert!(st.events > 100_000, "{name}: {st:?}");
    eprintln!("{name}: {} MB, {st:?}", data.len() >> 20);
    let mut g = c.benchmark_group("logs_postgres");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(data.len() as u64));
    g.bench_function(name, |b| {
        b.iter(|| {
            let mut n = 0u64;
            let mut d = 0f64;
            let st = p.parse(black_box(data), 0, &mut |e| {
                n += 1;
                d += e.duration_ms.unwrap_or(0.0) + e.statement.len() as f64;
            });
            black_box((n, d, st))
        })
    });
    g.finish();
}

fn parsing(c: &mut Criterion) {
    let stderr = gen_stderr();
    let p = PgStderrParser::detect(&stderr[..64 << 10]);
    bench_one(c, "stderr_50MB", &p, &stderr);
    drop(stderr);
    let csv = gen_csv();
    bench_one(c, "csvlog_50MB", &PgCsvParser::new(), &csv);
    drop(csv);
    let json = gen_json();
    bench_one(c, "jsonlog_50MB", &PgJsonParser::new(), &json);
}

criterion_group!(benches, parsing);
criterion_main!(benches);
