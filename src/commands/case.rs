//! `perfdiag case …`: one engagement in a folder, from the diagnosis to the end of
//! its guarantee (docs/case.md). Each verb opens and checks the case, takes its lock
//! when it changes it, does its work without touching the case, and then writes what
//! changed — snapshots and comparisons first, `progress.toml` last.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Utc};
use perfdiag_analyzers::{Baseline, Options};
use perfdiag_model::{Assessment, Manifest, ProbeStatus, Snapshot, StepState, default_file_name};

use super::{Outcome, assess_and_plan, outcome_of};
use crate::case::clock::Clock;
use crate::case::config::{self, CaseFile, Collection, Targets};
use crate::case::lock::Lock;
use crate::case::progress::{
    FindingKey, Optimization, PlanEntry, Recheck, Role, StepEntry, StepEvent, Verdict, state_id,
};
use crate::case::schedule::{self, Schedule};
use crate::case::status::CaseStatus;
use crate::case::window::Window;
use crate::case::{self, Case, print, rules, verify};
use crate::cli::{
    AnalysisArgs, CaseAddArgs, CaseAppliedArgs, CaseCollectArgs, CaseCommand, CaseConfirmArgs,
    CaseInitArgs, CaseOptimizedArgs, CaseRecheckArgs, CaseRole, CaseSampling, CaseScheduleArgs,
    CaseStatusArgs, DatabaseArgs, SamplingArgs, WorkloadArg,
};
use crate::output;
use crate::report::Catalog;
use crate::terminal::Paint;

pub fn run(command: &CaseCommand) -> Result<Outcome> {
    match command {
        CaseCommand::Init(args) => init(args),
        CaseCommand::Add(args) => add(args),
        CaseCommand::Collect(args) => collect(args),
        CaseCommand::Plan(args) => plan(&args.dir),
        CaseCommand::Applied(args) => applied(args),
        CaseCommand::Optimized(args) => optimized(args),
        CaseCommand::Recheck(args) => recheck(args),
        CaseCommand::Status(args) => status(args),
        CaseCommand::Report(args) => super::case_report::run(args),
        CaseCommand::Confirm(args) => confirm(args),
        CaseCommand::Schedule(args) => schedule(args),
    }
}

fn catalog(case: &Case) -> Result<Catalog> {
    Catalog::load(case.config.lang())
}

/// Takes the lock, then opens the case: what every verb that changes a case does first.
fn open_locked(dir: &Path, verb: &str) -> Result<(Lock, Case)> {
    if !dir.join(config::FILE).is_file() {
        bail!(
            "{} is not a case folder (it has no {}): `perfdiag case init {}` makes one",
            dir.display(),
            config::FILE,
            dir.display()
        );
    }
    let lock = Lock::take(dir, verb)?;
    let case = Case::open(dir)?;
    Ok((lock, case))
}

/// `--at` for an event: not in the future of the case's clock.
fn event_time(at: Option<DateTime<Utc>>, clock: &Clock, what: &str) -> Result<DateTime<Utc>> {
    let at = at.map_or_else(|| clock.now(), |t| Clock::fixed(t).now());
    if at > clock.now() {
        bail!(
            "{what} cannot be dated in the future ({}, and it is {} now)",
            at.format("%Y-%m-%d %H:%M UTC"),
            clock.now().format("%Y-%m-%d %H:%M UTC")
        );
    }
    Ok(at)
}

// ---------------------------------------------------------------------------------
// init

fn init(args: &CaseInitArgs) -> Result<Outcome> {
    let clock = Clock::from_env()?;
    let file = CaseFile {
        customer: args.customer.clone(),
        system: args.system.clone(),
        engineer: args.engineer.clone(),
        language: args.lang.map(|l| match l {
            crate::report::Lang::En => "en".to_owned(),
            crate::report::Lang::ZhCn => "zh-CN".to_owned(),
        }),
        workload: args.workload.map(Into::into),
        shared_host: args.shared_host,
        baseline: None,
        targets: Targets {
            postgres: args.postgres.clone(),
            mysql: args.mysql.clone(),
        },
        collection: Collection {
            duration: args.duration.clone(),
            interval: args.interval.clone(),
            host_root: None,
        },
    };
    let case = Case::init(&args.dir, file, clock.now())?;
    eprintln!(
        "case made in {}: check {} (customer, targets, collection), then take the diagnosis \
         snapshot with `perfdiag case collect {}` (or add one with `perfdiag case add`)",
        case.dir.display(),
        case.dir.join(config::FILE).display(),
        case.dir.display()
    );
    Ok(Outcome::Clean)
}

