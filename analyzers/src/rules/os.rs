//! OS configuration rules, from the `os` facts (and `host` facts for memory size).
//!
//! Where the right value depends on the databases the host runs — the listen backlog
//! and open files their connection settings need, the huge pages their buffers need —
//! the rules also compare with the expected values of [`expected::host`], from the
//! settings of the database targets on this host.

use std::collections::BTreeMap;

use perfdiag_model::facts::{MysqlFacts, PostgresFacts};
use perfdiag_model::{Comparison, Evidence, Severity, Threshold, Unit, Value};

use super::{Inputs, Outcome, RuleDef, context, crossed, finding, graded, graded_for};
use crate::baseline::{Direction, RuleSpec};
use crate::expected::{self, Expected};
use crate::frames::Missing;

/// The PostgreSQL targets running on this host (their settings size host resources).
fn local_postgres<'a>(inputs: &'a Inputs<'_>) -> Vec<&'a PostgresFacts> {
    let hostname = inputs
        .host()
        .map(|h| h.hostname.as_str())
        .unwrap_or_default();
    inputs
        .postgres
        .as_ref()
        .map(|t| {
            t.iter()
                .filter(|f| expected::is_local(&f.target, hostname))
                .collect()
        })
        .unwrap_or_default()
}

/// The MySQL/MariaDB targets running on this host.
fn local_mysql<'a>(inputs: &'a Inputs<'_>) -> Vec<&'a MysqlFacts> {
    let hostname = inputs
        .host()
        .map(|h| h.hostname.as_str())
        .unwrap_or_default();
    inputs
        .mysql
        .as_ref()
        .map(|t| {
            t.iter()
                .filter(|f| expected::is_local(&f.target, hostname))
                .collect()
        })
        .unwrap_or_default()
}

/// `os.expected.<name>` and its formula, as context evidence.
fn expected_evidence(e: &Expected) -> Vec<Evidence> {
    let mut out = vec![
        context(&format!("os.expected.{}", e.setting), e.suggested()),
        context(
            &format!("os.expected.{}.formula", e.setting),
            Value::text(e.formula),
        ),
    ];
    out.extend(e.evidence.iter().cloned());
    out
}

/// Transparent huge pages in `always` mode: latency spikes from khugepaged compaction
/// and memory bloat in databases that manage their own memory.
pub(super) const THP: RuleDef = RuleDef {
    id: "os.thp.enabled",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        let thp = inputs
            .os()?
            .transparent_hugepages
            .as_ref()
            .ok_or_else(|| Missing("facts os.transparent_hugepages".to_owned()))?;
        if thp.enabled != "always" {
            return Ok(Vec::new());
        }
        let mut evidence = vec![crossed(
            "os.thp.enabled",
            Value::text(&thp.enabled),
            Threshold::new(Comparison::Equals, Value::text("always")),
        )];
        if let Some(defrag) = &thp.defrag {
            evidence.push(context("os.thp.defrag", Value::text(defrag)));
        }
        Ok(vec![finding(
            spec,
            spec.condition_severity(),
            None,
            evidence,
        )])
    },
};

/// vm.swappiness above the threshold: the kernel swaps out database memory in favour
/// of page cache. The evidence says what this host should have: 1 when dedicated to
/// the databases, 10 when shared ([`expected::host::swappiness`]).
pub(super) const SWAPPINESS: RuleDef = RuleDef {
    id: "os.vm.swappiness",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        let value = inputs.sysctl("vm.swappiness").map(|v| v as f64);
        graded(spec, "sysctl.vm.swappiness", value, || {
            expected_evidence(&expected::host::swappiness(0.0, inputs.dedicated))
        })
    },
};

/// One of the two dirty limits, resolved to bytes.
struct DirtyLimit {
    /// `os.vm.dirty_limit_bytes` or `os.vm.dirty_background_limit_bytes`.
    metric: &'static str,
    bytes: f64,
    /// The sysctl the value comes from and its raw value.
    source: (String, i64),
}

