//! A case: the folder of one engagement, from the diagnosis through the optimization
//! to the end of its 3-month guarantee (docs/case.md).
//!
//! ```text
//! DIR/
//! ├── case.toml         the engineer's: customer, system, targets (no passwords), …
//! ├── progress.toml     perfdiag's record: snapshots, step states, window, re-checks
//! ├── case.lock         while a verb changes the case
//! ├── snapshots/        every snapshot of the engagement
//! ├── plan/             the plan (plan.json, scripts), from the latest diagnosis
//! ├── comparisons/      diagnosis → baseline (the gains), baseline → each re-check
//! └── logs/recheck.log  what unattended re-checks did
//! ```
//!
//! Opening a case checks everything a hand edit could break; a verb changes nothing
//! until it has everything it needs, and then writes each file atomically, the
//! record last, so an interruption leaves at worst an unreferenced file behind.

pub mod atomic;
pub mod clock;
pub mod config;
pub mod lock;
pub mod print;
pub mod progress;
pub mod rules;
pub mod schedule;
pub mod status;
pub mod verify;
pub mod window;

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, SubsecRound, Utc};
use perfdiag_model::comparison::Comparison;
use perfdiag_model::{Manifest, Plan, Snapshot};

use config::CaseConfig;
use progress::{CaseHost, Progress, Role, SnapshotEntry};

pub const SNAPSHOTS: &str = "snapshots";
pub const PLAN: &str = "plan";
pub const COMPARISONS: &str = "comparisons";
pub const LOGS: &str = "logs";
pub const RECHECK_LOG: &str = "logs/recheck.log";

/// Where a snapshot goes in the case: `snapshots/` and its own file name, or the
/// default name when it has no `.pdsnap` one.
pub fn snapshot_file(source: &Path, m: &Manifest) -> String {
    let name = source
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".pdsnap"))
        .unwrap_or_else(|| {
            perfdiag_model::default_file_name(&m.host.hostname, m.window.started_at)
                .to_string_lossy()
                .into_owned()
        });
    format!("{SNAPSHOTS}/{name}")
}

/// An open, checked case.
#[derive(Debug)]
pub struct Case {
    pub dir: PathBuf,
    pub config: CaseConfig,
    pub progress: Progress,
    /// The plan's `plan.json`, once the case has a plan.
    pub plan: Option<Plan>,
}

impl Case {
    /// Makes a new case folder: `case.toml` from `file`, an empty record, and the
    /// sub-folders. `dir` must not hold a case already.
    pub fn init(dir: &Path, file: config::CaseFile, now: DateTime<Utc>) -> Result<Self> {
        let config_text = CaseConfig::render(&file);
        let config = CaseConfig::parse(&config_text)?;
        if dir.join(config::FILE).exists() || dir.join(progress::FILE).exists() {
            bail!(
                "{} already holds a case: perfdiag never writes over one (edit its case.toml instead)",
                dir.display()
            );
        }
        for sub in [SNAPSHOTS, COMPARISONS, LOGS] {
            let path = dir.join(sub);
            std::fs::create_dir_all(&path)
                .with_context(|| format!("cannot create {}", path.display()))?;
        }
        let case = Self {
            dir: dir.to_owned(),
            config,
            progress: Progress::new(now),
            plan: None,
        };
        atomic::write(&dir.join(config::FILE), config_text)?;
        case.save()?;
        Ok(case)
    }

    /// Opens the case in `dir` and checks it: `case.toml`, `progress.toml`, the plan,
    /// and every file the record names (present, of the case's host, the same
    /// snapshot it was). Any problem is an error naming the file and the problem.
    pub fn open(dir: &Path) -> Result<Self> {
        let config = CaseConfig::read(dir)?;
        let record = dir.join(progress::FILE);
        let text = std::fs::read_to_string(&record)
            .with_context(|| format!("cannot read {}", record.display()))?;
        let progress = Progress::parse(&text).map_err(|e| anyhow!("{}: {e}", record.display()))?;
        let plan = match &progress.plan {
            Some(entry) => {
                let path = dir.join(&entry.folder).join("plan.json");
                let text = std::fs::read_to_string(&path).with_context(|| {
                    format!(
                        "{}: the plan {} cannot be read",
                        record.display(),
                        path.display()
                    )
                })?;
                Some(
                    serde_json::from_str::<Plan>(&text)
                        .with_context(|| format!("{} is not a readable plan", path.display()))?,
                )
            }
            None => None,
        };
        progress
            .validate(plan.as_ref())
            .map_err(|e| anyhow!("{}: {e}", record.display()))?;
        let case = Self {
            dir: dir.to_owned(),
            config,
            progress,
            plan,
        };
        case.check_files()
            .map_err(|e| anyhow!("{}: {e}", record.display()))?;
        Ok(case)
    }