// ---------------------------------------------------------------------------------
// snapshots: added, collected, checked

/// The database targets a snapshot reached (its settings probe did not fail).
fn reached(m: &Manifest) -> BTreeSet<String> {
    m.probes
        .iter()
        .filter(|p| p.id.ends_with(".settings") && p.status != ProbeStatus::Failed)
        .filter_map(|p| p.target.clone())
        .collect()
}

/// Why `target` is missing from a snapshot, from its failed probes.
fn why_missing(m: &Manifest, target: &str) -> String {
    m.probes
        .iter()
        .find(|p| p.target.as_deref() == Some(target) && p.status == ProbeStatus::Failed)
        .and_then(|p| p.message.clone())
        .unwrap_or_else(|| "not collected".to_owned())
}

/// A post-optimization snapshot must hold every database the diagnosis held (else its
/// findings would look resolved), and, when collected with the case's targets, reach
/// every one of them.
fn check_targets(case: &Case, m: &Manifest, file: &Path, collected: bool) -> Result<()> {
    let mut required = BTreeSet::new();
    if let Some(plan) = &case.progress.plan {
        required.extend(reached(&Snapshot::read_manifest(
            &case.path(&plan.snapshot),
        )?));
    }
    if collected {
        required.extend(case.config.targets().map(|t| t.label().to_owned()));
    }
    let have = reached(m);
    let missing: Vec<String> = required
        .iter()
        .filter(|t| !have.contains(*t))
        .map(|t| format!("{t} ({})", why_missing(m, t)))
        .collect();
    if !missing.is_empty() {
        bail!(
            "{} lacks the database {}: a re-check without it would take its problems for fixed",
            file.display(),
            missing.join(", ")
        );
    }
    Ok(())
}

/// Refuses a snapshot taken before `after` (the baseline before the diagnosis, a
/// re-check before the baseline): the files may be swapped.
fn check_order(m: &Manifest, file: &Path, after: &str, case: &Case, what: &str) -> Result<()> {
    let Some(earlier) = case.progress.snapshot(after) else {
        return Ok(());
    };
    if m.window.started_at <= earlier.taken_at {
        bail!(
            "{} was taken at {}, not after the {what} ({}, {}): give a snapshot taken later",
            file.display(),
            m.window.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
            after,
            earlier.taken_at.format("%Y-%m-%d %H:%M:%S UTC"),
        );
    }
    Ok(())
}

/// A collected snapshot, written to a temporary file outside the case (moved in only
/// once the verb succeeds; kept there when it fails, for a look).
struct Collected {
    path: PathBuf,
    snapshot: Snapshot,
}

/// Collects this host and the case's targets, as `perfdiag collect` would, with the
/// case's duration and interval (or the command line's).
fn collect_snapshot(case: &Case, overrides: &CaseSampling) -> Result<Collected> {
    let c = &case.config;
    let sampling = SamplingArgs {
        duration: overrides.duration.unwrap_or(c.duration),
        interval: overrides.interval.unwrap_or(c.interval),
        targets: Vec::new(),
        top_processes: 15,
        host_root: c
            .file
            .collection
            .host_root
            .clone()
            .unwrap_or_else(|| PathBuf::from("/")),
        quiet: overrides.quiet,
        logs: Vec::new(),
        databases: DatabaseArgs {
            postgres: c.postgres.clone(),
            mysql: c.mysql.clone(),
            statement_timeout: std::time::Duration::from_secs(5),
            top: 50,
        },
    };
    let stop = crate::collection::interrupt_flag();
    let snapshot = crate::collection::collect(&sampling, &stop);
    let m = snapshot.manifest();
    let folder = std::env::temp_dir().join(format!("perfdiag-case-{}", std::process::id()));
    std::fs::create_dir_all(&folder)
        .with_context(|| format!("cannot create {}", folder.display()))?;
    let path = folder.join(default_file_name(&m.host.hostname, m.window.started_at));
    snapshot.write(&path)?;
    Ok(Collected { path, snapshot })
}

