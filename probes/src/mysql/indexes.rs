//! Indexes worth questioning: redundant ones (their columns are a leading prefix of
//! another index of the same table, so the other serves every lookup they serve) and
//! unused ones (not read since performance_schema started).

use std::collections::BTreeMap;

use perfdiag_model::{Table, col};

use super::Ctx;
use super::query::{Conn, QueryError, fetch, int, text};

/// One index with its columns in order (`col` or `col(10)` for a prefix).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Index {
    pub schema: String,
    pub table: String,
    pub name: String,
    pub unique: bool,
    pub kind: String,
    pub columns: Vec<String>,
}

pub(crate) async fn read_columns(conn: &mut Conn, ctx: &Ctx) -> Result<Vec<Index>, QueryError> {
    let rows = fetch(
        conn,
        "index_columns",
        include_str!("sql/index_columns.sql"),
        ctx.guard,
    )
    .await?;
    let mut by_name: BTreeMap<(String, String, String), Index> = BTreeMap::new();
    for r in rows.iter() {
        let (Some(schema), Some(table), Some(name)) = (text(r, 0), text(r, 1), text(r, 2)) else {
            continue;
        };
        let column = match (text(r, 5), int(r, 6)) {
            (Some(c), Some(len)) => format!("{c}({len})"),
            (Some(c), None) => c,
            // Functional key parts (MySQL 8) have no column name.
            (None, _) => "<expression>".to_owned(),
        };
        let entry = by_name
            .entry((schema.clone(), table.clone(), name.clone()))
            .or_insert_with(|| Index {
                schema,
                table,
                name,
                unique: int(r, 3) == Some(0),
                kind: text(r, 7).unwrap_or_default(),
                columns: Vec::new(),
            });
        entry.columns.push(column);
    }
    Ok(by_name.into_values().collect())
}

/// `(schema, table, index)` of indexes with no reads since performance_schema started.
pub(crate) async fn read_unused(
    conn: &mut Conn,
    ctx: &Ctx,
) -> Result<Vec<(String, String, String)>, QueryError> {
    let rows = fetch(
        conn,
        "unused_indexes",
        include_str!("sql/unused_indexes.sql"),
        ctx.guard,
    )
    .await?;
    Ok(rows
        .iter()
        .filter_map(|r| Some((text(r, 0)?, text(r, 1)?, text(r, 2)?)))
        .collect())
}

/// For each redundant index, the index that makes it redundant. An index is redundant
/// when its columns are a leading prefix of another index of the same table and type,
/// unless it is unique and the other is longer (it then enforces something the other
/// does not). Of two identical indexes, the one with the later name is reported.
/// The primary key is never reported.
pub(crate) fn redundant(indexes: &[Index]) -> Vec<(&Index, &Index)> {
    let mut out = Vec::new();
    for a in indexes {
        if a.name == "PRIMARY" {
            continue;
        }
        let covering = indexes.iter().find(|b| {
            b.name != a.name
                && b.schema == a.schema
                && b.table == a.table
                && b.kind == a.kind
                && b.columns.len() >= a.columns.len()
                && b.columns[..a.columns.len()] == a.columns[..]
                && {
                    let same = b.columns.len() == a.columns.len();
                    if a.unique {
                        same && (b.unique && (b.name == "PRIMARY" || b.name < a.name))
                    } else if same && !b.unique {
                        b.name < a.name
                    } else {
                        true
                    }
                }
        });
        if let Some(b) = covering {
            out.push((a, b));
        }
    }
    out
}

/// The `mysql_indexes` table: every redundant or unused index, bounded.
pub(crate) fn table(
    target: &str,
    indexes: &[Index],
    unused: Option<&[(String, String, String)]>,
    limit: usize,
) -> Table {
    let redundant = redundant(indexes);
    let mut rows: Vec<(&Index, Option<&Index>, Option<bool>)> = Vec::new();
    let is_unused = |i: &Index| {
        unused.map(|u| {
            u.iter()
                .any(|(s, t, n)| *s == i.schema && *t == i.table && *n == i.name)
        })
    };
    for i in indexes {
        let with = redundant
            .iter()
            .find(|(a, _)| std::ptr::eq(*a, i))
            .map(|(_, b)| *b);
        let unused = is_unused(i);
        if with.is_some() || unused == Some(true) {
            rows.push((i, with, unused));
        }
    }
    rows.truncate(limit);
    Table::new()
        .with("target", col::utf8(rows.iter().map(|_| Some(target))))
        .with(
            "schema",
            col::utf8(rows.iter().map(|r| Some(r.0.schema.as_str()))),
        )
        .with(
            "table",
            col::utf8(rows.iter().map(|r| Some(r.0.table.as_str()))),
        )
        .with(
            "index",
            col::utf8(rows.iter().map(|r| Some(r.0.name.as_str()))),
        )
        .with(
            "columns",
            col::utf8(rows.iter().map(|r| Some(r.0.columns.join(", ")))),
        )
        .with("unique", col::bool(rows.iter().map(|r| Some(r.0.unique))))
        .with("unused", col::bool(rows.iter().map(|r| r.2)))
        .with(
            "redundant_with",
            col::utf8(rows.iter().map(|r| r.1.map(|b| b.name.as_str()))),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ix(name: &str, unique: bool, cols: &[&str]) -> Index {
        Index {
            schema: "app".into(),
            table: "orders".into(),
            name: name.into(),
            unique,
            kind: "BTREE".into(),
            columns: cols.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    #[test]
    fn redundant_indexes_are_leading_prefixes() {
        let all = vec![
            ix("PRIMARY", true, &["id"]),
            ix("by_customer", false, &["customer_id"]),
            ix("by_customer_date", false, &["customer_id", "created"]),
            ix("by_id", false, &["id"]),
            ix("uniq_ref", true, &["ref"]),
            ix("by_ref_status", false, &["ref", "status"]),
            ix("dup_a", false, &["status"]),
            ix("dup_b", false, &["status"]),
        ];
        let found: Vec<(&str, &str)> = redundant(&all)
            .iter()
            .map(|(a, b)| (a.name.as_str(), b.name.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("by_customer", "by_customer_date"),
                ("by_id", "PRIMARY"),
                ("dup_b", "dup_a")
            ]
        );
        let unused = vec![("app".to_owned(), "orders".to_owned(), "uniq_ref".to_owned())];
        let t = table("x", &all, Some(&unused), 100);
        assert_eq!(t.rows(), 4);
        let t = table("x", &all, None, 2);
        assert_eq!(t.rows(), 2);
    }
}
