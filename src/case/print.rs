//! The terminal view of a case: `perfdiag case status`, and the summary a re-check
//! prints. Words come from the message catalogs (`[case]` in report.toml); numbers,
//! ids and evidence are printed as they are, language-neutral.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use perfdiag_model::{ChangeDirection, Evidence, StepState, Unit};

use super::progress::{FindingEvidence, Reason, Recheck, Role, Verdict, state_id};
use super::rules::Status;
use super::status::{CaseStatus, KpiTrend};
use super::window::Phase;
use crate::report::Catalog;
use crate::terminal::{Paint, pad};

fn day(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d").to_string()
}

fn minute(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// A KPI value in its unit, e.g. `35.2 %`, `1.25 ms`, `0.40`.
pub fn kpi_value(v: f64, unit: Unit) -> String {
    let n = if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else if v.abs() >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    };
    match unit {
        Unit::Percent => format!("{n} %"),
        Unit::Milliseconds => format!("{n} ms"),
        Unit::PerSecond => format!("{n}/s"),
        Unit::PagesPerSecond => format!("{n} pages/s"),
        Unit::Bytes => format!("{n} bytes"),
        Unit::None => n,
    }
}

pub fn kpi_label(id: &str, subject: Option<&str>, c: &Catalog) -> String {
    let label = c
        .get(&format!("compare.kpi.{id}"))
        .map_or_else(|| id.to_owned(), str::to_owned);
    match subject {
        Some(s) => format!("{label} ({s})"),
        None => label,
    }
}

/// `metric = observed (> threshold)`.
pub fn evidence_line(e: &Evidence) -> String {
    match &e.threshold {
        Some(t) => format!("{} = {} ({t})", e.metric, e.observed),
        None => format!("{} = {}", e.metric, e.observed),
    }
}

fn findings_lines(findings: &[FindingEvidence], out: &mut String) {
    for f in findings {
        let evidence: Vec<String> = f.evidence.iter().take(4).map(evidence_line).collect();
        let _ = writeln!(out, "      {}: {}", f.finding, evidence.join("; "));
    }
}

/// One reason, in words, with its evidence on the lines below.
pub fn reason(r: &Reason, c: &Catalog, out: &mut String) {
    let text = c.text(&format!("case.reason.{}", r.id()));
    match r {
        Reason::StepRegressed { step, findings } => {
            let _ = writeln!(out, "  - {}", text.replace("{step}", step));
            findings_lines(findings, out);
        }
        Reason::KpiLost { kpi } | Reason::KpiRegressed { kpi } => {
            let v = |x: f64| kpi_value(x, kpi.unit);
            let unknown = || "?".to_owned();
            let _ = writeln!(
                out,
                "  - {}",
                text.replace("{kpi}", &kpi_label(&kpi.id, kpi.subject.as_deref(), c))
                    .replace("{diagnosis}", &kpi.diagnosis.map_or_else(unknown, v))
                    .replace("{baseline}", &v(kpi.baseline))
                    .replace("{recheck}", &v(kpi.recheck))
                    .replace("{noise}", &kpi.noise.map_or_else(unknown, v))
            );
        }
        Reason::NewHeavyQuery { query } => {
            let _ = writeln!(
                out,
                "  - {}",
                text.replace("{share}", &format!("{:.1}", query.share_pct))
                    .replace("{target}", query.target.as_deref().unwrap_or(&query.source))
            );
            let _ = writeln!(out, "      {}", query.text);
        }
        Reason::StepNotVerified { step } => {
            let _ = writeln!(out, "  - {}", text.replace("{step}", step));
        }
        Reason::RecheckFailed { at, error } => {
            let _ = writeln!(
                out,
                "  - {}",
                text.replace("{date}", &minute(*at))
                    .replace("{error}", error)
            );
        }
        Reason::NoRecheck => {
            let _ = writeln!(out, "  - {text}");
        }
    }
}

