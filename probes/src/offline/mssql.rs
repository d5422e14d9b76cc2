//! The sqlcmd scripts of an offline SQL Server collection, and the import of what
//! they write through the probe's own mapping (`mssql::assemble`).
//!
//! Each query is the live probe's (`mssql::QUERIES`, the files of `mssql/sql/`),
//! after the live session's settings (`session.sql`: lock timeout, READ UNCOMMITTED,
//! low deadlock priority), with `FOR JSON PATH, INCLUDE_NULL_VALUES` appended: sqlcmd
//! does not quote its CSV, and statement texts hold commas and line breaks, so the
//! server writes the quoting. sqlcmd runs one query per session, with `-t` as the
//! live statement timeout. **Not run against a SQL Server**: none runs on the machines
//! this project is tested on (see docs/offline.md); the import is tested on captures
//! written by hand in the forms SQL Server documents for `FOR JSON`.
//!
//! The probe's records come from its live sub-probe bookkeeping, which a capture
//! cannot replay yet; the import records each sub-probe from the outcome of its
//! queries' files instead (ok, partial, failed with the file's error).

use std::collections::BTreeMap;
use std::time::Duration;

use perfdiag_model::{ProbeRecord, ProbeStatus};

use super::capture::{Phase, Recorded, Replay};
use super::script::{Script, ScriptOptions};
use crate::db::{DbOutput, Engine, TextRows};
use crate::mssql::counters::WindowRows;
use crate::mssql::{QUERIES, Results, assemble};

const FOR_JSON: &str = "FOR JSON PATH, INCLUDE_NULL_VALUES";

/// Start of the window, in the live probe's order (sub-probe, query).
const START: [(&str, &str); 13] = [
    ("server", "server"),
    ("server", "host_info"),
    ("server", "sys_info"),
    ("server", "configurations"),
    ("databases", "databases"),
    ("databases", "vlf_counts"),
    ("databases", "backups"),
    ("databases", "tempdb_files"),
    ("security", "logins"),
    ("counters", "wait_stats"),
    ("counters", "file_io"),
    ("counters", "perf_counters"),
    ("statements", "statements"),
];

/// End of the window.
const END: [(&str, &str); 8] = [
    ("counters", "wait_stats"),
    ("counters", "file_io"),
    ("counters", "perf_counters"),
    ("statements", "statements"),
    ("memory", "memory"),
    ("memory", "plan_cache"),
    ("indexes", "missing_indexes"),
    ("indexes", "indexes"),
];

fn sql_of(name: &str) -> Option<&'static str> {
    QUERIES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, sql)| *sql)
}

fn millis(d: Duration) -> u128 {
    d.as_millis().max(1)
}

/// A query file: the live session's settings, the query with its placeholders filled
/// as the live probe fills them, and `FOR JSON`.
fn query_file(sql: &str, options: &ScriptOptions) -> String {
    let session = sql_of("session").unwrap_or("SET NOCOUNT ON;").replace(
        "{lock_timeout_ms}",
        &millis(options.lock_timeout).to_string(),
    );
    let body = sql
        .replace("{top}", &top_for(sql, options.top_n).to_string())
        .trim()
        .trim_end_matches(';')
        .to_owned();
    format!("{}\n{body}\n{FOR_JSON};\n", session.trim())
}

/// The live probe keeps 4 × N statements and 20 × N indexes before ranking.
fn top_for(sql: &str, top_n: usize) -> usize {
    if sql.contains("dm_exec_query_stats") {
        top_n * 4
    } else {
        top_n * 20
    }
}

fn files(options: &ScriptOptions) -> Vec<(String, String)> {
    let mut out = vec![(
        "clock".to_owned(),
        format!("SELECT SYSUTCDATETIME() AS at\n{FOR_JSON};\n"),
    )];
    let mut names: Vec<&str> = START.iter().chain(END.iter()).map(|(_, q)| *q).collect();
    names.push("sessions");
    names.sort_unstable();
    names.dedup();
    for name in names {
        if let Some(sql) = sql_of(name) {
            out.push((name.to_owned(), query_file(sql, options)));
        }
    }
    out
}

fn list(queries: &[(&str, &str)]) -> String {
    queries
        .iter()
        .map(|(_, q)| *q)
        .collect::<Vec<_>>()
        .join(" ")
}

fn runner(template: &str, options: &ScriptOptions) -> String {
    template
        .replace("@START_QUERIES@", &list(&START))
        .replace("@END_QUERIES@", &list(&END))
        .replace("@DURATION@", &options.duration.as_secs().max(1).to_string())
        .replace("@INTERVAL@", &options.interval.as_secs().max(1).to_string())
        .replace("@TOP_N@", &options.top_n.to_string())
        .replace(
            "@STATEMENT_TIMEOUT_S@",
            &options.statement_timeout.as_secs().max(1).to_string(),
        )
        .replace(
            "@STATEMENT_TIMEOUT_MS@",
            &millis(options.statement_timeout).to_string(),
        )
        .replace(
            "@LOCK_TIMEOUT_MS@",
            &millis(options.lock_timeout).to_string(),
        )
        .replace(
            "@FORMAT_VERSION@",
            &super::manifest::FORMAT_VERSION.to_string(),
        )
        .replace("@VERSION@", &options.tool_version)
}

