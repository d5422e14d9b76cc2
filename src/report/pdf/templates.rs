//! The typst templates of the PDF report, embedded in the binary. One file a section,
//! under `report-templates/typst/`, so a consultant can adjust one section without
//! touching code; `report.typ` puts them in order.

/// Where the templates live in the source tree (named in error messages).
pub const DIR: &str = "report-templates/typst/";

pub const MAIN: &str = "/report.typ";

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        [$((concat!("/", $name), include_str!(concat!("../../../report-templates/typst/", $name)))),*]
    };
}

pub const ALL: [(&str, &str); 17] = templates!(
    "report.typ",
    "lib.typ",
    "charts.typ",
    "sections/cover.typ",
    "sections/summary.typ",
    "sections/environment.typ",
    "sections/databases.typ",
    "sections/resources.typ",
    "sections/findings.typ",
    "sections/sessions.typ",
    "sections/statements.typ",
    "sections/sql.typ",
    "sections/plan.typ",
    "sections/gaps.typ",
    "sections/collection.typ",
    "sections/appendix.typ",
    "sections/confirmation.typ",
);

pub const ENGAGEMENT_MAIN: &str = "/engagement.typ";

/// The engagement report's own templates; it reuses [`ALL`]'s lib, charts and the
/// findings and plan sections.
pub const ENGAGEMENT: [(&str, &str); 2] = templates!("engagement.typ", "sections/engagement.typ",);
