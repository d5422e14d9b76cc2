//! Errors of reading and writing snapshots: each names the file and says what to do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    #[error("cannot read {}: {cause}", path.display())]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("cannot write snapshot {}: {cause}", path.display())]
    Write {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("{} is not a perfdiag snapshot: {detail}", path.display())]
    NotASnapshot { path: PathBuf, detail: String },
    #[error(
        "{} is damaged: {detail}; it may have been cut short while copying: copy it again, or collect a new one",
        path.display()
    )]
    Corrupt { path: PathBuf, detail: String },
    #[error(
        "{} uses snapshot schema {found} (written by perfdiag {writer_version}); this perfdiag {} reads schema {}.x only: use perfdiag {writer_version} or newer",
        path.display(), env!("CARGO_PKG_VERSION"), crate::manifest::SCHEMA_VERSION.major
    )]
    NewerSchema {
        path: PathBuf,
        found: String,
        writer_version: String,
    },
    #[error("the snapshot's {name} facts do not have the expected shape: {cause}")]
    Fact {
        name: String,
        cause: serde_json::Error,
    },
}
