//! Query results as text: what a live connection returned, converted cell by cell,
//! and what an engine's own client wrote into a CSV file look the same here, so one
//! mapping from rows to facts serves `collect` (live), `import` (offline scripts) and
//! the tests on recorded rows.
//!
//! A cell is `None` for SQL NULL. Numbers are read as the engines print them, booleans
//! as `t`/`f`, `true`/`false`, `1`/`0`, `ON`/`OFF`, and times in the ISO forms psql,
//! mysql and sqlcmd print (see [`parse_time`]).

use std::collections::BTreeSet;
use std::io::Read;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDateTime, Utc};

/// The rows of one query, with their column names.
#[derive(Debug, Clone, Default)]
pub struct TextRows {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Option<String>>>,
    /// When set (rows read from a file), every column a mapping asked for and did not
    /// find is noted here: a file from another version of the scripts or of the
    /// server then gets named in the import's report instead of reading as NULL.
    absent: Option<Arc<Mutex<BTreeSet<String>>>>,
}

/// Rows are equal when their columns and cells are; the tracking is not data.
impl PartialEq for TextRows {
    fn eq(&self, other: &Self) -> bool {
        self.columns == other.columns && self.rows == other.rows
    }
}

impl Eq for TextRows {}

/// A malformed input: what is wrong, at which record (1-based, header excluded).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct RowsError {
    pub message: String,
}

impl TextRows {
    pub fn new(columns: Vec<String>) -> Self {
        Self {
            columns,
            rows: Vec::new(),
            absent: None,
        }
    }

    /// From now on, notes into `absent` every column a mapping asks for and does not
    /// find (the import names the file and the columns).
    pub fn track_absent(&mut self, absent: Arc<Mutex<BTreeSet<String>>>) {
        self.absent = Some(absent);
    }

    fn note_absent(&self, column: impl FnOnce() -> String) {
        if let Some(absent) = &self.absent
            && let Ok(mut set) = absent.lock()
        {
            set.insert(column());
        }
    }

    /// Reads the output of `mysql --batch` (the MySQL and MariaDB clients): a header
    /// line, tab-separated fields, `NULL` for SQL NULL, and `\n`, `\t`, `\\`, `\0`
    /// escapes. (The clients cannot write CSV: that is the server's `INTO OUTFILE`,
    /// which needs the FILE privilege.) A string whose text is `NULL` reads as NULL:
    /// the format cannot tell them apart.
    pub fn from_mysql_batch(input: impl Read) -> Result<Self, RowsError> {
        let mut text = String::new();
        let mut input = input;
        input.read_to_string(&mut text).map_err(|e| RowsError {
            message: format!("not readable as UTF-8 text: {e}"),
        })?;
        let mut lines = text.split('\n');
        let Some(header) = lines.next().filter(|h| !h.is_empty()) else {
            return Ok(Self::default());
        };
        let columns: Vec<String> = header.split('\t').map(unescape_batch).collect();
        let mut out = Self::new(columns);
        for (i, line) in lines.enumerate() {
            if line.is_empty() {
                continue;
            }
            let cells: Vec<Option<String>> = line
                .split('\t')
                .map(|c| (c != "NULL").then(|| unescape_batch(c)))
                .collect();
            if cells.len() != out.columns.len() {
                return Err(RowsError {
                    message: format!(
                        "record {}: {} fields where the header has {}",
                        i + 1,
                        cells.len(),
                        out.columns.len()
                    ),
                });
            }
            out.rows.push(cells);
        }
        if !text.is_empty() && !text.ends_with('\n') {
            return Err(RowsError {
                message: "the last line is cut short (no line end)".to_owned(),
            });
        }
        Ok(out)
    }

