//! Server configuration rules: max server memory against the RAM, MAXDOP against the
//! processors and NUMA nodes, the cost threshold for parallelism left at its default,
//! a plan cache filled with single-use ad hoc plans, and the scheduling options
//! Microsoft advises against.

use perfdiag_model::{Comparison, Threshold, Unit, Value};

use super::super::{RuleDef, context, crossed, finding, graded_for};
use super::{config, per_target};
use crate::baseline::Direction;
use crate::expected::mssql as formulas;
use crate::frames::Missing;

/// `max server memory (MB)` against what the server's RAM calls for
/// ([`formulas::max_server_memory`]), graded by how far apart they are as a factor
/// ([`crate::expected::Expected::deviation`]): unlimited (the default) lets the buffer pool
/// take the memory the OS needs; far below, the buffer pool is starved.
pub(in crate::rules) const MAX_SERVER_MEMORY: RuleDef = RuleDef {
    id: "mssql.memory.max_server_memory",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            config(t, "max server memory (MB)")?;
            let e = formulas::max_server_memory(t, inputs.dedicated).ok_or_else(|| {
                Missing("facts mssql.system.physical_memory_bytes (sys.dm_os_sys_info)".into())
            })?;
            let current = t.config_in_use("max server memory (MB)").unwrap_or(0);
            Ok(graded_for(
                spec,
                Some(t.target.clone()),
                "mssql.memory.max_server_memory_deviation",
                e.deviation(),
                || {
                    let mut evidence = vec![
                        crossed(
                            "mssql.settings.max_server_memory_mb",
                            Value::number(current as f64, Unit::None),
                            e.threshold(),
                        ),
                        context("mssql.expected.max_server_memory_mb", e.suggested()),
                        context(
                            "mssql.expected.max_server_memory_mb.formula",
                            Value::text(e.formula),
                        ),
                        context(
                            "mssql.settings.max_server_memory_mb.unlimited",
                            Value::text(if current >= formulas::MAX_SERVER_MEMORY_DEFAULT_MB {
                                "yes"
                            } else {
                                "no"
                            }),
                        ),
                    ];
                    evidence.extend(e.evidence.iter().cloned());
                    evidence
                },
            ))
        })
    },
};

/// MAXDOP (0 counts as every logical processor) above what Microsoft's guidance gives
/// for the logical processors per NUMA node ([`formulas::maxdop_for`]), graded by the
/// factor: one query can then take every scheduler of a node, and parallel plans of
/// OLTP statements wait on each other (CXPACKET/CXCONSUMER).
pub(in crate::rules) const MAXDOP: RuleDef = RuleDef {
    id: "mssql.cpu.maxdop",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let configured = config(t, "max degree of parallelism")?;
            let e = formulas::maxdop(t)
                .ok_or_else(|| Missing("facts mssql.system (cpu_count, numa_node_count)".into()))?;
            Ok(graded_for(
                spec,
                Some(t.target.clone()),
                "mssql.cpu.maxdop_deviation",
                e.deviation(),
                || {
                    let mut evidence = vec![
                        crossed("mssql.settings.maxdop", e.current.clone(), e.threshold()),
                        context(
                            "mssql.settings.maxdop.configured",
                            Value::number(configured as f64, Unit::None),
                        ),
                        context("mssql.expected.maxdop", e.suggested()),
                        context("mssql.expected.maxdop.formula", Value::text(e.formula)),
                    ];
                    evidence.extend(
                        e.evidence
                            .iter()
                            .filter(|x| !x.metric.ends_with(".configured"))
                            .cloned(),
                    );
                    evidence
                },
            ))
        })
    },
};

/// `cost threshold for parallelism` still at 5, the default: plans costing more than
/// 5 units go parallel, which on today's hardware includes ordinary OLTP statements.
pub(in crate::rules) const COST_THRESHOLD_DEFAULT: RuleDef = RuleDef {
    id: "mssql.cpu.cost_threshold_default",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let value = config(t, "cost threshold for parallelism")?;
            if value != formulas::COST_THRESHOLD_DEFAULT {
                return Ok(Vec::new());
            }
            let mut evidence = vec![
                crossed(
                    "mssql.settings.cost_threshold_for_parallelism",
                    Value::number(value as f64, Unit::None),
                    Threshold::new(
                        Comparison::Equals,
                        Value::number(formulas::COST_THRESHOLD_DEFAULT as f64, Unit::None),
                    ),
                ),
                context(
                    "mssql.expected.cost_threshold_for_parallelism",
                    Value::number(formulas::COST_THRESHOLD_SUGGESTED as f64, Unit::None),
                ),
            ];
            if let Ok(maxdop) = config(t, "max degree of parallelism") {
                evidence.push(context(
                    "mssql.settings.maxdop.configured",
                    Value::number(maxdop as f64, Unit::None),
                ));
            }
            Ok(vec![finding(
                spec,
                spec.condition_severity(),
                Some(t.target.clone()),
                evidence,
            )])
        })
    },
};