/// The files of the SQL Server scripts.
pub fn script(options: &ScriptOptions) -> Script {
    let mut files = vec![
        (
            "collect.cmd".to_owned(),
            runner(include_str!("templates/collect_mssql.cmd"), options).replace('\n', "\r\n"),
            false,
        ),
        (
            "collect.sh".to_owned(),
            runner(include_str!("templates/collect_mssql.sh"), options),
            true,
        ),
    ];
    for (name, content) in self::files(options) {
        files.push((format!("queries/{name}.sql"), content, false));
    }
    files.push(("README.md".to_owned(), super::readme::mssql(options), false));
    Script { files }
}

/// Outcomes of one sub-probe's queries.
#[derive(Debug, Default)]
struct Outcome {
    ok: u32,
    failed: Vec<String>,
}

/// Reads the capture into the probe's `Results` and maps them with `assemble`.
pub(crate) fn replay(label: &str, top_n: usize, mut replay: Replay, samples: &[u32]) -> DbOutput {
    let mut outcomes: BTreeMap<&str, Outcome> = BTreeMap::new();
    let mut read = |replay: &mut Replay, probe: &'static str, name: &str| -> Option<TextRows> {
        let outcome = outcomes.entry(probe).or_default();
        match replay.fetch(name) {
            Ok(rows) => {
                outcome.ok += 1;
                Some(rows)
            }
            Err(Recorded::Failed(text) | Recorded::Unusable(text)) => {
                let first = text.lines().take(2).collect::<Vec<_>>().join(" ");
                outcome.failed.push(format!("{name}: {first}"));
                None
            }
        }
    };
    let mut r = Results::default();
    let window =
        |replay: &mut Replay,
         read: &mut dyn FnMut(&mut Replay, &'static str, &str) -> Option<TextRows>| {
            WindowRows {
                wait_stats: read(replay, "counters", "wait_stats"),
                file_io: read(replay, "counters", "file_io"),
                perf_counters: read(replay, "counters", "perf_counters"),
                statements: read(replay, "statements", "statements"),
            }
        };
    r.server = read(&mut replay, "server", "server");
    r.host_info = read(&mut replay, "server", "host_info");
    r.sys_info = read(&mut replay, "server", "sys_info");
    r.configurations = read(&mut replay, "server", "configurations");
    r.databases = read(&mut replay, "databases", "databases");
    r.vlf_counts = read(&mut replay, "databases", "vlf_counts");
    r.backups = read(&mut replay, "databases", "backups");
    r.tempdb_files = read(&mut replay, "databases", "tempdb_files");
    r.logins = read(&mut replay, "security", "logins");
    r.start = window(&mut replay, &mut read);
    for n in samples {
        replay.set_phase(Phase::Sample(*n));
        let ts = replay.now().timestamp_micros();
        if let Some(rows) = read(&mut replay, "sessions", "sessions") {
            r.sessions.push((ts, rows));
        }
    }
    replay.set_phase(Phase::End);
    r.end = window(&mut replay, &mut read);
    r.memory = read(&mut replay, "memory", "memory");
    r.plan_cache = read(&mut replay, "memory", "plan_cache");
    r.missing_indexes = read(&mut replay, "indexes", "missing_indexes");
    r.indexes = read(&mut replay, "indexes", "indexes");

    let assembled = assemble(label, &r, top_n);
    let records = [
        "server",
        "memory",
        "databases",
        "security",
        "counters",
        "statements",
        "indexes",
        "sessions",
    ]
    .iter()
    .map(|probe| {
        let o = outcomes.remove(probe).unwrap_or_default();
        let status = match (o.ok, o.failed.is_empty()) {
            (_, true) => ProbeStatus::Ok,
            (0, false) => ProbeStatus::Failed,
            _ => ProbeStatus::Partial,
        };
        ProbeRecord {
            id: format!("mssql.{probe}"),
            target: Some(label.to_owned()),
            status,
            duration_ms: 0,
            message: (!o.failed.is_empty()).then(|| format!("failed: {}", o.failed.join("; "))),
            hint: None,
        }
    })
    .collect();
    let facts = assembled
        .facts
        .version
        .is_some()
        .then(|| serde_json::to_value(&assembled.facts).ok())
        .flatten();
    DbOutput {
        engine: Engine::Mssql,
        target: label.to_owned(),
        facts,
        tables: assembled.tables,
        records,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_is_the_live_one_after_the_live_session_settings() {
        let options = ScriptOptions::default();
        let files = files(&options);
        for (_, q) in START.iter().chain(END.iter()) {
            assert!(files.iter().any(|(n, _)| n == q), "{q} has a file");
        }
        for (name, content) in &files {
            assert!(
                content.trim_end().ends_with(&format!("{FOR_JSON};")),
                "{name}"
            );
            assert!(
                !content.contains('{') || name == "clock",
                "{name}: placeholders filled"
            );
            if name != "clock" {
                assert!(content.contains("SET LOCK_TIMEOUT 1000;"), "{name}");
                assert!(!content.contains(";\n;"), "{name}: one terminator");
            }
        }
        let cmd = runner(include_str!("templates/collect_mssql.cmd"), &options);
        assert!(cmd.contains("-t 5") && cmd.contains("SQLCMDPASSWORD"));
        assert!(!cmd.contains("@START_QUERIES@"));
    }
}
