//! Human formatting of numbers, sizes, dates and durations for reports.
//!
//! Both languages use the same digits, decimal point and thousands separator; dates
//! and the words of units differ, and those words come from the catalog.

use chrono::{DateTime, Datelike, Utc};
use perfdiag_model::{Unit, Value};

use super::i18n::{Catalog, Lang};

/// Bytes in binary units: `15.6 GiB`.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 6] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A number with at most `decimals` decimals and no trailing zeros: `12.5`, `3`.
pub fn number(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let s = format!("{value:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// Seconds as `1 h 05 min`, `3 min 20 s`, `45 s`.
pub fn duration(secs: f64) -> String {
    let secs = secs.max(0.0).round() as u64;
    match secs {
        s if s >= 3600 => format!("{} h {:02} min", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{} min {:02} s", s / 60, s % 60),
        s => format!("{s} s"),
    }
}

/// A count with thousands separators: `1,234,567`.
pub fn count(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Seconds in the report's language: `1 h 05 min` / `1 小时 05 分`.
pub fn duration_in(secs: f64, c: &Catalog) -> String {
    let secs = secs.max(0.0).round() as u64;
    let (h, min, s) = (
        c.text("duration.hours"),
        c.text("duration.minutes"),
        c.text("duration.seconds"),
    );
    match secs {
        n if n >= 3600 => format!("{} {h} {:02} {min}", n / 3600, (n % 3600) / 60),
        n if n >= 60 => format!("{} {min} {:02} {s}", n / 60, n % 60),
        n => format!("{n} {s}"),
    }
}

/// How long a server has run: days with one decimal once past a day
/// (`12.5 days`), hours and minutes before.
pub fn uptime(secs: f64, c: &Catalog) -> String {
    if secs >= 86_400.0 {
        format!("{} {}", number(secs / 86_400.0, 1), c.text("env.days"))
    } else {
        duration_in(secs, c)
    }
}

/// Milliseconds as `850 ms` below a second, `12.3 s` above (SI symbols, read the
/// same in both languages).
pub fn millis(ms: f64) -> String {
    if ms.abs() < 1000.0 {
        format!("{} ms", number(ms, 1))
    } else {
        format!("{} s", number(ms / 1000.0, 2))
    }
}

/// A moment in UTC: `2026-11-02 09:00:00 UTC` / `2026年11月2日 09:00:00 UTC`.
pub fn datetime(t: DateTime<Utc>, lang: Lang) -> String {
    format!("{} {}", short_date(t, lang), t.format("%H:%M:%S UTC"))
}

/// A day as a cover or a signature shows it: `2 November 2026` / `2026年11月2日`.
pub fn date(t: DateTime<Utc>, lang: Lang) -> String {
    match lang {
        Lang::En => t.format("%-d %B %Y").to_string(),
        Lang::ZhCn => format!("{}年{}月{}日", t.year(), t.month(), t.day()),
    }
}

/// A day in tables: ISO in English, `2026年11月2日` in Chinese.
fn short_date(t: DateTime<Utc>, lang: Lang) -> String {
    match lang {
        Lang::En => t.format("%Y-%m-%d").to_string(),
        Lang::ZhCn => date(t, lang),
    }
}

/// An evidence or metric value with its unit.
/// A measured value in the catalog's words. Texts are shown as observed, but for the
/// few words perfdiag itself writes (`yes`, `none`, `mixed`…: the `value` table of the
/// catalogs); a setting's own value (`OFF`, `always`) stays as the server shows it.
pub fn value(v: &Value, catalog: &Catalog) -> String {
    match v {
        Value::Text { text } => catalog
            .get(&format!("value.{text}"))
            .map_or_else(|| text.clone(), str::to_owned),
        Value::Number { value, unit } => match unit {
            Unit::None => number(*value, 2),
            Unit::Percent => format!("{} %", number(*value, 1)),
            Unit::Bytes => bytes(value.max(0.0) as u64),
            Unit::Milliseconds => format!("{} ms", number(*value, 2)),
            Unit::PerSecond => format!("{}{}", number(*value, 1), catalog.text("unit.per_second")),
            Unit::PagesPerSecond => {
                format!(
                    "{} {}",
                    number(*value, 1),
                    catalog.text("unit.pages_per_second")
                )
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_numbers() {
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(16 * 1024 * 1024 * 1024), "16.0 GiB");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(number(12.50, 2), "12.5");
        assert_eq!(number(3.0, 1), "3");
        assert_eq!(number(0.004, 2), "0");
        assert_eq!(duration(59.6), "1 min 00 s");
        assert_eq!(duration(3725.0), "1 h 02 min");
        assert_eq!(duration(7.0), "7 s");
        assert_eq!(count(1_234_567), "1,234,567");
        assert_eq!(count(-1000), "-1,000");
        assert_eq!(count(999), "999");
        assert_eq!(millis(850.0), "850 ms");
        assert_eq!(millis(12_345.0), "12.35 s");
    }

    #[test]
    fn dates_and_durations_follow_the_language() {
        use chrono::TimeZone;
        let t = Utc.with_ymd_and_hms(2026, 11, 2, 9, 5, 7).unwrap();
        assert_eq!(date(t, Lang::En), "2 November 2026");
        assert_eq!(date(t, Lang::ZhCn), "2026年11月2日");
        assert_eq!(datetime(t, Lang::En), "2026-11-02 09:05:07 UTC");
        assert_eq!(datetime(t, Lang::ZhCn), "2026年11月2日 09:05:07 UTC");
        let en = Catalog::load(Lang::En).unwrap();
        let zh = Catalog::load(Lang::ZhCn).unwrap();
        assert_eq!(duration_in(3725.0, &en), "1 h 02 min");
        assert_eq!(duration_in(3725.0, &zh), "1 小时 02 分");
        assert_eq!(duration_in(200.0, &zh), "3 分 20 秒");
        assert_eq!(duration_in(7.0, &en), "7 s");
    }
}
