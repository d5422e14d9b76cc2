//! The terminal view of a comparison (`perfdiag analyze AFTER --against BEFORE`):
//! what regressed first, then what improved, new and resolved findings, and queries.
//! Only changes are listed; what stayed within the noise is counted, not shown.

use perfdiag_model::comparison::Comparison;
use perfdiag_model::{
    ChangeDirection, ComparisonWarning, FindingChange, FindingStatus, KpiChange, QueryChange,
    QueryStatus, Severity, SnapshotIdentity, Unit, Value,
};

use crate::output;
use crate::report::Catalog;
use crate::report::format;
use crate::terminal::pad;

fn time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

fn side(s: &SnapshotIdentity) -> String {
    let secs = (s.ended_at - s.started_at).num_milliseconds() as f64 / 1000.0;
    format!(
        "{} {} ({})",
        s.hostname,
        time(s.started_at),
        format::duration(secs)
    )
}

fn score(s: Option<u8>, c: &Catalog) -> String {
    s.map_or_else(|| c.text("summary.not_scored"), |s| s.to_string())
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Info => "info",
        Severity::Warning => "warning",
        Severity::Critical => "critical",
    }
}

/// A KPI value in its unit, in the catalog's words.
fn value(v: f64, unit: Unit, c: &Catalog) -> String {
    format::value(&Value::number(v, unit), c)
}

/// A signed change: `+12 points` (of a percentage), `-22 ms`.
fn signed(v: f64, unit: Unit, c: &Catalog) -> String {
    let sign = if v > 0.0 {
        "+"
    } else if v < 0.0 {
        "-"
    } else {
        ""
    };
    let size = match unit {
        Unit::Percent => format!(
            "{} {}",
            format::number(v.abs(), 1),
            c.text("compare.points")
        ),
        _ => value(v.abs(), unit, c),
    };
    format!("{sign}{size}")
}

fn kpi_line(k: &KpiChange, c: &Catalog) -> String {
    let mut label = c.text(&format!("compare.kpi.{}", k.id));
    if let Some(s) = &k.subject {
        label = format!("{label} ({s})");
    }
    let noise = k
        .noise
        .map(|n| format!("  ({} ±{})", c.text("compare.noise"), value(n, k.unit, c)))
        .unwrap_or_default();
    format!(
        "  {} {} → {}  {}{noise}\n",
        pad(&label, 36),
        value(k.before.mean, k.unit, c),
        value(k.after.mean, k.unit, c),
        signed(k.change, k.unit, c),
    )
}

fn finding_line(f: &FindingChange, c: &Catalog) -> String {
    let title = c.text(&format!("rule.{}.title", f.rule_id));
    let subject = f
        .subject
        .as_deref()
        .map(|s| format!(" ({s})"))
        .unwrap_or_default();
    let sev = |s: Option<Severity>| {
        s.map(|s| c.text(&format!("severity.{}", severity(s))))
            .unwrap_or_else(|| "—".to_owned())
    };
    let severity = match f.status {
        FindingStatus::New => sev(f.severity_after),
        FindingStatus::Resolved => sev(f.severity_before),
        _ => format!("{} → {}", sev(f.severity_before), sev(f.severity_after)),
    };
    let evidence = match (&f.evidence_before, &f.evidence_after) {
        (Some(b), Some(a)) => format!(
            " — {}: {} → {}",
            a.metric,
            format::value(&b.observed, c),
            format::value(&a.observed, c)
        ),
        (None, Some(e)) | (Some(e), None) => {
            format!(" — {} = {}", e.metric, format::value(&e.observed, c))
        }
        (None, None) => String::new(),
    };
    format!("  [{severity}] {title}{subject}{evidence}\n")
}

fn query_line(q: &QueryChange, c: &Catalog) -> String {
    let ms = |v: Option<f64>| v.map_or_else(|| "—".to_owned(), |v| value(v, Unit::Milliseconds, c));
    let where_ = q
        .target
        .as_deref()
        .map_or_else(|| q.source.clone(), |t| format!("{} {t}", q.source));
    let numbers = match (q.before, q.after) {
        (Some(b), Some(a)) => format!(
            "{} {} → {}",
            c.text("compare.mean"),
            ms(b.mean_ms),
            ms(a.mean_ms)
        ),
        (None, Some(s)) | (Some(s), None) => format!(
            "{} {}, {} {}, {} {}",
            c.text("compare.share"),
            value(s.share_pct, Unit::Percent, c),
            c.text("compare.mean"),
            ms(s.mean_ms),
            c.text("compare.calls_per_s"),
            s.calls_per_s
                .map_or_else(|| "—".to_owned(), |v| format::number(v, 1))
        ),
        (None, None) => String::new(),
    };
    let text: String = q.text.chars().take(70).collect();
    format!("  {} [{where_}] {numbers}\n      {text}\n", q.id)
}

fn warning(w: &ComparisonWarning, c: &Catalog) -> String {
    match w {
        ComparisonWarning::DifferentHost { before, after } => format!(
            "{}: {before} → {after}",
            c.text("compare.warning.different_host")
        ),
        ComparisonWarning::DifferentMachine => c.text("compare.warning.different_machine"),
        ComparisonWarning::AfterIsEarlier => c.text("compare.warning.after_is_earlier"),
    }
}

