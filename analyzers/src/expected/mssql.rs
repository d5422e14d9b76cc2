//! SQL Server expected settings: max server memory from the server's RAM, MAXDOP from
//! its logical processors per NUMA node, the cost threshold for parallelism, and the
//! number of tempdb data files.
//!
//! The hardware comes from the server's own view (`sys.dm_os_sys_info` in the facts),
//! not from the host facts: SQL Server is usually collected from another machine, and
//! what the engine sees (a VM's vCPUs, the NUMA nodes it was given) is what its
//! settings must fit. Only "dedicated or shared" comes from the engineer.

use perfdiag_model::facts::MssqlFacts;
use perfdiag_model::{Unit, Value};

use super::{Expected, GIB, MIB, SHARED_HOST_RAM_SHARE, Target, context};

/// `max server memory (MB)` as SQL Server installs it: no limit.
pub(crate) const MAX_SERVER_MEMORY_DEFAULT_MB: i64 = 2_147_483_647;

/// `cost threshold for parallelism` as SQL Server installs it.
pub(crate) const COST_THRESHOLD_DEFAULT: i64 = 5;

/// The cost threshold to set instead of the default: 50, the starting point most
/// SQL Server tuning guides give (the default dates from 1990s hardware), to be
/// refined from the costs of the plans that go parallel.
pub(crate) const COST_THRESHOLD_SUGGESTED: i64 = 50;

/// Most tempdb data files the guidance asks for before contention is measured.
pub(crate) const TEMPDB_FILES_MAX: i64 = 8;

/// The memory left to the OS and to what SQL Server allocates outside the buffer
/// pool (thread stacks, CLR, linked-server providers): 1 GiB, plus 1 GiB per 4 GiB of
/// RAM from 4 to 16 GiB, plus 1 GiB per 8 GiB above 16 GiB (Jonathan Kehayias, "How
/// much memory does my SQL Server actually need?", the formula dbatools'
/// Test-DbaMaxMemory applies).
pub(crate) fn os_reserve(ram: f64) -> f64 {
    let gib = ram / GIB;
    let mut reserve = 1.0;
    reserve += ((gib.min(16.0) - 4.0).max(0.0) / 4.0).floor();
    reserve += ((gib - 16.0).max(0.0) / 8.0).floor();
    (reserve * GIB).min(ram / 2.0)
}

/// The server's RAM as `sys.dm_os_sys_info` reports it.
pub(crate) fn server_ram(facts: &MssqlFacts) -> Option<f64> {
    facts
        .system
        .as_ref()?
        .physical_memory_bytes
        .filter(|b| *b > 0)
        .map(|b| b as f64)
}

/// `max server memory (MB)`: the RAM for the database (all of it on a dedicated host,
/// [`SHARED_HOST_RAM_SHARE`] of it on a shared one) minus [`os_reserve`], in whole
/// MiB (`mssql.os_reserve`). Unlimited (the default) leaves the OS to be paged out
/// when the buffer pool grows; far below, the buffer pool is starved. `None` without
/// the setting or the RAM.
pub(crate) fn max_server_memory(facts: &MssqlFacts, dedicated: bool) -> Option<Expected> {
    let current_mb = facts.config_in_use("max server memory (MB)")?;
    let ram = server_ram(facts)?;
    let db_ram = if dedicated {
        ram
    } else {
        ram * SHARED_HOST_RAM_SHARE
    };
    let value_mb = ((db_ram - os_reserve(db_ram)) / MIB).floor().max(128.0);
    Some(
        Expected::number(
            "max server memory (MB)",
            current_mb as f64,
            Target::Value(value_mb),
            Unit::None,
            "mssql.os_reserve",
        )
        .with(vec![
            context(
                "mssql.system.physical_memory_bytes",
                Value::number(ram, Unit::Bytes),
            ),
            context(
                "expected.ram_for_database_bytes",
                Value::number(db_ram, Unit::Bytes),
            ),
            context(
                "mssql.expected.os_reserve_bytes",
                Value::number(os_reserve(db_ram), Unit::Bytes),
            ),
            context(
                "expected.dedicated_host",
                Value::text(if dedicated { "yes" } else { "no" }),
            ),
        ]),
    )
}

