//! Capacity, storage and network steps: not a setting to flip but work for a person,
//! so their script is a checklist (`manual`) that starts from the measured evidence.
//!
//! The capacity steps do the sizing arithmetic themselves, from the findings' evidence
//! and the snapshot's facts: CPUs for the p95 busy % at a target busy %, RAM for the
//! databases' working set and for the memory seen in use, IOPS and throughput from the
//! busiest sample with headroom, and the latency to ask for by storage kind. Every
//! number shows its inputs, and a number whose input the snapshot lacks is replaced by
//! a sentence naming the missing evidence: a guess would be read as a measurement.

use perfdiag_model::facts::{MysqlFacts, PostgresFacts};
use perfdiag_model::{Finding, Phase, Risk};

use super::{Context, Draft, StepDef, evidence_lines, manual, number, text, verify};

/// Busy % a resized host should run at, at p95: room for peaks and growth below the
/// saturation rule's warning (85 %).
const CPU_TARGET_BUSY_PCT: f64 = 70.0;
/// Busy % (p95) from which a run queue above one per CPU means hidden demand.
const CPU_SATURATED_PCT: f64 = 95.0;
/// Share of the statement time the three heaviest classes must take for tuning them to
/// come before buying cores.
const CONCENTRATED_PCT: f64 = 50.0;

/// Share of the RAM to keep available at the observed peak: twice the memory
/// pressure rule's warning (10 %).
const AVAILABLE_TARGET_PCT: f64 = 20.0;
/// Growth headroom over the data size (the buffer pool formula's 10 %, docs/tuning.md).
const DATA_HEADROOM: f64 = 1.1;
/// Kernel, page tables, agents and the page cache for logs and binaries: a share of
/// the databases' memory, at least [`OS_RESERVE_MIN`].
const OS_RESERVE_SHARE: f64 = 0.1;
const OS_RESERVE_MIN: f64 = 2.0 * GIB;
/// work_mem allowances per PostgreSQL connection: PGTune's budget of a few sorts or
/// hashes at once (`pgtune.work_mem` divides by connections × 3).
const PG_WORK_MEMS_PER_CONNECTION: f64 = 3.0;
/// A hit ratio at or above this (%) over enough requests: the buffer already holds the
/// working set (the analyzers' `measured.hit_ratio` override).
const HIT_RATIO_ENOUGH_PCT: f64 = 99.9;
const HIT_RATIO_MIN_REQUESTS: f64 = 10_000.0;

/// Headroom over the busiest storage sample asked of a volume.
const IO_HEADROOM: f64 = 1.5;
/// Mean latency to ask for: the await rule's warning thresholds by kind.
const HDD_LATENCY_MS: f64 = 20.0;
const FLASH_LATENCY_MS: f64 = 5.0;

const MIB: f64 = 1_048_576.0;
const GIB: f64 = 1_073_741_824.0;

/// Logical CPU counts machines and VMs come in.
const CPU_SIZES: [u32; 19] = [
    1, 2, 4, 6, 8, 12, 16, 20, 24, 32, 40, 48, 64, 80, 96, 128, 160, 192, 256,
];
/// RAM sizes (GiB) machines and VMs come in.
const RAM_SIZES_GIB: [u64; 23] = [
    1, 2, 4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1024, 1536, 2048, 3072,
    4096, 6144,
];

fn checklist(
    findings: &[&Finding],
    sizing: &[String],
    steps: &str,
    risk: Risk,
    needs_restart: bool,
    (metric, target): (&str, &str),
) -> Draft {
    let sizing = if sizing.is_empty() {
        String::new()
    } else {
        let lines: String = sizing.iter().map(|l| format!("# {l}\n")).collect();
        format!("# Sizing:\n{lines}")
    };
    Draft {
        script: manual(format!(
            "# Measured:\n{}{sizing}{steps}",
            evidence_lines(findings)
        )),
        rollback: manual(
            "No setting is changed by this step. Roll back each change made while carrying\n\
             it out (keep the previous VM size, volume or cabling plan until verified)."
                .to_owned(),
        ),
        risk,
        needs_restart,
        verify: verify(metric, target),
    }
}

/// The sizing of a step that has none: network steps state their counters only.
fn no_sizing(_: &Context, _: &[&Finding]) -> Vec<String> {
    Vec::new()
}

macro_rules! manual_step {
    ($name:ident, $id:literal, $rule:literal, $risk:expr, $restart:expr, $verify:expr, $sizing:expr, $steps:literal) => {
        pub(super) const $name: StepDef = StepDef {
            id: $id,
            rule_id: $rule,
            phase: Phase::HardwareDeployment,
            build: |ctx: &Context, findings: &[&Finding]| {
                let sizing: fn(&Context, &[&Finding]) -> Vec<String> = $sizing;
                checklist(
                    findings,
                    &sizing(ctx, findings),
                    $steps,
                    $risk,
                    $restart,
                    $verify,
                )
            },
        };
    };
}

manual_step!(
    CPU_CAPACITY,
    "hardware.cpu.capacity",
    "host.cpu.saturation",
    Risk::Medium,
    true,
    ("host_cpu.busy_pct.p95", "<= 85"),
    cpu_capacity_sizing,
    "1. Find what uses the CPU: the top SQL by time in this report, then `top -H`.\n\
     2. Tune those statements first (indexes, plans): it is cheaper than hardware.\n\
     3. Move batch and reporting jobs out of peak hours or to a replica.\n\
     4. If busy stays above the threshold, resize to the CPUs computed above\n\
        (VM resize or new hardware), then verify the p95 busy % under the same load.\n"
);

