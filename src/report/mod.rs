//! Reports: the report model, its message catalogs, and the renderers.

pub mod bottleneck;
pub mod charts;
pub mod databases;
pub mod format;
pub mod html;
pub mod i18n;
pub mod model;

pub use i18n::{Catalog, Lang};
pub use model::Report;
