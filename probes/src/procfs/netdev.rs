//! `/proc/net/dev`: per-interface traffic counters.

use crate::ProbeError;

use super::num;

const WHAT: &str = "/proc/net/dev";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetDev {
    pub name: String,
    pub rx_bytes: u64,
    pub rx_packets: u64,
    pub rx_errors: u64,
    pub rx_drops: u64,
    pub tx_bytes: u64,
    pub tx_packets: u64,
    pub tx_errors: u64,
    pub tx_drops: u64,
}

pub fn parse_netdev(text: &str) -> Result<Vec<NetDev>, ProbeError> {
    let mut out = Vec::new();
    // The first two lines are headers ("Inter-|   Receive ..." and " face |bytes ...").
    for line in text.lines().skip(2) {
        if line.trim().is_empty() {
            continue;
        }
        let (name, rest) = line
            .split_once(':')
            .ok_or_else(|| ProbeError::parse(WHAT, format!("no colon in {line:?}")))?;
        let mut v = [0u64; 16];
        let mut n = 0;
        for (slot, field) in v.iter_mut().zip(rest.split_ascii_whitespace()) {
            *slot = num(WHAT, field)?;
            n += 1;
        }
        if n < 16 {
            return Err(ProbeError::parse(WHAT, format!("short line {line:?}")));
        }
        out.push(NetDev {
            name: name.trim().to_owned(),
            rx_bytes: v[0],
            rx_packets: v[1],
            rx_errors: v[2],
            rx_drops: v[3],
            tx_bytes: v[8],
            tx_packets: v[9],
            tx_errors: v[10],
            tx_drops: v[11],
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:   48269     614    0    0    0     0          0         0    48269     614    0    0    0     0       0          0
  eth0: 185337621    6789    1    2    0     0          0         0   427862    3983    3    4    0     0       0          0
";

    #[test]
    fn parses_sample() {
        let d = parse_netdev(SAMPLE).unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(
            d[1],
            NetDev {
                name: "eth0".into(),
                rx_bytes: 185337621,
                rx_packets: 6789,
                rx_errors: 1,
                rx_drops: 2,
                tx_bytes: 427862,
                tx_packets: 3983,
                tx_errors: 3,
                tx_drops: 4,
            }
        );
    }

    #[test]
    fn malformed() {
        assert!(parse_netdev("h\nh\neth0 1 2 3\n").is_err());
        assert!(parse_netdev("h\nh\neth0: 1 2 3\n").is_err());
        assert!(parse_netdev("h\nh\neth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 z\n").is_err());
    }
}
