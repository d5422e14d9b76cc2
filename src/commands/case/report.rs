//! `perfdiag case report`: the engagement report of a case, from its status and its
//! diagnosis snapshot (assessed again with the case's baseline and options, so the
//! findings are the ones the plan was made from), with the case's stored plan.

use anyhow::{Context, Result};

use crate::case::Case;
use crate::case::clock::Clock;
use crate::case::status::CaseStatus;
use crate::cli::{CaseReportArgs, ReportFormat};
use crate::commands::report::format_of;
use crate::commands::{Outcome, write_file};
use crate::engagement::{self, EngagementReport};
use crate::report::{Catalog, Engagement, Report, pdf};

pub(super) fn run(args: &CaseReportArgs) -> Result<Outcome> {
    let clock = Clock::from_env()?;
    let case = Case::open(&args.dir)?;
    let status = CaseStatus::of(&case, clock.now())?;
    let catalog = Catalog::load(args.lang.unwrap_or_else(|| case.config.lang()))?;
    let diagnosis = diagnosis(&case, &status, &catalog)?;
    let report = EngagementReport::build(&status, diagnosis, &catalog);
    let format = args
        .format
        .unwrap_or_else(|| format_of(args.output.as_deref()));
    let (content, extension) = match format {
        ReportFormat::Html => (
            engagement::html::render(&report, &catalog)?.into_bytes(),
            "html",
        ),
        ReportFormat::Json => (serde_json::to_string_pretty(&report)?.into_bytes(), "json"),
        ReportFormat::Pdf => (
            pdf::render_engagement_json(&serde_json::to_value(&report)?, &catalog)?,
            "pdf",
        ),
    };
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| case.dir.join(format!("engagement-report.{extension}")));
    write_file(&output, &content)?;
    eprintln!("engagement report written to {}", output.display());
    Ok(Outcome::Clean)
}

/// The report of the diagnosis snapshot the plan was made from, with that plan.
fn diagnosis(case: &Case, status: &CaseStatus, catalog: &Catalog) -> Result<Option<Report>> {
    let (Some(entry), Some(plan)) = (&case.progress.plan, &case.plan) else {
        return Ok(None);
    };
    let snapshot = case.read_snapshot(&entry.snapshot)?;
    let (baseline, options) = super::analysis(case)?;
    let assessment = perfdiag_analyzers::assess_with(&snapshot, &baseline, &options)
        .context("assessing the diagnosis snapshot")?;
    let engagement = Engagement {
        customer: status.customer.clone(),
        system: status.system.clone(),
        engineer: status.engineer.clone(),
        generated_at: Some(status.now),
    };
    Ok(Some(Report::build_for(
        &snapshot,
        &assessment,
        plan,
        catalog,
        &engagement,
    )?))
}
