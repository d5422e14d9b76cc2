//! The step registry: one step per rule, each in the module of its kind of change.

use perfdiag_model::facts::{HostFacts, MysqlFacts, OsFacts, PostgresFacts};
use perfdiag_model::{Finding, Phase, Risk, Script, Verification};

mod clock;
mod governor;
mod hardware;
mod limits;
mod mysql;
mod postgres;
mod sql;
mod sysctl;
mod thp;

/// What a step may personalise its scripts with: the snapshot's facts.
#[derive(Debug, Default)]
pub(crate) struct Context {
    pub os: Option<OsFacts>,
    #[allow(dead_code)] // read by hardware steps to come (RAM sizing).
    pub host: Option<HostFacts>,
    /// One entry per PostgreSQL target.
    #[allow(dead_code)] // read by the PostgreSQL steps being built.
    pub postgres: Vec<PostgresFacts>,
    /// One entry per MySQL/MariaDB target.
    #[allow(dead_code)] // read by the MySQL steps being built.
    pub mysql: Vec<MysqlFacts>,
}

impl Context {
    /// The raw value of a sysctl as the snapshot recorded it.
    pub fn sysctl(&self, name: &str) -> Option<&str> {
        self.os.as_ref()?.sysctls.get(name).map(String::as_str)
    }
}

/// The parts of a plan step a builder decides.
#[derive(Debug)]
pub(crate) struct Draft {
    pub script: Script,
    pub rollback: Script,
    pub risk: Risk,
    pub needs_restart: bool,
    pub verify: Verification,
}

/// A step advice can propose for a rule's findings.
#[derive(Debug)]
pub struct StepDef {
    /// Step id, the key of its texts in the catalogs, e.g. `os.sysctl.swappiness`.
    pub id: &'static str,
    /// The rule whose findings the step addresses.
    pub rule_id: &'static str,
    pub phase: Phase,
    pub(crate) build: fn(&Context, &[&Finding]) -> Draft,
}

/// Every step, one per rule: host steps first, then each engine's.
pub(crate) fn registry() -> impl Iterator<Item = &'static StepDef> {
    HOST.iter()
        .chain(postgres::STEPS)
        .chain(mysql::STEPS)
        .chain(sql::STEPS)
}

/// The host, OS and network steps.
const HOST: &[StepDef] = &[
    sysctl::SWAPPINESS,
    sysctl::DIRTY,
    sysctl::SOMAXCONN,
    sysctl::ZONE_RECLAIM,
    thp::DISABLE,
    governor::PERFORMANCE,
    limits::NOFILE_LIMIT,
    clock::SYNC,
    hardware::CPU_CAPACITY,
    hardware::CPU_IOWAIT,
    hardware::CPU_STEAL,
    hardware::MEMORY_CAPACITY,
    hardware::MEMORY_SWAPPING,
    hardware::DISK_LATENCY,
    hardware::DISK_UTILISATION,
    hardware::NET_ERRORS,
    hardware::NET_RETRANSMITS,
];

pub(crate) fn sh(body: String) -> Script {
    Script {
        language: "sh".to_owned(),
        body,
    }
}

pub(crate) fn manual(body: String) -> Script {
    Script {
        language: "manual".to_owned(),
        body,
    }
}

pub(crate) fn verify(metric: &str, target: &str) -> Verification {
    Verification {
        metric: metric.to_owned(),
        target: target.to_owned(),
    }
}

/// One line per piece of evidence, e.g. `sda: host_disk.await_ms.mean = 31.2 ms (> 20)`,
/// so a checklist starts from what was measured.
pub(crate) fn evidence_lines(findings: &[&Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        for e in &f.evidence {
            let value = &e.observed;
            let subject = f
                .subject
                .as_deref()
                .map(|s| format!("{s}: "))
                .unwrap_or_default();
            let threshold = e
                .threshold
                .as_ref()
                .map(|t| format!(" ({t})"))
                .unwrap_or_default();
            out.push_str(&format!("# {subject}{} = {value}{threshold}\n", e.metric));
        }
    }
    out
}