fn state_word(state: StepState, c: &Catalog, paint: Paint) -> String {
    let word = c.text(&format!("case.state.{}", state_id(state)));
    match state {
        StepState::Regressed => paint.severity("critical", &word),
        StepState::Verified => paint.bold(&word),
        _ => word,
    }
}

fn status_word(status: Status, c: &Catalog, paint: Paint) -> String {
    let word = c.text(&format!("case.status.{}", status.id()));
    match status {
        Status::Breached => paint.severity("critical", &word),
        Status::AtRisk => paint.severity("warning", &word),
        _ => paint.bold(&word),
    }
}

pub fn verdict_word(v: Verdict, c: &Catalog, paint: Paint) -> String {
    let word = c.text(&format!("case.verdict.{}", v.id()));
    match v {
        Verdict::Breached | Verdict::Failed => paint.severity("critical", &word),
        Verdict::AtRisk => paint.severity("warning", &word),
        Verdict::Holding => word,
    }
}

/// The window in one line: dates, days left, ends soon or ended.
pub fn window_line(s: &CaseStatus, c: &Catalog) -> String {
    let (Some(o), Some(phase)) = (&s.optimization, s.guarantee.phase) else {
        return c.text("case.window.not_optimized");
    };
    let key = match phase {
        Phase::NotOpen => "not_open",
        Phase::Open => "open",
        Phase::EndsSoon => "ends_soon",
        Phase::Closed => "closed",
    };
    c.text(&format!("case.window.{key}"))
        .replace("{from}", &day(o.at))
        .replace("{until}", &day(o.until))
        .replace("{days}", &s.guarantee.days_left.unwrap_or(0).to_string())
}

fn kpi_row(k: &KpiTrend, c: &Catalog, paint: Paint, out: &mut String) {
    let v = |x: Option<f64>| x.map_or_else(|| "–".to_owned(), |x| kpi_value(x, k.unit));
    let mut points: Vec<String> = Vec::new();
    for p in &k.rechecks {
        let mut text = kpi_value(p.mean, k.unit);
        if !p.in_window {
            text = format!("({text})");
        }
        points.push(match p.direction {
            ChangeDirection::Worse => paint.severity("critical", &format!("{text}↑")),
            ChangeDirection::Better => format!("{text}↓"),
            ChangeDirection::Unchanged => text,
        });
    }
    let _ = writeln!(
        out,
        "  {} {} → {} → {}",
        pad(&kpi_label(&k.id, k.subject.as_deref(), c), 40),
        v(k.diagnosis),
        v(k.baseline),
        if points.is_empty() {
            "–".to_owned()
        } else {
            points.join(", ")
        }
    );
}

