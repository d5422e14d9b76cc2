//! Disk rules, per device: latency (await) and utilisation, from `host_disk`.

use perfdiag_model::{Unit, Value};

use super::{Inputs, Outcome, RuleDef, context, crossed, finding};
use crate::baseline::{Direction, RuleSpec};

/// Mean await per device over the intervals where it completed I/O. SSD and NVMe
/// devices (host facts `rotational = false`) are held to the stricter `nonrotational`
/// thresholds; unknown devices (device-mapper, virtual disks) to the main ones.
pub(super) const AWAIT: RuleDef = RuleDef {
    id: "host.disk.await",
    direction: Direction::Above,
    variants: &["nonrotational"],
    eval: await_ms,
};

fn await_ms(inputs: &Inputs<'_>, spec: &RuleSpec) -> Outcome {
    let disks = inputs.stats.disks.as_ref().map_err(Clone::clone)?;
    let rotational = |device: &str| {
        inputs
            .host()
            .ok()
            .and_then(|h| h.disks.iter().find(|d| d.name == device))
            .and_then(|d| d.rotational)
    };
    Ok(disks
        .iter()
        .filter_map(|d| {
            // No I/O completed in the window: there is no latency to judge.
            let value = d.await_ms_mean?;
            let rot = rotational(&d.device);
            let graded = match rot {
                Some(false) => spec.grade_variant("nonrotational", value),
                _ => spec.grade(value),
            }?;
            let kind = match rot {
                Some(true) => "rotational",
                Some(false) => "nonrotational",
                None => "unknown",
            };
            Some(finding(
                spec,
                graded.0,
                Some(d.device.clone()),
                vec![
                    crossed(
                        "host_disk.await_ms.mean",
                        Value::number(value, Unit::Milliseconds),
                        graded.1,
                    ),
                    context("host.disks.kind", Value::text(kind)),
                ],
            ))
        })
        .collect())
}

/// p95 of util% per device.
pub(super) const UTILISATION: RuleDef = RuleDef {
    id: "host.disk.utilisation",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs, spec| {
        let disks = inputs.stats.disks.as_ref().map_err(Clone::clone)?;
        Ok(disks
            .iter()
            .filter_map(|d| {
                let value = d.util_pct_p95?;
                let (severity, threshold) = spec.grade(value)?;
                let mut evidence = vec![crossed(
                    "host_disk.util_pct.p95",
                    Value::number(value, Unit::Percent),
                    threshold,
                )];
                if let Some(a) = d.await_ms_mean {
                    evidence.push(context(
                        "host_disk.await_ms.mean",
                        Value::number(a, Unit::Milliseconds),
                    ));
                }
                Some(finding(spec, severity, Some(d.device.clone()), evidence))
            })
            .collect())
    },
};

#[cfg(test)]
mod tests {
    use perfdiag_model::Severity;

    use crate::test_support::{
        DiskSample, Fixture, evidence_number, evidence_threshold, findings_of,
    };

    #[test]
    fn await_is_stricter_for_nonrotational_devices() {
        let mut f = Fixture::healthy();
        // 8 ms: fine for the spinning sda, a warning for the NVMe drive.
        for d in f.disks.iter_mut() {
            d.1 = vec![
                DiskSample {
                    await_ms: Some(8.0),
                    util: 10.0
                };
                10
            ];
        }
        let a = f.assess();
        let found = findings_of(&a, "host.disk.await");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].subject.as_deref(), Some("nvme0n1"));
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(evidence_number(found[0], "host_disk.await_ms.mean"), 8.0);
        assert_eq!(
            evidence_threshold(found[0], "host_disk.await_ms.mean").as_deref(),
            Some("> 5 ms")
        );
    }

    #[test]
    fn await_ignores_intervals_without_io_and_grades_each_device() {
        let mut f = Fixture::healthy();
        let mut sda = vec![
            DiskSample {
                await_ms: None,
                util: 0.0
            };
            10
        ];
        sda.push(DiskSample {
            await_ms: Some(60.0),
            util: 50.0,
        });
        sda.push(DiskSample {
            await_ms: Some(80.0),
            util: 50.0,
        });
        f.disks[1].1 = sda;
        f.disks.push((
            "sdb".to_owned(),
            vec![
                DiskSample {
                    await_ms: None,
                    util: 0.0
                };
                12
            ],
        ));
        let a = f.assess();
        let found = findings_of(&a, "host.disk.await");
        assert_eq!(
            found.len(),
            1,
            "idle sdb has no latency to judge: {found:#?}"
        );
        assert_eq!(found[0].subject.as_deref(), Some("sda"));
        assert_eq!(found[0].severity, Severity::Critical);
        assert_eq!(evidence_number(found[0], "host_disk.await_ms.mean"), 70.0);
        assert!(findings_of(&Fixture::healthy().assess(), "host.disk.await").is_empty());
    }

    #[test]
    fn utilisation_fires_on_p95_per_device() {
        let mut f = Fixture::healthy();
        f.disks[1].1 = vec![
            DiskSample {
                await_ms: Some(6.0),
                util: 90.0
            };
            10
        ];
        let a = f.assess();
        let found = findings_of(&a, "host.disk.utilisation");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].subject.as_deref(), Some("sda"));
        assert_eq!(found[0].severity, Severity::Warning);
        assert!((evidence_number(found[0], "host_disk.util_pct.p95") - 90.0).abs() < 1e-9);
        assert!(findings_of(&Fixture::healthy().assess(), "host.disk.utilisation").is_empty());
    }

    #[test]
    fn disk_rules_need_host_disk() {
        let mut f = Fixture::healthy();
        f.disks.clear();
        let a = f.assess();
        for id in ["host.disk.await", "host.disk.utilisation"] {
            assert!(
                a.not_evaluated
                    .iter()
                    .any(|n| n.rule_id == id && n.missing == "table host_disk")
            );
        }
        let io = a
            .scores
            .iter()
            .find(|s| s.dimension == perfdiag_model::Dimension::StorageIo);
        assert_eq!(io.and_then(|s| s.score), None);
    }
}
