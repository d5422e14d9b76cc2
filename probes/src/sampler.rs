//! The resource sampler: reads host counters every interval and turns the deltas
//! between consecutive readings into the `host_cpu`, `host_system`, `host_disk` and
//! `host_net` tables.
//!
//! It runs every second for hours on production servers, so a tick reads each file
//! into a reused buffer through precomputed paths and only parses; rates divide by the
//! real time between readings (monotonic clock), not the nominal interval.

use std::collections::HashSet;
use std::io::Read;
use std::path::PathBuf;
use std::time::Instant;

use perfdiag_model::{ProbeRecord, ProbeStatus, Table, col, tables};

use crate::procfs::diskstats::{self, DiskStat};
use crate::procfs::loadavg::{self, Loadavg};
use crate::procfs::meminfo::{self, Meminfo};
use crate::procfs::netdev::{self, NetDev};
use crate::procfs::snmp::{self, Tcp};
use crate::procfs::stat::{self, Stat};
use crate::procfs::vmstat::{self, Vmstat};
use crate::{ProbeError, Root, sysfs};

pub const ID: &str = "sampler";

/// Bytes per sector in /proc/diskstats, whatever the device's own sector size.
const SECTOR_BYTES: f64 = 512.0;

/// Samples host counters; see the module doc.
#[derive(Debug)]
pub struct Sampler {
    root: Root,
    files: Files,
    buf: String,
    disks: DiskFilter,
    prev: Reading,
    ticks: usize,
    failed_ticks: usize,
    last_error: Option<String>,
    /// Sources that could not be read at least once; their columns are null then.
    missing: Vec<&'static str>,
    cpu: CpuCols,
    system: SystemCols,
    disk: DiskCols,
    net: NetCols,
    started: Instant,
}

/// One reading of every source; optional sources are `None` when unreadable.
#[derive(Debug)]
struct Reading {
    at: Instant,
    ts_us: i64,
    stat: Stat,
    load: Option<Loadavg>,
    mem: Option<Meminfo>,
    vm: Option<Vmstat>,
    disks: Vec<DiskStat>,
    nets: Vec<NetDev>,
    tcp: Option<Tcp>,
}

#[derive(Debug)]
struct Files {
    stat: PathBuf,
    loadavg: PathBuf,
    meminfo: PathBuf,
    vmstat: PathBuf,
    diskstats: PathBuf,
    netdev: PathBuf,
    snmp: PathBuf,
}

/// Which diskstats names are whole disks. /sys/block is listed again only when
/// diskstats shows a name never seen, so partitions do not cost a directory read
/// every tick, and a disk added mid-window is still picked up.
#[derive(Debug, Default)]
struct DiskFilter {
    whole: HashSet<String>,
    other: HashSet<String>,
}

impl DiskFilter {
    fn refresh(&mut self, root: &Root) -> Result<(), ProbeError> {
        self.whole = sysfs::whole_disks(root)?.into_iter().collect();
        self.other.clear();
        Ok(())
    }

    fn keep(&mut self, root: &Root, name: &str) -> bool {
        if !self.whole.contains(name) && !self.other.contains(name) {
            // Unknown: list again; on failure keep the old view.
            let _ = self.refresh(root);
            if !self.whole.contains(name) {
                self.other.insert(name.to_owned());
            }
        }
        self.whole.contains(name)
    }
}

impl Sampler {
    /// Takes the first reading, which only sets the starting counters.
    pub fn start(root: &Root) -> Result<Sampler, ProbeError> {
        if !cfg!(target_os = "linux") {
            return Err(ProbeError::Unsupported("host sampling (no /proc)".into()));
        }
        let files = Files {
            stat: root.path("proc/stat"),
            loadavg: root.path("proc/loadavg"),
            meminfo: root.path("proc/meminfo"),
            vmstat: root.path("proc/vmstat"),
            diskstats: root.path("proc/diskstats"),
            netdev: root.path("proc/net/dev"),
            snmp: root.path("proc/net/snmp"),
        };
        let mut disks = DiskFilter::default();
        let mut missing = Vec::new();
        if disks.refresh(root).is_err() {
            missing.push("sys/block");
        }
        let mut buf = String::with_capacity(16 * 1024);
        let prev = read_all(root, &files, &mut buf, &mut disks, &mut missing)?;
        Ok(Sampler {
            root: root.clone(),
            files,
            buf,
            disks,
            started: prev.at,
            prev,
            ticks: 0,
            failed_ticks: 0,
            last_error: None,
            missing,
            cpu: CpuCols::default(),
            system: SystemCols::default(),
            disk: DiskCols::default(),
            net: NetCols::default(),
        })
    }

