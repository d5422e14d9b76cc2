//! The rows of a snapshot table that belong to one database target, read by column
//! name: what the per-engine rules over sampled and listed tables share.

use perfdiag_model::{ColumnData, Table};

use super::Inputs;
use crate::frames::{Missing, Need};

/// The rows of snapshot table `name` that belong to `target`.
pub(in crate::rules) struct Rows<'a> {
    table: &'a Table,
    /// The indexes of the target's rows.
    pub rows: Vec<usize>,
}

impl<'a> Rows<'a> {
    pub fn of(inputs: &Inputs<'a>, name: &str, target: &str) -> Need<Self> {
        let table = inputs
            .snapshot
            .table(name)
            .ok_or_else(|| Missing(format!("table {name}")))?;
        let Some(ColumnData::Utf8(targets)) = table.column("target") else {
            return Err(Missing(format!("column {name}.target")));
        };
        let rows = targets
            .iter()
            .enumerate()
            .filter(|(_, t)| t.as_deref() == Some(target))
            .map(|(i, _)| i)
            .collect();
        Ok(Self { table, rows })
    }

    pub fn text(&self, column: &str, row: usize) -> Option<&'a str> {
        match self.table.column(column)? {
            ColumnData::Utf8(v) => v.get(row)?.as_deref(),
            _ => None,
        }
    }

    /// An integer column (a float one truncated).
    pub fn int(&self, column: &str, row: usize) -> Option<i64> {
        match self.table.column(column)? {
            ColumnData::Int64(v) | ColumnData::Timestamp(v) => *v.get(row)?,
            ColumnData::Float64(v) => v.get(row)?.map(|x| x as i64),
            _ => None,
        }
    }

    pub fn float(&self, column: &str, row: usize) -> Option<f64> {
        match self.table.column(column)? {
            ColumnData::Float64(v) => *v.get(row)?,
            ColumnData::Int64(v) => v.get(row)?.map(|x| x as f64),
            _ => None,
        }
    }

    pub fn flag(&self, column: &str, row: usize) -> Option<bool> {
        match self.table.column(column)? {
            ColumnData::Bool(v) => *v.get(row)?,
            ColumnData::Int64(v) => v.get(row)?.map(|x| x != 0),
            _ => None,
        }
    }

    /// `schema.table` of a row.
    pub fn qualified(&self, row: usize) -> String {
        format!(
            "{}.{}",
            self.text("schema", row).unwrap_or("?"),
            self.text("table", row).unwrap_or("?")
        )
    }
}

/// At most `n` names, then "and N more".
pub(in crate::rules) fn listing(names: &[String], n: usize) -> String {
    let mut out = names.iter().take(n).cloned().collect::<Vec<_>>().join(", ");
    if names.len() > n {
        out.push_str(&format!(" and {} more", names.len() - n));
    }
    out
}
