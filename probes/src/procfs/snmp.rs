//! `/proc/net/snmp`: the `Tcp:` header/value line pair.

use perfdiag_model::facts::TcpCounters;

use crate::ProbeError;

use super::num;

const WHAT: &str = "/proc/net/snmp";

/// TCP counters since boot plus the one gauge, established connections.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tcp {
    pub counters: TcpCounters,
    pub curr_estab: u64,
}

pub fn parse_snmp_tcp(text: &str) -> Result<Tcp, ProbeError> {
    let mut lines = text.lines().filter(|l| l.starts_with("Tcp:"));
    let (Some(header), Some(values)) = (lines.next(), lines.next()) else {
        return Err(ProbeError::parse(WHAT, "no Tcp: header and value lines"));
    };
    let names: Vec<&str> = header.split_ascii_whitespace().skip(1).collect();
    let values: Vec<&str> = values.split_ascii_whitespace().skip(1).collect();
    if names.len() != values.len() {
        return Err(ProbeError::parse(
            WHAT,
            format!("{} Tcp names but {} values", names.len(), values.len()),
        ));
    }
    let get = |name: &str| -> Result<u64, ProbeError> {
        let i = names
            .iter()
            .position(|n| *n == name)
            .ok_or_else(|| ProbeError::parse(WHAT, format!("no Tcp {name}")))?;
        num(WHAT, values[i])
    };
    Ok(Tcp {
        counters: TcpCounters {
            active_opens: get("ActiveOpens")?,
            passive_opens: get("PassiveOpens")?,
            attempt_fails: get("AttemptFails")?,
            estab_resets: get("EstabResets")?,
            in_segs: get("InSegs")?,
            out_segs: get("OutSegs")?,
            retrans_segs: get("RetransSegs")?,
            in_errs: get("InErrs")?,
        },
        curr_estab: get("CurrEstab")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "Ip: Forwarding DefaultTTL\nIp: 2 64\n\
Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n\
Tcp: 1 200 120000 -1 111 48 11 46 2 7291 4519 7 3 58 0\n\
Udp: InDatagrams\nUdp: 5\n";

    #[test]
    fn parses_sample() {
        let t = parse_snmp_tcp(SAMPLE).unwrap();
        assert_eq!(t.curr_estab, 2);
        assert_eq!(
            t.counters,
            TcpCounters {
                active_opens: 111,
                passive_opens: 48,
                attempt_fails: 11,
                estab_resets: 46,
                in_segs: 7291,
                out_segs: 4519,
                retrans_segs: 7,
                in_errs: 3,
            }
        );
    }

    #[test]
    fn malformed() {
        assert!(parse_snmp_tcp("").is_err());
        assert!(parse_snmp_tcp("Tcp: ActiveOpens\n").is_err());
        assert!(parse_snmp_tcp("Tcp: ActiveOpens InSegs\nTcp: 1\n").is_err());
        assert!(parse_snmp_tcp("Tcp: ActiveOpens\nTcp: 1\n").is_err());
        assert!(parse_snmp_tcp(&SAMPLE.replace("7291", "x")).is_err());
    }
}
