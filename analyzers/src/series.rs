//! KPIs over a series of snapshots (a guarantee window's weekly re-checks, or daily
//! snapshots of continuous sampling): one value per snapshot and a trend per KPI.
//!
//! How a series is scanned: each snapshot's manifest is read first (cheap), which
//! orders the series by time and says which tables each file holds. Then only the
//! sample tables the KPIs read are taken out of each zip, and only the columns the KPIs
//! read are decoded from their Parquet bytes (projection at read). Each table's pieces,
//! tagged with their snapshot's index, are one polars lazy frame (a concatenation), and
//! every KPI of a table is one grouped aggregation over it: one pass per table over the
//! whole series, with nothing converted to the model's row-by-row tables.
//!
//! The KPIs are those of a comparison (`compare::kpi`), so a re-check and a series
//! agree on what "CPU busy" means. A trend is the least-squares slope of a KPI's
//! per-snapshot values over time; it counts (better or worse) when the slope is more
//! than 3 standard errors from zero and the fitted change over the series exceeds the
//! KPI's smallest change that matters.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use perfdiag_model::{ChangeDirection, Snapshot, SnapshotError, Unit};
use polars::prelude::*;
use serde::Serialize;

use crate::compare::kpi::{self, DB_AAS, KPIS, KpiDef};
use crate::error::AnalyzeError;

/// One snapshot of the series, in time order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesSnapshot {
    pub file: PathBuf,
    pub hostname: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
}

/// A KPI's fitted trend over the series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Trend {
    /// Change per day (least-squares slope), in the KPI's unit.
    pub slope_per_day: f64,
    /// Standard error of the slope; `None` with fewer than three points.
    pub std_error_per_day: Option<f64>,
    /// The fitted change from the first to the last snapshot.
    pub fitted_change: f64,
    pub direction: ChangeDirection,
}

/// One KPI (of one device, interface or target) over the series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KpiSeries {
    pub id: String,
    pub subject: Option<String>,
    pub unit: Unit,
    pub higher_is_better: bool,
    /// The snapshot's mean, one per snapshot of [`Series::snapshots`]; `None` where the
    /// snapshot has no sample of it.
    pub values: Vec<Option<f64>>,
    /// Samples behind each value.
    pub samples: Vec<u64>,
    /// `None` when fewer than two snapshots have a value.
    pub trend: Option<Trend>,
}

/// KPIs over a series of snapshots.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub snapshots: Vec<SeriesSnapshot>,
    pub kpis: Vec<KpiSeries>,
}

/// The columns of a table the series reads, numeric then text.
fn table_columns(table: &str) -> (Vec<&'static str>, Vec<&'static str>) {
    let (mut numeric, mut text) = (Vec::new(), Vec::new());
    for def in KPIS.iter().filter(|d| d.table == table) {
        let (n, t) = def.needs();
        numeric.extend(n);
        text.extend(t);
    }
    numeric.sort_unstable();
    numeric.dedup();
    text.sort_unstable();
    text.dedup();
    (numeric, text)
}

/// The tables the series reads: the KPIs' sample tables, then the session tables.
fn tables_read() -> Vec<&'static str> {
    let mut names: Vec<&str> = KPIS.iter().map(|d| d.table).collect();
    names.dedup();
    names.extend(kpi::session_tables().iter().map(|t| t.0));
    names
}

