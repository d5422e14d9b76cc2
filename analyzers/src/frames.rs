//! Snapshot tables as polars frames, and the two query shapes the metrics need.
//!
//! A [`Table`] becomes a [`DataFrame`] column by column (timestamps become
//! `Datetime(Microseconds, UTC)`); nulls stay nulls. Queries check that the columns they
//! read exist with a usable type first, so a missing or malformed input surfaces as a
//! [`Missing`] reason (the rule is not evaluated) rather than as an error of the run.

use std::collections::BTreeMap;

use perfdiag_model::{ColumnData, Snapshot, Table};
use polars::prelude::*;

use crate::error::AnalyzeError;

/// Why an input needed by a metric or a rule is unavailable, e.g. `table host_disk`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Missing(pub String);

/// A value that may be missing from the snapshot.
pub type Need<T> = Result<T, Missing>;

/// Converts a snapshot table into a polars frame.
pub fn to_frame(table: &Table) -> PolarsResult<DataFrame> {
    let columns = table
        .columns()
        .iter()
        .map(|c| {
            let name = PlSmallStr::from(c.name.as_str());
            let series = match &c.data {
                ColumnData::Int64(v) => Series::new(name, v),
                ColumnData::Float64(v) => Series::new(name, v),
                ColumnData::Utf8(v) => Series::new(name, v),
                ColumnData::Bool(v) => Series::new(name, v),
                ColumnData::Timestamp(v) => Int64Chunked::new(name, v)
                    .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
                    .into_series(),
            };
            series.into_column()
        })
        .collect();
    DataFrame::new(table.rows(), columns)
}

/// One row of a grouped query: the group key and one value per aggregate.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupRow {
    pub key: String,
    pub values: Vec<Option<f64>>,
}

/// The snapshot's tables converted once, queried by the metrics.
#[derive(Debug, Default)]
pub struct Frames {
    frames: BTreeMap<String, DataFrame>,
}

impl Frames {
    /// Converts the named tables the snapshot holds; absent tables are simply absent.
    pub fn from_snapshot(snapshot: &Snapshot, names: &[&str]) -> Result<Self, AnalyzeError> {
        let mut frames = BTreeMap::new();
        for &name in names {
            if let Some(table) = snapshot.table(name) {
                let df = to_frame(table).map_err(|source| frame_err(name, source))?;
                frames.insert(name.to_owned(), df);
            }
        }
        Ok(Self { frames })
    }

    /// The frame of `table` when its `numeric` columns are numbers and its `text`
    /// columns are strings.
    fn checked(&self, table: &str, numeric: &[&str], text: &[&str]) -> Need<&DataFrame> {
        let df = self
            .frames
            .get(table)
            .ok_or_else(|| Missing(format!("table {table}")))?;
        if df.height() == 0 {
            return Err(Missing(format!("rows in table {table} (it is empty)")));
        }
        for (name, want_numeric) in numeric
            .iter()
            .map(|n| (n, true))
            .chain(text.iter().map(|n| (n, false)))
        {
            let column = df
                .column(name)
                .map_err(|_| Missing(format!("column {table}.{name}")))?;
            let ok = if want_numeric {
                column.dtype().is_primitive_numeric()
            } else {
                column.dtype() == &DataType::String
            };
            if !ok {
                return Err(Missing(format!(
                    "column {table}.{name} with a usable type (found {})",
                    column.dtype()
                )));
            }
        }
        Ok(df)
    }

    /// One number aggregated over `table`, optionally filtered: `Ok(Err(..))` when the
    /// columns are missing or the aggregate has no value (no non-null samples).
    /// `columns` must be numeric, `text_columns` (used by the filter) strings.
    pub fn scalar(
        &self,
        table: &str,
        columns: &[&str],
        text_columns: &[&str],
        filter: Option<Expr>,
        expr: Expr,
    ) -> Result<Need<f64>, AnalyzeError> {
        let df = match self.checked(table, columns, text_columns) {
            Ok(df) => df,
            Err(missing) => return Ok(Err(missing)),
        };
        let mut lf = df.clone().lazy();
        if let Some(f) = filter {
            lf = lf.filter(f);
        }
        let out = lf
            .select([expr.cast(DataType::Float64).alias("v")])
            .collect()
            .map_err(|source| frame_err(table, source))?;
        let value = out
            .column("v")
            .and_then(|c| c.f64().map(|ca| ca.get(0)))
            .map_err(|source| frame_err(table, source))?;
        Ok(value
            .filter(|v| v.is_finite())
            .ok_or_else(|| Missing(format!("samples of {}.{}", table, columns.join("/")))))
    }

