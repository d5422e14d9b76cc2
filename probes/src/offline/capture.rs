//! Reading a capture: the folder the offline scripts wrote, one file per query and
//! phase, answered to the collectors as if a server had answered (a [`Replay`]).
//!
//! ```text
//! DIR/manifest.txt            engine, script format, client, host, times (key=value)
//! DIR/start/<query>.csv       start-of-window readings (.tsv for the mysql client)
//! DIR/samples/0001/<query>.csv  one folder per session sample
//! DIR/end/<query>.csv         end-of-window readings
//! DIR/<phase>/<query>.err     the error of a query that failed (its file is ignored)
//! DIR/files.txt               sizes of every file, written last: truncation shows
//! ```
//! A file that cannot be used (missing, cut short, not UTF-8, another layout) fails its
//! own query only, with a message naming the file; everything else is still imported.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::manifest::CaptureManifest;
use crate::db::TextRows;
use crate::db::rows::parse_time;

/// Where the collectors are in the window while replaying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    Start,
    /// The n-th session sample, from 1.
    Sample(u32),
    End,
}

impl Phase {
    /// The folder of this phase inside a capture.
    pub fn dir(self) -> String {
        match self {
            Self::Start => "start".to_owned(),
            Self::Sample(n) => format!("samples/{n:04}"),
            Self::End => "end".to_owned(),
        }
    }
}

/// How the engine's client writes results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileFormat {
    /// psql `--csv`: a header, RFC 4180 quoting, NULL as an empty field.
    Csv,
    /// `mysql --batch`: a header, tab-separated, `NULL`, backslash escapes.
    MysqlBatch,
    /// sqlcmd printing a query's `FOR JSON PATH, INCLUDE_NULL_VALUES` result: a JSON
    /// array of objects, one value on one line (possibly padded with blanks; lines are
    /// joined in case a client cuts it), since sqlcmd's plain output does not quote and
    /// statement texts hold commas and line breaks.
    SqlcmdJson,
}

impl FileFormat {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::MysqlBatch => "tsv",
            Self::SqlcmdJson => "json",
        }
    }
}

/// Why a query has no rows in the capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recorded {
    /// The query failed on the server: the client's error text, as the script saved it.
    Failed(String),
    /// Its file cannot be used; the message names the file and says why.
    Unusable(String),
}

/// A capture folder, read once.
#[derive(Debug)]
pub struct Capture {
    pub dir: PathBuf,
    pub manifest: CaptureManifest,
    pub format: FileFormat,
    /// `files.txt`: the size of every file when the script ended. `None` when the
    /// script did not get that far.
    sizes: Option<BTreeMap<String, u64>>,
}

impl Capture {
    /// Opens a capture; fails (naming the file) only when the folder is not a capture
    /// of a compatible script at all.
    pub fn open(dir: &Path) -> Result<Self, String> {
        if !dir.is_dir() {
            return Err(format!("{} is not a folder", dir.display()));
        }
        let manifest = CaptureManifest::read(dir)?;
        let format = match manifest.engine.as_str() {
            "postgres" => FileFormat::Csv,
            "mysql" => FileFormat::MysqlBatch,
            "mssql" => FileFormat::SqlcmdJson,
            other => {
                return Err(format!(
                    "{}: engine `{other}` is not one perfdiag imports (postgres, mysql, mssql)",
                    dir.join(super::manifest::FILE).display()
                ));
            }
        };
        let sizes = std::fs::read_to_string(dir.join("files.txt"))
            .ok()
            .map(|text| {
                text.lines()
                    .filter_map(|l| {
                        let (size, path) = l.trim().split_once(' ')?;
                        Some((path.trim().to_owned(), size.parse().ok()?))
                    })
                    .collect()
            });
        Ok(Self {
            dir: dir.to_owned(),
            manifest,
            format,
            sizes,
        })
    }

    /// Whether the script ran to its end (it writes `files.txt` last).
    pub fn finished(&self) -> bool {
        self.sizes.is_some()
    }

    /// The sample folders present, in order.
    pub fn samples(&self) -> Vec<u32> {
        let mut found: Vec<u32> = std::fs::read_dir(self.dir.join("samples"))
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        found.sort_unstable();
        found
    }

    fn relative(&self, phase: Phase, name: &str, extension: &str) -> String {
        format!("{}/{name}.{extension}", phase.dir())
    }