    /// Takes one more reading and appends one row per entity, with rates against the
    /// previous reading. On error no rows are added and the next tick compares with
    /// the last good reading.
    pub fn tick(&mut self) -> Result<(), ProbeError> {
        match read_all(
            &self.root,
            &self.files,
            &mut self.buf,
            &mut self.disks,
            &mut self.missing,
        ) {
            Ok(reading) => {
                self.append(&reading);
                self.prev = reading;
                self.ticks += 1;
                Ok(())
            }
            Err(e) => {
                self.failed_ticks += 1;
                self.last_error = Some(e.to_string());
                Err(e)
            }
        }
    }

    /// Readings taken after the first one that produced rows.
    pub fn ticks(&self) -> usize {
        self.ticks
    }

    /// The four tables and the sampler's record.
    pub fn finish(self) -> (Vec<(&'static str, Table)>, ProbeRecord) {
        let mut problems = Vec::new();
        if !self.missing.is_empty() {
            problems.push(format!("missing: {}", self.missing.join(", ")));
        }
        if self.failed_ticks > 0 {
            problems.push(format!(
                "{} readings failed, last: {}",
                self.failed_ticks,
                self.last_error.as_deref().unwrap_or("?")
            ));
        }
        if self.ticks == 0 {
            problems.push("no interval completed (one reading only)".to_owned());
        }
        let record = ProbeRecord {
            target: None,
            id: ID.to_owned(),
            status: if problems.is_empty() {
                ProbeStatus::Ok
            } else {
                ProbeStatus::Partial
            },
            duration_ms: crate::record::elapsed_ms(self.started),
            message: (!problems.is_empty()).then(|| problems.join("; ")),
            hint: None,
        };
        let tables = vec![
            (tables::HOST_CPU, self.cpu.into_table()),
            (tables::HOST_SYSTEM, self.system.into_table()),
            (tables::HOST_DISK, self.disk.into_table()),
            (tables::HOST_NET, self.net.into_table()),
        ];
        (tables, record)
    }

    fn append(&mut self, cur: &Reading) {
        let prev = &self.prev;
        let secs = cur.at.saturating_duration_since(prev.at).as_secs_f64();
        let ts = Some(cur.ts_us);

        for (i, line) in cur.stat.cpus.iter().enumerate() {
            // Same position first: the CPU list rarely changes.
            let old = prev
                .stat
                .cpus
                .get(i)
                .filter(|o| o.cpu == line.cpu)
                .or_else(|| prev.stat.cpus.iter().find(|o| o.cpu == line.cpu));
            let Some(old) = old else { continue };
            self.cpu.ts.push(ts);
            self.cpu.cpu.push(Some(match line.cpu {
                None => "all".to_owned(),
                Some(n) => format!("cpu{n}"),
            }));
            let pcts = cpu_pcts(&old.times.fields(), &line.times.fields());
            for (col, v) in self.cpu.pct.iter_mut().zip(pcts) {
                col.push(v);
            }
        }

        let s = &mut self.system;
        s.ts.push(ts);
        s.load1.push(cur.load.map(|l| l.load1));
        s.load5.push(cur.load.map(|l| l.load5));
        s.load15.push(cur.load.map(|l| l.load15));
        s.procs_running.push(cur.stat.procs_running.map(to_i64));
        s.procs_blocked.push(cur.stat.procs_blocked.map(to_i64));
        s.ctx.push(rate_opt(cur.stat.ctxt, prev.stat.ctxt, secs));
        s.intr.push(rate_opt(cur.stat.intr, prev.stat.intr, secs));
        s.forks
            .push(rate_opt(cur.stat.processes, prev.stat.processes, secs));
        let mem = |f: fn(&Meminfo) -> Option<u64>| cur.mem.as_ref().and_then(f).map(to_i64);
        s.mem_total.push(mem(|m| m.total));
        s.mem_available.push(mem(|m| m.available));
        s.mem_free.push(mem(|m| m.free));
        s.mem_cached.push(mem(|m| m.cached));
        s.mem_buffers.push(mem(|m| m.buffers));
        s.mem_dirty.push(mem(|m| m.dirty));
        s.swap_total.push(mem(|m| m.swap_total));
        s.swap_free.push(mem(|m| m.swap_free));
        let vm = |f: fn(&Vmstat) -> Option<u64>| {
            rate_opt(
                cur.vm.as_ref().and_then(f),
                prev.vm.as_ref().and_then(f),
                secs,
            )
        };
        s.swap_in.push(vm(|v| v.pswpin));
        s.swap_out.push(vm(|v| v.pswpout));
        s.major_faults.push(vm(|v| v.pgmajfault));
        let tcp =
            |f: fn(&Tcp) -> u64| rate_opt(cur.tcp.as_ref().map(f), prev.tcp.as_ref().map(f), secs);
        s.tcp_out_segs.push(tcp(|t| t.counters.out_segs));
        s.tcp_retrans.push(tcp(|t| t.counters.retrans_segs));
        s.tcp_in_errs.push(tcp(|t| t.counters.in_errs));
        s.tcp_active_opens.push(tcp(|t| t.counters.active_opens));
        s.tcp_curr_estab.push(cur.tcp.map(|t| to_i64(t.curr_estab)));

        for (i, d) in cur.disks.iter().enumerate() {
            let old = prev
                .disks
                .get(i)
                .filter(|o| o.name == d.name)
                .or_else(|| prev.disks.iter().find(|o| o.name == d.name));
            // A disk that appeared mid-window only sets its starting counters now.
            let Some(old) = old else { continue };
            self.disk.push(ts, &d.name, disk_rates(old, d, secs));
        }

        for (i, n) in cur.nets.iter().enumerate() {
            let old = prev
                .nets
                .get(i)
                .filter(|o| o.name == n.name)
                .or_else(|| prev.nets.iter().find(|o| o.name == n.name));
            let Some(old) = old else { continue };
            self.net.push(ts, &n.name, net_rates(old, n, secs));
        }
    }

    #[cfg(test)]
    fn tick_at(&mut self, at: Instant) -> Result<(), ProbeError> {
        let mut reading = read_all(
            &self.root,
            &self.files,
            &mut self.buf,
            &mut self.disks,
            &mut self.missing,
        )?;
        reading.at = at;
        self.append(&reading);
        self.prev = reading;
        self.ticks += 1;
        Ok(())
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Per-second rate of a counter; `None` when it went backwards (wrap or reset) or no
/// time passed.
fn rate(new: u64, old: u64, secs: f64) -> Option<f64> {
    (new >= old && secs > 0.0).then(|| (new - old) as f64 / secs)
}

fn rate_opt(new: Option<u64>, old: Option<u64>, secs: f64) -> Option<f64> {
    rate(new?, old?, secs)
}

/// Shares of each CPU state over the interval. A CPU whose total went backwards (a
/// reset, hotplug) gives nulls; a single field going backwards (the kernel documents
/// that iowait may) counts as zero.
fn cpu_pcts(old: &[u64; 8], new: &[u64; 8]) -> [Option<f64>; 8] {
    let old_total: u64 = old.iter().sum();
    let new_total: u64 = new.iter().sum();
    if new_total <= old_total {
        return [None; 8];
    }
    let deltas: Vec<u64> = new
        .iter()
        .zip(old)
        .map(|(n, o)| n.saturating_sub(*o))
        .collect();
    let total: u64 = deltas.iter().sum();
    let mut out = [None; 8];
    for (slot, d) in out.iter_mut().zip(&deltas) {
        *slot = Some(*d as f64 * 100.0 / total as f64);
    }
    out
}

/// `[reads/s, writes/s, read B/s, write B/s, read await, write await, await, util %,
/// queue depth]`; all `None` when a counter went backwards.
fn disk_rates(old: &DiskStat, new: &DiskStat, secs: f64) -> [Option<f64>; 9] {
    let d = |n: u64, o: u64| n.checked_sub(o);
    let deltas = (|| {
        Some([
            d(new.reads, old.reads)?,
            d(new.writes, old.writes)?,
            d(new.read_sectors, old.read_sectors)?,
            d(new.write_sectors, old.write_sectors)?,
            d(new.read_ms, old.read_ms)?,
            d(new.write_ms, old.write_ms)?,
            d(new.io_ticks_ms, old.io_ticks_ms)?,
            d(new.weighted_ms, old.weighted_ms)?,
        ])
    })();
    let Some([dr, dw, drs, dws, drms, dwms, dticks, dweighted]) = deltas else {
        return [None; 9];
    };
    if secs <= 0.0 {
        return [None; 9];
    }
    let ms = secs * 1000.0;
    let per_io = |t: u64, n: u64| (n > 0).then(|| t as f64 / n as f64);
    [
        Some(dr as f64 / secs),
        Some(dw as f64 / secs),
        Some(drs as f64 * SECTOR_BYTES / secs),
        Some(dws as f64 * SECTOR_BYTES / secs),
        per_io(drms, dr),
        per_io(dwms, dw),
        per_io(drms + dwms, dr + dw),
        // io_ticks can run a little ahead of wall time; a device is at most 100% busy.
        Some((dticks as f64 * 100.0 / ms).min(100.0)),
        Some(dweighted as f64 / ms),
    ]
}

fn net_rates(old: &NetDev, new: &NetDev, secs: f64) -> [Option<f64>; 8] {
    [
        rate(new.rx_bytes, old.rx_bytes, secs),
        rate(new.tx_bytes, old.tx_bytes, secs),
        rate(new.rx_packets, old.rx_packets, secs),
        rate(new.tx_packets, old.tx_packets, secs),
        rate(new.rx_errors, old.rx_errors, secs),
        rate(new.tx_errors, old.tx_errors, secs),
        rate(new.rx_drops, old.rx_drops, secs),
        rate(new.tx_drops, old.tx_drops, secs),
    ]
}

/// Reads and parses an optional source; an unreadable or unparsable one is noted once
/// in `missing` and gives `None` (null columns), never a failed tick.
fn optional<T>(
    path: &PathBuf,
    name: &'static str,
    buf: &mut String,
    missing: &mut Vec<&'static str>,
    parse: fn(&str) -> Result<T, ProbeError>,
) -> Option<T> {
    let parsed = read_into(path, buf).and_then(parse).ok();
    if parsed.is_none() && !missing.contains(&name) {
        missing.push(name);
    }
    parsed
}

/// Reads a whole file into the reused buffer.
fn read_into<'b>(path: &PathBuf, buf: &'b mut String) -> Result<&'b str, ProbeError> {
    buf.clear();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_string(buf))
        .map_err(|source| ProbeError::Io {
            path: path.clone(),
            source,
        })?;
    Ok(buf.as_str())
}