    /// Aggregates per value of `key` (a device, an interface), sorted by key.
    pub fn per_group(
        &self,
        table: &str,
        key: &str,
        columns: &[&str],
        aggs: Vec<Expr>,
    ) -> Result<Need<Vec<GroupRow>>, AnalyzeError> {
        let df = match self.checked(table, columns, &[key]) {
            Ok(df) => df,
            Err(missing) => return Ok(Err(missing)),
        };
        let n = aggs.len();
        let aggs: Vec<Expr> = aggs
            .into_iter()
            .enumerate()
            .map(|(i, e)| e.cast(DataType::Float64).alias(format!("v{i}")))
            .collect();
        let out = df
            .clone()
            .lazy()
            .filter(col(key).is_not_null())
            .group_by([col(key)])
            .agg(aggs)
            .sort([key], SortMultipleOptions::default())
            .collect()
            .map_err(|source| frame_err(table, source))?;
        let keys = out
            .column(key)
            .and_then(|c| c.str().cloned())
            .map_err(|source| frame_err(table, source))?;
        let mut value_columns = Vec::with_capacity(n);
        for i in 0..n {
            let ca = out
                .column(&format!("v{i}"))
                .and_then(|c| c.f64().cloned())
                .map_err(|source| frame_err(table, source))?;
            value_columns.push(ca);
        }
        let rows = (0..out.height())
            .filter_map(|row| {
                let key = keys.get(row)?.to_owned();
                let values = value_columns
                    .iter()
                    .map(|ca| ca.get(row).filter(|v| v.is_finite()))
                    .collect();
                Some(GroupRow { key, values })
            })
            .collect();
        Ok(Ok(rows))
    }
}

fn frame_err(table: &str, source: PolarsError) -> AnalyzeError {
    AnalyzeError::Frame {
        table: table.to_owned(),
        cause: source,
    }
}

#[cfg(test)]
mod tests {
    use perfdiag_model::col;

    use super::*;

    #[test]
    fn tables_convert_with_nulls_and_utc_timestamps() {
        let table = Table::new()
            .with("ts", col::timestamp([Some(1_000_000), None]))
            .with("device", col::utf8([Some("sda"), None::<&str>]))
            .with("await_ms", col::f64([Some(1.5), None]))
            .with("n", col::i64([None, Some(7)]))
            .with("ok", col::bool([Some(true), None]));
        let df = to_frame(&table).expect("frame");
        assert_eq!(df.height(), 2);
        assert_eq!(
            df.column("ts").expect("ts").dtype(),
            &DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
        );
        assert_eq!(df.column("await_ms").expect("col").null_count(), 1);
        assert_eq!(
            df.column("n").expect("col").i64().expect("i64").get(1),
            Some(7)
        );
    }

    #[test]
    fn wrong_column_types_are_missing_inputs_not_errors() {
        let mut snapshot = crate::test_support::Fixture::healthy().build();
        snapshot.put_table(
            "host_disk",
            Table::new()
                .with("device", col::utf8([Some("sda")]))
                .with("await_ms", col::utf8([Some("fast")]))
                .with("util_pct", col::f64([Some(1.0)])),
        );
        let frames = Frames::from_snapshot(&snapshot, &["host_disk"]).expect("frames");
        let rows = frames
            .per_group(
                "host_disk",
                "device",
                &["await_ms"],
                vec![col("await_ms").mean()],
            )
            .expect("no polars error");
        let missing = rows.expect_err("missing");
        assert!(
            missing.0.contains("host_disk.await_ms with a usable type"),
            "{missing:?}"
        );
    }
}
