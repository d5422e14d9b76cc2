//! Memory rules: available memory and swapping, from `host_system`.

use perfdiag_model::{Unit, Value};

use super::{RuleDef, context, graded};
use crate::baseline::Direction;

/// The lowest MemAvailable / MemTotal of the window, in %.
pub(super) const PRESSURE: RuleDef = RuleDef {
    id: "host.memory.pressure",
    direction: Direction::Below,
    variants: &[],
    eval: |inputs, spec| {
        graded(
            spec,
            "host_system.mem_available_pct.min",
            inputs.stats.mem_available_pct_min.clone(),
            || {
                // Swapping at the same time tells pressure from a full but healthy page cache.
                inputs
                    .stats
                    .swap_pages_per_s_mean
                    .as_ref()
                    .ok()
                    .map(|v| {
                        context(
                            "host_system.swap_pages_per_s.mean",
                            Value::number(*v, Unit::PagesPerSecond),
                        )
                    })
                    .into_iter()
                    .collect()
            },
        )
    },
};

/// Mean swap-in + swap-out pages per second. The lowest available memory is added as
/// context: with the swap in use, it is the memory demand the RAM must be sized for.
pub(super) const SWAPPING: RuleDef = RuleDef {
    id: "host.memory.swapping",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        graded(
            spec,
            "host_system.swap_pages_per_s.mean",
            inputs.stats.swap_pages_per_s_mean.clone(),
            || {
                inputs
                    .stats
                    .mem_available_pct_min
                    .as_ref()
                    .ok()
                    .map(|v| {
                        context(
                            "host_system.mem_available_pct.min",
                            Value::number(*v, Unit::Percent),
                        )
                    })
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
        Fixture, GIB, evidence_number, evidence_threshold, findings_of, only_finding,
    };

    #[test]
    fn pressure_fires_on_the_lowest_sample() {
        let mut f = Fixture::healthy();
        f.system[7].mem_available = (GIB + GIB / 2) as i64; // 9.375 %
        let a = f.assess();
        let found = only_finding(&a, "host.memory.pressure");
        assert_eq!(found.severity, Severity::Warning);
        assert!((evidence_number(found, "host_system.mem_available_pct.min") - 9.375).abs() < 1e-9);
        assert_eq!(
            evidence_threshold(found, "host_system.mem_available_pct.min").as_deref(),
            Some("< 10 %")
        );
        assert!(findings_of(&Fixture::healthy().assess(), "host.memory.pressure").is_empty());
    }

    #[test]
    fn swapping_fires_on_mean_rate() {
        let mut f = Fixture::healthy();
        for s in f.system.iter_mut() {
            s.swap_in = 150.0;
            s.swap_out = 100.0;
        }
        let a = f.assess();
        let found = only_finding(&a, "host.memory.swapping");
        assert_eq!(found.severity, Severity::Critical);
        assert_eq!(
            evidence_number(found, "host_system.swap_pages_per_s.mean"),
            250.0
        );
        // The fixture keeps 8 of 16 GiB available.
        assert_eq!(
            evidence_number(found, "host_system.mem_available_pct.min"),
            50.0
        );
        assert!(findings_of(&Fixture::healthy().assess(), "host.memory.swapping").is_empty());
    }

    #[test]
    fn memory_rules_need_host_system() {
        let mut f = Fixture::healthy();
        f.system.clear();
        let a = f.assess();
        for id in [
            "host.memory.pressure",
            "host.memory.swapping",
            "host.net.retransmits",
        ] {
            assert!(
                a.not_evaluated
                    .iter()
                    .any(|n| n.rule_id == id && n.missing == "table host_system"),
                "{id}"
            );
        }
        assert!(a.findings.is_empty());
    }
}
