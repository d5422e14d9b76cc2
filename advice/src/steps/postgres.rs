//! Plan steps for PostgreSQL findings: `ALTER SYSTEM` changes with a reload or a
//! restart, maintenance SQL (indexes, vacuum) as templates to review, and pg_hba.conf
//! edits. Every rollback restores the value the snapshot recorded for that target
//! (`ALTER SYSTEM RESET` when it was the built-in default or came from perfdiag's own
//! session).
//!
//! The values the setting steps write are the expected values the findings carry as
//! evidence (`pg.expected.<name>`: the analyzers computed them from the host's RAM, the
//! workload and the measured rates, docs/tuning.md); the fixed rules of thumb here are
//! only for findings without them.
//!
//! A finding's subject is the target's label, optionally followed by a table
//! (`postgres://app@db1/erp public.orders`); scripts have one section per target. A
//! script with sections for several servers runs each only on the server psql's
//! `TARGET` variable names ([`psql_sections`]).

use perfdiag_model::facts::PostgresFacts;
use perfdiag_model::{Finding, Phase, Risk};

use super::index_ddl::{index_name, schema_of, split_target};
use super::{
    Context, Draft, StepDef, evidence_lines, number, sh, shell_sections, sql, text, verify,
};

const MIB: f64 = 1_048_576.0;
const GIB: f64 = 1_073_741_824.0;

/// The target label and the table (if any) of a finding.
fn subject(f: &Finding) -> (&str, Option<&str>) {
    let s = f.subject.as_deref().unwrap_or("");
    match s.rsplit_once(' ') {
        Some((target, table)) if target.contains("://") => (target, Some(table)),
        _ => (s, None),
    }
}

fn facts_of<'a>(ctx: &'a Context, target: &str) -> Option<&'a PostgresFacts> {
    ctx.postgres.iter().find(|p| p.target == target)
}

/// The distinct targets of the findings, in order, each with its first finding.
fn targets<'a>(findings: &[&'a Finding]) -> Vec<(&'a str, &'a Finding)> {
    let mut out: Vec<(&str, &Finding)> = Vec::new();
    for f in findings {
        let (t, _) = subject(f);
        if !out.iter().any(|(seen, _)| *seen == t) {
            out.push((t, f));
        }
    }
    out
}

/// Joins the per-server sections of a psql script after `head`. With one server, each
/// section is headed `-- On <target>:`. With several, running the whole file on one
/// server must not apply the others' sections there: the file then runs only with
/// psql's `TARGET` variable set to the label of the server it runs on (it stops with
/// an error without), and each section sits in a `\if` that holds only on that server.
/// Sections of the same target are merged, in order.
pub(super) fn psql_sections(head: &str, sections: &[(String, String)]) -> String {
    let mut merged: Vec<(&str, String)> = Vec::new();
    for (target, body) in sections {
        match merged.iter_mut().find(|(t, _)| t == target) {
            Some((_, all)) => all.push_str(body),
            None => merged.push((target, body.clone())),
        }
    }
    let mut out = head.to_owned();
    if merged.len() < 2 {
        for (target, body) in &merged {
            out.push_str(&format!("\n-- On {target}:\n{body}"));
        }
        return out;
    }
    out.push_str(
        "\n-- This file has a section for each of several servers; each runs only on the\n\
         -- server psql's TARGET names (its label, as in the \"-- On\" lines below):\n\
         --   psql -X -v ON_ERROR_STOP=1 -v TARGET='postgres://...' -f <this file>\n\
         \\set ON_ERROR_STOP on\n\
         \\if :{?TARGET}\n\
         \\else\n\
         DO $$ BEGIN RAISE EXCEPTION 'This file covers several servers: run it with psql -v TARGET=(the label of this server, from an \"-- On\" line)'; END $$;\n\
         \\endif\n",
    );
    for (target, body) in &merged {
        out.push_str(&format!(
            "\n-- On {target}:\n\
             SELECT :'TARGET' = '{}' AS perfdiag_on_target \\gset\n\
             \\if :perfdiag_on_target\n{body}\\endif\n",
            target.replace('\'', "''")
        ));
    }
    out
}

/// A size as PostgreSQL accepts it: `4GB`, `512MB`, `64kB`.
pub(super) fn size(bytes: f64) -> String {
    let b = bytes.max(0.0) as u64;
    if b >= 1 << 30 && b.is_multiple_of(1 << 30) {
        format!("{}GB", b >> 30)
    } else if b >= 1 << 20 && b.is_multiple_of(1 << 20) {
        format!("{}MB", b >> 20)
    } else {
        format!("{}kB", b.div_ceil(1024))
    }
}

/// A setting's current value written so `ALTER SYSTEM SET` accepts it.
fn current_value(facts: &PostgresFacts, name: &str) -> Option<String> {
    let s = facts.setting(name)?;
    Some(match (s.normalised, s.normalised_unit.as_deref()) {
        (Some(v), Some("bytes")) => size(v),
        (Some(v), Some("ms")) => format!("{}ms", v.round() as i64),
        _ => s.setting.clone(),
    })
}

/// The statement that puts `name` back as the snapshot recorded it. A value from the
/// collector's own connection (`client`, `session`: perfdiag sets its timeouts there)
/// is not the server's, so like a built-in default it is put back with `RESET`, which
/// leaves postgresql.conf's value or the default in force again.
pub(super) fn restore(facts: Option<&PostgresFacts>, name: &str) -> String {
    match facts.and_then(|f| f.setting(name).map(|s| (f, s))) {
        Some((_, s)) if matches!(s.source.as_str(), "default" | "client" | "session") => {
            format!("ALTER SYSTEM RESET {name};")
        }
        Some((f, _)) => format!(
            "ALTER SYSTEM SET {name} = '{}';",
            current_value(f, name)
                .unwrap_or_default()
                .replace('\'', "''")
        ),
        None => format!("ALTER SYSTEM SET {name} = '<value before the change>';"),
    }
}

/// Per-server parts of a step's script and of its rollback, joined by
/// [`psql_sections`] (parts of the same server are merged).
#[derive(Default)]
pub(super) struct Parts {
    script: Vec<(String, String)>,
    rollback: Vec<(String, String)>,
}

