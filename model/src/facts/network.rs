//! Network health facts (document `network`): TCP counters and round trips to targets.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NetworkFacts {
    /// TCP counters since boot, from /proc/net/snmp.
    pub tcp_since_boot: Option<TcpCounters>,
    /// TCP connect round trips to each database target.
    pub targets: Vec<TcpRtt>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TcpCounters {
    pub active_opens: u64,
    pub passive_opens: u64,
    pub attempt_fails: u64,
    pub estab_resets: u64,
    pub in_segs: u64,
    pub out_segs: u64,
    pub retrans_segs: u64,
    pub in_errs: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TcpRtt {
    /// `host:port`, never with credentials.
    pub target: String,
    pub attempts: u32,
    pub failures: u32,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub max_ms: Option<f64>,
    pub last_error: Option<String>,
}
