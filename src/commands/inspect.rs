//! `perfdiag snapshot inspect`: what a snapshot holds, without analysing it.

use std::path::Path;

use anyhow::Result;
use perfdiag_model::Snapshot;

use super::Outcome;

pub fn run(path: &Path, json: bool) -> Result<Outcome> {
    let manifest = Snapshot::read_manifest(path)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&manifest)?);
        return Ok(Outcome::Clean);
    }
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let w = &manifest.window;
    println!("file        {} ({size} bytes)", path.display());
    println!(
        "schema      {} (written by perfdiag {})",
        manifest.schema_version, manifest.tool_version
    );
    println!(
        "host        {} · {} · {}{}",
        manifest.host.hostname,
        manifest.host.os,
        manifest.host.arch,
        manifest
            .host
            .kernel
            .as_deref()
            .map(|k| format!(" · kernel {k}"))
            .unwrap_or_default()
    );
    println!(
        "window      {} → {} ({:.0} s at {} ms{})",
        w.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
        w.ended_at.format("%H:%M:%S"),
        w.duration_secs(),
        w.interval_ms,
        if w.ended_early { ", ended early" } else { "" }
    );
    println!("\nprobes");
    for p in &manifest.probes {
        println!(
            "  {:<12} {:<8} {:>6} ms  {}{}",
            p.id,
            p.status.to_string(),
            p.duration_ms,
            p.message.as_deref().unwrap_or(""),
            p.hint
                .as_deref()
                .map(|h| format!(" (hint: {h})"))
                .unwrap_or_default()
        );
    }
    println!("\ntables");
    for t in &manifest.tables {
        println!(
            "  {:<12} {:>7} rows  {} columns",
            t.name,
            t.rows,
            t.columns.len()
        );
    }
    println!("\nfacts       {}", manifest.facts.join(", "));
    Ok(Outcome::Clean)
}