/// `vm.<prefix>_bytes` when non-zero (the kernel then ignores the ratio), else
/// `vm.<prefix>_ratio` % of RAM. RAM is an upper bound of the kernel's "dirtyable"
/// memory, which is what the ratio applies to.
fn dirty_limit(
    inputs: &Inputs<'_>,
    prefix: &str,
    metric: &'static str,
) -> Result<DirtyLimit, Missing> {
    let bytes_name = format!("vm.{prefix}_bytes");
    if let Ok(bytes) = inputs.sysctl(&bytes_name)
        && bytes > 0
    {
        return Ok(DirtyLimit {
            metric,
            bytes: bytes as f64,
            source: (bytes_name, bytes),
        });
    }
    let ratio_name = format!("vm.{prefix}_ratio");
    let ratio = inputs.sysctl(&ratio_name)?;
    let ram = inputs.host()?.memory.total_bytes;
    if ram == 0 {
        return Err(Missing("facts host.memory.total_bytes".to_owned()));
    }
    Ok(DirtyLimit {
        metric,
        bytes: ram as f64 * ratio as f64 / 100.0,
        source: (ratio_name, ratio),
    })
}

/// Dirty page limits too large for the RAM: minutes of writes pile up, then flush in a
/// storm that stalls the database's own writes (checkpoints, redo).
pub(super) const DIRTY: RuleDef = RuleDef {
    id: "os.vm.dirty",
    direction: Direction::Above,
    variants: &["background"],
    eval: dirty,
};

fn dirty(inputs: &Inputs<'_>, spec: &RuleSpec) -> Outcome {
    let foreground = dirty_limit(inputs, "dirty", "os.vm.dirty_limit_bytes")?;
    let background = dirty_limit(
        inputs,
        "dirty_background",
        "os.vm.dirty_background_limit_bytes",
    )?;
    let graded = [
        (spec.grade(foreground.bytes), &foreground),
        (
            spec.grade_variant("background", background.bytes),
            &background,
        ),
    ];
    let Some(severity) = graded
        .iter()
        .filter_map(|(g, _)| g.as_ref().map(|g| g.0))
        .max()
    else {
        return Ok(Vec::new());
    };
    let mut evidence = Vec::new();
    for (grade, limit) in &graded {
        let observed = Value::number(limit.bytes, Unit::Bytes);
        evidence.push(match grade {
            Some((_, threshold)) => crossed(limit.metric, observed, threshold.clone()),
            None => context(limit.metric, observed),
        });
        let (name, raw) = &limit.source;
        evidence.push(context(
            &format!("sysctl.{name}"),
            Value::number(*raw as f64, Unit::None),
        ));
    }
    Ok(vec![finding(spec, severity, None, evidence)])
}

/// net.core.somaxconn below the threshold: the accept queue overflows on connection
/// bursts (pooler restarts, application failover) and clients see timeouts. Also a
/// warning when it is below the listen backlog a database on this host asks for
/// ([`expected::host::somaxconn`]): the kernel caps that backlog at somaxconn.
pub(super) const SOMAXCONN: RuleDef = RuleDef {
    id: "os.net.somaxconn",
    direction: Direction::Below,
    variants: &[],
    eval: somaxconn,
};

fn somaxconn(inputs: &Inputs<'_>, spec: &RuleSpec) -> Outcome {
    let value = inputs.sysctl("net.core.somaxconn")? as f64;
    let backlog = local_postgres(inputs)
        .into_iter()
        .filter_map(expected::host::pg_backlog)
        .chain(
            local_mysql(inputs)
                .into_iter()
                .filter_map(expected::host::mysql_backlog),
        )
        .max_by(f64::total_cmp);
    let e = backlog.map(|b| expected::host::somaxconn(value, b));
    let found = graded_for(spec, None, "sysctl.net.core.somaxconn", value, || {
        e.iter().flat_map(expected_evidence).collect()
    });
    if !found.is_empty() {
        return Ok(found);
    }
    Ok(e.filter(|e| e.deviation() > 1.0)
        .map(|e| {
            let mut evidence = vec![crossed(
                "sysctl.net.core.somaxconn",
                Value::number(value, Unit::None),
                e.threshold(),
            )];
            evidence.extend(expected_evidence(&e));
            finding(spec, Severity::Warning, None, evidence)
        })
        .into_iter()
        .collect())
}

