//! `manifest.txt`, written by the offline scripts: which engine, which version of the
//! script format, which client, on which host, when. `key=value` lines, so a shell
//! script can write it with `echo` and a person can read it.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};

use crate::db::rows::parse_time;

/// The file's name inside a capture.
pub const FILE: &str = "manifest.txt";

/// What the `format` line says: this is a perfdiag capture.
pub const FORMAT: &str = "perfdiag-offline-capture";

/// The script format this build writes and reads. A capture of another major
/// version is refused (its files may mean something else); the scripts carry it.
pub const FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq)]
pub struct CaptureManifest {
    pub engine: String,
    pub format_version: u32,
    /// The client's own `--version` line.
    pub client: String,
    pub hostname: String,
    pub os: String,
    pub kernel: Option<String>,
    pub arch: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    /// Whether the script got to write its end time.
    pub finished: bool,
    pub interval_s: u64,
    pub duration_s: u64,
    pub top_n: usize,
    pub statement_timeout_ms: u64,
    pub lock_timeout_ms: u64,
    /// Every line, for what only one engine writes (connection details).
    pub fields: BTreeMap<String, String>,
}

impl CaptureManifest {
    /// Reads and checks `DIR/manifest.txt`; the error names the file and the line.
    pub fn read(dir: &Path) -> Result<Self, String> {
        let path = dir.join(FILE);
        let text = std::fs::read(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                format!(
                    "{} is missing: {} is not a folder written by perfdiag's collection scripts",
                    path.display(),
                    dir.display()
                )
            } else {
                format!("{} cannot be read: {e}", path.display())
            }
        })?;
        let text = String::from_utf8_lossy(&text);
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        let fields: BTreeMap<String, String> = text
            .lines()
            .filter_map(|l| {
                let (k, v) = l.split_once('=')?;
                Some((k.trim().to_owned(), v.trim().to_owned()))
            })
            .collect();
        let get = |k: &str| fields.get(k).map(String::as_str).filter(|v| !v.is_empty());
        if get("format") != Some(FORMAT) {
            return Err(format!(
                "no `format={FORMAT}` line: not written by perfdiag's collection scripts"
            ));
        }
        let version: u32 = get("format_version")
            .and_then(|v| v.split('.').next()?.parse().ok())
            .ok_or("no readable `format_version` line")?;
        if version != FORMAT_VERSION {
            return Err(format!(
                "written by scripts of format {version}, and this perfdiag reads format \
                 {FORMAT_VERSION}: generate the scripts with this perfdiag (`perfdiag scripts`) \
                 and run them again, or import with the perfdiag that generated them"
            ));
        }
        let engine = get("engine").ok_or("no `engine` line")?.to_owned();
        let started_at = get("started_at")
            .and_then(parse_time)
            .ok_or("no readable `started_at` line")?;
        let ended = get("ended_at").and_then(parse_time);
        let number = |k: &str, default: u64| get(k).and_then(|v| v.parse().ok()).unwrap_or(default);
        Ok(Self {
            engine,
            format_version: version,
            client: get("client").unwrap_or("unknown client").to_owned(),
            hostname: get("host").unwrap_or("unknown").to_owned(),
            os: get("os").unwrap_or("unknown").to_owned(),
            kernel: get("kernel").map(str::to_owned),
            arch: get("arch").unwrap_or("unknown").to_owned(),
            started_at,
            ended_at: ended.unwrap_or(started_at),
            finished: ended.is_some(),
            interval_s: number("interval_s", 1),
            duration_s: number("duration_s", 0),
            top_n: number("top_n", 50) as usize,
            statement_timeout_ms: number("statement_timeout_ms", 5000),
            lock_timeout_ms: number("lock_timeout_ms", 1000),
            fields,
        })
    }

    pub fn field(&self, key: &str) -> Option<&str> {
        self.fields
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "format=perfdiag-offline-capture\nformat_version=1\nengine=postgres\n\
                        client=psql (PostgreSQL) 15.4\nhost=db01\nstarted_at=2026-12-02T10:00:00Z\n\
                        interval_s=2\nduration_s=60\n";

    #[test]
    fn a_manifest_reads_with_defaults_for_what_is_missing() {
        let m = CaptureManifest::parse(GOOD).unwrap();
        assert_eq!(m.engine, "postgres");
        assert_eq!(m.hostname, "db01");
        assert_eq!((m.interval_s, m.duration_s, m.top_n), (2, 60, 50));
        assert!(!m.finished, "no ended_at: the script did not finish");
        assert_eq!(m.ended_at, m.started_at);
    }

    #[test]
    fn other_formats_are_refused_with_the_way_out() {
        let newer = GOOD.replace("format_version=1", "format_version=2");
        let e = CaptureManifest::parse(&newer).unwrap_err();
        assert!(
            e.contains("format 2") && e.contains("perfdiag scripts"),
            "{e}"
        );
        let e = CaptureManifest::parse("engine=postgres\n").unwrap_err();
        assert!(e.contains("not written by perfdiag"), "{e}");
    }
}
