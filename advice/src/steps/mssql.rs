//! Plan steps for SQL Server findings: T-SQL for `sqlcmd` or SSMS, one section per
//! target, with rollbacks that restore the values the snapshot recorded.
//!
//! Every script is idempotent in form: a change runs only when the server is not
//! already in the wanted state (`IF` on the current value in `sys.configurations`,
//! `sys.databases`, `sys.indexes`…), so running it twice changes nothing the second
//! time. Server options go through `sp_configure` and `RECONFIGURE` (all dynamic but
//! `priority boost` and `lightweight pooling`, whose step needs a restart);
//! `show advanced options` is switched on for the change and back to its recorded
//! value after it. A final `SELECT` shows the
//! values in use, for the verification.
//!
//! Statements are one per line, each ending with `;`, and no `GO` batch separators:
//! the scripts run as one batch, and the parse test (advice/tests/mssql_scripts.rs)
//! can split them.
//!
//! The database, index and security steps live in `mssql_databases.rs`,
//! `mssql_indexes.rs`, `mssql_security.rs` and `mssql_workload.rs`; this module holds
//! the server options and the registry of all SQL Server steps.

use perfdiag_model::facts::MssqlFacts;
use perfdiag_model::{Finding, Phase, Risk, Script};

use super::{
    Context, Draft, StepDef, evidence_lines, mssql_databases, mssql_indexes, mssql_security,
    mssql_workload, number, sql, text, verify,
};

/// The facts of the finding's target, when the snapshot has them.
pub(super) fn facts<'a>(ctx: &'a Context, f: &Finding) -> Option<&'a MssqlFacts> {
    let subject = f.subject.as_deref()?;
    ctx.mssql.iter().find(|m| m.target == subject)
}

/// A T-SQL identifier in brackets, `]` doubled.
pub(super) fn bracket(name: &str) -> String {
    format!("[{}]", name.replace(']', "]]"))
}

/// A Unicode string literal, `'` doubled.
pub(super) fn nstr(text: &str) -> String {
    format!("N'{}'", text.replace('\'', "''"))
}

/// A placeholder for a value the snapshot did not record: the script becomes a
/// template that says what to fill in.
pub(super) const BEFORE: &str = "<value before the change>";

/// The evidence as `--` comments, then one section per finding (target), each headed
/// by its label. `section` returns the section's script and rollback.
pub(super) fn per_target(
    ctx: &Context,
    findings: &[&Finding],
    section: impl Fn(Option<&MssqlFacts>, &Finding) -> (String, String),
) -> (Script, Script) {
    let mut script = evidence_lines(findings).replace("# ", "-- ");
    let mut rollback = String::new();
    for f in findings {
        let target = f
            .subject
            .as_deref()
            .unwrap_or("<the SQL Server instance>")
            .to_owned();
        let (s, r) = section(facts(ctx, f), f);
        script.push_str(&format!("-- Target: {target}\n{s}"));
        rollback.push_str(&format!("-- Target: {target}\n{r}"));
    }
    (sql(script), sql(rollback))
}

/// `name = value` for one server option set with `sp_configure`.
pub(super) struct OptionChange {
    pub name: &'static str,
    /// The value to set, or a placeholder when the evidence lacks it.
    pub value: String,
    /// Read only at startup: the guard compares the configured `value` (the value in
    /// use changes at the restart), and the step needs a restart.
    pub at_restart: bool,
}

/// The recorded value of a server option — configured `value` for an option read at
/// startup, else `value_in_use` — or [`BEFORE`].
pub(super) fn recorded(m: Option<&MssqlFacts>, name: &str, at_restart: bool) -> String {
    m.and_then(|m| m.configuration(name))
        .map(|c| if at_restart { c.value } else { c.value_in_use })
        .map_or_else(|| BEFORE.to_owned(), |v| v.to_string())
}

