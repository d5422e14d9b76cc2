//! The KPIs a comparison and a series judge, defined once as polars expressions over
//! the sample tables, and the noise rule that tells a change from chance.
//!
//! A KPI is the mean of a per-sample value (CPU busy of one tick, await of one device
//! in one tick). Its noise comes from the samples themselves: the standard error of the
//! mean, corrected for the correlation of successive samples (a busy second is usually
//! followed by a busy second, so 600 samples carry less than 600 samples' worth of
//! information). A change counts only when it is larger than three combined standard
//! errors *and* than the KPI's smallest change that matters (`min_change`, or 5 % of
//! the earlier value when that is larger). See docs/comparison.md.

use std::collections::BTreeMap;

use perfdiag_model::{KpiSide, Snapshot, Unit, tables};
use polars::prelude::*;

use crate::error::AnalyzeError;
use crate::frames::to_frame;

/// How many combined standard errors a change must exceed.
pub(crate) const NOISE_SIGMAS: f64 = 3.0;
/// A change smaller than this share of the earlier value never counts.
pub(crate) const MIN_RELATIVE_CHANGE: f64 = 0.05;
/// Successive samples are never taken as more correlated than this, so a window of
/// nearly constant samples still has an effective sample size.
const MAX_AUTOCORRELATION: f64 = 0.95;

/// One KPI over a sample table.
#[derive(Debug, Clone, Copy)]
pub(crate) struct KpiDef {
    pub id: &'static str,
    pub table: &'static str,
    /// The column naming the subject (device, interface), for per-subject KPIs.
    pub subject: Option<&'static str>,
    /// The numeric columns `value` reads.
    pub columns: &'static [&'static str],
    /// The value of one sample.
    pub value: fn() -> Expr,
    /// Which samples count, besides those where `value` is null.
    pub when: Option<fn() -> Expr>,
    pub unit: Unit,
    pub higher_is_better: bool,
    /// The smallest change that matters, in the KPI's unit.
    pub min_change: f64,
}

impl KpiDef {
    /// The rows of the table that are samples of this KPI.
    pub fn rows(&self) -> Expr {
        let mut keep = (self.value)().is_not_null();
        if let Some((_, filter)) = table_filter(self.table) {
            keep = keep.and(filter);
        }
        if let Some(when) = self.when {
            keep = keep.and(when());
        }
        keep
    }

    /// The columns a frame must have (numeric, then text) to compute this KPI.
    pub fn needs(&self) -> (Vec<&'static str>, Vec<&'static str>) {
        let mut text: Vec<&str> = table_filter(self.table)
            .map(|(cols, _)| cols.to_vec())
            .unwrap_or_default();
        text.extend(self.subject);
        (self.columns.to_vec(), text)
    }
}

/// The rows of a table that hold samples of the whole host: `host_cpu` also has one
/// row per CPU, and only the `all` rows are the host's.
pub(crate) fn table_filter(table: &str) -> Option<(&'static [&'static str], Expr)> {
    (table == tables::HOST_CPU).then(|| (&["cpu"][..], col("cpu").eq(lit("all"))))
}

fn busy_pct() -> Expr {
    lit(100.0) - col("idle_pct") - col("iowait_pct") - col("steal_pct")
}

fn f(name: &str) -> Expr {
    col(name).cast(DataType::Float64)
}

