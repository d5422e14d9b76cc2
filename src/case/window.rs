//! The guarantee window: from the optimization date for at most 3 calendar months.
//! Its arithmetic is kept here, pure, so the rules can be tested to the second.
//!
//! The window includes both ends. Its last 14 days are "ends soon"; after its end it
//! is closed, and re-checks are still possible but labelled out of window.

use chrono::{DateTime, Duration, Months, Utc};
use serde::Serialize;

/// The guarantee never lasts longer than this (DESIGN.md: "at most 3 months").
pub const MAX_MONTHS: u32 = 3;

/// The last days of the window, when the status warns that it ends soon.
pub const ENDS_SOON_DAYS: i64 = 14;

/// Where a moment falls relative to the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Before the optimization date (a case back-dated into the future of the clock).
    NotOpen,
    Open,
    /// Open, in its last [`ENDS_SOON_DAYS`] days.
    EndsSoon,
    Closed,
}

/// An open window: `from` the optimization to `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// The latest end a window opened at `from` may have: 3 calendar months later (a
/// month end clamps: 30 November gives 28 or 29 February).
pub fn latest_end(from: DateTime<Utc>) -> DateTime<Utc> {
    from.checked_add_months(Months::new(MAX_MONTHS))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

impl Window {
    /// Opens the window at `from`, until `until` or, by default, the latest end. An end
    /// not after `from`, or later than 3 months, is refused with the reason.
    pub fn open(from: DateTime<Utc>, until: Option<DateTime<Utc>>) -> Result<Self, String> {
        let latest = latest_end(from);
        let until = until.unwrap_or(latest);
        if until <= from {
            return Err(format!(
                "the guarantee must end after the optimization: {} is not after {}",
                day(until),
                day(from)
            ));
        }
        if until > latest {
            return Err(format!(
                "the guarantee window is at most {MAX_MONTHS} months: {} is after {}, \
                 {MAX_MONTHS} months after the optimization on {}; give an earlier --until \
                 or leave it out for the full {MAX_MONTHS} months",
                day(until),
                day(latest),
                day(from)
            ));
        }
        Ok(Self { from, until })
    }

    pub fn phase(&self, now: DateTime<Utc>) -> Phase {
        if now < self.from {
            Phase::NotOpen
        } else if now > self.until {
            Phase::Closed
        } else if self.until - now <= Duration::days(ENDS_SOON_DAYS) {
            Phase::EndsSoon
        } else {
            Phase::Open
        }
    }

    /// Whether a re-check at `at` counts for the guarantee.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && at <= self.until
    }

    /// Whole days left, rounded up (the last day shows 1), 0 once closed.
    pub fn days_left(&self, now: DateTime<Utc>) -> i64 {
        let left = (self.until - now.max(self.from)).num_seconds();
        if left <= 0 {
            0
        } else {
            (left + 86_399) / 86_400
        }
    }
}

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        crate::cli::parse_time(s).unwrap()
    }

    #[test]
    fn the_default_window_is_three_calendar_months_and_never_longer() {
        let w = Window::open(t("2026-12-02T10:00:00Z"), None).unwrap();
        assert_eq!(w.until, t("2027-03-02T10:00:00Z"));
        // Month ends clamp rather than overflow into the next month.
        assert_eq!(latest_end(t("2026-11-30")), t("2027-02-28"));
        assert_eq!(latest_end(t("2027-11-30")), t("2028-02-29"));
        // Shorter is fine, exactly 3 months is fine, a second longer is refused.
        assert!(Window::open(t("2026-12-02"), Some(t("2027-01-02"))).is_ok());
        assert!(Window::open(t("2026-12-02"), Some(t("2027-03-02"))).is_ok());
        let e = Window::open(t("2026-12-02"), Some(t("2027-03-02T00:00:01Z"))).unwrap_err();
        assert!(e.contains("at most 3 months"), "{e}");
        let e = Window::open(t("2026-12-02"), Some(t("2027-04-02"))).unwrap_err();
        assert!(e.contains("2027-04-02 is after 2027-03-02"), "{e}");
        let e = Window::open(t("2026-12-02"), Some(t("2026-12-01"))).unwrap_err();
        assert!(e.contains("must end after"), "{e}");
        assert!(Window::open(t("2026-12-02"), Some(t("2026-12-02"))).is_err());
    }

    #[test]
    fn phases_and_days_left() {
        let w = Window::open(t("2026-12-02"), None).unwrap();
        assert_eq!(w.phase(t("2026-12-01")), Phase::NotOpen);
        assert_eq!(w.days_left(t("2026-12-01")), 90);
        assert_eq!(w.phase(t("2026-12-02")), Phase::Open);
        assert_eq!(w.days_left(t("2026-12-02")), 90);
        assert_eq!(w.phase(t("2027-02-15")), Phase::Open);
        assert_eq!(w.days_left(t("2027-02-15")), 15);
        // The last 14 days.
        assert_eq!(w.phase(t("2027-02-16")), Phase::EndsSoon);
        assert_eq!(w.days_left(t("2027-02-16")), 14);
        assert_eq!(w.days_left(t("2027-03-01T23:00:00Z")), 1);
        // The end itself still belongs to the window; a second later it is closed.
        assert_eq!(w.phase(t("2027-03-02")), Phase::EndsSoon);
        assert!(w.contains(t("2027-03-02")));
        assert_eq!(w.phase(t("2027-03-02T00:00:01Z")), Phase::Closed);
        assert!(!w.contains(t("2027-03-02T00:00:01Z")));
        assert_eq!(w.days_left(t("2027-04-01")), 0);
        assert!(!w.contains(t("2026-12-01T23:59:59Z")));
    }
}
