//! PostgreSQL stderr logs (any `log_line_prefix`) and the same lines wrapped by syslog
//! (`Feb 11 13:15:39 host postgres[10808]: [1-1] …`, Heroku logplex
//! `2019-03-14T00:22:56+00:00 app[postgres.4882]: [GREEN] [15-1] …`).
//!
//! A line that matches the prefix and a severity starts an entry; lines starting with
//! a tab continue it (PostgreSQL indents the message's newlines); anything else is
//! counted as skipped. In syslog, continuation chunks are `[N-2]`, `[N-3]`… lines of
//! the same pid whose text starts with `#011` or a space (a new line: logplex keeps
//! the indentation instead of the tab) or not (a long line split at ~900 bytes: joined
//! as is). A long line split just before a space therefore gets a newline instead of
//! that space: the same whitespace to the fingerprint.

use std::borrow::Cow;

use super::prefix::{Head, Prefix, detect_prefix, severity};
use super::{Assembler, Rec, Sev, field, text, ts};
use crate::logs::{LogEvent, LogParser, ParseStats};

/// Parser for stderr and syslog-wrapped PostgreSQL logs.
#[derive(Debug, Clone)]
pub struct PgStderrParser {
    prefix: Prefix,
    syslog: bool,
}

/// The syslog header of a line.
struct SysHead<'a> {
    ts_us: Option<i64>,
    pid: u64,
    /// Logplex `[COLOR]`: Heroku's database name.
    color: Option<&'a str>,
    /// `M` of `[N-M]`: > 1 for continuation chunks.
    seq: u32,
    rest: usize,
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Syslog lines carry no year: pgBadger and syslog itself assume the current one.
fn current_year() -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    // Good enough for a year: 365.2425 days.
    1970 + now / 31_556_952
}

fn syslog_header(line: &[u8], year: i64) -> Option<SysHead<'_>> {
    let (ts_us, mut pos) = if line.len() > 16 && line[3] == b' ' && line[6] == b' ' {
        let m = MONTHS.iter().position(|m| &line[..3] == *m)? as i64 + 1;
        let d = if line[4] == b' ' {
            0
        } else {
            i64::from(line[4].wrapping_sub(b'0'))
        } * 10
            + i64::from(line[5].wrapping_sub(b'0'));
        let t = &line[7..15];
        if t[2] != b':' || t[5] != b':' || !(1..=31).contains(&d) {
            return None;
        }
        let n =
            |a: &[u8]| i64::from(a[0].wrapping_sub(b'0')) * 10 + i64::from(a[1].wrapping_sub(b'0'));
        let secs = ts::days_from_civil(year, m, d) * 86_400
            + n(&t[0..2]) * 3600
            + n(&t[3..5]) * 60
            + n(&t[6..8]);
        (Some(secs * 1_000_000), 16)
    } else if line.len() > 20 && line[10] == b'T' {
        let (t, n) = ts::parse_iso(line)?;
        (Some(t), n + 1)
    } else {
        return None;
    };
    // [host] ident[pid]: — logplex drops the colon, and the host when it has none.
    let mut ident = None;
    for _ in 0..3 {
        let end = memchr::memchr(b' ', line.get(pos..)?)? + pos;
        let tok = &line[pos..end];
        let t = tok.strip_suffix(b":").unwrap_or(tok);
        if t.len() > 2 && t[0] != b'[' && t.ends_with(b"]") {
            ident = Some(&t[..t.len() - 1]);
            pos = end + 1;
            break;
        }
        pos = end + 1;
    }
    let ident = ident?;
    let open = memchr::memrchr2(b'[', b'.', ident)?;
    let pid = ident[open + 1..].iter().try_fold(0u64, |a, c| {
        c.is_ascii_digit().then(|| a * 10 + u64::from(c - b'0'))
    })?;
    let mut color = None;
    // [COLOR] (logplex) then [N-M].
    for _ in 0..2 {
        if line.get(pos) != Some(&b'[') {
            break;
        }
        let close = pos + memchr::memchr(b']', &line[pos..])?;
        let inner = &line[pos + 1..close];
        if let Some(dash) = memchr::memchr(b'-', inner)
            && inner[..dash].iter().all(u8::is_ascii_digit)
        {
            let seq = std::str::from_utf8(&inner[dash + 1..]).ok()?.parse().ok()?;
            // One space separates `[N-M]`; more belong to the text (split chunks).
            let rest = (close + 2).min(line.len());
            return Some(SysHead {
                ts_us,
                pid,
                color,
                seq,
                rest,
            });
        }
        color = field(inner);
        pos = close + 2;
    }
    None
}

