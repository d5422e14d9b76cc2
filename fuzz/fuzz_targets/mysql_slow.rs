#![no_main]
use libfuzzer_sys::fuzz_target;
use perfdiag_probes::logs::mysql_slow::MysqlSlowParser;

fuzz_target!(|data: &[u8]| {
    perfdiag_fuzz::check_parser(&MysqlSlowParser, data);
});
