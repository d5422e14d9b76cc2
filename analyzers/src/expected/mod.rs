//! Expected settings: what each setting should be on this host, for this workload.
//!
//! Pure functions from the snapshot's own facts — the host's RAM, CPUs and storage kind,
//! the engine's settings and the rates it measured over the window — plus what the
//! engineer knows (the [`Workload`] kind, whether the host is dedicated) to a list of
//! [`Expected`] values: the setting, its current value, the expected value or bound,
//! the unit, a short language-neutral id of the formula and the formula's inputs as
//! evidence. Rules compare current with expected and grade how far apart they are
//! ([`judge`]); advice writes the scripts from the findings' evidence.
//!
//! Two principles hold for every formula (docs/tuning.md lists them all):
//! - **A share of RAM on a shared host.** On a host that also runs other services the
//!   formulas size for [`SHARED_HOST_RAM_SHARE`] of the RAM instead of all of it.
//! - **Measured evidence beats formulas.** A rate measured over the window (hit ratio,
//!   temporary file bytes, WAL or redo bytes per second, table cache misses) replaces
//!   or overrides the rule of thumb: a hit ratio already at 99.9 % does not ask for
//!   more memory, work_mem is raised only for measured spills, WAL and redo sizes come
//!   from the measured write rate.
//!
//! The rules are its only users.

use perfdiag_model::facts::HostFacts;
use perfdiag_model::{Comparison, Evidence, Severity, Threshold, Unit, Value, Workload};

use crate::baseline::RuleSpec;

pub(crate) mod host;
pub(crate) mod mssql;
pub(crate) mod mysql;
pub(crate) mod postgres;

/// Share of the RAM the formulas size for when the host is not dedicated to the
/// databases (`--shared-host`): half, leaving the other half to the application
/// server or other services and the OS cache they need.
pub(crate) const SHARED_HOST_RAM_SHARE: f64 = 0.5;

/// A hit ratio at or above this (%), measured over enough requests, means the working
/// set already fits in the cache: no formula asks for more cache memory then.
pub(crate) const HIT_RATIO_ENOUGH_PCT: f64 = 99.9;

/// Fewest cache requests in the window for a hit ratio to count as evidence.
pub(crate) const HIT_RATIO_MIN_REQUESTS: f64 = 10_000.0;

pub(crate) const MIB: f64 = 1_048_576.0;
pub(crate) const GIB: f64 = 1_073_741_824.0;

/// The storage the database's files live on, as the host facts tell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StorageKind {
    /// A spinning disk (`rotational = 1` on bare metal).
    Hdd,
    /// A SATA/SAS SSD or an SSD-backed volume (`rotational = 0`).
    Ssd,
    /// An NVMe device (`nvme*` block device).
    Nvme,
}

impl StorageKind {
    pub fn id(self) -> &'static str {
        match self {
            Self::Hdd => "hdd",
            Self::Ssd => "ssd",
            Self::Nvme => "nvme",
        }
    }
}

/// What the formulas know about the machine and the engagement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Machine {
    /// Physical RAM, bytes.
    pub ram_bytes: f64,
    /// Logical CPUs as the OS sees them (PGTune's "number of CPUs"); `None` unknown.
    pub cpus: Option<u32>,
    /// The storage holding the data directory; `None` when the facts cannot tell.
    pub storage: Option<StorageKind>,
    /// Linux (some settings, e.g. effective_io_concurrency, exist only there).
    pub linux: bool,
    pub workload: Workload,
    pub dedicated: bool,
}

impl Machine {
    /// The machine of `host`, with the storage kind of the disk holding `data_dir`
    /// (the engine's data directory) when the facts allow. `None` when the RAM is
    /// unknown: every memory formula needs it.
    pub fn new(
        host: &HostFacts,
        data_dir: Option<&str>,
        workload: Workload,
        dedicated: bool,
    ) -> Option<Self> {
        if host.memory.total_bytes == 0 {
            return None;
        }
        let os = host.os_name.to_ascii_lowercase();
        Some(Self {
            ram_bytes: host.memory.total_bytes as f64,
            cpus: (host.cpu.threads > 0).then_some(host.cpu.threads),
            storage: storage_kind(host, data_dir),
            linux: !(os.contains("windows") || os.contains("mac") || os.contains("darwin")),
            workload,
            dedicated,
        })
    }

    /// The RAM the database may size its memory for: all of it on a dedicated host,
    /// [`SHARED_HOST_RAM_SHARE`] of it otherwise.
    pub fn db_ram(&self) -> f64 {
        if self.dedicated {
            self.ram_bytes
        } else {
            self.ram_bytes * SHARED_HOST_RAM_SHARE
        }
    }

