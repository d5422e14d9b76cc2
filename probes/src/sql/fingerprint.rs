//! Query fingerprints: one normalised text per *shape* of statement, so that the
//! thousands of executions of `SELECT … WHERE id = 17` and `… id = 42` are counted as
//! one class, and a stable 64-bit id per fingerprint so that a class can be followed
//! across sources (slow log, pg_stat_statements, performance_schema) and versions.
//!
//! The grouping follows pt-query-digest's `QueryRewriter::fingerprint()` (Percona
//! Toolkit 3.x), because engineers compare our report with theirs and the test corpus
//! checks the class ids of pt's reports. pt is a chain of ~15 regexes over the whole
//! text; here it is one pass of a byte scanner writing into a reused buffer, plus two
//! short fix-ups at the end (LIMIT, ORDER BY … ASC). The rules, in pt's order:
//!
//! * special cases: mysqldump's `SELECT /*!40001 SQL_NO_CACHE */ * FROM \`` →
//!   `mysqldump`; pt-table-checksum's `/*db.tbl:1/3*/` → `percona-toolkit`;
//!   `administrator command: …` kept as is; `CALL proc(…)` → `call proc`;
//!   `INSERT|REPLACE [IGNORE] INTO … VALUES (…), (…)…` cut after the first row.
//! * comments `-- …`, `# …`, `/* … */` go; MySQL hints `/*! … */` stay.
//! * `use db` → `use ?`.
//! * strings `'…'` and `"…"` → `?` (`\'` and `\"` are escapes); `TRUE`/`FALSE` → `?`.
//! * numbers: like pt, anything that starts with `[0-9+-]` followed by
//!   `[0-9a-f.xb+-]*` becomes `?` — also *inside* identifiers, so `tbl_2023_01` and
//!   `db2.t` group with their siblings (`tbl_?_?`, `d?t`; pt then drops one of
//!   `x b . + -` glued before a `?`, which is where `d?t` comes from).
//! * whitespace runs → one space, trimmed; everything lower-cased (ASCII).
//! * `IN (?, ?)` / `VALUES (?, ?), (?, ?)` → `in(?+)` / `values(?+)`.
//! * identical selects joined by `UNION [ALL]` → `select … /*repeat union*/`.
//! * the first `LIMIT ?, ?` / `LIMIT ? OFFSET ?` → `limit ?`; `ASC` after `ORDER BY`
//!   dropped.
//!
//! Deliberate differences from pt 3.x (each changes the class of a few statements):
//! * hex literals `0x…` become one `?` whatever their case: pt's number pattern only
//!   knows lower-case hex digits, so `0xF91E1D` became `?f?e?d` and one query split
//!   into thousands of classes.
//! * `NULL` stays `null` (pt turns it into `?`, so `IS NULL` and `IS NOT NULL` read as
//!   `is ?` / `is not ?`, and `= NULL` bugs hide). Inside an IN/VALUES list it still
//!   counts as a literal, so lists collapse as in pt.
//! * a comment at the end leaves no trailing space (pt: `select foo ` for
//!   `SELECT foo -- note`, a different class from `SELECT foo`).
//! * `ASC` is dropped after `ORDER BY` only as a whole word (pt also ate the start of
//!   `… ascii`).
//!
//! [`pt_query_id`] gives pt's "Query ID" (upper-case MD5 of the fingerprint) so that
//! users can cross-reference pt reports; for the statements above it differs from pt's.

use std::fmt::Write as _;

/// Returns the fingerprint of `sql` (see the module documentation for the rules).
pub fn fingerprint(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len().min(4096));
    fingerprint_into(sql, &mut out);
    out
}

/// Writes the fingerprint of `sql` into `out` (cleared first): the hot path of log
/// digesting reuses one buffer per thread, so no allocation happens per statement.
pub fn fingerprint_into(sql: &str, out: &mut String) {
    out.clear();
    let mut buf = std::mem::take(out).into_bytes();
    fingerprint_bytes(sql.as_bytes(), &mut buf);
    // The scanner copies non-ASCII bytes whole and only writes ASCII itself, and it
    // never cuts inside a multi-byte sequence (cuts happen at ASCII bytes), so the
    // output is valid UTF-8; the checked conversion keeps that an invariant, not a hope.
    *out = match String::from_utf8(buf) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
}

