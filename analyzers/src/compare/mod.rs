//! Comparing two snapshots of one system: by KPI, wait class, finding and query.
//!
//! ```text
//! before ─┬─► assess ─► findings, scores, wait classes ─┐
//!         └─► KPI samples, statement classes ───────────┤
//! after  ─┬─► assess ─► ...                             ├─► Comparison
//!         └─► ...  ─────────────────────────────────────┘
//! ```
//! The entry point is [`compare`]. KPIs are judged against the noise of their samples
//! ([`kpi`]), statement classes by a fixed rule ([`queries`]), findings by rule id and
//! subject. What is compared, and the rules, are in docs/comparison.md.

use std::collections::BTreeMap;

use perfdiag_model::comparison::Comparison;
use perfdiag_model::{
    Assessment, ChangeDirection, ComparisonWarning, Dimension, DimensionScoreChange, Finding,
    FindingChange, FindingStatus, KpiChange, ScoreChange, Snapshot, SnapshotIdentity,
    WaitClassChange,
};

use crate::{AnalyzeError, Baseline, Options, assess_with};

pub(crate) mod kpi;
pub(crate) mod queries;
#[cfg(test)]
mod tests;

pub use kpi::kpi_ids;

/// Compares `after` with the earlier `before`, assessing both against `baseline`.
///
/// Snapshots of different hosts are compared all the same, with a warning: a migration
/// to new hardware is a legitimate before and after.
pub fn compare(
    before: &Snapshot,
    after: &Snapshot,
    baseline: &Baseline,
    options: &Options,
) -> Result<Comparison, AnalyzeError> {
    let assessed_before = assess_with(before, baseline, options)?;
    let assessed_after = assess_with(after, baseline, options)?;
    let (id_before, id_after) = (identity(before), identity(after));
    Ok(Comparison {
        generated_at: chrono::Utc::now(),
        tool_version: env!("CARGO_PKG_VERSION").to_owned(),
        baseline: baseline.name().to_owned(),
        warnings: warnings(&id_before, &id_after),
        before: id_before,
        after: id_after,
        overall: ScoreChange {
            before: assessed_before.overall,
            after: assessed_after.overall,
        },
        scores: scores(&assessed_before, &assessed_after),
        kpis: kpis(before, after)?,
        wait_classes: wait_classes(&assessed_before, &assessed_after),
        findings: findings(&assessed_before.findings, &assessed_after.findings),
        queries: queries::compare(queries::classes(before)?, queries::classes(after)?),
    })
}

fn identity(snapshot: &Snapshot) -> SnapshotIdentity {
    let m = snapshot.manifest();
    SnapshotIdentity {
        hostname: m.host.hostname.clone(),
        machine_id: m.host.machine_id.clone(),
        started_at: m.window.started_at,
        ended_at: m.window.ended_at,
        interval_ms: m.window.interval_ms,
        tool_version: m.tool_version.clone(),
    }
}

fn warnings(before: &SnapshotIdentity, after: &SnapshotIdentity) -> Vec<ComparisonWarning> {
    let mut out = Vec::new();
    if before.hostname != after.hostname {
        out.push(ComparisonWarning::DifferentHost {
            before: before.hostname.clone(),
            after: after.hostname.clone(),
        });
    } else if let (Some(b), Some(a)) = (&before.machine_id, &after.machine_id)
        && b != a
    {
        out.push(ComparisonWarning::DifferentMachine);
    }
    if after.started_at < before.started_at {
        out.push(ComparisonWarning::AfterIsEarlier);
    }
    out
}

fn scores(before: &Assessment, after: &Assessment) -> Vec<DimensionScoreChange> {
    let score = |a: &Assessment, d: Dimension| {
        a.scores
            .iter()
            .find(|s| s.dimension == d)
            .and_then(|s| s.score)
    };
    Dimension::ALL
        .iter()
        .map(|&d| DimensionScoreChange {
            dimension: d,
            before: score(before, d),
            after: score(after, d),
        })
        .filter(|s| s.before.is_some() || s.after.is_some())
        .collect()
}

