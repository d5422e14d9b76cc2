//! How each probe fared, and what could not be collected and why: a report must tell
//! "nothing found" from "not looked at".

use perfdiag_model::Manifest;
use serde::Serialize;

use super::i18n::Catalog;

#[derive(Debug, Serialize)]
pub struct ProbeView {
    pub id: String,
    /// The database target the probe ran against; `null` for host probes.
    pub target: Option<String>,
    /// `ok`, `imported`, `partial`, `skipped` or `failed`.
    pub status: String,
    pub status_label: String,
    pub duration_ms: u64,
    /// The reason (skipped), the error (failed) or what is missing (partial).
    pub message: Option<String>,
    /// What to do about it: a privilege to grant, a package to install.
    pub hint: Option<String>,
}

pub fn all(m: &Manifest, c: &Catalog) -> Vec<ProbeView> {
    m.probes
        .iter()
        .map(|p| ProbeView {
            id: p.id.clone(),
            target: p.target.clone(),
            status: p.status.to_string(),
            status_label: c.text(&format!("probe.{}", p.status)),
            duration_ms: p.duration_ms,
            message: p.message.clone(),
            hint: p.hint.clone(),
        })
        .collect()
}

/// The probes that did not collect everything: partial, skipped or failed (an
/// imported part read completely is as complete as a live one).
pub fn not_collected(m: &Manifest, c: &Catalog) -> Vec<ProbeView> {
    m.probes
        .iter()
        .zip(all(m, c))
        .filter(|(p, _)| !p.status.is_complete())
        .map(|(_, view)| view)
        .collect()
}
