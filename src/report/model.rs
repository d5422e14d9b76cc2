//! The report model: everything a renderer shows, built once from the snapshot, the
//! assessment and the plan, in one language. Renderers read only this.

use perfdiag_model::facts::{HostFacts, OsFacts};
use perfdiag_model::{
    Assessment, ColumnData, Finding, Plan, PlanStep, Snapshot, Table, facts_names, tables,
};
use serde::Serialize;

use super::bottleneck::{self, CorrelationView, PrimaryView, WorkloadView};
use super::databases::{self, DatabaseView};
use super::format;
use super::i18n::{Catalog, Lang};

#[derive(Debug, Serialize)]
pub struct Report {
    pub lang: Lang,
    pub tool_version: String,
    pub generated_at: String,
    pub hostname: String,
    /// The baseline the findings were judged against.
    pub baseline: String,
    pub window: WindowView,
    pub environment: Option<EnvironmentView>,
    pub databases: Vec<DatabaseView>,
    /// Top query classes of the slow-query logs, by total time.
    pub top_sql: Vec<TopSqlRow>,
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
    pub findings: Vec<FindingView>,
    pub not_evaluated: Vec<NotEvaluatedView>,
    pub steps: Vec<StepView>,
    pub os_params: Vec<(String, String)>,
    pub series: Series,
    pub probes: Vec<ProbeView>,
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
pub struct FindingView {
    pub rule_id: String,
    pub title: String,
    pub rationale: String,
    pub dimension: String,
    pub severity: String,
    pub severity_label: String,
    /// Priority tier, 1 (act now) to 4.
    pub tier: u8,
    /// What share of what it takes, when measured: "62 % of database time".
    pub impact: Option<String>,
    pub subject: Option<String>,
    pub evidence: Vec<EvidenceView>,
}

#[derive(Debug, Serialize)]
pub struct EvidenceView {
    pub metric: String,
    pub observed: String,
    pub threshold: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct NotEvaluatedView {
    pub rule_id: String,
    pub title: String,
    pub missing: String,
}

#[derive(Debug, Serialize)]
pub struct StepView {
    pub number: usize,
    pub id: String,
    pub title: String,
    pub why: String,
    pub effect: String,
    pub phase: String,
    pub risk: String,
    pub needs_restart: bool,
    pub subject: Option<String>,
    pub addresses: Vec<String>,
    pub script_language: String,
    pub script: String,
    pub rollback: String,
    pub verify: String,
}

#[derive(Debug, Serialize)]
pub struct TopSqlRow {
    pub source: String,
    pub rank: i64,
    pub id: String,
    pub calls: i64,
    pub total: String,
    pub share: String,
    pub mean: String,
    pub p95: String,
    /// The fingerprint (its first 600 characters): literals are placeholders, so no
    /// customer data.
    pub fingerprint: String,
}

#[derive(Debug, Serialize)]
pub struct ProbeView {
    pub id: String,
    pub status: String,
    pub status_label: String,
    pub duration_ms: u64,
    pub message: Option<String>,
    pub hint: Option<String>,
}

/// Time series for the charts; `t` is seconds since the window started.
#[derive(Debug, Default, Serialize)]
pub struct Series {
    pub cpu: Vec<CpuPoint>,
    pub mem_available_pct: Vec<(f64, f64)>,
    pub disk_util_pct: Vec<(String, Vec<(f64, f64)>)>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct CpuPoint {
    pub t: f64,
    pub user: f64,
    pub system: f64,
    pub iowait: f64,
    pub steal: f64,
}

impl Report {
    pub fn build(
        snapshot: &Snapshot,
        assessment: &Assessment,
        plan: &Plan,
        catalog: &Catalog,
    ) -> anyhow::Result<Self> {
        let manifest = snapshot.manifest();
        let host: Option<HostFacts> = snapshot.fact(facts_names::HOST)?;
        let os: Option<OsFacts> = snapshot.fact(facts_names::OS)?;
        let w = &manifest.window;
        let time = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
        Ok(Self {
            lang: catalog.lang(),
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            generated_at: time(assessment.generated_at),
            hostname: manifest.host.hostname.clone(),
            baseline: assessment.baseline.clone(),
            window: WindowView {
                started: time(w.started_at),
                ended: time(w.ended_at),
                duration: format::duration(w.duration_secs()),
                interval: format::duration(w.interval_ms as f64 / 1000.0),
                ended_early: w.ended_early,
            },
            environment: host.as_ref().map(|h| environment(h, catalog)),
            databases: databases::build(snapshot, assessment, catalog)?,
            top_sql: top_sql(snapshot),
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
            findings: assessment
                .findings
                .iter()
                .map(|f| finding(f, catalog))
                .collect(),
            not_evaluated: assessment
                .not_evaluated
                .iter()
                .map(|n| NotEvaluatedView {
                    rule_id: n.rule_id.clone(),
                    title: catalog.text(&format!("rule.{}.title", n.rule_id)),
                    missing: n.missing.clone(),
                })
                .collect(),
            steps: plan
                .steps
                .iter()
                .enumerate()
                .map(|(i, s)| step(i + 1, s, catalog))
                .collect(),
            os_params: os
                .map(|o| o.sysctls.into_iter().collect())
                .unwrap_or_default(),
            series: series(snapshot),
            probes: manifest
                .probes
                .iter()
                .map(|p| ProbeView {
                    id: p.id.clone(),
                    status: p.status.to_string(),
                    status_label: catalog.text(&format!("probe.{}", p.status)),
                    duration_ms: p.duration_ms,
                    message: p.message.clone(),
                    hint: p.hint.clone(),
                })
                .collect(),
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
        uptime: opt(h.uptime_secs.map(|s| uptime(s, c))),
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

/// Days with one decimal once past a day, hours and minutes before.
fn uptime(secs: u64, c: &Catalog) -> String {
    if secs >= 86_400 {
        format!(
            "{} {}",
            format::number(secs as f64 / 86_400.0, 1),
            c.text("env.days")
        )
    } else {
        format::duration(secs as f64)
    }
}

fn finding(f: &Finding, c: &Catalog) -> FindingView {
    let severity = serde_plain(&f.severity);
    FindingView {
        rule_id: f.rule_id.clone(),
        title: c.text(&format!("rule.{}.title", f.rule_id)),
        rationale: c.text(&format!("rule.{}.rationale", f.rule_id)),
        dimension: c.text(&format!("dimension.{}", f.dimension.id())),
        severity_label: c.text(&format!("severity.{severity}")),
        severity,
        tier: f.tier.0,
        impact: bottleneck::impact(f, c),
        subject: f.subject.clone(),
        evidence: f
            .evidence
            .iter()
            .map(|e| EvidenceView {
                metric: e.metric.clone(),
                observed: format::value(&e.observed, c),
                threshold: e
                    .threshold
                    .as_ref()
                    .map(|t| format!("{} {}", t.op.symbol(), format::value(&t.value, c))),
            })
            .collect(),
    }
}

fn step(number: usize, s: &PlanStep, c: &Catalog) -> StepView {
    StepView {
        number,
        id: s.id.clone(),
        title: c.text(&format!("step.{}.title", s.id)),
        why: c.text(&format!("step.{}.why", s.id)),
        effect: c.text(&format!("step.{}.effect", s.id)),
        phase: c.text(&format!("phase.{}", serde_plain(&s.phase))),
        risk: c.text(&format!("risk.{}", serde_plain(&s.risk))),
        needs_restart: s.needs_restart,
        subject: s.subject.clone(),
        addresses: s
            .findings
            .iter()
            .map(|id| c.text(&format!("rule.{id}.title")))
            .collect(),
        script_language: s.script.language.clone(),
        script: s.script.body.clone(),
        rollback: s.rollback.body.clone(),
        verify: format!("{} {}", s.verify.metric, s.verify.target),
    }
}

/// The snake_case name serde gives a unit enum variant.
fn serde_plain<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn series(snapshot: &Snapshot) -> Series {
    let start = snapshot.manifest().window.started_at.timestamp_micros();
    let secs = |ts: i64| (ts - start) as f64 / 1e6;
    let mut out = Series::default();
    if let Some(t) = snapshot.table(tables::HOST_CPU) {
        let (ts, cpu) = (timestamps(t, "ts"), strings(t, "cpu"));
        let f = |name| floats(t, name);
        let (user, nice, system, irq, softirq, iowait, steal) = (
            f("user_pct"),
            f("nice_pct"),
            f("system_pct"),
            f("irq_pct"),
            f("softirq_pct"),
            f("iowait_pct"),
            f("steal_pct"),
        );
        for i in 0..t.rows() {
            if cpu[i].as_deref() != Some("all") {
                continue;
            }
            let Some(ts) = ts[i] else { continue };
            let v = |col: &[Option<f64>]| col[i].unwrap_or(0.0);
            out.cpu.push(CpuPoint {
                t: secs(ts),
                user: v(&user) + v(&nice),
                system: v(&system) + v(&irq) + v(&softirq),
                iowait: v(&iowait),
                steal: v(&steal),
            });
        }
    }
    if let Some(t) = snapshot.table(tables::HOST_SYSTEM) {
        let ts = timestamps(t, "ts");
        let (avail, total) = (ints(t, "mem_available_bytes"), ints(t, "mem_total_bytes"));
        for i in 0..t.rows() {
            if let (Some(ts), Some(a), Some(tot)) = (ts[i], avail[i], total[i])
                && tot > 0
            {
                out.mem_available_pct
                    .push((secs(ts), a as f64 * 100.0 / tot as f64));
            }
        }
    }
    if let Some(t) = snapshot.table(tables::HOST_DISK) {
        let (ts, dev, util) = (
            timestamps(t, "ts"),
            strings(t, "device"),
            floats(t, "util_pct"),
        );
        let mut by_device: Vec<(String, Vec<(f64, f64)>)> = Vec::new();
        for i in 0..t.rows() {
            let (Some(ts), Some(d), Some(u)) = (ts[i], dev[i].as_ref(), util[i]) else {
                continue;
            };
            match by_device.iter_mut().find(|(name, _)| name == d) {
                Some((_, points)) => points.push((secs(ts), u)),
                None => by_device.push((d.clone(), vec![(secs(ts), u)])),
            }
        }
        out.disk_util_pct = by_device;
    }
    out
}

/// The `log_queries` table as report rows (seconds shown with their unit).
fn top_sql(snapshot: &Snapshot) -> Vec<TopSqlRow> {
    let Some(t) = snapshot.table(tables::LOG_QUERIES) else {
        return Vec::new();
    };
    let (source, id, fingerprint) = (
        strings(t, "source"),
        strings(t, "id"),
        strings(t, "fingerprint"),
    );
    let (rank, calls) = (ints(t, "rank"), ints(t, "calls"));
    let (total, share, mean, p95) = (
        floats(t, "total_s"),
        floats(t, "share_pct"),
        floats(t, "mean_s"),
        floats(t, "p95_s"),
    );
    let secs =
        |v: Option<f64>| v.map_or_else(String::new, |s| format!("{} s", format::number(s, 4)));
    (0..t.rows())
        .map(|i| TopSqlRow {
            source: source[i].clone().unwrap_or_default(),
            rank: rank[i].unwrap_or_default(),
            id: id[i].clone().unwrap_or_default(),
            calls: calls[i].unwrap_or_default(),
            total: secs(total[i]),
            share: share[i].map_or_else(String::new, |p| format!("{} %", format::number(p, 1))),
            mean: secs(mean[i]),
            p95: secs(p95[i]),
            // A multi-megabyte statement's fingerprint is cut for the page.
            fingerprint: fingerprint[i]
                .as_deref()
                .unwrap_or_default()
                .chars()
                .take(600)
                .collect(),
        })
        .collect()
}

fn floats(t: &Table, name: &str) -> Vec<Option<f64>> {
    match t.column(name) {
        Some(ColumnData::Float64(v)) => v.clone(),
        _ => vec![None; t.rows()],
    }
}

fn ints(t: &Table, name: &str) -> Vec<Option<i64>> {
    match t.column(name) {
        Some(ColumnData::Int64(v)) => v.clone(),
        _ => vec![None; t.rows()],
    }
}

fn timestamps(t: &Table, name: &str) -> Vec<Option<i64>> {
    match t.column(name) {
        Some(ColumnData::Timestamp(v)) => v.clone(),
        _ => vec![None; t.rows()],
    }
}

fn strings(t: &Table, name: &str) -> Vec<Option<String>> {
    match t.column(name) {
        Some(ColumnData::Utf8(v)) => v.clone(),
        _ => vec![None; t.rows()],
    }
}
