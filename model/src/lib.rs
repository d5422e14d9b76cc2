//! perfdiag's shared data model: the snapshot file and the documents derived from it.
//!
//! Probes write a [`Snapshot`]; analyzers read it and produce an [`Assessment`];
//! advice turns that into a [`Plan`]. This crate is kept light (no polars, no database
//! drivers) so every other crate can depend on it cheaply.

pub mod assessment;
pub mod comparison;
pub mod error;
pub mod facts;
pub mod manifest;
mod parquet_io;
pub mod plan;
pub mod snapshot;
pub mod table;
pub mod target;

pub use assessment::{
    Assessment, Comparison, Correlation, Dimension, DimensionScore, Evidence, Finding, FindingRef,
    Impact, ImpactBasis, LowConfidence, Metric, NotEvaluated, PrimaryBottleneck, QueryRef,
    Severity, Threshold, Tier, Unit, Value, WaitClassLoad, Workload, WorkloadAssessment,
};
pub use comparison::{
    ChangeDirection, ComparisonWarning, DimensionScoreChange, FindingChange, FindingStatus,
    KpiChange, KpiSide, QueryChange, QueryStats, QueryStatus, ScoreChange, SnapshotIdentity,
    WaitClassChange,
};
pub use error::SnapshotError;
pub use manifest::{
    CollectionWindow, HostIdentity, Manifest, ProbeRecord, ProbeStatus, SCHEMA_VERSION,
    SchemaVersion,
};
pub use plan::{Phase, Plan, PlanStep, Risk, Script, StepState, Verification};
pub use snapshot::{Snapshot, default_file_name};
pub use table::{Column, ColumnData, ColumnType, Table, col};

/// Table names used across crates, so a typo is a compile error.
pub mod tables {
    /// Per-CPU and all-CPU utilisation samples.
    pub const HOST_CPU: &str = "host_cpu";
    /// Host-wide samples: load, memory, swap, context switches, TCP.
    pub const HOST_SYSTEM: &str = "host_system";
    /// Per-device disk samples.
    pub const HOST_DISK: &str = "host_disk";
    /// Per-interface network samples.
    pub const HOST_NET: &str = "host_net";
    /// Top processes by CPU and by memory over the window.
    pub const PROCESSES: &str = "processes";

    /// PostgreSQL sessions sampled every tick (pg_stat_activity, blocking pids).
    pub const PG_SESSIONS: &str = "pg_sessions";
    /// pg_stat_statements over the window (end reading minus start reading).
    pub const PG_STATEMENTS: &str = "pg_statements";
    /// Per-table statistics (pg_stat_user_tables and sizes).
    pub const PG_TABLES: &str = "pg_tables";
    /// Per-index statistics (usage, size, validity, duplicates).
    pub const PG_INDEXES: &str = "pg_indexes";

    /// Top query classes of the slow-query logs given with `collect --log`.
    pub const LOG_QUERIES: &str = "log_queries";

    /// MySQL/MariaDB sessions sampled every tick (processlist, lock waits).
    pub const MYSQL_SESSIONS: &str = "mysql_sessions";
    /// performance_schema statement digests over the window.
    pub const MYSQL_STATEMENTS: &str = "mysql_statements";
    /// Per-table facts (size, engine, primary key).
    pub const MYSQL_TABLES: &str = "mysql_tables";
    /// Per-index facts (usage, redundancy).
    pub const MYSQL_INDEXES: &str = "mysql_indexes";

    /// SQL Server requests sampled every tick (`sys.dm_exec_requests` with sessions,
    /// waits and blocking). Columns (docs/mssql.md): ts (timestamp), target,
    /// session_id, database, login, host, program, status, command, wait_type,
    /// wait_class (CPU, Lock, Buffer IO, … and Idle for a sleeping head blocker or
    /// WAITFOR), wait_time_ms, wait_resource, blocking_session_id (0: not blocked),
    /// head_blocker (bool), cpu_time_ms, elapsed_ms, logical_reads,
    /// open_transactions, query_hash (`0x…`, upper case), statement.
    pub const MSSQL_SESSIONS: &str = "mssql_sessions";
    /// `sys.dm_exec_query_stats`, the union of the top N by CPU, duration and
    /// logical reads. Columns: target, query_hash, fingerprint_id, database, query
    /// (literals masked), calls, total_ms, total_cpu_ms, logical_reads,
    /// physical_reads, logical_writes, rows, over_window (bool: the numbers are the
    /// window's, end minus start; else since `cached_at`), cached_at (timestamp).
    pub const MSSQL_STATEMENTS: &str = "mssql_statements";
    /// `sys.dm_db_missing_index_details` with its group stats. Columns: target,
    /// database, schema, table, equality_columns, inequality_columns,
    /// included_columns, user_seeks, user_scans, avg_total_user_cost,
    /// avg_user_impact, improvement (seeks+scans × cost × impact).
    pub const MSSQL_MISSING_INDEXES: &str = "mssql_missing_indexes";
    /// `sys.dm_db_index_usage_stats` of the connected database's indexes with their
    /// size. Columns: target, database, schema, table, index, type_desc,
    /// is_unique, is_primary_key, key_columns, user_seeks, user_scans, user_lookups,
    /// user_updates, size_bytes, rows.
    pub const MSSQL_INDEXES: &str = "mssql_indexes";
}

/// Facts document names.
pub mod facts_names {
    pub const HOST: &str = "host";
    pub const OS: &str = "os";
    pub const NETWORK: &str = "network";
    /// `Vec<PostgresFacts>`, one per PostgreSQL target.
    pub const POSTGRES: &str = "postgres";
    /// `Vec<MysqlFacts>`, one per MySQL/MariaDB target.
    pub const MYSQL: &str = "mysql";
    /// `Vec<MssqlFacts>`, one per SQL Server target.
    pub const MSSQL: &str = "mssql";
}
