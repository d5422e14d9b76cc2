//! PostgreSQL server logs: stderr/syslog text logs with any `log_line_prefix`, csvlog
//! and jsonlog, turned into one [`LogEvent`] per statement execution.
//!
//! Each format parser only splits its input into *records* (one PostgreSQL log entry:
//! prefix fields, severity, message, and for csv/json the DETAIL column); the shared
//! [`Assembler`] turns records into events, so the three formats agree on what an
//! execution is:
//! - `duration: X ms  statement: SQL` → one event;
//! - `duration: X ms  execute NAME[/PORTAL]: SQL` → one event, with the parameters of
//!   the following `DETAIL:  parameters: $1 = …` record (same pid) substituted into
//!   the SQL, like pgBadger does (the fingerprint masks them again, and the sample
//!   query stays runnable for EXPLAIN);
//! - `duration: X ms  parse|bind …` → nothing: pgBadger counts executions only;
//! - `statement: SQL` / `execute NAME: SQL` without duration → one event whose
//!   duration is taken from the next bare `duration: X ms` record of the same pid
//!   (`log_statement=all` + `log_duration=on`), or `None`.
//!
//! Pairing is per pid and within one chunk: a chunk cut between an `execute` and its
//! DETAIL (the parsers' `next_boundary` avoids cutting before a DETAIL or a bare
//! duration line, but another pid's line may sit between them) loses the parameters
//! or the duration of that one statement; the event itself is never lost.

mod csv;
mod json;
mod prefix;
mod stderr;
mod ts;

use std::borrow::Cow;
use std::collections::HashMap;

pub use csv::PgCsvParser;
pub(crate) use csv::is_csv_start;
pub use json::PgJsonParser;
pub use prefix::{Prefix, detect_prefix};
pub use stderr::PgStderrParser;

use super::{LogEvent, LogFormat, LogParser, ParseStats};

/// The parser for `format`. `head` (the first KB of the input) is used to detect the
/// `log_line_prefix` and syslog wrapping when the format does not say.
pub fn parser_for(format: &LogFormat, head: &[u8]) -> Option<Box<dyn LogParser>> {
    match format {
        LogFormat::PgStderr { prefix } => Some(Box::new(match prefix {
            Some(p) => PgStderrParser::with_prefix(p, head),
            None => PgStderrParser::detect(head),
        })),
        LogFormat::PgCsv => Some(Box::new(PgCsvParser::new())),
        LogFormat::PgJson => Some(Box::new(PgJsonParser::new())),
        LogFormat::MysqlSlow => None,
    }
}

/// Severity classes that matter for pairing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sev {
    Log,
    Detail,
    /// HINT, CONTEXT, STATEMENT, QUERY, LOCATION: belong to the previous message.
    Secondary,
    /// ERROR, WARNING, FATAL, …: their own message, never a timed statement.
    Other,
}

impl Sev {
    pub fn from_word(w: &[u8]) -> Option<Sev> {
        Some(match w {
            b"LOG" => Sev::Log,
            b"DETAIL" => Sev::Detail,
            b"HINT" | b"CONTEXT" | b"STATEMENT" | b"QUERY" | b"LOCATION" => Sev::Secondary,
            b"ERROR" | b"WARNING" | b"FATAL" | b"PANIC" | b"NOTICE" | b"INFO" | b"DEBUG"
            | b"DEBUG1" | b"DEBUG2" | b"DEBUG3" | b"DEBUG4" | b"DEBUG5" => Sev::Other,
            _ => return None,
        })
    }
}

/// One PostgreSQL log entry, whatever the format.
pub(crate) struct Rec<'a> {
    pub offset: u64,
    pub ts_us: Option<i64>,
    pub pid: u64,
    pub user: Option<&'a str>,
    pub db: Option<&'a str>,
    pub client: Option<&'a str>,
    pub sev: Sev,
    pub msg: Cow<'a, str>,
    /// csv/json only: the DETAIL column of the same entry.
    pub detail: Option<Cow<'a, str>>,
    /// Physical lines of the entry, for the skipped-lines count.
    pub lines: u64,
}

/// What a pending event waits for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Wait {
    /// `execute` with a duration: its `DETAIL: parameters:`.
    Params,
    /// `statement:`/`execute` without a duration: a bare `duration:` record (and, for
    /// `execute`, parameters first).
    Duration { params: bool },
}

