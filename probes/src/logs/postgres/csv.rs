//! PostgreSQL csvlog: RFC 4180 records (quoted fields may hold newlines and `""`),
//! columns in PostgreSQL's order: log_time, user_name, database_name, process_id,
//! connection_from, session_id, session_line_num, command_tag, session_start_time,
//! virtual_transaction_id, transaction_id, error_severity, sql_state_code, message,
//! detail, hint, … (later columns vary by version and are skipped).

use std::borrow::Cow;

use super::{Assembler, Rec, Sev, field, ts};
use crate::logs::{LogEvent, LogParser, ParseStats};

/// Parser for csvlog files.
#[derive(Debug, Clone, Default)]
pub struct PgCsvParser;

impl PgCsvParser {
    pub fn new() -> Self {
        PgCsvParser
    }
}

/// One field: raw bytes (without quotes) and whether it holds `""` escapes.
type Field<'a> = (&'a [u8], bool);

/// Reads one record at `pos`: fills `out` with the first fields, returns the position
/// after the record's newline and the number of physical lines it spans.
fn record<'a>(data: &'a [u8], mut pos: usize, out: &mut Vec<Field<'a>>) -> (usize, u64) {
    out.clear();
    let mut lines = 1;
    loop {
        let f: Field<'a>;
        if data.get(pos) == Some(&b'"') {
            let s = pos + 1;
            let mut i = s;
            let mut esc = false;
            loop {
                match memchr::memchr(b'"', &data[i..]) {
                    Some(q) => {
                        lines += memchr::memchr_iter(b'\n', &data[i..i + q]).count() as u64;
                        i += q + 1;
                        if data.get(i) == Some(&b'"') {
                            esc = true;
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    None => {
                        // Unterminated quote (truncated file): the rest is this field.
                        lines += memchr::memchr_iter(b'\n', &data[i..]).count() as u64;
                        i = data.len() + 1;
                        break;
                    }
                }
            }
            f = (&data[s..(i - 1).min(data.len())], esc);
            pos = i.min(data.len());
        } else {
            let e = memchr::memchr2(b',', b'\n', &data[pos..]).map_or(data.len(), |i| pos + i);
            let raw = &data[pos..e];
            f = (raw.strip_suffix(b"\r").unwrap_or(raw), false);
            pos = e;
        }
        if out.len() < 16 {
            out.push(f);
        }
        match data.get(pos) {
            Some(b',') => pos += 1,
            Some(b'\n') => return (pos + 1, lines),
            Some(b'\r') if data.get(pos + 1) == Some(&b'\n') => return (pos + 2, lines),
            None => return (pos, lines),
            // Junk after a closing quote: resynchronise at the end of the line.
            Some(_) => {
                let e = memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i + 1);
                return (e, lines);
            }
        }
    }
}

fn unquote(f: Field<'_>) -> Cow<'_, str> {
    let t = String::from_utf8_lossy(f.0);
    if f.1 {
        Cow::Owned(t.replace("\"\"", "\""))
    } else {
        t
    }
}

/// `host:port` → `host` (IPv4 and names; IPv6 and `[local]` kept whole).
fn client_host(b: &[u8]) -> Option<&str> {
    let s = field(b)?;
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.bytes().all(|c| c.is_ascii_digit()) => Some(h),
        _ => Some(s),
    }
}

/// A line that starts a csvlog record: a (quoted) timestamp followed by a comma.
fn is_record_start(line: &[u8]) -> bool {
    match line.strip_prefix(b"\"") {
        Some(l) => is_csv_start(l, true),
        None => is_csv_start(line, false),
    }
}

/// `l` (after an optional opening quote `q`) starts with a timestamp and a comma.
pub(crate) fn is_csv_start(l: &[u8], q: bool) -> bool {
    match ts::parse_pg_ts(l) {
        Some((_, n)) => l.get(n..).is_some_and(|r| {
            if q {
                r.starts_with(b"\",")
            } else {
                r.starts_with(b",")
            }
        }),
        None => false,
    }
}

/// Parses the records of `chunk` from `pos` to its end into `asm`.
fn records<'a>(
    chunk: &'a [u8],
    mut pos: usize,
    base: u64,
    fields: &mut Vec<Field<'a>>,
    asm: &mut Assembler<'a>,
    sink: &mut dyn FnMut(LogEvent<'_>),
) {
    while pos < chunk.len() {
        let start = pos;
        let (next, lines) = record(chunk, pos, fields);
        pos = next.max(start + 1);
        let sev = (fields.len() >= 14)
            .then(|| Sev::from_word(fields[11].0))
            .flatten();
        let Some(sev) = sev else {
            if !(fields.len() == 1 && fields[0].0.is_empty()) {
                asm.stats.skipped_lines += lines;
            }
            continue;
        };
        let pid = std::str::from_utf8(fields[3].0)
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let detail = fields
            .get(14)
            .filter(|d| !d.0.is_empty())
            .map(|d| unquote(*d));
        asm.push(
            Rec {
                offset: base + start as u64,
                ts_us: ts::parse_pg_ts(fields[0].0).map(|t| t.0),
                pid,
                user: if fields[1].1 {
                    None
                } else {
                    field(fields[1].0)
                },
                db: if fields[2].1 {
                    None
                } else {
                    field(fields[2].0)
                },
                client: client_host(fields[4].0),
                sev,
                msg: unquote(fields[13]),
                // The DETAIL column goes with its own message: no pairing needed.
                detail: Some(detail.unwrap_or(Cow::Borrowed(""))),
                lines,
            },
            sink,
        );
    }
}

