//! PostgreSQL expected settings: the PGTune family of formulas, overridden by what the
//! window measured.
//!
//! Source of the formulas: PGTune (le0pard/pgtune, `configurationSlice.js`), whose
//! "DB type" maps from the workload as OLTP → `oltp`, OLAP → `dw` (data warehouse),
//! mixed → `mixed`. PGTune takes the RAM, the CPUs, the connections and the storage
//! from a form; here they come from the snapshot: the RAM for the database
//! ([`Machine::db_ram`]), the logical CPUs, the target's own `max_connections` and the
//! storage under `data_directory`. A setting the snapshot does not record is not
//! judged. Windows-specific caps of PGTune are not applied.

use std::collections::BTreeMap;

use perfdiag_model::facts::PostgresFacts;
use perfdiag_model::facts::postgres::{PgCounters, PgDatabaseStats};
use perfdiag_model::{Unit, Value, Workload};

use super::{
    Expected, GIB, HIT_RATIO_ENOUGH_PCT, HIT_RATIO_MIN_REQUESTS, MIB, Machine, StorageKind, Target,
    ceil_mib, context, floor_mib,
};

/// Rates measured over the window, from the counters read at both ends.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Measured {
    /// Buffer cache hit ratio (%) and block requests in the window.
    pub hit: Option<(f64, f64)>,
    /// Temporary files written in the window and their bytes.
    pub temp: Option<(f64, f64)>,
    /// WAL bytes per second (`pg_stat_wal.wal_bytes`, PostgreSQL 14+).
    pub wal_bytes_per_s: Option<f64>,
}

/// What the window measured; parts without counters at both ends are `None`.
pub(crate) fn measured(facts: &PostgresFacts) -> Measured {
    let (Some(start), Some(end)) = (&facts.start, &facts.end) else {
        return Measured::default();
    };
    let secs = (end.at - start.at).num_milliseconds() as f64 / 1000.0;
    if secs <= 0.0 {
        return Measured::default();
    }
    let hit = delta(start, end, |d| d.blks_hit);
    let read = delta(start, end, |d| d.blks_read);
    let requests = hit.zip(read).map(|(h, r)| h + r);
    let wal = start
        .wal
        .as_ref()
        .and_then(|w| w.wal_bytes)
        .zip(end.wal.as_ref().and_then(|w| w.wal_bytes))
        .map(|(a, b)| (b - a).max(0.0) / secs);
    Measured {
        hit: hit
            .zip(requests)
            .filter(|(_, n)| *n > 0.0)
            .map(|(h, n)| (h * 100.0 / n, n)),
        temp: delta(start, end, |d| d.temp_files).zip(delta(start, end, |d| d.temp_bytes)),
        wal_bytes_per_s: wal,
    }
}

/// Sum over the databases present at both ends of `end - start` of one counter.
fn delta(
    start: &PgCounters,
    end: &PgCounters,
    field: fn(&PgDatabaseStats) -> Option<i64>,
) -> Option<f64> {
    let before: BTreeMap<&str, i64> = start
        .databases
        .iter()
        .filter_map(|d| Some((d.datname.as_str(), field(d)?)))
        .collect();
    let mut seen = false;
    let sum: i64 = end
        .databases
        .iter()
        .filter_map(|d| {
            let b = before.get(d.datname.as_str())?;
            seen = true;
            Some((field(d)? - b).max(0))
        })
        .sum();
    seen.then_some(sum as f64)
}

fn setting_evidence(
    facts: &PostgresFacts,
    name: &str,
    unit: Unit,
) -> Vec<perfdiag_model::Evidence> {
    facts
        .setting_number(name)
        .map(|v| context(&format!("pg.settings.{name}"), Value::number(v, unit)))
        .into_iter()
        .collect()
}

