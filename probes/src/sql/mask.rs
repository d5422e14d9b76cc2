//! Masking literals in SQL text before it is stored: session samples show what runs,
//! never the customer's data (names, amounts, ids) nor a password in an `ALTER ROLE`.
//!
//! A small scanner rather than a parser: it must cope with truncated text (PostgreSQL
//! cuts `query` at `track_activity_query_size`), any dialect, and garbage. Strings
//! (`'…'`, `E'…'`, `$tag$…$tag$`, MySQL `"…"` is left alone since it may be an
//! identifier), numbers and hex literals become `?`; comments are dropped; whitespace
//! runs become one space. Full fingerprinting (IN-list collapsing, ids) comes later.

/// Returns `sql` with every literal replaced by `?`.
pub fn mask_literals(sql: &str) -> String {
    let bytes = sql.as_bytes();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    // Whether the previous output byte can continue an identifier, so that `t1` or
    // `col2` keep their digits.
    let mut in_word = false;
    let mut pending_space = false;
    let push = |out: &mut String, s: &str, pending_space: &mut bool| {
        if *pending_space && !out.is_empty() {
            out.push(' ');
        }
        *pending_space = false;
        out.push_str(s);
    };
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => {
                pending_space = true;
                in_word = false;
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = find_from(bytes, i, b"\n").map_or(bytes.len(), |e| e + 1);
                pending_space = true;
                in_word = false;
            }
            b'#' if !in_word => {
                // MySQL comment; in PostgreSQL `#` is an operator, rare in ERP SQL.
                i = find_from(bytes, i, b"\n").map_or(bytes.len(), |e| e + 1);
                pending_space = true;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = find_from(bytes, i + 2, b"*/").map_or(bytes.len(), |e| e + 2);
                pending_space = true;
                in_word = false;
            }
            b'\'' => {
                i = skip_quoted(bytes, i, b'\'');
                push(&mut out, "?", &mut pending_space);
                in_word = false;
            }
            b'E' | b'e' | b'N' | b'n' | b'X' | b'x' | b'B' | b'b'
                if !in_word && bytes.get(i + 1) == Some(&b'\'') =>
            {
                i = skip_quoted(bytes, i + 1, b'\'');
                push(&mut out, "?", &mut pending_space);
                in_word = false;
            }
            b'$' if !in_word => match dollar_tag(bytes, i) {
                Some(tag) => {
                    let body = i + tag.len();
                    i = find_from(bytes, body, tag).map_or(bytes.len(), |e| e + tag.len());
                    push(&mut out, "?", &mut pending_space);
                }
                None => {
                    // `$1` placeholders stay as they are.
                    let end = scan_while(bytes, i + 1, |c| c.is_ascii_digit());
                    push(&mut out, &sql[i..end], &mut pending_space);
                    i = end;
                }
            },
            b'0'..=b'9' if !in_word => {
                let end = if b == b'0' && matches!(bytes.get(i + 1), Some(b'x' | b'X')) {
                    scan_while(bytes, i + 2, |c| c.is_ascii_hexdigit())
                } else {
                    number_end(bytes, i)
                };
                push(&mut out, "?", &mut pending_space);
                i = end;
            }
            b'.' if !in_word && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                push(&mut out, "?", &mut pending_space);
                i = number_end(bytes, i);
            }
            b'"' | b'`' => {
                // Quoted identifiers are kept: they name objects, not data.
                let end = skip_quoted(bytes, i, b);
                push(&mut out, &sql[i..end], &mut pending_space);
                i = end;
                in_word = true;
            }
            _ => {
                let ch_len = utf8_len(b);
                let end = (i + ch_len).min(bytes.len());
                push(&mut out, &sql[i..end], &mut pending_space);
                in_word = b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80;
                i = end;
            }
        }
    }
    out
}

fn find_from(bytes: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    bytes
        .get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| p + from)
}

fn scan_while(bytes: &[u8], from: usize, keep: impl Fn(u8) -> bool) -> usize {
    let mut i = from;
    while i < bytes.len() && keep(bytes[i]) {
        i += 1;
    }
    i
}

/// The end of a quoted run starting at `start` (the opening quote), honouring doubled
/// quotes and backslash escapes; an unterminated run ends the text.
fn skip_quoted(bytes: &[u8], start: usize, quote: u8) -> usize {
    let mut i = start + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            c if c == quote => {
                if bytes.get(i + 1) == Some(&quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

/// `$tag$` or `$$` at `i`, as the delimiter bytes.
fn dollar_tag(bytes: &[u8], i: usize) -> Option<&[u8]> {
    let end = scan_while(bytes, i + 1, |c| c.is_ascii_alphanumeric() || c == b'_');
    let tag = bytes.get(i..=end)?;
    let first = bytes.get(i + 1)?;
    (bytes[end] == b'$' && !first.is_ascii_digit()).then_some(tag)
}

/// The end of a decimal number (digits, one point, an exponent) starting at `i`.
fn number_end(bytes: &[u8], i: usize) -> usize {
    let mut end = scan_while(bytes, i, |c| c.is_ascii_digit() || c == b'.');
    if matches!(bytes.get(end), Some(b'e' | b'E')) {
        let sign = usize::from(matches!(bytes.get(end + 1), Some(b'+' | b'-')));
        if bytes.get(end + 1 + sign).is_some_and(u8::is_ascii_digit) {
            end = scan_while(bytes, end + 1 + sign, |c| c.is_ascii_digit());
        }
    }
    end
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xFF => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::mask_literals as m;

    #[test]
    fn literals_become_placeholders() {
        assert_eq!(
            m("SELECT * FROM orders WHERE id = 42 AND name = 'O''Brien'"),
            "SELECT * FROM orders WHERE id = ? AND name = ?"
        );
        assert_eq!(m("x IN (1, 2.5, -3e10, .5, 0xFF)"), "x IN (?, ?, -?, ?, ?)");
        assert_eq!(
            m("ALTER ROLE a PASSWORD 'hunter2'"),
            "ALTER ROLE a PASSWORD ?"
        );
        assert_eq!(m("SELECT E'a\\'b', $$x$$, $f$ y $f$"), "SELECT ?, ?, ?");
    }

    #[test]
    fn identifiers_placeholders_and_quoted_names_stay() {
        assert_eq!(
            m("SELECT t1.col2 FROM t1 WHERE a = $1"),
            "SELECT t1.col2 FROM t1 WHERE a = $1"
        );
        assert_eq!(
            m(r#"SELECT "Col 1", `x` FROM "T""#),
            r#"SELECT "Col 1", `x` FROM "T""#
        );
    }

    #[test]
    fn comments_go_and_whitespace_is_normalised() {
        assert_eq!(
            m("SELECT 1 -- secret\n  FROM /* 99 */ t\t# c\n"),
            "SELECT ? FROM t"
        );
    }

    #[test]
    fn truncated_and_non_ascii_text_do_not_panic() {
        assert_eq!(m("SELECT 'unterminated"), "SELECT ?");
        assert_eq!(m("SELECT $$ open"), "SELECT ?");
        assert_eq!(
            m("SELECT 名字 FROM 客户 WHERE 编号 = 7"),
            "SELECT 名字 FROM 客户 WHERE 编号 = ?"
        );
        assert_eq!(m(""), "");
        assert_eq!(m("'"), "?");
    }
}