/// One table of one snapshot, read with only the columns the series needs; columns the
/// file lacks are null, so every snapshot's piece has the same schema.
fn read_piece(
    path: &Path,
    bytes: Vec<u8>,
    table: &str,
    numeric: &[&str],
    text: &[&str],
    index: u32,
) -> Result<LazyFrame, AnalyzeError> {
    let frame_err = |cause| AnalyzeError::Frame {
        table: format!("{table} of {}", path.display()),
        cause,
    };
    let mut reader = ParquetReader::new(Cursor::new(bytes));
    let schema = reader.schema().map_err(frame_err)?;
    let present: Vec<String> = numeric
        .iter()
        .chain(text)
        .chain(&["ts"])
        .filter(|c| schema.contains(c))
        .map(|c| (*c).to_owned())
        .collect();
    let df = reader
        .with_columns(Some(present.clone()))
        .finish()
        .map_err(frame_err)?;
    let has = |c: &str| present.iter().any(|p| p == c);
    let mut select = vec![lit(index).cast(DataType::UInt32).alias("snapshot")];
    for c in numeric {
        let e = if has(c) {
            col(*c).cast(DataType::Float64)
        } else {
            lit(NULL).cast(DataType::Float64)
        };
        select.push(e.alias(*c));
    }
    for c in text {
        let e = if has(c) {
            col(*c).cast(DataType::String)
        } else {
            lit(NULL).cast(DataType::String)
        };
        select.push(e.alias(*c));
    }
    Ok(df.lazy().select(select))
}

/// Reads the named entries of a snapshot's zip (those that exist).
fn read_entries(path: &Path, names: &[String]) -> Result<BTreeMap<String, Vec<u8>>, AnalyzeError> {
    let io = |cause| SnapshotError::Io {
        path: path.to_owned(),
        cause,
    };
    let corrupt = |detail: String| SnapshotError::Corrupt {
        path: path.to_owned(),
        detail,
    };
    let file = File::open(path).map_err(io)?;
    let mut archive = ::zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| corrupt(format!("the zip container is damaged ({e})")))?;
    let mut out = BTreeMap::new();
    for name in names {
        let mut entry = archive
            .by_name(name)
            .map_err(|e| corrupt(format!("{name} cannot be opened ({e})")))?;
        let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| corrupt(format!("{name} is damaged ({e})")))?;
        out.insert(name.clone(), bytes);
    }
    Ok(out)
}

/// Scans the snapshot files and computes every KPI per snapshot, with its trend.
/// Files may be given in any order: the series is ordered by collection time.
pub fn scan<P: AsRef<Path>>(paths: &[P]) -> Result<Series, AnalyzeError> {
    let mut manifests = paths
        .iter()
        .map(|p| Ok((p.as_ref().to_owned(), Snapshot::read_manifest(p.as_ref())?)))
        .collect::<Result<Vec<_>, AnalyzeError>>()?;
    manifests.sort_by_key(|(_, m)| m.window.started_at);

    let wanted = tables_read();
    let mut pieces: BTreeMap<&str, Vec<LazyFrame>> = BTreeMap::new();
    let mut ticks = Vec::with_capacity(manifests.len());
    for (index, (path, manifest)) in manifests.iter().enumerate() {
        let w = &manifest.window;
        ticks.push(
            (w.duration_secs() * 1000.0 / w.interval_ms.max(1) as f64)
                .round()
                .max(1.0),
        );
        let present: Vec<&str> = wanted
            .iter()
            .copied()
            .filter(|t| manifest.tables.iter().any(|e| e.name == *t && e.rows > 0))
            .collect();
        let entries: Vec<String> = present
            .iter()
            .map(|t| format!("tables/{t}.parquet"))
            .collect();
        let mut bytes = read_entries(path, &entries)?;
        for table in present {
            let (numeric, text) = match kpi::session_tables().iter().find(|s| s.0 == table) {
                Some((_, needs, _)) => (Vec::new(), needs.to_vec()),
                None => table_columns(table),
            };
            let data = bytes
                .remove(&format!("tables/{table}.parquet"))
                .unwrap_or_default();
            let piece = read_piece(path, data, table, &numeric, &text, index as u32)?;
            pieces.entry(table).or_default().push(piece);
        }
    }

    let n = manifests.len();
    let mut kpis = Vec::new();
    for (table, frames) in pieces {
        let err = |cause| AnalyzeError::Frame {
            table: format!("{table} over the series"),
            cause,
        };
        let lf = concat(frames, UnionArgs::default()).map_err(err)?;
        if let Some((_, _, active)) = kpi::session_tables().into_iter().find(|s| s.0 == table) {
            kpis.extend(db_load(lf, active, &ticks).map_err(err)?);
        } else {
            kpis.extend(table_kpis(lf, table, n).map_err(err)?);
        }
    }
    let order: BTreeMap<&str, usize> = kpi::kpi_ids().enumerate().map(|(i, id)| (id, i)).collect();
    kpis.sort_by(|a, b| {
        (order.get(a.id.as_str()), &a.subject).cmp(&(order.get(b.id.as_str()), &b.subject))
    });

    let snapshots: Vec<SeriesSnapshot> = manifests
        .into_iter()
        .map(|(file, m)| SeriesSnapshot {
            file,
            hostname: m.host.hostname,
            started_at: m.window.started_at,
            ended_at: m.window.ended_at,
        })
        .collect();
    let days: Vec<f64> = snapshots
        .iter()
        .map(|s| {
            let mid = s.started_at + (s.ended_at - s.started_at) / 2;
            (mid - snapshots[0].started_at).num_milliseconds() as f64 / 86_400_000.0
        })
        .collect();
    let defs: BTreeMap<&str, KpiDef> = KPIS.iter().chain([&DB_AAS]).map(|d| (d.id, *d)).collect();
    for k in &mut kpis {
        if let Some(def) = defs.get(k.id.as_str()) {
            k.trend = trend(def, &days, &k.values);
        }
    }
    Ok(Series { snapshots, kpis })
}

