//! Storage sizing: what a volume must deliver (the busiest sample's IOPS and
//! throughput with headroom, at the mean latency its kind should reach), and the CPU
//! time lost waiting for I/O. A storage order needs numbers, and iowait is fixed by
//! storage, not by more CPUs.

use super::{ceil_clean, mb_per_s, short};

/// Headroom over the busiest storage sample asked of a volume.
const IO_HEADROOM: f64 = 1.5;
/// Mean latency to ask for: the await rule's warning thresholds by kind.
const HDD_LATENCY_MS: f64 = 20.0;
const FLASH_LATENCY_MS: f64 = 5.0;

/// Bytes per second as a whole number of MB/s, rounded up.
fn ceil_mb(bytes: f64) -> f64 {
    ceil_clean(bytes / 1e6).max(1.0) * 1e6
}

/// IOPS rounded up to a hundred: a number a storage order can carry.
fn ceil_iops(iops: f64) -> f64 {
    (ceil_clean(iops / 100.0) * 100.0).max(100.0)
}

/// The mean latency to require of a device of `kind` (`rotational`, `nonrotational`,
/// `unknown`), in words.
fn latency_target(device: &str, kind: Option<&str>) -> String {
    let hdd = short(HDD_LATENCY_MS);
    let flash = short(FLASH_LATENCY_MS);
    match kind {
        _ if device.starts_with("nvme") => format!("≤ {flash} ms (NVMe)"),
        Some("nonrotational") => format!("≤ {flash} ms (SSD)"),
        Some("rotational") => format!("≤ {hdd} ms as HDD, ≤ {flash} ms on SSD/NVMe"),
        _ => format!("≤ {flash} ms on SSD-backed volumes, ≤ {hdd} ms otherwise (kind unknown)"),
    }
}

/// What a volume replacing `device` must deliver: its busiest sample's IOPS and MB/s
/// × [`IO_HEADROOM`], at the latency of its kind; or which samples were missing.
pub(in crate::steps) fn io_requirement(
    device: &str,
    kind: Option<&str>,
    iops: Option<f64>,
    bytes_per_s: Option<f64>,
) -> String {
    let latency = latency_target(device, kind);
    let headroom = short(IO_HEADROOM);
    let mut now = Vec::new();
    let mut required = Vec::new();
    let mut missing = Vec::new();
    match iops {
        Some(v) => {
            now.push(format!("{} IOPS", short(v.round())));
            required.push(format!("{} IOPS", short(ceil_iops(v * IO_HEADROOM))));
        }
        None => missing.push("IOPS"),
    }
    match bytes_per_s {
        Some(v) => {
            now.push(mb_per_s(v));
            required.push(mb_per_s(ceil_mb(v * IO_HEADROOM)));
        }
        None => missing.push("throughput"),
    }
    if now.is_empty() {
        return format!(
            "{device}: IOPS and throughput not sampled (host_disk reads/writes per second): \
             measure them with `iostat -x 1` at the peak, ask for × {headroom} at a mean \
             latency {latency}."
        );
    }
    let missing = if missing.is_empty() {
        String::new()
    } else {
        format!("; {} not sampled", missing.join(" and "))
    };
    format!(
        "{device}: busiest sample {} → require {} (× {headroom}) at a mean latency \
         {latency}{missing}.",
        now.join(", "),
        required.join(" and ")
    )
}

/// The storage requirement of each device ([`io_requirement`] lines), under a line
/// stating the headroom asked for.
pub(in crate::steps) fn storage_lines(
    requirements: impl IntoIterator<Item = String>,
) -> Vec<String> {
    let mut out = vec![format!(
        "Storage requirement per device: the busiest sample × {} headroom.",
        short(IO_HEADROOM)
    )];
    out.extend(requirements);
    out
}

/// The CPU time lost to iowait, and the requirement for the busiest device (the
/// [`io_requirement`] of the device the evidence names, if any).
pub(in crate::steps) fn iowait_lines(
    cpus: Option<u32>,
    iowait_mean: Option<f64>,
    busiest: Option<String>,
) -> Vec<String> {
    let mut out = Vec::new();
    match (cpus.filter(|c| *c > 0), iowait_mean) {
        (Some(cpus), Some(w)) => out.push(format!(
            "Waiting: {} % iowait of {cpus} CPUs = {} CPUs idle for I/O at the mean; more \
             CPUs do not help, faster storage or less I/O does.",
            short(w),
            short(f64::from(cpus) * w / 100.0)
        )),
        (None, _) => out.push(
            "Waiting: the CPU count (facts host.cpu.threads) is unknown, so the CPUs idle for \
             I/O are not computed."
                .to_owned(),
        ),
        _ => {}
    }
    match busiest {
        Some(requirement) => out.push(format!("Busiest device: {requirement}")),
        None => out.push(
            "Busiest device: not in the evidence (no per-device disk samples, table \
             host_disk): size the storage from `iostat -x 1` at the peak."
                .to_owned(),
        ),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_requirement_is_the_busiest_sample_with_headroom() {
        assert_eq!(
            io_requirement("sda", Some("rotational"), Some(850.0), Some(51e6)),
            "sda: busiest sample 850 IOPS, 51 MB/s → require 1300 IOPS and 77 MB/s (× 1.5) \
             at a mean latency ≤ 20 ms as HDD, ≤ 5 ms on SSD/NVMe."
        );
        assert_eq!(
            io_requirement("nvme0n1", Some("nonrotational"), Some(20_000.0), None),
            "nvme0n1: busiest sample 20000 IOPS → require 30000 IOPS (× 1.5) at a mean \
             latency ≤ 5 ms (NVMe); throughput not sampled."
        );
        assert!(
            io_requirement("sdb", Some("nonrotational"), Some(10.0), Some(1.0))
                .contains("require 100 IOPS and 1 MB/s")
        );
        let s = io_requirement("dm-0", None, None, None);
        assert!(
            s.starts_with("dm-0: IOPS and throughput not sampled"),
            "{s}"
        );
        assert!(s.contains("kind unknown"), "{s}");
    }

    #[test]
    fn iowait_counts_the_idle_cpus_and_sizes_the_busiest_device() {
        let lines = iowait_lines(
            Some(8),
            Some(30.0),
            Some(io_requirement(
                "sda",
                Some("rotational"),
                Some(400.0),
                Some(2e6),
            )),
        );
        assert!(
            lines[0].contains("30 % iowait of 8 CPUs = 2.4 CPUs idle for I/O"),
            "{lines:?}"
        );
        assert!(
            lines[1].starts_with(
                "Busiest device: sda: busiest sample 400 IOPS, 2 MB/s → require 600 IOPS and 3 MB/s"
            ),
            "{lines:?}"
        );
        let lines = iowait_lines(None, Some(30.0), None);
        assert!(
            lines[0].contains("CPU count (facts host.cpu.threads) is unknown"),
            "{lines:?}"
        );
        assert!(lines[1].contains("not in the evidence"), "{lines:?}");
    }
}
