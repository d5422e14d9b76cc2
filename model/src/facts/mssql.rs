//! SQL Server facts (document `mssql`: one entry per target).
//!
//! What the probe read once (version, configuration, databases, tempdb, security) and
//! the cumulative counters it read twice, at the start and the end of the window
//! (`start`, `end`: waits, file I/O, performance counters), so analyzers compute rates
//! over the window themselves. Every part the probe may fail to read is an `Option`
//! or an empty list with a probe record saying why: `None` is "unknown", never zero.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MssqlFacts {
    /// The target's label: its URL without password.
    pub target: String,
    /// `@@VERSION`, e.g. "Microsoft SQL Server 2019 (RTM-CU22) (KB5027702) - 15.0.4322.2 …".
    pub version: Option<String>,
    /// `SERVERPROPERTY('ProductVersion')`, e.g. "15.0.4322.2".
    pub product_version: Option<String>,
    /// `SERVERPROPERTY('ProductLevel')`: "RTM", "SP1", …
    pub product_level: Option<String>,
    /// `SERVERPROPERTY('ProductUpdateLevel')`: "CU22", … (`None` on RTM or old builds).
    pub product_update_level: Option<String>,
    /// `SERVERPROPERTY('Edition')`, e.g. "Enterprise Edition (64-bit)".
    pub edition: Option<String>,
    /// `SERVERPROPERTY('EngineEdition')`: 2 Standard, 3 Enterprise, 4 Express, 5 Azure
    /// SQL Database, 8 Managed Instance, …
    pub engine_edition: Option<i64>,
    /// `host_platform` of `sys.dm_os_host_info`: "Windows" or "Linux".
    pub host_platform: Option<String>,
    /// `SERVERPROPERTY('ServerName')` (`@@SERVERNAME` when it is NULL).
    pub server_name: Option<String>,
    /// The login the probe connected as.
    pub login: Option<String>,
    /// The database the probe connected to.
    pub database: Option<String>,
    /// `IS_SRVROLEMEMBER('sysadmin')` of the probe's login.
    pub is_sysadmin: Option<bool>,
    /// `HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW SERVER STATE')`.
    pub has_view_server_state: Option<bool>,
    /// `HAS_PERMS_BY_NAME(NULL, NULL, 'VIEW ANY DEFINITION')`: without it the catalog
    /// hides other logins and file names (see `MssqlSecurity::logins_visible`).
    pub has_view_any_definition: Option<bool>,
    pub started_at: Option<DateTime<Utc>>,
    pub uptime_secs: Option<f64>,
    pub system: Option<MssqlSystem>,
    /// Every row of `sys.configurations`.
    pub configurations: Vec<MssqlConfiguration>,
    /// Memory as the server sees it, read at the end of the window.
    pub memory: Option<MssqlMemory>,
    /// The plan cache by object type (`sys.dm_exec_cached_plans`).
    pub plan_cache: Option<MssqlPlanCache>,
    /// User databases and the system ones that matter (master, model, msdb, tempdb).
    pub databases: Vec<MssqlDatabase>,
    /// The files of tempdb.
    pub tempdb_files: Vec<MssqlDatabaseFile>,
    /// Counters at the start of the window.
    pub start: Option<MssqlCounters>,
    /// Counters at the end of the window.
    pub end: Option<MssqlCounters>,
    pub security: Option<MssqlSecurity>,
}

impl MssqlFacts {
    pub fn configuration(&self, name: &str) -> Option<&MssqlConfiguration> {
        self.configurations
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
    }

    /// The value in use of a configuration option (`value_in_use`).
    pub fn config_in_use(&self, name: &str) -> Option<i64> {
        self.configuration(name).map(|c| c.value_in_use)
    }

    /// The major version: 13 (2016), 14 (2017), 15 (2019), 16 (2022), 17 (2025).
    pub fn major_version(&self) -> Option<i64> {
        self.product_version
            .as_deref()?
            .split('.')
            .next()?
            .parse()
            .ok()
    }

    /// The database named `name` (case-insensitive, as SQL Server's default collation).
    pub fn database(&self, name: &str) -> Option<&MssqlDatabase> {
        self.databases
            .iter()
            .find(|d| d.name.eq_ignore_ascii_case(name))
    }

