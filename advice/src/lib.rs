//! perfdiag's advice: turns an assessment's findings into an ordered plan.
//!
//! One plan step per fired rule (findings of the same rule on several disks or
//! processes are merged into one step), each with a script for a person to review and
//! run, its rollback personalised with the values the snapshot recorded before the
//! change, the risk, and how to verify it. perfdiag never runs these scripts.
//!
//! Steps are ordered by phase (quick wins first), then by the severity and penalty of
//! the findings they address. Step titles, reasons and expected effects live in the
//! message catalogs (`report-templates/i18n/<lang>/rules.toml`, `[step."<id>"]`).

use std::cmp::Reverse;

use perfdiag_model::facts::{HostFacts, OsFacts};
use perfdiag_model::{
    Assessment, Finding, Plan, PlanStep, Severity, Snapshot, StepState, facts_names,
};

mod steps;
#[cfg(test)]
mod test_support;

use steps::Context;
pub use steps::StepDef;

/// Every step advice can propose, with the rule it answers and its phase: what the
/// catalogs must document.
pub fn steps_catalog() -> Vec<&'static StepDef> {
    steps::registry().collect()
}

/// The plan for `assessment`, personalised with the facts of `snapshot`.
pub fn plan(assessment: &Assessment, snapshot: &Snapshot) -> Plan {
    // A facts document that is absent or unreadable only makes rollbacks less specific.
    let context = Context {
        os: snapshot.fact::<OsFacts>(facts_names::OS).ok().flatten(),
        host: snapshot.fact::<HostFacts>(facts_names::HOST).ok().flatten(),
        postgres: snapshot
            .fact(facts_names::POSTGRES)
            .ok()
            .flatten()
            .unwrap_or_default(),
        mysql: snapshot
            .fact(facts_names::MYSQL)
            .ok()
            .flatten()
            .unwrap_or_default(),
    };
    let mut ranked: Vec<(Severity, u32, PlanStep)> = steps::registry()
        .filter_map(|def| {
            let findings: Vec<&Finding> = assessment
                .findings
                .iter()
                .filter(|f| f.rule_id == def.rule_id)
                .collect();
            let severity = findings.iter().map(|f| f.severity).max()?;
            let penalty = findings.iter().map(|f| f.penalty).sum();
            let draft = (def.build)(&context, &findings);
            let subjects: Vec<&str> = findings
                .iter()
                .filter_map(|f| f.subject.as_deref())
                .collect();
            let step = PlanStep {
                id: def.id.to_owned(),
                phase: def.phase,
                findings: vec![def.rule_id.to_owned()],
                subject: (!subjects.is_empty()).then(|| subjects.join(", ")),
                script: draft.script,
                rollback: draft.rollback,
                risk: draft.risk,
                needs_restart: draft.needs_restart,
                verify: draft.verify,
                state: StepState::Proposed,
            };
            Some((severity, penalty, step))
        })
        .collect();
    ranked.sort_by(|a, b| {
        (a.2.phase, Reverse(a.0), Reverse(a.1), &a.2.id).cmp(&(
            b.2.phase,
            Reverse(b.0),
            Reverse(b.1),
            &b.2.id,
        ))
    });
    Plan {
        generated_at: chrono::Utc::now(),
        steps: ranked.into_iter().map(|(_, _, step)| step).collect(),
    }
}

#[cfg(test)]
mod tests {
    use perfdiag_model::{Phase, Severity};

    use super::*;
    use crate::test_support::{assessment, every_finding, finding, number, os_facts, snapshot};