/// The stable 64-bit id of a fingerprint: **XXH3-64 with seed 0** of its canonical
/// form (see [`canonical_into`]), so that one query has one id whichever source it came
/// from: a slow log, pg_stat_statements or performance_schema's digest text.
/// This must never change between perfdiag versions (ids are stored in snapshots and
/// compared across months); a test pins known values.
pub fn fingerprint_id(fingerprint: &str) -> u64 {
    let mut canonical = String::with_capacity(fingerprint.len());
    canonical_into(fingerprint, &mut canonical);
    xxhash_rust::xxh3::xxh3_64(canonical.as_bytes())
}

/// The class id of a statement as tables store it: [`fingerprint_id`] of its
/// fingerprint, in 16 hex digits (as `perfdiag logs` prints it).
pub fn class_id(sql: &str) -> String {
    format!("{:016x}", fingerprint_id(&fingerprint(sql)))
}

/// The fingerprint with what differs between sources of the same query removed, for
/// [`fingerprint_id`] only (reports show the fingerprint itself):
/// * identifier quotes `` ` `` go (performance_schema quotes every identifier);
/// * `(...)`, the digest's collapsed list, becomes `(?+)` as a collapsed log list is;
/// * a space stays only between two word characters (letters, digits, `_`, `?`,
///   `$`, `@`, non-ASCII): the digest writes `id = ?` for a logged `id=5`, and
///   `` `db` . `t` `` for `db.t`.
pub fn canonical_into(fingerprint: &str, out: &mut String) {
    out.clear();
    let word = |c: char| c.is_alphanumeric() || matches!(c, '_' | '?' | '$' | '@');
    let mut pending_space = false;
    let mut rest = fingerprint;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("(...)") {
            rest = after;
            // `(` is not a word character: any space before it goes.
            pending_space = false;
            out.push_str("(?+)");
            continue;
        }
        rest = &rest[c.len_utf8()..];
        match c {
            '`' => {}
            ' ' => pending_space = !out.is_empty(),
            _ => {
                if pending_space && word(c) && out.chars().next_back().is_some_and(word) {
                    out.push(' ');
                }
                pending_space = false;
                out.push(c);
            }
        }
    }
}

/// pt-query-digest's query id of a fingerprint (3.x): `0x` and the upper-case hex MD5.
pub fn pt_query_id(fingerprint: &str) -> String {
    use md5::{Digest, Md5};
    let digest = Md5::digest(fingerprint.as_bytes());
    let mut s = String::with_capacity(34);
    s.push_str("0x");
    for b in digest.iter() {
        let _ = write!(s, "{b:02X}");
    }
    s
}

fn starts_with_ci(hay: &[u8], needle: &[u8]) -> bool {
    hay.len() >= needle.len() && hay[..needle.len()].eq_ignore_ascii_case(needle)
}

