//! `/proc/loadavg` and `/proc/uptime`: two tiny one-line files.

use crate::ProbeError;

use super::num;

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Loadavg {
    pub load1: f64,
    pub load5: f64,
    pub load15: f64,
}

pub fn parse_loadavg(text: &str) -> Result<Loadavg, ProbeError> {
    const WHAT: &str = "/proc/loadavg";
    let mut f = text.split_ascii_whitespace();
    let mut next = || -> Result<f64, ProbeError> {
        num(
            WHAT,
            f.next()
                .ok_or_else(|| ProbeError::parse(WHAT, "too few fields"))?,
        )
    };
    Ok(Loadavg {
        load1: next()?,
        load5: next()?,
        load15: next()?,
    })
}

/// Seconds since boot (the first field of `/proc/uptime`).
pub fn parse_uptime(text: &str) -> Result<f64, ProbeError> {
    const WHAT: &str = "/proc/uptime";
    let first = text
        .split_ascii_whitespace()
        .next()
        .ok_or_else(|| ProbeError::parse(WHAT, "empty"))?;
    let secs: f64 = num(WHAT, first)?;
    if !secs.is_finite() || secs < 0.0 {
        return Err(ProbeError::parse(WHAT, format!("bad uptime {first}")));
    }
    Ok(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loadavg() {
        let l = parse_loadavg("0.42 0.92 0.50 1/139 13375\n").unwrap();
        assert_eq!((l.load1, l.load5, l.load15), (0.42, 0.92, 0.50));
        assert!(parse_loadavg("0.42 0.92\n").is_err());
        assert!(parse_loadavg("a b c\n").is_err());
    }

    #[test]
    fn uptime() {
        assert_eq!(parse_uptime("12345.67 2000.00\n").unwrap(), 12345.67);
        assert!(parse_uptime("").is_err());
        assert!(parse_uptime("-1 0").is_err());
        assert!(parse_uptime("NaN 0").is_err());
    }
}