    fn step<'a>(plan: &'a Plan, id: &str) -> &'a PlanStep {
        plan.steps
            .iter()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("no step {id} in {plan:#?}"))
    }

    #[test]
    fn every_rule_has_exactly_one_step_and_every_step_is_complete() {
        let findings = every_finding();
        let plan = plan(&assessment(findings.clone()), &snapshot(Some(&os_facts())));
        assert_eq!(plan.steps.len(), findings.len());
        for f in &findings {
            let steps: Vec<_> = plan
                .steps
                .iter()
                .filter(|s| s.findings == [f.rule_id.clone()])
                .collect();
            assert_eq!(steps.len(), 1, "{}", f.rule_id);
            let s = steps[0];
            assert!(
                !s.script.body.trim().is_empty() && !s.rollback.body.trim().is_empty(),
                "{}",
                s.id
            );
            assert!(
                !s.verify.metric.is_empty() && !s.verify.target.is_empty(),
                "{}",
                s.id
            );
            assert_eq!(s.state, StepState::Proposed);
            let manual = s.phase == Phase::HardwareDeployment;
            assert_eq!(s.script.language == "manual", manual, "{}", s.id);
        }
    }

    #[test]
    fn findings_of_one_rule_merge_into_one_step() {
        let findings = vec![
            finding(
                "host.disk.await",
                Severity::Warning,
                Some("sda"),
                vec![number("host_disk.await_ms.mean", 25.0, Some("> 20"))],
            ),
            finding(
                "host.disk.await",
                Severity::Critical,
                Some("sdb"),
                vec![number("host_disk.await_ms.mean", 90.0, Some("> 50"))],
            ),
        ];
        let plan = plan(&assessment(findings), &snapshot(None));
        assert_eq!(plan.steps.len(), 1);
        let s = &plan.steps[0];
        assert_eq!(s.id, "hardware.storage.latency");
        assert_eq!(s.subject.as_deref(), Some("sda, sdb"));
        assert!(
            s.script
                .body
                .contains("# sdb: host_disk.await_ms.mean = 90 (> 50)"),
            "{}",
            s.script.body
        );
    }

    #[test]
    fn rollbacks_restore_the_values_the_snapshot_recorded() {
        let plan = plan(&assessment(every_finding()), &snapshot(Some(&os_facts())));
        let rollback = |id: &str| step(&plan, id).rollback.body.clone();
        assert!(rollback("os.sysctl.swappiness").contains("sysctl -w vm.swappiness=60"));
        assert!(
            rollback("os.sysctl.swappiness")
                .contains("rm -f /etc/sysctl.d/60-perfdiag-swappiness.conf")
        );
        assert!(rollback("os.sysctl.somaxconn").contains("sysctl -w net.core.somaxconn=128"));
        assert!(rollback("os.sysctl.zone_reclaim").contains("sysctl -w vm.zone_reclaim_mode=1"));
        let dirty = rollback("os.sysctl.dirty");
        assert!(
            dirty.contains("sysctl -w vm.dirty_background_ratio=10"),
            "{dirty}"
        );
        assert!(dirty.contains("sysctl -w vm.dirty_ratio=20"), "{dirty}");
        assert!(
            rollback("os.thp.disable")
                .contains("echo always > /sys/kernel/mm/transparent_hugepage/enabled")
        );
        assert!(
            rollback("os.thp.disable")
                .contains("echo madvise > /sys/kernel/mm/transparent_hugepage/defrag")
        );
        assert!(rollback("os.cpu.governor.performance").contains("echo ondemand"));
        assert!(rollback("os.limits.nofile").contains("before the change: 1024"));
        assert!(rollback("os.clock.sync").contains("no time daemon was running"));

        let swappiness = step(&plan, "os.sysctl.swappiness");
        assert!(
            swappiness
                .script
                .body
                .contains("cat > /etc/sysctl.d/60-perfdiag-swappiness.conf <<'EOF'")
        );
        assert!(swappiness.script.body.contains("vm.swappiness = 1\n"));
        assert_eq!(
            (
                swappiness.verify.metric.as_str(),
                swappiness.verify.target.as_str()
            ),
            ("sysctl.vm.swappiness", "<= 10")
        );
        let nofile = step(&plan, "os.limits.nofile");
        assert!(
            nofile
                .script
                .body
                .contains("/etc/systemd/system/postgresql.service.d/60-perfdiag-nofile.conf")
        );
        assert!(nofile.script.body.contains("LimitNOFILE=65536"));
        assert!(nofile.script.body.contains("ps -o unit= -p 812"));
        assert!(nofile.needs_restart);
    }

    #[test]
    fn dirty_rollback_restores_bytes_when_they_were_in_force() {
        let mut os = os_facts();
        os.sysctls
            .insert("vm.dirty_bytes".to_owned(), "4294967296".to_owned());
        let findings = vec![finding("os.vm.dirty", Severity::Warning, None, Vec::new())];
        let plan = plan(&assessment(findings), &snapshot(Some(&os)));
        let body = &plan.steps[0].rollback.body;
        assert!(
            body.contains("sysctl -w vm.dirty_bytes=4294967296"),
            "{body}"
        );
        assert!(
            body.contains("sysctl -w vm.dirty_background_ratio=10"),
            "{body}"
        );
    }

    #[test]
    fn steps_are_ordered_by_phase_then_severity() {
        let findings = vec![
            finding("host.cpu.saturation", Severity::Critical, None, Vec::new()),
            finding(
                "os.limits.nofile",
                Severity::Warning,
                Some("postgres"),
                Vec::new(),
            ),
            finding("os.vm.swappiness", Severity::Warning, None, Vec::new()),
            finding("os.thp.enabled", Severity::Critical, None, Vec::new()),
        ];
        let plan = plan(&assessment(findings), &snapshot(Some(&os_facts())));
        let order: Vec<(&str, Phase)> = plan
            .steps
            .iter()
            .map(|s| (s.id.as_str(), s.phase))
            .collect();
        assert_eq!(
            order,
            vec![
                ("os.thp.disable", Phase::QuickWins),
                ("os.sysctl.swappiness", Phase::QuickWins),
                ("os.limits.nofile", Phase::Configuration),
                ("hardware.cpu.capacity", Phase::HardwareDeployment),
            ]
        );
    }

    #[test]
    fn no_findings_no_steps_and_unknown_rules_are_ignored() {
        assert!(
            plan(&assessment(Vec::new()), &snapshot(None))
                .steps
                .is_empty()
        );
        let other = vec![finding("no.such.rule", Severity::Warning, None, Vec::new())];
        assert!(plan(&assessment(other), &snapshot(None)).steps.is_empty());
    }

    #[test]
    fn rollback_without_facts_says_what_to_fill_in() {
        let findings = vec![finding(
            "os.vm.swappiness",
            Severity::Warning,
            None,
            Vec::new(),
        )];
        let plan = plan(&assessment(findings), &snapshot(None));
        assert!(
            plan.steps[0]
                .rollback
                .body
                .contains("vm.swappiness=<value before the change>")
        );
    }

    #[test]
    fn step_and_rule_ids_are_unique() {
        let mut ids: Vec<&str> = steps_catalog().iter().map(|s| s.id).collect();
        let mut rules: Vec<&str> = steps_catalog().iter().map(|s| s.rule_id).collect();
        ids.sort_unstable();
        rules.sort_unstable();
        let n = ids.len();
        ids.dedup();
        rules.dedup();
        assert_eq!((ids.len(), rules.len()), (n, n));
    }
}
