//! Sub-probe bookkeeping shared by the database probes: a sub-probe
//! (`postgres.settings`, `mssql.databases`, …) may run at the start and again at the
//! end of the window; its [`Tally`] gathers the time spent, what could not be read and
//! why, and decides the status once, in [`Tally::record`]: nothing wrong is `ok`;
//! something read and something not is `partial`; only a missing privilege or
//! extension is `skipped` (with the remedy as hint); nothing read because of errors
//! is `failed`.

use std::time::{Duration, Instant};

use perfdiag_model::{ProbeRecord, ProbeStatus};

#[derive(Debug, Default)]
pub(crate) struct Tally {
    spent: Duration,
    /// Parts that were read.
    ok_parts: u32,
    /// Parts not read because of an error: what, and the error.
    failed: Vec<String>,
    /// Parts not read because a privilege, a permission or an extension is missing.
    skipped: Vec<String>,
    hints: Vec<String>,
}

impl Tally {
    /// Runs one part of the sub-probe, timing it.
    pub fn timed<T>(&mut self, body: impl FnOnce(&mut Self) -> T) -> T {
        let started = Instant::now();
        let out = body(self);
        self.spent += started.elapsed();
        out
    }

    pub fn ok(&mut self) {
        self.ok_parts += 1;
    }

    pub fn failed(&mut self, what: &str, err: &impl std::fmt::Display) {
        self.failed.push(format!("{what}: {err}"));
    }

    /// A part left out for lack of a privilege or an extension, with the remedy (the
    /// GRANT or CREATE EXTENSION that allows it).
    pub fn skipped(&mut self, what: String, hint: &str) {
        self.skipped.push(what);
        self.hint(hint);
    }

    pub fn hint(&mut self, hint: &str) {
        if !self.hints.iter().any(|h| h == hint) {
            self.hints.push(hint.to_owned());
        }
    }

    /// Whether nothing went wrong so far.
    pub fn is_clean(&self) -> bool {
        self.failed.is_empty() && self.skipped.is_empty()
    }

    pub fn record(&self, id: &str, target: &str) -> ProbeRecord {
        let status = if self.is_clean() {
            ProbeStatus::Ok
        } else if self.ok_parts > 0 {
            ProbeStatus::Partial
        } else if self.failed.is_empty() {
            ProbeStatus::Skipped
        } else {
            ProbeStatus::Failed
        };
        let mut message = Vec::new();
        if !self.skipped.is_empty() {
            message.push(format!("not collected: {}", self.skipped.join("; ")));
        }
        if !self.failed.is_empty() {
            message.push(format!("failed: {}", self.failed.join("; ")));
        }
        ProbeRecord {
            id: id.to_owned(),
            target: Some(target.to_owned()),
            status,
            duration_ms: u64::try_from(self.spent.as_millis()).unwrap_or(u64::MAX),
            message: (!message.is_empty()).then(|| message.join(". ")),
            hint: (!self.hints.is_empty()).then(|| self.hints.join("\n")),
        }
    }
}

/// The record of a sub-probe sampled every tick (sessions): `ok` when every sample
/// was read, `partial` or `failed` with the first error when some were not, `skipped`
/// when the window ended before the first tick.
pub(crate) fn sampled(
    id: &str,
    target: &str,
    (ok, failed): (u32, u32),
    first_error: Option<&str>,
    spent: Duration,
) -> ProbeRecord {
    let (status, message) = match (ok, failed) {
        (0, 0) => (
            ProbeStatus::Skipped,
            Some("no sample was taken (the window ended before the first tick)".to_owned()),
        ),
        (_, 0) => (ProbeStatus::Ok, None),
        (ok, failed) => (
            if ok > 0 {
                ProbeStatus::Partial
            } else {
                ProbeStatus::Failed
            },
            Some(format!(
                "{failed} of {} samples failed: {}",
                ok + failed,
                first_error.unwrap_or("unknown error")
            )),
        ),
    };
    ProbeRecord {
        id: id.to_owned(),
        target: Some(target.to_owned()),
        status,
        duration_ms: u64::try_from(spent.as_millis()).unwrap_or(u64::MAX),
        message,
        hint: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_is_decided_in_one_place() {
        let mut t = Tally::default();
        t.ok();
        assert_eq!(t.record("p", "x").status, ProbeStatus::Ok);
        t.skipped("backups".into(), "GRANT x");
        let r = t.record("p", "x");
        assert_eq!(r.status, ProbeStatus::Partial);
        assert_eq!(r.hint.as_deref(), Some("GRANT x"));
        let mut s = Tally::default();
        s.skipped("backups".into(), "GRANT x");
        assert_eq!(s.record("p", "x").status, ProbeStatus::Skipped);
        let mut f = Tally::default();
        f.failed("waits", &"boom");
        let r = f.record("p", "x");
        assert_eq!(r.status, ProbeStatus::Failed);
        assert_eq!(r.message.as_deref(), Some("failed: waits: boom"));
    }

    #[test]
    fn a_sampled_probe_counts_its_failed_ticks() {
        let spent = Duration::from_millis(12);
        let r = sampled("s", "x", (0, 0), None, spent);
        assert_eq!(r.status, ProbeStatus::Skipped);
        assert_eq!(
            sampled("s", "x", (5, 0), None, spent).status,
            ProbeStatus::Ok
        );
        let r = sampled("s", "x", (3, 2), Some("timeout"), spent);
        assert_eq!(r.status, ProbeStatus::Partial);
        assert_eq!(r.message.as_deref(), Some("2 of 5 samples failed: timeout"));
        assert_eq!(r.duration_ms, 12);
        let r = sampled("s", "x", (0, 2), None, spent);
        assert_eq!(r.status, ProbeStatus::Failed);
        assert_eq!(
            r.message.as_deref(),
            Some("2 of 2 samples failed: unknown error")
        );
    }
}