impl Parts {
    pub(super) fn add(&mut self, target: &str, script: String, rollback: String) {
        self.script.push((target.to_owned(), script));
        self.rollback.push((target.to_owned(), rollback));
    }

    /// The script (after the findings' evidence) and the rollback.
    pub(super) fn render(&self, findings: &[&Finding]) -> (String, String) {
        self.join(&format!(
            "-- Measured:\n{}",
            evidence_lines(findings).replace("# ", "-- ")
        ))
    }

    /// The script (after `head`) and the rollback.
    pub(super) fn join(&self, head: &str) -> (String, String) {
        (
            psql_sections(head, &self.script),
            psql_sections("", &self.rollback).trim_start().to_owned(),
        )
    }
}

/// One `ALTER SYSTEM` change per target, with its rollback. `new_value` gives the
/// value for a target from its facts and its finding, or `Err` with why the setting is
/// kept there (said in the script; nothing to roll back then).
fn alter_system(
    ctx: &Context,
    findings: &[&Finding],
    name: &str,
    new_value: impl Fn(Option<&PostgresFacts>, &Finding) -> Result<String, String>,
    restart: bool,
) -> Parts {
    let apply = if restart {
        "-- Takes effect after a restart of PostgreSQL (e.g. systemctl restart postgresql).\n"
    } else {
        "SELECT pg_reload_conf();\n"
    };
    let mut parts = Parts::default();
    for (target, f) in targets(findings) {
        let facts = facts_of(ctx, target);
        match new_value(facts, f) {
            Ok(value) => parts.add(
                target,
                format!(
                    "ALTER SYSTEM SET {name} = '{}';\n{apply}",
                    value.replace('\'', "''")
                ),
                format!("{}\n{apply}", restore(facts, name)),
            ),
            Err(why) => parts.add(
                target,
                format!("-- {name} is kept: {why}\n"),
                format!("-- {name} was not changed: nothing to undo.\n"),
            ),
        }
    }
    parts
}

/// No setting changed: the rollback says so.
fn nothing_to_roll_back() -> perfdiag_model::Script {
    sql("-- This step only reads and reports; nothing to roll back.\n".to_owned())
}

/// shared_buffers without the finding's expected value: a quarter of the RAM, in whole
/// GB (at least 128MB, at most 64GB: beyond that the OS cache serves as well and
/// checkpoints grow).
fn shared_buffers_fallback(ctx: &Context) -> String {
    let ram = ctx
        .host
        .as_ref()
        .map(|h| h.memory.total_bytes)
        .filter(|&r| r > 0);
    match ram {
        Some(ram) => {
            let quarter = ram / 4;
            let value = if quarter >= 1 << 30 {
                (quarter >> 30).min(64) << 30
            } else {
                (quarter >> 20).max(128) << 20
            };
            size(value as f64)
        }
        None => "<25% of RAM>".to_owned(),
    }
}

pub(super) const SHARED_BUFFERS: StepDef = StepDef {
    id: "pg.config.shared_buffers",
    rule_id: "pg.memory.shared_buffers_low",
    phase: Phase::Configuration,
    build: |ctx, findings| {
        // The expected value: PGTune's quarter of the RAM for the database (half the
        // RAM on a shared host), already in whole MiB.
        let target = |_: Option<&PostgresFacts>, f: &Finding| {
            Ok(number(f, "pg.expected.shared_buffers")
                .map_or_else(|| shared_buffers_fallback(ctx), size))
        };
        let (mut script, rollback) =
            alter_system(ctx, findings, "shared_buffers", target, true).render(findings);
        script.push_str(
            "-- After the restart check huge pages (huge_pages = try) and that the host keeps\n\
             -- enough memory for work_mem x connections and the OS cache.\n",
        );
        Draft {
            script: sql(script),
            rollback: sql(rollback),
            risk: Risk::Medium,
            needs_restart: true,
            verify: verify("pg.settings.shared_buffers_pct_expected", ">= 100"),
        }
    },
};

pub(super) const CACHE_HIT_RATIO: StepDef = StepDef {
    id: "pg.cache.reduce_reads",
    rule_id: "pg.cache.hit_ratio_low",
    phase: Phase::SqlIndexes,
    build: |_, findings| Draft {
        script: sql(format!(
            "-- Measured:\n{}\
             -- 1. The statements that read the most blocks from outside shared_buffers:\n\
             SELECT queryid, calls, shared_blks_read, shared_blks_hit,\n\
             \x20      round(100.0 * shared_blks_hit / nullif(shared_blks_hit + shared_blks_read, 0), 1) AS hit_pct,\n\
             \x20      left(query, 120) AS query\n\
             FROM pg_stat_statements ORDER BY shared_blks_read DESC LIMIT 20;\n\
             -- 2. Index or rewrite those statements (see the seq-scan findings); 3. if the\n\
             -- working set simply does not fit, raise shared_buffers (step pg.config.shared_buffers)\n\
             -- or the host's RAM.\n",
            evidence_lines(findings).replace("# ", "-- ")
        )),
        rollback: nothing_to_roll_back(),
        risk: Risk::Low,
        needs_restart: false,
        verify: verify("pg.cache.hit_ratio_pct", ">= 99"),
    },
};

/// The global work_mem for spills: the measured need (`pg.expected.work_mem_for_spills`)
/// capped at the ceiling for this host's RAM and connections (`pg.expected.work_mem_max`:
/// work_mem applies per sort or hash node of every session); without them four times
/// the current value, at most 256MB. `Err` when the current value is already there.
fn global_work_mem(facts: Option<&PostgresFacts>, f: &Finding) -> Result<String, String> {
    let current = facts.and_then(|f| f.setting_number("work_mem"));
    let Some(ceiling) = number(f, "pg.expected.work_mem_max") else {
        let current = current.unwrap_or(4.0 * MIB);
        return Ok(size((current * 4.0).min(256.0 * MIB)));
    };
    let need = number(f, "pg.expected.work_mem_for_spills").unwrap_or(ceiling);
    let value = need.min(ceiling);
    if current.is_some_and(|c| c >= value) {
        return Err(format!(
            "it is already at or above the ceiling for this host's RAM and connections ({}):\n\
             -- raise it for the spilling statements' role instead (below).",
            size(ceiling)
        ));
    }
    Ok(size(value))
}