/// Soft open-files limit of each database server process, one finding per process
/// name (the lowest limit among its processes). Not evaluated when no database
/// process was found: a host-only snapshot has nothing to judge. A MySQL/MariaDB
/// server under the open files its own settings want ([`expected::host::mysql_open_files`])
/// is a warning even above the thresholds: it silently shrinks its table cache or
/// connection limit at startup.
pub(super) const NOFILE: RuleDef = RuleDef {
    id: "os.limits.nofile",
    direction: Direction::Below,
    variants: &[],
    eval: nofile,
};

fn nofile(inputs: &Inputs<'_>, spec: &RuleSpec) -> Outcome {
    let processes = &inputs.os()?.db_processes;
    if processes.is_empty() {
        return Err(Missing(
            "a running database server process (facts os.db_processes is empty)".to_owned(),
        ));
    }
    // Lowest known soft limit per name; `None` (unlimited or unreadable) is not judged.
    let mut lowest: BTreeMap<&str, (u64, u32)> = BTreeMap::new();
    for p in processes {
        if let Some(soft) = p.nofile_soft {
            let entry = lowest.entry(p.name.as_str()).or_insert((soft, p.pid));
            if soft < entry.0 {
                *entry = (soft, p.pid);
            }
        }
    }
    if lowest.is_empty() {
        return Err(Missing(
            "the open-files limit of the database processes (facts os.db_processes[].nofile_soft)"
                .to_owned(),
        ));
    }
    let mysql = local_mysql(inputs);
    Ok(lowest
        .into_iter()
        .filter_map(|(name, (soft, pid))| {
            let soft = soft as f64;
            // What a MySQL/MariaDB server's own settings want (the largest of the local
            // targets), judged only for its processes.
            let wanted = matches!(name, "mysqld" | "mariadbd")
                .then(|| {
                    mysql
                        .iter()
                        .filter_map(|f| expected::host::mysql_open_files(f, soft))
                        .max_by(|a, b| a.suggested_number().total_cmp(&b.suggested_number()))
                })
                .flatten();
            let (severity, threshold) = match spec.grade(soft) {
                Some(g) => g,
                None => {
                    let e = wanted.as_ref().filter(|e| e.deviation() > 1.0)?;
                    (Severity::Warning, e.threshold())
                }
            };
            let mut evidence = vec![
                crossed(
                    "process.nofile_soft",
                    Value::number(soft, Unit::None),
                    threshold,
                ),
                context("process.pid", Value::number(f64::from(pid), Unit::None)),
            ];
            evidence.extend(wanted.iter().flat_map(expected_evidence));
            Some(finding(spec, severity, Some(name.to_owned()), evidence))
        })
        .collect())
}

/// Reserved huge pages the databases' buffers cannot use: memory the kernel keeps for
/// huge pages only, lost to everything else. Graded as a share of the RAM. A
/// PostgreSQL server (huge_pages `try`, the default) that needs more pages than are
/// left uses none of them; an InnoDB buffer pool with `large_pages = ON` uses what it
/// can. Nothing reserved: silent. Not evaluated without a local database target,
/// which is what would use them.
pub(super) const HUGEPAGES: RuleDef = RuleDef {
    id: "os.hugepages.unused_for_buffers",
    direction: Direction::Above,
    variants: &[],
    eval: hugepages,
};

