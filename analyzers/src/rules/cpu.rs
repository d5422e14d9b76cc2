//! CPU rules: saturation, iowait and steal, from the all-CPU rows of `host_cpu`.

use perfdiag_model::{Unit, Value};

use super::{Inputs, Outcome, RuleDef, context, graded};
use crate::baseline::{Direction, RuleSpec};

/// p95 of busy% (100 − idle − iowait − steal) over all CPUs. The run queue per hardware
/// thread is added as context when known: busy near 100% with a run queue above one
/// per thread is saturation, not just utilisation.
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
            extra
        },
    )
}

/// Mean iowait% over all CPUs: CPUs idle while I/O they wait for is outstanding.
pub(super) const IOWAIT: RuleDef = RuleDef {
    id: "host.cpu.iowait",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        graded(
            spec,
            "host_cpu.iowait_pct.mean",
            inputs.stats.cpu_iowait_mean.clone(),
            Vec::new,
        )
    },
};

/// Mean steal% over all CPUs: time the hypervisor ran other guests on our CPUs.
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
                inputs
                    .host()
                    .ok()
                    .and_then(|h| h.virtualization.hypervisor.clone())
                    .map(|hv| context("host.virtualization.hypervisor", Value::text(hv)))
                    .into_iter()
                    .collect()
            },
        )
    },
};

#[cfg(test)]
mod tests {
    use perfdiag_model::Severity;

    use crate::test_support::{
        Fixture, evidence_number, evidence_threshold, findings_of, only_finding,
    };

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
