//! Replays the inputs the fuzz targets (fuzz/) once failed on, with the targets' own
//! checks, so a fixed bug stays fixed without a nightly toolchain: parsers never
//! panic and find the same events however the input is cut into blocks, and a
//! fingerprint is a fixed point.

use std::path::PathBuf;

use perfdiag_probes::logs::LogParser;
use perfdiag_probes::logs::digest::{digest_chunk, digest_reader_with_block};
use perfdiag_probes::logs::mysql_slow::MysqlSlowParser;
use perfdiag_probes::logs::postgres::{PgCsvParser, PgJsonParser, PgStderrParser};
use perfdiag_probes::sql::fingerprint;

fn inputs(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| {
            let path = e.path();
            let data = std::fs::read(&path).expect("read regression input");
            (path.display().to_string(), data)
        })
        .collect()
}

fn check_parser(name: &str, parser: &dyn LogParser, data: &[u8]) {
    let whole = digest_chunk(parser, data, 0);
    let (blocked, stats) =
        digest_reader_with_block(data, parser, 2, &|_| {}, 1024).expect("reading a slice");
    assert_eq!(
        stats.events, whole.1.events,
        "{name}: events depend on the cuts"
    );
    let classes = |d: &perfdiag_probes::logs::digest::Digest| {
        let mut v: Vec<(String, u64)> = d
            .classes
            .values()
            .map(|c| (c.fingerprint.clone(), c.count))
            .collect();
        v.sort();
        v
    };
    assert_eq!(classes(&whole.0.finish()), classes(&blocked), "{name}");
}

#[test]
fn parser_regressions_stay_fixed() {
    let mut replayed = 0;
    for (name, data) in inputs("mysql_slow") {
        check_parser(&name, &MysqlSlowParser, &data);
        replayed += 1;
    }
    for (name, data) in inputs("pg_stderr") {
        check_parser(&name, &PgStderrParser::detect(&data), &data);
        replayed += 1;
    }
    for (name, data) in inputs("pg_csv") {
        check_parser(&name, &PgCsvParser::new(), &data);
        replayed += 1;
    }
    for (name, data) in inputs("pg_json") {
        check_parser(&name, &PgJsonParser::new(), &data);
        replayed += 1;
    }
    assert!(replayed >= 3, "the regression inputs are missing");
}

#[test]
fn fingerprint_regressions_stay_fixed() {
    let all = inputs("fingerprint");
    assert!(all.len() >= 2, "the regression inputs are missing");
    for (name, data) in all {
        // The fuzz target takes the input's longest valid UTF-8 prefix as its text.
        let text = match std::str::from_utf8(&data) {
            Ok(t) => t,
            Err(e) => std::str::from_utf8(&data[..e.valid_up_to()]).unwrap_or_default(),
        };
        let fp = fingerprint(text);
        assert_eq!(fingerprint(&fp), fp, "{name}: {text:?}");
    }
}
