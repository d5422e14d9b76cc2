//! The report model: everything a renderer shows, built once from the snapshot, the
//! assessment, the plan and what the engineer said about the engagement, in one
//! language. Renderers (HTML, PDF, JSON, terminal) read only this.
//!
//! `--format json` writes it as it is; `docs/report-model.md` documents every field.
//! Adding a field is a minor version; renaming or removing one, or changing its
//! meaning, is a major version of [`SCHEMA_VERSION`].

use chrono::{DateTime, Utc};
use perfdiag_model::facts::{HostFacts, OsFacts};
use perfdiag_model::{Assessment, Plan, SchemaVersion, Snapshot, facts_names};
use serde::Serialize;

use super::bottleneck::{self, CorrelationView, PrimaryView, WorkloadView};
use super::cover::{self, ConfirmationView, CoverView, Engagement};
use super::databases::{self, DatabaseView};
use super::findings::{self, FindingGroup, FindingView};
use super::format;
use super::i18n::{Catalog, Lang};
use super::key_steps::{self, KeyStepView};
use super::plan::{self, PhaseView, StepView};
use super::probes::{self, ProbeView};
use super::series;
use super::series::Series;
use super::sessions::{self, SessionsView};
use super::statements::{self, StatementRow, TopSqlRow};

/// The version of the report model's JSON (see `docs/report-model.md`).
pub const SCHEMA_VERSION: SchemaVersion = SchemaVersion { major: 1, minor: 2 };

#[derive(Debug, Serialize)]
pub struct Report {
    pub schema_version: SchemaVersion,
    pub lang: Lang,
    pub tool_version: String,
    /// When the report was made, in the report's language.
    pub generated_at: String,
    pub hostname: String,
    /// The baseline the findings were judged against.
    pub baseline: String,
    pub cover: CoverView,
    pub window: WindowView,
    pub environment: Option<EnvironmentView>,
    pub databases: Vec<DatabaseView>,
    /// Top query classes of the slow-query logs, by total time.
    pub top_sql: Vec<TopSqlRow>,
    /// Top query classes of each database's statement statistics, by total time.
    pub statements: Vec<StatementRow>,
    /// Top sessions and blocking chains of each database target.
    pub sessions: Vec<SessionsView>,
    pub overall: Option<u8>,
    pub scores: Vec<ScoreView>,
    /// The bottleneck to look at first, in one sentence.
    pub primary: Option<PrimaryView>,
    /// Findings on several layers that share one cause.
    pub correlations: Vec<CorrelationView>,
    /// The workload kind the settings were judged for, and where it came from.
    pub workload: Option<WorkloadView>,
    /// Targets whose counters cover less than a day, in sentences.
    pub low_confidence: Vec<String>,
    /// The three most valuable plan steps, for the executive summary.
    pub key_steps: Vec<KeyStepView>,
    /// Most severe and costly first.
    pub findings: Vec<FindingView>,
    /// The findings by dimension (indexes into `findings`).
    pub finding_groups: Vec<FindingGroup>,
    pub not_evaluated: Vec<NotEvaluatedView>,
    /// In the order to apply them.
    pub steps: Vec<StepView>,
    pub phases: Vec<PhaseView>,
    pub os_params: Vec<(String, String)>,
    pub series: Series,
    pub probes: Vec<ProbeView>,
    /// The probes that did not collect everything, with the reason and what to do.
    pub not_collected: Vec<ProbeView>,
    pub confirmation: ConfirmationView,
}

#[derive(Debug, Serialize)]
pub struct WindowView {
    pub started: String,
    pub ended: String,
    pub duration: String,
    pub interval: String,
    pub ended_early: bool,
}

#[derive(Debug, Serialize)]
pub struct EnvironmentView {
    pub os: String,
    pub kernel: String,
    pub arch: String,
    pub uptime: String,
    pub virtualization: String,
    pub cpu_model: String,
    pub sockets: String,
    pub cores: String,
    pub threads: u32,
    pub memory: String,
    pub swap: String,
    pub hugepages: String,
    pub disks: Vec<DiskView>,
    pub filesystems: Vec<FilesystemView>,
    pub interfaces: Vec<InterfaceView>,
}

#[derive(Debug, Serialize)]
pub struct DiskView {
    pub name: String,
    pub size: String,
    pub kind: String,
    pub model: String,
    pub scheduler: String,
    pub read_ahead: String,
}

#[derive(Debug, Serialize)]
pub struct FilesystemView {
    pub mount_point: String,
    pub device: String,
    pub fs_type: String,
    pub size: String,
    pub free: String,
    pub options: String,
}

#[derive(Debug, Serialize)]
pub struct InterfaceView {
    pub name: String,
    pub mtu: String,
    pub speed: String,
    pub state: String,
}

#[derive(Debug, Serialize)]
pub struct ScoreView {
    pub dimension: String,
    pub label: String,
    pub score: Option<u8>,
    pub findings: usize,
}

#[derive(Debug, Serialize)]
pub struct NotEvaluatedView {
    pub rule_id: String,
    pub title: String,
    pub missing: String,
}

impl Report {
    /// The report with no engagement details (blank cover fields), dated by the
    /// assessment.
    pub fn build(
        snapshot: &Snapshot,
        assessment: &Assessment,
        plan: &Plan,
        catalog: &Catalog,
    ) -> anyhow::Result<Self> {
        Self::build_for(snapshot, assessment, plan, catalog, &Engagement::default())
    }