impl PgStderrParser {
    /// With a given `log_line_prefix`; syslog wrapping is still detected from `head`.
    pub fn with_prefix(prefix: &str, head: &[u8]) -> Self {
        PgStderrParser {
            prefix: Prefix::compile(prefix),
            syslog: is_syslog(head),
        }
    }

    /// Detects syslog wrapping and the prefix from the first lines of the log; falls
    /// back to a generic matcher (timestamp, then anything up to the severity).
    pub fn detect(head: &[u8]) -> Self {
        let syslog = is_syslog(head);
        let year = current_year();
        let lines: Vec<&[u8]> = head
            .split(|c| *c == b'\n')
            .take(200)
            .filter_map(|l| {
                if syslog {
                    let h = syslog_header(l, year)?;
                    (h.seq == 1).then(|| l[h.rest..].trim_ascii_start())
                } else {
                    (!l.is_empty() && l[0] != b'\t').then_some(l)
                }
            })
            .collect();
        let prefix = detect_prefix(lines.iter().copied(), syslog).unwrap_or_else(|| {
            if syslog {
                Prefix::generic_rest()
            } else {
                Prefix::generic()
            }
        });
        PgStderrParser { prefix, syslog }
    }

    /// What was detected, for the CLI.
    pub fn describe(&self) -> String {
        let kind = if self.syslog {
            "PostgreSQL syslog log"
        } else {
            "PostgreSQL stderr log"
        };
        format!("{kind}, prefix '{}'", self.prefix.text)
    }

    /// The prefix in use (`%*` stands for "anything up to the severity").
    pub fn prefix(&self) -> &str {
        &self.prefix.text
    }

    /// Whether `line` starts a log entry (for format detection).
    pub fn starts_entry(&self, line: &[u8]) -> bool {
        matches!(self.entry(line, current_year()), Line::Start(..))
    }

    pub fn is_syslog(&self) -> bool {
        self.syslog
    }

    /// Classifies one line: an entry start (head, severity, message start, syslog
    /// sequence) or not.
    fn entry<'a>(&self, line: &'a [u8], year: i64) -> Line<'a> {
        if self.syslog {
            let Some(sh) = syslog_header(line, year) else {
                return Line::Other;
            };
            let mut at = sh.rest;
            while line.get(at) == Some(&b' ') {
                at += 1;
            }
            let rest = &line[at..];
            match self.prefix.match_line(rest) {
                Some((mut h, sev, m)) => {
                    h.ts_us = sh.ts_us;
                    h.pid = sh.pid;
                    if h.db.is_none() {
                        h.db = sh.color;
                    }
                    Line::Start(h, sev, at + m)
                }
                // Some inner prefixes are empty for background processes.
                None => match (sh.seq, severity(rest, 0)) {
                    (1, Some((sev, m))) => Line::Start(
                        Head {
                            ts_us: sh.ts_us,
                            pid: sh.pid,
                            db: sh.color,
                            ..Head::default()
                        },
                        sev,
                        at + m,
                    ),
                    (1, None) => Line::Other,
                    _ => Line::SysCont(sh.pid, sh.rest),
                },
            }
        } else {
            match self.prefix.match_line(line) {
                Some((h, sev, m)) => Line::Start(h, sev, m),
                None if line.first() == Some(&b'\t') => Line::Cont,
                None => Line::Other,
            }
        }
    }
}