pub(super) const WORK_MEM: StepDef = StepDef {
    id: "pg.config.work_mem",
    rule_id: "pg.temp.spills",
    phase: Phase::Configuration,
    build: |ctx, findings| {
        let mut parts = alter_system(ctx, findings, "work_mem", global_work_mem, false);
        for (target, f) in targets(findings) {
            let facts = facts_of(ctx, target);
            let per_role = number(f, "pg.expected.work_mem_for_spills")
                .filter(|need| number(f, "pg.expected.work_mem_max").is_none_or(|c| *need > c))
                .map_or_else(|| "256MB".to_owned(), size);
            parts.add(
                target,
                format!(
                    "-- Log every temporary file to find the statements that still spill:\n\
                     ALTER SYSTEM SET log_temp_files = 0;\nSELECT pg_reload_conf();\n\
                     -- The spilling statements need work_mem = '{per_role}': more than every session\n\
                     -- may have, so raise it only for their role or session:\n\
                     -- ALTER ROLE <reporting_role> SET work_mem = '{per_role}';\n"
                ),
                format!(
                    "{}\nSELECT pg_reload_conf();\n",
                    restore(facts, "log_temp_files")
                ),
            );
        }
        let (script, rollback) = parts.render(findings);
        Draft {
            script: sql(script),
            rollback: sql(rollback),
            risk: Risk::Medium,
            needs_restart: false,
            verify: verify("pg.temp.bytes_per_s", "< 1048576"),
        }
    },
};

/// max_wal_size: the floor for the measured WAL rate (`pg.expected.max_wal_size`, two
/// checkpoint cycles of it); without it four times the current value, at least 4GB.
/// `Err` when the current value already meets the floor: the forced checkpoints then
/// came from outside the window.
fn max_wal_size(facts: Option<&PostgresFacts>, f: &Finding) -> Result<String, String> {
    let current = facts.and_then(|f| f.setting_number("max_wal_size"));
    match number(f, "pg.expected.max_wal_size") {
        Some(floor) if current.is_some_and(|c| c >= floor) => Err(format!(
            "it already holds two checkpoint cycles of the measured WAL rate ({}): the forced\n\
             -- checkpoints came from a burst outside the window or from explicit CHECKPOINT\n\
             -- commands. Reset the counters (SELECT pg_stat_reset_shared('bgwriter');) and\n\
             -- look again after a busy period.",
            size(floor)
        )),
        Some(floor) => Ok(size(floor)),
        None => Ok(size((current.unwrap_or(GIB) * 4.0).max(4.0 * GIB))),
    }
}

pub(super) const MAX_WAL_SIZE: StepDef = StepDef {
    id: "pg.config.max_wal_size",
    rule_id: "pg.checkpoints.too_frequent",
    phase: Phase::Configuration,
    build: |ctx, findings| {
        let (mut script, rollback) =
            alter_system(ctx, findings, "max_wal_size", max_wal_size, false).render(findings);
        script.push_str(
            "-- Check that pg_wal has room for the new max_wal_size plus headroom, and watch\n\
             -- the server log for \"checkpoints are occurring too frequently\".\n",
        );
        Draft {
            script: sql(script),
            rollback: sql(rollback),
            risk: Risk::Low,
            needs_restart: false,
            verify: verify("pg.checkpoints.requested_pct", "< 10"),
        }
    },
};

pub(super) const CONNECTIONS: StepDef = StepDef {
    id: "pg.connections.pooling",
    rule_id: "pg.connections.near_max",
    phase: Phase::Configuration,
    build: |_, findings| Draft {
        script: sql(format!(
            "-- Measured:\n{}\
             -- 1. Who holds the connections, and how many sit idle:\n\
             SELECT usename, application_name, client_addr, state, count(*)\n\
             FROM pg_stat_activity WHERE backend_type = 'client backend'\n\
             GROUP BY 1, 2, 3, 4 ORDER BY count(*) DESC;\n\
             -- 2. Put a transaction-mode pooler (PgBouncer, pgcat) in front of the idle-heavy\n\
             --    applications, or shrink their own pools.\n\
             -- 3. Only then, if still needed, raise the limit (restart; more memory per backend):\n\
             -- ALTER SYSTEM SET max_connections = <new limit>;\n",
            evidence_lines(findings).replace("# ", "-- ")
        )),
        rollback: sql(
            "-- Remove the pooler from the connection path (point applications back at\n\
             -- PostgreSQL); if max_connections was raised: ALTER SYSTEM RESET max_connections;\n"
                .to_owned(),
        ),
        risk: Risk::Medium,
        needs_restart: false,
        verify: verify("pg.connections.peak_pct", "< 70"),
    },
};

pub(super) const IDLE_IN_TRANSACTION: StepDef = StepDef {
    id: "pg.sessions.idle_in_transaction_timeout",
    rule_id: "pg.sessions.idle_in_transaction",
    phase: Phase::QuickWins,
    build: |ctx, findings| {
        let (mut script, rollback) = alter_system(
            ctx,
            findings,
            "idle_in_transaction_session_timeout",
            |_, _| Ok("5min".to_owned()),
            false,
        )
        .render(findings);
        script.push_str(
            "-- Sessions idle in a transaction for more than 5 minutes now (review first, then\n\
             -- end them: their transactions roll back):\n\
             SELECT pid, usename, application_name, client_addr, now() - state_change AS idle_for,\n\
             \x20      left(query, 80) AS last_query\n\
             FROM pg_stat_activity\n\
             WHERE state LIKE 'idle in transaction%' AND state_change < now() - interval '5 minutes';\n\
             -- SELECT pg_terminate_backend(<pid>);\n\
             -- Fix the application path that leaves the transaction open (a missing commit or\n\
             -- rollback, user think time inside a transaction).\n",
        );
        Draft {
            script: sql(script),
            rollback: sql(rollback),
            risk: Risk::Medium,
            needs_restart: false,
            verify: verify("pg.sessions.idle_in_transaction_ms.max", "< 30000"),
        }
    },
};

