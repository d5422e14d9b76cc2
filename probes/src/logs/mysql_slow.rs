//! MySQL / MariaDB / Percona Server slow query log parser.
//!
//! An entry is a block of `# ` header lines followed by the statement:
//!
//! ```text
//! # Time: 2016-07-20T18:13:25.698433Z            (5.7+; older: `# Time: 071015 21:43:52`)
//! # User@Host: root[root] @ localhost [127.0.0.1]  Id:     3
//! # Thread_id: 6  Schema: db2  QC_hit: No         (Percona / MariaDB extras, optional)
//! # Query_time: 0.003464  Lock_time: 0.000324 Rows_sent: 1000  Rows_examined: 2000
//! use db;                                         (optional, gives the database)
//! SET timestamp=1469038405;                       (optional, gives the event time)
//! SELECT …                                        (one or more lines)
//! ```
//!
//! `# Time:` is written only when the second changes, so an entry without one inherits
//! the last one seen in its chunk, as pt-query-digest does. Administrator commands are
//! a header-like `# administrator command: Quit;` line. Server start banners
//! (`/usr/sbin/mysqld, Version: …`, `Tcp port: …`, `Time  Id Command  Argument`) and
//! lines before any header are counted as skipped.
//!
//! The parser is a line scanner over the chunk with `memchr`; events borrow from the
//! chunk and nothing is allocated per line. Only the statement is decoded, lossily, so
//! GBK or binary bytes never fail the parse. `# Time:` values without a zone (the old
//! format, and the server's local time) are taken as UTC.

use memchr::{memchr, memmem};

use super::{LogEvent, LogParser, ParseStats};

/// The slow log parser (stateless: all state lives in one `parse` call).
#[derive(Debug, Clone, Copy, Default)]
pub struct MysqlSlowParser;

#[derive(Default)]
struct Pending {
    /// Start of the entry in the chunk.
    start: usize,
    has_header: bool,
    own_time_us: Option<i64>,
    set_ts_us: Option<i64>,
    user: Option<(usize, usize)>,
    client: Option<(usize, usize)>,
    use_db: Option<(usize, usize)>,
    schema: Option<(usize, usize)>,
    query_time: Option<f64>,
    lock_time: Option<f64>,
    rows_sent: Option<u64>,
    rows_examined: Option<u64>,
    stmt: Option<(usize, usize)>,
    admin: Option<(usize, usize)>,
}

impl Pending {
    fn at(start: usize) -> Self {
        Pending {
            start,
            ..Pending::default()
        }
    }
}

fn str_at(chunk: &[u8], r: Option<(usize, usize)>) -> Option<&str> {
    let (a, b) = r?;
    std::str::from_utf8(&chunk[a..b]).ok()
}

fn trim_statement(mut s: &[u8]) -> &[u8] {
    while let [rest @ .., last] = s
        && last.is_ascii_whitespace()
    {
        s = rest;
    }
    if let [rest @ .., b';'] = s {
        s = rest;
    }
    while let [rest @ .., last] = s
        && last.is_ascii_whitespace()
    {
        s = rest;
    }
    while let [first, rest @ ..] = s
        && first.is_ascii_whitespace()
    {
        s = rest;
    }
    s
}