enum Line<'a> {
    Start(Head<'a>, Sev, usize),
    Cont,
    SysCont(u64, usize),
    Other,
}

fn is_syslog(head: &[u8]) -> bool {
    let year = current_year();
    let mut n = 0;
    let mut ok = 0;
    for l in head
        .split(|c| *c == b'\n')
        .filter(|l| !l.is_empty())
        .take(20)
    {
        n += 1;
        if syslog_header(l, year).is_some() {
            ok += 1;
        }
    }
    n > 0 && ok * 2 >= n
}

/// An entry being read: its first line's message and its continuation spans.
struct Open<'a> {
    head: Head<'a>,
    sev: Sev,
    offset: usize,
    msg: &'a [u8],
    /// (span, joined with a newline?)
    cont: Vec<(&'a [u8], bool)>,
    lines: u64,
}

fn close<'a>(o: Open<'a>, base: u64, asm: &mut Assembler<'a>, sink: &mut dyn FnMut(LogEvent<'_>)) {
    let msg: Cow<'a, str> = if o.cont.is_empty() {
        text(o.msg)
    } else {
        let mut s = String::with_capacity(
            o.msg.len() + o.cont.iter().map(|c| c.0.len() + 1).sum::<usize>(),
        );
        s.push_str(&text(o.msg));
        for (c, nl) in &o.cont {
            if *nl {
                s.push('\n');
            }
            s.push_str(&text(c));
        }
        Cow::Owned(s)
    };
    asm.push(
        Rec {
            offset: base + o.offset as u64,
            ts_us: o.head.ts_us,
            pid: o.head.pid,
            user: o.head.user,
            db: o.head.db,
            client: o.head.client,
            sev: o.sev,
            msg,
            detail: None,
            lines: o.lines,
        },
        sink,
    );
}

/// Lines of `data` with their start offsets (without the `\n`, nor a `\r` before it).
fn lines(data: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        if pos >= data.len() {
            return None;
        }
        let s = pos;
        let e = memchr::memchr(b'\n', &data[s..]).map_or(data.len(), |i| s + i);
        pos = e + 1;
        let l = &data[s..e];
        Some((s, l.strip_suffix(b"\r").unwrap_or(l)))
    })
}

impl LogParser for PgStderrParser {
    fn parse(&self, chunk: &[u8], base: u64, sink: &mut dyn FnMut(LogEvent<'_>)) -> ParseStats {
        let year = current_year();
        let mut asm = Assembler::default();
        let mut open: Option<Open<'_>> = None;
        for (off, line) in lines(chunk) {
            match self.entry(line, year) {
                Line::Start(head, sev, m) => {
                    if let Some(o) = open.take() {
                        close(o, base, &mut asm, sink);
                    }
                    // Vec::new() does not allocate: only multi-line entries pay.
                    open = Some(Open {
                        head,
                        sev,
                        offset: off,
                        msg: &line[m..],
                        cont: Vec::new(),
                        lines: 1,
                    });
                }
                Line::Cont => match open.as_mut() {
                    Some(o) => {
                        o.cont.push((&line[1..], true));
                        o.lines += 1;
                    }
                    None => asm.stats.skipped_lines += 1,
                },
                Line::SysCont(pid, at) => match open.as_mut() {
                    Some(o) if o.head.pid == pid => {
                        let t = &line[at..];
                        if let Some(t) = t.strip_prefix(b"#011").or_else(|| t.strip_prefix(b"\t")) {
                            o.cont.push((t, true));
                        } else if t.first() == Some(&b' ') {
                            // Logplex keeps the indentation instead of a tab: a new line.
                            o.cont.push((t, true));
                        } else {
                            o.cont.push((t, false));
                        }
                        o.lines += 1;
                    }
                    _ => asm.stats.skipped_lines += 1,
                },
                Line::Other => {
                    if !line.is_empty() {
                        asm.stats.skipped_lines += 1;
                    }
                }
            }
        }
        if let Some(o) = open.take() {
            close(o, base, &mut asm, sink);
        }
        asm.finish(sink)
    }

    /// The next line that starts an entry which is not a DETAIL/HINT/… of the
    /// previous one nor a bare `duration:` (those pair with the entry before).
    fn next_boundary(&self, data: &[u8], from: usize) -> usize {
        let year = current_year();
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
            let line = &data[s..e];
            if let Line::Start(_, sev, m) = self.entry(line, year)
                && matches!(sev, Sev::Log | Sev::Other)
                && !is_bare_duration(&line[m..])
            {
                return s;
            }
            s = e + 1;
        }
        data.len()
    }
}

