//! `perfdiag report`: assess a snapshot taken earlier and write its report.

use anyhow::Result;
use perfdiag_model::Snapshot;

use super::{Outcome, assess_and_plan, write_file};
use crate::cli::{ReportArgs, ReportFormat};
use crate::report::{Report, html};

pub fn run(args: &ReportArgs) -> Result<Outcome> {
    let snapshot = Snapshot::read(&args.snapshot)?;
    let (assessment, plan, catalog) = assess_and_plan(&snapshot, &args.analysis)?;
    let report = Report::build(&snapshot, &assessment, &plan, &catalog)?;
    let (content, extension) = match args.format {
        ReportFormat::Html => (html::render(&report, &catalog)?, "html"),
        ReportFormat::Json => (serde_json::to_string_pretty(&report)?, "json"),
    };
    let output = args
        .output
        .clone()
        .unwrap_or_else(|| args.snapshot.with_extension(extension));
    write_file(&output, &content)?;
    eprintln!("report written to {}", output.display());
    Ok(Outcome::Clean)
}
