//! Network rules: interface errors and drops (`host_net`), TCP retransmits (`host_system`).

use perfdiag_model::{Unit, Value};

use super::{RuleDef, context, crossed, finding, graded};
use crate::baseline::Direction;
use crate::frames::Missing;

/// Mean of rx/tx errors + rx/tx drops per second, per interface.
pub(super) const ERRORS: RuleDef = RuleDef {
    id: "host.net.errors",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        let interfaces = inputs.stats.interfaces.as_ref().map_err(Clone::clone)?;
        Ok(interfaces
            .iter()
            .filter_map(|i| {
                let value = i.errors_per_s_mean?;
                let (severity, threshold) = spec.grade(value)?;
                Some(finding(
                    spec,
                    severity,
                    Some(i.interface.clone()),
                    vec![crossed(
                        "host_net.errors_per_s.mean",
                        Value::number(value, Unit::PerSecond),
                        threshold,
                    )],
                ))
            })
            .collect())
    },
};

/// Retransmitted / sent TCP segments over the window, in %. A near-idle host's ratio
/// is noise (3 retransmits out of 20 segments is 15%), so below `min_activity` segments
/// sent per second the rule is not evaluated.
pub(super) const RETRANSMITS: RuleDef = RuleDef {
    id: "host.net.retransmits",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        let out = inputs.stats.tcp_out_segs_per_s_mean.clone()?;
        let min = spec.min_activity.unwrap_or(0.0);
        if out < min {
            return Err(Missing(format!(
                "enough TCP traffic to judge retransmits ({out:.1} segments/s sent, {min} needed)"
            )));
        }
        graded(
            spec,
            "host_system.tcp_retrans_pct",
            inputs.stats.tcp_retrans_pct.clone(),
            || {
                vec![context(
                    "host_system.tcp_out_segs_per_s.mean",
                    Value::number(out, Unit::PerSecond),
                )]
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
    fn errors_fire_per_interface() {
        let mut f = Fixture::healthy();
        f.nets.push(("eth1".to_owned(), vec![40.0; 20]));
        let a = f.assess();
        let found = only_finding(&a, "host.net.errors");
        assert_eq!(found.subject.as_deref(), Some("eth1"));
        assert_eq!(found.severity, Severity::Critical);
        assert_eq!(evidence_number(found, "host_net.errors_per_s.mean"), 40.0);
        assert!(findings_of(&Fixture::healthy().assess(), "host.net.errors").is_empty());
    }

    #[test]
    fn retransmits_fire_on_the_window_ratio() {
        let mut f = Fixture::healthy();
        for s in f.system.iter_mut() {
            s.tcp_retrans = 30.0; // 30 / 2000 = 1.5 %
        }
        let a = f.assess();
        let found = only_finding(&a, "host.net.retransmits");
        assert_eq!(found.severity, Severity::Warning);
        assert!((evidence_number(found, "host_system.tcp_retrans_pct") - 1.5).abs() < 1e-9);
        assert_eq!(
            evidence_threshold(found, "host_system.tcp_retrans_pct").as_deref(),
            Some("> 1 %")
        );
        assert!(findings_of(&Fixture::healthy().assess(), "host.net.retransmits").is_empty());
    }

    #[test]
    fn retransmits_on_a_quiet_host_are_not_judged() {
        let mut f = Fixture::healthy();
        for s in f.system.iter_mut() {
            s.tcp_out = 20.0;
            s.tcp_retrans = 3.0;
        }
        let a = f.assess();
        assert!(findings_of(&a, "host.net.retransmits").is_empty());
        let n = a
            .not_evaluated
            .iter()
            .find(|n| n.rule_id == "host.net.retransmits");
        assert!(
            n.is_some_and(|n| n.missing.contains("enough TCP traffic")),
            "{n:?}"
        );
    }

    #[test]
    fn errors_need_host_net() {
        let mut f = Fixture::healthy();
        f.nets.clear();
        let a = f.assess();
        assert!(
            a.not_evaluated
                .iter()
                .any(|n| n.rule_id == "host.net.errors" && n.missing == "table host_net")
        );
    }
}