fn find_ci(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    if from >= hay.len() {
        return None;
    }
    // Needles are short keywords; look for the first byte in either case with memchr.
    let (lo, up) = (
        needle[0].to_ascii_lowercase(),
        needle[0].to_ascii_uppercase(),
    );
    let mut i = from;
    while let Some(p) = memchr::memchr2(lo, up, &hay[i..]) {
        let at = i + p;
        if starts_with_ci(&hay[at..], needle) {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\n' | b'\t' | b'\r' | 0x0c)
}

/// pt's "word" bytes for `\b` (ASCII `\w`).
fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// pt's number continuation class `[0-9a-f.xb+-]` (case-sensitive, like pt).
fn is_num_cont(b: u8) -> bool {
    matches!(b, b'0'..=b'9' | b'a'..=b'f' | b'.' | b'x' | b'+' | b'-') // `b` is in a-f
}

/// Special cases that pt answers before normalising; `Some` is the whole fingerprint.
fn special_case(sql: &[u8], out: &mut Vec<u8>) -> bool {
    if sql.starts_with(b"SELECT /*!40001 SQL_NO_CACHE */ * FROM `") {
        out.extend_from_slice(b"mysqldump");
        return true;
    }
    if is_checksum_query(sql) {
        out.extend_from_slice(b"percona-toolkit");
        return true;
    }
    if sql.starts_with(b"administrator command: ") {
        out.extend_from_slice(sql);
        return true;
    }
    // `\A\s*(call\s+\S+)\(` → lower-cased `call name`.
    let lead = sql.iter().take_while(|&&b| is_space(b)).count();
    let rest = &sql[lead..];
    if starts_with_ci(rest, b"call") && rest.get(4).is_some_and(|&b| is_space(b)) {
        let sp = 4 + rest[4..].iter().take_while(|&&b| is_space(b)).count();
        let name_len = rest[sp..].iter().take_while(|&&b| !is_space(b)).count();
        // `\S+\(` backtracks to the last `(` inside the non-space run.
        if let Some(paren) = rest[sp..sp + name_len].iter().rposition(|&b| b == b'(')
            && paren > 0
        {
            out.extend(rest[..sp + paren].iter().map(u8::to_ascii_lowercase));
            return true;
        }
    }
    // pt's `\Ause \S+\Z` (case-insensitive) → `use ?`, with any whitespace around the
    // name (pt wants one space, so `USE\tdb` would become `use db` there, and `use ?`
    // only when fingerprinted again: a fingerprint must be a fixed point).
    if starts_with_ci(sql, b"use") && sql.get(3).is_some_and(|&b| is_space(b)) {
        let name = sql[3..].trim_ascii();
        if !name.is_empty() && !name.iter().any(|&b| is_space(b)) {
            out.extend_from_slice(b"use ?");
            return true;
        }
    }
    false
}

/// pt-table-checksum & co. tag their statements with `/*db.tbl:N/M*/`.
fn is_checksum_query(sql: &[u8]) -> bool {
    let mut from = 0;
    while let Some(p) = memchr::memmem::find(&sql[from..], b"/*") {
        let s = &sql[from + p + 2..];
        let w1 = s.iter().take_while(|&&b| is_word(b)).count();
        if w1 > 0 && s.get(w1) == Some(&b'.') {
            let s2 = &s[w1 + 1..];
            let w2 = s2.iter().take_while(|&&b| is_word(b)).count();
            if w2 > 0
                && s2.len() >= w2 + 6
                && s2[w2] == b':'
                && s2[w2 + 1].is_ascii_digit()
                && s2[w2 + 2] == b'/'
                && s2[w2 + 3].is_ascii_digit()
                && &s2[w2 + 4..w2 + 6] == b"*/"
            {
                return true;
            }
        }
        from += p + 2;
    }
    false
}

/// pt cuts multi-row inserts right after the first row:
/// `\A((?:INSERT|REPLACE)(?: IGNORE)?\s+INTO.+?VALUES\s*\(.*?\))\s*,\s*\(` (case-
/// insensitive). Returns the length to keep. Besides matching pt's classes (the
/// `ON DUPLICATE KEY UPDATE` tail goes too), it is what keeps a 100 MB mysqldump
/// insert cheap: we never scan past its first row.
fn insert_cut(sql: &[u8]) -> Option<usize> {
    let kw = if starts_with_ci(sql, b"insert") {
        6
    } else if starts_with_ci(sql, b"replace") {
        7
    } else {
        return None;
    };
    let mut i = kw;
    if starts_with_ci(&sql[i..], b" ignore") {
        i += 7;
    }
    let sp = sql[i..].iter().take_while(|&&b| is_space(b)).count();
    if sp == 0 || !starts_with_ci(&sql[i + sp..], b"into") {
        return None;
    }
    i += sp + 4;
    // `.+?VALUES`: at least one byte between INTO and VALUES.
    let v = find_ci(sql, i + 1, b"values")?;
    let mut j = v + 6;
    j += sql[j..].iter().take_while(|&&b| is_space(b)).count();
    if sql.get(j) != Some(&b'(') {
        return None;
    }
    // `.*?\)` then `\s*,\s*\(`: the first `)` followed by `, (`.
    let mut k = j + 1;
    while let Some(p) = memchr::memchr(b')', &sql[k..]) {
        let close = k + p;
        let mut m = close + 1;
        m += sql[m..].iter().take_while(|&&b| is_space(b)).count();
        if sql.get(m) == Some(&b',') {
            m += 1;
            m += sql[m..].iter().take_while(|&&b| is_space(b)).count();
            if sql.get(m) == Some(&b'(') {
                return Some(close + 1);
            }
        }
        k = close + 1;
    }
    None
}

struct Out<'o> {
    buf: &'o mut Vec<u8>,
    pending_space: bool,
    /// The original byte before the last one written when nothing separated them in
    /// the input, for pt's "clean up leftovers" rule (`[xb.+-]\?` → `?`), which runs
    /// before lower-casing: only a lower-case `x`/`b` counts.
    last_orig: u8,
}

impl Out<'_> {
    #[inline]
    fn space(&mut self) {
        self.pending_space = true;
        self.last_orig = 0;
    }

    #[inline]
    fn flush_space(&mut self) {
        if self.pending_space {
            if !self.buf.is_empty() {
                self.buf.push(b' ');
            }
            self.pending_space = false;
        }
    }

    #[inline]
    fn byte(&mut self, orig: u8) {
        self.flush_space();
        self.buf.push(orig.to_ascii_lowercase());
        self.last_orig = orig;
    }

    #[inline]
    fn word(&mut self, word: &[u8]) {
        self.flush_space();
        self.buf.extend(word.iter().map(u8::to_ascii_lowercase));
        if let Some(&last) = word.last() {
            self.last_orig = last;
        }
    }

    /// A literal: `?`, eating one glued `x b . + -` before it like pt.
    #[inline]
    fn placeholder(&mut self) {
        if !self.pending_space && matches!(self.last_orig, b'x' | b'b' | b'.' | b'+' | b'-') {
            self.buf.pop();
        }
        self.flush_space();
        self.buf.push(b'?');
        self.last_orig = b'?';
    }

    fn close_paren(&mut self) {
        self.byte(b')');
        collapse_list(self.buf);
    }
}