    /// The inputs every formula shares, as evidence.
    pub fn inputs(&self) -> Vec<Evidence> {
        let mut out = vec![
            context(
                "host.memory.total_bytes",
                Value::number(self.ram_bytes, Unit::Bytes),
            ),
            context(
                "expected.ram_for_database_bytes",
                Value::number(self.db_ram(), Unit::Bytes),
            ),
            context("expected.workload", Value::text(self.workload.id())),
            context(
                "expected.dedicated_host",
                Value::text(if self.dedicated { "yes" } else { "no" }),
            ),
        ];
        if let Some(cpus) = self.cpus {
            out.push(context(
                "host.cpu.threads",
                Value::number(f64::from(cpus), Unit::None),
            ));
        }
        if let Some(s) = self.storage {
            out.push(context("expected.storage_kind", Value::text(s.id())));
        }
        out
    }
}

/// The kind of storage under `path`: the disk of the filesystem mounted closest above
/// it, or, when that cannot be resolved (LVM, network file systems, no path), the kind
/// every local disk agrees on. Virtual disks often report `rotational = 1` whatever
/// backs them, so a rotating disk under a hypervisor is "unknown", not HDD.
pub(crate) fn storage_kind(host: &HostFacts, path: Option<&str>) -> Option<StorageKind> {
    let virtualised = host
        .virtualization
        .hypervisor
        .as_deref()
        .is_some_and(|h| h != "bare-metal");
    let classify = |d: &perfdiag_model::facts::host::DiskFacts| {
        if d.name.starts_with("nvme") {
            Some(StorageKind::Nvme)
        } else {
            match d.rotational {
                Some(false) => Some(StorageKind::Ssd),
                Some(true) if !virtualised => Some(StorageKind::Hdd),
                _ => None,
            }
        }
    };
    let disks: Vec<_> = host
        .disks
        .iter()
        .filter(|d| {
            !["loop", "ram", "zram", "sr", "fd"]
                .iter()
                .any(|p| d.name.starts_with(p))
        })
        .collect();
    if let Some(path) = path {
        let fs = host
            .filesystems
            .iter()
            .filter(|f| {
                let m = f.mount_point.trim_end_matches('/');
                path == f.mount_point || m.is_empty() || path.starts_with(&format!("{m}/"))
            })
            .max_by_key(|f| f.mount_point.len());
        if let Some(fs) = fs {
            let device = fs.device.rsplit('/').next().unwrap_or(&fs.device);
            if let Some(disk) = disks
                .iter()
                .filter(|d| device.starts_with(d.name.as_str()))
                .max_by_key(|d| d.name.len())
            {
                return classify(disk);
            }
        }
    }
    let mut kinds = disks.iter().map(|d| classify(d));
    let first = kinds.next()??;
    kinds.all(|k| k == Some(first)).then_some(first)
}

/// The expected value or bound of a setting.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Target {
    /// A formula's point value: any distance from it counts.
    Value(f64),
    /// A floor: larger is as good (e.g. max_wal_size from the measured WAL rate).
    AtLeast(f64),
    /// A ceiling: smaller is as good (e.g. work_mem for the RAM and connections).
    AtMost(f64),
    /// Text settings: one of these (the first is the one to set).
    OneOf(&'static [&'static str]),
}

/// One setting, what it is and what it should be on this host.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Expected {
    /// The setting's name in the engine, e.g. `shared_buffers`.
    pub setting: &'static str,
    /// The value the snapshot recorded, in `unit`.
    pub current: Value,
    pub expected: Target,
    pub unit: Unit,
    /// A short id of the formula or the measured reason, e.g. `pgtune.shared_buffers`,
    /// `measured.wal_rate` (docs/tuning.md explains each).
    pub formula: &'static str,
    /// The formula's own inputs (measured rates, other settings) as evidence.
    pub evidence: Vec<Evidence>,
    /// A planner hint or I/O tuning knob: off by any factor it stays a warning.
    pub minor: bool,
}

impl Expected {
    pub fn number(
        setting: &'static str,
        current: f64,
        expected: Target,
        unit: Unit,
        formula: &'static str,
    ) -> Self {
        Self {
            setting,
            current: Value::number(current, unit),
            expected,
            unit,
            formula,
            evidence: Vec::new(),
            minor: false,
        }
    }

    pub fn minor(mut self) -> Self {
        self.minor = true;
        self
    }

    pub fn with(mut self, evidence: Vec<Evidence>) -> Self {
        self.evidence.extend(evidence);
        self
    }

