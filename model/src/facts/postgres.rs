//! PostgreSQL facts (document `postgres`: one entry per target).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PostgresFacts {
    /// The target's label: its URL without password.
    pub target: String,
}
