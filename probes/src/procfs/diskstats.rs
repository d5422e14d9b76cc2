//! `/proc/diskstats`: per-device I/O counters, fields as in the kernel's
//! `Documentation/admin-guide/iostats.rst`.

use crate::ProbeError;

use super::num;

const WHAT: &str = "/proc/diskstats";

/// Counters of one device since boot. Sectors are always 512 bytes here, whatever the
/// device's real sector size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiskStat {
    pub name: String,
    pub reads: u64,
    pub read_sectors: u64,
    pub read_ms: u64,
    pub writes: u64,
    pub write_sectors: u64,
    pub write_ms: u64,
    pub in_flight: u64,
    /// Milliseconds the device had I/O in flight (for utilisation).
    pub io_ticks_ms: u64,
    /// In-flight I/Os times milliseconds (for the mean queue depth).
    pub weighted_ms: u64,
}

pub fn parse_diskstats(text: &str) -> Result<Vec<DiskStat>, ProbeError> {
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        let mut f = line.split_ascii_whitespace();
        // major, minor, name, then at least 11 counters
        let (Some(_major), Some(_minor), Some(name)) = (f.next(), f.next(), f.next()) else {
            return Err(ProbeError::parse(WHAT, format!("short line {line:?}")));
        };
        let mut v = [0u64; 11];
        let mut n = 0;
        for (slot, field) in v.iter_mut().zip(f) {
            *slot = num(WHAT, field)?;
            n += 1;
        }
        if n < 11 {
            return Err(ProbeError::parse(WHAT, format!("short line {line:?}")));
        }
        out.push(DiskStat {
            name: name.to_owned(),
            reads: v[0],
            read_sectors: v[2],
            read_ms: v[3],
            writes: v[4],
            write_sectors: v[6],
            write_ms: v[7],
            in_flight: v[8],
            io_ticks_ms: v[9],
            weighted_ms: v[10],
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sample() {
        let d = parse_diskstats(
            "   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n \
254       0 vda 37026 7032 3060714 38063 28460 39572 7969392 50567 0 23208 91673 11033 41 1197728 2616 4758 426\n \
8 0 sdb 1 2 3 4 5 6 7 8 9 10 11\n",
        )
        .unwrap();
        assert_eq!(d.len(), 3);
        let vda = &d[1];
        assert_eq!(vda.name, "vda");
        assert_eq!(vda.reads, 37026);
        assert_eq!(vda.read_sectors, 3060714);
        assert_eq!(vda.read_ms, 38063);
        assert_eq!(vda.writes, 28460);
        assert_eq!(vda.write_sectors, 7969392);
        assert_eq!(vda.write_ms, 50567);
        assert_eq!(vda.io_ticks_ms, 23208);
        assert_eq!(vda.weighted_ms, 91673);
        assert_eq!(d[2].weighted_ms, 11);
    }

    #[test]
    fn malformed() {
        assert!(parse_diskstats("8 0 sda 1 2 3\n").is_err());
        assert!(parse_diskstats("8 0\n").is_err());
        assert!(parse_diskstats("8 0 sda 1 2 3 4 5 6 7 8 9 10 x\n").is_err());
        assert!(parse_diskstats("").unwrap().is_empty());
    }
}
