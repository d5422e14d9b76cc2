//! MySQL and MariaDB expected settings: buffer pool against RAM and data, redo
//! capacity against the measured redo rate, the peak memory formula, table cache and
//! temporary tables — each overridden by what the window measured.
//!
//! Values are read from the raw global variables of the facts (`SHOW GLOBAL
//! VARIABLES`), which name every setting the way `SET GLOBAL` does; a variable the
//! snapshot does not hold is not judged.

use perfdiag_model::facts::MysqlFacts;
use perfdiag_model::{Unit, Value};

use super::{
    Expected, GIB, HIT_RATIO_ENOUGH_PCT, HIT_RATIO_MIN_REQUESTS, MIB, Machine, StorageKind, Target,
    ceil_mib, context,
};

/// A global variable as a number (`ON`/`OFF` are 1/0).
pub(crate) fn var(facts: &MysqlFacts, name: &str) -> Option<f64> {
    let v = facts.variable(name)?.trim();
    match v.to_ascii_uppercase().as_str() {
        "ON" => Some(1.0),
        "OFF" => Some(0.0),
        _ => v.parse().ok(),
    }
}

/// Headroom over the InnoDB data size, for growth and the change buffer.
pub(crate) const DATA_HEADROOM: f64 = 1.1;

/// The RAM InnoDB's buffer pool may take: `innodb_dedicated_server`'s formula (MySQL
/// 8.0 Reference Manual, 17.8.12 Enabling Automatic InnoDB Configuration for a
/// Dedicated MySQL Server) applied to the RAM for the database: under 1 GiB 128 MiB,
/// up to 4 GiB half of it, above 4 GiB three quarters.
pub(crate) fn buffer_pool_ram_cap(db_ram: f64) -> f64 {
    if db_ram < GIB {
        128.0 * MIB
    } else if db_ram <= 4.0 * GIB {
        db_ram * 0.5
    } else {
        db_ram * 0.75
    }
}

/// innodb_buffer_pool_size: all InnoDB data with 10 % headroom (the whole working set
/// in memory), but no more than [`buffer_pool_ram_cap`] of the RAM for the database
/// (`mysql.buffer_pool_data` when the data decides, `mysql.dedicated_server` when the
/// RAM does; no RAM cap when the host's RAM is not known to be the server's).
///
/// Measured override: a window hit ratio of at least 99.9 % over at least 10 000
/// read requests means the working set fits; a smaller pool is then accepted
/// (`measured.hit_ratio`). `None` without the pool size or the data sizes.
pub(crate) fn buffer_pool(m: Option<&Machine>, facts: &MysqlFacts) -> Option<Expected> {
    let current = facts.settings.innodb_buffer_pool_size_bytes? as f64;
    let data = facts.data.as_ref()?.innodb_bytes as f64;
    let wanted = data * DATA_HEADROOM;
    let (value, formula) = match m.map(|m| buffer_pool_ram_cap(m.db_ram())) {
        Some(cap) if cap < wanted => (cap, "mysql.dedicated_server"),
        _ => (wanted, "mysql.buffer_pool_data"),
    };
    let mut e = Expected::number(
        "innodb_buffer_pool_size",
        current,
        Target::Value(value.round()),
        Unit::Bytes,
        formula,
    )
    .with(vec![context(
        "mysql.innodb_data_bytes",
        Value::number(data, Unit::Bytes),
    )]);
    if let Some(w) = &facts.window
        && let (Some(hit), Some(requests)) = (
            w.buffer_pool_hit_pct(),
            w.delta("Innodb_buffer_pool_read_requests"),
        )
    {
        e.evidence.push(context(
            "mysql.buffer_pool_hit_pct",
            Value::number(hit, Unit::Percent),
        ));
        if hit >= HIT_RATIO_ENOUGH_PCT
            && requests as f64 >= HIT_RATIO_MIN_REQUESTS
            && current < value
        {
            e.expected = Target::AtLeast(current);
            e.formula = "measured.hit_ratio";
        }
    }
    Some(e)
}