/// One reading. `/proc/stat` is required (without it there is no CPU table); the other
/// sources are optional and noted in `missing` when unreadable.
fn read_all(
    root: &Root,
    files: &Files,
    buf: &mut String,
    disks: &mut DiskFilter,
    missing: &mut Vec<&'static str>,
) -> Result<Reading, ProbeError> {
    let at = Instant::now();
    let ts_us = chrono::Utc::now().timestamp_micros();
    let stat = stat::parse_stat(read_into(&files.stat, buf)?)?;
    let load = optional(
        &files.loadavg,
        "proc/loadavg",
        buf,
        missing,
        loadavg::parse_loadavg,
    );
    let mem = optional(
        &files.meminfo,
        "proc/meminfo",
        buf,
        missing,
        meminfo::parse_meminfo,
    );
    let vm = optional(
        &files.vmstat,
        "proc/vmstat",
        buf,
        missing,
        vmstat::parse_vmstat,
    );
    let mut disk_list = optional(
        &files.diskstats,
        "proc/diskstats",
        buf,
        missing,
        diskstats::parse_diskstats,
    )
    .unwrap_or_default();
    disk_list.retain(|d| disks.keep(root, &d.name));
    let mut nets = optional(
        &files.netdev,
        "proc/net/dev",
        buf,
        missing,
        netdev::parse_netdev,
    )
    .unwrap_or_default();
    nets.retain(|n| n.name != "lo");
    let tcp = optional(
        &files.snmp,
        "proc/net/snmp",
        buf,
        missing,
        snmp::parse_snmp_tcp,
    );
    Ok(Reading {
        at,
        ts_us,
        stat,
        load,
        mem,
        vm,
        disks: disk_list,
        nets,
        tcp,
    })
}

