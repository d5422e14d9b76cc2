//! PostgreSQL jsonlog (15+: one object per line), CloudNativePG's wrapped records
//! (`{"record":{"log_time":…,"user_name":…}}`) and Google Cloud SQL exports (a stderr
//! line in `textPayload`). A small hand-rolled scanner picks the few keys we need at
//! any depth, borrowing unescaped strings from the line: much cheaper than building a
//! `serde_json::Value` per line, and it never fails on a half-valid line.

use std::borrow::Cow;

use super::prefix::Prefix;
use super::{Assembler, Rec, Sev, field, ts};
use crate::logs::{LogEvent, LogParser, ParseStats};

/// Parser for JSON-lines PostgreSQL logs.
#[derive(Debug, Clone)]
pub struct PgJsonParser {
    text_payload: Prefix,
}

impl Default for PgJsonParser {
    fn default() -> Self {
        Self::new()
    }
}

impl PgJsonParser {
    pub fn new() -> Self {
        PgJsonParser {
            text_payload: Prefix::generic_rest(),
        }
    }
}

/// A JSON string's raw bytes (between the quotes) and whether it has escapes.
#[derive(Clone, Copy, Default)]
struct JStr<'a>(&'a [u8], bool);

#[derive(Default)]
struct Fields<'a> {
    ts: Option<JStr<'a>>,
    user: Option<JStr<'a>>,
    db: Option<JStr<'a>>,
    pid: Option<&'a [u8]>,
    client: Option<JStr<'a>>,
    sev: Option<JStr<'a>>,
    msg: Option<JStr<'a>>,
    detail: Option<JStr<'a>>,
    payload: Option<JStr<'a>>,
}

/// Scans a JSON string starting after its opening quote: (end index after the closing
/// quote, has escapes).
fn scan_str(b: &[u8], mut i: usize) -> Option<(usize, bool)> {
    let mut esc = false;
    loop {
        // A line can end right after a backslash (truncated, or garbage).
        let j = memchr::memchr2(b'"', b'\\', b.get(i..)?)? + i;
        if b[j] == b'\\' {
            esc = true;
            i = j + 2;
        } else {
            return Some((j + 1, esc));
        }
    }
}

fn scan(b: &[u8]) -> Option<Fields<'_>> {
    let mut f = Fields::default();
    let mut i = 0;
    let mut key: Option<&[u8]> = None;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let (e, esc) = scan_str(b, i + 1)?;
                let s = JStr(&b[i + 1..e - 1], esc);
                let mut k = e;
                while b.get(k).is_some_and(u8::is_ascii_whitespace) {
                    k += 1;
                }
                if b.get(k) == Some(&b':') {
                    key = Some(s.0);
                    i = k + 1;
                    continue;
                }
                if let Some(name) = key.take() {
                    let slot = match name {
                        b"timestamp" | b"log_time" => &mut f.ts,
                        b"user" | b"user_name" => &mut f.user,
                        b"dbname" | b"database_name" => &mut f.db,
                        b"remote_host" | b"connection_from" => &mut f.client,
                        b"error_severity" => &mut f.sev,
                        b"message" => &mut f.msg,
                        b"detail" => &mut f.detail,
                        b"textPayload" => &mut f.payload,
                        b"pid" | b"process_id" => {
                            f.pid.get_or_insert(s.0);
                            i = e;
                            continue;
                        }
                        _ => {
                            i = e;
                            continue;
                        }
                    };
                    slot.get_or_insert(s);
                }
                i = e;
            }
            b'0'..=b'9' => {
                let s = i;
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                    i += 1;
                }
                if let Some(b"pid" | b"process_id") = key {
                    f.pid.get_or_insert(&b[s..i]);
                }
                key = None;
            }
            _ => {
                if matches!(b[i], b',' | b'}' | b'[') {
                    key = None;
                }
                i += 1;
            }
        }
    }
    Some(f)
}