impl Collected {
    /// The temporary copy is no longer needed.
    fn discard(&self) {
        let _ = std::fs::remove_file(&self.path);
        if let Some(parent) = self.path.parent() {
            let _ = std::fs::remove_dir(parent);
        }
    }
}

fn failed_probes(snapshot: &Snapshot) {
    for p in snapshot
        .manifest()
        .probes
        .iter()
        .filter(|p| p.status == ProbeStatus::Failed)
    {
        eprintln!(
            "warning: probe {}{} failed: {}",
            p.id,
            p.target
                .as_deref()
                .map(|t| format!(" of {t}"))
                .unwrap_or_default(),
            p.message.as_deref().unwrap_or("")
        );
    }
}

fn add(args: &CaseAddArgs) -> Result<Outcome> {
    match args.role {
        CaseRole::Recheck => recheck_given(&args.dir, &args.snapshot),
        CaseRole::Diagnosis => {
            let clock = Clock::from_env()?;
            let (_lock, mut case) = open_locked(&args.dir, "add")?;
            // What is wrong with the file first: it is wrong for any case.
            let m = Snapshot::read_manifest(&args.snapshot)?;
            case.check_host(&args.snapshot, &m)?;
            refuse_after_optimization(&case)?;
            let file = case.add_snapshot(&args.snapshot, &m, Role::Diagnosis, clock.now())?;
            case.save()?;
            eprintln!("{file} added as a diagnosis snapshot");
            next_after_diagnosis(&case);
            Ok(Outcome::Clean)
        }
    }
}

fn refuse_after_optimization(case: &Case) -> Result<()> {
    if let Some(o) = &case.progress.optimization {
        bail!(
            "the case was optimized on {}: a diagnosis now would not be one; take follow-up \
             snapshots with `perfdiag case recheck {}`",
            o.at.format("%Y-%m-%d"),
            case.dir.display()
        );
    }
    Ok(())
}

fn next_after_diagnosis(case: &Case) {
    if case.progress.plan.is_none() {
        eprintln!(
            "next: `perfdiag case plan {}` makes the plan from the latest diagnosis snapshot",
            case.dir.display()
        );
    }
}

fn collect(args: &CaseCollectArgs) -> Result<Outcome> {
    let clock = Clock::from_env()?;
    let (_lock, mut case) = open_locked(&args.dir, "collect")?;
    refuse_after_optimization(&case)?;
    let collected = collect_snapshot(&case, &args.sampling)?;
    failed_probes(&collected.snapshot);
    let m = collected.snapshot.manifest().clone();
    let file = case.add_snapshot(&collected.path, &m, Role::Diagnosis, clock.now())?;
    case.save()?;
    collected.discard();
    eprintln!("{file} added as a diagnosis snapshot");
    next_after_diagnosis(&case);
    Ok(outcome_of(&collected.snapshot))
}

// ---------------------------------------------------------------------------------
// plan, applied

/// The analysis options of `perfdiag plan`, from case.toml.
fn analysis_args(case: &Case) -> AnalysisArgs {
    let c = &case.config;
    AnalysisArgs {
        lang: Some(c.lang()),
        baseline: c.file.baseline.as_ref().map(|b| case.dir.join(b)),
        workload: c.file.workload.map(|w| match w {
            perfdiag_model::Workload::Oltp => WorkloadArg::Oltp,
            perfdiag_model::Workload::Olap => WorkloadArg::Olap,
            perfdiag_model::Workload::Mixed => WorkloadArg::Mixed,
        }),
        shared_host: c.file.shared_host,
    }
}

/// The baseline thresholds and options of the analyzers, from case.toml.
pub(super) fn analysis(case: &Case) -> Result<(Baseline, Options)> {
    let c = &case.config;
    let baseline = match &c.file.baseline {
        Some(path) => Baseline::from_file(&case.dir.join(path))?,
        None => Baseline::builtin(),
    };
    Ok((
        baseline,
        Options {
            workload: c.file.workload,
            dedicated: !c.file.shared_host,
        },
    ))
}

