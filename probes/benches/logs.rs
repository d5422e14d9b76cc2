//! Slow-log throughput: parsing alone, parsing + digest on one thread, the parallel
//! driver on all cores (MB/s), and fingerprints per second. The log is synthetic but
//! shaped like a real server's: Percona-style headers, `SET timestamp`, `use`,
//! multi-line statements, IN lists, multi-row inserts, quoted strings, ~40 shapes
//! with varied literals.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use perfdiag_probes::logs::LogParser;
use perfdiag_probes::logs::digest::{digest_chunk, digest_reader};
use perfdiag_probes::logs::mysql_slow::MysqlSlowParser;
use perfdiag_probes::sql::fingerprint::{fingerprint_id, fingerprint_into};
use std::hint::black_box;

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn statement(r: &mut Rng) -> String {
    let t = r.below(40);
    let id = r.below(1_000_000);
    let name = format!("'user{}@example.com'", r.below(100_000));
    match t % 8 {
        0 => format!("SELECT c FROM sbtest{} WHERE id={id}", t),
        1 => format!(
            "SELECT DISTINCT c\n  FROM sbtest{t}\n WHERE id BETWEEN {id} AND {}\n ORDER BY c ASC",
            id + 99
        ),
        2 => format!("UPDATE sbtest{t} SET k=k+1, note={name} WHERE id={id}"),
        3 => {
            let n = 1 + r.below(30);
            let list: Vec<String> = (0..n).map(|i| (id + i * 7).to_string()).collect();
            format!(
                "SELECT * FROM orders_{t} o JOIN customers c ON c.id = o.cust_id\nWHERE o.id IN ({}) AND o.status = 'open'",
                list.join(", ")
            )
        }
        4 => {
            let rows: Vec<String> = (0..1 + r.below(10))
                .map(|i| format!("({}, {name}, 'pad-{}', NOW())", id + i, r.below(999)))
                .collect();
            format!(
                "INSERT INTO audit_log{t} (id, who, pad, at) VALUES {}",
                rows.join(",\n")
            )
        }
        5 => format!(
            "DELETE FROM sessions WHERE last_seen < '2024-0{}-1{} 12:00:00' LIMIT 1000",
            1 + t % 9,
            t % 10
        ),
        6 => format!(
            "SELECT /* app:web{t} */ COUNT(*) FROM items WHERE cat = {} AND price > {}.{:02} AND deleted IS NULL",
            r.below(50),
            r.below(500),
            r.below(100)
        ),
        _ => format!("COMMIT /* {t} */"),
    }
}

fn synthetic_log(target: usize) -> Vec<u8> {
    let mut r = Rng(0x9E37_79B9_7F4A_7C15);
    let mut out = String::with_capacity(target + 4096);
    let mut ts = 1_700_000_000u64;
    while out.len() < target {
        ts += r.below(2);
        let qt = r.below(2_000_000);
        out.push_str(&format!(
            "# Time: 2023-11-14T22:{:02}:{:02}.{:06}Z\n# User@Host: app[app] @ web{} [10.0.0.{}]  Id: {}\n# Thread_id: {}  Schema: shop  QC_hit: No\n# Query_time: {}.{:06}  Lock_time: 0.{:06}  Rows_sent: {}  Rows_examined: {}\n# Bytes_sent: {}\nuse shop;\nSET timestamp={ts};\n{};\n",
            (ts / 60) % 60,
            ts % 60,
            r.below(1_000_000),
            r.below(20),
            r.below(250),
            r.below(100_000),
            r.below(100_000),
            qt / 1_000_000,
            qt % 1_000_000,
            r.below(1000),
            r.below(100),
            r.below(100_000),
            r.below(10_000),
            statement(&mut r)
        ));
    }
    out.into_bytes()
}

fn benches(c: &mut Criterion) {
    let log = synthetic_log(64 << 20);
    let parser = MysqlSlowParser;
    let mut g = c.benchmark_group("mysql_slow");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(log.len() as u64));
    g.bench_function("parse_only", |b| {
        b.iter(|| {
            let mut n = 0u64;
            parser.parse(black_box(&log), 0, &mut |e| n += e.statement.len() as u64);
            n
        })
    });
    g.bench_function("parse_digest_1_thread", |b| {
        b.iter(|| digest_chunk(&parser, black_box(&log), 0).0.classes.len())
    });
    g.bench_function("digest_reader_2_threads", |b| {
        b.iter(|| {
            let (d, _) = digest_reader(black_box(&log[..]), &parser, 2, &|_| {}).expect("read");
            d.classes.len()
        })
    });
    g.finish();

    let mut r = Rng(42);
    let stmts: Vec<String> = (0..10_000).map(|_| statement(&mut r)).collect();
    let mut g = c.benchmark_group("fingerprint");
    g.throughput(Throughput::Elements(stmts.len() as u64));
    g.bench_function("fingerprint_and_id", |b| {
        let mut buf = String::new();
        b.iter(|| {
            let mut x = 0u64;
            for s in &stmts {
                fingerprint_into(black_box(s), &mut buf);
                x ^= fingerprint_id(&buf);
            }
            x
        })
    });
    g.finish();
}

criterion_group!(logs, benches);
criterion_main!(logs);
