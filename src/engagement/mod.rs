//! The engagement report: the whole story of one case — the diagnosis, the plan and
//! what was applied when, the KPIs before → after → now, verified gains, open
//! regressions, the guarantee and its days left, and the sign-off page.
//!
//! Built once from the case's [`CaseStatus`] (the guarantee rules are not judged
//! again here) and the diagnosis snapshot's [`Report`]; the renderers (HTML, PDF,
//! JSON) read only this. `docs/engagement-report.md` documents
//! every field.

pub mod chart;
pub mod diagnosis;
pub mod html;
pub mod kpis;
pub mod reasons;
pub mod steps;

use chrono::{DateTime, Utc};
use perfdiag_model::SchemaVersion;
use serde::Serialize;

use crate::case::print;
use crate::case::progress::Role;
use crate::case::rules::Status;
use crate::case::status::CaseStatus;
use crate::case::window::Phase;
use crate::report::cover::{self, CoverView, Engagement};
use crate::report::format;
use crate::report::i18n::{Catalog, Lang};
use crate::report::model::Report;

pub use diagnosis::DiagnosisView;
pub use kpis::{GainView, KpiView};
pub use reasons::ReasonView;
pub use steps::{RecheckView, SnapshotView, StepView};

/// The version of the engagement report's JSON; versioned as the single-snapshot
/// model's does (docs/report-model.md).
pub const SCHEMA_VERSION: SchemaVersion = SchemaVersion { major: 1, minor: 0 };

#[derive(Debug, Serialize)]
pub struct EngagementReport {
    pub schema_version: SchemaVersion,
    /// Always `engagement`: tells this model from a single-snapshot report's.
    pub kind: &'static str,
    pub lang: Lang,
    pub tool_version: String,
    /// The clock the report was judged at (the case's clock).
    pub now: DateTime<Utc>,
    /// `now` in the report's language.
    pub generated_at: String,
    pub cover: CoverView,
    pub summary: SummaryView,
    pub guarantee: GuaranteeView,
    /// The diagnosis snapshot's assessment and plan; `null` before the case has one.
    pub diagnosis: Option<DiagnosisView>,
    /// Every step of the plan with its state history, in the plan's order.
    pub steps: Vec<StepView>,
    pub snapshots: Vec<SnapshotView>,
    /// Each KPI at the diagnosis, the baseline and every re-check.
    pub kpis: Vec<KpiView>,
    /// The KPIs the optimization improved beyond the noise: before → after → now.
    pub gains: Vec<GainView>,
    /// What the latest re-check found wrong (in the window or after it).
    pub regressions: Vec<ReasonView>,
    pub rechecks: Vec<RecheckView>,
    pub confirmation: SignOffView,
}

