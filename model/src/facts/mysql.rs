//! MySQL and MariaDB facts (document `mysql`: one entry per target).
//!
//! What the probe read once (variables, accounts, replication) and what it derived
//! from its two readings of the global status (start and end of the window). Every
//! value the probe may fail to read is an `Option` or an empty collection, and the
//! probe's records say why: `None` is "unknown", never zero.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MysqlFacts {
    /// The target's label: its URL without password.
    pub target: String,
    /// Detected from `version()` and `@@version_comment`.
    pub flavor: Option<MysqlFlavor>,
    /// `version()` as the server reports it, e.g. `10.11.6-MariaDB-0+deb12u1`.
    pub version: Option<String>,
    /// `@@version_comment`, e.g. `Percona Server (GPL), Release 27`.
    pub version_comment: Option<String>,
    /// Seconds since the server started (status `Uptime`).
    pub uptime_secs: Option<u64>,
    /// Every global variable, raw (`SHOW GLOBAL VARIABLES`).
    pub variables: BTreeMap<String, String>,
    /// The variables the rules and steps read, normalised (sizes in bytes).
    pub settings: MysqlSettings,
    /// Every global status value at the end of the window (or at its start when the
    /// end reading failed), raw.
    pub status: BTreeMap<String, String>,
    /// Counters over the window: end reading minus start reading.
    pub window: Option<StatusWindow>,
    pub innodb: InnodbFacts,
    pub connections: ConnectionFacts,
    /// `None` when the replication state could not be read; empty when the server is
    /// not a replica.
    pub replication: Option<Vec<ReplicaChannel>>,
    /// Data sizes over all non-system schemas (information_schema.TABLES).
    pub data: Option<DataSizes>,
    /// Accounts from the `mysql` schema; `None` when it could not be read.
    pub accounts: Option<Vec<Account>>,
}

impl MysqlFacts {
    /// A raw global variable.
    pub fn variable(&self, name: &str) -> Option<&str> {
        self.variables.get(name).map(String::as_str)
    }

    /// Whether the server is MariaDB (whose variables and SQL differ from MySQL's).
    pub fn is_mariadb(&self) -> bool {
        self.flavor == Some(MysqlFlavor::Mariadb)
    }

    /// `(major, minor, patch)` of the version, when it parses.
    pub fn version_triple(&self) -> Option<(u32, u32, u32)> {
        let v = self.version.as_deref()?;
        let core = v.split(['-', '+', ' ']).next()?;
        let mut parts = core.split('.').map(|p| p.parse::<u32>().ok());
        Some((
            parts.next()??,
            parts.next()??,
            parts.next().flatten().unwrap_or(0),
        ))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MysqlFlavor {
    Mysql,
    Mariadb,
    /// Percona Server for MySQL: MySQL's SQL and variables, with extensions.
    Percona,
}

/// The variables rules and plan steps read, parsed; `None` when absent or unparsable.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MysqlSettings {
    pub innodb_buffer_pool_size_bytes: Option<u64>,
    pub innodb_log_file_size_bytes: Option<u64>,
    pub innodb_flush_log_at_trx_commit: Option<u64>,
    pub max_connections: Option<u64>,
    pub thread_cache_size: Option<u64>,
    pub table_open_cache: Option<u64>,
    pub tmp_table_size_bytes: Option<u64>,
    pub max_heap_table_size_bytes: Option<u64>,
    pub slow_query_log: Option<bool>,
    pub long_query_time_secs: Option<f64>,
    pub performance_schema: Option<bool>,
    pub log_bin: Option<bool>,
    pub sync_binlog: Option<u64>,
    pub read_only: Option<bool>,
}

/// Global status counters over the collection window.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StatusWindow {
    /// Seconds between the two readings.
    pub seconds: f64,
    /// End minus start of every numeric status value (gauges included: their delta is
    /// only a change, read the `status` map for their level).
    pub deltas: BTreeMap<String, i64>,
}

impl StatusWindow {
    pub fn delta(&self, name: &str) -> Option<i64> {
        self.deltas.get(name).copied()
    }

    /// The counter's average rate per second over the window.
    pub fn rate(&self, name: &str) -> Option<f64> {
        (self.seconds > 0.0).then(|| self.delta(name).map(|d| d as f64 / self.seconds))?
    }

    /// Queries per second (`Questions`: statements sent by clients).
    pub fn qps(&self) -> Option<f64> {
        self.rate("Questions")
    }

    /// Transactions per second (`Com_commit + Com_rollback`).
    pub fn tps(&self) -> Option<f64> {
        Some(self.rate("Com_commit")? + self.rate("Com_rollback")?)
    }

    /// Share of implicit temporary tables created on disk, in %; `None` without any.
    pub fn tmp_disk_pct(&self) -> Option<f64> {
        let all = self.delta("Created_tmp_tables")?;
        let disk = self.delta("Created_tmp_disk_tables")?;
        (all > 0).then(|| disk as f64 * 100.0 / all as f64)
    }

    /// InnoDB buffer pool hit ratio over the window, in %; `None` without reads.
    pub fn buffer_pool_hit_pct(&self) -> Option<f64> {
        let requests = self.delta("Innodb_buffer_pool_read_requests")?;
        let reads = self.delta("Innodb_buffer_pool_reads")?;
        (requests > 0).then(|| 100.0 - reads as f64 * 100.0 / requests as f64)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InnodbFacts {
    /// Undo records not yet purged (INNODB_METRICS `trx_rseg_history_len`, or
    /// `History list length` of SHOW ENGINE INNODB STATUS).
    pub history_list_length: Option<u64>,
    /// Deadlocks since startup (MariaDB status `Innodb_deadlocks`, or INNODB_METRICS
    /// `lock_deadlocks` when that counter is enabled).
    pub deadlocks: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConnectionFacts {
    pub max_connections: Option<u64>,
    /// The high-water mark since startup.
    pub max_used_connections: Option<u64>,
    pub threads_connected: Option<u64>,
    pub threads_running: Option<u64>,
}

/// One replication channel of SHOW SLAVE STATUS / SHOW REPLICA STATUS.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReplicaChannel {
    /// Channel (MySQL) or connection (MariaDB multi-source) name; empty by default.
    pub channel: String,
    pub source_host: Option<String>,
    pub io_running: Option<String>,
    pub sql_running: Option<String>,
    pub seconds_behind: Option<u64>,
    pub last_error: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DataSizes {
    /// Data + index bytes of InnoDB tables: what the buffer pool would hold.
    pub innodb_bytes: u64,
    /// Data + index bytes of all tables.
    pub total_bytes: u64,
    pub tables: u64,
    pub myisam_tables: u64,
}

/// An account, as the security checks need it; never its password hash.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub user: String,
    pub host: String,
    /// Authentication plugin; empty on old MariaDB rows that mean native passwords.
    pub plugin: String,
    /// No password at all with a password-based plugin (not socket/PAM/GSSAPI).
    pub empty_password: bool,
    /// Holds any global (`*.*`) privilege.
    pub global_privileges: bool,
    pub locked: bool,
}