/// Every KPI of one sample table, per snapshot (and subject): one grouped pass.
fn table_kpis(lf: LazyFrame, table: &str, n: usize) -> PolarsResult<Vec<KpiSeries>> {
    let defs: Vec<&KpiDef> = KPIS.iter().filter(|d| d.table == table).collect();
    let subject = defs.iter().find_map(|d| d.subject);
    let mut lf = lf;
    if let Some((_, filter)) = kpi::table_filter(table) {
        lf = lf.filter(filter);
    }
    let mut keys = vec![col("snapshot")];
    if let Some(s) = subject {
        lf = lf.filter(col(s).is_not_null());
        keys.push(col(s));
    }
    let mut aggs = Vec::new();
    for (i, def) in defs.iter().enumerate() {
        let mut keep = (def.value)().is_finite().fill_null(false);
        if let Some(when) = def.when {
            keep = keep.and(when().fill_null(false));
        }
        let value = (def.value)().filter(keep);
        aggs.push(value.clone().mean().alias(format!("m{i}")));
        aggs.push(value.count().cast(DataType::UInt64).alias(format!("n{i}")));
    }
    let out = lf.group_by(keys).agg(aggs).collect()?;
    let snapshot = out.column("snapshot")?.u32()?.clone();
    let subjects = match subject {
        Some(s) => Some(out.column(s)?.str()?.clone()),
        None => None,
    };
    let mut series: BTreeMap<(usize, Option<String>), KpiSeries> = BTreeMap::new();
    for (i, def) in defs.iter().enumerate() {
        let means = out.column(&format!("m{i}"))?.f64()?.clone();
        let counts = out.column(&format!("n{i}"))?.u64()?.clone();
        for row in 0..out.height() {
            let (Some(s), Some(count)) = (snapshot.get(row), counts.get(row)) else {
                continue;
            };
            if count == 0 {
                continue;
            }
            let subject = subjects
                .as_ref()
                .and_then(|c| c.get(row))
                .map(str::to_owned);
            let entry = series
                .entry((i, subject.clone()))
                .or_insert_with(|| KpiSeries {
                    id: def.id.to_owned(),
                    subject,
                    unit: def.unit,
                    higher_is_better: def.higher_is_better,
                    values: vec![None; n],
                    samples: vec![0; n],
                    trend: None,
                });
            entry.values[s as usize] = means.get(row);
            entry.samples[s as usize] = count;
        }
    }
    Ok(series.into_values().collect())
}