    pub fn build_for(
        snapshot: &Snapshot,
        assessment: &Assessment,
        plan: &Plan,
        catalog: &Catalog,
        engagement: &Engagement,
    ) -> anyhow::Result<Self> {
        let manifest = snapshot.manifest();
        let host: Option<HostFacts> = snapshot.fact(facts_names::HOST)?;
        let os: Option<OsFacts> = snapshot.fact(facts_names::OS)?;
        let lang = catalog.lang();
        let w = &manifest.window;
        let time = |t: DateTime<Utc>| format::datetime(t, lang);
        let generated_at = engagement.generated_at.unwrap_or(assessment.generated_at);
        let databases = databases::build(snapshot, assessment, catalog)?;
        let cover = cover::cover(
            engagement,
            generated_at,
            lang,
            &manifest.host.hostname,
            databases::labels(&databases),
        );
        let window = WindowView {
            started: time(w.started_at),
            ended: time(w.ended_at),
            duration: format::duration_in(w.duration_secs(), catalog),
            interval: format::millis(w.interval_ms as f64),
            ended_early: w.ended_early,
        };
        let steps = plan::steps(plan, catalog);
        let confirmation = cover::confirmation(
            &cover,
            format!("{} → {}", window.started, window.ended),
            assessment.findings.len(),
            steps.len(),
        );
        Ok(Self {
            schema_version: SCHEMA_VERSION,
            lang,
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            generated_at: time(generated_at),
            hostname: manifest.host.hostname.clone(),
            baseline: assessment.baseline.clone(),
            cover,
            window,
            environment: host.as_ref().map(|h| environment(h, catalog)),
            databases,
            top_sql: statements::top_sql(snapshot, &assessment.findings, catalog),
            statements: statements::statements(snapshot, &assessment.findings, catalog),
            sessions: sessions::build(snapshot, catalog),
            overall: assessment.overall,
            primary: bottleneck::primary(assessment, catalog),
            correlations: bottleneck::correlations(assessment, catalog),
            workload: bottleneck::workload(assessment, catalog),
            low_confidence: bottleneck::low_confidence(assessment, catalog),
            scores: assessment
                .scores
                .iter()
                .filter(|s| s.score.is_some())
                .map(|s| ScoreView {
                    dimension: s.dimension.id().to_owned(),
                    label: catalog.text(&format!("dimension.{}", s.dimension.id())),
                    score: s.score,
                    findings: s.findings.len(),
                })
                .collect(),
            key_steps: key_steps::key_steps(plan, assessment, catalog),
            findings: assessment
                .findings
                .iter()
                .map(|f| findings::finding(f, catalog))
                .collect(),
            finding_groups: findings::groups(assessment, catalog),
            not_evaluated: assessment
                .not_evaluated
                .iter()
                .map(|n| NotEvaluatedView {
                    rule_id: n.rule_id.clone(),
                    title: catalog.text(&format!("rule.{}.title", n.rule_id)),
                    missing: n.missing.clone(),
                })
                .collect(),
            phases: plan::phases(&steps),
            steps,
            os_params: os
                .map(|o| o.sysctls.into_iter().collect())
                .unwrap_or_default(),
            series: series::build(snapshot),
            probes: probes::all(manifest, catalog),
            not_collected: probes::not_collected(manifest, catalog),
            confirmation,
        })
    }
}

fn environment(h: &HostFacts, c: &Catalog) -> EnvironmentView {
    let unknown = || c.text("env.unknown");
    let opt = |v: Option<String>| v.unwrap_or_else(unknown);
    let virt = match (&h.virtualization.hypervisor, &h.virtualization.container) {
        (Some(hv), Some(ct)) => format!("{hv} / {ct}"),
        (Some(hv), None) => hv.clone(),
        (None, Some(ct)) => ct.clone(),
        (None, None) => unknown(),
    };
    let m = &h.memory;
    EnvironmentView {
        os: h.os_name.clone(),
        kernel: opt(h.kernel.clone()),
        arch: h.arch.clone(),
        uptime: opt(h.uptime_secs.map(|s| format::uptime(s as f64, c))),
        virtualization: virt,
        cpu_model: opt(h.cpu.model.clone()),
        sockets: opt(h.cpu.sockets.map(|v| v.to_string())),
        cores: opt(h.cpu.cores.map(|v| v.to_string())),
        threads: h.cpu.threads,
        memory: format::bytes(m.total_bytes),
        swap: if m.swap_total_bytes == 0 {
            c.text("env.none")
        } else {
            format::bytes(m.swap_total_bytes)
        },
        hugepages: match (m.hugepages_total, m.hugepage_size_bytes) {
            (Some(0), _) => c.text("env.none"),
            (Some(n), Some(size)) => format!("{n} × {}", format::bytes(size)),
            _ => unknown(),
        },
        disks: h
            .disks
            .iter()
            .map(|d| DiskView {
                name: d.name.clone(),
                size: opt(d.size_bytes.map(format::bytes)),
                kind: match d.rotational {
                    Some(true) => c.text("env.hdd"),
                    Some(false) => c.text("env.ssd"),
                    None => unknown(),
                },
                model: d.model.clone().unwrap_or_default(),
                scheduler: opt(d.scheduler.clone()),
                read_ahead: opt(d.read_ahead_kb.map(|kb| format::bytes(kb * 1024))),
            })
            .collect(),
        filesystems: h
            .filesystems
            .iter()
            .map(|f| FilesystemView {
                mount_point: f.mount_point.clone(),
                device: f.device.clone(),
                fs_type: f.fs_type.clone(),
                size: opt(f.size_bytes.map(format::bytes)),
                free: opt(f.free_bytes.map(format::bytes)),
                options: f.options.join(","),
            })
            .collect(),
        interfaces: h
            .interfaces
            .iter()
            .map(|i| InterfaceView {
                name: i.name.clone(),
                mtu: opt(i.mtu.map(|v| v.to_string())),
                speed: opt(i.speed_mbps.map(|v| format!("{v} Mb/s"))),
                state: opt(i.operstate.clone()),
            })
            .collect(),
    }
}