fn emit(
    chunk: &[u8],
    base: u64,
    ev: &Pending,
    last_time_us: Option<i64>,
    sink: &mut dyn FnMut(LogEvent<'_>),
    stats: &mut ParseStats,
) {
    // An entry whose only lines are `use db;` / `SET timestamp=…;` has an empty
    // statement; pt counts it (as a class with the empty fingerprint), so do we, as
    // long as it has a `# Query_time:` line. Without one there is no entry at all.
    let text = match ev.stmt.or(ev.admin) {
        Some((a, b)) => trim_statement(&chunk[a..b]),
        None => b"",
    };
    if !ev.has_header || (text.is_empty() && ev.query_time.is_none()) {
        return;
    }
    stats.events += 1;
    // The server reports leftover Rows_* of the connection for administrator commands;
    // pt-query-digest zeroes them (`--zero-admin`, on by default), and so do we.
    let admin = ev.stmt.is_none() && ev.admin.is_some();
    let rows = |v: Option<u64>| if admin { v.map(|_| 0) } else { v };
    sink(LogEvent {
        ts_us: ev.own_time_us.or(ev.set_ts_us).or(last_time_us),
        duration_ms: ev.query_time.map(|s| s * 1000.0),
        lock_ms: ev.lock_time.map(|s| s * 1000.0),
        rows_sent: rows(ev.rows_sent),
        rows_examined: rows(ev.rows_examined),
        database: str_at(chunk, ev.use_db.or(ev.schema)),
        user: str_at(chunk, ev.user),
        client: str_at(chunk, ev.client),
        statement: String::from_utf8_lossy(text),
        offset: base + ev.start as u64,
    });
}

/// Server banner lines written at startup (and after FLUSH LOGS).
fn is_server_banner(line: &[u8]) -> bool {
    line.starts_with(b"Tcp port: ")
        || (line.starts_with(b"Time ") && memmem::find(line, b" Id Command").is_some())
        || (memmem::find(line, b", Version: ").is_some() && line.ends_with(b"started with:"))
}

impl LogParser for MysqlSlowParser {
    fn parse(&self, chunk: &[u8], base: u64, sink: &mut dyn FnMut(LogEvent<'_>)) -> ParseStats {
        let mut stats = ParseStats::default();
        let mut ev = Pending::at(0);
        let mut last_time_us: Option<i64> = None;
        let n = chunk.len();
        let mut pos = 0;
        while pos < n {
            let nl = memchr(b'\n', &chunk[pos..]).map_or(n, |p| pos + p);
            let mut end = nl;
            if end > pos && chunk[end - 1] == b'\r' {
                end -= 1;
            }
            let line = &chunk[pos..end];
            if let Some(rest) = line.strip_prefix(b"# ") {
                let r0 = pos + 2;
                // One rule decides where entries start, shared with `next_boundary`,
                // so a chunk cut at a boundary parses exactly like the whole input.
                if pos == 0 || entry_starts_at(chunk, pos) {
                    emit(chunk, base, &ev, last_time_us, sink, &mut stats);
                    // Lines before the first header (banners) belong to the first entry,
                    // as in pt's byte offsets.
                    let start = if ev.has_header { pos } else { ev.start };
                    ev = Pending::at(start);
                    ev.has_header = true;
                }
                if let Some((a, _)) = ev.stmt {
                    // A comment line inside a multi-line statement.
                    ev.stmt = Some((a, end));
                } else if !ev.has_header {
                    stats.skipped_lines += 1;
                } else if let Some(t) = rest.strip_prefix(b"Time:") {
                    ev.own_time_us = parse_time(t);
                    if ev.own_time_us.is_some() {
                        last_time_us = ev.own_time_us;
                    }
                } else if rest.starts_with(b"User@Host:") {
                    parse_user_host(rest, r0, 10, &mut ev);
                } else if rest.starts_with(b"User:") {
                    parse_user_host(rest, r0, 5, &mut ev);
                } else if rest.starts_with(b"administrator command: ") {
                    // pt's statement text for these: `administrator command: Quit`.
                    ev.admin = Some((r0, end));
                } else {
                    parse_attrs(rest, r0, &mut ev);
                }
            } else if is_server_banner(line) {
                if ev.stmt.is_some() || ev.admin.is_some() {
                    emit(chunk, base, &ev, last_time_us, sink, &mut stats);
                    ev = Pending::at(pos);
                }
                stats.skipped_lines += 1;
            } else if !ev.has_header {
                if !line.is_empty() {
                    stats.skipped_lines += 1;
                }
            } else if let Some((a, _)) = ev.stmt {
                ev.stmt = Some((a, end));
            } else if line.is_empty() {
            } else if line.starts_with(b"use ") && line.ends_with(b";") {
                let mut a = pos + 4;
                let mut b = end - 1;
                if b > a && chunk[a] == b'`' && chunk[b - 1] == b'`' {
                    a += 1;
                    b -= 1;
                }
                ev.use_db = Some((a, b));
            } else if let Some(ts) = set_timestamp(line) {
                ev.set_ts_us = Some(ts);
            } else {
                ev.stmt = Some((pos, end));
            }
            pos = nl + 1;
        }
        emit(chunk, base, &ev, last_time_us, sink, &mut stats);
        stats
    }

    fn next_boundary(&self, data: &[u8], from: usize) -> usize {
        let n = data.len();
        if from >= n {
            return n;
        }
        let mut ls = if from == 0 || data[from - 1] == b'\n' {
            from
        } else {
            match memchr(b'\n', &data[from..]) {
                Some(p) => from + p + 1,
                None => return n,
            }
        };
        let finder = memmem::Finder::new(b"\n# ");
        loop {
            if ls >= n {
                return n;
            }
            if data[ls..].starts_with(b"# ") && (ls == 0 || entry_starts_at(data, ls)) {
                return ls;
            }
            match finder.find(&data[ls..]) {
                Some(p) => ls += p + 1,
                None => return n,
            }
        }
    }
}

/// Whether the `# ` line at `ls` (> 0) starts a new entry:
/// * `# Time:` always;
/// * any `# ` line right after a statement (or administrator command) that ended with
///   `;`: pt reads records separated by `;\n#`, and some servers start entries with
///   `# User:` or `# Thread_id:`. `use db;` / `SET timestamp=…;` do not count: they
///   are part of an entry's header (slow011: `use db2;` then an admin command);
/// * `# User@Host:` unless right after `# Time:`;
/// * `# Query_time:` unless right after another `# ` header line.
fn entry_starts_at(data: &[u8], ls: usize) -> bool {
    let line = &data[ls..];
    if line.starts_with(b"# Time:") {
        return true;
    }
    let start = memchr::memrchr(b'\n', &data[..ls - 1]).map_or(0, |p| p + 1);
    let prev = &data[start..ls - 1];
    let prev = prev.strip_suffix(b"\r").unwrap_or(prev);
    if ends_with_semicolon(prev)
        && (!prev.starts_with(b"#") || prev.starts_with(b"# administrator command:"))
        && !prev.starts_with(b"use ")
        && set_timestamp(prev).is_none()
    {
        return true;
    }
    if line.starts_with(b"# User@Host:") || line.starts_with(b"# User:") {
        return !prev.starts_with(b"# Time:");
    }
    if line.starts_with(b"# Query_time:") {
        return !prev.starts_with(b"# ");
    }
    false
}

fn ends_with_semicolon(line: &[u8]) -> bool {
    line.iter().rev().find(|b| !b.is_ascii_whitespace()) == Some(&b';')
}

/// `SET timestamp=N;` or Percona's `SET insert_id=…,timestamp=N;`: microseconds.
fn set_timestamp(line: &[u8]) -> Option<i64> {
    if !line.starts_with(b"SET ") || !line.ends_with(b";") || line.len() > 256 {
        return None;
    }
    let p = memmem::find(line, b"timestamp=")?;
    let digits = &line[p + 10..];
    let len = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    let secs: i64 = std::str::from_utf8(&digits[..len]).ok()?.parse().ok()?;
    // A fractional part (MariaDB) is dropped: the second is enough for timelines.
    secs.checked_mul(1_000_000)
}

/// `root[root] @ localhost [127.0.0.1]  Id: 3` (after `User@Host:`, `skip` bytes).
fn parse_user_host(rest: &[u8], r0: usize, skip: usize, ev: &mut Pending) {
    let off = r0 + skip;
    let s = &rest[skip..];
    let lead = s.iter().take_while(|&&b| b == b' ').count();
    let s2 = &s[lead..];
    let user_len = if s2.first() == Some(&b'[') {
        memchr(b']', s2).map_or(s2.len(), |p| p + 1)
    } else {
        memchr(b'[', s2).unwrap_or(s2.len())
    };
    let u0 = off + lead;
    let mut ulen = user_len;
    while ulen > 0 && s2[ulen - 1] == b' ' {
        ulen -= 1;
    }
    if ulen > 0 {
        ev.user = Some((u0, u0 + ulen));
    }
    let Some(at) = memmem::find(s2, b"@ ") else {
        return;
    };
    let h = &s2[at + 2..];
    let h0 = u0 + at + 2;
    let hlen = h.iter().take_while(|&&b| b != b' ').count();
    let mut client = (hlen > 0).then_some((h0, h0 + hlen));
    if let Some(ob) = memchr(b'[', &h[hlen..]) {
        let ip = &h[hlen + ob + 1..];
        if let Some(cb) = memchr(b']', ip)
            && cb > 0
        {
            let i0 = h0 + hlen + ob + 1;
            client = Some((i0, i0 + cb));
        }
    }
    ev.client = client;
}

/// `Key: value` pairs of a header line.
fn parse_attrs(rest: &[u8], r0: usize, ev: &mut Pending) {
    let mut i = 0;
    let n = rest.len();
    while i < n {
        while i < n && rest[i] == b' ' {
            i += 1;
        }
        let k0 = i;
        while i < n && rest[i] != b' ' {
            i += 1;
        }
        let key = &rest[k0..i];
        if key.last() != Some(&b':') {
            continue;
        }
        while i < n && rest[i] == b' ' {
            i += 1;
        }
        let v0 = i;
        while i < n && rest[i] != b' ' {
            i += 1;
        }
        let val = &rest[v0..i];
        if val.ends_with(b":") {
            // Empty value (`Schema: ` then the next key): step back onto the key.
            i = v0;
            continue;
        }
        let num = || std::str::from_utf8(val).ok();
        match key {
            b"Query_time:" => ev.query_time = num().and_then(|s| s.parse().ok()),
            b"Lock_time:" => ev.lock_time = num().and_then(|s| s.parse().ok()),
            b"Rows_sent:" => ev.rows_sent = num().and_then(|s| s.parse().ok()),
            b"Rows_examined:" => ev.rows_examined = num().and_then(|s| s.parse().ok()),
            b"Schema:" if !val.is_empty() => ev.schema = Some((r0 + v0, r0 + i)),
            _ => {}
        }
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn num(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 9 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0, |a, &b| a * 10 + i64::from(b - b'0')))
}

/// `# Time:` value: `071015 21:43:52` / `071015  1:43:52` (local, taken as UTC) or
/// ISO-8601 `2016-07-20T18:13:25.698433Z` / `…+08:00`. Microseconds since the epoch.
pub(crate) fn parse_time(s: &[u8]) -> Option<i64> {
    let s = trim_statement(s);
    let (date, time, tz_min): (i64, &[u8], i64);
    if s.len() >= 10 && s[4] == b'-' && s[7] == b'-' {
        let y = num(&s[0..4])?;
        let m = num(&s[5..7])?;
        let d = num(&s[8..10])?;
        date = days_from_civil(y, m, d);
        let mut t = s.get(11..).unwrap_or(b"");
        let mut tz = 0;
        if let Some(z) = t.strip_suffix(b"Z") {
            t = z;
        } else if t.len() > 6 && matches!(t[t.len() - 6], b'+' | b'-') && t[t.len() - 3] == b':' {
            let sign = if t[t.len() - 6] == b'-' { -1 } else { 1 };
            let hh = num(&t[t.len() - 5..t.len() - 3])?;
            let mm = num(&t[t.len() - 2..])?;
            tz = sign * (hh * 60 + mm);
            t = &t[..t.len() - 6];
        }
        time = t;
        tz_min = tz;
    } else {
        let sp = memchr(b' ', s)?;
        let d = &s[..sp];
        if d.len() != 6 {
            return None;
        }
        let y = 2000 + num(&d[0..2])?;
        date = days_from_civil(y, num(&d[2..4])?, num(&d[4..6])?);
        let t = &s[sp..];
        let lead = t.iter().take_while(|&&b| b == b' ').count();
        time = &t[lead..];
        tz_min = 0;
    }
    // H:MM:SS[.ffffff]
    let mut parts = time.splitn(3, |&b| b == b':');
    let h = num(parts.next()?)?;
    let mi = num(parts.next()?)?;
    let sec_part = parts.next()?;
    let (sec, frac) = match memchr(b'.', sec_part) {
        Some(p) => (&sec_part[..p], &sec_part[p + 1..]),
        None => (sec_part, &b""[..]),
    };
    let sec = num(sec)?;
    let mut us = 0;
    let mut scale = 100_000;
    for &b in frac.iter().take(6) {
        if !b.is_ascii_digit() {
            return None;
        }
        us += i64::from(b - b'0') * scale;
        scale /= 10;
    }
    let secs = date * 86_400 + h * 3600 + mi * 60 + sec - tz_min * 60;
    Some(secs * 1_000_000 + us)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Ev {
        statement: String,
        database: Option<String>,
        user: Option<String>,
        client: Option<String>,
        ts_us: Option<i64>,
        duration_ms: Option<f64>,
        rows_sent: Option<u64>,
    }

    fn events(log: &[u8]) -> (Vec<Ev>, ParseStats) {
        let mut v = Vec::new();
        let st = MysqlSlowParser.parse(log, 0, &mut |e| {
            v.push(Ev {
                statement: e.statement.into_owned(),
                database: e.database.map(str::to_owned),
                user: e.user.map(str::to_owned),
                client: e.client.map(str::to_owned),
                ts_us: e.ts_us,
                duration_ms: e.duration_ms,
                rows_sent: e.rows_sent,
            })
        });
        (v, st)
    }

    #[test]
    fn times() {
        assert_eq!(parse_time(b" 071015 21:43:52"), Some(1_192_484_632_000_000));
        assert_eq!(parse_time(b" 071015  1:43:52"), Some(1_192_412_632_000_000));
        assert_eq!(
            parse_time(b" 2016-07-20T18:13:25.698433Z"),
            Some(1_469_038_405_698_433)
        );
        assert_eq!(
            parse_time(b" 2016-07-20T20:13:25.698433+02:00"),
            Some(1_469_038_405_698_433)
        );
        assert_eq!(parse_time(b" garbage"), None);
    }

    #[test]
    fn basic_entry() {
        let log = b"# Time: 2016-07-20T18:13:25.698433Z\n# User@Host: root[root] @ localhost [127.0.0.1]  Id:     3\n# Query_time: 0.003464  Lock_time: 0.000324 Rows_sent: 1000  Rows_examined: 2000\nuse shop;\nSET timestamp=1469038405;\nSELECT *\nFROM t;\n# User@Host: [SQL_SLAVE] @  []\n# Query_time: 1  Lock_time: 0  Rows_sent: 0  Rows_examined: 0\n# administrator command: Quit;\n";
        let (ev, st) = events(log);
        assert_eq!(st.events, 2);
        assert_eq!(ev[0].statement, "SELECT *\nFROM t");
        assert_eq!(ev[0].database.as_deref(), Some("shop"));
        assert_eq!(ev[0].user.as_deref(), Some("root"));
        assert_eq!(ev[0].client.as_deref(), Some("127.0.0.1"));
        assert_eq!(ev[0].rows_sent, Some(1000));
        assert_eq!(ev[0].ts_us, Some(1_469_038_405_698_433));
        assert_eq!(ev[1].statement, "administrator command: Quit");
        assert_eq!(ev[1].user.as_deref(), Some("[SQL_SLAVE]"));
        assert_eq!(ev[1].client, None);
        assert_eq!(ev[1].ts_us, Some(1_469_038_405_698_433));
        assert_eq!(ev[1].duration_ms, Some(1000.0));
    }

    #[test]
    fn boundaries() {
        let log = b"garbage\n# Time: 071015 21:43:52\n# User@Host: a[a] @ h []\n# Query_time: 1\nselect 1;\n# User@Host: a[a] @ h []\n# Query_time: 1\nselect 2;\n";
        let p = MysqlSlowParser;
        let b1 = p.next_boundary(log, 0);
        assert_eq!(&log[b1..b1 + 7], b"# Time:");
        let b2 = p.next_boundary(log, b1 + 1);
        assert_eq!(&log[b2..b2 + 12], b"# User@Host:");
        assert!(b2 > b1 + 40);
        assert_eq!(p.next_boundary(log, b2 + 1), log.len());
    }
}
