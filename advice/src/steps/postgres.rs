//! Plan steps for PostgreSQL findings (being built).

use super::StepDef;

/// The PostgreSQL steps, one per rule.
pub(super) const STEPS: &[StepDef] = &[];
