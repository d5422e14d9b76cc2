//! `/proc/stat`: CPU time per CPU, context switches, interrupts, forks and run queue.

use crate::ProbeError;

use super::num;

const WHAT: &str = "/proc/stat";

/// Jiffies spent in each state since boot. Guest time is not kept: the kernel already
/// counts it inside `user` (and guest_nice inside `nice`), so adding it would count it
/// twice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CpuTimes {
    pub user: u64,
    pub nice: u64,
    pub system: u64,
    pub idle: u64,
    pub iowait: u64,
    pub irq: u64,
    pub softirq: u64,
    pub steal: u64,
}

impl CpuTimes {
    /// All jiffies of the CPU, guest excluded (see the type's doc).
    pub fn total(&self) -> u64 {
        self.user
            .saturating_add(self.nice)
            .saturating_add(self.system)
            .saturating_add(self.idle)
            .saturating_add(self.iowait)
            .saturating_add(self.irq)
            .saturating_add(self.softirq)
            .saturating_add(self.steal)
    }

    /// The fields in the column order of `host_cpu`.
    pub fn fields(&self) -> [u64; 8] {
        [
            self.user,
            self.nice,
            self.system,
            self.iowait,
            self.irq,
            self.softirq,
            self.steal,
            self.idle,
        ]
    }
}

/// One `cpu` line: `cpu: None` is the all-CPU line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuLine {
    pub cpu: Option<u32>,
    pub times: CpuTimes,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stat {
    pub cpus: Vec<CpuLine>,
    pub ctxt: Option<u64>,
    /// Total interrupts since boot (the first number of the `intr` line).
    pub intr: Option<u64>,
    /// Forks since boot.
    pub processes: Option<u64>,
    pub procs_running: Option<u64>,
    pub procs_blocked: Option<u64>,
}

pub fn parse_stat(text: &str) -> Result<Stat, ProbeError> {
    let mut stat = Stat::default();
    for line in text.lines() {
        let mut fields = line.split_ascii_whitespace();
        let Some(key) = fields.next() else { continue };
        if let Some(id) = key.strip_prefix("cpu") {
            let cpu = if id.is_empty() {
                None
            } else {
                Some(num::<u32>(WHAT, id)?)
            };
            stat.cpus.push(CpuLine {
                cpu,
                times: parse_cpu_times(fields)?,
            });
            continue;
        }
        let slot = match key {
            "ctxt" => &mut stat.ctxt,
            "intr" => &mut stat.intr,
            "processes" => &mut stat.processes,
            "procs_running" => &mut stat.procs_running,
            "procs_blocked" => &mut stat.procs_blocked,
            _ => continue,
        };
        let value = fields
            .next()
            .ok_or_else(|| ProbeError::parse(WHAT, format!("{key} has no value")))?;
        *slot = Some(num(WHAT, value)?);
    }
    if !stat.cpus.iter().any(|c| c.cpu.is_none()) {
        return Err(ProbeError::parse(WHAT, "no `cpu` line"));
    }
    Ok(stat)
}

fn parse_cpu_times<'a>(fields: impl Iterator<Item = &'a str>) -> Result<CpuTimes, ProbeError> {
    let mut v = [0u64; 8];
    let mut n = 0;
    for (slot, field) in v.iter_mut().zip(fields) {
        *slot = num(WHAT, field)?;
        n += 1;
    }
    // user nice system idle are there since 2.4; later fields came with later kernels
    // and are zero when absent.
    if n < 4 {
        return Err(ProbeError::parse(WHAT, "cpu line with fewer than 4 fields"));
    }
    Ok(CpuTimes {
        user: v[0],
        nice: v[1],
        system: v[2],
        idle: v[3],
        iowait: v[4],
        irq: v[5],
        softirq: v[6],
        steal: v[7],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "cpu  100 2 30 800 5 1 2 3 7 0\n\
cpu0 50 1 15 400 2 1 1 2 7 0\n\
cpu1 50 1 15 400 3 0 1 1 0 0\n\
intr 123456 0 9 0\n\
ctxt 98765\n\
btime 1700000000\n\
processes 4321\n\
procs_running 3\n\
procs_blocked 1\n\
softirq 555 0 1\n";

    #[test]
    fn parses_sample() {
        let s = parse_stat(SAMPLE).unwrap();
        assert_eq!(s.cpus.len(), 3);
        assert_eq!(s.cpus[0].cpu, None);
        assert_eq!(s.cpus[2].cpu, Some(1));
        assert_eq!(s.cpus[0].times.user, 100);
        assert_eq!(s.cpus[0].times.steal, 3);
        // guest (7) is inside user already and not added again
        assert_eq!(s.cpus[0].times.total(), 100 + 2 + 30 + 800 + 5 + 1 + 2 + 3);
        assert_eq!(s.ctxt, Some(98765));
        assert_eq!(s.intr, Some(123456));
        assert_eq!(s.processes, Some(4321));
        assert_eq!(s.procs_running, Some(3));
        assert_eq!(s.procs_blocked, Some(1));
    }

    #[test]
    fn old_kernel_four_fields() {
        let s = parse_stat("cpu 1 2 3 4\n").unwrap();
        assert_eq!(s.cpus[0].times.idle, 4);
        assert_eq!(s.cpus[0].times.steal, 0);
    }

    #[test]
    fn malformed() {
        assert!(parse_stat("").is_err());
        assert!(parse_stat("cpu 1 2 x 4\n").is_err());
        assert!(parse_stat("cpu 1 2\n").is_err());
        assert!(parse_stat("cpu 1 2 3 4\nctxt\n").is_err());
        assert!(parse_stat("cpuX 1 2 3 4\ncpu 1 2 3 4\n").is_err());
    }
}
