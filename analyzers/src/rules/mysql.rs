//! MySQL and MariaDB rules (being built).

use super::RuleDef;

/// The MySQL and MariaDB rules, in evaluation order.
pub(super) const RULES: &[RuleDef] = &[];
