//! Memory sizing: the working set of the databases on this host (their buffers for
//! the data, per-connection memory × connections, an OS and page cache reserve), the
//! memory seen in use (plus what is swapped out), and the RAM size to resize to when
//! either exceeds the RAM installed. PostgreSQL's and MySQL's settings and counters
//! are read here, as the formulas of docs/tuning.md use them.

use perfdiag_model::facts::{MysqlFacts, PostgresFacts};
use perfdiag_model::target::is_local;

use super::{GIB, ceil_clean, short, size};

/// Share of the RAM to keep available at the observed peak: twice the memory
/// pressure rule's warning (10 %).
const AVAILABLE_TARGET_PCT: f64 = 20.0;
/// Growth headroom over the data size (the buffer pool formula's 10 %, docs/tuning.md).
const DATA_HEADROOM: f64 = 1.1;
/// Kernel, page tables, agents and the page cache for logs and binaries: a share of
/// the databases' memory, at least [`OS_RESERVE_MIN`].
const OS_RESERVE_SHARE: f64 = 0.1;
const OS_RESERVE_MIN: f64 = 2.0 * GIB;
/// work_mem allowances per PostgreSQL connection: PGTune's budget of a few sorts or
/// hashes at once (`pgtune.work_mem` divides by connections × 3).
const PG_WORK_MEMS_PER_CONNECTION: f64 = 3.0;
/// A hit ratio at or above this (%) over enough requests: the buffer already holds the
/// working set (the analyzers' `measured.hit_ratio` override).
const HIT_RATIO_ENOUGH_PCT: f64 = 99.9;
const HIT_RATIO_MIN_REQUESTS: f64 = 10_000.0;

/// RAM sizes (GiB) machines and VMs come in.
const RAM_SIZES_GIB: [u64; 23] = [
    1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072,
    4096, 6144,
];

/// A part of the working set: its bytes and how they were computed, or what is missing.
type Part = Result<(f64, String), String>;

/// The memory one database target needs on this host.
#[derive(Debug, Clone, PartialEq)]
pub(in crate::steps) struct DbMemory {
    target: String,
    /// The cache holding its data (buffer pool / shared_buffers and page cache).
    buffers: Part,
    /// Per-connection memory × connections.
    connections: Part,
}

/// The cache the data needs: the current buffer when a measured hit ratio shows the
/// working set already fits; else the data with growth headroom; else the current
/// buffer alone, said to be a floor. `hit` is (hit %, requests) over the window.
fn buffer_need(
    setting: &str,
    data: Option<f64>,
    current: Option<f64>,
    hit: Option<(f64, f64)>,
) -> Part {
    if let (Some(cur), Some((pct, requests))) = (current, hit)
        && pct >= HIT_RATIO_ENOUGH_PCT
        && requests >= HIT_RATIO_MIN_REQUESTS
    {
        return Ok((
            cur,
            format!(
                "{setting} {}: its {} % hit ratio over the window shows the working set fits",
                size(cur),
                short(pct)
            ),
        ));
    }
    match (data, current) {
        (Some(d), _) => Ok((
            d * DATA_HEADROOM,
            format!(
                "data {} + {} %",
                size(d),
                short((DATA_HEADROOM - 1.0) * 100.0)
            ),
        )),
        (None, Some(cur)) => Ok((
            cur,
            format!(
                "{setting} {} (the data size was not collected: the working set may be larger)",
                size(cur)
            ),
        )),
        (None, None) => Err(format!("the data size and {setting}")),
    }
}

/// Per-connection memory × the connections seen at the peak, else × max_connections
/// (a bound, said so). `per` is the bytes per connection and how they add up.
fn connection_memory(
    per: Option<(f64, String)>,
    peak: Option<(f64, &str)>,
    max: Option<f64>,
) -> Part {
    let Some((bytes, how)) = per else {
        return Err(
            "the per-connection memory settings (work_mem, or MySQL's per-thread buffers)"
                .to_owned(),
        );
    };
    let (count, which) = match (peak, max) {
        (Some((n, which)), _) => (n, which.to_owned()),
        (None, Some(m)) => (m, "max_connections: the peak was not measured".to_owned()),
        (None, None) => return Err("the connection count (peak or max_connections)".to_owned()),
    };
    Ok((
        bytes * count,
        format!(
            "{how} = {} × {} connections, {which}",
            size(bytes),
            short(count)
        ),
    ))
}

