//! The HTML report: one self-contained file (inline CSS and SVG, no scripts, no
//! network), rendered from the report model with the minijinja templates in
//! `report-templates/html/`. Everything from the snapshot is escaped by the template
//! engine; only our own CSS and charts are inserted raw.

use anyhow::{Context, Result};
use minijinja::value::Serde;
use minijinja::{AutoEscape, Environment, Value, context};

use super::charts::{self, CPU_COLOURS};
use super::i18n::Catalog;
use super::model::Report;

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        [$(($name, include_str!(concat!("../../report-templates/html/", $name)))),*]
    };
}

pub(crate) const TEMPLATES: [(&str, &str); 15] = templates!(
    "report.html.j2",
    "sections/cover.html.j2",
    "sections/summary.html.j2",
    "sections/environment.html.j2",
    "sections/databases.html.j2",
    "sections/resources.html.j2",
    "sections/findings.html.j2",
    "sections/sessions.html.j2",
    "sections/statements.html.j2",
    "sections/sql.html.j2",
    "sections/plan.html.j2",
    "sections/gaps.html.j2",
    "sections/collection.html.j2",
    "sections/appendix.html.j2",
    "sections/confirmation.html.j2",
);
pub(crate) const CSS: &str = include_str!("../../report-templates/html/style.css");

pub fn render(report: &Report, catalog: &Catalog) -> Result<String> {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .with_context(|| format!("report template {name}"))?;
    }
    let catalog = catalog.clone();
    env.add_function("t", move |key: &str| catalog.text(key));
    let cpu_legend: Vec<(&str, String)> = CPU_COLOURS
        .iter()
        .map(|(key, colour)| (*key, charts::hex(*colour)))
        .collect();
    let html = env
        .get_template("report.html.j2")?
        .render(context! {
            r => Value::from(Serde(report)),
            charts => Value::from(Serde(charts::draw(&report.series))),
            cpu_legend => cpu_legend,
            css => CSS,
        })
        .context("rendering the HTML report")?;
    Ok(html)
}
