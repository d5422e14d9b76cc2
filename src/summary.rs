//! The terminal summary printed after a collection or a diagnosis.

use perfdiag_model::{ProbeStatus, Snapshot};

use crate::output;
use crate::report::{Catalog, Report};

/// One line per probe that did not simply succeed, so problems are not missed.
pub fn print_probes(snapshot: &Snapshot) {
    for p in &snapshot.manifest().probes {
        if p.status != ProbeStatus::Ok {
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

/// `text` padded with spaces to `width` terminal columns; CJK characters take two.
fn pad(text: &str, width: usize) -> String {
    let columns: usize = text
        .chars()
        .map(|c| if u32::from(c) >= 0x2E80 { 2 } else { 1 })
        .sum();
    format!("{text}{}", " ".repeat(width.saturating_sub(columns)))
}

pub fn print_assessment(report: &Report, c: &Catalog) {
    let mut out = String::new();
    let overall = report
        .overall
        .map_or_else(|| c.text("summary.not_scored"), |s| s.to_string());
    out += &format!("{}: {overall}\n", c.text("summary.overall"));
    for s in &report.scores {
        if let Some(score) = s.score {
            out += &format!("  {} {score:>3}\n", pad(&s.label, 24));
        }
    }
    if let Some(p) = &report.primary {
        out += &format!("{}: {}\n", c.text("summary.primary"), p.sentence);
    }
    for k in &report.correlations {
        out += &format!("  {}: {}\n", k.title, k.findings.join("; "));
    }
    if report.findings.is_empty() {
        out += &format!("{}\n", c.text("summary.no_findings"));
    }
    for f in &report.findings {
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
        out += &format!("  [{}] {}{subject}{evidence}\n", f.severity_label, f.title);
    }
    if !report.steps.is_empty() {
        out += &format!("{}:\n", c.text("section.plan"));
        for s in &report.steps {
            out += &format!("  {}. {} [{}]\n", s.number, s.title, s.phase);
        }
    }
    output::print(&out);
}
