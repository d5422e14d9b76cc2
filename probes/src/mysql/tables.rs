//! Tables outside the system schemas: size, engine, primary key. The data sizes of all
//! of them go to the facts (the buffer pool rule compares against them); the table
//! keeps the largest N and every table without a primary key (up to a limit).

use std::collections::HashMap;

use perfdiag_model::facts::mysql::DataSizes;
use perfdiag_model::{Table, col};

use super::Ctx;
use super::query::{Conn, QueryError, fetch, text, uint};

/// How many tables without a primary key are kept beyond the top N by size.
const NO_PK_LIMIT: usize = 1000;

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TableRow {
    pub schema: String,
    pub name: String,
    pub engine: Option<String>,
    pub rows: Option<u64>,
    pub data_bytes: Option<u64>,
    pub index_bytes: Option<u64>,
    pub has_primary_key: Option<bool>,
    /// Key columns of each index, `a,b;c` (see [`mark_indexes`]).
    pub index_keys: Option<String>,
}

impl TableRow {
    fn bytes(&self) -> u64 {
        self.data_bytes.unwrap_or(0) + self.index_bytes.unwrap_or(0)
    }
}

pub(crate) async fn read(conn: &mut Conn, ctx: &Ctx) -> Result<Vec<TableRow>, QueryError> {
    let rows = fetch(conn, "tables", include_str!("sql/tables.sql"), ctx.guard).await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            Some(TableRow {
                schema: text(r, 0)?,
                name: text(r, 1)?,
                engine: text(r, 2),
                rows: uint(r, 3),
                data_bytes: uint(r, 4),
                index_bytes: uint(r, 5),
                has_primary_key: None,
                index_keys: None,
            })
        })
        .collect())
}

/// Whether the account sees every table: it sees the `mysql` schema's own tables,
/// which only broad privileges allow. Unknown (an error) counts as no.
pub(crate) async fn sees_all_tables(conn: &mut Conn, ctx: &Ctx) -> bool {
    fetch(
        conn,
        "system_tables_visible",
        include_str!("sql/system_tables_visible.sql"),
        ctx.guard,
    )
    .await
    .ok()
    .and_then(|rows| rows.first().and_then(|r| uint(r, 0)))
    .is_some_and(|n| n > 0)
}

/// Sets `has_primary_key` (an index named PRIMARY) and `index_keys` from the index
/// list: the columns of each index in order, joined by `,`, indexes by `;`, without
/// prefix lengths (a prefix index still serves lookups on its column).
pub(crate) fn mark_indexes(tables: &mut [TableRow], indexes: &[super::indexes::Index]) {
    let mut by_table: HashMap<(&str, &str), (bool, Vec<String>)> = HashMap::new();
    for i in indexes {
        let entry = by_table
            .entry((i.schema.as_str(), i.table.as_str()))
            .or_default();
        entry.0 |= i.name == "PRIMARY";
        let columns: Vec<&str> = i.columns.iter().map(|c| without_prefix(c)).collect();
        entry.1.push(columns.join(","));
    }
    for t in tables {
        let found = by_table.get(&(t.schema.as_str(), t.name.as_str()));
        t.has_primary_key = Some(found.is_some_and(|(pk, _)| *pk));
        t.index_keys = Some(found.map(|(_, keys)| keys.join(";")).unwrap_or_default());
    }
}

/// `name(10)` → `name`.
fn without_prefix(column: &str) -> &str {
    match column.strip_suffix(')').and_then(|c| c.rsplit_once('(')) {
        Some((name, len)) if !len.is_empty() && len.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => column,
    }
}

pub(crate) fn sizes(tables: &[TableRow]) -> DataSizes {
    let is = |t: &TableRow, engine: &str| {
        t.engine
            .as_deref()
            .is_some_and(|e| e.eq_ignore_ascii_case(engine))
    };
    DataSizes {
        innodb_bytes: tables
            .iter()
            .filter(|t| is(t, "InnoDB"))
            .map(TableRow::bytes)
            .sum(),
        total_bytes: tables.iter().map(TableRow::bytes).sum(),
        tables: tables.len() as u64,
        myisam_tables: tables.iter().filter(|t| is(t, "MyISAM")).count() as u64,
    }
}