/// Turns records into events (see the module docs), holding per-pid pending events.
#[derive(Default)]
pub(crate) struct Assembler<'a> {
    pending: HashMap<u64, (LogEvent<'a>, Wait)>,
    pub stats: ParseStats,
}

fn sub_cow<'a>(c: &Cow<'a, str>, start: usize) -> Cow<'a, str> {
    match c {
        Cow::Borrowed(s) => Cow::Borrowed(s.get(start..).unwrap_or("")),
        Cow::Owned(s) => Cow::Owned(s.get(start..).unwrap_or("").to_owned()),
    }
}

/// Parses `duration: 12.345 ms` at the start of `m`: the value and the rest after
/// the unit and its spaces.
pub(crate) fn parse_duration(m: &str) -> Option<(f64, usize)> {
    let r = m.strip_prefix("duration: ")?;
    let end = r.find(' ')?;
    let v: f64 = r[..end].parse().ok()?;
    let after = &r[end..];
    let unit_len = if after.starts_with(" ms") {
        3
    } else {
        return None;
    };
    let mut p = 10 + end + unit_len;
    while m.as_bytes().get(p) == Some(&b' ') {
        p += 1;
    }
    Some((v, p))
}

/// `execute NAME[/PORTAL]: SQL` (also `execute fetch from NAME: …`): offset of SQL.
fn exec_sql_start(m: &str, at: usize) -> Option<usize> {
    let r = m.get(at..)?.strip_prefix("execute ")?;
    let colon = r.find(": ")?;
    Some(at + 8 + colon + 2)
}

impl<'a> Assembler<'a> {
    fn emit(&mut self, ev: LogEvent<'a>, sink: &mut dyn FnMut(LogEvent<'_>)) {
        self.stats.events += 1;
        sink(ev);
    }

    /// Feeds one record; `inline_detail`: the format carries DETAIL in the record.
    pub(crate) fn push(&mut self, rec: Rec<'a>, sink: &mut dyn FnMut(LogEvent<'_>)) {
        if let Some((mut ev, wait)) = self.pending.remove(&rec.pid) {
            match (wait, rec.sev) {
                (Wait::Params | Wait::Duration { params: true }, Sev::Detail) => {
                    if let Some(p) = params_of(&rec.msg) {
                        ev.statement = Cow::Owned(substitute(&ev.statement, p));
                        if wait == Wait::Params {
                            self.emit(ev, sink);
                        } else {
                            self.pending
                                .insert(rec.pid, (ev, Wait::Duration { params: false }));
                        }
                        return;
                    }
                    self.pending.insert(rec.pid, (ev, wait));
                    self.stats.skipped_lines += rec.lines;
                    return;
                }
                (Wait::Duration { .. }, Sev::Log) => {
                    if let Some((d, rest)) = parse_duration(&rec.msg)
                        && rest >= rec.msg.len()
                    {
                        ev.duration_ms = Some(d);
                        self.emit(ev, sink);
                        return;
                    }
                    self.emit(ev, sink);
                }
                (_, Sev::Secondary) => {
                    // An error's STATEMENT/HINT between an execute and its DETAIL
                    // does not end the wait.
                    self.pending.insert(rec.pid, (ev, wait));
                    self.stats.skipped_lines += rec.lines;
                    return;
                }
                _ => self.emit(ev, sink),
            }
        }
        if rec.sev != Sev::Log {
            self.stats.skipped_lines += rec.lines;
            return;
        }
        let m = &rec.msg;
        let (duration, at) = match parse_duration(m) {
            Some((d, at)) => (Some(d), at),
            None => (None, 0),
        };
        let rest = &m[at.min(m.len())..];
        let (sql_start, is_exec) = if rest.starts_with("statement: ") {
            (at + 11, false)
        } else if let Some(s) = exec_sql_start(m, at) {
            (s, true)
        } else {
            // parse/bind durations, bare durations with nothing pending, connection
            // and checkpoint messages, …: not an execution.
            self.stats.skipped_lines += rec.lines;
            return;
        };
        let mut ev = LogEvent {
            ts_us: rec.ts_us,
            duration_ms: duration,
            lock_ms: None,
            rows_sent: None,
            rows_examined: None,
            database: rec.db,
            user: rec.user,
            client: rec.client,
            statement: sub_cow(m, sql_start),
            offset: rec.offset,
        };
        let mut params_done = !is_exec;
        if is_exec && let Some(d) = &rec.detail {
            if let Some(p) = params_of(d) {
                ev.statement = Cow::Owned(substitute(&ev.statement, p));
            }
            params_done = true;
        }
        match (duration.is_some(), params_done) {
            (true, true) => self.emit(ev, sink),
            (true, false) => {
                self.pending.insert(rec.pid, (ev, Wait::Params));
            }
            (false, p) => {
                self.pending
                    .insert(rec.pid, (ev, Wait::Duration { params: !p }));
            }
        }
    }

    /// Emits what is still pending (end of chunk), in input order.
    pub(crate) fn finish(mut self, sink: &mut dyn FnMut(LogEvent<'_>)) -> ParseStats {
        let mut rest: Vec<LogEvent<'a>> = self.pending.drain().map(|(_, (e, _))| e).collect();
        rest.sort_by_key(|e| e.offset);
        for e in rest {
            self.emit(e, sink);
        }
        self.stats
    }
}

