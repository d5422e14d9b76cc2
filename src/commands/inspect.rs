//! `perfdiag snapshot inspect`: what a snapshot holds, without analysing it.

use std::fmt::Write;
use std::path::Path;

use anyhow::Result;
use perfdiag_model::{Manifest, Snapshot};

use super::Outcome;
use crate::output;

pub fn run(path: &Path, json: bool) -> Result<Outcome> {
    let manifest = Snapshot::read_manifest(path)?;
    if json {
        output::print(&(serde_json::to_string_pretty(&manifest)? + "\n"));
    } else {
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        output::print(&describe(path, size, &manifest)?);
    }
    Ok(Outcome::Clean)
}

fn describe(path: &Path, size: u64, manifest: &Manifest) -> Result<String, std::fmt::Error> {
    let mut s = String::new();
    let w = &manifest.window;
    let host = &manifest.host;
    writeln!(s, "file        {} ({size} bytes)", path.display())?;
    writeln!(
        s,
        "schema      {} (written by perfdiag {})",
        manifest.schema_version, manifest.tool_version
    )?;
    write!(
        s,
        "host        {} · {} · {}",
        host.hostname, host.os, host.arch
    )?;
    if let Some(kernel) = &host.kernel {
        write!(s, " · kernel {kernel}")?;
    }
    writeln!(
        s,
        "\nwindow      {} → {} ({:.0} s at {} ms{})",
        w.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
        w.ended_at.format("%H:%M:%S"),
        w.duration_secs(),
        w.interval_ms,
        if w.ended_early { ", ended early" } else { "" }
    )?;
    writeln!(s, "\nprobes")?;
    let mut last_target = None;
    for p in &manifest.probes {
        // Database probes are grouped under the server they ran against.
        if p.target.is_some() && p.target != last_target {
            writeln!(s, "  {}", p.target.as_deref().unwrap_or_default())?;
        }
        last_target.clone_from(&p.target);
        let indent = if p.target.is_some() { "    " } else { "  " };
        write!(
            s,
            "{indent}{:<20} {:<8} {:>6} ms",
            p.id,
            p.status.to_string(),
            p.duration_ms
        )?;
        if let Some(message) = &p.message {
            write!(s, "  {message}")?;
        }
        if let Some(hint) = &p.hint {
            write!(s, "\n{indent}{:<20} hint: {}", "", hint.replace('\n', " "))?;
        }
        writeln!(s)?;
    }
    writeln!(s, "\ntables")?;
    for t in &manifest.tables {
        writeln!(
            s,
            "  {:<20} {:>7} rows  {} columns",
            t.name,
            t.rows,
            t.columns.len()
        )?;
    }
    writeln!(s, "\nfacts       {}", manifest.facts.join(", "))?;
    Ok(s)
}