    /// The rows of query `name` in `phase`, or why there are none. `problems` gets a
    /// line for every file that is there but cannot be used.
    fn rows(&self, phase: Phase, name: &str) -> Result<TextRows, Recorded> {
        let err = self.dir.join(self.relative(phase, name, "err"));
        if let Ok(bytes) = std::fs::read(&err)
            && !bytes.is_empty()
        {
            return Err(Recorded::Failed(
                String::from_utf8_lossy(&bytes).trim().to_owned(),
            ));
        }
        let relative = self.relative(phase, name, self.format.extension());
        let bytes = std::fs::read(self.dir.join(&relative)).map_err(|e| {
            Recorded::Unusable(if e.kind() == std::io::ErrorKind::NotFound {
                format!("{relative} is missing from the capture")
            } else {
                format!("{relative} cannot be read: {e}")
            })
        })?;
        if let Some(expected) = self.sizes.as_ref().and_then(|s| s.get(&relative))
            && *expected != bytes.len() as u64
        {
            return Err(Recorded::Unusable(format!(
                "{relative} is truncated or altered: {} bytes where the script wrote {expected}",
                bytes.len()
            )));
        }
        let text = decode(&relative, &bytes).map_err(Recorded::Unusable)?;
        if !text.is_empty() && !text.ends_with('\n') {
            return Err(Recorded::Unusable(format!(
                "{relative} is cut short: its last line has no end (copied while the script still ran?)"
            )));
        }
        let parsed = match self.format {
            FileFormat::Csv => TextRows::from_csv(text.as_bytes(), ""),
            FileFormat::MysqlBatch => TextRows::from_mysql_batch(text.as_bytes()),
            FileFormat::SqlcmdJson => json_rows(&text),
        };
        parsed.map_err(|e| Recorded::Unusable(format!("{relative}: {}", e.message)))
    }
}

/// sqlcmd's lines of a `FOR JSON` result, joined (JSON strings escape their own line
/// breaks, so every line break in the file is sqlcmd's), as rows of text in the forms
/// sqlcmd prints them (`mssql/cells.rs`): bit as `1`/`0`, numbers as written.
fn json_rows(text: &str) -> Result<TextRows, crate::db::rows::RowsError> {
    let joined: String = text.chars().filter(|c| *c != '\n' && *c != '\r').collect();
    let error = |message: String| crate::db::rows::RowsError { message };
    if joined.trim().is_empty() {
        return Ok(TextRows::default());
    }
    let value: serde_json::Value =
        serde_json::from_str(&joined).map_err(|e| error(format!("not a JSON result: {e}")))?;
    let items = value
        .as_array()
        .ok_or_else(|| error("not a JSON array of rows".to_owned()))?;
    let mut columns: Vec<String> = Vec::new();
    for item in items {
        for key in item.as_object().into_iter().flat_map(|o| o.keys()) {
            if !columns.contains(key) {
                columns.push(key.clone());
            }
        }
    }
    let mut rows = TextRows::new(columns.clone());
    for (i, item) in items.iter().enumerate() {
        let object = item
            .as_object()
            .ok_or_else(|| error(format!("record {}: not an object", i + 1)))?;
        rows.rows.push(
            columns
                .iter()
                .map(|c| match object.get(c) {
                    None | Some(serde_json::Value::Null) => None,
                    Some(serde_json::Value::Bool(b)) => Some(if *b { "1" } else { "0" }.to_owned()),
                    Some(serde_json::Value::String(s)) => Some(s.clone()),
                    Some(other) => Some(other.to_string()),
                })
                .collect(),
        );
    }
    Ok(rows)
}

/// The text of a file the clients were told to write in UTF-8.
fn decode(relative: &str, bytes: &[u8]) -> Result<String, String> {
    if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        return Err(format!(
            "{relative} is UTF-16 (re-saved by an editor or PowerShell?): send the files as the script wrote them"
        ));
    }
    let bytes = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(bytes);
    String::from_utf8(bytes.to_vec()).map_err(|e| {
        format!(
            "{relative} is not UTF-8 (invalid byte at offset {}): the client wrote another \
             encoding; run the script again unchanged (it asks for UTF-8)",
            e.utf8_error().valid_up_to()
        )
    })
}

/// What an import found wrong with the files, shared between the replaying
/// collector and the import that reports it.
#[derive(Debug, Default)]
pub struct Findings {
    /// Files that could not be used, one line each.
    pub unusable: Vec<String>,
    /// Columns a mapping looked for in each file read, and did not find.
    absent: Vec<(String, Arc<Mutex<BTreeSet<String>>>)>,
    pub files_read: usize,
}