/// `perfdiag case status` in the terminal.
pub fn status(s: &CaseStatus, c: &Catalog, paint: Paint) -> String {
    let mut out = String::new();
    let t = |key: &str| c.text(&format!("case.{key}"));
    let none = t("not_given");
    let field = |v: &Option<String>| v.clone().unwrap_or_else(|| none.clone());
    let _ = writeln!(
        out,
        "{}: {} — {}",
        paint.bold(&t("title")),
        field(&s.customer),
        field(&s.system)
    );
    let _ = writeln!(out, "  {}: {}", t("engineer"), field(&s.engineer));
    let _ = writeln!(out, "  {}: {}", t("folder"), s.folder);
    let _ = writeln!(
        out,
        "  {}: {}",
        t("host"),
        s.host
            .as_ref()
            .map_or_else(|| none.clone(), |h| h.hostname.clone())
    );
    let count = |role: Role| s.snapshots.iter().filter(|x| x.role == role).count();
    if s.snapshots.is_empty() {
        let _ = writeln!(out, "  {}: {}", t("snapshots"), t("no_snapshot"));
    } else {
        let _ = writeln!(
            out,
            "  {}: {} {}, {} {}, {} {}",
            t("snapshots"),
            count(Role::Diagnosis),
            t("role.diagnosis"),
            count(Role::Baseline),
            t("role.baseline"),
            count(Role::Recheck),
            t("role.recheck"),
        );
    }

    let _ = writeln!(out, "\n{}", paint.bold(&t("plan")));
    match &s.plan {
        None => {
            let _ = writeln!(out, "  {}", t("no_plan"));
        }
        Some(p) => {
            let _ = writeln!(
                out,
                "  {}",
                t("plan_from")
                    .replace("{folder}", &p.folder)
                    .replace("{snapshot}", &p.snapshot)
                    .replace("{date}", &day(p.made_at))
            );
            let _ = writeln!(
                out,
                "  {} {}, {} {}, {} {}, {} {}",
                p.verified,
                c.text("case.state.verified"),
                p.regressed,
                c.text("case.state.regressed"),
                p.applied,
                c.text("case.state.applied"),
                p.proposed,
                c.text("case.state.proposed"),
            );
            for step in &p.steps {
                let since = step.since.map(day).unwrap_or_default();
                let _ = writeln!(
                    out,
                    "  {:>2}  {} {} {since}",
                    step.number,
                    pad(&step.id, 44),
                    pad(&state_word(step.state, c, paint), 12),
                );
            }
        }
    }

    let _ = writeln!(out, "\n{}", paint.bold(&t("guarantee")));
    let _ = writeln!(out, "  {}: {}", t("window.label"), window_line(s, c));
    let mut status = status_word(s.guarantee.status, c, paint);
    if s.guarantee.ended {
        status = format!("{status} {}", t("final"));
    }
    let _ = writeln!(out, "  {}: {status}", t("status.label"));
    for r in &s.guarantee.reasons {
        reason(r, c, &mut out);
    }
    // What a re-check after the window found: shown, but outside the guarantee.
    if let Some(last) = s.rechecks.iter().rfind(|r| r.verdict != Verdict::Failed)
        && !last.in_window
        && !last.reasons.is_empty()
    {
        let _ = writeln!(out, "  {}:", t("after_window"));
        for r in &last.reasons {
            reason(r, c, &mut out);
        }
    }

    if !s.kpis.is_empty() {
        let _ = writeln!(out, "\n{}", paint.bold(&t("kpis")));
        for k in &s.kpis {
            kpi_row(k, c, paint, &mut out);
        }
    }

    let _ = writeln!(out, "\n{}", paint.bold(&t("rechecks")));
    if s.rechecks.is_empty() {
        let _ = writeln!(out, "  {}", t("no_recheck"));
    }
    for r in &s.rechecks {
        let mut line = format!(
            "  {}  {}",
            minute(r.at),
            pad(&verdict_word(r.verdict, c, paint), 12)
        );
        if !r.in_window {
            line.push_str(&format!(" ({})", t("out_of_window")));
        }
        if let Some(e) = &r.error {
            line.push_str(&format!(" {e}"));
        } else if let Some(f) = &r.snapshot {
            line.push_str(&format!(" {f}"));
        }
        let _ = writeln!(out, "{line}");
    }

    let _ = writeln!(out, "\n{}", paint.bold(&t("confirmation")));
    match &s.confirmation {
        Some(conf) => {
            let _ = writeln!(
                out,
                "  {}",
                t("confirmed")
                    .replace("{by}", &conf.by)
                    .replace("{date}", &day(conf.at))
            );
        }
        None => {
            let _ = writeln!(out, "  {}", t("not_confirmed"));
        }
    }
    out
}

