//! The terminal summary printed after a collection or a diagnosis.

use perfdiag_model::Snapshot;

use crate::output;
use crate::report::{Catalog, Report};
use crate::terminal::{Paint, pad};

/// One line per probe that did not simply succeed, so problems are not missed.
pub fn print_probes(snapshot: &Snapshot) {
    for p in &snapshot.manifest().probes {
        if !p.status.is_complete() {
            eprintln!(
                "probe {}: {}{}{}",
                p.id,
                p.status,
                p.message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default(),
                p.hint
                    .as_deref()
                    .map(|h| format!(" ({h})"))
                    .unwrap_or_default()
            );
        }
    }
}

/// Findings and steps shown in the terminal; the rest are in the report.
const TOP_FINDINGS: usize = 10;
const TOP_STEPS: usize = 5;

/// Scores, the primary bottleneck, the most severe findings and the first plan steps,
/// coloured when standard output is a terminal.
pub fn print_assessment(report: &Report, c: &Catalog) {
    output::print(&assessment(report, c, Paint::for_stdout()));
}

fn assessment(report: &Report, c: &Catalog, paint: Paint) -> String {
    let mut out = String::new();
    let overall = report.overall.map_or_else(
        || c.text("summary.not_scored"),
        |s| paint.score(s, &s.to_string()),
    );
    out += &format!("{}: {overall}\n", paint.bold(&c.text("summary.overall")));
    for s in &report.scores {
        if let Some(score) = s.score {
            let shown = paint.score(score, &format!("{score:>3}"));
            out += &format!("  {} {shown}\n", pad(&s.label, 24));
        }
    }
    if let Some(p) = &report.primary {
        out += &format!(
            "{}: {}\n",
            paint.bold(&c.text("summary.primary")),
            p.sentence
        );
    }
    for k in &report.correlations {
        out += &format!("  {}: {}\n", k.title, k.findings.join("; "));
    }
    if report.findings.is_empty() {
        out += &format!("{}\n", c.text("summary.no_findings"));
    }
    for f in report.findings.iter().take(TOP_FINDINGS) {
        let subject = f
            .subject
            .as_deref()
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        let evidence = f
            .evidence
            .first()
            .map(|e| format!(" — {} = {}", e.metric, e.observed))
            .unwrap_or_default();
        let label = paint.severity(&f.severity, &format!("[{}]", f.severity_label));
        out += &format!("  {label} {}{subject}{evidence}\n", f.title);
    }
    out += &more(report.findings.len(), TOP_FINDINGS, c);
    if !report.steps.is_empty() {
        out += &format!("{}:\n", paint.bold(&c.text("section.plan")));
        for s in report.steps.iter().take(TOP_STEPS) {
            out += &format!("  {}. {} [{}]\n", s.number, s.title, s.phase);
        }
        out += &more(report.steps.len(), TOP_STEPS, c);
    }
    out
}

/// "… and N more in the report" when `total` exceeds what was shown.
fn more(total: usize, shown: usize, c: &Catalog) -> String {
    if total <= shown {
        return String::new();
    }
    format!(
        "  {}\n",
        c.text("summary.more")
            .replace("{n}", &(total - shown).to_string())
    )
}
