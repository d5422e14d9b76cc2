//! The KPIs across the engagement — the diagnosis (before), the baseline (after) and
//! each re-check (now) — and the gains the optimization made, in numbers. Values come
//! from the comparisons the case stored ([`CaseStatus::kpis`]); nothing is measured
//! again here.

use chrono::{DateTime, Utc};
use perfdiag_model::{ChangeDirection, Unit};
use serde::Serialize;

use crate::case::print::{kpi_label, kpi_value};
use crate::case::progress::Role;
use crate::case::status::{CaseStatus, KpiTrend};
use crate::report::format;
use crate::report::i18n::Catalog;

#[derive(Debug, Serialize)]
pub struct KpiView {
    pub id: String,
    pub subject: Option<String>,
    /// Its name in the report's language, with the subject.
    pub label: String,
    pub unit: Unit,
    pub higher_is_better: bool,
    /// What the optimization did to it: `better`, `worse`, `unchanged` (`null` when
    /// the diagnosis did not measure it).
    pub optimization: Option<ChangeDirection>,
    /// Oldest first: the diagnosis, the baseline, then each re-check.
    pub points: Vec<KpiPointView>,
}

#[derive(Debug, Serialize)]
pub struct KpiPointView {
    /// `diagnosis`, `baseline` or `recheck`.
    pub stage: Role,
    pub at: DateTime<Utc>,
    /// `at` as Unix seconds, for charts.
    pub t: i64,
    pub date: String,
    pub value: f64,
    /// The value in its unit: `35.2 %`.
    pub shown: String,
    /// Whether it counts for the guarantee (the diagnosis and baseline always do).
    pub in_window: bool,
    /// A re-check's value against the baseline, beyond the noise or not.
    pub direction: Option<ChangeDirection>,
}

/// A KPI the optimization improved: before → after → now.
#[derive(Debug, Serialize)]
pub struct GainView {
    pub id: String,
    pub subject: Option<String>,
    pub label: String,
    pub before: f64,
    pub after: f64,
    /// The latest re-check's value; `null` before the first.
    pub now: Option<f64>,
    pub before_shown: String,
    pub after_shown: String,
    pub now_shown: Option<String>,
    /// `after - before` in the KPI's unit, signed: `-42.0 %`.
    pub change_shown: String,
    /// `(after - before) / before` in percent; `null` when `before` is 0.
    pub change_pct: Option<f64>,
    /// `change_pct` rounded and signed: `-50 %`.
    pub change_pct_shown: Option<String>,
    /// The latest re-check is not worse than the baseline beyond the noise.
    pub holding: bool,
}

fn signed(v: f64, unit: Unit) -> String {
    let text = kpi_value(v, unit);
    if v > 0.0 { format!("+{text}") } else { text }
}

/// When the diagnosis and the baseline were taken (the charts' first two points).
fn stage_time(status: &CaseStatus, role: Role) -> Option<DateTime<Utc>> {
    match role {
        Role::Baseline => {
            let file = &status.optimization.as_ref()?.baseline;
            status
                .snapshots
                .iter()
                .find(|s| &s.file == file)
                .map(|s| s.taken_at)
        }
        _ => {
            let file = &status.plan.as_ref()?.snapshot;
            status
                .snapshots
                .iter()
                .find(|s| &s.file == file)
                .map(|s| s.taken_at)
        }
    }
}

pub fn kpis(status: &CaseStatus, c: &Catalog) -> Vec<KpiView> {
    let diagnosis_at = stage_time(status, Role::Diagnosis);
    let baseline_at = stage_time(status, Role::Baseline);
    status
        .kpis
        .iter()
        .map(|k| view(k, diagnosis_at, baseline_at, c))
        .collect()
}