/// PGTune's shared_buffers: a quarter of the RAM for every server DB type.
///
/// Measured override: when the window's buffer cache hit ratio is already at least
/// 99.9 % over at least 10 000 block requests, the working set fits and a smaller
/// current value is accepted (`measured.hit_ratio`).
pub(crate) fn shared_buffers(m: &Machine, facts: &PostgresFacts, w: &Measured) -> Option<Expected> {
    let current = facts.setting_number("shared_buffers")?;
    let formula = floor_mib(m.db_ram() / 4.0);
    let mut e = Expected::number(
        "shared_buffers",
        current,
        Target::Value(formula),
        Unit::Bytes,
        "pgtune.shared_buffers",
    );
    if let Some((pct, requests)) = w.hit {
        e.evidence.push(context(
            "pg.cache.hit_ratio_pct",
            Value::number(pct, Unit::Percent),
        ));
        if pct >= HIT_RATIO_ENOUGH_PCT && requests >= HIT_RATIO_MIN_REQUESTS && current < formula {
            e.expected = Target::AtLeast(current);
            e.formula = "measured.hit_ratio";
        }
    }
    Some(e)
}

/// The CPUs PGTune sizes parallel workers for: from 4 CPUs on; below, the defaults.
fn parallel_cpus(m: &Machine) -> Option<u32> {
    m.cpus.filter(|c| *c >= 4)
}

/// PGTune's `max_worker_processes`: one per CPU from 4 CPUs, else the default 8.
fn worker_processes(m: &Machine) -> f64 {
    parallel_cpus(m).map_or(8.0, f64::from)
}

/// PGTune's work_mem: `(RAM - shared_buffers) / ((max_connections +
/// max_worker_processes) * 3)` — each connection may run a few sorts or hashes at
/// once — halved for mixed and OLAP (whose queries run more such nodes), at least
/// 4 MiB. shared_buffers is the formula's own (a quarter of the RAM); the connections
/// are the target's `max_connections`.
///
/// A ceiling, not a target: above it, busy hours risk running out of memory. Below
/// it nothing is asked: work_mem is raised only for the queries that spill
/// ([`work_mem_for_spills`]).
pub(crate) fn work_mem(m: &Machine, facts: &PostgresFacts) -> Option<Expected> {
    let current = facts.setting_number("work_mem")?;
    let connections = facts.setting_number("max_connections")?;
    let ram = m.db_ram();
    let mut value = (ram - ram / 4.0) / ((connections + worker_processes(m)) * 3.0);
    if matches!(m.workload, Workload::Mixed | Workload::Olap) {
        value /= 2.0;
    }
    let value = floor_mib(value.max(4.0 * MIB));
    Some(
        Expected::number(
            "work_mem",
            current,
            Target::AtMost(value),
            Unit::Bytes,
            "pgtune.work_mem",
        )
        .with(setting_evidence(facts, "max_connections", Unit::None)),
    )
}

/// work_mem for the statements that spilled: the mean size of the temporary files the
/// window wrote (`temp_bytes / temp_files`), rounded up to MiB, at least PGTune's
/// value. Set per role or session for those statements rather than globally when it
/// exceeds the global ceiling. `None` when nothing spilled or it was not measured.
pub(crate) fn work_mem_for_spills(
    m: &Machine,
    facts: &PostgresFacts,
    w: &Measured,
) -> Option<Expected> {
    let (files, bytes) = w.temp.filter(|(files, _)| *files > 0.0)?;
    let global = work_mem(m, facts)?;
    let floor = match global.expected {
        Target::AtMost(v) => v,
        _ => 4.0 * MIB,
    };
    let mean = bytes / files;
    Some(
        Expected {
            expected: Target::AtLeast(ceil_mib(mean).max(floor)),
            formula: "measured.temp_spill_size",
            ..global
        }
        .with(vec![
            context("pg.temp.files", Value::number(files, Unit::None)),
            context("pg.temp.mean_file_bytes", Value::number(mean, Unit::Bytes)),
        ]),
    )
}

