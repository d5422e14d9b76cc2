//! CPU rules: saturation, iowait and steal, from the all-CPU rows of `host_cpu`.

use perfdiag_model::{Evidence, Snapshot, Unit, Value};

use super::{Inputs, Outcome, RuleDef, context, disk, graded};
use crate::baseline::{Direction, RuleSpec};
use crate::statements::{self, StatementClass};

/// Longest statement text kept as evidence: enough to recognise it in the report.
const QUERY_CHARS: usize = 80;

/// How concentrated the statement time of the window is: the share of the heaviest
/// class and of the three heaviest, with the heaviest's text. A few classes taking
/// most of the time are cheaper to tune than cores are to buy. The database's own
/// statistics (pg_stat_statements, performance_schema) are preferred to a slow log,
/// which covers another period. Nothing when no statement time was recorded.
fn statement_concentration(snapshot: &Snapshot) -> Vec<Evidence> {
    let all = statements::classes(snapshot);
    let from_stats: Vec<&StatementClass> = all.iter().filter(|c| c.target.is_some()).collect();
    let mut pool = if from_stats.is_empty() {
        all.iter().collect()
    } else {
        from_stats
    };
    let total: f64 = pool.iter().map(|c| c.total_ms).sum();
    if total <= 0.0 {
        return Vec::new();
    }
    pool.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
    let share = |n: usize| pool.iter().take(n).map(|c| c.total_ms).sum::<f64>() * 100.0 / total;
    let mut out = vec![
        context(
            "statements.top3.time_share_pct",
            Value::number(share(3), Unit::Percent),
        ),
        context(
            "statements.top1.time_share_pct",
            Value::number(share(1), Unit::Percent),
        ),
    ];
    if let Some(text) = pool[0].text.as_deref() {
        let short: String = text.chars().take(QUERY_CHARS).collect();
        let short = if short.len() < text.len() {
            format!("{short}…")
        } else {
            short
        };
        out.push(context("statements.top1.query", Value::text(short)));
    }
    out
}

/// p95 of busy% (100 − idle − iowait − steal) over all CPUs. The run queue per hardware
/// thread is added as context when known: busy near 100% with a run queue above one
/// per thread is saturation, not just utilisation. So is how concentrated the
/// statement time is, which tells tuning from buying cores.
pub(super) const SATURATION: RuleDef = RuleDef {
    id: "host.cpu.saturation",
    direction: Direction::Above,
    variants: &[],
    eval: saturation,
};

fn saturation(inputs: &Inputs<'_>, spec: &RuleSpec) -> Outcome {
    let stats = inputs.stats;
    graded(
        spec,
        "host_cpu.busy_pct.p95",
        stats.cpu_busy_p95.clone(),
        || {
            let mut extra = Vec::new();
            if let Ok(mean) = stats.cpu_busy_mean {
                extra.push(context(
                    "host_cpu.busy_pct.mean",
                    Value::number(mean, Unit::Percent),
                ));
            }
            let threads = inputs.host().ok().map(|h| h.cpu.threads).filter(|t| *t > 0);
            if let (Ok(running), Some(threads)) = (&stats.procs_running_mean, threads) {
                extra.push(context(
                    "host_system.procs_running_per_thread.mean",
                    Value::number(running / f64::from(threads), Unit::None),
                ));
            }
            extra.extend(statement_concentration(inputs.snapshot));
            extra
        },
    )
}

/// Mean iowait% over all CPUs: CPUs idle while I/O they wait for is outstanding. The
/// busiest device is added as context: the storage the wait most likely comes from.
pub(super) const IOWAIT: RuleDef = RuleDef {
    id: "host.cpu.iowait",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        graded(
            spec,
            "host_cpu.iowait_pct.mean",
            inputs.stats.cpu_iowait_mean.clone(),
            || disk::busiest_device(inputs),
        )
    },
};

