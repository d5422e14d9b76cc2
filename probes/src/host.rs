//! The `host` probe: hardware and OS identity (CPU, memory, disks, filesystems,
//! interfaces, virtualisation), read once per collection.

use perfdiag_model::facts::{
    CpuFacts, DiskFacts, FilesystemFacts, HostFacts, InterfaceFacts, MemoryFacts, Virtualization,
};

use crate::procfs::{self, cpuinfo, loadavg, meminfo, mounts};
use crate::record::{self, Notes};
use crate::{Collected, ProbeError, Root, sysfs};

pub const ID: &str = "host";

/// Filesystems that hold data on local storage; everything else (proc, sysfs, tmpfs,
/// cgroup, network filesystems, ...) is left out.
const LOCAL_FS: &[&str] = &[
    "ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "f2fs", "jfs", "reiserfs", "bcachefs", "nilfs2",
    "vfat", "exfat", "ntfs", "ntfs3",
];

pub fn probe(root: &Root) -> Collected<HostFacts> {
    record::collect(ID, |notes| {
        if cfg!(target_os = "linux") {
            Ok(collect_linux(root, notes))
        } else {
            fallback(notes)
        }
    })
}

fn collect_linux(root: &Root, notes: &mut Notes) -> HostFacts {
    let mut read = |rel: &str| match procfs::read_trimmed(root, rel) {
        Ok(s) => Some(s),
        Err(e) => {
            notes.missing_err(rel, &e);
            None
        }
    };
    let hostname = read("proc/sys/kernel/hostname").unwrap_or_default();
    let kernel = read("proc/sys/kernel/osrelease");
    let os_name = read("etc/os-release")
        .as_deref()
        .and_then(parse_os_release_pretty_name)
        .unwrap_or_default();
    let uptime_secs = read("proc/uptime")
        .as_deref()
        .and_then(|s| loadavg::parse_uptime(s).ok())
        .map(|s| s as u64);
    let cpuinfo = read("proc/cpuinfo").and_then(|s| cpuinfo::parse_cpuinfo(&s).ok());
    let meminfo = read("proc/meminfo").and_then(|s| meminfo::parse_meminfo(&s).ok());
    let max_mhz =
        procfs::read_trimmed(root, "sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq")
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
            .map(|khz| khz / 1000.0);

    let cpu = cpuinfo
        .as_ref()
        .map_or_else(CpuFacts::default, |c| CpuFacts {
            model: c.model.clone(),
            sockets: c.sockets,
            cores: c.cores,
            threads: c.threads,
            mhz: c.mhz,
            max_mhz,
        });
    let memory = meminfo.map_or_else(MemoryFacts::default, |m| MemoryFacts {
        total_bytes: m.total.unwrap_or(0),
        available_bytes: m.available,
        swap_total_bytes: m.swap_total.unwrap_or(0),
        swap_free_bytes: m.swap_free.unwrap_or(0),
        hugepages_total: m.hugepages_total,
        hugepages_free: m.hugepages_free,
        hugepage_size_bytes: m.hugepage_size,
    });
    let hypervisor_flag = cpuinfo.as_ref().is_some_and(|c| c.hypervisor_flag);

    HostFacts {
        hostname,
        os_name,
        kernel,
        arch: std::env::consts::ARCH.to_owned(),
        uptime_secs,
        cpu,
        memory,
        disks: disks(root, notes),
        filesystems: filesystems(root, notes),
        interfaces: interfaces(root, notes),
        virtualization: virtualization(root, hypervisor_flag),
    }
}

/// `PRETTY_NAME` from os-release, unquoted.
pub fn parse_os_release_pretty_name(text: &str) -> Option<String> {
    text.lines()
        .find_map(|l| l.strip_prefix("PRETTY_NAME="))
        .map(|v| v.trim().trim_matches('"').trim_matches('\'').to_owned())
        .filter(|v| !v.is_empty())
}

/// The bracketed choice of a sysfs selector such as `none [mq-deadline] kyber`.
pub fn parse_bracketed(text: &str) -> Option<String> {
    let start = text.find('[')?;
    let end = start + text[start..].find(']')?;
    Some(text[start + 1..end].to_owned())
}

fn disks(root: &Root, notes: &mut Notes) -> Vec<DiskFacts> {
    let names = match sysfs::whole_disks(root) {
        Ok(n) => n,
        Err(e) => {
            notes.missing_err("sys/block", &e);
            return Vec::new();
        }
    };
    names
        .into_iter()
        .map(|name| {
            // Optional attributes: virtio disks have no model, some devices no queue.
            let attr = |a: &str| procfs::read_trimmed(root, &format!("sys/block/{name}/{a}")).ok();
            DiskFacts {
                size_bytes: attr("size")
                    .and_then(|s| s.parse::<u64>().ok())
                    .map(|sectors| sectors.saturating_mul(512)),
                model: attr("device/model").filter(|m| !m.is_empty()),
                rotational: attr("queue/rotational").map(|r| r == "1"),
                scheduler: attr("queue/scheduler").as_deref().and_then(parse_bracketed),
                read_ahead_kb: attr("queue/read_ahead_kb").and_then(|s| s.parse().ok()),
                name,
            }
        })
        .collect()
}

