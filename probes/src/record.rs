//! Turns a probe's run into its [`ProbeRecord`]: timing, status, message and hint.
//!
//! A probe body gets a [`Notes`] to say what it could not read; the helper decides the
//! status in one place: an `Unsupported` error is `skipped`, any other error `failed`,
//! success with notes `partial`, success without `ok`.

use std::time::Instant;

use perfdiag_model::{ProbeRecord, ProbeStatus};

use crate::{Collected, ProbeError};

/// What a probe could not collect, and what the engineer could do about it.
#[derive(Debug, Default)]
pub struct Notes {
    missing: Vec<String>,
    hint: Option<String>,
}

impl Notes {
    /// Records something the probe could not read; makes the probe `partial`.
    pub fn missing(&mut self, what: impl Into<String>) {
        let what = what.into();
        if !self.missing.contains(&what) {
            self.missing.push(what);
        }
    }

    /// Records a missing item together with the error that explains it.
    pub fn missing_err(&mut self, what: &str, err: &ProbeError) {
        if err.is_not_found() {
            self.missing(what);
        } else {
            self.missing(format!("{what} ({err})"));
        }
    }

    pub fn hint(&mut self, hint: impl Into<String>) {
        self.hint = Some(hint.into());
    }

    pub fn is_empty(&self) -> bool {
        self.missing.is_empty()
    }
}

/// Runs `body`, timing it, and turns its outcome into a [`Collected`].
pub fn collect<T>(
    id: &str,
    body: impl FnOnce(&mut Notes) -> Result<T, ProbeError>,
) -> Collected<T> {
    let started = Instant::now();
    let mut notes = Notes::default();
    let result = body(&mut notes);
    let duration_ms = elapsed_ms(started);
    let (facts, status, message) = match result {
        Ok(facts) if notes.missing.is_empty() => (Some(facts), ProbeStatus::Ok, None),
        Ok(facts) => (
            Some(facts),
            ProbeStatus::Partial,
            Some(format!("missing: {}", notes.missing.join(", "))),
        ),
        Err(e @ ProbeError::Unsupported(_)) => (None, ProbeStatus::Skipped, Some(e.to_string())),
        Err(e) => (None, ProbeStatus::Failed, Some(e.to_string())),
    };
    Collected {
        facts,
        record: ProbeRecord {
            target: None,
            id: id.to_owned(),
            status,
            duration_ms,
            message,
            hint: notes.hint,
        },
    }
}

pub(crate) fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses() {
        let ok = collect("x", |_| Ok(1));
        assert_eq!(ok.record.status, ProbeStatus::Ok);
        assert_eq!(ok.facts, Some(1));

        let partial = collect("x", |n| {
            n.missing("proc/uptime");
            n.hint("mount /proc");
            Ok(1)
        });
        assert_eq!(partial.record.status, ProbeStatus::Partial);
        assert_eq!(
            partial.record.message.as_deref(),
            Some("missing: proc/uptime")
        );
        assert_eq!(partial.record.hint.as_deref(), Some("mount /proc"));

        let skipped = collect::<u8>("x", |_| Err(ProbeError::Unsupported("procfs".into())));
        assert_eq!(skipped.record.status, ProbeStatus::Skipped);
        assert_eq!(
            skipped.record.message.as_deref(),
            Some("unsupported here: procfs")
        );

        let failed = collect::<u8>("x", |_| Err(ProbeError::parse("stat", "bad")));
        assert_eq!(failed.record.status, ProbeStatus::Failed);
        assert!(failed.facts.is_none());
    }
}
