//! Top processes over the collection window: the union of the busiest by CPU and the
//! largest by resident memory. Only the executable name is kept, never the command
//! line (command lines can hold passwords).

use std::collections::HashMap;
use std::time::Instant;

use perfdiag_model::{ProbeRecord, ProbeStatus, Table, col};

use crate::procfs::{self, loadavg, pid};
use crate::{Root, sys, sysfs};

pub const ID: &str = "processes";

/// Remembers every process's CPU time at the start of the window.
#[derive(Debug)]
pub struct ProcessTracker {
    root: Root,
    started: Instant,
    /// Uptime at the start, in clock ticks: a process that started later is new.
    start_uptime_ticks: Option<u64>,
    /// pid -> (start time, cpu ticks); the start time tells a reused pid apart.
    first: HashMap<u32, (u64, u64)>,
    clk_tck: u64,
    page_size: u64,
    error: Option<String>,
}

/// One row of the `processes` table.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessRow {
    pub pid: u32,
    pub name: String,
    pub uid: Option<u32>,
    pub cpu_pct: f64,
    pub rss_bytes: u64,
    pub threads: u64,
}

impl ProcessTracker {
    /// First reading of `/proc/[pid]/stat`.
    pub fn start(root: &Root) -> ProcessTracker {
        let clk_tck = sys::clock_ticks();
        let (stats, error) = if cfg!(target_os = "linux") {
            match read_stats(root) {
                Ok(s) => (s, None),
                Err(e) => (Vec::new(), Some(e)),
            }
        } else {
            (
                Vec::new(),
                Some("unsupported here: process list".to_owned()),
            )
        };
        let start_uptime_ticks = procfs::read(root, "proc/uptime")
            .ok()
            .and_then(|t| loadavg::parse_uptime(&t).ok())
            .map(|secs| (secs * clk_tck as f64) as u64);
        ProcessTracker {
            root: root.clone(),
            started: Instant::now(),
            start_uptime_ticks,
            first: stats
                .into_iter()
                .map(|s| (s.pid, (s.start_ticks, s.cpu_ticks)))
                .collect(),
            clk_tck,
            page_size: sys::page_size(),
            error,
        }
    }

    /// Second reading, and the `processes` table of the union of the top `top_n` by CPU
    /// and the top `top_n` by RSS, sorted by CPU descending.
    pub fn finish(self, top_n: usize) -> (Option<Table>, ProbeRecord) {
        let elapsed = self.started.elapsed().as_secs_f64();
        let record = |status, message: Option<String>| ProbeRecord {
            target: None,
            id: ID.to_owned(),
            status,
            duration_ms: crate::record::elapsed_ms(self.started),
            message,
            hint: None,
        };
        if let Some(e) = &self.error {
            let status = if e.starts_with("unsupported here") {
                ProbeStatus::Skipped
            } else {
                ProbeStatus::Failed
            };
            return (None, record(status, Some(e.clone())));
        }
        let last = match read_stats(&self.root) {
            Ok(s) => s,
            Err(e) => return (None, record(ProbeStatus::Failed, Some(e))),
        };
        let mut rows = top_rows(
            &self.first,
            self.start_uptime_ticks,
            &last,
            Params {
                elapsed_secs: elapsed,
                clk_tck: self.clk_tck,
                page_size: self.page_size,
            },
            top_n,
        );
        // Owners only for the rows kept: one more file per row, not per process.
        for row in &mut rows {
            row.uid = procfs::read(&self.root, &format!("proc/{}/status", row.pid))
                .ok()
                .and_then(|s| pid::parse_status_uid(&s).ok());
        }
        (Some(rows_table(&rows)), record(ProbeStatus::Ok, None))
    }
}

/// Constants of the computation, apart so tests can fix them.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    pub elapsed_secs: f64,
    pub clk_tck: u64,
    pub page_size: u64,
}