manual_step!(
    CPU_IOWAIT,
    "hardware.storage.iowait",
    "host.cpu.iowait",
    Risk::Medium,
    false,
    ("host_cpu.iowait_pct.mean", "<= 10"),
    iowait_sizing,
    "1. Find the devices and processes waiting: `iostat -x 1`, `iotop -o`, and the\n\
        disk findings of this report.\n\
     2. Cut the I/O at its source first: missing indexes (full scans), too small a\n\
        buffer pool / shared_buffers, checkpoint settings.\n\
     3. If the storage is at its limit, move data and logs to volumes that meet the\n\
        requirement above (SSD/NVMe, provisioned IOPS) or separate the redo/WAL volume.\n"
);

manual_step!(
    CPU_STEAL,
    "hardware.vm.steal",
    "host.cpu.steal",
    Risk::Medium,
    true,
    ("host_cpu.steal_pct.mean", "<= 5"),
    steal_sizing,
    "1. Show the steal figures to the virtualisation team: the host is overcommitted.\n\
     2. Ask for the CPU reservation computed above / dedicated cores for this VM, or\n\
        its move to a less loaded host (DRS/anti-affinity rules for database VMs).\n\
     3. On a public cloud: move off burstable instance types to a dedicated-core family.\n"
);

manual_step!(
    MEMORY_CAPACITY,
    "hardware.memory.capacity",
    "host.memory.pressure",
    Risk::Medium,
    true,
    ("host_system.mem_available_pct.min", ">= 10"),
    memory_capacity_sizing,
    "1. List the largest processes (report `processes` table, `ps aux --sort=-rss`).\n\
     2. Check the database memory settings against RAM (buffer pool / shared_buffers,\n\
        work_mem x connections, sort and join buffers) and other services on the host.\n\
     3. Use a connection pooler if many idle connections each hold memory.\n\
     4. If the working set needs it, resize the RAM to the size computed above.\n"
);

manual_step!(
    MEMORY_SWAPPING,
    "hardware.memory.swapping",
    "host.memory.swapping",
    Risk::Medium,
    false,
    ("host_system.swap_pages_per_s.mean", "<= 10"),
    swapping_sizing,
    "1. Find who is swapped out: `grep VmSwap /proc/*/status | sort -k2 -n | tail`.\n\
     2. Reduce the memory the database and its neighbours commit (see the memory\n\
        pressure step) so the working set fits in RAM.\n\
     3. Keep vm.swappiness low (see its step) and, once memory fits, consider\n\
        `swapoff -a && swapon -a` in a quiet window to bring pages back.\n\
     4. If the workload needs more memory than the host has, add RAM up to the size\n\
        computed above.\n"
);

manual_step!(
    DISK_LATENCY,
    "hardware.storage.latency",
    "host.disk.await",
    Risk::High,
    true,
    ("host_disk.await_ms.mean", "<= 20 (HDD), <= 5 (SSD/NVMe)"),
    storage_sizing,
    "1. Confirm per device with `iostat -x 1` during the peak: r_await/w_await, aqu-sz.\n\
     2. Check the path: RAID controller cache and battery, multipath errors,\n\
        SAN/hypervisor datastore latency, the I/O scheduler (`none`/`mq-deadline`).\n\
     3. Separate WAL/redo from data files on different devices.\n\
     4. Move the slow devices' data to SSD/NVMe or provisioned-IOPS volumes that meet\n\
        the requirement above.\n"
);

manual_step!(
    DISK_UTILISATION,
    "hardware.storage.capacity",
    "host.disk.utilisation",
    Risk::Medium,
    true,
    ("host_disk.util_pct.p95", "<= 80"),
    storage_sizing,
    "1. Identify the I/O sources on the busy devices: `iotop -o`, top SQL by reads.\n\
     2. Reduce I/O first: indexes, buffer pool size, fewer full scans, vacuum/optimize.\n\
     3. Spread the load: more spindles/volumes (RAID 10), separate WAL/redo, tempdb,\n\
        sized to the requirement above.\n\
     4. Note: SSD/NVMe devices serve I/O in parallel; util % near 100 there matters only\n\
        with high await (see the latency step).\n"
);

manual_step!(
    NET_ERRORS,
    "network.interface.errors",
    "host.net.errors",
    Risk::Low,
    false,
    ("host_net.errors_per_s.mean", "<= 1"),
    no_sizing,
    "1. Read the driver counters: `ethtool -S <interface>` and `ip -s link`.\n\
     2. Errors (CRC, frame): check cable, transceiver and switch port; ask the network\n\
        team for the port's error counters and duplex/speed negotiation.\n\
     3. Drops: raise ring buffers (`ethtool -G <if> rx 4096`), check\n\
        net.core.netdev_max_backlog and IRQ balance across CPUs.\n"
);

manual_step!(
    NET_RETRANSMITS,
    "network.tcp.retransmits",
    "host.net.retransmits",
    Risk::Low,
    false,
    ("host_system.tcp_retrans_pct", "<= 1"),
    no_sizing,
    "1. Find the peers with retransmits: `ss -ti` (retrans field) on the database host.\n\
     2. Check the path between application and database: interface errors above,\n\
        firewall/load balancer drops, MTU mismatches (`ping -M do -s 1472 <peer>`).\n\
     3. Ask the network team for congestion on the links between the tiers.\n"
);

// ---------------------------------------------------------------------------------
// Number formatting: plain, language-neutral, like the evidence lines.