    /// The waits of the window: end minus start per wait type, for wait types with
    /// time in the window. Empty unless both readings were taken. A counter that went
    /// down (the statistics were cleared in the window) counts from zero: its end value.
    pub fn window_waits(&self) -> Vec<MssqlWait> {
        let (Some(start), Some(end)) = (&self.start, &self.end) else {
            return Vec::new();
        };
        let mut out: Vec<MssqlWait> = end
            .waits
            .iter()
            .filter_map(|e| {
                let s = start.wait(&e.wait_type);
                let delta = match s {
                    Some(s) if s.wait_time_ms <= e.wait_time_ms => MssqlWait {
                        wait_type: e.wait_type.clone(),
                        waiting_tasks: (e.waiting_tasks - s.waiting_tasks).max(0),
                        wait_time_ms: e.wait_time_ms - s.wait_time_ms,
                        signal_wait_time_ms: (e.signal_wait_time_ms - s.signal_wait_time_ms).max(0),
                    },
                    _ => e.clone(),
                };
                (delta.wait_time_ms > 0).then_some(delta)
            })
            .collect();
        out.sort_by(|a, b| {
            b.wait_time_ms
                .cmp(&a.wait_time_ms)
                .then_with(|| a.wait_type.cmp(&b.wait_type))
        });
        out
    }
}

/// `sys.dm_os_sys_info`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MssqlSystem {
    /// Logical CPUs the server sees.
    pub cpu_count: Option<i64>,
    /// Logical CPUs per physical socket.
    pub hyperthread_ratio: Option<i64>,
    /// `socket_count` (SQL Server 2016 SP2+).
    pub socket_count: Option<i64>,
    /// `cores_per_socket` (SQL Server 2016 SP2+).
    pub cores_per_socket: Option<i64>,
    /// `numa_node_count` (SQL Server 2016 SP2+), else the online nodes of
    /// `sys.dm_os_nodes`.
    pub numa_node_count: Option<i64>,
    /// Visible online schedulers.
    pub scheduler_count: Option<i64>,
    pub physical_memory_bytes: Option<i64>,
    pub committed_bytes: Option<i64>,
    pub committed_target_bytes: Option<i64>,
    pub max_workers_count: Option<i64>,
    /// `virtual_machine_type_desc`: "NONE", "HYPERVISOR", …
    pub virtual_machine_type: Option<String>,
}

/// One row of `sys.configurations`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MssqlConfiguration {
    /// e.g. "max server memory (MB)", "max degree of parallelism".
    pub name: String,
    /// The configured value (`value`): takes effect after RECONFIGURE (or a restart
    /// when the option is not dynamic).
    pub value: i64,
    /// The value in effect (`value_in_use`).
    pub value_in_use: i64,
    pub minimum: Option<i64>,
    pub maximum: Option<i64>,
    pub is_dynamic: bool,
    pub is_advanced: bool,
}

/// Memory as the server sees it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MssqlMemory {
    /// `Total Server Memory (KB)` in bytes.
    pub total_server_bytes: Option<i64>,
    /// `Target Server Memory (KB)` in bytes.
    pub target_server_bytes: Option<i64>,
    /// `Page life expectancy` of the Buffer Manager, seconds.
    pub page_life_expectancy_s: Option<i64>,
    /// `Memory Grants Pending` of the Memory Manager.
    pub memory_grants_pending: Option<i64>,
    /// `sys.dm_os_process_memory.physical_memory_in_use_kb` in bytes.
    pub process_physical_bytes: Option<i64>,
    /// `locked_page_allocations_kb` in bytes: above zero when Lock Pages in Memory is
    /// in effect.
    pub locked_page_allocations_bytes: Option<i64>,
    /// `process_physical_memory_low` / `system_low_memory_signal_state`.
    pub process_memory_low: Option<bool>,
    pub system_memory_low: Option<bool>,
    /// `sys.dm_os_sys_memory.available_physical_memory_kb` in bytes.
    pub available_physical_bytes: Option<i64>,
}

/// The plan cache, from `sys.dm_exec_cached_plans`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MssqlPlanCache {
    pub plans: i64,
    pub bytes: i64,
    /// Ad hoc plans used once (`objtype = 'Adhoc' AND usecounts = 1`).
    pub single_use_adhoc_plans: i64,
    pub single_use_adhoc_bytes: i64,
}