/// The comparison as text, one section per kind of change; empty sections are left out.
pub fn render(cmp: &Comparison, c: &Catalog) -> String {
    let mut out = format!(
        "{}: {} → {}\n",
        c.text("compare.title"),
        side(&cmp.before),
        side(&cmp.after)
    );
    for w in &cmp.warnings {
        out += &format!("{}: {}\n", c.text("compare.warning.label"), warning(w, c));
    }
    out += &format!(
        "{}: {} → {}\n",
        c.text("summary.overall"),
        score(cmp.overall.before, c),
        score(cmp.overall.after, c)
    );
    for s in cmp.scores.iter().filter(|s| s.before != s.after) {
        out += &format!(
            "  {} {:>3} → {}\n",
            pad(&c.text(&format!("dimension.{}", s.dimension.id())), 24),
            score(s.before, c),
            score(s.after, c)
        );
    }

    let kpis = |d: ChangeDirection| cmp.kpis.iter().filter(move |k| k.direction == d);
    // A titled list, left out when empty.
    let section = |out: &mut String, key: &str, lines: Vec<String>| {
        if !lines.is_empty() {
            *out += &format!("\n{}:\n", c.text(key));
            lines.iter().for_each(|l| *out += l);
        }
    };
    section(
        &mut out,
        "compare.regressions",
        kpis(ChangeDirection::Worse)
            .map(|k| kpi_line(k, c))
            .collect(),
    );
    section(
        &mut out,
        "compare.improvements",
        kpis(ChangeDirection::Better)
            .map(|k| kpi_line(k, c))
            .collect(),
    );
    let unchanged = kpis(ChangeDirection::Unchanged).count();
    if unchanged > 0 {
        out += &format!("\n{}: {unchanged}\n", c.text("compare.unchanged"));
    }
    section(
        &mut out,
        "compare.wait_classes",
        cmp.wait_classes
            .iter()
            .filter(|w| w.aas_before > 0.0 || w.aas_after > 0.0)
            .map(|w| {
                format!(
                    "  {} {} {} → {}  {}\n",
                    w.target,
                    pad(&w.wait_class, 10),
                    format::number(w.aas_before, 2),
                    format::number(w.aas_after, 2),
                    signed(w.change, Unit::None, c)
                )
            })
            .collect(),
    );
    let findings = |s: FindingStatus| -> Vec<String> {
        cmp.findings
            .iter()
            .filter(|f| f.status == s)
            .map(|f| finding_line(f, c))
            .collect()
    };
    section(
        &mut out,
        "compare.new_findings",
        findings(FindingStatus::New),
    );
    section(
        &mut out,
        "compare.worse_findings",
        findings(FindingStatus::Worse),
    );
    section(
        &mut out,
        "compare.resolved_findings",
        findings(FindingStatus::Resolved),
    );
    section(
        &mut out,
        "compare.better_findings",
        findings(FindingStatus::Better),
    );
    let queries = |s: QueryStatus, heavy_only: bool| -> Vec<String> {
        cmp.queries
            .iter()
            .filter(|q| q.status == s && (q.heavy || !heavy_only))
            .map(|q| query_line(q, c))
            .collect()
    };
    section(
        &mut out,
        "compare.new_queries",
        queries(QueryStatus::New, true),
    );
    section(
        &mut out,
        "compare.vanished_queries",
        queries(QueryStatus::Vanished, true),
    );
    section(
        &mut out,
        "compare.regressed_queries",
        queries(QueryStatus::Regressed, false),
    );
    section(
        &mut out,
        "compare.improved_queries",
        queries(QueryStatus::Improved, false),
    );

    out += &format!(
        "\n{}\n",
        c.text(if cmp.has_regression() {
            "compare.verdict_regression"
        } else {
            "compare.verdict_ok"
        })
    );
    out
}

pub fn print(cmp: &Comparison, c: &Catalog) {
    output::print(&render(cmp, c));
}

#[cfg(test)]
mod tests {
    use perfdiag_model::{
        Dimension, DimensionScoreChange, FindingChange, KpiSide, QueryStats, ScoreChange,
        WaitClassChange,
    };

    use super::*;
    use crate::report::Lang;

    fn identity(hostname: &str, day: u32) -> SnapshotIdentity {
        use chrono::TimeZone;
        let start = chrono::Utc
            .with_ymd_and_hms(2026, 11, day, 9, 0, 0)
            .single()
            .unwrap();
        SnapshotIdentity {
            hostname: hostname.to_owned(),
            machine_id: None,
            started_at: start,
            ended_at: start + chrono::Duration::minutes(10),
            interval_ms: 1000,
            tool_version: "0.1.0".to_owned(),
        }
    }

