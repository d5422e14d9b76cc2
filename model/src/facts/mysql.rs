//! MySQL and MariaDB facts (document `mysql`: one entry per target).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MysqlFacts {
    /// The target's label: its URL without password.
    pub target: String,
}
