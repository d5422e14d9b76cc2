//! The PDF report: the report model typeset by typst, used as a library (no browser,
//! no external program), with the templates of `report-templates/typst/` and the
//! fonts embedded in the binary, so Chinese renders on a machine with no CJK font.
//!
//! The templates read the model as JSON (`/model.json`, what `--format json` writes)
//! and the messages of its language (`/messages.json`), never the Rust types: a field
//! the model gains is there for a template to use, and one it lacks reads as absent.

mod fonts;
mod templates;
mod world;

use anyhow::{Context, Result};
use typst::diag::{Severity, SourceDiagnostic};
use typst::{WorldExt, syntax::FileId};
use typst_layout::PagedDocument;
use typst_pdf::PdfOptions;

use super::i18n::Catalog;
use super::model::Report;
use world::ReportWorld;

pub fn render(report: &Report, catalog: &Catalog) -> Result<Vec<u8>> {
    let model = serde_json::to_value(report).context("the report model as JSON")?;
    render_json(&model, catalog)
}

/// The PDF of a report model given as JSON.
pub fn render_json(model: &serde_json::Value, catalog: &Catalog) -> Result<Vec<u8>> {
    compile(
        &templates::ALL,
        templates::MAIN,
        vec![
            ("/model.json", serde_json::to_vec(model)?),
            ("/messages.json", serde_json::to_vec(catalog.messages())?),
        ],
    )
}

/// The PDF of an engagement report (`src/engagement/`) given as JSON: `engagement.typ`
/// reads it from `/engagement.json`; its diagnosis goes in `/model.json`, where the
/// report's own findings, plan and appendix sections read it.
pub fn render_engagement_json(model: &serde_json::Value, catalog: &Catalog) -> Result<Vec<u8>> {
    let diagnosis = model
        .get("diagnosis")
        .filter(|d| d.is_object())
        .cloned()
        .unwrap_or_else(|| serde_json::json!({}));
    let sources: Vec<(&str, &str)> = templates::ALL
        .iter()
        .chain(&templates::ENGAGEMENT)
        .copied()
        .collect();
    compile(
        &sources,
        templates::ENGAGEMENT_MAIN,
        vec![
            ("/model.json", serde_json::to_vec(&diagnosis)?),
            ("/engagement.json", serde_json::to_vec(model)?),
            ("/messages.json", serde_json::to_vec(catalog.messages())?),
        ],
    )
}

fn compile(sources: &[(&str, &str)], main: &str, files: Vec<(&str, Vec<u8>)>) -> Result<Vec<u8>> {
    let world = ReportWorld::new(sources, main, files, fonts::all())?;
    let compiled = typst::compile::<PagedDocument>(&world);
    // A font the templates name and the binary lacks only warns and prints boxes:
    // for a report a customer signs, that is a failure.
    let (font_warnings, others): (Vec<_>, Vec<_>) = compiled
        .warnings
        .iter()
        .partition(|w| w.message.contains("font"));
    for warning in others {
        eprintln!("warning: PDF report: {}", describe(&world, warning));
    }
    let document = compiled
        .output
        .map_err(|errors| diagnostics(&world, "typesetting the PDF report", &errors))?;
    if !font_warnings.is_empty() {
        return Err(diagnostics(
            &world,
            "typesetting the PDF report",
            &font_warnings.into_iter().cloned().collect::<Vec<_>>(),
        ));
    }
    let options = PdfOptions {
        creator: typst::foundations::Smart::Custom(Some(format!(
            "perfdiag {}",
            env!("CARGO_PKG_VERSION")
        ))),
        ..PdfOptions::default()
    };
    typst_pdf::pdf(&document, &options)
        .map_err(|errors| diagnostics(&world, "writing the PDF report", &errors))
}

fn diagnostics(world: &ReportWorld, what: &str, list: &[SourceDiagnostic]) -> anyhow::Error {
    let lines: Vec<String> = list.iter().map(|d| describe(world, d)).collect();
    if lines.is_empty() {
        return anyhow::anyhow!("{what} failed");
    }
    anyhow::anyhow!("{what}:\n  {}", lines.join("\n  "))
}

/// `sections/plan.typ:12:5: error: message (hint: …)`, as typst's CLI would say it.
fn describe(world: &ReportWorld, d: &SourceDiagnostic) -> String {
    let severity = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let place = d
        .span
        .id()
        .and_then(|id| Some((id, world.range(d.span)?)))
        .and_then(|(id, range)| place(world, id, range.start))
        .map(|p| format!("{p}: "))
        .unwrap_or_default();
    let hints: String = d
        .hints
        .iter()
        .map(|h| format!(" (hint: {})", h.v))
        .collect();
    format!("{place}{severity}: {}{hints}", d.message)
}

