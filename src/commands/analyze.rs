//! `perfdiag analyze`: assess a snapshot, or compare it with an earlier one.

use anyhow::{Context, Result};
use perfdiag_analyzers::{Baseline, Options};
use perfdiag_model::Snapshot;

use super::{Outcome, assess_and_plan};
use crate::cli::AnalyzeArgs;
use crate::report::{Catalog, Lang, Report};
use crate::{compare_summary, output, summary};

pub fn run(args: &AnalyzeArgs) -> Result<Outcome> {
    let snapshot = Snapshot::read(&args.snapshot)?;
    let Some(earlier) = &args.against else {
        return assess(&snapshot, args);
    };
    let earlier = Snapshot::read(earlier)?;
    let analysis = &args.analysis;
    let baseline = match &analysis.baseline {
        Some(path) => Baseline::from_file(path)?,
        None => Baseline::builtin(),
    };
    let options = Options {
        workload: analysis.workload.map(Into::into),
        dedicated: !analysis.shared_host,
    };
    let comparison = perfdiag_analyzers::compare(&earlier, &snapshot, &baseline, &options)
        .context("comparing the snapshots")?;
    if args.json {
        output::print(&format!("{}\n", serde_json::to_string_pretty(&comparison)?));
    } else {
        let catalog = Catalog::load(analysis.lang.unwrap_or_else(Lang::from_env))?;
        compare_summary::print(&comparison, &catalog);
    }
    Ok(Outcome::Clean)
}

/// One snapshot: the assessment as `diagnose` prints it, or as JSON.
fn assess(snapshot: &Snapshot, args: &AnalyzeArgs) -> Result<Outcome> {
    let (assessment, plan, catalog) = assess_and_plan(snapshot, &args.analysis)?;
    if args.json {
        output::print(&format!("{}\n", serde_json::to_string_pretty(&assessment)?));
    } else {
        let report = Report::build(snapshot, &assessment, &plan, &catalog)?;
        summary::print_probes(snapshot);
        summary::print_assessment(&report, &catalog);
    }
    Ok(Outcome::Clean)
}
