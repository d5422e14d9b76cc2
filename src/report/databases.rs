//! The databases part of the report model: each target's identity, the settings that
//! matter most, and where its time went (average active sessions by wait class).

use perfdiag_model::facts::mysql::MysqlFlavor;
use perfdiag_model::facts::{MssqlFacts, MysqlFacts, PostgresFacts};
use perfdiag_model::{Assessment, Snapshot, facts_names};
use serde::Serialize;

use super::format;
use super::i18n::Catalog;

/// PostgreSQL settings shown in the inventory, in this order: memory, connections,
/// WAL and checkpoints, planner, maintenance, and what makes statements visible.
const PG_SETTINGS: [&str; 18] = [
    "shared_buffers",
    "effective_cache_size",
    "work_mem",
    "maintenance_work_mem",
    "huge_pages",
    "max_connections",
    "max_wal_size",
    "checkpoint_timeout",
    "checkpoint_completion_target",
    "wal_buffers",
    "synchronous_commit",
    "random_page_cost",
    "effective_io_concurrency",
    "max_parallel_workers_per_gather",
    "autovacuum",
    "idle_in_transaction_session_timeout",
    "shared_preload_libraries",
    "log_min_duration_statement",
];

/// SQL Server configuration options shown in the inventory (`sys.configurations`),
/// in this order: memory, parallelism, plan cache, then what should stay off.
const MSSQL_OPTIONS: [&str; 9] = [
    "max server memory (MB)",
    "min server memory (MB)",
    "max degree of parallelism",
    "cost threshold for parallelism",
    "optimize for ad hoc workloads",
    "max worker threads",
    "priority boost",
    "lightweight pooling",
    "xp_cmdshell",
];

#[derive(Debug, Serialize)]
pub struct DatabaseView {
    /// `postgres`, `mysql` or `mssql`.
    pub engine: String,
    /// e.g. "PostgreSQL 15.19", "MariaDB 10.11.6".
    pub product: String,
    /// What the server says of itself: PostgreSQL's `version()`, MySQL's version and
    /// version comment.
    pub version_detail: Option<String>,
    pub target: String,
    pub uptime: String,
    /// (name, value) of the settings that matter most, values with their units.
    pub settings: Vec<(String, String)>,
    pub db_time: Vec<DbTimeRow>,
}

#[derive(Debug, Serialize)]
pub struct DbTimeRow {
    pub wait_class: String,
    pub aas: String,
    pub share_pct: f64,
    pub share: String,
}

