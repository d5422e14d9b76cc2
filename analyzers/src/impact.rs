//! How much each finding costs, measured where the snapshot allows, and the priority
//! tier that follows from it (docs/scoring.md).
//!
//! A finding that explains a wait class (lock chains explain `Lock` time, a small
//! buffer cache explains `IO` time) weighs that class's share of its target's database
//! time, as ADDM ranks findings; a finding about one query class weighs the class's
//! share of statement time; a host saturation finding weighs how saturated the
//! resource is. Configuration and security findings have no measured weight: their
//! severity alone ranks them.

use perfdiag_model::{Finding, Impact, ImpactBasis, Severity, Tier, Unit, Value, WaitClassLoad};

/// Rule ids (or `prefix.*`) and the wait classes their findings explain.
const EXPLAINS: &[(&str, &[&str])] = &[
    ("pg.locks.blocking_chains", &["Lock"]),
    ("pg.sessions.idle_in_transaction", &["Lock"]),
    ("mysql.locks.blocked_sessions", &["Lock"]),
    ("mysql.sessions.idle_in_trx", &["Lock"]),
    ("pg.cache.hit_ratio_low", &["IO"]),
    ("pg.memory.shared_buffers_low", &["IO"]),
    ("pg.temp.spills", &["IO"]),
    ("pg.checkpoints.too_frequent", &["IO", "LWLock"]),
    ("pg.tables.seq_scan_heavy", &["IO", "CPU"]),
    ("mysql.buffer_pool.hit_ratio_low", &["IO", "Running"]),
    ("mysql.memory.buffer_pool_small", &["IO", "Running"]),
    ("mysql.statements.no_index", &["Running"]),
    ("host.disk.await", &["IO"]),
    ("host.disk.utilisation", &["IO"]),
    ("host.cpu.iowait", &["IO"]),
    ("host.cpu.saturation", &["CPU", "Running"]),
    ("mssql.locks.blocking", &["Lock"]),
    ("mssql.io.file_latency", &["Buffer IO", "Log"]),
    ("mssql.statements.top_cpu", &["CPU"]),
    ("mssql.cpu.maxdop", &["Parallelism"]),
    ("mssql.cpu.cost_threshold_default", &["Parallelism"]),
    ("mssql.tempdb.file_count", &["Buffer Latch"]),
    ("mssql.memory.max_server_memory", &["Memory"]),
];

/// Host rules and the evidence that says how saturated their resource is, in percent;
/// `true` when the evidence is the free share (memory available), not the used one.
const SATURATION: &[(&str, &str, bool)] = &[
    ("host.cpu.saturation", "host_cpu.busy_pct.p95", false),
    ("host.disk.utilisation", "host_disk.util_pct.p95", false),
    (
        "host.memory.pressure",
        "host_system.mem_available_pct.min",
        true,
    ),
];

/// A measured share at or above this makes a finding urgent (critical) or high
/// (warning): a fifth of the database's time is what a customer feels.
pub const HEAVY_SHARE_PCT: f64 = 20.0;

/// Sets every finding's impact, tier and penalty.
pub fn apply(findings: &mut [Finding], db_time: &[WaitClassLoad]) {
    for f in findings {
        f.impact = measure(f, db_time);
        f.tier = tier(f.severity, f.impact.as_ref());
        f.penalty = penalty(f.severity, f.impact.as_ref());
    }
}

fn measure(f: &Finding, db_time: &[WaitClassLoad]) -> Option<Impact> {
    db_time_share(f, db_time)
        .or_else(|| statement_share(f))
        .or_else(|| saturation(f))
}