fn filesystems(root: &Root, notes: &mut Notes) -> Vec<FilesystemFacts> {
    let text =
        procfs::read(root, "proc/self/mounts").or_else(|_| procfs::read(root, "proc/mounts"));
    let mounts = match text.and_then(|t| mounts::parse_mounts(&t)) {
        Ok(m) => m,
        Err(e) => {
            notes.missing_err("proc/self/mounts", &e);
            return Vec::new();
        }
    };
    let mut out: Vec<FilesystemFacts> = Vec::new();
    for m in mounts {
        let local = LOCAL_FS.contains(&m.fs_type.as_str())
            || (m.fs_type == "overlay" && m.mount_point == "/");
        if !local {
            continue;
        }
        // statvfs asks the live kernel: meaningless for a fixture tree.
        let (size_bytes, free_bytes) = if root.is_system() {
            statvfs(&m.mount_point)
        } else {
            (None, None)
        };
        let fs = FilesystemFacts {
            mount_point: m.mount_point,
            device: m.device,
            fs_type: m.fs_type,
            options: m.options,
            size_bytes,
            free_bytes,
        };
        // A later mount on the same point hides the earlier one.
        match out.iter_mut().find(|f| f.mount_point == fs.mount_point) {
            Some(prev) => *prev = fs,
            None => out.push(fs),
        }
    }
    out
}

#[cfg(unix)]
fn statvfs(mount_point: &str) -> (Option<u64>, Option<u64>) {
    match rustix::fs::statvfs(mount_point) {
        Ok(s) => (
            Some(s.f_blocks.saturating_mul(s.f_frsize)),
            Some(s.f_bavail.saturating_mul(s.f_frsize)),
        ),
        Err(_) => (None, None),
    }
}

#[cfg(not(unix))]
fn statvfs(_mount_point: &str) -> (Option<u64>, Option<u64>) {
    (None, None)
}

fn interfaces(root: &Root, notes: &mut Notes) -> Vec<InterfaceFacts> {
    let names = match sysfs::list_dir(root, "sys/class/net") {
        Ok(n) => n,
        Err(e) => {
            notes.missing_err("sys/class/net", &e);
            return Vec::new();
        }
    };
    names
        .into_iter()
        .filter(|n| n != "lo")
        .map(|name| {
            // Reading `speed` fails with EINVAL on virtual NICs and says -1 when the
            // link is down: both mean "unknown", not an error.
            let attr =
                |a: &str| procfs::read_trimmed(root, &format!("sys/class/net/{name}/{a}")).ok();
            InterfaceFacts {
                mtu: attr("mtu").and_then(|s| s.parse().ok()),
                speed_mbps: attr("speed").and_then(|s| s.parse::<u64>().ok()),
                operstate: attr("operstate"),
                name,
            }
        })
        .collect()
}

fn virtualization(root: &Root, hypervisor_flag: bool) -> Virtualization {
    let dmi = |a: &str| {
        procfs::read_trimmed(root, &format!("sys/class/dmi/id/{a}"))
            .ok()
            .filter(|s| !s.is_empty())
    };
    let vendor = dmi("sys_vendor");
    let product = dmi("product_name");
    let hypervisor = hypervisor_from_dmi(vendor.as_deref(), product.as_deref()).or_else(|| {
        // Without DMI (containers, some clouds) the CPU flag still tells a VM, not which.
        hypervisor_flag.then(|| "vm".to_owned())
    });
    Virtualization {
        hypervisor,
        container: container(root),
        product,
    }
}

/// Names the hypervisor from DMI; `bare-metal` when DMI is readable and names no
/// hypervisor, `None` when there is no DMI at all.
pub fn hypervisor_from_dmi(vendor: Option<&str>, product: Option<&str>) -> Option<String> {
    let (v, p) = (vendor.unwrap_or(""), product.unwrap_or(""));
    if vendor.is_none() && product.is_none() {
        return None;
    }
    let name = if v.contains("QEMU") || p.contains("KVM") || p.contains("QEMU") {
        "kvm"
    } else if v.contains("VMware") {
        "vmware"
    } else if v.contains("Microsoft Corporation") && p.contains("Virtual Machine") {
        "hyper-v"
    } else if v.contains("Xen") || p.contains("HVM domU") {
        "xen"
    } else if v.contains("Amazon EC2") {
        "kvm/aws"
    } else if v.contains("innotek") || p.contains("VirtualBox") {
        "virtualbox"
    } else if v.contains("Google") && p.contains("Google Compute Engine") {
        "kvm/gce"
    } else {
        "bare-metal"
    };
    Some(name.to_owned())
}