    /// How far the current value is from the expected one, as a factor >= 1 (1 when it
    /// is within the bound). Sizes compare as `larger / smaller`; counts and unitless
    /// values as `(larger + 1) / (smaller + 1)`, so that 0 against 4 workers is a
    /// factor of 5, not infinite. A text setting that is none of the expected values
    /// is infinitely far.
    pub fn deviation(&self) -> f64 {
        let Value::Number { value: current, .. } = self.current else {
            return match (&self.expected, &self.current) {
                (Target::OneOf(ok), Value::Text { text }) => {
                    if ok.iter().any(|o| o.eq_ignore_ascii_case(text.trim())) {
                        1.0
                    } else {
                        f64::INFINITY
                    }
                }
                _ => 1.0,
            };
        };
        let within = match self.expected {
            Target::Value(_) | Target::OneOf(_) => false,
            Target::AtLeast(e) => current >= e,
            Target::AtMost(e) => current <= e,
        };
        match self.suggested() {
            Value::Number { value, .. } if !within => factor(current, value, self.unit),
            _ => 1.0,
        }
    }

    /// The value to set: the point value, or the bound that was not met.
    pub fn suggested(&self) -> Value {
        match self.expected {
            Target::Value(v) | Target::AtLeast(v) | Target::AtMost(v) => {
                Value::number(v, self.unit)
            }
            Target::OneOf(ok) => Value::text(ok.first().copied().unwrap_or_default()),
        }
    }

    /// The value to set as a number (0 for text settings).
    pub fn suggested_number(&self) -> f64 {
        match self.suggested() {
            Value::Number { value, .. } => value,
            Value::Text { .. } => 0.0,
        }
    }

    /// The threshold the current value crossed, for the finding's evidence.
    pub fn threshold(&self) -> Threshold {
        let op = match (&self.current, self.suggested()) {
            (Value::Number { value: c, .. }, Value::Number { value: e, .. }) if *c < e => {
                Comparison::Below
            }
            (Value::Number { .. }, _) => Comparison::Above,
            _ => Comparison::NotEquals,
        };
        Threshold::new(op, self.suggested())
    }
}

fn factor(a: f64, b: f64, unit: Unit) -> f64 {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    match unit {
        Unit::None | Unit::Percent => (hi.max(0.0) + 1.0) / (lo.max(0.0) + 1.0),
        _ => hi / lo.max(1.0),
    }
}

/// Floors a byte size to whole MiB (at least 1 MiB): the values scripts set.
pub(crate) fn floor_mib(bytes: f64) -> f64 {
    ((bytes / MIB).floor() * MIB).max(MIB)
}

/// Rounds a byte size up to whole MiB.
pub(crate) fn ceil_mib(bytes: f64) -> f64 {
    ((bytes / MIB).ceil() * MIB).max(MIB)
}

pub(crate) fn context(metric: &str, observed: Value) -> Evidence {
    Evidence {
        metric: metric.to_owned(),
        observed,
        threshold: None,
    }
}

/// Grades every setting of `items` by its [`Expected::deviation`] against the rule's
/// thresholds. `None` when no setting crosses one; otherwise the worst severity (a
/// minor setting counts as a warning at most) and the evidence: for each deviating
/// setting `<prefix>.settings.<name>` (current, with the threshold crossed),
/// `<prefix>.expected.<name>` (the value to set) and `<prefix>.expected.<name>.formula`,
/// then the formulas' inputs, each once, and `shared` (the machine's inputs).
pub(crate) fn judge(
    spec: &RuleSpec,
    prefix: &str,
    items: &[Expected],
    shared: Vec<Evidence>,
) -> Option<(Severity, Vec<Evidence>)> {
    let mut worst: Option<Severity> = None;
    let mut evidence = Vec::new();
    let mut inputs: Vec<Evidence> = Vec::new();
    for item in items {
        let Some((severity, _)) = spec.grade(item.deviation()) else {
            continue;
        };
        let severity = if item.minor {
            severity.min(Severity::Warning)
        } else {
            severity
        };
        worst = worst.max(Some(severity));
        evidence.push(Evidence {
            metric: format!("{prefix}.settings.{}", item.setting),
            observed: item.current.clone(),
            threshold: Some(item.threshold()),
        });
        evidence.push(context(
            &format!("{prefix}.expected.{}", item.setting),
            item.suggested(),
        ));
        evidence.push(context(
            &format!("{prefix}.expected.{}.formula", item.setting),
            Value::text(item.formula),
        ));
        for e in &item.evidence {
            if !inputs.iter().any(|i| i.metric == e.metric) {
                inputs.push(e.clone());
            }
        }
    }
    let severity = worst?;
    for e in shared {
        if !inputs.iter().any(|i| i.metric == e.metric) {
            inputs.push(e);
        }
    }
    evidence.extend(inputs);
    Some((severity, evidence))
}

