//! Sub-probe `mssql.indexes`: the indexes the optimizer asked for (server-wide,
//! `missing_indexes.sql`) and the use of the connected database's indexes
//! (`indexes.sql`), both read at the end of the window, as tables.

use perfdiag_model::{Table, col};

use crate::db::TextRows;

/// The `mssql_missing_indexes` table.
pub(crate) fn missing_indexes(rows: &TextRows, label: &str) -> Table {
    let n = rows.len();
    let text = |c: &'static str| col::utf8(rows.iter().map(|r| r.string(c)));
    let int = |c: &'static str| col::i64(rows.iter().map(|r| r.i64(c)));
    let float = |c: &'static str| col::f64(rows.iter().map(|r| r.f64(c)));
    Table::new()
        .with("target", col::utf8(vec![Some(label); n]))
        .with("database", text("database_name"))
        .with("schema", text("schema_name"))
        .with("table", text("table_name"))
        .with("equality_columns", text("equality_columns"))
        .with("inequality_columns", text("inequality_columns"))
        .with("included_columns", text("included_columns"))
        .with("user_seeks", int("user_seeks"))
        .with("user_scans", int("user_scans"))
        .with("avg_total_user_cost", float("avg_total_user_cost"))
        .with("avg_user_impact", float("avg_user_impact"))
        .with("improvement", float("improvement"))
}

/// The `mssql_indexes` table.
pub(crate) fn indexes(rows: &TextRows, label: &str) -> Table {
    let n = rows.len();
    let text = |c: &'static str| col::utf8(rows.iter().map(|r| r.string(c)));
    let int = |c: &'static str| col::i64(rows.iter().map(|r| r.i64(c)));
    let flag = |c: &'static str| col::bool(rows.iter().map(|r| r.bool(c)));
    Table::new()
        .with("target", col::utf8(vec![Some(label); n]))
        .with("database", text("database_name"))
        .with("schema", text("schema_name"))
        .with("table", text("table_name"))
        .with("index", text("index_name"))
        .with("type_desc", text("type_desc"))
        .with("is_unique", flag("is_unique"))
        .with("is_primary_key", flag("is_primary_key"))
        .with("key_columns", text("key_columns"))
        .with("user_seeks", int("user_seeks"))
        .with("user_scans", int("user_scans"))
        .with("user_lookups", int("user_lookups"))
        .with("user_updates", int("user_updates"))
        .with("size_bytes", int("size_bytes"))
        .with("rows", int("row_count"))
}
