//! Capacity, storage and network steps: not a setting to flip but work for a person,
//! so their script is a checklist (`manual`) that starts from the measured evidence.

use perfdiag_model::{Finding, Phase, Risk};

use super::{Context, Draft, StepDef, evidence_lines, manual, verify};

fn checklist(
    findings: &[&Finding],
    steps: &str,
    risk: Risk,
    needs_restart: bool,
    (metric, target): (&str, &str),
) -> Draft {
    Draft {
        script: manual(format!("# Measured:\n{}{steps}", evidence_lines(findings))),
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

macro_rules! manual_step {
    ($name:ident, $id:literal, $rule:literal, $risk:expr, $restart:expr, $verify:expr, $steps:literal) => {
        pub(super) const $name: StepDef = StepDef {
            id: $id,
            rule_id: $rule,
            phase: Phase::HardwareDeployment,
            build: |_: &Context, findings: &[&Finding]| {
                checklist(findings, $steps, $risk, $restart, $verify)
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
    "1. Find what uses the CPU: the top SQL by CPU time in this report, then `top -H`.\n\
     2. Tune those statements first (indexes, plans): it is cheaper than hardware.\n\
     3. Move batch and reporting jobs out of peak hours or to a replica.\n\
     4. If busy stays above the threshold, add cores (VM resize or new hardware),\n\
        sized from the p95 busy % above with 30 % headroom.\n"
);

manual_step!(
    CPU_IOWAIT,
    "hardware.storage.iowait",
    "host.cpu.iowait",
    Risk::Medium,
    false,
    ("host_cpu.iowait_pct.mean", "<= 10"),
    "1. Find the devices and processes waiting: `iostat -x 1`, `iotop -o`, and the\n\
        disk findings of this report.\n\
     2. Cut the I/O at its source first: missing indexes (full scans), too small a\n\
        buffer pool / shared_buffers, checkpoint settings.\n\
     3. If the storage is at its limit, move data and logs to faster volumes (SSD/NVMe,\n\
        provisioned IOPS) or separate the redo/WAL volume.\n"
);

manual_step!(
    CPU_STEAL,
    "hardware.vm.steal",
    "host.cpu.steal",
    Risk::Medium,
    true,
    ("host_cpu.steal_pct.mean", "<= 5"),
    "1. Show the steal figures to the virtualisation team: the host is overcommitted.\n\
     2. Ask for a CPU reservation / dedicated cores for this VM, or its move to a less\n\
        loaded host (DRS/anti-affinity rules for database VMs).\n\
     3. On a public cloud: move off burstable instance types to a dedicated-core family.\n"
);

manual_step!(
    MEMORY_CAPACITY,
    "hardware.memory.capacity",
    "host.memory.pressure",
    Risk::Medium,
    true,
    ("host_system.mem_available_pct.min", ">= 10"),
    "1. List the largest processes (report `processes` table, `ps aux --sort=-rss`).\n\
     2. Check the database memory settings against RAM (buffer pool / shared_buffers,\n\
        work_mem x connections, sort and join buffers) and other services on the host.\n\
     3. Use a connection pooler if many idle connections each hold memory.\n\
     4. If the working set needs it, add RAM; size from the minimum available above.\n"
);

manual_step!(
    MEMORY_SWAPPING,
    "hardware.memory.swapping",
    "host.memory.swapping",
    Risk::Medium,
    false,
    ("host_system.swap_pages_per_s.mean", "<= 10"),
    "1. Find who is swapped out: `grep VmSwap /proc/*/status | sort -k2 -n | tail`.\n\
     2. Reduce the memory the database and its neighbours commit (see the memory\n\
        pressure step) so the working set fits in RAM.\n\
     3. Keep vm.swappiness low (see its step) and, once memory fits, consider\n\
        `swapoff -a && swapon -a` in a quiet window to bring pages back.\n\
     4. If the workload needs more memory than the host has, add RAM.\n"
);

manual_step!(
    DISK_LATENCY,
    "hardware.storage.latency",
    "host.disk.await",
    Risk::High,
    true,
    ("host_disk.await_ms.mean", "<= 20 (HDD), <= 5 (SSD/NVMe)"),
    "1. Confirm per device with `iostat -x 1` during the peak: r_await/w_await, aqu-sz.\n\
     2. Check the path: RAID controller cache and battery, multipath errors,\n\
        SAN/hypervisor datastore latency, the I/O scheduler (`none`/`mq-deadline`).\n\
     3. Separate WAL/redo from data files on different devices.\n\
     4. Move the slow devices' data to SSD/NVMe or provisioned-IOPS volumes.\n"
);

manual_step!(
    DISK_UTILISATION,
    "hardware.storage.capacity",
    "host.disk.utilisation",
    Risk::Medium,
    true,
    ("host_disk.util_pct.p95", "<= 80"),
    "1. Identify the I/O sources on the busy devices: `iotop -o`, top SQL by reads.\n\
     2. Reduce I/O first: indexes, buffer pool size, fewer full scans, vacuum/optimize.\n\
     3. Spread the load: more spindles/volumes (RAID 10), separate WAL/redo, tempdb.\n\
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
    "1. Find the peers with retransmits: `ss -ti` (retrans field) on the database host.\n\
     2. Check the path between application and database: interface errors above,\n\
        firewall/load balancer drops, MTU mismatches (`ping -M do -s 1472 <peer>`).\n\
     3. Ask the network team for congestion on the links between the tiers.\n"
);
