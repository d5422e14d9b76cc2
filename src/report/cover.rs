//! The cover and the service confirmation page: who the report is for, what system,
//! by whom and when. These come from the engineer (`--customer`, `--system`,
//! `--engineer`), never from the snapshot; what is not given stays a blank field to
//! fill in by hand on the printed page.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::format;
use super::i18n::Lang;

/// What the engineer tells the report about the engagement. No credentials: the CLI
/// refuses a value that carries a password (see `cli::no_credentials`).
#[derive(Debug, Clone, Default)]
pub struct Engagement {
    pub customer: Option<String>,
    pub system: Option<String>,
    pub engineer: Option<String>,
    /// When the report is dated; `None` takes the assessment's time. Fixed in tests so
    /// a report renders the same twice.
    pub generated_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize)]
pub struct CoverView {
    /// `null` when not given: a blank field on the page.
    pub customer: Option<String>,
    pub system: Option<String>,
    pub engineer: Option<String>,
    /// The report's date in the report's language: `2 November 2026`, `2026年11月2日`.
    pub date: String,
    /// The host the snapshot describes.
    pub hostname: String,
    /// The databases covered: `PostgreSQL 15.4 · postgres://app@db1:5432/erp`.
    pub databases: Vec<String>,
}

/// The service confirmation page: what was delivered, and blank sign-off fields.
#[derive(Debug, Serialize)]
pub struct ConfirmationView {
    pub customer: Option<String>,
    pub system: Option<String>,
    pub engineer: Option<String>,
    /// The report's date, as on the cover.
    pub report_date: String,
    /// The collection window, `start → end`.
    pub window: String,
    pub hostname: String,
    pub databases: Vec<String>,
    pub findings: usize,
    pub steps: usize,
}

/// A given value, trimmed; blank text counts as not given.
fn given(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

pub fn cover(
    e: &Engagement,
    at: DateTime<Utc>,
    lang: Lang,
    hostname: &str,
    databases: Vec<String>,
) -> CoverView {
    CoverView {
        customer: given(&e.customer),
        system: given(&e.system),
        engineer: given(&e.engineer),
        date: format::date(at, lang),
        hostname: hostname.to_owned(),
        databases,
    }
}

pub fn confirmation(
    cover: &CoverView,
    window: String,
    findings: usize,
    steps: usize,
) -> ConfirmationView {
    ConfirmationView {
        customer: cover.customer.clone(),
        system: cover.system.clone(),
        engineer: cover.engineer.clone(),
        report_date: cover.date.clone(),
        window,
        hostname: cover.hostname.clone(),
        databases: cover.databases.clone(),
        findings,
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn blank_values_are_not_given_and_the_date_follows_the_language() {
        let e = Engagement {
            customer: Some("  ACME  ".to_owned()),
            system: Some("   ".to_owned()),
            ..Engagement::default()
        };
        let at = Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0).unwrap();
        let c = cover(&e, at, Lang::ZhCn, "db1", Vec::new());
        assert_eq!(c.customer.as_deref(), Some("ACME"));
        assert!(c.system.is_none() && c.engineer.is_none());
        assert_eq!(c.date, "2026年11月30日");
        let k = confirmation(&c, "w".to_owned(), 3, 2);
        assert_eq!((k.findings, k.steps), (3, 2));
        assert_eq!(k.report_date, c.date);
    }
}