/// After a `)`: if the output ends with `in|value|values` + `[ ,]*(` literals `)`
/// (one or more groups), rewrite that to `in(?+)`/`values(?+)` (pt's IN/VALUES rule).
/// Scans backwards from the end, so each check costs the length of the list at most,
/// and collapsed groups are short.
fn collapse_list(out: &mut Vec<u8>) {
    let mut close = out.len() - 1;
    loop {
        let mut k = close;
        loop {
            if k == 0 {
                return;
            }
            match out[k - 1] {
                b'?' | b' ' | b',' | b'+' => k -= 1,
                b'l' if k >= 4 && &out[k - 4..k] == b"null" && (k == 4 || !is_word(out[k - 5])) => {
                    k -= 4
                }
                _ => break,
            }
        }
        if k == 0 || out[k - 1] != b'(' {
            return;
        }
        let mut m = k - 1;
        while m > 0 && matches!(out[m - 1], b' ' | b',') {
            m -= 1;
        }
        if m > 0 && out[m - 1] == b')' {
            close = m - 1;
            continue;
        }
        let kw_ok = |len: usize, word: &[u8]| {
            m >= len && &out[m - len..m] == word && (m == len || !is_word(out[m - len - 1]))
        };
        if kw_ok(2, b"in") || kw_ok(5, b"value") || kw_ok(6, b"values") {
            out.truncate(m);
            out.extend_from_slice(b"(?+)");
        }
        return;
    }
}

fn fingerprint_bytes(sql: &[u8], buf: &mut Vec<u8>) {
    buf.clear();
    if special_case(sql, buf) {
        return;
    }
    let sql = match insert_cut(sql) {
        Some(n) => &sql[..n],
        None => sql,
    };
    let mut o = Out {
        buf,
        pending_space: false,
        last_orig: 0,
    };
    let n = sql.len();
    let mut i = 0;
    while i < n {
        let b = sql[i];
        match b {
            b' ' | b'\n' | b'\t' | b'\r' | 0x0c => {
                o.space();
                i += 1;
            }
            b'-' if sql.get(i + 1) == Some(&b'-') => i = line_end(sql, i),
            b'#' => i = line_end(sql, i),
            b'/' if sql.get(i + 1) == Some(&b'*') && sql.get(i + 2) != Some(&b'!') => {
                i = memchr::memmem::find(&sql[i + 2..], b"*/").map_or(n, |p| i + 2 + p + 2);
                // pt deletes comments without a trace; glued text stays glued.
            }
            b'\\' if matches!(sql.get(i + 1), Some(b'\'' | b'"')) => i += 2,
            b'\'' | b'"' => {
                i = string_end(sql, i + 1, b);
                o.placeholder();
            }
            b'0' if matches!(sql.get(i + 1), Some(b'x' | b'X'))
                && sql.get(i + 2).is_some_and(u8::is_ascii_hexdigit) =>
            {
                // Deliberate: upper-case hex is one literal (pt: `?f?e?d`).
                i += 2;
                while i < n && (sql[i].is_ascii_hexdigit() || is_num_cont(sql[i])) {
                    i += 1;
                }
                o.placeholder();
            }
            b'0'..=b'9' | b'+' | b'-' => {
                i += 1;
                while i < n && is_num_cont(sql[i]) {
                    i += 1;
                }
                o.placeholder();
            }
            b'$' if sql.get(i + 1).is_some_and(u8::is_ascii_digit)
                && (i == 0 || !is_word(sql[i - 1])) =>
            {
                // A PostgreSQL bind placeholder (`$1`, as in pg_stat_statements) is a
                // literal too, so a query has one id from every source.
                i += 1;
                while i < n && sql[i].is_ascii_digit() {
                    i += 1;
                }
                o.placeholder();
            }
            b')' => {
                o.close_paren();
                i += 1;
            }
            b'a'..=b'z' | b'A'..=b'Z' | b'_' => {
                // A run of letters is copied in one go (digits end it: they are pt
                // "numbers" even inside identifiers).
                let start = i;
                while i < n && (sql[i].is_ascii_alphabetic() || sql[i] == b'_') {
                    i += 1;
                }
                let word = &sql[start..i];
                // A `?` glued to it counts as a word character: `true1` keeps its
                // `true` (as in pt), so `true?` (its fingerprint) must keep it too.
                let glued = |c: u8| is_word(c) || c == b'?';
                let whole_word =
                    (start == 0 || !glued(sql[start - 1])) && sql.get(i).is_none_or(|&c| !glued(c));
                if whole_word
                    && (word.eq_ignore_ascii_case(b"true") || word.eq_ignore_ascii_case(b"false"))
                {
                    // `\btrue\b` / `\bfalse\b` (pt 3.x, issue 965553).
                    o.placeholder();
                } else {
                    o.word(word);
                }
            }
            _ => {
                o.byte(b);
                i += 1;
            }
        }
    }
    finish(o.buf);
}