/// Mean steal% over all CPUs: time the hypervisor ran other guests on our CPUs. The
/// p95 busy% is added as context: the demand a CPU reservation must cover.
pub(super) const STEAL: RuleDef = RuleDef {
    id: "host.cpu.steal",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        graded(
            spec,
            "host_cpu.steal_pct.mean",
            inputs.stats.cpu_steal_mean.clone(),
            || {
                let mut extra: Vec<Evidence> = inputs
                    .host()
                    .ok()
                    .and_then(|h| h.virtualization.hypervisor.clone())
                    .map(|hv| context("host.virtualization.hypervisor", Value::text(hv)))
                    .into_iter()
                    .collect();
                if let Ok(p95) = inputs.stats.cpu_busy_p95 {
                    extra.push(context(
                        "host_cpu.busy_pct.p95",
                        Value::number(p95, Unit::Percent),
                    ));
                }
                extra
            },
        )
    },
};

#[cfg(test)]
mod tests {
    use perfdiag_model::Severity;

    use perfdiag_model::{Finding, Table, Value, col, tables};

    use crate::test_support::{
        Fixture, evidence_number, evidence_threshold, findings_of, only_finding,
    };
    use crate::{Baseline, assess};

    fn text<'a>(f: &'a Finding, metric: &str) -> &'a str {
        match f
            .evidence
            .iter()
            .find(|e| e.metric == metric)
            .map(|e| &e.observed)
        {
            Some(Value::Text { text }) => text,
            other => panic!("no text {metric} in {f:#?}: {other:?}"),
        }
    }

    fn saturated() -> Fixture {
        let mut f = Fixture::healthy();
        for c in f.cpu.iter_mut() {
            c.idle = 2.0;
        }
        f
    }

    /// pg_stat_statements rows: (query, total ms).
    fn statements(rows: &[(&str, f64)]) -> Table {
        Table::new()
            .with(
                "target",
                col::utf8(rows.iter().map(|_| Some("postgres://app@localhost/erp"))),
            )
            .with(
                "fingerprint_id",
                col::utf8((0..rows.len()).map(|i| Some(format!("{i:016x}")))),
            )
            .with("query", col::utf8(rows.iter().map(|r| Some(r.0))))
            .with("calls", col::f64(rows.iter().map(|_| Some(10.0))))
            .with(
                "total_exec_time_ms",
                col::f64(rows.iter().map(|r| Some(r.1))),
            )
    }

    #[test]
    fn saturation_says_how_concentrated_the_statement_time_is() {
        let long = format!(
            "SELECT * FROM orders WHERE customer_id = $1 {}",
            "AND x ".repeat(30)
        );
        let mut s = saturated().build();
        s.put_table(
            tables::PG_STATEMENTS,
            statements(&[
                ("UPDATE stock SET n = n - $1", 200.0),
                (&long, 500.0),
                ("SELECT 1", 100.0),
                ("SELECT now()", 100.0),
                ("COMMIT", 100.0),
            ]),
        );
        let a = assess(&s, &Baseline::builtin()).expect("runs");
        let found = only_finding(&a, "host.cpu.saturation");
        assert_eq!(
            evidence_number(found, "statements.top1.time_share_pct"),
            50.0
        );
        assert_eq!(
            evidence_number(found, "statements.top3.time_share_pct"),
            80.0
        );
        let query = text(found, "statements.top1.query");
        assert!(
            query.starts_with("SELECT * FROM orders") && query.ends_with('…'),
            "{query}"
        );
        assert_eq!(query.chars().count(), 81);
        // Spread evenly over ten classes: the top three take 30 %.
        let spread: Vec<(String, f64)> = (0..10).map(|i| (format!("SELECT {i}"), 10.0)).collect();
        let rows: Vec<(&str, f64)> = spread.iter().map(|(q, t)| (q.as_str(), *t)).collect();
        let mut s = saturated().build();
        s.put_table(tables::PG_STATEMENTS, statements(&rows));
        let a = assess(&s, &Baseline::builtin()).expect("runs");
        let found = only_finding(&a, "host.cpu.saturation");
        assert!((evidence_number(found, "statements.top3.time_share_pct") - 30.0).abs() < 1e-9);
        // No statement statistics: no such evidence.
        let a = saturated().assess();
        let found = only_finding(&a, "host.cpu.saturation");
        assert!(
            !found
                .evidence
                .iter()
                .any(|e| e.metric.starts_with("statements.")),
            "{found:#?}"
        );
    }

    #[test]
    fn iowait_names_the_busiest_device() {
        let mut f = Fixture::healthy();
        for c in f.cpu.iter_mut() {
            c.iowait = 30.0;
            c.idle = 40.0;
        }
        let a = f.assess();
        let found = only_finding(&a, "host.cpu.iowait");
        // sda (util 30 %) is busier than nvme0n1 (20 %) in the fixture.
        assert_eq!(text(found, "host_disk.busiest.device"), "sda");
        assert_eq!(text(found, "host_disk.busiest.kind"), "rotational");
        assert_eq!(
            evidence_number(found, "host_disk.busiest.util_pct.p95"),
            30.0
        );
    }

    #[test]
    fn saturation_fires_on_p95_busy_and_ignores_per_cpu_rows() {
        let mut f = Fixture::healthy();
        for c in f.cpu.iter_mut() {
            c.idle = 2.0; // busy 97 %
        }
        for s in f.system.iter_mut() {
            s.procs_running = 16;
        }
        let a = f.assess();
        let found = only_finding(&a, "host.cpu.saturation");
        assert_eq!(found.severity, Severity::Critical);
        assert_eq!(found.subject, None);
        assert!((evidence_number(found, "host_cpu.busy_pct.p95") - 97.0).abs() < 1e-9);
        assert_eq!(
            evidence_threshold(found, "host_cpu.busy_pct.p95").as_deref(),
            Some("> 95 %")
        );
        assert_eq!(
            evidence_number(found, "host_system.procs_running_per_thread.mean"),
            2.0
        );
    }

    #[test]
    fn saturation_grades_warning_between_thresholds() {
        let mut f = Fixture::healthy();
        for c in f.cpu.iter_mut() {
            c.idle = 10.0; // busy 89 %
        }
        let a = f.assess();
        assert_eq!(
            only_finding(&a, "host.cpu.saturation").severity,
            Severity::Warning
        );
    }

    #[test]
    fn saturation_is_silent_on_a_busy_minority_of_samples() {
        let mut f = Fixture::healthy();
        // Busy in 1 of 20 samples: the p95 stays low.
        f.cpu[0].idle = 0.0;
        let a = f.assess();
        assert!(findings_of(&a, "host.cpu.saturation").is_empty());
    }

    #[test]
    fn iowait_fires_on_mean() {
        let mut f = Fixture::healthy();
        for c in f.cpu.iter_mut() {
            c.iowait = 30.0;
            c.idle = 40.0;
        }
        let a = f.assess();
        let found = only_finding(&a, "host.cpu.iowait");
        assert_eq!(found.severity, Severity::Critical);
        assert_eq!(evidence_number(found, "host_cpu.iowait_pct.mean"), 30.0);
        assert!(findings_of(&Fixture::healthy().assess(), "host.cpu.iowait").is_empty());
    }

    #[test]
    fn steal_fires_on_mean_with_hypervisor_context() {
        let mut f = Fixture::healthy();
        f.host_mut().virtualization.hypervisor = Some("kvm".to_owned());
        for c in f.cpu.iter_mut() {
            c.steal = 7.0;
        }
        let a = f.assess();
        let found = only_finding(&a, "host.cpu.steal");
        assert_eq!(found.severity, Severity::Warning);
        assert_eq!(evidence_number(found, "host_cpu.steal_pct.mean"), 7.0);
        assert_eq!(
            evidence_threshold(found, "host_cpu.steal_pct.mean").as_deref(),
            Some("> 5 %")
        );
        // The demand a reservation must cover: busy = 100 - idle (60..64) - 1 - 7.
        assert!((evidence_number(found, "host_cpu.busy_pct.p95") - 32.0).abs() < 1e-9);
        assert!(findings_of(&Fixture::healthy().assess(), "host.cpu.steal").is_empty());
    }

    #[test]
    fn cpu_rules_need_the_host_cpu_table() {
        let mut f = Fixture::healthy();
        f.cpu.clear();
        let a = f.assess();
        for id in ["host.cpu.saturation", "host.cpu.iowait", "host.cpu.steal"] {
            let n = a
                .not_evaluated
                .iter()
                .find(|n| n.rule_id == id)
                .expect("listed");
            assert_eq!(n.missing, "table host_cpu");
        }
        assert!(a.findings.is_empty());
        let cpu = a
            .scores
            .iter()
            .find(|s| s.dimension == perfdiag_model::Dimension::Cpu);
        assert_eq!(cpu.and_then(|s| s.score), None);
    }
}
