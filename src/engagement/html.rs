//! The engagement report as one self-contained HTML file: `engagement.html.j2` and its
//! sections, with the single-snapshot report's CSS and its summary, findings and plan
//! sections for the diagnosis (fed the diagnosis as their `r`).

use anyhow::{Context, Result};
use minijinja::value::Serde;
use minijinja::{AutoEscape, Environment, Value, context};

use super::{EngagementReport, chart};
use crate::report::html::{CSS, TEMPLATES};
use crate::report::i18n::Catalog;

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        [$(($name, include_str!(concat!("../../report-templates/html/", $name)))),*]
    };
}

const ENGAGEMENT: [(&str, &str); 7] = templates!(
    "engagement.html.j2",
    "engagement/summary.html.j2",
    "engagement/steps.html.j2",
    "engagement/kpis.html.j2",
    "engagement/regressions.html.j2",
    "engagement/rechecks.html.j2",
    "engagement/confirmation.html.j2",
);

pub fn render(report: &EngagementReport, catalog: &Catalog) -> Result<String> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    for (name, source) in TEMPLATES.iter().chain(&ENGAGEMENT) {
        env.add_template(name, source)
            .with_context(|| format!("report template {name}"))?;
    }
    let catalog = catalog.clone();
    env.add_function("t", move |key: &str| catalog.text(key));
    let window = report.guarantee.from.zip(report.guarantee.until);
    let charts: Vec<Option<String>> = report.kpis.iter().map(|k| chart::draw(k, window)).collect();
    let html = env
        .get_template("engagement.html.j2")?
        .render(context! {
            e => Value::from(Serde(report)),
            r => Value::from(Serde(&report.diagnosis)),
            charts => charts,
            stage_legend => chart::legend(),
            css => CSS,
        })
        .context("rendering the HTML engagement report")?;
    Ok(html)
}