fn plan(dir: &Path) -> Result<Outcome> {
    let clock = Clock::from_env()?;
    let (_lock, mut case) = open_locked(dir, "plan")?;
    if let Some(p) = &case.progress.plan {
        bail!(
            "the case already has its plan ({}/, made {} from {}): a case has one plan, and \
             perfdiag never writes over one",
            p.folder,
            p.made_at.format("%Y-%m-%d"),
            p.snapshot
        );
    }
    refuse_after_optimization(&case)?;
    let Some(diagnosis) = case.progress.latest_diagnosis().cloned() else {
        bail!(
            "the case has no diagnosis snapshot yet: `perfdiag case collect {}` takes one",
            dir.display()
        );
    };
    let folder = case.path(case::PLAN);
    if folder.exists() {
        bail!(
            "{} exists but the case records no plan (left by an interrupted run?): remove or \
             rename it, then run again",
            folder.display()
        );
    }
    let snapshot = case.read_snapshot(&diagnosis.file)?;
    let (assessment, plan, catalog) = assess_and_plan(&snapshot, &analysis_args(&case))?;

    // Written beside, then renamed: the plan folder appears whole or not at all.
    let temp = case.path(&format!(".plan.tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&temp);
    std::fs::create_dir_all(&temp).with_context(|| format!("cannot create {}", temp.display()))?;
    let source = diagnosis.file.trim_start_matches("snapshots/").to_owned();
    let written = super::plan::write_plan(&temp, &plan, &catalog, &snapshot, &source);
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&temp);
        return Err(e);
    }
    std::fs::rename(&temp, &folder)
        .with_context(|| format!("cannot move the plan into {}", folder.display()))?;

    let now = clock.now();
    case.progress.steps = plan
        .steps
        .iter()
        .map(|s| StepEntry {
            id: s.id.clone(),
            state: StepState::Proposed,
            addresses: addressed(&assessment, &s.findings),
            history: vec![StepEvent {
                state: StepState::Proposed,
                at: now,
                snapshot: None,
                evidence: Vec::new(),
            }],
        })
        .collect();
    case.progress.plan = Some(PlanEntry {
        folder: case::PLAN.to_owned(),
        snapshot: diagnosis.file.clone(),
        made_at: now,
    });
    case.save()?;

    let mut listing = String::new();
    for (i, s) in plan.steps.iter().enumerate() {
        listing.push_str(&format!("{:>3}  {}\n", i + 1, s.id));
    }
    output::print(&listing);
    eprintln!(
        "plan of {} steps written to {} from {}: review its README.md and scripts, apply by \
         hand, then record what was applied with `perfdiag case applied {} STEP…` (ids or numbers)",
        plan.steps.len(),
        folder.display(),
        diagnosis.file,
        dir.display()
    );
    Ok(Outcome::Clean)
}

/// The findings of `assessment` whose rule a step answers: what it must make disappear.
fn addressed(assessment: &Assessment, rules: &[String]) -> Vec<FindingKey> {
    let mut keys: Vec<FindingKey> = assessment
        .findings
        .iter()
        .filter(|f| rules.contains(&f.rule_id))
        .map(|f| FindingKey {
            rule: f.rule_id.clone(),
            subject: f.subject.clone(),
        })
        .collect();
    keys.sort();
    keys.dedup();
    keys
}

/// A step named by id or by its number in the plan.
fn resolve_step<'a>(case: &'a Case, name: &str) -> Result<&'a str> {
    let steps = &case.progress.steps;
    if let Some(s) = steps.iter().find(|s| s.id == name) {
        return Ok(&s.id);
    }
    if let Ok(n) = name.parse::<usize>()
        && let Some(s) = n.checked_sub(1).and_then(|i| steps.get(i))
    {
        return Ok(&s.id);
    }
    let known: Vec<String> = steps
        .iter()
        .enumerate()
        .map(|(i, s)| format!("{} {}", i + 1, s.id))
        .collect();
    bail!(
        "the plan has no step {name}; its steps are: {}",
        known.join(", ")
    )
}