/// Index of the `\n`/`\r` ending the line comment that starts at `i` (the newline
/// stays: it separates words like whitespace).
fn line_end(sql: &[u8], i: usize) -> usize {
    memchr::memchr2(b'\n', b'\r', &sql[i..]).map_or(sql.len(), |p| i + p)
}

/// pt's `'.*?'` after deleting escapes: the first quote not escaped by a backslash.
fn string_end(sql: &[u8], mut i: usize, quote: u8) -> usize {
    let n = sql.len();
    while i < n {
        match memchr::memchr2(quote, b'\\', &sql[i..]) {
            None => return n,
            Some(p) => {
                let at = i + p;
                if sql[at] == quote {
                    return at + 1;
                }
                // pt deletes `\\`, `\'` and `\"` before looking for strings (which is
                // also MySQL's escaping); any other backslash is a plain byte.
                i = if matches!(sql.get(at + 1), Some(b'\'' | b'"' | b'\\')) {
                    at + 2
                } else {
                    at + 1
                };
            }
        }
    }
    n
}

/// pt's UNION rule: `\b(select\s.*?)(?:(\sunion(?:\sall)?)\s\1)+` →
/// `$1 /*repeat$2*/`, i.e. identical selects glued by UNION [ALL] are written once.
/// Only runs when the text has a ` union `, so other statements pay one memmem.
fn collapse_union(out: &mut Vec<u8>) {
    if memchr::memmem::find(out, b" union ").is_none() {
        return;
    }
    let mut p = 0;
    while let Some(q) = memchr::memmem::find(&out[p..], b"select ") {
        let start = p + q;
        if start > 0 && is_word(out[start - 1]) {
            p = start + 1;
            continue;
        }
        // `.*?` is lazy: the first ` union ` after which the select repeats wins.
        let mut matched = None;
        let mut search = start + 7;
        while let Some(u) = memchr::memmem::find(&out[search..], b" union ") {
            let e = search + u;
            let mut end = e;
            let mut kind: Option<&[u8]> = None;
            loop {
                let rest = &out[end..];
                let body = &out[start..e];
                if rest.starts_with(b" union all ") && rest[11..].starts_with(body) {
                    end += 11 + body.len();
                    kind = Some(b" union all");
                } else if rest.starts_with(b" union ") && rest[7..].starts_with(body) {
                    end += 7 + body.len();
                    kind = Some(b" union");
                } else {
                    break;
                }
            }
            if let Some(k) = kind {
                matched = Some((e, end, k));
                break;
            }
            search = e + 1;
        }
        match matched {
            Some((e, end, k)) => {
                let mut repl = Vec::with_capacity(16);
                repl.extend_from_slice(b" /*repeat");
                repl.extend_from_slice(k);
                repl.extend_from_slice(b"*/");
                let n = repl.len();
                out.splice(e..end, repl);
                p = e + n;
            }
            None => p = start + 1,
        }
    }
}

