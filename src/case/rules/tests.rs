//! The status rules, one by one, on hand-made comparisons and records.

use chrono::{DateTime, Utc};
use perfdiag_model::comparison::Comparison;
use perfdiag_model::{
    ChangeDirection, KpiChange, KpiSide, QueryChange, QueryStats, QueryStatus, ScoreChange,
    SnapshotIdentity, StepState, Unit,
};

use super::*;
use crate::case::progress::{
    FindingEvidence, FindingKey, Optimization, Progress, Recheck, StepEntry, StepEvent,
};

fn t(s: &str) -> DateTime<Utc> {
    crate::cli::parse_time(s).unwrap()
}

fn side(mean: f64) -> KpiSide {
    KpiSide {
        mean,
        samples: 60,
        std_error: Some(0.5),
    }
}

/// CPU busy (lower is better) from `before` to `after`, judged `direction`.
fn cpu(before: f64, after: f64, direction: ChangeDirection) -> KpiChange {
    KpiChange {
        id: "host_cpu.busy_pct.mean".into(),
        subject: None,
        unit: Unit::Percent,
        higher_is_better: false,
        before: side(before),
        after: side(after),
        change: after - before,
        change_pct: Some((after - before) / before * 100.0),
        noise: Some(2.1),
        min_change: 2.0,
        beyond_noise: direction != ChangeDirection::Unchanged,
        direction,
    }
}

fn identity() -> SnapshotIdentity {
    SnapshotIdentity {
        hostname: "db1".into(),
        machine_id: None,
        started_at: t("2026-12-01"),
        ended_at: t("2026-12-01T00:01:00Z"),
        interval_ms: 1000,
        tool_version: "test".into(),
    }
}

fn comparison(kpis: Vec<KpiChange>, queries: Vec<QueryChange>) -> Comparison {
    Comparison {
        generated_at: t("2026-12-01"),
        tool_version: "test".into(),
        baseline: "builtin".into(),
        before: identity(),
        after: identity(),
        warnings: vec![],
        overall: ScoreChange {
            before: None,
            after: None,
        },
        scores: vec![],
        kpis,
        wait_classes: vec![],
        findings: vec![],
        queries,
    }
}

fn new_query(heavy: bool, share: f64) -> QueryChange {
    QueryChange {
        source: "pg_statements".into(),
        target: Some("postgres://app@db1/erp".into()),
        id: "42".into(),
        text: "SELECT * FROM orders WHERE customer = $1".into(),
        status: QueryStatus::New,
        heavy,
        before: None,
        after: Some(QueryStats {
            calls: 100.0,
            calls_per_s: Some(1.5),
            mean_ms: Some(80.0),
            total_ms: 8000.0,
            share_pct: share,
        }),
    }
}

fn event(state: StepState, at: &str) -> StepEvent {
    StepEvent {
        state,
        at: t(at),
        snapshot: Some("snapshots/x.pdsnap".into()),
        evidence: vec![],
    }
}

fn step(id: &str, states: &[StepState]) -> StepEntry {
    let mut s = StepEntry {
        id: id.into(),
        state: StepState::Proposed,
        addresses: vec![FindingKey {
            rule: "pg.temp.spills".into(),
            subject: None,
        }],
        history: vec![event(StepState::Proposed, "2026-11-01")],
    };
    for (i, state) in states.iter().enumerate() {
        let mut e = event(*state, &format!("2026-12-{:02}", i + 2));
        if *state == StepState::Regressed {
            e.evidence = vec![FindingEvidence {
                finding: s.addresses[0].clone(),
                evidence: vec![],
            }];
        }
        s.push(e);
    }
    s
}

use StepState::{Applied, Regressed, Verified};

#[test]
fn nothing_worse_is_holding() {
    let steps = [step("a", &[Applied, Verified])];
    let cmp = comparison(
        vec![cpu(20.0, 19.0, ChangeDirection::Unchanged)],
        vec![new_query(false, 1.0)],
    );
    assert_eq!(verdict(&steps, &[], &cmp, None), (Verdict::Holding, vec![]));
}

