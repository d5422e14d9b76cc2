//! PostgreSQL rules (being built).

use super::RuleDef;

/// The PostgreSQL rules, in evaluation order.
pub(super) const RULES: &[RuleDef] = &[];
