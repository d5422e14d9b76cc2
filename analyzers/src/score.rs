//! Scores per dimension and overall, from the findings.
//!
//! A first, deliberately simple model (a richer one, weighted by the share of database
//! time, comes later):
//! - each finding costs its dimension a fixed penalty by severity: info 0, warning 10,
//!   critical 25 (so four warnings or a critical and a warning still leave a passing
//!   score, and four criticals take a dimension near zero);
//! - a dimension scores `max(0, 100 - sum of its penalties)`, or `None` when none of its
//!   rules could be evaluated (unknown is never reported as 100);
//! - the overall score is the mean of the scored dimensions, rounded.

use std::collections::BTreeSet;

use perfdiag_model::{Dimension, DimensionScore, Finding, Severity};

/// Points a finding of `severity` costs its dimension.
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
    let overall = (!scored.is_empty()).then(|| {
        let mean = f64::from(scored.iter().sum::<u32>()) / scored.len() as f64;
        mean.round() as u8
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
        assert_eq!(overall, Some(55)); // (65 + 0 + 100) / 3
    }

    #[test]
    fn nothing_evaluated_means_no_overall() {
        let (_, overall) = score(&[], &BTreeSet::new());
        assert_eq!(overall, None);
    }
}