/// Average active sessions per snapshot and target: active rows over the ticks.
fn db_load(lf: LazyFrame, active: Expr, ticks: &[f64]) -> PolarsResult<Vec<KpiSeries>> {
    let n = ticks.len();
    let out = lf
        .filter(active.fill_null(false).and(col("target").is_not_null()))
        .group_by([col("snapshot"), col("target")])
        .agg([len().cast(DataType::UInt64).alias("rows")])
        .collect()?;
    let snapshot = out.column("snapshot")?.u32()?.clone();
    let targets = out.column("target")?.str()?.clone();
    let rows = out.column("rows")?.u64()?.clone();
    let mut per_target: BTreeMap<String, KpiSeries> = BTreeMap::new();
    for i in 0..out.height() {
        let (Some(s), Some(t), Some(r)) = (snapshot.get(i), targets.get(i), rows.get(i)) else {
            continue;
        };
        let entry = per_target.entry(t.to_owned()).or_insert_with(|| KpiSeries {
            id: DB_AAS.id.to_owned(),
            subject: Some(t.to_owned()),
            unit: DB_AAS.unit,
            higher_is_better: DB_AAS.higher_is_better,
            // A snapshot with the table but no active row for the target had 0 AAS.
            values: vec![None; n],
            samples: vec![0; n],
            trend: None,
        });
        let s = s as usize;
        entry.values[s] = Some(r as f64 / ticks[s]);
        entry.samples[s] = ticks[s] as u64;
    }
    Ok(per_target.into_values().collect())
}

