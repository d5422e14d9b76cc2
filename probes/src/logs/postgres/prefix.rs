//! `log_line_prefix` compiler: turns `%t [%p]: [%l-1] user=%u,db=%d ` into a list of
//! items matched left to right without regexes or allocation, then the severity
//! (`LOG:  `) that must follow. Also the detection of common prefixes from a log head.

use super::{Sev, field, ts};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Lit(Vec<u8>),
    /// `%t`/`%m`: timestamp with optional fraction and zone.
    Ts,
    /// `%n`: epoch.
    Epoch,
    Pid,
    /// `%l`, and digits-only fields we do not keep.
    Digits,
    User,
    Db,
    /// `%h` / `%r`: the client.
    Client,
    /// Any other text escape (`%a %c %s %v %x %e %Q %b %i`).
    Text,
    /// `%q`: the rest of the prefix is absent for non-session processes.
    Quiet,
    /// Unknown prefix: anything up to the severity, with `user=`/`db=`/`u@d` picked up.
    Rest,
}

/// Fields read from one line's prefix.
#[derive(Debug, Default, Clone, Copy)]
pub struct Head<'a> {
    pub ts_us: Option<i64>,
    pub pid: u64,
    pub user: Option<&'a str>,
    pub db: Option<&'a str>,
    pub client: Option<&'a str>,
}

/// A compiled `log_line_prefix`.
#[derive(Debug, Clone)]
pub struct Prefix {
    items: Vec<Item>,
    /// The prefix as text, for messages.
    pub text: String,
}

impl Prefix {
    /// Compiles a `log_line_prefix` value. Unknown escapes match like `%a` (text).
    pub fn compile(s: &str) -> Prefix {
        let mut items = Vec::new();
        let mut lit = Vec::new();
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' && i + 1 < b.len() {
                // Padding like %-10u / %10p: skip the width.
                let mut j = i + 1;
                while j < b.len() && (b[j] == b'-' || b[j].is_ascii_digit()) {
                    j += 1;
                }
                let Some(&c) = b.get(j) else { break };
                if c == b'%' {
                    lit.push(b'%');
                    i = j + 1;
                    continue;
                }
                if !lit.is_empty() {
                    items.push(Item::Lit(std::mem::take(&mut lit)));
                }
                items.push(match c {
                    b't' | b'm' => Item::Ts,
                    b'n' => Item::Epoch,
                    b'p' => Item::Pid,
                    b'l' => Item::Digits,
                    b'u' => Item::User,
                    b'd' => Item::Db,
                    b'h' | b'r' => Item::Client,
                    b'q' => Item::Quiet,
                    _ => Item::Text,
                });
                i = j + 1;
            } else {
                lit.push(b[i]);
                i += 1;
            }
        }
        // Trailing spaces are matched by the severity scan (it skips spaces), so a
        // prefix given with or without its final space works the same.
        while lit.last() == Some(&b' ') {
            lit.pop();
        }
        if !lit.is_empty() {
            items.push(Item::Lit(lit));
        }
        Prefix {
            items,
            text: s.to_owned(),
        }
    }

    /// The generic matcher for unknown prefixes: a timestamp, then anything.
    pub fn generic() -> Prefix {
        Prefix {
            items: vec![Item::Ts, Item::Rest],
            text: "%m %*".to_owned(),
        }
    }

    /// Matcher for the part of a syslog line after `[N-M] ` when the prefix is unknown.
    pub fn generic_rest() -> Prefix {
        Prefix {
            items: vec![Item::Rest],
            text: "%*".to_owned(),
        }
    }

    /// Matches the prefix and the severity at the start of `line`: the fields, the
    /// severity and where the message starts.
    pub fn match_line<'a>(&self, line: &'a [u8]) -> Option<(Head<'a>, Sev, usize)> {
        let mut h = Head::default();
        let pos = self.match_items(0, line, 0, &mut h)?;
        let (sev, m) = severity(line, pos)?;
        Some((h, sev, m))
    }

    fn match_items<'a>(
        &self,
        from: usize,
        line: &'a [u8],
        mut pos: usize,
        h: &mut Head<'a>,
    ) -> Option<usize> {
        let mut k = from;
        while k < self.items.len() {
            match &self.items[k] {
                Item::Lit(l) => {
                    if !line[pos..].starts_with(l) {
                        return None;
                    }
                    pos += l.len();
                }
                Item::Ts => {
                    let (t, n) = ts::parse_pg_ts(&line[pos..])?;
                    h.ts_us = Some(t);
                    pos += n;
                }
                Item::Epoch => {
                    let (t, n) = ts::parse_epoch(&line[pos..])?;
                    h.ts_us = Some(t);
                    pos += n;
                }
                Item::Pid | Item::Digits => {
                    let s = pos;
                    let mut v = 0u64;
                    while pos < line.len() && line[pos].is_ascii_digit() {
                        v = v.wrapping_mul(10).wrapping_add(u64::from(line[pos] - b'0'));
                        pos += 1;
                    }
                    if pos == s {
                        return None;
                    }
                    if self.items[k] == Item::Pid {
                        h.pid = v;
                    }
                }
                Item::User | Item::Db | Item::Client | Item::Text => {
                    let end = match self.items.get(k + 1) {
                        Some(Item::Lit(l)) => pos + memchr::memmem::find(&line[pos..], l)?,
                        _ => pos + memchr::memchr(b' ', &line[pos..]).unwrap_or(line.len() - pos),
                    };
                    let v = field(&line[pos..end]);
                    match self.items[k] {
                        Item::User => h.user = v,
                        Item::Db => h.db = v,
                        Item::Client => h.client = v,
                        _ => {}
                    }
                    pos = end;
                }
                Item::Quiet => {
                    let mut h2 = *h;
                    if let Some(p) = self.match_items(k + 1, line, pos, &mut h2)
                        && severity(line, p).is_some()
                    {
                        *h = h2;
                        return Some(p);
                    }
                    return Some(pos);
                }
                Item::Rest => {
                    let sev_at = find_severity(line, pos)?;
                    rest_fields(&line[pos..sev_at], h);
                    return Some(sev_at);
                }
            }
            k += 1;
        }
        Some(pos)
    }
}