/// Redo bytes written per second over the window: `Innodb_os_log_written`, else the
/// LSN's advance (`Innodb_redo_log_current_lsn` on MySQL 8.0.30+, `Innodb_lsn_current`
/// on MariaDB).
pub(crate) fn redo_bytes_per_s(facts: &MysqlFacts) -> Option<f64> {
    let w = facts.window.as_ref()?;
    [
        "Innodb_os_log_written",
        "Innodb_redo_log_current_lsn",
        "Innodb_lsn_current",
    ]
    .iter()
    .find_map(|n| w.rate(n))
    .filter(|r| *r >= 0.0)
}

/// The largest redo capacity the servers accept: 128 GiB (MySQL's
/// innodb_redo_log_capacity; MariaDB's innodb_log_file_size allows more).
const REDO_MAX: f64 = 128.0 * GIB;

/// The redo log's capacity: an hour of the window's redo rate, so that checkpoints are
/// driven by time and dirty pages can be flushed smoothly (Percona, "How to calculate
/// a good InnoDB log file size"; MySQL 8.0 Reference Manual, 10.5.4 Optimizing InnoDB
/// Redo Logging: "make your redo log files big"), rounded up to MiB, at least the
/// server's default, at most 128 GiB (`measured.redo_rate`). Without a measured rate:
/// a quarter of the buffer pool, MySQLTuner's rule (`mysqltuner.redo_25pct_pool`).
///
/// The setting differs by version: `innodb_redo_log_capacity` on MySQL 8.0.30+;
/// `innodb_log_file_size` on MariaDB (one file since 10.5) and older MySQL, where the
/// capacity is the file size times `innodb_log_files_in_group`: the expected value is
/// then per file. A floor: a larger log is never asked to shrink.
pub(crate) fn redo_capacity(facts: &MysqlFacts) -> Option<Expected> {
    let (setting, files, default): (&'static str, f64, f64) =
        if facts.variable("innodb_redo_log_capacity").is_some() && !facts.is_mariadb() {
            ("innodb_redo_log_capacity", 1.0, 100.0 * MIB)
        } else {
            let files = var(facts, "innodb_log_files_in_group")
                .unwrap_or(1.0)
                .max(1.0);
            let default = if facts.is_mariadb() { 96.0 } else { 48.0 } * MIB;
            ("innodb_log_file_size", files, default)
        };
    let current = var(facts, setting)?;
    let (total, formula, mut evidence) = match redo_bytes_per_s(facts) {
        Some(rate) => (
            rate * 3600.0,
            "measured.redo_rate",
            vec![context(
                "mysql.redo_bytes_per_s",
                Value::number(rate, Unit::PerSecond),
            )],
        ),
        None => (
            facts.settings.innodb_buffer_pool_size_bytes? as f64 / 4.0,
            "mysqltuner.redo_25pct_pool",
            Vec::new(),
        ),
    };
    if files > 1.0 {
        evidence.push(context(
            "mysql.settings.innodb_log_files_in_group",
            Value::number(files, Unit::None),
        ));
    }
    let per_file = ceil_mib((total.min(REDO_MAX) / files).max(default));
    let e = Expected::number(
        setting,
        current,
        Target::AtLeast(per_file),
        Unit::Bytes,
        formula,
    )
    .with(evidence);
    Some(if formula == "measured.redo_rate" {
        e
    } else {
        e.minor()
    })
}

/// Table cache misses per second above which the cache is judged too small.
const TABLE_CACHE_MISSES_PER_S: f64 = 1.0;
/// The largest table_open_cache the server accepts.
const TABLE_OPEN_CACHE_MAX: f64 = 524_288.0;

/// table_open_cache, judged only when the window measured misses (`Opened_tables`
/// above 1/s: the MySQL manual's "if Opened_tables is large or increases rapidly,
/// increase table_open_cache", 10.4.3.1 How MySQL Opens and Closes Tables). Then at
/// least every table (`facts mysql.data.tables`) with 10 % headroom, and at least
/// twice the current size: sessions hold their own handle of a table, so a cache that
/// already holds every table still misses under concurrency (`measured.opened_tables`).
pub(crate) fn table_open_cache(facts: &MysqlFacts) -> Option<Expected> {
    let current = var(facts, "table_open_cache")?;
    let rate = facts.window.as_ref()?.rate("Opened_tables")?;
    if rate <= TABLE_CACHE_MISSES_PER_S {
        return None;
    }
    let tables = facts.data.as_ref().map_or(0.0, |d| d.tables as f64);
    let value = (tables * 1.1)
        .ceil()
        .max(current * 2.0)
        .min(TABLE_OPEN_CACHE_MAX);
    Some(
        Expected::number(
            "table_open_cache",
            current,
            Target::AtLeast(value),
            Unit::None,
            "measured.opened_tables",
        )
        .with(vec![
            context(
                "mysql.opened_tables_per_s",
                Value::number(rate, Unit::PerSecond),
            ),
            context("mysql.tables", Value::number(tables, Unit::None)),
        ])
        .minor(),
    )
}

/// thread_cache_size as MySQL 8.0 sizes it by default: `8 + max_connections / 100`,
/// at most 100 (MySQL 8.0 Reference Manual, thread_cache_size).
pub(crate) fn thread_cache_size(facts: &MysqlFacts) -> Option<f64> {
    let connections = facts.settings.max_connections? as f64;
    Some((8.0 + (connections / 100.0).floor()).min(100.0))
}

/// innodb_flush_neighbors: 0 on SSD/NVMe (no seek to save; MySQL 8.0 Reference Manual,
/// 17.8.3.7 Configuring Buffer Pool Flushing: "for SSD, disable"), 1 on HDD.
fn flush_neighbors(m: &Machine, facts: &MysqlFacts) -> Option<Expected> {
    let current = var(facts, "innodb_flush_neighbors")?;
    let value = if m.storage? == StorageKind::Hdd {
        1.0
    } else {
        0.0
    };
    Some(
        Expected::number(
            "innodb_flush_neighbors",
            current,
            Target::Value(value),
            Unit::None,
            "mysql.flush_neighbors_by_storage",
        )
        .minor(),
    )
}

/// innodb_flush_method on Linux: `O_DIRECT` (or `O_DIRECT_NO_FSYNC`), so data pages
/// are not cached twice, by InnoDB and by the kernel (MySQL 8.0 Reference Manual,
/// 17.14 InnoDB Startup Options, innodb_flush_method; the default from MySQL 8.4 and
/// MariaDB 10.6).
fn flush_method(m: &Machine, facts: &MysqlFacts) -> Option<Expected> {
    if !m.linux {
        return None;
    }
    let current = facts.variable("innodb_flush_method")?;
    Some(Expected {
        current: Value::text(current),
        ..Expected::number(
            "innodb_flush_method",
            0.0,
            Target::OneOf(&["O_DIRECT", "O_DIRECT_NO_FSYNC"]),
            Unit::None,
            "mysql.flush_method_o_direct",
        )
        .minor()
    })
}

/// max_heap_table_size at least tmp_table_size where in-memory temporary tables use
/// the MEMORY engine (MariaDB, MySQL before 8.0): their limit is the smaller of the
/// two, so raising tmp_table_size alone does nothing (MySQL 5.7 Reference Manual,
/// 8.4.4 Internal Temporary Table Use). Judged only when the window measured
/// temporary tables on disk.
fn max_heap_table_size(facts: &MysqlFacts) -> Option<Expected> {
    let memory_engine = facts.is_mariadb() || facts.version_triple().is_some_and(|v| v.0 < 8);
    if !memory_engine
        || facts
            .window
            .as_ref()
            .and_then(|w| w.delta("Created_tmp_disk_tables"))
            .is_none_or(|d| d <= 0)
    {
        return None;
    }
    let current = var(facts, "max_heap_table_size")?;
    let tmp = var(facts, "tmp_table_size")?;
    Some(
        Expected::number(
            "max_heap_table_size",
            current,
            Target::AtLeast(tmp),
            Unit::Bytes,
            "mysql.tmp_table_limit",
        )
        .with(vec![context(
            "mysql.settings.tmp_table_size",
            Value::number(tmp, Unit::Bytes),
        )])
        .minor(),
    )
}

/// Every expected setting `mysql.config.deviates` judges. The buffer pool is judged by
/// `mysql.memory.buffer_pool_small`, the thread cache by `mysql.threads.cache_misses`
/// and memory overcommit by `mysql.memory.peak_over_ram`.
pub(crate) fn settings(m: Option<&Machine>, facts: &MysqlFacts) -> Vec<Expected> {
    let mut out: Vec<Expected> = [
        redo_capacity(facts),
        table_open_cache(facts),
        max_heap_table_size(facts),
    ]
    .into_iter()
    .flatten()
    .collect();
    if let Some(m) = m {
        out.extend(flush_neighbors(m, facts));
        out.extend(flush_method(m, facts));
    }
    out
}

/// The most memory the server can take, as MySQLTuner computes it ("Maximum possible
/// memory usage", `max_peak_memory`): global buffers plus per-thread buffers times
/// max_connections. performance_schema and Galera gcache memory, which MySQLTuner adds
/// from its own queries, are not in the snapshot.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PeakMemory {
    /// key_buffer_size + min(tmp_table_size, max_heap_table_size) +
    /// innodb_buffer_pool_size + innodb_additional_mem_pool_size +
    /// innodb_log_buffer_size + query_cache_size + aria_pagecache_buffer_size.
    pub global: f64,
    /// read_buffer_size + read_rnd_buffer_size + sort_buffer_size + thread_stack +
    /// join_buffer_size.
    pub per_thread: f64,
    pub max_connections: f64,
    pub max_used_connections: Option<f64>,
}