pub(super) const BLOCKING: StepDef = StepDef {
    id: "pg.locks.find_blockers",
    rule_id: "pg.locks.blocking_chains",
    phase: Phase::QuickWins,
    build: |ctx, findings| {
        let (mut script, rollback) = alter_system(
            ctx,
            findings,
            "log_lock_waits",
            |_, _| Ok("on".to_owned()),
            false,
        )
        .render(findings);
        script.push_str(
            "-- Lock waits longer than deadlock_timeout are now logged with both sides.\n\
             -- Live view of who blocks whom (root blockers have no blocker themselves):\n\
             SELECT a.pid, pg_blocking_pids(a.pid) AS blocked_by, a.usename, a.state,\n\
             \x20      now() - a.xact_start AS xact_age, left(a.query, 80) AS query\n\
             FROM pg_stat_activity a\n\
             WHERE cardinality(pg_blocking_pids(a.pid)) > 0\n\
             \x20  OR a.pid IN (SELECT unnest(pg_blocking_pids(b.pid)) FROM pg_stat_activity b);\n\
             -- Shorten the root blocker's transaction in the application; in an emergency:\n\
             -- SELECT pg_cancel_backend(<root pid>);  -- or pg_terminate_backend(<root pid>)\n",
        );
        Draft {
            script: sql(script),
            rollback: sql(rollback),
            risk: Risk::Low,
            needs_restart: false,
            verify: verify("pg.locks.blocked_sessions.max", "<= 1"),
        }
    },
};

pub(super) const ADD_INDEX: StepDef = StepDef {
    id: "pg.tables.add_index",
    rule_id: "pg.tables.seq_scan_heavy",
    phase: Phase::SqlIndexes,
    build: |_, findings| {
        let mut parts = Parts::default();
        for f in findings {
            let (target, table) = subject(f);
            let (script, rollback) = index_for(f, table.unwrap_or("<schema.table>"));
            parts.add(target, script, rollback);
        }
        let (script, rollback) = parts.render(findings);
        Draft {
            script: sql(script),
            rollback: sql(rollback),
            risk: Risk::Low,
            needs_restart: false,
            verify: verify("pg.tables.seq_tup_read_per_s", "< 100000"),
        }
    },
};

/// The index for one scanned table: the one its heaviest statements ask for; when an
/// index already leads with their columns, why it may go unused; without statements
/// to read, a template.
fn index_for(f: &Finding, table: &str) -> (String, String) {
    let query = text(f, "pg.index.candidate.query")
        .map(|q| format!("-- Asked for by {q}\n"))
        .unwrap_or_default();
    if let Some((on, columns)) = text(f, "pg.index.candidate").and_then(split_target) {
        let name = index_name(on, columns);
        let schema = schema_of(on);
        return (
            format!(
                "-- Table {table}: the index its heaviest statements filter by.\n{query}\
                 -- CONCURRENTLY does not block writes; it cannot run inside a transaction.\n\
                 CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON {on} ({columns});\n\
                 ANALYZE {on};\n"
            ),
            format!("DROP INDEX CONCURRENTLY IF EXISTS {schema}.{name};\n"),
        );
    }
    if let Some(covered) = text(f, "pg.index.covered_by") {
        return (
            format!(
                "-- Table {table}: an index already leads with the filtered columns:\n\
                 --   {covered}\n{query}\
                 -- Find why it is not used: EXPLAIN the statement with typical values. Usual\n\
                 -- causes: stale statistics (refreshed here), a type or collation mismatch,\n\
                 -- a function on the column, or a filter that matches most rows.\n\
                 ANALYZE {table};\n"
            ),
            "-- Nothing to roll back: ANALYZE only refreshes statistics.\n".to_owned(),
        );
    }
    let short = table.rsplit('.').next().unwrap_or(table);
    let schema = table.rsplit_once('.').map_or("public", |(s, _)| s);
    (
        format!(
            "-- Table {table}: a template, not a ready command. Pick the column(s)\n\
             -- from the WHERE / JOIN clauses of its top statements (pg_statements, or:)\n\
             SELECT queryid, calls, total_exec_time, left(query, 200) FROM pg_stat_statements\n\
             WHERE query ILIKE '%{short}%' ORDER BY total_exec_time DESC LIMIT 10;\n\
             -- CONCURRENTLY does not block writes; it cannot run inside a transaction.\n\
             CREATE INDEX CONCURRENTLY IF NOT EXISTS {short}_<column>_idx ON {table} (<column>);\n\
             ANALYZE {table};\n"
        ),
        format!("DROP INDEX CONCURRENTLY IF EXISTS {schema}.{short}_<column>_idx;\n"),
    )
}

pub(super) const DROP_UNUSED: StepDef = StepDef {
    id: "pg.indexes.drop_unused",
    rule_id: "pg.indexes.unused",
    phase: Phase::SqlIndexes,
    build: |_, findings| {
        let largest: Vec<&str> = findings
            .iter()
            .filter_map(|f| text(f, "pg.indexes.largest_unused"))
            .collect();
        Draft {
            script: sql(format!(
                "-- Measured:\n{}\
                 -- Largest unused: {}\n\
                 -- 1. Check a replica's and the month-end/batch usage too: idx_scan is per server.\n\
                 -- 2. Save the definitions (this output is the rollback):\n\
                 SELECT pg_get_indexdef(s.indexrelid) || ';' AS recreate\n\
                 FROM pg_stat_user_indexes s JOIN pg_index i USING (indexrelid)\n\
                 WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary AND i.indisvalid;\n\
                 -- 3. Generate the drops, review them, run them one by one:\n\
                 SELECT format('DROP INDEX CONCURRENTLY IF EXISTS %I.%I;', s.schemaname, s.indexrelname)\n\
                 FROM pg_stat_user_indexes s JOIN pg_index i USING (indexrelid)\n\
                 WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary AND i.indisvalid\n\
                 ORDER BY pg_relation_size(s.indexrelid) DESC;\n",
                evidence_lines(findings).replace("# ", "-- "),
                if largest.is_empty() {
                    "-".to_owned()
                } else {
                    largest.join(", ")
                }
            )),
            rollback: sql(
                "-- Run the CREATE INDEX statements saved in step 2, adding CONCURRENTLY after\n\
                 -- CREATE [UNIQUE] INDEX so writes are not blocked.\n"
                    .to_owned(),
            ),
            risk: Risk::Medium,
            needs_restart: false,
            verify: verify("pg.indexes.unused_bytes", "< 104857600"),
        }
    },
};