/// The largest `top_n` tables, then tables without a primary key and MyISAM tables
/// (what the rules name), bounded.
pub(crate) fn keep(mut tables: Vec<TableRow>, top_n: usize) -> Vec<TableRow> {
    tables.sort_by(|a, b| {
        b.bytes()
            .cmp(&a.bytes())
            .then_with(|| (&a.schema, &a.name).cmp(&(&b.schema, &b.name)))
    });
    let mut flagged = 0;
    let mut kept = Vec::new();
    for (i, t) in tables.into_iter().enumerate() {
        let notable = t.has_primary_key == Some(false)
            || t.engine
                .as_deref()
                .is_some_and(|e| e.eq_ignore_ascii_case("MyISAM"));
        if i < top_n {
            kept.push(t);
        } else if notable && flagged < NO_PK_LIMIT {
            flagged += 1;
            kept.push(t);
        }
    }
    kept
}

/// The `mysql_tables` table.
pub(crate) fn table(target: &str, tables: &[TableRow]) -> Table {
    let u = |f: fn(&TableRow) -> Option<u64>| {
        col::i64(
            tables
                .iter()
                .map(|t| f(t).and_then(|v| i64::try_from(v).ok())),
        )
    };
    Table::new()
        .with("target", col::utf8(tables.iter().map(|_| Some(target))))
        .with(
            "schema",
            col::utf8(tables.iter().map(|t| Some(t.schema.as_str()))),
        )
        .with(
            "table",
            col::utf8(tables.iter().map(|t| Some(t.name.as_str()))),
        )
        .with(
            "engine",
            col::utf8(tables.iter().map(|t| t.engine.as_deref())),
        )
        .with("rows", u(|t| t.rows))
        .with("data_bytes", u(|t| t.data_bytes))
        .with("index_bytes", u(|t| t.index_bytes))
        .with(
            "has_primary_key",
            col::bool(tables.iter().map(|t| t.has_primary_key)),
        )
        .with(
            "index_keys",
            col::utf8(tables.iter().map(|t| t.index_keys.as_deref())),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(name: &str, engine: &str, bytes: u64, pk: bool) -> TableRow {
        TableRow {
            schema: "app".into(),
            name: name.into(),
            engine: Some(engine.into()),
            rows: Some(1),
            data_bytes: Some(bytes),
            index_bytes: Some(0),
            has_primary_key: Some(pk),
            index_keys: None,
        }
    }

    #[test]
    fn index_keys_and_primary_keys_come_from_the_index_list() {
        let index = |table: &str, name: &str, columns: &[&str]| super::super::indexes::Index {
            schema: "app".into(),
            table: table.into(),
            name: name.into(),
            unique: name == "PRIMARY",
            kind: "BTREE".into(),
            columns: columns.iter().map(|c| (*c).to_owned()).collect(),
        };
        let mut tables = vec![
            t("orders", "InnoDB", 1, false),
            t("bare", "InnoDB", 1, true),
        ];
        mark_indexes(
            &mut tables,
            &[
                index("orders", "PRIMARY", &["id"]),
                index("orders", "by_name", &["name(10)", "day"]),
                index("other", "PRIMARY", &["(x)"]),
            ],
        );
        assert_eq!(tables[0].has_primary_key, Some(true));
        assert_eq!(tables[0].index_keys.as_deref(), Some("id;name,day"));
        assert_eq!(tables[1].has_primary_key, Some(false));
        assert_eq!(tables[1].index_keys.as_deref(), Some(""));
        assert_eq!(without_prefix("f(x)"), "f(x)");
    }

    #[test]
    fn sizes_and_kept_rows() {
        let all = vec![
            t("big", "InnoDB", 1000, true),
            t("nopk", "InnoDB", 10, false),
            t("small", "InnoDB", 5, true),
            t("old", "MyISAM", 1, true),
        ];
        let s = sizes(&all);
        assert_eq!(
            (s.innodb_bytes, s.total_bytes, s.tables, s.myisam_tables),
            (1015, 1016, 4, 1)
        );
        let kept = keep(all, 1);
        let names: Vec<&str> = kept.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["big", "nopk", "old"]);
        assert_eq!(table("x", &kept).rows(), 3);
    }
}
