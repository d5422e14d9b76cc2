//! `perfdiag import`: a capture folder → the snapshot a live `collect` of the same
//! server would have written (without the host probes, which ran nowhere).
//!
//! Every probe record says it was imported. One more record, `<engine>.import`, says
//! from which capture (client, host, script format) and lists every file that could
//! not be used; those files' queries are failed in their own probes' records, as a
//! failing query would be live, and everything else is imported.

use std::path::Path;
use std::sync::{Arc, Mutex};

use perfdiag_model::{CollectionWindow, HostIdentity, ProbeRecord, ProbeStatus, Snapshot};

use super::capture::{Capture, Findings, Replay};
use crate::db::{self, DbOutput, DbTarget, Engine};

/// The snapshot, and what was wrong with the capture (also in its records).
#[derive(Debug)]
pub struct Imported {
    pub snapshot: Snapshot,
    pub problems: Vec<String>,
    /// Warnings about the capture as a whole (it did not finish, fewer samples).
    pub warnings: Vec<String>,
}

/// Reads the capture in `dir`. Fails only when `dir` is not a capture this perfdiag
/// can read (no manifest, another script format, an unknown engine).
pub fn import(dir: &Path) -> Result<Imported, String> {
    let started = std::time::Instant::now();
    let capture = Arc::new(Capture::open(dir)?);
    let findings = Arc::new(Mutex::new(Findings::default()));
    let replay = Replay::new(Arc::clone(&capture), Arc::clone(&findings));
    let m = &capture.manifest;
    let samples = capture.samples();
    let (engine, output) = match m.engine.as_str() {
        "postgres" => (
            Engine::Postgres,
            crate::postgres::replay(
                &label(&capture, Engine::Postgres),
                m.top_n,
                replay,
                &samples,
            ),
        ),
        "mssql" => (
            Engine::Mssql,
            super::mssql::replay(&label(&capture, Engine::Mssql), m.top_n, replay, &samples),
        ),
        _ => (
            Engine::Mysql,
            crate::mysql::replay(&label(&capture, Engine::Mysql), m, replay, &samples),
        ),
    };
    let mut warnings = Vec::new();
    if !m.finished || !capture.finished() {
        warnings.push(
            "the script did not finish (no end time or no files.txt): it was stopped, or the \
             folder was copied while it ran; the end-of-window readings may be missing"
                .to_owned(),
        );
    }
    let expected = m
        .fields
        .get("samples")
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(samples.len());
    if samples.len() < expected {
        warnings.push(format!(
            "{} of {expected} session samples are in the capture",
            samples.len()
        ));
    }
    let problems = findings.lock().map(|f| f.problems()).unwrap_or_default();
    // A psql that never connected leaves no file but its own messages: say why.
    if engine == Engine::Postgres
        && !capture.dir.join("start/server.csv").exists()
        && let Ok(log) = std::fs::read_to_string(capture.dir.join("psql-errors.log"))
        && !log.trim().is_empty()
    {
        let head: Vec<&str> = log.lines().take(3).collect();
        warnings.push(format!("psql-errors.log: {}", head.join(" ")));
    }

    let identity = HostIdentity {
        hostname: m.hostname.clone(),
        os: m.os.clone(),
        kernel: m.kernel.clone(),
        arch: m.arch.clone(),
        machine_id: None,
    };
    let window = CollectionWindow {
        started_at: m.started_at,
        ended_at: m.ended_at,
        interval_ms: m.interval_s * 1000,
        requested_duration_ms: m.duration_s * 1000,
        ended_early: !m.finished || samples.len() < expected,
    };
    let mut snapshot = Snapshot::new(identity, window);
    let target = output.target.clone();
    let DbOutput {
        engine: out_engine,
        target: out_target,
        facts,
        tables,
        records,
    } = output;
    let records = records.into_iter().map(imported).collect();
    let output = DbOutput {
        engine: out_engine,
        target: out_target,
        facts,
        tables,
        records,
    };
    let mut table_warnings = db::put_into([output], &mut snapshot);
    warnings.append(&mut table_warnings);
    snapshot.record_probe(import_record(
        engine,
        &capture,
        &target,
        &problems,
        &warnings,
        started.elapsed(),
    ));
    Ok(Imported {
        snapshot,
        problems,
        warnings,
    })
}

/// A live record, marked as imported.
fn imported(mut record: ProbeRecord) -> ProbeRecord {
    record.message = Some(match record.message.take() {
        Some(m) => format!("imported: {m}"),
        None => "imported".to_owned(),
    });
    record
}

fn import_record(
    engine: Engine,
    capture: &Capture,
    target: &str,
    problems: &[String],
    warnings: &[String],
    spent: std::time::Duration,
) -> ProbeRecord {
    let m = &capture.manifest;
    let mut message = format!(
        "imported from {} ({}, on {}, script format {}, {} to {})",
        capture.dir.display(),
        m.client,
        m.hostname,
        m.format_version,
        m.started_at.format("%Y-%m-%d %H:%M:%SZ"),
        m.ended_at.format("%Y-%m-%d %H:%M:%SZ"),
    );
    for line in warnings.iter().chain(problems) {
        message.push_str("; ");
        message.push_str(line);
    }
    ProbeRecord {
        id: format!("{}.import", engine.id()),
        target: Some(target.to_owned()),
        status: if problems.is_empty() && warnings.is_empty() {
            ProbeStatus::Ok
        } else {
            ProbeStatus::Partial
        },
        duration_ms: u64::try_from(spent.as_millis()).unwrap_or(u64::MAX),
        message: Some(message),
        hint: (!problems.is_empty()).then(|| {
            "Send the capture folder as the script wrote it (an archive of the whole folder), \
             or run the script again with this perfdiag's scripts"
                .to_owned()
        }),
    }
}

/// The target's label as `collect` would store it: the URL without password, from
/// the connection details the script wrote down.
fn label(capture: &Capture, engine: Engine) -> String {
    let text = std::fs::read_to_string(capture.dir.join("connection.txt")).unwrap_or_default();
    let field = |key: &str| {
        text.lines().find_map(|l| {
            let (k, v) = l.trim().split_once(' ')?;
            (k == key)
                .then(|| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        })
    };
    let host = field("host").unwrap_or_else(|| capture.manifest.hostname.clone());
    let user = field("user").unwrap_or_default();
    let user = if user.is_empty() {
        String::new()
    } else {
        format!("{}@", url_part(&user))
    };
    let url = match engine {
        Engine::Postgres => {
            let port = field("port").unwrap_or_else(|| "5432".to_owned());
            let db = field("dbname").unwrap_or_default();
            if host.starts_with('/') {
                format!(
                    "postgres://{user}localhost:{port}/{}?host={host}",
                    url_part(&db)
                )
            } else {
                format!("postgres://{user}{host}:{port}/{}", url_part(&db))
            }
        }
        Engine::Mysql => {
            let port = field("port").unwrap_or_else(|| "3306".to_owned());
            format!("mysql://{user}{host}:{port}/")
        }
        Engine::Mssql => format!("mssql://{host}/"),
    };
    DbTarget::parse(engine, &url)
        .map(|t| t.label().to_owned())
        .unwrap_or(url)
}

/// Percent-encodes what cannot stand in a URL's user or path.
fn url_part(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~') {
                c.to_string()
            } else {
                let mut buf = [0; 4];
                c.encode_utf8(&mut buf)
                    .bytes()
                    .map(|b| format!("%{b:02X}"))
                    .collect()
            }
        })
        .collect()
}