    /// Every file the record names is there, and every snapshot is the one recorded.
    fn check_files(&self) -> Result<(), String> {
        for s in &self.progress.snapshots {
            let path = self.path(&s.file);
            if !path.is_file() {
                return Err(format!(
                    "snapshot {} is missing from the case folder ({})",
                    s.file,
                    path.display()
                ));
            }
            let m = Snapshot::read_manifest(&path)
                .map_err(|e| format!("snapshot {} cannot be read: {e}", s.file))?;
            if m.host.hostname != s.hostname {
                return Err(format!(
                    "snapshot {} is of host {}, not {} as recorded: a snapshot from another host \
                     was put in its place",
                    s.file, m.host.hostname, s.hostname
                ));
            }
            if m.window.started_at.timestamp() != s.taken_at.timestamp() {
                return Err(format!(
                    "snapshot {} was taken at {}, not at {} as recorded: another snapshot was put \
                     in its place",
                    s.file, m.window.started_at, s.taken_at
                ));
            }
        }
        let comparisons = self
            .progress
            .optimization
            .iter()
            .map(|o| &o.comparison)
            .chain(
                self.progress
                    .rechecks
                    .iter()
                    .filter_map(|r| r.comparison.as_ref()),
            );
        for c in comparisons {
            if !self.path(c).is_file() {
                return Err(format!("comparison {c} is missing from the case folder"));
            }
        }
        Ok(())
    }

    /// A path of the case, from one relative to its folder.
    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.join(relative)
    }

    /// Writes `progress.toml` (atomically).
    pub fn save(&self) -> Result<()> {
        atomic::write(&self.dir.join(progress::FILE), self.progress.render())
    }

    /// Refuses a snapshot of another host than the case's (the first snapshot's).
    pub fn check_host(&self, file: &Path, m: &Manifest) -> Result<()> {
        let Some(host) = &self.progress.host else {
            return Ok(());
        };
        if m.host.hostname != host.hostname {
            bail!(
                "{} is a snapshot of host {}, and this case is of host {}: a case follows one \
                 host (make another case for {})",
                file.display(),
                m.host.hostname,
                host.hostname,
                m.host.hostname
            );
        }
        if let (Some(a), Some(b)) = (&m.host.machine_id, &host.machine_id)
            && a != b
        {
            bail!(
                "{} is of a host named {} but with another machine-id than the case's (a \
                 reinstalled or another machine): a case follows one host",
                file.display(),
                m.host.hostname
            );
        }
        Ok(())
    }

    /// Copies the snapshot at `source` into `snapshots/` and records it with `role`.
    /// The record is changed in memory only: the caller saves it once everything else
    /// is written.
    pub fn add_snapshot(
        &mut self,
        source: &Path,
        m: &Manifest,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<String> {
        self.check_host(source, m)?;
        let file = snapshot_file(source, m);
        let name = file.trim_start_matches("snapshots/");
        if let Some(s) = self.progress.snapshot(&file) {
            bail!(
                "the case already has a snapshot named {name} (its {} snapshot, taken {}): \
                 rename the file to add it",
                s.role.id(),
                s.taken_at
            );
        }
        if let Some(s) = self
            .progress
            .snapshots
            .iter()
            .find(|s| s.taken_at.timestamp() == m.window.started_at.timestamp())
        {
            bail!(
                "{} is already in the case as {} ({} snapshot)",
                source.display(),
                s.file,
                s.role.id()
            );
        }
        let target = self.path(&file);
        std::fs::create_dir_all(self.path(SNAPSHOTS))?;
        let same = |a: &Path, b: &Path| matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b);
        // A file put into snapshots/ by hand is recorded where it is.
        if !same(source, &target) {
            if target.exists() {
                // Left by an interrupted run that never recorded it.
                std::fs::remove_file(&target)
                    .with_context(|| format!("cannot replace {}", target.display()))?;
            }
            atomic::copy(source, &target)?;
        }
        if self.progress.host.is_none() {
            self.progress.host = Some(CaseHost {
                hostname: m.host.hostname.clone(),
                machine_id: m.host.machine_id.clone(),
            });
        }
        self.progress.snapshots.push(SnapshotEntry {
            file: file.clone(),
            role,
            taken_at: m.window.started_at.trunc_subsecs(0),
            hostname: m.host.hostname.clone(),
            added_at: now,
        });
        Ok(file)
    }

    /// Reads a snapshot of the case.
    pub fn read_snapshot(&self, file: &str) -> Result<Snapshot> {
        Snapshot::read(&self.path(file)).with_context(|| format!("reading {file}"))
    }

    /// Writes a comparison under `comparisons/` and returns its relative path.
    pub fn write_comparison(&self, name: &str, comparison: &Comparison) -> Result<String> {
        let file = format!("{COMPARISONS}/{name}");
        std::fs::create_dir_all(self.path(COMPARISONS))?;
        atomic::write(
            &self.path(&file),
            serde_json::to_string_pretty(comparison)? + "\n",
        )?;
        Ok(file)
    }

    pub fn read_comparison(&self, file: &str) -> Result<Comparison> {
        let path = self.path(file);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_str(&text)
            .with_context(|| format!("{} is not a comparison", path.display()))
    }
}
