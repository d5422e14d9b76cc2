//! The probes' error type, with "unsupported here" kept apart from real failures so a
//! snapshot can say `skipped` rather than `failed`.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The source does not exist on this platform or kernel; not a failure.
    #[error("unsupported here: {0}")]
    Unsupported(String),
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file was read but its content is not what the kernel documents.
    #[error("cannot parse {what}: {detail}")]
    Parse { what: &'static str, detail: String },
}

impl ProbeError {
    pub(crate) fn parse(what: &'static str, detail: impl Into<String>) -> Self {
        Self::Parse {
            what,
            detail: detail.into(),
        }
    }

    /// True when the error is a missing file (as opposed to, say, permission denied).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}
