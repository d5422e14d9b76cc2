#![no_main]
use libfuzzer_sys::fuzz_target;
use perfdiag_probes::logs::postgres::PgJsonParser;

fuzz_target!(|data: &[u8]| {
    perfdiag_fuzz::check_parser(&PgJsonParser::new(), data);
});