    /// The first row, if any.
    pub fn first(&self) -> Option<Row<'_>> {
        self.iter().next()
    }

    /// Reads a CSV file with a header line. `null` is the text that stands for SQL
    /// NULL in this file (psql `--csv` writes NULL as an empty unquoted field, so
    /// `Some("")` there; sqlcmd writes `NULL`); a quoted empty string stays a string
    /// only when the CSV reader can tell, which it cannot, so an empty field is NULL
    /// whenever `null` is empty.
    pub fn from_csv(input: impl Read, null: &str) -> Result<Self, RowsError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(input);
        let columns = reader
            .headers()
            .map_err(|e| RowsError {
                message: format!("the header line cannot be read: {e}"),
            })?
            .iter()
            .map(|c| c.trim().to_owned())
            .collect::<Vec<_>>();
        let mut out = Self::new(columns);
        for (i, record) in reader.records().enumerate() {
            let record = record.map_err(|e| RowsError {
                message: format!("record {}: {e}", i + 1),
            })?;
            out.rows.push(
                record
                    .iter()
                    .map(|cell| (cell != null).then(|| cell.to_owned()))
                    .collect(),
            );
        }
        Ok(out)
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The index of a column (case-insensitive: T-SQL and MySQL fold names).
    pub fn index(&self, column: &str) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| c.eq_ignore_ascii_case(column))
    }

    /// Each row, for typed reading.
    pub fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(move |cells| Row { rows: self, cells })
    }
}

/// `mysql --batch` escapes: `\n`, `\t`, `\\`, `\0`.
fn unescape_batch(cell: &str) -> String {
    if !cell.contains('\\') {
        return cell.to_owned();
    }
    let mut out = String::with_capacity(cell.len());
    let mut chars = cell.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('0') => out.push('\0'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// One row, read by column name (or position). A missing column reads as NULL.
#[derive(Debug, Clone, Copy)]
pub struct Row<'a> {
    rows: &'a TextRows,
    cells: &'a [Option<String>],
}

impl<'a> Row<'a> {
    pub fn text(&self, column: &str) -> Option<&'a str> {
        let Some(i) = self.rows.index(column) else {
            self.rows.note_absent(|| column.to_owned());
            return None;
        };
        self.cells.get(i)?.as_deref()
    }

    /// Like [`Row::text`], for a column that only some versions have (read under
    /// one name or another): its absence is not noted.
    pub fn text_if_present(&self, column: &str) -> Option<&'a str> {
        let i = self.rows.index(column)?;
        self.cells.get(i)?.as_deref()
    }

    /// The cell at position `i` (0-based), for results whose column names are
    /// expressions (`version()`, `@@version_comment`).
    pub fn at(&self, i: usize) -> Option<&'a str> {
        if i >= self.rows.columns.len() {
            self.rows.note_absent(|| format!("column {}", i + 1));
            return None;
        }
        self.cells.get(i)?.as_deref()
    }

    pub fn string(&self, column: &str) -> Option<String> {
        self.text(column).map(str::to_owned)
    }

    /// An integer; a decimal with no fraction (`12.0`, as some clients print
    /// bigint sums) is accepted.
    pub fn i64(&self, column: &str) -> Option<i64> {
        let t = self.text(column)?.trim();
        t.parse().ok().or_else(|| {
            let f: f64 = t.parse().ok()?;
            (f.fract() == 0.0 && f.abs() < 9.0e18).then_some(f as i64)
        })
    }

    pub fn f64(&self, column: &str) -> Option<f64> {
        self.text(column)?.trim().parse().ok()
    }

    pub fn bool(&self, column: &str) -> Option<bool> {
        parse_bool(self.text(column)?)
    }

    pub fn time(&self, column: &str) -> Option<DateTime<Utc>> {
        parse_time(self.text(column)?)
    }
}

pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "t" | "true" | "1" | "on" | "yes" | "y" => Some(true),
        "f" | "false" | "0" | "off" | "no" | "n" => Some(false),
        _ => None,
    }
}