/// True when a target labelled `label` (`postgres://user@host:port/db`) runs on the
/// host named `hostname`: only then is the host's RAM the database server's.
pub(crate) fn is_local(label: &str, hostname: &str) -> bool {
    perfdiag_model::target::is_local(label, Some(hostname))
}

pub(crate) use perfdiag_model::target::url_host;

#[cfg(test)]
mod tests {
    use perfdiag_model::facts::host::{DiskFacts, FilesystemFacts};

    use super::*;
    use crate::test_support::Fixture;

    fn host() -> HostFacts {
        Fixture::healthy().host.expect("host facts")
    }

    #[test]
    fn storage_kind_follows_the_data_directory_then_agreement() {
        let mut h = host();
        // nvme0n1 (SSD) and sda (HDD): no agreement without a path.
        assert_eq!(storage_kind(&h, None), None);
        h.filesystems = vec![
            FilesystemFacts {
                mount_point: "/".to_owned(),
                device: "/dev/sda1".to_owned(),
                ..FilesystemFacts::default()
            },
            FilesystemFacts {
                mount_point: "/var/lib/postgresql".to_owned(),
                device: "/dev/nvme0n1p1".to_owned(),
                ..FilesystemFacts::default()
            },
        ];
        assert_eq!(
            storage_kind(&h, Some("/var/lib/postgresql/16/main")),
            Some(StorageKind::Nvme)
        );
        assert_eq!(
            storage_kind(&h, Some("/var/lib/mysql")),
            Some(StorageKind::Hdd)
        );
        // A rotating virtual disk tells nothing.
        h.virtualization.hypervisor = Some("kvm".to_owned());
        assert_eq!(storage_kind(&h, Some("/var/lib/mysql")), None);
        h.disks = vec![DiskFacts {
            name: "vda".to_owned(),
            rotational: Some(false),
            ..DiskFacts::default()
        }];
        h.filesystems.clear();
        assert_eq!(storage_kind(&h, Some("/srv")), Some(StorageKind::Ssd));
    }

    #[test]
    fn shared_hosts_size_for_half_the_ram() {
        let h = host();
        let m = Machine::new(&h, None, Workload::Mixed, true).expect("ram known");
        assert_eq!(m.db_ram(), 16.0 * GIB);
        let shared = Machine::new(&h, None, Workload::Mixed, false).expect("ram known");
        assert_eq!(shared.db_ram(), 8.0 * GIB);
        let mut no_ram = h;
        no_ram.memory.total_bytes = 0;
        assert_eq!(Machine::new(&no_ram, None, Workload::Mixed, true), None);
    }

    #[test]
    fn deviation_is_a_factor_and_bounds_are_one_sided() {
        let e = |current, target| Expected::number("x", current, target, Unit::Bytes, "f");
        assert_eq!(e(GIB, Target::Value(4.0 * GIB)).deviation(), 4.0);
        assert_eq!(e(8.0 * GIB, Target::Value(4.0 * GIB)).deviation(), 2.0);
        assert_eq!(e(8.0 * GIB, Target::AtLeast(4.0 * GIB)).deviation(), 1.0);
        assert_eq!(e(GIB, Target::AtMost(4.0 * GIB)).deviation(), 1.0);
        assert_eq!(e(8.0 * GIB, Target::AtMost(GIB)).deviation(), 8.0);
        let count = Expected::number("w", 0.0, Target::Value(4.0), Unit::None, "f");
        assert_eq!(count.deviation(), 5.0);
        assert_eq!(count.threshold().to_string(), "< 4");
        let text = Expected {
            current: Value::text("off"),
            ..Expected::number(
                "huge_pages",
                0.0,
                Target::OneOf(&["try", "on"]),
                Unit::None,
                "f",
            )
        };
        assert!(text.deviation().is_infinite());
        assert_eq!(text.threshold().to_string(), "≠ try");
        let ok = Expected {
            current: Value::text("ON"),
            ..text
        };
        assert_eq!(ok.deviation(), 1.0);
    }

    #[test]
    fn url_hosts_are_parsed_for_locality() {
        assert_eq!(url_host("postgres://u@db1:5432/x"), "db1");
        assert_eq!(url_host("postgres://db1/x?sslmode=require"), "db1");
        assert_eq!(url_host("postgres://u@[::1]:5432/x"), "[::1]");
        assert_eq!(url_host("postgres:///x"), "");
        assert!(is_local("mysql://app@db1:3306/", "DB1"));
        assert!(!is_local("mysql://app@db2:3306/", "db1"));
    }
}