/// One database of `sys.databases`, with what was learned about it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MssqlDatabase {
    pub name: String,
    pub database_id: i64,
    /// `ONLINE`, `RESTORING`, `OFFLINE`, …
    pub state: Option<String>,
    /// `FULL`, `BULK_LOGGED`, `SIMPLE`.
    pub recovery_model: Option<String>,
    pub compatibility_level: Option<i64>,
    /// `CHECKSUM`, `TORN_PAGE_DETECTION`, `NONE`.
    pub page_verify: Option<String>,
    pub auto_shrink: Option<bool>,
    pub auto_close: Option<bool>,
    pub auto_create_stats: Option<bool>,
    pub auto_update_stats: Option<bool>,
    pub read_committed_snapshot: Option<bool>,
    /// `snapshot_isolation_state_desc` is `ON`.
    pub snapshot_isolation: Option<bool>,
    /// `is_read_only`: a read-only database needs no log backups nor index upkeep.
    pub is_read_only: Option<bool>,
    /// Data files in bytes (`sys.master_files`, type ROWS).
    pub data_bytes: Option<i64>,
    /// Log files in bytes (type LOG).
    pub log_bytes: Option<i64>,
    /// Virtual log files (`sys.dm_db_log_info`, SQL Server 2016 SP2+).
    pub vlf_count: Option<i64>,
    /// `log_reuse_wait_desc`: why the log cannot be truncated (`NOTHING`, `LOG_BACKUP`, …).
    pub log_reuse_wait: Option<String>,
    /// The last backups recorded in msdb (`None`: never, or msdb unreadable: see
    /// the probe record).
    pub last_full_backup: Option<DateTime<Utc>>,
    pub last_diff_backup: Option<DateTime<Utc>>,
    pub last_log_backup: Option<DateTime<Utc>>,
    /// `DATABASEPROPERTYEX(name, 'LastGoodCheckDbTime')` (SQL Server 2016 SP2+).
    pub last_good_checkdb: Option<DateTime<Utc>>,
    /// `sys.database_query_store_options`, read per database; `None` when unreadable.
    pub query_store: Option<MssqlQueryStore>,
}

impl MssqlDatabase {
    /// master, model, msdb, tempdb (and the resource database, never listed).
    pub fn is_system(&self) -> bool {
        self.database_id <= 4
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MssqlQueryStore {
    /// `OFF`, `READ_ONLY`, `READ_WRITE`, `ERROR`.
    pub actual_state: String,
    pub desired_state: Option<String>,
    /// Why Query Store went READ_ONLY on its own (`readonly_reason`): 1 the
    /// database is read-only, 2 single-user, 4 emergency, 8 a secondary replica,
    /// 65536 max_storage_size_mb reached, 131072 too many statements in memory,
    /// 262144 in-memory items wait to be persisted, 524288 the user database hit its
    /// size limit; 0 otherwise.
    pub readonly_reason: Option<i64>,
    pub current_storage_mb: Option<i64>,
    pub max_storage_mb: Option<i64>,
    /// `query_capture_mode_desc`: `ALL`, `AUTO`, `NONE`, `CUSTOM`.
    pub capture_mode: Option<String>,
}

/// A database file (`sys.master_files`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MssqlDatabaseFile {
    pub file_id: i64,
    /// The logical name.
    pub name: String,
    /// `ROWS` or `LOG`.
    pub type_desc: String,
    pub physical_name: Option<String>,
    pub size_bytes: Option<i64>,
    /// Growth in bytes, when it is not a percentage.
    pub growth_bytes: Option<i64>,
    /// Growth in percent, when it is one.
    pub growth_pct: Option<i64>,
}

/// Cumulative counters read at one moment.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MssqlCounters {
    /// The server's clock when read (`SYSUTCDATETIME()`).
    pub at: DateTime<Utc>,
    /// `sys.dm_os_wait_stats`, benign waits excluded, waits with no time left out.
    pub waits: Vec<MssqlWait>,
    /// `sys.dm_io_virtual_file_stats(NULL, NULL)` joined to `sys.master_files`.
    pub files: Vec<MssqlFileIo>,
    /// Cumulative `sys.dm_os_performance_counters` (cntr_type 272696576): `Batch
    /// Requests/sec`, `SQL Compilations/sec`, `SQL Re-Compilations/sec`, `Page
    /// reads/sec`, `Page writes/sec`, `Full Scans/sec`, `Index Searches/sec`,
    /// `Lock Waits/sec`, `Number of Deadlocks/sec`, `Transactions/sec` (_Total),
    /// `Log Flushes/sec` (_Total).
    pub counters: Vec<MssqlCounter>,
}