#[test]
fn a_regressed_step_breaches_with_its_evidence() {
    let steps = [
        step("pg.config.work_mem", &[Applied, Verified, Regressed]),
        step("b", &[Applied]),
    ];
    let (v, reasons) = verdict(&steps, &[], &comparison(vec![], vec![]), None);
    assert_eq!(v, Verdict::Breached);
    let [Reason::StepRegressed { step, findings }] = reasons.as_slice() else {
        panic!("{reasons:?}")
    };
    assert_eq!(step, "pg.config.work_mem");
    assert_eq!(findings[0].finding.rule, "pg.temp.spills");

    // Still regressed a week later: the evidence is that re-check's, not the first one's.
    let now = FindingEvidence {
        finding: FindingKey {
            rule: "pg.temp.spills".into(),
            subject: Some("postgres://app@db1/erp".into()),
        },
        evidence: vec![],
    };
    let seen = crate::case::verify::Judgement {
        step: "pg.config.work_mem".into(),
        before: Regressed,
        after: Regressed,
        present: vec![now.clone()],
        unjudged: vec![],
    };
    let (_, reasons) = verdict(&steps, &[seen], &comparison(vec![], vec![]), None);
    let [Reason::StepRegressed { findings, .. }] = reasons.as_slice() else {
        panic!("{reasons:?}")
    };
    assert_eq!(findings, &[now]);
}

#[test]
fn a_kpi_worse_than_the_baseline_is_at_risk_and_past_the_diagnosis_a_breach() {
    let steps = [step("a", &[Applied, Verified])];
    // The optimization took CPU busy from 40 % to 20 %.
    let gains = comparison(vec![cpu(40.0, 20.0, ChangeDirection::Better)], vec![]);

    // 20 % → 30 %: worse beyond the noise, still better than the 40 % before.
    let (v, reasons) = verdict(
        &steps,
        &[],
        &comparison(vec![cpu(20.0, 30.0, ChangeDirection::Worse)], vec![]),
        Some(&gains),
    );
    assert_eq!(v, Verdict::AtRisk);
    let [Reason::KpiRegressed { kpi }] = reasons.as_slice() else {
        panic!("{reasons:?}")
    };
    assert_eq!(
        (kpi.diagnosis, kpi.baseline, kpi.recheck),
        (Some(40.0), 20.0, 30.0)
    );

    // 20 % → 45 %: the gain is lost.
    let (v, reasons) = verdict(
        &steps,
        &[],
        &comparison(vec![cpu(20.0, 45.0, ChangeDirection::Worse)], vec![]),
        Some(&gains),
    );
    assert_eq!(v, Verdict::Breached);
    assert!(matches!(reasons[0], Reason::KpiLost { .. }), "{reasons:?}");

    // A KPI the optimization did not improve is never a lost gain, only a risk.
    let flat = comparison(vec![cpu(20.0, 21.0, ChangeDirection::Unchanged)], vec![]);
    let (v, _) = verdict(
        &steps,
        &[],
        &comparison(vec![cpu(21.0, 45.0, ChangeDirection::Worse)], vec![]),
        Some(&flat),
    );
    assert_eq!(v, Verdict::AtRisk);
    // Within the noise: nothing.
    let (v, _) = verdict(
        &steps,
        &[],
        &comparison(vec![cpu(20.0, 45.0, ChangeDirection::Unchanged)], vec![]),
        Some(&gains),
    );
    assert_eq!(v, Verdict::Holding);
}

#[test]
fn a_new_heavy_query_is_called_out_as_a_risk() {
    let (v, reasons) = verdict(
        &[],
        &[],
        &comparison(vec![], vec![new_query(true, 37.5), new_query(false, 2.0)]),
        None,
    );
    assert_eq!(v, Verdict::AtRisk);
    let [Reason::NewHeavyQuery { query }] = reasons.as_slice() else {
        panic!("{reasons:?}")
    };
    assert_eq!((query.share_pct, query.mean_ms), (37.5, Some(80.0)));
}

