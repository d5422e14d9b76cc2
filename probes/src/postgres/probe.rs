//! Sub-probe bookkeeping and typed reading of rows, shared by the PostgreSQL modules.
//!
//! A sub-probe (`postgres.settings`, `postgres.statements`, ...) may run at the start
//! and again at the end of the window; its [`Tally`] gathers the time spent, what
//! could not be read and why, and decides the status once, in [`Tally::record`]:
//! nothing wrong is `ok`; something read and something not is `partial`; only a
//! missing privilege or extension is `skipped` (with the remedy as hint); nothing
//! read because of errors is `failed`.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use perfdiag_model::{ProbeRecord, ProbeStatus};

use super::connect::QueryError;
use crate::db::Row;

#[derive(Debug, Default)]
pub(crate) struct Tally {
    spent: Duration,
    /// Parts that were read.
    ok_parts: u32,
    /// Parts not read because of an error: what, and the error.
    failed: Vec<String>,
    /// Parts not read because a privilege or an extension is missing.
    skipped: Vec<String>,
    hints: Vec<String>,
}

impl Tally {
    /// Runs one part of the sub-probe, timing it.
    pub fn timed<T>(&mut self, body: impl FnOnce(&mut Self) -> T) -> T {
        let started = Instant::now();
        let out = body(self);
        self.spent += started.elapsed();
        out
    }

    pub fn ok(&mut self) {
        self.ok_parts += 1;
    }

    pub fn failed(&mut self, what: &str, err: &QueryError) {
        self.failed.push(format!("{what}: {err}"));
    }

    /// A part left out for lack of a privilege or an extension, with the remedy.
    pub fn skipped(&mut self, what: String, hint: &str) {
        self.skipped.push(what);
        if !self.hints.iter().any(|h| h == hint) {
            self.hints.push(hint.to_owned());
        }
    }

    pub fn hint(&mut self, hint: &str) {
        if !self.hints.iter().any(|h| h == hint) {
            self.hints.push(hint.to_owned());
        }
    }

    /// Whether nothing went wrong so far.
    pub fn is_clean(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty()
    }

    pub fn record(&self, id: &str, target: &str) -> ProbeRecord {
        let status = if self.is_clean() {
            ProbeStatus::Ok
        } else if self.ok_parts > 0 {
            ProbeStatus::Partial
        } else if self.failed.is_empty() {
            ProbeStatus::Skipped
        } else {
            ProbeStatus::Failed
        };
        let mut message = Vec::new();
        if !self.skipped.is_empty() {
            message.push(format!("not collected: {}", self.skipped.join("; ")));
        }
        if !self.failed.is_empty() {
            message.push(format!("failed: {}", self.failed.join("; ")));
        }
        ProbeRecord {
            id: id.to_owned(),
            target: Some(target.to_owned()),
            status,
            duration_ms: u64::try_from(self.spent.as_millis()).unwrap_or(u64::MAX),
            message: (!message.is_empty()).then(|| message.join(". ")),
            hint: (!self.hints.is_empty()).then(|| self.hints.join("\n")),
        }
    }
}

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
    use super::*;

    fn err(code: &str) -> QueryError {
        QueryError {
            code: Some(code.to_owned()),
            message: "boom".to_owned(),
        }
    }

    #[test]
    fn status_is_decided_in_one_place() {
        let mut t = Tally::default();
        t.ok();
        assert_eq!(t.record("p", "x").status, ProbeStatus::Ok);
        t.failed("a", &err("57014"));
        let r = t.record("p", "x");
        assert_eq!(r.status, ProbeStatus::Partial);
        assert!(r.message.unwrap().contains("a: boom (SQLSTATE 57014)"));

        let mut s = Tally::default();
        s.skipped("hba".into(), "GRANT x");
        let r = s.record("p", "x");
        assert_eq!(r.status, ProbeStatus::Skipped);
        assert_eq!(r.hint.as_deref(), Some("GRANT x"));
        assert_eq!(r.target.as_deref(), Some("x"));

        let mut f = Tally::default();
        f.failed("a", &err("XX000"));
        assert_eq!(f.record("p", "x").status, ProbeStatus::Failed);
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