fn hugepages(inputs: &Inputs<'_>, spec: &RuleSpec) -> Outcome {
    // An OS setting (vm.nr_hugepages): judged with the OS facts, like the other os.* rules.
    let reserved_sysctl = inputs.os()?.sysctl_i64("vm.nr_hugepages");
    let memory = &inputs.host()?.memory;
    let total = memory
        .hugepages_total
        .ok_or_else(|| Missing("facts host.memory.hugepages_total".to_owned()))?;
    if total == 0 {
        return Ok(Vec::new());
    }
    let size = memory
        .hugepage_size_bytes
        .filter(|s| *s > 0)
        .ok_or_else(|| Missing("facts host.memory.hugepage_size_bytes".to_owned()))?
        as f64;
    let ram = memory.total_bytes as f64;
    if ram <= 0.0 {
        return Err(Missing("facts host.memory.total_bytes".to_owned()));
    }
    let (pg, my) = (local_postgres(inputs), local_mysql(inputs));
    if pg.is_empty() && my.is_empty() {
        return Err(Missing(
            "a PostgreSQL or MySQL target on this host (whose buffers would use the huge pages)"
                .to_owned(),
        ));
    }
    let mut left = total as f64;
    let mut needed = 0.0;
    for n in pg
        .iter()
        .filter_map(|f| expected::host::pg_huge_pages(f, size))
    {
        needed += n;
        // All or nothing: with huge_pages = try PostgreSQL falls back to normal pages.
        if n <= left {
            left -= n;
        }
    }
    for n in my
        .iter()
        .filter_map(|f| expected::host::mysql_huge_pages(f, size))
    {
        needed += n;
        left -= n.min(left);
    }
    let unusable = left * size;
    Ok(graded_for(
        spec,
        None,
        "os.hugepages.unusable_pct_ram",
        unusable * 100.0 / ram,
        || {
            let mut evidence = vec![
                context(
                    "os.hugepages.unusable_bytes",
                    Value::number(unusable, Unit::Bytes),
                ),
                context(
                    "host.memory.hugepages_total",
                    Value::number(total as f64, Unit::None),
                ),
                context(
                    "host.memory.hugepage_size_bytes",
                    Value::number(size, Unit::Bytes),
                ),
                context(
                    "os.expected.vm.nr_hugepages",
                    Value::number(needed, Unit::None),
                ),
                context(
                    "os.expected.vm.nr_hugepages.formula",
                    Value::text("host.huge_pages_for_buffers"),
                ),
                context("host.memory.total_bytes", Value::number(ram, Unit::Bytes)),
            ];
            if let Some(n) = reserved_sysctl {
                evidence.push(context(
                    "sysctl.vm.nr_hugepages",
                    Value::number(n as f64, Unit::None),
                ));
            }
            if let Some(free) = memory.hugepages_free {
                evidence.push(context(
                    "host.memory.hugepages_free",
                    Value::number(free as f64, Unit::None),
                ));
            }
            evidence
        },
    ))
}

/// The kernel reports an unsynchronised clock, or no time daemon runs: timestamps in
/// logs, replication lag and TLS checks drift.
pub(super) const CLOCK: RuleDef = RuleDef {
    id: "os.clock.unsynchronized",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        let sync = &inputs.os()?.time_sync;
        let unsynced = sync.synchronized == Some(false);
        let no_daemon = sync.daemon.is_none();
        if !unsynced && !no_daemon {
            return Ok(Vec::new());
        }
        let synchronized = match sync.synchronized {
            Some(true) => "true",
            Some(false) => "false",
            None => "unknown",
        };
        let mut evidence = vec![
            if unsynced {
                crossed(
                    "time_sync.synchronized",
                    Value::text(synchronized),
                    Threshold::new(Comparison::Equals, Value::text("false")),
                )
            } else {
                context("time_sync.synchronized", Value::text(synchronized))
            },
            match &sync.daemon {
                Some(d) => context("time_sync.daemon", Value::text(d)),
                None => crossed(
                    "time_sync.daemon",
                    Value::text("none"),
                    Threshold::new(Comparison::Equals, Value::text("none")),
                ),
            },
        ];
        if let Some(err) = sync.max_error_us {
            evidence.push(context(
                "time_sync.max_error_ms",
                Value::number(err as f64 / 1000.0, Unit::Milliseconds),
            ));
        }
        Ok(vec![finding(
            spec,
            spec.condition_severity(),
            None,
            evidence,
        )])
    },
};

/// vm.zone_reclaim_mode != 0 on a multi-node host: the kernel reclaims local page
/// cache rather than use remote memory, so a database's cache is evicted needlessly.
pub(super) const ZONE_RECLAIM: RuleDef = RuleDef {
    id: "os.numa.zone_reclaim",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        let mode = inputs.sysctl("vm.zone_reclaim_mode")?;
        let nodes = inputs.os()?.numa_nodes.len();
        if nodes == 0 {
            return Err(Missing("facts os.numa_nodes".to_owned()));
        }
        if nodes < 2 || mode == 0 {
            return Ok(Vec::new());
        }
        Ok(vec![finding(
            spec,
            spec.condition_severity(),
            None,
            vec![
                crossed(
                    "sysctl.vm.zone_reclaim_mode",
                    Value::number(mode as f64, Unit::None),
                    Threshold::new(Comparison::NotEquals, Value::number(0.0, Unit::None)),
                ),
                context("os.numa_nodes", Value::number(nodes as f64, Unit::None)),
            ],
        )])
    },
};