impl Findings {
    /// Every problem, one line each, files in the order they were read.
    pub fn problems(&self) -> Vec<String> {
        let mut out = self.unusable.clone();
        for (file, absent) in &self.absent {
            let absent = absent.lock().map(|a| a.clone()).unwrap_or_default();
            if !absent.is_empty() {
                out.push(format!(
                    "{file} lacks {}: it was not written by this version of the script for this server",
                    absent.into_iter().collect::<Vec<_>>().join(", ")
                ));
            }
        }
        out
    }
}

/// A capture answering a collector's queries, one phase at a time.
#[derive(Debug)]
pub struct Replay {
    capture: Arc<Capture>,
    phase: Phase,
    now: DateTime<Utc>,
    findings: Arc<Mutex<Findings>>,
}

impl Replay {
    pub fn new(capture: Arc<Capture>, findings: Arc<Mutex<Findings>>) -> Self {
        let mut replay = Self {
            now: capture.manifest.started_at,
            capture,
            phase: Phase::Start,
            findings,
        };
        replay.set_phase(Phase::Start);
        replay
    }

    pub fn capture(&self) -> &Capture {
        &self.capture
    }

    /// Moves to `phase`; its time is its `clock` reading, else the manifest's start
    /// or end time.
    pub fn set_phase(&mut self, phase: Phase) {
        self.phase = phase;
        let fallback = match phase {
            Phase::End => self.capture.manifest.ended_at,
            _ => self.capture.manifest.started_at,
        };
        self.now = self
            .capture
            .rows(phase, "clock")
            .ok()
            .and_then(|rows| rows.first().and_then(|r| r.text("at").and_then(parse_time)))
            .unwrap_or(fallback);
    }

    /// The time of the current phase.
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The rows of query `name` in the current phase.
    pub fn fetch(&mut self, name: &str) -> Result<TextRows, Recorded> {
        let result = self.capture.rows(self.phase, name);
        let mut findings = self.findings.lock().unwrap_or_else(|e| e.into_inner());
        match result {
            Ok(mut rows) => {
                findings.files_read += 1;
                let absent = Arc::new(Mutex::new(BTreeSet::new()));
                rows.track_absent(Arc::clone(&absent));
                let file = self
                    .capture
                    .relative(self.phase, name, self.capture.format.extension());
                findings.absent.push((file, absent));
                Ok(rows)
            }
            Err(Recorded::Unusable(message)) => {
                if !findings.unusable.contains(&message) {
                    findings.unusable.push(message.clone());
                }
                Err(Recorded::Unusable(message))
            }
            Err(failed) => Err(failed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_for_json_result_split_by_sqlcmd_reads_in_sqlcmd_forms() {
        // As SQL Server writes FOR JSON PATH, INCLUDE_NULL_VALUES: bit as true/false,
        // numbers bare, datetime2 with a T, NULL kept; sqlcmd cuts the text anywhere.
        let json = r#"[{"name":"max degree of parallelism","value_in_use":0,"is_advanced":true,"at":"2026-12-02T10:00:00.1234567","note":null,"text":"SELECT a,\nb"},{"name":"xp_cmdshell","value_in_use":1,"is_advanced":false,"at":null,"note":"x","text":""}]"#;
        let split: String = json
            .chars()
            .collect::<Vec<_>>()
            .chunks(17)
            .map(|c| c.iter().collect::<String>() + "\r\n")
            .collect();
        let rows = json_rows(&split).unwrap();
        let r: Vec<_> = rows.iter().collect();
        assert_eq!(r[0].text("name"), Some("max degree of parallelism"));
        assert_eq!(r[0].i64("value_in_use"), Some(0));
        assert_eq!(r[0].text("is_advanced"), Some("1"));
        assert_eq!(r[0].bool("is_advanced"), Some(true));
        assert!(r[0].time("at").is_some());
        assert_eq!(r[0].text("note"), None);
        assert_eq!(r[0].text("text"), Some("SELECT a,\nb"));
        assert_eq!(r[1].bool("is_advanced"), Some(false));
        assert!(
            json_rows("").unwrap().is_empty(),
            "no rows: sqlcmd prints nothing"
        );
        let e = json_rows("Msg 208, Level 16\n").unwrap_err();
        assert!(e.message.contains("not a JSON result"), "{}", e.message);
    }
}