const CPU_PCT_COLS: [&str; 8] = [
    "user_pct",
    "nice_pct",
    "system_pct",
    "iowait_pct",
    "irq_pct",
    "softirq_pct",
    "steal_pct",
    "idle_pct",
];

#[derive(Debug, Default)]
struct CpuCols {
    ts: Vec<Option<i64>>,
    cpu: Vec<Option<String>>,
    pct: [Vec<Option<f64>>; 8],
}

impl CpuCols {
    fn into_table(self) -> Table {
        let mut t = Table::new()
            .with("ts", col::timestamp(self.ts))
            .with("cpu", col::utf8(self.cpu));
        for (name, values) in CPU_PCT_COLS.iter().zip(self.pct) {
            t = t.with(name, col::f64(values));
        }
        t
    }
}

#[derive(Debug, Default)]
struct SystemCols {
    ts: Vec<Option<i64>>,
    load1: Vec<Option<f64>>,
    load5: Vec<Option<f64>>,
    load15: Vec<Option<f64>>,
    procs_running: Vec<Option<i64>>,
    procs_blocked: Vec<Option<i64>>,
    ctx: Vec<Option<f64>>,
    intr: Vec<Option<f64>>,
    forks: Vec<Option<f64>>,
    mem_total: Vec<Option<i64>>,
    mem_available: Vec<Option<i64>>,
    mem_free: Vec<Option<i64>>,
    mem_cached: Vec<Option<i64>>,
    mem_buffers: Vec<Option<i64>>,
    mem_dirty: Vec<Option<i64>>,
    swap_total: Vec<Option<i64>>,
    swap_free: Vec<Option<i64>>,
    swap_in: Vec<Option<f64>>,
    swap_out: Vec<Option<f64>>,
    major_faults: Vec<Option<f64>>,
    tcp_out_segs: Vec<Option<f64>>,
    tcp_retrans: Vec<Option<f64>>,
    tcp_in_errs: Vec<Option<f64>>,
    tcp_active_opens: Vec<Option<f64>>,
    tcp_curr_estab: Vec<Option<i64>>,
}