/// Buffer cache hit % and block requests over the window, from the counters read at
/// both ends; `None` without both readings or without requests.
fn pg_hit(facts: &PostgresFacts) -> Option<(f64, f64)> {
    let (start, end) = (facts.start.as_ref()?, facts.end.as_ref()?);
    let (mut hit, mut read) = (0.0, 0.0);
    for e in &end.databases {
        let Some(s) = start.databases.iter().find(|s| s.datname == e.datname) else {
            continue;
        };
        if let (Some(a), Some(b)) = (s.blks_hit, e.blks_hit) {
            hit += (b - a).max(0) as f64;
        }
        if let (Some(a), Some(b)) = (s.blks_read, e.blks_read) {
            read += (b - a).max(0) as f64;
        }
    }
    let requests = hit + read;
    (requests > 0.0).then(|| (hit * 100.0 / requests, requests))
}

fn pg_memory(facts: &PostgresFacts) -> DbMemory {
    let sizes: Vec<f64> = facts
        .databases
        .iter()
        .filter_map(|d| d.size_bytes)
        .map(|b| b as f64)
        .collect();
    let data = (!sizes.is_empty()).then(|| sizes.iter().sum());
    let per = facts.setting_number("work_mem").map(|w| {
        (
            w * PG_WORK_MEMS_PER_CONNECTION,
            format!(
                "{} × work_mem {}",
                short(PG_WORK_MEMS_PER_CONNECTION),
                size(w)
            ),
        )
    });
    let conns = facts.connections.as_ref();
    let peak = conns
        .and_then(|c| c.peak_client_backends)
        .map(|n| (n as f64, "the peak in the window"));
    let max = facts
        .setting_number("max_connections")
        .or_else(|| conns.and_then(|c| c.max_connections).map(|n| n as f64));
    DbMemory {
        target: facts.target.clone(),
        buffers: buffer_need(
            "shared_buffers",
            data,
            facts.setting_number("shared_buffers"),
            pg_hit(facts),
        )
        .map_err(|m| format!("{m} (facts postgres.databases[].size_bytes, shared_buffers)")),
        connections: connection_memory(per, peak, max),
    }
}

/// A MySQL global variable as a number.
fn mysql_var(facts: &MysqlFacts, name: &str) -> Option<f64> {
    facts.variable(name)?.trim().parse().ok()
}

/// Global buffers besides the buffer pool (MySQLTuner's peak memory formula,
/// docs/tuning.md); absent ones count as 0.
fn mysql_other_globals(facts: &MysqlFacts) -> f64 {
    let sum: f64 = [
        "key_buffer_size",
        "innodb_additional_mem_pool_size",
        "innodb_log_buffer_size",
        "query_cache_size",
        "aria_pagecache_buffer_size",
    ]
    .iter()
    .filter_map(|n| mysql_var(facts, n))
    .sum();
    let tmp = match (
        mysql_var(facts, "tmp_table_size"),
        mysql_var(facts, "max_heap_table_size"),
    ) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(0.0),
    };
    sum + tmp
}

