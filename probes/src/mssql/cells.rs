//! SQL Server values as text, so that a live result and a CSV written by `sqlcmd` go
//! through the same mapping ([`TextRows`]). The forms are those sqlcmd prints:
//!
//! | SQL Server type | text |
//! |---|---|
//! | tinyint, smallint, int, bigint | decimal digits: `42`, `-7` |
//! | decimal, numeric, money | the scale's digits: `12.50` |
//! | real, float | shortest exact form: `0.25`, `1234.5` |
//! | bit | `1` / `0` |
//! | (n)char, (n)varchar, xml | as is |
//! | uniqueidentifier | upper-case with hyphens |
//! | binary, varbinary | `0x` and upper-case hex |
//! | datetime, smalldatetime, datetime2, datetimeoffset | `YYYY-MM-DD HH:MM:SS.fff`, in UTC for datetimeoffset; the probe's queries return UTC for the others |
//! | date, time | `YYYY-MM-DD`, `HH:MM:SS.fff` |
//!
//! NULL is `None`.

use std::fmt::Write as _;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use tiberius::{ColumnData, FromSql, Row};

use crate::db::TextRows;

/// The format of date-times, with milliseconds like `datetime` keeps them.
pub const DATETIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.3f";

/// The rows of one result set as text.
pub(crate) fn text_rows(columns: Vec<String>, rows: &[Row]) -> TextRows {
    let mut out = TextRows::new(columns);
    for row in rows {
        out.rows
            .push(row.cells().map(|(_, data)| cell_text(data)).collect());
    }
    out
}

/// One value as text (see the module documentation).
pub fn cell_text(data: &ColumnData<'static>) -> Option<String> {
    match data {
        ColumnData::U8(v) => v.map(|v| v.to_string()),
        ColumnData::I16(v) => v.map(|v| v.to_string()),
        ColumnData::I32(v) => v.map(|v| v.to_string()),
        ColumnData::I64(v) => v.map(|v| v.to_string()),
        ColumnData::F32(v) => v.map(|v| v.to_string()),
        ColumnData::F64(v) => v.map(|v| v.to_string()),
        ColumnData::Bit(v) => v.map(|v| if v { "1" } else { "0" }.to_owned()),
        ColumnData::String(v) => v.as_ref().map(|s| s.to_string()),
        ColumnData::Guid(v) => v.map(|g| g.hyphenated().to_string().to_ascii_uppercase()),
        ColumnData::Binary(v) => v.as_ref().map(|b| {
            let mut s = String::with_capacity(2 + b.len() * 2);
            s.push_str("0x");
            for byte in b.iter() {
                let _ = write!(s, "{byte:02X}");
            }
            s
        }),
        ColumnData::Numeric(v) => v.map(|n| n.to_string()),
        ColumnData::Xml(v) => v.as_ref().map(|x| x.to_string()),
        ColumnData::DateTime(_) | ColumnData::SmallDateTime(_) | ColumnData::DateTime2(_) => {
            NaiveDateTime::from_sql(data)
                .ok()
                .flatten()
                .map(|t| t.format(DATETIME_FORMAT).to_string())
        }
        ColumnData::DateTimeOffset(_) => DateTime::<Utc>::from_sql(data)
            .ok()
            .flatten()
            .map(|t| t.format(DATETIME_FORMAT).to_string()),
        ColumnData::Date(_) => NaiveDate::from_sql(data)
            .ok()
            .flatten()
            .map(|d| d.format("%Y-%m-%d").to_string()),
        ColumnData::Time(_) => NaiveTime::from_sql(data)
            .ok()
            .flatten()
            .map(|t| t.format("%H:%M:%S%.3f").to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;
    use tiberius::ToSql;

    #[test]
    fn every_kind_of_value_prints_as_sqlcmd_does() {
        let cases: Vec<(ColumnData<'static>, Option<&str>)> = vec![
            (ColumnData::I32(Some(-7)), Some("-7")),
            (ColumnData::I64(Some(17_179_869_184)), Some("17179869184")),
            (ColumnData::U8(Some(255)), Some("255")),
            (ColumnData::F64(Some(0.25)), Some("0.25")),
            (ColumnData::Bit(Some(true)), Some("1")),
            (ColumnData::Bit(Some(false)), Some("0")),
            (ColumnData::I32(None), None),
            (
                ColumnData::String(Some(Cow::Borrowed("LCK_M_X"))),
                Some("LCK_M_X"),
            ),
            (
                ColumnData::Binary(Some(Cow::Owned(vec![0x1A, 0x00, 0xFF]))),
                Some("0x1A00FF"),
            ),
            (
                ColumnData::Numeric(Some(tiberius::numeric::Numeric::new_with_scale(1250, 2))),
                Some("12.50"),
            ),
        ];
        for (data, want) in cases {
            assert_eq!(cell_text(&data).as_deref(), want, "{data:?}");
        }
    }

    #[test]
    fn date_times_print_with_milliseconds() {
        let t = NaiveDate::from_ymd_opt(2026, 12, 2)
            .unwrap()
            .and_hms_milli_opt(14, 19, 48, 123)
            .unwrap();
        let data: ColumnData<'static> = match t.to_sql() {
            ColumnData::DateTime2(v) => ColumnData::DateTime2(v),
            other => panic!("a NaiveDateTime is sent as datetime2, not {other:?}"),
        };
        assert_eq!(cell_text(&data).as_deref(), Some("2026-12-02 14:19:48.123"));
        let parsed = crate::db::rows::parse_time(&cell_text(&data).unwrap()).unwrap();
        assert_eq!(parsed.naive_utc(), t);
    }
}
