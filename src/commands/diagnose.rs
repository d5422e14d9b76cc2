//! `perfdiag diagnose`: collect, assess, plan and report on the local host in one go.

use anyhow::Result;
use perfdiag_model::default_file_name;

use super::{Outcome, assess_and_plan, outcome_of, report, save_snapshot, write_file};
use crate::cli::DiagnoseArgs;
use crate::report::Report;
use crate::{collection, summary};

pub fn run(args: &DiagnoseArgs) -> Result<Outcome> {
    let stop = collection::interrupt_flag();
    let snapshot = collection::collect(&args.sampling, &stop);
    // The snapshot is written first: whatever fails later, the collection is kept.
    let snapshot_path = args.snapshot.clone().unwrap_or_else(|| {
        let m = snapshot.manifest();
        let name = default_file_name(&m.host.hostname, m.window.started_at);
        match args.output.parent() {
            Some(dir) => dir.join(name),
            None => name,
        }
    });
    save_snapshot(&snapshot, &snapshot_path)?;

    let (assessment, plan, catalog) = assess_and_plan(&snapshot, &args.analysis)?;
    let report = Report::build_for(
        &snapshot,
        &assessment,
        &plan,
        &catalog,
        &args.cover.engagement(),
    )?;
    let (content, _) = report::render(&report, &catalog, report::format_of(Some(&args.output)))?;
    write_file(&args.output, &content)?;

    summary::print_probes(&snapshot);
    summary::print_assessment(&report, &catalog);
    eprintln!("snapshot written to {}", snapshot_path.display());
    eprintln!("report written to {}", args.output.display());
    Ok(outcome_of(&snapshot))
}
