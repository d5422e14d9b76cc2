//! The databases part of the report model: each target's identity, the settings that
//! matter most, and where its time went (average active sessions by wait class).

use perfdiag_model::facts::mysql::MysqlFlavor;
use perfdiag_model::facts::{MysqlFacts, PostgresFacts};
use perfdiag_model::{Assessment, Snapshot, facts_names};
use serde::Serialize;

use super::format;
use super::i18n::Catalog;

/// PostgreSQL settings shown in the inventory, in this order.
const PG_SETTINGS: [&str; 10] = [
    "shared_buffers",
    "effective_cache_size",
    "work_mem",
    "maintenance_work_mem",
    "max_connections",
    "max_wal_size",
    "checkpoint_timeout",
    "random_page_cost",
    "autovacuum",
    "log_min_duration_statement",
];

#[derive(Debug, Serialize)]
pub struct DatabaseView {
    /// e.g. "PostgreSQL 15.19", "MariaDB 10.11.6".
    pub product: String,
    pub target: String,
    pub uptime: String,
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
    let uptime = |secs: Option<f64>| secs.map_or_else(unknown, format::duration);
    let mut out = Vec::new();
    let pg: Vec<PostgresFacts> = snapshot.fact(facts_names::POSTGRES)?.unwrap_or_default();
    for f in pg {
        let settings = PG_SETTINGS
            .iter()
            .filter_map(|name| {
                let s = f.setting(name)?;
                let shown = match (s.normalised, s.normalised_unit.as_deref()) {
                    (Some(v), Some("bytes")) => format::bytes(v.max(0.0) as u64),
                    (Some(v), Some("ms")) => format!("{} ms", format::number(v, 0)),
                    _ => s.setting.clone(),
                };
                Some(((*name).to_owned(), shown))
            })
            .collect();
        out.push(DatabaseView {
            product: format!("PostgreSQL {}", f.version.clone().unwrap_or_else(unknown)),
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
        out.push(DatabaseView {
            product: format!("{product} {}", f.version.clone().unwrap_or_else(unknown)),
            uptime: uptime(f.uptime_secs.map(|s| s as f64)),
            settings,
            db_time: db_time(assessment, &f.target),
            target: f.target,
        });
    }
    Ok(out)
}

fn db_time(assessment: &Assessment, target: &str) -> Vec<DbTimeRow> {
    assessment
        .db_time
        .iter()
        .filter(|l| l.target == target)
        .map(|l| DbTimeRow {
            wait_class: l.wait_class.clone(),
            aas: format::number(l.aas, 2),
            share_pct: l.share_pct,
            share: format!("{} %", format::number(l.share_pct, 1)),
        })
        .collect()
}