impl PeakMemory {
    /// `global + per_thread * max_connections`.
    pub fn peak(&self) -> f64 {
        self.global + self.per_thread * self.max_connections
    }
    /// What the most connections seen since startup would take.
    pub fn used_peak(&self) -> Option<f64> {
        Some(self.global + self.per_thread * self.max_used_connections?)
    }
}

/// The global buffers of the peak memory formula.
pub(crate) const GLOBAL_BUFFERS: [&str; 6] = [
    "key_buffer_size",
    "innodb_buffer_pool_size",
    "innodb_additional_mem_pool_size",
    "innodb_log_buffer_size",
    "query_cache_size",
    "aria_pagecache_buffer_size",
];

/// The per-thread buffers of the peak memory formula.
pub(crate) const PER_THREAD_BUFFERS: [&str; 5] = [
    "read_buffer_size",
    "read_rnd_buffer_size",
    "sort_buffer_size",
    "thread_stack",
    "join_buffer_size",
];

/// The peak memory of `facts`; `None` without the buffer pool size, max_connections
/// or sort_buffer_size (the variables were not read). Absent optional buffers (the
/// query cache on MySQL 8, Aria on MySQL) count as 0.
pub(crate) fn peak_memory(facts: &MysqlFacts) -> Option<PeakMemory> {
    var(facts, "innodb_buffer_pool_size")?;
    var(facts, "sort_buffer_size")?;
    let max_connections = var(facts, "max_connections")?;
    let sum = |names: &[&str]| names.iter().filter_map(|n| var(facts, n)).sum::<f64>();
    let tmp = match (
        var(facts, "tmp_table_size"),
        var(facts, "max_heap_table_size"),
    ) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(0.0),
    };
    Some(PeakMemory {
        global: sum(&GLOBAL_BUFFERS) + tmp,
        per_thread: sum(&PER_THREAD_BUFFERS),
        max_connections,
        max_used_connections: facts.connections.max_used_connections.map(|c| c as f64),
    })
}

