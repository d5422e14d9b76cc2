//! The step registry: one step per rule, each in the module of its kind of change.

use perfdiag_model::facts::{HostFacts, MssqlFacts, MysqlFacts, OsFacts, PostgresFacts};
use perfdiag_model::{Finding, Phase, Risk, Script, Value, Verification};

mod clock;
mod governor;
mod hardware;
mod index_ddl;
mod limits;
mod mssql;
mod mssql_databases;
mod mssql_indexes;
mod mssql_security;
mod mssql_workload;
mod mysql;
mod postgres;
mod sizing;
mod sql;
mod sysctl;
mod thp;
mod tuning_host;
mod tuning_mysql;
mod tuning_postgres;

/// What a step may personalise its scripts with: the snapshot's facts.
#[derive(Debug, Default)]
pub(crate) struct Context {
    pub os: Option<OsFacts>,
    /// CPUs, RAM and swap: what the hardware steps size from.
    pub host: Option<HostFacts>,
    /// One entry per PostgreSQL target.
    #[allow(dead_code)] // read by the PostgreSQL steps being built.
    pub postgres: Vec<PostgresFacts>,
    /// One entry per MySQL/MariaDB target.
    #[allow(dead_code)] // read by the MySQL steps being built.
    pub mysql: Vec<MysqlFacts>,
    /// One entry per SQL Server target: the recorded values the rollbacks restore.
    pub mssql: Vec<MssqlFacts>,
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
        .chain(mssql::STEPS)
        .chain(sql::STEPS)
        .chain(tuning_host::STEPS)
        .chain(tuning_postgres::STEPS)
        .chain(tuning_mysql::STEPS)
}

/// Steps that must be applied before another when both are in a plan, each with why.
/// A prerequisite is never in a later phase (a test checks): the phase order stands.
const PREREQUISITES: &[(&str, &[&str])] = &[
    // Both start from pg_stat_statements' top statements.
    (
        "pg.cache.reduce_reads",
        &["pg.extension.enable_pg_stat_statements"],
    ),
    (
        "pg.tables.add_index",
        &["pg.extension.enable_pg_stat_statements"],
    ),
    // The key is added online (ALGORITHM=INPLACE), which a MyISAM table cannot do.
    (
        "mysql.schema.add_primary_keys",
        &["mysql.schema.convert_myisam"],
    ),
    // Both size the buffer pool: first for the data, then re-measure the hit ratio.
    (
        "mysql.config.buffer_pool_for_hit_ratio",
        &["mysql.config.buffer_pool_size"],
    ),
];

/// The steps that must come before `step_id` when both are in a plan.
pub(crate) fn prerequisites(step_id: &str) -> &'static [&'static str] {
    PREREQUISITES
        .iter()
        .find(|(id, _)| *id == step_id)
        .map_or(&[], |(_, before)| before)
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

pub(crate) fn sql(body: String) -> Script {
    Script {
        language: "sql".to_owned(),
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

/// Joins per-target shell sections. With several targets each section runs only when
/// `TARGET` names its server, so a script run on one server never changes it with
/// another server's values.
pub(crate) fn shell_sections(mut script: String, sections: &[(String, String, String)]) -> String {
    let several = sections.len() > 1;
    if several {
        script.push_str(
            ": \"${TARGET:?this script covers several servers: set TARGET to the label of the one it runs on}\"\n",
        );
    }
    for (target, note, body) in sections {
        if several {
            let quoted = target.replace('\'', "'\\''");
            // An empty `then` branch is a syntax error in sh.
            let body = if body.trim().is_empty() { ":\n" } else { body };
            script.push_str(&format!(
                "\n# Target: {target}\n{note}if [ \"$TARGET\" = '{quoted}' ]; then\n{body}fi\n"
            ));
        } else {
            script.push_str(&format!("\n# Target: {target}\n{note}{body}"));
        }
    }
    script
}

/// The number a finding's evidence gives for `metric`, if any.
pub(crate) fn number(f: &Finding, metric: &str) -> Option<f64> {
    f.evidence
        .iter()
        .find_map(|e| match (&e.metric, &e.observed) {
            (m, Value::Number { value, .. }) if m == metric => Some(*value),
            _ => None,
        })
}

/// The text a finding's evidence gives for `metric`, if any.
pub(crate) fn text<'a>(f: &'a Finding, metric: &str) -> Option<&'a str> {
    f.evidence
        .iter()
        .find_map(|e| match (&e.metric, &e.observed) {
            (m, Value::Text { text }) if m == metric => Some(text.as_str()),
            _ => None,
        })
}

/// The largest number any of `findings` gives for `metric`: for a host setting several
/// databases ask a floor of (`os.expected.net.core.somaxconn`), the one that covers all.
pub(crate) fn largest(findings: &[&Finding], metric: &str) -> Option<f64> {
    findings
        .iter()
        .filter_map(|f| number(f, metric))
        .max_by(f64::total_cmp)
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