/// The share of database time in the classes the finding explains: of its own
/// target when the subject names one, else of the busiest target (host findings).
fn db_time_share(f: &Finding, db_time: &[WaitClassLoad]) -> Option<Impact> {
    let classes = EXPLAINS
        .iter()
        .find(|(id, _)| *id == f.rule_id)
        .map(|(_, c)| *c)?;
    let subject = f.subject.as_deref().unwrap_or("");
    let mine: Vec<&WaitClassLoad> = db_time
        .iter()
        .filter(|l| subject.starts_with(l.target.as_str()))
        .collect();
    let loads: Vec<&WaitClassLoad> = if mine.is_empty() {
        db_time.iter().collect()
    } else {
        mine
    };
    let targets: std::collections::BTreeSet<&str> =
        loads.iter().map(|l| l.target.as_str()).collect();
    let share = targets
        .iter()
        .map(|t| {
            loads
                .iter()
                .filter(|l| l.target == *t && classes.contains(&l.wait_class.as_str()))
                .map(|l| l.share_pct)
                .sum::<f64>()
        })
        .fold(None, |best: Option<f64>, s| {
            Some(best.map_or(s, |b| b.max(s)))
        })?;
    let present: Vec<String> = classes
        .iter()
        .filter(|c| loads.iter().any(|l| l.wait_class == **c))
        .map(|c| (*c).to_owned())
        .collect();
    (!present.is_empty()).then_some(Impact {
        basis: ImpactBasis::DbTime,
        share_pct: share,
        wait_classes: present,
    })
}

/// A query class's share of statement time, which the `sql.*` rules record.
fn statement_share(f: &Finding) -> Option<Impact> {
    let share = f
        .evidence
        .iter()
        .find(|e| e.metric == "sql.class.share_pct")?;
    match share.observed {
        Value::Number { value, .. } => Some(Impact {
            basis: ImpactBasis::StatementTime,
            share_pct: value,
            wait_classes: Vec::new(),
        }),
        Value::Text { .. } => None,
    }
}

/// How saturated a host resource is, from the rule's own evidence.
fn saturation(f: &Finding) -> Option<Impact> {
    let (_, metric, free) = SATURATION.iter().find(|(id, _, _)| *id == f.rule_id)?;
    let evidence = f.evidence.iter().find(|e| e.metric == *metric)?;
    match evidence.observed {
        Value::Number {
            value,
            unit: Unit::Percent,
        } => Some(Impact {
            basis: ImpactBasis::Saturation,
            share_pct: if *free { 100.0 - value } else { value }.clamp(0.0, 100.0),
            wait_classes: Vec::new(),
        }),
        _ => None,
    }
}

/// Tier 1 to 4 from severity and measured share (docs/scoring.md).
pub fn tier(severity: Severity, impact: Option<&Impact>) -> Tier {
    let heavy = impact.is_none_or(|i| i.share_pct >= HEAVY_SHARE_PCT);
    let measured_heavy = impact.is_some_and(|i| i.share_pct >= HEAVY_SHARE_PCT);
    match severity {
        Severity::Critical if heavy => Tier::URGENT,
        Severity::Critical => Tier::HIGH,
        Severity::Warning if measured_heavy => Tier::HIGH,
        Severity::Warning => Tier::MEDIUM,
        Severity::Info => Tier::LOW,
    }
}