#[cfg(test)]
mod tests {
    use perfdiag_model::Workload;
    use perfdiag_model::facts::mysql::{DataSizes, MysqlFlavor, StatusWindow};

    use super::*;
    use crate::test_support::Fixture;

    fn facts(flavor: MysqlFlavor, version: &str, vars: &[(&str, &str)]) -> MysqlFacts {
        MysqlFacts {
            flavor: Some(flavor),
            version: Some(version.to_owned()),
            variables: vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            ..MysqlFacts::default()
        }
    }

    fn window(deltas: &[(&str, i64)]) -> Option<StatusWindow> {
        Some(StatusWindow {
            seconds: 100.0,
            deltas: deltas.iter().map(|(k, v)| ((*k).to_owned(), *v)).collect(),
        })
    }

    fn machine(dedicated: bool) -> Machine {
        let host = Fixture::healthy().host.expect("host");
        let mut m = Machine::new(&host, None, Workload::Mixed, dedicated).expect("ram");
        m.storage = Some(StorageKind::Ssd);
        m
    }

    #[test]
    fn buffer_pool_is_the_data_capped_by_the_dedicated_server_formula() {
        assert_eq!(buffer_pool_ram_cap(512.0 * MIB), 128.0 * MIB);
        assert_eq!(buffer_pool_ram_cap(4.0 * GIB), 2.0 * GIB);
        assert_eq!(buffer_pool_ram_cap(16.0 * GIB), 12.0 * GIB);
        let mut f = facts(MysqlFlavor::Mysql, "8.0.36", &[]);
        f.settings.innodb_buffer_pool_size_bytes = Some(128 << 20);
        f.data = Some(DataSizes {
            innodb_bytes: 100 << 30,
            ..DataSizes::default()
        });
        let e = buffer_pool(Some(&machine(true)), &f).expect("pool");
        assert_eq!(
            (e.expected, e.formula),
            (Target::Value(12.0 * GIB), "mysql.dedicated_server")
        );
        // A shared host: three quarters of half the RAM.
        let e = buffer_pool(Some(&machine(false)), &f).expect("pool");
        assert_eq!(e.expected, Target::Value(6.0 * GIB));
        // Small data decides; without RAM the data alone.
        f.data = Some(DataSizes {
            innodb_bytes: 1 << 30,
            ..DataSizes::default()
        });
        let e = buffer_pool(None, &f).expect("pool");
        assert_eq!(
            (e.expected, e.formula),
            (Target::Value((1.1 * GIB).round()), "mysql.buffer_pool_data")
        );
        // 99.95 % over 2 million requests: no ask.
        f.window = window(&[
            ("Innodb_buffer_pool_read_requests", 2_000_000),
            ("Innodb_buffer_pool_reads", 1_000),
        ]);
        let e = buffer_pool(None, &f).expect("pool");
        assert_eq!((e.formula, e.deviation()), ("measured.hit_ratio", 1.0));
    }

