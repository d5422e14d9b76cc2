//! One collection run on the local host: one-shot probes, then the sampling window,
//! into one snapshot.
//!
//! Every probe records its own outcome; nothing here aborts the run. Ctrl-C ends the
//! sampling window early, and the snapshot still holds everything gathered so far.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::Utc;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use perfdiag_model::facts::HostFacts;
use perfdiag_model::{
    CollectionWindow, HostIdentity, ProbeRecord, ProbeStatus, Snapshot, facts_names, tables,
};
use perfdiag_probes::db::DbTarget;
use perfdiag_probes::{ProbeError, ProcessTracker, Root, Sampler, host, network, os};

use crate::cli::SamplingArgs;
use crate::databases::Databases;

/// TCP connects per round-trip target: enough for a p95 of a quiet link, few
/// enough to be invisible to the server.
const RTT_ATTEMPTS: u32 = 5;

/// Set by Ctrl-C: ends the sampling window at the next check.
pub fn interrupt_flag() -> Arc<AtomicBool> {
    let flag = Arc::new(AtomicBool::new(false));
    let handler_flag = Arc::clone(&flag);
    let installed = ctrlc::set_handler(move || {
        if handler_flag.swap(true, Ordering::SeqCst) {
            // A second Ctrl-C means "stop now", even at the cost of the snapshot.
            eprintln!("\ninterrupted twice: exiting without writing");
            std::process::exit(130);
        }
        eprintln!("\nending the sampling window early; writing what was collected…");
    });
    if let Err(e) = installed {
        eprintln!("warning: Ctrl-C will not end sampling early ({e})");
    }
    flag
}

pub fn collect(args: &SamplingArgs, stop: &AtomicBool) -> Snapshot {
    let root = Root::new(&args.host_root);
    let started_at = Utc::now();
    let mut window = CollectionWindow {
        started_at,
        ended_at: started_at,
        interval_ms: args.interval.as_millis() as u64,
        requested_duration_ms: args.duration.as_millis() as u64,
        ended_early: false,
    };

    let host = host::probe(&root);
    let identity = identity(host.facts.as_ref(), &root);
    let mut snapshot = Snapshot::new(identity, window.clone());
    if let Some(facts) = &host.facts {
        snapshot.set_fact(facts_names::HOST, facts);
    }
    snapshot.record_probe(host.record);

    let os = os::probe(&root);
    if let Some(facts) = &os.facts {
        snapshot.set_fact(facts_names::OS, facts);
    }
    snapshot.record_probe(os.record);

    let databases = &args.databases;
    let mut rtt_targets = args.targets.clone();
    rtt_targets.extend(databases.targets().filter_map(DbTarget::host_port));
    let network = network::probe(&root, &rtt_targets, RTT_ATTEMPTS);
    if let Some(facts) = &network.facts {
        snapshot.set_fact(facts_names::NETWORK, facts);
    }
    snapshot.record_probe(network.record);

    let targets: Vec<DbTarget> = databases.targets().cloned().collect();
    let mut dbs = Databases::connect(&targets, &databases.options());
    let tracker = ProcessTracker::start(&root);
    let sampling_start = Instant::now();
    let mut sampler = Sampler::start(&root);
    let ended_early = sample(args, stop, || {
        if let Ok(sampler) = &mut sampler {
            sampler.tick()?;
        }
        dbs.tick();
        Ok(())
    });
    window.ended_early = ended_early;
    match sampler {
        Ok(sampler) => {
            let (tables, mut record) = sampler.finish();
            if ended_early && record.status == ProbeStatus::Ok {
                record.status = ProbeStatus::Partial;
                record.message = Some(format!(
                    "window ended early by Ctrl-C after {:.0} s of {:.0} s",
                    sampling_start.elapsed().as_secs_f64(),
                    args.duration.as_secs_f64()
                ));
            }
            for (name, table) in tables {
                snapshot.put_table(name, table);
            }
            snapshot.record_probe(record);
        }
        Err(e) => snapshot.record_probe(ProbeRecord {
            target: None,
            id: "sampler".into(),
            status: if matches!(e, ProbeError::Unsupported(_)) {
                ProbeStatus::Skipped
            } else {
                ProbeStatus::Failed
            },
            duration_ms: 0,
            message: Some(e.to_string()),
            hint: None,
        }),
    }
    dbs.finish_into(&mut snapshot);
    digest_logs(&args.logs, args.databases.top, &mut snapshot);
    let (processes, record) = tracker.finish(args.top_processes);
    if let Some(table) = processes {
        snapshot.put_table(tables::PROCESSES, table);
    }
    snapshot.record_probe(record);

    window.ended_at = Utc::now();
    snapshot.set_window(window);
    snapshot
}

/// Calls `tick` every `interval` until `duration` has passed or `stop` is set.
/// Returns whether the window ended early.
fn sample(
    args: &SamplingArgs,
    stop: &AtomicBool,
    mut tick: impl FnMut() -> Result<(), ProbeError>,
) -> bool {
    let ticks = (args.duration.as_secs_f64() / args.interval.as_secs_f64())
        .round()
        .max(1.0) as u64;
    let bar = progress_bar(ticks, args.quiet);
    let start = Instant::now();
    for n in 1..=ticks {
        let deadline = start + args.interval.mul_f64(n as f64);
        // Sleep in short steps so Ctrl-C is honoured within 100 ms.
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            if stop.load(Ordering::SeqCst) {
                bar.abandon();
                return true;
            }
            std::thread::sleep(left.min(Duration::from_millis(100)));
        }
        if let Err(e) = tick() {
            bar.println(format!("warning: sample {n} failed: {e}"));
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    false
}

/// Digests each slow-query log into the `log_queries` table (all logs in one table,
/// told apart by `source`). Done after the window, so it never disturbs the samples.
fn digest_logs(paths: &[std::path::PathBuf], top_n: usize, snapshot: &mut Snapshot) {
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let mut merged = perfdiag_model::Table::new();
    for path in paths {
        eprintln!("digesting {}…", path.display());
        let (table, record) = perfdiag_probes::logs::probe::collect(path, threads, top_n);
        if let Some(table) = table
            && let Err(e) = merged.append(table)
        {
            eprintln!("warning: {} not kept: {e}", path.display());
        }
        snapshot.record_probe(record);
    }
    if merged.rows() > 0 {
        snapshot.put_table(tables::LOG_QUERIES, merged);
    }
}

fn progress_bar(ticks: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(ticks), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "sampling {bar:30.cyan/blue} {pos}/{len} samples, {eta} left (Ctrl-C ends early)",
        )
        .expect("the template is valid")
        .progress_chars("█▉ "),
    );
    bar
}

fn identity(host: Option<&HostFacts>, root: &Root) -> HostIdentity {
    let machine_id = std::fs::read_to_string(root.path("etc/machine-id"))
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    match host {
        Some(h) => HostIdentity {
            hostname: h.hostname.clone(),
            os: h.os_name.clone(),
            kernel: h.kernel.clone(),
            arch: h.arch.clone(),
            machine_id,
        },
        None => HostIdentity {
            hostname: "unknown".into(),
            os: std::env::consts::OS.into(),
            kernel: None,
            arch: std::env::consts::ARCH.into(),
            machine_id,
        },
    }
}
