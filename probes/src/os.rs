//! The `os` probe: kernel parameters that matter to databases (sysctls, transparent
//! huge pages, CPU governors, NUMA), the limits database servers run with, and time
//! synchronisation.

use std::collections::BTreeMap;

use perfdiag_model::facts::{NumaNode, OsFacts, ProcessLimits, ThpFacts, TimeSync};

use crate::host::parse_bracketed;
use crate::procfs::{self, limits, meminfo, pid};
use crate::record::{self, Notes};
use crate::{Collected, ProbeError, Root, sys, sysfs};

pub const ID: &str = "os";

/// The sysctls read, dotted names. Absent ones (older kernels) are simply left out.
pub const SYSCTLS: &[&str] = &[
    "vm.swappiness",
    "vm.dirty_ratio",
    "vm.dirty_background_ratio",
    "vm.dirty_bytes",
    "vm.dirty_background_bytes",
    "vm.dirty_expire_centisecs",
    "vm.dirty_writeback_centisecs",
    "vm.overcommit_memory",
    "vm.overcommit_ratio",
    "vm.zone_reclaim_mode",
    "vm.min_free_kbytes",
    "vm.nr_hugepages",
    "vm.max_map_count",
    "kernel.shmmax",
    "kernel.shmall",
    "kernel.shmmni",
    "kernel.sem",
    "kernel.numa_balancing",
    "kernel.sched_autogroup_enabled",
    "fs.file-max",
    "fs.file-nr",
    "fs.aio-max-nr",
    "fs.aio-nr",
    "net.core.somaxconn",
    "net.core.netdev_max_backlog",
    "net.core.rmem_max",
    "net.core.wmem_max",
    "net.ipv4.tcp_max_syn_backlog",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_tw_reuse",
    "net.ipv4.tcp_syncookies",
];

/// Database server executables, by `comm`, with the engine they belong to.
fn db_engine(comm: &str) -> Option<&'static str> {
    match comm {
        "postgres" | "postmaster" => Some("postgres"),
        "mysqld" | "mariadbd" => Some("mysql"),
        "sqlservr" => Some("sqlserver"),
        "tnslsnr" => Some("oracle"),
        c if c.starts_with("ora_pmon_") => Some("oracle"),
        _ => None,
    }
}

/// Time daemons, by `comm` (truncated by the kernel to 15 bytes).
const TIME_DAEMONS: &[(&str, &str)] = &[
    ("chronyd", "chronyd"),
    ("ntpd", "ntpd"),
    ("systemd-timesyn", "systemd-timesyncd"),
    ("ptp4l", "ptp4l"),
];

pub fn probe(root: &Root) -> Collected<OsFacts> {
    record::collect(ID, |notes| {
        if !cfg!(target_os = "linux") {
            return Err(ProbeError::Unsupported(
                "OS parameters (no /proc/sys)".into(),
            ));
        }
        let procs = scan_processes(root, notes);
        let mut time_sync = TimeSync {
            daemon: TIME_DAEMONS
                .iter()
                .find(|(comm, _)| procs.iter().any(|p| p.comm == *comm))
                .map(|(_, name)| (*name).to_owned()),
            ..TimeSync::default()
        };
        // adjtimex asks the running kernel, so only for the live system.
        if root.is_system()
            && let Some((synced, max_error)) = sys::kernel_time_sync()
        {
            time_sync.synchronized = Some(synced);
            time_sync.max_error_us = Some(max_error);
        }
        Ok(OsFacts {
            sysctls: sysctls(root, notes),
            transparent_hugepages: thp(root, notes),
            cpu_governors: governors(root),
            numa_nodes: numa_nodes(root),
            db_processes: db_processes(root, &procs),
            time_sync,
        })
    })
}

/// Collapses runs of whitespace (tabs in `kernel.sem`, `ip_local_port_range`) to one
/// space, so values compare as text.
pub fn normalise_whitespace(s: &str) -> String {
    s.split_ascii_whitespace().collect::<Vec<_>>().join(" ")
}

fn sysctls(root: &Root, notes: &mut Notes) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for name in SYSCTLS {
        let rel = format!("proc/sys/{}", name.replace('.', "/"));
        match procfs::read(root, &rel) {
            Ok(v) => {
                out.insert((*name).to_owned(), normalise_whitespace(&v));
            }
            Err(e) if e.is_not_found() => {}
            Err(e) => notes.missing_err(name, &e),
        }
    }
    if out.is_empty() {
        notes.missing("proc/sys");
    }
    out
}