fn mysql_memory(facts: &MysqlFacts) -> DbMemory {
    let current = facts
        .settings
        .innodb_buffer_pool_size_bytes
        .map(|b| b as f64)
        .or_else(|| mysql_var(facts, "innodb_buffer_pool_size"));
    let data = facts.data.as_ref().map(|d| d.innodb_bytes as f64);
    let hit = facts.window.as_ref().and_then(|w| {
        Some((
            w.buffer_pool_hit_pct()?,
            w.delta("Innodb_buffer_pool_read_requests")? as f64,
        ))
    });
    let others = mysql_other_globals(facts);
    let buffers = buffer_need("innodb_buffer_pool_size", data, current, hit)
        .map(|(b, how)| {
            if others > 0.0 {
                (
                    b + others,
                    format!("{how} + other global buffers {}", size(others)),
                )
            } else {
                (b, how)
            }
        })
        .map_err(|m| format!("{m} (facts mysql.data.innodb_bytes, innodb_buffer_pool_size)"));
    // The per-thread buffers of MySQLTuner's formula; sort_buffer_size at least must be
    // known for the sum to mean anything.
    let per = mysql_var(facts, "sort_buffer_size").map(|_| {
        let bytes: f64 = [
            "read_buffer_size",
            "read_rnd_buffer_size",
            "sort_buffer_size",
            "thread_stack",
            "join_buffer_size",
        ]
        .iter()
        .filter_map(|n| mysql_var(facts, n))
        .sum();
        (bytes, "per-thread buffers".to_owned())
    });
    let peak = facts
        .connections
        .max_used_connections
        .map(|n| (n as f64, "the most since startup"));
    let max = facts
        .settings
        .max_connections
        .or(facts.connections.max_connections)
        .map(|n| n as f64)
        .or_else(|| mysql_var(facts, "max_connections"));
    DbMemory {
        target: facts.target.clone(),
        buffers,
        connections: connection_memory(per, peak, max),
    }
}

/// The databases on this host (named `hostname`), each with the memory it needs.
pub(in crate::steps) fn local_databases(
    hostname: Option<&str>,
    postgres: &[PostgresFacts],
    mysql: &[MysqlFacts],
) -> Vec<DbMemory> {
    postgres
        .iter()
        .filter(|f| is_local(&f.target, hostname))
        .map(pg_memory)
        .chain(
            mysql
                .iter()
                .filter(|f| is_local(&f.target, hostname))
                .map(mysql_memory),
        )
        .collect()
}

/// The OS reserve for databases needing `db_bytes`.
fn os_reserve(db_bytes: f64) -> f64 {
    (db_bytes * OS_RESERVE_SHARE).max(OS_RESERVE_MIN)
}

/// The next RAM size machines come in, in GiB (multiples of 2 TiB past the table).
fn common_ram_gib(bytes: f64) -> u64 {
    let gib = ceil_clean(bytes / GIB).max(1.0) as u64;
    RAM_SIZES_GIB
        .iter()
        .copied()
        .find(|s| *s >= gib)
        .unwrap_or_else(|| gib.div_ceil(2048) * 2048)
}

/// The RAM that keeps [`AVAILABLE_TARGET_PCT`] of it available at `in_use`.
fn ram_for_use(in_use: f64) -> f64 {
    in_use / (1.0 - AVAILABLE_TARGET_PCT / 100.0)
}

/// The working set lines of `dbs` and its total (`None` without any database); the
/// total is a floor when a part is missing, and the lines say so.
fn working_set(dbs: &[DbMemory]) -> (Vec<String>, Option<(f64, bool)>) {
    if dbs.is_empty() {
        return (
            vec![
                "Working set: not computed, the snapshot has no database target on this host \
                 (facts postgres / mysql with a local URL)."
                    .to_owned(),
            ],
            None,
        );
    }
    let mut lines = vec!["Working set of the databases on this host:".to_owned()];
    let (mut total, mut partial) = (0.0, false);
    for db in dbs {
        let mut describe = |label: &str, part: &Part| match part {
            Ok((bytes, how)) => {
                total += bytes;
                format!("{label} {} ({how})", size(*bytes))
            }
            Err(missing) => {
                partial = true;
                format!("{label} not computed, missing {missing}")
            }
        };
        let buffers = describe("buffers", &db.buffers);
        let connections = describe("connections", &db.connections);
        lines.push(format!("- {}: {buffers}; {connections}", db.target));
    }
    let reserve = os_reserve(total);
    lines.push(format!(
        "- OS and page cache reserve: {} ({} % of {}, at least {})",
        size(reserve),
        short(OS_RESERVE_SHARE * 100.0),
        size(total),
        size(OS_RESERVE_MIN)
    ));
    let total = total + reserve;
    lines.push(format!(
        "= {}{}",
        if partial { "at least " } else { "" },
        size(total)
    ));
    (lines, Some((total, partial)))
}