/// What a re-check prints: its verdict and reasons, the steps it changed, and where
/// the guarantee stands now.
pub fn recheck(
    r: &Recheck,
    changes: &[(String, StepState, StepState)],
    s: &CaseStatus,
    c: &Catalog,
    paint: Paint,
) -> String {
    let mut out = String::new();
    let t = |key: &str| c.text(&format!("case.{key}"));
    let mut head = t("recheck_of").replace("{date}", &minute(r.at));
    if !r.in_window {
        head = format!("{head} ({})", t("out_of_window"));
    }
    let _ = writeln!(
        out,
        "{}: {}",
        paint.bold(&head),
        verdict_word(r.verdict, c, paint)
    );
    for reason_ in &r.reasons {
        reason(reason_, c, &mut out);
    }
    for (step, from, to) in changes {
        let _ = writeln!(
            out,
            "  {} {}: {} → {}",
            t("step"),
            step,
            state_word(*from, c, paint),
            state_word(*to, c, paint)
        );
    }
    if let Some(p) = &s.plan {
        let _ = writeln!(
            out,
            "  {}: {} {}, {} {}, {} {}, {} {}",
            t("plan"),
            p.verified,
            c.text("case.state.verified"),
            p.regressed,
            c.text("case.state.regressed"),
            p.applied,
            c.text("case.state.applied"),
            p.proposed,
            c.text("case.state.proposed"),
        );
    }
    let _ = writeln!(out, "  {}: {}", t("window.label"), window_line(s, c));
    let _ = writeln!(
        out,
        "  {}: {}",
        t("status.label"),
        status_word(s.guarantee.status, c, paint)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::progress::{FindingKey, KpiEvidence, QueryEvidence};
    use crate::report::Lang;

    /// Every reason, state, status, verdict and window phase has its words in both
    /// languages (a missing key would print as `[[key]]`).
    #[test]
    fn every_word_of_the_case_view_is_in_both_catalogs() {
        let kpi = KpiEvidence {
            id: "host_cpu.busy_pct.mean".into(),
            subject: None,
            unit: Unit::Percent,
            higher_is_better: false,
            diagnosis: Some(71.0),
            baseline: 38.0,
            recheck: 75.5,
            change: 37.5,
            noise: Some(2.0),
        };
        let reasons = [
            Reason::StepRegressed {
                step: "pg.config.work_mem".into(),
                findings: vec![FindingEvidence {
                    finding: FindingKey {
                        rule: "pg.temp.spills".into(),
                        subject: None,
                    },
                    evidence: vec![],
                }],
            },
            Reason::KpiLost { kpi: kpi.clone() },
            Reason::KpiRegressed { kpi },
            Reason::NewHeavyQuery {
                query: QueryEvidence {
                    source: "pg_statements".into(),
                    target: None,
                    id: "1".into(),
                    text: "SELECT ?".into(),
                    share_pct: 12.5,
                    mean_ms: None,
                    calls_per_s: None,
                },
            },
            Reason::StepNotVerified { step: "x".into() },
            Reason::RecheckFailed {
                at: Utc::now(),
                error: "boom".into(),
            },
            Reason::NoRecheck,
        ];
        for lang in [Lang::En, Lang::ZhCn] {
            let c = Catalog::load(lang).unwrap();
            let mut out = String::new();
            for r in &reasons {
                reason(r, &c, &mut out);
            }
            assert!(
                !out.contains('{'),
                "{lang:?}: a placeholder is left:\n{out}"
            );
            assert!(out.contains("71.0 %") && out.contains("12.5 %"), "{out}");
            let paint = Paint::for_stdout();
            for state in [
                StepState::Proposed,
                StepState::Applied,
                StepState::Verified,
                StepState::Regressed,
            ] {
                out.push_str(&state_word(state, &c, paint));
            }
            for status in [
                Status::NotStarted,
                Status::Holding,
                Status::AtRisk,
                Status::Breached,
            ] {
                out.push_str(&status_word(status, &c, paint));
            }
            for v in [
                Verdict::Holding,
                Verdict::AtRisk,
                Verdict::Breached,
                Verdict::Failed,
            ] {
                out.push_str(&verdict_word(v, &c, paint));
            }
            for key in [
                "window.not_optimized",
                "window.not_open",
                "window.open",
                "window.ends_soon",
                "window.closed",
                "role.diagnosis",
                "role.baseline",
                "role.recheck",
            ] {
                out.push_str(&c.text(&format!("case.{key}")));
            }
            assert!(
                !out.contains("[["),
                "{lang:?}: a catalog key is missing:\n{out}"
            );
        }
    }
}