impl SystemCols {
    fn into_table(self) -> Table {
        Table::new()
            .with("ts", col::timestamp(self.ts))
            .with("load1", col::f64(self.load1))
            .with("load5", col::f64(self.load5))
            .with("load15", col::f64(self.load15))
            .with("procs_running", col::i64(self.procs_running))
            .with("procs_blocked", col::i64(self.procs_blocked))
            .with("ctx_switches_per_s", col::f64(self.ctx))
            .with("interrupts_per_s", col::f64(self.intr))
            .with("forks_per_s", col::f64(self.forks))
            .with("mem_total_bytes", col::i64(self.mem_total))
            .with("mem_available_bytes", col::i64(self.mem_available))
            .with("mem_free_bytes", col::i64(self.mem_free))
            .with("mem_cached_bytes", col::i64(self.mem_cached))
            .with("mem_buffers_bytes", col::i64(self.mem_buffers))
            .with("mem_dirty_bytes", col::i64(self.mem_dirty))
            .with("swap_total_bytes", col::i64(self.swap_total))
            .with("swap_free_bytes", col::i64(self.swap_free))
            .with("swap_in_pages_per_s", col::f64(self.swap_in))
            .with("swap_out_pages_per_s", col::f64(self.swap_out))
            .with("major_faults_per_s", col::f64(self.major_faults))
            .with("tcp_out_segs_per_s", col::f64(self.tcp_out_segs))
            .with("tcp_retrans_segs_per_s", col::f64(self.tcp_retrans))
            .with("tcp_in_errs_per_s", col::f64(self.tcp_in_errs))
            .with("tcp_active_opens_per_s", col::f64(self.tcp_active_opens))
            .with("tcp_curr_estab", col::i64(self.tcp_curr_estab))
    }
}

const DISK_COLS: [&str; 9] = [
    "reads_per_s",
    "writes_per_s",
    "read_bytes_per_s",
    "write_bytes_per_s",
    "read_await_ms",
    "write_await_ms",
    "await_ms",
    "util_pct",
    "queue_depth",
];

#[derive(Debug, Default)]
struct DiskCols {
    ts: Vec<Option<i64>>,
    device: Vec<Option<String>>,
    values: [Vec<Option<f64>>; 9],
}

impl DiskCols {
    fn push(&mut self, ts: Option<i64>, device: &str, values: [Option<f64>; 9]) {
        self.ts.push(ts);
        self.device.push(Some(device.to_owned()));
        for (col, v) in self.values.iter_mut().zip(values) {
            col.push(v);
        }
    }