/// Governors that lower the clock when load looks light, which database latency
/// (short bursts of work) is.
const POWER_SAVING_GOVERNORS: [&str; 3] = ["powersave", "ondemand", "conservative"];

/// CPUs running a power-saving frequency governor.
pub(super) const GOVERNOR: RuleDef = RuleDef {
    id: "os.cpu.governor",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        let governors = &inputs.os()?.cpu_governors;
        if governors.is_empty() {
            return Err(Missing(
                "facts os.cpu_governors (no cpufreq driver: usual on virtual machines)".to_owned(),
            ));
        }
        let evidence: Vec<_> = governors
            .iter()
            .filter(|(name, cpus)| POWER_SAVING_GOVERNORS.contains(&name.as_str()) && **cpus > 0)
            .map(|(name, cpus)| {
                crossed(
                    &format!("os.cpu_governor.{name}.cpus"),
                    Value::number(f64::from(*cpus), Unit::None),
                    Threshold::new(Comparison::Above, Value::number(0.0, Unit::None)),
                )
            })
            .collect();
        if evidence.is_empty() {
            return Ok(Vec::new());
        }
        Ok(vec![finding(
            spec,
            spec.condition_severity(),
            None,
            evidence,
        )])
    },
};

#[cfg(test)]
mod tests {
    use perfdiag_model::facts::postgres::PgSetting;
    use perfdiag_model::facts::{MysqlFacts, PostgresFacts, ProcessLimits};
    use perfdiag_model::{Assessment, Severity, Value, facts_names};

    use crate::test_support::{
        Fixture, GIB, evidence_number, evidence_threshold, findings_of, only_finding,
    };
    use crate::{Baseline, assess};

    /// The fixture's host with a local PostgreSQL target holding `settings`
    /// (name, raw, normalised) and, when given, a local MySQL target.
    fn with_databases(
        f: &Fixture,
        settings: &[(&str, &str, Option<f64>)],
        mysql: Option<MysqlFacts>,
    ) -> Assessment {
        let mut s = f.build();
        let pg = PostgresFacts {
            target: "postgres://app@localhost:5432/erp".to_owned(),
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
        };
        s.set_fact(facts_names::POSTGRES, &vec![pg]);
        if let Some(m) = mysql {
            s.set_fact(facts_names::MYSQL, &vec![m]);
        }
        assess(&s, &Baseline::builtin()).expect("assessment runs")
    }

    fn not_evaluated(f: &Fixture, rule: &str) -> String {
        let a = f.assess();
        assert!(findings_of(&a, rule).is_empty());
        a.not_evaluated
            .iter()
            .find(|n| n.rule_id == rule)
            .map(|n| n.missing.clone())
            .unwrap_or_else(|| panic!("{rule} was evaluated: {a:#?}"))
    }

    #[test]
    fn thp_always_fires() {
        let mut f = Fixture::healthy();
        if let Some(thp) = f.os_mut().transparent_hugepages.as_mut() {
            thp.enabled = "always".to_owned();
        }
        let a = f.assess();
        let found = only_finding(&a, "os.thp.enabled");
        assert_eq!(found.severity, Severity::Warning);
        assert_eq!(found.evidence[0].observed, Value::text("always"));
        assert_eq!(
            evidence_threshold(found, "os.thp.enabled").as_deref(),
            Some("= always")
        );
        assert!(findings_of(&Fixture::healthy().assess(), "os.thp.enabled").is_empty());
    }

    #[test]
    fn thp_unknown_is_not_evaluated() {
        let mut f = Fixture::healthy();
        f.os_mut().transparent_hugepages = None;
        assert_eq!(
            not_evaluated(&f, "os.thp.enabled"),
            "facts os.transparent_hugepages"
        );
    }

