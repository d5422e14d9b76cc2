//! PostgreSQL facts (document `postgres`: one entry per target).
//!
//! What the probe read once (version, settings, databases, extensions, security) and
//! the cumulative counters it read twice, at the start and the end of the window
//! (`start`, `end`), so analyzers compute rates over the window themselves. Every part
//! a probe may fail to read is an `Option` or an empty list with a probe record saying
//! why: `None` is "unknown", never zero.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PostgresFacts {
    /// The target's label: its URL without password.
    pub target: String,
    /// `server_version_num`, e.g. 150004.
    pub server_version_num: Option<i64>,
    /// `version()`, e.g. "PostgreSQL 15.4 (Debian 15.4-1) on x86_64-pc-linux-gnu, ...".
    pub version: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub uptime_secs: Option<f64>,
    /// The database the probe connected to (tables and indexes are read from it).
    pub database: Option<String>,
    /// The role the probe logged in as.
    pub user: Option<String>,
    /// Whether the role is a superuser (then privilege remedies do not apply).
    pub is_superuser: Option<bool>,
    pub in_recovery: Option<bool>,
    /// Every row of `pg_settings`.
    pub settings: Vec<PgSetting>,
    pub databases: Vec<PgDatabase>,
    /// Extensions installed in the connected database.
    pub extensions: Vec<PgExtension>,
    pub pg_stat_statements: PgStatStatementsState,
    /// Counters at the start of the window.
    pub start: Option<PgCounters>,
    /// Counters at the end of the window.
    pub end: Option<PgCounters>,
    pub replication: Option<PgReplication>,
    pub connections: Option<PgConnections>,
    pub security: Option<PgSecurity>,
}

impl PostgresFacts {
    pub fn setting(&self, name: &str) -> Option<&PgSetting> {
        self.settings.iter().find(|s| s.name == name)
    }

    /// The normalised value (bytes or milliseconds) of a setting with a unit, or the
    /// plain number of a unitless numeric setting.
    pub fn setting_number(&self, name: &str) -> Option<f64> {
        let s = self.setting(name)?;
        s.normalised.or_else(|| s.setting.trim().parse().ok())
    }

    /// The raw text of a setting.
    pub fn setting_text(&self, name: &str) -> Option<&str> {
        self.setting(name).map(|s| s.setting.as_str())
    }

    /// The major version, e.g. 15 (from `server_version_num`).
    pub fn major_version(&self) -> Option<i64> {
        self.server_version_num.map(|n| n / 10_000)
    }
}

/// One row of `pg_settings`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PgSetting {
    pub name: String,
    /// The raw value as the server shows it, in `unit`s (e.g. "16384" with unit "8kB").
    pub setting: String,
    /// `8kB`, `kB`, `MB`, `B`, `ms`, `s`, `min`; `None` for unitless settings.
    pub unit: Option<String>,
    /// `bool`, `enum`, `integer`, `real`, `string`.
    pub vartype: String,
    /// Where the value comes from: `default`, `configuration file`, `command line`, ...
    pub source: String,
    /// The value in bytes (memory units) or milliseconds (time units).
    pub normalised: Option<f64>,
    /// `bytes` or `ms` when `normalised` is set.
    pub normalised_unit: Option<String>,
    /// Changed in the configuration file but waiting for a restart.
    pub pending_restart: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PgDatabase {
    pub name: String,
    /// `None` when the role may not connect to it (then its size cannot be read).
    pub size_bytes: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PgExtension {
    pub name: String,
    pub version: String,
    pub schema: String,
}

/// Whether statement statistics can be read, and since when they accumulate.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PgStatStatementsState {
    /// `CREATE EXTENSION pg_stat_statements` was run in the connected database.
    pub installed: bool,
    /// `shared_preload_libraries` names it (needed for it to collect anything).
    pub preloaded: bool,
    /// The probe read it successfully.
    pub readable: bool,
    /// `pg_stat_statements_info.stats_reset` (PostgreSQL 14+).
    pub reset_at: Option<DateTime<Utc>>,
    /// Entries evicted because `pg_stat_statements.max` was reached (PostgreSQL 14+).
    pub dealloc: Option<i64>,
    /// Statistics were reset between the two readings: the window's numbers are
    /// counted from the reset.
    pub reset_in_window: bool,
}

/// Cumulative counters read at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PgCounters {
    /// The server's clock when read.
    pub at: DateTime<Utc>,
    pub databases: Vec<PgDatabaseStats>,
    pub bgwriter: Option<PgCheckpointer>,
    /// `pg_stat_wal` (PostgreSQL 14+).
    pub wal: Option<PgWal>,
}

/// One row of `pg_stat_database` (the shared-objects row, with no name, is skipped).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PgDatabaseStats {
    pub datname: String,
    pub numbackends: Option<i64>,
    pub xact_commit: Option<i64>,
    pub xact_rollback: Option<i64>,
    pub blks_read: Option<i64>,
    pub blks_hit: Option<i64>,
    pub temp_files: Option<i64>,
    pub temp_bytes: Option<i64>,
    pub deadlocks: Option<i64>,
    pub conflicts: Option<i64>,
    pub stats_reset: Option<DateTime<Utc>>,
}

