//! PostgreSQL: facts, statement statistics and sampled sessions (being built).

use crate::db::{DbCollector, DbError, DbOptions, DbTarget};

/// Connects to a PostgreSQL target and takes the start-of-window readings.
pub fn connect(target: &DbTarget, _options: &DbOptions) -> Result<Box<dyn DbCollector>, DbError> {
    Err(DbError::Internal(format!(
        "{}: the postgres probe is not built yet",
        target.label()
    )))
}
