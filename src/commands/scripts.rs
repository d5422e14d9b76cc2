//! `perfdiag scripts`: collection scripts for the engine's own client, for servers
//! where no perfdiag binary may run; `perfdiag import` reads what they write.

use anyhow::{Context, Result, bail};
use perfdiag_probes::offline::{self, ScriptOptions};

use super::Outcome;
use crate::cli::ScriptsArgs;

pub fn run(args: &ScriptsArgs) -> Result<Outcome> {
    let options = ScriptOptions {
        duration: args.duration,
        interval: args.interval,
        top_n: args.top,
        statement_timeout: args.statement_timeout,
        ..ScriptOptions::default()
    };
    let engine = args.engine.engine();
    let script = match offline::scripts(engine, &options) {
        Ok(script) => script,
        Err(why) => bail!(why),
    };
    if args.output.exists()
        && std::fs::read_dir(&args.output)
            .with_context(|| format!("cannot read {}", args.output.display()))?
            .next()
            .is_some()
    {
        bail!(
            "{} is not empty: give a new folder for the scripts",
            args.output.display()
        );
    }
    script
        .write(&args.output)
        .with_context(|| format!("cannot write the scripts into {}", args.output.display()))?;
    eprintln!(
        "{} scripts written to {} ({} files); give the folder to the DBA: its README.md says \
         how to run them, and `perfdiag import` reads what they write",
        engine.id(),
        args.output.display(),
        script.files.len()
    );
    Ok(Outcome::Clean)
}