/// PGTune's maintenance_work_mem: RAM / 16 (RAM / 8 for OLAP), at most 8 GiB.
fn maintenance_work_mem(m: &Machine, facts: &PostgresFacts) -> Option<Expected> {
    let current = facts.setting_number("maintenance_work_mem")?;
    let share = if m.workload == Workload::Olap {
        8.0
    } else {
        16.0
    };
    let value = floor_mib((m.db_ram() / share).min(8.0 * GIB));
    Some(
        Expected::number(
            "maintenance_work_mem",
            current,
            Target::Value(value),
            Unit::Bytes,
            "pgtune.maintenance_work_mem",
        )
        .minor(),
    )
}

/// PGTune's effective_cache_size: three quarters of the RAM (shared_buffers plus the
/// OS cache). A planner estimate, no memory is allocated.
fn effective_cache_size(m: &Machine, facts: &PostgresFacts) -> Option<Expected> {
    let current = facts.setting_number("effective_cache_size")?;
    Some(
        Expected::number(
            "effective_cache_size",
            current,
            Target::Value(floor_mib(m.db_ram() * 3.0 / 4.0)),
            Unit::Bytes,
            "pgtune.effective_cache_size",
        )
        .minor(),
    )
}

/// max_wal_size. Measured: room for two checkpoint cycles of the window's WAL rate,
/// `wal_bytes_per_s * checkpoint_timeout * 2`, rounded up to GiB and at least the
/// 1 GiB default — so checkpoints come from the timer, not from WAL volume, with
/// headroom for peaks above the window's rate (`measured.wal_rate`). Without
/// `pg_stat_wal` (before PostgreSQL 14): PGTune's per-type value, 8 GiB OLTP, 16 GiB
/// OLAP, 4 GiB mixed (`pgtune.max_wal_size`). A floor: more is never asked to shrink.
pub(crate) fn max_wal_size(m: &Machine, facts: &PostgresFacts, w: &Measured) -> Option<Expected> {
    let current = facts.setting_number("max_wal_size")?;
    if let Some(rate) = w.wal_bytes_per_s {
        let timeout_s = facts
            .setting_number("checkpoint_timeout")
            .unwrap_or(300_000.0)
            / 1000.0;
        let need = ((rate * timeout_s * 2.0) / GIB).ceil().max(1.0) * GIB;
        return Some(
            Expected::number(
                "max_wal_size",
                current,
                Target::AtLeast(need),
                Unit::Bytes,
                "measured.wal_rate",
            )
            .with(vec![context(
                "pg.wal.bytes_per_s",
                Value::number(rate, Unit::PerSecond),
            )])
            .with(setting_evidence(
                facts,
                "checkpoint_timeout",
                Unit::Milliseconds,
            )),
        );
    }
    let value = match m.workload {
        Workload::Oltp => 8.0,
        Workload::Olap => 16.0,
        Workload::Mixed => 4.0,
    } * GIB;
    Some(
        Expected::number(
            "max_wal_size",
            current,
            Target::AtLeast(value),
            Unit::Bytes,
            "pgtune.max_wal_size",
        )
        .minor(),
    )
}

