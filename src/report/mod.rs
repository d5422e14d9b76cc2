//! Reports: the report model, its message catalogs, and the renderers.

pub mod bottleneck;
pub mod charts;
pub mod columns;
pub mod cover;
pub mod databases;
pub mod db_time;
pub mod findings;
pub mod format;
pub mod html;
pub mod i18n;
pub mod key_steps;
pub mod model;
pub mod pdf;
pub mod plan;
pub mod probes;
pub mod series;
pub mod sessions;
pub mod statements;

pub use cover::Engagement;
pub use i18n::{Catalog, Lang};
pub use model::Report;