fn container(root: &Root) -> Option<String> {
    if root.path(".dockerenv").exists() {
        return Some("docker".to_owned());
    }
    if root.path("run/.containerenv").exists() {
        return Some("podman".to_owned());
    }
    // /proc/1/environ is usually readable only by root; try it, then the cgroup path.
    if let Ok(env) = std::fs::read(root.path("proc/1/environ")) {
        let found = env
            .split(|&b| b == 0)
            .find_map(|kv| kv.strip_prefix(b"container="))
            .map(|v| String::from_utf8_lossy(v).into_owned());
        if found.is_some() {
            return found;
        }
    }
    let cgroup = procfs::read(root, "proc/1/cgroup").ok()?;
    ["docker", "kubepods", "containerd", "lxc", "libpod"]
        .into_iter()
        .find(|k| cgroup.contains(k))
        .map(|k| if k == "libpod" { "podman" } else { k }.to_owned())
}

/// Off Linux there is no /proc: ask sysinfo for what it knows and say the rest is
/// unsupported here.
#[cfg(not(target_os = "linux"))]
fn fallback(notes: &mut Notes) -> Result<HostFacts, ProbeError> {
    use sysinfo::System;
    let Ok(mut sys) = System::new_all() else {
        return Err(ProbeError::Unsupported("host facts (sysinfo)".into()));
    };
    sys.refresh_all();
    notes.missing("disks, filesystems, interfaces, virtualisation (unsupported here)");
    let cpus = sys.cpus();
    Ok(HostFacts {
        hostname: System::host_name().unwrap_or_default(),
        os_name: System::long_os_version().unwrap_or_default(),
        kernel: System::kernel_version().ok(),
        arch: std::env::consts::ARCH.to_owned(),
        uptime_secs: System::uptime().ok(),
        cpu: CpuFacts {
            model: cpus.first().map(|c| c.brand().to_owned()),
            sockets: None,
            cores: System::physical_core_count()
                .ok()
                .and_then(|n| u32::try_from(n).ok()),
            threads: u32::try_from(cpus.len()).unwrap_or(u32::MAX),
            mhz: cpus.first().map(|c| c.frequency() as f64),
            max_mhz: None,
        },
        memory: MemoryFacts {
            total_bytes: sys.total_memory(),
            available_bytes: Some(sys.available_memory()),
            swap_total_bytes: sys.total_swap(),
            swap_free_bytes: sys.free_swap(),
            ..MemoryFacts::default()
        },
        ..HostFacts::default()
    })
}

#[cfg(target_os = "linux")]
fn fallback(_notes: &mut Notes) -> Result<HostFacts, ProbeError> {
    Err(ProbeError::Unsupported("host facts without /proc".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_release() {
        assert_eq!(
            parse_os_release_pretty_name(
                "NAME=\"Debian\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
            )
            .as_deref(),
            Some("Debian GNU/Linux 12 (bookworm)")
        );
        assert_eq!(parse_os_release_pretty_name("NAME=x\n"), None);
        assert_eq!(parse_os_release_pretty_name("PRETTY_NAME=\"\"\n"), None);
    }

    #[test]
    fn bracketed() {
        assert_eq!(
            parse_bracketed("none [mq-deadline] kyber bfq").as_deref(),
            Some("mq-deadline")
        );
        assert_eq!(parse_bracketed("none"), None);
        assert_eq!(parse_bracketed("] [x"), None);
    }

    #[test]
    fn dmi() {
        let h = |v, p| hypervisor_from_dmi(Some(v), Some(p));
        assert_eq!(
            h("QEMU", "Standard PC (Q35 + ICH9, 2009)").as_deref(),
            Some("kvm")
        );
        assert_eq!(
            h("VMware, Inc.", "VMware Virtual Platform").as_deref(),
            Some("vmware")
        );
        assert_eq!(
            h("Microsoft Corporation", "Virtual Machine").as_deref(),
            Some("hyper-v")
        );
        assert_eq!(h("Xen", "HVM domU").as_deref(), Some("xen"));
        assert_eq!(h("Amazon EC2", "m5.large").as_deref(), Some("kvm/aws"));
        assert_eq!(
            h("Dell Inc.", "PowerEdge R740").as_deref(),
            Some("bare-metal")
        );
        assert_eq!(hypervisor_from_dmi(None, None), None);
    }
}
