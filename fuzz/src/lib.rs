//! What every parser target checks, besides "never panics": the events found do not
//! depend on how the input is cut into blocks and per-thread chunks, which is what
//! lets `perfdiag logs` read a log of any size in bounded memory on all cores.

use perfdiag_probes::logs::LogParser;
use perfdiag_probes::logs::digest::{digest_chunk, digest_reader_with_block};
use perfdiag_probes::sql::fingerprint::{fingerprint, fingerprint_id};

/// Parses `data` whole, then again through the block reader with tiny blocks on two
/// threads, and asserts both saw the same events; fingerprints every statement.
pub fn check_parser(parser: &dyn LogParser, data: &[u8]) {
    let mut statements = 0u64;
    let whole = parser.parse(data, 0, &mut |ev| {
        statements += 1;
        let fp = fingerprint(&ev.statement);
        let _ = fingerprint_id(&fp);
    });
    assert_eq!(whole.events, statements, "events counted = events emitted");

    let single = digest_chunk(parser, data, 0).0.finish();
    let (blocked, stats) =
        digest_reader_with_block(data, parser, 2, &|_| {}, 1024).expect("reading a slice");
    assert_eq!(
        stats.events, whole.events,
        "cutting into blocks and chunks changed the events found"
    );
    let classes = |d: &perfdiag_probes::logs::digest::Digest| {
        let mut v: Vec<(String, u64)> = d
            .profile()
            .iter()
            .map(|r| (r.class.fingerprint.clone(), r.class.count))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        classes(&single),
        classes(&blocked),
        "cutting into blocks and chunks changed the classes"
    );
}