fn applied(args: &CaseAppliedArgs) -> Result<Outcome> {
    let clock = Clock::from_env()?;
    let (_lock, mut case) = open_locked(&args.dir, "applied")?;
    let Some(plan) = case.progress.plan.clone() else {
        bail!(
            "the case has no plan yet: `perfdiag case plan {}` makes it",
            args.dir.display()
        );
    };
    let at = event_time(args.at, &clock, "a step")?;
    if at < plan.made_at {
        bail!(
            "dates out of order: a step cannot be applied ({}) before the plan was made ({})",
            at.format("%Y-%m-%d %H:%M UTC"),
            plan.made_at.format("%Y-%m-%d %H:%M UTC")
        );
    }
    let mut ids = Vec::new();
    for name in &args.steps {
        let id = resolve_step(&case, name)?.to_owned();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    for id in &ids {
        let step = case
            .progress
            .steps
            .iter_mut()
            .find(|s| &s.id == id)
            .expect("resolved above");
        match step.state {
            StepState::Proposed | StepState::Regressed => {}
            state => bail!(
                "step {id} is already {} (since {}); nothing was recorded",
                state_id(state),
                step.since()
                    .map_or_else(String::new, |t| t.format("%Y-%m-%d").to_string())
            ),
        }
        if let Some(since) = step.since()
            && at < since
        {
            bail!(
                "dates out of order: step {id} became {} on {}, after {}",
                state_id(step.state),
                since.format("%Y-%m-%d %H:%M UTC"),
                at.format("%Y-%m-%d %H:%M UTC")
            );
        }
        step.push(StepEvent {
            state: StepState::Applied,
            at,
            snapshot: None,
            evidence: Vec::new(),
        });
    }
    case.save()?;
    for id in &ids {
        eprintln!("step {id}: applied on {}", at.format("%Y-%m-%d %H:%M UTC"));
    }
    if case.progress.optimization.is_none() {
        eprintln!(
            "once the optimization is complete: `perfdiag case optimized {}` takes the baseline \
             snapshot and opens the guarantee window",
            args.dir.display()
        );
    }
    Ok(Outcome::Clean)
}

// ---------------------------------------------------------------------------------
// optimized

fn optimized(args: &CaseOptimizedArgs) -> Result<Outcome> {
    let clock = Clock::from_env()?;
    let (_lock, mut case) = open_locked(&args.dir, "optimized")?;
    if let Some(o) = &case.progress.optimization {
        bail!(
            "the case was optimized on {} and its window runs until {}: a window opens once",
            o.at.format("%Y-%m-%d"),
            o.until.format("%Y-%m-%d")
        );
    }
    let Some(plan) = case.progress.plan.clone() else {
        bail!(
            "the case has no plan yet: `perfdiag case plan {}` makes it",
            args.dir.display()
        );
    };
    let first_applied = case
        .progress
        .steps
        .iter()
        .filter_map(|s| s.last(StepState::Applied))
        .map(|e| e.at)
        .min();
    let Some(first_applied) = first_applied else {
        bail!(
            "no step of the plan is recorded as applied: record them first with `perfdiag case \
             applied {} STEP…`",
            args.dir.display()
        );
    };
    let at = event_time(args.at, &clock, "the optimization")?;
    if at < first_applied {
        bail!(
            "dates out of order: the optimization ({}) cannot be before the first step was \
             applied ({})",
            at.format("%Y-%m-%d %H:%M UTC"),
            first_applied.format("%Y-%m-%d %H:%M UTC")
        );
    }
    let window =
        Window::open(at, args.until.map(|u| Clock::fixed(u).now())).map_err(|e| anyhow!("{e}"))?;

    let collected = match &args.snapshot {
        Some(_) => None,
        None => Some(collect_snapshot(&case, &args.sampling)?),
    };
    let (path, snapshot) = match (&args.snapshot, &collected) {
        (Some(p), _) => (p.clone(), Snapshot::read(p)?),
        (None, Some(c)) => (c.path.clone(), c.snapshot.clone()),
        (None, None) => unreachable!("collected above"),
    };
    let m = snapshot.manifest().clone();
    case.check_host(&path, &m)?;
    check_order(&m, &path, &plan.snapshot, &case, "diagnosis")?;
    check_targets(&case, &m, &path, collected.is_some())?;

    let (baseline, options) = analysis(&case)?;
    let diagnosis = case.read_snapshot(&plan.snapshot)?;
    let gains = perfdiag_analyzers::compare(&diagnosis, &snapshot, &baseline, &options)
        .context("comparing the diagnosis with the baseline")?;
    let assessment = perfdiag_analyzers::assess_with(&snapshot, &baseline, &options)
        .context("assessing the baseline")?;

    let file = case.add_snapshot(&path, &m, Role::Baseline, clock.now())?;
    let comparison = case.write_comparison("optimization.json", &gains)?;
    let judgements = verify::judge_steps(&mut case.progress.steps, &assessment, at, &file);
    case.progress.optimization = Some(Optimization {
        at,
        until: window.until,
        baseline: file.clone(),
        comparison,
    });
    case.save()?;
    if let Some(c) = &collected {
        c.discard();
    }

    let catalog = catalog(&case)?;
    let status = CaseStatus::of(&case, clock.now())?;
    let mut out = format!("{file}: {}\n", catalog.text("case.baseline_taken"));
    for j in judgements.iter().filter(|j| j.changed()) {
        out.push_str(&format!(
            "  {} {}: {} → {}\n",
            catalog.text("case.step"),
            j.step,
            catalog.text(&format!("case.state.{}", state_id(j.before))),
            catalog.text(&format!("case.state.{}", state_id(j.after))),
        ));
    }
    for j in judgements
        .iter()
        .filter(|j| j.after == StepState::Applied && !j.present.is_empty())
    {
        out.push_str(&format!(
            "  {} {}: {}\n",
            catalog.text("case.step"),
            j.step,
            catalog.text("case.still_present")
        ));
    }
    out.push_str(&format!(
        "  {}: {}\n",
        catalog.text("case.window.label"),
        print::window_line(&status, &catalog)
    ));
    output::print(&out);
    Ok(Outcome::Clean)
}

// ---------------------------------------------------------------------------------
// recheck

fn recheck(args: &CaseRecheckArgs) -> Result<Outcome> {
    let result = match &args.snapshot {
        Some(file) => recheck_given(&args.dir, file),
        None => recheck_collected(&args.dir, &args.sampling),
    };
    if args.log {
        log(&args.dir, &result);
    }
    result
}

/// Appends the outcome of an unattended run to `logs/recheck.log`.
fn log(dir: &Path, result: &Result<Outcome>) {
    let path = dir.join(case::RECHECK_LOG);
    let line = match result {
        Ok(_) => "re-check done (see progress.toml)".to_owned(),
        Err(e) => format!("re-check failed: {e:#}"),
    };
    let now = Clock::from_env().map_or_else(|_| Utc::now(), |c| c.now());
    let written = std::fs::create_dir_all(dir.join(case::LOGS)).and_then(|()| {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)?;
        writeln!(f, "{} {line}", now.format("%Y-%m-%dT%H:%M:%SZ"))
    });
    if let Err(e) = written {
        eprintln!("warning: cannot write {}: {e}", path.display());
    }
}