/// The logical processors and NUMA nodes the server schedules on.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Processors {
    pub logical: i64,
    pub numa_nodes: i64,
}

impl Processors {
    pub fn of(facts: &MssqlFacts) -> Option<Self> {
        let s = facts.system.as_ref()?;
        let logical = s.scheduler_count.or(s.cpu_count).filter(|c| *c > 0)?;
        Some(Self {
            logical,
            numa_nodes: s.numa_node_count.filter(|n| *n > 0).unwrap_or(1),
        })
    }

    pub fn per_node(self) -> i64 {
        (self.logical / self.numa_nodes).max(1)
    }
}

/// MAXDOP as Microsoft's guidance sets it ("Configure the max degree of parallelism
/// server configuration option", SQL Server 2016 and later): one NUMA node — at most
/// the logical processors, and 8 above 8; several nodes — at most the logical
/// processors per node, and half of them (at most 16) above 16 per node.
pub(crate) fn maxdop_for(p: Processors) -> i64 {
    if p.numa_nodes <= 1 {
        p.logical.min(8)
    } else if p.per_node() <= 16 {
        p.per_node()
    } else {
        (p.per_node() / 2).min(16)
    }
}

/// `max degree of parallelism` against [`maxdop_for`], as a ceiling
/// (`mssql.maxdop_numa`): a smaller MAXDOP is a choice (ERP vendors often ask for 1),
/// not a fault. The current value 0 means "every logical processor" (at most 64).
pub(crate) fn maxdop(facts: &MssqlFacts) -> Option<Expected> {
    let current = facts.config_in_use("max degree of parallelism")?;
    let p = Processors::of(facts)?;
    let effective = if current == 0 {
        p.logical.min(64)
    } else {
        current
    };
    Some(
        Expected::number(
            "max degree of parallelism",
            effective as f64,
            Target::AtMost(maxdop_for(p) as f64),
            Unit::None,
            "mssql.maxdop_numa",
        )
        .with(vec![
            context(
                "mssql.settings.max degree of parallelism.configured",
                Value::number(current as f64, Unit::None),
            ),
            context(
                "mssql.system.logical_processors",
                Value::number(p.logical as f64, Unit::None),
            ),
            context(
                "mssql.system.numa_nodes",
                Value::number(p.numa_nodes as f64, Unit::None),
            ),
        ]),
    )
}

/// tempdb data files: as many as logical processors up to [`TEMPDB_FILES_MAX`], so
/// that allocation pages (PFS, GAM, SGAM) are spread and sessions creating temporary
/// objects do not queue on one page latch (Microsoft, "Recommendations to reduce
/// allocation contention in SQL Server tempdb database"). A floor
/// (`mssql.tempdb_files_per_cpu`): more files are added only when contention shows.
pub(crate) fn tempdb_files(facts: &MssqlFacts) -> Option<Expected> {
    if facts.tempdb_files.is_empty() {
        return None;
    }
    let p = Processors::of(facts)?;
    let data = facts
        .tempdb_files
        .iter()
        .filter(|f| f.type_desc.eq_ignore_ascii_case("ROWS"))
        .count() as f64;
    Some(
        Expected::number(
            "tempdb data files",
            data,
            Target::AtLeast(p.logical.min(TEMPDB_FILES_MAX) as f64),
            Unit::None,
            "mssql.tempdb_files_per_cpu",
        )
        .with(vec![context(
            "mssql.system.logical_processors",
            Value::number(p.logical as f64, Unit::None),
        )]),
    )
}

#[cfg(test)]
mod tests {
    use perfdiag_model::facts::mssql::{MssqlConfiguration, MssqlDatabaseFile, MssqlSystem};

    use super::*;