/// Every sample-based KPI, in the order comparisons list them.
pub(crate) const KPIS: [KpiDef; 10] = [
    KpiDef {
        id: "host_cpu.busy_pct.mean",
        table: tables::HOST_CPU,
        subject: None,
        columns: &["idle_pct", "iowait_pct", "steal_pct"],
        value: busy_pct,
        when: None,
        unit: Unit::Percent,
        higher_is_better: false,
        min_change: 2.0,
    },
    KpiDef {
        id: "host_cpu.iowait_pct.mean",
        table: tables::HOST_CPU,
        subject: None,
        columns: &["iowait_pct"],
        value: || f("iowait_pct"),
        when: None,
        unit: Unit::Percent,
        higher_is_better: false,
        min_change: 1.0,
    },
    KpiDef {
        id: "host_cpu.steal_pct.mean",
        table: tables::HOST_CPU,
        subject: None,
        columns: &["steal_pct"],
        value: || f("steal_pct"),
        when: None,
        unit: Unit::Percent,
        higher_is_better: false,
        min_change: 1.0,
    },
    KpiDef {
        id: "host_system.procs_running.mean",
        table: tables::HOST_SYSTEM,
        subject: None,
        columns: &["procs_running"],
        value: || f("procs_running"),
        when: None,
        unit: Unit::None,
        higher_is_better: false,
        min_change: 0.5,
    },
    KpiDef {
        id: "host_system.mem_available_pct.mean",
        table: tables::HOST_SYSTEM,
        subject: None,
        columns: &["mem_available_bytes", "mem_total_bytes"],
        value: || f("mem_available_bytes") / f("mem_total_bytes") * lit(100.0),
        when: Some(|| col("mem_total_bytes").gt(lit(0))),
        unit: Unit::Percent,
        higher_is_better: true,
        min_change: 2.0,
    },
    KpiDef {
        id: "host_system.swap_pages_per_s.mean",
        table: tables::HOST_SYSTEM,
        subject: None,
        columns: &["swap_in_pages_per_s", "swap_out_pages_per_s"],
        value: || f("swap_in_pages_per_s") + f("swap_out_pages_per_s"),
        when: None,
        unit: Unit::PagesPerSecond,
        higher_is_better: false,
        min_change: 1.0,
    },
    KpiDef {
        id: "host_system.tcp_retrans_pct.mean",
        table: tables::HOST_SYSTEM,
        subject: None,
        columns: &["tcp_out_segs_per_s", "tcp_retrans_segs_per_s"],
        value: || f("tcp_retrans_segs_per_s") / f("tcp_out_segs_per_s") * lit(100.0),
        when: Some(|| col("tcp_out_segs_per_s").gt(lit(0.0))),
        unit: Unit::Percent,
        higher_is_better: false,
        min_change: 0.1,
    },
    KpiDef {
        id: "host_disk.await_ms.mean",
        table: tables::HOST_DISK,
        subject: Some("device"),
        columns: &["await_ms"],
        value: || f("await_ms"),
        when: None,
        unit: Unit::Milliseconds,
        higher_is_better: false,
        min_change: 0.2,
    },
    KpiDef {
        id: "host_disk.util_pct.mean",
        table: tables::HOST_DISK,
        subject: Some("device"),
        columns: &["util_pct"],
        value: || f("util_pct"),
        when: None,
        unit: Unit::Percent,
        higher_is_better: false,
        min_change: 2.0,
    },
    KpiDef {
        id: "host_net.errors_per_s.mean",
        table: tables::HOST_NET,
        subject: Some("interface"),
        columns: &[
            "rx_errors_per_s",
            "tx_errors_per_s",
            "rx_drops_per_s",
            "tx_drops_per_s",
        ],
        value: || {
            f("rx_errors_per_s") + f("tx_errors_per_s") + f("rx_drops_per_s") + f("tx_drops_per_s")
        },
        when: None,
        unit: Unit::PerSecond,
        higher_is_better: false,
        min_change: 0.1,
    },
];

/// The database load KPI: active sessions per tick, per target, from every session
/// table (`table` names the first; see [`session_tables`]).
pub(crate) const DB_AAS: KpiDef = KpiDef {
    id: "db.aas",
    table: tables::PG_SESSIONS,
    subject: Some("target"),
    columns: &[],
    value: || lit(1.0),
    when: None,
    unit: Unit::None,
    higher_is_better: false,
    min_change: 0.1,
};

/// Every KPI id a comparison can list: what the message catalogs must name.
pub fn kpi_ids() -> impl Iterator<Item = &'static str> {
    KPIS.iter().map(|k| k.id).chain([DB_AAS.id])
}

