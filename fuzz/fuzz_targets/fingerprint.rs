#![no_main]
use libfuzzer_sys::fuzz_target;
use perfdiag_probes::sql::fingerprint::{fingerprint, fingerprint_id};

// Any text, not only SQL: logs hold garbage. A fingerprint is a fixed point (grouping
// a fingerprint again must not split or merge classes), and its id is stable.
fuzz_target!(|sql: &str| {
    let fp = fingerprint(sql);
    assert_eq!(fingerprint(&fp), fp, "fingerprint is not idempotent for {sql:?}");
    assert_eq!(fingerprint_id(&fp), fingerprint_id(&fp.clone()));
});
