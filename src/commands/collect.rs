//! `perfdiag collect`: sample the local host into a snapshot file.

use anyhow::Result;
use perfdiag_model::default_file_name;

use super::{Outcome, outcome_of, save_snapshot};
use crate::cli::CollectArgs;
use crate::{collection, summary};

pub fn run(args: &CollectArgs) -> Result<Outcome> {
    let stop = collection::interrupt_flag();
    let snapshot = collection::collect(&args.sampling, &stop);
    let path = args.output.clone().unwrap_or_else(|| {
        let m = snapshot.manifest();
        default_file_name(&m.host.hostname, m.window.started_at)
    });
    save_snapshot(&snapshot, &path)?;
    summary::print_probes(&snapshot);
    eprintln!("snapshot written to {}", path.display());
    Ok(outcome_of(&snapshot))
}