/// After the prefix: optional spaces, `WORD:` with a known severity, then up to two
/// spaces. Returns the severity and where the message starts.
pub fn severity(line: &[u8], mut pos: usize) -> Option<(Sev, usize)> {
    while line.get(pos) == Some(&b' ') {
        pos += 1;
    }
    let s = pos;
    while pos < line.len() && (line[pos].is_ascii_uppercase() || line[pos].is_ascii_digit()) {
        pos += 1;
    }
    if line.get(pos) != Some(&b':') {
        return None;
    }
    let sev = Sev::from_word(&line[s..pos])?;
    pos += 1;
    for _ in 0..2 {
        if line.get(pos) == Some(&b' ') {
            pos += 1;
        }
    }
    Some((sev, pos))
}

/// The position of the first `SEVERITY:` word at or after `from` that starts the
/// line or follows a space, `:` or `]`.
fn find_severity(line: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(c) = memchr::memchr(b':', &line[at..]) {
        let colon = at + c;
        let mut s = colon;
        while s > from && line[s - 1].is_ascii_uppercase() {
            s -= 1;
        }
        let ok_before = s == from || matches!(line[s - 1], b' ' | b':' | b']');
        if colon > s && ok_before && Sev::from_word(&line[s..colon]).is_some() {
            return Some(s);
        }
        at = colon + 1;
    }
    None
}

/// Picks `user=`/`usr=`, `db=`, `client=`/`host=` and `user@db` out of an unknown
/// prefix.
fn rest_fields<'a>(p: &'a [u8], h: &mut Head<'a>) {
    let mut pid_seen = false;
    for tok in p.split(|c| matches!(c, b' ' | b',' | b':' | b'[' | b']')) {
        if !pid_seen && !tok.is_empty() && tok.iter().all(u8::is_ascii_digit) {
            pid_seen = true;
            h.pid = tok.iter().fold(0u64, |a, c| {
                a.wrapping_mul(10).wrapping_add(u64::from(c - b'0'))
            });
        } else if let Some(eq) = memchr::memchr(b'=', tok) {
            let v = field(&tok[eq + 1..]);
            match &tok[..eq] {
                b"user" | b"usr" => h.user = v,
                b"db" | b"database" => h.db = v,
                b"client" | b"host" | b"remote" => h.client = v,
                _ => {}
            }
        } else if let Some(at) = memchr::memchr(b'@', tok)
            && h.user.is_none()
        {
            h.user = field(&tok[..at]);
            h.db = field(&tok[at + 1..]);
        }
    }
}

/// Common prefixes, most specific first (pgBadger's fixtures and the distributions'
/// defaults).
const CANDIDATES: &[&str] = &[
    "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%t [%p]: [%l-1] user=%u,db=%d,host=%h,app=%a ",
    "%t [%p]: [%l-1] [%x] usr=%u,db=%d,appli=%a ",
    "%t [%p]: [%l-1] db=%d,user=%u,app=%a,client=%h ",
    "%t [%p]: db=%d,user=%u,app=%a,client=%h ",
    "%t [%p]: user=%u,db=%d,app=%a,client=%h ",
    "%t [%p]: [%l-1] user=%u,db=%d ",
    "%m [%p] [queryid=%Q] %u@%d ",
    "%m [%p] user=%u,db=%d,app=%a,client=%h ",
    "%m [%p] user=%u,db=%d ",
    // Before its %q form, which matches the same lines when no session line is seen.
    "%m [%p] ",
    "%m [%p] %q%u@%d ",
    "%m [%p] %q[%l-1] %u@%d ",
    "%t:%r:%u@%d:[%p]:",
    "%t:%h:%u@%d:[%p]:",
    "%m:%r:%u@%d:[%p]:",
    "%t [%p]: [%l-1] ",
    "%m [%p]: [%l-1] ",
    "%t [%p]: ",
    "%m %p ",
];

