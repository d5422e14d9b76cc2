//! What `perfdiag scripts` writes, whatever the engine: files, and the options they are
//! made with (the live probe's defaults, so an offline window matches a `collect`).

use std::path::Path;
use std::time::Duration;

use crate::db::DbOptions;

/// The settings baked into a set of scripts; the runner lets the DBA change the
/// window (DURATION, INTERVAL) and the top N without regenerating.
#[derive(Debug, Clone)]
pub struct ScriptOptions {
    pub duration: Duration,
    pub interval: Duration,
    pub top_n: usize,
    pub statement_timeout: Duration,
    pub lock_timeout: Duration,
    /// perfdiag's version, written into the scripts and the capture.
    pub tool_version: String,
}

impl Default for ScriptOptions {
    fn default() -> Self {
        let db = DbOptions::default();
        Self {
            duration: Duration::from_secs(60),
            interval: Duration::from_secs(1),
            top_n: db.top_n,
            statement_timeout: db.statement_timeout,
            lock_timeout: db.lock_timeout,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// The files of one engine's scripts: name, content, and whether it is executable.
#[derive(Debug, Clone)]
pub struct Script {
    pub files: Vec<(String, String, bool)>,
}

impl Script {
    /// Writes the files into `dir` (created; existing files of the same names are
    /// replaced, nothing else is touched).
    pub fn write(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for (name, content, executable) in &self.files {
            let path = dir.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            std::fs::write(&path, content)?;
            #[cfg(unix)]
            if *executable {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
            }
            #[cfg(not(unix))]
            let _ = executable;
        }
        Ok(())
    }
}
