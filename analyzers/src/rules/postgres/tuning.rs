//! `pg.config.deviates`: every setting far from what this host and workload call for
//! (the PGTune family of formulas, overridden by the window's measured rates; see
//! [`expected::postgres::settings`] and docs/tuning.md), in one finding per target.

use super::{Inputs, RuleDef, machine, per_target};
use crate::baseline::Direction;
use crate::expected;
use crate::frames::Missing;
use crate::rules::finding;

/// One finding per target listing each setting whose distance from its expected value
/// (a factor, [`expected::Expected::deviation`]) crosses the rule's thresholds; the
/// severity is the worst setting's, planner hints and I/O knobs counting as warnings
/// at most. Judged only for targets on this host (the formulas need its RAM).
pub(in crate::rules) const DEVIATES: RuleDef = RuleDef {
    id: "pg.config.deviates",
    direction: Direction::Above,
    variants: &[],
    eval: |inputs: &Inputs<'_>, spec| {
        inputs.host()?;
        per_target(inputs, |facts| {
            if facts.settings.is_empty() {
                return Err(Missing("settings in facts postgres".to_owned()));
            }
            let m = machine(inputs, facts)?;
            let w = expected::postgres::measured(facts);
            let items = expected::postgres::settings(&m, facts, &w);
            Ok(expected::judge(spec, "pg", &items, m.inputs())
                .map(|(severity, evidence)| {
                    finding(spec, severity, Some(facts.target.clone()), evidence)
                })
                .into_iter()
                .collect())
        })
    },
};