/// What the re-check found, ready to be recorded.
struct Judged {
    steps: Vec<StepEntry>,
    changes: Vec<(String, StepState, StepState)>,
    comparison: perfdiag_model::comparison::Comparison,
    verdict: Verdict,
    reasons: Vec<crate::case::progress::Reason>,
}

/// Checks a re-check snapshot and judges it, changing nothing.
fn judge(
    case: &Case,
    path: &Path,
    snapshot: &Snapshot,
    at: DateTime<Utc>,
    collected: bool,
) -> Result<Judged> {
    let o = case
        .progress
        .optimization
        .as_ref()
        .expect("checked by the caller");
    let m = snapshot.manifest();
    case.check_host(path, m)?;
    check_order(m, path, &o.baseline, case, "post-optimization baseline")?;
    check_targets(case, m, path, collected)?;
    let (baseline, options) = analysis(case)?;
    let before = case.read_snapshot(&o.baseline)?;
    let comparison = perfdiag_analyzers::compare(&before, snapshot, &baseline, &options)
        .context("comparing the baseline with the re-check")?;
    let assessment = perfdiag_analyzers::assess_with(snapshot, &baseline, &options)
        .context("assessing the re-check")?;
    let gains = case.read_comparison(&o.comparison)?;
    let mut steps = case.progress.steps.clone();
    let file = case::snapshot_file(path, m);
    let judgements = verify::judge_steps(&mut steps, &assessment, at, &file);
    let (verdict, reasons) = rules::verdict(&steps, &judgements, &comparison, Some(&gains));
    let changes = judgements
        .into_iter()
        .filter(verify::Judgement::changed)
        .map(|j| (j.step, j.before, j.after))
        .collect();
    Ok(Judged {
        steps,
        changes,
        comparison,
        verdict,
        reasons,
    })
}