    #[test]
    fn swappiness_fires_above_ten() {
        let mut f = Fixture::healthy();
        f.set_sysctl("vm.swappiness", "60");
        let a = f.assess();
        let found = only_finding(&a, "os.vm.swappiness");
        assert_eq!(evidence_number(found, "sysctl.vm.swappiness"), 60.0);
        // What a dedicated host should have.
        assert_eq!(evidence_number(found, "os.expected.vm.swappiness"), 1.0);
        assert_eq!(
            evidence_threshold(found, "sysctl.vm.swappiness").as_deref(),
            Some("> 10")
        );
        f.set_sysctl("vm.swappiness", "10");
        assert!(
            findings_of(&f.assess(), "os.vm.swappiness").is_empty(),
            "10 is not above 10"
        );
    }

    #[test]
    fn swappiness_missing_is_not_zero() {
        let mut f = Fixture::healthy();
        f.os_mut().sysctls.remove("vm.swappiness");
        assert_eq!(
            not_evaluated(&f, "os.vm.swappiness"),
            "sysctl vm.swappiness in facts os"
        );
    }

    #[test]
    fn dirty_ratios_fire_on_a_large_memory_host() {
        let mut f = Fixture::healthy();
        f.host_mut().memory.total_bytes = 256 * GIB; // 20 % = 51 GiB, 10 % = 25.6 GiB
        let a = f.assess();
        let found = only_finding(&a, "os.vm.dirty");
        assert_eq!(found.severity, Severity::Critical);
        let limit = evidence_number(found, "os.vm.dirty_limit_bytes");
        assert!((limit - 0.2 * 256.0 * GIB as f64).abs() < 1.0);
        assert_eq!(evidence_number(found, "sysctl.vm.dirty_ratio"), 20.0);
        assert_eq!(
            evidence_threshold(found, "os.vm.dirty_background_limit_bytes").as_deref(),
            Some("> 8589934592 bytes")
        );
    }

    #[test]
    fn dirty_bytes_take_precedence_over_ratios() {
        let mut f = Fixture::healthy();
        f.host_mut().memory.total_bytes = 256 * GIB;
        f.set_sysctl("vm.dirty_bytes", &GIB.to_string());
        f.set_sysctl("vm.dirty_background_bytes", &(GIB / 4).to_string());
        assert!(findings_of(&f.assess(), "os.vm.dirty").is_empty());
        // Only the background limit is too high: a warning on that evidence alone.
        f.set_sysctl("vm.dirty_background_bytes", &(3 * GIB).to_string());
        let a = f.assess();
        let found = only_finding(&a, "os.vm.dirty");
        assert_eq!(found.severity, Severity::Warning);
        assert_eq!(evidence_threshold(found, "os.vm.dirty_limit_bytes"), None);
        assert_eq!(
            evidence_threshold(found, "os.vm.dirty_background_limit_bytes").as_deref(),
            Some("> 2147483648 bytes")
        );
        assert_eq!(
            evidence_number(found, "sysctl.vm.dirty_background_bytes"),
            (3 * GIB) as f64
        );
    }

    #[test]
    fn dirty_ratio_without_memory_size_is_not_evaluated() {
        let mut f = Fixture::healthy();
        f.host = None;
        assert_eq!(not_evaluated(&f, "os.vm.dirty"), "facts host");
    }

    #[test]
    fn somaxconn_fires_below_1024() {
        let mut f = Fixture::healthy();
        f.set_sysctl("net.core.somaxconn", "128");
        let a = f.assess();
        let found = only_finding(&a, "os.net.somaxconn");
        assert_eq!(evidence_number(found, "sysctl.net.core.somaxconn"), 128.0);
        assert_eq!(
            evidence_threshold(found, "sysctl.net.core.somaxconn").as_deref(),
            Some("< 1024")
        );
        assert!(findings_of(&Fixture::healthy().assess(), "os.net.somaxconn").is_empty());
    }

