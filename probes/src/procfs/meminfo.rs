//! `/proc/meminfo` (and the per-node `/sys/devices/system/node/nodeN/meminfo`, whose
//! lines carry a `Node N` prefix).

use crate::ProbeError;

use super::num;

const WHAT: &str = "meminfo";

/// The meminfo fields perfdiag uses, in bytes (huge page counts are counts). Each is
/// `None` when the kernel does not print it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Meminfo {
    pub total: Option<u64>,
    pub free: Option<u64>,
    pub available: Option<u64>,
    pub buffers: Option<u64>,
    pub cached: Option<u64>,
    pub dirty: Option<u64>,
    pub swap_total: Option<u64>,
    pub swap_free: Option<u64>,
    pub hugepages_total: Option<u64>,
    pub hugepages_free: Option<u64>,
    pub hugepage_size: Option<u64>,
}

pub fn parse_meminfo(text: &str) -> Result<Meminfo, ProbeError> {
    let mut m = Meminfo::default();
    for line in text.lines() {
        let Some((key, rest)) = line.split_once(':') else {
            if line.trim().is_empty() {
                continue;
            }
            return Err(ProbeError::parse(WHAT, format!("no colon in {line:?}")));
        };
        // "Node 0 MemTotal" -> "MemTotal"
        let key = key.split_ascii_whitespace().last().unwrap_or("");
        let slot = match key {
            "MemTotal" => &mut m.total,
            "MemFree" => &mut m.free,
            "MemAvailable" => &mut m.available,
            "Buffers" => &mut m.buffers,
            "Cached" => &mut m.cached,
            "Dirty" => &mut m.dirty,
            "SwapTotal" => &mut m.swap_total,
            "SwapFree" => &mut m.swap_free,
            "HugePages_Total" => &mut m.hugepages_total,
            "HugePages_Free" => &mut m.hugepages_free,
            "Hugepagesize" => &mut m.hugepage_size,
            _ => continue,
        };
        let mut fields = rest.split_ascii_whitespace();
        let value: u64 = num(
            WHAT,
            fields
                .next()
                .ok_or_else(|| ProbeError::parse(WHAT, format!("{key} has no value")))?,
        )?;
        *slot = Some(match fields.next() {
            Some("kB") => value.saturating_mul(1024),
            None => value,
            Some(unit) => return Err(ProbeError::parse(WHAT, format!("unknown unit {unit}"))),
        });
    }
    if m.total.is_none() {
        return Err(ProbeError::parse(WHAT, "no MemTotal"));
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sample() {
        let m = parse_meminfo(
            "MemTotal:       16000000 kB\nMemFree:  1000 kB\nMemAvailable: 2000 kB\n\
Buffers: 3 kB\nCached: 4 kB\nSwapCached: 9 kB\nDirty: 5 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n\
HugePages_Total:      16\nHugePages_Free:       8\nHugepagesize:    2048 kB\n",
        )
        .unwrap();
        assert_eq!(m.total, Some(16_000_000 * 1024));
        assert_eq!(m.available, Some(2000 * 1024));
        assert_eq!(m.cached, Some(4 * 1024));
        assert_eq!(m.swap_total, Some(0));
        assert_eq!(m.hugepages_total, Some(16));
        assert_eq!(m.hugepage_size, Some(2 * 1024 * 1024));
    }

    #[test]
    fn node_prefix() {
        let m = parse_meminfo("Node 1 MemTotal:  8480972 kB\nNode 1 MemFree: 1 kB\n").unwrap();
        assert_eq!(m.total, Some(8_480_972 * 1024));
    }

    #[test]
    fn malformed() {
        assert!(parse_meminfo("").is_err());
        assert!(parse_meminfo("MemTotal: lots kB\n").is_err());
        assert!(parse_meminfo("MemTotal:\n").is_err());
        assert!(parse_meminfo("MemTotal 5 kB\n").is_err());
        assert!(parse_meminfo("MemTotal: 5 MB\n").is_err());
    }
}