/// The memory sizing: what was seen in use (with the swap in use, when known), the
/// working set of the local databases, and the RAM to resize to, if any.
pub(in crate::steps) fn ram_sizing(
    installed: Option<f64>,
    min_available_pct: Option<f64>,
    swap_used: Option<f64>,
    dbs: &[DbMemory],
) -> Vec<String> {
    let mut out = Vec::new();
    // The demand seen: RAM not available at the lowest point, plus what is swapped out.
    let seen = match (installed, min_available_pct) {
        (Some(ram), Some(avail)) => {
            let in_use = ram * (100.0 - avail) / 100.0;
            let swapped = swap_used.filter(|s| *s > 0.0);
            let demand = in_use + swapped.unwrap_or(0.0);
            let plus_swap = swapped
                .map(|s| format!(" + {} swapped out = {}", size(s), size(demand)))
                .unwrap_or_default();
            let need = ram_for_use(demand);
            out.push(format!(
                "Seen: {} installed, {} % available at the lowest → {} in use{plus_swap}; \
                 keeping {} % available at that use takes {} / {} = {}.",
                size(ram),
                short(avail),
                size(in_use),
                short(AVAILABLE_TARGET_PCT),
                size(demand),
                short(1.0 - AVAILABLE_TARGET_PCT / 100.0),
                size(need)
            ));
            Some(need)
        }
        (None, _) => {
            out.push(
                "Seen: the installed RAM (facts host.memory.total_bytes) is unknown, so the \
                 memory in use is not computed."
                    .to_owned(),
            );
            None
        }
        (Some(ram), None) => {
            out.push(format!(
                "Seen: {} installed; the lowest available memory \
                 (host_system.mem_available_pct.min) is not in the evidence.",
                size(ram)
            ));
            None
        }
    };
    let (lines, set) = working_set(dbs);
    out.extend(lines);
    let Some(ram) = installed else {
        return out;
    };
    let needed = [seen, set.map(|(t, _)| t)]
        .into_iter()
        .flatten()
        .max_by(f64::total_cmp);
    match needed {
        None => {
            out.push("RAM to resize to: not computed (see the missing evidence above).".to_owned())
        }
        Some(n) if n <= ram => out.push(format!(
            "RAM: {} needed ≤ {} installed: more RAM is not the fix; reduce what overcommits \
             it (steps 1–3).",
            size(n),
            size(ram)
        )),
        Some(n) => out.push(format!(
            "RAM: {} needed > {} installed → resize to {} GiB.",
            size(n),
            size(ram),
            common_ram_gib(n)
        )),
    }
    out
}

#[cfg(test)]
pub(in crate::steps) mod tests {
    use perfdiag_model::facts::mysql::{DataSizes, StatusWindow};
    use perfdiag_model::facts::postgres::{PgConnections, PgDatabase, PgSetting};

    use super::super::MIB;
    use super::*;

    fn setting(name: &str, bytes: f64) -> PgSetting {
        PgSetting {
            name: name.to_owned(),
            setting: bytes.to_string(),
            normalised: Some(bytes),
            ..PgSetting::default()
        }
    }

    /// A local-looking PostgreSQL target: 4 GiB shared_buffers, 4 MiB work_mem, 200
    /// max_connections, 85 at the peak, one database of `data_gib` GiB. The hardware
    /// steps' tests use it too.
    pub(in crate::steps) fn pg(target: &str, data_gib: Option<i64>) -> PostgresFacts {
        PostgresFacts {
            target: target.to_owned(),
            settings: vec![
                setting("shared_buffers", 4.0 * GIB),
                setting("work_mem", 4.0 * MIB),
                setting("max_connections", 200.0),
            ],
            databases: vec![PgDatabase {
                name: "erp".to_owned(),
                size_bytes: data_gib.map(|g| g << 30),
            }],
            connections: Some(PgConnections {
                peak_client_backends: Some(85),
                ..PgConnections::default()
            }),
            ..PostgresFacts::default()
        }
    }