/// Share (%) of the plan cache's bytes held by ad hoc plans used once, while
/// `optimize for ad hoc workloads` is off: memory taken from the buffer pool for plans
/// that are never reused. With the option on, first executions cache a small stub and
/// the rule stays silent.
pub(in crate::rules) const ADHOC_PLAN_BLOAT: RuleDef = RuleDef {
    id: "mssql.plan_cache.adhoc_bloat",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let optimize = config(t, "optimize for ad hoc workloads")?;
            let cache = t
                .plan_cache
                .as_ref()
                .ok_or_else(|| Missing("facts mssql.plan_cache".into()))?;
            if optimize != 0 || cache.bytes <= 0 {
                return Ok(Vec::new());
            }
            let pct = cache.single_use_adhoc_bytes as f64 * 100.0 / cache.bytes as f64;
            Ok(graded_for(
                spec,
                Some(t.target.clone()),
                "mssql.plan_cache.single_use_adhoc_pct",
                pct,
                || {
                    vec![
                        context(
                            "mssql.plan_cache.single_use_adhoc_bytes",
                            Value::number(cache.single_use_adhoc_bytes as f64, Unit::Bytes),
                        ),
                        context(
                            "mssql.plan_cache.single_use_adhoc_plans",
                            Value::number(cache.single_use_adhoc_plans as f64, Unit::None),
                        ),
                        context(
                            "mssql.plan_cache.bytes",
                            Value::number(cache.bytes as f64, Unit::Bytes),
                        ),
                        context(
                            "mssql.settings.optimize_for_ad_hoc_workloads",
                            Value::number(optimize as f64, Unit::None),
                        ),
                    ]
                },
            ))
        })
    },
};

/// Options that change how SQL Server schedules its threads, which Microsoft advises
/// leaving off: `priority boost` (deprecated; can starve the OS and cluster
/// heartbeats) and `lightweight pooling` (fiber mode; breaks CLR, SQLMail and
/// distributed queries, and rarely helps).
pub(in crate::rules) const SCHEDULING_OPTIONS: [&str; 2] =
    ["priority boost", "lightweight pooling"];

/// Any of [`SCHEDULING_OPTIONS`] configured on (`value`: set, even before the restart
/// that puts it in use).
pub(in crate::rules) const SCHEDULING: RuleDef = RuleDef {
    id: "mssql.config.scheduling_options",
    direction: Direction::Condition,
    variants: &[],
    eval: |inputs, spec| {
        per_target(inputs, |t| {
            let on: Vec<String> = SCHEDULING_OPTIONS
                .iter()
                .map(|o| {
                    t.configuration(o)
                        .map(|c| (*o, c.value.max(c.value_in_use)))
                        .ok_or_else(|| Missing(format!("facts mssql.configurations ({o})")))
                })
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .filter(|(_, v)| *v != 0)
                .map(|(o, _)| o.to_owned())
                .collect();
            if on.is_empty() {
                return Ok(Vec::new());
            }
            Ok(vec![finding(
                spec,
                spec.condition_severity(),
                Some(t.target.clone()),
                vec![
                    crossed(
                        "mssql.settings.scheduling_options",
                        Value::number(on.len() as f64, Unit::None),
                        Threshold::new(Comparison::Above, Value::number(0.0, Unit::None)),
                    ),
                    context(
                        "mssql.settings.scheduling_options.names",
                        Value::text(on.join(", ")),
                    ),
                ],
            )])
        })
    },
};

#[cfg(test)]
mod tests {
    use perfdiag_model::Severity;

    use super::super::fixtures::{MsFixture, TARGET};
    use crate::test_support::{evidence_number, evidence_threshold, findings_of, only_finding};