fn thp(root: &Root, notes: &mut Notes) -> Option<ThpFacts> {
    let base = "sys/kernel/mm/transparent_hugepage";
    let enabled = match procfs::read(root, &format!("{base}/enabled")) {
        Ok(s) => parse_bracketed(&s)?,
        // Kernels built without THP have no such directory: nothing is missing.
        Err(e) if e.is_not_found() => return None,
        Err(e) => {
            notes.missing_err("transparent_hugepage/enabled", &e);
            return None;
        }
    };
    let defrag = procfs::read(root, &format!("{base}/defrag"))
        .ok()
        .as_deref()
        .and_then(parse_bracketed);
    Some(ThpFacts { enabled, defrag })
}

fn governors(root: &Root) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    let cpus = sysfs::list_dir(root, "sys/devices/system/cpu").unwrap_or_default();
    for cpu in cpus.iter().filter(|c| is_numbered(c, "cpu")) {
        let rel = format!("sys/devices/system/cpu/{cpu}/cpufreq/scaling_governor");
        if let Ok(g) = procfs::read_trimmed(root, &rel) {
            *out.entry(g).or_insert(0) += 1;
        }
    }
    out
}

fn is_numbered(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn numa_nodes(root: &Root) -> Vec<NumaNode> {
    let base = "sys/devices/system/node";
    let mut nodes: Vec<NumaNode> = sysfs::list_dir(root, base)
        .unwrap_or_default()
        .iter()
        .filter(|n| is_numbered(n, "node"))
        .filter_map(|n| {
            let id = n.strip_prefix("node")?.parse().ok()?;
            Some(NumaNode {
                id,
                cpus: procfs::read_trimmed(root, &format!("{base}/{n}/cpulist"))
                    .unwrap_or_default(),
                mem_total_bytes: procfs::read(root, &format!("{base}/{n}/meminfo"))
                    .ok()
                    .and_then(|m| meminfo::parse_meminfo(&m).ok())
                    .and_then(|m| m.total),
            })
        })
        .collect();
    nodes.sort_by_key(|n| n.id);
    nodes
}

/// A running process as seen through `/proc/[pid]/stat`.
struct Proc {
    pid: u32,
    ppid: u32,
    comm: String,
}

fn scan_processes(root: &Root, notes: &mut Notes) -> Vec<Proc> {
    let pids = match sysfs::list_dir(root, "proc") {
        Ok(p) => p,
        Err(e) => {
            notes.missing_err("proc", &e);
            return Vec::new();
        }
    };
    pids.iter()
        .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
        // Processes exit while we scan: a vanished one is simply not listed.
        .filter_map(|p| procfs::read(root, &format!("proc/{p}/stat")).ok())
        .filter_map(|s| pid::parse_pid_stat(&s).ok())
        .map(|s| Proc {
            pid: s.pid,
            ppid: s.ppid,
            comm: s.comm,
        })
        .collect()
}

/// The main process of each database engine: one whose parent is not a process of the
/// same engine (postgres backends are children of the postmaster).
fn db_processes(root: &Root, procs: &[Proc]) -> Vec<ProcessLimits> {
    let engine_of = |pid: u32| {
        procs
            .iter()
            .find(|p| p.pid == pid)
            .and_then(|p| db_engine(&p.comm))
    };
    procs
        .iter()
        .filter(|p| {
            let Some(engine) = db_engine(&p.comm) else {
                return false;
            };
            engine_of(p.ppid) != Some(engine)
        })
        .map(|p| {
            let limits = procfs::read(root, &format!("proc/{}/limits", p.pid))
                .ok()
                .and_then(|l| limits::parse_limits(&l).ok())
                .unwrap_or_default();
            ProcessLimits {
                pid: p.pid,
                name: p.comm.clone(),
                nofile_soft: limits.open_files.and_then(|l| l.soft),
                nofile_hard: limits.open_files.and_then(|l| l.hard),
                nproc_soft: limits.processes.and_then(|l| l.soft),
                memlock_soft: limits.locked_memory.and_then(|l| l.soft),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace() {
        assert_eq!(
            normalise_whitespace("32000\t1024000000\t500\t32000\n"),
            "32000 1024000000 500 32000"
        );
        assert_eq!(normalise_whitespace("60\n"), "60");
    }

    #[test]
    fn engines() {
        assert_eq!(db_engine("postmaster"), Some("postgres"));
        assert_eq!(db_engine("mariadbd"), Some("mysql"));
        assert_eq!(db_engine("ora_pmon_orcl"), Some("oracle"));
        assert_eq!(db_engine("bash"), None);
        assert!(is_numbered("cpu12", "cpu"));
        assert!(!is_numbered("cpufreq", "cpu"));
        assert!(!is_numbered("cpu", "cpu"));
    }
}