    #[test]
    fn redo_capacity_is_an_hour_of_the_measured_redo_rate() {
        let mut f = facts(
            MysqlFlavor::Mysql,
            "8.0.36",
            &[("innodb_redo_log_capacity", "104857600")],
        );
        f.window = window(&[("Innodb_os_log_written", 100 * (1 << 20))]); // 1 MiB/s
        let e = redo_capacity(&f).expect("redo");
        assert_eq!(e.setting, "innodb_redo_log_capacity");
        assert_eq!(e.expected, Target::AtLeast(3600.0 * MIB));
        assert_eq!(e.formula, "measured.redo_rate");
        assert!((e.deviation() - 36.0).abs() < 1e-9);
        // MariaDB: innodb_log_file_size; a quiet window keeps the default.
        let mut m = facts(
            MysqlFlavor::Mariadb,
            "10.11.6-MariaDB",
            &[("innodb_log_file_size", "100663296")],
        );
        m.window = window(&[("Innodb_os_log_written", 1000)]);
        let e = redo_capacity(&m).expect("redo");
        assert_eq!(e.setting, "innodb_log_file_size");
        assert_eq!(e.deviation(), 1.0);
        // MySQL 5.7 with two files: the expected size is per file.
        let mut old = facts(
            MysqlFlavor::Mysql,
            "5.7.44",
            &[
                ("innodb_log_file_size", "50331648"),
                ("innodb_log_files_in_group", "2"),
            ],
        );
        old.window = f.window.clone();
        assert_eq!(
            redo_capacity(&old).expect("redo").expected,
            Target::AtLeast(1800.0 * MIB)
        );
        // Not measured: a quarter of the buffer pool, minor.
        old.window = None;
        old.settings.innodb_buffer_pool_size_bytes = Some(8 << 30);
        let e = redo_capacity(&old).expect("redo");
        assert_eq!((e.formula, e.minor), ("mysqltuner.redo_25pct_pool", true));
        assert_eq!(e.expected, Target::AtLeast(1024.0 * MIB));
    }