pub fn build(
    snapshot: &Snapshot,
    assessment: &Assessment,
    catalog: &Catalog,
) -> anyhow::Result<Vec<DatabaseView>> {
    let unknown = || catalog.text("env.unknown");
    let uptime = |secs: Option<f64>| secs.map_or_else(unknown, |s| format::uptime(s, catalog));
    let mut out = Vec::new();
    let pg: Vec<PostgresFacts> = snapshot.fact(facts_names::POSTGRES)?.unwrap_or_default();
    for f in pg {
        let settings = PG_SETTINGS
            .iter()
            .filter_map(|name| {
                let s = f.setting(name)?;
                let shown = match (s.normalised, s.normalised_unit.as_deref()) {
                    (Some(v), Some("bytes")) => format::bytes(v.max(0.0) as u64),
                    (Some(v), Some("ms")) if v >= 60_000.0 => {
                        format::duration_in(v / 1000.0, catalog)
                    }
                    (Some(v), Some("ms")) => format::millis(v),
                    _ => s.setting.clone(),
                };
                Some(((*name).to_owned(), shown))
            })
            .collect();
        out.push(DatabaseView {
            engine: "postgres".to_owned(),
            product: format!(
                "PostgreSQL {}",
                pg_version(f.version.as_deref(), f.server_version_num).unwrap_or_else(unknown)
            ),
            version_detail: f.version.clone(),
            uptime: uptime(f.uptime_secs),
            settings,
            db_time: db_time(assessment, &f.target),
            target: f.target,
        });
    }
    let my: Vec<MysqlFacts> = snapshot.fact(facts_names::MYSQL)?.unwrap_or_default();
    for f in my {
        let s = &f.settings;
        let bytes = |v: Option<u64>| v.map(format::bytes);
        let plain = |v: Option<u64>| v.map(|v| v.to_string());
        let flag = |v: Option<bool>| v.map(|b| if b { "ON" } else { "OFF" }.to_owned());
        let settings = [
            (
                "innodb_buffer_pool_size",
                bytes(s.innodb_buffer_pool_size_bytes),
            ),
            ("innodb_log_file_size", bytes(s.innodb_log_file_size_bytes)),
            (
                "innodb_flush_log_at_trx_commit",
                plain(s.innodb_flush_log_at_trx_commit),
            ),
            ("max_connections", plain(s.max_connections)),
            ("thread_cache_size", plain(s.thread_cache_size)),
            ("tmp_table_size", bytes(s.tmp_table_size_bytes)),
            ("performance_schema", flag(s.performance_schema)),
            ("slow_query_log", flag(s.slow_query_log)),
            (
                "long_query_time",
                s.long_query_time_secs
                    .map(|v| format!("{} s", format::number(v, 3))),
            ),
        ]
        .into_iter()
        .filter_map(|(name, v)| Some((name.to_owned(), v?)))
        .collect();
        let product = match f.flavor {
            Some(MysqlFlavor::Mariadb) => "MariaDB",
            Some(MysqlFlavor::Percona) => "Percona Server",
            _ => "MySQL",
        };
        let detail = [f.version.clone(), f.version_comment.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
        out.push(DatabaseView {
            engine: "mysql".to_owned(),
            product: format!(
                "{product} {}",
                f.version
                    .as_deref()
                    .map(|v| v.split('-').next().unwrap_or(v).to_owned())
                    .unwrap_or_else(unknown)
            ),
            version_detail: (!detail.is_empty()).then_some(detail),
            uptime: uptime(f.uptime_secs.map(|s| s as f64)),
            settings,
            db_time: db_time(assessment, &f.target),
            target: f.target,
        });
    }
    let ms: Vec<MssqlFacts> = snapshot.fact(facts_names::MSSQL)?.unwrap_or_default();
    for f in ms {
        let mut settings: Vec<(String, String)> = MSSQL_OPTIONS
            .iter()
            .filter_map(|name| {
                let c = f.configuration(name)?;
                let shown = match (*name, c.value_in_use) {
                    (n, v) if n.ends_with("(MB)") => format::bytes((v.max(0) as u64) << 20),
                    (_, v) if v == c.value => v.to_string(),
                    // Configured but not yet in effect (RECONFIGURE or a restart due).
                    (_, v) => format!("{v} → {}", c.value),
                };
                Some(((*name).to_owned(), shown))
            })
            .collect();
        if !f.tempdb_files.is_empty() {
            let data = f
                .tempdb_files
                .iter()
                .filter(|t| t.type_desc == "ROWS")
                .count();
            settings.push(("tempdb data files".to_owned(), data.to_string()));
        }
        let detail = [f.edition.clone(), f.host_platform.clone()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
        out.push(DatabaseView {
            engine: "mssql".to_owned(),
            product: mssql_product(&f).unwrap_or_else(|| format!("SQL Server {}", unknown())),
            version_detail: (!detail.is_empty()).then_some(detail),
            uptime: uptime(f.uptime_secs),
            settings,
            db_time: db_time(assessment, &f.target),
            target: f.target,
        });
    }
    Ok(out)
}

/// `SQL Server 2019 15.0.4322.2 CU22`: the release year from the major version, the
/// build, and the update level (or the product level: RTM, SP3).
fn mssql_product(f: &MssqlFacts) -> Option<String> {
    let build = f.product_version.as_deref()?;
    let year = match f.major_version()? {
        11 => "2012",
        12 => "2014",
        13 => "2016",
        14 => "2017",
        15 => "2019",
        16 => "2022",
        17 => "2025",
        _ => "",
    };
    let level = f
        .product_update_level
        .as_deref()
        .or(f.product_level.as_deref())
        .unwrap_or_default();
    let product = ["SQL Server", year, build, level]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Some(product)
}

/// The version number alone: `15.4` from `version()`'s "PostgreSQL 15.4 (Debian
/// 15.4-1) on x86_64-pc-linux-gnu, …", else from `server_version_num` (150004 → 15.4,
/// 90624 → 9.6.24).
fn pg_version(version: Option<&str>, num: Option<i64>) -> Option<String> {
    let from_text = version
        .and_then(|v| v.strip_prefix("PostgreSQL "))
        .and_then(|v| v.split_whitespace().next())
        .map(|v| v.trim_end_matches(',').to_owned());
    from_text.or_else(|| {
        let n = num?;
        Some(if n >= 100_000 {
            format!("{}.{}", n / 10_000, n % 10_000)
        } else {
            format!("{}.{}.{}", n / 10_000, (n / 100) % 100, n % 100)
        })
    })
}

/// The short names of the databases a report covers: `PostgreSQL 15.4 · target`.
pub fn labels(views: &[DatabaseView]) -> Vec<String> {
    views
        .iter()
        .map(|d| format!("{} · {}", d.product, d.target))
        .collect()
}

/// Largest share first; equal shares by class name, so a report renders the same twice.
fn db_time(assessment: &Assessment, target: &str) -> Vec<DbTimeRow> {
    let mut loads: Vec<_> = assessment
        .db_time
        .iter()
        .filter(|l| l.target == target)
        .collect();
    loads.sort_by(|a, b| {
        b.share_pct
            .total_cmp(&a.share_pct)
            .then_with(|| a.wait_class.cmp(&b.wait_class))
    });
    loads
        .into_iter()
        .map(|l| DbTimeRow {
            wait_class: l.wait_class.clone(),
            aas: format::number(l.aas, 2),
            share_pct: l.share_pct,
            share: format!("{} %", format::number(l.share_pct, 1)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_postgres_version_is_the_number_alone() {
        let full =
            "PostgreSQL 15.4 (Debian 15.4-1.pgdg120+1) on x86_64-pc-linux-gnu, compiled by gcc";
        assert_eq!(pg_version(Some(full), None).as_deref(), Some("15.4"));
        assert_eq!(pg_version(None, Some(150_004)).as_deref(), Some("15.4"));
        assert_eq!(pg_version(None, Some(90_624)).as_deref(), Some("9.6.24"));
        assert_eq!(pg_version(None, None), None);
    }

    #[test]
    fn the_sql_server_product_names_its_release_and_update() {
        let f = MssqlFacts {
            product_version: Some("15.0.4322.2".into()),
            product_level: Some("RTM".into()),
            product_update_level: Some("CU22".into()),
            ..MssqlFacts::default()
        };
        assert_eq!(
            mssql_product(&f).as_deref(),
            Some("SQL Server 2019 15.0.4322.2 CU22")
        );
        let rtm = MssqlFacts {
            product_version: Some("16.0.1000.6".into()),
            product_level: Some("RTM".into()),
            ..MssqlFacts::default()
        };
        assert_eq!(
            mssql_product(&rtm).as_deref(),
            Some("SQL Server 2022 16.0.1000.6 RTM")
        );
        assert_eq!(mssql_product(&MssqlFacts::default()), None);
    }
}