fn view(
    k: &KpiTrend,
    diagnosis_at: Option<DateTime<Utc>>,
    baseline_at: Option<DateTime<Utc>>,
    c: &Catalog,
) -> KpiView {
    let point = |stage, at: DateTime<Utc>, value: f64, in_window, direction| KpiPointView {
        stage,
        at,
        t: at.timestamp(),
        date: format::datetime(at, c.lang()),
        value,
        shown: kpi_value(value, k.unit),
        in_window,
        direction,
    };
    let mut points = Vec::new();
    if let (Some(v), Some(at)) = (k.diagnosis, diagnosis_at) {
        points.push(point(Role::Diagnosis, at, v, true, None));
    }
    if let (Some(v), Some(at)) = (k.baseline, baseline_at) {
        points.push(point(Role::Baseline, at, v, true, None));
    }
    for p in &k.rechecks {
        points.push(point(
            Role::Recheck,
            p.at,
            p.mean,
            p.in_window,
            Some(p.direction),
        ));
    }
    KpiView {
        id: k.id.clone(),
        subject: k.subject.clone(),
        label: kpi_label(&k.id, k.subject.as_deref(), c),
        unit: k.unit,
        higher_is_better: k.higher_is_better,
        optimization: k.optimization,
        points,
    }
}

/// The KPIs the optimization made better beyond the noise.
pub fn gains(kpis: &[KpiView]) -> Vec<GainView> {
    kpis.iter()
        .filter(|k| k.optimization == Some(ChangeDirection::Better))
        .filter_map(|k| {
            let at = |stage| k.points.iter().find(|p| p.stage == stage);
            let before = at(Role::Diagnosis)?.value;
            let after = at(Role::Baseline)?.value;
            let latest = k.points.iter().rfind(|p| p.stage == Role::Recheck);
            let change_pct = (before != 0.0).then(|| (after - before) / before.abs() * 100.0);
            Some(GainView {
                id: k.id.clone(),
                subject: k.subject.clone(),
                label: k.label.clone(),
                before,
                after,
                now: latest.map(|p| p.value),
                before_shown: kpi_value(before, k.unit),
                after_shown: kpi_value(after, k.unit),
                now_shown: latest.map(|p| p.shown.clone()),
                change_shown: signed(after - before, k.unit),
                change_pct,
                change_pct_shown: change_pct.map(|p| format!("{p:+.0} %")),
                holding: latest.is_none_or(|p| p.direction != Some(ChangeDirection::Worse)),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::status::KpiPoint;
    use crate::report::Lang;

    fn t(s: &str) -> DateTime<Utc> {
        crate::cli::parse_time(s).unwrap()
    }

    #[test]
    fn a_gain_is_before_after_now_and_says_whether_it_holds() {
        let c = Catalog::load(Lang::En).unwrap();
        let trend = KpiTrend {
            id: "host_cpu.busy_pct.mean".to_owned(),
            subject: None,
            unit: Unit::Percent,
            higher_is_better: false,
            diagnosis: Some(80.0),
            baseline: Some(40.0),
            optimization: Some(ChangeDirection::Better),
            rechecks: vec![KpiPoint {
                at: t("2026-12-20"),
                in_window: true,
                mean: 70.0,
                direction: ChangeDirection::Worse,
            }],
        };
        let k = view(&trend, Some(t("2026-11-30")), Some(t("2026-12-02")), &c);
        assert_eq!(k.points.len(), 3);
        assert_eq!(k.points[1].t, t("2026-12-02").timestamp());
        let g = gains(&[k]);
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].change_shown, "-40.0 %");
        assert_eq!(g[0].change_pct, Some(-50.0));
        assert_eq!(g[0].change_pct_shown.as_deref(), Some("-50 %"));
        assert_eq!(g[0].now_shown.as_deref(), Some("70.0 %"));
        assert!(!g[0].holding);
        // A KPI the optimization did not improve is no gain.
        let flat = KpiTrend {
            optimization: Some(ChangeDirection::Unchanged),
            ..trend
        };
        assert!(
            gains(&[view(
                &flat,
                Some(t("2026-11-30")),
                Some(t("2026-12-02")),
                &c
            )])
            .is_empty()
        );
    }
}