/// The case is optimized, and the clock is not before its last re-check.
fn check_recheckable(case: &Case, now: DateTime<Utc>) -> Result<()> {
    if case.progress.optimization.is_none() {
        bail!(
            "the case has no post-optimization baseline yet: run `perfdiag case optimized {}` \
             once the plan is applied",
            case.dir.display()
        );
    }
    if let Some(last) = case.progress.rechecks.last()
        && now < last.at
    {
        bail!(
            "it is {} by the case's clock, before its last re-check ({}): check the clock (or {})",
            now.format("%Y-%m-%d %H:%M UTC"),
            last.at.format("%Y-%m-%d %H:%M UTC"),
            crate::case::clock::NOW_VARIABLE
        );
    }
    Ok(())
}

/// Records a judged re-check: the snapshot copied in, its comparison, the steps, the
/// re-check; the record last.
fn record(
    case: &mut Case,
    path: &Path,
    at: DateTime<Utc>,
    judged: Judged,
    now: DateTime<Utc>,
) -> Result<Recheck> {
    let m = Snapshot::read_manifest(path)?;
    let n = case.progress.rechecks.len() + 1;
    let file = case.add_snapshot(path, &m, Role::Recheck, now)?;
    let comparison = case.write_comparison(&format!("recheck-{n:03}.json"), &judged.comparison)?;
    case.progress.steps = judged.steps;
    let window = case
        .progress
        .optimization
        .as_ref()
        .expect("optimized")
        .window();
    let r = Recheck {
        at,
        verdict: judged.verdict,
        in_window: window.contains(at),
        snapshot: Some(file),
        comparison: Some(comparison),
        reasons: judged.reasons,
        error: None,
    };
    case.progress.rechecks.push(r.clone());
    case.save()?;
    Ok(r)
}

fn print_recheck(
    case: &Case,
    r: &Recheck,
    changes: &[(String, StepState, StepState)],
    now: DateTime<Utc>,
) -> Result<()> {
    let status = CaseStatus::of(case, now)?;
    output::print(&print::recheck(
        r,
        changes,
        &status,
        &catalog(case)?,
        Paint::for_stdout(),
    ));
    Ok(())
}

/// `recheck --snapshot FILE` (and `add --role recheck`): an engineer's snapshot. A
/// bad file is the engineer's to fix, so it is refused and nothing is recorded.
fn recheck_given(dir: &Path, file: &Path) -> Result<Outcome> {
    let clock = Clock::from_env()?;
    let (_lock, mut case) = open_locked(dir, "recheck")?;
    let now = clock.now();
    check_recheckable(&case, now)?;
    let snapshot = Snapshot::read(file)?;
    // The time the system was seen: the snapshot's own (an engineer may bring it back
    // days later), never later than the clock.
    let at = Clock::fixed(snapshot.manifest().window.started_at)
        .now()
        .min(now);
    let o = case.progress.optimization.as_ref().expect("checked");
    if at < o.at {
        bail!(
            "{} was taken at {}, before the optimization ({}): it cannot re-check it",
            file.display(),
            at.format("%Y-%m-%d %H:%M UTC"),
            o.at.format("%Y-%m-%d %H:%M UTC")
        );
    }
    if let Some(last) = case.progress.rechecks.last()
        && at < last.at
    {
        bail!(
            "{} was taken at {}, before the last re-check ({}): re-checks are recorded in order",
            file.display(),
            at.format("%Y-%m-%d %H:%M UTC"),
            last.at.format("%Y-%m-%d %H:%M UTC")
        );
    }
    let judged = judge(&case, file, &snapshot, at, false)?;
    let changes = judged.changes.clone();
    let r = record(&mut case, file, at, judged, now)?;
    print_recheck(&case, &r, &changes, now)?;
    Ok(Outcome::Clean)
}