/// JSON string unescaping; borrowed when there is nothing to unescape.
fn unescape(s: JStr<'_>) -> Cow<'_, str> {
    if !s.1 {
        return String::from_utf8_lossy(s.0);
    }
    let b = s.0;
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'\\' || i + 1 >= b.len() {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let c = b[i + 1];
        i += 2;
        match c {
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'r' => out.push(b'\r'),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'u' => {
                let hex = |at: usize| {
                    b.get(at..at + 4)
                        .and_then(|h| std::str::from_utf8(h).ok())
                        .and_then(|h| u32::from_str_radix(h, 16).ok())
                };
                let mut cp = hex(i).unwrap_or(0xFFFD);
                i += 4;
                if (0xD800..0xDC00).contains(&cp)
                    && b.get(i..i + 2) == Some(b"\\u")
                    && let Some(lo) = hex(i + 2)
                {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo.wrapping_sub(0xDC00) & 0x3FF);
                    i += 6;
                }
                let ch = char::from_u32(cp).unwrap_or('\u{FFFD}');
                let mut buf = [0; 4];
                out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
            }
            other => out.push(other),
        }
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn plain(s: Option<JStr<'_>>) -> Option<&str> {
    s.filter(|s| !s.1).and_then(|s| field(s.0))
}

impl LogParser for PgJsonParser {
    fn parse(&self, chunk: &[u8], base: u64, sink: &mut dyn FnMut(LogEvent<'_>)) -> ParseStats {
        let mut asm = Assembler::default();
        let mut pos = 0;
        while pos < chunk.len() {
            let s = pos;
            let e = memchr::memchr(b'\n', &chunk[s..]).map_or(chunk.len(), |i| s + i);
            pos = e + 1;
            let line = chunk[s..e].trim_ascii();
            if line.is_empty() {
                continue;
            }
            let Some(f) = line.starts_with(b"{").then(|| scan(line)).flatten() else {
                asm.stats.skipped_lines += 1;
                continue;
            };
            let ts_us =
                f.ts.and_then(|t| ts::parse_pg_ts(t.0).or_else(|| ts::parse_iso(t.0)))
                    .map(|t| t.0);
            let pid = f
                .pid
                .and_then(|p| std::str::from_utf8(p).ok()?.parse().ok())
                .unwrap_or(0);
            let rec = if let (Some(sev), Some(msg)) = (f.sev, f.msg) {
                let Some(sev) = Sev::from_word(sev.0) else {
                    asm.stats.skipped_lines += 1;
                    continue;
                };
                Rec {
                    offset: base + s as u64,
                    ts_us,
                    pid,
                    user: plain(f.user),
                    db: plain(f.db),
                    client: plain(f.client),
                    sev,
                    msg: unescape(msg),
                    detail: Some(f.detail.map_or(Cow::Borrowed(""), unescape)),
                    lines: 1,
                }
            } else if let Some(p) = f.payload
                && let Some((h, sev, m)) = self.text_payload.match_line(p.0)
            {
                Rec {
                    offset: base + s as u64,
                    ts_us,
                    pid: h.pid,
                    user: h.user,
                    db: h.db,
                    client: h.client,
                    sev,
                    msg: unescape(JStr(&p.0[m..], p.1)),
                    // Cloud SQL puts DETAIL in its own entry, like stderr: pair by pid.
                    detail: None,
                    lines: 1,
                }
            } else {
                asm.stats.skipped_lines += 1;
                continue;
            };
            asm.push(rec, sink);
        }
        asm.finish(sink)
    }

    /// JSON lines never hold a raw newline, so every line start is a boundary.
    fn next_boundary(&self, data: &[u8], from: usize) -> usize {
        if from == 0 || data.get(from.wrapping_sub(1)) == Some(&b'\n') {
            return from.min(data.len());
        }
        memchr::memchr(b'\n', data.get(from..).unwrap_or(&[])).map_or(data.len(), |i| from + i + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonlog_and_wrapped_records() {
        let log = concat!(
            r#"{"timestamp":"2024-06-27 00:00:07.369 CEST","user":"u","dbname":"d","pid":58151,"error_severity":"LOG","message":"duration: 1.000 ms  execute s: select $1,\n\"x\"","detail":"parameters: $1 = '\u00e9'"}"#,
            "\n",
            r#"{"level":"info","record":{"log_time":"2022-11-27 18:58:02.096 UTC","user_name":"postgres","database_name":"postgres","process_id":"600","error_severity":"LOG","message":"duration: 2.5 ms  statement: select 1"}}"#,
            "\n",
            r#"{"timestamp":"2020-05-02T13:00:19.919Z","textPayload":"[24667]: [1-1] db=a,user=b LOG:  duration: 3.0 ms  statement: select 3"}"#,
            "\nnot json\n"
        );
        let p = PgJsonParser::new();
        let mut v = Vec::new();
        let st = p.parse(log.as_bytes(), 0, &mut |e| {
            v.push((
                e.duration_ms,
                e.statement.into_owned(),
                e.user.map(str::to_owned),
                e.ts_us.is_some(),
            ))
        });
        assert_eq!(v.len(), 3);
        assert_eq!(v[0].1, "select 'é',\n\"x\"");
        assert_eq!((v[1].0, v[1].2.as_deref()), (Some(2.5), Some("postgres")));
        assert_eq!(
            (v[2].0, v[2].2.as_deref(), v[2].3),
            (Some(3.0), Some("b"), true)
        );
        assert_eq!(st.skipped_lines, 1);
    }

    #[test]
    fn a_line_ending_in_a_backslash_inside_a_string_is_skipped() {
        // Found by the pg_json fuzz target: the scanner stepped past the end.
        let log = b"{\"error_severity\":\"LOG\",\"message\":\"duration: 1 ms  statement: x\\\n";
        let st = PgJsonParser::new().parse(log, 0, &mut |_| {});
        assert_eq!((st.events, st.skipped_lines), (0, 1));
    }
}
