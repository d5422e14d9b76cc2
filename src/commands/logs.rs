//! `perfdiag logs`: the response-time profile of slow-query logs, like
//! pt-query-digest's and pgBadger's, computed on all cores in bounded memory.

use std::fmt::Write;
use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use perfdiag_probes::logs::digest::{Digest, digest_reader};
use perfdiag_probes::logs::{LogFormat, ParseStats, probe};
use perfdiag_probes::sql::fingerprint::pt_query_id;
use perfdiag_probes::sql::mask_literals;
use serde::Serialize;

use super::Outcome;
use crate::cli::{LogFormatArg, LogsArgs};
use crate::output;

pub fn run(args: &LogsArgs) -> Result<Outcome> {
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
    });
    let started = Instant::now();
    let mut digest = Digest::new();
    let mut stats = ParseStats::default();
    let mut bytes = 0;
    for path in &args.files {
        let Some(log) = probe::open(path, chosen_format(args)).map_err(anyhow::Error::msg)? else {
            eprintln!("{}: empty", path.display());
            continue;
        };
        eprintln!("{}: {}", path.display(), log.described);
        let bar = progress(path, args.quiet);
        let (file_digest, file_stats) =
            digest_reader(log.reader, log.parser.as_ref(), threads, &|n| {
                bar.set_position(n)
            })
            .with_context(|| format!("reading {}", path.display()))?;
        bytes += bar.position();
        bar.finish_and_clear();
        digest.merge(file_digest);
        stats += file_stats;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let profile = Profile::of(&digest, stats, bytes, elapsed, args);
    if args.json {
        output::print(&(serde_json::to_string_pretty(&profile)? + "\n"));
    } else {
        output::print(&profile.text()?);
    }
    Ok(Outcome::Clean)
}

fn chosen_format(args: &LogsArgs) -> Option<LogFormat> {
    match args.format {
        LogFormatArg::Auto => args.prefix.clone().map(|prefix| LogFormat::PgStderr {
            prefix: Some(prefix),
        }),
        LogFormatArg::MysqlSlow => Some(LogFormat::MysqlSlow),
        LogFormatArg::PgStderr => Some(LogFormat::PgStderr {
            prefix: args.prefix.clone(),
        }),
        LogFormatArg::PgCsv => Some(LogFormat::PgCsv),
        LogFormatArg::PgJson => Some(LogFormat::PgJson),
    }
}

fn progress(path: &std::path::Path, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{msg} {bytes} read, {bytes_per_sec}")
            .expect("the template is valid"),
    );
    bar.set_message(path.display().to_string());
    bar
}

/// The profile as printed and as JSON.
#[derive(Debug, Serialize)]
struct Profile {
    files: Vec<String>,
    bytes: u64,
    seconds: f64,
    events: u64,
    skipped_lines: u64,
    classes: usize,
    total_time_s: f64,
    top: Vec<ClassRow>,
}

#[derive(Debug, Serialize)]
struct ClassRow {
    rank: usize,
    /// perfdiag's stable id (XXH3-64 of the fingerprint), the same from every source.
    id: String,
    /// pt-query-digest's id of the same fingerprint, to cross-reference its reports.
    pt_query_id: String,
    total_time_s: f64,
    share_pct: f64,
    calls: u64,
    mean_s: f64,
    p95_s: f64,
    max_s: f64,
    rows_examined: f64,
    fingerprint: String,
    /// The slowest execution, literals masked unless --show-literals.
    sample: String,
    sample_offset: u64,
}

impl Profile {
    fn of(digest: &Digest, stats: ParseStats, bytes: u64, seconds: f64, args: &LogsArgs) -> Self {
        let top = digest
            .profile()
            .into_iter()
            .take(args.top)
            .map(|row| {
                let c = row.class;
                ClassRow {
                    rank: row.rank,
                    id: format!("{:016x}", c.id),
                    pt_query_id: pt_query_id(&c.fingerprint),
                    total_time_s: c.query_time.sum,
                    share_pct: row.share * 100.0,
                    calls: c.count,
                    mean_s: c.query_time.mean(),
                    p95_s: c.query_time.p95(),
                    max_s: c.query_time.max,
                    rows_examined: c.rows_examined.sum,
                    fingerprint: c.fingerprint.clone(),
                    sample: if args.show_literals {
                        c.sample.clone()
                    } else {
                        mask_literals(&c.sample)
                    },
                    sample_offset: c.sample_offset,
                }
            })
            .collect();
        Self {
            files: args.files.iter().map(|p| p.display().to_string()).collect(),
            bytes,
            seconds,
            events: digest.events,
            skipped_lines: stats.skipped_lines,
            classes: digest.classes.len(),
            total_time_s: digest.total_query_time(),
            top,
        }
    }

    fn text(&self) -> Result<String, std::fmt::Error> {
        let mut s = String::new();
        let rate = self.bytes as f64 / 1e6 / self.seconds.max(1e-9);
        writeln!(
            s,
            "# {} events, {} classes, {} other lines (not statement executions); {:.1} MB in {:.2} s ({rate:.0} MB/s)",
            self.events,
            self.classes,
            self.skipped_lines,
            self.bytes as f64 / 1e6,
            self.seconds
        )?;
        writeln!(s, "# Total response time {:.3} s", self.total_time_s)?;
        writeln!(s, "#")?;
        writeln!(
            s,
            "# Rank Query ID         Response time     Calls  R/Call   p95      Item"
        )?;
        writeln!(
            s,
            "# ==== ================ ================= ====== ======== ======== ===="
        )?;
        for r in &self.top {
            let item: String = r.fingerprint.chars().take(60).collect();
            writeln!(
                s,
                "# {:>4} {} {:>10.4} {:>5.1}% {:>6} {:>8.4} {:>8.4} {item}",
                r.rank, r.id, r.total_time_s, r.share_pct, r.calls, r.mean_s, r.p95_s
            )?;
        }
        Ok(s)
    }
}