    #[test]
    fn buffers_follow_the_data_unless_the_hit_ratio_says_it_fits() {
        let (b, how) =
            buffer_need("shared_buffers", Some(40.0 * GIB), Some(4.0 * GIB), None).expect("data");
        assert_eq!((b, how.as_str()), (44.0 * GIB, "data 40 GiB + 10 %"));
        let (b, how) = buffer_need(
            "shared_buffers",
            Some(40.0 * GIB),
            Some(4.0 * GIB),
            Some((99.95, 1e6)),
        )
        .expect("hit");
        assert_eq!(b, 4.0 * GIB);
        assert!(how.contains("99.95 % hit ratio"), "{how}");
        // Too few requests to judge: the data decides.
        let (b, _) = buffer_need(
            "shared_buffers",
            Some(40.0 * GIB),
            Some(4.0 * GIB),
            Some((99.95, 100.0)),
        )
        .expect("data");
        assert_eq!(b, 44.0 * GIB);
        let (b, how) = buffer_need("shared_buffers", None, Some(4.0 * GIB), None).expect("current");
        assert_eq!(b, 4.0 * GIB);
        assert!(how.contains("may be larger"), "{how}");
        assert_eq!(
            buffer_need("shared_buffers", None, None, None),
            Err("the data size and shared_buffers".to_owned())
        );
    }

    #[test]
    fn pg_buffers_stop_at_shared_buffers_when_the_hit_ratio_says_it_fits() {
        use chrono::{TimeZone, Utc};
        use perfdiag_model::facts::postgres::{PgCounters, PgDatabaseStats};

        let counters = |secs: u32, hit: i64, read: i64| PgCounters {
            at: Utc
                .with_ymd_and_hms(2026, 11, 2, 9, 0, secs)
                .single()
                .expect("valid date"),
            databases: vec![PgDatabaseStats {
                datname: "erp".to_owned(),
                blks_hit: Some(hit),
                blks_read: Some(read),
                ..PgDatabaseStats::default()
            }],
            ..PgCounters::default()
        };
        let mut facts = pg("postgres://app@localhost/erp", Some(40));
        // 1 999 000 hits and 1 000 reads: 99.95 %.
        facts.start = Some(counters(0, 1_000, 0));
        facts.end = Some(counters(59, 2_000_000, 1_000));
        assert_eq!(pg_hit(&facts), Some((99.95, 2_000_000.0)));
        let (b, how) = pg_memory(&facts).buffers.expect("buffers");
        assert_eq!(b, 4.0 * GIB);
        assert!(
            how.starts_with("shared_buffers 4 GiB: its 99.95 % hit ratio"),
            "{how}"
        );
        // 99 %: the data decides.
        facts.end = Some(counters(59, 1_981_000, 20_000));
        let (b, _) = pg_memory(&facts).buffers.expect("buffers");
        assert_eq!(b, 44.0 * GIB);
    }

    #[test]
    fn connections_use_the_peak_else_max_connections() {
        let per = Some((12.0 * MIB, "3 × work_mem 4 MiB".to_owned()));
        let (b, how) = connection_memory(
            per.clone(),
            Some((85.0, "the peak in the window")),
            Some(200.0),
        )
        .expect("peak");
        assert_eq!(b, 85.0 * 12.0 * MIB);
        assert_eq!(
            how,
            "3 × work_mem 4 MiB = 12 MiB × 85 connections, the peak in the window"
        );
        let (b, how) = connection_memory(per.clone(), None, Some(200.0)).expect("max");
        assert_eq!(b, 200.0 * 12.0 * MIB);
        assert!(how.contains("the peak was not measured"), "{how}");
        assert!(connection_memory(per, None, None).is_err());
        assert!(connection_memory(None, None, Some(200.0)).is_err());
    }

    #[test]
    fn ram_sizes_round_up_to_common_sizes() {
        assert_eq!(common_ram_gib(49.5 * GIB), 64);
        assert_eq!(common_ram_gib(64.0 * GIB), 64);
        assert_eq!(common_ram_gib(100.0 * GIB), 128);
        assert_eq!(common_ram_gib(7000.0 * GIB), 8192);
        assert_eq!(os_reserve(10.0 * GIB), OS_RESERVE_MIN);
        assert_eq!(os_reserve(45.0 * GIB), 4.5 * GIB);
        assert_eq!(ram_for_use(16.0 * GIB), 20.0 * GIB);
    }

