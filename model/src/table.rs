//! A small columnar table: what probes produce and the snapshot stores as Parquet.
//!
//! Kept deliberately simple (five nullable column types) so that the model crate needs
//! neither polars nor arrow; analyzers turn a [`Table`] into a polars frame.

use serde::{Deserialize, Serialize};

/// The type of a column, as recorded in the manifest and in the Parquet schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnType {
    Int64,
    Float64,
    Utf8,
    Bool,
    /// Microseconds since the Unix epoch, UTC.
    Timestamp,
}

/// The values of one column; `None` is a missing value (unknown), never a zero.
#[derive(Debug, Clone, PartialEq)]
pub enum ColumnData {
    Int64(Vec<Option<i64>>),
    Float64(Vec<Option<f64>>),
    Utf8(Vec<Option<String>>),
    Bool(Vec<Option<bool>>),
    Timestamp(Vec<Option<i64>>),
}

impl ColumnData {
    pub fn len(&self) -> usize {
        match self {
            Self::Int64(v) | Self::Timestamp(v) => v.len(),
            Self::Float64(v) => v.len(),
            Self::Utf8(v) => v.len(),
            Self::Bool(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn column_type(&self) -> ColumnType {
        match self {
            Self::Int64(_) => ColumnType::Int64,
            Self::Float64(_) => ColumnType::Float64,
            Self::Utf8(_) => ColumnType::Utf8,
            Self::Bool(_) => ColumnType::Bool,
            Self::Timestamp(_) => ColumnType::Timestamp,
        }
    }
}

/// A named column.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub data: ColumnData,
}

/// A table whose columns all have the same length.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Table {
    columns: Vec<Column>,
}

impl Table {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a column. Panics when its length differs from the others' or its name is
    /// taken: both are programming errors in the probe that builds the table.
    #[must_use]
    pub fn with(mut self, name: &str, data: ColumnData) -> Self {
        assert!(
            self.columns
                .first()
                .is_none_or(|c| c.data.len() == data.len()),
            "column {name} has {} rows, the table has {}",
            data.len(),
            self.rows()
        );
        assert!(self.column(name).is_none(), "duplicate column {name}");
        self.columns.push(Column {
            name: name.to_owned(),
            data,
        });
        self
    }

    pub fn rows(&self) -> usize {
        self.columns.first().map_or(0, |c| c.data.len())
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    pub fn column(&self, name: &str) -> Option<&ColumnData> {
        self.columns
            .iter()
            .find(|c| c.name == name)
            .map(|c| &c.data)
    }

    /// Appends the rows of `other`, which must have the same columns (names and types,
    /// in order): tables of several targets are gathered into one.
    pub fn append(&mut self, other: Table) -> Result<(), String> {
        if self.columns.is_empty() {
            *self = other;
            return Ok(());
        }
        let same = self.columns.len() == other.columns.len()
            && self
                .columns
                .iter()
                .zip(&other.columns)
                .all(|(a, b)| a.name == b.name && a.data.column_type() == b.data.column_type());
        if !same {
            return Err("the tables have different columns".to_owned());
        }
        for (mine, theirs) in self.columns.iter_mut().zip(other.columns) {
            match (&mut mine.data, theirs.data) {
                (ColumnData::Int64(a), ColumnData::Int64(b))
                | (ColumnData::Timestamp(a), ColumnData::Timestamp(b)) => a.extend(b),
                (ColumnData::Float64(a), ColumnData::Float64(b)) => a.extend(b),
                (ColumnData::Utf8(a), ColumnData::Utf8(b)) => a.extend(b),
                (ColumnData::Bool(a), ColumnData::Bool(b)) => a.extend(b),
                _ => unreachable!("column types were compared above"),
            }
        }
        Ok(())
    }

    /// Builds a table from columns read back from storage, checking lengths agree.
    pub(crate) fn from_columns(columns: Vec<Column>) -> Result<Self, String> {
        if let Some(first) = columns.first() {
            let n = first.data.len();
            if let Some(bad) = columns.iter().find(|c| c.data.len() != n) {
                return Err(format!(
                    "column {} has {} rows where {} has {n}",
                    bad.name,
                    bad.data.len(),
                    first.name
                ));
            }
        }
        Ok(Self { columns })
    }
}

/// Convenience constructors so probes can write `col::f64(rows.iter().map(..))`.
pub mod col {
    use super::ColumnData;

    pub fn i64(values: impl IntoIterator<Item = Option<i64>>) -> ColumnData {
        ColumnData::Int64(values.into_iter().collect())
    }
    pub fn f64(values: impl IntoIterator<Item = Option<f64>>) -> ColumnData {
        ColumnData::Float64(values.into_iter().collect())
    }
    pub fn utf8<S: Into<String>>(values: impl IntoIterator<Item = Option<S>>) -> ColumnData {
        ColumnData::Utf8(values.into_iter().map(|v| v.map(Into::into)).collect())
    }
    pub fn bool(values: impl IntoIterator<Item = Option<bool>>) -> ColumnData {
        ColumnData::Bool(values.into_iter().collect())
    }
    /// Microseconds since the Unix epoch, UTC.
    pub fn timestamp(values: impl IntoIterator<Item = Option<i64>>) -> ColumnData {
        ColumnData::Timestamp(values.into_iter().collect())
    }
}