/// The text after `parameters: ` in a DETAIL message.
fn params_of(detail: &str) -> Option<&str> {
    detail
        .strip_prefix("parameters: ")
        .or_else(|| detail.strip_prefix("Parameters: "))
}

/// Splits `$1 = 'a''b', $2 = NULL, …` into values indexed by parameter number.
fn parse_params(p: &str) -> Vec<(u32, &str)> {
    let b = p.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        while i < b.len() && (b[i] == b' ' || b[i] == b',') {
            i += 1;
        }
        if i >= b.len() || b[i] != b'$' {
            break;
        }
        i += 1;
        let ns = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let Ok(n) = p[ns..i].parse::<u32>() else {
            break;
        };
        if !p[i..].starts_with(" = ") {
            break;
        }
        i += 3;
        let vs = i;
        if b.get(i) == Some(&b'\'') {
            i += 1;
            loop {
                match memchr::memchr(b'\'', &b[i..]) {
                    Some(q) => {
                        i += q + 1;
                        if b.get(i) == Some(&b'\'') {
                            i += 1;
                        } else {
                            break;
                        }
                    }
                    None => {
                        // Truncated value (log_parameter_max_length): take the rest.
                        i = b.len();
                        break;
                    }
                }
            }
        } else {
            while i < b.len() && b[i] != b',' {
                i += 1;
            }
        }
        out.push((n, &p[vs..i]));
    }
    out
}

/// Replaces `$n` placeholders outside quotes with their logged values.
pub(crate) fn substitute(sql: &str, params: &str) -> String {
    let vals = parse_params(params);
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + params.len());
    let mut last = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            q @ (b'\'' | b'"') => {
                i += 1;
                while i < b.len() && b[i] != q {
                    i += 1;
                }
                i += 1;
            }
            b'$' if i + 1 < b.len()
                && b[i + 1].is_ascii_digit()
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                let ns = i + 1;
                let mut e = ns;
                while e < b.len() && b[e].is_ascii_digit() {
                    e += 1;
                }
                let n: u32 = sql[ns..e].parse().unwrap_or(0);
                if let Some((_, v)) = vals.iter().find(|(k, _)| *k == n) {
                    out.push_str(&sql[last..i]);
                    out.push_str(v);
                    last = e;
                }
                i = e;
            }
            _ => i += 1,
        }
    }
    out.push_str(&sql[last.min(sql.len())..]);
    out
}

/// Lossy UTF-8 for messages: borrowed when valid.
pub(crate) fn text(b: &[u8]) -> Cow<'_, str> {
    String::from_utf8_lossy(b)
}

/// A prefix field value: `None` when empty, `[unknown]` or not UTF-8.
pub(crate) fn field(b: &[u8]) -> Option<&str> {
    if b.is_empty() || b == b"[unknown]" {
        return None;
    }
    std::str::from_utf8(b).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_substituted_outside_quotes() {
        let s = substitute(
            "select $1, '$2', $10 from t where a = $2",
            "$1 = 'x''y', $2 = NULL, $10 = '[2023-02-24T00:00,2023-02-25T00:00]'",
        );
        assert_eq!(
            s,
            "select 'x''y', '$2', '[2023-02-24T00:00,2023-02-25T00:00]' from t where a = NULL"
        );
    }

    #[test]
    fn duration_forms() {
        assert_eq!(
            parse_duration("duration: 1.5 ms  statement: x"),
            Some((1.5, 18))
        );
        assert_eq!(parse_duration("duration: 2 ms"), Some((2.0, 14)));
        assert_eq!(parse_duration("duration: x ms"), None);
    }
}
