//! Errors of the assessment phase: loading a baseline, reading a snapshot's inputs.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error("cannot read baseline {}: {source}", path.display())]
    BaselineIo {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("baseline {origin} is not valid TOML for a baseline: {source}")]
    BaselineSyntax {
        origin: String,
        source: toml::de::Error,
    },
    #[error("baseline {origin}: {detail}")]
    BaselineInvalid { origin: String, detail: String },
    #[error("the snapshot's facts cannot be read: {0}")]
    Snapshot(#[from] perfdiag_model::SnapshotError),
    #[error("table {table} cannot be analysed: {source}")]
    Frame {
        table: String,
        source: polars::error::PolarsError,
    },
}
