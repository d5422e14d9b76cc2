//! Errors of the assessment phase: loading a baseline, reading a snapshot's inputs.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error("cannot read baseline {}: {cause}", path.display())]
    BaselineIo {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("baseline {origin} is not valid TOML for a baseline: {cause}")]
    BaselineSyntax {
        origin: String,
        cause: toml::de::Error,
    },
    #[error("baseline {origin}: {detail}")]
    BaselineInvalid { origin: String, detail: String },
    #[error("the snapshot's facts cannot be read: {0}")]
    Snapshot(#[from] perfdiag_model::SnapshotError),
    #[error("table {table} cannot be analysed: {cause}")]
    Frame {
        table: String,
        cause: polars::error::PolarsError,
    },
}