    #[test]
    fn max_server_memory_unlimited_or_starved() {
        let a = MsFixture::healthy().assess();
        assert!(findings_of(&a, "mssql.memory.max_server_memory").is_empty());
        let mut f = MsFixture::healthy();
        f.set_config("max server memory (MB)", 2_147_483_647);
        let a = f.assess();
        let found = only_finding(&a, "mssql.memory.max_server_memory");
        assert_eq!(found.severity, Severity::Critical);
        assert_eq!(found.subject.as_deref(), Some(TARGET));
        // 64 GiB minus 10 GiB for the OS.
        assert_eq!(
            evidence_number(found, "mssql.expected.max_server_memory_mb"),
            55_296.0
        );
        assert_eq!(
            evidence_threshold(found, "mssql.settings.max_server_memory_mb").as_deref(),
            Some("> 55296")
        );
        // Starved: 16 GiB of 64.
        f.set_config("max server memory (MB)", 16_384);
        let found = only_finding(&f.assess(), "mssql.memory.max_server_memory").clone();
        assert_eq!(found.severity, Severity::Critical);
        // A shared host sizes for half the RAM: the healthy 54 GiB is then too much.
        let shared = MsFixture::healthy().assess_with(crate::Options {
            workload: None,
            dedicated: false,
        });
        assert_eq!(
            only_finding(&shared, "mssql.memory.max_server_memory").severity,
            Severity::Critical
        );
        let mut f = MsFixture::healthy();
        f.facts[0].system = None;
        f.assert_not_evaluated("mssql.memory.max_server_memory", "physical_memory_bytes");
    }

    #[test]
    fn maxdop_above_the_numa_guidance() {
        let mut f = MsFixture::healthy();
        f.set_config("max degree of parallelism", 0);
        let a = f.assess();
        let found = only_finding(&a, "mssql.cpu.maxdop");
        assert_eq!(found.severity, Severity::Warning);
        // 32 logical processors on 2 nodes: 16 per node, MAXDOP 16 at most.
        assert_eq!(evidence_number(found, "mssql.settings.maxdop"), 32.0);
        assert_eq!(evidence_number(found, "mssql.expected.maxdop"), 16.0);
        // Lower than the guidance is a choice, not a fault.
        f.set_config("max degree of parallelism", 1);
        assert!(findings_of(&f.assess(), "mssql.cpu.maxdop").is_empty());
        f.facts[0].configurations.clear();
        f.assert_not_evaluated("mssql.cpu.maxdop", "max degree of parallelism");
    }

    #[test]
    fn cost_threshold_at_its_default_and_ad_hoc_bloat() {
        let a = MsFixture::healthy().assess();
        assert!(findings_of(&a, "mssql.cpu.cost_threshold_default").is_empty());
        assert!(findings_of(&a, "mssql.plan_cache.adhoc_bloat").is_empty());
        let mut f = MsFixture::healthy();
        f.set_config("cost threshold for parallelism", 5);
        f.set_config("optimize for ad hoc workloads", 0);
        let a = f.assess();
        only_finding(&a, "mssql.cpu.cost_threshold_default");
        let bloat = only_finding(&a, "mssql.plan_cache.adhoc_bloat");
        // 3 GiB of 4 GiB.
        assert_eq!(
            evidence_number(bloat, "mssql.plan_cache.single_use_adhoc_pct"),
            75.0
        );
        assert_eq!(bloat.severity, Severity::Critical);
        f.facts[0].plan_cache = None;
        f.assert_not_evaluated("mssql.plan_cache.adhoc_bloat", "facts mssql.plan_cache");
    }

    #[test]
    fn priority_boost_is_flagged_even_before_the_restart() {
        assert!(
            findings_of(
                &MsFixture::healthy().assess(),
                "mssql.config.scheduling_options"
            )
            .is_empty()
        );
        let mut f = MsFixture::healthy();
        // Configured with sp_configure, not yet in use (it needs a restart).
        if let Some(c) = f.facts[0]
            .configurations
            .iter_mut()
            .find(|c| c.name == "priority boost")
        {
            c.value = 1;
        }
        let a = f.assess();
        let found = only_finding(&a, "mssql.config.scheduling_options");
        assert!(
            found
                .evidence
                .iter()
                .any(|e| e.observed.to_string() == "priority boost")
        );
        f.facts[0]
            .configurations
            .retain(|c| c.name != "lightweight pooling");
        f.assert_not_evaluated("mssql.config.scheduling_options", "lightweight pooling");
    }
}