/// The session tables and which of their rows are active sessions. The same
/// definition as `db_time`: PostgreSQL `state = 'active'`; MySQL any command but
/// `Sleep` and `Daemon`.
pub(crate) fn session_tables() -> [(&'static str, &'static [&'static str], Expr); 2] {
    [
        (
            tables::PG_SESSIONS,
            &["target", "state"],
            col("state").eq(lit("active")),
        ),
        (
            tables::MYSQL_SESSIONS,
            &["target", "command"],
            col("command")
                .neq(lit("Sleep"))
                .and(col("command").neq(lit("Daemon"))),
        ),
    ]
}

/// Whether `df` has the numeric and text columns.
pub(crate) fn has_columns(df: &DataFrame, numeric: &[&str], text: &[&str]) -> bool {
    numeric
        .iter()
        .all(|c| df.column(c).is_ok_and(|c| c.dtype().is_primitive_numeric()))
        && text
            .iter()
            .all(|c| df.column(c).is_ok_and(|c| c.dtype() == &DataType::String))
}

/// The samples of one KPI in one snapshot.
#[derive(Debug, Clone)]
pub(crate) struct KpiSamples {
    pub def: KpiDef,
    pub subject: Option<String>,
    /// In time order.
    pub values: Vec<f64>,
}

/// The samples of every KPI the snapshot has data for.
pub(crate) fn samples(snapshot: &Snapshot) -> Result<Vec<KpiSamples>, AnalyzeError> {
    let mut frames: BTreeMap<&str, DataFrame> = BTreeMap::new();
    let mut out = Vec::new();
    for def in &KPIS {
        if !frames.contains_key(def.table) {
            let Some(table) = snapshot.table(def.table) else {
                continue;
            };
            let df = to_frame(table).map_err(|cause| frame_err(def.table, cause))?;
            frames.insert(def.table, df);
        }
        let df = &frames[def.table];
        let (numeric, text) = def.needs();
        if df.height() == 0 || !has_columns(df, &numeric, &text) {
            continue;
        }
        out.extend(kpi_samples(df, *def)?);
    }
    out.extend(db_load_samples(snapshot)?);
    Ok(out)
}

fn kpi_samples(df: &DataFrame, def: KpiDef) -> Result<Vec<KpiSamples>, AnalyzeError> {
    let err = |cause| frame_err(def.table, cause);
    let subject = def.subject.map_or_else(|| lit(""), col);
    let mut lf = df.clone().lazy().filter(def.rows());
    let mut order = vec!["subject"];
    if df.column("ts").is_ok() {
        order.push("ts");
    }
    let mut select = vec![subject.alias("subject"), (def.value)().alias("v")];
    if order.len() == 2 {
        select.push(col("ts"));
    }
    lf = lf
        .select(select)
        .filter(
            col("v")
                .is_finite()
                .fill_null(false)
                .and(col("subject").is_not_null()),
        )
        .sort(
            order,
            SortMultipleOptions::default().with_maintain_order(true),
        );
    let out = lf.collect().map_err(err)?;
    let subjects = out
        .column("subject")
        .and_then(|c| c.str().cloned())
        .map_err(err)?;
    let values = out
        .column("v")
        .and_then(|c| c.f64().cloned())
        .map_err(err)?;
    let mut by_subject: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (s, v) in subjects.iter().zip(values.iter()) {
        if let (Some(s), Some(v)) = (s, v) {
            by_subject.entry(s.to_owned()).or_default().push(v);
        }
    }
    Ok(by_subject
        .into_iter()
        .map(|(subject, values)| KpiSamples {
            def,
            subject: def.subject.map(|_| subject),
            values,
        })
        .collect())
}

/// Active sessions per tick, per target; ticks where no session was active count 0.
fn db_load_samples(snapshot: &Snapshot) -> Result<Vec<KpiSamples>, AnalyzeError> {
    let window = &snapshot.manifest().window;
    let interval_us = (window.interval_ms.max(1) * 1000) as i64;
    let ticks = (window.duration_secs() * 1000.0 / window.interval_ms.max(1) as f64)
        .round()
        .max(1.0) as usize;
    let start_us = window.started_at.timestamp_micros();
    let mut out = Vec::new();
    for (table, needs, active) in session_tables() {
        let Some(t) = snapshot.table(table) else {
            continue;
        };
        let df = to_frame(t).map_err(|cause| frame_err(table, cause))?;
        if df.height() == 0 || !has_columns(&df, &[], needs) || df.column("ts").is_err() {
            continue;
        }
        let err = |cause| frame_err(table, cause);
        let counts = df
            .lazy()
            .filter(active.fill_null(false))
            .group_by([col("target"), col("ts")])
            .agg([len().cast(DataType::Float64).alias("n")])
            .select([
                col("target"),
                col("ts").cast(DataType::Int64).alias("ts"),
                col("n"),
            ])
            .collect()
            .map_err(err)?;
        let targets = counts
            .column("target")
            .and_then(|c| c.str().cloned())
            .map_err(err)?;
        let ts = counts
            .column("ts")
            .and_then(|c| c.i64().cloned())
            .map_err(err)?;
        let n = counts
            .column("n")
            .and_then(|c| c.f64().cloned())
            .map_err(err)?;
        let mut per_target: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for ((target, ts), n) in targets.iter().zip(ts.iter()).zip(n.iter()) {
            let (Some(target), Some(ts), Some(n)) = (target, ts, n) else {
                continue;
            };
            // The tick a sample belongs to: its interval's end, counted from the start.
            let tick = ((ts - start_us) as f64 / interval_us as f64).round() as i64 - 1;
            let tick = tick.clamp(0, ticks as i64 - 1) as usize;
            per_target
                .entry(target.to_owned())
                .or_insert_with(|| vec![0.0; ticks])[tick] += n;
        }
        out.extend(per_target.into_iter().map(|(target, values)| KpiSamples {
            def: DB_AAS,
            subject: Some(target),
            values,
        }));
    }
    Ok(out)
}

/// Mean, sample count and standard error of a window's samples (in time order).
pub(crate) fn side(values: &[f64]) -> KpiSide {
    let n = values.len();
    let mean = if n == 0 {
        0.0
    } else {
        values.iter().sum::<f64>() / n as f64
    };
    let std_error = (n >= 2).then(|| {
        let ss: f64 = values.iter().map(|v| (v - mean).powi(2)).sum();
        if ss == 0.0 {
            return 0.0;
        }
        let variance = ss / (n - 1) as f64;
        // Lag-1 autocorrelation: successive samples that move together carry less
        // information, so the effective sample size shrinks (n·(1−ρ)/(1+ρ)).
        let lagged: f64 = values
            .windows(2)
            .map(|w| (w[0] - mean) * (w[1] - mean))
            .sum();
        let rho = (lagged / ss).clamp(0.0, MAX_AUTOCORRELATION);
        let n_eff = (n as f64 * (1.0 - rho) / (1.0 + rho)).max(1.0);
        (variance / n_eff).sqrt()
    });
    KpiSide {
        mean,
        samples: n as u64,
        std_error,
    }
}

/// The noise a change between two windows must exceed: 3 combined standard errors.
pub(crate) fn noise(before: &KpiSide, after: &KpiSide) -> Option<f64> {
    let (b, a) = (before.std_error?, after.std_error?);
    Some(NOISE_SIGMAS * (b * b + a * a).sqrt())
}

/// The smallest change that matters: the KPI's own, or 5 % of the earlier value.
pub(crate) fn min_change(def: &KpiDef, before: f64) -> f64 {
    def.min_change.max(MIN_RELATIVE_CHANGE * before.abs())
}

fn frame_err(table: &str, cause: PolarsError) -> AnalyzeError {
    AnalyzeError::Frame {
        table: table.to_owned(),
        cause,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_samples_have_no_noise_and_too_few_have_unknown_noise() {
        assert_eq!(side(&[5.0; 10]).std_error, Some(0.0));
        assert_eq!(side(&[5.0]).std_error, None);
        assert_eq!(side(&[]).samples, 0);
    }

    #[test]
    fn correlated_samples_are_noisier_than_independent_ones() {
        // The same values, alternating (negatively correlated: ρ clamps to 0) or as
        // two long runs (strongly correlated).
        let alternating: Vec<f64> = (0..100).map(|i| f64::from(i % 2)).collect();
        let runs: Vec<f64> = (0..100).map(|i| f64::from(i / 50)).collect();
        let (a, r) = (side(&alternating), side(&runs));
        assert!((a.mean - r.mean).abs() < 1e-12);
        let (a, r) = (a.std_error.unwrap(), r.std_error.unwrap());
        assert!(r > 3.0 * a, "runs {r} vs alternating {a}");
    }
}
