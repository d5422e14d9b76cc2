//! The hardware steps' sizing arithmetic: from the findings' evidence and the snapshot's
//! facts, CPUs for the p95 busy % at a target busy % ([`cpu`]), IOPS and throughput from
//! the busiest sample with headroom and the latency to ask for by storage kind
//! ([`storage`]), and RAM for the databases' working set and for the memory seen in use
//! ([`memory`]).
//!
//! Every number shows its inputs, and a number whose input the snapshot lacks is
//! replaced by a sentence naming the missing evidence: a guess would be read as a
//! measurement. This module holds what the three share: the number formatting.

pub(super) mod cpu;
pub(super) mod memory;
pub(super) mod storage;

const MIB: f64 = 1_048_576.0;
const GIB: f64 = 1_073_741_824.0;

// ---------------------------------------------------------------------------------
// Number formatting: plain, language-neutral, like the evidence lines.

/// Up to two decimals, trailing zeros dropped: `10.97`, `96`, `1.5`.
fn short(x: f64) -> String {
    let s = format!("{x:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_owned()
    } else {
        s.to_owned()
    }
}

/// A byte size in GiB from 1 GiB up, else in MiB: `44 GiB`, `1020 MiB`.
fn size(bytes: f64) -> String {
    if bytes >= GIB {
        format!("{} GiB", short((bytes / GIB * 10.0).round() / 10.0))
    } else {
        format!("{} MiB", short((bytes / MIB).round()))
    }
}

/// Bytes per second in MB/s (10^6, as storage is specified).
fn mb_per_s(bytes: f64) -> String {
    format!("{} MB/s", short((bytes / 1e6 * 10.0).round() / 10.0))
}

/// `x` rounded up, ignoring float noise (8 × 70 / 70 is 8, not 9).
fn ceil_clean(x: f64) -> f64 {
    ((x * 1e6).round() / 1e6).ceil()
}