/// Least-squares trend of `values` over `days`; see the module documentation.
fn trend(def: &KpiDef, days: &[f64], values: &[Option<f64>]) -> Option<Trend> {
    let points: Vec<(f64, f64)> = days
        .iter()
        .zip(values)
        .filter_map(|(d, v)| v.map(|v| (*d, v)))
        .collect();
    let n = points.len();
    if n < 2 {
        return None;
    }
    let mean_x = points.iter().map(|p| p.0).sum::<f64>() / n as f64;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n as f64;
    let sxx: f64 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if sxx == 0.0 {
        return None;
    }
    let slope = points
        .iter()
        .map(|p| (p.0 - mean_x) * (p.1 - mean_y))
        .sum::<f64>()
        / sxx;
    let std_error = (n >= 3).then(|| {
        let residuals: f64 = points
            .iter()
            .map(|p| (p.1 - mean_y - slope * (p.0 - mean_x)).powi(2))
            .sum();
        (residuals / (n - 2) as f64 / sxx).sqrt()
    });
    let span = points[n - 1].0 - points[0].0;
    let fitted_change = slope * span;
    let counts = std_error.is_some_and(|se| slope.abs() > kpi::NOISE_SIGMAS * se)
        && fitted_change.abs() > kpi::min_change(def, points[0].1);
    let direction = match (counts, (slope > 0.0) == def.higher_is_better) {
        (false, _) => ChangeDirection::Unchanged,
        (true, true) => ChangeDirection::Better,
        (true, false) => ChangeDirection::Worse,
    };
    Some(Trend {
        slope_per_day: slope,
        std_error_per_day: std_error,
        fitted_change,
        direction,
    })
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use perfdiag_model::{Table, col as c, tables};

    use super::*;
    use crate::test_support::{CpuSample, Fixture};

    /// Weekly snapshots whose CPU idle falls by `idle_drop` a week, written to `dir`.
    fn weekly(dir: &Path, weeks: usize, idle_drop: f64) -> Vec<PathBuf> {
        (0..weeks)
            .map(|w| {
                let mut f = Fixture::healthy();
                f.cpu = (0..30)
                    .map(|i| CpuSample {
                        idle: 70.0 - idle_drop * w as f64 + f64::from(i % 3),
                        iowait: 1.0,
                        steal: 0.0,
                    })
                    .collect();
                let built = f.build();
                let mut window = built.manifest().window.clone();
                window.started_at += Duration::weeks(w as i64);
                window.ended_at += Duration::weeks(w as i64);
                let mut s = Snapshot::new(built.manifest().host.clone(), window);
                for e in &built.manifest().tables {
                    s.put_table(&e.name, built.table(&e.name).unwrap().clone());
                }
                let path = dir.join(format!("week{w}.pdsnap"));
                s.write(&path).unwrap();
                path
            })
            .collect()
    }

    fn kpi<'a>(s: &'a Series, id: &str, subject: Option<&str>) -> &'a KpiSeries {
        s.kpis
            .iter()
            .find(|k| k.id == id && k.subject.as_deref() == subject)
            .unwrap_or_else(|| panic!("no {id} in {:#?}", s.kpis))
    }

    #[test]
    fn per_snapshot_values_agree_with_a_comparison_and_are_in_time_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut paths = weekly(dir.path(), 4, 5.0);
        paths.reverse();
        let series = scan(&paths).unwrap();
        assert_eq!(series.snapshots.len(), 4);
        assert!(series.snapshots[0].file.ends_with("week0.pdsnap"));
        let busy = kpi(&series, "host_cpu.busy_pct.mean", None);
        // Week 0: idle 70, 71, 72 in turn and iowait 1 → busy 29, 28, 27: mean 28.
        assert!((busy.values[0].unwrap() - 28.0).abs() < 1e-9, "{busy:#?}");
        assert!((busy.values[3].unwrap() - 43.0).abs() < 1e-9, "{busy:#?}");
        assert_eq!(busy.samples, vec![30; 4]);

        let snapshot = Snapshot::read(&paths[0]).unwrap();
        let samples = kpi::samples(&snapshot).unwrap();
        let from_compare = samples
            .iter()
            .find(|s| s.def.id == "host_disk.await_ms.mean" && s.subject.as_deref() == Some("sda"))
            .unwrap();
        let disk = kpi(&series, "host_disk.await_ms.mean", Some("sda"));
        assert_eq!(disk.values[3], Some(kpi::side(&from_compare.values).mean));
    }

    #[test]
    fn a_steady_rise_is_a_worse_trend_and_a_flat_series_none() {
        let dir = tempfile::tempdir().unwrap();
        let rising = scan(&weekly(dir.path(), 6, 3.0)).unwrap();
        let trend = kpi(&rising, "host_cpu.busy_pct.mean", None).trend.unwrap();
        assert_eq!(trend.direction, ChangeDirection::Worse, "{trend:#?}");
        assert!((trend.slope_per_day - 3.0 / 7.0).abs() < 1e-6, "{trend:#?}");

        let flat_dir = tempfile::tempdir().unwrap();
        let flat = scan(&weekly(flat_dir.path(), 6, 0.0)).unwrap();
        for k in &flat.kpis {
            let t = k.trend.unwrap();
            assert_eq!(t.direction, ChangeDirection::Unchanged, "{k:#?}");
        }
    }

    #[test]
    fn database_load_is_per_target_and_a_missing_table_is_a_gap() {
        let dir = tempfile::tempdir().unwrap();
        let paths = weekly(dir.path(), 3, 0.0);
        // The second snapshot gets 2 active sessions in each of its 60 ticks.
        let mut s = Snapshot::read(&paths[1]).unwrap();
        let start = s.manifest().window.started_at.timestamp_micros();
        let n = 120;
        s.put_table(
            tables::PG_SESSIONS,
            Table::new()
                .with("target", c::utf8((0..n).map(|_| Some("pg1"))))
                .with(
                    "ts",
                    c::timestamp((0..n).map(|i| Some(start + (i / 2 + 1) * 1_000_000))),
                )
                .with("state", c::utf8((0..n).map(|_| Some("active")))),
        );
        s.write(&paths[1]).unwrap();
        let series = scan(&paths).unwrap();
        let aas = kpi(&series, "db.aas", Some("pg1"));
        assert_eq!(aas.values, vec![None, Some(2.0), None]);
        assert!(aas.trend.is_none(), "one point is no trend");
    }
}
