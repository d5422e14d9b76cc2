//! SQL text analysis for the `sql.*` rules: statement classes from the snapshot's
//! statement tables are parsed once with sqlparser ([`parse`]) and the AST is searched
//! for anti-patterns ([`antipatterns`]) and for the indexes its predicates ask for
//! ([`index_candidates`]).
//!
//! The analyzers never see literals: every probe masks them (`?`, `$n`) before the text
//! is stored, so a check only judges what survives masking; each check says what it
//! cannot see.

pub(crate) mod antipatterns;
pub(crate) mod index_candidates;
pub(crate) mod parse;