fn is_bare_duration(m: &[u8]) -> bool {
    std::str::from_utf8(m)
        .ok()
        .and_then(super::parse_duration)
        .is_some_and(|(_, rest)| rest >= m.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    type Got = Vec<(Option<f64>, String, Option<String>)>;

    fn run(p: &PgStderrParser, s: &str) -> (Got, ParseStats) {
        let mut v = Vec::new();
        let st = p.parse(s.as_bytes(), 0, &mut |e| {
            v.push((
                e.duration_ms,
                e.statement.into_owned(),
                e.database.map(str::to_owned),
            ))
        });
        (v, st)
    }

    #[test]
    fn stderr_statements_execute_params_and_pairing() {
        let log = "2021-12-03 07:14:48.591 UTC [4913] user=u,db=mydb LOG:  duration: 1.5 ms  statement: select 1\n\
2021-12-03 07:14:48.593 UTC [4913] user=u,db=mydb LOG:  duration: 1.1 ms  parse s1: select $1\n\
2021-12-03 07:14:48.594 UTC [4913] user=u,db=mydb LOG:  duration: 0.2 ms  execute s1: select $1,\n\
\t$2\n\
2021-12-03 07:14:48.594 UTC [4913] user=u,db=mydb DETAIL:  parameters: $1 = 'a\n\
\tb', $2 = NULL\n\
garbage\n\
2021-12-03 07:14:48.595 UTC [77] user=u,db=mydb LOG:  statement: select 2\n\
2021-12-03 07:14:48.596 UTC [77] user=u,db=mydb LOG:  duration: 3.0 ms\n\
2021-12-03 07:14:48.597 UTC [78] user=u,db=mydb LOG:  statement: select 3\n";
        let p = PgStderrParser::detect(log.as_bytes());
        assert_eq!(p.prefix(), "%m [%p] user=%u,db=%d ");
        let (v, st) = run(&p, log);
        assert_eq!(v.len(), 4);
        assert_eq!(v[0], (Some(1.5), "select 1".into(), Some("mydb".into())));
        assert_eq!(v[1].1, "select 'a\nb',\nNULL");
        assert_eq!((v[2].0, v[2].1.as_str()), (Some(3.0), "select 2"));
        assert_eq!((v[3].0, v[3].1.as_str()), (None, "select 3"));
        assert_eq!(st.events, 4);
        assert_eq!(st.skipped_lines, 2); // parse line + garbage
    }

    #[test]
    fn syslog_continuations() {
        let log = "Feb 11 13:15:40 h postgres[10819]: [7-1] db=postgres,user=postgres,app=psql,client=[local] LOG:  duration: 13.997 ms  statement: SELECT d.datname as \"Name\",\n\
Feb 11 13:15:40 h postgres[10819]: [7-2] #011       d.x\n\
Feb 11 13:15:40 h postgres[10819]: [7-3]  FROM t\n\
Feb 11 13:15:40 h postgres[10819]: [7-4] able\n";
        let p = PgStderrParser::detect(log.as_bytes());
        assert!(p.is_syslog());
        assert_eq!(p.prefix(), "db=%d,user=%u,app=%a,client=%h ");
        let (v, _) = run(&p, log);
        assert_eq!(v.len(), 1);
        assert_eq!(
            v[0].1,
            "SELECT d.datname as \"Name\",\n       d.x\n FROM table"
        );
        assert_eq!(p.next_boundary(log.as_bytes(), 1), log.len());
    }
}
