//! Global variables: all of them raw, and the ones rules read normalised (bytes, bools).

use std::collections::BTreeMap;

use perfdiag_model::facts::mysql::MysqlSettings;

use super::Ctx;
use super::query::{Conn, QueryError, fetch, parse_bool, parse_uint, text};

/// `SHOW GLOBAL VARIABLES` as a name → value map.
pub(crate) async fn read(
    conn: &mut Conn,
    ctx: &Ctx,
) -> Result<BTreeMap<String, String>, QueryError> {
    let rows = fetch(
        conn,
        "variables",
        include_str!("sql/variables.sql"),
        ctx.guard,
    )
    .await?;
    Ok(name_values(&rows))
}

/// Two-column SHOW output (`Variable_name`, `Value`) as a map.
pub(crate) fn name_values(rows: &crate::db::TextRows) -> BTreeMap<String, String> {
    rows.iter()
        .filter_map(|r| Some((text(r, 0)?, text(r, 1).unwrap_or_default())))
        .collect()
}

/// The settings rules and steps read. Sizes are plain byte counts in SHOW output on
/// both flavors (my.cnf suffixes like `128M` are resolved by the server).
pub(crate) fn settings(vars: &BTreeMap<String, String>) -> MysqlSettings {
    let uint = |name: &str| vars.get(name).and_then(|v| parse_uint(v));
    let flag = |name: &str| vars.get(name).and_then(|v| parse_bool(v));
    MysqlSettings {
        innodb_buffer_pool_size_bytes: uint("innodb_buffer_pool_size"),
        innodb_log_file_size_bytes: uint("innodb_log_file_size"),
        innodb_flush_log_at_trx_commit: uint("innodb_flush_log_at_trx_commit"),
        max_connections: uint("max_connections"),
        thread_cache_size: uint("thread_cache_size"),
        table_open_cache: uint("table_open_cache"),
        tmp_table_size_bytes: uint("tmp_table_size"),
        max_heap_table_size_bytes: uint("max_heap_table_size"),
        // MySQL 5.1+ and MariaDB: slow_query_log; long_query_time is a decimal.
        slow_query_log: flag("slow_query_log"),
        long_query_time_secs: vars
            .get("long_query_time")
            .and_then(|v| v.trim().parse::<f64>().ok()),
        performance_schema: flag("performance_schema"),
        log_bin: flag("log_bin"),
        sync_binlog: uint("sync_binlog"),
        read_only: flag("read_only"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_from_show_variables_text() {
        let vars: BTreeMap<String, String> = [
            ("innodb_buffer_pool_size", "134217728"),
            ("slow_query_log", "OFF"),
            ("long_query_time", "10.000000"),
            ("performance_schema", "ON"),
            ("max_connections", "151"),
            ("sync_binlog", "garbage"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let s = settings(&vars);
        assert_eq!(s.innodb_buffer_pool_size_bytes, Some(128 << 20));
        assert_eq!(s.slow_query_log, Some(false));
        assert_eq!(s.long_query_time_secs, Some(10.0));
        assert_eq!(s.performance_schema, Some(true));
        assert_eq!(s.max_connections, Some(151));
        assert_eq!(s.sync_binlog, None);
        assert_eq!(s.thread_cache_size, None);
    }
}
