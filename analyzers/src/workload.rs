//! The kind of work the databases do, when the engineer did not say: read from the
//! statement mix of the window (pg_stat_statements, performance_schema digests or a
//! slow log). Expected settings depend on it, as PGTune's do on its "DB type".
//!
//! - **OLAP** when at least half of the statement time goes to classes whose mean
//!   call takes a second or more: reports and batches dominate.
//! - **OLTP** when at least 70 % of the statement time goes to classes under 50 ms a
//!   call: many short transactions dominate.
//! - **Mixed** otherwise, and when fewer than [`MIN_CALLS`] calls were seen (the
//!   source is then `default`).

use perfdiag_model::{Evidence, Snapshot, Unit, Value, Workload, WorkloadAssessment};

use crate::statements;

/// Fewer calls than this say nothing about the workload.
pub const MIN_CALLS: f64 = 100.0;
/// A class whose mean call takes at least this long is analytical.
const LONG_MS: f64 = 1000.0;
/// A class whose mean call takes less than this is transactional.
const SHORT_MS: f64 = 50.0;

/// The workload given with `--workload`, or detected.
pub fn assess(snapshot: &Snapshot, given: Option<Workload>) -> WorkloadAssessment {
    if let Some(kind) = given {
        return WorkloadAssessment {
            kind,
            source: "given".to_owned(),
            evidence: Vec::new(),
        };
    }
    let mix = Mix::of(snapshot);
    let evidence = mix.evidence();
    if mix.calls < MIN_CALLS || mix.total_ms <= 0.0 {
        return WorkloadAssessment {
            kind: Workload::Mixed,
            source: "default".to_owned(),
            evidence,
        };
    }
    let kind = if mix.long_ms / mix.total_ms >= 0.5 {
        Workload::Olap
    } else if mix.short_ms / mix.total_ms >= 0.7 {
        Workload::Oltp
    } else {
        Workload::Mixed
    };
    WorkloadAssessment {
        kind,
        source: "detected".to_owned(),
        evidence,
    }
}

/// Calls and statement time of every class of every statement table, split by the
/// class's mean time per call.
#[derive(Debug, Default)]
struct Mix {
    calls: f64,
    total_ms: f64,
    long_ms: f64,
    short_ms: f64,
}

impl Mix {
    fn of(snapshot: &Snapshot) -> Mix {
        let mut mix = Mix::default();
        for c in statements::classes(snapshot) {
            mix.calls += c.calls;
            mix.total_ms += c.total_ms;
            let mean = c.total_ms / c.calls;
            if mean >= LONG_MS {
                mix.long_ms += c.total_ms;
            } else if mean < SHORT_MS {
                mix.short_ms += c.total_ms;
            }
        }
        mix
    }

    fn evidence(&self) -> Vec<Evidence> {
        let pct = |part: f64| {
            if self.total_ms > 0.0 {
                part * 100.0 / self.total_ms
            } else {
                0.0
            }
        };
        let context = |metric: &str, observed| Evidence {
            metric: metric.to_owned(),
            observed,
            threshold: None,
        };
        let mut out = vec![context(
            "workload.calls",
            Value::number(self.calls, Unit::None),
        )];
        if self.calls > 0.0 {
            out.push(context(
                "workload.mean_ms_per_call",
                Value::number(self.total_ms / self.calls, Unit::Milliseconds),
            ));
            out.push(context(
                "workload.long_query_time_pct",
                Value::number(pct(self.long_ms), Unit::Percent),
            ));
            out.push(context(
                "workload.short_query_time_pct",
                Value::number(pct(self.short_ms), Unit::Percent),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::bare_snapshot as empty_snapshot;
    use perfdiag_model::{Table, col, tables};

    /// A snapshot whose pg_statements holds (calls, total ms) classes.
    fn with_classes(classes: &[(i64, f64)]) -> Snapshot {
        let mut s = empty_snapshot();
        s.put_table(
            tables::PG_STATEMENTS,
            Table::new()
                .with("calls", col::i64(classes.iter().map(|c| Some(c.0))))
                .with(
                    "total_exec_time_ms",
                    col::f64(classes.iter().map(|c| Some(c.1))),
                ),
        );
        s
    }

    #[test]
    fn many_short_calls_are_oltp() {
        let w = assess(&with_classes(&[(50_000, 40_000.0), (2_000, 3_000.0)]), None);
        assert_eq!((w.kind, w.source.as_str()), (Workload::Oltp, "detected"));
    }

    #[test]
    fn long_reports_taking_most_of_the_time_are_olap() {
        // 20 reports of 30 s each against 100,000 calls of 1 ms.
        let w = assess(
            &with_classes(&[(20, 600_000.0), (100_000, 100_000.0)]),
            None,
        );
        assert_eq!(w.kind, Workload::Olap);
    }

    #[test]
    fn neither_dominating_is_mixed_and_too_few_calls_is_the_default() {
        let w = assess(
            &with_classes(&[(200, 2_000_000.0 / 10.0), (5_000, 250_000.0)]),
            None,
        );
        assert_eq!((w.kind, w.source.as_str()), (Workload::Mixed, "detected"));
        let w = assess(&with_classes(&[(10, 100.0)]), None);
        assert_eq!((w.kind, w.source.as_str()), (Workload::Mixed, "default"));
        let w = assess(&empty_snapshot(), None);
        assert_eq!(w.source, "default");
    }

    #[test]
    fn the_engineers_word_wins() {
        let w = assess(&with_classes(&[(50_000, 40_000.0)]), Some(Workload::Olap));
        assert_eq!((w.kind, w.source.as_str()), (Workload::Olap, "given"));
    }
}