fn optimized_progress() -> Progress {
    let mut p = Progress::new(t("2026-11-01"));
    p.optimization = Some(Optimization {
        at: t("2026-12-02"),
        until: t("2027-03-02"),
        baseline: "snapshots/b.pdsnap".into(),
        comparison: "comparisons/optimization.json".into(),
    });
    p.steps = vec![step("a", &[Applied, Verified]), step("b", &[Applied])];
    p
}

fn recheck(at: &str, verdict: Verdict, reasons: Vec<Reason>) -> Recheck {
    Recheck {
        at: t(at),
        verdict,
        in_window: true,
        snapshot: Some(format!("snapshots/{at}.pdsnap")),
        comparison: Some(format!("comparisons/{at}.json")),
        reasons,
        error: None,
    }
}

#[test]
fn the_guarantee_follows_the_latest_recheck_in_the_window() {
    let mut p = Progress::new(t("2026-11-01"));
    let g = guarantee(&p, t("2026-12-01"));
    assert_eq!((g.status, g.phase), (Status::NotStarted, None));

    p = optimized_progress();
    let g = guarantee(&p, t("2026-12-03"));
    assert_eq!(g.status, Status::Holding);
    assert_eq!((g.phase, g.days_left), (Some(Phase::Open), Some(89)));

    let regressed = Reason::StepRegressed {
        step: "a".into(),
        findings: vec![],
    };
    p.rechecks.push(recheck(
        "2026-12-09",
        Verdict::Breached,
        vec![regressed.clone()],
    ));
    let g = guarantee(&p, t("2026-12-10"));
    assert_eq!(
        (g.status, g.reasons.clone()),
        (Status::Breached, vec![regressed])
    );
    assert_eq!(g.as_of, Some(t("2026-12-09")));

    // Fixed under the guarantee: the next re-check holds, and so does the guarantee.
    p.rechecks
        .push(recheck("2026-12-16", Verdict::Holding, vec![]));
    assert_eq!(guarantee(&p, t("2026-12-17")).status, Status::Holding);

    // A failed attempt changes nothing by itself…
    let mut failed = recheck("2026-12-23", Verdict::Failed, vec![]);
    failed.snapshot = None;
    failed.comparison = None;
    failed.error = Some("cannot connect".into());
    p.rechecks.push(failed);
    let g = guarantee(&p, t("2026-12-24"));
    assert_eq!(
        (g.status, g.as_of),
        (Status::Holding, Some(t("2026-12-16")))
    );

    // …but in the last 14 days it is an open problem, as is step b, applied and
    // never verified.
    let g = guarantee(&p, t("2027-02-20"));
    assert_eq!(g.phase, Some(Phase::EndsSoon));
    assert_eq!(g.days_left, Some(10));
    assert_eq!(g.status, Status::AtRisk);
    let ids: Vec<&str> = g.reasons.iter().map(Reason::id).collect();
    assert_eq!(ids, ["step_not_verified", "recheck_failed"]);

    // Out of window, a breach no longer counts: the guarantee ended with the window.
    let mut late = recheck("2027-03-10", Verdict::Breached, vec![]);
    late.in_window = false;
    p.rechecks.push(late);
    let g = guarantee(&p, t("2027-03-11"));
    assert!(g.ended);
    assert_eq!((g.phase, g.days_left), (Some(Phase::Closed), Some(0)));
    assert_eq!(g.status, Status::Holding);
}

#[test]
fn ending_soon_without_any_recheck_is_at_risk_and_with_nothing_open_holds() {
    let mut p = optimized_progress();
    let g = guarantee(&p, t("2027-02-25"));
    assert_eq!(g.status, Status::AtRisk);
    assert!(g.reasons.contains(&Reason::NoRecheck), "{:?}", g.reasons);

    p.steps.pop();
    p.rechecks
        .push(recheck("2027-02-20", Verdict::Holding, vec![]));
    let g = guarantee(&p, t("2027-02-25"));
    assert_eq!(
        (g.status, g.phase),
        (Status::Holding, Some(Phase::EndsSoon))
    );
    assert!(g.reasons.is_empty());
}
