//! The numbers the host rules judge, computed once from the snapshot's tables.
//!
//! Every number is a [`Need`]: either a value or the reason it cannot be computed, so
//! that a rule tells "0" from "unknown". The same numbers feed the assessment's summary
//! metrics (see [`HostStats::summary`]).

use perfdiag_model::{Metric, Snapshot, Unit, Value, tables};
use polars::prelude::*;

use crate::error::AnalyzeError;
use crate::frames::{Frames, Missing, Need};

/// CPU busy share of an interval: what is neither idle, waiting for I/O nor stolen.
/// iowait is idle time (the CPU could run work); steal is judged by its own rule.
fn busy_pct() -> Expr {
    lit(100.0) - col("idle_pct") - col("iowait_pct") - col("steal_pct")
}

fn p95(e: Expr) -> Expr {
    e.quantile(lit(0.95), QuantileMethod::Linear)
}

/// Per-device disk numbers over the window.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceStats {
    pub device: String,
    /// Mean await over the intervals where the device completed I/O; `None` if it did none.
    pub await_ms_mean: Option<f64>,
    pub util_pct_p95: Option<f64>,
}

/// Per-interface network numbers over the window.
#[derive(Debug, Clone, PartialEq)]
pub struct InterfaceStats {
    pub interface: String,
    /// Mean of rx/tx errors + rx/tx drops per second.
    pub errors_per_s_mean: Option<f64>,
}

/// Everything the host rules need from the sampled tables.
#[derive(Debug, Clone, PartialEq)]
pub struct HostStats {
    pub cpu_busy_mean: Need<f64>,
    pub cpu_busy_p95: Need<f64>,
    pub cpu_iowait_mean: Need<f64>,
    pub cpu_steal_mean: Need<f64>,
    pub procs_running_mean: Need<f64>,
    pub mem_available_pct_min: Need<f64>,
    pub swap_pages_per_s_mean: Need<f64>,
    pub tcp_out_segs_per_s_mean: Need<f64>,
    /// Retransmitted / sent segments over the window, in %; missing when none were sent.
    pub tcp_retrans_pct: Need<f64>,
    pub disks: Need<Vec<DeviceStats>>,
    pub interfaces: Need<Vec<InterfaceStats>>,
}

impl HostStats {
    pub fn compute(snapshot: &Snapshot) -> Result<Self, AnalyzeError> {
        let frames = Frames::from_snapshot(
            snapshot,
            &[
                tables::HOST_CPU,
                tables::HOST_SYSTEM,
                tables::HOST_DISK,
                tables::HOST_NET,
            ],
        )?;
        let cpu = |cols: &[&str], e: Expr| {
            let all_cpus = col("cpu").eq(lit("all"));
            frames.scalar(tables::HOST_CPU, cols, &["cpu"], Some(all_cpus), e)
        };
        let busy_cols = ["idle_pct", "iowait_pct", "steal_pct"];
        let sys = |cols: &[&str], e: Expr| frames.scalar(tables::HOST_SYSTEM, cols, &[], None, e);

        let mem_cols = ["mem_available_bytes", "mem_total_bytes"];
        let mem_pct = (col("mem_available_bytes").cast(DataType::Float64)
            / col("mem_total_bytes").cast(DataType::Float64)
            * lit(100.0))
        .filter(col("mem_total_bytes").gt(lit(0)));

        let swap_cols = ["swap_in_pages_per_s", "swap_out_pages_per_s"];
        let swap = col("swap_in_pages_per_s") + col("swap_out_pages_per_s");

        let tcp_cols = ["tcp_out_segs_per_s", "tcp_retrans_segs_per_s"];
        let both = col("tcp_out_segs_per_s")
            .is_not_null()
            .and(col("tcp_retrans_segs_per_s").is_not_null());
        let out_sum = sys(
            &tcp_cols,
            col("tcp_out_segs_per_s").filter(both.clone()).sum(),
        )?;
        let retrans_sum = sys(&tcp_cols, col("tcp_retrans_segs_per_s").filter(both).sum())?;
        let tcp_retrans_pct = match (out_sum, retrans_sum) {
            (Ok(out), Ok(re)) if out > 0.0 => Ok(re / out * 100.0),
            (Ok(_), Ok(_)) => Err(Missing("TCP segments sent during the window".to_owned())),
            (Err(m), _) | (_, Err(m)) => Err(m),
        };

        Ok(Self {
            cpu_busy_mean: cpu(&busy_cols, busy_pct().mean())?,
            cpu_busy_p95: cpu(&busy_cols, p95(busy_pct()))?,
            cpu_iowait_mean: cpu(&["iowait_pct"], col("iowait_pct").mean())?,
            cpu_steal_mean: cpu(&["steal_pct"], col("steal_pct").mean())?,
            procs_running_mean: sys(&["procs_running"], col("procs_running").mean())?,
            mem_available_pct_min: sys(&mem_cols, mem_pct.min())?,
            swap_pages_per_s_mean: sys(&swap_cols, swap.mean())?,
            tcp_out_segs_per_s_mean: sys(
                &["tcp_out_segs_per_s"],
                col("tcp_out_segs_per_s").mean(),
            )?,
            tcp_retrans_pct,
            disks: disk_stats(&frames)?,
            interfaces: interface_stats(&frames)?,
        })
    }