    fn into_table(self) -> Table {
        let mut t = Table::new()
            .with("ts", col::timestamp(self.ts))
            .with("device", col::utf8(self.device));
        for (name, values) in DISK_COLS.iter().zip(self.values) {
            t = t.with(name, col::f64(values));
        }
        t
    }
}

const NET_COLS: [&str; 8] = [
    "rx_bytes_per_s",
    "tx_bytes_per_s",
    "rx_packets_per_s",
    "tx_packets_per_s",
    "rx_errors_per_s",
    "tx_errors_per_s",
    "rx_drops_per_s",
    "tx_drops_per_s",
];

#[derive(Debug, Default)]
struct NetCols {
    ts: Vec<Option<i64>>,
    interface: Vec<Option<String>>,
    values: [Vec<Option<f64>>; 8],
}

impl NetCols {
    fn push(&mut self, ts: Option<i64>, interface: &str, values: [Option<f64>; 8]) {
        self.ts.push(ts);
        self.interface.push(Some(interface.to_owned()));
        for (col, v) in self.values.iter_mut().zip(values) {
            col.push(v);
        }
    }

    fn into_table(self) -> Table {
        let mut t = Table::new()
            .with("ts", col::timestamp(self.ts))
            .with("interface", col::utf8(self.interface));
        for (name, values) in NET_COLS.iter().zip(self.values) {
            t = t.with(name, col::f64(values));
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use perfdiag_model::ColumnData;

    use super::*;

    fn copy_tree(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            let dest = to.join(e.file_name());
            if e.file_type().unwrap().is_dir() {
                copy_tree(&e.path(), &dest);
            } else {
                std::fs::copy(e.path(), dest).unwrap();
            }
        }
    }

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
    }

