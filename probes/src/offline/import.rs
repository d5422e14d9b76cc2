//! `perfdiag import`: a capture folder → the snapshot a live `collect` of the same
//! server would have written (without the host probes, which ran nowhere).
//!
//! Every probe record says it was imported: `imported` where a live run would say
//! `ok`, and a message starting with `imported` where it is partial, skipped or
//! failed (so what is missing stays visible). One more record, `<engine>.import`, says
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
            crate::mssql::replay(&label(&capture, Engine::Mssql), m.top_n, replay, &samples),
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

/// A live record, marked as imported: a part read completely says so in its status;
/// one partial, skipped or failed keeps that status (what is missing stays visible)
/// and says it in its message.
fn imported(mut record: ProbeRecord) -> ProbeRecord {
    if record.status == ProbeStatus::Ok {
        record.status = ProbeStatus::Imported;
    } else {
        record.message = Some(match record.message.take() {
            Some(m) => format!("imported: {m}"),
            None => "imported".to_owned(),
        });
    }
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
            ProbeStatus::Imported
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
        Engine::Mssql => mssql_url(
            field("server").as_deref(),
            &user,
            &field("dbname").unwrap_or_default(),
            &capture.manifest.hostname,
        ),
    };
    DbTarget::parse(engine, &url)
        .map(|t| t.label().to_owned())
        .unwrap_or(url)
}

/// The `mssql://` URL of the server sqlcmd was pointed at (`-S`, or SQLCMDSERVER):
/// `[tcp:]HOST[\\INSTANCE][,PORT]`; no server, `.` or `(local)` is the machine the
/// script ran on. `user` is `USER@` or empty.
fn mssql_url(server: Option<&str>, user: &str, dbname: &str, script_host: &str) -> String {
    let server = server.unwrap_or_default().trim();
    let server = server
        .split_once(':')
        .filter(|(protocol, _)| {
            ["tcp", "np", "lpc", "admin"].contains(&protocol.to_ascii_lowercase().as_str())
        })
        .map_or(server, |(_, rest)| rest);
    let (name, port) = match server.split_once(',') {
        Some((name, port)) => (name.trim(), Some(port.trim())),
        None => (server, None),
    };
    let (host, instance) = match name.split_once('\\') {
        Some((host, instance)) => (host, Some(instance)),
        None => (name, None),
    };
    let host = match host {
        "" | "." | "(local)" | "(localdb)" => script_host,
        host => host,
    };
    let db = url_part(dbname);
    match (port, instance) {
        (Some(port), _) => format!("mssql://{user}{host}:{port}/{db}"),
        (None, Some(instance)) => {
            format!("mssql://{user}{host}/{db}?instance={}", url_part(instance))
        }
        (None, None) => format!("mssql://{user}{host}:1433/{db}"),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sql_server_target_is_named_as_sqlcmd_was_told_it() {
        let url = |server: Option<&str>, user: &str, db: &str| {
            let url = mssql_url(server, user, db, "APP01");
            DbTarget::parse(Engine::Mssql, &url)
                .map(|t| t.label().to_owned())
                .unwrap_or(url)
        };
        assert_eq!(
            url(Some("tcp:db03,1533"), "perfdiag@", "erp"),
            "mssql://perfdiag@db03:1533/erp"
        );
        assert_eq!(url(Some("db03"), "", ""), "mssql://db03:1433/");
        assert_eq!(url(None, "", ""), "mssql://APP01:1433/");
        assert_eq!(url(Some("."), "", "erp"), "mssql://APP01:1433/erp");
        assert!(
            url(Some("db03\\SALES"), "", "erp").contains("instance=SALES"),
            "{}",
            url(Some("db03\\SALES"), "", "erp")
        );
    }
}