/// Points a finding costs its dimension: the severity's base (info 0, warning 10,
/// critical 25), scaled by `0.5 + share` when its impact was measured, so a critical
/// lock chain taking 80 % of database time costs 33 and one taking 2 % costs 13.
pub fn penalty(severity: Severity, impact: Option<&Impact>) -> u32 {
    let base = f64::from(crate::score::penalty(severity));
    let scale = impact.map_or(1.0, |i| 0.5 + i.share_pct.clamp(0.0, 100.0) / 100.0);
    (base * scale).round() as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use perfdiag_model::{Dimension, Evidence, Threshold};

    fn finding(rule: &str, severity: Severity, subject: Option<&str>) -> Finding {
        Finding {
            rule_id: rule.to_owned(),
            dimension: Dimension::SessionsLocking,
            severity,
            subject: subject.map(str::to_owned),
            evidence: Vec::new(),
            penalty: 0,
            impact: None,
            tier: Tier::LOW,
        }
    }

    fn load(target: &str, class: &str, share_pct: f64) -> WaitClassLoad {
        WaitClassLoad {
            target: target.to_owned(),
            engine: "postgres".to_owned(),
            wait_class: class.to_owned(),
            aas: share_pct / 10.0,
            share_pct,
        }
    }

    #[test]
    fn a_lock_chain_weighs_the_lock_share_of_its_own_target() {
        let db_time = [
            load("postgres://a/x", "Lock", 80.0),
            load("postgres://a/x", "CPU", 20.0),
            load("postgres://b/y", "Lock", 10.0),
            load("postgres://b/y", "CPU", 90.0),
        ];
        let mut f = [
            finding(
                "pg.locks.blocking_chains",
                Severity::Critical,
                Some("postgres://a/x"),
            ),
            finding(
                "pg.locks.blocking_chains",
                Severity::Critical,
                Some("postgres://b/y"),
            ),
        ];
        apply(&mut f, &db_time);
        assert_eq!(f[0].impact.as_ref().map(|i| i.share_pct), Some(80.0));
        assert_eq!(
            f[0].impact.as_ref().map(|i| i.basis),
            Some(ImpactBasis::DbTime)
        );
        assert_eq!((f[0].tier, f[0].penalty), (Tier::URGENT, 33));
        assert_eq!(f[1].impact.as_ref().map(|i| i.share_pct), Some(10.0));
        assert_eq!((f[1].tier, f[1].penalty), (Tier::HIGH, 15));
    }

    #[test]
    fn a_host_finding_weighs_the_busiest_target_and_unmeasured_ones_keep_their_base() {
        let db_time = [
            load("postgres://a/x", "IO", 30.0),
            load("mysql://b/", "Running", 60.0),
        ];
        let mut f = [
            finding("host.disk.await", Severity::Warning, Some("sda")),
            finding("pg.security.trust_auth", Severity::Critical, None),
            finding("os.vm.swappiness", Severity::Warning, None),
        ];
        apply(&mut f, &db_time);
        assert_eq!(f[0].impact.as_ref().map(|i| i.share_pct), Some(30.0));
        assert_eq!((f[0].tier, f[0].penalty), (Tier::HIGH, 8));
        assert_eq!(
            (f[1].impact.clone(), f[1].tier, f[1].penalty),
            (None, Tier::URGENT, 25)
        );
        assert_eq!((f[2].tier, f[2].penalty), (Tier::MEDIUM, 10));
    }

    #[test]
    fn saturation_and_statement_shares_are_read_from_the_evidence() {
        let mut cpu = finding("host.cpu.saturation", Severity::Critical, None);
        cpu.evidence.push(Evidence {
            metric: "host_cpu.busy_pct.p95".to_owned(),
            observed: Value::number(97.0, Unit::Percent),
            threshold: Some(Threshold::new(
                perfdiag_model::Comparison::Above,
                Value::number(90.0, Unit::Percent),
            )),
        });
        let mut sql = finding("sql.select_star", Severity::Warning, Some("abc"));
        sql.evidence.push(Evidence {
            metric: "sql.class.share_pct".to_owned(),
            observed: Value::number(5.0, Unit::Percent),
            threshold: None,
        });
        let mut f = [cpu, sql];
        apply(&mut f, &[]);
        assert_eq!(
            f[0].impact.as_ref().map(|i| (i.basis, i.share_pct)),
            Some((ImpactBasis::Saturation, 97.0))
        );
        assert_eq!(
            f[1].impact.as_ref().map(|i| (i.basis, i.share_pct)),
            Some((ImpactBasis::StatementTime, 5.0))
        );
        assert_eq!(f[1].tier, Tier::MEDIUM);
    }

    #[test]
    fn every_wait_class_a_rule_explains_names_a_dimension() {
        let rules: Vec<&str> = crate::rules::implemented_rule_ids().collect();
        for (rule, classes) in EXPLAINS {
            assert!(rules.contains(rule), "{rule} is not a rule");
            for class in *classes {
                assert!(
                    crate::primary::dimension_of(class).is_some(),
                    "{rule} explains {class}, which no dimension takes"
                );
            }
        }
    }
}