/// Every expected setting `pg.config.deviates` judges. shared_buffers is judged by
/// `pg.memory.shared_buffers_low` and work_mem spills by `pg.temp.spills`; here work_mem
/// is judged only against its ceiling.
///
/// Besides the memory and WAL formulas above (PGTune):
/// - `random_page_cost`: 4 on HDD, 1.1 on SSD/NVMe (`pgtune.random_page_cost`).
/// - `effective_io_concurrency` (Linux): 2 HDD, 200 SSD, 1000 NVMe
///   (`pgtune.effective_io_concurrency`).
/// - `default_statistics_target`: 500 for OLAP, else 100.
/// - From 4 CPUs: `max_worker_processes` = CPUs, `max_parallel_workers` = CPUs (10+),
///   `max_parallel_workers_per_gather` = ceil(CPUs / 2) capped at 4 except OLAP,
///   `max_parallel_maintenance_workers` = ceil(CPUs / 2) capped at 4 (11+).
/// - `huge_pages`: `try` (or `on`) once shared_buffers is 2 GiB or more.
/// - `jit`: off for OLTP and mixed (12+): compiling costs more than short queries gain.
pub(crate) fn settings(m: &Machine, facts: &PostgresFacts, w: &Measured) -> Vec<Expected> {
    let mut out: Vec<Expected> = [
        effective_cache_size(m, facts),
        maintenance_work_mem(m, facts),
        work_mem(m, facts),
        max_wal_size(m, facts, w),
    ]
    .into_iter()
    .flatten()
    .collect();
    let count = |name: &'static str, value: f64, formula: &'static str| {
        facts
            .setting_number(name)
            .map(|c| Expected::number(name, c, Target::Value(value), Unit::None, formula).minor())
    };
    if let Some(storage) = m.storage {
        let cost = if storage == StorageKind::Hdd {
            4.0
        } else {
            1.1
        };
        out.extend(count("random_page_cost", cost, "pgtune.random_page_cost"));
        if m.linux {
            let io = match storage {
                StorageKind::Hdd => 2.0,
                StorageKind::Ssd => 200.0,
                StorageKind::Nvme => 1000.0,
            };
            out.extend(count(
                "effective_io_concurrency",
                io,
                "pgtune.effective_io_concurrency",
            ));
        }
    }
    let stats = if m.workload == Workload::Olap {
        500.0
    } else {
        100.0
    };
    out.extend(count(
        "default_statistics_target",
        stats,
        "pgtune.default_statistics_target",
    ));
    let version = facts.major_version();
    if let Some(cpus) = parallel_cpus(m) {
        let cpus = f64::from(cpus);
        let half = (cpus / 2.0).ceil();
        let gather = if m.workload == Workload::Olap {
            half
        } else {
            half.min(4.0)
        };
        out.extend(count("max_worker_processes", cpus, "pgtune.parallel"));
        out.extend(count(
            "max_parallel_workers_per_gather",
            gather,
            "pgtune.parallel",
        ));
        if version.is_some_and(|v| v >= 10) {
            out.extend(count("max_parallel_workers", cpus, "pgtune.parallel"));
        }
        if version.is_some_and(|v| v >= 11) {
            out.extend(count(
                "max_parallel_maintenance_workers",
                half.min(4.0),
                "pgtune.parallel",
            ));
        }
    }
    let text = |name: &'static str, ok: &'static [&'static str], formula: &'static str| {
        facts.setting_text(name).map(|c| Expected {
            current: Value::text(c),
            ..Expected::number(name, 0.0, Target::OneOf(ok), Unit::None, formula).minor()
        })
    };
    if m.linux && m.db_ram() / 4.0 >= 2.0 * GIB {
        out.extend(text("huge_pages", &["try", "on"], "pgtune.huge_pages"));
    }
    if m.workload != Workload::Olap && version.is_some_and(|v| v >= 12) {
        out.extend(text("jit", &["off"], "pgtune.jit"));
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};
    use perfdiag_model::facts::postgres::{PgSetting, PgWal};

    use super::*;
    use crate::test_support::Fixture;

    fn machine(workload: Workload, dedicated: bool) -> Machine {
        let host = Fixture::healthy().host.expect("host");
        let mut m = Machine::new(&host, None, workload, dedicated).expect("ram");
        m.storage = Some(StorageKind::Ssd);
        m
    }

    fn facts(settings: &[(&str, &str, Option<f64>)]) -> PostgresFacts {
        PostgresFacts {
            server_version_num: Some(160_002),
            settings: settings
                .iter()
                .map(|(n, raw, norm)| PgSetting {
                    name: (*n).to_owned(),
                    setting: (*raw).to_owned(),
                    normalised: *norm,
                    ..PgSetting::default()
                })
                .collect(),
            ..PostgresFacts::default()
        }
    }

    fn value(e: &Expected) -> f64 {
        match e.suggested() {
            Value::Number { value, .. } => value,
            Value::Text { .. } => panic!("text"),
        }
    }

    #[test]
    fn pgtune_memory_formulas_on_16_gib() {
        let f = facts(&[
            ("shared_buffers", "16384", Some(128.0 * MIB)),
            ("work_mem", "4096", Some(4.0 * MIB)),
            ("max_connections", "100", None),
            ("maintenance_work_mem", "65536", Some(64.0 * MIB)),
            ("effective_cache_size", "524288", Some(4.0 * GIB)),
        ]);
        let m = machine(Workload::Oltp, true);
        let sb = shared_buffers(&m, &f, &Measured::default()).expect("sb");
        assert_eq!(sb.expected, Target::Value(4.0 * GIB));
        assert_eq!(sb.deviation(), 32.0);
        // (16 GiB - 4 GiB) / ((100 + 8 workers) * 3) = 37.9 MiB, floored.
        let wm = work_mem(&m, &f).expect("work_mem");
        assert_eq!(wm.expected, Target::AtMost(37.0 * MIB));
        assert_eq!(wm.deviation(), 1.0, "4 MiB is under the ceiling");
        // Mixed halves it; a shared host halves the RAM.
        let mixed = work_mem(&machine(Workload::Mixed, false), &f).expect("work_mem");
        assert_eq!(mixed.expected, Target::AtMost(9.0 * MIB));
        let all = settings(&m, &f, &Measured::default());
        let get = |n: &str| all.iter().find(|e| e.setting == n).expect(n);
        assert_eq!(value(get("maintenance_work_mem")), GIB);
        assert_eq!(value(get("effective_cache_size")), 12.0 * GIB);
        let olap = settings(&machine(Workload::Olap, true), &f, &Measured::default());
        let mwm = olap.iter().find(|e| e.setting == "maintenance_work_mem");
        assert_eq!(mwm.map(value), Some(2.0 * GIB));
    }

    #[test]
    fn a_hit_ratio_at_999_does_not_ask_for_more_shared_buffers() {
        let f = facts(&[("shared_buffers", "16384", Some(128.0 * MIB))]);
        let m = machine(Workload::Oltp, true);
        let w = Measured {
            hit: Some((99.95, 1_000_000.0)),
            ..Measured::default()
        };
        let sb = shared_buffers(&m, &f, &w).expect("sb");
        assert_eq!(sb.formula, "measured.hit_ratio");
        assert_eq!(sb.deviation(), 1.0);
        // Too few requests, or a lower ratio: the formula stands.
        for hit in [(99.95, 100.0), (99.0, 1_000_000.0)] {
            let w = Measured {
                hit: Some(hit),
                ..Measured::default()
            };
            let sb = shared_buffers(&m, &f, &w).expect("sb");
            assert_eq!(sb.formula, "pgtune.shared_buffers");
        }
    }

    #[test]
    fn max_wal_size_comes_from_the_measured_wal_rate() {
        let f = facts(&[
            ("max_wal_size", "1024", Some(GIB)),
            ("checkpoint_timeout", "300", Some(300_000.0)),
        ]);
        let m = machine(Workload::Mixed, true);
        // 20 MiB/s * 300 s * 2 = 11.7 GiB -> 12 GiB.
        let w = Measured {
            wal_bytes_per_s: Some(20.0 * MIB),
            ..Measured::default()
        };
        let e = max_wal_size(&m, &f, &w).expect("max_wal_size");
        assert_eq!(e.expected, Target::AtLeast(12.0 * GIB));
        assert_eq!(e.formula, "measured.wal_rate");
        assert!(!e.minor);
        // A quiet window asks for no more than the default.
        let quiet = Measured {
            wal_bytes_per_s: Some(1000.0),
            ..Measured::default()
        };
        assert_eq!(max_wal_size(&m, &f, &quiet).expect("e").deviation(), 1.0);
        // Not measured: PGTune's value for the workload.
        let e = max_wal_size(&m, &f, &Measured::default()).expect("e");
        assert_eq!(
            (e.expected, e.formula),
            (Target::AtLeast(4.0 * GIB), "pgtune.max_wal_size")
        );
    }

    #[test]
    fn spills_size_work_mem_for_the_statements_that_spill() {
        let f = facts(&[
            ("work_mem", "4096", Some(4.0 * MIB)),
            ("max_connections", "100", None),
        ]);
        let m = machine(Workload::Oltp, true);
        assert_eq!(work_mem_for_spills(&m, &f, &Measured::default()), None);
        let w = Measured {
            temp: Some((10.0, 10.0 * 200.0 * MIB)),
            ..Measured::default()
        };
        let e = work_mem_for_spills(&m, &f, &w).expect("spills");
        assert_eq!(e.expected, Target::AtLeast(200.0 * MIB));
        assert_eq!(e.formula, "measured.temp_spill_size");
    }

    #[test]
    fn storage_cpus_and_version_pick_the_planner_and_parallel_settings() {
        let f = facts(&[
            ("random_page_cost", "4", None),
            ("effective_io_concurrency", "1", None),
            ("max_worker_processes", "8", None),
            ("max_parallel_workers_per_gather", "2", None),
            ("max_parallel_workers", "8", None),
            ("max_parallel_maintenance_workers", "2", None),
            ("huge_pages", "off", None),
            ("jit", "on", None),
            ("default_statistics_target", "100", None),
        ]);
        let mut m = machine(Workload::Oltp, true);
        m.cpus = Some(32);
        let all = settings(&m, &f, &Measured::default());
        let get = |n: &str| all.iter().find(|e| e.setting == n).map(|e| e.suggested());
        assert_eq!(
            get("random_page_cost"),
            Some(Value::number(1.1, Unit::None))
        );
        assert_eq!(
            get("effective_io_concurrency"),
            Some(Value::number(200.0, Unit::None))
        );
        assert_eq!(
            get("max_worker_processes"),
            Some(Value::number(32.0, Unit::None))
        );
        assert_eq!(
            get("max_parallel_workers_per_gather"),
            Some(Value::number(4.0, Unit::None))
        );
        assert_eq!(get("huge_pages"), Some(Value::text("try")));
        assert_eq!(get("jit"), Some(Value::text("off")));
        m.workload = Workload::Olap;
        m.storage = Some(StorageKind::Hdd);
        m.cpus = Some(2);
        let all = settings(&m, &f, &Measured::default());
        let get = |n: &str| all.iter().find(|e| e.setting == n).map(|e| e.suggested());
        assert_eq!(
            get("random_page_cost"),
            Some(Value::number(4.0, Unit::None))
        );
        assert_eq!(
            get("default_statistics_target"),
            Some(Value::number(500.0, Unit::None))
        );
        assert_eq!(get("max_worker_processes"), None, "fewer than 4 CPUs");
        assert_eq!(get("jit"), None, "OLAP keeps the default");
        m.storage = None;
        let all = settings(&m, &f, &Measured::default());
        assert!(all.iter().all(|e| e.setting != "random_page_cost"));
    }

    #[test]
    fn window_rates_are_measured_from_both_ends() {
        let t0 = Utc
            .with_ymd_and_hms(2026, 11, 2, 9, 0, 0)
            .single()
            .expect("t0");
        let counters = |secs: i64, hit: i64, read: i64, wal: f64| PgCounters {
            at: t0 + chrono::Duration::seconds(secs),
            databases: vec![PgDatabaseStats {
                datname: "erp".to_owned(),
                blks_hit: Some(hit),
                blks_read: Some(read),
                temp_files: Some(0),
                temp_bytes: Some(0),
                ..PgDatabaseStats::default()
            }],
            bgwriter: None,
            wal: Some(PgWal {
                wal_bytes: Some(wal),
                ..PgWal::default()
            }),
        };
        let f = PostgresFacts {
            start: Some(counters(0, 1000, 0, 0.0)),
            end: Some(counters(100, 100_900, 100, 1e9)),
            ..PostgresFacts::default()
        };
        let w = measured(&f);
        assert_eq!(w.hit, Some((99.9, 100_000.0)));
        assert_eq!(w.wal_bytes_per_s, Some(1e7));
        assert_eq!(w.temp, Some((0.0, 0.0)));
        assert_eq!(measured(&PostgresFacts::default()), Measured::default());
    }
}
