//! `/proc/[pid]/limits`: the resource limits a database server process runs with.

use crate::ProbeError;

use super::num;

const WHAT: &str = "/proc/[pid]/limits";

/// A soft/hard pair; `None` is "unlimited".
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limit {
    pub soft: Option<u64>,
    pub hard: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Limits {
    pub open_files: Option<Limit>,
    pub processes: Option<Limit>,
    pub locked_memory: Option<Limit>,
}

pub fn parse_limits(text: &str) -> Result<Limits, ProbeError> {
    let mut out = Limits::default();
    for line in text.lines() {
        // Limit names contain spaces, so match them as prefixes.
        let (slot, rest) = if let Some(rest) = line.strip_prefix("Max open files") {
            (&mut out.open_files, rest)
        } else if let Some(rest) = line.strip_prefix("Max processes") {
            (&mut out.processes, rest)
        } else if let Some(rest) = line.strip_prefix("Max locked memory") {
            (&mut out.locked_memory, rest)
        } else {
            continue;
        };
        let mut f = rest.split_ascii_whitespace();
        let (Some(soft), Some(hard)) = (f.next(), f.next()) else {
            return Err(ProbeError::parse(WHAT, format!("short line {line:?}")));
        };
        *slot = Some(Limit {
            soft: value(soft)?,
            hard: value(hard)?,
        });
    }
    Ok(out)
}

fn value(s: &str) -> Result<Option<u64>, ProbeError> {
    if s == "unlimited" {
        Ok(None)
    } else {
        num(WHAT, s).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "Limit                     Soft Limit           Hard Limit           Units     \n\
Max cpu time              unlimited            unlimited            seconds   \n\
Max processes             63601                63601                processes \n\
Max open files            1024                 524288               files     \n\
Max locked memory         8388608              unlimited            bytes     \n";

    #[test]
    fn parses_sample() {
        let l = parse_limits(SAMPLE).unwrap();
        assert_eq!(
            l.open_files,
            Some(Limit {
                soft: Some(1024),
                hard: Some(524288)
            })
        );
        assert_eq!(l.processes.and_then(|p| p.soft), Some(63601));
        assert_eq!(
            l.locked_memory,
            Some(Limit {
                soft: Some(8388608),
                hard: None
            })
        );
    }

    #[test]
    fn malformed() {
        assert!(parse_limits("Max open files   1024\n").is_err());
        assert!(parse_limits("Max open files   many  1024 files\n").is_err());
        assert_eq!(parse_limits("").unwrap(), Limits::default());
    }
}
