//! Writing case files so that an interrupted run (Ctrl-C, a crash, a full disk, a
//! killed cron job) never leaves half a file: write a temporary file beside the
//! target, flush it to disk, then rename it over the target, which the file system
//! does in one step.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// A temporary name beside `path`, hidden and unique to this process.
fn temp_beside(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
}

/// Writes `content` to `path` atomically.
pub fn write(path: &Path, content: impl AsRef<[u8]>) -> Result<()> {
    let temp = temp_beside(path);
    let result = (|| -> std::io::Result<()> {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(content.as_ref())?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.with_context(|| format!("cannot write {}", path.display()))
}

/// Copies `from` to `to` atomically (a snapshot into the case folder).
pub fn copy(from: &Path, to: &Path) -> Result<()> {
    let temp = temp_beside(to);
    let result = (|| -> std::io::Result<()> {
        std::fs::copy(from, &temp)?;
        std::fs::File::open(&temp)?.sync_all()?;
        std::fs::rename(&temp, to)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.with_context(|| format!("cannot copy {} to {}", from.display(), to.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_the_whole_file_and_leaves_no_temporary_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("progress.toml");
        write(&path, "first").unwrap();
        write(&path, "second, longer").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "second, longer");
        let copy_to = dir.path().join("copy.toml");
        copy(&path, &copy_to).unwrap();
        assert_eq!(std::fs::read_to_string(&copy_to).unwrap(), "second, longer");
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        // A folder that does not exist: an error naming the file, nothing left over.
        let e = write(&dir.path().join("no/such.toml"), "x").unwrap_err();
        assert!(format!("{e:#}").contains("no/such.toml"), "{e:#}");
    }
}
