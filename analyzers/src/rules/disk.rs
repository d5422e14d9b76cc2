//! Disk rules, per device: latency (await) and utilisation, from `host_disk`.
//!
//! Each finding also carries the device's busiest sample (IOPS and bytes per second)
//! and its kind, so the plan can state the storage a replacement must deliver.

use std::collections::BTreeMap;

use perfdiag_model::{Evidence, Snapshot, Unit, Value, tables};

use super::{Inputs, Outcome, RuleDef, context, crossed, finding};
use crate::baseline::{Direction, RuleSpec};
use crate::statements::{numbers, texts};

/// The busiest sample of one device: what a volume replacing it must carry.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct IoPeak {
    /// Reads + writes completed per second.
    pub iops: Option<f64>,
    /// Bytes read + written per second.
    pub bytes_per_s: Option<f64>,
}

/// Per device, the largest IOPS and the largest throughput of any one sample (each on
/// its own: they rarely peak together). A device or column the snapshot did not sample
/// has no entry or `None`.
fn io_peaks(snapshot: &Snapshot) -> BTreeMap<String, IoPeak> {
    let Some(t) = snapshot.table(tables::HOST_DISK) else {
        return BTreeMap::new();
    };
    let devices = texts(t, "device");
    let sum = |a: &str, b: &str| -> Vec<Option<f64>> {
        numbers(t, a)
            .into_iter()
            .zip(numbers(t, b))
            .map(|(x, y)| Some(x? + y?))
            .collect()
    };
    let iops = sum("reads_per_s", "writes_per_s");
    let bytes = sum("read_bytes_per_s", "write_bytes_per_s");
    let max = |slot: &mut Option<f64>, v: Option<f64>| {
        if let Some(v) = v.filter(|v| v.is_finite()) {
            *slot = Some(slot.map_or(v, |s| s.max(v)));
        }
    };
    let mut out: BTreeMap<String, IoPeak> = BTreeMap::new();
    for (row, device) in devices.into_iter().enumerate() {
        let Some(device) = device else { continue };
        let peak = out.entry(device).or_default();
        max(&mut peak.iops, iops[row]);
        max(&mut peak.bytes_per_s, bytes[row]);
    }
    out
}

