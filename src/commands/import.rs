//! `perfdiag import`: the folder written by the offline scripts → a snapshot, as a live
//! `collect` of the same server would have written it.

use anyhow::{Result, bail};
use perfdiag_model::default_file_name;
use perfdiag_probes::offline;

use super::{Outcome, outcome_of, save_snapshot};
use crate::cli::ImportArgs;
use crate::summary;

pub fn run(args: &ImportArgs) -> Result<Outcome> {
    let imported = match offline::import(&args.dir) {
        Ok(imported) => imported,
        Err(why) => bail!("cannot import {}: {why}", args.dir.display()),
    };
    for warning in &imported.warnings {
        eprintln!("warning: {warning}");
    }
    for problem in &imported.problems {
        eprintln!("warning: {problem}");
    }
    let snapshot = imported.snapshot;
    let path = args.output.clone().unwrap_or_else(|| {
        let m = snapshot.manifest();
        default_file_name(&m.host.hostname, m.window.started_at)
    });
    save_snapshot(&snapshot, &path)?;
    summary::print_probes(&snapshot);
    eprintln!("snapshot written to {}", path.display());
    Ok(outcome_of(&snapshot))
}
