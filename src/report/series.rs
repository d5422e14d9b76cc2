//! Time series for the charts, from the host samples (`host_cpu`, `host_system`,
//! `host_disk`, `host_net`) and the sampled database sessions (see [`db_time`]).
//!
//! Every line is thinned to at most [`MAX_POINTS`] points: a window of hours at 1 s
//! would otherwise put tens of thousands of numbers into the JSON, the SVGs and the
//! PDF, more than any page resolves. Thinning averages runs of consecutive samples
//! (each point is the mean of its run, at the run's mean time), so an area or a line
//! keeps its level; a spike shorter than a run is flattened into it.
//!
//! [`db_time`]: super::db_time

use perfdiag_model::{Snapshot, Table, tables};
use serde::Serialize;

use super::columns::{floats, ints, strings, timestamps};
use super::db_time::{self, DbTimeSeries};

/// Points of a line or an area at most.
pub const MAX_POINTS: usize = 300;
/// Network interfaces drawn at most: the busiest (a host with containers has dozens
/// of virtual interfaces).
pub const MAX_INTERFACES: usize = 4;

/// A named line: `(device or interface, [(t, value)])`.
pub type Line = (String, Vec<(f64, f64)>);

/// Time series for the charts; `t` is seconds since the window started.
#[derive(Debug, Default, Serialize)]
pub struct Series {
    pub cpu: Vec<CpuPoint>,
    pub mem_available_pct: Vec<(f64, f64)>,
    pub disk_util_pct: Vec<Line>,
    /// Mean time per I/O (queue + service), per device; a sample with no I/O
    /// completed has no point.
    pub disk_await_ms: Vec<Line>,
    /// Bytes received per second, per interface (the busiest few).
    pub net_rx_bytes_per_s: Vec<Line>,
    /// Bytes sent per second, the same interfaces in the same order.
    pub net_tx_bytes_per_s: Vec<Line>,
    /// Errors and drops per second (received and sent), per interface; only the
    /// interfaces that had any.
    pub net_errors_per_s: Vec<Line>,
    /// Average active sessions by wait class over the window, per database target.
    pub db_time: Vec<DbTimeSeries>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CpuPoint {
    pub t: f64,
    pub user: f64,
    pub system: f64,
    pub iowait: f64,
    pub steal: f64,
}

pub fn build(snapshot: &Snapshot) -> Series {
    let start = snapshot.manifest().window.started_at.timestamp_micros();
    let secs = |ts: i64| (ts - start) as f64 / 1e6;
    let mut out = Series::default();
    if let Some(t) = snapshot.table(tables::HOST_CPU) {
        out.cpu = cpu(t, &secs);
    }
    if let Some(t) = snapshot.table(tables::HOST_SYSTEM) {
        let ts = timestamps(t, "ts");
        let (avail, total) = (ints(t, "mem_available_bytes"), ints(t, "mem_total_bytes"));
        let points = (0..t.rows())
            .filter_map(|i| match (ts[i], avail[i], total[i]) {
                (Some(ts), Some(a), Some(tot)) if tot > 0 => {
                    Some((secs(ts), a as f64 * 100.0 / tot as f64))
                }
                _ => None,
            })
            .collect();
        out.mem_available_pct = thin(points);
    }
    if let Some(t) = snapshot.table(tables::HOST_DISK) {
        let util = floats(t, "util_pct");
        let wait = floats(t, "await_ms");
        out.disk_util_pct = lines(t, "device", &secs, |i| util[i]);
        out.disk_await_ms = lines(t, "device", &secs, |i| wait[i]);
    }
    if let Some(t) = snapshot.table(tables::HOST_NET) {
        let (rx, tx) = network(t, &secs);
        out.net_rx_bytes_per_s = rx;
        out.net_tx_bytes_per_s = tx;
        out.net_errors_per_s = net_errors(t, &secs);
    }
    out.db_time = db_time::build(snapshot);
    out
}

fn cpu(t: &Table, secs: &dyn Fn(i64) -> f64) -> Vec<CpuPoint> {
    let (ts, cpu) = (timestamps(t, "ts"), strings(t, "cpu"));
    let f = |name| floats(t, name);
    let (user, nice, system, irq, softirq, iowait, steal) = (
        f("user_pct"),
        f("nice_pct"),
        f("system_pct"),
        f("irq_pct"),
        f("softirq_pct"),
        f("iowait_pct"),
        f("steal_pct"),
    );
    let mut points: Vec<CpuPoint> = (0..t.rows())
        .filter(|&i| cpu[i].as_deref() == Some("all"))
        .filter_map(|i| {
            let v = |col: &[Option<f64>]| col[i].unwrap_or(0.0);
            Some(CpuPoint {
                t: secs(ts[i]?),
                user: v(&user) + v(&nice),
                system: v(&system) + v(&irq) + v(&softirq),
                iowait: v(&iowait),
                steal: v(&steal),
            })
        })
        .collect();
    points.sort_by(|a, b| a.t.total_cmp(&b.t));
    runs(points.len())
        .map(|r| {
            let run = &points[r];
            let mean = |f: fn(&CpuPoint) -> f64| run.iter().map(f).sum::<f64>() / run.len() as f64;
            CpuPoint {
                t: mean(|p| p.t),
                user: mean(|p| p.user),
                system: mean(|p| p.system),
                iowait: mean(|p| p.iowait),
                steal: mean(|p| p.steal),
            }
        })
        .collect()
}

/// One line per value of `key` (in the order they first appear) of the rows where
/// `value` is known, each thinned.
fn lines(
    t: &Table,
    key: &str,
    secs: &dyn Fn(i64) -> f64,
    value: impl Fn(usize) -> Option<f64>,
) -> Vec<Line> {
    let (ts, keys) = (timestamps(t, "ts"), strings(t, key));
    let mut out: Vec<Line> = Vec::new();
    for i in 0..t.rows() {
        let (Some(ts), Some(k), Some(v)) = (ts[i], keys[i].as_ref(), value(i)) else {
            continue;
        };
        if !v.is_finite() {
            continue;
        }
        match out.iter_mut().find(|(name, _)| name == k) {
            Some((_, points)) => points.push((secs(ts), v)),
            None => out.push((k.clone(), vec![(secs(ts), v)])),
        }
    }
    out.into_iter()
        .map(|(name, points)| (name, thin(points)))
        .collect()
}

/// Received and sent bytes per second of the busiest interfaces (most bytes over the
/// window first); an interface that moved nothing is left out.
fn network(t: &Table, secs: &dyn Fn(i64) -> f64) -> (Vec<Line>, Vec<Line>) {
    let (rx, tx) = (floats(t, "rx_bytes_per_s"), floats(t, "tx_bytes_per_s"));
    let rx_lines = lines(t, "interface", secs, |i| rx[i]);
    let tx_lines = lines(t, "interface", secs, |i| tx[i]);
    let total = |name: &str| -> f64 {
        [&rx_lines, &tx_lines]
            .iter()
            .flat_map(|ls| ls.iter().filter(|(n, _)| n == name))
            .flat_map(|(_, p)| p.iter().map(|(_, v)| v))
            .sum()
    };
    let mut names: Vec<(String, f64)> = rx_lines
        .iter()
        .chain(&tx_lines)
        .map(|(n, _)| n.clone())
        .fold(Vec::new(), |mut acc, n| {
            if !acc.contains(&n) {
                acc.push(n);
            }
            acc
        })
        .into_iter()
        .map(|n| {
            let bytes = total(&n);
            (n, bytes)
        })
        .filter(|(_, bytes)| *bytes > 0.0)
        .collect();
    names.sort_by(|a, b| b.1.total_cmp(&a.1));
    names.truncate(MAX_INTERFACES);
    let pick = |ls: &[Line]| -> Vec<Line> {
        names
            .iter()
            .map(|(n, _)| {
                ls.iter()
                    .find(|(name, _)| name == n)
                    .cloned()
                    .unwrap_or_else(|| (n.clone(), Vec::new()))
            })
            .collect()
    };
    (pick(&rx_lines), pick(&tx_lines))
}

/// Errors and drops (received and sent) per second of the interfaces that had any,
/// most first.
fn net_errors(t: &Table, secs: &dyn Fn(i64) -> f64) -> Vec<Line> {
    let cols = [
        floats(t, "rx_errors_per_s"),
        floats(t, "tx_errors_per_s"),
        floats(t, "rx_drops_per_s"),
        floats(t, "tx_drops_per_s"),
    ];
    let sum = |i: usize| -> Option<f64> {
        let known: Vec<f64> = cols.iter().filter_map(|c| c[i]).collect();
        (!known.is_empty()).then(|| known.iter().sum())
    };
    let mut out: Vec<(Line, f64)> = lines(t, "interface", secs, sum)
        .into_iter()
        .map(|line| {
            let peak = line.1.iter().map(|(_, v)| *v).fold(0.0, f64::max);
            (line, peak)
        })
        .filter(|(_, peak)| *peak > 0.0)
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out.into_iter()
        .take(MAX_INTERFACES)
        .map(|(line, _)| line)
        .collect()
}

/// The runs of consecutive samples that become one point each: `n` samples in at
/// most [`MAX_POINTS`] runs of equal length (the last may be shorter).
pub fn runs(n: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    let len = n.div_ceil(MAX_POINTS).max(1);
    (0..n).step_by(len).map(move |s| s..(s + len).min(n))
}

/// `points` in time order, thinned to at most [`MAX_POINTS`] run means.
pub fn thin(mut points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    points.sort_by(|a, b| a.0.total_cmp(&b.0));
    if points.len() <= MAX_POINTS {
        return points;
    }
    runs(points.len())
        .map(|r| {
            let run = &points[r];
            let n = run.len() as f64;
            (
                run.iter().map(|p| p.0).sum::<f64>() / n,
                run.iter().map(|p| p.1).sum::<f64>() / n,
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use perfdiag_model::{CollectionWindow, HostIdentity, col};

    fn snapshot(secs: i64) -> Snapshot {
        let start = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        Snapshot::new(
            HostIdentity {
                hostname: "db1".into(),
                os: "Linux".into(),
                kernel: None,
                arch: "x86_64".into(),
                machine_id: None,
            },
            CollectionWindow {
                started_at: start,
                ended_at: start + chrono::Duration::seconds(secs),
                interval_ms: 1000,
                requested_duration_ms: secs as u64 * 1000,
                ended_early: false,
            },
        )
    }

    fn ts(s: &Snapshot, secs: i64) -> Option<i64> {
        Some(s.manifest().window.started_at.timestamp_micros() + secs * 1_000_000)
    }

    #[test]
    fn short_series_are_kept_as_they_are_and_long_ones_are_run_means() {
        let short: Vec<(f64, f64)> = (0..MAX_POINTS)
            .map(|i| (i as f64, i as f64 * 2.0))
            .collect();
        assert_eq!(thin(short.clone()), short);

        // 1,000 samples: runs of 4, so 250 points, each the mean of its run.
        let long: Vec<(f64, f64)> = (0..1000).map(|i| (i as f64, (i % 8) as f64)).collect();
        let thinned = thin(long);
        assert_eq!(thinned.len(), 250);
        assert_eq!(thinned[0], (1.5, 1.5)); // samples 0..4: t 0,1,2,3; values 0,1,2,3
        assert_eq!(thinned[1], (5.5, 5.5)); // samples 4..8: values 4,5,6,7
        // 1,001 samples: the last run is a single sample, kept as it is.
        let odd: Vec<(f64, f64)> = (0..1001).map(|i| (i as f64, 1.0)).collect();
        let thinned = thin(odd);
        assert_eq!(thinned.len(), 251);
        assert_eq!(*thinned.last().unwrap(), (1000.0, 1.0));
        // Out-of-order samples are put in time order first.
        assert_eq!(
            thin(vec![(2.0, 5.0), (1.0, 3.0)]),
            vec![(1.0, 3.0), (2.0, 5.0)]
        );
    }

    #[test]
    fn a_long_window_stays_bounded() {
        // Eight hours at 1 s, 3 disks, 2 interfaces.
        let n = 8 * 3600;
        let mut s = snapshot(n);
        let rows = (n * 3) as usize;
        let disk = Table::new()
            .with(
                "ts",
                col::timestamp((0..rows).map(|i| ts(&s, i as i64 / 3 + 1))),
            )
            .with(
                "device",
                col::utf8((0..rows).map(|i| Some(["sda", "sdb", "sdc"][i % 3]))),
            )
            .with("await_ms", col::f64((0..rows).map(|i| Some(i as f64))))
            .with("util_pct", col::f64((0..rows).map(|_| Some(50.0))));
        s.put_table(tables::HOST_DISK, disk);
        let cpu = Table::new()
            .with("ts", col::timestamp((1..=n).map(|i| ts(&s, i))))
            .with("cpu", col::utf8((1..=n).map(|_| Some("all"))))
            .with(
                "user_pct",
                col::f64((1..=n).map(|i| Some((i % 2) as f64 * 10.0))),
            );
        s.put_table(tables::HOST_CPU, cpu);
        let series = build(&s);
        assert_eq!(series.cpu.len(), 300); // 28,800 samples in runs of 96
        assert!(series.cpu.iter().all(|p| (p.user - 5.0).abs() < 1e-9));
        assert_eq!(series.disk_await_ms.len(), 3);
        for (_, points) in series.disk_util_pct.iter().chain(&series.disk_await_ms) {
            assert_eq!(points.len(), 300);
        }
        let json = serde_json::to_string(&series).unwrap();
        assert!(json.len() < 200_000, "{} bytes", json.len());
    }

    #[test]
    fn disk_latency_skips_samples_without_io() {
        let mut s = snapshot(3);
        let t = Table::new()
            .with(
                "ts",
                col::timestamp([ts(&s, 1), ts(&s, 1), ts(&s, 2), ts(&s, 2)]),
            )
            .with(
                "device",
                col::utf8([Some("sda"), Some("sdb"), Some("sda"), Some("sdb")]),
            )
            .with("await_ms", col::f64([Some(4.5), None, None, None]))
            .with(
                "util_pct",
                col::f64([Some(10.0), Some(0.0), Some(20.0), Some(0.0)]),
            );
        s.put_table(tables::HOST_DISK, t);
        let series = build(&s);
        assert_eq!(
            series.disk_await_ms,
            vec![("sda".to_owned(), vec![(1.0, 4.5)])]
        );
        assert_eq!(series.disk_util_pct.len(), 2);
        assert_eq!(series.disk_util_pct[0].1, vec![(1.0, 10.0), (2.0, 20.0)]);
    }

    #[test]
    fn network_keeps_the_busiest_interfaces_and_errors_only_where_there_are_some() {
        let mut s = snapshot(2);
        // Six interfaces, two samples each: eth{k} moves k × 1000 bytes/s in and half
        // that out; only eth1 has errors or drops (in its second sample).
        let names = ["eth0", "eth1", "eth2", "eth3", "eth4", "eth5"];
        let rows: Vec<(i64, usize)> = (1..=2)
            .flat_map(|tick| (0..names.len()).map(move |k| (tick, k)))
            .collect();
        let zero_unless = |hit: fn(i64, usize) -> bool, v: f64| {
            col::f64(
                rows.iter()
                    .map(move |&(tick, k)| Some(if hit(tick, k) { v } else { 0.0 })),
            )
        };
        let t = Table::new()
            .with(
                "ts",
                col::timestamp(rows.iter().map(|&(tick, _)| ts(&s, tick))),
            )
            .with(
                "interface",
                col::utf8(rows.iter().map(|&(_, k)| Some(names[k]))),
            )
            .with(
                "rx_bytes_per_s",
                col::f64(
                    rows.iter()
                        .map(|&(tick, k)| Some((k * 1000) as f64 + tick as f64)),
                ),
            )
            .with(
                "tx_bytes_per_s",
                col::f64(rows.iter().map(|&(_, k)| Some((k * 500) as f64))),
            )
            .with(
                "rx_errors_per_s",
                zero_unless(|tick, k| tick == 2 && k == 1, 0.5),
            )
            .with("tx_errors_per_s", zero_unless(|_, _| false, 9.0))
            .with(
                "rx_drops_per_s",
                zero_unless(|tick, k| tick == 2 && k == 1, 2.0),
            )
            .with("tx_drops_per_s", col::f64(rows.iter().map(|_| None)));
        s.put_table(tables::HOST_NET, t);
        let series = build(&s);
        let names_of = |ls: &[Line]| ls.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(
            names_of(&series.net_rx_bytes_per_s),
            ["eth5", "eth4", "eth3", "eth2"]
        );
        assert_eq!(
            names_of(&series.net_tx_bytes_per_s),
            names_of(&series.net_rx_bytes_per_s)
        );
        assert_eq!(
            series.net_rx_bytes_per_s[0].1,
            vec![(1.0, 5001.0), (2.0, 5002.0)]
        );
        assert_eq!(
            series.net_tx_bytes_per_s[3].1,
            vec![(1.0, 1000.0), (2.0, 1000.0)]
        );
        assert_eq!(
            series.net_errors_per_s,
            vec![("eth1".to_owned(), vec![(1.0, 0.0), (2.0, 2.5)])]
        );
    }

    #[test]
    fn no_tables_no_series() {
        let series = build(&snapshot(10));
        assert!(series.cpu.is_empty() && series.disk_await_ms.is_empty());
        assert!(series.net_rx_bytes_per_s.is_empty() && series.net_errors_per_s.is_empty());
        assert!(series.db_time.is_empty());
    }
}
