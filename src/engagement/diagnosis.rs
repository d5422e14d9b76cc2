//! The diagnosis section: the part of the diagnosis snapshot's report the engagement
//! report shows. Its fields keep the single-snapshot model's names, so the report's
//! own summary, findings and plan sections (HTML and typst) render it unchanged.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::report::bottleneck::{CorrelationView, PrimaryView, WorkloadView};
use crate::report::findings::{FindingGroup, FindingView};
use crate::report::format;
use crate::report::i18n::Lang;
use crate::report::key_steps::KeyStepView;
use crate::report::model::{Report, ScoreView};
use crate::report::plan::{PhaseView, StepView};

#[derive(Debug, Serialize)]
pub struct DiagnosisView {
    /// When the diagnosis snapshot was taken, in the report's language.
    pub taken: Option<String>,
    /// The baseline the findings were judged against.
    pub baseline: String,
    pub overall: Option<u8>,
    pub scores: Vec<ScoreView>,
    pub primary: Option<PrimaryView>,
    pub correlations: Vec<CorrelationView>,
    pub workload: Option<WorkloadView>,
    pub low_confidence: Vec<String>,
    pub key_steps: Vec<KeyStepView>,
    pub findings: Vec<FindingView>,
    pub finding_groups: Vec<FindingGroup>,
    pub steps: Vec<StepView>,
    pub phases: Vec<PhaseView>,
}

impl DiagnosisView {
    pub fn from_report(r: Report, taken: Option<DateTime<Utc>>, lang: Lang) -> Self {
        let phases: Vec<PhaseView> = r.phases;
        Self {
            taken: taken.map(|t| format::datetime(t, lang)),
            baseline: r.baseline,
            overall: r.overall,
            scores: r.scores,
            primary: r.primary,
            correlations: r.correlations,
            workload: r.workload,
            low_confidence: r.low_confidence,
            key_steps: r.key_steps,
            findings: r.findings,
            finding_groups: r.finding_groups,
            steps: r.steps,
            phases,
        }
    }
}