    fn facts(ram_gib: f64, cpus: i64, nodes: i64, config: &[(&str, i64)]) -> MssqlFacts {
        MssqlFacts {
            system: Some(MssqlSystem {
                cpu_count: Some(cpus),
                scheduler_count: Some(cpus),
                numa_node_count: Some(nodes),
                physical_memory_bytes: Some((ram_gib * GIB) as i64),
                ..MssqlSystem::default()
            }),
            configurations: config
                .iter()
                .map(|(n, v)| MssqlConfiguration {
                    name: (*n).to_owned(),
                    value: *v,
                    value_in_use: *v,
                    ..MssqlConfiguration::default()
                })
                .collect(),
            ..MssqlFacts::default()
        }
    }

    #[test]
    fn the_os_reserve_follows_kehayias() {
        assert_eq!(os_reserve(4.0 * GIB), GIB);
        assert_eq!(os_reserve(16.0 * GIB), 4.0 * GIB);
        assert_eq!(os_reserve(64.0 * GIB), 10.0 * GIB);
        assert_eq!(os_reserve(256.0 * GIB), 34.0 * GIB);
        // Never more than half of a small machine.
        assert_eq!(os_reserve(GIB), GIB / 2.0);
    }

    #[test]
    fn max_server_memory_leaves_the_reserve_and_halves_on_a_shared_host() {
        let f = facts(
            64.0,
            16,
            1,
            &[("max server memory (MB)", MAX_SERVER_MEMORY_DEFAULT_MB)],
        );
        let e = max_server_memory(&f, true).expect("judged");
        assert_eq!(e.expected, Target::Value(54.0 * 1024.0));
        assert!(e.deviation() > 1000.0, "unlimited is far off");
        let shared = max_server_memory(&f, false).expect("judged");
        // Half of 64 GiB is 32 GiB, minus 1 + 3 + 2 GiB.
        assert_eq!(shared.expected, Target::Value(26.0 * 1024.0));
        let set = facts(64.0, 16, 1, &[("max server memory (MB)", 55_296)]);
        assert!(max_server_memory(&set, true).expect("judged").deviation() < 1.1);
        assert_eq!(max_server_memory(&MssqlFacts::default(), true), None);
    }

    #[test]
    fn maxdop_follows_the_numa_guidance() {
        let p = |logical, numa_nodes| Processors {
            logical,
            numa_nodes,
        };
        assert_eq!(maxdop_for(p(4, 1)), 4);
        assert_eq!(maxdop_for(p(24, 1)), 8);
        assert_eq!(maxdop_for(p(32, 2)), 16);
        assert_eq!(maxdop_for(p(24, 2)), 12);
        assert_eq!(maxdop_for(p(80, 2)), 16); // 40 per node: half is 20, at most 16
        assert_eq!(maxdop_for(p(48, 2)), 12); // 24 per node: half
        let zero = facts(64.0, 32, 2, &[("max degree of parallelism", 0)]);
        let e = maxdop(&zero).expect("judged");
        assert_eq!(e.current, Value::number(32.0, Unit::None));
        assert_eq!(e.expected, Target::AtMost(16.0));
        let one = facts(64.0, 32, 2, &[("max degree of parallelism", 1)]);
        assert_eq!(maxdop(&one).expect("judged").deviation(), 1.0);
    }

    #[test]
    fn tempdb_wants_a_file_per_cpu_up_to_eight() {
        let mut f = facts(64.0, 16, 1, &[]);
        f.tempdb_files = (1..=4)
            .map(|i| MssqlDatabaseFile {
                file_id: i,
                type_desc: "ROWS".to_owned(),
                ..MssqlDatabaseFile::default()
            })
            .chain(std::iter::once(MssqlDatabaseFile {
                file_id: 2,
                type_desc: "LOG".to_owned(),
                ..MssqlDatabaseFile::default()
            }))
            .collect();
        let e = tempdb_files(&f).expect("judged");
        assert_eq!(e.current, Value::number(4.0, Unit::None));
        assert_eq!(e.expected, Target::AtLeast(8.0));
    }
}
