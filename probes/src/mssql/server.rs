//! Sub-probe `mssql.server`: who the server is (version, edition, what this login may
//! see), its host, CPU and memory facts, every `sys.configurations` option; and the
//! memory and plan-cache readings of `mssql.memory`. Pure mappings from the rows of
//! `server.sql`, `host_info.sql`, `sys_info.sql`, `configurations.sql`, `memory.sql`
//! and `plan_cache.sql`.

use chrono::{DateTime, Utc};
use perfdiag_model::facts::mssql::{
    MssqlConfiguration, MssqlFacts, MssqlMemory, MssqlPlanCache, MssqlSystem,
};

use crate::db::TextRows;

const KB: i64 = 1024;

/// Fills the identity of the server from `server.sql`; returns the server's clock.
pub(crate) fn apply_server(rows: &TextRows, facts: &mut MssqlFacts) -> Option<DateTime<Utc>> {
    let r = rows.iter().next()?;
    facts.version = r.string("version").map(|v| v.trim().to_owned());
    facts.product_version = r.string("product_version");
    facts.product_level = r.string("product_level");
    facts.product_update_level = r.string("product_update_level");
    facts.edition = r.string("edition");
    facts.engine_edition = r.i64("engine_edition");
    facts.server_name = r.string("server_name");
    facts.login = r.string("login_name");
    facts.database = r.string("database_name");
    facts.is_sysadmin = r.bool("is_sysadmin");
    facts.has_view_server_state = r.bool("has_view_server_state");
    facts.has_view_any_definition = r.bool("has_view_any_definition");
    r.time("now_utc")
}

/// `host_platform` from `host_info.sql`.
pub(crate) fn apply_host_info(rows: &TextRows, facts: &mut MssqlFacts) {
    if let Some(r) = rows.iter().next() {
        facts.host_platform = r.string("host_platform");
    }
}

/// `sys.dm_os_sys_info`, and the uptime (with the start time when the server's
/// clock is known).
pub(crate) fn apply_sys_info(rows: &TextRows, now: Option<DateTime<Utc>>, facts: &mut MssqlFacts) {
    let Some(r) = rows.iter().next() else {
        return;
    };
    facts.system = Some(MssqlSystem {
        cpu_count: r.i64("cpu_count"),
        hyperthread_ratio: r.i64("hyperthread_ratio"),
        socket_count: r.i64("socket_count"),
        cores_per_socket: r.i64("cores_per_socket"),
        numa_node_count: r.i64("numa_node_count"),
        scheduler_count: r.i64("scheduler_count"),
        physical_memory_bytes: r.i64("physical_memory_kb").map(|v| v * KB),
        committed_bytes: r.i64("committed_kb").map(|v| v * KB),
        committed_target_bytes: r.i64("committed_target_kb").map(|v| v * KB),
        max_workers_count: r.i64("max_workers_count"),
        virtual_machine_type: r.string("virtual_machine_type_desc"),
    });
    let uptime = r.i64("uptime_s");
    facts.uptime_secs = uptime.map(|s| s as f64);
    facts.started_at = match (now, uptime) {
        (Some(now), Some(s)) => Some(now - chrono::Duration::seconds(s)),
        _ => None,
    };
}

/// Every row of `sys.configurations`; rows without a name or values are skipped.
pub(crate) fn configurations(rows: &TextRows) -> Vec<MssqlConfiguration> {
    rows.iter()
        .filter_map(|r| {
            Some(MssqlConfiguration {
                name: r.string("name")?,
                value: r.i64("value")?,
                value_in_use: r.i64("value_in_use")?,
                minimum: r.i64("minimum"),
                maximum: r.i64("maximum"),
                is_dynamic: r.bool("is_dynamic").unwrap_or(false),
                is_advanced: r.bool("is_advanced").unwrap_or(false),
            })
        })
        .collect()
}

pub(crate) fn memory(rows: &TextRows) -> Option<MssqlMemory> {
    let r = rows.iter().next()?;
    let bytes = |c: &str| r.i64(c).map(|v| v * KB);
    Some(MssqlMemory {
        total_server_bytes: bytes("total_server_kb"),
        target_server_bytes: bytes("target_server_kb"),
        page_life_expectancy_s: r.i64("page_life_expectancy_s"),
        memory_grants_pending: r.i64("memory_grants_pending"),
        process_physical_bytes: bytes("physical_memory_in_use_kb"),
        locked_page_allocations_bytes: bytes("locked_page_allocations_kb"),
        process_memory_low: r.bool("process_physical_memory_low"),
        system_memory_low: r.bool("system_low_memory_signal_state"),
        available_physical_bytes: bytes("available_physical_memory_kb"),
    })
}

pub(crate) fn plan_cache(rows: &TextRows) -> Option<MssqlPlanCache> {
    let r = rows.iter().next()?;
    Some(MssqlPlanCache {
        plans: r.i64("plans")?,
        bytes: r.i64("bytes").unwrap_or(0),
        single_use_adhoc_plans: r.i64("single_use_adhoc_plans").unwrap_or(0),
        single_use_adhoc_bytes: r.i64("single_use_adhoc_bytes").unwrap_or(0),
    })
}
