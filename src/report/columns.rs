//! Reading snapshot table columns for the report: a column that is absent or of
//! another type reads as all `None`, so an older or partial snapshot still reports.

use perfdiag_model::{ColumnData, Table};

pub fn floats(t: &Table, name: &str) -> Vec<Option<f64>> {
    match t.column(name) {
        Some(ColumnData::Float64(v)) => v.clone(),
        _ => vec![None; t.rows()],
    }
}

pub fn ints(t: &Table, name: &str) -> Vec<Option<i64>> {
    match t.column(name) {
        Some(ColumnData::Int64(v)) => v.clone(),
        _ => vec![None; t.rows()],
    }
}

pub fn timestamps(t: &Table, name: &str) -> Vec<Option<i64>> {
    match t.column(name) {
        Some(ColumnData::Timestamp(v)) => v.clone(),
        _ => vec![None; t.rows()],
    }
}

pub fn strings(t: &Table, name: &str) -> Vec<Option<String>> {
    match t.column(name) {
        Some(ColumnData::Utf8(v)) => v.clone(),
        _ => vec![None; t.rows()],
    }
}

/// Numbers whether stored as integers or floats (counters are integers in one engine's
/// table and floats in another's).
pub fn numbers(t: &Table, name: &str) -> Vec<Option<f64>> {
    match t.column(name) {
        Some(ColumnData::Float64(v)) => v.clone(),
        Some(ColumnData::Int64(v)) => v.iter().map(|x| x.map(|x| x as f64)).collect(),
        _ => vec![None; t.rows()],
    }
}

/// Text whether stored as text or as integers (a pg queryid is an integer, a MySQL
/// digest text): ids compare as the analyzers print them.
pub fn texts(t: &Table, name: &str) -> Vec<Option<String>> {
    match t.column(name) {
        Some(ColumnData::Utf8(v)) => v.clone(),
        Some(ColumnData::Int64(v)) => v.iter().map(|x| x.map(|x| x.to_string())).collect(),
        _ => vec![None; t.rows()],
    }
}

/// The first `max` characters, with `…` when cut: a multi-megabyte statement is cut
/// for the page.
pub fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max).collect();
    out.push('…');
    out
}