    #[test]
    fn nofile_fires_per_process_name_on_the_lowest_limit() {
        let mut f = Fixture::healthy();
        let procs = &mut f.os_mut().db_processes;
        procs.push(ProcessLimits {
            pid: 900,
            name: "mariadbd".to_owned(),
            nofile_soft: Some(32_768),
            ..ProcessLimits::default()
        });
        procs.push(ProcessLimits {
            pid: 901,
            name: "mariadbd".to_owned(),
            nofile_soft: Some(1024),
            ..ProcessLimits::default()
        });
        let a = f.assess();
        let found = only_finding(&a, "os.limits.nofile");
        assert_eq!(found.subject.as_deref(), Some("mariadbd"));
        assert_eq!(found.severity, Severity::Critical);
        assert_eq!(evidence_number(found, "process.nofile_soft"), 1024.0);
        assert_eq!(evidence_number(found, "process.pid"), 901.0);
        assert!(findings_of(&Fixture::healthy().assess(), "os.limits.nofile").is_empty());
    }

    #[test]
    fn nofile_without_database_process_is_not_evaluated() {
        let mut f = Fixture::healthy();
        f.os_mut().db_processes.clear();
        assert!(not_evaluated(&f, "os.limits.nofile").contains("database server process"));
    }

    #[test]
    fn clock_fires_when_unsynchronised_or_without_daemon() {
        let mut f = Fixture::healthy();
        f.os_mut().time_sync.synchronized = Some(false);
        let a = f.assess();
        let found = only_finding(&a, "os.clock.unsynchronized");
        assert_eq!(
            evidence_threshold(found, "time_sync.synchronized").as_deref(),
            Some("= false")
        );
        assert_eq!(evidence_threshold(found, "time_sync.daemon"), None);

        let mut f = Fixture::healthy();
        f.os_mut().time_sync.daemon = None;
        let a = f.assess();
        let found = only_finding(&a, "os.clock.unsynchronized");
        assert_eq!(
            evidence_threshold(found, "time_sync.daemon").as_deref(),
            Some("= none")
        );
        assert!(findings_of(&Fixture::healthy().assess(), "os.clock.unsynchronized").is_empty());
    }

    #[test]
    fn os_rules_need_the_os_facts() {
        let mut f = Fixture::healthy();
        f.os = None;
        let a = f.assess();
        for id in [
            "os.thp.enabled",
            "os.vm.swappiness",
            "os.vm.dirty",
            "os.net.somaxconn",
            "os.limits.nofile",
            "os.clock.unsynchronized",
            "os.numa.zone_reclaim",
            "os.cpu.governor",
            "os.hugepages.unused_for_buffers",
        ] {
            assert!(
                a.not_evaluated
                    .iter()
                    .any(|n| n.rule_id == id && n.missing.contains("facts os")),
                "{id}"
            );
        }
        let os = a
            .scores
            .iter()
            .find(|s| s.dimension == perfdiag_model::Dimension::OsConfig);
        assert_eq!(os.and_then(|s| s.score), None);
    }

    #[test]
    fn zone_reclaim_fires_on_a_numa_host_only() {
        let mut f = Fixture::healthy();
        f.set_sysctl("vm.zone_reclaim_mode", "1");
        let a = f.assess();
        let found = only_finding(&a, "os.numa.zone_reclaim");
        assert_eq!(evidence_number(found, "sysctl.vm.zone_reclaim_mode"), 1.0);
        assert_eq!(evidence_number(found, "os.numa_nodes"), 2.0);
        f.os_mut().numa_nodes.truncate(1);
        assert!(findings_of(&f.assess(), "os.numa.zone_reclaim").is_empty());
        f.os_mut().numa_nodes.clear();
        assert_eq!(
            not_evaluated(&f, "os.numa.zone_reclaim"),
            "facts os.numa_nodes"
        );
    }

    #[test]
    fn governor_fires_on_power_saving_cpus() {
        let mut f = Fixture::healthy();
        f.os_mut().cpu_governors =
            [("powersave".to_owned(), 6), ("performance".to_owned(), 2)].into();
        let a = f.assess();
        let found = only_finding(&a, "os.cpu.governor");
        assert_eq!(
            evidence_number(found, "os.cpu_governor.powersave.cpus"),
            6.0
        );
        assert!(findings_of(&Fixture::healthy().assess(), "os.cpu.governor").is_empty());
        f.os_mut().cpu_governors.clear();
        assert!(not_evaluated(&f, "os.cpu.governor").contains("cpufreq"));
    }