/// Every KPI measured on both sides; those beyond the noise first, worse before better.
fn kpis(before: &Snapshot, after: &Snapshot) -> Result<Vec<KpiChange>, AnalyzeError> {
    let key = |s: &kpi::KpiSamples| (s.def.id, s.subject.clone());
    let mut earlier: BTreeMap<_, _> = kpi::samples(before)?
        .into_iter()
        .map(|s| (key(&s), s))
        .collect();
    let mut out = Vec::new();
    for later in kpi::samples(after)? {
        let Some(earlier) = earlier.remove(&key(&later)) else {
            continue;
        };
        if earlier.values.is_empty() || later.values.is_empty() {
            continue;
        }
        let def = later.def;
        let (b, a) = (kpi::side(&earlier.values), kpi::side(&later.values));
        let change = a.mean - b.mean;
        let noise = kpi::noise(&b, &a);
        let min_change = kpi::min_change(&def, b.mean);
        let beyond_noise = noise.is_some_and(|n| change.abs() > n) && change.abs() > min_change;
        let direction = match (beyond_noise, (change > 0.0) == def.higher_is_better) {
            (false, _) => ChangeDirection::Unchanged,
            (true, true) => ChangeDirection::Better,
            (true, false) => ChangeDirection::Worse,
        };
        out.push(KpiChange {
            id: def.id.to_owned(),
            subject: later.subject,
            unit: def.unit,
            higher_is_better: def.higher_is_better,
            before: b,
            after: a,
            change,
            change_pct: (b.mean != 0.0).then(|| change * 100.0 / b.mean.abs()),
            noise,
            min_change,
            beyond_noise,
            direction,
        });
    }
    let order = |d: ChangeDirection| match d {
        ChangeDirection::Worse => 0,
        ChangeDirection::Better => 1,
        ChangeDirection::Unchanged => 2,
    };
    // Stable: within a direction, the definition order of the KPIs.
    out.sort_by_key(|k| order(k.direction));
    Ok(out)
}

/// Wait classes of every target seen on either side; a class absent on one side had
/// no active session there (0 AAS).
fn wait_classes(before: &Assessment, after: &Assessment) -> Vec<WaitClassChange> {
    let mut rows: BTreeMap<(String, String, String), (f64, f64)> = BTreeMap::new();
    for (side, assessment) in [(0, before), (1, after)] {
        for l in &assessment.db_time {
            let entry = rows
                .entry((l.target.clone(), l.engine.clone(), l.wait_class.clone()))
                .or_default();
            if side == 0 {
                entry.0 += l.aas;
            } else {
                entry.1 += l.aas;
            }
        }
    }
    let mut out: Vec<WaitClassChange> = rows
        .into_iter()
        .map(|((target, engine, wait_class), (b, a))| WaitClassChange {
            target,
            engine,
            wait_class,
            aas_before: b,
            aas_after: a,
            change: a - b,
        })
        .collect();
    // Per target, the largest class (on either side) first.
    out.sort_by(|x, y| {
        x.target.cmp(&y.target).then(
            y.aas_before
                .max(y.aas_after)
                .total_cmp(&x.aas_before.max(x.aas_after)),
        )
    });
    out
}

/// Findings matched by rule id and subject: new and worse first, then resolved and
/// better, then unchanged; each group in the assessment's order (most severe first).
fn findings(before: &[Finding], after: &[Finding]) -> Vec<FindingChange> {
    let key = |f: &Finding| (f.rule_id.clone(), f.subject.clone());
    let earlier: BTreeMap<_, &Finding> = before.iter().map(|f| (key(f), f)).collect();
    let later: BTreeMap<_, &Finding> = after.iter().map(|f| (key(f), f)).collect();
    let change = |b: Option<&Finding>, a: Option<&Finding>| {
        let any = a.or(b).expect("one side has the finding");
        let status = match (b, a) {
            (None, _) => FindingStatus::New,
            (_, None) => FindingStatus::Resolved,
            (Some(b), Some(a)) => match (a.severity, a.penalty).cmp(&(b.severity, b.penalty)) {
                std::cmp::Ordering::Greater => FindingStatus::Worse,
                std::cmp::Ordering::Less => FindingStatus::Better,
                std::cmp::Ordering::Equal => FindingStatus::Unchanged,
            },
        };
        FindingChange {
            rule_id: any.rule_id.clone(),
            dimension: any.dimension,
            subject: any.subject.clone(),
            status,
            severity_before: b.map(|f| f.severity),
            severity_after: a.map(|f| f.severity),
            penalty_before: b.map(|f| f.penalty),
            penalty_after: a.map(|f| f.penalty),
            evidence_before: b.and_then(|f| f.evidence.first().cloned()),
            evidence_after: a.and_then(|f| f.evidence.first().cloned()),
        }
    };
    let mut out: Vec<FindingChange> = after
        .iter()
        .map(|a| change(earlier.get(&key(a)).copied(), Some(a)))
        .chain(
            before
                .iter()
                .filter(|b| !later.contains_key(&key(b)))
                .map(|b| change(Some(b), None)),
        )
        .collect();
    let order = |s: FindingStatus| match s {
        FindingStatus::New => 0,
        FindingStatus::Worse => 1,
        FindingStatus::Resolved => 2,
        FindingStatus::Better => 3,
        FindingStatus::Unchanged => 4,
    };
    out.sort_by_key(|f| order(f.status));
    out
}
