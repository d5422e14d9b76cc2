//! `/proc/[pid]/stat` and `/proc/[pid]/status`: one process's CPU time, memory,
//! threads, parent and owner. Command lines are never read (they can hold passwords).

use crate::ProbeError;

use super::num;

const WHAT: &str = "/proc/[pid]/stat";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PidStat {
    pub pid: u32,
    /// The executable name as the kernel keeps it (at most 15 bytes).
    pub comm: String,
    pub ppid: u32,
    /// User plus system CPU time, in clock ticks.
    pub cpu_ticks: u64,
    pub threads: u64,
    /// Start time after boot, in clock ticks: with the pid it identifies a process, since
    /// pids are reused.
    pub start_ticks: u64,
    pub rss_pages: u64,
}

pub fn parse_pid_stat(text: &str) -> Result<PidStat, ProbeError> {
    // The comm is in parentheses and may itself contain spaces and ')', so split at
    // the first '(' and the last ')'.
    let open = text
        .find('(')
        .ok_or_else(|| ProbeError::parse(WHAT, "no '('"))?;
    let close = text
        .rfind(')')
        .filter(|&c| c > open)
        .ok_or_else(|| ProbeError::parse(WHAT, "no ')'"))?;
    let pid = num(WHAT, text[..open].trim())?;
    let comm = text[open + 1..close].to_owned();
    // After ')': field 3 (state) is index 0, so field N is index N - 3.
    let rest: Vec<&str> = text[close + 1..].split_ascii_whitespace().collect();
    let field = |n: usize| -> Result<u64, ProbeError> {
        let s = rest
            .get(n - 3)
            .ok_or_else(|| ProbeError::parse(WHAT, format!("no field {n}")))?;
        num(WHAT, s)
    };
    Ok(PidStat {
        pid,
        comm,
        ppid: u32::try_from(field(4)?).map_err(|_| ProbeError::parse(WHAT, "ppid too large"))?,
        cpu_ticks: field(14)?.saturating_add(field(15)?),
        threads: field(20)?,
        start_ticks: field(22)?,
        rss_pages: field(24)?,
    })
}

/// The real uid from `/proc/[pid]/status` (`Uid:` real, effective, saved, fs).
pub fn parse_status_uid(text: &str) -> Result<u32, ProbeError> {
    const WHAT: &str = "/proc/[pid]/status";
    let line = text
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .ok_or_else(|| ProbeError::parse(WHAT, "no Uid line"))?;
    let real = line
        .split_ascii_whitespace()
        .next()
        .ok_or_else(|| ProbeError::parse(WHAT, "empty Uid line"))?;
    num(WHAT, real)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STAT: &str = "2205 (postgres) S 1 2205 2205 0 -1 4194560 2410 1016 0 0 12 34 0 0 20 0 1 0 1234 230772736 7000 18446744073709551615 1 1 0 0 0 0 4194304 19935232 84487 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n";

    #[test]
    fn parses_stat() {
        let s = parse_pid_stat(STAT).unwrap();
        assert_eq!(s.pid, 2205);
        assert_eq!(s.comm, "postgres");
        assert_eq!(s.ppid, 1);
        assert_eq!(s.cpu_ticks, 46);
        assert_eq!(s.threads, 1);
        assert_eq!(s.start_ticks, 1234);
        assert_eq!(s.rss_pages, 7000);
    }

    #[test]
    fn comm_with_spaces_and_parens() {
        let s = parse_pid_stat(&STAT.replace("(postgres)", "(my (odd) name)")).unwrap();
        assert_eq!(s.comm, "my (odd) name");
        assert_eq!(s.cpu_ticks, 46);
    }

    #[test]
    fn malformed_stat() {
        assert!(parse_pid_stat("").is_err());
        assert!(parse_pid_stat("12 (x) S 1 2").is_err());
        assert!(parse_pid_stat("x (x) S 1 2").is_err());
        assert!(parse_pid_stat(")12 (x").is_err());
        assert!(parse_pid_stat(&STAT.replace(" 12 34 ", " 12 x ")).is_err());
    }

    #[test]
    fn status_uid() {
        assert_eq!(
            parse_status_uid("Name:\tpostgres\nUid:\t104\t104\t104\t104\nGid:\t1\n").unwrap(),
            104
        );
        assert!(parse_status_uid("Name: x\n").is_err());
        assert!(parse_status_uid("Uid:\n").is_err());
        assert!(parse_status_uid("Uid: me\n").is_err());
    }
}