/// Inner prefixes for syslog lines (after `[N-M] `; the syslog header carries the
/// time and pid).
const SYSLOG_CANDIDATES: &[&str] = &[
    "db=%d,user=%u,app=%a,client=%h ",
    "user=%u,db=%d,app=%a,client=%h ",
    "user=%u,db=%d,app=%a,host=%h ",
    "user=%u,db=%d ",
    "db=%d,user=%u ",
    "sql_error_code = %e ",
    "%u@%d ",
];

/// Detects the prefix of stderr `lines` (entry lines; continuation lines skipped):
/// the candidate matching the most lines, if it matches at least half of them.
pub fn detect_prefix<'a>(
    lines: impl Iterator<Item = &'a [u8]> + Clone,
    syslog: bool,
) -> Option<Prefix> {
    let cands = if syslog {
        SYSLOG_CANDIDATES
    } else {
        CANDIDATES
    };
    let total = lines.clone().count();
    if total == 0 {
        return None;
    }
    let mut best: Option<(usize, Prefix)> = None;
    for c in cands {
        let p = Prefix::compile(c);
        let n = lines.clone().filter(|l| p.match_line(l).is_some()).count();
        if n > best.as_ref().map_or(0, |b| b.0) {
            best = Some((n, p));
        }
    }
    let (n, mut p) = best?;
    if n * 2 < total {
        return None;
    }
    // Report %m when the log shows milliseconds.
    if p.text.starts_with("%t") && lines.clone().any(|l| l.len() > 19 && l[19] == b'.') {
        p.text.replace_range(0..2, "%m");
    }
    Some(p)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiles_and_matches_common_prefixes() {
        let p = Prefix::compile("%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ");
        let l = b"2017-09-06 08:41:41 UTC [36]: [121-1] user=postgres,db=pg,app=pgbench,client=172.23.0.1 LOG:  duration: 2.280 ms  statement: END;";
        let (h, sev, m) = p.match_line(l).unwrap();
        assert_eq!(sev, Sev::Log);
        assert_eq!(h.pid, 36);
        assert_eq!(
            (h.user, h.db, h.client),
            (Some("postgres"), Some("pg"), Some("172.23.0.1"))
        );
        assert!(l[m..].starts_with(b"duration:"));

        let rds = Prefix::compile("%t:%r:%u@%d:[%p]:");
        let (h, sev, _) = rds
            .match_line(b"2020-03-11 20:40:43 CET::@:[12760]:LOG:  x")
            .unwrap();
        assert_eq!((h.pid, h.user, sev), (12760, None, Sev::Log));
        let (h, _, _) = rds
            .match_line(b"2021-05-27 17:00:00 UTC:10.1.91.65:user@my_db:[24743]:LOG: duration: 0.054 ms statement: SELECT 1;")
            .unwrap();
        assert_eq!(
            (h.user, h.db, h.client),
            (Some("user"), Some("my_db"), Some("10.1.91.65"))
        );

        let q = Prefix::compile("%m [%p] %q%u@%d ");
        let (h, _, _) = q
            .match_line(b"2025-01-21 18:37:49.783 CET [78776] LOG:  listening")
            .unwrap();
        assert_eq!((h.pid, h.user), (78776, None));
        let (h, _, _) = q
            .match_line(b"2025-01-21 18:37:49.783 CET [7] bob@app LOG:  x")
            .unwrap();
        assert_eq!((h.user, h.db), (Some("bob"), Some("app")));
        assert!(q.match_line(b"pg_ctl: could not start server").is_none());
        assert!(
            Prefix::compile("%%%n ")
                .items
                .contains(&Item::Lit(b"%".to_vec()))
        );
    }

    #[test]
    fn generic_prefix_finds_severity_and_fields() {
        let g = Prefix::generic();
        let l = b"2023-03-07 09:06:08 CET [130096]: [247-1] [0] usr=u6,db=progdb,appli=7 DETAIL:  parameters: $1 = 'a'";
        let (h, sev, m) = g.match_line(l).unwrap();
        assert_eq!(
            (h.user, h.db, sev, h.pid),
            (Some("u6"), Some("progdb"), Sev::Detail, 130096)
        );
        assert!(l[m..].starts_with(b"parameters:"));
    }
}