/// Checkpointer and background writer counters: `pg_stat_bgwriter` up to
/// PostgreSQL 16, `pg_stat_checkpointer` + `pg_stat_bgwriter` from 17. A counter the
/// version does not have is `None`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PgCheckpointer {
    pub checkpoints_timed: Option<i64>,
    pub checkpoints_req: Option<i64>,
    pub checkpoint_write_time_ms: Option<f64>,
    pub checkpoint_sync_time_ms: Option<f64>,
    pub buffers_checkpoint: Option<i64>,
    pub buffers_clean: Option<i64>,
    pub maxwritten_clean: Option<i64>,
    /// Removed in PostgreSQL 17 (see pg_stat_io).
    pub buffers_backend: Option<i64>,
    pub buffers_alloc: Option<i64>,
    pub stats_reset: Option<DateTime<Utc>>,
}

/// `pg_stat_wal`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PgWal {
    pub wal_records: Option<i64>,
    pub wal_fpi: Option<i64>,
    pub wal_bytes: Option<f64>,
    pub wal_buffers_full: Option<i64>,
    /// Removed in PostgreSQL 18 (see pg_stat_io).
    pub wal_write: Option<i64>,
    pub wal_sync: Option<i64>,
    pub stats_reset: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PgReplication {
    pub in_recovery: bool,
    /// Standbys streaming from this server (`pg_stat_replication`).
    pub replicas: Vec<PgReplica>,
    /// On a standby: how far replay lags behind the last transaction received.
    pub replay_delay_ms: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PgReplica {
    pub application_name: Option<String>,
    pub client_addr: Option<String>,
    pub state: Option<String>,
    pub sync_state: Option<String>,
    pub write_lag_ms: Option<f64>,
    pub flush_lag_ms: Option<f64>,
    pub replay_lag_ms: Option<f64>,
    /// WAL bytes sent but not yet replayed.
    pub replay_lag_bytes: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PgConnections {
    pub max_connections: Option<i64>,
    /// `superuser_reserved_connections` (+ `reserved_connections`, PostgreSQL 16+).
    pub reserved_connections: Option<i64>,
    /// Client backends by state at the start of the window.
    pub by_state: BTreeMap<String, i64>,
    /// The most client backends seen in one sample (start reading and every tick).
    pub peak_client_backends: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PgSecurity {
    pub superusers: Vec<String>,
    /// Login roles whose password never expires (`rolvaliduntil` unset).
    pub login_roles_without_expiry: Vec<String>,
    /// PUBLIC may create objects in schema `public` (the default before PostgreSQL 15).
    pub public_schema_create: Option<bool>,
    /// `pg_hba_file_rules`; `None` when the role may not read it.
    pub hba_rules: Option<Vec<PgHbaRule>>,
}

/// One line of pg_hba.conf as the server parsed it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PgHbaRule {
    pub line_number: Option<i64>,
    /// `local`, `host`, `hostssl`, `hostnossl`, ...
    pub conn_type: Option<String>,
    pub databases: Vec<String>,
    pub users: Vec<String>,
    pub address: Option<String>,
    pub netmask: Option<String>,
    pub auth_method: Option<String>,
    /// Set when the line does not parse (the server ignores it).
    pub error: Option<String>,
}

impl PgHbaRule {
    /// True for a TCP rule that matches any IPv4 or IPv6 address.
    pub fn matches_any_address(&self) -> bool {
        let address = self.address.as_deref().unwrap_or_default();
        let netmask = self.netmask.as_deref().unwrap_or_default();
        matches!(address, "all" | "0.0.0.0/0" | "::/0" | "0.0.0.0" | "::")
            && (netmask.is_empty() || netmask == "0.0.0.0" || netmask == "::")
            || (address == "0.0.0.0" && netmask == "0.0.0.0")
    }

    /// True for a rule applying to TCP connections (not the Unix socket).
    pub fn is_network(&self) -> bool {
        self.conn_type
            .as_deref()
            .is_some_and(|t| t.starts_with("host"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_resolve_to_normalised_numbers() {
        let facts = PostgresFacts {
            settings: vec![
                PgSetting {
                    name: "shared_buffers".into(),
                    setting: "16384".into(),
                    unit: Some("8kB".into()),
                    normalised: Some(134_217_728.0),
                    normalised_unit: Some("bytes".into()),
                    ..PgSetting::default()
                },
                PgSetting {
                    name: "max_connections".into(),
                    setting: "100".into(),
                    ..PgSetting::default()
                },
            ],
            server_version_num: Some(150_004),
            ..PostgresFacts::default()
        };
        assert_eq!(facts.setting_number("shared_buffers"), Some(134_217_728.0));
        assert_eq!(facts.setting_number("max_connections"), Some(100.0));
        assert_eq!(facts.setting_number("nope"), None);
        assert_eq!(facts.major_version(), Some(15));
    }

    #[test]
    fn hba_any_address() {
        let rule = |a: &str, m: Option<&str>| PgHbaRule {
            conn_type: Some("host".into()),
            address: Some(a.into()),
            netmask: m.map(Into::into),
            ..PgHbaRule::default()
        };
        assert!(rule("0.0.0.0/0", None).matches_any_address());
        assert!(rule("0.0.0.0", Some("0.0.0.0")).matches_any_address());
        assert!(rule("all", None).matches_any_address());
        assert!(!rule("10.0.0.0", Some("255.0.0.0")).matches_any_address());
        assert!(rule("all", None).is_network());
    }
}
