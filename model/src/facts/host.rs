//! Hardware and OS identity of the host (facts document `host`).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HostFacts {
    pub hostname: String,
    /// Pretty name from os-release, e.g. "Debian GNU/Linux 12 (bookworm)".
    pub os_name: String,
    pub kernel: Option<String>,
    pub arch: String,
    pub uptime_secs: Option<u64>,
    pub cpu: CpuFacts,
    pub memory: MemoryFacts,
    pub disks: Vec<DiskFacts>,
    pub filesystems: Vec<FilesystemFacts>,
    pub interfaces: Vec<InterfaceFacts>,
    pub virtualization: Virtualization,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CpuFacts {
    pub model: Option<String>,
    pub sockets: Option<u32>,
    /// Physical cores over all sockets.
    pub cores: Option<u32>,
    /// Logical processors (hardware threads).
    pub threads: u32,
    pub mhz: Option<f64>,
    pub max_mhz: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MemoryFacts {
    pub total_bytes: u64,
    pub available_bytes: Option<u64>,
    pub swap_total_bytes: u64,
    pub swap_free_bytes: u64,
    pub hugepages_total: Option<u64>,
    pub hugepages_free: Option<u64>,
    pub hugepage_size_bytes: Option<u64>,
}

/// A whole block device (not a partition).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DiskFacts {
    pub name: String,
    pub size_bytes: Option<u64>,
    pub model: Option<String>,
    /// `Some(true)` for spinning disks; virtual disks often claim to rotate.
    pub rotational: Option<bool>,
    /// The active I/O scheduler, e.g. `mq-deadline`, `none`.
    pub scheduler: Option<String>,
    pub read_ahead_kb: Option<u64>,
}

/// A mounted local filesystem.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FilesystemFacts {
    pub mount_point: String,
    pub device: String,
    pub fs_type: String,
    pub options: Vec<String>,
    pub size_bytes: Option<u64>,
    pub free_bytes: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct InterfaceFacts {
    pub name: String,
    pub mtu: Option<u32>,
    /// Link speed; `None` when the driver does not say (virtual interfaces).
    pub speed_mbps: Option<u64>,
    pub operstate: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Virtualization {
    /// `bare-metal`, or the hypervisor (`kvm`, `vmware`, `hyper-v`, `xen`, ...); `None`
    /// when it cannot be told.
    pub hypervisor: Option<String>,
    /// The container runtime when the probe runs inside one (`docker`, `lxc`, ...).
    pub container: Option<String>,
    /// DMI product name, e.g. "Standard PC (Q35 + ICH9, 2009)".
    pub product: Option<String>,
}