#[derive(Debug, Serialize)]
pub struct SummaryView {
    /// The guarantee's status id: `not_started`, `holding`, `at_risk`, `breached`.
    pub status: Status,
    pub status_label: String,
    /// Steps by state.
    pub steps: usize,
    pub proposed: usize,
    pub applied: usize,
    pub verified: usize,
    pub regressed: usize,
    pub gains: usize,
    pub regressions: usize,
    /// `null` before the optimization.
    pub days_left: Option<i64>,
    /// The state of the engagement in one or two sentences.
    pub sentences: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct GuaranteeView {
    pub status: Status,
    pub status_label: String,
    /// `null` before the optimization; else `not_open`, `open`, `ends_soon`, `closed`.
    pub phase: Option<Phase>,
    /// The window in one line: dates and days left, or that it ended.
    pub window_text: String,
    /// When the window opened and closes (`null` before the optimization).
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// `from` and `until` as Unix seconds, for charts.
    pub from_t: Option<i64>,
    pub until_t: Option<i64>,
    pub from_date: Option<String>,
    pub until_date: Option<String>,
    pub days_left: Option<i64>,
    /// The window has closed: the status is final.
    pub ended: bool,
    /// The date of the re-check the status comes from.
    pub as_of: Option<String>,
    pub reasons: Vec<ReasonView>,
}

/// The service confirmation: who signed and when, or blank fields to sign.
#[derive(Debug, Serialize)]
pub struct SignOffView {
    pub signed: bool,
    pub by: Option<String>,
    pub at: Option<DateTime<Utc>>,
    pub date: Option<String>,
    pub customer: Option<String>,
    pub system: Option<String>,
    pub engineer: Option<String>,
    pub hostname: String,
    pub databases: Vec<String>,
    pub window_text: String,
    pub steps: usize,
    pub verified: usize,
    pub rechecks: usize,
    /// Steps, verified steps and re-checks in one line.
    pub delivered: String,
    /// "Confirmed by … on …" once signed.
    pub signed_text: Option<String>,
    pub report_date: String,
}

impl EngagementReport {
    /// The report of the case whose status is `status`; `diagnosis` is the report of
    /// its diagnosis snapshot with the case's plan, when it has one.
    pub fn build(status: &CaseStatus, diagnosis: Option<Report>, catalog: &Catalog) -> Self {
        let lang = catalog.lang();
        let hostname = status
            .host
            .as_ref()
            .map(|h| h.hostname.clone())
            .unwrap_or_default();
        let cover = cover::cover(
            &Engagement {
                customer: status.customer.clone(),
                system: status.system.clone(),
                engineer: status.engineer.clone(),
                generated_at: Some(status.now),
            },
            status.now,
            lang,
            &hostname,
            status.targets.clone(),
        );
        let diagnosis_at = status
            .snapshots
            .iter()
            .filter(|s| s.role == Role::Diagnosis)
            .map(|s| s.taken_at)
            .max();
        let diagnosis = diagnosis.map(|r| DiagnosisView::from_report(r, diagnosis_at, lang));
        let steps = steps::steps(status, diagnosis.as_ref(), catalog);
        let kpis = kpis::kpis(status, catalog);
        let gains = kpis::gains(&kpis);
        let regressions: Vec<ReasonView> = status
            .open_regressions
            .iter()
            .map(|r| reasons::view(r, catalog))
            .collect();
        let guarantee = guarantee(status, catalog);
        let summary = summary(status, &guarantee, &gains, regressions.len(), catalog);
        let confirmation = SignOffView {
            signed: status.confirmation.is_some(),
            by: status.confirmation.as_ref().map(|c| c.by.clone()),
            at: status.confirmation.as_ref().map(|c| c.at),
            date: status
                .confirmation
                .as_ref()
                .map(|c| format::date(c.at, lang)),
            customer: cover.customer.clone(),
            system: cover.system.clone(),
            engineer: cover.engineer.clone(),
            hostname,
            databases: cover.databases.clone(),
            window_text: guarantee.window_text.clone(),
            steps: summary.steps,
            verified: summary.verified,
            rechecks: status.rechecks.len(),
            delivered: catalog
                .text("engagement.delivered")
                .replace("{steps}", &summary.steps.to_string())
                .replace("{verified}", &summary.verified.to_string())
                .replace("{rechecks}", &status.rechecks.len().to_string()),
            signed_text: status.confirmation.as_ref().map(|k| {
                catalog
                    .text("engagement.signed")
                    .replace("{by}", &k.by)
                    .replace("{date}", &format::date(k.at, lang))
            }),
            report_date: cover.date.clone(),
        };
        Self {
            schema_version: SCHEMA_VERSION,
            kind: "engagement",
            lang,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            now: status.now,
            generated_at: format::datetime(status.now, lang),
            cover,
            summary,
            guarantee,
            diagnosis,
            steps,
            snapshots: steps::snapshots(status, catalog),
            kpis,
            gains,
            regressions,
            rechecks: steps::rechecks(status, catalog),
            confirmation,
        }
    }
}

fn guarantee(status: &CaseStatus, c: &Catalog) -> GuaranteeView {
    let g = &status.guarantee;
    let lang = c.lang();
    let o = status.optimization.as_ref();
    GuaranteeView {
        status: g.status,
        status_label: c.text(&format!("case.status.{}", g.status.id())),
        phase: g.phase,
        window_text: print::window_line(status, c),
        from: o.map(|o| o.at),
        until: o.map(|o| o.until),
        from_t: o.map(|o| o.at.timestamp()),
        until_t: o.map(|o| o.until.timestamp()),
        from_date: o.map(|o| format::date(o.at, lang)),
        until_date: o.map(|o| format::date(o.until, lang)),
        days_left: g.days_left,
        ended: g.ended,
        as_of: g.as_of.map(|t| format::date(t, lang)),
        reasons: g.reasons.iter().map(|r| reasons::view(r, c)).collect(),
    }
}

fn summary(
    status: &CaseStatus,
    g: &GuaranteeView,
    gains: &[GainView],
    regressions: usize,
    c: &Catalog,
) -> SummaryView {
    let count =
        |f: fn(&crate::case::status::PlanStatus) -> usize| status.plan.as_ref().map_or(0, f);
    let steps = count(|p| p.steps.len());
    let (applied, verified, regressed) = (
        count(|p| p.applied),
        count(|p| p.verified),
        count(|p| p.regressed),
    );
    let fill = |key: &str| {
        c.text(&format!("engagement.summary.{key}"))
            .replace("{steps}", &steps.to_string())
            .replace("{verified}", &verified.to_string())
            .replace("{regressed}", &regressed.to_string())
            .replace("{gains}", &gains.len().to_string())
            .replace("{regressions}", &regressions.to_string())
            .replace("{status}", &g.status_label)
            .replace("{window}", &g.window_text)
    };
    let mut sentences = Vec::new();
    if status.plan.is_some() {
        sentences.push(fill("steps"));
    }
    if status.optimization.is_some() {
        sentences.push(fill("gains"));
        sentences.push(fill("status"));
        if regressions > 0 {
            sentences.push(fill("regressions"));
        }
    } else {
        sentences.push(fill("not_optimized"));
    }
    SummaryView {
        status: g.status,
        status_label: g.status_label.clone(),
        steps,
        proposed: count(|p| p.proposed),
        applied,
        verified,
        regressed,
        gains: gains.len(),
        regressions,
        days_left: g.days_left,
        sentences,
    }
}