    #[test]
    fn somaxconn_below_a_databases_backlog_is_a_warning() {
        // 4096 on the host; PostgreSQL with 3000 connections listens with 6000.
        let a = with_databases(
            &Fixture::healthy(),
            &[("max_connections", "3000", None)],
            None,
        );
        let found = only_finding(&a, "os.net.somaxconn");
        assert_eq!(found.severity, Severity::Warning);
        assert_eq!(
            evidence_threshold(found, "sysctl.net.core.somaxconn").as_deref(),
            Some("< 6000")
        );
        assert_eq!(
            evidence_number(found, "os.expected.net.core.somaxconn"),
            6000.0
        );
        let a = with_databases(
            &Fixture::healthy(),
            &[("max_connections", "200", None)],
            None,
        );
        assert!(findings_of(&a, "os.net.somaxconn").is_empty());
    }

    #[test]
    fn nofile_below_what_mysqls_settings_want_is_a_warning() {
        let mut f = Fixture::healthy();
        f.os_mut().db_processes.push(ProcessLimits {
            pid: 900,
            name: "mariadbd".to_owned(),
            nofile_soft: Some(100_000),
            ..ProcessLimits::default()
        });
        let mut m = MysqlFacts {
            target: "mysql://app@db1:3306/".to_owned(),
            ..MysqlFacts::default()
        };
        m.settings.max_connections = Some(10_000);
        m.settings.table_open_cache = Some(60_000);
        // 10 + 10 000 + 2 * 60 000 = 130 010 wanted, 100 000 allowed.
        let a = with_databases(&f, &[], Some(m.clone()));
        let found = only_finding(&a, "os.limits.nofile");
        assert_eq!(found.subject.as_deref(), Some("mariadbd"));
        assert_eq!(found.severity, Severity::Warning);
        assert_eq!(
            evidence_threshold(found, "process.nofile_soft").as_deref(),
            Some("< 130010")
        );
        m.settings.table_open_cache = Some(4000);
        assert!(findings_of(&with_databases(&f, &[], Some(m)), "os.limits.nofile").is_empty());
    }

    #[test]
    fn hugepages_reserved_but_unusable_by_the_buffers() {
        let mut f = Fixture::healthy();
        let mem = &mut f.host_mut().memory;
        mem.hugepages_total = Some(2048); // 4 GiB of 2 MiB pages
        mem.hugepages_free = Some(2048);
        mem.hugepage_size_bytes = Some(2 << 20);
        // 4 GiB of shared_buffers need 2151 pages: PostgreSQL falls back, all 4 GiB
        // (25 % of the RAM) are lost.
        let four_gib = (4 * GIB) as f64;
        let a = with_databases(&f, &[("shared_buffers", "524288", Some(four_gib))], None);
        let found = only_finding(&a, "os.hugepages.unused_for_buffers");
        assert_eq!(found.severity, Severity::Critical);
        assert_eq!(
            evidence_number(found, "os.hugepages.unusable_pct_ram"),
            25.0
        );
        assert_eq!(
            evidence_number(found, "os.expected.vm.nr_hugepages"),
            2151.0
        );
        // Reserved to measure (PostgreSQL 15 says how many it needs): silent.
        let a = with_databases(
            &f,
            &[
                ("shared_buffers", "524288", Some(four_gib)),
                ("shared_memory_size_in_huge_pages", "2048", None),
            ],
            None,
        );
        assert!(findings_of(&a, "os.hugepages.unused_for_buffers").is_empty());
        // huge_pages = off: every reserved page is lost.
        let a = with_databases(
            &f,
            &[
                ("shared_buffers", "16384", Some(128.0 * 1_048_576.0)),
                ("huge_pages", "off", None),
            ],
            None,
        );
        assert_eq!(
            only_finding(&a, "os.hugepages.unused_for_buffers").severity,
            Severity::Critical
        );
        // No database on the host: nothing tells who uses them.
        assert!(not_evaluated(&f, "os.hugepages.unused_for_buffers").contains("on this host"));
        // Nothing reserved: silent, even without a database.
        assert!(
            findings_of(
                &Fixture::healthy().assess(),
                "os.hugepages.unused_for_buffers"
            )
            .is_empty()
        );
        f.host_mut().memory.hugepages_total = None;
        assert_eq!(
            not_evaluated(&f, "os.hugepages.unused_for_buffers"),
            "facts host.memory.hugepages_total"
        );
    }
}