fn place(world: &ReportWorld, id: FileId, byte: usize) -> Option<String> {
    let source = world.source_of(id)?;
    let (line, column) = source.lines().byte_to_line_column(byte)?;
    let path = id.vpath().get_without_slash();
    Some(format!(
        "{}{path}:{}:{}",
        templates::DIR,
        line + 1,
        column + 1
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Lang;

    /// The templates read every field as optional: a model with none of them (an
    /// older or newer schema, a section the engineer removed) still makes a PDF.
    #[test]
    fn an_empty_model_still_renders() {
        for lang in [Lang::En, Lang::ZhCn] {
            let pdf = render_json(&serde_json::json!({}), &Catalog::load(lang).unwrap()).unwrap();
            assert!(pdf.starts_with(b"%PDF-"));
        }
    }

    /// Each chart's branches (drawn, left out with a sentence) typeset: a template
    /// error there would only show on a customer's data.
    #[test]
    fn partial_series_still_render() {
        let cpu = serde_json::json!([
            {"t": 0.0, "user": 20.0, "system": 5.0, "iowait": 1.0, "steal": 0.0},
            {"t": 1.0, "user": 30.0, "system": 5.0, "iowait": 2.0, "steal": 0.0},
        ]);
        let line = |name: &str, v: f64| serde_json::json!([name, [[0.0, v], [1.0, v * 2.0]]]);
        let db = |target: &str| {
            serde_json::json!({"target": target, "product": "PostgreSQL 16", "settings": [],
                "db_time": [{"wait_class": "CPU", "aas": "1", "share_pct": 100.0, "share": "100 %"}]})
        };
        let models = [
            // CPU only: no disk latency, no network; database time charted without
            // the assessment's table, and a database with neither.
            serde_json::json!({
                "series": {"cpu": cpu, "db_time": [
                    {"target": "pg3", "engine": "postgres", "classes": ["IO"],
                     "points": [{"t": 0.0, "aas": [0.2]}, {"t": 1.0, "aas": [0.4]}]},
                ]},
                "databases": [{"target": "pg3", "db_time": []}, {"target": "pg4"}],
            }),
            // Latency of a disk with no utilisation line, traffic without errors, a
            // target whose sessions were not charted.
            serde_json::json!({
                "series": {
                    "disk_await_ms": [line("nvme0n1", 0.4)],
                    "net_rx_bytes_per_s": [line("eth0", 3e9)],
                    "net_tx_bytes_per_s": [],
                },
                "databases": [db("pg1")],
            }),
            // Everything, with a wait class the palette does not name and a single
            // point of database time for another target.
            serde_json::json!({
                "series": {
                    "cpu": cpu,
                    "disk_util_pct": [line("sda", 10.0)],
                    "disk_await_ms": [line("sda", 3.0)],
                    "net_rx_bytes_per_s": [line("eth0", 500.0), line("eth1", 100.0)],
                    "net_tx_bytes_per_s": [line("eth0", 900.0), line("eth1", 0.0)],
                    "net_errors_per_s": [line("eth1", 0.01)],
                    "db_time": [
                        {"target": "pg1", "engine": "postgres", "classes": ["Lock", "Extension", "Odd"],
                         "points": [{"t": 0.0, "aas": [1.0, 0.5, 0.25]}, {"t": 3.0, "aas": [0.0, 2.0, 0.0]}]},
                        {"target": "pg2", "engine": "postgres", "classes": ["CPU"],
                         "points": [{"t": 0.0, "aas": [1.0]}]},
                    ],
                },
                "databases": [db("pg1"), db("pg2")],
            }),
        ];
        for model in models {
            for lang in [Lang::En, Lang::ZhCn] {
                let pdf = render_json(&model, &Catalog::load(lang).unwrap())
                    .unwrap_or_else(|e| panic!("{model}: {e:#}"));
                assert!(pdf.starts_with(b"%PDF-"));
            }
        }
    }

    #[test]
    fn an_empty_engagement_model_still_renders() {
        for lang in [Lang::En, Lang::ZhCn] {
            let pdf = render_engagement_json(&serde_json::json!({}), &Catalog::load(lang).unwrap())
                .unwrap();
            assert!(pdf.starts_with(b"%PDF-"));
        }
    }

    #[test]
    fn a_template_error_names_the_file_and_line() {
        let world = ReportWorld::new(
            &[("/report.typ", "#let x = 1\n#undefined-thing")],
            "/report.typ",
            vec![],
            fonts::all(),
        )
        .unwrap();
        let errors = typst::compile::<PagedDocument>(&world).output.unwrap_err();
        let text = diagnostics(&world, "typesetting", &errors).to_string();
        assert!(
            text.contains("report-templates/typst/report.typ:2:2: error: unknown variable"),
            "{text}"
        );
    }
}