/// `schema.name` as a quoted identifier for SQL text.
fn quoted(name: &str) -> String {
    name.split('.')
        .map(|part| format!("\"{}\"", part.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(".")
}

/// Where the duplicate-index step saves the definitions it drops (psql's `\o`, relative
/// to the folder psql runs in); the rollback replays the file.
const SAVED_INDEXES: &str = "perfdiag-dropped-indexes.sql";

pub(super) const DROP_DUPLICATE: StepDef = StepDef {
    id: "pg.indexes.drop_duplicate",
    rule_id: "pg.indexes.duplicate",
    phase: Phase::SqlIndexes,
    build: |_, findings| {
        let head = format!(
            "-- A psql script. Each index dropped is identical to the one named beside it,\n\
             -- which is kept (primary key or unique first). Their definitions are saved\n\
             -- first to {SAVED_INDEXES} in the folder psql runs in: keep that file, the\n\
             -- rollback replays it. Run it connected to the database of the indexes.\n\
             \\set ON_ERROR_STOP on\n"
        );
        let mut sections = Vec::new();
        for f in findings {
            let (target, _) = subject(f);
            let (mut saves, mut drops) = (String::new(), String::new());
            for pair in text(f, "pg.indexes.duplicates")
                .unwrap_or_default()
                .split(", ")
                .filter(|p| !p.is_empty())
            {
                let Some((dup, kept)) = pair.split_once(" = ") else {
                    continue;
                };
                let name = quoted(dup).replace('\'', "''");
                saves.push_str(&format!(
                    "SELECT regexp_replace(pg_get_indexdef('{name}'::regclass), ' INDEX ', ' INDEX CONCURRENTLY ') || ';';\n"
                ));
                drops.push_str(&format!(
                    "DROP INDEX CONCURRENTLY IF EXISTS {};  -- duplicates {kept}\n",
                    quoted(dup)
                ));
            }
            sections.push((
                target.to_owned(),
                format!(
                    "\\pset tuples_only on\n\\pset format unaligned\n\\o {SAVED_INDEXES}\n{saves}\\o\n\\pset tuples_only off\n\\pset format aligned\n{drops}"
                ),
            ));
        }
        let script = psql_sections(&head, &sections);
        Draft {
            script: sql(script),
            rollback: sql(format!(
                "-- A psql script: recreates the indexes from the definitions the step saved\n\
                 -- (CREATE INDEX CONCURRENTLY: writes are not blocked). Run it in the folder\n\
                 -- where the step ran, connected to the same database.\n\
                 \\set ON_ERROR_STOP on\n\\i {SAVED_INDEXES}\n"
            )),
            risk: Risk::Low,
            needs_restart: false,
            verify: verify("pg.indexes.duplicate_count", "= 0"),
        }
    },
};

pub(super) const AUTOVACUUM: StepDef = StepDef {
    id: "pg.vacuum.tune_autovacuum",
    rule_id: "pg.vacuum.dead_tuples",
    phase: Phase::Maintenance,
    build: |_, findings| {
        let head = format!(
            "-- Measured:\n{}\
             -- First make sure nothing holds back cleanup (long transactions, idle in transaction,\n\
             -- abandoned replication slots, prepared transactions):\n\
             SELECT pid, now() - xact_start AS xact_age, state FROM pg_stat_activity\n\
             WHERE xact_start IS NOT NULL ORDER BY xact_start LIMIT 5;\n",
            evidence_lines(findings).replace("# ", "-- ")
        );
        let mut parts = Parts::default();
        for f in findings {
            let (target, table) = subject(f);
            let table = table.unwrap_or("<schema.table>");
            parts.add(
                target,
                format!(
                    "VACUUM (ANALYZE, VERBOSE) {table};\n\
                     ALTER TABLE {table} SET (autovacuum_vacuum_scale_factor = 0.05, autovacuum_vacuum_cost_limit = 1000);\n"
                ),
                format!(
                    "ALTER TABLE {table} RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_cost_limit);\n\
                     -- The VACUUM needs no undo: it only removed dead rows.\n"
                ),
            );
        }
        let (script, rollback) = parts.join(&head);
        Draft {
            script: sql(script),
            rollback: sql(rollback),
            risk: Risk::Low,
            needs_restart: false,
            verify: verify("pg.tables.dead_tuple_pct", "< 10"),
        }
    },
};

pub(super) const HBA_TRUST: StepDef = StepDef {
    id: "pg.security.hba_scram",
    rule_id: "pg.security.trust_auth",
    phase: Phase::Configuration,
    build: |_, findings| {
        let script = String::from(
            "# Run on the database server as the postgres OS user. Before: every role that\n\
             # logs in over the network needs a SCRAM password (password_encryption =\n\
             # 'scram-sha-256', then ALTER ROLE <role> PASSWORD '...'), or it is locked out.\n\
             set -eu\n\
             HBA=$(psql -XAtc 'SHOW hba_file')\n\
             cp -p \"$HBA\" \"$HBA.perfdiag-backup\"\n",
        );
        let mut sections = Vec::new();
        for f in findings {
            let (target, _) = subject(f);
            let mut body = String::new();
            for rule in text(f, "pg.hba.weak_rules").unwrap_or_default().split("; ") {
                let line = rule
                    .strip_prefix("line ")
                    .and_then(|r| r.split(':').next())
                    .and_then(|n| n.parse::<u32>().ok());
                if let Some(line) = line {
                    body.push_str(&format!(
                        "# {rule}\nsed -i '{line}s/\\<trust\\>\\|\\<password\\>/scram-sha-256/' \"$HBA\"\n"
                    ));
                }
            }
            sections.push((target.to_owned(), String::new(), body));
        }
        let mut script = shell_sections(script, &sections);
        script.push_str(
            "# Narrow any 0.0.0.0/0 or ::/0 address to the application subnets while editing.\n\
             psql -XAtc 'SELECT pg_reload_conf()'\n\
             psql -XAtc 'SELECT line_number, type, address, auth_method, error FROM pg_hba_file_rules'\n",
        );
        Draft {
            script: sh(script),
            rollback: sh("HBA=$(psql -XAtc 'SHOW hba_file')\n\
                 cp -p \"$HBA.perfdiag-backup\" \"$HBA\"\n\
                 psql -XAtc 'SELECT pg_reload_conf()'\n"
                .to_owned()),
            risk: Risk::High,
            needs_restart: false,
            verify: verify(
                "pg.hba.auth_method",
                "no trust/password rule for TCP clients",
            ),
        }
    },
};

pub(super) const PUBLIC_SCHEMA: StepDef = StepDef {
    id: "pg.security.revoke_public_create",
    rule_id: "pg.security.public_schema_create",
    phase: Phase::Configuration,
    build: |_, findings| {
        let head = String::from(
            "-- Applications that create objects in schema public need an explicit grant first:\n\
             -- GRANT CREATE ON SCHEMA public TO <app_role>;\n",
        );
        let mut parts = Parts::default();
        for (target, _) in targets(findings) {
            parts.add(
                target,
                "REVOKE CREATE ON SCHEMA public FROM PUBLIC;\n".to_owned(),
                "GRANT CREATE ON SCHEMA public TO PUBLIC;\n".to_owned(),
            );
        }
        let (script, rollback) = parts.join(&head);
        Draft {
            script: sql(script),
            rollback: sql(rollback),
            risk: Risk::Medium,
            needs_restart: false,
            verify: verify("pg.security.public_schema_create", "= false"),
        }
    },
};

pub(super) const SLOW_QUERY_LOG: StepDef = StepDef {
    id: "pg.logging.log_slow_queries",
    rule_id: "pg.logging.slow_query_off",
    phase: Phase::QuickWins,
    build: |ctx, findings| {
        let (script, rollback) = alter_system(
            ctx,
            findings,
            "log_min_duration_statement",
            |_, _| Ok("1s".to_owned()),
            false,
        )
        .render(findings);
        Draft {
            script: sql(script),
            rollback: sql(rollback),
            risk: Risk::Low,
            needs_restart: false,
            verify: verify("pg.settings.log_min_duration_statement", "= 1000 ms"),
        }
    },
};

pub(super) const PG_STAT_STATEMENTS: StepDef = StepDef {
    id: "pg.extension.enable_pg_stat_statements",
    rule_id: "pg.extension.pg_stat_statements_missing",
    phase: Phase::Configuration,
    build: |ctx, findings| {
        let mut parts = Parts::default();
        let mut restart = false;
        for f in findings {
            let (target, _) = subject(f);
            let facts = facts_of(ctx, target);
            let (mut script, mut rollback) = (String::new(), String::new());
            let state = text(f, "pg.extension.pg_stat_statements").unwrap_or("absent");
            let libs = facts
                .and_then(|f| f.setting_text("shared_preload_libraries"))
                .unwrap_or("")
                .trim()
                .to_owned();
            let db = facts
                .and_then(|f| f.database.as_deref())
                .unwrap_or("<database>");
            if state != "not created" {
                restart = true;
                let new = if libs.is_empty() {
                    "pg_stat_statements".to_owned()
                } else {
                    format!("{libs},pg_stat_statements")
                };
                script.push_str(&format!(
                    "ALTER SYSTEM SET shared_preload_libraries = '{new}';\n\
                     -- Restart PostgreSQL now (the library loads at start), then:\n"
                ));
                rollback.push_str(&format!(
                    "{}\n-- then restart PostgreSQL.\n",
                    restore(facts, "shared_preload_libraries")
                ));
            }
            script.push_str(&format!(
                "-- in database {db}, as a superuser:\nCREATE EXTENSION IF NOT EXISTS pg_stat_statements;\n"
            ));
            rollback.push_str(&format!(
                "-- In database {db}:\nDROP EXTENSION IF EXISTS pg_stat_statements;\n"
            ));
            parts.add(target, script, rollback);
        }
        let (script, rollback) = parts.join("");
        let script = script.trim_start().to_owned();
        Draft {
            script: sql(script),
            rollback: sql(rollback),
            risk: Risk::Low,
            needs_restart: restart,
            verify: verify("pg.extension.pg_stat_statements", "= available"),
        }
    },
};

/// The PostgreSQL steps, one per rule.
pub(super) const STEPS: &[StepDef] = &[
    SHARED_BUFFERS,
    CACHE_HIT_RATIO,
    WORK_MEM,
    MAX_WAL_SIZE,
    CONNECTIONS,
    IDLE_IN_TRANSACTION,
    BLOCKING,
    ADD_INDEX,
    DROP_UNUSED,
    DROP_DUPLICATE,
    AUTOVACUUM,
    HBA_TRUST,
    PUBLIC_SCHEMA,
    SLOW_QUERY_LOG,
    PG_STAT_STATEMENTS,
];

#[cfg(test)]
mod tests {
    use perfdiag_model::facts::postgres::PgSetting;
    use perfdiag_model::facts::{HostFacts, MemoryFacts};
    use perfdiag_model::{Evidence, Severity, Value};

    use super::*;
    use crate::test_support::finding;

    const T: &str = "postgres://app@localhost/erp";

    fn ctx() -> Context {
        let s =
            |name: &str, raw: &str, unit: Option<&str>, n: Option<f64>, source: &str| PgSetting {
                name: name.to_owned(),
                setting: raw.to_owned(),
                unit: unit.map(str::to_owned),
                normalised: n,
                normalised_unit: unit
                    .map(|u| if u.ends_with('B') { "bytes" } else { "ms" }.to_owned()),
                source: source.to_owned(),
                ..PgSetting::default()
            };
        Context {
            host: Some(HostFacts {
                memory: MemoryFacts {
                    total_bytes: 16 << 30,
                    ..MemoryFacts::default()
                },
                ..HostFacts::default()
            }),
            postgres: vec![PostgresFacts {
                target: T.to_owned(),
                database: Some("erp".to_owned()),
                settings: vec![
                    s(
                        "shared_buffers",
                        "16384",
                        Some("8kB"),
                        Some(134_217_728.0),
                        "configuration file",
                    ),
                    s(
                        "log_min_duration_statement",
                        "-1",
                        Some("ms"),
                        None,
                        "default",
                    ),
                    s("work_mem", "4096", Some("kB"), Some(4_194_304.0), "default"),
                    s(
                        "shared_preload_libraries",
                        "auto_explain",
                        None,
                        None,
                        "configuration file",
                    ),
                ],
                ..PostgresFacts::default()
            }],
            ..Context::default()
        }
    }

    fn text(metric: &str, text: &str) -> Evidence {
        Evidence {
            metric: metric.to_owned(),
            observed: Value::text(text),
            threshold: None,
        }
    }

    #[test]
    fn shared_buffers_is_sized_from_ram_and_rolls_back_to_the_recorded_value() {
        let f = finding(
            "pg.memory.shared_buffers_low",
            Severity::Critical,
            Some(T),
            Vec::new(),
        );
        let d = (SHARED_BUFFERS.build)(&ctx(), &[&f]);
        assert!(
            d.script
                .body
                .contains("ALTER SYSTEM SET shared_buffers = '4GB';"),
            "{}",
            d.script.body
        );
        assert!(
            d.rollback
                .body
                .contains("ALTER SYSTEM SET shared_buffers = '128MB';")
        );
        assert!(d.needs_restart);
    }

    fn bytes(metric: &str, value: f64) -> Evidence {
        Evidence {
            metric: metric.to_owned(),
            observed: Value::number(value, perfdiag_model::Unit::Bytes),
            threshold: None,
        }
    }

    #[test]
    fn shared_buffers_is_the_expected_value_of_the_finding() {
        // A shared host of 16 GiB: a quarter of the 8 GiB for the database.
        let f = finding(
            "pg.memory.shared_buffers_low",
            Severity::Critical,
            Some(T),
            vec![bytes("pg.expected.shared_buffers", 2.0 * GIB)],
        );
        let d = (SHARED_BUFFERS.build)(&ctx(), &[&f]);
        assert!(
            d.script
                .body
                .contains("ALTER SYSTEM SET shared_buffers = '2GB';"),
            "{}",
            d.script.body
        );
        assert_eq!(
            (d.verify.metric.as_str(), d.verify.target.as_str()),
            ("pg.settings.shared_buffers_pct_expected", ">= 100")
        );
    }

    #[test]
    fn work_mem_stays_under_its_ceiling_and_the_spills_get_it_per_role() {
        let f = finding(
            "pg.temp.spills",
            Severity::Warning,
            Some(T),
            vec![
                bytes("pg.expected.work_mem_for_spills", 200.0 * MIB),
                bytes("pg.expected.work_mem_max", 37.0 * MIB),
            ],
        );
        let d = (WORK_MEM.build)(&ctx(), &[&f]);
        let body = &d.script.body;
        assert!(
            body.contains("ALTER SYSTEM SET work_mem = '37MB';"),
            "{body}"
        );
        assert!(
            body.contains("-- ALTER ROLE <reporting_role> SET work_mem = '200MB';"),
            "{body}"
        );
        assert!(d.rollback.body.contains("ALTER SYSTEM RESET work_mem;"));
        // Spills that fit under the ceiling: the global value is what they need.
        let small = finding(
            "pg.temp.spills",
            Severity::Warning,
            Some(T),
            vec![
                bytes("pg.expected.work_mem_for_spills", 37.0 * MIB),
                bytes("pg.expected.work_mem_max", 37.0 * MIB),
            ],
        );
        let d = (WORK_MEM.build)(&ctx(), &[&small]);
        assert!(
            d.script
                .body
                .contains("ALTER SYSTEM SET work_mem = '37MB';")
        );
        // Already at the ceiling: kept, and said so.
        let mut c = ctx();
        c.postgres[0].settings[2].normalised = Some(64.0 * MIB);
        let d = (WORK_MEM.build)(&c, &[&f]);
        assert!(
            !d.script.body.contains("SET work_mem = '37MB'"),
            "{}",
            d.script.body
        );
        assert!(d.script.body.contains("-- work_mem is kept:"));
        assert!(
            d.script
                .body
                .contains("ALTER SYSTEM SET log_temp_files = 0;")
        );
    }

    #[test]
    fn max_wal_size_is_the_floor_for_the_measured_wal_rate() {
        let mut c = ctx();
        c.postgres[0].settings.push(PgSetting {
            name: "max_wal_size".to_owned(),
            setting: "1024".to_owned(),
            unit: Some("MB".to_owned()),
            normalised: Some(GIB),
            normalised_unit: Some("bytes".to_owned()),
            source: "default".to_owned(),
            ..PgSetting::default()
        });
        let f = finding(
            "pg.checkpoints.too_frequent",
            Severity::Warning,
            Some(T),
            vec![bytes("pg.expected.max_wal_size", 12.0 * GIB)],
        );
        let d = (MAX_WAL_SIZE.build)(&c, &[&f]);
        assert!(
            d.script
                .body
                .contains("ALTER SYSTEM SET max_wal_size = '12GB';"),
            "{}",
            d.script.body
        );
        assert!(d.rollback.body.contains("ALTER SYSTEM RESET max_wal_size;"));
        // Already above the floor: the forced checkpoints came from elsewhere.
        let met = finding(
            "pg.checkpoints.too_frequent",
            Severity::Warning,
            Some(T),
            vec![bytes("pg.expected.max_wal_size", GIB)],
        );
        let d = (MAX_WAL_SIZE.build)(&c, &[&met]);
        assert!(!d.script.body.contains("ALTER SYSTEM SET max_wal_size"));
        assert!(d.script.body.contains("-- max_wal_size is kept:"));
        // Without the expected value: four times the current value.
        let bare = finding(
            "pg.checkpoints.too_frequent",
            Severity::Warning,
            Some(T),
            Vec::new(),
        );
        assert!(
            (MAX_WAL_SIZE.build)(&c, &[&bare])
                .script
                .body
                .contains("ALTER SYSTEM SET max_wal_size = '4GB';")
        );
    }

    #[test]
    fn a_script_for_several_servers_runs_each_section_only_on_its_own() {
        const B: &str = "postgres://app@db2/erp";
        let findings = [
            finding(
                "pg.logging.slow_query_off",
                Severity::Warning,
                Some(T),
                Vec::new(),
            ),
            finding(
                "pg.logging.slow_query_off",
                Severity::Warning,
                Some(B),
                Vec::new(),
            ),
        ];
        let refs: Vec<&Finding> = findings.iter().collect();
        let d = (SLOW_QUERY_LOG.build)(&ctx(), &refs);
        for body in [&d.script.body, &d.rollback.body] {
            assert!(
                body.contains("\\if :{?TARGET}\n\\else\nDO $$ BEGIN RAISE EXCEPTION"),
                "{body}"
            );
            for target in [T, B] {
                assert!(
                    body.contains(&format!(
                        "-- On {target}:\nSELECT :'TARGET' = '{target}' AS perfdiag_on_target \\gset\n\\if :perfdiag_on_target\n"
                    )),
                    "{body}"
                );
            }
            assert_eq!(body.matches("\\endif").count(), 3, "{body}");
        }
        // One server: plain sections, no guard.
        let d = (SLOW_QUERY_LOG.build)(&ctx(), &refs[..1]);
        assert!(!d.script.body.contains("\\if"), "{}", d.script.body);
    }

    #[test]
    fn default_settings_roll_back_with_reset() {
        let f = finding(
            "pg.logging.slow_query_off",
            Severity::Warning,
            Some(T),
            Vec::new(),
        );
        let d = (SLOW_QUERY_LOG.build)(&ctx(), &[&f]);
        assert!(
            d.script
                .body
                .contains("ALTER SYSTEM SET log_min_duration_statement = '1s';")
        );
        assert!(
            d.rollback
                .body
                .contains("ALTER SYSTEM RESET log_min_duration_statement;")
        );
        let w = (WORK_MEM.build)(&ctx(), &[&f]);
        assert!(
            w.script
                .body
                .contains("ALTER SYSTEM SET work_mem = '16MB';"),
            "{}",
            w.script.body
        );
    }

    #[test]
    fn the_index_asked_for_is_created_concurrently_and_dropped_by_the_rollback() {
        let scanned = |evidence| {
            finding(
                "pg.tables.seq_scan_heavy",
                Severity::Critical,
                Some(&format!("{T} public.orders")),
                evidence,
            )
        };
        let f = scanned(vec![
            text("pg.index.candidate", "public.orders (customer_id, \"Day\")"),
            text("pg.index.candidate.query", "class 00ff: SELECT …"),
        ]);
        let d = (ADD_INDEX.build)(&ctx(), &[&f]);
        assert!(
            d.script.body.contains(
                "CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_customer_id_day_idx \
                 ON public.orders (customer_id, \"Day\");\nANALYZE public.orders;"
            ),
            "{}",
            d.script.body
        );
        assert!(
            d.script
                .body
                .contains("-- Asked for by class 00ff: SELECT …")
        );
        assert!(
            d.rollback
                .body
                .contains("DROP INDEX CONCURRENTLY IF EXISTS public.orders_customer_id_day_idx;")
        );
        assert!(!d.script.body.contains("<column>"));
        // Covered: statistics are refreshed and the reasons listed, no index added.
        let f = scanned(vec![text(
            "pg.index.covered_by",
            "public.orders (customer_id) (indexes: (customer_id))",
        )]);
        let d = (ADD_INDEX.build)(&ctx(), &[&f]);
        assert!(d.script.body.contains("ANALYZE public.orders;"));
        assert!(!d.script.body.contains("CREATE INDEX"), "{}", d.script.body);
    }

    #[test]
    fn table_steps_name_the_table_and_hba_edits_the_lines() {
        let f = finding(
            "pg.tables.seq_scan_heavy",
            Severity::Critical,
            Some(&format!("{T} public.big")),
            Vec::new(),
        );
        let d = (ADD_INDEX.build)(&ctx(), &[&f]);
        assert!(d.script.body.contains(
            "CREATE INDEX CONCURRENTLY IF NOT EXISTS big_<column>_idx ON public.big (<column>);"
        ));
        assert!(
            d.rollback
                .body
                .contains("DROP INDEX CONCURRENTLY IF EXISTS public.big_<column>_idx;")
        );
        let h = finding(
            "pg.security.trust_auth",
            Severity::Critical,
            Some(T),
            vec![text(
                "pg.hba.weak_rules",
                "line 3: host trust from any address",
            )],
        );
        let d = (HBA_TRUST.build)(&ctx(), &[&h]);
        assert!(d.script.body.contains("sed -i '3s/"), "{}", d.script.body);
        assert!(d.rollback.body.contains("perfdiag-backup"));
        let p = finding(
            "pg.extension.pg_stat_statements_missing",
            Severity::Warning,
            Some(T),
            vec![text("pg.extension.pg_stat_statements", "absent")],
        );
        let d = (PG_STAT_STATEMENTS.build)(&ctx(), &[&p]);
        assert!(
            d.script
                .body
                .contains("shared_preload_libraries = 'auto_explain,pg_stat_statements'")
        );
        assert!(
            d.rollback
                .body
                .contains("ALTER SYSTEM SET shared_preload_libraries = 'auto_explain';")
        );
        assert!(d.needs_restart);
    }

    #[test]
    fn duplicate_indexes_are_saved_before_the_drop_and_the_rollback_replays_them() {
        let f = finding(
            "pg.indexes.duplicate",
            Severity::Warning,
            Some(T),
            vec![text(
                "pg.indexes.duplicates",
                "public.big_id_again = public.big_id",
            )],
        );
        let d = (DROP_DUPLICATE.build)(&ctx(), &[&f]);
        let body = &d.script.body;
        let save = body
            .find("pg_get_indexdef('\"public\".\"big_id_again\"'::regclass)")
            .expect(body);
        let drop = body
            .find("DROP INDEX CONCURRENTLY IF EXISTS \"public\".\"big_id_again\";")
            .expect(body);
        assert!(save < drop && body.contains("\\o perfdiag-dropped-indexes.sql"));
        assert!(d.rollback.body.contains("\\i perfdiag-dropped-indexes.sql"));
    }

    #[test]
    fn a_value_of_the_collectors_own_session_rolls_back_with_reset() {
        let mut c = ctx();
        c.postgres[0].settings.push(PgSetting {
            name: "idle_in_transaction_session_timeout".to_owned(),
            setting: "60000".to_owned(),
            unit: Some("ms".to_owned()),
            normalised: Some(60000.0),
            normalised_unit: Some("ms".to_owned()),
            source: "client".to_owned(),
            ..PgSetting::default()
        });
        let f = finding(
            "pg.sessions.idle_in_transaction",
            Severity::Warning,
            Some(T),
            Vec::new(),
        );
        let d = (IDLE_IN_TRANSACTION.build)(&c, &[&f]);
        assert!(
            d.rollback
                .body
                .contains("ALTER SYSTEM RESET idle_in_transaction_session_timeout;"),
            "{}",
            d.rollback.body
        );
    }
}
