//! Human formatting of numbers, sizes and durations for reports.
//!
//! Both languages use the same digits and decimal point; only unit words differ, and
//! those come from the catalog.

use perfdiag_model::{Unit, Value};

use super::i18n::Catalog;

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

/// An evidence or metric value with its unit.
pub fn value(v: &Value, catalog: &Catalog) -> String {
    match v {
        Value::Text { text } => text.clone(),
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
    }
}