/// Sets each option with `sp_configure` when its value in use differs, inside
/// `show advanced options` switched on and back to `advanced_before`; then shows the
/// values in use.
pub(super) fn sp_configure(changes: &[OptionChange], advanced_before: &str) -> String {
    let mut out = String::new();
    for c in changes {
        let column = if c.at_restart {
            "value"
        } else {
            "value_in_use"
        };
        out.push_str(&format!(
            "IF (SELECT CAST({column} AS BIGINT) FROM sys.configurations WHERE name = {}) <> {}\n\
             BEGIN\n\
             \x20   EXEC sys.sp_configure N'show advanced options', 1;\n\
             \x20   RECONFIGURE;\n\
             \x20   EXEC sys.sp_configure {}, {};\n\
             \x20   RECONFIGURE;\n\
             \x20   EXEC sys.sp_configure N'show advanced options', {advanced_before};\n\
             \x20   RECONFIGURE;\n\
             END;\n",
            nstr(c.name),
            c.value,
            nstr(c.name),
            c.value,
        ));
    }
    let names: Vec<String> = changes.iter().map(|c| nstr(c.name)).collect();
    out.push_str(&format!(
        "SELECT name, value, value_in_use FROM sys.configurations WHERE name IN ({});\n",
        names.join(", ")
    ));
    out
}

/// A step setting server options on each target: `changes` gives the options and
/// their new values for a target; the rollback sets the recorded values back.
fn options_step(
    ctx: &Context,
    findings: &[&Finding],
    note: &str,
    changes: impl Fn(Option<&MssqlFacts>, &Finding) -> Vec<OptionChange>,
) -> (Script, Script) {
    per_target(ctx, findings, |m, f| {
        let advanced = recorded(m, "show advanced options", false);
        let advanced = if advanced == BEFORE {
            "0".to_owned()
        } else {
            advanced
        };
        let set = changes(m, f);
        let back: Vec<OptionChange> = set
            .iter()
            .map(|c| OptionChange {
                name: c.name,
                value: recorded(m, c.name, c.at_restart),
                at_restart: c.at_restart,
            })
            .collect();
        let restart = if set.iter().any(|c| c.at_restart) {
            "-- Restart the SQL Server service now: some of these options are read only at\n\
             -- startup.\n"
        } else {
            ""
        };
        let note: String = note.lines().map(|l| format!("-- {l}\n")).collect();
        (
            format!("{note}{}{restart}", sp_configure(&set, &advanced)),
            format!("{}{restart}", sp_configure(&back, &advanced)),
        )
    })
}

fn draft((script, rollback): (Script, Script), risk: Risk, metric: &str, target: &str) -> Draft {
    Draft {
        script,
        rollback,
        risk,
        needs_restart: false,
        verify: verify(metric, target),
    }
}

pub(super) const MAX_SERVER_MEMORY: StepDef = StepDef {
    id: "mssql.config.max_server_memory",
    rule_id: "mssql.memory.max_server_memory",
    phase: Phase::Configuration,
    build: |ctx, findings| {
        let scripts = options_step(
            ctx,
            findings,
            "Takes effect at once; lowering it makes the buffer pool release memory\n\
             gradually. Leaves the OS reserve: docs/tuning.md.",
            |_, f| {
                vec![OptionChange {
                    name: "max server memory (MB)",
                    value: number(f, "mssql.expected.max_server_memory_mb").map_or_else(
                        || "<MB: RAM minus the OS reserve>".to_owned(),
                        |v| format!("{}", v.round() as i64),
                    ),
                    at_restart: false,
                }]
            },
        );
        draft(
            scripts,
            Risk::Medium,
            "mssql.memory.max_server_memory_deviation",
            "<= 1.25",
        )
    },
};

pub(super) const MAXDOP: StepDef = StepDef {
    id: "mssql.config.maxdop",
    rule_id: "mssql.cpu.maxdop",
    phase: Phase::Configuration,
    build: |ctx, findings| {
        let scripts = options_step(
            ctx,
            findings,
            "New plans use it at once; cached parallel plans keep their degree until\n\
             they are recompiled. An ERP vendor's required MAXDOP (often 1) wins.",
            |_, f| {
                vec![OptionChange {
                    name: "max degree of parallelism",
                    value: number(f, "mssql.expected.maxdop").map_or_else(
                        || "<logical processors per NUMA node, at most 8 or 16>".to_owned(),
                        |v| format!("{}", v.round() as i64),
                    ),
                    at_restart: false,
                }]
            },
        );
        draft(scripts, Risk::Low, "mssql.cpu.maxdop_deviation", "<= 1")
    },
};

pub(super) const COST_THRESHOLD: StepDef = StepDef {
    id: "mssql.config.cost_threshold",
    rule_id: "mssql.cpu.cost_threshold_default",
    phase: Phase::QuickWins,
    build: |ctx, findings| {
        let scripts = options_step(
            ctx,
            findings,
            "A starting point: afterwards compare with the estimated costs of the plans\n\
             that still go parallel (Query Store or the plan cache) and adjust.",
            |_, f| {
                vec![OptionChange {
                    name: "cost threshold for parallelism",
                    value: number(f, "mssql.expected.cost_threshold_for_parallelism")
                        .map_or_else(|| "50".to_owned(), |v| format!("{}", v.round() as i64)),
                    at_restart: false,
                }]
            },
        );
        draft(
            scripts,
            Risk::Low,
            "mssql.settings.cost_threshold_for_parallelism",
            ">= 50",
        )
    },
};