    #[test]
    fn only_databases_on_this_host_count() {
        let postgres = [
            pg("postgres://app@localhost/erp", Some(40)),
            pg("postgres://app@db2/crm", Some(900)),
        ];
        let dbs = local_databases(Some("db1"), &postgres, &[]);
        assert_eq!(dbs.len(), 1);
        assert_eq!(dbs[0].target, "postgres://app@localhost/erp");
    }

    #[test]
    fn memory_sizing_says_what_is_missing() {
        // No host facts, no database: no number is made up.
        let lines = ram_sizing(None, Some(4.0), None, &[]);
        assert!(
            lines[0].contains("installed RAM (facts host.memory.total_bytes) is unknown"),
            "{lines:?}"
        );
        assert!(
            lines[1].contains("no database target on this host"),
            "{lines:?}"
        );
        assert_eq!(lines.len(), 2, "{lines:?}");
        let lines = ram_sizing(Some(16.0 * GIB), None, None, &[]);
        assert!(
            lines[0].contains("(host_system.mem_available_pct.min) is not in the evidence"),
            "{lines:?}"
        );
        assert_eq!(
            lines.last().map(String::as_str),
            Some("RAM to resize to: not computed (see the missing evidence above).")
        );
        // A target without sizes or settings: the total is a floor.
        let mut facts = pg("postgres://app@localhost/erp", None);
        facts.settings.clear();
        let lines = ram_sizing(Some(16.0 * GIB), Some(50.0), None, &[pg_memory(&facts)]);
        assert!(
            lines.iter().any(|l| l
                .contains("buffers not computed, missing the data size and shared_buffers (facts")),
            "{lines:?}"
        );
        assert!(lines.iter().any(|l| l == "= at least 2 GiB"), "{lines:?}");
        assert!(
            lines
                .last()
                .is_some_and(|l| l.contains("more RAM is not the fix")),
            "{lines:?}"
        );
    }

    #[test]
    fn mysql_memory_adds_other_globals_and_per_thread_buffers() {
        let vars = [
            ("innodb_buffer_pool_size", "8589934592"),
            ("key_buffer_size", "33554432"),
            ("innodb_log_buffer_size", "16777216"),
            ("tmp_table_size", "16777216"),
            ("max_heap_table_size", "33554432"),
            ("sort_buffer_size", "262144"),
            ("join_buffer_size", "262144"),
            ("read_buffer_size", "131072"),
            ("read_rnd_buffer_size", "262144"),
            ("thread_stack", "1048576"),
            ("max_connections", "151"),
        ];
        let mut facts = MysqlFacts {
            target: "mysql://root@localhost:3306".to_owned(),
            variables: vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            data: Some(DataSizes {
                innodb_bytes: 20 << 30,
                ..DataSizes::default()
            }),
            ..MysqlFacts::default()
        };
        facts.connections.max_used_connections = Some(100);
        let m = mysql_memory(&facts);
        let (b, how) = m.buffers.clone().expect("buffers");
        assert_eq!(b, 22.0 * GIB + 64.0 * MIB);
        assert_eq!(how, "data 20 GiB + 10 % + other global buffers 64 MiB");
        let (c, how) = m.connections.clone().expect("connections");
        assert_eq!(c, 100.0 * 1.875 * MIB);
        assert!(
            how.ends_with("× 100 connections, the most since startup"),
            "{how}"
        );
        // A pool that already holds the working set (99.95 % over 2 million requests).
        facts.window = Some(StatusWindow {
            seconds: 60.0,
            deltas: [
                ("Innodb_buffer_pool_read_requests".to_owned(), 2_000_000),
                ("Innodb_buffer_pool_reads".to_owned(), 1_000),
            ]
            .into_iter()
            .collect(),
        });
        let (b, _) = mysql_memory(&facts).buffers.expect("buffers");
        assert_eq!(b, 8.0 * GIB + 64.0 * MIB);
    }
}