    /// Summary numbers for the report, each only when it could be computed.
    pub fn summary(&self) -> Vec<Metric> {
        let worst = |v: &Need<Vec<f64>>| {
            v.as_ref()
                .ok()
                .and_then(|v| v.iter().copied().reduce(f64::max))
        };
        let disk_await = self
            .disks
            .as_ref()
            .map(|d| d.iter().filter_map(|d| d.await_ms_mean).collect())
            .map_err(Clone::clone);
        let disk_util = self
            .disks
            .as_ref()
            .map(|d| d.iter().filter_map(|d| d.util_pct_p95).collect())
            .map_err(Clone::clone);
        let net_errors = self
            .interfaces
            .as_ref()
            .map(|i| i.iter().filter_map(|i| i.errors_per_s_mean).collect())
            .map_err(Clone::clone);
        let candidates = [
            (
                "host_cpu.busy_pct.mean",
                self.cpu_busy_mean.as_ref().ok().copied(),
                Unit::Percent,
            ),
            (
                "host_cpu.busy_pct.p95",
                self.cpu_busy_p95.as_ref().ok().copied(),
                Unit::Percent,
            ),
            (
                "host_cpu.iowait_pct.mean",
                self.cpu_iowait_mean.as_ref().ok().copied(),
                Unit::Percent,
            ),
            (
                "host_cpu.steal_pct.mean",
                self.cpu_steal_mean.as_ref().ok().copied(),
                Unit::Percent,
            ),
            (
                "host_system.mem_available_pct.min",
                self.mem_available_pct_min.as_ref().ok().copied(),
                Unit::Percent,
            ),
            (
                "host_system.swap_pages_per_s.mean",
                self.swap_pages_per_s_mean.as_ref().ok().copied(),
                Unit::PagesPerSecond,
            ),
            (
                "host_disk.await_ms.worst",
                worst(&disk_await),
                Unit::Milliseconds,
            ),
            ("host_disk.util_pct.worst", worst(&disk_util), Unit::Percent),
            (
                "host_net.errors_per_s.worst",
                worst(&net_errors),
                Unit::PerSecond,
            ),
            (
                "host_system.tcp_retrans_pct",
                self.tcp_retrans_pct.as_ref().ok().copied(),
                Unit::Percent,
            ),
        ];
        candidates
            .into_iter()
            .filter_map(|(id, v, unit)| {
                v.map(|v| Metric {
                    id: id.to_owned(),
                    value: Value::number(v, unit),
                })
            })
            .collect()
    }
}

fn disk_stats(frames: &Frames) -> Result<Need<Vec<DeviceStats>>, AnalyzeError> {
    let rows = frames.per_group(
        tables::HOST_DISK,
        "device",
        &["await_ms", "util_pct"],
        vec![col("await_ms").mean(), p95(col("util_pct"))],
    )?;
    Ok(rows.map(|rows| {
        rows.into_iter()
            .map(|r| DeviceStats {
                device: r.key,
                await_ms_mean: r.values.first().copied().flatten(),
                util_pct_p95: r.values.get(1).copied().flatten(),
            })
            .collect()
    }))
}

fn interface_stats(frames: &Frames) -> Result<Need<Vec<InterfaceStats>>, AnalyzeError> {
    let cols = [
        "rx_errors_per_s",
        "tx_errors_per_s",
        "rx_drops_per_s",
        "tx_drops_per_s",
    ];
    let sum = col(cols[0]) + col(cols[1]) + col(cols[2]) + col(cols[3]);
    let rows = frames.per_group(tables::HOST_NET, "interface", &cols, vec![sum.mean()])?;
    Ok(rows.map(|rows| {
        rows.into_iter()
            .map(|r| InterfaceStats {
                interface: r.key,
                errors_per_s_mean: r.values.first().copied().flatten(),
            })
            .collect()
    }))
}
