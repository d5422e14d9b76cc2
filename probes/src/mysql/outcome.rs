//! One sub-probe's outcome (`mysql.status`, `mysql.digests`...): its parts that worked
//! and those that did not, turned into a [`ProbeRecord`] in one place.
//!
//! Status: nothing went wrong → `ok`; some parts failed → `partial`; every part failed
//! → `skipped` when the cause is a missing privilege or a feature that is off (the
//! hint says what to grant or enable), `failed` otherwise.

use std::time::{Duration, Instant};

use perfdiag_model::{ProbeRecord, ProbeStatus};

use super::query::QueryError;

#[derive(Debug)]
pub(crate) struct Outcome {
    id: &'static str,
    started: Instant,
    spent: Duration,
    good: usize,
    bad: Vec<(bool, String)>,
    hint: Option<String>,
    /// Set when the sub-probe did not run at all by design (e.g. performance_schema OFF).
    skipped: Option<String>,
}

impl Outcome {
    pub fn new(id: &'static str) -> Self {
        Self {
            id,
            started: Instant::now(),
            spent: Duration::ZERO,
            good: 0,
            bad: Vec::new(),
            hint: None,
            skipped: None,
        }
    }

    /// Time spent since `new` (or the last `pause`) counts towards the duration; used
    /// by sub-probes whose work is spread over the window (start and end readings).
    pub fn pause(&mut self) {
        self.spent += self.started.elapsed();
        self.started = Instant::now();
    }

    pub fn resume(&mut self) {
        self.started = Instant::now();
    }

    pub fn ok(&mut self) {
        self.good += 1;
    }

    /// A part that failed; `what` names it (e.g. "end reading").
    pub fn failed(&mut self, what: &str, err: &QueryError) {
        let benign = matches!(err, QueryError::Denied(_) | QueryError::Unsupported(_));
        self.bad.push((benign, format!("{what}: {err}")));
    }

    /// A part that could not be read for a reason that is not an error.
    pub fn missing(&mut self, what: impl Into<String>) {
        self.bad.push((true, what.into()));
    }

    pub fn hint(&mut self, hint: impl Into<String>) {
        let hint = hint.into();
        match &mut self.hint {
            Some(h) if !h.contains(&hint) => {
                h.push(' ');
                h.push_str(&hint);
            }
            Some(_) => {}
            None => self.hint = Some(hint),
        }
    }

    /// The sub-probe does not run here; `reason` says why, `hint` how to enable it.
    pub fn skip(&mut self, reason: impl Into<String>, hint: impl Into<String>) {
        self.skipped = Some(reason.into());
        self.hint(hint);
    }

    pub fn record(mut self, target: &str) -> ProbeRecord {
        self.pause();
        let messages: Vec<&str> = self.bad.iter().map(|(_, m)| m.as_str()).collect();
        let (status, message) = if let Some(reason) = self.skipped.take() {
            (ProbeStatus::Skipped, Some(reason))
        } else if self.bad.is_empty() {
            (ProbeStatus::Ok, None)
        } else if self.good > 0 {
            (
                ProbeStatus::Partial,
                Some(format!("missing: {}", messages.join("; "))),
            )
        } else if self.bad.iter().all(|(benign, _)| *benign) {
            (ProbeStatus::Skipped, Some(messages.join("; ")))
        } else {
            (ProbeStatus::Failed, Some(messages.join("; ")))
        };
        ProbeRecord {
            id: self.id.to_owned(),
            target: Some(target.to_owned()),
            status,
            duration_ms: u64::try_from(self.spent.as_millis()).unwrap_or(u64::MAX),
            message,
            hint: self.hint,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_the_parts() {
        let mut o = Outcome::new("mysql.x");
        o.ok();
        assert_eq!(o.record("t").status, ProbeStatus::Ok);

        let mut o = Outcome::new("mysql.x");
        o.ok();
        o.failed("end reading", &QueryError::Lost("connection lost".into()));
        let r = o.record("t");
        assert_eq!(r.status, ProbeStatus::Partial);
        assert_eq!(
            r.message.as_deref(),
            Some("missing: end reading: connection lost")
        );
        assert_eq!(r.target.as_deref(), Some("t"));

        let mut o = Outcome::new("mysql.x");
        o.failed("accounts", &QueryError::Denied("access denied".into()));
        o.hint("GRANT SELECT ON mysql.user TO 'u'@'%';");
        let r = o.record("t");
        assert_eq!(r.status, ProbeStatus::Skipped);
        assert!(r.hint.as_deref().is_some_and(|h| h.starts_with("GRANT")));

        let mut o = Outcome::new("mysql.x");
        o.failed("x", &QueryError::Timeout("timed out".into()));
        assert_eq!(o.record("t").status, ProbeStatus::Failed);
    }
}
