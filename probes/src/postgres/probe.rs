//! Typed reading of rows, shared by the PostgreSQL modules, with the sub-probes'
//! [`Tally`] (probes/src/db/tally.rs).
//!
//! A sub-probe (`postgres.settings`, `postgres.statements`, ...) may run at the start
//! and again at the end of the window; its [`Tally`] gathers the time spent, what
//! could not be read and why, and decides the status once, in [`Tally::record`]:
//! nothing wrong is `ok`; something read and something not is `partial`; only a
//! missing privilege or extension is `skipped` (with the remedy as hint); nothing
//! read because of errors is `failed`.

use chrono::{DateTime, Utc};

use crate::db::Row;
pub(crate) use crate::db::tally::Tally;

// Typed reading of a row's cells (text from a live connection or from a capture's
// CSV file): NULL, a missing column and an unreadable value are all "unknown". The SQL
// casts every column to the type read here.

pub(crate) fn i64_of(row: Row<'_>, column: &str) -> Option<i64> {
    row.i64(column)
}

pub(crate) fn f64_of(row: Row<'_>, column: &str) -> Option<f64> {
    row.f64(column)
}

pub(crate) fn text_of(row: Row<'_>, column: &str) -> Option<String> {
    row.string(column)
}

pub(crate) fn bool_of(row: Row<'_>, column: &str) -> Option<bool> {
    row.bool(column)
}

pub(crate) fn time_of(row: Row<'_>, column: &str) -> Option<DateTime<Utc>> {
    row.time(column)
}

/// Microseconds since the epoch, for timestamp columns of tables.
pub(crate) fn micros_of(row: Row<'_>, column: &str) -> Option<i64> {
    time_of(row, column).map(|t| t.timestamp_micros())
}

/// A text array as PostgreSQL prints it (`{all,"my db"}`), as psql writes it to CSV.
pub(crate) fn array_literal(items: &[String]) -> String {
    let quoted: Vec<String> = items
        .iter()
        .map(|item| {
            let plain = !item.is_empty()
                && !item.eq_ignore_ascii_case("null")
                && !item
                    .chars()
                    .any(|c| matches!(c, '{' | '}' | ',' | '"' | '\\') || c.is_whitespace());
            if plain {
                item.clone()
            } else {
                format!("\"{}\"", item.replace('\\', "\\\\").replace('"', "\\\""))
            }
        })
        .collect();
    format!("{{{}}}", quoted.join(","))
}

/// The items of a one-dimensional text array literal; unquoted `NULL` items are left
/// out.
pub(crate) fn array_items(literal: &str) -> Vec<String> {
    let inner = literal
        .trim()
        .strip_prefix('{')
        .and_then(|s| s.strip_suffix('}'))
        .unwrap_or("");
    let mut items = Vec::new();
    let mut chars = inner.chars().peekable();
    while chars.peek().is_some() {
        let mut item = String::new();
        let mut quoted = false;
        if chars.peek() == Some(&'"') {
            quoted = true;
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => item.extend(chars.next()),
                    '"' => break,
                    c => item.push(c),
                }
            }
        }
        for c in chars.by_ref() {
            if c == ',' {
                break;
            }
            item.push(c);
        }
        if quoted || !item.trim().eq_ignore_ascii_case("null") {
            items.push(if quoted { item } else { item.trim().to_owned() });
        }
    }
    items
}

/// Quotes an identifier for interpolation into SQL (`"my schema"`).
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::super::connect::QueryError;
    use super::*;
    use perfdiag_model::ProbeStatus;

    fn err(code: &str) -> QueryError {
        QueryError {
            code: Some(code.to_owned()),
            message: "boom".to_owned(),
        }
    }

    #[test]
    fn a_failed_part_names_its_sqlstate() {
        let mut t = Tally::default();
        t.ok();
        t.failed("a", &err("57014"));
        let r = t.record("p", "x");
        assert_eq!(r.status, ProbeStatus::Partial);
        assert!(r.message.unwrap().contains("a: boom (SQLSTATE 57014)"));
    }

    #[test]
    fn text_arrays_survive_the_literal_form() {
        let items = vec!["all".to_owned(), "my db".to_owned(), "a\"b,c".to_owned()];
        let literal = array_literal(&items);
        assert_eq!(literal, "{all,\"my db\",\"a\\\"b,c\"}");
        assert_eq!(array_items(&literal), items);
        assert_eq!(array_items("{}"), Vec::<String>::new());
        assert_eq!(array_items("{replication}"), vec!["replication"]);
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("public"), "\"public\"");
        assert_eq!(quote_ident("a\"b"), "\"a\"\"b\"");
    }
}