/// Up to two decimals, trailing zeros dropped: `10.97`, `96`, `1.5`.
fn short(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

/// A byte size in GiB from 1 GiB up, else in MiB: `44 GiB`, `1020 MiB`.
fn size(bytes: f64) -> String {
    if bytes >= GIB {
        format!("{} GiB", short((bytes / GIB * 10.0).round() / 10.0))
    } else {
        format!("{} MiB", short((bytes / MIB).round()))
    }
}

/// Bytes per second in MB/s (10^6, as storage is specified).
fn mb_per_s(bytes: f64) -> String {
    format!("{} MB/s", short((bytes / 1e6 * 10.0).round() / 10.0))
}

/// `x` rounded up, ignoring float noise (8 × 70 / 70 is 8, not 9).
fn ceil_clean(x: f64) -> f64 {
    ((x * 1e6).round() / 1e6).ceil()
}

// ---------------------------------------------------------------------------------
// CPU.

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
fn cpu_sizing(
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
fn statement_advice(top3: Option<f64>, top1: Option<f64>, query: Option<&str>) -> String {
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

fn host_cpus(ctx: &Context) -> (Option<u32>, Option<u32>) {
    ctx.host
        .as_ref()
        .map_or((None, None), |h| (Some(h.cpu.threads), h.cpu.cores))
}

fn cpu_capacity_sizing(ctx: &Context, findings: &[&Finding]) -> Vec<String> {
    let Some(f) = findings.first() else {
        return Vec::new();
    };
    let (cpus, cores) = host_cpus(ctx);
    let mut out = cpu_sizing(
        cpus,
        cores,
        number(f, "host_cpu.busy_pct.p95"),
        number(f, "host_system.procs_running_per_thread.mean"),
    );
    out.push(statement_advice(
        number(f, "statements.top3.time_share_pct"),
        number(f, "statements.top1.time_share_pct"),
        text(f, "statements.top1.query"),
    ));
    out
}

/// A CPU reservation for a VM whose CPUs are stolen: the CPUs its p95 busy % uses, in
/// vCPUs and, with the clock known, in MHz (VMware reserves MHz).
fn steal_lines(
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

fn steal_sizing(ctx: &Context, findings: &[&Finding]) -> Vec<String> {
    let Some(f) = findings.first() else {
        return Vec::new();
    };
    let (cpus, _) = host_cpus(ctx);
    let mhz = ctx.host.as_ref().and_then(|h| h.cpu.mhz.or(h.cpu.max_mhz));
    steal_lines(
        cpus,
        mhz,
        number(f, "host_cpu.steal_pct.mean"),
        number(f, "host_cpu.busy_pct.p95"),
    )
}

// ---------------------------------------------------------------------------------
// Storage.

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
fn io_requirement(
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

fn storage_sizing(_: &Context, findings: &[&Finding]) -> Vec<String> {
    let mut out = vec![format!(
        "Storage requirement per device: the busiest sample × {} headroom.",
        short(IO_HEADROOM)
    )];
    for f in findings {
        let device = f.subject.as_deref().unwrap_or("device");
        out.push(io_requirement(
            device,
            text(f, "host.disks.kind"),
            number(f, "host_disk.iops.max"),
            number(f, "host_disk.throughput_bytes_per_s.max"),
        ));
    }
    out
}

/// The CPU time lost to iowait, and the requirement for the busiest device (the
/// [`io_requirement`] of the device the evidence names, if any).
fn iowait_lines(
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

fn iowait_sizing(ctx: &Context, findings: &[&Finding]) -> Vec<String> {
    let Some(f) = findings.first() else {
        return Vec::new();
    };
    let busiest = text(f, "host_disk.busiest.device").map(|d| {
        io_requirement(
            d,
            text(f, "host_disk.busiest.kind"),
            number(f, "host_disk.busiest.iops.max"),
            number(f, "host_disk.busiest.throughput_bytes_per_s.max"),
        )
    });
    iowait_lines(
        host_cpus(ctx).0,
        number(f, "host_cpu.iowait_pct.mean"),
        busiest,
    )
}

// ---------------------------------------------------------------------------------
// Memory.

/// A part of the working set: its bytes and how they were computed, or what is missing.
type Part = Result<(f64, String), String>;

/// The memory one database target needs on this host.
#[derive(Debug, Clone, PartialEq)]
struct DbMemory {
    target: String,
    /// The cache holding its data (buffer pool / shared_buffers and page cache).
    buffers: Part,
    /// Per-connection memory × connections.
    connections: Part,
}

/// The cache the data needs: the current buffer when a measured hit ratio shows the
/// working set already fits; else the data with growth headroom; else the current
/// buffer alone, said to be a floor. `hit` is (hit %, requests) over the window.
fn buffer_need(
    setting: &str,
    data: Option<f64>,
    current: Option<f64>,
    hit: Option<(f64, f64)>,
) -> Part {
    if let (Some(cur), Some((pct, requests))) = (current, hit)
        && pct >= HIT_RATIO_ENOUGH_PCT
        && requests >= HIT_RATIO_MIN_REQUESTS
    {
        return Ok((
            cur,
            format!(
                "{setting} {}: its {} % hit ratio over the window shows the working set fits",
                size(cur),
                short(pct)
            ),
        ));
    }
    match (data, current) {
        (Some(d), _) => Ok((
            d * DATA_HEADROOM,
            format!(
                "data {} + {} %",
                size(d),
                short((DATA_HEADROOM - 1.0) * 100.0)
            ),
        )),
        (None, Some(cur)) => Ok((
            cur,
            format!(
                "{setting} {} (the data size was not collected: the working set may be larger)",
                size(cur)
            ),
        )),
        (None, None) => Err(format!("the data size and {setting}")),
    }
}

/// Per-connection memory × the connections seen at the peak, else × max_connections
/// (a bound, said so). `per` is the bytes per connection and how they add up.
fn connection_memory(
    per: Option<(f64, String)>,
    peak: Option<(f64, &str)>,
    max: Option<f64>,
) -> Part {
    let Some((bytes, how)) = per else {
        return Err(
            "the per-connection memory settings (work_mem, or MySQL's per-thread buffers)"
                .to_owned(),
        );
    };
    let (count, which) = match (peak, max) {
        (Some((n, which)), _) => (n, which.to_owned()),
        (None, Some(m)) => (m, "max_connections: the peak was not measured".to_owned()),
        (None, None) => return Err("the connection count (peak or max_connections)".to_owned()),
    };
    Ok((
        bytes * count,
        format!(
            "{how} = {} × {} connections, {which}",
            size(bytes),
            short(count)
        ),
    ))
}

/// Buffer cache hit % and block requests over the window, from the counters read at
/// both ends; `None` without both readings or without requests.
fn pg_hit(facts: &PostgresFacts) -> Option<(f64, f64)> {
    let (start, end) = (facts.start.as_ref()?, facts.end.as_ref()?);
    let (mut hit, mut read) = (0.0, 0.0);
    for e in &end.databases {
        let Some(s) = start.databases.iter().find(|s| s.datname == e.datname) else {
            continue;
        };
        if let (Some(a), Some(b)) = (s.blks_hit, e.blks_hit) {
            hit += (b - a).max(0) as f64;
        }
        if let (Some(a), Some(b)) = (s.blks_read, e.blks_read) {
            read += (b - a).max(0) as f64;
        }
    }
    let requests = hit + read;
    (requests > 0.0).then(|| (hit * 100.0 / requests, requests))
}

fn pg_memory(facts: &PostgresFacts) -> DbMemory {
    let sizes: Vec<f64> = facts
        .databases
        .iter()
        .filter_map(|d| d.size_bytes)
        .map(|b| b as f64)
        .collect();
    let data = (!sizes.is_empty()).then(|| sizes.iter().sum());
    let per = facts.setting_number("work_mem").map(|w| {
        (
            w * PG_WORK_MEMS_PER_CONNECTION,
            format!(
                "{} × work_mem {}",
                short(PG_WORK_MEMS_PER_CONNECTION),
                size(w)
            ),
        )
    });
    let conns = facts.connections.as_ref();
    let peak = conns
        .and_then(|c| c.peak_client_backends)
        .map(|n| (n as f64, "the peak in the window"));
    let max = facts
        .setting_number("max_connections")
        .or_else(|| conns.and_then(|c| c.max_connections).map(|n| n as f64));
    DbMemory {
        target: facts.target.clone(),
        buffers: buffer_need(
            "shared_buffers",
            data,
            facts.setting_number("shared_buffers"),
            pg_hit(facts),
        )
        .map_err(|m| format!("{m} (facts postgres.databases[].size_bytes, shared_buffers)")),
        connections: connection_memory(per, peak, max),
    }
}

/// A MySQL global variable as a number.
fn mysql_var(facts: &MysqlFacts, name: &str) -> Option<f64> {
    facts.variable(name)?.trim().parse().ok()
}

/// Global buffers besides the buffer pool (MySQLTuner's peak memory formula,
/// docs/tuning.md); absent ones count as 0.
fn mysql_other_globals(facts: &MysqlFacts) -> f64 {
    let sum: f64 = [
        "key_buffer_size",
        "innodb_additional_mem_pool_size",
        "innodb_log_buffer_size",
        "query_cache_size",
        "aria_pagecache_buffer_size",
    ]
    .iter()
    .filter_map(|n| mysql_var(facts, n))
    .sum();
    let tmp = match (
        mysql_var(facts, "tmp_table_size"),
        mysql_var(facts, "max_heap_table_size"),
    ) {
        (Some(a), Some(b)) => a.min(b),
        (a, b) => a.or(b).unwrap_or(0.0),
    };
    sum + tmp
}

fn mysql_memory(facts: &MysqlFacts) -> DbMemory {
    let current = facts
        .settings
        .innodb_buffer_pool_size_bytes
        .map(|b| b as f64)
        .or_else(|| mysql_var(facts, "innodb_buffer_pool_size"));
    let data = facts.data.as_ref().map(|d| d.innodb_bytes as f64);
    let hit = facts.window.as_ref().and_then(|w| {
        Some((
            w.buffer_pool_hit_pct()?,
            w.delta("Innodb_buffer_pool_read_requests")? as f64,
        ))
    });
    let others = mysql_other_globals(facts);
    let buffers = buffer_need("innodb_buffer_pool_size", data, current, hit)
        .map(|(b, how)| {
            if others > 0.0 {
                (
                    b + others,
                    format!("{how} + other global buffers {}", size(others)),
                )
            } else {
                (b, how)
            }
        })
        .map_err(|m| format!("{m} (facts mysql.data.innodb_bytes, innodb_buffer_pool_size)"));
    // The per-thread buffers of MySQLTuner's formula; sort_buffer_size at least must be
    // known for the sum to mean anything.
    let per = mysql_var(facts, "sort_buffer_size").map(|_| {
        let bytes: f64 = [
            "read_buffer_size",
            "read_rnd_buffer_size",
            "sort_buffer_size",
            "thread_stack",
            "join_buffer_size",
        ]
        .iter()
        .filter_map(|n| mysql_var(facts, n))
        .sum();
        (bytes, "per-thread buffers".to_owned())
    });
    let peak = facts
        .connections
        .max_used_connections
        .map(|n| (n as f64, "the most since startup"));
    let max = facts
        .settings
        .max_connections
        .or(facts.connections.max_connections)
        .map(|n| n as f64)
        .or_else(|| mysql_var(facts, "max_connections"));
    DbMemory {
        target: facts.target.clone(),
        buffers,
        connections: connection_memory(per, peak, max),
    }
}

/// True when the target labelled `label` runs on the host the snapshot describes: only
/// then does its memory count against this host's RAM. The analyzers' test
/// (`expected::is_local`): a socket, a loopback address or the host's own name.
fn on_this_host(label: &str, hostname: Option<&str>) -> bool {
    let rest = label.split_once("://").map_or(label, |(_, r)| r);
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_port.starts_with('[') {
        host_port.split_inclusive(']').next().unwrap_or(host_port)
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    host.is_empty()
        || host.starts_with('/')
        || matches!(host, "localhost" | "127.0.0.1" | "[::1]" | "::1")
        || hostname.is_some_and(|h| host.eq_ignore_ascii_case(h))
}

/// The databases on this host, each with the memory it needs.
fn local_databases(ctx: &Context) -> Vec<DbMemory> {
    let hostname = ctx.host.as_ref().map(|h| h.hostname.as_str());
    ctx.postgres
        .iter()
        .filter(|f| on_this_host(&f.target, hostname))
        .map(pg_memory)
        .chain(
            ctx.mysql
                .iter()
                .filter(|f| on_this_host(&f.target, hostname))
                .map(mysql_memory),
        )
        .collect()
}

/// The OS reserve for databases needing `db_bytes`.
fn os_reserve(db_bytes: f64) -> f64 {
    (db_bytes * OS_RESERVE_SHARE).max(OS_RESERVE_MIN)
}

/// The next RAM size machines come in, in GiB (multiples of 2 TiB past the table).
fn common_ram_gib(bytes: f64) -> u64 {
    let gib = ceil_clean(bytes / GIB).max(1.0) as u64;
    RAM_SIZES_GIB
        .iter()
        .copied()
        .find(|s| *s >= gib)
        .unwrap_or_else(|| gib.div_ceil(2048) * 2048)
}

/// The RAM that keeps [`AVAILABLE_TARGET_PCT`] of it available at `in_use`.
fn ram_for_use(in_use: f64) -> f64 {
    in_use / (1.0 - AVAILABLE_TARGET_PCT / 100.0)
}

/// The working set lines of `dbs` and its total (`None` without any database); the
/// total is a floor when a part is missing, and the lines say so.
fn working_set(dbs: &[DbMemory]) -> (Vec<String>, Option<(f64, bool)>) {
    if dbs.is_empty() {
        return (
            vec![
                "Working set: not computed, the snapshot has no database target on this host \
                 (facts postgres / mysql with a local URL)."
                    .to_owned(),
            ],
            None,
        );
    }
    let mut lines = vec!["Working set of the databases on this host:".to_owned()];
    let (mut total, mut partial) = (0.0, false);
    for db in dbs {
        let mut describe = |label: &str, part: &Part| match part {
            Ok((bytes, how)) => {
                total += bytes;
                format!("{label} {} ({how})", size(*bytes))
            }
            Err(missing) => {
                partial = true;
                format!("{label} not computed, missing {missing}")
            }
        };
        let buffers = describe("buffers", &db.buffers);
        let connections = describe("connections", &db.connections);
        lines.push(format!("- {}: {buffers}; {connections}", db.target));
    }
    let reserve = os_reserve(total);
    lines.push(format!(
        "- OS and page cache reserve: {} ({} % of {}, at least {})",
        size(reserve),
        short(OS_RESERVE_SHARE * 100.0),
        size(total),
        size(OS_RESERVE_MIN)
    ));
    let total = total + reserve;
    lines.push(format!(
        "= {}{}",
        if partial { "at least " } else { "" },
        size(total)
    ));
    (lines, Some((total, partial)))
}

/// The memory sizing: what was seen in use (with the swap in use, when known), the
/// working set of the local databases, and the RAM to resize to, if any.
fn ram_sizing(
    installed: Option<f64>,
    min_available_pct: Option<f64>,
    swap_used: Option<f64>,
    dbs: &[DbMemory],
) -> Vec<String> {
    let mut out = Vec::new();
    // The demand seen: RAM not available at the lowest point, plus what is swapped out.
    let seen = match (installed, min_available_pct) {
        (Some(ram), Some(avail)) => {
            let in_use = ram * (100.0 - avail) / 100.0;
            let swapped = swap_used.filter(|s| *s > 0.0);
            let demand = in_use + swapped.unwrap_or(0.0);
            let plus_swap = swapped
                .map(|s| format!(" + {} swapped out = {}", size(s), size(demand)))
                .unwrap_or_default();
            let need = ram_for_use(demand);
            out.push(format!(
                "Seen: {} installed, {} % available at the lowest → {} in use{plus_swap}; \
                 keeping {} % available at that use takes {} / {} = {}.",
                size(ram),
                short(avail),
                size(in_use),
                short(AVAILABLE_TARGET_PCT),
                size(demand),
                short(1.0 - AVAILABLE_TARGET_PCT / 100.0),
                size(need)
            ));
            Some(need)
        }
        (None, _) => {
            out.push(
                "Seen: the installed RAM (facts host.memory.total_bytes) is unknown, so the \
                 memory in use is not computed."
                    .to_owned(),
            );
            None
        }
        (Some(ram), None) => {
            out.push(format!(
                "Seen: {} installed; the lowest available memory \
                 (host_system.mem_available_pct.min) is not in the evidence.",
                size(ram)
            ));
            None
        }
    };
    let (lines, set) = working_set(dbs);
    out.extend(lines);
    let Some(ram) = installed else {
        return out;
    };
    let needed = [seen, set.map(|(t, _)| t)]
        .into_iter()
        .flatten()
        .max_by(f64::total_cmp);
    match needed {
        None => {
            out.push("RAM to resize to: not computed (see the missing evidence above).".to_owned())
        }
        Some(n) if n <= ram => out.push(format!(
            "RAM: {} needed ≤ {} installed: more RAM is not the fix; reduce what overcommits \
             it (steps 1–3).",
            size(n),
            size(ram)
        )),
        Some(n) => out.push(format!(
            "RAM: {} needed > {} installed → resize to {} GiB.",
            size(n),
            size(ram),
            common_ram_gib(n)
        )),
    }
    out
}

fn installed_ram(ctx: &Context) -> Option<f64> {
    ctx.host
        .as_ref()
        .map(|h| h.memory.total_bytes as f64)
        .filter(|b| *b > 0.0)
}

fn memory_capacity_sizing(ctx: &Context, findings: &[&Finding]) -> Vec<String> {
    let min_available = findings
        .iter()
        .filter_map(|f| number(f, "host_system.mem_available_pct.min"))
        .min_by(f64::total_cmp);
    ram_sizing(
        installed_ram(ctx),
        min_available,
        None,
        &local_databases(ctx),
    )
}

fn swapping_sizing(ctx: &Context, findings: &[&Finding]) -> Vec<String> {
    let min_available = findings
        .iter()
        .filter_map(|f| number(f, "host_system.mem_available_pct.min"))
        .min_by(f64::total_cmp);
    let swap_used = ctx.host.as_ref().map(|h| {
        h.memory
            .swap_total_bytes
            .saturating_sub(h.memory.swap_free_bytes) as f64
    });
    ram_sizing(
        installed_ram(ctx),
        min_available,
        swap_used,
        &local_databases(ctx),
    )
}

#[cfg(test)]
mod tests {
    use perfdiag_model::facts::host::{CpuFacts, HostFacts, MemoryFacts};
    use perfdiag_model::facts::mysql::{DataSizes, StatusWindow};
    use perfdiag_model::facts::postgres::{PgConnections, PgDatabase, PgSetting};
    use perfdiag_model::{Evidence, Severity, Unit, Value};

    use super::*;
    use crate::test_support::finding;

    fn n(metric: &str, value: f64) -> Evidence {
        Evidence {
            metric: metric.to_owned(),
            observed: Value::number(value, Unit::None),
            threshold: None,
        }
    }

    fn t(metric: &str, value: &str) -> Evidence {
        Evidence {
            metric: metric.to_owned(),
            observed: Value::text(value),
            threshold: None,
        }
    }

    fn host(threads: u32, cores: Option<u32>, ram_gib: u64) -> HostFacts {
        HostFacts {
            hostname: "db1".to_owned(),
            cpu: CpuFacts {
                threads,
                cores,
                mhz: Some(2400.0),
                ..CpuFacts::default()
            },
            memory: MemoryFacts {
                total_bytes: ram_gib << 30,
                swap_total_bytes: 8 << 30,
                swap_free_bytes: 5 << 30,
                ..MemoryFacts::default()
            },
            ..HostFacts::default()
        }
    }

    fn setting(name: &str, bytes: f64) -> PgSetting {
        PgSetting {
            name: name.to_owned(),
            setting: bytes.to_string(),
            normalised: Some(bytes),
            ..PgSetting::default()
        }
    }

    fn pg(target: &str, data_gib: Option<i64>) -> PostgresFacts {
        PostgresFacts {
            target: target.to_owned(),
            settings: vec![
                setting("shared_buffers", 4.0 * GIB),
                setting("work_mem", 4.0 * MIB),
                setting("max_connections", 200.0),
            ],
            databases: vec![PgDatabase {
                name: "erp".to_owned(),
                size_bytes: data_gib.map(|g| g << 30),
            }],
            connections: Some(PgConnections {
                peak_client_backends: Some(85),
                ..PgConnections::default()
            }),
            ..PostgresFacts::default()
        }
    }

    fn body(def: &StepDef, ctx: &Context, findings: &[Finding]) -> String {
        let refs: Vec<&Finding> = findings.iter().collect();
        (def.build)(ctx, &refs).script.body
    }

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
    fn cpu_step_states_the_sizing() {
        let ctx = Context {
            host: Some(host(8, None, 32)),
            ..Context::default()
        };
        let f = finding(
            "host.cpu.saturation",
            Severity::Critical,
            None,
            vec![
                n("host_cpu.busy_pct.p95", 96.0),
                n("statements.top3.time_share_pct", 81.0),
                n("statements.top1.time_share_pct", 62.0),
                t(
                    "statements.top1.query",
                    "SELECT * FROM orders WHERE status = $1",
                ),
            ],
        );
        let s = body(&CPU_CAPACITY, &ctx, &[f]);
        assert!(
            s.starts_with("# Measured:\n# host_cpu.busy_pct.p95 = 96\n"),
            "{s}"
        );
        assert!(s.contains("# Sizing:\n# CPUs: 8 CPUs at 96 % p95 busy → 8 × 96 / 70 = 10.97 → 11 CPUs for 70 %: resize to 12 CPUs, 4 more.\n"), "{s}");
        assert!(
            s.contains("# Statement time: the 3 heaviest classes take 81 %"),
            "{s}"
        );
        assert!(s.contains("\n1. Find what uses the CPU"), "{s}");
        // Without host facts: the missing sentence, no number.
        let f = finding(
            "host.cpu.saturation",
            Severity::Critical,
            None,
            vec![n("host_cpu.busy_pct.p95", 96.0)],
        );
        let s = body(&CPU_CAPACITY, &Context::default(), &[f]);
        assert!(
            s.contains("# CPUs: not computed, the snapshot lacks the CPU count"),
            "{s}"
        );
        assert!(!s.contains("CPUs for 70 %"), "{s}");
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
    fn storage_steps_list_each_device() {
        let findings = [
            finding(
                "host.disk.await",
                Severity::Critical,
                Some("sda"),
                vec![
                    n("host_disk.await_ms.mean", 70.0),
                    t("host.disks.kind", "rotational"),
                    n("host_disk.iops.max", 1850.0),
                    n("host_disk.throughput_bytes_per_s.max", 42.3e6),
                ],
            ),
            finding(
                "host.disk.await",
                Severity::Warning,
                Some("sdb"),
                vec![n("host_disk.await_ms.mean", 25.0)],
            ),
        ];
        let s = body(&DISK_LATENCY, &Context::default(), &findings);
        assert!(
            s.contains(
                "# sda: busiest sample 1850 IOPS, 42.3 MB/s → require 2800 IOPS and 64 MB/s (× 1.5)"
            ),
            "{s}"
        );
        assert!(s.contains("# sdb: IOPS and throughput not sampled"), "{s}");
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

    #[test]
    fn buffers_follow_the_data_unless_the_hit_ratio_says_it_fits() {
        let (b, how) =
            buffer_need("shared_buffers", Some(40.0 * GIB), Some(4.0 * GIB), None).expect("data");
        assert_eq!((b, how.as_str()), (44.0 * GIB, "data 40 GiB + 10 %"));
        let (b, how) = buffer_need(
            "shared_buffers",
            Some(40.0 * GIB),
            Some(4.0 * GIB),
            Some((99.95, 1e6)),
        )
        .expect("hit");
        assert_eq!(b, 4.0 * GIB);
        assert!(how.contains("99.95 % hit ratio"), "{how}");
        // Too few requests to judge: the data decides.
        let (b, _) = buffer_need(
            "shared_buffers",
            Some(40.0 * GIB),
            Some(4.0 * GIB),
            Some((99.95, 100.0)),
        )
        .expect("data");
        assert_eq!(b, 44.0 * GIB);
        let (b, how) = buffer_need("shared_buffers", None, Some(4.0 * GIB), None).expect("current");
        assert_eq!(b, 4.0 * GIB);
        assert!(how.contains("may be larger"), "{how}");
        assert_eq!(
            buffer_need("shared_buffers", None, None, None),
            Err("the data size and shared_buffers".to_owned())
        );
    }

    #[test]
    fn pg_buffers_stop_at_shared_buffers_when_the_hit_ratio_says_it_fits() {
        use chrono::{TimeZone, Utc};
        use perfdiag_model::facts::postgres::{PgCounters, PgDatabaseStats};

        let counters = |secs: u32, hit: i64, read: i64| PgCounters {
            at: Utc
                .with_ymd_and_hms(2026, 11, 2, 9, 0, secs)
                .single()
                .expect("valid date"),
            databases: vec![PgDatabaseStats {
                datname: "erp".to_owned(),
                blks_hit: Some(hit),
                blks_read: Some(read),
                ..PgDatabaseStats::default()
            }],
            ..PgCounters::default()
        };
        let mut facts = pg("postgres://app@localhost/erp", Some(40));
        // 1 999 000 hits and 1 000 reads: 99.95 %.
        facts.start = Some(counters(0, 1_000, 0));
        facts.end = Some(counters(59, 2_000_000, 1_000));
        assert_eq!(pg_hit(&facts), Some((99.95, 2_000_000.0)));
        let (b, how) = pg_memory(&facts).buffers.expect("buffers");
        assert_eq!(b, 4.0 * GIB);
        assert!(
            how.starts_with("shared_buffers 4 GiB: its 99.95 % hit ratio"),
            "{how}"
        );
        // 99 %: the data decides.
        facts.end = Some(counters(59, 1_981_000, 20_000));
        let (b, _) = pg_memory(&facts).buffers.expect("buffers");
        assert_eq!(b, 44.0 * GIB);
    }

    #[test]
    fn connections_use_the_peak_else_max_connections() {
        let per = Some((12.0 * MIB, "3 × work_mem 4 MiB".to_owned()));
        let (b, how) = connection_memory(
            per.clone(),
            Some((85.0, "the peak in the window")),
            Some(200.0),
        )
        .expect("peak");
        assert_eq!(b, 85.0 * 12.0 * MIB);
        assert_eq!(
            how,
            "3 × work_mem 4 MiB = 12 MiB × 85 connections, the peak in the window"
        );
        let (b, how) = connection_memory(per.clone(), None, Some(200.0)).expect("max");
        assert_eq!(b, 200.0 * 12.0 * MIB);
        assert!(how.contains("the peak was not measured"), "{how}");
        assert!(connection_memory(per, None, None).is_err());
        assert!(connection_memory(None, None, Some(200.0)).is_err());
    }

    #[test]
    fn ram_sizes_round_up_to_common_sizes() {
        assert_eq!(common_ram_gib(49.5 * GIB), 64);
        assert_eq!(common_ram_gib(64.0 * GIB), 64);
        assert_eq!(common_ram_gib(100.0 * GIB), 128);
        assert_eq!(common_ram_gib(7000.0 * GIB), 8192);
        assert_eq!(os_reserve(10.0 * GIB), OS_RESERVE_MIN);
        assert_eq!(os_reserve(45.0 * GIB), 4.5 * GIB);
        assert_eq!(ram_for_use(16.0 * GIB), 20.0 * GIB);
    }

    #[test]
    fn only_databases_on_this_host_count() {
        assert!(on_this_host("postgres://app@localhost/erp", Some("db1")));
        assert!(on_this_host("postgres://app@DB1:5432/erp", Some("db1")));
        assert!(on_this_host("postgres:///erp", None));
        assert!(on_this_host("mysql://root@[::1]:3306", None));
        assert!(!on_this_host("postgres://app@db2/erp", Some("db1")));
        assert!(!on_this_host("postgres://app@db1/erp", None));
        let ctx = Context {
            host: Some(host(8, None, 16)),
            postgres: vec![
                pg("postgres://app@localhost/erp", Some(40)),
                pg("postgres://app@db2/crm", Some(900)),
            ],
            ..Context::default()
        };
        let dbs = local_databases(&ctx);
        assert_eq!(dbs.len(), 1);
        assert_eq!(dbs[0].target, "postgres://app@localhost/erp");
    }

    #[test]
    fn memory_step_sizes_the_working_set() {
        let ctx = Context {
            host: Some(host(8, None, 16)),
            postgres: vec![pg("postgres://app@localhost/erp", Some(40))],
            ..Context::default()
        };
        let f = finding(
            "host.memory.pressure",
            Severity::Warning,
            None,
            vec![n("host_system.mem_available_pct.min", 4.0)],
        );
        let s = body(&MEMORY_CAPACITY, &ctx, &[f]);
        for want in [
            "# Seen: 16 GiB installed, 4 % available at the lowest → 15.4 GiB in use; keeping 20 % available at that use takes 15.4 GiB / 0.8 = 19.2 GiB.\n",
            "# Working set of the databases on this host:\n",
            "# - postgres://app@localhost/erp: buffers 44 GiB (data 40 GiB + 10 %); connections 1020 MiB (3 × work_mem 4 MiB = 12 MiB × 85 connections, the peak in the window)\n",
            "# - OS and page cache reserve: 4.5 GiB (10 % of 45 GiB, at least 2 GiB)\n",
            "# = 49.5 GiB\n",
            "# RAM: 49.5 GiB needed > 16 GiB installed → resize to 64 GiB.\n",
        ] {
            assert!(s.contains(want), "{want}\nnot in\n{s}");
        }
        // Less data: the seen use decides (19.2 GiB → 24 GiB).
        let ctx = Context {
            host: Some(host(8, None, 16)),
            postgres: vec![pg("postgres://app@localhost/erp", Some(1))],
            ..Context::default()
        };
        let f = finding(
            "host.memory.pressure",
            Severity::Warning,
            None,
            vec![n("host_system.mem_available_pct.min", 4.0)],
        );
        let s = body(&MEMORY_CAPACITY, &ctx, &[f]);
        assert!(
            s.contains("# RAM: 19.2 GiB needed > 16 GiB installed → resize to 24 GiB.\n"),
            "{s}"
        );
    }

    #[test]
    fn memory_sizing_says_what_is_missing() {
        // No host facts, no database: no number is made up.
        let lines = ram_sizing(None, Some(4.0), None, &[]);
        assert!(
            lines[0].contains("installed RAM (facts host.memory.total_bytes) is unknown"),
            "{lines:?}"
        );
        assert!(
            lines[1].contains("no database target on this host"),
            "{lines:?}"
        );
        assert_eq!(lines.len(), 2, "{lines:?}");
        let lines = ram_sizing(Some(16.0 * GIB), None, None, &[]);
        assert!(
            lines[0].contains("(host_system.mem_available_pct.min) is not in the evidence"),
            "{lines:?}"
        );
        assert_eq!(
            lines.last().map(String::as_str),
            Some("RAM to resize to: not computed (see the missing evidence above).")
        );
        // A target without sizes or settings: the total is a floor.
        let mut facts = pg("postgres://app@localhost/erp", None);
        facts.settings.clear();
        let lines = ram_sizing(Some(16.0 * GIB), Some(50.0), None, &[pg_memory(&facts)]);
        assert!(
            lines.iter().any(|l| l
                .contains("buffers not computed, missing the data size and shared_buffers (facts")),
            "{lines:?}"
        );
        assert!(lines.iter().any(|l| l == "= at least 2 GiB"), "{lines:?}");
        assert!(
            lines
                .last()
                .is_some_and(|l| l.contains("more RAM is not the fix")),
            "{lines:?}"
        );
    }

    #[test]
    fn swapping_counts_the_swapped_out_memory() {
        let ctx = Context {
            host: Some(host(8, None, 16)),
            ..Context::default()
        };
        let f = finding(
            "host.memory.swapping",
            Severity::Warning,
            None,
            vec![
                n("host_system.swap_pages_per_s.mean", 250.0),
                n("host_system.mem_available_pct.min", 25.0),
            ],
        );
        let s = body(&MEMORY_SWAPPING, &ctx, &[f]);
        // 12 GiB in use + 3 GiB swapped = 15 GiB; / 0.8 = 18.75 GiB → 24 GiB.
        assert!(s.contains("→ 12 GiB in use + 3 GiB swapped out = 15 GiB; keeping 20 % available at that use takes 15 GiB / 0.8 = 18.8 GiB."), "{s}");
        assert!(
            s.contains("# RAM: 18.8 GiB needed > 16 GiB installed → resize to 24 GiB.\n"),
            "{s}"
        );
    }

    #[test]
    fn mysql_memory_adds_other_globals_and_per_thread_buffers() {
        let vars = [
            ("innodb_buffer_pool_size", "8589934592"),
            ("key_buffer_size", "33554432"),
            ("innodb_log_buffer_size", "16777216"),
            ("tmp_table_size", "16777216"),
            ("max_heap_table_size", "33554432"),
            ("sort_buffer_size", "262144"),
            ("join_buffer_size", "262144"),
            ("read_buffer_size", "131072"),
            ("read_rnd_buffer_size", "262144"),
            ("thread_stack", "1048576"),
            ("max_connections", "151"),
        ];
        let mut facts = MysqlFacts {
            target: "mysql://root@localhost:3306".to_owned(),
            variables: vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            data: Some(DataSizes {
                innodb_bytes: 20 << 30,
                ..DataSizes::default()
            }),
            ..MysqlFacts::default()
        };
        facts.connections.max_used_connections = Some(100);
        let m = mysql_memory(&facts);
        let (b, how) = m.buffers.clone().expect("buffers");
        assert_eq!(b, 22.0 * GIB + 64.0 * MIB);
        assert_eq!(how, "data 20 GiB + 10 % + other global buffers 64 MiB");
        let (c, how) = m.connections.clone().expect("connections");
        assert_eq!(c, 100.0 * 1.875 * MIB);
        assert!(
            how.ends_with("× 100 connections, the most since startup"),
            "{how}"
        );
        // A pool that already holds the working set (99.95 % over 2 million requests).
        facts.window = Some(StatusWindow {
            seconds: 60.0,
            deltas: [
                ("Innodb_buffer_pool_read_requests".to_owned(), 2_000_000),
                ("Innodb_buffer_pool_reads".to_owned(), 1_000),
            ]
            .into_iter()
            .collect(),
        });
        let (b, _) = mysql_memory(&facts).buffers.expect("buffers");
        assert_eq!(b, 8.0 * GIB + 64.0 * MIB);
    }

    #[test]
    fn network_steps_have_no_sizing() {
        let f = finding(
            "host.net.errors",
            Severity::Warning,
            Some("eth0"),
            vec![n("host_net.errors_per_s.mean", 3.0)],
        );
        let s = body(&NET_ERRORS, &Context::default(), &[f]);
        assert!(!s.contains("# Sizing:"), "{s}");
    }
}
