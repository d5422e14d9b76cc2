//! Plan steps for MySQL and MariaDB findings (being built).

use super::StepDef;

/// The MySQL and MariaDB steps, one per rule.
pub(super) const STEPS: &[StepDef] = &[];