    fn kpi(
        id: &str,
        subject: Option<&str>,
        before: f64,
        after: f64,
        d: ChangeDirection,
    ) -> KpiChange {
        let side = |mean| KpiSide {
            mean,
            samples: 600,
            std_error: Some(0.5),
        };
        KpiChange {
            id: id.to_owned(),
            subject: subject.map(str::to_owned),
            unit: Unit::Percent,
            higher_is_better: false,
            before: side(before),
            after: side(after),
            change: after - before,
            change_pct: Some((after - before) * 100.0 / before),
            noise: Some(2.1),
            min_change: 2.0,
            beyond_noise: d != ChangeDirection::Unchanged,
            direction: d,
        }
    }

    fn query(id: &str, status: QueryStatus, heavy: bool, mean: (f64, f64)) -> QueryChange {
        let stats = |mean_ms| QueryStats {
            calls: 1000.0,
            calls_per_s: Some(1.7),
            mean_ms: Some(mean_ms),
            total_ms: mean_ms * 1000.0,
            share_pct: if heavy { 20.0 } else { 1.0 },
        };
        QueryChange {
            source: "pg_statements".to_owned(),
            target: Some("pg://db1/erp".to_owned()),
            id: id.to_owned(),
            text: format!("SELECT * FROM t{id} WHERE id = $1"),
            status,
            heavy,
            before: (status != QueryStatus::New).then(|| stats(mean.0)),
            after: (status != QueryStatus::Vanished).then(|| stats(mean.1)),
        }
    }

    fn comparison() -> Comparison {
        Comparison {
            generated_at: chrono::Utc::now(),
            tool_version: "0.1.0".to_owned(),
            baseline: "builtin".to_owned(),
            before: identity("db1", 2),
            after: identity("db1-new", 9),
            warnings: vec![ComparisonWarning::DifferentHost {
                before: "db1".to_owned(),
                after: "db1-new".to_owned(),
            }],
            overall: ScoreChange {
                before: Some(70),
                after: Some(85),
            },
            scores: vec![DimensionScoreChange {
                dimension: Dimension::OsConfig,
                before: Some(50),
                after: Some(90),
            }],
            kpis: vec![
                kpi(
                    "host_cpu.busy_pct.mean",
                    None,
                    35.0,
                    75.0,
                    ChangeDirection::Worse,
                ),
                kpi(
                    "host_disk.util_pct.mean",
                    Some("sda"),
                    80.0,
                    20.0,
                    ChangeDirection::Better,
                ),
                kpi(
                    "host_cpu.steal_pct.mean",
                    None,
                    1.0,
                    1.2,
                    ChangeDirection::Unchanged,
                ),
            ],
            wait_classes: vec![WaitClassChange {
                target: "pg://db1/erp".to_owned(),
                engine: "postgres".to_owned(),
                wait_class: "Lock".to_owned(),
                aas_before: 4.0,
                aas_after: 0.5,
                change: -3.5,
            }],
            findings: vec![FindingChange {
                rule_id: "os.thp.enabled".to_owned(),
                dimension: Dimension::OsConfig,
                subject: None,
                status: FindingStatus::Resolved,
                severity_before: Some(Severity::Warning),
                severity_after: None,
                penalty_before: Some(10),
                penalty_after: None,
                evidence_before: None,
                evidence_after: None,
            }],
            queries: vec![
                query("11", QueryStatus::Regressed, true, (10.0, 40.0)),
                query("12", QueryStatus::New, true, (0.0, 5.0)),
                query("13", QueryStatus::New, false, (0.0, 5.0)),
                query("14", QueryStatus::Vanished, true, (9.0, 0.0)),
            ],
        }
    }

    #[test]
    fn changes_are_listed_by_kind_and_light_new_queries_are_left_out() {
        let c = Catalog::load(Lang::En).unwrap();
        let text = render(&comparison(), &c);
        let regressions = text.find("Regressions (beyond the noise):").expect(&text);
        let improvements = text.find("Improvements (beyond the noise):").expect(&text);
        assert!(regressions < improvements, "{text}");
        for needle in [
            "Warning: the snapshots are of different hosts: db1 → db1-new",
            "Overall score: 70 → 85",
            "CPU busy (mean)",
            "35 % → 75 %  +40 points",
            "Disk utilisation (mean) (sda)",
            "Indicators within the noise (unchanged): 1",
            "pg://db1/erp Lock       4 → 0.5  -3.5",
            "Resolved findings:",
            "[Warning] Transparent huge pages",
            "Regressed queries:",
            "mean 10 ms → 40 ms",
            "New heavy queries:",
            "Vanished heavy queries:",
            "Verdict: regressions found.",
        ] {
            assert!(text.contains(needle), "{needle:?} not in:\n{text}");
        }
        assert!(text.contains("  12 [pg_statements pg://db1/erp]"), "{text}");
        assert!(
            !text.contains("  13 ["),
            "a light new query is not listed:\n{text}"
        );
        assert!(!text.contains("[["), "{text}");
    }

    #[test]
    fn every_kpi_has_a_label_in_every_language() {
        for lang in [Lang::En, Lang::ZhCn] {
            let c = Catalog::load(lang).unwrap();
            for id in perfdiag_analyzers::kpi_ids() {
                assert!(
                    c.get(&format!("compare.kpi.{id}")).is_some(),
                    "{lang:?}: no label for KPI {id}"
                );
            }
        }
    }
}
