//! `/proc/cpuinfo`: model, topology (sockets, cores, threads), clock and the
//! `hypervisor` flag.

use std::collections::BTreeSet;

use crate::ProbeError;

use super::num;

const WHAT: &str = "/proc/cpuinfo";

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cpuinfo {
    pub model: Option<String>,
    /// Distinct `physical id`s; `None` when the kernel does not print them (ARM, some VMs).
    pub sockets: Option<u32>,
    /// Distinct (`physical id`, `core id`) pairs.
    pub cores: Option<u32>,
    /// `processor` entries: logical CPUs.
    pub threads: u32,
    /// Mean of the per-CPU `cpu MHz`.
    pub mhz: Option<f64>,
    /// The x86 `hypervisor` flag: the kernel runs under some hypervisor.
    pub hypervisor_flag: bool,
}

pub fn parse_cpuinfo(text: &str) -> Result<Cpuinfo, ProbeError> {
    let mut info = Cpuinfo::default();
    let mut sockets = BTreeSet::new();
    let mut cores = BTreeSet::new();
    let (mut mhz_sum, mut mhz_n) = (0.0, 0u32);
    // The current processor block's ids, since `core id` comes after `physical id`.
    let mut physical: Option<u32> = None;
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        match key {
            "processor" => {
                info.threads += 1;
                physical = None;
            }
            // x86 prints "model name"; some ARM kernels "Processor" or "cpu model".
            "model name" | "Processor" | "cpu model" if info.model.is_none() => {
                info.model = Some(value.to_owned());
            }
            "physical id" => {
                let id = num(WHAT, value)?;
                physical = Some(id);
                sockets.insert(id);
            }
            "core id" => {
                let core: u32 = num(WHAT, value)?;
                cores.insert((physical.unwrap_or(0), core));
            }
            "cpu MHz" => {
                let mhz: f64 = num(WHAT, value)?;
                mhz_sum += mhz;
                mhz_n += 1;
            }
            "flags" if value.split_ascii_whitespace().any(|f| f == "hypervisor") => {
                info.hypervisor_flag = true;
            }
            _ => {}
        }
    }
    if info.threads == 0 {
        return Err(ProbeError::parse(WHAT, "no processor entries"));
    }
    info.sockets = (!sockets.is_empty()).then(|| u32::try_from(sockets.len()).unwrap_or(u32::MAX));
    info.cores = (!cores.is_empty()).then(|| u32::try_from(cores.len()).unwrap_or(u32::MAX));
    info.mhz = (mhz_n > 0).then(|| mhz_sum / f64::from(mhz_n));
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(proc_: u32, phys: u32, core: u32, mhz: f64) -> String {
        format!(
            "processor\t: {proc_}\nmodel name\t: Intel(R) Xeon(R) Gold 6230\nphysical id\t: {phys}\n\
core id\t\t: {core}\ncpu MHz\t\t: {mhz}\nflags\t\t: fpu sse hypervisor\n\n"
        )
    }

    #[test]
    fn two_sockets_with_smt() {
        let mut text = String::new();
        let mut p = 0;
        for phys in 0..2 {
            for core in 0..2 {
                for _smt in 0..2 {
                    text += &block(p, phys, core, 2000.0 + f64::from(p));
                    p += 1;
                }
            }
        }
        let c = parse_cpuinfo(&text).unwrap();
        assert_eq!(c.threads, 8);
        assert_eq!(c.sockets, Some(2));
        assert_eq!(c.cores, Some(4));
        assert_eq!(c.model.as_deref(), Some("Intel(R) Xeon(R) Gold 6230"));
        assert_eq!(c.mhz, Some(2003.5));
        assert!(c.hypervisor_flag);
    }

    #[test]
    fn arm_without_topology() {
        let c = parse_cpuinfo("processor : 0\nBogoMIPS : 50\n\nprocessor : 1\n").unwrap();
        assert_eq!(c.threads, 2);
        assert_eq!(c.sockets, None);
        assert_eq!(c.cores, None);
        assert_eq!(c.mhz, None);
        assert!(!c.hypervisor_flag);
    }

    #[test]
    fn malformed() {
        assert!(parse_cpuinfo("").is_err());
        assert!(parse_cpuinfo("processor : 0\ncpu MHz : fast\n").is_err());
        assert!(parse_cpuinfo("processor : 0\nphysical id : -\n").is_err());
    }
}