/// Pure core of [`ProcessTracker::finish`]: CPU over the window per process, then the
/// union of the top `top_n` by CPU and by RSS, sorted by CPU descending.
///
/// A process present at both readings (same pid and start time) is charged its delta;
/// one that started after the first reading its whole CPU time; any other (started
/// before but missed) is dropped, as are those that exited.
pub fn top_rows(
    first: &HashMap<u32, (u64, u64)>,
    start_uptime_ticks: Option<u64>,
    last: &[pid::PidStat],
    p: Params,
    top_n: usize,
) -> Vec<ProcessRow> {
    let mut rows: Vec<ProcessRow> = last
        .iter()
        .filter_map(|s| {
            let ticks = match first.get(&s.pid) {
                Some(&(start, ticks)) if start == s.start_ticks => {
                    s.cpu_ticks.checked_sub(ticks)?
                }
                _ if start_uptime_ticks.is_some_and(|u| s.start_ticks >= u) => s.cpu_ticks,
                _ => return None,
            };
            let cpu_pct = if p.elapsed_secs > 0.0 && p.clk_tck > 0 {
                ticks as f64 / p.clk_tck as f64 / p.elapsed_secs * 100.0
            } else {
                0.0
            };
            Some(ProcessRow {
                pid: s.pid,
                name: s.comm.clone(),
                uid: None,
                cpu_pct,
                rss_bytes: s.rss_pages.saturating_mul(p.page_size),
                threads: s.threads,
            })
        })
        .collect();
    let mut keep = vec![false; rows.len()];
    let mut order: Vec<usize> = (0..rows.len()).collect();
    order.sort_by(|&a, &b| rows[b].cpu_pct.total_cmp(&rows[a].cpu_pct));
    order.iter().take(top_n).for_each(|&i| keep[i] = true);
    order.sort_by(|&a, &b| rows[b].rss_bytes.cmp(&rows[a].rss_bytes));
    order.iter().take(top_n).for_each(|&i| keep[i] = true);
    let mut kept = keep.iter();
    rows.retain(|_| kept.next().copied().unwrap_or(false));
    rows.sort_by(|a, b| b.cpu_pct.total_cmp(&a.cpu_pct).then(a.pid.cmp(&b.pid)));
    rows
}

fn rows_table(rows: &[ProcessRow]) -> Table {
    Table::new()
        .with("pid", col::i64(rows.iter().map(|r| Some(i64::from(r.pid)))))
        .with(
            "name",
            col::utf8(rows.iter().map(|r| Some(r.name.as_str()))),
        )
        .with("uid", col::i64(rows.iter().map(|r| r.uid.map(i64::from))))
        .with("cpu_pct", col::f64(rows.iter().map(|r| Some(r.cpu_pct))))
        .with(
            "rss_bytes",
            col::i64(
                rows.iter()
                    .map(|r| Some(i64::try_from(r.rss_bytes).unwrap_or(i64::MAX))),
            ),
        )
        .with(
            "threads",
            col::i64(
                rows.iter()
                    .map(|r| Some(i64::try_from(r.threads).unwrap_or(i64::MAX))),
            ),
        )
}

/// Every process's stat; ones that exit during the scan are skipped.
fn read_stats(root: &Root) -> Result<Vec<pid::PidStat>, String> {
    let names = sysfs::list_dir(root, "proc").map_err(|e| e.to_string())?;
    Ok(names
        .iter()
        .filter(|n| n.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|n| procfs::read(root, &format!("proc/{n}/stat")).ok())
        .filter_map(|s| pid::parse_pid_stat(&s).ok())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ps(pid: u32, start: u64, ticks: u64, rss_pages: u64) -> pid::PidStat {
        pid::PidStat {
            pid,
            comm: format!("p{pid}"),
            ppid: 1,
            cpu_ticks: ticks,
            threads: 1,
            start_ticks: start,
            rss_pages,
        }
    }

    #[test]
    fn deltas_new_exited_and_reused() {
        let first: HashMap<u32, (u64, u64)> =
            [(1, (10, 100)), (2, (20, 50)), (3, (30, 0)), (4, (40, 7))].into();
        let last = [
            ps(1, 10, 300, 10),  // 200 ticks over 2 s at 100 Hz: 100%
            ps(2, 20, 60, 1000), // 10 ticks: 5%, but biggest RSS
            ps(4, 41, 9, 1),     // pid reused, started before the window?: 41 < 500 → dropped
            ps(5, 600, 20, 1),   // new after the start: 20 ticks = 10%
        ];
        let p = Params {
            elapsed_secs: 2.0,
            clk_tck: 100,
            page_size: 4096,
        };
        let rows = top_rows(&first, Some(500), &last, p, 10);
        let got: Vec<(u32, f64)> = rows.iter().map(|r| (r.pid, r.cpu_pct)).collect();
        assert_eq!(got, [(1, 100.0), (5, 10.0), (2, 5.0)]);
        assert_eq!(rows[2].rss_bytes, 1000 * 4096);

        // top 1 by cpu (pid 1) ∪ top 1 by rss (pid 2)
        let rows = top_rows(&first, Some(500), &last, p, 1);
        let pids: Vec<u32> = rows.iter().map(|r| r.pid).collect();
        assert_eq!(pids, [1, 2]);
    }
}
