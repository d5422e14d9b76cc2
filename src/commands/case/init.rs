//! `case init`: a new case folder with its case.toml.

use anyhow::Result;

use crate::case::Case;
use crate::case::clock::Clock;
use crate::case::config::{self, CaseFile, Collection, Targets};
use crate::cli::CaseInitArgs;
use crate::commands::Outcome;

pub(super) fn run(args: &CaseInitArgs) -> Result<Outcome> {
    let clock = Clock::from_env()?;
    let file = CaseFile {
        customer: args.customer.clone(),
        system: args.system.clone(),
        engineer: args.engineer.clone(),
        language: args.lang.map(|l| match l {
            crate::report::Lang::En => "en".to_owned(),
            crate::report::Lang::ZhCn => "zh-CN".to_owned(),
        }),
        workload: args.workload.map(Into::into),
        shared_host: args.shared_host,
        baseline: None,
        targets: Targets {
            postgres: args.postgres.clone(),
            mysql: args.mysql.clone(),
            mssql: args.mssql.clone(),
        },
        collection: Collection {
            duration: args.duration.clone(),
            interval: args.interval.clone(),
            host_root: None,
        },
    };
    let case = Case::init(&args.dir, file, clock.now())?;
    eprintln!(
        "case made in {}: check {} (customer, targets, collection), then take the diagnosis \
         snapshot with `perfdiag case collect {}` (or add one with `perfdiag case add`)",
        case.dir.display(),
        case.dir.join(config::FILE).display(),
        case.dir.display()
    );
    Ok(Outcome::Clean)
}