pub(super) const OPTIMIZE_FOR_AD_HOC: StepDef = StepDef {
    id: "mssql.config.optimize_for_ad_hoc",
    rule_id: "mssql.plan_cache.adhoc_bloat",
    phase: Phase::QuickWins,
    build: |ctx, findings| {
        let scripts = options_step(
            ctx,
            findings,
            "First executions cache a small stub; the plan is cached at the second.\n\
             The plans already cached stay until evicted (or DBCC FREESYSTEMCACHE('SQL Plans')\n\
             off-peak, which recompiles every ad hoc statement once).",
            |_, _| {
                vec![OptionChange {
                    name: "optimize for ad hoc workloads",
                    value: "1".to_owned(),
                    at_restart: false,
                }]
            },
        );
        draft(
            scripts,
            Risk::Low,
            "mssql.plan_cache.single_use_adhoc_pct",
            "< 25 %",
        )
    },
};

pub(super) const SURFACE_AREA: StepDef = StepDef {
    id: "mssql.security.reduce_surface_area",
    rule_id: "mssql.security.surface_area",
    phase: Phase::QuickWins,
    build: |ctx, findings| {
        let scripts = options_step(
            ctx,
            findings,
            "Check first that no job, package or application calls them (search the\n\
             Agent jobs and procedures for xp_cmdshell, sp_OA, OPENROWSET, OPENDATASOURCE).",
            |_, f| {
                let on = text(f, "mssql.security.surface_area_options.names").unwrap_or("");
                crate::steps::mssql_security::SURFACE_OPTIONS
                    .iter()
                    .filter(|o| on.split(", ").any(|n| n == **o))
                    .map(|o| OptionChange {
                        name: o,
                        value: "0".to_owned(),
                        at_restart: false,
                    })
                    .collect()
            },
        );
        draft(
            scripts,
            Risk::Medium,
            "mssql.security.surface_area_options",
            "= 0",
        )
    },
};

/// `priority boost` and `lightweight pooling`, both read only at startup.
const SCHEDULING_OPTIONS: [&str; 2] = ["priority boost", "lightweight pooling"];

pub(super) const SCHEDULING: StepDef = StepDef {
    id: "mssql.config.disable_scheduling_options",
    rule_id: "mssql.config.scheduling_options",
    phase: Phase::Configuration,
    build: |ctx, findings| {
        let (script, rollback) = options_step(
            ctx,
            findings,
            "Both are read at startup: the change takes effect at the next restart of the\n\
             service, planned with the application owners.",
            |_, f| {
                let on = text(f, "mssql.settings.scheduling_options.names").unwrap_or("");
                SCHEDULING_OPTIONS
                    .iter()
                    .filter(|o| on.split(", ").any(|n| n == **o))
                    .map(|o| OptionChange {
                        name: o,
                        value: "0".to_owned(),
                        at_restart: true,
                    })
                    .collect()
            },
        );
        Draft {
            script,
            rollback,
            risk: Risk::Medium,
            needs_restart: true,
            verify: verify("mssql.settings.scheduling_options", "= 0"),
        }
    },
};

/// The SQL Server steps, one per rule.
pub(super) const STEPS: &[StepDef] = &[
    MAX_SERVER_MEMORY,
    MAXDOP,
    COST_THRESHOLD,
    OPTIMIZE_FOR_AD_HOC,
    SCHEDULING,
    mssql_databases::TEMPDB_FILES,
    mssql_databases::FILE_LATENCY,
    mssql_databases::VLF_COUNT,
    mssql_databases::AUTO_SHRINK,
    mssql_databases::AUTO_CLOSE,
    mssql_databases::PAGE_VERIFY,
    mssql_databases::BACKUPS,
    mssql_databases::CHECKDB,
    mssql_indexes::CREATE_MISSING,
    mssql_indexes::DISABLE_UNUSED,
    mssql_workload::BLOCKING,
    mssql_workload::TOP_CPU,
    mssql_security::DISABLE_SA,
    SURFACE_AREA,
    mssql_security::CHECK_POLICY,
];
