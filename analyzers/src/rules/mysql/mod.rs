//! MySQL and MariaDB rules: one module per area, one registry.
//!
//! Each rule judges every MySQL/MariaDB target of the snapshot on its own; findings
//! carry the target's label as `subject`. A rule is "not evaluated" only when no
//! target has its input (a target whose probe failed is simply not judged).

use perfdiag_model::Finding;
use perfdiag_model::facts::MysqlFacts;

use super::rows::{Rows, listing};
use super::{Inputs, Outcome, RuleDef};
use crate::frames::{Missing, Need};

mod config;
mod schema;
mod security;
mod sessions;
mod tuning;
mod workload;

/// The MySQL and MariaDB rules, in evaluation order.
pub(in crate::rules) const RULES: &[RuleDef] = &[
    config::BUFFER_POOL_SMALL,
    workload::HIT_RATIO,
    workload::TMP_DISK,
    workload::THREAD_CACHE,
    workload::NO_INDEX,
    sessions::NEAR_MAX,
    sessions::BLOCKED,
    sessions::IDLE_IN_TRX,
    schema::NO_PRIMARY_KEY,
    schema::MYISAM,
    schema::REDUNDANT_INDEXES,
    schema::UNUSED_INDEXES,
    security::EMPTY_PASSWORD,
    security::ANONYMOUS_OR_REMOTE_ROOT,
    security::WEAK_ACCOUNTS,
    config::SLOW_LOG_OFF,
    config::PERF_SCHEMA_OFF,
    tuning::DEVIATES,
    tuning::PEAK_OVER_RAM,
];

/// Runs `judge` on every target; missing only when no target could be judged.
fn per_target(inputs: &Inputs<'_>, judge: impl Fn(&MysqlFacts) -> Need<Vec<Finding>>) -> Outcome {
    let targets = inputs.mysql.as_ref().map_err(Clone::clone)?;
    let mut found = Vec::new();
    let mut missing = None;
    let mut judged = false;
    for t in targets {
        match judge(t) {
            Ok(f) => {
                judged = true;
                found.extend(f);
            }
            Err(m) => missing = Some(m),
        }
    }
    if judged {
        Ok(found)
    } else {
        Err(missing.unwrap_or_else(|| Missing("a MySQL/MariaDB target in facts mysql".to_owned())))
    }
}

#[cfg(test)]
pub(super) mod fixtures;
