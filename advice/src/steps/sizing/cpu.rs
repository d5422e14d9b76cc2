//! CPU sizing: the CPUs a host needs for its p95 busy % to come down to a target, and
//! the CPU reservation a VM needs when other guests steal its CPUs. Both are read by a
//! person ordering hardware or asking the virtualisation team, so each number comes
//! with its arithmetic.

use super::{ceil_clean, short};

/// Busy % a resized host should run at, at p95: room for peaks and growth below the
/// saturation rule's warning (85 %).
const CPU_TARGET_BUSY_PCT: f64 = 70.0;
/// Busy % (p95) from which a run queue above one per CPU means hidden demand.
const CPU_SATURATED_PCT: f64 = 95.0;
/// Share of the statement time the three heaviest classes must take for tuning them to
/// come before buying cores.
const CONCENTRATED_PCT: f64 = 50.0;

/// Logical CPU counts machines and VMs come in.
const CPU_SIZES: [u32; 19] = [
    1, 2, 4, 6, 8, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256,
];

/// Logical CPUs for the p95 busy % to come down to `target_pct` under the same load:
/// the demand in CPUs (`cpus × busy / 100`) over the target share, rounded up.
fn cpus_needed(cpus: u32, busy_p95_pct: f64, target_pct: f64) -> u32 {
    ceil_clean(f64::from(cpus) * busy_p95_pct / target_pct).max(1.0) as u32
}

/// The next CPU count machines come in (multiples of 64 past the table).
fn common_cpus(n: u32) -> u32 {
    CPU_SIZES
        .iter()
        .copied()
        .find(|s| *s >= n)
        .unwrap_or_else(|| n.div_ceil(64) * 64)
}

/// The CPU count to resize to, with its arithmetic; or which input is missing.
/// `cores` (physical) is shown besides when the CPUs are hardware threads of fewer cores.
pub(in crate::steps) fn cpu_sizing(
    cpus: Option<u32>,
    cores: Option<u32>,
    busy_p95: Option<f64>,
    run_queue: Option<f64>,
) -> Vec<String> {
    let (Some(cpus), Some(busy)) = (cpus.filter(|c| *c > 0), busy_p95) else {
        let missing = match (cpus.filter(|c| *c > 0), busy_p95) {
            (None, None) => {
                "the CPU count (facts host.cpu.threads) and the p95 busy % (host_cpu.busy_pct.p95)"
            }
            (None, _) => "the CPU count (facts host.cpu.threads)",
            _ => "the p95 busy % (host_cpu.busy_pct.p95)",
        };
        return vec![format!("CPUs: not computed, the snapshot lacks {missing}.")];
    };
    let target = CPU_TARGET_BUSY_PCT;
    let needed = cpus_needed(cpus, busy, target);
    if needed <= cpus {
        return vec![format!(
            "CPUs: {cpus} CPUs at {} % p95 busy are within the {} % target: no CPUs to add.",
            short(busy),
            short(target)
        )];
    }
    let size = common_cpus(needed);
    let threads_per_core = cores
        .filter(|c| *c > 0 && cpus > *c && cpus % *c == 0)
        .map(|c| cpus / c);
    let physical = threads_per_core
        .map(|t| format!(" ({} cores with {t} threads each)", size.div_ceil(t)))
        .unwrap_or_default();
    let mut out = vec![format!(
        "CPUs: {cpus} CPUs at {} % p95 busy → {cpus} × {} / {} = {} → {needed} CPUs for {} %: \
         resize to {size} CPUs{physical}, {} more.",
        short(busy),
        short(busy),
        short(target),
        short(f64::from(cpus) * busy / target),
        short(target),
        size - cpus
    )];
    if let Some(rq) = run_queue.filter(|rq| *rq > 1.0 && busy >= CPU_SATURATED_PCT) {
        out.push(format!(
            "{} runnable processes per CPU: work queued behind busy CPUs, so the demand is \
             above what busy % can show and {size} CPUs is a floor.",
            short(rq)
        ));
    }
    out
}

/// Whether a few statement classes take most of the statement time, from the evidence
/// the saturation rule adds; or that the snapshot has no statement statistics.
pub(in crate::steps) fn statement_advice(
    top3: Option<f64>,
    top1: Option<f64>,
    query: Option<&str>,
) -> String {
    let Some(top3) = top3 else {
        return "Statement time by class: not in the snapshot (no pg_stat_statements, \
                performance_schema digests or slow log), so whether a few statements cause \
                the load is unknown: collect them before buying CPUs."
            .to_owned();
    };
    if top3 >= CONCENTRATED_PCT {
        let heaviest = match (top1, query) {
            (Some(p), Some(q)) => format!(" (the heaviest {} %: {q})", short(p)),
            (Some(p), None) => format!(" (the heaviest {} %)", short(p)),
            _ => String::new(),
        };
        format!(
            "Statement time: the 3 heaviest classes take {} % of it{heaviest}: tune them \
             first (step 2) and size from a snapshot taken after; the CPUs above assume \
             the load stays as it is.",
            short(top3)
        )
    } else {
        format!(
            "Statement time is spread: the 3 heaviest classes take {} % of it, so tuning \
             single statements frees little CPU; the sizing above stands.",
            short(top3)
        )
    }
}

