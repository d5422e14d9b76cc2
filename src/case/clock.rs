//! The case's clock. Every date a case records (a step applied, the optimization, a
//! re-check, the sign-off) and every judgement about the guarantee window (days left,
//! "ends soon", out of window) reads the time here, never the system clock directly,
//! so tests can move through a 3-month window in seconds.
//!
//! `PERFDIAG_NOW` (RFC 3339, or a date meaning midnight UTC) replaces the system
//! clock. It is for tests and for entering a case's history after the fact; a
//! single entry is back-dated with the verbs' `--at` option instead.

use anyhow::{Result, anyhow};
use chrono::{DateTime, SubsecRound, Utc};

/// The environment variable that sets the clock.
pub const NOW_VARIABLE: &str = "PERFDIAG_NOW";

/// A point in time the case treats as "now".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clock {
    now: DateTime<Utc>,
}

impl Clock {
    /// `PERFDIAG_NOW` when set, else the system clock. An unreadable value is an error
    /// rather than a silent fall-back: a test that thinks it moved time must not pass
    /// on today's date.
    pub fn from_env() -> Result<Self> {
        match std::env::var(NOW_VARIABLE) {
            Ok(text) if !text.trim().is_empty() => Self::parse(&text),
            _ => Ok(Self::fixed(Utc::now())),
        }
    }

    fn parse(text: &str) -> Result<Self> {
        crate::cli::parse_time(text)
            .map(Self::fixed)
            .map_err(|e| anyhow!("{NOW_VARIABLE}: {e}"))
    }

    /// A clock stopped at `now`, to the second: the files record whole seconds.
    pub fn fixed(now: DateTime<Utc>) -> Self {
        Self {
            now: now.trunc_subsecs(0),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_clock_is_read_as_rfc3339_or_a_date_and_bad_text_is_an_error() {
        let c = Clock::parse("2027-01-15T08:30:00+08:00").unwrap();
        assert_eq!(c.now().to_rfc3339(), "2027-01-15T00:30:00+00:00");
        let d = Clock::parse("2027-01-15").unwrap();
        assert_eq!(d.now().to_rfc3339(), "2027-01-15T00:00:00+00:00");
        let e = Clock::parse("next tuesday").unwrap_err().to_string();
        assert!(e.starts_with("PERFDIAG_NOW: "), "{e}");
        let t = "2027-01-15T08:30:00.987Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            Clock::fixed(t).now().to_rfc3339(),
            "2027-01-15T08:30:00+00:00"
        );
    }
}
