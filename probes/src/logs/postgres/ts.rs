//! Timestamp parsing for PostgreSQL logs, hand-rolled because it runs once per line.
//!
//! Times are converted to UTC with the zone PostgreSQL printed. Numeric zones
//! (`+05`, `-0330`, `+05:30`) are exact; abbreviations come from a small table of the
//! common ones. `CST` is read as China Standard Time (+08:00), the zone perfdiag's users
//! meet (PostgreSQL prints `CST` for Asia/Shanghai and for America/Chicago in winter).
//! An unknown abbreviation is taken as UTC: the timeline keeps its shape, shifted by
//! the unknown offset, rather than losing the timestamps.

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[inline]
fn num(b: &[u8]) -> Option<i64> {
    let mut v = 0i64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

/// `YYYY-MM-DD?HH:MM:SS` (any separator at 10) → local microseconds since epoch.
pub(crate) fn parse_datetime(b: &[u8]) -> Option<i64> {
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d) = (num(&b[0..4])?, num(&b[5..7])?, num(&b[8..10])?);
    let (h, mi, s) = (num(&b[11..13])?, num(&b[14..16])?, num(&b[17..19])?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 24 || mi > 59 || s > 61 {
        return None;
    }
    Some(((days_from_civil(y, mo, d) * 86_400) + h * 3600 + mi * 60 + s) * 1_000_000)
}

/// `.ddd…` fraction at the start of `b`: (microseconds, bytes used).
pub(crate) fn parse_frac(b: &[u8]) -> (i64, usize) {
    if b.first() != Some(&b'.') {
        return (0, 0);
    }
    let mut us = 0i64;
    let mut scale = 100_000i64;
    let mut i = 1;
    while i < b.len() && b[i].is_ascii_digit() {
        us += i64::from(b[i] - b'0') * scale;
        scale /= 10;
        i += 1;
    }
    (us, i)
}

/// Offset east of UTC in seconds for a zone token, `None` when unknown.
pub(crate) fn zone_offset(z: &[u8]) -> Option<i64> {
    if let Some(&sign) = z.first()
        && (sign == b'+' || sign == b'-')
    {
        let digits: Vec<u8> = z[1..].iter().copied().filter(|c| *c != b':').collect();
        let (h, m) = match digits.len() {
            1 | 2 => (num(&digits)?, 0),
            4 => (num(&digits[..2])?, num(&digits[2..])?),
            _ => return None,
        };
        let off = h * 3600 + m * 60;
        return Some(if sign == b'-' { -off } else { off });
    }
    let h: i64 = match z {
        b"UTC" | b"GMT" | b"Z" | b"UCT" | b"WET" => 0,
        b"BST" | b"WEST" | b"CET" | b"MET" | b"WAT" | b"IST" => {
            // IST is ambiguous too (Irish +1 / India +5:30); India is far more common
            // on servers, so it gets its own arm below.
            if z == b"IST" {
                return Some(5 * 3600 + 1800);
            }
            1
        }
        b"CEST" | b"MEST" | b"EET" | b"SAST" | b"CAT" => 2,
        b"EEST" | b"MSK" | b"EAT" => 3,
        b"PKT" => 5,
        b"ICT" | b"WIB" => 7,
        b"CST" | b"HKT" | b"SGT" | b"AWST" | b"PHT" | b"WITA" => 8,
        b"JST" | b"KST" => 9,
        b"AEST" => 10,
        b"AEDT" => 11,
        b"NZST" => 12,
        b"NZDT" => 13,
        b"AST" | b"EDT" => -4,
        b"EST" | b"CDT" => -5,
        b"MDT" => -6,
        b"MST" | b"PDT" => -7,
        b"PST" | b"AKDT" => -8,
        b"AKST" => -9,
        b"HST" => -10,
        _ => return None,
    };
    Some(h * 3600)
}

/// Parses `YYYY-MM-DD HH:MM:SS[.fff] [ZONE]` (`%t`/`%m`) at the start of `b`; returns
/// UTC microseconds and the bytes used. The zone is the run of `[A-Za-z0-9+-:]` after
/// one space (a `:` ends it when followed by a non-digit, for `%t:%r` prefixes).
pub(crate) fn parse_pg_ts(b: &[u8]) -> Option<(i64, usize)> {
    let local = parse_datetime(b)?;
    let (frac, fl) = parse_frac(&b[19..]);
    let mut i = 19 + fl;
    let mut off = 0;
    if b.get(i) == Some(&b' ') {
        let zs = i + 1;
        let mut ze = zs;
        while ze < b.len() {
            let c = b[ze];
            let ok = c.is_ascii_alphanumeric()
                || ((c == b'+' || c == b'-') && ze == zs)
                || (c == b':'
                    && ze > zs
                    && b.get(ze + 1).is_some_and(u8::is_ascii_digit)
                    && (b[zs] == b'+' || b[zs] == b'-'));
            if !ok {
                break;
            }
            ze += 1;
        }
        let z = &b[zs..ze];
        if !z.is_empty() && !z[0].is_ascii_digit() {
            off = zone_offset(z).unwrap_or(0);
            i = ze;
        }
    }
    Some((local + frac - off * 1_000_000, i))
}

/// ISO 8601 `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)` (logplex, jsonlog-like exports).
pub(crate) fn parse_iso(b: &[u8]) -> Option<(i64, usize)> {
    let local = parse_datetime(b)?;
    let (frac, fl) = parse_frac(&b[19..]);
    let mut i = 19 + fl;
    let mut off = 0;
    match b.get(i) {
        Some(b'Z') => i += 1,
        Some(b'+' | b'-') => {
            let zs = i;
            let mut ze = i + 1;
            while ze < b.len() && (b[ze].is_ascii_digit() || b[ze] == b':') && ze - zs < 6 {
                ze += 1;
            }
            off = zone_offset(&b[zs..ze]).unwrap_or(0);
            i = ze;
        }
        _ => {}
    }
    Some((local + frac - off * 1_000_000, i))
}

/// `%n`: Unix epoch with milliseconds.
pub(crate) fn parse_epoch(b: &[u8]) -> Option<(i64, usize)> {
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i < 9 {
        return None;
    }
    let secs = num(&b[..i])?;
    let (frac, fl) = parse_frac(&b[i..]);
    Some((secs * 1_000_000 + frac, i + fl))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_convert_to_utc() {
        let (u, n) = parse_pg_ts(b"2021-05-27 17:00:00 UTC:x").unwrap();
        assert_eq!(n, 23);
        assert_eq!(u, 1_622_134_800_000_000);
        let (c, _) = parse_pg_ts(b"2021-05-27 18:00:00.250 CET [1]").unwrap();
        assert_eq!(c, 1_622_134_800_250_000);
        let (p, n) = parse_pg_ts(b"2021-05-27 22:00:00 +05 [1]").unwrap();
        assert_eq!((p, n), (1_622_134_800_000_000, 23));
        let (i, _) = parse_iso(b"2021-05-27T17:00:00+00:00 app").unwrap();
        assert_eq!(i, 1_622_134_800_000_000);
        assert_eq!(
            parse_epoch(b"1622134800.250 x"),
            Some((1_622_134_800_250_000, 14))
        );
    }
}