/// A CPU reservation for a VM whose CPUs are stolen: the CPUs its p95 busy % uses, in
/// vCPUs and, with the clock known, in MHz (VMware reserves MHz).
pub(in crate::steps) fn steal_lines(
    cpus: Option<u32>,
    mhz: Option<f64>,
    steal_mean: Option<f64>,
    busy_p95: Option<f64>,
) -> Vec<String> {
    let Some(cpus) = cpus.filter(|c| *c > 0) else {
        return vec![
            "Reservation: not computed, the snapshot lacks the CPU count (facts host.cpu.threads)."
                .to_owned(),
        ];
    };
    let mut out = Vec::new();
    if let Some(steal) = steal_mean {
        out.push(format!(
            "Stolen: {} % of {cpus} vCPUs = {} vCPU taken by other guests at the mean.",
            short(steal),
            short(f64::from(cpus) * steal / 100.0)
        ));
    }
    let Some(busy) = busy_p95 else {
        out.push(format!(
            "Reservation: the p95 busy % (host_cpu.busy_pct.p95) is not in the evidence; \
             reserve all {cpus} vCPUs."
        ));
        return out;
    };
    let reserve = ceil_clean(f64::from(cpus) * busy / 100.0).clamp(1.0, f64::from(cpus));
    let in_mhz = match mhz.filter(|m| *m > 0.0) {
        Some(m) => format!(
            " = {} MHz at {} MHz per vCPU",
            short(ceil_clean(reserve * m / 100.0) * 100.0),
            short(m.round())
        ),
        None => " (MHz not computed: the clock, facts host.cpu.mhz, is unknown)".to_owned(),
    };
    out.push(format!(
        "Reservation: {cpus} vCPUs × {} % p95 busy = {} → reserve {} vCPUs{in_mhz}, or \
         dedicated cores.",
        short(busy),
        short(f64::from(cpus) * busy / 100.0),
        short(reserve)
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpus_scale_with_the_busy_and_round_to_a_common_count() {
        assert_eq!(cpus_needed(8, 96.0, 70.0), 11);
        assert_eq!(cpus_needed(8, 70.0, 70.0), 8);
        assert_eq!(cpus_needed(16, 90.0, 70.0), 21);
        assert_eq!(cpus_needed(1, 10.0, 70.0), 1);
        assert_eq!(common_cpus(11), 12);
        assert_eq!(common_cpus(21), 24);
        assert_eq!(common_cpus(300), 320);
        let lines = cpu_sizing(Some(8), None, Some(96.0), None);
        assert_eq!(
            lines[0],
            "CPUs: 8 CPUs at 96 % p95 busy → 8 × 96 / 70 = 10.97 → 11 CPUs for 70 %: \
             resize to 12 CPUs, 4 more."
        );
        let lines = cpu_sizing(Some(16), Some(8), Some(90.0), Some(1.6));
        assert!(
            lines[0].contains(
                "→ 21 CPUs for 70 %: resize to 24 CPUs (12 cores with 2 threads each), 8 more."
            ),
            "{lines:?}"
        );
        assert_eq!(lines.len(), 1, "a run queue matters only when saturated");
        let lines = cpu_sizing(Some(16), Some(8), Some(97.0), Some(1.6));
        assert!(lines[1].contains("is a floor"), "{lines:?}");
        let lines = cpu_sizing(Some(8), None, Some(60.0), None);
        assert!(
            lines[0].contains("within the 70 % target: no CPUs to add"),
            "{lines:?}"
        );
    }

    #[test]
    fn cpu_sizing_names_what_is_missing() {
        assert_eq!(
            cpu_sizing(None, None, Some(96.0), None),
            ["CPUs: not computed, the snapshot lacks the CPU count (facts host.cpu.threads)."]
        );
        assert_eq!(
            cpu_sizing(Some(0), None, Some(96.0), None),
            cpu_sizing(None, None, Some(96.0), None)
        );
        assert!(
            cpu_sizing(Some(8), None, None, None)[0]
                .contains("the p95 busy % (host_cpu.busy_pct.p95)")
        );
    }

    #[test]
    fn concentrated_statement_time_comes_before_cores() {
        let s = statement_advice(
            Some(78.0),
            Some(50.0),
            Some("SELECT * FROM orders WHERE id = $1"),
        );
        assert!(s.contains("take 78 % of it (the heaviest 50 %: SELECT * FROM orders WHERE id = $1): tune them first"), "{s}");
        let s = statement_advice(Some(30.0), Some(12.0), None);
        assert!(
            s.starts_with("Statement time is spread") && s.contains("30 %"),
            "{s}"
        );
        let s = statement_advice(None, None, None);
        assert!(s.contains("not in the snapshot"), "{s}");
    }

    #[test]
    fn steal_reserves_the_p95_demand() {
        let lines = steal_lines(Some(8), Some(2400.0), Some(7.0), Some(88.0));
        assert_eq!(
            lines[0],
            "Stolen: 7 % of 8 vCPUs = 0.56 vCPU taken by other guests at the mean."
        );
        assert_eq!(
            lines[1],
            "Reservation: 8 vCPUs × 88 % p95 busy = 7.04 → reserve 8 vCPUs = 19200 MHz at 2400 MHz per vCPU, or dedicated cores."
        );
        let lines = steal_lines(Some(8), None, Some(7.0), Some(30.0));
        assert!(
            lines[1].contains("reserve 3 vCPUs (MHz not computed"),
            "{lines:?}"
        );
        let lines = steal_lines(Some(8), Some(2400.0), Some(7.0), None);
        assert!(
            lines[1].contains("not in the evidence; reserve all 8 vCPUs"),
            "{lines:?}"
        );
        assert!(steal_lines(None, None, Some(7.0), Some(30.0))[0].contains("lacks the CPU count"));
    }
}