    fn f64_col<'t>(t: &'t Table, name: &str) -> &'t [Option<f64>] {
        match t.column(name) {
            Some(ColumnData::Float64(v)) => v,
            other => panic!("{name}: {other:?}"),
        }
    }

    fn utf8_col<'t>(t: &'t Table, name: &str) -> &'t [Option<String>] {
        match t.column(name) {
            Some(ColumnData::Utf8(v)) => v,
            other => panic!("{name}: {other:?}"),
        }
    }

    fn table<'t>(tables: &'t [(&'static str, Table)], name: &str) -> &'t Table {
        &tables.iter().find(|(n, _)| *n == name).unwrap().1
    }

    #[test]
    fn exact_rates_over_injected_two_seconds() {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&fixture("many-disks"), dir.path());
        let root = Root::new(dir.path());
        let mut s = Sampler::start(&root).unwrap();

        // all: user +25, idle +75 → 25% / 75%; ctxt +2000, intr +500, forks +10.
        std::fs::write(
            dir.path().join("proc/stat"),
            "cpu  1025 0 500 8075 100 0 50 0 0 0\n\
cpu0 250 0 125 2000 25 0 12 0 0 0\n\
cpu1 250 0 125 2000 25 0 13 0 0 0\n\
cpu2 250 0 125 2000 25 0 12 0 0 0\n\
cpu3 200 0 125 2000 25 0 13 0 0 0\n\
intr 100500 0 0\nctxt 202000\nprocesses 5010\nprocs_running 4\nprocs_blocked 1\n",
        )
        .unwrap();
        std::fs::copy(
            fixture("many-disks-next/diskstats"),
            dir.path().join("proc/diskstats"),
        )
        .unwrap();
        let next = s.prev.at + Duration::from_secs(2);
        s.tick_at(next).unwrap();
        let (tables, record) = s.finish();
        assert_eq!(record.status, ProbeStatus::Ok, "{:?}", record.message);

        let cpu = table(&tables, tables::HOST_CPU);
        // cpu3's user went backwards (reset): its row is all nulls; cpu0-2 are idle-less
        // intervals with no jiffies at all: nulls too.
        assert_eq!(utf8_col(cpu, "cpu")[0].as_deref(), Some("all"));
        assert_eq!(f64_col(cpu, "user_pct")[0], Some(25.0));
        assert_eq!(f64_col(cpu, "idle_pct")[0], Some(75.0));
        assert_eq!(f64_col(cpu, "system_pct")[0], Some(0.0));
        assert_eq!(f64_col(cpu, "user_pct")[4], None);

        let sys = table(&tables, tables::HOST_SYSTEM);
        assert_eq!(sys.rows(), 1);
        assert_eq!(f64_col(sys, "ctx_switches_per_s")[0], Some(1000.0));
        assert_eq!(f64_col(sys, "interrupts_per_s")[0], Some(250.0));
        assert_eq!(f64_col(sys, "forks_per_s")[0], Some(5.0));
        assert_eq!(f64_col(sys, "load1")[0], Some(1.5));

        let disk = table(&tables, tables::HOST_DISK);
        let devices: Vec<&str> = utf8_col(disk, "device")
            .iter()
            .map(|d| d.as_deref().unwrap())
            .collect();
        // loop, ram and partitions excluded; sdh disappeared in the second reading.
        assert_eq!(
            devices,
            [
                "nvme0n1", "nvme1n1", "nvme2n1", "sda", "sdb", "sdc", "sdd", "sde", "sdf", "sdg",
                "dm-0"
            ]
        );
        let at = |c: &str, i: usize| f64_col(disk, c)[i];
        assert_eq!(at("reads_per_s", 0), Some(50.0));
        assert_eq!(at("writes_per_s", 0), Some(150.0));
        assert_eq!(at("read_bytes_per_s", 0), Some(800.0 * 512.0 / 2.0));
        assert_eq!(at("write_bytes_per_s", 0), Some(600.0 * 512.0 / 2.0));
        assert_eq!(at("read_await_ms", 0), Some(2.0));
        assert_eq!(at("write_await_ms", 0), Some(3.0));
        assert_eq!(at("await_ms", 0), Some(2.75));
        assert_eq!(at("util_pct", 0), Some(25.0));
        assert_eq!(at("queue_depth", 0), Some(0.5));
        // nvme1n1 did nothing: zero rates, await unknown (no I/O completed).
        assert_eq!(at("reads_per_s", 1), Some(0.0));
        assert_eq!(at("await_ms", 1), None);
        // sda went backwards: a reset, not a huge number.
        assert!(DISK_COLS.iter().all(|c| at(c, 3).is_none()));

        let net = table(&tables, tables::HOST_NET);
        assert_eq!(utf8_col(net, "interface"), [Some("eth0".to_owned())]);
        assert_eq!(f64_col(net, "rx_bytes_per_s")[0], Some(0.0));
    }

    #[test]
    fn device_appearing_mid_window() {
        let dir = tempfile::tempdir().unwrap();
        copy_tree(&fixture("no-swap"), dir.path());
        let root = Root::new(dir.path());
        let mut s = Sampler::start(&root).unwrap();
        std::fs::create_dir_all(dir.path().join("sys/block/sdb")).unwrap();
        let two = "   8 0 sda 1000 0 80000 2000 500 0 40000 1000 0 1500 3000\n   \
8 16 sdb 1 0 8 1 0 0 0 0 0 1 1\n";
        std::fs::write(dir.path().join("proc/diskstats"), two).unwrap();
        let t1 = s.prev.at + Duration::from_secs(1);
        s.tick_at(t1).unwrap();
        s.tick_at(t1 + Duration::from_secs(1)).unwrap();
        let (tables, _) = s.finish();
        let disk = table(&tables, tables::HOST_DISK);
        let devices: Vec<&str> = utf8_col(disk, "device")
            .iter()
            .map(|d| d.as_deref().unwrap())
            .collect();
        // sdb only sets its counters on the tick it appears.
        assert_eq!(devices, ["sda", "sda", "sdb"]);
    }

    #[test]
    fn rates_and_percentages() {
        assert_eq!(rate(10, 5, 0.5), Some(10.0));
        assert_eq!(rate(4, 5, 1.0), None);
        assert_eq!(rate(5, 5, 0.0), None);
        let p = cpu_pcts(&[0; 8], &[10, 0, 10, 0, 0, 0, 0, 20]);
        assert_eq!(p[0], Some(25.0));
        assert_eq!(p[7], Some(50.0));
        // iowait going back a little counts as zero, not a reset
        let p = cpu_pcts(&[0, 0, 0, 5, 0, 0, 0, 0], &[10, 0, 0, 4, 0, 0, 0, 10]);
        assert_eq!(p[3], Some(0.0));
        assert_eq!(p[0], Some(50.0));
        assert_eq!(cpu_pcts(&[5; 8], &[5; 8]), [None; 8]);
    }
}