impl MssqlCounters {
    pub fn wait(&self, wait_type: &str) -> Option<&MssqlWait> {
        self.waits
            .iter()
            .find(|w| w.wait_type.eq_ignore_ascii_case(wait_type))
    }

    pub fn counter(&self, name: &str) -> Option<i64> {
        self.counters
            .iter()
            .find(|c| c.name.eq_ignore_ascii_case(name))
            .map(|c| c.value)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MssqlCounter {
    /// `counter_name`, trimmed.
    pub name: String,
    pub value: i64,
}

/// One row of `sys.dm_os_wait_stats`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MssqlWait {
    pub wait_type: String,
    pub waiting_tasks: i64,
    pub wait_time_ms: i64,
    pub signal_wait_time_ms: i64,
}

/// File I/O of one database file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MssqlFileIo {
    pub database: String,
    pub file_id: i64,
    /// The logical file name.
    pub file: String,
    /// `ROWS` or `LOG`.
    pub type_desc: String,
    pub physical_name: Option<String>,
    pub reads: i64,
    pub bytes_read: i64,
    pub read_stall_ms: i64,
    pub writes: i64,
    pub bytes_written: i64,
    pub write_stall_ms: i64,
    pub size_bytes: Option<i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MssqlSecurity {
    /// The `sa` login (principal_id 1) is enabled; its current name in `sa_name`.
    pub sa_enabled: Option<bool>,
    pub sa_name: Option<String>,
    /// Members of the sysadmin role, enabled logins only.
    pub sysadmins: Vec<String>,
    /// Enabled SQL logins with `is_policy_checked = 0`.
    pub logins_without_policy: Vec<String>,
    /// Enabled SQL logins with `is_expiration_checked = 0`.
    pub logins_without_expiration: Vec<String>,
    /// The authentication mode: `true` when only Windows logins are allowed.
    pub windows_auth_only: Option<bool>,
    /// Whether the lists above are complete: `false` when the login could see only
    /// itself and sa (no VIEW ANY DEFINITION), so an empty list means "unknown", not
    /// "none"; `None` when the logins could not be read at all.
    pub logins_visible: Option<bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait(wait_type: &str, tasks: i64, ms: i64) -> MssqlWait {
        MssqlWait {
            wait_type: wait_type.to_owned(),
            waiting_tasks: tasks,
            wait_time_ms: ms,
            signal_wait_time_ms: 0,
        }
    }

    fn counters(waits: Vec<MssqlWait>) -> MssqlCounters {
        MssqlCounters {
            at: Utc::now(),
            waits,
            ..MssqlCounters::default()
        }
    }

    #[test]
    fn window_waits_subtract_and_survive_a_clear() {
        let facts = MssqlFacts {
            start: Some(counters(vec![
                wait("LCK_M_X", 10, 1_000),
                wait("WRITELOG", 50, 9_000),
                wait("CXPACKET", 5, 700),
            ])),
            end: Some(counters(vec![
                wait("LCK_M_X", 12, 4_000),    // 3 s in the window
                wait("WRITELOG", 3, 200),      // cleared in the window: counted from zero
                wait("CXPACKET", 5, 700),      // did not wait: left out
                wait("PAGEIOLATCH_SH", 1, 50), // first seen at the end
            ])),
            ..MssqlFacts::default()
        };
        let got: Vec<(String, i64, i64)> = facts
            .window_waits()
            .into_iter()
            .map(|w| (w.wait_type, w.waiting_tasks, w.wait_time_ms))
            .collect();
        assert_eq!(
            got,
            [
                ("LCK_M_X".to_owned(), 2, 3_000),
                ("WRITELOG".to_owned(), 3, 200),
                ("PAGEIOLATCH_SH".to_owned(), 1, 50),
            ]
        );
        let half = MssqlFacts { end: None, ..facts };
        assert!(half.window_waits().is_empty(), "one reading is no window");
    }
}