impl LogParser for PgCsvParser {
    /// Records are read within the stretches between lines that start a record, the
    /// same cuts a block reader makes ([`Self::next_boundary`]): an unbalanced quote
    /// in garbage cannot swallow the records after it, and the events found never
    /// depend on how the input was cut into blocks.
    fn parse(&self, chunk: &[u8], base: u64, sink: &mut dyn FnMut(LogEvent<'_>)) -> ParseStats {
        let mut asm = Assembler::default();
        let mut fields = Vec::with_capacity(16);
        let mut from = 0;
        while from < chunk.len() {
            let to = self.next_boundary(chunk, from + 1);
            records(&chunk[..to], from, base, &mut fields, &mut asm, sink);
            from = to;
        }
        asm.finish(sink)
    }

    /// The next line that looks like a record start (timestamp then comma). A quoted
    /// multi-line message whose continuation line itself starts like a csvlog record
    /// could mislead it; PostgreSQL messages practically never do.
    fn next_boundary(&self, data: &[u8], from: usize) -> usize {
        let mut s = if from == 0 || data.get(from.wrapping_sub(1)) == Some(&b'\n') {
            from
        } else {
            match memchr::memchr(b'\n', data.get(from..).unwrap_or(&[])) {
                Some(i) => from + i + 1,
                None => return data.len(),
            }
        };
        while s < data.len() {
            let e = memchr::memchr(b'\n', &data[s..]).map_or(data.len(), |i| s + i);
            if is_record_start(&data[s..e]) {
                return s;
            }
            s = e + 1;
        }
        data.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_records_with_quotes_newlines_and_detail() {
        let log = "2021-01-22 10:03:22.785 CET,\"aaaa\",\"db\",1486,\"127.0.0.1:52306\",6009c305.5ce,3,\"SELECT\",2021-01-21 19:08:05 CET,14/1,0,LOG,00000,\"duration: 26.120 ms  execute S_65: select \"\"x\"\", $1\nfrom t\",\"parameters: $1 = 'a'\",,,,,,,,\"app\"\n\
2021-01-22 10:03:23.000 CET,\"aaaa\",\"db\",1487,,6009c305.5ce,3,\"idle\",2021-01-21 19:08:05 CET,14/1,0,LOG,00000,\"statement: select 2\",,,,,,,,,\"app\"\n\
not,a,record\n";
        let p = PgCsvParser::new();
        let mut v = Vec::new();
        let st = p.parse(log.as_bytes(), 0, &mut |e| {
            v.push((
                e.duration_ms,
                e.statement.into_owned(),
                e.client.map(str::to_owned),
                e.ts_us,
            ))
        });
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].0, Some(26.12));
        assert_eq!(v[0].1, "select \"x\", 'a'\nfrom t");
        assert_eq!(v[0].2.as_deref(), Some("127.0.0.1"));
        assert_eq!(v[0].3, Some(1_611_306_202_785_000));
        assert_eq!((v[1].0, v[1].1.as_str()), (None, "select 2"));
        assert_eq!(st.skipped_lines, 1);
        let second = log.find("\n2021").unwrap() + 1;
        assert_eq!(p.next_boundary(log.as_bytes(), 5), second);
    }

    #[test]
    fn an_unbalanced_quote_in_garbage_does_not_swallow_the_next_record() {
        // Found by the pg_csv fuzz target: the quote opened in the first line ran to
        // the end of the input, so the valid record after it was lost (and found
        // again when the input was cut at that record).
        let log = "202\"2026-05-16 garbage,1,2\n\
2021-01-22 10:03:23.000 CET,\"aaaa\",\"db\",1487,,6009c305.5ce,3,\"idle\",2021-01-21 19:08:05 CET,14/1,0,LOG,00000,\"duration: 2.000 ms  statement: select 2\",,,,,,,,,\"app\"\n";
        let p = PgCsvParser::new();
        let mut statements = Vec::new();
        let st = p.parse(log.as_bytes(), 0, &mut |e| {
            statements.push(e.statement.into_owned())
        });
        assert_eq!(statements, ["select 2"]);
        assert_eq!(st.skipped_lines, 1);
    }
}