/// `recheck` without a snapshot: collect now, as a scheduled run does. Once the case
/// is open and locked, a failure (a database unreachable, a snapshot that cannot be
/// judged) is recorded as a failed re-check, and nothing else changes.
fn recheck_collected(dir: &Path, sampling: &CaseSampling) -> Result<Outcome> {
    let clock = Clock::from_env()?;
    let (_lock, mut case) = open_locked(dir, "recheck")?;
    let now = clock.now();
    check_recheckable(&case, now)?;
    let attempt = collect_snapshot(&case, sampling).and_then(|c| {
        failed_probes(&c.snapshot);
        let judged = judge(&case, &c.path, &c.snapshot, now, true);
        match judged {
            Ok(j) => Ok((c, j)),
            Err(e) => Err(e.context(format!(
                "the snapshot taken is kept at {}",
                c.path.display()
            ))),
        }
    });
    match attempt {
        Ok((collected, judged)) => {
            let changes = judged.changes.clone();
            let r = record(&mut case, &collected.path, now, judged, now)?;
            collected.discard();
            print_recheck(&case, &r, &changes, now)?;
            Ok(Outcome::Clean)
        }
        Err(error) => {
            let message = format!("{error:#}");
            let window = case
                .progress
                .optimization
                .as_ref()
                .expect("checked")
                .window();
            case.progress.rechecks.push(Recheck {
                at: now,
                verdict: Verdict::Failed,
                in_window: window.contains(now),
                snapshot: None,
                comparison: None,
                reasons: Vec::new(),
                error: Some(message.clone()),
            });
            case.save()?;
            Err(anyhow!(
                "the re-check failed, and is recorded as failed in {}: {message}",
                case.path(crate::case::progress::FILE).display()
            ))
        }
    }
}

// ---------------------------------------------------------------------------------
// status, confirm, schedule

fn status(args: &CaseStatusArgs) -> Result<Outcome> {
    let clock = Clock::from_env()?;
    let case = Case::open(&args.dir)?;
    let status = CaseStatus::of(&case, clock.now())?;
    if args.json {
        output::print(&(serde_json::to_string_pretty(&status)? + "\n"));
    } else {
        let catalog = Catalog::load(args.lang.unwrap_or_else(|| case.config.lang()))?;
        output::print(&print::status(&status, &catalog, Paint::for_stdout()));
    }
    Ok(Outcome::Clean)
}

fn confirm(args: &CaseConfirmArgs) -> Result<Outcome> {
    let clock = Clock::from_env()?;
    let (_lock, mut case) = open_locked(&args.dir, "confirm")?;
    let Some(o) = case.progress.optimization.clone() else {
        bail!(
            "the service is confirmed once the optimization is done: `perfdiag case optimized {}` first",
            args.dir.display()
        );
    };
    if let Some(c) = &case.progress.confirmation {
        bail!(
            "the service was already confirmed by {} on {}",
            c.by,
            c.at.format("%Y-%m-%d")
        );
    }
    let at = event_time(args.at, &clock, "the confirmation")?;
    if at < o.at {
        bail!(
            "dates out of order: the confirmation ({}) cannot be before the optimization ({})",
            at.format("%Y-%m-%d"),
            o.at.format("%Y-%m-%d")
        );
    }
    case.progress.confirmation = Some(crate::case::progress::Confirmation {
        by: args.by.clone(),
        at,
    });
    case.save()?;
    eprintln!(
        "service confirmed by {} on {}",
        args.by,
        at.format("%Y-%m-%d")
    );
    Ok(Outcome::Clean)
}

fn schedule(args: &CaseScheduleArgs) -> Result<Outcome> {
    // The case must exist and be sound before anything runs it unattended.
    let case = Case::open(&args.dir)?;
    let dir = std::fs::canonicalize(&case.dir)
        .with_context(|| format!("cannot resolve {}", case.dir.display()))?;
    let exe = std::env::current_exe().context("cannot tell where perfdiag is")?;
    let schedule = Schedule {
        every: args.every,
        at: args.time,
        exe: exe.to_string_lossy().into_owned(),
        dir: dir.to_string_lossy().into_owned(),
    };
    output::print(&schedule.instructions());
    if args.install {
        schedule::install_cron(&schedule)?;
        eprintln!(
            "installed in the crontab of the current user: {}",
            schedule.cron_line()
        );
    }
    Ok(Outcome::Clean)
}