/// A time as the clients print it: RFC 3339 (`2026-12-02T14:19:48.123Z`), psql's
/// `2026-12-02 14:19:48.123+00` (or `+05:30`), and a zone-less
/// `2026-12-02 14:19:48[.fff]` (mysql, sqlcmd), which is taken as UTC: the probe
/// queries convert to UTC on the server.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(d.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f%:z"] {
        if let Ok(d) = DateTime::parse_from_str(t, format) {
            return Some(d.with_timezone(&Utc));
        }
    }
    for format in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, format) {
            return Some(d.and_utc());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_nulls_reads_by_name() {
        let csv = "Name,value,flag,at\nmaxdop,8,t,2026-12-02 14:19:48.5+00\nx,,NULL,\n";
        let rows = TextRows::from_csv(csv.as_bytes(), "").unwrap();
        assert_eq!(rows.len(), 2);
        let r: Vec<Row<'_>> = rows.iter().collect();
        assert_eq!(r[0].text("name"), Some("maxdop"));
        assert_eq!(r[0].i64("VALUE"), Some(8));
        assert_eq!(r[0].bool("flag"), Some(true));
        assert_eq!(
            r[0].time("at").unwrap().to_rfc3339(),
            "2026-12-02T14:19:48.500+00:00"
        );
        assert_eq!(r[1].i64("value"), None, "empty field is NULL");
        assert_eq!(r[1].bool("flag"), None, "NULL is not a boolean");
        assert_eq!(r[1].text("nope"), None);
    }

    #[test]
    fn sqlcmd_null_marker_and_ragged_records() {
        let rows = TextRows::from_csv("a,b\nNULL,\n".as_bytes(), "NULL").unwrap();
        let r = rows.iter().next().unwrap();
        assert_eq!(r.text("a"), None);
        assert_eq!(r.text("b"), Some(""));
        let err = TextRows::from_csv("a,b\n1\n".as_bytes(), "").unwrap_err();
        assert!(err.message.contains("record 1"), "{}", err.message);
    }

    #[test]
    fn times_in_every_client_form() {
        let want = "2026-12-02T14:19:48+00:00";
        for t in [
            "2026-12-02T14:19:48Z",
            "2026-12-02 14:19:48+00",
            "2026-12-02 19:49:48+05:30",
            "2026-12-02 14:19:48",
            "2026-12-02 14:19:48.000",
        ] {
            assert_eq!(parse_time(t).unwrap().to_rfc3339(), want, "{t}");
        }
        assert_eq!(parse_time("yesterday"), None);
    }

    #[test]
    fn mysql_batch_output_with_escapes_and_nulls() {
        let tsv = "User\tHost\tinfo\nroot\tlocalhost\tNULL\na\\tb\t%\tline\\none\n";
        let rows = TextRows::from_mysql_batch(tsv.as_bytes()).unwrap();
        let r: Vec<Row<'_>> = rows.iter().collect();
        assert_eq!(r[0].text("user"), Some("root"));
        assert_eq!(r[0].text("info"), None);
        assert_eq!(r[1].at(0), Some("a\tb"));
        assert_eq!(r[1].text("info"), Some("line\none"));
        let cut = TextRows::from_mysql_batch("a\tb\n1\t2\n3".as_bytes()).unwrap_err();
        assert!(cut.message.contains("record 2"), "{}", cut.message);
        let short = TextRows::from_mysql_batch("a\tb\n1\t2".as_bytes()).unwrap_err();
        assert!(short.message.contains("cut short"), "{}", short.message);
        assert!(
            TextRows::from_mysql_batch("".as_bytes())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn absent_columns_are_noted_when_tracked() {
        let mut rows = TextRows::from_csv("a,b\n1,2\n".as_bytes(), "").unwrap();
        let absent = Arc::new(Mutex::new(BTreeSet::new()));
        rows.track_absent(Arc::clone(&absent));
        let r = rows.first().unwrap();
        assert_eq!(r.text("a"), Some("1"));
        assert_eq!(r.text("gone"), None);
        assert_eq!(r.text_if_present("optional"), None);
        assert_eq!(r.at(5), None);
        let noted: Vec<String> = absent.lock().unwrap().iter().cloned().collect();
        assert_eq!(noted, vec!["column 6".to_owned(), "gone".to_owned()]);
    }

    #[test]
    fn integers_printed_as_decimals() {
        let rows = TextRows::from_csv("n\n12.0\n12.5\n".as_bytes(), "").unwrap();
        let v: Vec<Option<i64>> = rows.iter().map(|r| r.i64("n")).collect();
        assert_eq!(v, vec![Some(12), None]);
    }
}
