#![no_main]
use libfuzzer_sys::fuzz_target;
use perfdiag_probes::logs::input::detect;
use perfdiag_probes::logs::postgres::PgStderrParser;

// The prefix is detected from the input itself, as `--format auto` does, so the
// detector and the prefix compiler are fuzzed along with the parser.
fuzz_target!(|data: &[u8]| {
    let _ = detect(data);
    let head = &data[..data.len().min(64 * 1024)];
    perfdiag_fuzz::check_parser(&PgStderrParser::detect(head), data);
});