/// The fix-ups pt applies to the whole normalised text.
fn finish(out: &mut Vec<u8>) {
    // `use db` once literals are gone (`USE 'a b'` → `use ?`): checked again here
    // because a fingerprint must be a fixed point, and its own text would match.
    if out.len() > 4 && out.starts_with(b"use ") && !out[4..].contains(&b' ') {
        out.truncate(4);
        out.push(b'?');
        return;
    }
    collapse_union(out);
    // `\blimit \?(?:, ?\?| offset \?)?` → `limit ?` (first occurrence only, like pt).
    let mut from = 0;
    while let Some(p) = memchr::memmem::find(&out[from..], b"limit ?") {
        let at = from + p;
        if at == 0 || !is_word(out[at - 1]) {
            let end = at + 7;
            let rest = &out[end..];
            let cut = if rest.starts_with(b", ?") {
                3
            } else if rest.starts_with(b",?") {
                2
            } else if rest.starts_with(b" offset ?") {
                9
            } else {
                0
            };
            out.drain(end..end + cut);
            break;
        }
        from = at + 1;
    }
    // Drop ` asc` words after the first `order by `.
    if let Some(p) = memchr::memmem::find(out, b"order by ")
        && (p == 0 || !is_word(out[p - 1]))
    {
        let mut r = p + 9;
        let mut w = r;
        while r < out.len() {
            if out[r] == b' '
                && out[r + 1..].starts_with(b"asc")
                && out.get(r + 4).is_none_or(|&c| !is_word(c))
            {
                r += 4;
                continue;
            }
            out[w] = out[r];
            w += 1;
            r += 1;
        }
        out.truncate(w);
    }
    // A statement terminator is not part of the query: `BEGIN` and `BEGIN;` are one
    // class (pgBadger and pt-fingerprint agree).
    while matches!(out.last(), Some(b' ' | b';')) {
        out.pop();
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_trailing_semicolon_does_not_make_another_class() {
        assert_eq!(fingerprint("BEGIN;"), fingerprint("begin"));
        assert_eq!(fingerprint("select 1 ;  "), "select ?");
    }

    #[test]
    fn postgres_placeholders_and_literals_share_an_id() {
        let from_log = fingerprint("SELECT * FROM t WHERE a = 42 AND b = 'x'");
        let from_pg_stat_statements = fingerprint("SELECT * FROM t WHERE a = $1 AND b = $2");
        assert_eq!(from_log, from_pg_stat_statements);
        assert_eq!(fingerprint("select a$1 from t"), "select a$? from t");
    }

    use super::*;

    #[track_caller]
    fn fp(sql: &str, want: &str) {
        assert_eq!(fingerprint(sql), want, "fingerprint of {sql:?}");
    }

    #[test]
    fn pt_documented_cases() {
        fp(
            "SELECT * FROM prices.rt_5min where id=1",
            "select * from prices.rt_?min where id=?",
        );
        fp("select sleep(2) from n", "select sleep(?) from n");
        fp(
            "update db2.tuningdetail_21_265507 n\n      inner join db1.gonzo a using(gonzo) \n      set n.column1 = a.column1, n.word3 = a.word3",
            "update d?tuningdetail_?_? n inner join d?gonzo a using(gonzo) set n.column? = a.column?, n.word? = a.word?",
        );
        fp(
            "SELECT * FROM t WHERE a IN (1, 2, 3)",
            "select * from t where a in(?+)",
        );
        fp(
            "select * from t where a in ( 'a' , \"b\" )",
            "select * from t where a in(?+)",
        );
        fp(
            "INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y'), (3, 'z')",
            "insert into t (a, b) values(?+)",
        );
        fp(
            "insert ignore into t values(1,now()),(2,now()) on duplicate key update a=1",
            "insert ignore into t values(?,now())",
        );
        fp("select * from t limit 10, 20", "select * from t limit ?");
        fp(
            "select * from t limit 10 offset 20",
            "select * from t limit ?",
        );
        fp(
            "SELECT * FROM t ORDER BY a ASC, b ASC",
            "select * from t order by a, b",
        );
        fp("select 1 -- comment\n from t # other\n", "select ? from t");
        fp("select /* hi */ a from t", "select a from t");
        fp(
            "SELECT /*!40001 SQL_NO_CACHE */ a FROM t",
            "select /*!? sql_no_cache */ a from t",
        );
        fp("SELECT /*!40001 SQL_NO_CACHE */ * FROM `t`", "mysqldump");
        fp(
            "REPLACE /*foo.bar:3/3*/ INTO checksum.checksum",
            "percona-toolkit",
        );
        fp("administrator command: Quit", "administrator command: Quit");
        fp("CALL foo.bar(1, 2)", "call foo.bar");
        fp("use mydb", "use ?");
        // Found by the fingerprint fuzz target: a tab after USE, then fingerprinted again.
        fp("USE\t *hO;\0E ", "use ?");
        fp("USE\t hO;'\t\tE ", "use ?");
        fp("select true1, 2true, true", "select true?, ?true, ?");
        fp("use\tmydb\n", "use ?");
        fp("USE `my db`", "use `my db`");
        fp(
            "select 'it\\'s', \"q\" from t where x = -1.5e10",
            "select ?, ? from t where x = ?",
        );
        fp("  select\n\n a\t\tfrom   t  ", "select a from t");
        fp("select x'AB', b'01' from t", "select ?, ? from t");
        fp(
            "select a from t where id = 1 union all select a from t where id = 2 union all select a from t where id = 3",
            "select a from t where id = ? /*repeat union all*/",
        );
        fp(
            "select a from t union select b from t",
            "select a from t union select b from t",
        );
    }

    /// The fingerprint cases of percona-toolkit's t/lib/QueryRewriter.t (3.x), with
    /// pt's expected text except where noted.
    #[test]
    fn query_rewriter_t_cases() {
        fp(
            "UPDATE groups_search SET  charter = '   -------3\\'\\' XXXXXXXXX.\\n    \\n    -----', show_in_list = 'Y' WHERE group_id='aaaaaaaa'",
            "update groups_search set charter = ?, show_in_list = ? where group_id=?",
        );
        fp("SELECT /*!40001 SQL_NO_CACHE */ * FROM `film`", "mysqldump");
        fp("CALL foo(1, 2, 3)", "call foo");
        fp(
            "administrator command: Init DB",
            "administrator command: Init DB",
        );
        fp("use `foo`", "use ?");
        fp("select \n--bar\n foo", "select foo");
        fp("select foo--bar\nfoo", "select foo foo");
        // pt: "select foo " (trailing space left by the comment).
        fp("select foo -- bar\n", "select foo");
        // pt: "select ?, ?, ? from foo" (NULL kept, see below).
        fp(
            "select null, 5.001, 5001. from foo",
            "select null, ?, ? from foo",
        );
        fp(
            "select 'hello', '\nhello\n', \"hello\", '\\'' from foo",
            "select ?, ?, ?, ? from foo",
        );
        fp("select 'hello'\n", "select ?");
        fp("select '\\\\' from foo", "select ? from foo");
        fp("select   foo", "select foo");
        fp(
            "SELECT * from foo where a = 5",
            "select * from foo where a = ?",
        );
        fp(
            "select 0e0, +6e-30, -6.00 from foo where a = 5.5 or b=0.5 or c=.5",
            "select ?, ?, ? from foo where a = ? or b=? or c=?",
        );
        fp(
            "select 0x0, x'123', 0b1010, b'10101' from foo",
            "select ?, ?, ?, ? from foo",
        );
        fp(
            " select  * from\nfoo where a = 5",
            "select * from foo where a = ?",
        );
        fp(
            "select * from foo where a in (5) and b in (5, 8,9 ,9 , 10)",
            "select * from foo where a in(?+) and b in(?+)",
        );
        fp("select foo_1 from foo_2_3", "select foo_? from foo_?_?");
        fp("select 123foo from 123foo", "select ?oo from ?oo");
        fp("select 123_foo from 123_foo", "select ?_foo from ?_foo");
        fp(
            "insert into abtemp.coxed select foo.bar from foo",
            "insert into abtemp.coxed select foo.bar from foo",
        );
        fp(
            "insert into foo(a, b, c) values(2, 4, 5)",
            "insert into foo(a, b, c) values(?+)",
        );
        fp(
            "insert into foo(a, b, c) values(2, 4, 5) , (2,4,5)",
            "insert into foo(a, b, c) values(?+)",
        );
        fp(
            "insert into foo(a, b, c) value(2, 4, 5)",
            "insert into foo(a, b, c) value(?+)",
        );
        fp("select * from foo limit 5", "select * from foo limit ?");
        fp(
            "select 1 union select 2 union select 4",
            "select ? /*repeat union*/",
        );
        fp(
            "select 1 union all select 2 union all select 4",
            "select ? /*repeat union all*/",
        );
        fp(
            "select * from (select 1 union all select 2 union all select 4) as x join (select 2 union select 2 union select 3) as y",
            "select * from (select ? /*repeat union all*/) as x join (select ? /*repeat union*/) as y",
        );
        fp(
            "select c from t where i=1 order by c asc",
            "select c from t where i=? order by c",
        );
        fp(
            "select * from t where i=1 order by a, b ASC, d DESC, e asc",
            "select * from t where i=? order by a, b, d desc, e",
        );
        fp(
            "select * from t where i=1      order            by \n      a,  b          ASC, d    DESC,    \n                             \n                             e asc",
            "select * from t where i=? order by a, b, d desc, e",
        );
        fp(
            "LOAD DATA INFILE '/tmp/foo.txt' INTO db.tbl",
            "load data infile ? into db.tbl",
        );
        fp(
            "/* -- S++ SU ABORTABLE -- spd_user: rspadim */SELECT SQL_SMALL_RESULT SQL_CACHE DISTINCT centro_atividade FROM est_dia WHERE unidade_id=1001 AND item_id=67 AND item_id_red=573",
            "select sql_small_result sql_cache distinct centro_atividade from est_dia where unidade_id=? and item_id=? and item_id_red=?",
        );
        fp(
            "SELECT * FROM tbl WHERE id=1 AND flag=true AND trueflag=FALSE",
            "select * from tbl where id=? and flag=? and trueflag=?",
        );
    }

    #[test]
    fn deliberate_differences_from_pt() {
        // pt 3.2.1: `?f?e?d`.
        fp(
            "select * from t where h = 0xF91E1D",
            "select * from t where h = ?",
        );
        fp(
            "select * from t where h = 0xf91e1d",
            "select * from t where h = ?",
        );
        // pt: `is not ?`.
        fp(
            "select * from t where a IS NOT NULL",
            "select * from t where a is not null",
        );
        // …but a NULL in a list is a literal, so lists collapse like pt's.
        fp(
            "insert into t values (1, NULL), (2, null)",
            "insert into t values(?+)",
        );
        fp(
            "select * from t order by ascii",
            "select * from t order by ascii",
        );
    }

    #[test]
    fn bad_input_does_not_panic() {
        for s in [
            "",
            "'",
            "\"abc",
            "/*",
            "--",
            "0x",
            "in (",
            ")",
            "values ) (",
            "\u{0}\u{7f}é中",
        ] {
            let _ = fingerprint(s);
        }
        fp("select '中文' from 表1", "select ? from 表?");
    }

    #[test]
    fn one_query_has_one_id_whichever_source_it_came_from() {
        let id = |sql: &str| fingerprint_id(&fingerprint(sql));
        // MariaDB's slow log and its performance_schema digest text.
        assert_eq!(
            id("SELECT c FROM sbtest1 WHERE id=5"),
            id("SELECT `c` FROM `sbtest1` WHERE `id` = ?")
        );
        assert_eq!(
            id("SELECT c FROM t WHERE id IN (1, 2, 3) ORDER BY c"),
            id("SELECT `c` FROM `t` WHERE `id` IN (...) ORDER BY `c`")
        );
        assert_eq!(
            id("INSERT INTO t (a, b) VALUES (1, 'x'), (2, 'y')"),
            id("INSERT INTO `t` (`a`, `b`) VALUES (...) /* , ... */")
        );
        // PostgreSQL's log and pg_stat_statements ($n placeholders).
        assert_eq!(
            id("UPDATE pgbench_accounts SET abalance = abalance + -12 WHERE aid = 4711;"),
            id("UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2")
        );
        // Different queries keep different ids.
        assert_ne!(id("SELECT a FROM t"), id("SELECT b FROM t"));
        assert_ne!(id("SELECT a FROM t"), id("SELECT a FROM t2"));
        assert_ne!(id("select a b from t"), id("select ab from t"));
    }

    #[test]
    fn canonical_form_drops_quotes_and_spaces_next_to_punctuation() {
        let mut out = String::new();
        canonical_into(
            "select `c` from `t` where `id` = ? and x in (...)",
            &mut out,
        );
        assert_eq!(out, "select c from t where id=? and x in(?+)");
        canonical_into(" select  count( * ) from `db` . `t`", &mut out);
        assert_eq!(out, "select count(*)from db.t");
        canonical_into("select ? from 表? where 列 = ?", &mut out);
        assert_eq!(out, "select ? from 表? where 列=?");
    }

    #[test]
    fn ids_are_pinned() {
        // XXH3-64, seed 0: these values must never change.
        assert_eq!(fingerprint_id(""), 0x2D06_8005_38D3_94C2);
        assert_eq!(
            fingerprint_id("select c from sbtest? where id=?"),
            xxhash_rust::xxh3::xxh3_64(b"select c from sbtest? where id=?")
        );
        assert_eq!(fingerprint_id("select ?"), fingerprint_id("select ?"));
        assert_eq!(
            pt_query_id("select sleep(?) from n"),
            "0xAE9D6BB6AF470B997F7D57ACDD8A346E"
        );
    }
}
