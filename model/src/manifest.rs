//! The snapshot manifest: what was collected, where, when, and how each probe fared.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::table::ColumnType;

/// The value of `manifest.format`, telling our files from any other zip archive.
pub const FORMAT: &str = "perfdiag-snapshot";

/// The snapshot schema this build writes. A reader accepts any minor version of its own
/// major (unknown fields are ignored) and refuses a newer major.
pub const SCHEMA_VERSION: SchemaVersion = SchemaVersion { major: 1, minor: 1 };

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SchemaVersion {
    pub major: u32,
    pub minor: u32,
}

impl std::fmt::Display for SchemaVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    pub schema_version: SchemaVersion,
    /// Version of the perfdiag that wrote the file.
    pub tool_version: String,
    pub host: HostIdentity,
    pub window: CollectionWindow,
    /// One record per probe, in registry order.
    pub probes: Vec<ProbeRecord>,
    /// The tables in the file, so `snapshot inspect` need not decode them.
    #[serde(default)]
    pub tables: Vec<TableEntry>,
    /// The names of the JSON facts documents in the file.
    #[serde(default)]
    pub facts: Vec<String>,
}

/// Which machine the snapshot describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostIdentity {
    pub hostname: String,
    /// e.g. "Debian GNU/Linux 12 (bookworm)".
    pub os: String,
    pub kernel: Option<String>,
    pub arch: String,
    /// /etc/machine-id where present: tells two hosts with the same name apart.
    pub machine_id: Option<String>,
}

/// The time window the samples cover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CollectionWindow {
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub interval_ms: u64,
    pub requested_duration_ms: u64,
    /// True when the engineer interrupted sampling (Ctrl-C) before the duration ran out.
    pub ended_early: bool,
}

impl CollectionWindow {
    pub fn duration_secs(&self) -> f64 {
        (self.ended_at - self.started_at).num_milliseconds() as f64 / 1000.0
    }
}

/// How one probe fared. Failure is data: it never aborts the collection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeRecord {
    /// Stable id, e.g. `host`, `os`, `sampler`, `network`, `postgres.settings`.
    pub id: String,
    /// The database target the probe ran against (its URL without password);
    /// `None` for host probes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub status: ProbeStatus,
    pub duration_ms: u64,
    /// The reason (skipped), the error (failed) or what is missing (partial).
    pub message: Option<String>,
    /// What the engineer can do about it: a package to install, a privilege to grant.
    pub hint: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProbeStatus {
    /// Everything the probe looks for was collected.
    Ok,
    /// Some of it was collected; `message` says what is missing.
    Partial,
    /// Not run: unsupported on this platform, or not asked for.
    Skipped,
    /// Ran and failed; `message` holds the error.
    Failed,
    /// Everything the probe looks for was read, from a capture of the offline scripts
    /// (`perfdiag import`) rather than from the server: as complete as `ok`, and says
    /// where the data came from. An imported part that was partial, skipped or failed
    /// keeps that status, so what is missing stays visible.
    Imported,
}

impl ProbeStatus {
    /// Whether the probe collected everything it looks for, live or from a capture:
    /// what reports and summaries leave out of "what could not be collected".
    pub fn is_complete(self) -> bool {
        matches!(self, Self::Ok | Self::Imported)
    }
}

impl std::fmt::Display for ProbeStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Ok => "ok",
            Self::Partial => "partial",
            Self::Skipped => "skipped",
            Self::Failed => "failed",
            Self::Imported => "imported",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableEntry {
    pub name: String,
    pub rows: u64,
    pub columns: Vec<ColumnEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnEntry {
    pub name: String,
    #[serde(rename = "type")]
    pub column_type: ColumnType,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_serialise_as_their_display_word() {
        for status in [
            ProbeStatus::Ok,
            ProbeStatus::Partial,
            ProbeStatus::Skipped,
            ProbeStatus::Failed,
            ProbeStatus::Imported,
        ] {
            let json = serde_json::to_string(&status).unwrap();
            assert_eq!(json, format!("\"{status}\""));
            assert_eq!(serde_json::from_str::<ProbeStatus>(&json).unwrap(), status);
        }
        assert_eq!(ProbeStatus::Imported.to_string(), "imported");
    }

    #[test]
    fn only_ok_and_imported_are_complete() {
        assert!(ProbeStatus::Ok.is_complete() && ProbeStatus::Imported.is_complete());
        for incomplete in [
            ProbeStatus::Partial,
            ProbeStatus::Skipped,
            ProbeStatus::Failed,
        ] {
            assert!(!incomplete.is_complete(), "{incomplete}");
        }
    }
}