/// `rotational`, `nonrotational` or `unknown` (device-mapper, virtual disks), from the
/// host facts: the latency a device can be held to depends on it.
fn disk_kind(inputs: &Inputs<'_>, device: &str) -> &'static str {
    let rotational = inputs
        .host()
        .ok()
        .and_then(|h| h.disks.iter().find(|d| d.name == device))
        .and_then(|d| d.rotational);
    match rotational {
        Some(true) => "rotational",
        Some(false) => "nonrotational",
        None => "unknown",
    }
}

/// The device's busiest sample as evidence under `prefix` (`host_disk`, or
/// `host_disk.busiest` for a host-wide finding); nothing for what was not sampled.
fn peak_evidence(prefix: &str, peak: Option<&IoPeak>) -> Vec<Evidence> {
    let Some(peak) = peak else {
        return Vec::new();
    };
    let mut out = Vec::new();
    if let Some(v) = peak.iops {
        out.push(context(
            &format!("{prefix}.iops.max"),
            Value::number(v, Unit::PerSecond),
        ));
    }
    if let Some(v) = peak.bytes_per_s {
        out.push(context(
            &format!("{prefix}.throughput_bytes_per_s.max"),
            Value::number(v, Unit::Bytes),
        ));
    }
    out
}

/// For host-wide findings (iowait): the device busiest at p95 with its kind, its p95
/// util% and its busiest sample, as `host_disk.busiest.*`; nothing without disk samples.
pub(super) fn busiest_device(inputs: &Inputs<'_>) -> Vec<Evidence> {
    let Ok(disks) = inputs.stats.disks.as_ref() else {
        return Vec::new();
    };
    let Some((device, util)) = disks
        .iter()
        .filter_map(|d| Some((d.device.as_str(), d.util_pct_p95?)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
    else {
        return Vec::new();
    };
    let mut out = vec![
        context("host_disk.busiest.device", Value::text(device)),
        context(
            "host_disk.busiest.kind",
            Value::text(disk_kind(inputs, device)),
        ),
        context(
            "host_disk.busiest.util_pct.p95",
            Value::number(util, Unit::Percent),
        ),
    ];
    out.extend(peak_evidence(
        "host_disk.busiest",
        io_peaks(inputs.snapshot).get(device),
    ));
    out
}

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
    let peaks = io_peaks(inputs.snapshot);
    Ok(disks
        .iter()
        .filter_map(|d| {
            // No I/O completed in the window: there is no latency to judge.
            let value = d.await_ms_mean?;
            let kind = disk_kind(inputs, &d.device);
            let graded = match kind {
                "nonrotational" => spec.grade_variant("nonrotational", value),
                _ => spec.grade(value),
            }?;
            let mut evidence = vec![
                crossed(
                    "host_disk.await_ms.mean",
                    Value::number(value, Unit::Milliseconds),
                    graded.1,
                ),
                context("host.disks.kind", Value::text(kind)),
            ];
            evidence.extend(peak_evidence("host_disk", peaks.get(&d.device)));
            Some(finding(spec, graded.0, Some(d.device.clone()), evidence))
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
        let peaks = io_peaks(inputs.snapshot);
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
                evidence.push(context(
                    "host.disks.kind",
                    Value::text(disk_kind(inputs, &d.device)),
                ));
                evidence.extend(peak_evidence("host_disk", peaks.get(&d.device)));
                Some(finding(spec, severity, Some(d.device.clone()), evidence))
            })
            .collect())
    },
};

#[cfg(test)]
mod tests {
    use perfdiag_model::Severity;

    use perfdiag_model::{Snapshot, Table, Value, col, tables};

    use crate::test_support::{
        DiskSample, Fixture, evidence_number, evidence_threshold, findings_of,
    };
    use crate::{Baseline, assess};

    /// One sample of `host_disk` with I/O counts: device, await, util, reads/s,
    /// writes/s, read bytes/s, write bytes/s.
    type IoRow = (&'static str, f64, f64, f64, f64, f64, f64);

    /// `f`'s snapshot with its `host_disk` table replaced by `rows` (one per second).
    fn with_io(f: &Fixture, rows: &[IoRow]) -> Snapshot {
        let mut s = f.build();
        let start = s.manifest().window.started_at.timestamp_micros();
        let c = |g: fn(&IoRow) -> f64| col::f64(rows.iter().map(|r| Some(g(r))));
        let table = Table::new()
            .with(
                "ts",
                col::timestamp((0..rows.len()).map(|i| Some(start + (i as i64 + 1) * 1_000_000))),
            )
            .with("device", col::utf8(rows.iter().map(|r| Some(r.0))))
            .with("await_ms", c(|r| r.1))
            .with("util_pct", c(|r| r.2))
            .with("reads_per_s", c(|r| r.3))
            .with("writes_per_s", c(|r| r.4))
            .with("read_bytes_per_s", c(|r| r.5))
            .with("write_bytes_per_s", c(|r| r.6));
        s.put_table(tables::HOST_DISK, table);
        s
    }

    fn text<'a>(f: &'a perfdiag_model::Finding, metric: &str) -> &'a str {
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

    #[test]
    fn findings_carry_the_busiest_sample_and_the_kind() {
        let mut rows: Vec<IoRow> = Vec::new();
        for i in 0..10 {
            let i = f64::from(i);
            // sda: slow and busy; nvme0n1: healthy.
            rows.push((
                "sda",
                60.0,
                90.0,
                300.0 + i * 50.0,
                100.0,
                10e6,
                20e6 + i * 1e6,
            ));
            rows.push(("nvme0n1", 0.4, 10.0, 50.0, 50.0, 1e6, 1e6));
        }
        // sda's throughput peaks in its first sample (31 + 20 MB/s), its IOPS in its last.
        rows[0].5 = 31e6;
        let a = assess(&with_io(&Fixture::healthy(), &rows), &Baseline::builtin()).expect("runs");
        let lat = findings_of(&a, "host.disk.await");
        assert_eq!(lat.len(), 1, "{lat:#?}");
        assert_eq!(evidence_number(lat[0], "host_disk.iops.max"), 850.0);
        assert_eq!(
            evidence_number(lat[0], "host_disk.throughput_bytes_per_s.max"),
            51e6
        );
        assert_eq!(text(lat[0], "host.disks.kind"), "rotational");
        let util = findings_of(&a, "host.disk.utilisation");
        assert_eq!(util.len(), 1, "{util:#?}");
        assert_eq!(evidence_number(util[0], "host_disk.iops.max"), 850.0);
        assert_eq!(text(util[0], "host.disks.kind"), "rotational");
    }

    #[test]
    fn without_io_counts_the_findings_carry_no_peaks() {
        let mut f = Fixture::healthy();
        f.disks[1].1 = vec![
            DiskSample {
                await_ms: Some(60.0),
                util: 90.0
            };
            10
        ];
        let a = f.assess();
        for rule in ["host.disk.await", "host.disk.utilisation"] {
            let found = findings_of(&a, rule);
            assert_eq!(found.len(), 1, "{rule}");
            assert!(
                !found[0]
                    .evidence
                    .iter()
                    .any(|e| e.metric.starts_with("host_disk.iops")
                        || e.metric.starts_with("host_disk.throughput")),
                "{:#?}",
                found[0]
            );
        }
    }

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
