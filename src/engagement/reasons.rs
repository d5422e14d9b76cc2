//! A reason the guarantee is at risk or breached, in words, with its evidence: the
//! same sentences as `perfdiag case status` (`[case.reason]` in the catalogs).

use serde::Serialize;

use super::steps::finding_lines;
use crate::case::print::{kpi_label, kpi_value};
use crate::case::progress::Reason;
use crate::report::format;
use crate::report::i18n::Catalog;

#[derive(Debug, Serialize)]
pub struct ReasonView {
    /// `step_regressed`, `kpi_lost`, `kpi_regressed`, `new_heavy_query`,
    /// `step_not_verified`, `recheck_failed`, `no_recheck` (docs/case.md).
    pub kind: &'static str,
    /// It breaches the guarantee (else it puts it at risk).
    pub breaches: bool,
    /// The step it concerns, for step reasons.
    pub step: Option<String>,
    pub text: String,
    /// The evidence, one line each: findings with their metrics, or the query's text.
    pub evidence: Vec<String>,
}

pub fn view(r: &Reason, c: &Catalog) -> ReasonView {
    let template = c.text(&format!("case.reason.{}", r.id()));
    let (step, text, evidence) = match r {
        Reason::StepRegressed { step, findings } => (
            Some(step.clone()),
            template.replace("{step}", step),
            finding_lines(findings),
        ),
        Reason::KpiLost { kpi } | Reason::KpiRegressed { kpi } => {
            let v = |x: f64| kpi_value(x, kpi.unit);
            let unknown = || "?".to_owned();
            (
                None,
                template
                    .replace("{kpi}", &kpi_label(&kpi.id, kpi.subject.as_deref(), c))
                    .replace("{diagnosis}", &kpi.diagnosis.map_or_else(unknown, v))
                    .replace("{baseline}", &v(kpi.baseline))
                    .replace("{recheck}", &v(kpi.recheck))
                    .replace("{noise}", &kpi.noise.map_or_else(unknown, v)),
                Vec::new(),
            )
        }
        Reason::NewHeavyQuery { query } => (
            None,
            template
                .replace("{share}", &format!("{:.1}", query.share_pct))
                .replace("{target}", query.target.as_deref().unwrap_or(&query.source)),
            vec![query.text.clone()],
        ),
        Reason::StepNotVerified { step } => (
            Some(step.clone()),
            template.replace("{step}", step),
            Vec::new(),
        ),
        Reason::RecheckFailed { at, error } => (
            None,
            template
                .replace("{date}", &format::datetime(*at, c.lang()))
                .replace("{error}", error),
            Vec::new(),
        ),
        Reason::NoRecheck => (None, template, Vec::new()),
    };
    ReasonView {
        kind: r.id(),
        breaches: r.breaches(),
        step,
        text,
        evidence,
    }
}
