//! Sub-probe `mssql.databases`: every database with its options and sizes, its VLF
//! count, its last backups (from msdb) and its Query Store state, and the files of
//! tempdb. Pure mappings from the rows of `databases.sql`, `vlf_counts.sql`,
//! `backups.sql`, `query_store.sql` (one result per database) and `tempdb_files.sql`.

use perfdiag_model::facts::mssql::{MssqlDatabase, MssqlDatabaseFile, MssqlQueryStore};

use crate::db::TextRows;

pub(crate) fn databases(rows: &TextRows) -> Vec<MssqlDatabase> {
    rows.iter()
        .filter_map(|r| {
            Some(MssqlDatabase {
                name: r.string("name")?,
                database_id: r.i64("database_id")?,
                state: r.string("state"),
                recovery_model: r.string("recovery_model"),
                compatibility_level: r.i64("compatibility_level"),
                page_verify: r.string("page_verify"),
                auto_shrink: r.bool("auto_shrink"),
                auto_close: r.bool("auto_close"),
                auto_create_stats: r.bool("auto_create_stats"),
                auto_update_stats: r.bool("auto_update_stats"),
                read_committed_snapshot: r.bool("read_committed_snapshot"),
                snapshot_isolation: match r.text("snapshot_isolation") {
                    Some("ON") => Some(true),
                    Some("OFF") => Some(false),
                    // IN_TRANSITION_TO_ON / _OFF: neither yet.
                    _ => None,
                },
                is_read_only: r.bool("is_read_only"),
                data_bytes: r.i64("data_bytes"),
                log_bytes: r.i64("log_bytes"),
                vlf_count: None,
                log_reuse_wait: r.string("log_reuse_wait"),
                last_full_backup: None,
                last_diff_backup: None,
                last_log_backup: None,
                last_good_checkdb: r.time("last_good_checkdb"),
                query_store: None,
            })
        })
        .collect()
}

/// Whether the database can be read (`ONLINE`); the others are listed, not read.
pub(crate) fn is_online(d: &MssqlDatabase) -> bool {
    d.state.as_deref() == Some("ONLINE")
}

pub(crate) fn apply_vlf_counts(rows: &TextRows, databases: &mut [MssqlDatabase]) {
    for r in rows.iter() {
        let (Some(id), Some(count)) = (r.i64("database_id"), r.i64("vlf_count")) else {
            continue;
        };
        if let Some(d) = databases.iter_mut().find(|d| d.database_id == id) {
            d.vlf_count = Some(count);
        }
    }
}

/// The last backups by database name (msdb keeps the name, not the id).
pub(crate) fn apply_backups(rows: &TextRows, databases: &mut [MssqlDatabase]) {
    for r in rows.iter() {
        let Some(name) = r.text("database_name") else {
            continue;
        };
        if let Some(d) = databases
            .iter_mut()
            .find(|d| d.name.eq_ignore_ascii_case(name))
        {
            d.last_full_backup = r.time("last_full_backup");
            d.last_diff_backup = r.time("last_diff_backup");
            d.last_log_backup = r.time("last_log_backup");
        }
    }
}

pub(crate) fn query_store(rows: &TextRows) -> Option<MssqlQueryStore> {
    let r = rows.iter().next()?;
    Some(MssqlQueryStore {
        actual_state: r.string("actual_state_desc")?,
        desired_state: r.string("desired_state_desc"),
        readonly_reason: r.i64("readonly_reason"),
        current_storage_mb: r.i64("current_storage_size_mb"),
        max_storage_mb: r.i64("max_storage_size_mb"),
        capture_mode: r.string("query_capture_mode_desc"),
    })
}

pub(crate) fn database_files(rows: &TextRows) -> Vec<MssqlDatabaseFile> {
    rows.iter()
        .filter_map(|r| {
            Some(MssqlDatabaseFile {
                file_id: r.i64("file_id")?,
                name: r.string("name")?,
                type_desc: r.string("type_desc")?,
                physical_name: r.string("physical_name"),
                size_bytes: r.i64("size_bytes"),
                growth_bytes: r.i64("growth_bytes"),
                growth_pct: r.i64("growth_pct"),
            })
        })
        .collect()
}
