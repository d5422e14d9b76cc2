//! Operating system parameters that matter to databases (facts document `os`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OsFacts {
    /// Sysctl name (dotted, e.g. `vm.swappiness`) to its raw value; only those read.
    pub sysctls: BTreeMap<String, String>,
    pub transparent_hugepages: Option<ThpFacts>,
    /// CPU frequency governors in use, with how many CPUs use each.
    pub cpu_governors: BTreeMap<String, u32>,
    pub numa_nodes: Vec<NumaNode>,
    /// Resource limits of database server processes found running.
    pub db_processes: Vec<ProcessLimits>,
    pub time_sync: TimeSync,
}

impl OsFacts {
    /// A sysctl parsed as an integer (the first field for multi-value sysctls).
    pub fn sysctl_i64(&self, name: &str) -> Option<i64> {
        self.sysctls
            .get(name)?
            .split_whitespace()
            .next()?
            .parse()
            .ok()
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThpFacts {
    /// The selected mode: `always`, `madvise` or `never`.
    pub enabled: String,
    pub defrag: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NumaNode {
    pub id: u32,
    /// CPU list as the kernel prints it, e.g. `0-15,32-47`.
    pub cpus: String,
    pub mem_total_bytes: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessLimits {
    pub pid: u32,
    pub name: String,
    /// Max open files, soft limit; `None` is unlimited or unreadable.
    pub nofile_soft: Option<u64>,
    pub nofile_hard: Option<u64>,
    pub nproc_soft: Option<u64>,
    pub memlock_soft: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeSync {
    /// What the kernel says (adjtimex): `Some(false)` when the clock is unsynchronised.
    pub synchronized: Option<bool>,
    /// The time daemon found running, if any (`chronyd`, `ntpd`, `systemd-timesyncd`).
    pub daemon: Option<String>,
    /// Estimated error of the clock, in microseconds (kernel's maxerror).
    pub max_error_us: Option<i64>,
}
