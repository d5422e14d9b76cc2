//! The `network` probe: TCP counters since boot and TCP connect round trips to the
//! database targets (a connect is the cheapest honest measure of the network path plus
//! the server's accept queue).

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use perfdiag_model::facts::{NetworkFacts, TcpRtt};

use crate::procfs::{self, snmp};
use crate::record;
use crate::{Collected, Root};

pub const ID: &str = "network";

/// Per connect attempt; a slower connect counts as a failure.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

pub fn probe(root: &Root, targets: &[String], attempts: u32) -> Collected<NetworkFacts> {
    record::collect(ID, |notes| {
        let tcp_since_boot = if cfg!(target_os = "linux") {
            match procfs::read(root, "proc/net/snmp").and_then(|t| snmp::parse_snmp_tcp(&t)) {
                Ok(t) => Some(t.counters),
                Err(e) => {
                    notes.missing_err("proc/net/snmp", &e);
                    None
                }
            }
        } else {
            None
        };
        Ok(NetworkFacts {
            tcp_since_boot,
            targets: targets.iter().map(|t| measure(t, attempts)).collect(),
        })
    })
}

/// Connects `attempts` times to `target` ("host:port") and summarises the times.
pub fn measure(target: &str, attempts: u32) -> TcpRtt {
    let mut rtt = TcpRtt {
        target: target.to_owned(),
        attempts,
        ..TcpRtt::default()
    };
    // Resolve once: DNS time is not network round trip.
    let addr: Option<SocketAddr> = match target.to_socket_addrs() {
        Ok(mut addrs) => addrs.next(),
        Err(e) => {
            rtt.last_error = Some(format!("cannot resolve: {e}"));
            None
        }
    };
    let Some(addr) = addr else {
        rtt.failures = attempts;
        if rtt.last_error.is_none() {
            rtt.last_error = Some("resolved to no address".to_owned());
        }
        return rtt;
    };
    let mut times_ms = Vec::with_capacity(attempts as usize);
    for _ in 0..attempts {
        let started = Instant::now();
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(stream) => {
                times_ms.push(started.elapsed().as_secs_f64() * 1000.0);
                drop(stream);
            }
            Err(e) => {
                rtt.failures += 1;
                rtt.last_error = Some(e.to_string());
            }
        }
    }
    times_ms.sort_by(f64::total_cmp);
    rtt.p50_ms = percentile(&times_ms, 0.50);
    rtt.p95_ms = percentile(&times_ms, 0.95);
    rtt.max_ms = times_ms.last().copied();
    rtt
}

/// Nearest-rank percentile of sorted values; `None` when there are none.
pub fn percentile(sorted: &[f64], p: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), Some(10.0));
        assert_eq!(percentile(&v, 0.95), Some(19.0));
        assert_eq!(percentile(&[3.0], 0.95), Some(3.0));
        assert_eq!(percentile(&[], 0.5), None);
    }
}
