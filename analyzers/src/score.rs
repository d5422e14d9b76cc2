//! Scores per dimension and overall, from the findings.
//!
//! The model, documented for customers in docs/scoring.md:
//! - each finding costs its dimension a penalty: a base by severity (info 0, warning
//!   10, critical 25), scaled by `0.5 + share` when its impact was measured (see
//!   [`crate::impact`]);
//! - a dimension scores `max(0, 100 - sum of its penalties)`, or `None` when none of its
//!   rules could be evaluated (unknown is never reported as 100);
//! - the overall score is the mean of the scored dimensions, rounded, but never more
//!   than [`WORST_MARGIN`] above the worst dimension: a server whose sessions all wait
//!   on locks is not "80/100" because its other eight dimensions are fine.

use std::collections::BTreeSet;

use perfdiag_model::{Dimension, DimensionScore, Finding, Severity};

/// How far the overall score may stand above the worst dimension.
pub const WORST_MARGIN: u32 = 40;

/// The base points a finding of `severity` costs its dimension.
pub fn penalty(severity: Severity) -> u32 {
    match severity {
        Severity::Info => 0,
        Severity::Warning => 10,
        Severity::Critical => 25,
    }
}

/// Scores every dimension; `evaluated` holds the dimensions where at least one rule ran.
pub fn score(
    findings: &[Finding],
    evaluated: &BTreeSet<Dimension>,
) -> (Vec<DimensionScore>, Option<u8>) {
    let scores: Vec<DimensionScore> = Dimension::ALL
        .into_iter()
        .map(|dimension| {
            let own: Vec<&Finding> = findings
                .iter()
                .filter(|f| f.dimension == dimension)
                .collect();
            let lost: u32 = own.iter().map(|f| f.penalty).sum();
            let mut ids: Vec<String> = Vec::new();
            for f in own.iter().filter(|f| f.penalty > 0) {
                if !ids.contains(&f.rule_id) {
                    ids.push(f.rule_id.clone());
                }
            }
            DimensionScore {
                dimension,
                score: evaluated
                    .contains(&dimension)
                    .then(|| u8::try_from(100u32.saturating_sub(lost)).unwrap_or(0)),
                findings: ids,
            }
        })
        .collect();
    let scored: Vec<u32> = scores
        .iter()
        .filter_map(|s| s.score.map(u32::from))
        .collect();
    let overall = scored.iter().min().map(|worst| {
        let mean = f64::from(scored.iter().sum::<u32>()) / scored.len() as f64;
        (mean.round() as u32).min(worst + WORST_MARGIN) as u8
    });
    (scores, overall)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(dimension: Dimension, severity: Severity) -> Finding {
        Finding {
            rule_id: "x".to_owned(),
            dimension,
            severity,
            subject: None,
            evidence: Vec::new(),
            penalty: penalty(severity),
            impact: None,
            tier: perfdiag_model::Tier::LOW,
        }
    }

    #[test]
    fn penalties_add_up_and_floor_at_zero() {
        let evaluated = BTreeSet::from([Dimension::Cpu, Dimension::Memory, Dimension::Network]);
        let mut findings = vec![
            finding(Dimension::Cpu, Severity::Critical),
            finding(Dimension::Cpu, Severity::Warning),
        ];
        findings.extend((0..5).map(|_| finding(Dimension::Memory, Severity::Critical)));
        let (scores, overall) = score(&findings, &evaluated);
        let get = |d| {
            scores
                .iter()
                .find(|s| s.dimension == d)
                .and_then(|s| s.score)
        };
        assert_eq!(get(Dimension::Cpu), Some(65));
        assert_eq!(get(Dimension::Memory), Some(0));
        assert_eq!(get(Dimension::Network), Some(100));
        assert_eq!(get(Dimension::StorageIo), None, "not evaluated is not 100");
        // Mean (65 + 0 + 100) / 3 = 55, capped at the worst (0) + 40.
        assert_eq!(overall, Some(40));
    }

    #[test]
    fn overall_stays_within_reach_of_the_worst_dimension() {
        let evaluated = BTreeSet::from(Dimension::ALL);
        let findings: Vec<Finding> = (0..4)
            .map(|_| finding(Dimension::SessionsLocking, Severity::Critical))
            .collect();
        let (_, overall) = score(&findings, &evaluated);
        // Mean (8 × 100 + 0) / 9 = 89, capped at 0 + 40.
        assert_eq!(overall, Some(40));
    }

    #[test]
    fn nothing_evaluated_means_no_overall() {
        let (_, overall) = score(&[], &BTreeSet::new());
        assert_eq!(overall, None);
    }
}
