//! One perfdiag at a time per case: every verb that changes a case holds
//! `case.lock` in its folder while it works, so two re-checks (a scheduled one and
//! the engineer's, say) never overlap. The second fails at once, naming the first.
//!
//! The file says which process holds it. A process that died without removing it
//! (killed, or the machine rebooted) leaves a stale lock: perfdiag reports it, with
//! how to remove it, rather than guess that it is safe to take over.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use chrono::SubsecRound;
use serde::{Deserialize, Serialize};

pub const FILE: &str = "case.lock";

/// What the lock file says.
#[derive(Debug, Serialize, Deserialize)]
struct Holder {
    pid: u32,
    host: String,
    command: String,
    started_at: chrono::DateTime<chrono::Utc>,
}

/// A held lock; dropping it removes the file.
#[derive(Debug)]
pub struct Lock {
    path: PathBuf,
}

impl Lock {
    /// Takes the lock of the case in `dir` for `command`, or fails at once.
    pub fn take(dir: &Path, command: &str) -> Result<Self> {
        let path = dir.join(FILE);
        let holder = Holder {
            pid: std::process::id(),
            host: this_host(),
            command: command.to_owned(),
            started_at: chrono::Utc::now().trunc_subsecs(0),
        };
        let text = toml::to_string(&holder)?;
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(mut file) => {
                let lock = Self { path };
                file.write_all(text.as_bytes())?;
                file.sync_all()?;
                Ok(lock)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(held(&path)),
            Err(e) => bail!("cannot create the lock {}: {e}", path.display()),
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// The error for a lock someone else holds, or held and left behind.
fn held(path: &Path) -> anyhow::Error {
    let remove = format!(
        "if no perfdiag is working on this case, remove the file ({}) and run again",
        path.display()
    );
    let Some(h) = std::fs::read_to_string(path)
        .ok()
        .and_then(|t| toml::from_str::<Holder>(&t).ok())
    else {
        return anyhow::anyhow!(
            "the case is locked: {} exists but does not say who holds it; {remove}",
            path.display()
        );
    };
    let who = format!(
        "perfdiag process {} on {} (`case {}`, started {})",
        h.pid,
        h.host,
        h.command,
        h.started_at.format("%Y-%m-%d %H:%M:%S UTC")
    );
    if h.host == this_host() && process_gone(h.pid) {
        anyhow::anyhow!(
            "the case is locked by a stale lock: {who} is no longer running, but left {} \
             behind (it was killed, or the machine restarted); {remove}",
            path.display()
        )
    } else {
        anyhow::anyhow!(
            "another perfdiag is working on this case: {who}; wait for it to finish and run \
             again (two runs never overlap). If that process is gone, {remove}",
        )
    }
}

/// Whether process `pid` is known not to run on this machine. Only Linux can tell
/// (through /proc); elsewhere a lock is never called stale.
fn process_gone(pid: u32) -> bool {
    let proc = Path::new("/proc");
    proc.join("self").exists() && !proc.join(pid.to_string()).exists()
}

/// This machine's name, to tell a lock of this host from one taken on a shared
/// folder by another.
fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_taker_fails_at_once_and_the_file_goes_with_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let lock = Lock::take(dir.path(), "recheck").unwrap();
        let e = Lock::take(dir.path(), "recheck").unwrap_err().to_string();
        assert!(
            e.contains("another perfdiag is working on this case"),
            "{e}"
        );
        assert!(
            e.contains(&format!("process {}", std::process::id())),
            "{e}"
        );
        drop(lock);
        assert!(!dir.path().join(FILE).exists());
        drop(Lock::take(dir.path(), "recheck").unwrap());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_lock_of_a_dead_process_is_reported_stale_with_how_to_remove_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let text = toml::to_string(&Holder {
            pid: dead,
            host: this_host(),
            command: "recheck".into(),
            started_at: chrono::Utc::now(),
        })
        .unwrap();
        std::fs::write(dir.path().join(FILE), text).unwrap();
        let e = Lock::take(dir.path(), "recheck").unwrap_err().to_string();
        assert!(e.contains("stale lock"), "{e}");
        assert!(e.contains("remove the file"), "{e}");
        // The stale file is reported, not taken over.
        assert!(dir.path().join(FILE).exists());
        std::fs::write(dir.path().join(FILE), "garbage").unwrap();
        let e = Lock::take(dir.path(), "recheck").unwrap_err().to_string();
        assert!(e.contains("does not say who holds it"), "{e}");
    }
}
