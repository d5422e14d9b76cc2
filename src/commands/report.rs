//! `perfdiag report`: assess a snapshot taken earlier and write its report.

use std::path::Path;

use anyhow::Result;
use perfdiag_model::Snapshot;

use super::{Outcome, assess_and_plan, write_file};
use crate::cli::{ReportArgs, ReportFormat};
use crate::report::{Catalog, Report, html, pdf};

pub fn run(args: &ReportArgs) -> Result<Outcome> {
    let snapshot = Snapshot::read(&args.snapshot)?;
    let (assessment, plan, catalog) = assess_and_plan(&snapshot, &args.analysis)?;
    let report = Report::build_for(
        &snapshot,
        &assessment,
        &plan,
        &catalog,
        &args.cover.engagement(),
    )?;
    let format = args
        .format
        .unwrap_or_else(|| format_of(args.output.as_deref()));
    let (content, extension) = render(&report, &catalog, format)?;
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| args.snapshot.with_extension(extension));
    write_file(&output, &content)?;
    eprintln!("report written to {}", output.display());
    Ok(Outcome::Clean)
}

/// The report in `format`, with the file extension that format takes.
pub(super) fn render(
    report: &Report,
    catalog: &Catalog,
    format: ReportFormat,
) -> Result<(Vec<u8>, &'static str)> {
    Ok(match format {
        ReportFormat::Html => (html::render(report, catalog)?.into_bytes(), "html"),
        ReportFormat::Json => (serde_json::to_string_pretty(report)?.into_bytes(), "json"),
        ReportFormat::Pdf => (pdf::render(report, catalog)?, "pdf"),
    })
}

/// The format an output file's extension asks for; HTML when it says nothing.
pub(super) fn format_of(output: Option<&Path>) -> ReportFormat {
    let extension = output
        .and_then(Path::extension)
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("pdf") => ReportFormat::Pdf,
        Some("json") => ReportFormat::Json,
        _ => ReportFormat::Html,
    }
}