    #[test]
    fn table_cache_is_judged_only_on_measured_misses() {
        let mut f = facts(MysqlFlavor::Mysql, "8.0.36", &[("table_open_cache", "400")]);
        f.data = Some(DataSizes {
            tables: 2000,
            ..DataSizes::default()
        });
        f.window = window(&[("Opened_tables", 50)]);
        assert_eq!(table_open_cache(&f), None, "0.5/s is not a miss rate");
        f.window = window(&[("Opened_tables", 5000)]);
        let e = table_open_cache(&f).expect("cache");
        assert_eq!(e.expected, Target::AtLeast(2200.0));
    }

    #[test]
    fn peak_memory_is_mysqltuners_formula() {
        let mut f = facts(
            MysqlFlavor::Mariadb,
            "10.11.6-MariaDB",
            &[
                ("innodb_buffer_pool_size", "8589934592"),
                ("key_buffer_size", "134217728"),
                ("tmp_table_size", "67108864"),
                ("max_heap_table_size", "33554432"),
                ("innodb_log_buffer_size", "16777216"),
                ("query_cache_size", "1048576"),
                ("aria_pagecache_buffer_size", "134217728"),
                ("sort_buffer_size", "2097152"),
                ("join_buffer_size", "262144"),
                ("read_buffer_size", "131072"),
                ("read_rnd_buffer_size", "262144"),
                ("thread_stack", "299008"),
                ("max_connections", "1000"),
            ],
        );
        f.connections.max_used_connections = Some(100);
        let p = peak_memory(&f).expect("peak");
        let global = 8.0 * GIB + 128.0 * MIB + 32.0 * MIB + 16.0 * MIB + MIB + 128.0 * MIB;
        assert_eq!(p.global, global);
        assert_eq!(p.per_thread, 3_051_520.0);
        assert_eq!(p.peak(), global + 3_051_520_000.0);
        assert_eq!(p.used_peak(), Some(global + 305_152_000.0));
        assert_eq!(peak_memory(&MysqlFacts::default()), None);
    }

    #[test]
    fn storage_and_os_settings() {
        let f = facts(
            MysqlFlavor::Mariadb,
            "10.3.39-MariaDB",
            &[
                ("innodb_flush_neighbors", "1"),
                ("innodb_flush_method", "fsync"),
            ],
        );
        let all = settings(Some(&machine(true)), &f);
        let get = |n: &str| all.iter().find(|e| e.setting == n).map(|e| e.suggested());
        assert_eq!(
            get("innodb_flush_neighbors"),
            Some(Value::number(0.0, Unit::None))
        );
        assert_eq!(get("innodb_flush_method"), Some(Value::text("O_DIRECT")));
        assert!(settings(None, &f).is_empty());
        assert_eq!(thread_cache_size(&MysqlFacts::default()), None);
    }
}
