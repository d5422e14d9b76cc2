//! Capacity, storage and network steps: not a setting to flip but work for a person,
//! so their script is a checklist (`manual`) that starts from the measured evidence.
//!
//! The capacity steps add a sizing section before their checklist: the CPUs, RAM,
//! IOPS and throughput to ask for, computed by [`super::sizing`] from the findings'
//! evidence and the snapshot's facts that the functions at the end of this file read.

use perfdiag_model::{Finding, Phase, Risk};

use super::sizing::memory::DbMemory;
use super::sizing::{cpu, memory, storage};
use super::{Context, Draft, StepDef, evidence_lines, manual, number, text, verify};

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
// What each step's sizing reads from the findings' evidence and the snapshot's facts.

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
    let mut out = cpu::cpu_sizing(
        cpus,
        cores,
        number(f, "host_cpu.busy_pct.p95"),
        number(f, "host_system.procs_running_per_thread.mean"),
    );
    out.push(cpu::statement_advice(
        number(f, "statements.top3.time_share_pct"),
        number(f, "statements.top1.time_share_pct"),
        text(f, "statements.top1.query"),
    ));
    out
}

fn steal_sizing(ctx: &Context, findings: &[&Finding]) -> Vec<String> {
    let Some(f) = findings.first() else {
        return Vec::new();
    };
    let (cpus, _) = host_cpus(ctx);
    let mhz = ctx.host.as_ref().and_then(|h| h.cpu.mhz.or(h.cpu.max_mhz));
    cpu::steal_lines(
        cpus,
        mhz,
        number(f, "host_cpu.steal_pct.mean"),
        number(f, "host_cpu.busy_pct.p95"),
    )
}

fn storage_sizing(_: &Context, findings: &[&Finding]) -> Vec<String> {
    storage::storage_lines(findings.iter().map(|f| {
        storage::io_requirement(
            f.subject.as_deref().unwrap_or("device"),
            text(f, "host.disks.kind"),
            number(f, "host_disk.iops.max"),
            number(f, "host_disk.throughput_bytes_per_s.max"),
        )
    }))
}

fn iowait_sizing(ctx: &Context, findings: &[&Finding]) -> Vec<String> {
    let Some(f) = findings.first() else {
        return Vec::new();
    };
    let busiest = text(f, "host_disk.busiest.device").map(|d| {
        storage::io_requirement(
            d,
            text(f, "host_disk.busiest.kind"),
            number(f, "host_disk.busiest.iops.max"),
            number(f, "host_disk.busiest.throughput_bytes_per_s.max"),
        )
    });
    storage::iowait_lines(
        host_cpus(ctx).0,
        number(f, "host_cpu.iowait_pct.mean"),
        busiest,
    )
}

/// The databases on this host, each with the memory it needs.
fn local_databases(ctx: &Context) -> Vec<DbMemory> {
    let hostname = ctx.host.as_ref().map(|h| h.hostname.as_str());
    memory::local_databases(hostname, &ctx.postgres, &ctx.mysql)
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
    memory::ram_sizing(
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
    memory::ram_sizing(
        installed_ram(ctx),
        min_available,
        swap_used,
        &local_databases(ctx),
    )
}

#[cfg(test)]
mod tests {
    use perfdiag_model::facts::host::{CpuFacts, HostFacts, MemoryFacts};
    use perfdiag_model::{Evidence, Severity, Unit, Value};

    use super::*;
    use crate::steps::sizing::memory::tests::pg;
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

    fn body(def: &StepDef, ctx: &Context, findings: &[Finding]) -> String {
        let refs: Vec<&Finding> = findings.iter().collect();
        (def.build)(ctx, &refs).script.body
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
