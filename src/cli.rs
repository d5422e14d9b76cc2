//! The command line: verbs, their options, and the help that teaches them.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use perfdiag_probes::db::{DbOptions, DbTarget, Engine};

use crate::report::Lang;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  error: the message says what went wrong and what to do (a collection that
     cannot be written where asked is saved in the temp folder, and the message says where)
  2  invalid command line
  3  output written, but at least one probe failed (see `perfdiag snapshot inspect`)";

/// Database performance diagnosis and tuning.
///
/// perfdiag collects facts and samples from a host (and, later, its databases) into one
/// snapshot file, assesses every bottleneck against baselines, turns the findings into
/// an ordered optimization plan, and writes a report. It never changes the system it
/// looks at: plans are scripts for a person to review and run.
#[derive(Debug, Parser)]
#[command(name = "perfdiag", version, after_help = EXIT_CODES, max_term_width = 100)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Collect, assess, plan and report in one go: this host, and the databases given
    /// with --pg / --mysql.
    ///
    /// Samples the host for --duration, writes the snapshot next to the report, and
    /// prints a summary. Example: `perfdiag diagnose --duration 60s -o report.html`
    Diagnose(DiagnoseArgs),
    /// Collect a snapshot of the local host: facts, OS parameters and samples.
    ///
    /// Read-only and light (well under 1% of a core). Ctrl-C ends the sampling window
    /// early and still writes the snapshot. Example: `perfdiag collect --duration 5m`
    Collect(CollectArgs),
    /// Make a report from a snapshot taken earlier (here or on another machine).
    ///
    /// Example: `perfdiag report perfdiag-db01-20261129T080000Z.pdsnap -o db01.html`
    Report(ReportArgs),
    /// Digest slow-query logs into a response-time profile, like pt-query-digest.
    ///
    /// MySQL/MariaDB slow logs and PostgreSQL logs (stderr with any log_line_prefix,
    /// csvlog, jsonlog), plain or .gz/.zst/.bz2; the format is detected. Example:
    /// `perfdiag logs /var/log/mysql/slow.log.gz --top 10`
    Logs(LogsArgs),
    /// Assess a snapshot and print the findings; with --against, compare it with an
    /// earlier snapshot of the same system.
    ///
    /// The comparison lists KPIs, wait classes, findings and queries that improved,
    /// regressed, appeared or vanished: what re-checks after an optimization use.
    /// Example: `perfdiag analyze after.pdsnap --against before.pdsnap`
    Analyze(AnalyzeArgs),
    /// Write the optimization plan of a snapshot as scripts for a person to run.
    ///
    /// DIR gets plan.json, one numbered folder per step in the order to apply them, each
    /// with an apply and a rollback script, and a README (in --lang) for whoever runs
    /// them. perfdiag itself never runs them. See docs/plan.md.
    /// Example: `perfdiag plan db01.pdsnap -o plan-db01/`
    Plan(PlanArgs),
    /// Write collection scripts for the database's own client (psql, mysql, sqlcmd),
    /// for servers where no perfdiag binary may run.
    ///
    /// DIR gets the scripts and a README for the DBA who runs them; they write one
    /// file per query into a folder that `perfdiag import` turns into a snapshot. See
    /// docs/offline.md. Example: `perfdiag scripts --engine postgres -o pg-scripts/`
    Scripts(ScriptsArgs),
    /// Make a snapshot from the folder the collection scripts wrote.
    ///
    /// The same facts and tables as a live `collect` of that server (without the host
    /// probes); files that cannot be used are named, and the rest is imported.
    /// Example: `perfdiag import perfdiag-capture-db01-20261202T100000Z -o db01.pdsnap`
    Import(ImportArgs),
    /// Look inside snapshot files.
    #[command(subcommand)]
    Snapshot(SnapshotCommand),
    /// Follow one engagement in a case folder: diagnosis, plan, applied steps, the
    /// post-optimization baseline, re-checks through the 3-month guarantee, sign-off.
    ///
    /// The usual order: `case init` → `case collect` → `case plan` → (apply the scripts
    /// by hand) → `case applied` → `case optimized` → `case recheck` (by hand, or
    /// scheduled with `case schedule`) → `case status` → `case confirm`. See docs/case.md.
    #[command(subcommand)]
    Case(CaseCommand),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormatArg {
    /// Detect from the first 64 KB.
    Auto,
    MysqlSlow,
    PgStderr,
    PgCsv,
    PgJson,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Log files, plain or compressed (.gz, .zst, .bz2).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    #[arg(long, value_enum, default_value = "auto")]
    pub format: LogFormatArg,
    /// PostgreSQL's log_line_prefix, when detection does not find it, e.g.
    /// `'%t [%p]: [%l-1] user=%u,db=%d '`.
    #[arg(long)]
    pub prefix: Option<String>,
    /// How many query classes to show.
    #[arg(long, default_value_t = 20)]
    pub top: usize,
    /// Print the profile as JSON.
    #[arg(long)]
    pub json: bool,
    /// Show sample statements with their literals (masked by default: they can hold
    /// customer data).
    #[arg(long)]
    pub show_literals: bool,
    /// Parsing threads [default: one per core].
    #[arg(long)]
    pub threads: Option<usize>,
    /// No progress display.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Args)]
pub struct SamplingArgs {
    /// How long to sample: `90` or `90s`, `5m`, `1h`.
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    pub duration: Duration,
    /// Time between samples: `1s`, `500ms`, `5s`.
    #[arg(long, value_parser = parse_duration, default_value = "1s")]
    pub interval: Duration,
    /// A `host:port` to measure TCP connect round trips to (repeatable), e.g. the
    /// database server seen from the application server.
    #[arg(long = "target", value_name = "HOST:PORT")]
    pub targets: Vec<String>,
    /// How many top processes to keep, by CPU and by memory.
    #[arg(long, default_value_t = 15)]
    pub top_processes: usize,
    /// Read /proc, /sys and /etc under DIR instead of / (for a container that
    /// mounts the host's directories elsewhere, or a captured fixture tree).
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub host_root: PathBuf,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// A slow-query log to digest into the snapshot (repeatable; MySQL slow log or
    /// PostgreSQL log, plain or compressed), after the sampling window.
    #[arg(long = "log", value_name = "FILE")]
    pub logs: Vec<PathBuf>,
    #[command(flatten)]
    pub databases: DatabaseArgs,
}

/// Database servers to collect from, with the host.
#[derive(Debug, Args)]
#[command(next_help_heading = "Databases")]
pub struct DatabaseArgs {
    /// A PostgreSQL server (repeatable): `postgres://USER@HOST:5432/DB`. The password
    /// comes from PGPASSWORD, ~/.pgpass or a prompt (or the URL, visible to `ps`); it
    /// is never stored. The user needs only the `pg_monitor` role.
    #[arg(long = "pg", value_name = "URL", value_parser = parse_pg)]
    pub postgres: Vec<DbTarget>,
    /// A MySQL or MariaDB server (repeatable): `mysql://USER@HOST:3306/DB`. The
    /// password comes from MYSQL_PWD or a prompt (or the URL); it is never stored. The
    /// user needs only PROCESS and SELECT on performance_schema.
    #[arg(long = "mysql", value_name = "URL", value_parser = parse_mysql)]
    pub mysql: Vec<DbTarget>,
    /// A SQL Server (repeatable): `mssql://USER@HOST:1433/DB` (add
    /// `?trust_server_certificate=true` for a self-signed certificate) or an ADO.NET
    /// connection string in quotes (`Server=tcp:HOST,1433;Database=DB;User Id=USER`).
    /// The password comes from MSSQL_PWD, SQLCMDPASSWORD or a prompt (or the URL); it
    /// is never stored. The login needs only VIEW SERVER STATE (and VIEW ANY DEFINITION).
    #[arg(long = "mssql", value_name = "URL", value_parser = parse_mssql)]
    pub mssql: Vec<DbTarget>,
    /// Server-side time limit of every probe query.
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    pub statement_timeout: Duration,
    /// How many statements, tables and indexes to keep in each top list.
    #[arg(long, default_value_t = 50)]
    pub top: usize,
}

impl DatabaseArgs {
    pub fn targets(&self) -> impl Iterator<Item = &DbTarget> {
        self.postgres.iter().chain(&self.mysql).chain(&self.mssql)
    }

    pub fn options(&self) -> DbOptions {
        DbOptions {
            statement_timeout: self.statement_timeout,
            top_n: self.top,
            ..DbOptions::default()
        }
    }
}

fn parse_pg(text: &str) -> Result<DbTarget, String> {
    DbTarget::parse(Engine::Postgres, text).map_err(|e| e.to_string())
}

fn parse_mysql(text: &str) -> Result<DbTarget, String> {
    DbTarget::parse(Engine::Mysql, text).map_err(|e| e.to_string())
}

fn parse_mssql(text: &str) -> Result<DbTarget, String> {
    DbTarget::parse(Engine::Mssql, text).map_err(|e| e.to_string())
}

#[derive(Debug, Args)]
pub struct CollectArgs {
    /// Snapshot file to write [default: perfdiag-<host>-<time>.pdsnap].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub sampling: SamplingArgs,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Analysis")]
pub struct AnalysisArgs {
    /// Report language [default: from the system locale].
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
    /// A baseline file overriding the built-in thresholds (see docs/baselines.md).
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// The kind of work the databases do; expected settings depend on it
    /// [default: detected from the statement mix, mixed when unclear].
    #[arg(long, value_enum)]
    pub workload: Option<WorkloadArg>,
    /// The host also runs other services (application server, other databases):
    /// size database memory for a share of RAM instead of all of it.
    #[arg(long)]
    pub shared_host: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WorkloadArg {
    /// Many short transactions (order entry, web shop).
    Oltp,
    /// Few long reporting or batch queries over much data.
    Olap,
    /// Both.
    Mixed,
}

impl From<WorkloadArg> for perfdiag_model::Workload {
    fn from(w: WorkloadArg) -> Self {
        match w {
            WorkloadArg::Oltp => Self::Oltp,
            WorkloadArg::Olap => Self::Olap,
            WorkloadArg::Mixed => Self::Mixed,
        }
    }
}

#[derive(Debug, Args)]
pub struct AnalyzeArgs {
    /// The snapshot to assess.
    pub snapshot: PathBuf,
    /// An earlier snapshot of the same system to compare with (the baseline of a
    /// re-check: before the optimization, or right after it).
    #[arg(long, value_name = "SNAPSHOT")]
    pub against: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The snapshot to plan for.
    pub snapshot: PathBuf,
    /// Folder to write the plan into (created; must be empty if it exists).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
}

#[derive(Debug, Args)]
pub struct DiagnoseArgs {
    /// Report to write: HTML, or PDF / the JSON model when the name ends in `.pdf` /
    /// `.json`.
    #[arg(short, long, default_value = "perfdiag-report.html")]
    pub output: PathBuf,
    /// Snapshot file to write [default: perfdiag-<host>-<time>.pdsnap beside the report].
    #[arg(long)]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub sampling: SamplingArgs,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    #[command(flatten)]
    pub cover: CoverArgs,
}

/// What the report's cover and confirmation page say about the engagement. Each is
/// optional: what is not given is printed as a blank field to fill in by hand.
#[derive(Debug, Args)]
#[command(next_help_heading = "Report cover")]
pub struct CoverArgs {
    /// The customer's name, e.g. "ACME Trading Co.".
    #[arg(long, value_parser = no_credentials)]
    pub customer: Option<String>,
    /// The system looked at, e.g. "ERP production database".
    #[arg(long, value_parser = no_credentials)]
    pub system: Option<String>,
    /// The engineer who made the diagnosis.
    #[arg(long, value_parser = no_credentials)]
    pub engineer: Option<String>,
    /// The report's date: `2026-11-30` or `2026-11-30T10:00:00Z` [default: now]. Fixed,
    /// it makes the same snapshot give the same report byte for byte.
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub generated_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl CoverArgs {
    pub fn engagement(&self) -> crate::report::Engagement {
        crate::report::Engagement {
            customer: self.customer.clone(),
            system: self.system.clone(),
            engineer: self.engineer.clone(),
            generated_at: self.generated_at,
        }
    }
}

/// Refuses text that carries a password (`scheme://user:secret@host`): a report is
/// handed to the customer, and no credential may be in it.
pub fn no_credentials(text: &str) -> Result<String, String> {
    if let Some((_, rest)) = text.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && userinfo.contains(':')
        {
            return Err(
                "it looks like a URL with a password: no credential may go into a report"
                    .to_owned(),
            );
        }
    }
    Ok(text.to_owned())
}

/// Parses `2026-11-30` (midnight UTC) or an RFC 3339 time.
pub fn parse_time(text: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    let text = text.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
        .ok_or_else(|| format!("`{text}` is not a date: try 2026-11-30 or 2026-11-30T10:00:00Z"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// A single self-contained HTML file.
    Html,
    /// The report model as JSON, for other tools (documented in docs/report-model.md).
    Json,
    /// A PDF, typeset inside perfdiag with its own fonts: no browser, no other program.
    Pdf,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The snapshot file.
    pub snapshot: PathBuf,
    #[command(flatten)]
    pub analysis: AnalysisArgs,
    /// File to write [default: the snapshot's name with .html, .json or .pdf].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// [default: from the extension of --output (.pdf, .json), else html]
    #[arg(long, value_enum)]
    pub format: Option<ReportFormat>,
    #[command(flatten)]
    pub cover: CoverArgs,
}

/// The engines `perfdiag scripts` writes for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScriptEngine {
    /// PostgreSQL, with psql (10 or later).
    Postgres,
    /// MySQL or MariaDB, with the mysql or mariadb client.
    Mysql,
    /// SQL Server, with sqlcmd.
    Mssql,
}

impl ScriptEngine {
    pub fn engine(self) -> Engine {
        match self {
            Self::Postgres => Engine::Postgres,
            Self::Mysql => Engine::Mysql,
            Self::Mssql => Engine::Mssql,
        }
    }
}

#[derive(Debug, Args)]
pub struct ScriptsArgs {
    /// The database engine.
    #[arg(long, value_enum)]
    pub engine: ScriptEngine,
    /// Folder to write the scripts into (created; must be empty if it exists).
    #[arg(short, long, value_name = "DIR")]
    pub output: PathBuf,
    /// Default sampling window of the scripts (the DBA can change it when running
    /// them): whole seconds, `90s`, `5m`.
    #[arg(long, value_parser = parse_duration, default_value = "60s")]
    pub duration: Duration,
    /// Default time between session samples (whole seconds).
    #[arg(long, value_parser = parse_duration, default_value = "1s")]
    pub interval: Duration,
    /// How many statements, tables and indexes to keep in each top list.
    #[arg(long, default_value_t = 50)]
    pub top: usize,
    /// Server-side time limit of every query, as for `collect`.
    #[arg(long, value_parser = parse_duration, default_value = "5s")]
    pub statement_timeout: Duration,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The folder the collection scripts wrote (`perfdiag-capture-<host>-<time>`).
    pub dir: PathBuf,
    /// Snapshot file to write [default: perfdiag-<host>-<time>.pdsnap].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum SnapshotCommand {
    /// Show a snapshot's manifest: host, window, probe statuses and table sizes.
    Inspect {
        /// The snapshot file.
        file: PathBuf,
        /// Print the manifest as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// Parses `90`, `90s`, `500ms`, `5m`, `2h`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration: try 30s, 5m or 1h"))?;
    let secs = match unit.trim() {
        "" | "s" => value,
        "ms" => value / 1000.0,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{text}`: use ms, s, m or h"
            ));
        }
    };
    if secs <= 0.0 || !secs.is_finite() {
        return Err(format!("`{text}` must be longer than zero"));
    }
    Ok(Duration::from_secs_f64(secs))
}

// ---------------------------------------------------------------------------------
// perfdiag case: one engagement (docs/case.md)

const CASE_FLOW: &str = "\
A case folder holds one engagement: case.toml (yours to edit), progress.toml (perfdiag's
record), snapshots/, plan/, comparisons/ and logs/. Dates come from the system clock, or
from PERFDIAG_NOW (an RFC 3339 time) in tests and when entering a case's history after
the fact; --at back-dates a single entry.";

#[derive(Debug, Subcommand)]
#[command(after_help = CASE_FLOW)]
pub enum CaseCommand {
    /// Make a case folder: case.toml with the customer, system, targets and collection.
    ///
    /// Database URLs are stored without a password (one with a password is refused):
    /// the password comes from PGPASSWORD, ~/.pgpass or MYSQL_PWD, or a prompt, each
    /// time. Example: `perfdiag case init acme-erp --customer "ACME" --system "ERP"
    /// --engineer "Li Wei" --lang zh-CN --pg postgres://perfdiag@db01:5432/erp`
    Init(CaseInitArgs),
    /// Add a snapshot taken elsewhere (copied into snapshots/).
    ///
    /// As a diagnosis snapshot (before the optimization), or as a re-check (the same as
    /// `case recheck DIR --snapshot FILE`). The snapshot must be of the case's host.
    /// Example: `perfdiag case add acme-erp perfdiag-db01-20261129T080000Z.pdsnap`
    Add(CaseAddArgs),
    /// Collect a diagnosis snapshot with the case's targets and duration.
    ///
    /// Passwords as for `perfdiag collect` (never stored). Example: `perfdiag case
    /// collect acme-erp`
    Collect(CaseCollectArgs),
    /// Make the plan from the latest diagnosis snapshot into DIR/plan/.
    ///
    /// The same files as `perfdiag plan` (plan.json, README.md, one folder per step
    /// with apply and rollback scripts); every step starts as proposed. perfdiag runs
    /// none of it. Example: `perfdiag case plan acme-erp`
    Plan(CaseDirArgs),
    /// Record that steps of the plan were applied (by id or by number).
    ///
    /// Example: `perfdiag case applied acme-erp 1 3 pg.config.work_mem --at 2026-12-01`
    Applied(CaseAppliedArgs),
    /// The optimization is complete: take the baseline snapshot and open the guarantee.
    ///
    /// The baseline is collected (or given with --snapshot) and compared with the
    /// diagnosis: the gains. Steps whose findings are gone are verified. The window
    /// lasts 3 months by default, and never longer. Example: `perfdiag case optimized
    /// acme-erp`
    Optimized(CaseOptimizedArgs),
    /// Re-check: collect (or take --snapshot), compare with the baseline, judge.
    ///
    /// Steps are verified or regressed, KPIs judged against their noise, new heavy
    /// queries called out, and the guarantee is holding, at risk or breached. Runs
    /// unattended (see `case schedule`): a second run while one works fails at once,
    /// and a run that fails is recorded as failed without changing anything else.
    /// Example: `perfdiag case recheck acme-erp`
    Recheck(CaseRecheckArgs),
    /// Where the case stands: steps, days left, guarantee, KPI trends, re-checks.
    ///
    /// Example: `perfdiag case status acme-erp --json`
    Status(CaseStatusArgs),
    /// Write the engagement report: diagnosis, plan and when each step was applied,
    /// KPIs before → after → now, verified gains, open regressions, days left, sign-off.
    ///
    /// HTML, PDF or JSON (docs/engagement-report.md), in the case's language.
    /// Example: `perfdiag case report acme-erp -o acme-erp.pdf`
    Report(CaseReportArgs),
    /// Record the customer's service confirmation (sign-off).
    ///
    /// Example: `perfdiag case confirm acme-erp --by "Wang Fang, IT manager"`
    Confirm(CaseConfirmArgs),
    /// Print the cron line, systemd units and Windows schtasks command for unattended
    /// re-checks.
    ///
    /// With --install, the cron line is added to the current user's crontab (replacing
    /// an earlier one for the same case). Example: `perfdiag case schedule acme-erp
    /// --every 7d`
    Schedule(CaseScheduleArgs),
}

#[derive(Debug, Args)]
pub struct CaseDirArgs {
    /// The case folder.
    pub dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct CaseInitArgs {
    /// The case folder to make (created if needed; must not hold a case).
    pub dir: PathBuf,
    /// The customer's name, e.g. "ACME Trading Co.".
    #[arg(long, value_parser = no_credentials)]
    pub customer: Option<String>,
    /// The system looked at, e.g. "ERP production database".
    #[arg(long, value_parser = no_credentials)]
    pub system: Option<String>,
    /// The engineer in charge.
    #[arg(long, value_parser = no_credentials)]
    pub engineer: Option<String>,
    /// Language of the terminal output and reports [default: from the system locale].
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
    /// The kind of work the databases do [default: detected from the statement mix].
    #[arg(long, value_enum)]
    pub workload: Option<WorkloadArg>,
    /// The host also runs other services (application server, other databases).
    #[arg(long)]
    pub shared_host: bool,
    /// A PostgreSQL server (repeatable), without a password:
    /// `postgres://USER@HOST:5432/DB`.
    #[arg(long = "pg", value_name = "URL", value_parser = parse_pg_stored)]
    pub postgres: Vec<String>,
    /// A MySQL or MariaDB server (repeatable), without a password:
    /// `mysql://USER@HOST:3306/DB`.
    #[arg(long = "mysql", value_name = "URL", value_parser = parse_mysql_stored)]
    pub mysql: Vec<String>,
    /// A SQL Server (repeatable), without a password:
    /// `mssql://USER@HOST:1433/DB` or an ADO.NET connection string.
    #[arg(long = "mssql", value_name = "URL", value_parser = parse_mssql_stored)]
    pub mssql: Vec<String>,
    /// How long each collection of the case samples [default: 60s].
    #[arg(long, value_parser = duration_text)]
    pub duration: Option<String>,
    /// Time between samples [default: 1s].
    #[arg(long, value_parser = duration_text)]
    pub interval: Option<String>,
}

/// What a collection of the case may change from case.toml.
#[derive(Debug, Args)]
#[command(next_help_heading = "Collection")]
pub struct CaseSampling {
    /// How long to sample [default: case.toml's collection.duration].
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Time between samples [default: case.toml's collection.interval].
    #[arg(long, value_parser = parse_duration)]
    pub interval: Option<Duration>,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CaseRole {
    /// Before the optimization: what the plan is made from.
    Diagnosis,
    /// A follow-up after the optimization, judged against the baseline.
    Recheck,
}

#[derive(Debug, Args)]
pub struct CaseAddArgs {
    /// The case folder.
    pub dir: PathBuf,
    /// The snapshot file to add.
    pub snapshot: PathBuf,
    #[arg(long, value_enum, default_value = "diagnosis")]
    pub role: CaseRole,
}

#[derive(Debug, Args)]
pub struct CaseCollectArgs {
    /// The case folder.
    pub dir: PathBuf,
    #[command(flatten)]
    pub sampling: CaseSampling,
}

#[derive(Debug, Args)]
pub struct CaseAppliedArgs {
    /// The case folder.
    pub dir: PathBuf,
    /// Steps applied: ids (`pg.config.work_mem`) or numbers as in the plan folder (`3`).
    #[arg(required = true, value_name = "STEP")]
    pub steps: Vec<String>,
    /// When they were applied: `2026-12-01` or `2026-12-01T22:30:00+08:00` [default: now].
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Args)]
pub struct CaseOptimizedArgs {
    /// The case folder.
    pub dir: PathBuf,
    /// When the optimization was complete: the window opens [default: now].
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<chrono::DateTime<chrono::Utc>>,
    /// When the guarantee ends [default and latest: 3 months after --at].
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// The post-optimization baseline snapshot, taken elsewhere [default: collect one now].
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    #[command(flatten)]
    pub sampling: CaseSampling,
}

#[derive(Debug, Args)]
pub struct CaseRecheckArgs {
    /// The case folder.
    pub dir: PathBuf,
    /// A re-check snapshot taken elsewhere [default: collect one now, with the case's
    /// targets].
    #[arg(long, value_name = "FILE")]
    pub snapshot: Option<PathBuf>,
    /// Append the outcome to DIR/logs/recheck.log (what scheduled runs use).
    #[arg(long)]
    pub log: bool,
    #[command(flatten)]
    pub sampling: CaseSampling,
}

#[derive(Debug, Args)]
pub struct CaseStatusArgs {
    /// The case folder.
    pub dir: PathBuf,
    /// Print the whole status as JSON (docs/case.md describes it).
    #[arg(long)]
    pub json: bool,
    /// Language of the text [default: the case's].
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
}

#[derive(Debug, Args)]
pub struct CaseReportArgs {
    /// The case folder.
    pub dir: PathBuf,
    /// File to write [default: DIR/engagement-report.html, .pdf or .json].
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// [default: from the extension of --output (.pdf, .json), else html]
    #[arg(long, value_enum)]
    pub format: Option<ReportFormat>,
    /// Language of the report [default: the case's].
    #[arg(long, value_enum)]
    pub lang: Option<Lang>,
}

#[derive(Debug, Args)]
pub struct CaseConfirmArgs {
    /// The case folder.
    pub dir: PathBuf,
    /// Who confirmed the service, e.g. "Wang Fang, IT manager, ACME".
    #[arg(long, value_parser = no_credentials)]
    pub by: String,
    /// When [default: now].
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Args)]
pub struct CaseScheduleArgs {
    /// The case folder.
    pub dir: PathBuf,
    /// How often: `7d` (weekly), `1d`, `12h`, `2w`.
    #[arg(long, value_parser = crate::case::schedule::parse_every)]
    pub every: crate::case::schedule::Every,
    /// Time of day of the runs, HH:MM (only the minute counts for hourly runs).
    #[arg(long, value_parser = crate::case::schedule::parse_time_of_day, default_value = "03:17")]
    pub time: (u32, u32),
    /// Add the cron line to the current user's crontab.
    #[arg(long)]
    pub install: bool,
}

/// A database URL for case.toml: parsed, and refused when it holds a password.
fn stored_url(engine: Engine, text: &str) -> Result<String, String> {
    let target = DbTarget::parse(engine, text).map_err(|e| e.to_string())?;
    if target.has_password() {
        return Err(format!(
            "this URL holds a password, and a case never stores one: give it without ({} is \
             used instead, or a prompt)",
            crate::case::config::password_sources(engine)
        ));
    }
    Ok(target.label().to_owned())
}

fn parse_pg_stored(text: &str) -> Result<String, String> {
    stored_url(Engine::Postgres, text)
}

fn parse_mysql_stored(text: &str) -> Result<String, String> {
    stored_url(Engine::Mysql, text)
}

fn parse_mssql_stored(text: &str) -> Result<String, String> {
    stored_url(Engine::Mssql, text)
}

/// A duration kept as written, once checked.
fn duration_text(text: &str) -> Result<String, String> {
    parse_duration(text).map(|_| text.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert_eq!(parse_duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("1h").unwrap(), Duration::from_secs(3600));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("5 days").is_err());
        assert!(parse_duration("abc").is_err());
    }

    #[test]
    fn cover_values_refuse_passwords_and_times_parse() {
        assert!(no_credentials("ACME Trading").is_ok());
        assert!(no_credentials("postgres://app@db1/erp").is_ok());
        assert!(no_credentials("postgres://app:s3cret@db1/erp").is_err());
        assert!(no_credentials("see mysql://root:pw@10.0.0.1:3306").is_err());
        assert_eq!(
            parse_time("2026-11-30").unwrap().to_rfc3339(),
            "2026-11-30T00:00:00+00:00"
        );
        assert_eq!(
            parse_time("2026-11-30T18:00:00+08:00")
                .unwrap()
                .to_rfc3339(),
            "2026-11-30T10:00:00+00:00"
        );
        assert!(parse_time("yesterday").is_err());
    }
}
